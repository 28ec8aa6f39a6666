"""RUMPHIJACK_RETRYCONNECT: what a client does when its server is killed and restarted."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import alive, cmd, pids_serving

# A client that makes a call, says so, waits for "go" on stdin, then calls again.
CLIENT = textwrap.dedent("""
    import sys
    from rumptools.sp import client
    c = client.init("retry")
    first = c.getpid()
    print("first", first, flush=True)
    sys.stdin.readline()
    try:
        print("second", c.sysctl("kern.ostype", 0, None)[1], flush=True)
    except OSError as e:
        print("error", e.errno, e.strerror, flush=True)
""")


def kill9(path):
    pids = pids_serving(path)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    for pid in pids:
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)


def start_client(server, policy):
    env = dict(server.env)
    if policy is not None:
        env["RUMPHIJACK_RETRYCONNECT"] = policy
    p = subprocess.Popen([sys.executable, "-c", CLIENT], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = p.stdout.readline().decode()
    assert line.startswith("first"), p.stderr.read()
    return p


def restart(servers, server):
    kill9(server.path)
    return servers(name=os.path.basename(server.path))


def finish(p):
    p.stdin.write(b"go\n")
    p.stdin.flush()
    out, err = p.communicate(timeout=60)
    return p.returncode, out.decode(), err.decode()


def test_default_is_enotconn(servers):
    s = servers(name="a")
    p = start_client(s, None)
    restart(servers, s)
    rc, out, err = finish(p)
    assert out.strip().splitlines()[-1] == "error 57 Socket is not connected"
    assert "reconnect" not in err


def test_inftime_reconnects_after_restart(servers):
    s = servers(name="b")
    p = start_client(s, "inftime")
    kill9(s.path)
    p.stdin.write(b"go\n")
    p.stdin.flush()
    time.sleep(0.6)             # the client is now retrying against a dead socket
    servers(name="b")
    out, err = p.communicate(timeout=60)
    assert out.decode().strip().splitlines()[-1] == "second NetBSD"
    assert "rump_sp: connection to kernel lost, trying to reconnect ..." in err.decode()
    assert "rump_sp: reconnected!" in err.decode()


def test_inftime_immediate_restart_is_silent(servers):
    s = servers(name="c")
    p = start_client(s, "inftime")
    restart(servers, s)
    rc, out, err = finish(p)
    assert out.strip().splitlines()[-1] == "second NetBSD"
    assert err == ""            # the first attempt worked: nothing to report


def test_once_gives_up_when_the_first_attempt_fails(servers):
    s = servers(name="d")
    p = start_client(s, "once")
    kill9(s.path)
    rc, out, err = finish(p)
    assert out.strip().splitlines()[-1] == "error 57 Socket is not connected"


def test_once_succeeds_if_the_server_is_back(servers):
    s = servers(name="e")
    p = start_client(s, "once")
    restart(servers, s)
    rc, out, err = finish(p)
    assert out.strip().splitlines()[-1] == "second NetBSD"


def test_die_exits_at_once(servers):
    s = servers(name="f")
    p = start_client(s, "die")
    restart(servers, s)
    rc, out, err = finish(p)
    assert rc == 1 and "second" not in out and "error" not in out


def test_seconds_time_out(servers):
    s = servers(name="g")
    p = start_client(s, "2")
    kill9(s.path)
    t0 = time.monotonic()
    rc, out, err = finish(p)
    took = time.monotonic() - t0
    assert out.strip().splitlines()[-1] == "error 57 Socket is not connected"
    assert "rump_sp: reconnect failed, 2 second timeout" in err
    assert 1.5 < took < 10


def test_seconds_reconnect_within_the_limit(servers):
    s = servers(name="h")
    p = start_client(s, "30")
    kill9(s.path)
    p.stdin.write(b"go\n")
    p.stdin.flush()
    time.sleep(0.5)
    servers(name="h")
    out, err = p.communicate(timeout=60)
    assert out.decode().strip().splitlines()[-1] == "second NetBSD"
    assert "rump_sp: reconnected!" in err.decode()


@pytest.mark.parametrize("bad", ["0", "-5", "soon", "3s"])
def test_bad_policy_values(server, bad):
    env = dict(server.env, RUMPHIJACK_RETRYCONNECT=bad)
    r = subprocess.run([cmd("rump.sysctl"), "kern.ostype"], env=env, capture_output=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr.decode() == "RUMPHIJACK_RETRYCONNECT must be keyword or integer, got: %s\n" % bad


# Issue 8 item 10: several threads calling while the server goes away and comes back
# used to deadlock (one thread held the send lock waiting for the reader role in
# _reconnect, another held the reader role waiting for the send lock).
THREADED = textwrap.dedent("""
    import sys, threading, time
    from rumptools.sp import client
    c = client.init("threads")
    stop = threading.Event()
    done = []
    def work():
        while not stop.is_set():
            try:
                c.getpid()
                c.sysctl("kern.ostype", 0, None)
            except OSError:
                pass
        done.append(1)
    ts = [threading.Thread(target=work, daemon=True) for _ in range(12)]
    for t in ts:
        t.start()
    print("running", flush=True)
    sys.stdin.readline()
    time.sleep(1.0)                  # calls go on against the restarted server
    stop.set()
    for t in ts:
        t.join(20)
    print("done", len(done), flush=True)
""")


@pytest.mark.parametrize("policy", ["inftime", "once"])
def test_threads_survive_restarts_without_deadlock(servers, policy):
    s = servers(name="t" + policy)
    env = dict(s.env, RUMPHIJACK_RETRYCONNECT=policy)
    p = subprocess.Popen([sys.executable, "-c", THREADED], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"running\n"
        for _ in range(4):
            time.sleep(0.3)
            kill9(s.path)
            time.sleep(0.2)
            servers(name="t" + policy)
        p.stdin.write(b"go\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=40)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert out.decode().split() == ["done", "12"], err.decode()[-2000:]
