"""The IPv4 stack in process: two kernels on a fake host (virtual time) sharing a shmif bus file.

Frames travel through the real bus layer and receive threads; timers (ARP
expiry, reassembly) run on each kernel's virtual clock."""
import pytest

from rumptools.abi import errnos
from rumptools.abi import kinfo_pcb as K
from rumptools.abi import net as N
from rumptools.abi.errnos import RumpError
from rumptools.abi.sctypes import TYPES
from rumptools.abi.syscalls import TABLE
from rumptools.formats.net.ipv4 import IPv4, fragment
from rumptools.formats.net.icmp import ICMP
from rumptools.kernel.rumpuser.shmifbus import ShmifBus
from rumptools.sp.client import Client

from .kernelkit import boot, call, spawn, wait_until
from .tcpkit import NET, kernel_on


@pytest.fixture
def pair(tmp_path):
    bus = str(tmp_path / "bus")
    a, b = kernel_on(bus, "10.1.1.1"), kernel_on(bus, "10.1.1.2")
    yield a, b, bus
    for k in (a, b):
        k.reboot(0)


def arp_rows(k):
    r = call(k, k.p, "socket", N.AF_ROUTE, N.SOCK_RAW, 0)
    return {row[0]: row for row in call(k, k.p, "ioctl", r, N.RTM_DUMPLL, None)}


def udp_exchange(a, b, port=7000):
    rb = call(b, b.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(b, b.p, "bind", rb, (N.AF_INET, "0.0.0.0", port))
    sa = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    assert call(a, a.p, "sendto", sa, b"ping", 0, (N.AF_INET, "10.1.1.2", port)) == 4
    call(b, b.p, "setsockopt", rb, N.SOL_SOCKET, N.SO_RCVTIMEO, 3000000)
    return call(b, b.p, "recvfrom", rb, 100, 0)


def test_client_methods_do_not_shadow_the_connection():
    """A table method named like one of Client's own (connect) would replace it."""
    own = {"connect", "disconnect", "syscall", "fork", "prefork", "exec_env"}
    assert not own & {sc.method for sc in TABLE}
    assert Client.connect.__qualname__ == "Client.connect"
    assert TYPES["sockaddr"].py == (tuple,)


def test_udp_between_kernels_and_arp_expiry_in_virtual_time(pair):
    a, b, _bus = pair
    data, frm = udp_exchange(a, b)
    assert data == b"ping" and frm[0] == N.AF_INET and frm[1] == "10.1.1.1"
    rows = arp_rows(a)
    assert rows["10.1.1.2"][2] == mac_of(b) and not rows["10.1.1.2"][3] & N.RTF_STATIC
    assert rows["10.1.1.1"][3] & N.RTF_STATIC                   # own address: permanent
    a.host.clock.advance(1199, kernel=a)
    assert "10.1.1.2" in arp_rows(a)
    a.host.clock.advance(2, kernel=a)
    assert "10.1.1.2" not in arp_rows(a)                       # net.inet.arp.keep = 1200 s
    assert "10.1.1.1" in arp_rows(a)
    data, _ = udp_exchange(a, b, 7001)                         # resolved again
    assert data == b"ping"


def mac_of(k):
    rows = call(k, k.p, "ioctl", k.s, N.SIOCGIFCONF, None)
    return [r[2] for r in rows if r[0] == "shmif0" and r[1] == N.AF_LINK][0]


def test_silent_neighbour_five_requests_then_host_is_down(pair):
    a, _b, _bus = pair
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    for i in range(5):
        assert call(a, a.p, "sendto", s, b"x", 0, (N.AF_INET, "10.1.1.77", 9)) == 1
        a.host.clock.advance(1.0, kernel=a)
    with pytest.raises(RumpError) as e:
        call(a, a.p, "sendto", s, b"x", 0, (N.AF_INET, "10.1.1.77", 9))
    assert e.value.errno == errnos.EHOSTDOWN
    a.host.clock.advance(20, kernel=a)                         # net.inet.arp.down expired the entry
    assert call(a, a.p, "sendto", s, b"x", 0, (N.AF_INET, "10.1.1.77", 9)) == 1


def inject(bus, frames):
    b = ShmifBus(bus)
    try:
        b.send(frames, 0, 0, 0x1234)
    finally:
        b.close()


def ether(dst, src, payload, etype=0x0800):
    return dst + src + etype.to_bytes(2, "big") + payload


def test_reassembly_in_any_order_and_timeout(pair):
    a, b, bus = pair
    udp_exchange(a, b)                                         # b knows a's MAC; a knows b's
    dst_mac = bytes.fromhex(mac_of(a).replace(":", ""))
    src = bytes((10, 1, 1, 9))
    icmp = ICMP.echo(77, 1, bytes(range(256)) * 8).emit()
    whole = IPv4(src, bytes((10, 1, 1, 1)), 1, icmp, ttl=64, id=4242)
    frags = fragment(whole, 600)
    assert len(frags) == 4
    stats = lambda: dict(zip(N.IPSTAT_FIELDS, call(a, a.p, "sysctl", "net.inet.ip.stats", 0, None)[1]))
    inject(bus, [ether(dst_mac, b"\x02\0\0\0\0\x09", f.emit()) for f in reversed(frags)])
    assert wait_until(lambda: stats()["reassembled"] == 1)
    # an incomplete datagram is dropped after 30 s of virtual time
    inject(bus, [ether(dst_mac, b"\x02\0\0\0\0\x09", frags[1].emit())])
    assert wait_until(lambda: stats()["fragments"] == 5)
    a.host.clock.advance(29, kernel=a)
    assert stats()["fragtimeout"] == 0
    a.host.clock.advance(2, kernel=a)
    assert stats()["fragtimeout"] == 1


def test_bad_checksum_dropped_and_counted(pair):
    a, _b, bus = pair
    dst_mac = bytes.fromhex(mac_of(a).replace(":", ""))
    raw = bytearray(IPv4(bytes((10, 1, 1, 9)), bytes((10, 1, 1, 1)), 1, ICMP.echo(1, 1, b"x").emit()).emit())
    raw[10] ^= 0xff
    inject(bus, [ether(dst_mac, b"\x02\0\0\0\0\x09", bytes(raw))])
    stats = lambda: dict(zip(N.IPSTAT_FIELDS, call(a, a.p, "sysctl", "net.inet.ip.stats", 0, None)[1]))
    assert wait_until(lambda: stats()["badsum"] == 1)
    assert stats()["delivered"] == 0


def test_socket_errors_and_options(pair):
    a, _b, _bus = pair
    p = a.p
    s = call(a, p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    with pytest.raises(RumpError) as e:
        call(a, p, "bind", s, (N.AF_INET, "10.9.9.9", 0))
    assert e.value.errno == errnos.EADDRNOTAVAIL
    call(a, p, "bind", s, (N.AF_INET, "0.0.0.0", 5555))
    t = call(a, p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    with pytest.raises(RumpError) as e:
        call(a, p, "bind", t, (N.AF_INET, "0.0.0.0", 5555))
    assert e.value.errno == errnos.EADDRINUSE
    with pytest.raises(RumpError) as e:
        call(a, p, "sendto", t, b"x", 0, None)
    assert e.value.errno == errnos.EDESTADDRREQ
    with pytest.raises(RumpError) as e:
        call(a, p, "sendto", t, b"x", 0, (N.AF_INET, "10.255.255.255", 9))
    assert e.value.errno == errnos.EACCES                      # broadcast needs SO_BROADCAST
    call(a, p, "setsockopt", t, N.SOL_SOCKET, N.SO_BROADCAST, 1)
    assert call(a, p, "getsockopt", t, N.SOL_SOCKET, N.SO_BROADCAST) == N.SO_BROADCAST
    call(a, p, "setsockopt", t, N.IPPROTO_IP, N.IP_TTL, 7)
    assert call(a, p, "getsockopt", t, N.IPPROTO_IP, N.IP_TTL) == 7
    call(a, p, "setsockopt", t, N.SOL_SOCKET, N.SO_RCVBUF, 4096)
    assert call(a, p, "getsockopt", t, N.SOL_SOCKET, N.SO_RCVBUF) == 4096
    with pytest.raises(RumpError) as e:
        call(a, p, "sendto", t, b"x" * 9217, 0, (N.AF_INET, "10.1.1.2", 9))
    assert e.value.errno == errnos.EMSGSIZE
    with pytest.raises(RumpError) as e:
        call(a, p, "sendto", t, b"x", 0, (N.AF_INET, "192.168.7.7", 9))
    assert e.value.errno == errnos.EHOSTUNREACH                # no route
    call(a, p, "fcntl", t, 4, 0x4)                             # F_SETFL O_NONBLOCK
    with pytest.raises(RumpError) as e:
        call(a, p, "recvfrom", t, 10, 0)
    assert e.value.errno == errnos.EAGAIN
    with pytest.raises(RumpError) as e:
        call(a, p, "socket", 77, N.SOCK_DGRAM, 0)
    assert e.value.errno == errnos.EAFNOSUPPORT
    f = call(a, p, "pipe2", 0)[0]
    with pytest.raises(RumpError) as e:
        call(a, p, "getsockname", f)
    assert e.value.errno == errnos.ENOTSOCK
    # connected UDP: port unreachable comes back as ECONNREFUSED (through lo0)
    c = call(a, p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(a, p, "sock_connect", c, (N.AF_INET, "127.0.0.1", 9))
    assert call(a, p, "getpeername", c) == (N.AF_INET, "127.0.0.1", 9)
    call(a, p, "sendto", c, b"x", 0, None)
    assert wait_until(lambda: a.slot("inet").udpstat["noport"] == 1)
    with pytest.raises(RumpError) as e:
        call(a, p, "recvfrom", c, 10, 0)
    assert e.value.errno == errnos.ECONNREFUSED


def test_poll_on_sockets(pair):
    a, b, _bus = pair
    from rumptools.abi.poll import POLLIN, POLLOUT
    rb = call(b, b.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(b, b.p, "bind", rb, (N.AF_INET, "0.0.0.0", 6000))
    assert call(b, b.p, "poll", ((rb, POLLIN | POLLOUT),), 0) == (POLLOUT,)
    sa = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(a, a.p, "sendto", sa, b"hi", 0, (N.AF_INET, "10.1.1.2", 6000))
    assert call(b, b.p, "poll", ((rb, POLLIN),), 3000) == (POLLIN,)
    assert call(b, b.p, "ioctl", rb, N.FIONREAD, None) == 2


def test_interface_ioctl_errors(pair):
    a, _b, _bus = pair
    p, s = a.p, a.s
    for cmd, arg, err in ((N.SIOCIFCREATE, "shmif0", errnos.EEXIST), (N.SIOCIFCREATE, "bogus0", errnos.EINVAL),
                          (N.SIOCGIFFLAGS, "shmif9", errnos.ENXIO),
                          (N.SIOCDIFADDR, ("shmif0", "10.7.7.7"), errnos.EADDRNOTAVAIL),
                          (N.SIOCSLINKSTR, ("shmif0", "/elsewhere"), errnos.EBUSY)):
        with pytest.raises(RumpError) as e:
            call(a, p, "ioctl", s, cmd, arg)
        assert e.value.errno == err, (cmd, arg)
    call(a, p, "ioctl", s, N.SIOCIFCREATE, "shmif1")
    with pytest.raises(RumpError) as e:                        # no bus: the interface cannot come up
        call(a, p, "ioctl", s, N.SIOCAIFADDR, ("shmif1", "10.3.3.3", None, None))
    assert e.value.errno == errnos.ENXIO
    call(a, p, "ioctl", s, N.SIOCIFDESTROY, "shmif1")
    assert call(a, p, "ioctl", s, N.SIOCGIFFLAGS, "lo0") == 0x8049
    assert call(a, p, "ioctl", s, N.SIOCGIFMTU, "lo0") == N.LOMTU


def test_not_a_bus_is_refused(tmp_path):
    k = boot(*NET)
    p = spawn(k)
    s = call(k, p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(k, p, "ioctl", s, N.SIOCIFCREATE, "shmif0")
    f = tmp_path / "notabus"
    f.write_bytes(b"hello, world" * 10)
    with pytest.raises(RumpError) as e:
        call(k, p, "ioctl", s, N.SIOCSLINKSTR, ("shmif0", str(f)))
    assert e.value.errno == errnos.ENOEXEC
    assert f.read_bytes() == b"hello, world" * 10
    assert "bus is not magical" in k.console_lines
    k.reboot(0)


def test_longest_prefix_match():
    from rumptools.kernel.net.route import RouteTable, Rtentry
    t = RouteTable(None)
    for dst, plen, tag in ((0, 0, "default"), (0x0a000000, 8, "10/8"), (0x0a010100, 24, "10.1.1/24"),
                           (0x0a010105, 32, "host")):
        rt = Rtentry(dst, plen, 1, None, None)
        rt.gwname = tag
        t.add(rt)
    look = lambda a: t.lookup(a).gwname
    assert look(0x0a010105) == "host" and look(0x0a010106) == "10.1.1/24"
    assert look(0x0a020202) == "10/8" and look(0xc0a80001) == "default"
    with pytest.raises(RumpError) as e:
        t.add(Rtentry(0x0a000001, 8, 1, None, None))             # same key once masked
    assert e.value.errno == errnos.EEXIST
    t.delete(0x0a010100, 24)
    assert look(0x0a010106) == "10/8"
    assert [(r.dst, r.plen) for r in t.routes()] == [(0, 0), (0x0a000000, 8), (0x0a010105, 32)]


def test_sendmsg_recvmsg_control_shutdown_and_reuse(pair):
    a, b, _bus = pair
    rb = call(b, b.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(b, b.p, "setsockopt", rb, N.SOL_SOCKET, N.SO_REUSEADDR, 1)
    call(b, b.p, "bind", rb, (N.AF_INET, "0.0.0.0", 7100))
    rb2 = call(b, b.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(b, b.p, "setsockopt", rb2, N.SOL_SOCKET, N.SO_REUSEADDR, 1)
    call(b, b.p, "bind", rb2, (N.AF_INET, "10.1.1.2", 7100))        # both reuse: allowed
    call(b, b.p, "setsockopt", rb2, N.IPPROTO_IP, N.IP_RECVDSTADDR, 1)
    call(b, b.p, "setsockopt", rb2, N.SOL_SOCKET, N.SO_RCVTIMEO, 3000000)
    sa = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    assert call(a, a.p, "sendmsg", sa, (b"gath", b"ered"), None, 0, (N.AF_INET, "10.1.1.2", 7100)) == 8
    data, frm, control, flags = call(b, b.p, "recvmsg", rb2, 4, 64, 0)   # the more specific socket
    assert data == b"gath" and flags & N.MSG_TRUNC and frm[1] == "10.1.1.1"
    assert control == ((N.IPPROTO_IP, N.IP_RECVDSTADDR, bytes((10, 1, 1, 2))),)
    call(b, b.p, "shutdown", rb2, N.SHUT_RD)
    assert call(b, b.p, "recvfrom", rb2, 10, 0) == (b"", None)     # end of file after SHUT_RD
    call(a, a.p, "shutdown", sa, N.SHUT_WR)
    with pytest.raises(RumpError) as e:
        call(a, a.p, "sendto", sa, b"x", N.MSG_NOSIGNAL, (N.AF_INET, "10.1.1.2", 7100))
    assert e.value.errno == errnos.EPIPE
    call(b, b.p, "setsockopt", rb, N.SOL_SOCKET, N.SO_RCVTIMEO, 200000)
    t0 = b.host.clock.now()
    from .kernelkit import call_in_thread
    th, box = call_in_thread(b, b.p, "recvfrom", rb, 10, 0)
    assert wait_until(lambda: b.sleepq.sleepers == 1)
    b.host.clock.advance(0.3, kernel=b)
    th.join(5)
    assert box == {"error": errnos.EAGAIN} and b.host.clock.now() - t0 >= 0.2


def test_pcblist_rows(pair):
    a, _b, _bus = pair
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(a, a.p, "bind", s, (N.AF_INET, "10.1.1.1", 5353))
    c = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(a, a.p, "sock_connect", c, (N.AF_INET, "10.1.1.2", 53))
    raw = call(a, a.p, "sysctl", "net.inet.udp.pcblist", 0, None)[1]
    assert type(raw) is bytes and len(raw) == 3 * K.KINFO_PCB_SIZE     # and the fixture's ioctl socket
    rows = K.records(raw)
    assert rows[0]["dst"] == (N.AF_INET, "10.1.1.2", 53) and rows[0]["pflags"] == K.INP_ANONPORT
    assert rows[0]["src"][1] == "10.1.1.1" and 49152 <= rows[0]["src"][2] <= 65535
    assert rows[0]["prstate"] == K.INP_CONNECTED and rows[0]["sostate"] & K.SS_ISCONNECTED
    assert (rows[0]["family"], rows[0]["type"], rows[0]["protocol"]) == (N.AF_INET, N.SOCK_DGRAM, 17)
    assert (rows[1]["src"], rows[1]["dst"], rows[1]["pflags"], rows[1]["prstate"]) == (
        (N.AF_INET, "10.1.1.1", 5353), (N.AF_INET, "0.0.0.0", 0), 0, K.INP_BOUND)
    assert call(a, a.p, "sysctl", "net.inet.tcp.pcblist", 0, None)[1] == b""
    call(a, a.p, "socket", N.AF_INET, N.SOCK_RAW, 1)
    raw = K.records(call(a, a.p, "sysctl", "net.inet.raw.pcblist", 0, None)[1])
    assert [(x["type"], x["protocol"], x["src"], x["dst"]) for x in raw] == [
        (N.SOCK_RAW, 1, (N.AF_INET, "0.0.0.0", 0), (N.AF_INET, "0.0.0.0", 0))]


def test_garbage_arguments_are_errors_not_kernel_bugs(pair):
    """Random values for every socket call and network ioctl: errnos only, no 'syscall failed' on the console."""
    import random
    a, _b, _bus = pair
    rng = random.Random(11)
    values = [None, 0, -1, 1 << 40, "", "shmif0", "lo0", "10.1.1.2", "bogus", b"", b"\x45" * 30,
              (), (2,), (2, "10.1.1.2"), (2, "10.1.1.2", 70000), (2, 5, 5), (34,), (1, "/x"), (18, 1, "a", "b"),
              ("shmif0", None), ("shmif0", "10.1.1.9", None, "255.0.0.0"), ("shmif0", 1 << 33),
              (1, 0, "10.0.0.0", None, "10.1.1.2", None), (4, 0, None, None, None, None),
              (1, 0x400, "10.1.1.9", None, "zz", "shmif0"), ((1, 2, 3, 4),), (b"\x06\0\0\0\0\0\0\0",)]
    cmds = [c for n, c in vars(N).items() if n.startswith(("SIOC", "BIOC", "FION", "RTM_")) and type(c) is int
            and c > 64]
    fds = [call(a, a.p, "socket", d, t, p) for d, t, p in ((N.AF_INET, N.SOCK_DGRAM, 0),
                                                           (N.AF_INET, N.SOCK_RAW, 1), (N.AF_ROUTE, N.SOCK_RAW, 0))]
    for _ in range(3000):
        fd = rng.choice(fds)
        op = rng.randrange(6)
        try:
            if op == 0:
                call(a, a.p, "ioctl", fd, rng.choice(cmds), rng.choice(values))
            elif op == 1:
                call(a, a.p, "setsockopt", fd, rng.choice((0, 0xffff, 6, 17)), rng.randrange(0x1010),
                     rng.choice(values))
            elif op == 2:
                call(a, a.p, "sendto", fd, rng.choice((b"", b"x" * 30, b"\x45" * 40, bytes(9300))),
                     rng.choice((0, N.MSG_DONTWAIT, N.MSG_NOSIGNAL)), rng.choice(values[11:18] + [None]))
            elif op == 3:
                call(a, a.p, "bind", fd, rng.choice(values[11:18]))
            elif op == 4:
                call(a, a.p, "sock_connect", fd, rng.choice(values[11:18]))
            else:
                call(a, a.p, "getsockopt", fd, rng.choice((0, 0xffff)), rng.randrange(0x1010))
        except RumpError as e:
            assert e.errno != errnos.EIO, "kernel bug: %s" % "\n".join(a.console_lines[-3:])
    assert not [line for line in a.console_lines if "failed" in line]


def test_malformed_input_frames_never_break_a_handler(pair):
    """Random, truncated and bit-flipped frames straight into shmif0's input path (no bus):
    the kernel counts and drops them; no input handler fails."""
    import random
    from tests.integration.netfuzz import frames
    a, _b, _bus = pair
    ifp = a.slot("net").ifnets["shmif0"]
    mac = ifp.lladdr
    rng = random.Random(2)
    good = [ether(mac, b"\x02\0\0\0\0\x09", IPv4(bytes((10, 1, 1, 9)), bytes((10, 1, 1, 1)), 1,
                                                   ICMP.echo(1, 1, b"abc" * 30).emit(), options=b"\x07\x0b\x04" +
                                                   bytes(9)).emit()),
            ether(b"\xff" * 6, b"\x02\0\0\0\0\x09", bytes.fromhex("0001080006040001020000000009") +
                  bytes((10, 1, 1, 9)) + bytes(6) + bytes((10, 1, 1, 1)), 0x0806)]
    good += [ether(mac, b"\x02\0\0\0\0\x09", f.emit()) for f in
             fragment(IPv4(bytes((10, 1, 1, 9)), bytes((10, 1, 1, 1)), 17, bytes(3000), id=9), 800)]
    batch = list(frames(mac, 3000, seed=5))
    for _ in range(3000):
        f = bytearray(rng.choice(good))
        for _ in range(rng.randint(1, 4)):
            f[rng.randrange(len(f))] = rng.getrandbits(8)
        batch.append(bytes(f[:rng.randint(10, len(f))]) if rng.random() < 0.3 else bytes(f))
    with a.lock:
        for f in batch:
            ifp._input(f)
    a.host.clock.advance(60, kernel=a)                          # reassembly queues time out
    assert not [line for line in a.console_lines if "failed" in line], a.console_lines[-5:]
    assert not a.slot("inet").reass.queues
    assert ifp.counters["ipackets"] + ifp.counters["ierrors"] >= 5000


def addr_flags(k, addr):
    rows = call(k, k.p, "ioctl", k.s, N.SIOCGIFCONF, None)
    return [r[5] for r in rows if r[1] == N.AF_INET and r[2] == addr][0]


def test_dad_in_virtual_time(pair):
    a, b, bus = pair
    probes = []
    host = ShmifBus(bus)
    reader = host.reader()
    try:
        call(a, a.p, "ioctl", a.s, N.SIOCAIFADDR, ("shmif0", "10.1.1.7", None, None))    # interface is up
        assert addr_flags(a, "10.1.1.7") == N.IN_IFF_TENTATIVE
        s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
        with pytest.raises(RumpError) as e:                     # not usable yet
            call(a, a.p, "bind", s, (N.AF_INET, "10.1.1.7", 0))
        assert e.value.errno == errnos.EADDRNOTAVAIL
        for _ in range(40):                                     # 4-7 s in steps of 0.25 s
            a.host.clock.advance(0.25, kernel=a)
        for _l, _s, _u, _snd, fr in host.receive(reader):
            fr = bytes(fr)
            if fr[12:14] == b"\x08\x06" and fr[38:42] == bytes((10, 1, 1, 7)):
                probes.append(fr[28:32])                        # the sender address of each request
    finally:
        host.close()
    assert addr_flags(a, "10.1.1.7") == 0
    call(a, a.p, "bind", s, (N.AF_INET, "10.1.1.7", 0))
    assert probes[:3] == [bytes(4)] * 3 and probes[3:] == [bytes((10, 1, 1, 7))] * 2   # probes, announcements
    # b's own address as an alias on a: b answers the probe, a marks the address duplicated
    call(a, a.p, "ioctl", a.s, N.SIOCAIFADDR, ("shmif0", "10.1.1.2", None, None))
    for _ in range(12):
        a.host.clock.advance(0.25, kernel=a)
        wait_until(lambda: addr_flags(a, "10.1.1.2") & N.IN_IFF_DUPLICATED, 0.2)
    assert addr_flags(a, "10.1.1.2") == N.IN_IFF_DUPLICATED
    assert any(line.startswith("shmif0: DAD detected duplicate IPv4 address 10.1.1.2: ARP out=")
               for line in a.console_lines)


def test_redirect_sent_and_accepted(tmp_path):
    """a sends to 10.2.2.3 through b, which forwards it back out to c and tells a to use c."""
    bus = str(tmp_path / "bus")
    a, b, c = (kernel_on(bus, "10.1.1.%d" % i) for i in (1, 2, 3))
    try:
        for k in (a, b, c):     # /24 subnets: 10.1.1/24 on the bus
            addr = "10.1.1.%d" % (1 + (a, b, c).index(k))
            call(k, k.p, "ioctl", k.s, N.SIOCAIFADDR, ("shmif0", addr, None, "255.255.255.0"))
        call(c, c.p, "ioctl", c.s, N.SIOCAIFADDR, ("shmif0", "10.2.2.3", None, "255.255.255.0"))
        for _ in range(40):                                     # DAD of the re-masked addresses
            for k in (a, b, c):
                k.host.clock.advance(0.25, kernel=k)
        r = lambda k: call(k, k.p, "socket", N.AF_ROUTE, N.SOCK_RAW, 0)
        call(a, a.p, "ioctl", r(a), N.RTM_MSG, (N.RTM_ADD, N.RTF_GATEWAY | N.RTF_STATIC, "10.2.2.0",
                                                 "255.255.255.0", "10.1.1.2", None))
        call(b, b.p, "ioctl", r(b), N.RTM_MSG, (N.RTM_ADD, N.RTF_GATEWAY | N.RTF_STATIC, "10.2.2.0",
                                                 "255.255.255.0", "10.1.1.3", None))
        assert all(addr_flags(k, "10.1.1.%d" % i) == 0 for i, k in ((1, a), (2, b), (3, c)))
        rc = call(c, c.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
        call(c, c.p, "bind", rc, (N.AF_INET, "0.0.0.0", 7300))
        s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
        call(a, a.p, "sendto", s, b"via b", 0, (N.AF_INET, "10.2.2.3", 7300))
        assert wait_until(lambda: call(c, c.p, "ioctl", rc, N.FIONREAD, None) == 5)
        assert call(c, c.p, "recvfrom", rc, 100, 0)[0] == b"via b"
        host_route = lambda: [row for row in call(a, a.p, "ioctl", r(a), N.RTM_DUMP, None) if row[0] == "10.2.2.3"]
        assert wait_until(lambda: host_route())
        dst, _m, gw, flags = host_route()[0][:4]
        assert gw == "10.1.1.3" and flags & N.RTF_DYNAMIC and flags & N.RTF_HOST
        assert dict(zip(N.IPSTAT_FIELDS, b.slot("inet").ipstat.values()))["redirectsent"] == 1
        a.host.clock.advance(601, kernel=a)                     # net.inet.icmp.redirtimeout
        assert not host_route()
    finally:
        for k in (a, b, c):
            k.reboot(0)


def test_arp_table_is_bounded(pair, monkeypatch):
    from rumptools.formats.net.arp import ARP
    from rumptools.kernel.netinet import arp as arpmod
    a, _b, _bus = pair
    monkeypatch.setattr(arpmod, "MAXENTRIES", 50)
    ifp = a.slot("net").ifnets["shmif0"]
    before = len(a.slot("inet").arp.entries)
    with a.lock:
        for i in range(200):        # forged requests for our address from 200 senders
            spa = bytes((10, 1, 2, i))
            ifp._input(b"\xff" * 6 + b"\x02\0\0\0\1" + bytes((i,)) + b"\x08\x06" +
                       ARP(1, b"\x02\0\0\0\1" + bytes((i,)), spa, bytes(6), bytes((10, 1, 1, 1))).emit())
    assert len(a.slot("inet").arp.entries) == 50
    assert a.slot("inet").arpstat["allocfail"] == 200 - (50 - before)
    assert a.slot("inet").arpstat["sndreply"] == 200            # every request still answered
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    with pytest.raises(RumpError) as e:
        call(a, a.p, "sendto", s, b"x", 0, (N.AF_INET, "10.1.1.77", 9))
    assert e.value.errno == errnos.ENOBUFS
