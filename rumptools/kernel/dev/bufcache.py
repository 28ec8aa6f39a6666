"""The buffer cache: write-back caching of disk blocks for block-device access.

Blocks are BLKSIZE bytes (the last one of a disk may be shorter), kept in
LRU order up to a capacity. Writes only dirty the cache; dirty blocks reach
the disk on flush() (fsync, sync, unmount, halt, SIGTERM/SIGINT through the
kernel's sync hooks), when evicted, or before raw I/O touches them.
Contiguous dirty blocks are written back in one disk request. A request's
blocks stay resident until it is done; eviction runs after it (the cache
may overshoot its capacity by one request). blksize must be a multiple of
the sector size of every disk cached. Kernel lock held by callers.
"""
from collections import OrderedDict

BLKSIZE = 64 * 1024
MAX_CAPACITY = 64 * 1024 * 1024
BUFCACHE_PERCENT = 15           # NetBSD's vm.bufcache default: percent of physical memory


def sized_for(budget):
    """The kernel's buffer cache, sized from its memory limit (rump_server -r) as
    NetBSD sizes its own: BUFCACHE_PERCENT of it, at most MAX_CAPACITY, at least
    one block. A cache, not a charge: it evicts. rumpvfs provides it as the
    `bufcache` slot."""
    cap = budget.limit * BUFCACHE_PERCENT // 100
    return BufCache(capacity=max(BLKSIZE, min(MAX_CAPACITY, cap)))


class BufCache:
    def __init__(self, capacity=MAX_CAPACITY, blksize=BLKSIZE):
        self.capacity = capacity
        self.blksize = blksize
        self.blocks = OrderedDict()      # (id(disk), blkno) -> [data, dirty, disk]
        self.bytes = 0

    def _blklen(self, disk, blkno):
        return min(self.blksize, disk.size - blkno * self.blksize)

    def _load(self, disk, first, last):
        """Make blocks first..last (inclusive) resident, reading missing runs at once."""
        blocks, bs, did = self.blocks, self.blksize, id(disk)
        b = first
        while b <= last:
            if (did, b) in blocks:
                blocks.move_to_end((did, b))
                b += 1
                continue
            run_end = b
            while run_end + 1 <= last and (did, run_end + 1) not in blocks:
                run_end += 1
            start = b * bs
            length = min((run_end + 1) * bs, disk.size) - start
            data = disk.read_sectors(start // disk.secsize, length // disk.secsize)
            for i in range(b, run_end + 1):
                lo = (i - b) * bs
                chunk = bytearray(data[lo:lo + bs])
                blocks[(did, i)] = [chunk, False, disk]
                self.bytes += len(chunk)
            b = run_end + 1

    def read(self, disk, offset, n):
        if n <= 0:
            return b""
        bs = self.blksize
        first, last = offset // bs, (offset + n - 1) // bs
        self._load(disk, first, last)
        did = id(disk)
        out = []
        for b in range(first, last + 1):
            data = self.blocks[(did, b)][0]
            lo = offset - b * bs if b == first else 0
            hi = offset + n - b * bs if b == last else len(data)
            out.append(data[lo:hi] if (lo or hi != len(data)) else data)
        out = b"".join(out)
        self._evict()
        return out

    def write(self, disk, offset, data):
        bs, did, blocks = self.blksize, id(disk), self.blocks
        n = len(data)
        if n == 0:
            return
        first, last = offset // bs, (offset + n - 1) // bs
        view = memoryview(data)
        # blocks only partly overwritten must be read first
        for b in (first, last):
            lo = max(offset, b * bs)
            hi = min(offset + n, b * bs + self._blklen(disk, b))
            if hi - lo < self._blklen(disk, b) and (did, b) not in blocks:
                self._load(disk, b, b)
        for b in range(first, last + 1):
            base = b * bs
            lo, hi = max(offset, base), min(offset + n, base + self._blklen(disk, b))
            entry = blocks.get((did, b))
            if entry is None:
                entry = blocks[(did, b)] = [bytearray(view[lo - offset:hi - offset]), True, disk]
                self.bytes += hi - lo
            else:
                entry[0][lo - base:hi - base] = view[lo - offset:hi - offset]
                entry[1] = True
                blocks.move_to_end((did, b))
        self._evict()

    def _writeback(self, disk, blknos):
        """Write the given dirty blocks of one disk, coalescing neighbours."""
        bs, did = self.blksize, id(disk)
        blknos = sorted(blknos)
        i = 0
        while i < len(blknos):
            j = i
            while j + 1 < len(blknos) and blknos[j + 1] == blknos[j] + 1:
                j += 1
            parts = [self.blocks[(did, b)][0] for b in blknos[i:j + 1]]
            disk.write_sectors(blknos[i] * bs // disk.secsize, b"".join(parts))
            for b in blknos[i:j + 1]:
                self.blocks[(did, b)][1] = False
            i = j + 1

    def _evict(self):
        blocks = self.blocks
        while self.bytes > self.capacity and blocks:
            key, (data, dirty, disk) = next(iter(blocks.items()))
            if dirty:
                # write it back with its dirty neighbours, then drop it
                did, b = key
                run = [b]
                while (did, run[-1] + 1) in blocks and blocks[(did, run[-1] + 1)][1]:
                    run.append(run[-1] + 1)
                self._writeback(disk, run)
            del blocks[key]
            self.bytes -= len(data)

    def flush(self, disk=None):
        """Write back every dirty block (of one disk, or all), then sync the disks."""
        bydisk = {}
        for (did, b), (_data, dirty, d) in self.blocks.items():
            if dirty and (disk is None or d is disk):
                bydisk.setdefault(did, (d, []))[1].append(b)
        for d, blknos in bydisk.values():
            self._writeback(d, blknos)
        for d, _ in bydisk.values():
            d.flush_disk()
        if disk is not None and id(disk) not in bydisk:
            disk.flush_disk()

    def sync_range(self, disk, offset, n, drop=False):
        """Before raw I/O: write back (and with drop, forget) cached blocks it overlaps."""
        if n <= 0 or not self.blocks:
            return
        bs, did = self.blksize, id(disk)
        keys = [(did, b) for b in range(offset // bs, (offset + n - 1) // bs + 1) if (did, b) in self.blocks]
        dirty = [k[1] for k in keys if self.blocks[k][1]]
        if dirty:
            self._writeback(disk, dirty)
        if drop:
            for k in keys:
                self.bytes -= len(self.blocks.pop(k)[0])

    def forget(self, disk):
        """Write back and drop every block of a disk (detach)."""
        self.flush(disk)
        for k in [k for k in self.blocks if k[0] == id(disk)]:
            self.bytes -= len(self.blocks.pop(k)[0])

    def dirty_bytes(self):
        """Bytes written to the cache and not yet to the disk."""
        return sum(len(d) for d, dirty, _ in self.blocks.values() if dirty)
