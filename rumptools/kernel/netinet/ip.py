"""IPv4 input, output and forwarding (NetBSD's ip_input.c, ip_output.c).

ip_input(inet, ifp, data) runs in a softint with the kernel lock held: it
checks the header (version, lengths, checksum), keeps what is for us (own
addresses, broadcasts, 224.0.0.1), reassembles fragments, processes the
record-route option and hands the datagram to ICMP, UDP or raw sockets;
anything else is forwarded when net.inet.ip.forwarding is 1 (TTL, ICMP time
exceeded and unreachable, and a host redirect when a packet leaves by the
interface it came in on from a sender on that subnet) or dropped.

ip_output(inet, ...) routes (longest prefix), picks the source address,
builds the header, fragments to the interface MTU, and sends: through lo0
for own addresses, to the link broadcast for broadcasts, else through ARP.
Errors are NetBSD's: EHOSTUNREACH without a route, ENETDOWN, EMSGSIZE,
EACCES for a broadcast without SO_BROADCAST, EHOSTDOWN from ARP.
"""
from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ...formats.net import MalformedPacket
from ...formats.net.ether import BROADCAST, ETHERTYPE_IP
from ...formats.net.ipv4 import IP_DF, IP_MF, IPOPT_RR, IPv4, fragment, parse_options
from ..net.ether import ether_output
from .in_ import ALLONES

MAXTTL = 255
ALLHOSTS = 0xe0000001


def _int(b):
    return int.from_bytes(b, "big")


def _b(n):
    return n.to_bytes(4, "big")


# -- options -----------------------------------------------------------------------------
def record_route(options, addr):
    """Write addr into a record-route option with room; returns the new option bytes."""
    raw = bytearray(options)
    i = 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        olen = raw[i + 1]
        if kind == IPOPT_RR:
            ptr = raw[i + 2]
            if ptr >= 4 and ptr + 3 <= olen:
                raw[i + ptr - 1:i + ptr + 3] = _b(addr)
                raw[i + 2] = ptr + 4
        i += olen
    return bytes(raw)


def reply_options(options):
    """The options an ICMP reply keeps (record route); others are dropped."""
    try:
        opts = parse_options(options)
    except MalformedPacket:
        return b""
    keep = [(k, d) for k, d in opts if k == IPOPT_RR]
    if not keep:
        return b""
    out = bytearray()
    for k, d in keep:
        out += bytes((k, len(d) + 2)) + d
    out += bytes(-len(out) % 4)
    return bytes(out)


# -- input -------------------------------------------------------------------------------
def ip_input(inet, ifp, data):
    st = inet.ipstat
    st.inc("total")
    if len(data) < 20:
        st.inc("toosmall")
        return
    try:
        ip = IPv4.parse(data)
    except MalformedPacket as e:
        st.inc("badvers" if data[0] >> 4 != 4 else "badhlen" if "header length" in str(e) else "badlen")
        return
    if not ip.cksum_ok():
        st.inc("badsum")
        return
    src, dst = _int(ip.src), _int(ip.dst)
    if src >> 28 == 0xe or (src == ALLONES):
        st.inc("badaddr")
        return
    if ip.options:
        try:
            parse_options(ip.options)
        except MalformedPacket as e:
            st.inc("badoptions")
            from .icmp import icmp_error
            icmp_error(inet, data, 12, 0, ifp, pointer=e.offset or 20)
            return
    ours = dst in inet.local or dst == ALLONES or dst == ALLHOSTS or inet.is_broadcast(dst, ifp) \
        or (ifp.flags & N.IFF_LOOPBACK and dst >> 24 == 127)
    if not ours:
        if dst >> 28 == 0xe:
            st.inc("notmember")
            return
        ip_forward(inet, ifp, ip, data)
        return
    if ip.is_fragment:
        ip = inet.reass.add(ip)
        if ip is None:
            return
        data = None
    if ip.options:
        opts = record_route(ip.options, dst)
        if opts != ip.options:
            ip.options = opts
            data = None                 # raw sockets see the option as recorded here
    st.inc("delivered")
    deliver(inet, ifp, ip, data, dst)


def deliver(inet, ifp, ip, data, dst):
    from . import icmp, udp_raw
    if ip.proto == N.IPPROTO_ICMP:
        icmp.icmp_input(inet, ifp, ip, data)
        udp_raw.raw_input(inet, ip, data)
    elif ip.proto == N.IPPROTO_UDP:
        udp_raw.udp_input(inet, ifp, ip, data)
    elif ip.proto == N.IPPROTO_TCP and inet.tcp is not None:
        from .tcp_input import tcp_input
        tcp_input(inet, ifp, ip, data)
    else:
        if not udp_raw.raw_input(inet, ip, data):
            inet.ipstat.inc("noproto")
            if not inet.is_broadcast(dst):
                icmp.icmp_error(inet, data if data is not None else ip.emit(), 3, 2, ifp)


def ip_forward(inet, ifp, ip, data):
    from .icmp import icmp_error
    st = inet.ipstat
    dst = _int(ip.dst)
    if not inet.params["forwarding"] or inet.is_broadcast(dst) or _int(ip.src) == 0:
        st.inc("cantforward")
        return
    if ip.ttl <= 1:
        st.inc("cantforward")
        icmp_error(inet, data, 11, 0, ifp)
        return
    rt = inet.routes.lookup(dst)
    if rt is None or rt.ifp is None or rt.flags & (N.RTF_REJECT | N.RTF_BLACKHOLE):
        st.inc("noroute")
        st.inc("cantforward")
        if rt is None or rt.flags & N.RTF_REJECT:
            icmp_error(inet, data, 3, 1, ifp)
        return
    out = rt.ifp
    ip.ttl -= 1
    if ip.options:
        ia = next(iter(inet.ifaddrs_of(out)), None)
        if ia is not None:
            ip.options = record_route(ip.options, ia.addr)
    rt.use += 1
    nexthop = rt.gateway if rt.flags & N.RTF_GATEWAY else dst
    try:
        frags = fragment(ip, out.mtu)
    except ValueError:
        st.inc("cantfrag")
        icmp_error(inet, data, 3, 4, ifp, mtu=out.mtu)
        return
    try:
        for f in frags:
            _send(inet, out, nexthop, f.emit(), bool(rt.flags & N.RTF_GATEWAY), rt)
    except RumpError as e:
        st.inc("cantforward")
        if e.errno in (errnos.EHOSTDOWN, errnos.EHOSTUNREACH):
            icmp_error(inet, data, 3, 1, ifp)
        return
    st.inc("forward")
    if out is ifp and inet.params["redirect"] and not ip.options and data is not None:
        src = _int(ip.src)
        if any(ia.ifp is ifp and src & ia.mask == ia.net for ia in inet.ifaddrs):
            # the sender could reach the next hop itself: tell it (host redirect), as ip_forward does
            st.inc("redirectsent")
            icmp_error(inet, data, 5, 1, ifp, gateway=nexthop.to_bytes(4, "big"))


# -- output ------------------------------------------------------------------------------
def route_to(inet, dst, ifp=None):
    """(out interface, next hop, route, source address) for dst, or an error."""
    if dst == ALLONES or (ifp is not None and dst >> 28 == 0xe):
        if ifp is None:
            for ia in inet.ifaddrs:
                if ia.ifp.flags & N.IFF_BROADCAST and ia.ifp.flags & N.IFF_UP:
                    return ia.ifp, dst, None, ia.addr
            raise RumpError(errnos.ENETUNREACH)
        ias = inet.ifaddrs_of(ifp)
        return ifp, dst, None, ias[0].addr if ias else 0
    rt = inet.routes.lookup(dst)
    if rt is None or rt.ifp is None:
        inet.ipstat.inc("noroute")
        raise RumpError(errnos.EHOSTUNREACH)
    if rt.flags & N.RTF_REJECT:
        raise RumpError(errnos.EHOSTUNREACH)
    rt.use += 1
    nexthop = rt.gateway if rt.flags & N.RTF_GATEWAY else dst
    return rt.ifp, nexthop, rt, rt.ifa if rt.ifa is not None else 0


def ip_output(inet, dst, proto, payload, src=0, ttl=None, tos=0, df=False, options=b"", so_broadcast=True,
              ifp=None, ident=None, frag_flags=0, frag_off=0):
    """Build and send one datagram (kernel lock held). Returns its total length."""
    st = inet.ipstat
    out, nexthop, rt, rsrc = route_to(inet, dst, ifp)
    if rt is not None and rt.flags & N.RTF_BLACKHOLE:
        return len(payload) + 20
    if not out.flags & N.IFF_UP:
        raise RumpError(errnos.ENETDOWN)
    bcast = dst == ALLONES or inet.is_broadcast(dst, out)
    if bcast and not so_broadcast:
        raise RumpError(errnos.EACCES)
    if src == 0:
        src = rsrc
        if src == 0:
            ias = inet.ifaddrs_of(out)
            src = ias[0].addr if ias else 0
    ip = IPv4(_b(src), _b(dst), proto, payload, inet.params["ttl"] if ttl is None else ttl,
              inet.next_id() if ident is None else ident, tos, (IP_DF if df else 0) | frag_flags, frag_off,
              options)
    if ip.total_length > 65535:
        raise RumpError(errnos.EMSGSIZE)
    st.inc("localout")
    try:
        frags = fragment(ip, out.mtu)
    except ValueError:
        st.inc("cantfrag")
        raise RumpError(errnos.EMSGSIZE) from None
    if len(frags) > 1:
        st.inc("fragmented")
        st.inc("ofragments", len(frags))
    local = rt is not None and rt.flags & N.RTF_LOCAL or dst in inet.local
    for f in frags:
        raw = f.emit()
        if local or out.flags & N.IFF_LOOPBACK:
            inet.net.loif.looutput(N.AF_INET, raw)
        else:
            _send(inet, out, nexthop, raw, rt is not None and bool(rt.flags & N.RTF_GATEWAY), rt, bcast)
    return ip.total_length


def _send(inet, out, nexthop, raw, via_gateway, rt, bcast=False):
    if out.flags & N.IFF_LOOPBACK:
        out.looutput(N.AF_INET, raw)
        return
    if not out.flags & N.IFF_RUNNING:
        raise RumpError(errnos.ENETDOWN)
    if bcast or nexthop == ALLONES or inet.is_broadcast(nexthop, out):
        ether_output(out, BROADCAST, ETHERTYPE_IP, raw)
        if out.flags & N.IFF_SIMPLEX:       # the interface does not hear itself: loop a copy
            inet.net.loif.looutput(N.AF_INET, raw)
        return
    if nexthop >> 28 == 0xe:
        mac = bytes((1, 0, 0x5e, (nexthop >> 16) & 0x7f, (nexthop >> 8) & 255, nexthop & 255))
        ether_output(out, mac, ETHERTYPE_IP, raw)
        return
    inet.arp.resolve(out, nexthop, raw, via_gateway)


__all__ = ["ip_input", "ip_output", "ip_forward", "route_to", "record_route", "reply_options",
           "MAXTTL", "IP_MF"]
