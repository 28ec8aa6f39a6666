"""Disk access for commands that read and write raw disks (rump.disklabel).

A Disk wraps one open descriptor of an os-like module `sysmod`: Python's
`os` for host image files, or the object rumptools.sp.client.init() returns
for a disk inside a rump kernel.  sysmod needs open(path, flags, mode),
pread(fd, n, off), pwrite(fd, data, off), fstat(fd) (with .st_size),
fsync(fd) and close(fd); flags O_RDONLY (0) and O_RDWR (2) have the same
values on NetBSD and Linux.  Errors are OSError (RumpError for rump disks).

Where a name leads: a name that exists on the host is a host file;
otherwise, with RUMP_SERVER set, it names a disk in the rump kernel (a bare
`cgd0` is /dev/rcgd0, falling back to the raw partition /dev/rcgd0d);
otherwise it does not exist (ENOENT).
"""
import errno
import os

O_RDONLY = 0
O_RDWR = 2
RAW_PARTITION_LETTER = "d"          # RAW_PART 3 on x86
SYSCALLS = ("open", "pread", "pwrite", "fstat", "fsync", "close")


class DiskError(Exception):
    """Setting up disk access failed; the message is ready to print."""


SECTOR = 512


class Disk:
    def __init__(self, sysmod, path, writable=False):
        self.sys = sysmod
        self.path = path
        self.fd = sysmod.open(path, O_RDWR if writable else O_RDONLY, 0)

    def size(self):
        return self.sys.fstat(self.fd).st_size

    def _read_raw(self, offset, length):
        chunks = []
        while length > 0:
            data = self.sys.pread(self.fd, length, offset)
            if not data:
                break
            chunks.append(bytes(data))
            offset += len(data)
            length -= len(data)
        return b"".join(chunks)

    def read(self, offset, length):
        """Up to length bytes at offset (fewer only at the end of the disk).

        Raw disk devices take whole sectors only, so every transfer is
        widened to sector boundaries and trimmed here.
        """
        start = offset - offset % SECTOR
        end = -(-(offset + length) // SECTOR) * SECTOR
        data = self._read_raw(start, end - start)
        return data[offset - start:offset - start + length]

    def write(self, offset, data):
        start = offset - offset % SECTOR
        end = -(-(offset + len(data)) // SECTOR) * SECTOR
        if start != offset or end != offset + len(data):
            buf = bytearray(self._read_raw(start, end - start).ljust(end - start, b"\0"))
            buf[offset - start:offset - start + len(data)] = data
            data, offset = bytes(buf), start
        view = memoryview(data)
        while view:
            done = self.sys.pwrite(self.fd, bytes(view), offset)
            if done <= 0:
                raise OSError(errno.EIO, os.strerror(errno.EIO), self.path)
            offset += done
            view = view[done:]

    def sync(self):
        self.sys.fsync(self.fd)

    def close(self):
        if self.fd is not None:
            fd, self.fd = self.fd, None
            self.sys.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _rump_sysmod(progname):
    import importlib
    try:
        client = importlib.import_module("rumptools.sp.client")
    except ImportError as e:
        raise DiskError("rump client support is not available (%s)" % e) from None
    from rumptools.abi.errnos import host_text
    try:
        sysmod = client.init(progname)
    except OSError as e:
        raise DiskError("prog init failed: %s" % host_text(e)) from None
    missing = [n for n in SYSCALLS if not hasattr(sysmod, n)]
    if missing:
        raise DiskError("the rump client has no %s system call" % ", ".join(missing))
    return sysmod


def open_disk(name, progname, writable=False, environ=None):
    """Open the disk `name` as described above; returns a Disk.

    Raises OSError (with the name as filename) when it cannot be opened and
    DiskError when the rump kernel cannot be reached.
    """
    environ = os.environ if environ is None else environ
    if os.path.lexists(name):
        return Disk(os, name, writable)
    if not environ.get("RUMP_SERVER"):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)
    sysmod = _rump_sysmod(progname)
    if "/" in name:
        return Disk(sysmod, name, writable)
    try:
        return Disk(sysmod, "/dev/r" + name, writable)
    except OSError as e:
        if e.errno != errno.ENOENT:      # 2 on NetBSD and Linux alike
            raise
    return Disk(sysmod, "/dev/r%s%s" % (name, RAW_PARTITION_LETTER), writable)
