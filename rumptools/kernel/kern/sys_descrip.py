"""Descriptor syscalls that work on any File: read write close dup dup2 fcntl ioctl pipe2.

Handlers register by their syscall table name (kern/syscall.py); the `rump`
base component adds the set."""
from ...abi import errnos
from ...abi import syscalls as sc
from ...abi.errnos import RumpError
from ...abi.syscalls import MAX_IO
from .pipe import make_pipe
from .syscall import Syscalls

syscalls = Syscalls()


@syscalls("read")
def sys_read(lwp, fd, n):
    fp = lwp.proc.files.get(fd)
    if not fp.readable():
        raise RumpError(errnos.EBADF)
    if n < 0 or n > MAX_IO:
        raise RumpError(errnos.EINVAL)
    return (fp.read(n),)


@syscalls("write")
def sys_write(lwp, fd, data):
    fp = lwp.proc.files.get(fd)
    if not fp.writable():
        raise RumpError(errnos.EBADF)
    return (fp.write(data),)


@syscalls("close")
def sys_close(lwp, fd):
    lwp.proc.files.close(fd)
    return ()


@syscalls("dup")
def sys_dup(lwp, fd):
    files = lwp.proc.files
    return (files.alloc(files.get(fd)),)


@syscalls("dup2")
def sys_dup2(lwp, fd, fd2):
    files = lwp.proc.files
    fp = files.get(fd)
    if fd != fd2:
        files.install(fd2, fp)
    return (fd2,)


@syscalls("fcntl")
def sys_fcntl(lwp, fd, cmd, arg):
    files = lwp.proc.files
    fp = files.get(fd)
    if cmd == sc.F_GETFD:
        return (sc.FD_CLOEXEC if files.cloexec(fd) else 0,)
    if cmd in (sc.F_SETFD, sc.F_SETFL):
        arg = 0 if arg is None else arg
        if type(arg) is not int:            # an int in the C ABI: anything else is EINVAL
            raise RumpError(errnos.EINVAL)
    if cmd == sc.F_SETFD:
        files.set_cloexec(fd, bool(arg & sc.FD_CLOEXEC))
        return (0,)
    if cmd == sc.F_GETFL:
        return (fp.flags,)
    if cmd == sc.F_SETFL:
        changeable = sc.O_NONBLOCK | sc.O_APPEND | sc.O_SYNC | sc.O_DSYNC    # of NetBSD's FCNTLFLAGS
        fp.flags = (fp.flags & ~changeable) | (arg & changeable)
        return (0,)
    if cmd == sc.F_DUPFD:
        if type(arg) is not int or arg < 0:
            raise RumpError(errnos.EINVAL)
        return (files.alloc(fp, minfd=arg),)
    raise RumpError(errnos.EINVAL)


@syscalls("ioctl")
def sys_ioctl(lwp, fd, cmd, arg):
    return (lwp.proc.files.get(fd).ioctl(cmd, arg),)


@syscalls("pipe2")
def sys_pipe2(lwp, flags):
    if flags & ~(sc.O_NONBLOCK | sc.O_CLOEXEC):
        raise RumpError(errnos.EINVAL)
    r, w = make_pipe(lwp.proc.kernel, flags)
    files = lwp.proc.files
    cloexec = bool(flags & sc.O_CLOEXEC)
    rfd = files.alloc(r, cloexec)
    try:
        wfd = files.alloc(w, cloexec)
    except RumpError:
        files.close(rfd)
        w.refs = 1
        w.drop()
        raise
    return (rfd, wfd)
