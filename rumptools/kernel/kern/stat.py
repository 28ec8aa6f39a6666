"""struct stat as it crosses the wire: a fixed tuple of integers, in the
order of abi/sctypes.STAT_FIELDS (make_stat's parameters follow it)."""
S_IFMT = 0o170000
S_IFIFO, S_IFCHR, S_IFDIR, S_IFBLK, S_IFREG, S_IFLNK, S_IFSOCK = (
    0o010000, 0o020000, 0o040000, 0o060000, 0o100000, 0o120000, 0o140000)


def make_stat(mode, ino=0, dev=0, nlink=1, uid=0, gid=0, rdev=0, size=0, blksize=4096,
              blocks=None, atime_ns=0, mtime_ns=0, ctime_ns=0, birthtime_ns=0):
    if blocks is None:
        blocks = (size + 511) // 512
    return (mode, ino, dev, nlink, uid, gid, rdev, size, blksize, blocks,
            atime_ns, mtime_ns, ctime_ns, birthtime_ns)
