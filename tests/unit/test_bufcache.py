"""The buffer cache over an in-memory disk: equal to a bytearray, coherent with raw I/O, safe on eviction."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rumptools.kernel.dev.bufcache import BufCache
from rumptools.kernel.dev.disk import Disk, block_read, block_write, raw_read, raw_write
from rumptools.abi import errnos as E
from rumptools.abi.errnos import RumpError


class MemDisk(Disk):
    """A disk in a bytearray that records every request it gets."""

    def __init__(self, nsectors, secsize=512, name="mem"):
        super().__init__(name, nsectors, secsize)
        self.data = bytearray(nsectors * secsize)
        self.reads, self.writes, self.flushes = [], [], 0

    def read_sectors(self, sector, count):
        assert count > 0 and 0 <= sector and sector + count <= self.nsectors
        self.reads.append((sector, count))
        ss = self.secsize
        return bytes(self.data[sector * ss:(sector + count) * ss])

    def write_sectors(self, sector, data):
        ss = self.secsize
        if not data:                        # raw_write passes empty writes down (disk.py)
            return
        assert len(data) % ss == 0 and sector + len(data) // ss <= self.nsectors
        self.writes.append((sector, len(data) // ss))
        self.data[sector * ss:sector * ss + len(data)] = data

    def flush_disk(self):
        self.flushes += 1


def errno_of(fn, *args):
    with pytest.raises(RumpError) as e:
        fn(*args)
    return e.value.errno


def check_accounting(cache):
    assert cache.bytes == sum(len(b[0]) for b in cache.blocks.values())
    assert cache.bytes <= cache.capacity


# -- the model test -------------------------------------------------------------------
SECS, BLK = 37, 1024                  # 18944 bytes: the last 1 KiB block is half a block
SIZE = SECS * 512
offsets = st.integers(0, SIZE + 600)
op = st.one_of(
    st.tuples(st.just("bw"), offsets, st.binary(min_size=0, max_size=3000)),
    st.tuples(st.just("br"), offsets, st.integers(0, 4000)),
    st.tuples(st.just("rw"), st.integers(0, SECS + 1), st.integers(0, 5), st.integers(0, 255)),
    st.tuples(st.just("rr"), st.integers(0, SECS + 1), st.integers(0, 6)),
    st.tuples(st.just("flush")),
)


@settings(max_examples=400, deadline=None)
@given(ops=st.lists(op, max_size=40), capacity_blocks=st.integers(1, 6))
def test_cache_equals_a_bytearray(ops, capacity_blocks):
    disk = MemDisk(SECS)
    cache = BufCache(capacity=capacity_blocks * BLK, blksize=BLK)
    model = bytearray(SIZE)
    for o in ops:
        if o[0] == "bw":
            _, off, data = o
            if off >= SIZE and data:
                assert errno_of(block_write, disk, cache, off, data) == E.EINVAL
            else:
                n = block_write(disk, cache, off, data)
                assert n == max(0, min(len(data), SIZE - off))
                model[off:off + n] = data[:n]
        elif o[0] == "br":
            _, off, n = o
            if off > SIZE and n:
                assert errno_of(block_read, disk, cache, off, n) == E.EINVAL
            else:
                assert block_read(disk, cache, off, n) == bytes(model[off:off + n])
        elif o[0] == "rw":
            _, sec, count, fill = o
            data = bytes([fill]) * (count * 512)
            if sec > SECS and data:
                assert errno_of(raw_write, disk, cache, sec * 512, data) == E.EINVAL
            else:
                n = raw_write(disk, cache, sec * 512, data)
                assert n == max(0, min(len(data), SIZE - sec * 512))
                model[sec * 512:sec * 512 + n] = data[:n]
        elif o[0] == "rr":
            _, sec, count = o
            if sec > SECS and count:
                assert errno_of(raw_read, disk, cache, sec * 512, count * 512) == E.EINVAL
                continue
            got = raw_read(disk, cache, sec * 512, count * 512)
            assert got == bytes(model[sec * 512:sec * 512 + count * 512])
        else:
            cache.flush()
            assert disk.data == model
        check_accounting(cache)
    cache.flush(disk)
    assert disk.data == model and cache.dirty_bytes() == 0


# -- raw access ---------------------------------------------------------------------
def test_raw_io_must_be_sector_aligned():
    disk, cache = MemDisk(8), BufCache(blksize=1024)
    assert errno_of(raw_read, disk, cache, 1, 512) == E.EINVAL
    assert errno_of(raw_read, disk, cache, 0, 100) == E.EINVAL
    assert errno_of(raw_write, disk, cache, 512, b"x" * 100) == E.EINVAL
    assert errno_of(raw_write, disk, cache, 3, b"x" * 512) == E.EINVAL
    assert errno_of(raw_read, disk, cache, -512, 512) == E.EINVAL
    assert raw_read(disk, cache, 0, 0) == b""
    assert not disk.reads and not disk.writes


def test_raw_read_sees_dirty_cached_blocks():
    disk, cache = MemDisk(8), BufCache(blksize=1024)
    block_write(disk, cache, 700, b"fresh")
    assert disk.data[700:705] == bytes(5)                      # only cached so far
    assert raw_read(disk, cache, 512, 512)[188:193] == b"fresh"
    assert cache.dirty_bytes() == 0                             # written back, still cached
    assert block_read(disk, cache, 700, 5) == b"fresh"


def test_raw_write_replaces_cached_blocks():
    disk, cache = MemDisk(8), BufCache(blksize=1024)
    block_write(disk, cache, 0, b"A" * 2048)                   # two dirty blocks
    raw_write(disk, cache, 512, b"R" * 512)
    assert block_read(disk, cache, 0, 2048) == b"A" * 512 + b"R" * 512 + b"A" * 1024
    cache.flush()
    assert bytes(disk.data[:2048]) == b"A" * 512 + b"R" * 512 + b"A" * 1024


# -- eviction and flushing ------------------------------------------------------------
def test_eviction_writes_back_dirty_data():
    disk = MemDisk(16)
    cache = BufCache(capacity=2 * 1024, blksize=1024)
    block_write(disk, cache, 100, b"dirty")
    assert disk.writes == []
    for b in (1, 2, 3):
        block_read(disk, cache, b * 1024, 10)                  # pushes block 0 out
    assert disk.data[100:105] == b"dirty" and (0, 2) in disk.writes
    assert block_read(disk, cache, 100, 5) == b"dirty"
    check_accounting(cache)


def test_a_request_larger_than_the_cache():
    disk = MemDisk(64)
    disk.data[:] = bytes(range(256)) * (len(disk.data) // 256)
    cache = BufCache(capacity=2 * 1024, blksize=1024)
    assert block_read(disk, cache, 100, 6000) == bytes(disk.data[100:6100])
    check_accounting(cache)
    block_write(disk, cache, 300, b"w" * 5000)                  # partial first and last blocks
    expect = bytearray(disk.data)
    expect[300:5300] = b"w" * 5000
    cache.flush()
    assert disk.data == expect


def test_flush_writes_everything_coalesced_and_syncs():
    disk = MemDisk(32)
    cache = BufCache(blksize=1024)
    block_write(disk, cache, 0, b"x" * 3000)                    # blocks 0..2
    block_write(disk, cache, 10 * 1024 + 5, b"y")               # block 10
    assert disk.writes == [] and cache.dirty_bytes() == 4 * 1024
    cache.flush()
    assert sorted(disk.writes) == [(0, 6), (20, 2)]             # one request per run
    assert disk.flushes == 1 and cache.dirty_bytes() == 0
    assert disk.data[:3000] == b"x" * 3000 and disk.data[10 * 1024 + 5] == ord("y")
    cache.flush(disk)                                           # nothing dirty: still a disk sync
    assert disk.flushes == 2 and len(disk.writes) == 2


def test_flush_and_forget_one_disk_of_two():
    a, b = MemDisk(8, name="a"), MemDisk(8, name="b")
    cache = BufCache(blksize=1024)
    block_write(a, cache, 0, b"a")
    block_write(b, cache, 0, b"b")
    assert block_read(a, cache, 0, 1) == b"a" and block_read(b, cache, 0, 1) == b"b"
    cache.flush(a)
    assert a.data[0] == ord("a") and b.data[0] == 0 and (a.flushes, b.flushes) == (1, 0)
    cache.forget(b)
    assert b.data[0] == ord("b") and b.flushes == 1
    assert all(blk[2] is a for blk in cache.blocks.values())
    check_accounting(cache)


# -- the end of the disk ---------------------------------------------------------------
def test_short_counts_and_the_end_of_the_disk():
    """NetBSD's rumpblk: over the end is cut short, at the end nothing, past it EINVAL;
    a block write at the end is EINVAL (dd: Invalid argument), a raw one writes 0 (end of device)."""
    disk = MemDisk(5)                                            # 2560 bytes, blocks of 1024
    cache = BufCache(blksize=1024)
    assert len(block_read(disk, cache, 2000, 1000)) == 560
    assert block_read(disk, cache, 2560, 10) == b""
    assert errno_of(block_read, disk, cache, 9999, 10) == E.EINVAL
    assert block_write(disk, cache, 2500, b"z" * 100) == 60
    assert errno_of(block_write, disk, cache, 2560, b"z") == E.EINVAL
    assert raw_write(disk, cache, 2560, b"z" * 512) == 0
    assert errno_of(raw_write, disk, cache, 3072, b"z" * 512) == E.EINVAL
    assert errno_of(raw_read, disk, cache, 3072, 512) == E.EINVAL
    assert raw_write(disk, cache, 2048, b"q" * 1024) == 512
    assert raw_read(disk, cache, 2048, 1024) == b"q" * 512
    assert raw_read(disk, cache, 2560, 512) == b""
    reads = len(disk.reads)
    assert block_write(disk, cache, 2560, b"") == 0             # empty writes touch nothing
    assert block_write(disk, cache, 1000, b"") == 0
    assert len(disk.reads) == reads
    assert errno_of(block_read, disk, cache, -1, 10) == E.EINVAL
    assert errno_of(block_write, disk, cache, -5, b"x") == E.EINVAL
    cache.flush()
    assert disk.data[2048:2560] == b"q" * 512
