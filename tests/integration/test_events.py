"""Event primitives through a real server: abandoned sleeps leave no timeout (issue 8
item 8), and poll/select over the wire wake on another thread's write."""
import subprocess
import sys
import textwrap
import threading
import time

from rumptools.abi.poll import POLLHUP, POLLIN, POLLOUT
from rumptools.sp import client, url

from . import rawproto


def callouts(server):
    r = server.run("rump.sysctl", "-n", "kern.rump.callouts")
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


def wait_for(pred, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_disconnect_during_long_sleeps_leaves_no_callout(server):
    base = callouts(server)
    s = rawproto.guest(server.path, "sleeper")
    n = 100
    frames = [rawproto.syscall_frame(10 + i, "__nanosleep50", 3600 * 10**9) for i in range(n // 2)]
    frames += [rawproto.syscall_frame(100 + i, "poll", ((-1, 0),), 3_600_000) for i in range(n // 2)]
    s.sendall(b"".join(frames))
    assert wait_for(lambda: callouts(server) >= base + n), "the sleeps never armed their timeouts"
    s.close()                               # the client goes away mid-sleep
    assert wait_for(lambda: callouts(server) == base), "cancelled timeouts left behind"
    r = server.run("rump.sysctl", "-n", "kern.nlwps")
    assert r.stdout.strip() == b"1", "only the sysctl call itself is running"


def test_poll_and_select_over_the_wire(server):
    c = client.Client(url.parse(server.url), "poller").connect()
    try:
        r, w = c.pipe2(0)
        assert c.poll(((r, POLLIN), (w, POLLOUT)), 0) == (0, POLLOUT)
        box = {}
        t = threading.Thread(target=lambda: box.update(res=c.poll(((r, POLLIN),), 30_000)))
        t.start()
        time.sleep(0.2)
        assert t.is_alive()
        c.write(w, b"wake")
        t.join(20)
        assert box == {"res": (POLLIN,)}
        t0 = time.monotonic()
        assert c.select((), (), (r,), 200_000) == ((), (), ())
        assert time.monotonic() - t0 >= 0.19
        assert c.select((r,), (w,), (), None) == ((r,), (w,), ())
        c.close(w)
        assert c.pollts(((r, POLLIN),), None) == (POLLIN | POLLHUP,)
    finally:
        c.disconnect()


POLL_FORK = textwrap.dedent("""
    import os, time
    from rumptools.sp import client
    from rumptools.abi.poll import POLLIN
    c = client.init("parent")
    r, w = c.pipe2(0)
    pid = c.fork()
    if pid == 0:                    # the child: another kernel process sharing the pipe
        time.sleep(0.3)
        c.write(w, b"from the child")
        os._exit(0)
    print(c.poll(((r, POLLIN),), None), c.select((r,), (), (), None), c.read(r, 100).decode(),
          flush=True)
    os.waitpid(pid, 0)
""")


def test_poll_woken_by_another_process_write(server):
    r = subprocess.run([sys.executable, "-c", POLL_FORK], env=server.env, capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == "(1,) ((0,), (), ()) from the child"
