"""Bad input never takes a server down; many clients at once; clients that die mid-call."""
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

from rumptools.sp import client as spclient, url as spurl, wire
from rumptools.abi.syscalls import SYSCTL_READ

from tests.integration import rawproto


def sysctl_value(path, name):
    c = spclient.Client(spurl.parse("unix://" + path), "probe").connect()
    try:
        return c.sysctl(name, SYSCTL_READ, None)[1]
    finally:
        c.disconnect()


def still_answers(path):
    return sysctl_value(path, "kern.ostype") == "NetBSD"


def test_mutated_frames_never_take_the_server_down(server):
    """10,000 corrupted frames, before and after the handshake; the server keeps answering."""
    c = spclient.Client(spurl.parse("unix://" + server.path), "setup").connect()
    c.sysctl("kern.sysproxy.fork_grace", 1, 0)     # unclaimed forks go as soon as their parent does
    c.disconnect()
    r = rawproto.rng(1234)
    frames = rawproto.valid_frames()
    handshake = wire.frame(1, wire.REQ, wire.HANDSHAKE, wire.HS_GUEST, wire.encode(("fuzz",)))
    cases = 10000
    for i in range(cases):
        s = rawproto.connect(server.path)
        try:
            if i % 4 == 0:
                s.sendall(rawproto.mutate(r, handshake))
            else:
                s.sendall(handshake)
                for _ in range(r.randint(1, 3)):
                    s.sendall(rawproto.mutate(r, r.choice(frames)))
            s.shutdown(socket.SHUT_WR)
            rawproto.read_all_until_eof(s)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            s.close()
        if i % 2500 == 0:
            assert still_answers(server.path), "server stopped answering after case %d" % i
    assert still_answers(server.path)
    deadline = time.monotonic() + 10
    while sysctl_value(server.path, "kern.sysproxy.clients") != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sysctl_value(server.path, "kern.sysproxy.clients") == 1   # only the probe itself
    while sysctl_value(server.path, "kern.nfiles") != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sysctl_value(server.path, "kern.nfiles") == 0


def test_specific_bad_inputs(server):
    # garbage instead of a handshake: closed
    s = rawproto.connect(server.path)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n" + b"\0" * 64)
    rawproto.read_all_until_eof(s)
    s.close()
    # a syscall before the handshake: ERROR AUTH, then closed
    s = rawproto.connect(server.path)
    s.sendall(rawproto.syscall_frame(1, "getpid"))
    reqno, cls, _t, arg, _b = rawproto.read_frame(s)
    assert (cls, arg) == (wire.ERROR, wire.E_AUTH)
    s.close()
    s = rawproto.guest(server.path)
    # unknown syscall number: ENOSYS, connection kept
    s.sendall(wire.frame(5, wire.REQ, wire.SYSCALL, 4242, wire.encode(())))
    assert rawproto.read_frame(s)[3] == 78
    # wrong argument types: EINVAL
    s.sendall(rawproto.syscall_frame(6, "read", "zero", 1))
    assert rawproto.read_frame(s)[3] == 22
    # undecodable body: ERROR MALFORMED for that request
    s.sendall(wire.frame(7, wire.REQ, wire.SYSCALL, 20, b"\xff\xff"))
    f = rawproto.read_frame(s)
    assert (f[0], f[1], f[3]) == (7, wire.ERROR, wire.E_MALFORMED)
    # a RESP from the client: MALFORMED, still connected
    s.sendall(wire.frame(8, wire.RESP, wire.SYSCALL, 0))
    assert rawproto.read_frame(s)[1] == wire.ERROR
    s.sendall(rawproto.syscall_frame(9, "getpid"))
    f = rawproto.read_frame(s)
    assert f[0] == 9 and f[3] == 0
    # absurd length: closed
    s.sendall(wire.HEADER.pack(1 << 50, 10, 0, 1, 20))
    assert rawproto.read_all_until_eof(s) == b""
    s.close()
    # disconnect in the middle of a frame
    s = rawproto.guest(server.path)
    s.sendall(rawproto.syscall_frame(2, "write", 0, b"x" * 1000)[:500])
    s.close()
    assert still_answers(server.path)


def test_many_clients_in_parallel(server):
    """64 clients, 500 calls each, every answer checked by its own caller."""
    errors = []
    address = spurl.parse(server.url)

    def worker(n):
        try:
            c = spclient.Client(address, "w%d" % n).connect()
            r, w = c.pipe2(0)
            for i in range(500):
                if i % 3 == 0:
                    assert c.getpid() == c.pid
                elif i % 3 == 1:
                    msg = b"%d:%d" % (n, i)
                    assert c.write(w, msg) == len(msg)
                    assert c.read(r, 100) == msg
                else:
                    assert c.sysctl("kern.ostype", SYSCTL_READ, None)[1] == "NetBSD"
            c.disconnect()
        except Exception as e:      # collected and reported below
            errors.append((n, repr(e)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors[:5]
    assert still_answers(server.path)


def test_one_connection_many_threads(server):
    """Several calls in flight on one connection: a blocked read does not stop the others."""
    c = spclient.Client(spurl.parse(server.url), "mt").connect()
    r, w = c.pipe2(0)
    got = {}

    def blocked_reader():
        got["data"] = c.read(r, 10)

    t = threading.Thread(target=blocked_reader)
    t.start()
    time.sleep(0.2)
    assert t.is_alive()
    pids = []

    def caller():
        for _ in range(50):
            pids.append(c.getpid())

    callers = [threading.Thread(target=caller) for _ in range(4)]
    for x in callers:
        x.start()
    for x in callers:
        x.join(30)
    assert pids == [c.pid] * 200
    assert c.write(w, b"wake") == 4
    t.join(10)
    assert got["data"] == b"wake"


CLIENT_THAT_SLEEPS = textwrap.dedent("""
    import sys
    from rumptools.sp import client
    c = client.init("sleeper")
    r, w = c.pipe2(0)
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    c.read(r, 10)       # blocks in the kernel forever
""")


def busy_threads(path):
    """Sysproxy threads that belong to clients: readers and calls asleep."""
    c = spclient.Client(spurl.parse("unix://" + path), "probe").connect()
    def read(name):
        return c.sysctl(name, SYSCTL_READ, None)[1]
    try:
        for _ in range(50):     # two reads of a pool that may be retiring an idle worker: agree first
            w1, threads, w2 = read("kern.sysproxy.workers"), read("kern.sysproxy.threads"), \
                read("kern.sysproxy.workers")
            if w1 == w2:
                break
            time.sleep(0.02)
        return threads - w2 + read("kern.sysproxy.sleeping")
    finally:
        c.disconnect()


def test_client_killed_mid_call_leaves_nothing(server):
    base_threads = busy_threads(server.path)
    base_lwps = sysctl_value(server.path, "kern.nlwps")
    p = subprocess.Popen([sys.executable, "-c", CLIENT_THAT_SLEEPS], env=server.env, stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 10        # the call may still be on its way into the kernel
        while time.monotonic() < deadline and sysctl_value(server.path, "kern.sysproxy.sleeping") != 1:
            time.sleep(0.05)
        assert sysctl_value(server.path, "kern.nfiles") == 2
        assert sysctl_value(server.path, "kern.nlwps") == base_lwps + 1
        assert busy_threads(server.path) > base_threads
        assert sysctl_value(server.path, "kern.sysproxy.sleeping") == 1
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    # each probe is a connection of its own whose reader thread ends a moment after it
    # disconnects: poll until everything is back, and assert on one consistent reading
    deadline = time.monotonic() + 20
    while True:
        now = (sysctl_value(server.path, "kern.nfiles"), sysctl_value(server.path, "kern.nlwps"),
               busy_threads(server.path), sysctl_value(server.path, "kern.sysproxy.sleeping"),
               sysctl_value(server.path, "kern.nprocs"))
        if now == (0, base_lwps, base_threads, 0, 2) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert now == (0, base_lwps, base_threads, 0, 2)    # nprocs 2: rumplocal and the probe


def test_sigpipe_is_raised_in_the_client(server):
    code = textwrap.dedent("""
        import signal, sys
        from rumptools.sp import client
        got = []
        signal.signal(signal.SIGPIPE, lambda s, f: got.append(s))
        c = client.init("piper")
        r, w = c.pipe2(0)
        c.close(r)
        try:
            c.write(w, b"x")
        except OSError as e:
            print(e.errno, e.strerror, got == [signal.SIGPIPE])
    """)
    r = subprocess.run([sys.executable, "-c", code], env=server.env, capture_output=True, timeout=30)
    assert r.stdout.decode().strip() == "32 Broken pipe True", r.stderr


def test_client_socket_stays_off_stdio(server):
    code = textwrap.dedent("""
        import os
        os.close(0); os.close(1)
        from rumptools.sp import client
        c = client.init("nostdio")
        fd = c.sock.fileno()
        os.write(2, b"%d %d" % (fd, c.getpid()))
    """)
    r = subprocess.run([sys.executable, "-c", code], env=server.env, capture_output=True, timeout=30)
    fd, pid = r.stderr.split()
    assert int(fd) > 2 and int(pid) > 1
