"""File system calls, part one: open, data transfer, attributes.

POSIX semantics with NetBSD's errno values and choices where the two part
(O_NOFOLLOW on a link is EFTYPE, O_TRUNC truncates even read-only opens,
chown clears set-id bits). Every client is root, so access checks reduce to
what exists and what is read-only. Names, directories and mounts are in
sys_names. Handlers register by name (kern/syscall.py); the rumpvfs
component adds both sets.
"""
from ...abi import errnos
from ...abi import syscalls as sc
from ...abi.errnos import RumpError
from ..kern.files import NDFILE_MAX, File
from ...abi.syscalls import AT_FDCWD, AT_SYMLINK_NOFOLLOW
from ...abi.syscalls import MAX_IO, O_ACCMODE
from .sysutil import (ALLPERMS, FMASK,
                      S_ISGID, S_ISTXT, S_ISUID, UTIME_NOW, UTIME_OMIT, new_name, now_ns, own,
                      start_dir, vfs_of, vnode_of, writable)
from .vfs_file import VnodeFile, stat_of
from .vnode import VDIR, VFIFO, VLNK, VREG, VSOCK
from ..kern.syscall import Syscalls

syscalls = Syscalls()


# -- open ---------------------------------------------------------------------
def do_open(lwp, dirfd, path, flags, mode):
    """vn_open: O_CREAT follows a final link (creating its target) unless
    O_EXCL or O_NOFOLLOW; an existing link that is not followed is EFTYPE."""
    proc = lwp.proc
    vfs = vfs_of(lwp)
    acc = flags & O_ACCMODE
    if acc == 3:
        raise RumpError(errnos.EINVAL)
    if len(proc.files) >= NDFILE_MAX:
        raise RumpError(errnos.EMFILE)
    start = start_dir(lwp, dirfd, path)
    created = False
    if flags & sc.O_CREAT:
        follow = not flags & (sc.O_EXCL | sc.O_NOFOLLOW)
        nd = vfs.namei(proc, path, follow, start, parent=True)
        vp = nd.vp
        if vp is None:
            new_name(nd)
            cmode = mode & ALLPERMS & ~proc.umask & ~S_ISTXT
            vp = own(lwp, nd.dvp.create(nd.name, VREG, cmode))
            created = True
        elif nd.dvp is None or flags & sc.O_EXCL:
            raise RumpError(errnos.EEXIST)
    else:
        vp = vfs.lookup(proc, path, not flags & sc.O_NOFOLLOW, start)
    if vp.vtype == VSOCK:
        raise RumpError(errnos.EOPNOTSUPP)
    if vp.vtype == VLNK:
        raise RumpError(errnos.EFTYPE)
    if flags & sc.O_DIRECTORY and vp.vtype != VDIR:
        raise RumpError(errnos.ENOTDIR)
    if not created and (acc != sc.O_RDONLY or flags & sc.O_TRUNC):
        if vp.vtype == VDIR:
            raise RumpError(errnos.EISDIR)
        writable(vp)
    if vp.vtype == VFIFO:
        raise RumpError(errnos.ENXIO)          # no fifofs
    if flags & sc.O_TRUNC and not created:
        vp.truncate(0)
    cloned = vp.open(flags)
    fp = cloned if isinstance(cloned, File) else VnodeFile(proc.kernel, vp, flags & FMASK)
    try:
        fd = proc.files.alloc(fp, bool(flags & sc.O_CLOEXEC))
    except RumpError:
        fp.hold()
        fp.drop()
        raise
    return (fd,)


@syscalls("open")
def sys_open(lwp, path, flags, mode):
    return do_open(lwp, AT_FDCWD, path, flags, mode)


@syscalls("openat")
def sys_openat(lwp, dirfd, path, flags, mode):
    return do_open(lwp, dirfd, path, flags, mode)


# -- data ---------------------------------------------------------------------
def _positional(lwp, fd, offset, want_write):
    fp = lwp.proc.files.get(fd)
    if not (fp.writable() if want_write else fp.readable()):
        raise RumpError(errnos.EBADF)
    vp = getattr(fp, "vp", None)
    if vp is None or vp.vtype == VFIFO:
        raise RumpError(errnos.ESPIPE)
    if offset < 0:
        raise RumpError(errnos.EINVAL)
    return fp


@syscalls("pread")
def sys_pread(lwp, fd, n, offset):
    fp = _positional(lwp, fd, offset, False)
    if n < 0 or n > MAX_IO:
        raise RumpError(errnos.EINVAL)
    return (fp.read(n, offset),)


@syscalls("pwrite")
def sys_pwrite(lwp, fd, data, offset):
    return (_positional(lwp, fd, offset, True).write(data, offset),)


@syscalls("readv")
def sys_readv(lwp, fd, sizes):
    fp = lwp.proc.files.get(fd)
    if not fp.readable():
        raise RumpError(errnos.EBADF)
    if type(sizes) is not tuple or not all(type(n) is int and 0 <= n for n in sizes) \
            or sum(sizes) > MAX_IO or len(sizes) > 1024:
        raise RumpError(errnos.EINVAL)
    data = fp.read(sum(sizes))
    out, pos = [], 0
    for n in sizes:
        out.append(data[pos:pos + n])
        pos += n
    return (tuple(out),)


@syscalls("writev")
def sys_writev(lwp, fd, buffers):
    fp = lwp.proc.files.get(fd)
    if not fp.writable():
        raise RumpError(errnos.EBADF)
    if type(buffers) is not tuple or not all(type(b) is bytes for b in buffers) or len(buffers) > 1024:
        raise RumpError(errnos.EINVAL)
    return (fp.write(b"".join(buffers)),)


@syscalls("lseek")
def sys_lseek(lwp, fd, offset, whence):
    return (lwp.proc.files.get(fd).seek(offset, whence),)


@syscalls("fsync")
def sys_fsync(lwp, fd):
    vnode_of(lwp, fd)[0].fsync()
    return ()


def _truncate(vp, length):
    if vp.vtype == VDIR:
        raise RumpError(errnos.EISDIR)
    if vp.vtype != VREG:
        return ()                       # devices and the like ignore a size
    writable(vp)
    vp.truncate(length)
    return ()


@syscalls("ftruncate")
def sys_ftruncate(lwp, fd, length):
    if length < 0:
        raise RumpError(errnos.EINVAL)
    fp, vp = vnode_of(lwp, fd)
    if not fp.writable():
        raise RumpError(errnos.EINVAL)
    return _truncate(vp, length)


@syscalls("truncate")
def sys_truncate(lwp, path, length):
    if length < 0:
        raise RumpError(errnos.EINVAL)
    return _truncate(vfs_of(lwp).lookup(lwp.proc, path), length)


# -- attributes -----------------------------------------------------------------
def _at(lwp, dirfd, path, flags):
    return vfs_of(lwp).lookup(lwp.proc, path, not flags & AT_SYMLINK_NOFOLLOW, start_dir(lwp, dirfd, path))


@syscalls("__stat50")
def sys_stat(lwp, path):
    return (stat_of(vfs_of(lwp).lookup(lwp.proc, path)),)


@syscalls("__lstat50")
def sys_lstat(lwp, path):
    return (stat_of(vfs_of(lwp).lookup(lwp.proc, path, follow=False)),)


@syscalls("__fstat50")
def sys_fstat(lwp, fd):
    return (lwp.proc.files.get(fd).stat(),)


@syscalls("fstatat")
def sys_fstatat(lwp, dirfd, path, flags):
    if flags & ~AT_SYMLINK_NOFOLLOW:
        raise RumpError(errnos.EINVAL)
    return (stat_of(_at(lwp, dirfd, path, flags)),)


@syscalls("access")
def sys_access(lwp, path, mode):
    return sys_faccessat(lwp, AT_FDCWD, path, mode, 0)


@syscalls("faccessat")
def sys_faccessat(lwp, dirfd, path, mode, flags):
    if mode & ~7:
        raise RumpError(errnos.EINVAL)
    vp = _at(lwp, dirfd, path, flags)
    if mode & 2:
        writable(vp)
    if mode & 1 and vp.vtype != VDIR and not vp.mode & 0o111:
        raise RumpError(errnos.EACCES)
    return (0,)


def _chmod(lwp, vp, mode):
    writable(vp)
    vp.mode = mode & ALLPERMS
    vp.touch(now_ns(lwp), c=True)
    return ()


@syscalls("chmod")
def sys_chmod(lwp, path, mode):
    return _chmod(lwp, vfs_of(lwp).lookup(lwp.proc, path), mode)


@syscalls("fchmod")
def sys_fchmod(lwp, fd, mode):
    return _chmod(lwp, vnode_of(lwp, fd)[1], mode)


@syscalls("fchmodat")
def sys_fchmodat(lwp, dirfd, path, mode, flags):
    return _chmod(lwp, _at(lwp, dirfd, path, flags), mode)


def _chown(lwp, vp, uid, gid):
    """NetBSD's chown: -1 keeps; changing the owner (group) clears set-user-id (set-group-id)."""
    writable(vp)
    if uid != -1:
        vp.uid = uid & 0xFFFFFFFF
        vp.mode &= ~S_ISUID
    if gid != -1:
        vp.gid = gid & 0xFFFFFFFF
        vp.mode &= ~S_ISGID
    vp.touch(now_ns(lwp), c=True)
    return ()


@syscalls("chown")
def sys_chown(lwp, path, uid, gid):
    return _chown(lwp, vfs_of(lwp).lookup(lwp.proc, path), uid, gid)


@syscalls("lchown")
def sys_lchown(lwp, path, uid, gid):
    return _chown(lwp, vfs_of(lwp).lookup(lwp.proc, path, follow=False), uid, gid)


@syscalls("fchown")
def sys_fchown(lwp, fd, uid, gid):
    return _chown(lwp, vnode_of(lwp, fd)[1], uid, gid)


def _utimes(lwp, vp, atime, mtime):
    """Times in ns; None or UTIME_NOW: now; UTIME_OMIT: unchanged. An older
    mtime also moves the birth time back, as NetBSD does."""
    writable(vp)
    now = now_ns(lwp)
    if atime != UTIME_OMIT:
        vp.atime = now if atime is None or atime == UTIME_NOW else atime
    if mtime != UTIME_OMIT:
        vp.mtime = now if mtime is None or mtime == UTIME_NOW else mtime
        vp.birthtime = min(vp.birthtime, vp.mtime)
    vp.ctime = now
    return ()


@syscalls("__utimes50")
def sys_utimes(lwp, path, atime, mtime):
    return _utimes(lwp, vfs_of(lwp).lookup(lwp.proc, path), atime, mtime)


@syscalls("futimens")
def sys_futimens(lwp, fd, atime, mtime):
    return _utimes(lwp, vnode_of(lwp, fd)[1], atime, mtime)


@syscalls("utimensat")
def sys_utimensat(lwp, dirfd, path, atime, mtime, flags):
    return _utimes(lwp, _at(lwp, dirfd, path, flags), atime, mtime)


@syscalls("umask")
def sys_umask(lwp, mask):
    old = lwp.proc.umask
    lwp.proc.umask = mask & ALLPERMS
    return (old,)
