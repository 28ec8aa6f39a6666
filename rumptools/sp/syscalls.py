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
O_CLOEXEC = 0x400000


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


def nargs(sc):
    return len(sc.args.replace("?", ""))
