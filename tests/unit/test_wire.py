import struct

import pytest
from hypothesis import given, settings, strategies as st

from rumptools.sp import wire

values = st.recursive(
    st.none() | st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1) | st.binary(max_size=64)
    | st.text(max_size=32),
    lambda children: st.lists(children, max_size=5).map(tuple), max_leaves=20)


@given(st.lists(values, max_size=6).map(tuple))
def test_round_trip(vals):
    assert wire.decode(wire.encode(vals)) == vals


@settings(max_examples=2000)
@given(st.binary(max_size=200))
def test_garbage_never_escapes_as_other_errors(data):
    try:
        out = wire.decode(data)
    except wire.WireError:
        return
    assert isinstance(out, tuple)


def test_absurd_lengths_rejected_without_allocating():
    with pytest.raises(wire.WireError):
        wire.decode(b"l\xff\xff\xff\xff")
    with pytest.raises(wire.WireError):
        wire.decode(b"l\x01\x00\x00\x00b\xff\xff\xff\x7f")


def test_depth_limit():
    v = ()
    for _ in range(wire.MAX_DEPTH + 1):
        v = (v,)
    with pytest.raises(wire.WireError):
        wire.encode(v)


def test_integer_range_and_types():
    with pytest.raises(wire.WireError):
        wire.encode((1 << 64,))
    with pytest.raises(wire.WireError):
        wire.encode((1.5,))


def test_frame_reader_splits_and_checks_length():
    f1 = wire.frame(1, wire.REQ, wire.SYSCALL, 20)
    f2 = wire.frame(2, wire.REQ, wire.SYSCALL, 4, wire.encode((3, b"xy")))
    r = wire.FrameReader()
    r.feed(f1 + f2[:10])
    assert r.next_frame() == (1, wire.REQ, wire.SYSCALL, 20, b"")
    assert r.next_frame() is None
    r.feed(f2[10:])
    reqno, cls, typ, arg, body = r.next_frame()
    assert (reqno, arg, wire.decode(body)) == (2, 4, (3, b"xy"))
    bad = wire.FrameReader()
    bad.feed(wire.HEADER.pack(5, 0, 0, 0, 0))
    with pytest.raises(wire.WireError):
        bad.next_frame()
    huge = wire.FrameReader()
    huge.feed(wire.HEADER.pack(1 << 40, 0, 0, 0, 0))
    with pytest.raises(wire.WireError):
        huge.next_frame()


def test_banner():
    b = wire.banner("NetBSD", "7.99.34", "amd64")
    assert b.startswith(b"RUMPSP-1.0-NetBSD-7.99.34/amd64") and b.endswith(b"\n")
    assert wire.check_banner(b) == (1, 0)
    with pytest.raises(wire.WireError, match="not supported"):
        wire.check_banner(b"RUMPSP-0.4-NetBSD-7.99.34/amd64\n")
    with pytest.raises(wire.WireError):
        wire.check_banner(b"HTTP/1.0 200 OK\n")


@pytest.mark.parametrize("values", [
    (), (5,), (-1,), ("/etc/hosts",), ("/x",), ("",), ("caf\u00e9 \udcff",), ((1, 2, 3),), (tuple(range(14)),),
    ((-(1 << 63), (1 << 63) - 1),), ((1,),), ((1, "a"),), ((1, 2), 3), (b"x",), ("a", "b"), ((),),
    ((1, (2, 3)),), (None,),
])
def test_decode_shortcuts_give_what_the_general_walk_gives(values):
    """decode() takes common shapes (one int, one str, one list of ints) apart without
    the general walk: same values, and every truncation or trailing junk still fails."""
    body = wire.encode(values)
    walked, end = wire._dec(memoryview(body), 0, len(body), 0, [wire.MAX_OBJECTS])
    assert end == len(body) and walked == values
    for form in (body, bytearray(body), memoryview(body)):
        assert wire.decode(form) == values
    for cut in range(1, len(body)):
        with pytest.raises(wire.WireError):
            wire.decode(body[:cut])
    with pytest.raises(wire.WireError):
        wire.decode(body + b"N")


def test_decode_shortcut_checks_tags_and_lengths():
    ints = wire.encode(((1, 2, 3),))
    with pytest.raises(wire.WireError):             # a list of 3 whose second item is not an int
        wire.decode(ints[:19] + b"N" + ints[20:])
    path = wire.encode(("abc",))
    with pytest.raises(wire.WireError):             # a str whose length says more than there is
        wire.decode(path[:6] + struct.pack("<I", 4) + path[10:])
