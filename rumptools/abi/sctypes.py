"""Argument and result types of the syscall table (abi/syscalls.py).

Each type has a name used in the table, a number (the type code of the C
header rumptools/hijack/rumpsp_syscalls.h), the C type a caller holds, the
Python types a value of it may have on the wire, and the words rump_sp(7)
shows. A name written `?name` in the table also allows None.

Argument types:
  int fd flags mode uid gid dev   32-bit integers (fd may be AT_FDCWD)
  int64 off                       64-bit integers (off: a file offset)
  size                            a byte count (size_t)
  path str                        a string: a path / a name that is not one
  inbuf                           bytes the call reads (write, pwrite)
  inbufs                          a list of bytes (writev)
  sizes                           a list of byte counts (readv)
  value                           opaque: None, integer, string, bytes or a list
                                  (ioctl, fcntl, sysctl, mount data)
  pollfds                         a list of (fd, events) pairs (poll, pollts)
  fdlist                          a list of descriptors (select; also a result)
  sockaddr                        a socket address as a tuple, family first
                                  (abi/net.py: (AF_INET, "10.1.1.1", 53)); also a result
Result types (besides the integer ones above, pid and ssize):
  outbuf(ARG)   bytes, at most as many as argument ARG says (read, pread)
  outbufs(ARG)  a list of bytes, sized by the list of sizes ARG (readv)
  path str      a string
  stat          struct stat as a list of 14 integers (STAT_FIELDS)
  statvfs       struct statvfs as a list (STATVFS_FIELDS)
  dirents       a list of (cookie, ino, type, name) entries
  value         opaque, as for arguments
  revents       a list of integers, one per (fd, events) pair
"""


class Type:
    """One type: its name, C header code, C type, Python types allowed (None: any), words."""

    __slots__ = ("name", "code", "ctype", "py", "word")

    def __init__(self, name, code, ctype, py, word):
        self.name, self.code, self.ctype, self.py, self.word = name, code, ctype, py, word


_INT = (int,)
_STR = (str,)
_BYTES = (bytes,)
_LIST = (tuple,)

TYPES = {t.name: t for t in (
    Type("int", 1, "int", _INT, "integer"),
    Type("fd", 2, "int", _INT, "descriptor"),
    Type("flags", 3, "int", _INT, "flags"),
    Type("mode", 4, "mode_t", _INT, "mode"),
    Type("uid", 5, "uid_t", _INT, "user id"),
    Type("gid", 6, "gid_t", _INT, "group id"),
    Type("dev", 7, "dev_t", _INT, "device number"),
    Type("int64", 8, "int64_t", _INT, "64-bit integer"),
    Type("off", 9, "off_t", _INT, "offset"),
    Type("size", 10, "size_t", _INT, "size"),
    Type("ssize", 11, "ssize_t", _INT, "count"),
    Type("pid", 12, "pid_t", _INT, "process id"),
    Type("path", 13, "const char *", _STR, "path"),
    Type("str", 14, "const char *", _STR, "string"),
    Type("inbuf", 15, "const void *", _BYTES, "bytes"),
    Type("inbufs", 16, "const struct iovec *", _LIST, "list of bytes"),
    Type("sizes", 17, "const struct iovec *", _LIST, "list of sizes"),
    Type("value", 18, "void *", None, "value"),
    Type("outbuf", 19, "void *", _BYTES, "bytes"),
    Type("outbufs", 20, "const struct iovec *", _LIST, "list of bytes"),
    Type("stat", 21, "struct stat *", _LIST, "struct stat"),
    Type("statvfs", 22, "struct statvfs *", _LIST, "struct statvfs"),
    Type("dirents", 23, "struct dirent *", _LIST, "directory entries"),
    Type("pollfds", 24, "struct pollfd *", _LIST, "list of (fd, events) pairs"),
    Type("revents", 25, "short *", _LIST, "list of revents"),
    Type("fdlist", 26, "fd_set *", _LIST, "list of descriptors"),
    Type("sockaddr", 27, "struct sockaddr *", _LIST, "socket address"),
)}

ARG_TYPES = frozenset("int fd flags mode uid gid dev int64 off size path str inbuf inbufs sizes value "
                      "pollfds fdlist sockaddr".split())
RESULT_TYPES = frozenset("int fd flags mode int64 off ssize pid path str outbuf outbufs stat statvfs "
                         "dirents value revents fdlist sockaddr".split())
SIZED = frozenset(("outbuf", "outbufs"))    # sized by an argument: outbuf(nbyte)

# struct stat on the wire: this order, all integers, times in nanoseconds.
STAT_FIELDS = ("mode", "ino", "dev", "nlink", "uid", "gid", "rdev", "size", "blksize", "blocks",
               "atime_ns", "mtime_ns", "ctime_ns", "birthtime_ns")
# struct statvfs on the wire: this order; the last three are strings.
STATVFS_FIELDS = ("bsize", "frsize", "blocks", "bfree", "bavail", "files", "ffree", "favail",
                  "fsid", "flag", "namemax", "fstypename", "mntonname", "mntfromname")
# one directory entry of getdents
DIRENT_FIELDS = ("cookie", "ino", "type", "name")
