"""rump.dhcpclient in process: its session runs against kernel A (a fake host,
virtual time) whose shmif0 shares a bus with kernel B, where a scripted DHCP
server reads and writes raw frames through B's /dev/bpf (scapy builds the
answers). Covers the exchange and configuration, NAK, foreign transactions,
bad frames, classless routes, infinite leases, the MTU raise and the 5 s wait."""
import io
import threading
import time

import pytest

from rumptools.abi import net as N
from rumptools.abi import errnos
from rumptools.abi.errnos import RumpError
from rumptools.abi.syscalls import O_NONBLOCK, O_RDWR
from rumptools.commands import dhcpclient
from rumptools.formats.net import bpf as fbpf

from .kernelkit import boot, call, spawn, wait_until

scapy = pytest.importorskip("scapy.all")
from scapy.all import BOOTP, DHCP, IP, UDP, Ether, raw  # noqa: E402

ALL = ("rumpvfs", "rumpdev", "rumpnet", "rumpnet_net", "rumpnet_netinet", "rumpnet_shmif", "rumpdev_bpf")


class KClient:
    """The sp client's methods, run as calls of a process of an in-process kernel."""

    def __init__(self, k):
        self.k, self.p = k, spawn(k)

    def __getattr__(self, method):
        return lambda *args: call(self.k, self.p, method, *args)


def kernel(bus, addr=None, components=ALL):
    k = boot(*components)
    c = KClient(k)
    s = c.socket(N.AF_INET, N.SOCK_DGRAM, 0)
    c.ioctl(s, N.SIOCIFCREATE, "shmif0")
    c.ioctl(s, N.SIOCSLINKSTR, ("shmif0", bus))
    if addr:
        c.ioctl(s, N.SIOCAIFADDR, ("shmif0", addr, None, "255.255.255.0"))
    k.c, k.s = c, s
    return k


OFFER_OPTS = [("server_id", "192.168.2.1"), ("lease_time", 172800), ("subnet_mask", "255.255.255.0"),
              ("router", "192.168.2.1")]


class Server:
    """A DHCP server scripted by answer(kind, request) -> list of (dhcp options, bootp
    overrides) or raw frames, running on kernel B's bpf in a thread."""

    def __init__(self, k, answer):
        self.k, self.answer = k, answer
        c = self.c = k.c
        self.fd = c.open("/dev/bpf", O_RDWR | O_NONBLOCK, 0)     # timeouts would be in virtual time
        c.ioctl(self.fd, N.BIOCSETIF, "shmif0")
        c.ioctl(self.fd, N.BIOCIMMEDIATE, 1)
        self.bufsize = c.ioctl(self.fd, N.BIOCGBLEN, None)
        self.seen = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def reply(self, req, opts, yiaddr="192.168.2.125", **over):
        b = dict(op=2, xid=req[BOOTP].xid, yiaddr=yiaddr, siaddr="192.168.2.1", chaddr=req[BOOTP].chaddr)
        b.update(over)
        return raw(Ether(dst=req.src, src="02:00:00:00:00:01") / IP(src="192.168.2.1", dst=yiaddr) /
                   UDP(sport=67, dport=68) / BOOTP(**b) / DHCP(options=opts + ["end"]))

    def run(self):
        end = time.monotonic() + 30
        while not self.stop.is_set() and time.monotonic() < end:
            try:
                buf = self.c.read(self.fd, self.bufsize)
            except RumpError as e:
                assert e.errno == errnos.EAGAIN
                time.sleep(0.005)
                continue
            for _s, _u, _n, data in fbpf.records(buf):
                p = Ether(data)
                if BOOTP not in p or p[BOOTP].op != 1 or p[UDP].dport != 67:
                    continue
                self.seen.append(p)
                kind = dict(o for o in p[DHCP].options if isinstance(o, tuple))["message-type"]
                for frame in self.answer(self, kind, p):
                    self.c.write(self.fd, frame)

    def close(self):
        if not self.stop.is_set():
            self.stop.set()
            self.t.join(5)
            assert not self.t.is_alive()
            self.c.close(self.fd)


def standard(srv, kind, req, offer=OFFER_OPTS, ack=None):
    if kind == 1:
        return [srv.reply(req, [("message-type", "offer")] + offer)]
    if kind == 3:
        return [srv.reply(req, [("message-type", "ack")] + (ack if ack is not None else offer))]
    return []


@pytest.fixture
def net(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["rump.dhcpclient"])
    bus = str(tmp_path / "bus")
    a, b = kernel(bus), kernel(bus, "192.168.2.1")
    servers = []

    def serve(answer):
        s = Server(b, answer)
        servers.append(s)
        return s
    yield a, b, serve
    for s in servers:
        s.close()
    for k in (a, b):
        k.reboot(0)


def dhcp(a, *names, **kw):
    out = io.StringIO()
    status = dhcpclient.run(a.c, names or ("shmif0",), out=out, **kw)
    return status, out.getvalue()


def routes(k):
    r = k.c.socket(N.AF_ROUTE, N.SOCK_RAW, 0)
    return {(row[0], row[1]): row for row in k.c.ioctl(r, N.RTM_DUMP, None)}


def test_exchange_configures_address_and_routes(net):
    a, b, serve = net
    srv = serve(lambda s, kind, req: standard(s, kind, req))
    status, err = dhcp(a)
    assert (status, err) == (0, "shmif0: adding IP address 192.168.2.125/24\n"
                                "shmif0: adding route to 192.168.2.0/24\n"
                                "shmif0: adding default route via 192.168.2.1\n"
                                "lease time: 172800 seconds (2.00 days)\n")
    rows = a.c.ioctl(a.s, N.SIOCGIFCONF, None)
    assert ("shmif0", N.AF_INET, "192.168.2.125", "255.255.255.0", "192.168.2.255") in [r[:5] for r in rows]
    rt = routes(a)
    sub = rt[("192.168.2.0", "255.255.255.0")]
    assert sub[2] == "link#2" and sub[3] & (N.RTF_CONNECTED | N.RTF_UP) == N.RTF_CONNECTED | N.RTF_UP
    assert not sub[3] & (N.RTF_GATEWAY | N.RTF_STATIC) and sub[5] == "192.168.2.125"
    default = rt[("0.0.0.0", "0.0.0.0")]
    assert default[2] == "192.168.2.1" and default[3] & (N.RTF_GATEWAY | N.RTF_STATIC | N.RTF_UP) == \
        N.RTF_GATEWAY | N.RTF_STATIC | N.RTF_UP
    flags = a.c.ioctl(a.s, N.SIOCGIFFLAGS, "shmif0")
    assert flags & N.IFF_UP
    # what the client sent: DISCOVER then REQUEST for the offered address, one xid, our MAC
    d, r = srv.seen
    mac = [row[2] for row in rows if row[0] == "shmif0" and row[1] == N.AF_LINK][0]
    assert d.src == r.src == mac and d.dst == "ff:ff:ff:ff:ff:ff" and d[BOOTP].xid == r[BOOTP].xid
    assert d[IP].src == "0.0.0.0" and d[IP].dst == "255.255.255.255" and d[IP].ttl == 64
    od, orq = (dict(o for o in p[DHCP].options if isinstance(o, tuple)) for p in (d, r))
    assert od["message-type"] == 1 and orq["message-type"] == 3 and orq["requested_addr"] == "192.168.2.125"
    assert "server_id" not in orq and "requested_addr" not in od
    host = a.c.sysctl("kern.hostname", 0, None)[1]
    assert "." in host and od["hostname"] == host.split(".")[0].encode()
    assert od["param_req_list"] == [1, 33, 3, 28, 51, 58, 59] and od["max_dhcp_size"] == 1500
    # the route to the subnet now works: kernel A reaches kernel B
    s = a.c.socket(N.AF_INET, N.SOCK_DGRAM, 0)
    rb = b.c.socket(N.AF_INET, N.SOCK_DGRAM, 0)
    b.c.bind(rb, (N.AF_INET, "0.0.0.0", 7000))
    b.c.setsockopt(rb, N.SOL_SOCKET, N.SO_RCVTIMEO, 3000000)
    for _ in range(5):                    # DAD makes the new address tentative for a while
        a.host.clock.advance(1.0, kernel=a)
    assert a.c.sendto(s, b"hi", 0, (N.AF_INET, "192.168.2.1", 7000)) == 2
    data, frm = b.c.recvfrom(rb, 10, 0)
    assert data == b"hi" and frm[1] == "192.168.2.125"


def test_lease_comes_from_the_offer_not_the_ack(net):
    a, _b, serve = net
    ack = [("server_id", "192.168.2.1"), ("lease_time", 60), ("subnet_mask", "255.255.0.0"),
           ("router", "192.168.2.99")]
    serve(lambda s, kind, req: standard(s, kind, req, ack=ack))
    status, err = dhcp(a)
    assert status == 0 and err.splitlines()[0] == "shmif0: adding IP address 192.168.2.125/24"
    assert err.splitlines()[-1] == "lease time: 172800 seconds (2.00 days)"


def test_nak_and_wrong_answers(net):
    a, _b, serve = net
    srv = serve(lambda s, kind, req: [s.reply(req, [("message-type", "nak")], yiaddr="0.0.0.0")])
    assert dhcp(a) == (1, "rump.dhcpclient: got NAK from dhcp server\n")
    srv.close()
    srv = serve(lambda s, kind, req: [s.reply(req, [("message-type", "ack")])])
    status, err = dhcp(a)
    assert (status, err) == (1, "rump.dhcpclient: didn't receive offer\n")
    srv.close()
    # a NAK to the REQUEST is "didn't receive ack"
    serve(lambda s, kind, req: standard(s, kind, req) if kind == 1 else
          [s.reply(req, [("message-type", "nak")], yiaddr="0.0.0.0")])
    status, err = dhcp(a)
    assert (status, err) == (1, "rump.dhcpclient: didn't receive ack\n")


def test_other_transactions_and_bad_frames_are_skipped(net):
    a, _b, serve = net

    def answer(s, kind, req):
        out = []
        if kind == 1:
            wrong = req.copy()
            wrong[BOOTP].xid ^= 1
            out.append(s.reply(wrong, [("message-type", "offer")] + OFFER_OPTS))   # another transaction
            bad = bytearray(s.reply(req, [("message-type", "offer")] + OFFER_OPTS))
            bad[24] ^= 0xff                                                          # IP header checksum
            out.append(bytes(bad))
        return out + standard(s, kind, req)
    serve(answer)
    status, err = dhcp(a)
    lines = err.splitlines()
    assert status == 0 and lines[:2] == ["invalid transaction.  retrying", "invalid packet received.  retrying"]
    assert lines[2:] == ["shmif0: adding IP address 192.168.2.125/24", "shmif0: adding route to 192.168.2.0/24",
                         "shmif0: adding default route via 192.168.2.1", "lease time: 172800 seconds (2.00 days)"]


def test_classless_routes_win_and_an_infinite_lease(net):
    a, _b, serve = net
    offer = [("server_id", "192.168.2.1"), ("subnet_mask", "255.255.255.0"), ("router", "192.168.2.1"),
             (33, bytes((172, 16, 0, 0, 192, 168, 2, 3))),
             ("classless_static_routes", ["10.0.0.0/8:192.168.2.2", "0.0.0.0/0:192.168.2.254"])]
    serve(lambda s, kind, req: standard(s, kind, req, offer=offer))
    status, err = dhcp(a)
    assert (status, err) == (0, "shmif0: adding IP address 192.168.2.125/24\n"
                                "shmif0: adding route to 192.168.2.0/24\n"
                                "shmif0: adding route to 10.0.0.0/8 via 192.168.2.2\n"
                                "shmif0: adding default route via 192.168.2.254\n"
                                "lease time: infinite\n")
    rt = routes(a)
    assert rt[("10.0.0.0", "255.0.0.0")][2] == "192.168.2.2"
    assert rt[("0.0.0.0", "0.0.0.0")][2] == "192.168.2.254"
    assert ("172.16.0.0", "255.255.0.0") not in rt


def test_static_routes_router_off_subnet_quiet_and_debug(net):
    a, _b, serve = net
    offer = [("subnet_mask", "255.255.255.0"), ("router", "10.9.9.9"), ("lease_time", 3600),
             (33, bytes((172, 16, 0, 0, 192, 168, 2, 3)))]
    serve(lambda s, kind, req: standard(s, kind, req, offer=offer))
    status, err = dhcp(a, debug=True)
    lines = err.splitlines()
    assert status == 0
    assert lines[0].startswith("shmif0: sending DISCOVER (xid 0x") and "received OFFER of 192.168.2.125" in lines[1]
    assert lines[2].startswith("shmif0: sending REQUEST (xid 0x") and "received ACK of 192.168.2.125" in lines[3]
    assert lines[4:] == ["shmif0: adding IP address 192.168.2.125/24",
                         "shmif0: router 10.9.9.9 requires a host route",
                         "shmif0: adding route to 192.168.2.0/24",
                         "shmif0: adding route to 172.16.0.0/16 via 192.168.2.3",
                         "shmif0: adding host route to 10.9.9.9",
                         "shmif0: adding default route via 10.9.9.9",
                         "lease time: 3600 seconds (0.04 days)"]
    rt = routes(a)
    host = rt[("10.9.9.9", "255.255.255.255")]
    assert host[2] == "link#2" and host[3] & N.RTF_HOST and host[3] & N.RTF_STATIC
    assert rt[("0.0.0.0", "0.0.0.0")][2] == "10.9.9.9"
    # again, quietly: the address is there already (EEXIST is fine), routes exist
    status, err = dhcp(a, quiet=True)
    assert (status, err) == (0, "shmif0: router 10.9.9.9 requires a host route\n")


def test_mtu_raised_to_576(net):
    a, _b, serve = net
    a.c.ioctl(a.s, N.SIOCSIFMTU, ("shmif0", 400))
    srv = serve(lambda s, kind, req: standard(s, kind, req))
    assert dhcp(a)[0] == 0
    assert a.c.ioctl(a.s, N.SIOCGIFMTU, "shmif0") == 576
    od = dict(o for o in srv.seen[0][DHCP].options if isinstance(o, tuple))
    assert od["max_dhcp_size"] == 576


def test_no_answer_times_out_after_five_seconds(net):
    a, _b, serve = net
    srv = serve(lambda s, kind, req: [])                 # hears the DISCOVER, never answers
    assert a.sleepq.sleepers == 0
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("r", dhcp(a)), daemon=True)
    t.start()
    assert wait_until(lambda: srv.seen and a.sleepq.sleepers == 1, 10)     # the client sleeps in poll
    a.host.clock.advance(4.0, kernel=a)
    time.sleep(0.2)
    assert "r" not in box                           # still waiting at 4 s of virtual time
    a.host.clock.advance(1.5, kernel=a)
    t.join(10)
    assert box["r"] == (1, "rump.dhcpclient: timed out waiting for response\n")


def test_errors_before_the_exchange(net, tmp_path):
    a, _b, _serve = net
    status, err = dhcp(a, "shmif7")
    assert (status, err) == (1, "rump.dhcpclient: cannot init shmif7: Device not configured\n")
    status, err = dhcp(a, "lo0")
    assert (status, err) == (1, "rump.dhcpclient: failed to get hwaddr for lo0: Can't assign requested address\n")
    k = kernel(str(tmp_path / "bus2"), components=("rumpnet", "rumpnet_net", "rumpnet_netinet", "rumpnet_shmif"))
    try:
        out = io.StringIO()
        assert dhcpclient.run(k.c, ("shmif0",), out=out) == 1
        assert out.getvalue() == "rump.dhcpclient: bpf: Function not implemented\n"
    finally:
        k.reboot(0)


def test_routing_socket_link_gateways(net):
    """RTM_ADD with gateway link#N (what dhcpclient sends for the subnet route and for
    host routes): through interface N, connected when a net route; bad ones refused."""
    a, _b, _serve = net
    r = a.c.socket(N.AF_ROUTE, N.SOCK_RAW, 0)

    def add(dst, mask, gw, flags=N.RTF_UP):
        return a.c.ioctl(r, N.RTM_MSG, (N.RTM_ADD, flags, dst, mask, gw, None))

    for gw, err in (("link#x", errnos.EINVAL), ("link#99", errnos.ENETUNREACH), ("link#2", errnos.ENETUNREACH)):
        with pytest.raises(RumpError) as e:                 # shmif0 (index 2) has no address yet
            add("10.0.0.0", "255.0.0.0", gw)
        assert e.value.errno == err, gw
    a.c.ioctl(a.s, N.SIOCAIFADDR, ("shmif0", "10.1.1.1", None, "255.255.255.0"))
    reply = add("10.7.0.0", "255.255.0.0", "link#2")
    assert reply[1] & (N.RTF_UP | N.RTF_CONNECTED | N.RTF_DONE) == N.RTF_UP | N.RTF_CONNECTED | N.RTF_DONE
    assert reply[4:7] == ("link#2", "shmif0", "10.1.1.1")
    reply = add("10.8.8.8", None, "link#2", N.RTF_UP | N.RTF_HOST | N.RTF_STATIC)
    assert reply[1] & N.RTF_HOST and reply[1] & N.RTF_STATIC and not reply[1] & N.RTF_CONNECTED
    with pytest.raises(RumpError) as e:
        add("10.7.0.0", "255.255.0.0", "link#2")
    assert e.value.errno == errnos.EEXIST
    rows = routes(a)
    assert rows[("10.7.0.0", "255.255.0.0")][2] == "link#2" and rows[("10.8.8.8", "255.255.255.255")][4] == "shmif0"


def test_hostile_frames_never_raise_anything_else():
    """Random damage to offers: the client's parser answers None, a message or
    BadPacket, and the lease and route rules take whatever parses."""
    import random

    from rumptools.formats.net import dhcp as fdhcp
    from rumptools.formats.net.dhcp_lease import Lease, plan_routes
    rnd = random.Random(10)
    base = raw(Ether(dst="02:00:00:00:00:02") / IP(src="192.168.2.1", dst="192.168.2.125") / UDP(sport=67, dport=68) /
               BOOTP(op=2, xid=5, yiaddr="192.168.2.125") /
               DHCP(options=[("message-type", "offer")] + OFFER_OPTS +
                    [("classless_static_routes", ["10.0.0.0/8:192.168.2.2"]), (33, bytes(8)), "end"]))
    kinds = {"none": 0, "message": 0, "bad": 0}
    for i in range(3000):
        f = bytearray(base)
        for _ in range(rnd.randint(1, 6)):
            f[rnd.randrange(14, len(f))] = rnd.randrange(256)
        if i % 3 == 0:                                     # keep the headers right: damage only the message
            p = Ether(bytes(f))
            if UDP in p:
                del p[IP].chksum, p[IP].len, p[UDP].chksum, p[UDP].len
                f = bytearray(raw(p))
        try:
            m = fdhcp.reply_from_frame(bytes(f))
        except fdhcp.BadPacket:
            kinds["bad"] += 1
            continue
        if m is None:
            kinds["none"] += 1
            continue
        kinds["message"] += 1
        lease = Lease.from_message(m)
        notes, rts = plan_routes(lease)
        assert all(0 <= x <= 0xffffffff for r in rts for x in r)
        lease.time_text()
    assert min(kinds.values()) > 50, kinds


def test_a_route_the_kernel_refuses_is_reported_by_errno(net):
    a, _b, serve = net
    offer = [("subnet_mask", "255.255.255.0"), ("lease_time", 86400),
             ("classless_static_routes", ["10.0.0.0/8:0.0.0.0", "0.0.0.0/0:192.168.2.254"])]
    serve(lambda s, kind, req: standard(s, kind, req, offer=offer))
    status, err = dhcp(a)
    assert (status, err) == (0, "shmif0: adding IP address 192.168.2.125/24\n"
                                "shmif0: adding route to 192.168.2.0/24\n"
                                "shmif0: adding route to 10.0.0.0/8\n"
                                "shmif0: add_route failed: 51\n"          # ENETUNREACH: no way to 0.0.0.0
                                "shmif0: adding default route via 192.168.2.254\n"
                                "lease time: 86400 seconds (1.00 days)\n")
    r = a.c.socket(N.AF_ROUTE, N.SOCK_RAW, 0)
    with pytest.raises(RumpError) as e:                  # a gateway no address or route reaches
        a.c.ioctl(r, N.RTM_MSG, (N.RTM_ADD, N.RTF_UP | N.RTF_GATEWAY | N.RTF_STATIC, "172.20.0.0", "255.255.0.0",
                                 "10.99.0.1", None))
    assert e.value.errno == errnos.ENETUNREACH
