"""The compiled shmif send path (_hostops.shmif_send) against the pure-Python
Ring.append it stands in for: byte for byte the same bus, wraps, damage and all."""
import random
import struct

import pytest
from hypothesis import given, settings, strategies as st

from rumptools.formats import shmif
from rumptools.kernel.rumpuser import _hostops


def _bus():
    buf = bytearray(shmif.BUSMEM_SIZE)
    shmif.Ring(buf).init()
    return buf


def _py_send(buf, frame, sec, usec, sender):
    """What ShmifBus.send does without the compiled helper (lock word included)."""
    assert _hostops.cas32(buf, shmif.OFF_LOCK, 0, 1) == 0
    ring = shmif.Ring(buf)
    try:
        return ring.append(frame, sec, usec, sender)
    finally:
        ring.release()
        _hostops.swap32(buf, shmif.OFF_LOCK, 0)


def _c_send(buf, frame, sec, usec, sender):
    r = _hostops.shmif_send(buf, frame, sec, usec, sender)
    if r >= 0:
        return r
    assert r in (_hostops.SEND_INSANE, _hostops.SEND_DAMAGED)
    assert _hostops.load32(buf, shmif.OFF_LOCK) == 1       # left held for the Python steps
    ring = shmif.Ring(buf)
    try:
        if r == _hostops.SEND_DAMAGED:
            ring.repair()
            return ring._append(frame, sec, usec, sender)
        return ring.append(frame, sec, usec, sender)
    finally:
        ring.release()
        _hostops.swap32(buf, shmif.OFF_LOCK, 0)


def _same_after(buf_py, buf_c, frames):
    for i, frame in enumerate(frames):
        args = (frame, 1000 + i, (i * 7919) % 1000000, 0x0123456789abcdef ^ i)
        assert _py_send(buf_py, *args) == _c_send(buf_c, *args)
        assert buf_py == buf_c, "buses differ after frame %d" % i


def test_many_frames_across_several_wraps_are_byte_identical():
    rnd = random.Random(1)
    frames = [bytes(rnd.getrandbits(8) for _ in range(rnd.choice((0, 1, 14, 60, 1514, rnd.randrange(1515)))))
              for _ in range(6000)]     # over 2 rings
    a, b = _bus(), _bus()
    _same_after(a, b, frames)
    assert shmif.Ring(a).gen >= 2
    got = [f for *_x, f in shmif.walk(shmif.Ring(b))]
    assert got[-1] == frames[-1]


@settings(max_examples=60, deadline=None)
@given(start=st.integers(0, shmif.DATASIZE - 1), sizes=st.lists(st.integers(0, 1514), min_size=1, max_size=12))
def test_writes_that_wrap_anywhere_are_byte_identical(start, sizes):
    a, b = _bus(), _bus()
    for buf in (a, b):                  # last at an arbitrary point, the ring full of old packets
        struct.pack_into("=I", buf, shmif.OFF_LAST, start)
        struct.pack_into("=I", buf, shmif.OFF_FIRST, (start + 4096) % shmif.DATASIZE)
    _same_after(a, b, [bytes([n & 0xff]) * n for n in sizes])


@settings(max_examples=60, deadline=None)
@given(garbage=st.binary(min_size=0, max_size=64), at=st.integers(0, shmif.DATASIZE - 64),
       first=st.integers(0, 2 ** 32 - 1), last=st.integers(0, 2 ** 32 - 1))
def test_damaged_buses_end_the_same(garbage, at, first, last):
    a, b = _bus(), _bus()
    for buf in (a, b):
        buf[shmif.HDRSIZE + at:shmif.HDRSIZE + at + len(garbage)] = garbage
        struct.pack_into("=II", buf, shmif.OFF_FIRST, first, last)
    _same_after(a, b, [b"\xaa" * 60, b"\xbb" * 1514, b"\xcc" * 100])


def test_a_held_lock_is_left_alone():
    buf = _bus()
    _hostops.swap32(buf, shmif.OFF_LOCK, 1)
    before = bytes(buf)
    assert _hostops.shmif_send(buf, b"x" * 60, 1, 2, 3) == _hostops.SEND_BUSY
    assert buf == before


def test_bad_arguments_are_errors_not_crashes():
    with pytest.raises(ValueError):
        _hostops.shmif_send(bytearray(4096), b"x", 0, 0, 0)
    with pytest.raises(ValueError):
        _hostops.shmif_send(_bus(), b"x" * 4096, 0, 0, 0)
    with pytest.raises(BufferError):
        _hostops.shmif_send(bytes(shmif.BUSMEM_SIZE), b"x", 0, 0, 0)    # read-only
