"""AF_LOCAL sockets, the Python socket objects (rumptools.sp.rsocket), rump.sockstat and the
socket lists of rump.netstat, against real rump_server processes."""
import errno
import re
import socket as host_socket
import struct
import threading
import time

import pytest

from rumptools.sp import client as spclient
from rumptools.sp import rsocket
from rumptools.sp import url

from .hijackkit import ok as hijack_ok

NET = ("-lrumpvfs", "-lrumpnet", "-lrumpnet_net", "-lrumpnet_netinet", "-lrumpnet_local")


def ok(h, *argv):
    r = h.run(*argv)
    assert r.returncode == 0, (argv, r.stdout.decode(), r.stderr.decode())
    return r.stdout.decode()


@pytest.fixture
def srv(servers):
    return servers(*NET, name="k")


@pytest.fixture
def conns(srv):
    made = []

    def connect(comm="pytest"):
        c = spclient.Client(url.parse(srv.url), comm=comm).connect()
        made.append(c)
        return c
    yield connect
    for c in made:
        c.disconnect()


def test_stream_echo_with_makefile_and_context_managers(conns):
    c = conns()
    with rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_STREAM, client=c) as ls:
        ls.bind("/echo")
        ls.listen(4)
        assert c.stat("/echo").st_mode & 0o170000 == 0o140000
        done = {}

        def serve():
            conn, peer = ls.accept()
            with conn, conn.makefile("rwb") as f:
                done["peer"] = peer
                for line in f:
                    f.write(line.upper())
                    f.flush()
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        with rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_STREAM, client=conns()) as s:
            s.connect("/echo")
            assert s.getpeername() == "/echo"
            f = s.makefile("rw", encoding="ascii", newline="\n")
            f.write("hello\nworld\n")
            f.flush()
            assert f.readline() == "HELLO\n" and f.readline() == "WORLD\n"
            f.close()
            s.shutdown(rsocket.SHUT_WR)
        t.join(10)
        assert done["peer"] == ""


def test_errors_are_host_oserrors(conns):
    c = conns()
    s = rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_STREAM, client=c)
    with pytest.raises(FileNotFoundError):
        s.connect("/nowhere")
    assert s.connect_ex("/nowhere") == errno.ENOENT
    s.bind("/taken")
    with pytest.raises(OSError) as e:
        rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_DGRAM, client=c).bind("/taken")
    assert e.value.errno == errno.EADDRINUSE
    with pytest.raises(ConnectionRefusedError):
        rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_STREAM, client=c).connect("/taken")
    with pytest.raises(OSError) as e:
        rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_DGRAM, client=c).connect("/taken")
    assert e.value.errno == errno.EPROTOTYPE
    a, b = rsocket.socketpair(client=c)
    b.close()
    with pytest.raises(BrokenPipeError):
        a.sendall(b"x")


def test_timeouts_and_nonblocking(conns):
    c = conns()
    a, b = rsocket.socketpair(rsocket.AF_UNIX, rsocket.SOCK_STREAM, client=c)
    a.settimeout(0.3)
    assert a.gettimeout() == 0.3 and a.getblocking()
    t0 = time.monotonic()
    with pytest.raises(rsocket.timeout):
        a.recv(10)
    took = time.monotonic() - t0
    assert took >= 0.29, took
    b.setblocking(False)
    with pytest.raises(BlockingIOError):
        b.recv(10)
    a.sendall(b"ping")
    for _ in range(100):
        try:
            assert b.recv(10) == b"ping"
            break
        except BlockingIOError:
            time.sleep(0.01)
    else:
        pytest.fail("no data")
    a.setblocking(True)
    assert a.gettimeout() is None
    threading.Timer(0.2, lambda: b.send(b"late")).start()
    assert a.recv(10) == b"late"


def test_udp_over_loopback(conns):
    c = conns()
    with rsocket.socket(rsocket.AF_INET, rsocket.SOCK_DGRAM, client=c) as r, \
            rsocket.socket(rsocket.AF_INET, rsocket.SOCK_DGRAM, client=c) as s:
        r.setsockopt(host_socket.SOL_SOCKET, host_socket.SO_REUSEADDR, 1)
        assert r.getsockopt(host_socket.SOL_SOCKET, host_socket.SO_REUSEADDR) == 1
        assert r.getsockopt(host_socket.SOL_SOCKET, host_socket.SO_TYPE) == rsocket.SOCK_DGRAM
        r.bind(("127.0.0.1", 9999))
        assert r.getsockname() == ("127.0.0.1", 9999)
        s.sendto(b"datagram", ("127.0.0.1", 9999))
        r.settimeout(5)
        data, peer = r.recvfrom(100)
        assert data == b"datagram" and peer == ("127.0.0.1", s.getsockname()[1])
        buf = bytearray(4)
        s.sendto(b"abcdefgh", ("127.0.0.1", 9999))
        assert r.recv_into(buf) == 4 and bytes(buf) == b"abcd"
        r.settimeout(0.2)
        with pytest.raises(rsocket.timeout):
            r.recv(10)
        s.connect(("127.0.0.1", 9998))
        s.send(b"nobody")
        with pytest.raises(ConnectionRefusedError):          # the port unreachable comes back
            for _ in range(50):
                s.send(b"nobody")
                time.sleep(0.02)


def test_descriptor_passing_between_processes(conns):
    sender, receiver = conns("sender"), conns("receiver")
    fd = sender.open("/note", 0x202, 0o644)
    sender.write(fd, b"passed along")
    with rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_DGRAM, client=receiver) as r, \
            rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_DGRAM, client=sender) as s:
        r.bind("/fdpass")
        s.sendmsg([b"take this"], [(host_socket.SOL_SOCKET, rsocket.SCM_RIGHTS, struct.pack("i", fd))], 0,
                  "/fdpass")
        sender.close(fd)
        r.settimeout(5)
        data, anc, flags, addr = r.recvmsg(100, 64)
        assert data == b"take this" and flags == 0 and addr == ""
        (level, typ, raw), = anc
        assert (level, typ) == (host_socket.SOL_SOCKET, rsocket.SCM_RIGHTS)
        newfd, = struct.unpack("i", raw)
        receiver.lseek(newfd, 0, 0)
        assert receiver.read(newfd, 100) == b"passed along"


def test_sockstat_and_netstat_list_sockets(srv, conns):
    c = conns("sockuser")
    u = rsocket.socket(rsocket.AF_INET, rsocket.SOCK_DGRAM, client=c)
    u.bind(("0.0.0.0", 7777))
    v = rsocket.socket(rsocket.AF_INET, rsocket.SOCK_DGRAM, client=c)
    v.connect(("127.0.0.1", 53))
    vport = v.getsockname()[1]
    ls = rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_STREAM, client=c)
    ls.bind("/tmp.sock")
    ls.listen(1)
    cl = rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_STREAM, client=c)
    cl.connect("/tmp.sock")
    acc, _ = ls.accept()
    cl.send(b"queued")
    fds = [s.fileno() for s in (u, v, ls, cl, acc)]
    out = ok(srv, "rump.sockstat", "-n").splitlines()
    assert out[0] == "USER     COMMAND    PID   FD PROTO  LOCAL ADDRESS         FOREIGN ADDRESS"
    pid = c.getpid()
    row = "root     sockuser   %-5d %2d %-6s %-21s %s"
    assert out[1:] == [row % (pid, fds[0], "udp", "*.7777", "*.*"),
                       row % (pid, fds[1], "udp", "127.0.0.1.%d" % vport, "127.0.0.1.53"),
                       row % (pid, fds[2], "stream", "/tmp.sock", "-"),
                       row % (pid, fds[3], "stream", "-", "/tmp.sock"),
                       row % (pid, fds[4], "stream", "/tmp.sock", "-")]
    assert ok(srv, "rump.sockstat", "-n", "-c", "-4").splitlines()[1:] == [out[2]]
    assert ok(srv, "rump.sockstat", "-n", "-l").splitlines()[1:] == [out[1], out[3]]
    assert ok(srv, "rump.sockstat", "-n", "-p", "7770-7779").splitlines()[1:] == [out[1]]
    assert ok(srv, "rump.sockstat", "-u").splitlines()[1:] == out[3:]
    r = srv.run("rump.sockstat", "-f", "appletalk")
    assert r.returncode == 1 and r.stderr.decode() == "rump.sockstat: appletalk: unsupported protocol family\n"
    r = srv.run("rump.sockstat", "-u", "-p", "80")
    assert r.returncode == 1 and r.stderr.decode() == "rump.sockstat: local domain sockets do not have ports\n"
    r = srv.run("rump.sockstat", "-p", "80x")
    assert r.returncode == 1 and r.stderr.decode() == "rump.sockstat: 80x: Invalid argument\n"

    net = ok(srv, "rump.netstat", "-an").splitlines()
    assert net[:2] == ["Active Internet connections (including servers)",
                       "Proto Recv-Q Send-Q  Local Address          Foreign Address        State"]
    assert net[2:4] == ["udp        0      0  %-22s %-22s" % ("127.0.0.1.%d" % vport, "127.0.0.1.53"),
                        "udp        0      0  %-22s %-22s" % ("*.7777", "*.*")]
    assert net[4:6] == ["Active UNIX domain sockets",
                        "Address  Type   Recv-Q Send-Q    Inode     Conn     Refs  Nextref Addr"]
    unix = net[6:]
    assert len(unix) == 3
    hexes = r"[0-9a-f]{8,}"
    pat = r"(%s) stream %%6d      0 +([0-9a-f]+) +([0-9a-f]+) +0 +0 (.*)" % hexes
    rows = [re.fullmatch(pat % q, line) for q, line in zip((6, 0, 0), unix)]     # the accepted socket holds the bytes
    assert all(rows), unix
    assert [m.group(4) for m in rows] == ["/tmp.sock", "-> /tmp.sock", "/tmp.sock"]   # newest first
    acc_row, cl_row, ls_row = rows
    assert int(acc_row.group(3), 16) == int(cl_row.group(1), 16)        # Conn: the peer's pcb
    assert int(cl_row.group(3), 16) == int(acc_row.group(1), 16)
    assert int(ls_row.group(3), 16) == 0 and int(ls_row.group(2), 16) != 0     # a bound vnode
    plain = ok(srv, "rump.netstat", "-n").splitlines()
    assert plain[0] == "Active Internet connections" and plain[2:3] == net[2:3] and plain[3:] == net[4:]
    pcb = ok(srv, "rump.netstat", "-anA").splitlines()
    assert pcb[1] == "PCB      Proto Recv-Q Send-Q Local Address         Foreign Address       State"
    tail = "udp        0      0 %-21s %-21s" % ("127.0.0.1.%d" % vport, "127.0.0.1.53")
    assert re.fullmatch(r"[0-9a-f]{8,} " + re.escape(tail), pcb[2])
    assert ok(srv, "rump.netstat", "-an", "-f", "local").splitlines()[0] == "Active UNIX domain sockets"


def test_socket_node_shows_in_ls(srv, conns):
    c = conns()
    s = rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_DGRAM, client=c)
    c.umask(0o002)
    s.bind("/dgram.sock")
    s.close()
    out = hijack_ok(srv, ["ls", "-l", "/rump/dgram.sock"]).decode()
    assert out.startswith("srwxrwxr-x ") and out.rstrip().endswith("/rump/dgram.sock")


def test_rsocket_odds_and_ends(conns):
    c = conns()
    a, b = rsocket.socketpair(rsocket.AF_UNIX, rsocket.SOCK_DGRAM, client=c)
    a.setsockopt(host_socket.SOL_SOCKET, host_socket.SO_RCVTIMEO, struct.pack("@ll", 1, 500000))
    assert a.getsockopt(host_socket.SOL_SOCKET, host_socket.SO_RCVTIMEO) == 1500000
    assert a.getsockopt(host_socket.SOL_SOCKET, host_socket.SO_RCVTIMEO, 16) == struct.pack("@ll", 1, 500000)
    assert a.getsockopt(host_socket.SOL_SOCKET, host_socket.SO_SNDBUF) == 2048
    assert struct.unpack("i", a.getsockopt(host_socket.SOL_SOCKET, host_socket.SO_RCVBUF, 4)) == (4096,)
    assert a.getsockopt(0, 3, 12)[:4] == struct.pack("i", c.getpid())      # LOCAL_PEEREID
    d = b.dup()
    assert d.fileno() != b.fileno()
    a.send(b"one")
    buf = bytearray(8)
    assert d.recvfrom_into(buf) == (3, "") and bytes(buf[:3]) == b"one"
    fd = d.detach()
    assert d.fileno() == -1
    c.close(fd)
    s = rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_STREAM | rsocket.SOCK_NONBLOCK, client=c)
    assert s.gettimeout() == 0.0 and not s.getblocking()
    s.close()
    s.close()
    assert "closed" in repr(s)
    with pytest.raises(OSError) as e:
        rsocket.socket(rsocket.AF_INET, rsocket.SOCK_SEQPACKET, client=c)  # no such Internet protocol
    assert e.value.errno in (errno.EPROTONOSUPPORT, errno.EPROTOTYPE)
    with pytest.raises(TypeError):
        rsocket.socket(rsocket.AF_UNIX, rsocket.SOCK_DGRAM, client=c).bind(("x", 1))
