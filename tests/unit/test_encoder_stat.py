"""The packed encoder of a struct stat result gives the same bytes as the generic encoding."""
from hypothesis import given, strategies as st

from rumptools.abi.syscalls import BY_METHOD
from rumptools.sp import wire
from rumptools.sp.encoders import result_encoder

INT64 = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)


@given(st.tuples(*[INT64] * 14), st.integers(min_value=0, max_value=(1 << 64) - 1))
def test_stat_encoder_matches_generic(sb, reqno):
    for method in ("stat", "lstat", "fstat", "fstatat"):
        enc = result_encoder(BY_METHOD[method])
        assert enc(reqno, (sb,)) == wire.frame(reqno, wire.RESP, wire.SYSCALL, 0, wire.encode((sb,)))


def test_other_shapes_fall_back_to_the_generic_encoding():
    enc = result_encoder(BY_METHOD["stat"])
    odd = ((1, 2, 3),)
    assert enc(7, odd) == wire.frame(7, wire.RESP, wire.SYSCALL, 0, wire.encode(odd))
    decoded = wire.decode(enc(7, ((0,) * 14,))[wire.HEADER_SIZE:])
    assert decoded == ((0,) * 14,)
