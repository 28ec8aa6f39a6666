"""NetBSD errno numbers and their strerror texts, and the host (Linux) mapping.

The rump kernel speaks NetBSD's numbering on the wire; commands print
NetBSD's texts ("Device busy", not Linux's "Device or resource busy"), so
scripts written against NetBSD's tools see the messages they expect.
"""
import errno as _host

# (number, name, text) in NetBSD's sys/errno.h order.
_TABLE = (
    (1, "EPERM", "Operation not permitted"),
    (2, "ENOENT", "No such file or directory"),
    (3, "ESRCH", "No such process"),
    (4, "EINTR", "Interrupted system call"),
    (5, "EIO", "Input/output error"),
    (6, "ENXIO", "Device not configured"),
    (7, "E2BIG", "Argument list too long"),
    (8, "ENOEXEC", "Exec format error"),
    (9, "EBADF", "Bad file descriptor"),
    (10, "ECHILD", "No child processes"),
    (11, "EDEADLK", "Resource deadlock avoided"),
    (12, "ENOMEM", "Cannot allocate memory"),
    (13, "EACCES", "Permission denied"),
    (14, "EFAULT", "Bad address"),
    (15, "ENOTBLK", "Block device required"),
    (16, "EBUSY", "Device busy"),
    (17, "EEXIST", "File exists"),
    (18, "EXDEV", "Cross-device link"),
    (19, "ENODEV", "Operation not supported by device"),
    (20, "ENOTDIR", "Not a directory"),
    (21, "EISDIR", "Is a directory"),
    (22, "EINVAL", "Invalid argument"),
    (23, "ENFILE", "Too many open files in system"),
    (24, "EMFILE", "Too many open files"),
    (25, "ENOTTY", "Inappropriate ioctl for device"),
    (26, "ETXTBSY", "Text file busy"),
    (27, "EFBIG", "File too large"),
    (28, "ENOSPC", "No space left on device"),
    (29, "ESPIPE", "Illegal seek"),
    (30, "EROFS", "Read-only file system"),
    (31, "EMLINK", "Too many links"),
    (32, "EPIPE", "Broken pipe"),
    (33, "EDOM", "Numerical argument out of domain"),
    (34, "ERANGE", "Result too large or too small"),
    (35, "EAGAIN", "Resource temporarily unavailable"),
    (36, "EINPROGRESS", "Operation now in progress"),
    (37, "EALREADY", "Operation already in progress"),
    (38, "ENOTSOCK", "Socket operation on non-socket"),
    (39, "EDESTADDRREQ", "Destination address required"),
    (40, "EMSGSIZE", "Message too long"),
    (41, "EPROTOTYPE", "Protocol wrong type for socket"),
    (42, "ENOPROTOOPT", "Protocol option not available"),
    (43, "EPROTONOSUPPORT", "Protocol not supported"),
    (44, "ESOCKTNOSUPPORT", "Socket type not supported"),
    (45, "EOPNOTSUPP", "Operation not supported"),
    (46, "EPFNOSUPPORT", "Protocol family not supported"),
    (47, "EAFNOSUPPORT", "Address family not supported by protocol family"),
    (48, "EADDRINUSE", "Address already in use"),
    (49, "EADDRNOTAVAIL", "Can't assign requested address"),
    (50, "ENETDOWN", "Network is down"),
    (51, "ENETUNREACH", "Network is unreachable"),
    (52, "ENETRESET", "Network dropped connection on reset"),
    (53, "ECONNABORTED", "Software caused connection abort"),
    (54, "ECONNRESET", "Connection reset by peer"),
    (55, "ENOBUFS", "No buffer space available"),
    (56, "EISCONN", "Socket is already connected"),
    (57, "ENOTCONN", "Socket is not connected"),
    (58, "ESHUTDOWN", "Can't send after socket shutdown"),
    (59, "ETOOMANYREFS", "Too many references: can't splice"),
    (60, "ETIMEDOUT", "Operation timed out"),
    (61, "ECONNREFUSED", "Connection refused"),
    (62, "ELOOP", "Too many levels of symbolic links"),
    (63, "ENAMETOOLONG", "File name too long"),
    (64, "EHOSTDOWN", "Host is down"),
    (65, "EHOSTUNREACH", "No route to host"),
    (66, "ENOTEMPTY", "Directory not empty"),
    (67, "EPROCLIM", "Too many processes"),
    (68, "EUSERS", "Too many users"),
    (69, "EDQUOT", "Disc quota exceeded"),
    (70, "ESTALE", "Stale NFS file handle"),
    (71, "EREMOTE", "Too many levels of remote in path"),
    (72, "EBADRPC", "RPC struct is bad"),
    (73, "ERPCMISMATCH", "RPC version wrong"),
    (74, "EPROGUNAVAIL", "RPC prog. not avail"),
    (75, "EPROGMISMATCH", "Program version wrong"),
    (76, "EPROCUNAVAIL", "Bad procedure for program"),
    (77, "ENOLCK", "No locks available"),
    (78, "ENOSYS", "Function not implemented"),
    (79, "EFTYPE", "Inappropriate file type or format"),
    (80, "EAUTH", "Authentication error"),
    (81, "ENEEDAUTH", "Need authenticator"),
    (82, "EIDRM", "Identifier removed"),
    (83, "ENOMSG", "No message of desired type"),
    (84, "EOVERFLOW", "Value too large to be stored in data type"),
    (85, "EILSEQ", "Illegal byte sequence"),
    (86, "ENOTSUP", "Not supported"),
    (87, "ECANCELED", "Operation canceled"),
    (88, "EBADMSG", "Bad or Corrupt message"),
    (89, "ENODATA", "No message available"),
    (90, "ENOSR", "No STREAM resources"),
    (91, "ENOSTR", "Not a STREAM"),
    (92, "ETIME", "STREAM ioctl timeout"),
    (93, "ENOATTR", "Attribute not found"),
    (94, "EMULTIHOP", "Multihop attempted"),
    (95, "ENOLINK", "Link has been severed"),
    (96, "EPROTO", "Protocol error"),
)

_TEXT = {num: text for num, _name, text in _TABLE}
_NAME = {num: name for num, name, _text in _TABLE}
_BY_NAME = {name: num for num, name, _text in _TABLE}
globals().update(_BY_NAME)          # errnos.ENOENT == 2, errnos.EBUSY == 16, ...

# Linux names that NetBSD spells differently.
_HOST_ALIASES = {"EWOULDBLOCK": "EAGAIN", "EDEADLOCK": "EDEADLK", "ENOTSUP": "EOPNOTSUPP"}


def strerror(num):
    """NetBSD's text for a NetBSD errno number."""
    return _TEXT.get(num, "Unknown error: %d" % num)


def name(num):
    return _NAME.get(num, "E%d" % num)


def from_host(host_errno):
    """Map a host (Linux) errno number to NetBSD's number (EIO if NetBSD has none)."""
    hname = _host.errorcode.get(host_errno)
    if hname is None:
        return _BY_NAME["EIO"]
    hname = _HOST_ALIASES.get(hname, hname)
    return _BY_NAME.get(hname, _BY_NAME["EIO"])


def to_host(num):
    """Map a NetBSD errno number to the host's number, for raising OSError on Linux."""
    nname = _NAME.get(num)
    if nname is None:
        return _host.EIO
    return getattr(_host, nname, _host.EIO)


class RumpError(OSError):
    """A system call failed inside the rump kernel; errno is NetBSD's number.

    str() and .strerror give NetBSD's text, so commands print what NetBSD prints.
    """

    def __init__(self, num, filename=None, detail=None):
        super().__init__(num, strerror(num), *(() if filename is None else (filename,)))
        self.detail = detail        # a longer diagnostic from the kernel, if any


def host_text(exc):
    """NetBSD's text for a host OSError (Linux errno), for messages like NetBSD's."""
    if isinstance(exc, RumpError):
        return exc.strerror
    if exc.errno is None:
        return str(exc)
    return strerror(from_host(exc.errno))


def numbers():
    """(number, name) of every NetBSD errno, in number order."""
    return tuple((num, nm) for num, nm, _text in _TABLE)
