"""File system calls: open, stat, directories, links, renames, mounts and friends.

POSIX semantics and NetBSD errno values. Every client is root, so access
checks reduce to what exists and what is read-only.
"""
from ...sp import errnos
from ...sp import syscalls as sc
from ...sp.errnos import RumpError
from ..kern.files import FileTable  # noqa: F401  (type reference for readers)
from .specfs import is_device
from .vfs_file import VnodeFile
from .vnode import VBLK, VCHR, VDIR, VFIFO, VLNK, VREG, VSOCK, VTYPE_OF_IFMT

O_ACCMODE = 3
O_NOFOLLOW, O_CREAT, O_TRUNC, O_EXCL = 0x100, 0x200, 0x400, 0x800
O_DIRECTORY = 0x200000
AT_FDCWD = -100
AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_SYMLINK_FOLLOW, AT_REMOVEDIR = 0x100, 0x200, 0x400, 0x800
UTIME_NOW, UTIME_OMIT = -1, -2
MAX_IO = 64 * 1024 * 1024


def _vfs(lwp):
    return lwp.proc.kernel.vfs


def _now(lwp):
    return int(lwp.proc.kernel.host.wall_time() * 1e9)


def _dirfd(lwp, fd, path):
    """Starting directory for a relative path of an *at call (None: cwd)."""
    if fd == AT_FDCWD or path.startswith("/"):
        return None
    fp = lwp.proc.files.get(fd)
    vp = getattr(fp, "vp", None)
    if vp is None or vp.vtype != VDIR:
        raise RumpError(errnos.ENOTDIR)
    return vp


def _vnode_of(lwp, fd):
    fp = lwp.proc.files.get(fd)
    vp = getattr(fp, "vp", None)
    if vp is None:
        raise RumpError(errnos.EINVAL)
    return fp, vp


def _writable(vp):
    if vp.mount is not None and vp.mount.readonly and not is_device(vp):
        raise RumpError(errnos.EROFS)


# -- open ---------------------------------------------------------------------
def do_open(lwp, dirfd, path, flags, mode):
    vfs = _vfs(lwp)
    start = _dirfd(lwp, dirfd, path)
    acc = flags & O_ACCMODE
    if acc == 3:
        raise RumpError(errnos.EINVAL)
    vp = None
    if flags & O_CREAT:
        dvp, name = vfs.lookup_parent(lwp.proc, path, start)
        if name in ("", ".", ".."):
            raise RumpError(errnos.EISDIR)
        try:
            vp = dvp.lookup(name) if vfs.etfs_key(path) is None else vfs.etfs_key(path)
        except RumpError as e:
            if e.errno != errnos.ENOENT:
                raise
        if vp is None:
            _writable(dvp)
            vp = dvp.create(name, VREG, mode & ~lwp.proc.umask & 0o7777)
            vp.uid, vp.gid = lwp.proc.uid, lwp.proc.gid
        else:
            if flags & O_EXCL:
                raise RumpError(errnos.EEXIST)
            if vp.vtype == VLNK:
                if flags & O_NOFOLLOW:
                    raise RumpError(errnos.ELOOP)
                vp = vfs.lookup(lwp.proc, path, True, start)
            vp = vfs._enter(vp)
    else:
        vp = vfs.lookup(lwp.proc, path, not flags & O_NOFOLLOW, start)
        if vp.vtype == VLNK:
            raise RumpError(errnos.ELOOP)
    if flags & O_DIRECTORY and vp.vtype != VDIR:
        raise RumpError(errnos.ENOTDIR)
    if vp.vtype == VDIR and (acc != 0 or flags & O_TRUNC):
        raise RumpError(errnos.EISDIR)
    if vp.vtype in (VSOCK, VFIFO):
        raise RumpError(errnos.EOPNOTSUPP if vp.vtype == VSOCK else errnos.ENXIO)
    if acc != 0 or flags & O_TRUNC:
        _writable(vp)
    vp.open(flags)
    fp = VnodeFile(lwp.proc.kernel, vp, flags & ~(O_CREAT | O_EXCL | O_TRUNC | sc.O_CLOEXEC))
    try:
        if flags & O_TRUNC and acc != 0 and vp.vtype == VREG:
            vp.truncate(0)
        fd = lwp.proc.files.alloc(fp, bool(flags & sc.O_CLOEXEC))
    except RumpError:
        fp.hold()
        fp.drop()
        raise
    return (fd,)


def sys_open(lwp, path, flags, mode):
    return do_open(lwp, AT_FDCWD, path, flags, mode)


def sys_openat(lwp, dirfd, path, flags, mode):
    return do_open(lwp, dirfd, path, flags, mode)


# -- data ---------------------------------------------------------------------
def sys_pread(lwp, fd, n, offset):
    fp = lwp.proc.files.get(fd)
    if not fp.readable():
        raise RumpError(errnos.EBADF)
    if n < 0 or n > MAX_IO or offset < 0:
        raise RumpError(errnos.EINVAL)
    if getattr(fp, "vp", None) is None:
        raise RumpError(errnos.ESPIPE)
    return (fp.read(n, offset),)


def sys_pwrite(lwp, fd, data, offset):
    fp = lwp.proc.files.get(fd)
    if not fp.writable():
        raise RumpError(errnos.EBADF)
    if offset < 0:
        raise RumpError(errnos.EINVAL)
    if getattr(fp, "vp", None) is None:
        raise RumpError(errnos.ESPIPE)
    return (fp.write(data, offset),)


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


def sys_writev(lwp, fd, buffers):
    fp = lwp.proc.files.get(fd)
    if not fp.writable():
        raise RumpError(errnos.EBADF)
    if type(buffers) is not tuple or not all(type(b) is bytes for b in buffers) or len(buffers) > 1024:
        raise RumpError(errnos.EINVAL)
    return (fp.write(b"".join(buffers)),)


def sys_lseek(lwp, fd, offset, whence):
    return (lwp.proc.files.get(fd).seek(offset, whence),)


def sys_fsync(lwp, fd):
    lwp.proc.files.get(fd).fsync()
    return ()


def sys_ioctl(lwp, fd, cmd, arg):
    return (lwp.proc.files.get(fd).ioctl(cmd, arg),)


def sys_ftruncate(lwp, fd, length):
    fp, vp = _vnode_of(lwp, fd)
    if not fp.writable():
        raise RumpError(errnos.EINVAL)
    if length < 0:
        raise RumpError(errnos.EINVAL)
    if vp.vtype != VREG:
        if is_device(vp):
            return ()
        raise RumpError(errnos.EINVAL)
    _writable(vp)
    vp.truncate(length)
    return ()


def sys_truncate(lwp, path, length):
    vp = _vfs(lwp).lookup(lwp.proc, path)
    if length < 0:
        raise RumpError(errnos.EINVAL)
    if vp.vtype == VDIR:
        raise RumpError(errnos.EISDIR)
    if vp.vtype != VREG:
        if is_device(vp):
            return ()
        raise RumpError(errnos.EINVAL)
    _writable(vp)
    vp.truncate(length)
    return ()


# -- attributes -----------------------------------------------------------------
def _stat_of(vp):
    s = vp.stat()
    if is_device(vp):
        s = s[:7] + (vp.devsize(),) + s[8:]
    return s


def sys_stat(lwp, path):
    return (_stat_of(_vfs(lwp).lookup(lwp.proc, path)),)


def sys_lstat(lwp, path):
    return (_stat_of(_vfs(lwp).lookup(lwp.proc, path, follow=False)),)


def sys_fstat(lwp, fd):
    fp = lwp.proc.files.get(fd)
    vp = getattr(fp, "vp", None)
    return (_stat_of(vp) if vp is not None else fp.stat(),)


def sys_fstatat(lwp, dirfd, path, flags):
    if flags & ~AT_SYMLINK_NOFOLLOW:
        raise RumpError(errnos.EINVAL)
    vp = _vfs(lwp).lookup(lwp.proc, path, not flags & AT_SYMLINK_NOFOLLOW, _dirfd(lwp, dirfd, path))
    return (_stat_of(vp),)


def sys_access(lwp, path, mode):
    return sys_faccessat(lwp, AT_FDCWD, path, mode, 0)


def sys_faccessat(lwp, dirfd, path, mode, flags):
    if mode & ~7:
        raise RumpError(errnos.EINVAL)
    vp = _vfs(lwp).lookup(lwp.proc, path, not flags & AT_SYMLINK_NOFOLLOW, _dirfd(lwp, dirfd, path))
    if mode & 2:
        _writable(vp)
    if mode & 1 and vp.vtype != VDIR and not vp.mode & 0o111:
        raise RumpError(errnos.EACCES)
    return (0,)


def _chmod(lwp, vp, mode):
    _writable(vp)
    vp.mode = mode & 0o7777
    vp.touch(_now(lwp), c=True)
    return ()


def sys_chmod(lwp, path, mode):
    return _chmod(lwp, _vfs(lwp).lookup(lwp.proc, path), mode)


def sys_fchmod(lwp, fd, mode):
    return _chmod(lwp, _vnode_of(lwp, fd)[1], mode)


def sys_fchmodat(lwp, dirfd, path, mode, flags):
    vp = _vfs(lwp).lookup(lwp.proc, path, not flags & AT_SYMLINK_NOFOLLOW, _dirfd(lwp, dirfd, path))
    return _chmod(lwp, vp, mode)


def _chown(lwp, vp, uid, gid):
    _writable(vp)
    if uid != -1:
        vp.uid = uid & 0xFFFFFFFF
    if gid != -1:
        vp.gid = gid & 0xFFFFFFFF
    vp.touch(_now(lwp), c=True)
    return ()


def sys_chown(lwp, path, uid, gid):
    return _chown(lwp, _vfs(lwp).lookup(lwp.proc, path), uid, gid)


def sys_lchown(lwp, path, uid, gid):
    return _chown(lwp, _vfs(lwp).lookup(lwp.proc, path, follow=False), uid, gid)


def sys_fchown(lwp, fd, uid, gid):
    return _chown(lwp, _vnode_of(lwp, fd)[1], uid, gid)


def _utimes(lwp, vp, atime, mtime):
    _writable(vp)
    now = _now(lwp)
    if atime != UTIME_OMIT:
        vp.atime = now if atime is None or atime == UTIME_NOW else atime
    if mtime != UTIME_OMIT:
        vp.mtime = now if mtime is None or mtime == UTIME_NOW else mtime
    vp.ctime = now
    return ()


def sys_utimes(lwp, path, atime, mtime):
    return _utimes(lwp, _vfs(lwp).lookup(lwp.proc, path), atime, mtime)


def sys_futimens(lwp, fd, atime, mtime):
    return _utimes(lwp, _vnode_of(lwp, fd)[1], atime, mtime)


def sys_utimensat(lwp, dirfd, path, atime, mtime, flags):
    vp = _vfs(lwp).lookup(lwp.proc, path, not flags & AT_SYMLINK_NOFOLLOW, _dirfd(lwp, dirfd, path))
    return _utimes(lwp, vp, atime, mtime)


def sys_umask(lwp, mask):
    old = lwp.proc.umask
    lwp.proc.umask = mask & 0o777
    return (old,)


# -- names ----------------------------------------------------------------------
def _parent(lwp, dirfd, path, empty_errno=errnos.EEXIST):
    dvp, name = _vfs(lwp).lookup_parent(lwp.proc, path, _dirfd(lwp, dirfd, path))
    if name in ("", ".", ".."):
        raise RumpError(empty_errno)
    return dvp, name


def _mkdir(lwp, dirfd, path, mode):
    dvp, name = _parent(lwp, dirfd, path)
    _writable(dvp)
    vp = dvp.create(name, VDIR, mode & ~lwp.proc.umask & 0o7777)
    vp.uid, vp.gid = lwp.proc.uid, lwp.proc.gid
    return ()


def sys_mkdir(lwp, path, mode):
    return _mkdir(lwp, AT_FDCWD, path, mode)


def sys_mkdirat(lwp, dirfd, path, mode):
    return _mkdir(lwp, dirfd, path, mode)


def _remove(lwp, dirfd, path, want_dir):
    if want_dir:
        stripped = path.rstrip("/")
        last = stripped.rpartition("/")[2]
        if last == ".":
            raise RumpError(errnos.EINVAL)
        if last == "..":
            raise RumpError(errnos.ENOTEMPTY)
    dvp, name = _parent(lwp, dirfd, path, errnos.EBUSY if want_dir else errnos.EISDIR)
    if not want_dir and path.endswith("/"):
        vp = dvp.lookup(name)
        raise RumpError(errnos.EPERM if vp.vtype == VDIR else errnos.ENOTDIR)
    _writable(dvp)
    vp = dvp.lookup(name)
    if vp.vtype == VDIR and vp.mounted_here is not None:
        raise RumpError(errnos.EBUSY)
    dvp.remove(name, want_dir)
    return ()


def sys_unlink(lwp, path):
    return _remove(lwp, AT_FDCWD, path, False)


def sys_rmdir(lwp, path):
    return _remove(lwp, AT_FDCWD, path, True)


def sys_unlinkat(lwp, dirfd, path, flags):
    if flags & ~AT_REMOVEDIR:
        raise RumpError(errnos.EINVAL)
    return _remove(lwp, dirfd, path, bool(flags & AT_REMOVEDIR))


def _rename(lwp, fromfd, frompath, tofd, topath):
    for p in (frompath, topath):
        if p.rstrip("/").rpartition("/")[2] in (".", ".."):
            raise RumpError(errnos.EINVAL)
    fdvp, fname = _parent(lwp, fromfd, frompath, errnos.EBUSY)
    tdvp, tname = _parent(lwp, tofd, topath, errnos.EBUSY)
    src = fdvp.lookup(fname)
    if (frompath.endswith("/") or topath.endswith("/")) and src.vtype != VDIR:
        raise RumpError(errnos.ENOTDIR)
    if src.vtype == VDIR and src.mounted_here is not None:
        raise RumpError(errnos.EBUSY)
    if fdvp.mount is not tdvp.mount:
        raise RumpError(errnos.EXDEV)
    _writable(fdvp)
    fdvp.rename(fname, tdvp, tname)
    return ()


def sys_rename(lwp, frompath, topath):
    return _rename(lwp, AT_FDCWD, frompath, AT_FDCWD, topath)


def sys_renameat(lwp, fromfd, frompath, tofd, topath):
    return _rename(lwp, fromfd, frompath, tofd, topath)


def _link(lwp, fd1, path1, fd2, path2, follow):
    vfs = _vfs(lwp)
    vp = vfs.lookup(lwp.proc, path1, follow, _dirfd(lwp, fd1, path1))
    if vp.vtype == VDIR:
        raise RumpError(errnos.EPERM)
    dvp, name = _parent(lwp, fd2, path2)
    _writable(dvp)
    dvp.link(name, vp)
    return ()


def sys_link(lwp, path1, path2):
    return _link(lwp, AT_FDCWD, path1, AT_FDCWD, path2, False)


def sys_linkat(lwp, fd1, path1, fd2, path2, flags):
    return _link(lwp, fd1, path1, fd2, path2, bool(flags & AT_SYMLINK_FOLLOW))


def _symlink(lwp, target, dirfd, path):
    if target == "":
        raise RumpError(errnos.ENOENT)
    if len(target.encode("utf-8", "surrogateescape")) >= 1024:
        raise RumpError(errnos.ENAMETOOLONG)
    dvp, name = _parent(lwp, dirfd, path)
    _writable(dvp)
    vp = dvp.create(name, VLNK, 0o777 & ~lwp.proc.umask, target=target)
    vp.uid, vp.gid = lwp.proc.uid, lwp.proc.gid
    return ()


def sys_symlink(lwp, target, path):
    return _symlink(lwp, target, AT_FDCWD, path)


def sys_symlinkat(lwp, target, dirfd, path):
    return _symlink(lwp, target, dirfd, path)


def _readlink(lwp, dirfd, path, bufsize):
    if bufsize <= 0:
        raise RumpError(errnos.EINVAL)
    vp = _vfs(lwp).lookup(lwp.proc, path, False, _dirfd(lwp, dirfd, path))
    if vp.vtype != VLNK:
        raise RumpError(errnos.EINVAL)
    raw = vp.readlink().encode("utf-8", "surrogateescape")[:bufsize]
    return (raw.decode("utf-8", "surrogateescape"),)


def sys_readlink(lwp, path, bufsize):
    return _readlink(lwp, AT_FDCWD, path, bufsize)


def sys_readlinkat(lwp, dirfd, path, bufsize):
    return _readlink(lwp, dirfd, path, bufsize)


def sys_mknod(lwp, path, mode, dev):
    vtype = VTYPE_OF_IFMT.get(mode & 0o170000)
    if vtype not in (VBLK, VCHR, VFIFO, VREG, VSOCK):
        raise RumpError(errnos.EINVAL)
    dvp, name = _parent(lwp, AT_FDCWD, path)
    _writable(dvp)
    vp = dvp.create(name, vtype, mode & ~lwp.proc.umask & 0o7777, rdev=dev if vtype in (VBLK, VCHR) else 0)
    vp.uid, vp.gid = lwp.proc.uid, lwp.proc.gid
    return ()


# -- directories and cwd ------------------------------------------------------------
def sys_getdents(lwp, fd, count):
    fp = lwp.proc.files.get(fd)
    if not hasattr(fp, "readdir"):
        raise RumpError(errnos.ENOTDIR)
    if count < 16:
        raise RumpError(errnos.EINVAL)
    limit = max(1, count // 16)
    return (tuple(fp.readdir(limit)),)


def sys_chdir(lwp, path):
    vp = _vfs(lwp).lookup(lwp.proc, path)
    if vp.vtype != VDIR:
        raise RumpError(errnos.ENOTDIR)
    lwp.proc.cwd = vp
    return ()


def sys_fchdir(lwp, fd):
    _fp, vp = _vnode_of(lwp, fd)
    if vp.vtype != VDIR:
        raise RumpError(errnos.ENOTDIR)
    lwp.proc.cwd = vp
    return ()


def sys_getcwd(lwp):
    vfs = _vfs(lwp)
    cwd = lwp.proc.cwd or vfs.root
    return (vfs.path_of(cwd),)


def sys_statvfs(lwp, path, flags):
    return (_vfs(lwp).lookup(lwp.proc, path).mount.statvfs(),)


def sys_fstatvfs(lwp, fd, flags):
    return (_vnode_of(lwp, fd)[1].mount.statvfs(),)


def sys_sync(lwp):
    lwp.proc.kernel.sync()
    return ()


# -- mounts ---------------------------------------------------------------------
def sys_mount(lwp, fstype, path, flags, data):
    kernel = lwp.proc.kernel
    vfs = _vfs(lwp)
    factory = kernel.fstypes.get(fstype)
    if factory is None:
        raise RumpError(errnos.ENODEV)
    vp = vfs.lookup(lwp.proc, path)
    if vp.vtype != VDIR:
        raise RumpError(errnos.ENOTDIR)
    if vp.mounted_here is not None or vfs.mounts.find_root(vp) is not None and vp is vfs.root:
        raise RumpError(errnos.EBUSY)
    mnt = factory(kernel, data if type(data) is str else "", flags, data)
    mnt.covered = vp
    mnt.path = vfs.path_of(vp)
    vp.mounted_here = mnt
    vfs.mounts.add(mnt)
    return ()


def sys_unmount(lwp, path, flags):
    vfs = _vfs(lwp)
    vp = vfs.lookup(lwp.proc, path)
    mnt = vfs.mounts.find_root(vp)
    if mnt is None or mnt.covered is None:
        raise RumpError(errnos.EINVAL)
    if vfs.mounts.busy(mnt):
        raise RumpError(errnos.EBUSY)
    if not flags & 0x80000:
        for proc in lwp.proc.kernel.procs.procs.values():
            if proc.cwd is not None and proc.cwd.mount is mnt:
                raise RumpError(errnos.EBUSY)
            for fp, _ce in proc.files.slots.values():
                if getattr(fp, "vp", None) is not None and fp.vp.mount is mnt:
                    raise RumpError(errnos.EBUSY)
    mnt.sync()
    mnt.unmount(bool(flags & 0x80000))
    mnt.covered.mounted_here = None
    vfs.mounts.remove(mnt)
    return ()


HANDLERS = {
    5: sys_open, 9: sys_link, 10: sys_unlink, 12: sys_chdir, 13: sys_fchdir, 15: sys_chmod,
    16: sys_chown, 22: sys_unmount, 33: sys_access, 36: sys_sync, 54: sys_ioctl, 57: sys_symlink,
    58: sys_readlink, 60: sys_umask, 95: sys_fsync, 120: sys_readv, 121: sys_writev, 123: sys_fchown,
    124: sys_fchmod, 128: sys_rename, 136: sys_mkdir, 137: sys_rmdir, 173: sys_pread, 174: sys_pwrite,
    199: sys_lseek, 200: sys_truncate, 201: sys_ftruncate, 275: sys_lchown, 296: sys_getcwd,
    357: sys_statvfs, 358: sys_fstatvfs, 390: sys_getdents, 410: sys_mount, 420: sys_utimes,
    439: sys_stat, 440: sys_fstat, 441: sys_lstat, 450: sys_mknod, 457: sys_linkat, 458: sys_renameat,
    461: sys_mkdirat, 462: sys_faccessat, 463: sys_fchmodat, 466: sys_fstatat, 467: sys_utimensat,
    468: sys_openat, 469: sys_readlinkat, 470: sys_symlinkat, 471: sys_unlinkat, 472: sys_futimens,
}
