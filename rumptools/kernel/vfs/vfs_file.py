"""Open vnodes as Files: the offset, the open flags, and the vnode operations behind them.

For a directory the offset is a readdir cookie. A descriptor opened (or set
with F_SETFL) O_SYNC or O_DSYNC writes through: each write is followed by
the vnode's fsync, so what the call acknowledged is on the host when it
returns (buffer cache written back, host file fsync'd). Kernel lock held.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from ...abi.syscalls import O_APPEND, O_DSYNC, O_SYNC, SEEK_CUR, SEEK_END, SEEK_SET
from ..kern.files import File
from .specfs import is_device
from .sysutil import writable
from .vnode import VDIR, VREG


def stat_of(vp):
    """The vnode's stat tuple; a device node's size is its device's."""
    s = vp.stat()
    if is_device(vp):
        s = s[:7] + (vp.devsize(),) + s[8:]
    return s


class VnodeFile(File):
    kind = "vnode"

    def __init__(self, kernel, vp, flags):
        super().__init__(kernel, flags)
        self.vp = vp
        vp.opencount += 1

    def read(self, n, offset=None):
        vp = self.vp
        if vp.vtype == VDIR:
            raise RumpError(errnos.EISDIR)
        pos = self.offset if offset is None else offset
        if pos < 0:
            raise RumpError(errnos.EINVAL)
        data = vp.read(pos, n)
        if offset is None:
            self.offset = pos + len(data)
        return data

    def write(self, data, offset=None):
        vp = self.vp
        if vp.vtype == VDIR:
            raise RumpError(errnos.EISDIR)
        writable(vp)
        if self.flags & O_APPEND and vp.vtype == VREG:
            pos = vp.size            # IO_APPEND: pwrite appends too, as on NetBSD
        else:
            pos = self.offset if offset is None else offset
        if pos < 0:
            raise RumpError(errnos.EINVAL)
        n = vp.write(pos, data)
        if offset is None:
            self.offset = pos + n
        if n and self.flags & (O_SYNC | O_DSYNC):
            vp.fsync()
        return n

    def seek(self, offset, whence):
        vp = self.vp
        if whence == SEEK_SET:
            new = offset
        elif whence == SEEK_CUR:
            new = self.offset + offset
        elif whence == SEEK_END:
            size = vp.devsize() if is_device(vp) else vp.size
            new = size + offset
        else:
            raise RumpError(errnos.EINVAL)
        if new < 0:
            raise RumpError(errnos.EINVAL)
        self.offset = new
        return new

    def stat(self):
        return stat_of(self.vp)

    def poll(self, events):
        """VOP_POLL: files and directories are always ready (genfs_poll);
        a character device asks its driver (spec_poll)."""
        return self.vp.poll(events)

    def fsync(self):
        self.vp.fsync()

    def ioctl(self, cmd, arg):
        return self.vp.ioctl(cmd, arg)

    def readdir(self, limit):
        vp = self.vp
        if vp.vtype != VDIR:
            raise RumpError(errnos.ENOTDIR)
        entries = vp.readdir(self.offset)[:limit]
        if entries:
            self.offset = entries[-1][0]
        return entries

    def release(self):
        vp = self.vp
        vp.opencount -= 1
        vp.close(self.flags)
