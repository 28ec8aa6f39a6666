"""librumphijack over the kernel's TCP: `python3 -m http.server` and curl, two unmodified
programs, talk through one rump kernel's TCP/IP stack (the host's stack never sees the
port), and a client loop survives kill -9 and a restart of the server with
RUMPHIJACK_RETRYCONNECT=inftime, printing the tutorial's messages."""
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import textwrap
import time

import pytest

from .hijackkit import hijacked_env, ok, run
from ..conftest import cmd, pids_serving, wait_for_socket

NET = ("-lrumpvfs", "-lrumpnet", "-lrumpnet_net", "-lrumpnet_netinet")


@pytest.fixture
def net(servers):
    """A server with the IPv4 stack, TCP included."""
    return servers(*NET)


def need_curl():
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed (apt-get install curl)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def host_refuses(port):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
        return False
    except ConnectionRefusedError:
        return True
    finally:
        s.close()


def start_web(server, root, port, **extra):
    """A hijacked `python3 -m http.server` on the kernel's 127.0.0.1:port, waited for (bounded)
    with hijacked curl probes."""
    web = subprocess.Popen(["python3", "-m", "http.server", "-b", "127.0.0.1", str(port)], cwd=str(root),
                           env=hijacked_env(server, **extra), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = run(server, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                         "http://127.0.0.1:%d/" % port], timeout=30)
        if r.stdout == b"200":
            return web
        if web.poll() is not None:
            raise AssertionError("http.server died: %s" % web.stderr.read().decode()[-2000:])
        time.sleep(0.2)
    web.kill()
    raise AssertionError("http.server did not answer in the kernel")


def stop(p):
    if p.poll() is None:
        p.kill()
    p.wait()


def test_curl_and_http_server_over_the_rump_stack(net, tmp_path):
    need_curl()
    www = tmp_path / "www"
    www.mkdir()
    body = os.urandom(1 << 20)
    (www / "big").write_bytes(body)
    (www / "page").write_bytes(b"served by the kernel's TCP\n")
    port = free_port()
    web = start_web(net, www, port)
    try:
        assert host_refuses(port)          # the host's stack has no listener there
        assert ok(net, ["curl", "-s", "http://127.0.0.1:%d/page" % port]) == b"served by the kernel's TCP\n"
        got = ok(net, ["curl", "-s", "http://127.0.0.1:%d/big" % port], timeout=120)
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(body).hexdigest()
        # curl's wait mixes its TCP socket (kernel) with its wake-up socketpair (host)
        r = run(net, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                      "http://127.0.0.1:%d/missing" % port])
        assert r.stdout == b"404"
    finally:
        stop(web)


TCPECHO = textwrap.dedent("""
    import errno, fcntl, os, select, socket, threading
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    seen = []
    def serve():
        c, addr = srv.accept()
        seen.append("accepted %s %s" % (c.fileno() >= 128, addr[0]))
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d.upper())
        c.close()
    t = threading.Thread(target=serve)
    t.start()
    cl = socket.socket()
    cl.setblocking(False)
    try:
        cl.connect(("127.0.0.1", port))
    except BlockingIOError as e:
        print("connect", errno.errorcode[e.errno])
    select.select([], [cl], [], 10)
    print("so_error", cl.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    cl.setblocking(True)
    cl.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print("nodelay", cl.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    data = os.urandom(300000).hex().encode()
    def send():                     # while the main thread reads the echo back
        cl.sendall(data)
        cl.shutdown(socket.SHUT_WR)
    w = threading.Thread(target=send)
    w.start()
    got = b""
    while True:
        d = cl.recv(65536)
        if not d:
            break
        got += d
    w.join()
    print("echo", got == data.upper())
    t.join()
    print(*seen)
    r = socket.socket()
    try:
        r.connect(("127.0.0.1", 1))
    except OSError as e:
        print("refused", errno.errorcode[e.errno])
""")


def test_tcp_echo_in_the_kernel(net):
    out = ok(net, ["python3", "-c", TCPECHO], timeout=120).decode().splitlines()
    assert out == ["connect EINPROGRESS", "so_error 0", "nodelay 1", "echo True", "accepted True 127.0.0.1",
                   "refused ECONNREFUSED"]


FETCHLOOP = textwrap.dedent("""
    import os, sys, time, urllib.request
    url, flag = sys.argv[1], sys.argv[2]
    ok = 0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not os.path.exists(flag):
        try:
            urllib.request.urlopen(url, timeout=5).read()
            ok += 1
            if ok == 3:
                print("running", flush=True)
        except OSError:
            time.sleep(0.1)
    final = 0
    for i in range(3):
        try:
            final += urllib.request.urlopen(url, timeout=5).read() == b"x"
        except OSError as e:
            print("error", e, flush=True)
    print("final", final, flush=True)
""")



def test_client_loop_survives_kill_and_restart_with_inftime(net, tmp_path):
    """kill -9 the TCP/IP server under a client loop and start a new one (and a new web
    server in it): the client prints the rump_sp: messages and fetches again."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "p").write_bytes(b"x")
    port = free_port()
    need_curl()
    web = start_web(net, www, port)
    flag = tmp_path / "restarted"
    loop = subprocess.Popen(["python3", "-c", FETCHLOOP, "http://127.0.0.1:%d/p" % port, str(flag)],
                            env=hijacked_env(net, RUMPHIJACK_RETRYCONNECT="inftime"), cwd=net.workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    web2 = None
    try:
        assert loop.stdout.readline() == b"running\n"
        for pid in net.pids:
            os.kill(pid, signal.SIGKILL)
        stop(web)
        # the loop's next call finds the kernel gone and keeps trying
        assert loop.stderr.readline() == b"rump_sp: connection to kernel lost, trying to reconnect ...\n"
        r = subprocess.run([cmd("rump_server"), *NET, net.url], cwd=net.workdir, env=net.env,
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        net.pids[:] = pids_serving(net.path)
        assert wait_for_socket(net.path)
        web2 = start_web(net, www, port)   # the new kernel, configured: a web server in it
        flag.write_bytes(b"")
        out, err = loop.communicate(timeout=120)
        assert out.decode().splitlines()[-1] == "final 3", out
        assert "rump_sp: reconnected!\n" in err.decode()
    finally:
        stop(loop)
        stop(web)
        if web2 is not None:
            stop(web2)


CURLLOOP = r"""
ok=0; i=0
while [ $i -lt 900 ] && [ ! -e "$2" ]; do
    i=$((i+1))
    if curl -s -m 10 -o /dev/null "$1"; then ok=$((ok+1)); fi
    if [ $ok -eq 3 ]; then echo running; fi
    sleep 0.1
done
final=0
for j in 1 2 3; do
    if curl -s -m 10 -o /dev/null "$1"; then final=$((final+1)); fi
done
echo "final $final"
"""


def test_curl_loop_in_a_hijacked_shell_across_kill_and_restart(net, tmp_path):
    """The issue's session: a hijacked shell runs curl in a loop under inftime; the server
    is killed with -9 and started again (and configured: a web server in it). The shell's
    next fork reconnects with the tutorial's messages, and curl works again."""
    need_curl()
    www = tmp_path / "www"
    www.mkdir()
    (www / "p").write_bytes(b"x")
    port = free_port()
    web = start_web(net, www, port)
    flag = tmp_path / "restarted"
    loop = subprocess.Popen(["sh", "-c", CURLLOOP, "sh", "http://127.0.0.1:%d/p" % port, str(flag)],
                            env=hijacked_env(net, RUMPHIJACK_RETRYCONNECT="inftime"), cwd=net.workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    web2 = None
    try:
        assert loop.stdout.readline() == b"running\n"
        for pid in net.pids:
            os.kill(pid, signal.SIGKILL)
        stop(web)
        # programs the shell started while the kernel was gone may stop at start-up
        # ("rumpclient init"), as NetBSD's do; the shell itself keeps trying
        seen = []
        while len(seen) < 100:
            line = loop.stderr.readline()
            seen.append(line)
            if not line or line == b"rump_sp: connection to kernel lost, trying to reconnect ...\n":
                break
        assert seen[-1] == b"rump_sp: connection to kernel lost, trying to reconnect ...\n", seen
        assert all(b"rumpclient init" in x for x in seen[:-1]), seen
        r = subprocess.run([cmd("rump_server"), *NET, net.url], cwd=net.workdir, env=net.env,
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        net.pids[:] = pids_serving(net.path)
        assert wait_for_socket(net.path)
        web2 = start_web(net, www, port)
        flag.write_bytes(b"")
        out, err = loop.communicate(timeout=180)
        assert out.decode().splitlines()[-1] == "final 3", out
        assert "rump_sp: reconnected!\n" in err.decode()
    finally:
        stop(loop)
        stop(web)
        if web2 is not None:
            stop(web2)


def test_tcp_connection_cycles_leak_nothing(net):
    from .hijackkit import sysctl
    nfiles = sysctl(net, "kern.nfiles")
    script = textwrap.dedent("""
        import socket
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        fds = set()
        for i in range(300):
            c = socket.create_connection(srv.getsockname())
            a, _ = srv.accept()
            c.sendall(b"x")
            assert a.recv(1) == b"x"
            fds.update((c.fileno(), a.fileno()))
            c.close()
            a.close()
        print(len(fds))
    """)
    assert ok(net, ["python3", "-c", script], timeout=300) == b"2\n"   # the same two numbers each time
    deadline = time.monotonic() + 15
    while sysctl(net, "kern.nfiles") != nfiles and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sysctl(net, "kern.nfiles") == nfiles
