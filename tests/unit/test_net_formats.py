"""Wire formats (rumptools.formats.net) against scapy: built by scapy and
parsed by us, built by us and parsed by scapy; hypothesis fuzz: any bytes
give a result or MalformedPacket, nothing else."""
import os
import struct

import pytest
from hypothesis import given, settings, strategies as st

from rumptools.formats.net import MalformedPacket, mac_aton, mac_ntoa
from rumptools.formats.net import arp, cksum, ether, icmp, ipv4, tcp, udp

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPOption, Raw  # noqa: E402

SRC = bytes((10, 1, 1, 1))
DST = bytes((10, 1, 1, 2))
MAC1 = bytes.fromhex("b2a001020304")
MAC2 = bytes.fromhex("b2a005060708")


def reference_cksum(data):
    """A slow, obviously right RFC 1071 checksum."""
    if len(data) % 2:
        data += b"\0"
    s = 0
    for i in range(0, len(data), 2):
        s += data[i] << 8 | data[i + 1]
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


# ---- checksum

@given(st.binary(max_size=3000))
@settings(max_examples=400, deadline=None)
def test_checksum_matches_reference(data):
    assert cksum.checksum(data) == reference_cksum(data)


def test_checksum_edge_cases():
    assert cksum.checksum(b"") == 0xffff
    assert cksum.checksum(b"\0\0\0\0") == 0xffff
    assert cksum.checksum(b"\xff\xff") == 0
    assert cksum.checksum(b"\xff\xff\xff\xff") == 0
    assert cksum.checksum(b"\x01") == reference_cksum(b"\x01")


@given(st.binary(max_size=200), st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_checksum_combine(a, b):
    if len(a) % 2:
        a += b"\0"
    assert cksum.finish(cksum.combine(cksum.partial(a), cksum.partial(b))) == reference_cksum(a + b)


def test_checksum_of_correct_header_is_zero():
    hdr = bytes(IP(src="10.1.1.1", dst="10.1.1.2", ttl=3))
    assert cksum.checksum(hdr) == 0


# ---- ethernet, arp

def test_mac_text():
    assert mac_ntoa(MAC1) == "b2:a0:01:02:03:04"
    assert mac_aton("b2:a0:1:2:3:4") == MAC1
    with pytest.raises(ValueError):
        mac_aton("b2:a0:1:2:3")


def test_ether_scapy_to_ours_and_back():
    raw = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src="b2:a0:01:02:03:04", type=0x0806) / Raw(b"x" * 30))
    e = ether.Ether.parse(raw)
    assert e.dst == ether.BROADCAST and e.src == MAC1 and e.type == 0x0806
    assert e.payload == b"x" * 30
    assert ether.is_multicast(e.dst) and not ether.is_multicast(e.src)
    out = ether.Ether(MAC2, MAC1, 0x0800, b"abc").emit()
    s = Ether(out)
    assert (s.dst, s.src, s.type) == ("b2:a0:05:06:07:08", "b2:a0:01:02:03:04", 0x0800)
    assert len(ether.Ether(MAC2, MAC1, 0x0800, b"abc").emit(pad=True)) == 60


def test_arp_scapy_to_ours_and_back():
    raw = bytes(ARP(op=1, hwsrc="b2:a0:01:02:03:04", psrc="10.1.1.1", pdst="10.1.1.2"))
    a = arp.ARP.parse(raw + b"\0" * 18)            # with ethernet padding
    assert (a.op, a.sha, a.spa, a.tpa, a.tha) == (1, MAC1, SRC, DST, bytes(6))
    assert (a.hrd, a.pro) == (1, 0x0800)
    out = arp.ARP(arp.ARPOP_REPLY, MAC2, DST, MAC1, SRC).emit()
    s = ARP(out)
    assert (s.op, s.hwsrc, s.psrc, s.hwdst, s.pdst) == (2, "b2:a0:05:06:07:08", "10.1.1.2",
                                                       "b2:a0:01:02:03:04", "10.1.1.1")
    assert out == bytes(ARP(op=2, hwsrc="b2:a0:05:06:07:08", psrc="10.1.1.2",
                            hwdst="b2:a0:01:02:03:04", pdst="10.1.1.1"))


# ---- ipv4

def test_ipv4_scapy_to_ours():
    pkt = IP(src="10.1.1.1", dst="10.1.1.2", ttl=7, id=4242, tos=0x10, flags="DF",
             options=[IPOption(b"\x07\x07\x04" + bytes(4))]) / UDP(sport=5, dport=6) / Raw(b"hello")
    raw = bytes(pkt)
    p = ipv4.IPv4.parse(raw + b"\0" * 6)           # trailing padding is cut off
    assert (p.src, p.dst, p.ttl, p.id, p.tos, p.proto) == (SRC, DST, 7, 4242, 0x10, 17)
    assert p.flags == ipv4.IP_DF and p.frag == 0 and not p.is_fragment
    assert p.hlen == 28 and p.total_length == len(raw)
    assert p.cksum_ok()
    assert p.options_list() == [(ipv4.IPOPT_RR, b"\x04" + bytes(4))]
    assert bytes(p.payload) == raw[28:]
    bad = bytearray(raw)
    bad[8] ^= 1                                    # ttl changed, checksum stale
    assert not ipv4.IPv4.parse(bytes(bad)).cksum_ok()


def test_ipv4_ours_to_scapy():
    p = ipv4.IPv4(SRC, DST, 1, b"payload!", ttl=255, id=77, flags=ipv4.IP_MF, frag=3,
                  options=ipv4.encode_options([(ipv4.IPOPT_NOP, b""), (ipv4.IPOPT_RR, b"\x04" + bytes(8))]))
    raw = p.emit()
    s = IP(raw)
    assert (s.src, s.dst, s.ttl, s.id, s.proto, s.frag) == ("10.1.1.1", "10.1.1.2", 255, 77, 1, 3)
    assert s.flags == "MF" and s.ihl == 8 and s.len == len(raw)
    recomputed = IP(raw)
    del recomputed.chksum
    assert IP(bytes(recomputed)).chksum == s.chksum == p.cksum


@pytest.mark.parametrize("raw,offset", [
    (b"\x45" + bytes(10), None),                                      # short
    (b"\x65" + bytes(19), 0),                                         # version 6
    (b"\x44" + bytes(19), 0),                                         # ihl 4
    (b"\x46" + bytes(19), 0),                                         # ihl beyond buffer
    (b"\x45\x00\x00\x10" + bytes(16), 2),                             # total < header
    (b"\x45\x00\x01\x00" + bytes(16), 2),                             # total beyond buffer
])
def test_ipv4_malformed(raw, offset):
    with pytest.raises(MalformedPacket) as e:
        ipv4.IPv4.parse(raw)
    assert e.value.offset == offset


def test_ipv4_bad_option_points_at_length():
    with pytest.raises(MalformedPacket) as e:
        ipv4.parse_options(b"\x01\x07\x09\x00")
    assert e.value.offset == 22                   # the length byte of the RR option


def test_fragment_and_reassemble_with_scapy():
    big = IP(src="10.1.1.1", dst="10.1.1.2", id=9,
             options=[IPOption(b"\x83\x07\x04" + bytes(4)), IPOption(b"\x07\x03\x04")]) / \
        UDP(sport=1, dport=2) / Raw(os.urandom(3000))
    ours = ipv4.IPv4.parse(bytes(big))
    frags = ipv4.fragment(ours, 1500)
    assert len(frags) == 3
    assert all(f.total_length <= 1500 for f in frags)
    assert [f.flags & ipv4.IP_MF for f in frags] == [ipv4.IP_MF, ipv4.IP_MF, 0]
    # the first keeps LSRR (copied) and RR (not copied); later ones only LSRR
    assert [k for k, _ in frags[0].options_list()] == [131, 7]
    assert [k for k, _ in frags[1].options_list()] == [131]
    sfrags = [IP(f.emit()) for f in frags]
    assert sfrags[1].frag * 8 == len(frags[0].payload)
    from scapy.all import defragment
    whole = defragment(sfrags)[0]
    assert bytes(whole[UDP]) == bytes(big[UDP])
    with pytest.raises(ValueError):
        ipv4.fragment(ipv4.IPv4(SRC, DST, 17, bytes(2000), flags=ipv4.IP_DF), 1500)


# ---- icmp

def test_icmp_echo_both_ways():
    raw = bytes(ICMP(type=8, id=0x1234, seq=7) / Raw(b"ping data"))
    m = icmp.ICMP.parse(raw)
    assert (m.type, m.code, m.id, m.seq, bytes(m.data)) == (8, 0, 0x1234, 7, b"ping data")
    assert m.cksum_ok()
    out = icmp.ICMP.echo(0x1234, 7, b"ping data", reply=True).emit()
    s = ICMP(out)
    assert (s.type, s.id, s.seq, bytes(s.payload)) == (0, 0x1234, 7, b"ping data")
    del s.chksum
    assert ICMP(bytes(s)).chksum == icmp.ICMP.parse(out).cksum


@pytest.mark.parametrize("typ,code,kw", [
    (icmp.UNREACH, icmp.UNREACH_PORT, {}),
    (icmp.UNREACH, icmp.UNREACH_HOST, {}),
    (icmp.UNREACH, icmp.UNREACH_NEEDFRAG, {"mtu": 1400}),
    (icmp.TIMXCEED, icmp.TIMXCEED_INTRANS, {}),
    (icmp.PARAMPROB, 0, {"pointer": 21}),
])
def test_icmp_errors_quote_the_datagram(typ, code, kw):
    offending = bytes(IP(src="10.1.1.2", dst="10.1.1.1", ttl=1) / UDP(sport=33434, dport=33435) / Raw(b"x" * 40))
    out = icmp.ICMP.error(typ, code, offending, **kw).emit()
    s = IP(src="10.1.1.1", dst="10.1.1.2") / ICMP(out)
    s = IP(bytes(s))
    assert s[ICMP].type == typ and s[ICMP].code == code
    if "mtu" in kw:
        assert s[ICMP].nexthopmtu == 1400
    if "pointer" in kw:
        assert s[ICMP].ptr == 21
    quoted = s[ICMP].payload                       # scapy's IPerror
    assert quoted.src == "10.1.1.2" and quoted.dst == "10.1.1.1"
    assert quoted[1].sport == 33434
    m = icmp.ICMP.parse(out)
    assert m.cksum_ok() and m.is_error
    qip, first = m.quoted()
    assert qip.src == DST and qip.proto == 17 and len(first) == 8
    assert struct.unpack("!H", first[:2])[0] == 33434


def test_icmp_scapy_unreachable_parses():
    s = ICMP(type=3, code=3) / IP(src="1.2.3.4", dst="5.6.7.8") / UDP(sport=9, dport=10)
    m = icmp.ICMP.parse(bytes(s))
    ip, first = m.quoted()
    assert ip.src == bytes((1, 2, 3, 4)) and first[:4] == b"\x00\x09\x00\x0a"
    with pytest.raises(MalformedPacket):
        icmp.ICMP.echo(1, 1).quoted()


# ---- udp

def test_udp_both_ways():
    s = IP(src="10.1.1.1", dst="10.1.1.2") / UDP(sport=1234, dport=53) / Raw(b"query!!")
    raw = bytes(s)
    u = udp.UDP.parse(raw[20:])
    assert (u.sport, u.dport, bytes(u.payload)) == (1234, 53, b"query!!")
    assert u.cksum_ok(SRC, DST) and not u.cksum_ok(SRC, bytes((10, 1, 1, 3)))
    for payload in (b"", b"a", b"odd length", os.urandom(1472)):
        out = udp.UDP(40000, 7, payload).emit(SRC, DST)
        back = IP(bytes(IP(src="10.1.1.1", dst="10.1.1.2", proto=17) / Raw(out)))
        ref = back[UDP].chksum
        del back[UDP].chksum
        back[UDP].len = None
        assert IP(bytes(back))[UDP].chksum == ref
        assert back[UDP].sport == 40000 and bytes(back[UDP].payload) == payload


def test_udp_zero_checksum_is_sent_as_ffff():
    # find a payload whose checksum computes to 0
    base = udp.UDP(1, 2, b"\0\0").emit(SRC, DST)
    c = struct.unpack("!H", base[6:8])[0]
    fix = (0xffff - (~c & 0xffff)) & 0xffff       # add this word to make the sum 0xffff
    out = udp.UDP(1, 2, struct.pack("!H", fix)).emit(SRC, DST)
    assert out[6:8] == b"\xff\xff"
    assert udp.UDP.parse(out).cksum_ok(SRC, DST)


@pytest.mark.parametrize("raw", [b"\0" * 7, b"\0\1\0\2\0\x07\0\0", b"\0\1\0\2\0\x20\0\0abc"])
def test_udp_malformed(raw):
    with pytest.raises(MalformedPacket):
        udp.UDP.parse(raw)


# ---- tcp

def test_tcp_scapy_options_parse():
    s = IP(src="10.1.1.1", dst="10.1.1.2") / TCP(
        sport=65534, dport=80, seq=1000, ack=0, flags="S", window=32768,
        options=[("MSS", 1460), ("NOP", None), ("WScale", 3), ("SAckOK", b""),
                 ("Timestamp", (123456, 0)), ("NOP", None), ("NOP", None), ("SAck", (1, 2, 3, 4))])
    raw = bytes(s)
    t = tcp.TCP.parse(raw[20:])
    assert (t.sport, t.dport, t.seq, t.win) == (65534, 80, 1000, 32768)
    assert t.flags == tcp.SYN and t.flag_names() == "SYN"
    assert t.cksum_ok(SRC, DST)
    o = t.parsed_options()
    assert o.mss == 1460 and o.wscale == 3 and o.sack_permitted
    assert o.ts == (123456, 0) and o.sack == [(1, 2), (3, 4)]


def test_tcp_ours_to_scapy():
    opts = tcp.TCPOptions(mss=1460, wscale=7, sack_permitted=True, ts=(5, 6), sack=[(10, 20)])
    t = tcp.TCP(1, 2, seq=0xfffffff0, ack=42, flags=tcp.SYN | tcp.ACK | 0x100, win=1234,
                options=opts.emit(), payload=b"data", urp=0)
    out = t.emit(SRC, DST)
    s = IP(bytes(IP(src="10.1.1.1", dst="10.1.1.2", proto=6) / Raw(out)))[TCP]
    assert (s.sport, s.dport, s.seq, s.ack, s.window) == (1, 2, 0xfffffff0, 42, 1234)
    assert int(s.flags) == 0x112                  # NS, SYN, ACK
    so = dict(s.options)
    assert so["MSS"] == 1460 and so["WScale"] == 7 and "SAckOK" in so
    assert so["Timestamp"] == (5, 6) and so["SAck"] == (10, 20)
    assert bytes(s.payload) == b"data"
    ref = s.chksum
    del s.chksum
    assert IP(bytes(IP(src="10.1.1.1", dst="10.1.1.2") / s))[TCP].chksum == ref
    # NetBSD's layout: MSS, NOP WS, NOP NOP SACKOK, NOP NOP TS, NOP NOP SACK
    raw = opts.emit()
    assert raw[:4] == b"\x02\x04\x05\xb4" and raw[4:8] == b"\x01\x03\x03\x07"
    assert raw[8:12] == b"\x01\x01\x04\x02" and raw[12:16] == b"\x01\x01\x08\x0a"
    assert tcp.TCPOptions.parse(raw) == opts


def test_tcp_option_leniency_as_netbsd():
    # wrong length for its kind: skipped; bad length byte: ends the list
    o = tcp.TCPOptions.parse(b"\x02\x03\x05\x03\x03\x02\x00\x00")
    assert o.mss is None and o.wscale == 2
    o = tcp.TCPOptions.parse(b"\x03\x03\x02\x02\x00")
    assert o.wscale == 2 and o.mss is None
    assert tcp.TCPOptions.parse(b"\x02\x01\x05\xb4").mss is None


@pytest.mark.parametrize("raw", [bytes(19), b"\0" * 12 + b"\x40" + bytes(7), b"\0" * 12 + b"\xf0" + bytes(27)])
def test_tcp_malformed(raw):
    with pytest.raises(MalformedPacket):
        tcp.TCP.parse(raw)


# ---- fuzz: nothing but MalformedPacket

PARSERS = [
    lambda b: ether.Ether.parse(b),
    lambda b: arp.ARP.parse(b),
    lambda b: ipv4.IPv4.parse(b).options_list(),
    lambda b: ipv4.IPv4.parse(b, truncated_ok=True).cksum_ok(),
    lambda b: icmp.ICMP.parse(b).quoted(),
    lambda b: udp.UDP.parse(b).cksum_ok(SRC, DST),
    lambda b: tcp.TCP.parse(b).parsed_options(),
    lambda b: tcp.TCP.parse(b).cksum_ok(SRC, DST),
    lambda b: tcp.TCPOptions.parse(b),
    lambda b: ipv4.parse_options(b),
]


@pytest.mark.parametrize("parse", PARSERS)
@given(data=st.binary(max_size=120))
@settings(max_examples=300, deadline=None)
def test_fuzz_only_malformed_packet(parse, data):
    try:
        parse(data)
    except MalformedPacket:
        pass


@given(data=st.binary(min_size=20, max_size=80))
@settings(max_examples=300, deadline=None)
def test_fuzz_plausible_ipv4(data):
    # version/ihl forced plausible so the deeper checks get exercised
    data = bytes([0x45 + (data[0] % 11)]) + data[1:]
    try:
        p = ipv4.IPv4.parse(data)
    except MalformedPacket:
        return
    p.cksum_ok()
    try:
        p.options_list()
    except MalformedPacket:
        pass


# ---- round trips with random field values, checked by scapy too

addr4 = st.binary(min_size=4, max_size=4)
mac = st.binary(min_size=6, max_size=6)


@given(addr4, addr4, st.integers(0, 255), st.integers(0, 255), st.integers(0, 0xffff), st.integers(0, 255),
       st.sampled_from([0, ipv4.IP_DF, ipv4.IP_MF, ipv4.IP_DF | ipv4.IP_MF]), st.integers(0, 0x1fff),
       st.binary(max_size=40).map(lambda b: b[:len(b) - len(b) % 4]), st.binary(max_size=300))
@settings(max_examples=150, deadline=None)
def test_ipv4_round_trip(src, dst, proto, ttl, id_, tos, flags, frag, options, payload):
    p = ipv4.IPv4(src, dst, proto, payload, ttl, id_, tos, flags, frag, options)
    raw = p.emit()
    q = ipv4.IPv4.parse(raw)
    assert q.cksum_ok()
    assert (q.src, q.dst, q.proto, q.ttl, q.id, q.tos, q.flags, q.frag, q.options, bytes(q.payload)) == \
        (src, dst, proto, ttl, id_, tos, flags, frag, options, payload)
    s = IP(raw)
    assert (s.ttl, s.id, s.frag, s.proto, s.ihl * 4, s.len) == (ttl, id_, frag, proto, 20 + len(options), len(raw))


@given(addr4, addr4, st.integers(0, 0xffff), st.integers(0, 0xffff), st.binary(max_size=600))
@settings(max_examples=150, deadline=None)
def test_udp_round_trip(src, dst, sport, dport, payload):
    raw = udp.UDP(sport, dport, payload).emit(src, dst)
    u = udp.UDP.parse(raw)
    assert (u.sport, u.dport, bytes(u.payload)) == (sport, dport, payload) and u.cksum_ok(src, dst)
    assert reference_cksum(src + dst + bytes((0, 17)) + len(raw).to_bytes(2, "big") + raw) == 0


@given(addr4, addr4, st.integers(0, 0xffff), st.integers(0, 0xffff), st.integers(0, 2 ** 32 - 1),
       st.integers(0, 2 ** 32 - 1), st.integers(0, 0x1ff), st.integers(0, 0xffff),
       st.one_of(st.none(), st.integers(0, 0xffff)), st.one_of(st.none(), st.integers(0, 14)), st.booleans(),
       st.one_of(st.none(), st.tuples(st.integers(0, 2 ** 32 - 1), st.integers(0, 2 ** 32 - 1))),
       st.lists(st.tuples(st.integers(0, 2 ** 32 - 1), st.integers(0, 2 ** 32 - 1)), max_size=1),
       st.binary(max_size=300))
@settings(max_examples=150, deadline=None)
def test_tcp_round_trip(src, dst, sport, dport, seq, ack, flags, win, mss, ws, sackok, ts, sack, payload):
    opts = tcp.TCPOptions(mss, ws, sackok, ts, sack)
    t = tcp.TCP(sport, dport, seq, ack, flags, win, opts.emit(), payload)
    raw = t.emit(src, dst)
    u = tcp.TCP.parse(raw)
    assert (u.sport, u.dport, u.seq, u.ack, u.flags, u.win, bytes(u.payload)) == \
        (sport, dport, seq, ack, flags, win, payload)
    assert u.cksum_ok(src, dst) and u.parsed_options() == opts
    assert reference_cksum(src + dst + bytes((0, 6)) + len(raw).to_bytes(2, "big") + raw) == 0


@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 2 ** 32 - 1), st.binary(max_size=200))
@settings(max_examples=150, deadline=None)
def test_icmp_round_trip(typ, code, word, data):
    raw = icmp.ICMP(typ, code, word, data).emit()
    m = icmp.ICMP.parse(raw)
    assert (m.type, m.code, m.word, bytes(m.data)) == (typ, code, word, data) and m.cksum_ok()
    assert reference_cksum(raw) == 0


@given(mac, mac, st.integers(0, 0xffff), st.binary(max_size=100), st.integers(1, 4), mac, mac, addr4, addr4)
@settings(max_examples=100, deadline=None)
def test_ether_arp_round_trip(dst, src, typ, payload, op, sha, tha, spa, tpa):
    e = ether.Ether.parse(ether.Ether(dst, src, typ, payload).emit())
    assert (e.dst, e.src, e.type, bytes(e.payload)) == (dst, src, typ, payload)
    a = arp.ARP.parse(arp.ARP(op, sha, spa, tha, tpa).emit())
    assert (a.op, a.sha, a.spa, a.tha, a.tpa) == (op, sha, spa, tha, tpa)
