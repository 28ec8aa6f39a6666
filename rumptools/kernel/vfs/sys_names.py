"""File system calls, part two: names, directories, the cwd, mounts.

Each call resolves its path with namei the way NetBSD's does (CREATE,
DELETE or RENAME of a last component: no link followed there unless the
path ends in '/') and checks in NetBSD's order, so that the first error a
NetBSD kernel would report is the one returned. Handlers register by their
syscall table name (kern/syscall.py); the rumpvfs component adds the set.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from ..kern.stat import S_IFMT
from ...abi.mntflags import MNT_FORCE, MNT_UPDATE
from ...abi.syscalls import AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW
from .sysutil import ACCESSPERMS, ALLPERMS, new_name, own, start_dir, vfs_of, vnode_of, writable
from .vnode import PATH_MAX, VBLK, VCHR, VDIR, VLNK, VREG, VTYPE_OF_IFMT
from ..kern.syscall import Syscalls

DEV_MASK = (1 << 64) - 1
syscalls = Syscalls()


# -- making names ---------------------------------------------------------------
def _mkdir(lwp, dirfd, path, mode):
    nd = vfs_of(lwp).namei(lwp.proc, path, False, start_dir(lwp, dirfd, path), parent=True)
    new_name(nd, createdir=True)
    own(lwp, nd.dvp.create(nd.name, VDIR, mode & ACCESSPERMS & ~lwp.proc.umask))
    return ()


@syscalls("mkdir")
def sys_mkdir(lwp, path, mode):
    return _mkdir(lwp, AT_FDCWD, path, mode)


@syscalls("mkdirat")
def sys_mkdirat(lwp, dirfd, path, mode):
    return _mkdir(lwp, dirfd, path, mode)


@syscalls("__mknod50")
def sys_mknod(lwp, path, mode, dev):
    """Device nodes and (S_IFREG) plain files; fifos and sockets are EINVAL, as on NetBSD."""
    nd = vfs_of(lwp).namei(lwp.proc, path, False, None, parent=True)
    new_name(nd)
    vtype = VTYPE_OF_IFMT.get(mode & S_IFMT)
    if vtype not in (VBLK, VCHR, VREG):
        raise RumpError(errnos.EINVAL)
    dev &= DEV_MASK                     # dev_t is unsigned 64 bits
    if dev == DEV_MASK:                 # NODEV (VNOVAL)
        raise RumpError(errnos.EINVAL)
    perm = mode & ALLPERMS & ~lwp.proc.umask
    own(lwp, nd.dvp.create(nd.name, vtype, perm, rdev=dev if vtype != VREG else 0))
    return ()


def _symlink(lwp, target, dirfd, path):
    if len(target.encode("utf-8", "surrogateescape")) >= PATH_MAX:
        raise RumpError(errnos.ENAMETOOLONG)
    nd = vfs_of(lwp).namei(lwp.proc, path, False, start_dir(lwp, dirfd, path), parent=True)
    new_name(nd)
    own(lwp, nd.dvp.create(nd.name, VLNK, ACCESSPERMS & ~lwp.proc.umask, target=target))
    return ()


@syscalls("symlink")
def sys_symlink(lwp, target, path):
    return _symlink(lwp, target, AT_FDCWD, path)


@syscalls("symlinkat")
def sys_symlinkat(lwp, target, dirfd, path):
    return _symlink(lwp, target, dirfd, path)


def _link(lwp, fd1, path1, fd2, path2, follow):
    vfs = vfs_of(lwp)
    vp = vfs.lookup(lwp.proc, path1, follow, start_dir(lwp, fd1, path1))
    nd = vfs.namei(lwp.proc, path2, False, start_dir(lwp, fd2, path2), parent=True)
    new_name(nd)
    if vp.vtype == VDIR:
        raise RumpError(errnos.EPERM)
    nd.dvp.link(nd.name, vp)
    return ()


@syscalls("link")
def sys_link(lwp, path1, path2):
    """link(2) follows a final symbolic link of path1 on NetBSD; linkat only with AT_SYMLINK_FOLLOW."""
    return _link(lwp, AT_FDCWD, path1, AT_FDCWD, path2, True)


@syscalls("linkat")
def sys_linkat(lwp, fd1, path1, fd2, path2, flags):
    return _link(lwp, fd1, path1, fd2, path2, bool(flags & AT_SYMLINK_FOLLOW))


def _readlink(lwp, dirfd, path, bufsize):
    if bufsize < 0:
        raise RumpError(errnos.EINVAL)
    vp = vfs_of(lwp).lookup(lwp.proc, path, False, start_dir(lwp, dirfd, path))
    if vp.vtype != VLNK:
        raise RumpError(errnos.EINVAL)
    raw = vp.readlink().encode("utf-8", "surrogateescape")[:bufsize]
    return (raw.decode("utf-8", "surrogateescape"),)


@syscalls("readlink")
def sys_readlink(lwp, path, bufsize):
    return _readlink(lwp, AT_FDCWD, path, bufsize)


@syscalls("readlinkat")
def sys_readlinkat(lwp, dirfd, path, bufsize):
    return _readlink(lwp, dirfd, path, bufsize)


# -- removing and moving names ------------------------------------------------------
def _is_root(vp):
    return vp.mount is not None and vp.mount.root is vp


def _remove(lwp, dirfd, path, want_dir):
    """do_sys_unlinkat: roots and mount points EBUSY, "." EINVAL, a directory
    without AT_REMOVEDIR EPERM, a non-directory with it ENOTDIR."""
    nd = vfs_of(lwp).namei(lwp.proc, path, False, start_dir(lwp, dirfd, path))
    if nd.dvp is None:
        raise RumpError(errnos.EBUSY)
    vp = nd.vp
    writable(nd.dvp)
    if _is_root(vp):
        raise RumpError(errnos.EBUSY)
    if vp is nd.dvp:
        raise RumpError(errnos.EINVAL)
    if vp.vtype == VDIR:
        if not want_dir:
            raise RumpError(errnos.EPERM)
        if nd.name == "..":
            raise RumpError(errnos.ENOTEMPTY)      # the parent holds nd.dvp
        nd.dvp.remove(nd.name, True)
    elif want_dir:
        raise RumpError(errnos.ENOTDIR)
    else:
        nd.dvp.remove(nd.name, False)
    return ()


@syscalls("unlink")
def sys_unlink(lwp, path):
    return _remove(lwp, AT_FDCWD, path, False)


@syscalls("rmdir")
def sys_rmdir(lwp, path):
    return _remove(lwp, AT_FDCWD, path, True)


@syscalls("unlinkat")
def sys_unlinkat(lwp, dirfd, path, flags):
    if flags & ~AT_REMOVEDIR:
        raise RumpError(errnos.EINVAL)
    return _remove(lwp, dirfd, path, bool(flags & AT_REMOVEDIR))


def _rename(lwp, fromfd, frompath, tofd, topath):
    """do_sys_renameat's checks; the file system does the rest (genfs order)."""
    vfs = vfs_of(lwp)
    f = vfs.namei(lwp.proc, frompath, False, start_dir(lwp, fromfd, frompath))
    if f.dvp is None:
        raise RumpError(errnos.EBUSY)
    if f.name in (".", ".."):
        raise RumpError(errnos.EINVAL)
    writable(f.dvp)
    fvp = f.vp
    t = vfs.namei(lwp.proc, topath, False, start_dir(lwp, tofd, topath), parent=True)
    if t.dvp is None:
        raise RumpError(errnos.EBUSY)
    if t.vp is None and t.trailing and fvp.vtype != VDIR:
        raise RumpError(errnos.ENOENT)
    if t.name == ".":
        raise RumpError(errnos.EISDIR)
    if t.name == "..":
        raise RumpError(errnos.EINVAL)
    if f.dvp.mount is not t.dvp.mount:
        raise RumpError(errnos.EXDEV)
    tvp = t.vp
    if tvp is not None and (fvp.vtype == VDIR) != (tvp.vtype == VDIR):
        raise RumpError(errnos.ENOTDIR if fvp.vtype == VDIR else errnos.EISDIR)
    if fvp is t.dvp:
        raise RumpError(errnos.EINVAL)
    f.dvp.rename(f.name, t.dvp, t.name)
    return ()


@syscalls("rename")
def sys_rename(lwp, frompath, topath):
    return _rename(lwp, AT_FDCWD, frompath, AT_FDCWD, topath)


@syscalls("renameat")
def sys_renameat(lwp, fromfd, frompath, tofd, topath):
    return _rename(lwp, fromfd, frompath, tofd, topath)


# -- directories and cwd ------------------------------------------------------------
@syscalls("__getdents30")
def sys_getdents(lwp, fd, count):
    """Entries (cookie, ino, type, name) after the descriptor's offset, about count/16 of them."""
    fp, vp = vnode_of(lwp, fd)
    if not fp.readable():
        raise RumpError(errnos.EBADF)
    if vp.vtype != VDIR or count < 16:
        raise RumpError(errnos.EINVAL)
    return (tuple(fp.readdir(count // 16)),)


@syscalls("chdir")
def sys_chdir(lwp, path):
    vp = vfs_of(lwp).lookup(lwp.proc, path)
    if vp.vtype != VDIR:
        raise RumpError(errnos.ENOTDIR)
    lwp.proc.cwd = vp
    return ()


@syscalls("fchdir")
def sys_fchdir(lwp, fd):
    _fp, vp = vnode_of(lwp, fd)
    if vp.vtype != VDIR:
        raise RumpError(errnos.ENOTDIR)
    lwp.proc.cwd = vp
    return ()


@syscalls("__getcwd")
def sys_getcwd(lwp):
    vfs = vfs_of(lwp)
    return (vfs.path_of(lwp.proc.cwd or vfs.root),)


# -- mounts ---------------------------------------------------------------------
@syscalls("statvfs1")
def sys_statvfs(lwp, path, flags):
    return (vfs_of(lwp).lookup(lwp.proc, path).mount.statvfs(),)


@syscalls("fstatvfs1")
def sys_fstatvfs(lwp, fd, flags):
    return (vnode_of(lwp, fd)[1].mount.statvfs(),)


@syscalls("sync")
def sys_sync(lwp):
    lwp.proc.kernel.sync()
    return ()


@syscalls("__mount50")
def sys_mount(lwp, fstype, path, flags, data):
    """Mount a new file system of fstype on the directory path names (over a
    mount already there, the new one is stacked on its root)."""
    kernel = lwp.proc.kernel
    vfs = vfs_of(lwp)
    factory = vfs.fstypes.get(fstype)
    if factory is None:
        raise RumpError(errnos.ENODEV)
    vp = vfs.lookup(lwp.proc, path)
    if flags & MNT_UPDATE:
        mnt = vfs.mounts.find_root(vp)
        if mnt is None or mnt.fstype != fstype:
            raise RumpError(errnos.EINVAL)
        mnt.update(flags)
        return ()
    if vp.vtype != VDIR:
        raise RumpError(errnos.ENOTDIR)
    if vp is vfs.root or vp.mounted_here is not None:
        raise RumpError(errnos.EBUSY)
    mnt = factory(kernel, data if type(data) is str else "", flags, data)
    mnt.covered = vp
    mnt.path = vfs.path_of(vp)
    vp.mounted_here = mnt
    vfs.mounts.add(mnt)
    return ()


def _in_use(kernel, mnt):
    for proc in kernel.procs.procs.values():
        if proc.cwd is not None and proc.cwd.mount is mnt:
            return True
        for fp, _ce in proc.files.slots.values():
            if getattr(fp, "vp", None) is not None and fp.vp.mount is mnt:
                return True
    return False


@syscalls("unmount")
def sys_unmount(lwp, path, flags):
    """EINVAL unless path is a mount's root; EBUSY while something is mounted
    inside it or (without MNT_FORCE) a cwd or an open file is in it."""
    vfs = vfs_of(lwp)
    vp = vfs.lookup(lwp.proc, path)
    mnt = vfs.mounts.find_root(vp)
    if mnt is None or mnt.covered is None:
        raise RumpError(errnos.EINVAL)
    if vfs.mounts.busy(mnt):
        raise RumpError(errnos.EBUSY)
    if not flags & MNT_FORCE and _in_use(lwp.proc.kernel, mnt):
        raise RumpError(errnos.EBUSY)
    vfs.mounts.unmount(mnt, bool(flags & MNT_FORCE))
    return ()
