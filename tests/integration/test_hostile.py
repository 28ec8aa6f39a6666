"""Hostile clients cannot freeze, starve or exhaust the kernel (issue 8 items 1-5)."""
import fcntl
import os
import signal
import socket
import subprocess
import threading
import time

from rumptools.sp import client as spclient, url as spurl, wire
from rumptools.abi.syscalls import SYSCTL_READ

from tests.conftest import alive, cmd, wait_for_socket
from tests.integration import rawproto

F_SETPIPE_SZ = 1031


def answers_within(path, seconds):
    """A fresh client connects and gets an answer within the time given."""
    out = {}

    def probe():
        try:
            c = spclient.Client(spurl.parse("unix://" + path), "probe").connect()
            out["v"] = c.sysctl("kern.ostype", SYSCTL_READ, None)[1]
            c.disconnect()
        except Exception as e:       # reported below
            out["e"] = repr(e)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(seconds)
    return out.get("v") == "NetBSD"


def sigpipe_looper(path, frames=20000):
    """A client that writes to a pipe without a reader, in a loop, never reading replies.
    Returns its socket once it can send no more (the server stopped reading it)."""
    s = rawproto.guest(path, "looper")
    s.sendall(rawproto.syscall_frame(2, "pipe2", 0))
    r, w = wire.decode(rawproto.read_frame(s)[4])
    s.sendall(rawproto.syscall_frame(3, "close", r))
    rawproto.read_frame(s)
    s.settimeout(0.5)
    frame = rawproto.syscall_frame(4, "write", w, b"x" * 64)
    batch = frame * 100
    for _ in range(frames // 100):
        try:
            s.sendall(batch)
        except (socket.timeout, BlockingIOError):
            break
    return s


def test_a_client_that_stops_reading_stalls_only_itself(server):
    """Item 1: SIGPIPE raised in a client that does not read used to block the kernel
    lock on its full socket, and every other client with it."""
    s = sigpipe_looper(server.path)
    try:
        for _ in range(5):
            assert answers_within(server.path, 5), "another client got no answer"
        c = spclient.Client(spurl.parse(server.url), "other").connect()
        r, w = c.pipe2(0)
        assert c.write(w, b"abc") == 3 and c.read(r, 10) == b"abc"
        c.disconnect()
    finally:
        s.close()
    assert answers_within(server.path, 5)


def test_output_past_the_bound_drops_that_connection(server):
    """Item 1: replies a client leaves unread are bounded; past the bound it is dropped."""
    c = spclient.Client(spurl.parse(server.url), "other").connect()
    s = rawproto.guest(server.path, "hog")
    s.sendall(rawproto.syscall_frame(2, "pipe2", 0))
    r, w = wire.decode(rawproto.read_frame(s)[4])
    # 200 reads asleep on the empty pipe, then one write that feeds them 13 MB:
    # 13 MB of replies for a client that reads none of them
    s.sendall(b"".join(rawproto.syscall_frame(10 + i, "read", r, 100000) for i in range(200)))
    s.sendall(rawproto.syscall_frame(5, "write", w, b"z" * 20_000_000))
    time.sleep(2.0)
    s.settimeout(10)
    got, ended = 0, False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            data = s.recv(1 << 20)
        except ConnectionResetError:
            ended = True
            break
        except socket.timeout:
            break
        if not data:
            ended = True
            break
        got += len(data)
    assert ended, "the connection was kept although its client read nothing"
    assert got < 13_000_000
    assert c.getpid() == c.pid
    c.disconnect()
    s.close()


def full_pipe():
    """A pipe whose buffer is already full: whoever writes to it blocks."""
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"#" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    return r, w


def test_console_on_a_stuck_pipe_never_blocks_the_kernel(tmp_path, rumpenv):
    """Item 2: -s with stdout a pipe nobody reads: boot messages (-v), clients and
    halt all go on."""
    r, w = full_pipe()
    path = str(tmp_path / "sock")
    p = subprocess.Popen([cmd("rump_server"), "-s", "-v", "unix://" + path], cwd=str(tmp_path),
                         env=rumpenv, stdout=w, stderr=subprocess.DEVNULL)
    os.close(w)
    try:
        assert wait_for_socket(path, 15), "boot blocked on the console"
        assert answers_within(path, 5)
        halt_in_time(p, path, rumpenv)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(r)


def halt_in_time(p, path, rumpenv):
    """rump.halt the server (process p) on path: it succeeds and the server has
    exited within 5 s."""
    t0 = time.monotonic()
    h = subprocess.run([cmd("rump.halt")], env=dict(rumpenv, RUMP_SERVER="unix://" + path),
                       capture_output=True, timeout=30)
    assert h.returncode == 0, h.stderr
    p.wait(10)
    assert time.monotonic() - t0 < 5


def start_looping_server(tmp_path, rumpenv):
    path = str(tmp_path / "sock")
    p = subprocess.Popen([cmd("rump_server"), "-s", "unix://" + path], cwd=str(tmp_path),
                         env=rumpenv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for_socket(path, 15)
    return p, path


def test_sigterm_ends_the_server_whatever_clients_do(tmp_path, rumpenv):
    """Item 3: SIGTERM with a client that stopped reading ends the server in bounded time."""
    p, path = start_looping_server(tmp_path, rumpenv)
    try:
        s = sigpipe_looper(path)
        idle = [rawproto.connect(path) for _ in range(10)]
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        p.wait(10)
        assert time.monotonic() - t0 < 5
        assert p.returncode == 0
        s.close()
        for x in idle:
            x.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_halt_ends_the_server_whatever_clients_do(tmp_path, rumpenv):
    p, path = start_looping_server(tmp_path, rumpenv)
    try:
        s = sigpipe_looper(path)
        halt_in_time(p, path, rumpenv)
        s.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert not alive(p.pid)


def set_sysctl(path, name, value):
    c = spclient.Client(spurl.parse("unix://" + path), "admin").connect()
    try:
        c.sysctl(name, 1, value)
    finally:
        c.disconnect()


def test_idle_connections_cannot_lock_others_out(server):
    """Item 4: 300 connections that never handshake; new clients still get in, and
    idle ones are dropped after the handshake deadline."""
    set_sysctl(server.path, "kern.sysproxy.handshake_timeout", 2)
    idle = []
    try:
        for _ in range(300):
            try:
                idle.append(rawproto.connect(server.path, timeout=5))
            except OSError:
                break
        assert answers_within(server.path, 5), "a new client was locked out"
        c = spclient.Client(spurl.parse(server.url), "kept").connect()
        time.sleep(3)
        # every idle connection is closed by now
        for s in idle:
            s.settimeout(5)
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
        assert c.getpid() == c.pid          # a handshaken client is not a victim
        c.disconnect()
    finally:
        for s in idle:
            s.close()


def test_a_burst_of_honest_clients_is_not_evicted(server):
    """Item 4's limit must not cut off clients that connect at once: 40 connections
    made together (more than the 32 that may wait to handshake), then each
    handshaken in turn, well within the deadline: every one gets in."""
    socks = []
    try:
        for _ in range(40):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(server.path)          # waits in the listen queue if not accepted yet
            socks.append(s)
        time.sleep(0.5)                     # the server has accepted what it will by now
        for i, s in enumerate(socks):
            banner = b""
            while not banner.endswith(b"\n"):
                chunk = s.recv(96)
                assert chunk, "connection %d was closed before its handshake" % i
                banner += chunk
            s.sendall(wire.frame(1, wire.REQ, wire.HANDSHAKE, wire.HS_GUEST, wire.encode(("burst",))))
            assert rawproto.read_frame(s)[1] == wire.RESP, i
    finally:
        for s in socks:
            s.close()


def test_half_sent_huge_frames_are_bounded_and_expire(server):
    """Item 5: connections holding half-sent 64 MiB frames share one budget; the others
    wait for room or are dropped, and the server's memory stays bounded."""
    from bench.soak import rss_of
    socks = []
    header = wire.HEADER.pack(wire.MAX_FRAME, 7, wire.REQ, wire.SYSCALL, 4)
    try:
        for _ in range(12):
            s = rawproto.guest(server.path)
            s.settimeout(0.2)
            s.sendall(header)
            chunk = b"\0" * (1 << 20)
            for _ in range(40):          # 40 MiB of the 64, then stop
                try:
                    s.sendall(chunk)
                except (socket.timeout, OSError):
                    break
            socks.append(s)
        assert answers_within(server.path, 5)
        rss = rss_of(server.pids[0])    # the fixture found the server's pid
        assert rss < 400 << 20, rss
    finally:
        for s in socks:
            s.close()
    assert answers_within(server.path, 5)


def test_a_frame_of_a_million_values_is_refused_cheaply(server):
    """Item 5: a 16 MiB body of one-byte None values: MALFORMED at once, no GBs of tuples."""
    s = rawproto.guest(server.path)
    n = 16 << 20
    body = b"l" + n.to_bytes(4, "little") + b"N" * n
    t0 = time.monotonic()
    s.sendall(wire.frame(9, wire.REQ, wire.SYSCALL, 20, body))
    s.settimeout(30)
    f = rawproto.read_frame(s)
    assert (f[0], f[1], f[3]) == (9, wire.ERROR, wire.E_MALFORMED)
    assert time.monotonic() - t0 < 10
    s.sendall(rawproto.syscall_frame(10, "getpid"))
    assert rawproto.read_frame(s)[3] == 0
    s.close()
