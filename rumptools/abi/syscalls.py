"""The syscall table: the one contract between clients and the kernel.

Each entry gives NetBSD's syscall number and name, the client method name
(os-module style where one exists), argument types, what comes back, and
whether the call may sleep in the kernel. The server's dispatch, the client
stubs, the C header of the hijack library and the list in rump_sp(7) are all
made from this table.

Argument type codes: i integer, s string (path), b bytes, v any value;
a leading ? allows None.
"""
from collections import namedtuple

Syscall = namedtuple("Syscall", "number name method args results sleeps doc")

_S = Syscall
TABLE = (
    # descriptors and processes (kernel core)
    _S(3, "read", "read", "ii", "bytes", True, "read up to n bytes"),
    _S(4, "write", "write", "ib", "count", True, "write bytes"),
    _S(6, "close", "close", "i", "", False, "close a descriptor"),
    _S(20, "getpid", "getpid", "", "pid", False, "process id of the caller's kernel process"),
    _S(41, "dup", "dup", "i", "fd", False, "duplicate a descriptor"),
    _S(90, "dup2", "dup2", "ii", "fd", False, "duplicate onto a chosen descriptor"),
    _S(92, "fcntl", "fcntl", "ii?v", "value", False, "F_GETFD F_SETFD F_GETFL F_SETFL F_DUPFD"),
    _S(202, "__sysctl", "sysctl", "si?v", "kind value flags", False,
       "read (op 0), write (op 1) or describe (op 2) a sysctl node by dotted name"),
    _S(208, "reboot", "reboot", "i?s", "", False, "halt the kernel (RB_HALT, RB_NOSYNC, RB_DUMP)"),
    _S(246, "modctl", "modctl", "i?v", "value", False, "load (0), unload (1) or list (2) kernel modules"),
    _S(430, "__nanosleep50", "nanosleep", "i", "remaining", True, "sleep for a number of nanoseconds"),
    _S(453, "pipe2", "pipe2", "i", "fd fd", False, "make a pipe"),
    # file system (rumpvfs)
    _S(5, "open", "open", "sii", "fd", False, "open or create a file (NetBSD O_* flags)"),
    _S(9, "link", "link", "ss", "", False, "make a hard link"),
    _S(10, "unlink", "unlink", "s", "", False, "remove a name"),
    _S(12, "chdir", "chdir", "s", "", False, "change the working directory"),
    _S(13, "fchdir", "fchdir", "i", "", False, "change the working directory to an open directory"),
    _S(15, "chmod", "chmod", "si", "", False, "change permission bits"),
    _S(16, "chown", "chown", "sii", "", False, "change owner and group (-1 keeps)"),
    _S(22, "unmount", "unmount", "si", "", False, "unmount the file system mounted at a path"),
    _S(33, "access", "access", "si", "", False, "check that a path exists and allows a mode"),
    _S(36, "sync", "sync", "", "", False, "write every cache to its backing store"),
    _S(54, "ioctl", "ioctl", "ii?v", "value", False, "device control; the argument and result are values"),
    _S(57, "symlink", "symlink", "ss", "", False, "make a symbolic link (target, path)"),
    _S(58, "readlink", "readlink", "si", "target", False, "read a symbolic link"),
    _S(60, "umask", "umask", "i", "old mask", False, "set the file creation mask"),
    _S(95, "fsync", "fsync", "i", "", False, "write a file's data to stable storage"),
    _S(120, "readv", "readv", "iv", "buffers", False, "read into several buffers (given as sizes)"),
    _S(121, "writev", "writev", "iv", "count", False, "write several buffers"),
    _S(123, "fchown", "fchown", "iii", "", False, "change owner and group of an open file"),
    _S(124, "fchmod", "fchmod", "ii", "", False, "change permission bits of an open file"),
    _S(128, "rename", "rename", "ss", "", False, "rename, replacing an existing target"),
    _S(136, "mkdir", "mkdir", "si", "", False, "make a directory"),
    _S(137, "rmdir", "rmdir", "s", "", False, "remove an empty directory"),
    _S(173, "pread", "pread", "iii", "bytes", False, "read at an offset (fd, n, offset)"),
    _S(174, "pwrite", "pwrite", "ibi", "count", False, "write at an offset (fd, data, offset)"),
    _S(199, "lseek", "lseek", "iii", "offset", False, "move the file offset"),
    _S(200, "truncate", "truncate", "si", "", False, "set a file's length"),
    _S(201, "ftruncate", "ftruncate", "ii", "", False, "set an open file's length"),
    _S(275, "lchown", "lchown", "sii", "", False, "chown without following a final symbolic link"),
    _S(296, "__getcwd", "getcwd", "", "path", False, "the working directory"),
    _S(356, "getvfsstat", "getvfsstat", "i", "value", False,
       "statistics of every mounted file system, in mount order (a list of statvfs)"),
    _S(357, "statvfs1", "statvfs", "si", "statvfs", False, "file system statistics"),
    _S(358, "fstatvfs1", "fstatvfs", "ii", "statvfs", False, "file system statistics of an open file"),
    _S(390, "__getdents30", "getdents", "ii", "entries", False,
       "directory entries (cookie, ino, type, name) after the descriptor's offset"),
    _S(410, "__mount50", "mount", "ssi?v", "", False, "mount a file system (type, path, flags, data)"),
    _S(420, "__utimes50", "utimes", "s?i?i", "", False, "set access and modification times (ns; None: now)"),
    _S(439, "__stat50", "stat", "s", "stat", False, "file status"),
    _S(440, "__fstat50", "fstat", "i", "stat", False, "status of an open file"),
    _S(441, "__lstat50", "lstat", "s", "stat", False, "status without following a final symbolic link"),
    _S(450, "__mknod50", "mknod", "sii", "", False, "make a device node, fifo or file"),
    _S(457, "linkat", "linkat", "isisi", "", False, "link relative to directory descriptors"),
    _S(458, "renameat", "renameat", "isis", "", False, "rename relative to directory descriptors"),
    _S(461, "mkdirat", "mkdirat", "isi", "", False, "mkdir relative to a directory descriptor"),
    _S(462, "faccessat", "faccessat", "isii", "", False, "access relative to a directory descriptor"),
    _S(463, "fchmodat", "fchmodat", "isii", "", False, "chmod relative to a directory descriptor"),
    _S(466, "fstatat", "fstatat", "isi", "stat", False, "stat relative to a directory descriptor"),
    _S(467, "utimensat", "utimensat", "is?i?ii", "", False, "utimes relative to a directory descriptor"),
    _S(468, "openat", "openat", "isii", "fd", False, "open relative to a directory descriptor"),
    _S(469, "readlinkat", "readlinkat", "isi", "target", False, "readlink relative to a directory descriptor"),
    _S(470, "symlinkat", "symlinkat", "sis", "", False, "symlink relative to a directory descriptor"),
    _S(471, "unlinkat", "unlinkat", "isi", "", False, "unlink or rmdir (AT_REMOVEDIR) relative to a directory"),
    _S(472, "futimens", "futimens", "i?i?i", "", False, "set the times of an open file"),
)

BY_NUMBER = {s.number: s for s in TABLE}
BY_NAME = {s.name: s for s in TABLE}
BY_METHOD = {s.method: s for s in TABLE}

# Constants shared by both ends (NetBSD's values).
RB_AUTOBOOT, RB_HALT, RB_NOSYNC, RB_DUMP = 0, 0x008, 0x004, 0x100
MODCTL_LOAD, MODCTL_UNLOAD, MODCTL_STAT, MODCTL_EXISTS = 0, 1, 2, 3
SYSCTL_READ, SYSCTL_WRITE, SYSCTL_DESCRIBE = 0, 1, 2
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL = 0, 1, 2, 3, 4
FD_CLOEXEC = 1
O_RDONLY, O_WRONLY, O_RDWR, O_NONBLOCK, O_APPEND = 0, 1, 2, 0x4, 0x8
O_SYNC, O_NOFOLLOW, O_CREAT, O_TRUNC, O_EXCL = 0x80, 0x100, 0x200, 0x400, 0x800
O_DSYNC, O_DIRECT, O_DIRECTORY, O_CLOEXEC = 0x10000, 0x80000, 0x200000, 0x400000
AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_SYMLINK_FOLLOW, AT_REMOVEDIR = -100, 0x200, 0x400, 0x800
SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2


_TYPES = {"i": (int,), "s": (str,), "b": (bytes,), "v": None}


def _compile(codes):
    """Argument codes -> a tuple of allowed-type tuples (None: anything)."""
    out = []
    i = 0
    while i < len(codes):
        optional = codes[i] == "?"
        if optional:
            i += 1
        allowed = _TYPES[codes[i]]
        if allowed is not None and optional:
            allowed = allowed + (type(None),)
        out.append(allowed)
        i += 1
    return tuple(out)


_CHECKS = {s.number: _compile(s.args) for s in TABLE}


def check_args(sc, args):
    """True if args match the entry's argument type codes."""
    checks = _CHECKS[sc.number]
    if len(args) != len(checks):
        return False
    for value, allowed in zip(args, checks):
        if allowed is not None and type(value) not in allowed:
            return False
    return True

