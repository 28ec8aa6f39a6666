"""Socket system calls: socket bind connect listen accept socketpair sendto recvfrom
sendmsg recvmsg sendmmsg recvmmsg getsockname getpeername setsockopt getsockopt shutdown.

Handlers register by their syscall table name (kern/syscall.py); rumpnet adds
the set. Addresses are sockaddr values (abi/net.py); the protocol checks
their family. Kernel lock held (sleeping calls release it while asleep).

sendmmsg and recvmmsg are NetBSD's (uipc_syscalls.c): at most MMSG_MAX
datagrams a call, one after another through the same paths as sendmsg and
recvmsg. An error at the first datagram is the call's error; an error after
some went through ends the call early with what was done, and is kept as the
socket's pending error, which its next call reports (EAGAIN, "no more now",
is not kept). recvmmsg with MSG_WAITFORONE waits for the first datagram only,
then takes what is queued; its timeout is looked at after each datagram, so
it ends a call that is still receiving but does not bound the wait for the
first (NetBSD and Linux alike).
"""
from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ..kern.syscall import Syscalls
from . import scm
from .socket import CANTRCVMORE, CANTSENDMORE, Socket

syscalls = Syscalls()
MAX_DGRAM = 65535 * 4


def getsock(lwp, fd):
    fp = lwp.proc.files.get(fd)
    if not isinstance(fp, Socket):
        raise RumpError(errnos.ENOTSOCK)
    return fp


def _sockaddr(addr):
    if addr is None:
        return None
    if type(addr) is not tuple or not addr or type(addr[0]) is not int:
        raise RumpError(errnos.EINVAL)
    return addr


@syscalls("__socket30")
def sys_socket(lwp, domain, stype, protocol):
    net = lwp.proc.kernel.slot("net")
    flags = stype & N.SOCK_FLAGS
    stype &= ~N.SOCK_FLAGS
    pr = net.find_protocol(domain, stype, protocol)
    so = Socket(lwp.proc.kernel, domain, stype, protocol, pr, nonblock=bool(flags & N.SOCK_NONBLOCK))
    if flags & N.SOCK_NOSIGPIPE:
        so.options |= N.SO_NOSIGPIPE
    try:
        return (lwp.proc.files.alloc(so, bool(flags & N.SOCK_CLOEXEC)),)
    except RumpError:
        so.refs = 1
        so.drop()
        raise


@syscalls("bind")
def sys_bind(lwp, fd, addr):
    so = getsock(lwp, fd)
    so.pr.bind(so, _sockaddr(addr))
    return ()


@syscalls("connect")
def sys_connect(lwp, fd, addr):
    so = getsock(lwp, fd)
    so.pr.connect(so, _sockaddr(addr))
    return ()


@syscalls("listen")
def sys_listen(lwp, fd, backlog):
    so = getsock(lwp, fd)
    so.pr.listen(so, backlog)
    return ()


@syscalls("accept")
def sys_accept(lwp, fd):
    so = getsock(lwp, fd)
    nso, addr = so.pr.accept(so)
    try:
        return (lwp.proc.files.alloc(nso), addr)
    except RumpError:
        nso.refs += 1
        nso.drop()
        raise


@syscalls("socketpair")
def sys_socketpair(lwp, domain, stype, protocol):
    net = lwp.proc.kernel.slot("net")
    pr = net.find_protocol(domain, stype & ~N.SOCK_FLAGS, protocol)
    pair = getattr(pr, "socketpair", None)
    if pair is None:
        raise RumpError(errnos.EOPNOTSUPP)
    a, b = pair(lwp, stype)
    return a, b


@syscalls("sendto")
def sys_sendto(lwp, fd, data, flags, addr):
    so = getsock(lwp, fd)
    return (so.send(data, _sockaddr(addr), None, flags),)


@syscalls("recvfrom")
def sys_recvfrom(lwp, fd, n, flags):
    so = getsock(lwp, fd)
    if n < 0 or n > MAX_DGRAM * 256:
        raise RumpError(errnos.EINVAL)
    data, addr, control, _mflags = so.pr.recv(so, n, flags)
    scm.dispose(control)
    return data, addr


def _sendmsg(so, buffers, control, flags, addr):
    if type(buffers) not in (tuple, list) or any(type(b) is not bytes for b in buffers):
        raise RumpError(errnos.EINVAL)
    if control is not None and type(control) is not tuple:
        raise RumpError(errnos.EINVAL)
    return so.send(b"".join(buffers), _sockaddr(addr), control or None, flags)


def _recvmsg(lwp, so, n, controllen, flags):
    if n < 0 or n > MAX_DGRAM * 256 or controllen < 0:
        raise RumpError(errnos.EINVAL)
    data, addr, control, mflags = so.pr.recv(so, n, flags)
    control, truncated = scm.externalize(lwp.proc, list(control or ()), controllen)
    if truncated:
        mflags |= N.MSG_CTRUNC
    return data, addr, control, mflags


def _defer(so, err):
    """An error after part of a sendmmsg/recvmmsg went through: the socket's next call reports it."""
    if err != errnos.EAGAIN:
        so.error = err


@syscalls("sendmsg")
def sys_sendmsg(lwp, fd, buffers, control, flags, addr):
    so = getsock(lwp, fd)
    return (_sendmsg(so, buffers, control, flags, addr),)


@syscalls("recvmsg")
def sys_recvmsg(lwp, fd, n, controllen, flags):
    return _recvmsg(lwp, getsock(lwp, fd), n, controllen, flags)


@syscalls("sendmmsg")
def sys_sendmmsg(lwp, fd, msgs, flags):
    so = getsock(lwp, fd)
    if type(msgs) is not tuple:
        raise RumpError(errnos.EINVAL)
    lens = []
    for msg in msgs[:N.MMSG_MAX]:
        try:
            if type(msg) is not tuple or len(msg) != 3:
                raise RumpError(errnos.EINVAL)
            buffers, addr, control = msg
            lens.append(_sendmsg(so, buffers, control, flags, addr))
        except RumpError as e:
            if not lens:
                raise
            _defer(so, e.errno)
            break
    return (tuple(lens),)


@syscalls("recvmmsg")
def sys_recvmmsg(lwp, fd, sizes, controllen, flags, timeout):
    so = getsock(lwp, fd)
    if any(type(n) is not int for n in sizes) or (timeout is not None and timeout < 0):
        raise RumpError(errnos.EINVAL)
    clock = lwp.proc.kernel.host.clock
    deadline = None if timeout is None else clock.now() + timeout / 1e9
    f = flags & ~N.MSG_WAITFORONE
    out = []
    for n in sizes[:N.MMSG_MAX]:
        try:
            got = _recvmsg(lwp, so, n, controllen, f)
        except RumpError as e:
            if not out:
                raise
            _defer(so, e.errno)
            break
        out.append(got)
        if got[3] & N.MSG_OOB or (deadline is not None and clock.now() >= deadline):
            break
        if flags & N.MSG_WAITFORONE:
            f |= N.MSG_DONTWAIT
    return (tuple(out),)


@syscalls("getsockname")
def sys_getsockname(lwp, fd):
    so = getsock(lwp, fd)
    return (so.pr.sockaddr(so),)


@syscalls("getpeername")
def sys_getpeername(lwp, fd):
    so = getsock(lwp, fd)
    return (so.pr.peeraddr(so),)


@syscalls("setsockopt")
def sys_setsockopt(lwp, fd, level, name, value):
    so = getsock(lwp, fd)
    so.setopt(level, name, value)
    return ()


@syscalls("getsockopt")
def sys_getsockopt(lwp, fd, level, name):
    so = getsock(lwp, fd)
    return (so.getopt(level, name),)


@syscalls("shutdown")
def sys_shutdown(lwp, fd, how):
    so = getsock(lwp, fd)
    if how not in (N.SHUT_RD, N.SHUT_WR, N.SHUT_RDWR):
        raise RumpError(errnos.EINVAL)
    so.pr.shutdown(so, how)
    if how != N.SHUT_WR:
        so.state |= CANTRCVMORE
        so.flush_records()
        so.rwakeup()
    if how != N.SHUT_RD:
        so.state |= CANTSENDMORE
        so.wwakeup()
    return ()
