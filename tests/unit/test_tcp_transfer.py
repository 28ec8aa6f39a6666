"""TCP end to end in process: loopback in one kernel and two kernels on a shmif bus.

Data moves both ways intact (sha256), the handshake agrees on MSS, window
scale and timestamps, and both sides end in the states NetBSD's do."""
import hashlib
import os

import pytest

from rumptools.abi import errnos
from rumptools.abi import net as N
from rumptools.abi.errnos import RumpError

from .kernelkit import boot, call, spawn, wait_until
from .tcpkit import in_thread, kernel_on, listener, pcbs, recv_all, stats, tcp_socket, ticking


@pytest.fixture
def pair(tmp_path):
    bus = str(tmp_path / "bus")
    a, b = kernel_on(bus, "10.1.1.1"), kernel_on(bus, "10.1.1.2")
    yield a, b
    for k in (a, b):
        k.reboot(0)


@pytest.fixture
def lo():
    k = boot("rumpnet", "rumpnet_net", "rumpnet_netinet")
    k.p = spawn(k)
    yield k
    k.reboot(0)


def exchange(ka, kb, addr, nbytes):
    """kb listens on addr:7000, ka connects; nbytes each way; returns (client fd, server fd)."""
    pa, pb = ka.p, spawn(kb) if ka is kb else kb.p
    ls = listener(kb, "0.0.0.0", 7000, p=pb)
    c = tcp_socket(ka, pa)
    call(ka, pa, "sock_connect", c, (N.AF_INET, addr, 7000))
    s, peer = call(kb, pb, "accept", ls)
    assert peer[0] == N.AF_INET and peer[2] == call(ka, pa, "getsockname", c)[2]
    up, down = os.urandom(nbytes), os.urandom(nbytes)
    with ticking(*({ka, kb})):                  # Nagle's tail may wait for a delayed ACK
        t1, b1 = in_thread(call, ka, pa, "sendto", c, up, 0, None)
        t2, b2 = in_thread(call, kb, pb, "sendto", s, down, 0, None)
        got_up = recv_all(kb, pb, s, nbytes)
        got_down = recv_all(ka, pa, c, nbytes)
        t1.join(10)
        t2.join(10)
    assert b1 == {"result": nbytes} and b2 == {"result": nbytes}
    assert hashlib.sha256(got_up).digest() == hashlib.sha256(up).digest()
    assert hashlib.sha256(got_down).digest() == hashlib.sha256(down).digest()
    return c, s, pb, ls


def test_loopback_transfer_both_ways_and_close(lo):
    k = lo
    c, s, pb, _ls = exchange(k, k, "127.0.0.1", 300000)
    call(k, k.p, "close", c)
    assert call(k, pb, "recvfrom", s, 100, 0) == (b"", None)         # the FIN reads as end of file
    call(k, pb, "close", s)
    assert wait_until(lambda: [tp.state for tp in pcbs(k) if tp.lport != 7000 and tp.fport == 7000] == [10])
    k.host.clock.advance(1.9, kernel=k)
    assert any(tp.state == 10 for tp in pcbs(k))                       # TIME_WAIT on loopback: 2 s
    k.host.clock.advance(0.2, kernel=k)
    assert not any(tp.state == 10 for tp in pcbs(k))
    st = stats(k)
    assert st["connattempt"] == 1 and st["accepts"] == 1 and st["connects"] == 2
    assert st["rcvbyte"] == 600000 and st["sndbyte"] == 600000


def test_two_kernels_transfer_options_and_states(pair):
    a, b = pair
    c, s, pb, _ls = exchange(a, b, "10.1.1.2", 1 << 20)
    ta = a.slot("inet").tcp.conns[(0x0a010101, call(a, a.p, "getsockname", c)[2], 0x0a010102, 7000)]
    assert ta.maxseg == 1460 - 12                     # MSS 1460 less the timestamp option
    assert ta.peermss == 1460 and ta.snd_scale == 3 and ta.rcv_scale == 3
    assert call(a, a.p, "getsockopt", c, N.IPPROTO_TCP, N.TCP_MAXSEG) == 1460
    so = _file(b, pb, s)
    assert so.pr.tstate(so) == 4                                         # ESTABLISHED
    call(b, pb, "shutdown", s, N.SHUT_WR)
    assert call(a, a.p, "recvfrom", c, 10, 0) == (b"", None)
    assert call(a, a.p, "sendto", c, b"late", 0, None) == 4             # half-closed: a may still send
    assert call(b, pb, "recvfrom", s, 10, 0) == (b"late", None)
    call(a, a.p, "close", c)
    assert call(b, pb, "recvfrom", s, 10, 0) == (b"", None)
    call(b, pb, "close", s)
    # b closed first (its FIN went first): b goes through TIME_WAIT, on a local subnet 10 s
    assert wait_until(lambda: [tp.state for tp in pcbs(b) if tp.fport and tp.lport == 7000] == [10])
    assert wait_until(lambda: not [tp for tp in pcbs(a) if tp.fport == 7000])   # LAST_ACK ended
    b.host.clock.advance(9.5, kernel=b)
    assert [tp.state for tp in pcbs(b) if tp.fport and tp.lport == 7000] == [10]
    b.host.clock.advance(1, kernel=b)
    assert not [tp for tp in pcbs(b) if tp.fport and tp.lport == 7000]


def _file(k, p, fd):
    return p.files.get(fd)


def test_connect_refused_and_nonblocking_connect(pair):
    a, b = pair
    c = tcp_socket(a)
    with pytest.raises(RumpError) as e:
        call(a, a.p, "sock_connect", c, (N.AF_INET, "10.1.1.2", 9))
    assert e.value.errno == errnos.ECONNREFUSED
    ls = listener(b, "10.1.1.2", 80)
    c = call(a, a.p, "socket", N.AF_INET, N.SOCK_STREAM | N.SOCK_NONBLOCK, 0)
    with pytest.raises(RumpError) as e:
        call(a, a.p, "sock_connect", c, (N.AF_INET, "10.1.1.2", 80))
    assert e.value.errno == errnos.EINPROGRESS
    from rumptools.abi.poll import POLLOUT
    f = _file(a, a.p, c)
    assert wait_until(lambda: f.poll(POLLOUT) & POLLOUT)
    assert call(a, a.p, "getsockopt", c, N.SOL_SOCKET, N.SO_ERROR) == 0
    with pytest.raises(RumpError) as e:
        call(a, a.p, "sock_connect", c, (N.AF_INET, "10.1.1.2", 80))
    assert e.value.errno == errnos.EISCONN
    s, _peer = call(b, b.p, "accept", ls)
    assert call(a, a.p, "sendto", c, b"hello", 0, None) == 5
    assert call(b, b.p, "recvfrom", s, 10, 0) == (b"hello", None)
    with pytest.raises(RumpError) as e:
        call(b, b.p, "recvfrom", call(b, b.p, "socket", N.AF_INET, N.SOCK_STREAM, 0), 10, 0)
    assert e.value.errno == errnos.ENOTCONN
