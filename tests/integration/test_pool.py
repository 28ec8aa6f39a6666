"""The worker pool: many sleeping calls at once, from one client or many, and the
pool shrinking back when idle (issue 7 part 3, issue 8 item 11)."""
import socket
import time

from rumptools.sp import client as spclient, url as spurl, wire
from rumptools.abi.syscalls import SYSCTL_READ

from tests.integration import rawproto


def sysctl(path, name):
    c = spclient.Client(spurl.parse("unix://" + path), "probe").connect()
    try:
        return c.sysctl(name, SYSCTL_READ, None)[1]
    finally:
        c.disconnect()


def wait_for(fn, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return fn()


class Replies:
    """Read frames from one raw socket, noting when each reqno was answered."""

    def __init__(self, sock):
        self.sock = sock
        self.reader = wire.FrameReader()
        self.got = {}

    def collect(self, n, timeout):
        deadline = time.monotonic() + timeout
        self.sock.settimeout(1.0)
        while len(self.got) < n and time.monotonic() < deadline:
            f = self.reader.next_frame()
            if f is not None:
                self.got[f[0]] = (time.monotonic(), f)
                continue
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            if not data:
                break
            self.reader.feed(data)
        return self.got


def test_a_thousand_nanosleeps_from_one_client_all_last_their_time(server):
    s = rawproto.guest(server.path)
    n, ns = 1000, 1_500_000_000
    sent = {}
    frames = []
    for i in range(n):
        frames.append(rawproto.syscall_frame(100 + i, "__nanosleep50", ns))
    t0 = time.monotonic()
    s.sendall(b"".join(frames))
    for i in range(n):
        sent[100 + i] = t0
    got = Replies(s).collect(n, 60)
    assert len(got) == n, "only %d of %d calls answered" % (len(got), n)
    for reqno, (when, (_r, cls, _t, err, body)) in got.items():
        assert cls == wire.RESP and err == 0, (reqno, cls, err)
        assert wire.decode(body) == (0,)
        assert when - sent[reqno] >= ns / 1e9 - 0.01, "call %d returned after %.3f s" % (reqno, when - sent[reqno])
    s.close()


def test_a_thousand_reads_on_empty_pipes_from_one_client_all_complete(server):
    s = rawproto.guest(server.path)
    npipes, per = 100, 10
    replies = Replies(s)
    pipes = []
    for i in range(npipes):
        s.sendall(rawproto.syscall_frame(10 + i, "pipe2", 0))
    got = replies.collect(npipes, 30)
    for i in range(npipes):
        _when, f = got.pop(10 + i)
        assert f[3] == 0
        pipes.append(wire.decode(f[4]))
    reqno = 1000
    for r, _w in pipes:
        s.sendall(b"".join(rawproto.syscall_frame(reqno + k, "read", r, 1) for k in range(per)))
        reqno += per
    assert wait_for(lambda: sysctl(server.path, "kern.sysproxy.sleeping") == npipes * per), \
        sysctl(server.path, "kern.sysproxy.sleeping")
    for j, (_r, w) in enumerate(pipes):
        s.sendall(rawproto.syscall_frame(5000 + j, "write", w, b"x" * per))
    got = replies.collect(npipes * per + npipes, 60)
    reads = {k: v for k, v in got.items() if 1000 <= k < 5000}
    writes = {k: v for k, v in got.items() if k >= 5000}
    assert len(reads) == npipes * per and len(writes) == npipes
    assert all(f[3] == 0 and wire.decode(f[4]) == (b"x",) for _t, f in reads.values())
    assert all(f[3] == 0 and wire.decode(f[4]) == (per,) for _t, f in writes.values())
    s.close()


def test_two_hundred_processes_asleep_then_all_woken_all_return(server):
    socks = []
    try:
        for i in range(200):
            s = rawproto.guest(server.path, "p%d" % i)
            s.sendall(rawproto.syscall_frame(2, "pipe2", 0))
            f = rawproto.read_frame(s)
            r, w = wire.decode(f[4])
            s.sendall(rawproto.syscall_frame(3, "read", r, 16))
            socks.append((s, w))
        assert wait_for(lambda: sysctl(server.path, "kern.sysproxy.sleeping") == 200)
        for s, w in socks:
            s.sendall(rawproto.syscall_frame(4, "write", w, b"wake"))
        for s, _w in socks:
            got = Replies(s).collect(2, 30)
            assert set(got) == {3, 4}
            assert wire.decode(got[3][1][4]) == (b"wake",)
            assert wire.decode(got[4][1][4]) == (4,)
    finally:
        for s, _w in socks:
            s.close()
    # the pool falls back to the idle workers it keeps (16) once the burst is over
    assert wait_for(lambda: sysctl(server.path, "kern.sysproxy.sleeping") == 0)
    assert wait_for(lambda: sysctl(server.path, "kern.sysproxy.workers") <= 17)
    # closed connections (and the previous probe's) leave as their reader threads notice
    assert wait_for(lambda: sysctl(server.path, "kern.sysproxy.clients") == 1)


def test_workers_fall_back_after_a_burst(server):
    s = rawproto.guest(server.path)
    # 3 s sleeps: all 300 are asleep at once even when a loaded machine starts threads slowly
    s.sendall(b"".join(rawproto.syscall_frame(10 + i, "__nanosleep50", 3_000_000_000) for i in range(300)))
    assert wait_for(lambda: sysctl(server.path, "kern.sysproxy.workers") >= 300, 30)
    assert len(Replies(s).collect(300, 30)) == 300
    assert wait_for(lambda: sysctl(server.path, "kern.sysproxy.workers") <= 17)
    assert sysctl(server.path, "kern.sysproxy.idle_workers") <= 16
    s.close()


def test_a_large_pipe_write_beside_many_sleepers_reports_all_it_wrote(server):
    """Issue 8 item 11: with 200 calls asleep, a 100,000-byte pipe write that has to
    wait for its reader returns 100,000 (it used to fail with EAGAIN after 65,536)."""
    s = rawproto.guest(server.path)
    s.sendall(b"".join(rawproto.syscall_frame(10 + i, "__nanosleep50", 3_000_000_000) for i in range(200)))
    assert wait_for(lambda: sysctl(server.path, "kern.sysproxy.sleeping") >= 200)
    c = spclient.Client(spurl.parse(server.url), "writer").connect()
    r, w = c.pipe2(0)
    import threading
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("n", c.write(w, b"y" * 100_000)))
    t.start()
    got = b""
    while len(got) < 100_000:
        got += c.read(r, 100_000)
    t.join(30)
    assert out.get("n") == 100_000 and got == b"y" * 100_000
    c.disconnect()
    s.close()


def test_calls_that_do_not_wait_run_on_the_reader(server):
    """Leader/follower: a call that does not sleep runs on the thread that read it, so a
    client making only such calls has one thread and no worker; a call that sleeps hands
    the reading on, and its thread comes back to the pool as an idle worker."""
    c = spclient.Client(spurl.parse(server.url), "quick").connect()
    try:
        for _ in range(200):
            c.getpid()
        assert c.sysctl("kern.sysproxy.threads", SYSCTL_READ, None)[1] == 1
        assert c.sysctl("kern.sysproxy.workers", SYSCTL_READ, None)[1] == 0
        assert c.nanosleep(1_000_000) == 0       # sleeps: its thread comes back idle
        assert wait_for(lambda: c.sysctl("kern.sysproxy.idle_workers", SYSCTL_READ, None)[1] == 1, 10)
        r, w = c.pipe2(0)
        import threading
        got = {}
        t = threading.Thread(target=lambda: got.setdefault("data", c.read(r, 4)))
        t.start()
        assert wait_for(lambda: c.sysctl("kern.sysproxy.sleeping", SYSCTL_READ, None)[1] == 1, 10)
        # the sleeper keeps its thread; another reads this connection, and answers at once
        assert c.getpid() == c.pid
        assert c.sysctl("kern.sysproxy.threads", SYSCTL_READ, None)[1] == 2
        assert c.write(w, b"wake") == 4
        t.join(10)
        assert got["data"] == b"wake"
        assert wait_for(lambda: c.sysctl("kern.sysproxy.idle_workers", SYSCTL_READ, None)[1] == 1, 10)
        assert c.sysctl("kern.sysproxy.workers", SYSCTL_READ, None)[1] == 1
        assert c.sysctl("kern.sysproxy.sleeping", SYSCTL_READ, None)[1] == 0
    finally:
        c.disconnect()
