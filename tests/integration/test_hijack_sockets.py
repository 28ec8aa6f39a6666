"""librumphijack's sockets: unmodified programs making UDP sockets in the rump kernel
(checked from a second, non-hijacked client of the same kernel and against the host),
the socket= grammar, Linux's constants on the way in and out, non-blocking modes,
poll/select/epoll over a host pipe and a rump socket, and signals interrupting a
waiting kernel call."""
import os
import socket
import subprocess
import textwrap
import time

import pytest

from rumptools.sp import client as spclient
from rumptools.sp import url

from .hijackkit import compile_c, hijacked_env, ok, run, sysctl

NET = ("-lrumpvfs", "-lrumpnet", "-lrumpnet_net", "-lrumpnet_netinet")


@pytest.fixture
def net(servers):
    """A server with file systems and the IPv4 stack (lo0 at 127.0.0.1)."""
    return servers(*NET)


def kernel_client(server):
    return spclient.Client(url.parse(server.env["RUMP_SERVER"])).connect()


def free_host_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


ECHO = textwrap.dedent("""
    import socket, sys
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    print("bound", s.fileno() >= 128, flush=True)
    data, addr = s.recvfrom(100)
    s.sendto(data.upper(), addr)
    print(data.decode(), addr[0], flush=True)
""")


def test_udp_socket_of_a_python_script_lives_in_the_kernel(net):
    """A hijacked python3 binds a UDP port; a plain sysproxy client of the same kernel
    sends to it and gets the answer; the host never had the port."""
    port = free_host_udp_port()
    p = subprocess.Popen(["python3", "-c", ECHO, str(port)], env=hijacked_env(net), cwd=net.workdir,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"bound True\n"
        # the host's own stack has nothing on that port: binding it there works
        h = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        h.bind(("127.0.0.1", port))
        h.close()
        c = kernel_client(net)
        fd = c.socket(2, 2, 0)
        c.bind(fd, (2, "127.0.0.1", 0))
        c.sendto(fd, b"over rump", 0, (2, "127.0.0.1", port))
        data, addr = c.recvfrom(fd, 100, 0)
        assert data == b"OVER RUMP" and addr == (2, "127.0.0.1", port)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        assert out == b"over rump 127.0.0.1\n"
        c.disconnect()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_two_hijacked_processes_talk_udp(net):
    port = free_host_udp_port()
    p = subprocess.Popen(["python3", "-c", ECHO, str(port)], env=hijacked_env(net), cwd=net.workdir,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"bound True\n"
        send = ("import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "s.connect(('127.0.0.1', int(sys.argv[1])))\ns.send(b'ping')\n"
                "print(s.recv(10).decode(), s.getpeername()[1] == int(sys.argv[1]))")
        assert ok(net, ["python3", "-c", send, str(port)]) == b"PING True\n"
        out, _ = p.communicate(timeout=30)
        assert out == b"ping 127.0.0.1\n"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


CONSTANTS = textwrap.dedent("""
    import errno, fcntl, select, socket, struct, termios, array
    S = socket
    a = S.socket(S.AF_INET, S.SOCK_DGRAM | S.SOCK_NONBLOCK | S.SOCK_CLOEXEC)
    a.bind(("127.0.0.1", 0))
    port = a.getsockname()[1]
    b = S.socket(S.AF_INET, S.SOCK_DGRAM)
    try:
        b.bind(("127.0.0.1", port))
    except OSError as e:
        print("bind", errno.errorcode[e.errno])
    try:
        a.recv(10)
    except BlockingIOError as e:
        print("nonblock", errno.errorcode[e.errno])
    print("cloexec", bool(fcntl.fcntl(a.fileno(), fcntl.F_GETFD) & fcntl.FD_CLOEXEC))
    print("type", a.getsockopt(S.SOL_SOCKET, S.SO_TYPE) == S.SOCK_DGRAM,
          a.getsockopt(S.SOL_SOCKET, S.SO_DOMAIN) == S.AF_INET)
    a.setsockopt(S.SOL_SOCKET, S.SO_BROADCAST, 1)
    print("broadcast", a.getsockopt(S.SOL_SOCKET, S.SO_BROADCAST))
    a.setsockopt(S.IPPROTO_IP, S.IP_TTL, 7)
    print("ttl", a.getsockopt(S.IPPROTO_IP, S.IP_TTL))
    a.setsockopt(S.SOL_SOCKET, S.SO_RCVTIMEO, struct.pack("ll", 1, 500000))
    print("rcvtimeo", struct.unpack("ll", a.getsockopt(S.SOL_SOCKET, S.SO_RCVTIMEO, 16)))
    try:
        a.setsockopt(S.SOL_SOCKET, S.SO_PRIORITY, 1)
    except OSError as e:
        print("priority", errno.errorcode[e.errno])
    print("error", a.getsockopt(S.SOL_SOCKET, S.SO_ERROR))
    # fcntl O_NONBLOCK and ioctl FIONBIO on a kernel socket
    fl = fcntl.fcntl(b.fileno(), fcntl.F_GETFL)
    fcntl.fcntl(b.fileno(), fcntl.F_SETFL, fl | os_nonblock)
    try:
        b.recv(1)
    except BlockingIOError:
        print("fcntl nonblock")
    fcntl.ioctl(b.fileno(), termios.FIONBIO, struct.pack("i", 0))
    print("fionbio", fcntl.fcntl(b.fileno(), fcntl.F_GETFL) & os_nonblock == 0)
    b.sendto(b"12345", ("127.0.0.1", port))
    select.select([a], [], [], 20)          # the loopback delivers in the kernel's own time
    n = array.array("i", [0])
    fcntl.ioctl(a.fileno(), termios.FIONREAD, n, True)
    print("fionread", n[0])
    print("peek", a.recv(10, S.MSG_PEEK), a.recvfrom(3)[0])
    c = S.socket(S.AF_INET, S.SOCK_DGRAM)
    c.connect(("127.0.0.1", port))
    print("sendmsg", c.sendmsg([b"ab", b"cd"]))
    select.select([a], [], [], 20)
    data, anc, flags, addr = a.recvmsg(3)
    print("recvmsg", data, anc, flags & S.MSG_TRUNC != 0, addr == c.getsockname())
    try:
        S.socket(S.AF_INET6, S.SOCK_DGRAM)
    except OSError as e:
        print("inet6", errno.errorcode[e.errno])
""").replace("os_nonblock", "__import__('os').O_NONBLOCK")


def test_linux_constants_cross_to_the_kernel_and_back(net):
    out = ok(net, ["python3", "-c", CONSTANTS]).decode().splitlines()
    assert out == [
        "bind EADDRINUSE",
        "nonblock EAGAIN",
        "cloexec True",
        "type True True",
        "broadcast 1",
        "ttl 7",
        "rcvtimeo (1, 500000)",
        "priority ENOPROTOOPT",
        "error 0",
        "fcntl nonblock",
        "fionbio True",
        "fionread 5",
        "peek b'12345' b'123'",
        "sendmsg 4",
        "recvmsg b'abc' [] True True",
        "inet6 EAFNOSUPPORT",
    ]


GRAMMAR = textwrap.dedent("""
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    print(s.fileno() >= 128)
""")


@pytest.mark.parametrize("spec, in_kernel", [
    (None, True),                            # the default: socket=all:nolocal
    ("path=/rump,socket=inet", True),
    ("path=/rump,socket=all:noinet", False),
    ("path=/rump,socket=local", False),
    ("path=/rump", False),                   # no socket=: nothing
])
def test_socket_spec_decides_the_kernel(net, spec, in_kernel):
    extra = {} if spec is None else {"RUMPHIJACK": spec}
    assert ok(net, ["python3", "-c", GRAMMAR], **extra) == (b"True\n" if in_kernel else b"False\n")


MIXED = textwrap.dedent("""
    import os, select, socket, sys, threading, time
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r, w = os.pipe()
    kind = sys.argv[1]

    def later(fn):
        t = threading.Timer(0.3, fn)
        t.start()
        return t

    def wait():
        if kind == "select":
            return sorted(select.select([s, r], [], [], 30)[0], key=lambda x: x if isinstance(x, int) else 999)
        if kind == "poll":
            p = select.poll()
            p.register(s, select.POLLIN)
            p.register(r, select.POLLIN)
            return sorted(f for f, ev in p.poll(30000))
        e = select.epoll()
        e.register(s, select.EPOLLIN)
        e.register(r, select.EPOLLIN)
        got = sorted(f for f, ev in e.poll(30))
        e.close()
        return got

    def name(x):
        x = x if isinstance(x, int) else x.fileno()
        return "pipe" if x == r else "sock" if x == s.fileno() else x

    # the host pipe wakes the wait (the kernel's half is interrupted)
    later(lambda: os.write(w, b"x")).join(0)
    t0 = time.monotonic()
    print([name(x) for x in wait()], time.monotonic() - t0 < 20)
    os.read(r, 1)
    # a datagram into the rump socket wakes it
    later(lambda: peer.sendto(b"d", ("127.0.0.1", port)))
    t0 = time.monotonic()
    print([name(x) for x in wait()], time.monotonic() - t0 < 20)
    # both ready
    os.write(w, b"y")
    print([name(x) for x in wait()])
    # nothing ready: the timeout passes
    s.recv(10); os.read(r, 1)
    if kind == "poll":
        p = select.poll(); p.register(s, select.POLLIN); p.register(r, select.POLLIN)
        print(p.poll(200))
    elif kind == "select":
        print(select.select([s, r], [], [], 0.2)[0])
    else:
        e = select.epoll(); e.register(s, select.EPOLLIN); e.register(r, select.EPOLLIN)
        print(e.poll(0.2))
""")


@pytest.mark.parametrize("kind", ["poll", "select", "epoll"])
def test_waits_mixing_a_host_pipe_and_a_rump_socket_wake_on_either(net, kind):
    out = ok(net, ["python3", "-c", MIXED, kind], timeout=120).decode().splitlines()
    assert out == ["['pipe'] True", "['sock'] True", "['pipe', 'sock']", "[]"]
    # the kernel's half left no waiting call behind
    assert sysctl(net, "kern.sysproxy.sleeping") == 0


EPOLL_MORE = textwrap.dedent("""
    import errno, os, select, socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    e = select.epoll()
    e.register(s, select.EPOLLOUT | select.EPOLLONESHOT)
    print(len(e.poll(1)), len(e.poll(0.1)))          # one-shot: reported once
    e.modify(s, select.EPOLLOUT)
    print(e.poll(1) == [(s.fileno(), select.EPOLLOUT)])
    try:
        e.register(s, select.EPOLLIN)
    except OSError as x:
        print(errno.errorcode[x.errno])
    e.unregister(s)
    try:
        e.unregister(s)
    except OSError as x:
        print(errno.errorcode[x.errno])
    e.register(s, select.EPOLLOUT)
    s.close()                                        # a closed member leaves the set
    print(e.poll(0.1))
""")


def test_epoll_members_in_the_kernel(net):
    out = ok(net, ["python3", "-c", EPOLL_MORE]).decode().splitlines()
    assert out == ["1 0", "True", "EEXIST", "ENOENT", "[]"]


CSIG = r"""
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
static volatile sig_atomic_t hits;
static void h(int s) { hits++; }
int main(int argc, char **argv) {
    int restart = strcmp(argv[1], "restart") == 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = h;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, NULL);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {AF_INET, 0};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || s < 128)
        return 2;
    /* with SA_RESTART the wait goes on after the handler, until the receive timeout */
    struct timeval tv = {4, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    alarm(1);
    char buf[10];
    ssize_t n = recv(s, buf, sizeof(buf), 0);
    printf("%zd %s %d\n", n, n < 0 ? strerror(errno) : "-", (int)hits);
    return 0;
}
"""


@pytest.mark.parametrize("mode, want", [
    ("intr", b"-1 Interrupted system call 1\n"),
    ("restart", b"-1 Resource temporarily unavailable 1\n"),
])
def test_signal_interrupts_or_restarts_a_waiting_kernel_call(net, tmp_path, mode, want):
    prog = compile_c(tmp_path, "sig", CSIG, "-O2")
    assert ok(net, [prog, mode], timeout=60) == want
    assert sysctl(net, "kern.sysproxy.sleeping") == 0


def test_socket_cycles_leak_nothing(net):
    nfiles = sysctl(net, "kern.nfiles")
    script = ("import socket\nfds = set()\nfor i in range(2000):\n"
              "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n    s.bind(('127.0.0.1', 0))\n"
              "    fds.add(s.fileno())\n    s.close()\nprint(len(fds))")
    assert ok(net, ["python3", "-c", script], timeout=300) == b"1\n"
    deadline = time.monotonic() + 15
    while sysctl(net, "kern.nfiles") != nfiles and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sysctl(net, "kern.nfiles") == nfiles


def test_name_resolution_stays_on_the_host(net):
    """glibc's resolver opens its sockets out of the library's sight: getaddrinfo answers
    from the host while the program's own sockets are in the kernel."""
    script = ("import socket\nprint(sorted({a[4][0] for a in socket.getaddrinfo('localhost', 80, "
              "socket.AF_INET)}))\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nprint(s.fileno() >= 128)")
    assert ok(net, ["python3", "-c", script]).decode().splitlines() == ["['127.0.0.1']", "True"]


def test_kernel_without_networking_refuses_inet(servers):
    vfs = servers("-lrumpvfs")
    r = run(vfs, ["python3", "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"])
    assert r.returncode == 1 and b"Address family not supported by protocol" in r.stderr
    assert os.path.exists(vfs.path)


LOCAL = textwrap.dedent("""
    import errno, os, socket
    a, b = socket.socketpair()
    print(a.fileno() >= 128, a.family == socket.AF_UNIX)
    fd = os.open("/rump/passed", os.O_CREAT | os.O_RDWR, 0o644)
    os.write(fd, b"through SCM_RIGHTS")
    socket.send_fds(a, [b"fd"], [fd])
    msg, fds, flags, addr = socket.recv_fds(b, 10, 2)
    print(msg.decode(), len(fds), fds[0] not in (fd, -1), os.pread(fds[0], 100, 0).decode())
    socket.send_fds(a, [b"2"], [fd, fd])   # two descriptors, room for one: the other is closed
    msg, fds2, flags, addr = socket.recv_fds(b, 10, 1)
    print("truncated", len(fds2), bool(flags & socket.MSG_CTRUNC), os.pread(fds2[0], 7, 0).decode())
    r, w = os.pipe()                       # a host descriptor cannot go into the kernel
    try:
        socket.send_fds(a, [b"x"], [r])
    except OSError as e:
        print(errno.errorcode[e.errno])
    # a listener named in the kernel's file system
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind("/srv")
    s.listen(1)
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect("/srv")
    x, _ = s.accept()
    c.sendall(b"stream")
    print(x.recv(10).decode(), x.getsockname(), c.getpeername(), os.stat("/rump/srv").st_mode >> 12)
    import struct
    pid, uid, gid = struct.unpack("iII", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    print("peercred", pid > 1, uid, gid)       # the kernel's process, its credentials (root)
    d1, d2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    d2.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    d1.send(b"who")
    msg, anc, flags, _ = d2.recvmsg(10, socket.CMSG_SPACE(12))
    print("creds", msg.decode(), [(l == socket.SOL_SOCKET, t == socket.SCM_CREDENTIALS, len(d)) for l, t, d in anc],
          struct.unpack("iII", anc[0][2])[1:] if anc else None)
""")


def test_local_sockets_in_the_kernel(servers):
    """socket=all sends AF_LOCAL too: socketpair, SCM_RIGHTS with kernel descriptors, a
    named listener in the kernel's file system (the name is the kernel's, untranslated)."""
    srv = servers(*NET, "-lrumpnet_local")
    out = ok(srv, ["python3", "-c", LOCAL], RUMPHIJACK="path=/rump,socket=all").decode().splitlines()
    assert out == ["True True", "fd 1 True through SCM_RIGHTS", "truncated 1 True through", "ENOTSUP", "stream /srv /srv 12",
                   "peercred True 0 0", "creds who [(True, True, 12)] (0, 0)"]


BLOCKED = textwrap.dedent("""
    import errno, socket, sys
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 5353))
    print("waiting", flush=True)
    try:
        s.recv(10)                     # the server is killed while this waits
        print("recv returned")
    except OSError as e:
        print("recv", errno.errorcode[e.errno], flush=True)
    try:                               # the next calls go to whatever kernel there is now
        t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t.bind(("127.0.0.1", 5353))
        print("bound again", t.fileno() >= 128)
    except OSError as e:
        print("socket", errno.errorcode[e.errno])
""")


def _kill(server):
    import signal
    for pid in server.pids:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(os.path.exists("/proc/%d" % p) for p in server.pids) and time.monotonic() < deadline:
        time.sleep(0.02)


def _blocked_client(server, **extra):
    p = subprocess.Popen(["python3", "-c", BLOCKED], env=hijacked_env(server, **extra), cwd=server.workdir,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"waiting\n"
    time.sleep(0.2)                    # into the kernel's wait
    return p


def test_server_killed_under_a_waiting_call_is_an_error(net):
    p = _blocked_client(net)
    _kill(net)
    out, err = p.communicate(timeout=30)
    assert out.decode().splitlines() == ["recv ENOTCONN", "socket ENOTCONN"], err


def test_server_killed_under_a_waiting_call_reconnects_with_inftime(net):
    """The tutorial's session: kill -9 the TCP/IP server, start a new one; the client says
    so on stderr and its next calls work in the new kernel (its old sockets are gone)."""
    from ..conftest import cmd, pids_serving, wait_for_socket
    p = _blocked_client(net, RUMPHIJACK_RETRYCONNECT="inftime")
    _kill(net)
    time.sleep(0.5)
    r = subprocess.run([cmd("rump_server"), *NET, net.url], cwd=net.workdir, env=net.env,
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    net.pids[:] = pids_serving(net.path)
    assert wait_for_socket(net.path)
    out, err = p.communicate(timeout=60)
    assert out.decode().splitlines() == ["recv EBADF", "bound again True"]
    assert err.decode().startswith("rump_sp: connection to kernel lost, trying to reconnect ...\n")
    assert err.decode().endswith("rump_sp: reconnected!\n")


ASYNCIO = textwrap.dedent("""
    import asyncio
    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, t):
            self.t = t
        def datagram_received(self, d, a):
            self.t.sendto(d.upper(), a)
    async def main():
        loop = asyncio.get_running_loop()
        t, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        port = t.get_extra_info("sockname")[1]
        got = loop.create_future()
        class Client(asyncio.DatagramProtocol):
            def datagram_received(self, d, a):
                got.set_result(d)
        ct, _ = await loop.create_datagram_endpoint(Client, remote_addr=("127.0.0.1", port))
        ct.sendto(b"through asyncio")
        print((await asyncio.wait_for(got, 20)).decode(), t.get_extra_info("socket").fileno() >= 128)
    asyncio.run(main())
""")


def test_asyncio_event_loop_on_kernel_sockets(net):
    """asyncio's epoll holds kernel sockets beside its host self-pipe (a local socketpair,
    on the host under the default nolocal)."""
    assert ok(net, ["python3", "-c", ASYNCIO], timeout=60) == b"THROUGH ASYNCIO True\n"


CPOLLSIG = r"""
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
static void h(int s) { }
int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = h;
    sa.sa_flags = SA_RESTART;          /* poll and select fail with EINTR all the same */
    sigaction(SIGALRM, &sa, NULL);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 128)
        return 2;
    struct pollfd p = {s, POLLIN, 0};
    alarm(1);
    int n = poll(&p, 1, 20000);
    printf("poll %d %s\n", n, n < 0 ? strerror(errno) : "-");
    fd_set r;
    FD_ZERO(&r);
    FD_SET(s, &r);
    struct timeval tv = {20, 0};
    alarm(1);
    n = select(s + 1, &r, NULL, NULL, &tv);
    printf("select %d %s\n", n, n < 0 ? strerror(errno) : "-");
    return 0;
}
"""


def test_signal_ends_poll_and_select_on_kernel_sockets_with_eintr(net, tmp_path):
    prog = compile_c(tmp_path, "pollsig", CPOLLSIG, "-O2")
    assert ok(net, [prog], timeout=60) == b"poll -1 Interrupted system call\nselect -1 Interrupted system call\n"
    assert sysctl(net, "kern.sysproxy.sleeping") == 0
