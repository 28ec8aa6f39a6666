"""BOOTP/DHCP messages, the client's frames and filter, and the lease and route rules,
checked against scapy's BOOTP/DHCP (build with one, parse with the other)."""
import ipaddress

import pytest

from rumptools.formats.net import bpf as fbpf
from rumptools.formats.net import dhcp
from rumptools.formats.net.dhcp_lease import (ALLONES, Lease, cidr, class_mask, decode_classless, describe,
                                              plan_routes, route_mask)

scapy = pytest.importorskip("scapy.all")
from scapy.all import BOOTP, DHCP, IP, UDP, Ether, raw  # noqa: E402

MAC = bytes.fromhex("b20a7f0b0e00")
SERVER_MAC = bytes.fromhex("0200c0a80201")


def a(text):
    return int(ipaddress.IPv4Address(text))


def opts_of(pkt):
    return [o for o in pkt[DHCP].options if o not in ("end", "pad")]


def test_discover_and_request_as_scapy_reads_them():
    m = dhcp.client_message(dhcp.DISCOVER, 0xdeadbeef, MAC, "rump-4711.golem.localhost", 1500, secs=70000)
    f = Ether(dhcp.client_frame(m, 0x1234))
    assert f.dst == "ff:ff:ff:ff:ff:ff" and f.src == "00:00:00:00:00:00" and f.type == 0x0800
    assert (f[IP].src, f[IP].dst, f[IP].ttl, f[IP].id, f[IP].flags, f[IP].proto) == \
        ("0.0.0.0", "255.255.255.255", 64, 0x1234, 0, 17)
    assert (f[UDP].sport, f[UDP].dport) == (68, 67)
    b = f[BOOTP]
    assert (b.op, b.htype, b.hlen, b.hops, b.xid, b.secs, b.flags) == (1, 1, 6, 0, 0xdeadbeef, 0xffff, 0)
    assert b.chaddr == MAC + bytes(10) and b.ciaddr == b.yiaddr == b.siaddr == b.giaddr == "0.0.0.0"
    assert opts_of(f) == [("message-type", 1), ("max_dhcp_size", 1500), ("hostname", b"rump-4711"),
                          ("param_req_list", [1, 33, 3, 28, 51, 58, 59])]
    # byte for byte what NetBSD's make_message lays out: no padding to BOOTP's 300 bytes
    wire = m.emit()
    assert wire[236:] == bytes.fromhex("63825363" "350101" "390205dc" "0c09") + b"rump-4711" + \
        bytes.fromhex("3707012103" "1c333a3b" "ff")
    assert len(wire) == 240 + 3 + 4 + 11 + 9 + 1 and len(raw(f[UDP])) == 8 + len(wire)
    # the checksums are those scapy computes itself
    again = f.copy()
    del again[IP].chksum, again[UDP].chksum
    assert raw(Ether(raw(again))) == raw(f)
    # REQUEST: the offered address (50), no server identifier; MTU clamped to 576..1500
    r = Ether(dhcp.client_frame(dhcp.client_message(dhcp.REQUEST, 7, MAC, "box", 9000,
                                                    requested=bytes((192, 168, 2, 125)))))
    assert opts_of(r) == [("message-type", 3), ("requested_addr", "192.168.2.125"), ("max_dhcp_size", 1500),
                          ("hostname", b"box"), ("param_req_list", [1, 33, 3, 28, 51, 58, 59])]
    r = Ether(dhcp.client_frame(dhcp.client_message(dhcp.DISCOVER, 7, MAC, "", 300)))
    assert opts_of(r) == [("message-type", 1), ("max_dhcp_size", 576), ("param_req_list", [1, 33, 3, 28, 51, 58, 59])]


def offer_frame(xid=0xdeadbeef, options=None, yiaddr="192.168.2.125", **bootp):
    if options is None:
        options = [("message-type", "offer"), ("server_id", "192.168.2.1"), ("lease_time", 172800),
                   ("subnet_mask", "255.255.255.0"), ("broadcast_address", "192.168.2.255"),
                   ("router", "192.168.2.1")]
    return (Ether(dst=MAC, src=SERVER_MAC) / IP(src="192.168.2.1", dst=yiaddr) / UDP(sport=67, dport=68) /
            BOOTP(op=2, xid=xid, yiaddr=yiaddr, siaddr="192.168.2.1", chaddr=MAC, **bootp) /
            DHCP(options=options + ["end"]))


def test_offer_built_by_scapy_parses():
    m = dhcp.reply_from_frame(raw(offer_frame()))
    assert (m.op, m.xid, m.type, m.yiaddr, m.chaddr[:6]) == (2, 0xdeadbeef, dhcp.OFFER, bytes((192, 168, 2, 125)), MAC)
    assert m.addr(dhcp.SERVERID) == bytes((192, 168, 2, 1)) and m.u32(dhcp.LEASETIME) == 172800
    lease = Lease.from_message(m)
    assert (lease.addr, lease.mask, lease.broadcast, lease.leasetime, lease.routers) == \
        (a("192.168.2.125"), a("255.255.255.0"), a("192.168.2.255"), 172800, [a("192.168.2.1")])
    assert lease.time_text() == "lease time: 172800 seconds (2.00 days)"


def test_round_trips_long_options_and_overload():
    long = bytes(range(256)) * 2                            # 512 bytes: three pieces on the wire
    m = dhcp.Message(dhcp.BOOTREPLY, 42, MAC, [(dhcp.MESSAGETYPE, b"\x05"), (224, long), (dhcp.ROUTER, bytes(4))],
                     yiaddr=bytes((10, 0, 0, 9)), secs=3, flags=0x8000, sname=b"srv", file=b"boot")
    wire = m.emit()
    assert raw(BOOTP(wire)) == wire                          # scapy keeps every byte
    back = dhcp.Message.parse(wire)
    assert back.get(224) == long and back.type == dhcp.ACK and back.flags == 0x8000
    assert (back.sname.rstrip(b"\0"), back.file.rstrip(b"\0"), back.secs) == (b"srv", b"boot", 3)
    assert [c for c, _v in back.options] == [53, 224, 224, 224, 3]
    assert back.emit() == wire
    # scapy -> ours -> scapy
    s = raw(BOOTP(op=2, xid=9, yiaddr="10.1.2.3") / DHCP(options=[("message-type", "ack"), ("lease_time", 60),
                                                                  ("hostname", b"x" * 40), "end"]))
    mine = dhcp.Message.parse(s)
    assert mine.get(dhcp.HOSTNAME) == b"x" * 40 and mine.u32(dhcp.LEASETIME) == 60
    assert opts_of(BOOTP(mine.emit())) == opts_of(BOOTP(s))
    # option overload: the router in the file field, the mask in sname (file is read first)
    file_opts = bytes((3, 4, 10, 0, 0, 1, 255))
    sname_opts = bytes((1, 4, 255, 255, 0, 0, 255))
    s = raw(BOOTP(op=2, xid=9, yiaddr="10.1.2.3", file=file_opts, sname=sname_opts) /
            DHCP(options=[("message-type", "offer"), (52, b"\x03"), "end"]))
    o = dhcp.Message.parse(s)
    assert [c for c, _v in o.options] == [53, 52, 3, 1]
    lease = Lease.from_message(o)
    assert (lease.mask, lease.routers) == (0xffff0000, [a("10.0.0.1")])


def test_frames_the_client_refuses():
    good = offer_frame()
    bad_ip = good.copy()
    bad_ip[IP].chksum = 0x1234
    with pytest.raises(dhcp.BadPacket):
        dhcp.reply_from_frame(raw(bad_ip))
    bad_udp = good.copy()
    bad_udp[UDP].chksum = 0x1234
    with pytest.raises(dhcp.BadPacket):
        dhcp.reply_from_frame(raw(bad_udp))
    no_sum = good.copy()
    no_sum[UDP].chksum = 0                                  # no checksum is fine
    assert dhcp.reply_from_frame(raw(no_sum)).xid == 0xdeadbeef
    short = raw(good)[:-20]                                 # IP total length beyond the frame
    with pytest.raises(dhcp.BadPacket):
        dhcp.reply_from_frame(short)
    huge = offer_frame(options=[("message-type", "offer")] + [(224, b"z" * 250)] * 6)
    assert len(raw(huge[UDP].payload)) > dhcp.MESSAGE_MAX
    with pytest.raises(dhcp.BadPacket):                     # cut at 1500 bytes: its length is wrong
        dhcp.reply_from_frame(raw(huge))
    other_port = good.copy()
    other_port[UDP].dport = 67
    assert dhcp.reply_from_frame(raw(other_port)) is None
    no_cookie = raw(Ether(dst=MAC) / IP(src="1.2.3.4", dst="255.255.255.255") / UDP(sport=67, dport=68) /
                    BOOTP(op=2, xid=1, options=b"abcd"))
    assert dhcp.reply_from_frame(no_cookie) is None
    assert dhcp.reply_from_frame(raw(Ether(type=0x0806) / (b"x" * 28))) is None
    assert dhcp.reply_from_frame(b"\x01\x02") is None
    cut = dhcp.Message(2, 0xdeadbeef, MAC, [(dhcp.MESSAGETYPE, b"\x02")]).emit()[:-1] + bytes((3, 8, 1, 2, 3, 4))
    with pytest.raises(Exception) as e:
        dhcp.Message.parse(cut)                            # an option running past the end
    assert isinstance(e.value, ValueError)
    frame = raw(Ether(dst=MAC) / IP(src="1.2.3.4", dst="255.255.255.255") / UDP(sport=67, dport=68) / cut)
    assert dhcp.reply_from_frame(frame) is None            # ignored, as one without a cookie


def test_filter_takes_dhcp_replies_only():
    prog = dhcp.bpf_program()
    assert fbpf.validate(prog)
    assert fbpf.filter(prog, raw(offer_frame())) == 0xffffffff
    with_options = Ether(dst=MAC) / IP(src="1.1.1.1", dst="2.2.2.2", options=b"\x01\x01\x01\x00") / \
        UDP(sport=67, dport=68) / b"x"
    assert fbpf.filter(prog, raw(with_options)) == 0xffffffff
    assert fbpf.filter(prog, raw(Ether() / IP() / UDP(sport=68, dport=67) / b"x")) == 0
    assert fbpf.filter(prog, raw(Ether() / IP(frag=10) / UDP(dport=68) / b"x")) == 0
    assert fbpf.filter(prog, raw(Ether() / IP(proto=6) / (b"\x00\x43\x00\x44" + bytes(16)))) == 0
    assert fbpf.filter(prog, raw(Ether(type=0x0806) / bytes(28))) == 0
    # round trip through BIOCSETF's byte form
    assert fbpf.unpack_program(fbpf.pack_program(prog)) == prog


def test_masks_and_texts():
    assert [cidr(a(m)) for m in ("255.255.255.0", "255.0.0.0", "0.0.0.0", "255.255.255.255")] == [24, 8, 0, 32]
    assert [class_mask(a(x)) for x in ("10.1.2.3", "172.16.0.1", "192.168.2.1", "224.0.0.1", "0.0.0.0")] == \
        [0xff000000, 0xffff0000, 0xffffff00, 0, 0]
    assert route_mask(a("10.0.0.0")) == 0xff000000 and route_mask(a("10.1.0.0")) == 0xffff0000
    assert route_mask(a("10.1.0.128")) == 0xffffff80 and route_mask(a("230.0.0.0")) == ALLONES
    assert describe((a("192.168.2.0"), a("255.255.255.0"), 0)) == "route to 192.168.2.0/24"
    assert describe((0, 0, a("192.168.2.1"))) == "default route via 192.168.2.1"
    assert describe((a("10.9.9.9"), ALLONES, a("10.9.9.9"))) == "host route to 10.9.9.9"
    assert describe((a("10.0.0.0"), 0xff000000, a("192.168.2.2"))) == "route to 10.0.0.0/8 via 192.168.2.2"
    inf = Lease(1, 2, 3, dhcp.INFINITE)
    assert inf.time_text() == "lease time: infinite"
    assert Lease(1, 2, 3, 86400).time_text() == "lease time: 86400 seconds (1.00 days)"
    assert Lease(1, 2, 3, 90).time_text() == "lease time: 90 seconds (0.00 days)"


def lease_of(options, yiaddr="192.168.2.125"):
    return Lease.from_message(dhcp.reply_from_frame(raw(offer_frame(options=options, yiaddr=yiaddr))))


def test_classless_routes_are_preferred_to_static_routes_and_routers():
    o = [("message-type", "offer"), ("subnet_mask", "255.255.255.0"), ("router", "192.168.2.1"),
         (33, bytes((172, 16, 0, 0, 192, 168, 2, 3))),
         ("classless_static_routes", ["10.0.0.0/8:192.168.2.2", "0.0.0.0/0:192.168.2.254"])]
    notes, routes = plan_routes(lease_of(o))
    assert notes == []
    assert routes == [(a("192.168.2.0"), 0xffffff00, 0), (a("10.0.0.0"), 0xff000000, a("192.168.2.2")),
                      (0, 0, a("192.168.2.254"))]
    # Microsoft's 249 when 121 is absent
    o249 = o[:4] + [(249, bytes((16, 172, 20, 192, 168, 2, 9)))]
    assert plan_routes(lease_of(o249))[1][1:] == [(a("172.20.0.0"), 0xffff0000, a("192.168.2.9"))]
    # without them: static routes (class masks) then the routers as default routes
    notes, routes = plan_routes(lease_of(o[:4]))
    assert routes == [(a("192.168.2.0"), 0xffffff00, 0), (a("172.16.0.0"), 0xffff0000, a("192.168.2.3")),
                      (0, 0, a("192.168.2.1"))]
    # a broken 121 (a width above 32) falls back to 33 and 3
    bad = o[:4] + [(121, bytes((40, 10, 0, 0, 0, 0, 192, 168, 2, 2)))]
    assert plan_routes(lease_of(bad))[1] == routes
    assert decode_classless(bytes((0, 1, 2, 3, 4))) == [(0, 0, 0x01020304)]
    assert decode_classless(bytes((24, 10, 1, 2, 1, 2, 3))) is None        # ends inside a route
    assert decode_classless(b"\x00\x01") is None


def test_routers_off_the_subnet_and_host_routes():
    o = [("message-type", "offer"), ("subnet_mask", "255.255.255.0"), ("router", "10.9.9.9"),
         (33, bytes((192, 168, 7, 7, 192, 168, 2, 125)))]        # a host route "via" our own address
    notes, routes = plan_routes(lease_of(o))
    assert notes == ["router 10.9.9.9 requires a host route"]
    # 192.168.7.7's mask is all ones (no trailing zero bits): a host route, its gate made its destination
    assert routes == [(a("192.168.2.0"), 0xffffff00, 0), (a("192.168.7.7"), ALLONES, a("192.168.7.7")),
                      (a("10.9.9.9"), ALLONES, a("10.9.9.9")), (0, 0, a("10.9.9.9"))]
    notes, routes = plan_routes(lease_of(o[:3]), noarp=True)
    assert notes == ["forcing router 10.9.9.9 through interface"] and routes[-1] == (0, 0, 0)
    cl = [("message-type", "offer"), ("subnet_mask", "255.255.255.0"),
          ("classless_static_routes", ["192.168.9.9/32:192.168.2.125"])]
    assert plan_routes(lease_of(cl))[1][1] == (a("192.168.9.9"), ALLONES, a("192.168.9.9"))


def test_lease_defaults():
    lease = lease_of([("message-type", "offer")], yiaddr="172.16.5.6")
    assert (lease.mask, lease.broadcast, lease.leasetime) == (0xffff0000, a("172.16.255.255"), dhcp.INFINITE)
    assert plan_routes(lease) == ([], [(a("172.16.0.0"), 0xffff0000, 0)])
    bad_len = lease_of([("message-type", "offer"), (51, b"\x00\x01")])       # not four bytes: infinite
    assert bad_len.leasetime == dhcp.INFINITE
    ci = Lease.from_message(dhcp.Message(dhcp.BOOTREPLY, 1, MAC, [], ciaddr=bytes((10, 0, 0, 5))))
    assert ci.addr == a("10.0.0.5") and ci.mask == 0xff000000
    assert Lease(a("224.0.0.5"), 0, 0, 0).subnet() is None
