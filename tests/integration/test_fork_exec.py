"""fork and exec across the sysproxy protocol: descriptors are inherited as a kernel would."""
import subprocess
import sys
import textwrap

FORK = textwrap.dedent("""
    import os
    from rumptools.sp import client
    c = client.init("parent")
    r, w = c.pipe2(0)
    parent_pid = c.getpid()
    pid = c.fork()
    if pid == 0:
        # child: a new kernel process sharing the pipe
        assert c.getpid() != parent_pid
        c.write(w, b"from child %d" % c.getpid())
        os._exit(0)
    os.waitpid(pid, 0)
    print(c.read(r, 100).decode(), parent_pid, flush=True)
""")


def test_fork_shares_descriptors(server):
    r = subprocess.run([sys.executable, "-c", FORK], env=server.env, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    words = r.stdout.decode().split()
    assert words[:2] == ["from", "child"] and int(words[2]) != int(words[3])


EXEC_PARENT = textwrap.dedent("""
    import os, sys
    from rumptools.sp import client
    from rumptools.abi import syscalls
    c = client.init("before")
    r, w = c.pipe2(0)
    keep = c.dup(w)
    c.fcntl(w, syscalls.F_SETFD, syscalls.FD_CLOEXEC)
    c.write(w, b"hi")
    env, fd = c.exec_env()
    env = dict(os.environ, **env)
    os.execve(sys.executable, [sys.executable, "-c", CHILD, str(c.getpid()), str(r), str(w), str(keep)], env)
""")
EXEC_CHILD = textwrap.dedent("""
    import sys
    from rumptools.sp import client
    from rumptools.abi import errnos
    c = client.init("after")
    pid, r, w, keep = map(int, sys.argv[1:])
    assert c.getpid() == pid, "exec keeps the kernel process"
    assert c.read(r, 10) == b"hi", "descriptors survive exec"
    try:
        c.write(w, b"x")
        print("cloexec fd still open")
    except OSError as e:
        assert e.errno == errnos.EBADF
    assert c.write(keep, b"ok") == 2
    print("exec ok", c.read(r, 10).decode())
""")


def test_exec_keeps_process_and_closes_cloexec(server):
    code = "CHILD = %r\n" % EXEC_CHILD + EXEC_PARENT
    r = subprocess.run([sys.executable, "-c", code], env=server.env, capture_output=True, timeout=30)
    assert r.stdout.decode().strip() == "exec ok ok", r.stderr.decode()


def test_unknown_fork_cookie_refused(server):
    from rumptools.sp import client, url, wire
    from rumptools.abi import errnos
    c = client.Client(url.parse(server.url), "x")
    try:
        c.connect(wire.HS_FORK, b"\0" * 16)
        raise AssertionError("connected with a bogus cookie")
    except client.RumpError as e:
        assert e.errno == errnos.ESRCH


EXEC_WITH_SLEEPER = textwrap.dedent("""
    import os, sys, threading, time
    from rumptools.sp import client
    c = client.init("sleepy")
    r, w = c.pipe2(0)
    threading.Thread(target=lambda: c.read(r, 10), daemon=True).start()
    time.sleep(0.3)                       # the read now sleeps in the kernel
    env, fd = c.exec_env()
    os.execve(sys.executable, [sys.executable, "-c", AFTER], dict(os.environ, **env))
""")
EXEC_AFTER = textwrap.dedent("""
    import time
    from rumptools.sp import client
    c = client.init("woke")
    for _ in range(100):
        if c.sysctl("kern.nlwps", 0, None)[1] == 1:     # only this call
            break
        time.sleep(0.02)
    print("lwps", c.sysctl("kern.nlwps", 0, None)[1])
""")


def test_exec_interrupts_calls_the_old_image_left_sleeping(server):
    code = "AFTER = %r\n" % EXEC_AFTER + EXEC_WITH_SLEEPER
    r = subprocess.run([sys.executable, "-c", code], env=server.env, capture_output=True, timeout=30)
    assert r.stdout.decode().strip() == "lwps 1", r.stderr.decode()
