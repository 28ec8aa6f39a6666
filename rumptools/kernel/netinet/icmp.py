"""ICMP (NetBSD's ip_icmp.c): echo replies, errors about others' datagrams, error notification.

Replies and errors are sent with TTL 255 from the address the request was
sent to (else an address of the receiving interface). Echoes to broadcast
or multicast addresses are ignored (bmcastecho 0). Errors quote the IP
header and 8 bytes, are never sent about ICMP errors, broadcasts,
multicasts or non-first fragments, and are limited to errppslimit (100) a
second. Received errors are passed to the transport (UDP: a connected
socket gets ECONNREFUSED for port unreachable); redirects from the first
hop become dynamic host routes. Kernel lock held.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from ...formats.net import MalformedPacket
from ...abi import net as N
from ...formats.net.icmp import ECHO, ECHOREPLY, ERROR_TYPES, ICMP, REDIRECT, UNREACH
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
        if m.type == REDIRECT:
            redirect(inet, ifp, _int(ip.src), _int(qip.dst), m.word, m.code)
            return
        if m.type == UNREACH and qip.proto == 6 and len(qdata) >= 8 and inet.tcp is not None:
            from .tcp_subr import tcp_ctlinput
            tcp_ctlinput(inet.tcp, qip, qdata, errnos.ECONNREFUSED if m.code in (2, 3) else errnos.EHOSTUNREACH)
            return
        if m.type == UNREACH and m.code in (2, 3) and qip.proto == 17 and len(qdata) >= 4:
            from .udp_raw import udp_ctlinput
            udp_ctlinput(inet, qip, qdata, errnos.ECONNREFUSED)
        elif m.type == UNREACH:
            from .udp_raw import udp_ctlinput
            if qip.proto == 17 and len(qdata) >= 4:
                udp_ctlinput(inet, qip, qdata, errnos.EHOSTUNREACH)


def redirect(inet, ifp, sender, dst, gateway, code):
    """Accept a redirect (net.inet.icmp.rediraccept) as NetBSD's rtredirect does: only from the
    current first hop towards dst, only to a gateway on a connected subnet; it becomes a
    dynamic host route that expires after net.inet.icmp.redirtimeout seconds."""
    from ..net.route import Rtentry
    st = inet.icmpstat
    if code not in (0, 1) or not inet.params["rediraccept"]:
        return
    rt = inet.routes.lookup(dst)
    if rt is None or not rt.flags & N.RTF_GATEWAY or rt.gateway != sender or gateway in inet.local:
        return
    found = inet.resolve(gateway, True)
    if found is None or found[0] is not ifp or gateway & 0xf0000000 == 0xe0000000:
        return
    st.inc("redirectrx")
    old = inet.routes.exact(dst, 32)
    if old is not None:
        if not old.flags & N.RTF_DYNAMIC:
            return
        inet.routes.delete(dst, 32)
    new = Rtentry(dst, 32, N.RTF_UP | N.RTF_GATEWAY | N.RTF_HOST | N.RTF_DYNAMIC | N.RTF_MODIFIED, ifp, found[1],
                  gateway=gateway, created=inet.kernel.host.clock.now())
    inet.routes.add(new)

    def expire():
        if inet.routes.exact(dst, 32) is new:
            inet.routes.delete(dst, 32)
    inet.kernel.callouts.callout(expire).reset(inet.params["redirtimeout"])


def _ifaddr(inet, ifp):
    ias = inet.ifaddrs_of(ifp)
    return ias[0].addr if ias else 0


def icmp_error(inet, data, type_, code, ifp, mtu=0, pointer=0, gateway=b""):
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
    m = ICMP.error(type_, code, data, inet.params["returndatabytes"], mtu=mtu, pointer=pointer, gateway=gateway)
    source = dst if dst in inet.local else _ifaddr(inet, ifp)
    if type_ < 19:
        st.inc("outhist%d" % type_)
    try:
        ip_output(inet, src, 1, m.emit(), src=source, ttl=MAXTTL)
    except RumpError:
        pass
