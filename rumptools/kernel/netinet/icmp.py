"""ICMP (NetBSD's ip_icmp.c): echo replies, errors about others' datagrams, error notification.

Replies and errors are sent with TTL 255 from the address the request was
sent to (else an address of the receiving interface). Echoes to broadcast
or multicast addresses are ignored (bmcastecho 0). Errors quote the IP
header and 8 bytes, are never sent about ICMP errors, broadcasts,
multicasts or non-first fragments, and are limited to errppslimit (100) a
second. Received errors are passed to the transport (UDP: a connected
socket gets ECONNREFUSED for port unreachable). Kernel lock held.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from ...formats.net import MalformedPacket
from ...formats.net.icmp import ECHO, ECHOREPLY, ERROR_TYPES, ICMP, UNREACH
from .in_ import ALLONES
from .ip import MAXTTL, ip_output, reply_options


def _int(b):
    return int.from_bytes(b, "big")


def icmp_input(inet, ifp, ip, data):
    st = inet.icmpstat
    payload = bytes(ip.payload)
    if len(payload) < 8:
        st.inc("tooshort")
        return
    try:
        m = ICMP.parse(payload)
    except MalformedPacket:
        st.inc("tooshort")
        return
    if not m.cksum_ok():
        st.inc("checksum")
        return
    if m.type < 19:
        st.inc("inhist%d" % m.type)
    dst = _int(ip.dst)
    if m.type == ECHO:
        if inet.is_broadcast(dst) or dst >> 28 == 0xe:
            st.inc("bmcastecho")
            return
        reply = ICMP(ECHOREPLY, 0, m.word, m.data)
        src = dst if dst in inet.local else _ifaddr(inet, ifp)
        try:
            ip_output(inet, _int(ip.src), 1, reply.emit(), src=src, ttl=MAXTTL,
                      options=reply_options(ip.options) if ip.options else b"")
            st.inc("reflect")
            st.inc("outhist0")
        except RumpError:
            pass
        return
    if m.type in ERROR_TYPES:
        try:
            qip, qdata = m.quoted()
        except MalformedPacket:
            st.inc("badlen")
            return
        if m.type == UNREACH and m.code in (2, 3) and qip.proto == 17 and len(qdata) >= 4:
            from .udp_raw import udp_ctlinput
            udp_ctlinput(inet, qip, qdata, errnos.ECONNREFUSED)
        elif m.type == UNREACH:
            from .udp_raw import udp_ctlinput
            if qip.proto == 17 and len(qdata) >= 4:
                udp_ctlinput(inet, qip, qdata, errnos.EHOSTUNREACH)


def _ifaddr(inet, ifp):
    ias = inet.ifaddrs_of(ifp)
    return ias[0].addr if ias else 0


def icmp_error(inet, data, type_, code, ifp, mtu=0, pointer=0):
    """Send an ICMP error about the datagram `data` (bytes as received)."""
    st = inet.icmpstat
    st.inc("error")
    if data is None or len(data) < 20:
        st.inc("oldshort")
        return
    hl = (data[0] & 0xf) << 2
    frag = int.from_bytes(data[6:8], "big") & 0x1fff
    src, dst = _int(data[12:16]), _int(data[16:20])
    if frag or src == 0 or src == ALLONES or src >> 28 == 0xe or dst >> 28 == 0xe or inet.is_broadcast(dst):
        return
    if data[9] == 1 and len(data) > hl and data[hl] not in (ECHO, ECHOREPLY, 13, 14, 15, 16, 17, 18) \
            and data[hl] in ERROR_TYPES:
        st.inc("oldicmp")
        return
    now = inet.kernel.host.clock.now()
    sec = int(now)
    if getattr(inet, "_icmp_sec", None) != sec:
        inet._icmp_sec, inet._icmp_count = sec, 0
    inet._icmp_count += 1
    if inet._icmp_count > inet.params["errppslimit"]:
        return
    m = ICMP.error(type_, code, data, inet.params["returndatabytes"], mtu=mtu, pointer=pointer)
    source = dst if dst in inet.local else _ifaddr(inet, ifp)
    if type_ < 19:
        st.inc("outhist%d" % type_)
    try:
        ip_output(inet, src, 1, m.emit(), src=source, ttl=MAXTTL)
    except RumpError:
        pass
