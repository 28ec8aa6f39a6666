"""Shared fixtures: real rump_server processes in a temporary directory, always stopped."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

BIN = os.path.dirname(sys.executable)


def cmd(name):
    return os.path.join(BIN, name)


def wait_for_socket(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return True
        except OSError:
            time.sleep(0.01)
        finally:
            s.close()
    return False


def pids_serving(path):
    """Host pids of rump_server processes whose command line names this socket path."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(os.fsencode(path)) for a in argv) and \
                any(b"rump_server" in a or b"rump_allserver" in a for a in argv):
            found.append(int(entry))
    return found


def pids_in(workdir):
    """Host pids of rump servers running in workdir (their cwd): what a test started there."""
    found = []
    want = os.path.realpath(workdir)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read()
            if b"rump_server" not in argv and b"rump_allserver" not in argv:
                continue
            if os.path.realpath("/proc/%s/cwd" % entry) == want:
                found.append(int(entry))
        except OSError:
            continue
    return found


def stop_pids(pids):
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


class ServerHandle:
    def __init__(self, workdir, path, env):
        self.workdir = workdir
        self.path = path
        self.url = "unix://" + path
        self.env = env
        self.pids = []
        self.procs = []

    def run(self, *argv, input=None, timeout=60, check=False, env=None):
        e = dict(self.env)
        if env:
            e.update(env)
        name = argv[0]
        full = [cmd(name) if not os.path.isabs(name) and os.path.exists(cmd(name)) else name] + list(argv[1:])
        return subprocess.run(full, input=input, capture_output=True, timeout=timeout, env=e,
                              cwd=self.workdir, check=check)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        stop_pids(self.pids + pids_serving(self.path))


@pytest.fixture
def rumpenv(tmp_path):
    """Environment for running the commands; afterwards, every server a test left
    running in tmp_path (servers are started with it as their cwd) is stopped."""
    env = dict(os.environ)
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env.pop("RUMPHIJACK_RETRYCONNECT", None)
    yield env
    stop_pids(pids_in(str(tmp_path)))


@pytest.fixture
def servers(tmp_path, rumpenv):
    """Factory: start(*args, name="sock", foreground=False) -> ServerHandle."""
    handles = []

    def start(*args, name="sock", foreground=False, expect_ok=True, server="rump_server"):
        path = str(tmp_path / name)
        env = dict(rumpenv)
        env["RUMP_SERVER"] = "unix://" + path
        h = ServerHandle(str(tmp_path), path, env)
        handles.append(h)
        argv = [cmd(server)] + list(args) + ["unix://" + path]
        if foreground:
            p = subprocess.Popen(argv[:1] + ["-s"] + argv[1:], cwd=str(tmp_path), env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            h.procs.append(p)
            h.pids.append(p.pid)
            if expect_ok:
                assert wait_for_socket(path), "server did not come up"
            return h
        r = subprocess.run(argv, cwd=str(tmp_path), env=env, capture_output=True, timeout=30)
        h.result = r
        h.pids.extend(pids_serving(path))
        if expect_ok:
            assert r.returncode == 0, r.stderr.decode()
            assert h.pids, "no server process found"
        return h

    yield start
    for h in handles:
        h.stop()


@pytest.fixture
def server(servers):
    return servers()
