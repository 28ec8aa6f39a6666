"""Socket system calls: socket bind connect listen accept socketpair sendto recvfrom
sendmsg recvmsg getsockname getpeername setsockopt getsockopt shutdown.

Handlers register by their syscall table name (kern/syscall.py); rumpnet adds
the set. Addresses are sockaddr values (abi/net.py); the protocol checks
their family. Kernel lock held (sleeping calls release it while asleep).
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


@syscalls("sendmsg")
def sys_sendmsg(lwp, fd, buffers, control, flags, addr):
    so = getsock(lwp, fd)
    if any(type(b) is not bytes for b in buffers):
        raise RumpError(errnos.EINVAL)
    if control is not None and type(control) is not tuple:
        raise RumpError(errnos.EINVAL)
    return (so.send(b"".join(buffers), _sockaddr(addr), control or None, flags),)


@syscalls("recvmsg")
def sys_recvmsg(lwp, fd, n, controllen, flags):
    so = getsock(lwp, fd)
    if n < 0 or n > MAX_DGRAM * 256 or controllen < 0:
        raise RumpError(errnos.EINVAL)
    data, addr, control, mflags = so.pr.recv(so, n, flags)
    control, truncated = scm.externalize(lwp.proc, list(control or ()), controllen)
    if truncated:
        mflags |= N.MSG_CTRUNC
    return data, addr, control, mflags


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
        so.rcvq.clear()
        so.rcv_cc = 0
        so.rwakeup()
    if how != N.SHUT_RD:
        so.state |= CANTSENDMORE
        so.wwakeup()
    return ()
