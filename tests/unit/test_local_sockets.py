"""AF_LOCAL sockets in process (rumpnet_local): names in the rump file system, the three
types, errors, buffers, options, descriptor passing and readiness."""
import struct

import pytest

from rumptools.abi import errnos
from rumptools.abi import kinfo_pcb as K
from rumptools.abi import net as N
from rumptools.abi.errnos import RumpError
from rumptools.abi.poll import POLLIN, POLLOUT
from rumptools.kernel.net.scm import SCM_CREDS, SCM_RIGHTS

from .kernelkit import boot, call, call_in_thread, spawn, wait_until

S_IFSOCK = 0o140000
ST, DG, SEQ = N.SOCK_STREAM, N.SOCK_DGRAM, N.SOCK_SEQPACKET


@pytest.fixture
def k():
    k = boot("rumpvfs", "rumpnet", "rumpnet_local")
    k.p = spawn(k)
    yield k
    k.reboot(0)


def err(k, p, *args):
    with pytest.raises(RumpError) as e:
        call(k, p, *args)
    return e.value.errno


def sock(k, p, stype=ST):
    return call(k, p, "socket", N.AF_LOCAL, stype, 0)


def listener(k, p, path, backlog=5, stype=ST):
    s = sock(k, p, stype)
    call(k, p, "bind", s, (N.AF_LOCAL, path))
    call(k, p, "listen", s, backlog)
    return s


def connected(k, p, path="/srv", stype=ST):
    ls = listener(k, p, path, stype=stype)
    c = sock(k, p, stype)
    call(k, p, "sock_connect", c, (N.AF_LOCAL, path))
    a, addr = call(k, p, "accept", ls)
    return ls, c, a, addr


def test_component_needs_vfs():
    from rumptools.kernel.kern.kernel import ComponentError
    with pytest.raises(ComponentError, match="rumpnet_local requires rumpvfs"):
        boot("rumpnet", "rumpnet_local")


def test_bind_makes_a_socket_node_kept_after_close(k):
    p = k.p
    call(k, p, "umask", 0o027)
    s = sock(k, p)
    call(k, p, "bind", s, (N.AF_LOCAL, "/sock"))
    st = call(k, p, "stat", "/sock")
    assert st[0] == S_IFSOCK | 0o750
    assert "sock" in [e[3] for e in call(k, p, "getdents", call(k, p, "open", "/", 0, 0), 4096)]
    assert call(k, p, "getsockname", s) == (N.AF_LOCAL, "/sock")
    assert err(k, p, "bind", s, (N.AF_LOCAL, "/other")) == errnos.EINVAL
    s2 = sock(k, p, DG)
    assert err(k, p, "bind", s2, (N.AF_LOCAL, "/sock")) == errnos.EADDRINUSE
    assert err(k, p, "bind", s2, (N.AF_LOCAL, "/nodir/x")) == errnos.ENOENT
    assert err(k, p, "bind", s2, (N.AF_LOCAL, "/" + "x" * 104)) == errnos.EINVAL
    assert err(k, p, "bind", s2, (N.AF_INET, "1.2.3.4", 5)) == errnos.EAFNOSUPPORT
    call(k, p, "close", s)
    assert call(k, p, "stat", "/sock")[0] & 0o170000 == S_IFSOCK
    c = sock(k, p)
    assert err(k, p, "sock_connect", c, (N.AF_LOCAL, "/sock")) == errnos.ECONNREFUSED
    assert err(k, p, "open", "/sock", 0, 0) == errnos.EOPNOTSUPP


def test_connect_errors(k):
    p = k.p
    c = sock(k, p)
    assert err(k, p, "sock_connect", c, (N.AF_LOCAL, "/missing")) == errnos.ENOENT
    call(k, p, "close", call(k, p, "open", "/plain", 0x200 | 1, 0o644))
    assert err(k, p, "sock_connect", c, (N.AF_LOCAL, "/plain")) == errnos.ENOTSOCK
    d = sock(k, p, DG)
    call(k, p, "bind", d, (N.AF_LOCAL, "/dg"))
    assert err(k, p, "sock_connect", c, (N.AF_LOCAL, "/dg")) == errnos.EPROTOTYPE
    s = sock(k, p)
    call(k, p, "bind", s, (N.AF_LOCAL, "/notlistening"))
    assert err(k, p, "sock_connect", c, (N.AF_LOCAL, "/notlistening")) == errnos.ECONNREFUSED
    assert err(k, p, "listen", sock(k, p), 5) == errnos.EINVAL        # not bound
    assert err(k, p, "listen", d, 5) == errnos.EOPNOTSUPP
    assert err(k, p, "getpeername", c) == errnos.ENOTCONN
    assert err(k, p, "recvfrom", c, 10, 0) == errnos.ENOTCONN
    assert err(k, p, "sendto", c, b"x", 0, None) == errnos.ENOTCONN


def test_backlog_is_bounded(k):
    p = k.p
    ls = listener(k, p, "/b", backlog=2)         # refused once more than 3 * 2 // 2 wait: four fit
    cs = [sock(k, p) for _ in range(5)]
    for c in cs[:4]:
        call(k, p, "sock_connect", c, (N.AF_LOCAL, "/b"))
    assert err(k, p, "sock_connect", cs[4], (N.AF_LOCAL, "/b")) == errnos.ECONNREFUSED
    call(k, p, "accept", ls)
    call(k, p, "sock_connect", cs[4], (N.AF_LOCAL, "/b"))
    assert err(k, p, "sock_connect", cs[4], (N.AF_LOCAL, "/b")) == errnos.EISCONN


def test_stream_exchange_names_shutdown_and_eof(k):
    p = k.p
    ls, c, a, addr = connected(k, p)
    assert addr == (N.AF_LOCAL, "")
    assert call(k, p, "getpeername", c) == (N.AF_LOCAL, "/srv")
    assert call(k, p, "getsockname", a) == (N.AF_LOCAL, "/srv")
    assert call(k, p, "write", c, b"hello ") == 6
    assert call(k, p, "sendto", c, b"world", 0, None) == 5
    assert call(k, p, "ioctl", a, N.FIONREAD, None) == 11
    assert call(k, p, "recvfrom", a, 4, N.MSG_PEEK) == (b"hell", None)
    assert call(k, p, "read", a, 100) == b"hello world"
    call(k, p, "shutdown", c, N.SHUT_WR)
    assert call(k, p, "read", a, 100) == b""
    assert call(k, p, "write", a, b"back") == 4
    assert call(k, p, "read", c, 100) == b"back"
    call(k, p, "close", a)
    assert call(k, p, "read", c, 100) == b""


def test_epipe_and_sigpipe(k):
    p = k.p
    got = []
    p.signal_sink = got.append
    _ls, c, a, _addr = connected(k, p)
    call(k, p, "close", a)
    assert err(k, p, "write", c, b"x") == errnos.EPIPE
    assert got == [13]
    assert err(k, p, "sendto", c, b"x", N.MSG_NOSIGNAL, None) == errnos.EPIPE
    assert got == [13]


def test_stream_flow_control_and_nonblocking(k):
    p = k.p
    _ls, c, a, _addr = connected(k, p)
    call(k, p, "fcntl", c, 4, 0x4)                  # F_SETFL O_NONBLOCK
    sent = 0
    for _ in range(100):
        try:
            sent += call(k, p, "write", c, b"z" * 1000)
        except RumpError as e:
            assert e.errno == errnos.EAGAIN
            break
    assert sent == 4000                 # 96 bytes of room left: less than a 1000-byte write's low mark
    assert err(k, p, "write", c, b"q" * 500) == errnos.EAGAIN
    assert call(k, p, "write", c, b"q" * 96) == 96
    assert err(k, p, "write", c, b"q") == errnos.EAGAIN
    assert call(k, p, "poll", [(c, POLLOUT), (a, POLLIN)], 0) == (0, POLLIN)
    assert len(call(k, p, "read", a, 10000)) == 4096
    assert call(k, p, "poll", [(c, POLLOUT)], 0) == (POLLOUT,)


def test_blocking_write_waits_for_the_reader(k):
    p = k.p
    _ls, c, a, _addr = connected(k, p)
    blob = bytes(range(256)) * 64                   # 16 KiB, four times the buffer
    t, box = call_in_thread(k, p, "write", c, blob)
    got = b""
    for _ in range(200):
        if len(got) >= len(blob):
            break
        got += call(k, p, "read", a, 3000)
    t.join(5)
    assert box.get("result") == len(blob) and got == blob


def test_blocking_read_and_accept_wake(k):
    p = k.p
    ls = listener(k, p, "/w")
    t, box = call_in_thread(k, p, "accept", ls)
    c = sock(k, p)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    call(k, p, "sock_connect", c, (N.AF_LOCAL, "/w"))
    t.join(5)
    a = box["result"][0]
    t, box = call_in_thread(k, p, "recvfrom", a, 10, N.MSG_WAITALL)
    call(k, p, "write", c, b"12345")
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    call(k, p, "write", c, b"67890abc")
    t.join(5)
    assert box["result"] == (b"1234567890", None)


def test_rcvtimeo_and_nonblocking_accept(k):
    p = k.p
    ls = listener(k, p, "/t")
    call(k, p, "fcntl", ls, 4, 0x4)
    assert err(k, p, "accept", ls) == errnos.EAGAIN
    _ls, c, a, _ = connected(k, p, "/t2")
    call(k, p, "setsockopt", a, N.SOL_SOCKET, N.SO_RCVTIMEO, 200000)
    t, box = call_in_thread(k, p, "read", a, 10)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    k.host.clock.advance(0.3)
    t.join(5)
    assert box.get("error") == errnos.EAGAIN


def test_close_of_listener_aborts_pending(k):
    p = k.p
    ls = listener(k, p, "/x")
    c = sock(k, p)
    call(k, p, "sock_connect", c, (N.AF_LOCAL, "/x"))
    call(k, p, "close", ls)
    assert call(k, p, "read", c, 10) == b""
    assert err(k, p, "sock_connect", sock(k, p), (N.AF_LOCAL, "/x")) == errnos.ECONNREFUSED


def test_dgram(k):
    p = k.p
    srv = sock(k, p, DG)
    call(k, p, "bind", srv, (N.AF_LOCAL, "/dgs"))
    cli = sock(k, p, DG)
    call(k, p, "bind", cli, (N.AF_LOCAL, "/dgc"))
    anon = sock(k, p, DG)
    assert call(k, p, "sendto", cli, b"one", 0, (N.AF_LOCAL, "/dgs")) == 3
    assert call(k, p, "sendto", anon, b"two", 0, (N.AF_LOCAL, "/dgs")) == 3
    assert call(k, p, "recvfrom", srv, 100, 0) == (b"one", (N.AF_LOCAL, "/dgc"))
    assert call(k, p, "recvfrom", srv, 2, 0) == (b"tw", (N.AF_LOCAL, ""))     # the rest is discarded
    assert err(k, p, "sendto", cli, b"x" * 2049, 0, (N.AF_LOCAL, "/dgs")) == errnos.EMSGSIZE
    for _ in range(2):
        call(k, p, "sendto", cli, b"x" * 2048, 0, (N.AF_LOCAL, "/dgs"))
    assert err(k, p, "sendto", cli, b"y", 0, (N.AF_LOCAL, "/dgs")) == errnos.ENOBUFS
    call(k, p, "sock_connect", anon, (N.AF_LOCAL, "/dgc"))
    assert err(k, p, "sendto", anon, b"z", 0, (N.AF_LOCAL, "/dgs")) == errnos.EISCONN
    call(k, p, "write", anon, b"to-cli")
    assert call(k, p, "read", cli, 100) == b"to-cli"
    call(k, p, "close", cli)
    assert err(k, p, "write", anon, b"again") == errnos.ECONNRESET
    assert err(k, p, "write", anon, b"again") == errnos.ENOTCONN


def test_seqpacket_keeps_records(k):
    p = k.p
    _ls, c, a, _ = connected(k, p, "/sp", SEQ)
    call(k, p, "write", c, b"first")
    call(k, p, "write", c, b"second")
    data, addr, control, flags = call(k, p, "recvmsg", a, 3, 0, 0)
    assert (data, flags) == (b"fir", N.MSG_TRUNC)
    assert call(k, p, "read", a, 100) == b"second"
    assert err(k, p, "write", c, b"x" * 4097) == errnos.EMSGSIZE


def test_socketpair_all_types(k):
    p = k.p
    for stype in (ST, DG, SEQ):
        a, b = call(k, p, "socketpair", N.AF_LOCAL, stype | N.SOCK_NONBLOCK, 0)
        call(k, p, "write", a, b"ab")
        call(k, p, "write", b, b"ba")
        assert call(k, p, "read", b, 10) == b"ab" and call(k, p, "read", a, 10) == b"ba"
        assert err(k, p, "read", a, 10) == errnos.EAGAIN
        assert call(k, p, "getsockopt", a, N.SOL_SOCKET, N.SO_TYPE) == stype
    assert err(k, p, "socketpair", N.AF_LOCAL, N.SOCK_RAW, 0) in (errnos.EPROTOTYPE, errnos.EPROTONOSUPPORT)


def test_peereid_and_creds(k):
    p = k.p
    q = spawn(k, "other")
    ls = listener(k, p, "/cred")
    call(k, p, "setsockopt", ls, 0, 4, 1)                   # LOCAL_CREDS on the listener
    assert call(k, p, "getsockopt", ls, 0, 4) == 1
    c = sock(k, q)
    call(k, q, "sock_connect", c, (N.AF_LOCAL, "/cred"))
    a, _ = call(k, p, "accept", ls)
    assert struct.unpack("=iII", call(k, p, "getsockopt", a, 0, 3)) == (q.pid, 0, 0)
    assert struct.unpack("=iII", call(k, q, "getsockopt", c, 0, 3)) == (p.pid, 0, 0)
    assert err(k, p, "getsockopt", sock(k, p), 0, 3) == errnos.EINVAL
    call(k, q, "write", c, b"a")
    call(k, q, "write", c, b"b")
    data, _addr, control, _fl = call(k, p, "recvmsg", a, 10, 256, 0)
    assert data == b"ab"
    (level, typ, cred), = control
    assert (level, typ) == (N.SOL_SOCKET, SCM_CREDS) and len(cred) == 28
    assert struct.unpack_from("=i", cred)[0] == q.pid
    call(k, q, "write", c, b"c")
    assert call(k, p, "recvmsg", a, 10, 256, 0)[:3] == (b"c", None, ())    # once per connection
    d = sock(k, p, DG)
    call(k, p, "bind", d, (N.AF_LOCAL, "/dcred"))
    call(k, p, "setsockopt", d, 0, 4, 1)
    for _ in range(2):
        call(k, q, "sendto", sock(k, q, DG), b"x", 0, (N.AF_LOCAL, "/dcred"))
        assert call(k, p, "recvmsg", d, 10, 256, 0)[2][0][1] == SCM_CREDS     # every datagram


def test_connwait(k):
    p = k.p
    ls = listener(k, p, "/cw")
    c = sock(k, p)
    call(k, p, "setsockopt", c, 0, 2, 1)            # LOCAL_CONNWAIT
    t, box = call_in_thread(k, p, "sock_connect", c, (N.AF_LOCAL, "/cw"))
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    assert "result" not in box and "error" not in box
    call(k, p, "accept", ls)
    t.join(5)
    assert box == {"result": None}
    n = sock(k, p)
    call(k, p, "setsockopt", n, 0, 2, 1)
    call(k, p, "fcntl", n, 4, 0x4)
    assert err(k, p, "sock_connect", n, (N.AF_LOCAL, "/cw")) == errnos.EINPROGRESS


def test_scm_rights_between_processes(k):
    p = k.p
    q = spawn(k, "receiver")
    call(k, p, "close", call(k, p, "open", "/f", 0x200 | 2, 0o644))
    fd = call(k, p, "open", "/f", 2, 0)
    call(k, p, "write", fd, b"shared file")
    ls = listener(k, q, "/pass")
    c = sock(k, p)
    call(k, p, "sock_connect", c, (N.AF_LOCAL, "/pass"))
    a, _ = call(k, q, "accept", ls)
    rights = (N.SOL_SOCKET, SCM_RIGHTS, struct.pack("=i", fd))
    assert call(k, p, "sendmsg", c, [b"F"], (rights,), 0, None) == 1
    call(k, p, "close", fd)
    nfiles = k.nfiles
    data, _addr, control, flags = call(k, q, "recvmsg", a, 10, 64, 0)
    assert data == b"F" and flags == 0
    (level, typ, raw), = control
    assert (level, typ) == (N.SOL_SOCKET, SCM_RIGHTS) and len(raw) == 4
    newfd, = struct.unpack("=i", raw)
    assert k.nfiles == nfiles
    call(k, q, "lseek", newfd, 0, 0)
    assert call(k, q, "read", newfd, 100) == b"shared file"   # the same open file, offset shared
    assert err(k, p, "sendmsg", c, [b"x"], ((N.SOL_SOCKET, SCM_RIGHTS, struct.pack("=i", 99)),), 0,
               None) == errnos.EBADF
    assert err(k, p, "sendmsg", c, [b"x"], ((N.SOL_SOCKET, 77, b""),), 0, None) == errnos.EINVAL


def test_rights_not_delivered_are_released(k):
    p = k.p
    a, b = call(k, p, "socketpair", N.AF_LOCAL, DG, 0)
    base = k.nfiles
    f = call(k, p, "open", "/dev/null", 0, 0)
    r = (N.SOL_SOCKET, SCM_RIGHTS, struct.pack("=i", f))
    call(k, p, "sendmsg", a, [b"1"], (r,), 0, None)
    call(k, p, "sendmsg", a, [b"2"], (r,), 0, None)
    call(k, p, "sendmsg", a, [b"3"], (r,), 0, None)
    call(k, p, "close", f)
    assert k.nfiles == base + 1                      # the file lives on in flight
    assert call(k, p, "read", b, 10) == b"1"         # read(2) discards the descriptor
    data, _a, control, flags = call(k, p, "recvmsg", b, 10, 8, 0)
    assert data == b"2" and control == () and flags & N.MSG_CTRUNC
    assert k.nfiles == base + 1
    call(k, p, "close", b)                           # the third dies with the receiver
    assert k.nfiles == base - 1


def test_pcblists(k):
    p = k.p
    ls, c, a, _ = connected(k, p, "/pl")
    call(k, p, "write", c, b"abc")
    d = sock(k, p, DG)
    call(k, p, "bind", d, (N.AF_LOCAL, "/pd"))
    rows = K.records(call(k, p, "sysctl", "net.local.stream.pcblist", 0, None)[1])
    assert len(rows) == 3
    by = {r["pcbaddr"]: r for r in rows}
    server = [r for r in rows if r["rcvq"] == 3]
    assert len(server) == 1 and server[0]["src"] == (N.AF_LOCAL, "/pl")
    client = [r for r in rows if r["dst"] == (N.AF_LOCAL, "/pl") and r["src"] is None]
    assert len(client) == 1 and by[client[0]["conn"]] is server[0]
    assert server[0]["sostate"] & K.SS_ISCONNECTED
    assert [r for r in rows if r["inode"] and r["vnode"] and r["src"] == (N.AF_LOCAL, "/pl")]
    dg = K.records(call(k, p, "sysctl", "net.local.dgram.pcblist", 0, None)[1])
    assert [(r["type"], r["src"]) for r in dg] == [(DG, (N.AF_LOCAL, "/pd"))]
    assert call(k, p, "sysctl", "net.local.seqpacket.pcblist", 0, None)[1] == b""
