"""Socket buffers draw on the kernel's memory budget (the -r limit), as NetBSD's
soreserve/sbreserve do on their limits: a socket reserves its receive and send
limits when it is made and when SO_RCVBUF/SO_SNDBUF change them, and gives them
back when it is closed. With the budget spent, socket() fails with ENOBUFS and no
half-made socket is left behind."""
import pytest

from rumptools.abi import errnos as E
from rumptools.abi import net as N
from rumptools.abi.errnos import RumpError

from .kernelkit import boot, call, errno_of, spawn

MiB = 1 << 20
NET = ("rumpvfs", "rumpnet", "rumpnet_net", "rumpnet_netinet", "rumpnet_local")


@pytest.fixture
def kp():
    k = boot(*NET, memlimit=2 * MiB)
    yield k, spawn(k)
    k.callouts.stop()
    assert not [line for line in k.console_lines if "failed" in line]


def _sockets_until_full(k, p, domain, stype):
    fds = []
    for _ in range(10_000):
        try:
            fds.append(call(k, p, "socket", domain, stype, 0))
        except RumpError as e:
            assert e.errno == E.ENOBUFS
            return fds
    raise AssertionError("the budget never ran out")


@pytest.mark.parametrize("domain,stype", [(N.AF_INET, N.SOCK_DGRAM), (N.AF_INET, N.SOCK_STREAM),
                                          (N.AF_LOCAL, N.SOCK_STREAM)])
def test_sockets_reserve_their_buffers_and_give_them_back(kp, domain, stype):
    k, p = kp
    used0, files0 = k.membudget.used, k.nfiles
    fds = _sockets_until_full(k, p, domain, stype)
    assert 5 < len(fds) < 2 * MiB // 8192
    each = call(k, p, "getsockopt", fds[0], N.SOL_SOCKET, N.SO_RCVBUF) + \
        call(k, p, "getsockopt", fds[0], N.SOL_SOCKET, N.SO_SNDBUF)
    assert k.membudget.by["socket"] == each * len(fds)
    assert k.nfiles == files0 + len(fds)            # the refused one left nothing behind
    call(k, p, "close", fds.pop())
    fds.append(call(k, p, "socket", domain, stype, 0))   # its room is there again
    for fd in fds:
        call(k, p, "close", fd)
    assert k.membudget.used == used0 and "socket" not in k.membudget.by


def test_so_rcvbuf_growth_past_the_budget_is_enobufs_and_keeps_the_old_size(kp):
    k, p = kp
    s = call(k, p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(k, p, "setsockopt", s, N.SOL_SOCKET, N.SO_RCVBUF, 65536)
    assert call(k, p, "getsockopt", s, N.SOL_SOCKET, N.SO_RCVBUF) == 65536
    assert errno_of(k, p, "setsockopt", s, N.SOL_SOCKET, N.SO_RCVBUF, 2 * MiB) == E.ENOBUFS
    assert call(k, p, "getsockopt", s, N.SOL_SOCKET, N.SO_RCVBUF) == 65536
    before = k.membudget.used
    call(k, p, "setsockopt", s, N.SOL_SOCKET, N.SO_RCVBUF, 4096)      # shrinking gives back
    assert k.membudget.used == before - (65536 - 4096)


def test_socketpair_and_local_connect_without_room(kp):
    k, p = kp
    lst = call(k, p, "socket", N.AF_LOCAL, N.SOCK_STREAM, 0)
    call(k, p, "bind", lst, (N.AF_LOCAL, "/l"))
    call(k, p, "listen", lst, 5)
    fds = _sockets_until_full(k, p, N.AF_LOCAL, N.SOCK_STREAM)
    call(k, p, "close", fds.pop())                  # room for one local socket, not two
    files = k.nfiles
    assert errno_of(k, p, "socketpair", N.AF_LOCAL, N.SOCK_STREAM, 0) == E.ENOBUFS
    assert k.nfiles == files                         # the first of the pair went too
    cli = call(k, p, "socket", N.AF_LOCAL, N.SOCK_STREAM, 0)
    # no room for the server's side of the connection: refused, as sonewconn failing
    assert errno_of(k, p, "sock_connect", cli, (N.AF_LOCAL, "/l")) == E.ECONNREFUSED
    call(k, p, "close", fds.pop())
    call(k, p, "sock_connect", cli, (N.AF_LOCAL, "/l"))


def _queued(k, p, s):
    n = 0
    for _ in range(100_000):
        try:
            call(k, p, "recvfrom", s, 4096, N.MSG_DONTWAIT)
        except RumpError as e:
            assert e.errno == E.EAGAIN
            return n
        n += 1
    raise AssertionError("never empty")


@pytest.mark.parametrize("size,kept", [
    (1, 2 * 41600 // (512 + 512)),              # address mbuf + one small mbuf each: 81
    (1000, 2 * 41600 // (512 + 512 + 2048)),    # the data in a cluster: 27
    (8000, 41600 // 8000),                       # the bytes limit comes first: 5
])
def test_a_udp_queue_holds_what_netbsds_mbuf_count_allows(size, kept):
    """sbspace is the smaller of the bytes left below sb_hiwat and the mbuf storage left
    below sb_mbmax (twice sb_hiwat): tiny datagrams stop long before 41,600 of them queue."""
    k = boot("rumpnet", "rumpnet_net", "rumpnet_netinet")
    p = spawn(k)
    s = call(k, p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(k, p, "bind", s, (N.AF_INET, "127.0.0.1", 0))
    name = call(k, p, "getsockname", s)
    assert call(k, p, "getsockopt", s, N.SOL_SOCKET, N.SO_RCVBUF) == 41600
    for _ in range(kept + 20):
        call(k, p, "sendto", s, bytes(size), 0, name)
    assert _queued(k, p, s) == kept
    for _ in range(kept + 20):                   # the emptied queue takes as many again
        call(k, p, "sendto", s, bytes(size), 0, name)
    assert _queued(k, p, s) == kept
    k.callouts.stop()


def test_local_datagrams_stop_with_enobufs_at_the_mbuf_count():
    k = boot("rumpvfs", "rumpnet", "rumpnet_local")
    p = spawn(k)
    r = call(k, p, "socket", N.AF_LOCAL, N.SOCK_DGRAM, 0)
    call(k, p, "bind", r, (N.AF_LOCAL, "/r"))
    w = call(k, p, "socket", N.AF_LOCAL, N.SOCK_DGRAM, 0)
    call(k, p, "bind", w, (N.AF_LOCAL, "/w"))
    kept = 2 * call(k, p, "getsockopt", r, N.SOL_SOCKET, N.SO_RCVBUF) // (512 + 512)
    for _ in range(kept):
        call(k, p, "sendto", w, b"x", 0, (N.AF_LOCAL, "/r"))
    assert errno_of(k, p, "sendto", w, b"x", 0, (N.AF_LOCAL, "/r")) == E.ENOBUFS
    assert _queued(k, p, r) == kept
    call(k, p, "sendto", w, b"x", 0, (N.AF_LOCAL, "/r"))
    k.callouts.stop()
