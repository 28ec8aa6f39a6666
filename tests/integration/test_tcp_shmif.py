"""TCP between two rump_server processes on a shmif bus (issue 10, must hold).

16 concurrent connections carry 8 MiB each from a client of kernel A to a
client of kernel B, every stream's sha256 equal on arrival; one connection
carries 2 MiB both ways at once (full duplex, then half-closes).
"""
import threading

import pytest

from rumptools.abi import net as N
from rumptools.sp import client as spclient
from rumptools.sp import url
from tests.integration.tcpflow import recv_stream, send_stream
from tests.integration.test_net import NET, attach

TIMEOUT_US = 60 * 1000000             # no socket call may wait longer than this


@pytest.fixture
def clients(servers, tmp_path):
    bus = str(tmp_path / "bus")
    a = servers(*NET, name="a")
    b = servers(*NET, name="b")
    attach(a, "shmif0", bus, "10.1.1.1")
    attach(b, "shmif0", bus, "10.1.1.2")
    ca = spclient.Client(url.parse(a.env["RUMP_SERVER"])).connect()
    cb = spclient.Client(url.parse(b.env["RUMP_SERVER"])).connect()
    yield ca, cb
    ca.disconnect()
    cb.disconnect()


def tcp_socket(c):
    fd = c.socket(N.AF_INET, N.SOCK_STREAM, 0)
    c.setsockopt(fd, N.SOL_SOCKET, N.SO_RCVTIMEO, TIMEOUT_US)
    c.setsockopt(fd, N.SOL_SOCKET, N.SO_SNDTIMEO, TIMEOUT_US)
    return fd


def run_threads(fns, timeout):
    """Run callables in threads; returns their results in order (exceptions re-raised here)."""
    out = [None] * len(fns)

    def wrap(i, fn):
        try:
            out[i] = ("ok", fn())
        except BaseException as e:        # handed to the test thread
            out[i] = ("err", e)

    ts = [threading.Thread(target=wrap, args=(i, fn), daemon=True) for i, fn in enumerate(fns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
    assert not any(t.is_alive() for t in ts), "transfer threads still running after %d s" % timeout
    for kind, v in out:
        if kind == "err":
            raise v
    return [v for _k, v in out]


def test_sixteen_connections_of_8_mib_arrive_intact(clients):
    ca, cb = clients
    n, size = 16, 8 << 20
    lfd = tcp_socket(cb)
    cb.bind(lfd, (N.AF_INET, "0.0.0.0", 5000))
    cb.listen(lfd, n)
    fds = [tcp_socket(ca) for _ in range(n)]
    results = {}

    def serve():
        got = []
        for _ in range(n):
            fd, _addr = cb.accept(lfd)
            got.append(fd)
        return got

    def connect_and_send(i):
        ca.sock_connect(fds[i], (N.AF_INET, "10.1.1.2", 5000))
        return send_stream(ca, fds[i], size, seed=1000 + i)

    acc = threading.Thread(target=lambda: results.setdefault("fds", serve()), daemon=True)
    acc.start()
    senders = [lambda i=i: connect_and_send(i) for i in range(n)]
    holder = {}
    st = threading.Thread(target=lambda: holder.setdefault("sent", run_threads(senders, 600)), daemon=True)
    st.start()
    acc.join(120)
    assert "fds" in results, "not all 16 connections were accepted"
    received = run_threads([lambda fd=fd: recv_stream(cb, fd) for fd in results["fds"]], 600)
    st.join(60)
    sent = holder["sent"]
    assert sorted(received) == sorted(sent)
    assert all(r[0] == size for r in received) and len({r[1] for r in received}) == n
    for fd in fds:
        ca.close(fd)
    for fd in results["fds"]:
        cb.close(fd)


def test_both_directions_at_once(clients):
    ca, cb = clients
    lfd = tcp_socket(cb)
    cb.bind(lfd, (N.AF_INET, "10.1.1.2", 5001))
    cb.listen(lfd, 1)
    fa = tcp_socket(ca)
    ca.sock_connect(fa, (N.AF_INET, "10.1.1.2", 5001))
    fb, addr = cb.accept(lfd)
    assert addr[1] == "10.1.1.1" and ca.getpeername(fa) == (N.AF_INET, "10.1.1.2", 5001)
    size = 2 << 20
    a_sent, b_sent, a_got, b_got = run_threads([
        lambda: send_stream(ca, fa, size, seed=1),
        lambda: send_stream(cb, fb, size, seed=2),
        lambda: recv_stream(ca, fa),
        lambda: recv_stream(cb, fb)], 300)
    assert a_got == b_sent and b_got == a_sent and a_sent != b_sent
    ca.close(fa)
    cb.close(fb)
