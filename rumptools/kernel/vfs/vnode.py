"""Vnodes: the kernel's handle on a file of any file system.

A Vnode subclass implements the operations its file system supports;
the base class answers the rest with the errno a kernel would give.
Directory operations take names (one component, no '/'); path walking is
namei's job. Kernel lock held throughout.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from ...abi.poll import SELTRUE
from ..kern import stat as st

VNON, VREG, VDIR, VBLK, VCHR, VLNK, VSOCK, VFIFO = range(8)
IFMT = {VREG: st.S_IFREG, VDIR: st.S_IFDIR, VBLK: st.S_IFBLK, VCHR: st.S_IFCHR,
        VLNK: st.S_IFLNK, VSOCK: st.S_IFSOCK, VFIFO: st.S_IFIFO}
VTYPE_OF_IFMT = {v: k for k, v in IFMT.items()}
DT = {VREG: 8, VDIR: 4, VBLK: 6, VCHR: 2, VLNK: 10, VSOCK: 12, VFIFO: 1}   # d_type values
NAME_MAX = 511
PATH_MAX = 1024


def makedev(major, minor):
    return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12)


def major(dev):
    return (dev >> 8) & 0xfff


def minor(dev):
    return (dev & 0xff) | ((dev >> 12) & ~0xff)


class Vnode:
    vtype = VNON

    def __init__(self, mount, ino, mode=0o644, uid=0, gid=0, now_ns=0, rdev=0):
        self.mount = mount
        self.ino = ino
        self.mode = mode & 0o7777
        self.uid, self.gid = uid, gid
        self.nlink = 1
        self.atime = self.mtime = self.ctime = self.birthtime = now_ns
        self.rdev = rdev
        self.mounted_here = None     # a Mount covering this directory
        self.opencount = 0

    # -- attributes ---------------------------------------------------------
    @property
    def size(self):
        return 0

    def stat(self):
        size = self.size
        return st.make_stat(mode=IFMT.get(self.vtype, 0) | self.mode, ino=self.ino,
                            dev=self.mount.fsid if self.mount else 0, nlink=self.nlink,
                            uid=self.uid, gid=self.gid, rdev=self.rdev, size=size,
                            blksize=self.mount.iosize if self.mount else 4096,
                            atime_ns=self.atime, mtime_ns=self.mtime, ctime_ns=self.ctime,
                            birthtime_ns=self.birthtime)

    def touch(self, now, a=False, m=False, c=False):
        if a:
            self.atime = now
        if m:
            self.mtime = now
        if c or m:
            self.ctime = now

    # -- data ----------------------------------------------------------------
    def read(self, offset, n):
        if self.vtype == VDIR:
            raise RumpError(errnos.EISDIR)
        raise RumpError(errnos.EOPNOTSUPP)

    def write(self, offset, data):
        if self.vtype == VDIR:
            raise RumpError(errnos.EISDIR)
        raise RumpError(errnos.EOPNOTSUPP)

    def poll(self, events):
        """VOP_POLL: plain files and directories are always ready (genfs_poll)."""
        return events & SELTRUE

    def truncate(self, size):
        if self.vtype == VDIR:
            raise RumpError(errnos.EISDIR)
        raise RumpError(errnos.EINVAL)

    def fsync(self):
        return None

    def open(self, flags):
        """Called on every open; devices check exclusivity here."""

    def close(self, flags):
        """Called on the last close of one open."""

    def ioctl(self, cmd, arg):
        raise RumpError(errnos.ENOTTY)

    def readlink(self):
        raise RumpError(errnos.EINVAL)

    # -- directories ---------------------------------------------------------
    def lookup(self, name):
        raise RumpError(errnos.ENOTDIR)

    def create(self, name, vtype, mode, rdev=0, target=None):
        raise RumpError(errnos.ENOTDIR)

    def link(self, name, vp):
        raise RumpError(errnos.ENOTDIR)

    def remove(self, name, want_dir):
        raise RumpError(errnos.ENOTDIR)

    def rename(self, name, newdir, newname):
        raise RumpError(errnos.ENOTDIR)

    def readdir(self, cookie):
        """Entries after cookie: list of (cookie, ino, dtype, name)."""
        raise RumpError(errnos.ENOTDIR)

    def parent(self):
        raise RumpError(errnos.ENOTDIR)

    def name_of(self, child):
        """The name under which child is found in this directory (getcwd)."""
        raise RumpError(errnos.ENOENT)
