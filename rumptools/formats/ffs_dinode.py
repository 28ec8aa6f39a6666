"""FFS on-disk inodes: the 128-byte UFS1 dinode and the 256-byte UFS2 dinode
(specs/ffs.md section 4), in either byte order.

`Dinode(ufs, raw, endian)` gives the same attribute names for both formats
(times as seconds + nanoseconds, db/ib address lists, and for a fast symlink
the target stored in the address area).  Pure: no I/O.
"""
import struct

from .ffs_struct import Fields, Record

IFMT = 0o170000
IFIFO, IFCHR, IFDIR, IFBLK, IFREG, IFLNK, IFSOCK, IFWHT = (
    0o010000, 0o020000, 0o040000, 0o060000, 0o100000, 0o120000, 0o140000, 0o160000)
NDADDR = 12
NIADDR = 3

_UFS1 = Fields(128, [
    ("mode", 0, "H"), ("nlink", 2, "h"), ("size", 8, "Q"),
    ("atime", 16, "i"), ("atimensec", 20, "i"), ("mtime", 24, "i"), ("mtimensec", 28, "i"),
    ("ctime", 32, "i"), ("ctimensec", 36, "i"),
    ("db", 40, "i", NDADDR), ("ib", 88, "i", NIADDR),
    ("flags", 100, "I"), ("blocks", 104, "I"), ("gen", 108, "I"),
    ("uid", 112, "I"), ("gid", 116, "I"), ("modrev", 120, "Q"),
])
_UFS2 = Fields(256, [
    ("mode", 0, "H"), ("nlink", 2, "h"), ("uid", 4, "I"), ("gid", 8, "I"),
    ("blksize", 12, "I"), ("size", 16, "Q"), ("blocks", 24, "Q"),
    ("atime", 32, "q"), ("mtime", 40, "q"), ("ctime", 48, "q"), ("birthtime", 56, "q"),
    ("mtimensec", 64, "i"), ("atimensec", 68, "i"), ("ctimensec", 72, "i"),
    ("birthnsec", 76, "i"), ("gen", 80, "I"), ("kernflags", 84, "I"), ("flags", 88, "I"),
    ("extsize", 92, "I"), ("extb", 96, "q", 2), ("db", 112, "q", NDADDR),
    ("ib", 208, "q", NIADDR), ("modrev", 232, "Q"),
])
_ADDR_AREA = {1: (40, 60), 2: (112, 120)}      # offset, bytes of db[]+ib[]
# the maxsymlinklen a filesystem of each format is made with
MAXSYMLINKLEN = {1: 60, 2: 120}


class Dinode1(Record):
    FIELDS = _UFS1
    ufs = 1
    birthtime = 0
    birthnsec = 0


class Dinode2(Record):
    FIELDS = _UFS2
    ufs = 2


def Dinode(ufs, raw=None, endian="<"):
    return (Dinode2 if ufs == 2 else Dinode1)(raw, endian)


def size_of(ufs):
    return 256 if ufs == 2 else 128


def ftype(d):
    return d.mode & IFMT


def is_free(d):
    return d.mode == 0


def is_clear(d):
    """A free inode must be all of: mode 0, size 0, no addresses."""
    return d.mode == 0 and d.size == 0 and not any(d.db) and not any(d.ib)


def fast_link_target(d):
    """The target bytes of a fast symlink (stored in db/ib)."""
    off, n = _ADDR_AREA[d.ufs]
    area = bytes(Record.pack(d)[off:off + n])
    return area[:d.size]


def set_fast_link_target(d, target):
    """Store `target` (shorter than the area) in the address area of d."""
    off, n = _ADDR_AREA[d.ufs]
    if len(target) >= n:
        raise ValueError("target too long for a fast symlink")
    raw = bytearray(d.pack())
    raw[off:off + n] = target.ljust(n, b"\0")
    fresh = Dinode(d.ufs, raw, d.endian)
    d.raw = fresh.raw
    d.db, d.ib = fresh.db, fresh.ib
    d.size = len(target)


def is_fast_link(d, maxsymlinklen):
    return ftype(d) == IFLNK and d.size < maxsymlinklen and d.blocks == 0 \
        if maxsymlinklen > 0 else False


def dev_number(d):
    """rdev of a device node: kept in db[0]."""
    return d.db[0] & 0xffffffff


def unpack_many(ufs, buf, endian):
    """All dinodes in an inode block."""
    sz = size_of(ufs)
    return [Dinode(ufs, buf[i:i + sz], endian) for i in range(0, len(buf) - sz + 1, sz)]


def addr_struct(ufs, endian, count):
    """struct.Struct for `count` block addresses of this format."""
    return struct.Struct(endian + "%d%s" % (count, "q" if ufs == 2 else "i"))
