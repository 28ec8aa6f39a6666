"""The syscall table: the one contract between clients and the kernel.

Each entry gives NetBSD's syscall number and name, the client method name
(os-module style where one exists), the typed arguments as they travel on
the wire, the typed results that come back, and whether the call may sleep
in the kernel. Types are those of abi/sctypes.py; `name:type` pairs are
separated by spaces, `?type` also allows None, and `outbuf(n)` is bytes
sized by the argument named n.

Everything else is made from this table:
  - the kernel's dispatch: handlers register against an entry BY NAME
    (kernel/kern/syscall.py); a test fails if a full kernel leaves an
    entry without a handler or a handler names no entry;
  - the argument checks (checker(), compiled once per signature);
  - the Python client's stubs (sp/client.py, made at import);
  - the C header of the hijack library (tools/gen_syscall_header.py
    writes rumptools/hijack/rumpsp_syscalls.h);
  - the list in rump_sp(7) (tools/gen_rump_sp_list.py).
To add a call: add its entry here, register a handler by name in the
component that provides it, then run both generators.
"""
from .sctypes import SIZED, TYPES


class Param:
    """One argument or result: name, type name, optional (None allowed), sizing argument."""

    __slots__ = ("name", "type", "optional", "sized_by")

    def __init__(self, name, type_, optional=False, sized_by=None):
        self.name, self.type, self.optional, self.sized_by = name, type_, optional, sized_by

    def __repr__(self):
        return "%s:%s%s" % (self.name, "?" if self.optional else "", self.type)


def _params(spec):
    out = []
    for item in spec.split():
        name, _, t = item.partition(":")
        optional = t.startswith("?")
        if optional:
            t = t[1:]
        sized_by = None
        if t.endswith(")"):
            t, _, sized_by = t[:-1].partition("(")
        out.append(Param(name, t, optional, sized_by))
    return tuple(out)


class Syscall:
    """One table entry. args and results are tuples of Param, parsed from
    argspec and resultspec when first asked for (client start-up stays cheap)."""

    __slots__ = ("number", "name", "method", "argspec", "resultspec", "sleeps", "doc",
                 "_args", "_results", "_check")

    def __init__(self, number, name, method, argspec, resultspec, sleeps, doc):
        self.number, self.name, self.method = number, name, method
        self.argspec, self.resultspec = argspec, resultspec
        self.sleeps, self.doc = sleeps, doc
        self._args = self._results = self._check = None

    @property
    def args(self):
        if self._args is None:
            self._args = _params(self.argspec)
        return self._args

    @property
    def results(self):
        if self._results is None:
            self._results = _params(self.resultspec)
        return self._results

    def __repr__(self):
        return "<syscall %d %s>" % (self.number, self.name)

    @property
    def signature(self):
        """Argument type letters for the checker: one per argument, '?' before optional ones."""
        return "".join(("?" if p.optional else "") + _LETTER[TYPES[p.type].py] for p in self.args)


SLEEPS = True
_S = Syscall
TABLE = (
    # descriptors and processes (kernel core)
    _S(3, "read", "read", "fd:fd nbyte:size", "data:outbuf(nbyte)", SLEEPS, "read up to n bytes"),
    _S(4, "write", "write", "fd:fd data:inbuf", "count:ssize", SLEEPS, "write bytes"),
    _S(6, "close", "close", "fd:fd", "", False, "close a descriptor"),
    _S(20, "getpid", "getpid", "", "pid:pid", False, "process id of the caller's kernel process"),
    _S(41, "dup", "dup", "fd:fd", "fd:fd", False, "duplicate a descriptor"),
    _S(90, "dup2", "dup2", "from:fd to:fd", "fd:fd", False, "duplicate onto a chosen descriptor"),
    _S(92, "fcntl", "fcntl", "fd:fd cmd:int arg:?value", "value:value", False,
       "F_GETFD F_SETFD F_GETFL F_SETFL F_DUPFD"),
    _S(202, "__sysctl", "sysctl", "name:str op:int newvalue:?value", "kind:str value:value flags:int", False,
       "read (op 0), write (op 1) or describe (op 2) a sysctl node by dotted name"),
    _S(208, "reboot", "reboot", "howto:flags bootstr:?str", "", False,
       "halt the kernel (RB_HALT, RB_NOSYNC, RB_DUMP)"),
    _S(246, "modctl", "modctl", "op:int arg:?value", "value:value", False,
       "load (0), unload (1) or list (2) kernel modules"),
    _S(209, "poll", "poll", "fds:pollfds timeout:?int", "revents:revents", SLEEPS,
       "wait for events on a list of (fd, events) pairs; timeout in ms, None or -1 for ever; "
       "one revents per pair"),
    _S(417, "__select50", "select", "rfds:?fdlist wfds:?fdlist xfds:?fdlist timeout:?int64",
       "readable:fdlist writable:fdlist exceptional:fdlist", SLEEPS,
       "wait until descriptors of three lists are ready; timeout in microseconds, None for ever"),
    _S(437, "__pollts50", "pollts", "fds:pollfds timeout:?int64", "revents:revents", SLEEPS,
       "poll with a timeout in nanoseconds (None for ever); the signal mask stays with the client"),
    _S(430, "__nanosleep50", "nanosleep", "ns:int64", "remaining:int64", SLEEPS,
       "sleep for a number of nanoseconds"),
    _S(453, "pipe2", "pipe2", "flags:flags", "rfd:fd wfd:fd", False, "make a pipe"),
    # sockets (rumpnet; protocols from rumpnet_netinet and later rumpnet_local)
    _S(394, "__socket30", "socket", "domain:int type:int protocol:int", "fd:fd", False,
       "make a socket (AF_*, SOCK_* with SOCK_NONBLOCK/SOCK_CLOEXEC, protocol)"),
    _S(104, "bind", "bind", "fd:fd addr:sockaddr", "", False, "give a socket its local address"),
    _S(98, "connect", "sock_connect", "fd:fd addr:sockaddr", "", SLEEPS, "connect a socket to a peer"),
    _S(106, "listen", "listen", "fd:fd backlog:int", "", False, "accept connections on a socket"),
    _S(30, "accept", "accept", "fd:fd", "fd:fd addr:?sockaddr", SLEEPS,
       "take a connection from a listening socket"),
    _S(135, "socketpair", "socketpair", "domain:int type:int protocol:int", "fd0:fd fd1:fd", False,
       "make a pair of connected sockets"),
    _S(133, "sendto", "sendto", "fd:fd data:inbuf flags:flags addr:?sockaddr", "count:ssize", SLEEPS,
       "send a datagram or bytes, to an address or the connected peer"),
    _S(29, "recvfrom", "recvfrom", "fd:fd nbyte:size flags:flags", "data:outbuf(nbyte) addr:?sockaddr",
       SLEEPS, "receive up to n bytes and the sender's address"),
    _S(28, "sendmsg", "sendmsg", "fd:fd buffers:inbufs control:?value flags:flags addr:?sockaddr",
       "count:ssize", SLEEPS, "send gathered buffers with control data (a list of (level, type, bytes))"),
    _S(27, "recvmsg", "recvmsg", "fd:fd nbyte:size controllen:size flags:flags",
       "data:outbuf(nbyte) addr:?sockaddr control:value flags:flags", SLEEPS,
       "receive data, sender, control data (a list of (level, type, bytes)) and MSG_* flags"),
    _S(476, "sendmmsg", "sendmmsg", "fd:fd msgs:value flags:flags", "lens:value", SLEEPS,
       "send several datagrams, each (buffers, addr or None, control or None), in one call; returns "
       "the byte count of each one sent (fewer than given when one fails after the first: its error "
       "is the socket's next)"),
    _S(475, "recvmmsg", "recvmmsg", "fd:fd sizes:sizes controllen:size flags:flags timeout:?int64",
       "msgs:value", SLEEPS,
       "receive up to one datagram per size given, each as (data, addr, control, MSG_* flags); "
       "MSG_WAITFORONE waits for the first only; timeout in nanoseconds (None: none), looked at "
       "after each datagram"),
    _S(32, "getsockname", "getsockname", "fd:fd", "addr:sockaddr", False, "a socket's local address"),
    _S(31, "getpeername", "getpeername", "fd:fd", "addr:sockaddr", False, "a socket's peer address"),
    _S(105, "setsockopt", "setsockopt", "fd:fd level:int name:int value:value", "", False,
       "set a socket option (integers as integers, timeouts in microseconds)"),
    _S(118, "getsockopt", "getsockopt", "fd:fd level:int name:int", "value:value", False,
       "read a socket option"),
    _S(134, "shutdown", "shutdown", "fd:fd how:int", "", False, "shut down a direction of a socket"),
    # file system (rumpvfs)
    _S(5, "open", "open", "path:path flags:flags mode:mode", "fd:fd", False,
       "open or create a file (NetBSD O_* flags)"),
    _S(9, "link", "link", "path:path link:path", "", False, "make a hard link"),
    _S(10, "unlink", "unlink", "path:path", "", False, "remove a name"),
    _S(12, "chdir", "chdir", "path:path", "", False, "change the working directory"),
    _S(13, "fchdir", "fchdir", "fd:fd", "", False, "change the working directory to an open directory"),
    _S(15, "chmod", "chmod", "path:path mode:mode", "", False, "change permission bits"),
    _S(16, "chown", "chown", "path:path uid:uid gid:gid", "", False, "change owner and group (-1 keeps)"),
    _S(22, "unmount", "unmount", "path:path flags:flags", "", False,
       "unmount the file system mounted at a path"),
    _S(33, "access", "access", "path:path mode:int", "ok:int", False,
       "check that a path exists and allows a mode"),
    _S(36, "sync", "sync", "", "", False, "write every cache to its backing store"),
    _S(54, "ioctl", "ioctl", "fd:fd cmd:int arg:?value", "value:value", False,
       "device control; the argument and result are values"),
    _S(57, "symlink", "symlink", "target:path path:path", "", False, "make a symbolic link (target, path)"),
    _S(58, "readlink", "readlink", "path:path bufsize:size", "target:path", False, "read a symbolic link"),
    _S(60, "umask", "umask", "mask:mode", "old:mode", False, "set the file creation mask"),
    _S(95, "fsync", "fsync", "fd:fd", "", False, "write a file's data to stable storage"),
    _S(120, "readv", "readv", "fd:fd sizes:sizes", "buffers:outbufs(sizes)", False,
       "read into several buffers (given as sizes)"),
    _S(121, "writev", "writev", "fd:fd buffers:inbufs", "count:ssize", False, "write several buffers"),
    _S(123, "fchown", "fchown", "fd:fd uid:uid gid:gid", "", False, "change owner and group of an open file"),
    _S(124, "fchmod", "fchmod", "fd:fd mode:mode", "", False, "change permission bits of an open file"),
    _S(128, "rename", "rename", "from:path to:path", "", False, "rename, replacing an existing target"),
    _S(136, "mkdir", "mkdir", "path:path mode:mode", "", False, "make a directory"),
    _S(137, "rmdir", "rmdir", "path:path", "", False, "remove an empty directory"),
    _S(173, "pread", "pread", "fd:fd nbyte:size offset:off", "data:outbuf(nbyte)", False,
       "read at an offset (fd, n, offset)"),
    _S(174, "pwrite", "pwrite", "fd:fd data:inbuf offset:off", "count:ssize", False,
       "write at an offset (fd, data, offset)"),
    _S(199, "lseek", "lseek", "fd:fd offset:off whence:int", "offset:off", False, "move the file offset"),
    _S(200, "truncate", "truncate", "path:path length:off", "", False, "set a file's length"),
    _S(201, "ftruncate", "ftruncate", "fd:fd length:off", "", False, "set an open file's length"),
    _S(275, "lchown", "lchown", "path:path uid:uid gid:gid", "", False,
       "chown without following a final symbolic link"),
    _S(296, "__getcwd", "getcwd", "", "path:path", False, "the working directory"),
    _S(356, "getvfsstat", "getvfsstat", "flags:flags", "stats:value", False,
       "statistics of every mounted file system, in mount order (a list of statvfs)"),
    _S(357, "statvfs1", "statvfs", "path:path flags:flags", "buf:statvfs", False, "file system statistics"),
    _S(358, "fstatvfs1", "fstatvfs", "fd:fd flags:flags", "buf:statvfs", False,
       "file system statistics of an open file"),
    _S(390, "__getdents30", "getdents", "fd:fd count:size", "entries:dirents", False,
       "directory entries (cookie, ino, type, name) after the descriptor's offset"),
    _S(410, "__mount50", "mount", "type:str path:path flags:flags data:?value", "", False,
       "mount a file system (type, path, flags, data)"),
    _S(420, "__utimes50", "utimes", "path:path atime:?int64 mtime:?int64", "", False,
       "set access and modification times (ns; None: now)"),
    _S(439, "__stat50", "stat", "path:path", "sb:stat", False, "file status"),
    _S(440, "__fstat50", "fstat", "fd:fd", "sb:stat", False, "status of an open file"),
    _S(441, "__lstat50", "lstat", "path:path", "sb:stat", False,
       "status without following a final symbolic link"),
    _S(450, "__mknod50", "mknod", "path:path mode:mode dev:dev", "", False,
       "make a device node, fifo or file"),
    _S(457, "linkat", "linkat", "fromfd:fd from:path tofd:fd to:path flags:flags", "", False,
       "link relative to directory descriptors"),
    _S(458, "renameat", "renameat", "fromfd:fd from:path tofd:fd to:path", "", False,
       "rename relative to directory descriptors"),
    _S(461, "mkdirat", "mkdirat", "dirfd:fd path:path mode:mode", "", False,
       "mkdir relative to a directory descriptor"),
    _S(462, "faccessat", "faccessat", "dirfd:fd path:path mode:int flags:flags", "ok:int", False,
       "access relative to a directory descriptor"),
    _S(463, "fchmodat", "fchmodat", "dirfd:fd path:path mode:mode flags:flags", "", False,
       "chmod relative to a directory descriptor"),
    _S(466, "fstatat", "fstatat", "dirfd:fd path:path flags:flags", "sb:stat", False,
       "stat relative to a directory descriptor"),
    _S(467, "utimensat", "utimensat", "dirfd:fd path:path atime:?int64 mtime:?int64 flags:flags", "", False,
       "utimes relative to a directory descriptor"),
    _S(468, "openat", "openat", "dirfd:fd path:path flags:flags mode:mode", "fd:fd", False,
       "open relative to a directory descriptor"),
    _S(469, "readlinkat", "readlinkat", "dirfd:fd path:path bufsize:size", "target:path", False,
       "readlink relative to a directory descriptor"),
    _S(470, "symlinkat", "symlinkat", "target:path dirfd:fd path:path", "", False,
       "symlink relative to a directory descriptor"),
    _S(471, "unlinkat", "unlinkat", "dirfd:fd path:path flags:flags", "", False,
       "unlink or rmdir (AT_REMOVEDIR) relative to a directory"),
    _S(472, "futimens", "futimens", "fd:fd atime:?int64 mtime:?int64", "", False,
       "set the times of an open file"),
)

BY_NUMBER = {s.number: s for s in TABLE}
BY_NAME = {s.name: s for s in TABLE}
BY_METHOD = {s.method: s for s in TABLE}

# Constants shared by both ends (NetBSD's values); the C header carries them too.
RB_AUTOBOOT, RB_HALT, RB_NOSYNC, RB_DUMP = 0, 0x008, 0x004, 0x100
MODCTL_LOAD, MODCTL_UNLOAD, MODCTL_STAT, MODCTL_EXISTS = 0, 1, 2, 3
SYSCTL_READ, SYSCTL_WRITE, SYSCTL_DESCRIBE = 0, 1, 2
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL = 0, 1, 2, 3, 4
FD_CLOEXEC = 1
O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE, O_NONBLOCK, O_APPEND = 0, 1, 2, 3, 0x4, 0x8
O_SHLOCK, O_EXLOCK, O_ASYNC, O_SYNC, O_NOFOLLOW = 0x10, 0x20, 0x40, 0x80, 0x100
O_CREAT, O_TRUNC, O_EXCL, O_NOCTTY = 0x200, 0x400, 0x800, 0x8000
O_DSYNC, O_RSYNC, O_ALT_IO, O_DIRECT = 0x10000, 0x20000, 0x40000, 0x80000
O_DIRECTORY, O_CLOEXEC, O_SEARCH, O_NOSIGPIPE = 0x200000, 0x400000, 0x800000, 0x1000000
AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_SYMLINK_FOLLOW, AT_REMOVEDIR = -100, 0x200, 0x400, 0x800
SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2
MAX_IO = 64 * 1024 * 1024       # the most one read or write moves (a frame holds 64 MiB of data)

# -- argument checks -------------------------------------------------------------------
_LETTER = {(int,): "i", (str,): "s", (bytes,): "b", (tuple,): "l", None: "v"}
_PYNAME = {"i": "int", "s": "str", "b": "bytes", "l": "tuple"}
_COMPILED = {}


def _compile(signature):
    """Make the check for one signature: a function args -> bool, with no loop in it."""
    letters, optional, i = [], [], 0
    while i < len(signature):
        opt = signature[i] == "?"
        if opt:
            i += 1
        letters.append(signature[i])
        optional.append(opt)
        i += 1
    n = len(letters)
    if n == 0:
        src = "def check(a):\n    return not a\n"
    else:
        names = ["x%d" % k for k in range(n)]
        tests = []
        for name, letter, opt in zip(names, letters, optional):
            if letter == "v":
                continue
            test = "type(%s) is %s" % (name, _PYNAME[letter])
            if opt:
                test = "(%s is None or %s)" % (name, test)
            tests.append(test)
        src = "def check(a):\n    if len(a) != %d:\n        return False\n" % n
        if tests:
            src += "    %s, = a\n    return %s\n" % (", ".join(names), " and ".join(tests))
        else:
            src += "    return True\n"
    scope = {}
    exec(compile(src, "<syscall check %s>" % signature, "exec"), scope)
    return scope["check"]


def checker(sc):
    """The compiled argument check of an entry: check(args) -> True if the types fit."""
    fn = sc._check
    if fn is None:
        sig = sc.signature
        fn = _COMPILED.get(sig)
        if fn is None:
            fn = _COMPILED[sig] = _compile(sig)
        sc._check = fn
    return fn


def check_args(sc, args):
    """True if args match the entry's argument types."""
    return checker(sc)(args)


def check_results(sc, results):
    """True if a handler's results have the entry's shape: count and Python types."""
    if type(results) is not tuple or len(results) != len(sc.results):
        return False
    for p, v in zip(sc.results, results):
        py = TYPES[p.type].py
        if py is None or (v is None and p.optional):
            continue
        if type(v) not in py:
            return False
    return True


def validate():
    """Problems of the table as messages (tests/unit/test_syscall_table.py wants none):
    unknown types, out-buffers not sized by one of the call's arguments."""
    problems = []
    for s in TABLE:
        names = {p.name for p in s.args}
        for p in s.args + s.results:
            if p.type not in TYPES:
                problems.append("%s: unknown type %s" % (s.name, p.type))
            elif (p.type in SIZED) != (p.sized_by is not None) or (p.sized_by and p.sized_by not in names):
                problems.append("%s: %s must be sized by one of its arguments" % (s.name, p.name))
    return problems
