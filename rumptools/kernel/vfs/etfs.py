"""etfs: host files mapped into the rump namespace by rump_server -d.

A key is matched on its whole path (and is not listed by readdir). type=blk
keys are block devices cached in the buffer cache, type=chr raw devices
(sector-aligned I/O), type=reg plain files read and written straight through.
Errors carry `stage`, the step rump_server names when it reports them.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from ..dev.disk import block_read, block_write, raw_read, raw_write
from ..kern.biglock import unlocked
from ..dev.hostdisk import HostDisk
from ..rumpuser.hostfile import HostFile
from .vnode import VBLK, VCHR, VREG, Vnode

LABEL_SCAN = 64 * 1024


def _fail(stage, err):
    e = RumpError(err)
    e.stage = stage
    return e


class EtfsVnode(Vnode):
    def __init__(self, kernel, vtype, key):
        root_mount = kernel.slot("vfs").root_mount
        super().__init__(root_mount, next(root_mount.next_ino), 0o640,
                         now_ns=int(kernel.host.wall_time() * 1e9))
        self.kernel = kernel
        self.vtype = vtype
        self.key = key


class EtfsDevice(EtfsVnode):
    """A host-file disk seen as /dk: block (cached) or character (raw)."""

    def __init__(self, kernel, vtype, key, disk):
        super().__init__(kernel, vtype, key)
        self.disk = disk
        self.rdev = 0

    @property
    def size(self):
        return 0

    def devsize(self):
        return self.disk.size

    def open(self, flags):
        self.disk.open_check()
        self.disk.opens += 1

    def close(self, flags):
        self.disk.opens -= 1

    def read(self, offset, n):
        if self.vtype == VCHR:
            return raw_read(self.disk, self.kernel.slot("bufcache"), offset, n, self._unlocked)
        return block_read(self.disk, self.kernel.slot("bufcache"), offset, n)

    def write(self, offset, data):
        if self.vtype == VCHR:
            return raw_write(self.disk, self.kernel.slot("bufcache"), offset, data, self._unlocked)
        return block_write(self.disk, self.kernel.slot("bufcache"), offset, data)

    def _unlocked(self):
        # host files behind -d are never closed while the kernel runs: safe unlocked
        return unlocked(self.kernel.lock)

    def truncate(self, size):
        return None

    def fsync(self):
        self.kernel.slot("bufcache").flush(self.disk)


class EtfsRegular(EtfsVnode):
    """type=reg: a host file (window) as a regular file, uncached."""

    def __init__(self, kernel, key, hostfile, offset, size):
        super().__init__(kernel, VREG, key)
        self.hostfile, self.offset, self.limit = hostfile, offset, size

    @property
    def size(self):
        if self.limit is not None:
            return self.limit
        return max(0, self.hostfile.size() - self.offset)

    def read(self, offset, n):
        n = max(0, min(n, self.size - offset))
        if not n:
            return b""
        with unlocked(self.kernel.lock):        # blocking host I/O: others go on
            return self.hostfile.pread(n, self.offset + offset)

    def write(self, offset, data):
        if self.limit is not None:
            room = self.limit - offset
            if room <= 0 and data:
                raise RumpError(errnos.EFBIG)
            data = data[:room]
        with unlocked(self.kernel.lock):
            return self.hostfile.pwrite(data, self.offset + offset)

    def truncate(self, size):
        if self.limit is None:
            self.hostfile.truncate(self.offset + size)

    def fsync(self):
        with unlocked(self.kernel.lock):
            self.hostfile.fsync()


def _label_window(hostfile, part):
    from ...formats.disklabel import find_label
    try:
        head = hostfile.pread(LABEL_SCAN, 0)
    except RumpError as e:
        raise _fail("could not read disk device", e.errno) from None
    found = find_label(head)
    if found is None:
        raise _fail("disklabel not found", errnos.ENOENT)
    label = found[1]
    idx = ord(part) - ord("a")
    if idx >= label.npartitions:
        raise _fail("partition not available", errnos.ENOENT)
    p = label.partitions[idx]
    secsize = label.secsize or 512
    return p.offset * secsize, p.size * secsize


def register(kernel, spec):
    """Map spec.hostpath at spec.key (rump_server -d)."""
    vfs = kernel.slot("vfs")
    key = "/" + spec.key.lstrip("/")
    if key in vfs.etfs:
        raise _fail("etfs register", errnos.EEXIST)
    try:
        hostfile = HostFile(spec.hostpath, create=spec.size != "host")
    except RumpError as e:
        raise _fail("etfs hostpath open", e.errno) from None
    try:
        offset, size = spec.offset, spec.size
        if spec.part is not None:
            offset, size = _label_window(hostfile, spec.part)
        elif size == "host":
            size = hostfile.size()
            if size == 0:
                raise _fail("size=host, but cannot query non-zero size", errnos.EINVAL)
        if size is not None and hostfile.regular and hostfile.size() < offset + size:
            try:
                hostfile.truncate(offset + size)
            except RumpError as e:
                raise _fail("truncate", e.errno) from None
        if spec.type == "reg":
            vp = EtfsRegular(kernel, key, hostfile, offset, size)
        else:
            if size is None or size < 512:
                raise _fail("etfs register", errnos.EINVAL)
            disk = HostDisk(key, hostfile, offset, size - size % 512)
            vp = EtfsDevice(kernel, VBLK if spec.type == "blk" else VCHR, key, disk)
        vfs.etfs[key] = vp
        return vp
    except BaseException:
        hostfile.close()
        raise
