"""The shmif bus format (rumptools.formats.shmif): ring arithmetic, wrap
rules, readers keeping up and being overrun, byte-swapped and damaged buses."""
import random
import struct
import sys

import pytest
from hypothesis import given, settings, strategies as st

from rumptools.formats import shmif


def new_ring(swapped=False):
    ring = shmif.Ring(bytearray(shmif.BUSMEM_SIZE), swapped=swapped)
    ring.init()
    return ring


def frame(seq, size):
    """A frame that says who it is: seq in the first 4 bytes, then a pattern."""
    body = struct.pack("!I", seq) + bytes((seq + i) & 0xff for i in range(size - 4))
    return body


def seq_of(f):
    assert f == frame(struct.unpack("!I", f[:4])[0], len(f)), "frame damaged"
    return struct.unpack("!I", f[:4])[0]


def test_fresh_bus_layout():
    ring = new_ring()
    h = shmif.Header.parse(ring.buf)
    assert (h.magic, h.version, h.gen, h.first, h.last, h.lock) == (shmif.MAGIC, 0, 0, shmif.DATASIZE, 0, 0)
    assert not h.swapped
    assert list(shmif.walk(ring)) == []
    assert shmif.DATASIZE == 1048544


def test_first_frame_lands_after_the_phantom_header():
    ring = new_ring()
    at = ring.append(b"A" * 60, 5, 123, 0x1122334455667788)
    assert at == 24 and ring.last == 24
    raw = bytes(ring.buf[32 + 24:32 + 48])
    assert struct.unpack("<IIIxxxxQ", raw) == (60, 5, 123, 0x1122334455667788)
    assert list(shmif.walk(ring)) == [(48, 60, 5, 123, 0x1122334455667788, b"A" * 60)]


def test_wrap_moves_first_and_counts_generations():
    ring = new_ring()
    sent = []
    for seq in range(3000):
        f = frame(seq, 1000)
        ring.append(f, seq, 0, 1)
        sent.append(seq)
    assert ring.gen == 3000 * 1024 // shmif.DATASIZE
    got = [seq_of(f) for _, _, _, _, _, f in shmif.walk(ring)]
    assert got == sent[-len(got):]
    # nearly the whole ring holds whole frames
    assert len(got) >= shmif.DATASIZE // 1024 - 1
    assert ring.first != shmif.DATASIZE


@given(st.lists(st.integers(min_value=14, max_value=1514), min_size=1, max_size=2500),
       st.integers(min_value=0, max_value=2 ** 32))
@settings(max_examples=25, deadline=None)
def test_walk_is_always_a_suffix_that_fits(sizes, seed):
    ring = new_ring()
    for seq, size in enumerate(sizes):
        ring.append(frame(seq, size), 0, 0, seed)
    got = [seq_of(f) for _, _, _, _, _, f in shmif.walk(ring)]
    n = len(sizes)
    assert got == list(range(n - len(got), n)) and got
    assert sum(24 + sizes[s] for s in got) <= shmif.DATASIZE


def test_reader_keeping_up_sees_everything_across_generations():
    ring = new_ring()
    rd = shmif.Reader(ring)
    rnd = random.Random(7)
    got = []
    seq = 0
    while ring.gen < 4:
        for _ in range(rnd.randrange(1, 40)):
            ring.append(frame(seq, rnd.randrange(14, 1515)), 0, 0, 9)
            seq += 1
        while True:
            p = rd.next()
            if p is None:
                break
            if p[0]:
                got.append(seq_of(p[4]))
    assert got == list(range(seq))
    assert rd.overruns == 0 and rd.corrupt == 0


def test_reader_overrun_restarts_at_first():
    ring = new_ring()
    ring.append(frame(0, 100), 0, 0, 1)
    rd = shmif.Reader(ring)
    assert seq_of(rd.next()[4]) == 0          # starts at the newest packet, as NetBSD does
    for seq in range(1, 3000):                # nearly three rings: the reader is lapped
        ring.append(frame(seq, 1000), 0, 0, 1)
    got = []
    for _ in range(5000):
        p = rd.next()
        if p is None:
            break
        got.append(seq_of(p[4]))
    assert rd.overruns == 1
    assert got == list(range(3000 - len(got), 3000))
    assert len(got) > 900


def test_byte_swapped_bus():
    ring = new_ring(swapped=True)
    ring.append(frame(1, 80), 7, 8, 9)
    assert bytes(ring.buf[:4]) == struct.pack("<I" if sys.byteorder == "big" else ">I", shmif.MAGIC)
    h = shmif.Header.parse(ring.buf)
    assert h.swapped and h.magic == shmif.MAGIC and h.last == 24
    back = shmif.Ring(ring.buf, swapped=True)
    assert [(l, s, u, x) for _, l, s, u, x, _ in shmif.walk(back)] == [(80, 7, 8, 9)]


def test_version2_headers():
    ring = shmif.Ring(bytearray(shmif.BUSMEM_SIZE), pkthdr_size=shmif.PKTHDR2_SIZE)
    ring.init()
    ring.append(frame(3, 64), 1, 2, 0)
    assert ring.last == 12
    assert [(at, l, s, u) for at, l, s, u, _, _ in shmif.walk(ring)] == [(24, 64, 1, 2)]


@given(st.binary(min_size=64, max_size=4096), st.integers(0, 2 ** 32 - 1), st.integers(0, 2 ** 32 - 1))
@settings(max_examples=80, deadline=None)
def test_damaged_bus_never_breaks_readers_or_writers(garbage, first, last):
    ring = new_ring()
    ring.data[:len(garbage)] = garbage
    ring.data[-len(garbage):] = garbage
    ring.first = first % (shmif.DATASIZE + 2) if first & 1 else first
    ring.last = last % shmif.DATASIZE if last & 1 else last
    try:
        for _ in shmif.walk(ring):
            pass
    except shmif.BusCorrupt:
        pass
    rd = shmif.Reader(ring)
    for _ in range(50):
        p = rd.next()
        assert p is None or len(p[4]) == p[0]
    ring.append(frame(1, 100), 0, 0, 5)        # a writer repairs what it cannot use
    assert ring.sane()
    for _ in range(50):                        # the old reader goes on without error
        rd.next()
    fresh = shmif.Reader(ring)                 # an interface coming up now sees the frame
    assert fresh.next()[4] == frame(1, 100)
    assert fresh.next() is None and not fresh.pending()


@pytest.mark.parametrize("tail", [0, 24, 10, 30])
def test_exact_end_of_ring_boundaries(tail):
    """Fill the ring so the next packet starts `tail` bytes before its end:
    0 = the previous frame ends exactly at the end, 24 = a header ends
    exactly there, 10 = a header is split, 30 = a frame is split.  A reader
    that keeps up sees every frame, and the walk shows a whole suffix."""
    ring = new_ring()
    rd = shmif.Reader(ring)
    got = []
    seq = 0

    def put(size):
        nonlocal seq
        ring.append(frame(seq, size), 0, 0, 1)
        seq += 1
        while True:
            p = rd.next()
            if p is None:
                return
            if p[0]:
                got.append(seq_of(p[4]))

    pos = 24                                   # where the next header goes
    target = shmif.DATASIZE - tail if tail else shmif.DATASIZE
    while target - pos > 2 * (24 + 1514):
        put(1000)
        pos += 1024
    remaining = target - pos                   # two frames of legal size land exactly there
    first_len = remaining // 2 - 24
    put(first_len)
    put(remaining - first_len - 48)
    assert ring.nextpktoff(ring.last) == target % shmif.DATASIZE
    assert ring.gen == (1 if tail == 0 else 0)
    for extra in range(3):                     # across the end of the ring
        put(100 + extra)
    assert ring.gen == 1
    assert got == list(range(seq)) and rd.overruns == 0
    walked = [seq_of(f) for _, _, _, _, _, f in shmif.walk(ring)]
    assert walked == list(range(seq - len(walked), seq)) and len(walked) >= seq - 3


@pytest.mark.parametrize("lapped", [False, True])
def test_take_passes_over_own_frames_and_agrees_with_a_reader_that_copies_all(lapped):
    """Two readers side by side over several generations (and, lapped, with the writers
    overrunning both): one takes everything, the other passes over sender 5's frames
    uncopied. They see the same others' frames and stay at the same place on the bus."""
    ring = new_ring()
    everything, others = shmif.Reader(ring), shmif.Reader(ring)
    rnd = random.Random(11)
    seq = 0
    all_got, others_got = [], []
    while ring.gen < 6:
        for _ in range(rnd.randrange(1500, 3000) if lapped else rnd.randrange(1, 60)):
            sender = 5 if rnd.random() < 0.6 else 7
            ring.append(frame(seq, rnd.randrange(14, 1515)), 0, 0, sender)
            seq += 1
        for rd, sink, skip in ((everything, all_got, None), (others, others_got, 5)):
            for _ in range(1000):
                got = rd.take(rnd.randrange(1, 64), skip)
                sink += [(p[3], seq_of(p[4])) for p in got if p[0]]
                if not got and not rd.more:
                    break
            assert not rd.more and not rd.pending()
        assert (others.nextpkt, others.devgen) == (everything.nextpkt, everything.devgen)
    assert others_got == [p for p in all_got if p[0] != 5]
    assert all(s == 7 for s, _ in others_got) and len(others_got) > 20
    assert everything.overruns == others.overruns and (everything.overruns > 0) == lapped
    if not lapped:
        assert [q for _, q in all_got] == list(range(seq))


def test_take_counts_skipped_frames_against_its_limit():
    ring = new_ring()
    rd = shmif.Reader(ring)
    assert [p[0] for p in rd.take(10)] == [0]   # the empty bus's phantom packet
    for seq in range(10):
        ring.append(frame(seq, 60), 0, 0, 5 if seq < 8 else 7)
    got = rd.take(4, 5)                         # four of ours passed over: nothing, more to come
    assert got == [] and rd.more
    got = rd.take(10, 5)
    assert [seq_of(p[4]) for p in got] == [8, 9] and not rd.more
    assert rd.take(10, 5) == [] and not rd.more
    assert ring.skip(shmif.DATASIZE - 10, 30) == (20, True) and ring.skip(0, 30) == (30, False)
    with pytest.raises(shmif.BusCorrupt):
        ring.skip(0, shmif.DATASIZE)


def test_one_write_append_matches_shmif_starts_two_writes():
    """append() writes header and frame at once; NetBSD's shmif_start writes the header,
    then the frame. Over many generations, with every way of meeting the end of the ring,
    the bus bytes and its first/last/gen come out the same."""
    ours, theirs = new_ring(), new_ring()
    rnd = random.Random(5)
    seq = 0
    while ours.gen < 12:
        n = rnd.choice((14, 60, 1514, rnd.randrange(14, 1515)))
        f = frame(seq, n)
        ours.append(f, seq, 2, 3)
        last = theirs.nextpktoff(theirs.last)             # shmif_start, step by step
        theirs.last = last
        off, w1 = theirs.write(last, theirs.pack_pkthdr(n, seq, 2, 3))
        _off, w2 = theirs.write(off, f)
        if w1 or w2:
            theirs.gen = theirs.gen + 1
        seq += 1
        if seq % 97 == 0:                                  # land exactly on the end sometimes
            room = shmif.DATASIZE - ours.nextpktoff(ours.last)
            if 24 + 14 <= room <= 24 + 1514:
                f = frame(seq, room - 24)
                ours.append(f, 0, 0, 3)
                last = theirs.nextpktoff(theirs.last)
                theirs.last = last
                off, w1 = theirs.write(last, theirs.pack_pkthdr(len(f), 0, 0, 3))
                _off, w2 = theirs.write(off, f)
                if w1 or w2:
                    theirs.gen = theirs.gen + 1
                seq += 1
        assert (ours.first, ours.last, ours.gen) == (theirs.first, theirs.last, theirs.gen)
    assert bytes(ours.buf) == bytes(theirs.buf)
