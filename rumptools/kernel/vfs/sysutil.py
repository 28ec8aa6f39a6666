"""Helpers shared by the file system calls: where a path starts, which vnode a
descriptor holds, read-only checks, the clock, the flags NetBSD keeps."""
from ...abi import errnos
from ...abi.errnos import RumpError
from ...abi.syscalls import (AT_FDCWD, O_ACCMODE, O_ALT_IO, O_APPEND, O_ASYNC, O_DIRECT, O_DSYNC,
                             O_NONBLOCK, O_RSYNC, O_SYNC)
from .specfs import is_device
from .vnode import VDIR

UTIME_NOW, UTIME_OMIT = -1, -2
S_ISUID, S_ISGID, S_ISTXT = 0o4000, 0o2000, 0o1000
ALLPERMS, ACCESSPERMS = 0o7777, 0o777
# open(2) flags a descriptor keeps (NetBSD's FMASK): access mode, O_NONBLOCK,
# O_APPEND, O_ASYNC, O_SYNC, O_DSYNC, O_RSYNC, O_ALT_IO, O_DIRECT.
FMASK = O_ACCMODE | O_NONBLOCK | O_APPEND | O_ASYNC | O_SYNC | O_DSYNC | O_RSYNC | O_ALT_IO | O_DIRECT


def vfs_of(lwp):
    return lwp.proc.kernel.slot("vfs")


def now_ns(lwp):
    return int(lwp.proc.kernel.host.wall_time() * 1e9)


def vnode_of(lwp, fd):
    """fd_getvnode: (file, vnode) of a descriptor; EBADF, or EINVAL if not a vnode."""
    fp = lwp.proc.files.get(fd)
    vp = getattr(fp, "vp", None)
    if vp is None:
        raise RumpError(errnos.EINVAL)
    return fp, vp


def start_dir(lwp, fd, path):
    """Starting directory of an *at call (None: cwd or root). The descriptor is
    checked even for absolute paths, as NetBSD's fd_nameiat does."""
    if fd == AT_FDCWD:
        return None
    _fp, vp = vnode_of(lwp, fd)
    if path.startswith("/"):
        return None
    if vp.vtype != VDIR:
        raise RumpError(errnos.ENOTDIR)
    return vp


def writable(vp):
    """EROFS for a file system object on a read-only mount (devices are exempt)."""
    if vp.mount is not None and vp.mount.readonly and not is_device(vp):
        raise RumpError(errnos.EROFS)


def new_name(nd, createdir=False):
    """namei(CREATE) found nd: the name must be new (EEXIST); a trailing '/'
    only names a directory to be made (ENOENT); read-only file systems refuse."""
    if nd.dvp is None or nd.vp is not None:
        raise RumpError(errnos.EEXIST)
    if nd.trailing and not createdir:
        raise RumpError(errnos.ENOENT)
    writable(nd.dvp)


def own(lwp, vp):
    vp.uid, vp.gid = lwp.proc.uid, lwp.proc.gid
    return vp
