"""Block devices: sector-addressed storage, and the two ways files reach them.

A Disk has secsize and nsectors and reads/writes runs of whole sectors.
Raw (character) access goes straight to the disk and must be sector
aligned (EINVAL otherwise); block access goes through the buffer cache and
may be unaligned. The end of the disk follows NetBSD's rumpblk bounds
check: a request that runs over the end is cut short, one that starts
exactly at the end transfers nothing (end of device: dd says so), one that
starts past it fails with EINVAL. Block writes starting at the end fail
with EINVAL too, as NetBSD's buffer-cache path reports it (`dd: /dk:
Invalid argument` where the raw device says `end of device`). Raw access
first writes back and forgets cached blocks it overlaps, so the two views
never disagree.

Raw transfers may run without the kernel lock (unlock: a context manager
factory, see kern/biglock.py): the cache is synced before the lock is let
go, and after a write the cached blocks of the range are written back and
dropped again, since a block read could have cached the old sectors while
the lock was free. Concurrent raw and block access to the same sectors has
no defined order, as on NetBSD.
"""
from ...abi import errnos
from ...abi.errnos import RumpError


class Disk:
    """Base class: subclasses implement read_sectors/write_sectors/flush_disk."""

    secsize = 512

    def __init__(self, name, nsectors, secsize=512):
        self.name = name
        self.nsectors = nsectors
        self.secsize = secsize
        self.exclusive = None       # a driver (cgd) holding the disk: others get EBUSY
        self.opens = 0

    @property
    def size(self):
        return self.nsectors * self.secsize

    def read_sectors(self, sector, count):
        raise NotImplementedError

    def write_sectors(self, sector, data):
        raise NotImplementedError

    def flush_disk(self):
        """Push written data to stable storage."""

    # -- exclusive use --------------------------------------------------------
    def open_check(self, claimant=None):
        if self.exclusive is not None and self.exclusive is not claimant:
            raise RumpError(errnos.EBUSY)

    def claim(self, owner):
        if self.exclusive is not None or self.opens:
            raise RumpError(errnos.EBUSY)
        self.exclusive = owner

    def release(self, owner):
        if self.exclusive is owner:
            self.exclusive = None


def _clamp(disk, offset, n):
    if offset < 0 or n < 0 or (offset > disk.size and n):
        raise RumpError(errnos.EINVAL)
    return max(0, min(n, disk.size - offset))


def raw_read(disk, cache, offset, n, unlock=None):
    ss = disk.secsize
    if offset % ss or n % ss:
        raise RumpError(errnos.EINVAL)
    n = _clamp(disk, offset, n)
    if n == 0:
        return b""
    if cache is not None:
        cache.sync_range(disk, offset, n)
    if unlock is None:
        return disk.read_sectors(offset // ss, n // ss)
    with unlock():
        return disk.read_sectors(offset // ss, n // ss)


def raw_write(disk, cache, offset, data, unlock=None):
    ss = disk.secsize
    if offset % ss or len(data) % ss:
        raise RumpError(errnos.EINVAL)
    n = _clamp(disk, offset, len(data))
    if n == 0:
        return 0                    # at the end: nothing written, no error
    if cache is not None:
        cache.sync_range(disk, offset, n, drop=True)
    piece = data[:n] if n < len(data) else data
    if unlock is None:
        disk.write_sectors(offset // ss, piece)
        return n
    try:
        with unlock():
            disk.write_sectors(offset // ss, piece)
    finally:
        if cache is not None:
            cache.sync_range(disk, offset, n, drop=True)    # what was cached meanwhile
    return n


def block_read(disk, cache, offset, n):
    n = _clamp(disk, offset, n)
    if n == 0:
        return b""
    return cache.read(disk, offset, n)


def block_write(disk, cache, offset, data):
    if offset >= disk.size and data:
        raise RumpError(errnos.EINVAL)
    n = _clamp(disk, offset, len(data))
    cache.write(disk, offset, data[:n] if n < len(data) else data)
    return n
