"""librumphijack under stress and failure: nothing leaks, a dead server is an error (or a
reconnect, by the policy), a host descriptor is never taken for a rump one, and a program
that does not touch the kernel behaves exactly as without the library."""
import os
import signal
import subprocess
import textwrap
import time

import pytest

from .hijackkit import hijacked_env, ok, run, sysctl
from ..conftest import cmd, wait_for_socket


@pytest.fixture
def server(servers):
    """A server with file systems."""
    return servers("-lrumpvfs")


def settle(server, name, want, timeout=15.0):
    """The server frees a closed connection's process asynchronously: wait (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        have = sysctl(server, name)
        if have == want or time.monotonic() > deadline:
            return have
        time.sleep(0.1)


def test_open_close_cycles_leak_nothing(server):
    nprocs, nfiles = sysctl(server, "kern.nprocs"), sysctl(server, "kern.nfiles")
    script = textwrap.dedent("""
        import os
        fds = set()
        for i in range(10000):
            fd = os.open("/rump/cycle", os.O_CREAT | os.O_RDWR, 0o644)
            fds.add(fd)
            os.close(fd)
        print(len(fds), min(fds))
    """)
    out = ok(server, ["python3", "-c", script], timeout=300).split()
    assert out == [b"1", b"128"]            # the one number, reused: every close reached the kernel
    assert settle(server, "kern.nprocs", nprocs) == nprocs
    assert settle(server, "kern.nfiles", nfiles) == nfiles


def test_fork_exit_cycles_leak_nothing(server):
    nprocs, nfiles = sysctl(server, "kern.nprocs"), sysctl(server, "kern.nfiles")
    script = textwrap.dedent("""
        import os
        fd = os.open("/rump/forkfile", os.O_CREAT | os.O_RDWR, 0o644)
        bad = 0
        for i in range(1000):
            pid = os.fork()
            if pid == 0:
                # the child has its own kernel process with a copy of the descriptor
                os._exit(0 if os.fstat(fd).st_size == i else 1)
            bad += os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0
            os.write(fd, b"x")
        print(bad)
    """)
    assert ok(server, ["python3", "-c", script], timeout=600) == b"0\n"
    assert settle(server, "kern.nprocs", nprocs) == nprocs
    assert settle(server, "kern.nfiles", nfiles) == nfiles


LOOP = textwrap.dedent("""
    import os, sys, time
    os.mkdir("/rump/alive")
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    n = 0
    while time.monotonic() < deadline:
        try:
            os.stat("/rump/alive")
        except OSError as e:
            print("error", e.strerror, n, flush=True)
            sys.exit(3)
        n += 1
    print("timeout", flush=True)
""")


def _start_loop(server, **extra):
    p = subprocess.Popen(["python3", "-c", LOOP], env=hijacked_env(server, **extra), cwd=server.workdir,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    return p


def _kill_server(server):
    for pid in server.pids:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while os.path.exists("/proc/%d" % server.pids[0]) and time.monotonic() < deadline:
        time.sleep(0.02)


def test_killed_server_is_an_error_not_a_hang(server):
    p = _start_loop(server)
    time.sleep(0.2)
    _kill_server(server)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 3
    assert out.startswith(b"error Transport endpoint is not connected")


def test_killed_server_with_a_reconnect_timeout(server):
    p = _start_loop(server, RUMPHIJACK_RETRYCONNECT="2")
    time.sleep(0.2)
    _kill_server(server)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 3
    assert err.decode() == ("rump_sp: connection to kernel lost, trying to reconnect ...\n"
                            "rump_sp: reconnect failed, 2 second timeout\n")


def test_killed_server_die_policy(server):
    p = _start_loop(server, RUMPHIJACK_RETRYCONNECT="die")
    time.sleep(0.2)
    _kill_server(server)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1 and b"error" not in out


def test_restarted_server_with_inftime(server):
    p = _start_loop(server, RUMPHIJACK_RETRYCONNECT="inftime")
    time.sleep(0.2)
    _kill_server(server)
    time.sleep(0.5)
    # a new kernel on the same socket: the client reconnects as a new process; /rump/alive is gone
    r = subprocess.run([cmd("rump_server"), "-lrumpvfs", server.url], cwd=server.workdir, env=server.env,
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    from ..conftest import pids_serving
    server.pids[:] = pids_serving(server.path)
    assert wait_for_socket(server.path)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 3
    assert out.startswith(b"error No such file or directory")
    assert err.decode().startswith("rump_sp: connection to kernel lost, trying to reconnect ...\n")
    assert err.decode().endswith("rump_sp: reconnected!\n")


HOSTFDS = textwrap.dedent("""
    import os
    hfd = os.open("/etc/hostname", os.O_RDONLY)
    os.dup2(hfd, 128)                 # a host descriptor where the first rump one would be shown
    os.dup2(hfd, 300)
    rfd = os.open("/rump/r", os.O_CREAT | os.O_RDWR, 0o644)
    os.write(rfd, b"rump data")
    with open("/etc/hostname", "rb") as f:
        want = f.read()
    print(rfd not in (128, 300), os.pread(128, 100, 0) == want, os.pread(300, 100, 0) == want,
          os.pread(rfd, 100, 0))
""")


def test_host_descriptors_above_fdoff_stay_host(server):
    assert ok(server, ["python3", "-c", HOSTFDS]) == b"True True True b'rump data'\n"


PROGRAMS = [
    ["ls", "-l", "/usr/share/doc/bash"],
    ["sha256sum", "/etc/os-release"],
    ["sh", "-c", "echo a | tr a b; cd /tmp && pwd; ls /nonexistent; exit 3"],
    ["bash", "-c", "x=$(printf '%s' hello); echo $x >&2; for i in 1 2 3; do echo $i; done | sort -r"],
    ["python3", "-c", "import os, subprocess, threading; print(os.getcwd()); "
                      "print(subprocess.run(['echo', 'sub'], capture_output=True).stdout); "
                      "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()"],
    ["find", "/usr/share/doc/bash", "-name", "R*"],
    ["tar", "-C", "/usr/share/doc", "-cf", "-", "bash"],
]


@pytest.mark.parametrize("argv", PROGRAMS, ids=[" ".join(a)[:30] for a in PROGRAMS])
def test_programs_not_touching_the_kernel_are_unchanged(server, argv):
    plain = subprocess.run(argv, env=server.env, capture_output=True, timeout=60, cwd="/")
    hijacked = run(server, argv, cwd="/")
    assert (hijacked.returncode, hijacked.stdout, hijacked.stderr) == \
        (plain.returncode, plain.stdout, plain.stderr)


TAKE_OUR_NUMBER = textwrap.dedent("""
    import os
    def link(f):
        try:
            return os.readlink("/proc/self/fd/" + f)
        except OSError:
            return ""                 # the listing's own descriptor, closed by now
    ours = [int(f) for f in os.listdir("/proc/self/fd") if int(f) > 2 and link(f).startswith("socket:")]
    fd = os.open("/etc/hostname", os.O_RDONLY)
    os.dup2(fd, ours[0])              # the program takes the library's number
    with open("/etc/hostname", "rb") as f:
        print(len(ours), os.read(ours[0], 100) == f.read())
    os.mkdir("/rump/still")           # the connection moved and works
    print(os.listdir("/rump"))
""")


def test_dup2_onto_the_library_socket_moves_it(server):
    assert ok(server, ["python3", "-c", TAKE_OUR_NUMBER]).decode().split("\n")[:2] == \
        ["1 True", "['dev', 'still']"]


def test_http_server_and_curl_under_the_library_use_host_sockets(server, tmp_path):
    """With a RUMPHIJACK that has no socket=, a hijacked web server and client talk over the host's."""
    import shutil
    import socket
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "page").write_bytes(b"served\n")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    web = subprocess.Popen(["python3", "-m", "http.server", "-b", "127.0.0.1", str(port)],
                           cwd=str(tmp_path / "www"), env=hijacked_env(server, RUMPHIJACK="path=/rump"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        out = ok(server, ["curl", "-s", "http://127.0.0.1:%d/page" % port], RUMPHIJACK="path=/rump")
        assert out == b"served\n"
    finally:
        web.kill()
        web.wait()


def test_killed_server_once_policy(server):
    p = _start_loop(server, RUMPHIJACK_RETRYCONNECT="once")
    time.sleep(0.2)
    _kill_server(server)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 3 and out.startswith(b"error Transport endpoint is not connected")
    assert err == b""


def test_hijacked_shell_forks_across_a_restart_with_inftime(server):
    """A hijacked shell running commands in a loop when the server is killed and started
    again: its next fork reconnects (the tutorial's messages) instead of failing."""
    loop = ("i=0; while [ $i -lt 30 ]; do /bin/true || echo fail $i; i=$((i+1)); sleep 0.1; done; "
            "mkdir /rump/after && ls /rump")
    p = subprocess.Popen(["sh", "-c", loop], env=hijacked_env(server, RUMPHIJACK_RETRYCONNECT="inftime"),
                         cwd=server.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    _kill_server(server)
    # the shell's next fork finds the kernel gone and keeps trying
    assert p.stderr.readline() == b"rump_sp: connection to kernel lost, trying to reconnect ...\n"
    r = subprocess.run([cmd("rump_server"), "-lrumpvfs", server.url], cwd=server.workdir, env=server.env,
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    from ..conftest import pids_serving
    server.pids[:] = pids_serving(server.path)
    out, err = p.communicate(timeout=120)
    assert (p.returncode, out.split()) == (0, [b"after", b"dev"]), err
    assert err == b"rump_sp: reconnected!\n"
