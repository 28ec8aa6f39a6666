"""Host files behind -d: open, positional I/O, sync, size. The kernel's only way to them.

Errors come back as RumpError with NetBSD's errno, so kernel code never
sees a host OSError.
"""
import errno
import os
import stat

from ...abi.errnos import RumpError, from_host


def _wrap(exc):
    return RumpError(from_host(exc.errno or 5))


class HostFile:
    def __init__(self, path, create):
        flags = os.O_RDWR | (os.O_CREAT if create else 0) | getattr(os, "O_CLOEXEC", 0)
        self.readonly = False
        try:
            self.fd = os.open(path, flags, 0o644)
        except (PermissionError, OSError) as e:
            if e.errno not in (errno.EACCES, errno.EROFS, errno.EPERM):
                raise _wrap(e) from None
            try:                         # a read-only image can still be read
                self.fd = os.open(path, (flags & ~os.O_RDWR & ~os.O_CREAT) | os.O_RDONLY)
            except OSError as e2:
                raise _wrap(e2) from None
            self.readonly = True
        self.path = path
        st = os.fstat(self.fd)
        self.regular = stat.S_ISREG(st.st_mode)

    def size(self):
        try:
            st = os.fstat(self.fd)
            if self.regular:
                return st.st_size
            with open(self.fd, "rb", closefd=False) as f:
                return f.seek(0, os.SEEK_END)
        except OSError as e:
            raise _wrap(e) from None

    def pread(self, n, offset):
        try:
            return os.pread(self.fd, n, offset)
        except OSError as e:
            raise _wrap(e) from None

    def pwrite(self, data, offset):
        if self.readonly:
            raise RumpError(from_host(errno.EROFS))
        try:
            done = os.pwrite(self.fd, data, offset)
            while done < len(data):          # short writes: keep going
                more = os.pwrite(self.fd, memoryview(data)[done:], offset + done)
                if more <= 0:
                    break
                done += more
            return done
        except OSError as e:
            raise _wrap(e) from None

    def truncate(self, size):
        try:
            os.ftruncate(self.fd, size)
        except OSError as e:
            raise _wrap(e) from None

    def fsync(self):
        try:
            os.fsync(self.fd)
        except OSError as e:
            raise _wrap(e) from None

    def close(self):
        try:
            os.close(self.fd)
        except OSError:
            pass
