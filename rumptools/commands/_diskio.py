"""Disk access for commands that read and write raw disks (rump.disklabel).

A Disk wraps one open descriptor of an os-like module `sysmod`: Python's
`os` for host image files, or the object rumptools.sp.client.init() returns
for a disk inside a rump kernel.  sysmod needs open(path, flags, mode),
pread(fd, n, off), pwrite(fd, data, off), fstat(fd) (with .st_size),
fsync(fd) and close(fd); flags O_RDONLY (0) and O_RDWR (2) have the same
values on NetBSD and Linux.  Errors are OSError (RumpError for rump disks).

Where a name leads: a name that exists on the host is a host file;
otherwise, with RUMP_SERVER set, it names a disk in the rump kernel, found
as NetBSD's opendisk(3) finds one (disk_paths: a bare `wd0` is /dev/rwd0,
falling back to the raw partition /dev/rwd0d); otherwise it does not exist
(ENOENT). rump.cgdconfig opens its cgd devices through the same opendisk().
"""
import errno
import os
import re

from ..abi.syscalls import O_RDONLY, O_RDWR
from ..formats.disklabel import RAW_PART

RAW_PARTITION_LETTER = chr(ord("a") + RAW_PART)     # 'd' on x86
_RAW_CGD = re.compile(r"^rcgd\d+[a-g]?$")
SYSCALLS = ("open", "pread", "pwrite", "fstat", "fsync", "close")


class DiskError(Exception):
    """Setting up disk access failed; the message is ready to print."""


class OpenError(Exception):
    """opendisk() found nothing: .path is the last path tried, .exc its error."""

    def __init__(self, path, exc):
        super().__init__(path)
        self.path = path
        self.exc = exc


def disk_paths(name):
    """The kernel paths opendisk(3) tries for a disk named on a command line.

    A name with a '/' is taken as is; any other is /dev/r<name>, then its raw
    partition /dev/r<name>d. rump.cgdconfig also takes a raw cgd name
    (rcgd1a, rcgd0) for /dev/rcgd1a, /dev/rcgd0 then /dev/rcgd0d."""
    if "/" in name:
        return [name]
    if _RAW_CGD.match(name):
        name = name[1:]
        if name[-1] in "abcdefg":
            return ["/dev/r" + name]
    return ["/dev/r" + name, "/dev/r%s%s" % (name, RAW_PARTITION_LETTER)]


def opendisk(open_path, name):
    """(open_path(path), path) for the first of disk_paths(name) that exists.

    Only ENOENT moves on to the next path; OpenError names the last path tried."""
    last = None
    for path in disk_paths(name):
        try:
            return open_path(path), path
        except OSError as e:
            last = OpenError(path, e)
            if e.errno != errno.ENOENT:      # 2 on NetBSD and Linux alike
                break
    raise last


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
    try:
        return opendisk(lambda path: Disk(sysmod, path, writable), name)[0]
    except OpenError as e:
        raise e.exc from None
