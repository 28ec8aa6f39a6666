"""Open files and descriptor tables.

A File is whatever a descriptor points at (vnode, pipe, socket, device),
with uniform operations; subclasses override what they support. Files are
reference counted: dup, fork and descriptor passing share one File, and the
last close releases it. Kernel lock held throughout.
"""
from ...abi import errnos
from ...abi.errnos import RumpError

FMASK_RW = 3
NDFILE_MAX = 1024


class File:
    """Base open file. flags are the open(2) flags (O_ACCMODE, O_NONBLOCK, O_APPEND)."""

    kind = "file"

    def __init__(self, kernel, flags):
        self.kernel = kernel
        self.flags = flags
        self.refs = 0
        self.offset = 0
        kernel.nfiles += 1

    def readable(self):
        return (self.flags & FMASK_RW) in (0, 2)

    def writable(self):
        return (self.flags & FMASK_RW) in (1, 2)

    def read(self, n, offset=None):
        raise RumpError(errnos.EOPNOTSUPP)

    def write(self, data, offset=None):
        raise RumpError(errnos.EOPNOTSUPP)

    def seek(self, offset, whence):
        raise RumpError(errnos.ESPIPE)

    def ioctl(self, cmd, arg):
        raise RumpError(errnos.ENOTTY)

    def stat(self):
        raise RumpError(errnos.EOPNOTSUPP)

    def poll(self, events):
        """The events of `events` ready now (POLL* bits, plus POLLHUP/POLLERR
        unasked). For what is not ready, record the object's SelInfo with
        selinfo.selrecord(curlwp(), sip) and selnotify it when that changes."""
        return 0

    def fsync(self):
        return None

    def release(self):
        """Called once, when the last reference goes away."""

    def hold(self):
        self.refs += 1
        return self

    def drop(self):
        self.refs -= 1
        if self.refs == 0:
            self.kernel.nfiles -= 1
            self.release()


class FileTable:
    """A process's descriptors: fd -> [File, close-on-exec]."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.slots = {}

    def get(self, fd):
        slot = self.slots.get(fd) if type(fd) is int else None
        if slot is None:
            raise RumpError(errnos.EBADF)
        return slot[0]

    def alloc(self, fp, cloexec=False, minfd=0):
        fd = minfd
        while fd in self.slots:
            fd += 1
        if fd >= NDFILE_MAX:
            raise RumpError(errnos.EMFILE)
        self.slots[fd] = [fp.hold(), cloexec]
        return fd

    def install(self, fd, fp, cloexec=False):
        """Put fp at fd, closing what was there (dup2)."""
        if not 0 <= fd < NDFILE_MAX:
            raise RumpError(errnos.EBADF)
        old = self.slots.get(fd)
        self.slots[fd] = [fp.hold(), cloexec]
        if old is not None:
            old[0].drop()

    def close(self, fd):
        slot = self.slots.pop(fd, None) if type(fd) is int else None
        if slot is None:
            raise RumpError(errnos.EBADF)
        slot[0].drop()

    def cloexec(self, fd):
        self.get(fd)
        return self.slots[fd][1]

    def set_cloexec(self, fd, on):
        self.get(fd)
        self.slots[fd][1] = bool(on)

    def copy(self):
        t = FileTable(self.kernel)
        for fd, (fp, ce) in self.slots.items():
            t.slots[fd] = [fp.hold(), ce]
        return t

    def exec_close(self):
        for fd in [fd for fd, slot in self.slots.items() if slot[1]]:
            self.close(fd)

    def close_all(self):
        for fd in list(self.slots):
            self.close(fd)

    def __len__(self):
        return len(self.slots)
