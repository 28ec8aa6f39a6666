"""Socket-side helpers for the TCP tests: kernelkit calls that do not block the test, and pcb rows."""
from rumptools.abi import net as N
from rumptools.abi.errnos import RumpError
from tests.unit.kernelkit import call, call_in_thread


def listener(k, port, backlog=5, addr="0.0.0.0"):
    fd = call(k, k.p, "socket", N.AF_INET, N.SOCK_STREAM, 0)
    call(k, k.p, "bind", fd, (N.AF_INET, addr, port))
    call(k, k.p, "listen", fd, backlog)
    return fd


def accept(k, fd, timeout=5.0):
    th, box = call_in_thread(k, k.p, "accept", fd)
    th.join(timeout)
    assert not th.is_alive(), "accept did not return"
    if "error" in box:
        raise RumpError(box["error"])
    return box["result"]


def connect_bg(k, addr, port, sock=None):
    """Start connect() of a new (or the given) TCP socket in a thread; returns (fd, thread, box)."""
    fd = sock if sock is not None else call(k, k.p, "socket", N.AF_INET, N.SOCK_STREAM, 0)
    th, box = call_in_thread(k, k.p, "sock_connect", fd, (N.AF_INET, addr, port))
    return fd, th, box


def read_now(k, fd, n=65536):
    """What the socket has to read without waiting (b"" at end of stream); RumpError(EAGAIN) if nothing."""
    data, _addr = call(k, k.p, "recvfrom", fd, n, N.MSG_DONTWAIT)
    return data


def error_of(k, fd):
    return call(k, k.p, "getsockopt", fd, N.SOL_SOCKET, N.SO_ERROR)


def tcp_rows(k):
    """The stack's TCP control blocks (there is no net.inet.tcp.pcblist node yet, so the in-process
    kernel's own list is read) as dicts: lport, fport, state (NetBSD's TCPS_* number)."""
    with k.lock:
        return [{"lport": tp.lport, "fport": tp.fport, "state": tp.state} for tp in k.slot("inet").tcp_pcbs]


def syn_cache_size(k):
    with k.lock:
        sc = k.slot("inet").tcp.syncache
        return 0 if sc is None else len(sc.entries)
