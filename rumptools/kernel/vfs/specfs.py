"""Device special files: a vnode whose data operations go to a driver in the device switch.

The switch (kernel.devsw) maps a major number to a driver object with
open/close/read/write/ioctl/fsync/size taking (minor, ..., raw); raw is True
for character (raw) nodes and False for block nodes. A driver may also have
poll(minor, events) (d_poll, with selrecord/selnotify as in selinfo.py);
without one a character device is always ready (NetBSD's seltrue), and
block devices are always ready (genfs_poll). A cloning driver's open
returns a File, which the descriptor then points at instead of the vnode.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from ...abi.poll import SELTRUE
from .vnode import VBLK, VCHR, major, minor


def driver_for(kernel, rdev):
    drv = kernel.devsw.get(major(rdev))
    if drv is None:
        raise RumpError(errnos.ENXIO)
    return drv


class SpecOps:
    """Mixed into a file system's device vnode class."""

    def _drv(self):
        return driver_for(self.kernel, self.rdev)

    @property
    def raw(self):
        return self.vtype == VCHR

    def open(self, flags):
        """A cloning driver (bpf) returns a File of its own for each open (NetBSD's fd_clone)."""
        return self._drv().open(minor(self.rdev), flags, self.raw)

    def close(self, flags):
        drv = self.kernel.devsw.get(major(self.rdev))
        if drv is not None:
            drv.close(minor(self.rdev), flags, self.raw)

    def read(self, offset, n):
        return self._drv().read(minor(self.rdev), offset, n, self.raw)

    def write(self, offset, data):
        return self._drv().write(minor(self.rdev), offset, data, self.raw)

    def ioctl(self, cmd, arg):
        return self._drv().ioctl(minor(self.rdev), cmd, arg, self.raw)

    def fsync(self):
        self._drv().fsync(minor(self.rdev))

    def poll(self, events):
        if self.vtype == VCHR:
            drv = self._drv()
            poll = getattr(drv, "poll", None)
            if poll is not None:
                return poll(minor(self.rdev), events)
        return events & SELTRUE

    def truncate(self, size):
        return None          # O_TRUNC on a device does nothing

    def devsize(self):
        try:
            return self._drv().size(minor(self.rdev))
        except RumpError:
            return 0


def is_device(vp):
    return vp.vtype in (VBLK, VCHR)
