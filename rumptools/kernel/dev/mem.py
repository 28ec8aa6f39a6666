"""The memory devices /dev/null and /dev/zero (major 2, minors 2 and 12, as on NetBSD)."""
from ...abi import errnos
from ...abi.errnos import RumpError

MEM_MAJOR = 2
MINOR_NULL, MINOR_ZERO = 2, 12


class MemDriver:
    name = "mem"

    def open(self, minor, flags, raw):
        if minor not in (MINOR_NULL, MINOR_ZERO):
            raise RumpError(errnos.ENXIO)

    def close(self, minor, flags, raw):
        pass

    def read(self, minor, offset, n, raw):
        return b"" if minor == MINOR_NULL else bytes(n)

    def write(self, minor, offset, data, raw):
        return len(data)

    def ioctl(self, minor, cmd, arg, raw):
        raise RumpError(errnos.ENOTTY)

    def fsync(self, minor):
        pass

    def size(self, minor):
        return 0
