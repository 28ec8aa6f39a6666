"""UDP and raw IPv4 sockets (NetBSD's udp_usrreq.c, raw_ip.c, in_pcb.c).

Each socket's pcb holds its local and foreign address and port and its IP
options (TTL, TOS, HDRINCL, IP options, RECVDSTADDR). Binding checks the
address is ours (EADDRNOTAVAIL) and the port free (EADDRINUSE unless
SO_REUSEADDR/SO_REUSEPORT); port 0 picks an ephemeral port from
anonportmin..anonportmax (random_start). UDP input finds the most specific
pcb (broadcasts go to every match); no pcb -> ICMP port unreachable. Raw
sockets get a copy of every datagram of their protocol (0: all), header
included; with IP_HDRINCL they send their own header, whose ip_len and
ip_off are in host order and ip_len must equal the bytes written (EINVAL).
Kernel lock held.
"""
import struct

from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ...formats.net import MalformedPacket
from ...formats.net.udp import UDP
from ..net.socket import ISCONNECTED, Protocol
from .in_ import aton, ntoa
from .ip import ip_output

INADDR_ANY = 0


class InPcb:
    __slots__ = ("so", "laddr", "lport", "faddr", "fport", "ttl", "tos", "hdrincl", "ipopts", "recvdstaddr",
                 "recvttl", "recvif", "portrange", "mcast_if", "mcast_ttl", "anon")

    def __init__(self, so):
        self.so = so
        self.laddr = self.lport = self.faddr = self.fport = 0
        self.ttl = None
        self.tos = 0
        self.hdrincl = False
        self.ipopts = b""
        self.recvdstaddr = self.recvttl = self.recvif = False
        self.portrange = 0
        self.mcast_if = None
        self.mcast_ttl = 1
        self.anon = False


def _inet(so):
    return so.kernel.slot("inet")


def inet_sockaddr(addr):
    """An AF_INET sockaddr value -> (address as int, port); EAFNOSUPPORT/EINVAL otherwise."""
    if type(addr) is not tuple or len(addr) < 2 or addr[0] != N.AF_INET:
        raise RumpError(errnos.EAFNOSUPPORT if type(addr) is tuple and addr and addr[0] != N.AF_INET
                        else errnos.EINVAL)
    port = addr[2] if len(addr) > 2 else 0
    if type(port) is not int or not 0 <= port <= 65535:
        raise RumpError(errnos.EINVAL)
    return aton(addr[1]), port


def anon_port(inet, portrange, pcbs):
    """An unused ephemeral port for a pcb of `pcbs`: from a random start in anonportmin..max
    (lowportmin..max for IP_PORTRANGE_LOW), as in_pcbsetport."""
    p = inet.params
    lo, hi = (p["lowportmin"], p["lowportmax"]) if portrange == 2 else (p["anonportmin"], p["anonportmax"])
    used = {pcb.lport for pcb in pcbs}
    span = hi - lo + 1
    start = int.from_bytes(inet.kernel.host.random(2), "big") % span
    for i in range(span):
        port = lo + (start + i) % span
        if port not in used:
            return port
    raise RumpError(errnos.EADDRNOTAVAIL)


class InetProtocol(Protocol):
    domain = N.AF_INET
    pcbs_name = "udp_pcbs"

    def attach(self, so):
        so.pcb = InPcb(so)
        getattr(_inet(so), self.pcbs_name).insert(0, so.pcb)

    def detach(self, so):
        lst = getattr(_inet(so), self.pcbs_name)
        if so.pcb in lst:
            lst.remove(so.pcb)

    def sockaddr(self, so):
        return (N.AF_INET, ntoa(so.pcb.laddr), so.pcb.lport)

    def peeraddr(self, so):
        if not so.state & ISCONNECTED:
            raise RumpError(errnos.ENOTCONN)
        return (N.AF_INET, ntoa(so.pcb.faddr), so.pcb.fport)

    def ctloutput(self, so, get, level, name, value):
        if level != N.IPPROTO_IP:
            raise RumpError(errnos.ENOPROTOOPT)
        pcb = so.pcb
        inet = _inet(so)
        ints = {N.IP_TTL: "ttl", N.IP_TOS: "tos", N.IP_MULTICAST_TTL: "mcast_ttl", N.IP_PORTRANGE: "portrange"}
        bools = {N.IP_RECVDSTADDR: "recvdstaddr", N.IP_RECVTTL: "recvttl", N.IP_RECVIF: "recvif"}
        if name == N.IP_HDRINCL and self.type != N.SOCK_RAW:
            raise RumpError(errnos.ENOPROTOOPT)
        if name == N.IP_HDRINCL:
            bools[N.IP_HDRINCL] = "hdrincl"
        if get:
            if name == N.IP_TTL:
                return pcb.ttl if pcb.ttl is not None else (255 if self.type == N.SOCK_RAW
                                                            else inet.params["ttl"])
            if name in ints:
                return getattr(pcb, ints[name])
            if name in bools:
                return int(getattr(pcb, bools[name]))
            if name == N.IP_OPTIONS:
                return pcb.ipopts
            if name == N.IP_MULTICAST_LOOP:
                return 1
            raise RumpError(errnos.ENOPROTOOPT)
        if name == N.IP_OPTIONS:
            if value is None:
                value = b""
            if type(value) is not bytes or len(value) > 40:
                raise RumpError(errnos.EINVAL)
            pcb.ipopts = value + bytes(-len(value) % 4)
            return None
        if name == N.IP_MULTICAST_IF:
            pcb.mcast_if = None if value in (None, "0.0.0.0") else aton(value)
            return None
        if name == N.IP_MULTICAST_LOOP:
            return None
        v = _int(value)
        if name in ints:
            if name in (N.IP_TTL, N.IP_MULTICAST_TTL) and not (-1 <= v <= 255):
                raise RumpError(errnos.EINVAL)
            if name == N.IP_TTL and v == -1:
                v = None
            setattr(pcb, ints[name], v)
            return None
        if name in bools:
            setattr(pcb, bools[name], bool(v))
            return None
        raise RumpError(errnos.ENOPROTOOPT)

    def bind(self, so, addr):
        pcb = so.pcb
        if pcb.lport or (self.type == N.SOCK_RAW and pcb.laddr):
            raise RumpError(errnos.EINVAL)
        a, port = inet_sockaddr(addr)
        inet = _inet(so)
        if a != INADDR_ANY and a not in inet.local and not inet.is_broadcast(a) and a >> 28 != 0xe:
            raise RumpError(errnos.EADDRNOTAVAIL)
        if self.type == N.SOCK_RAW:
            pcb.laddr = a
            return
        if port == 0:
            port = anon_port(inet, pcb.portrange, inet.udp_pcbs)
            pcb.anon = True
        else:
            reuse = so.options & (N.SO_REUSEADDR | N.SO_REUSEPORT)
            for other in inet.udp_pcbs:
                if other is not pcb and other.lport == port and (
                        other.laddr == a or other.laddr == INADDR_ANY or a == INADDR_ANY):
                    if not (reuse and other.so.options & (N.SO_REUSEADDR | N.SO_REUSEPORT)):
                        raise RumpError(errnos.EADDRINUSE)
        pcb.laddr, pcb.lport = a, port

    def connect(self, so, addr):
        pcb = so.pcb
        if type(addr) is tuple and addr and addr[0] == N.AF_UNSPEC:     # disconnect
            pcb.faddr = pcb.fport = 0
            so.state &= ~ISCONNECTED
            return
        a, port = inet_sockaddr(addr)
        if self.type != N.SOCK_RAW and port == 0:
            raise RumpError(errnos.EADDRNOTAVAIL)
        inet = _inet(so)
        if a == INADDR_ANY:
            a = next(iter(inet.local), 0x7f000001)
        if pcb.laddr == INADDR_ANY:
            from .ip import route_to
            _ifp, _nh, _rt, src = route_to(inet, a)
            if self.type != N.SOCK_RAW:
                pcb.laddr = src
            elif src:
                pcb.laddr = src
        if self.type != N.SOCK_RAW and pcb.lport == 0:
            pcb.lport = anon_port(inet, pcb.portrange, inet.udp_pcbs)
            pcb.anon = True
        pcb.faddr, pcb.fport = a, port
        so.state |= ISCONNECTED

    def shutdown(self, so, how):
        pass

    def _dest(self, so, addr):
        pcb = so.pcb
        if addr is not None:
            if so.state & ISCONNECTED:
                raise RumpError(errnos.EISCONN)
            return inet_sockaddr(addr)
        if not so.state & ISCONNECTED:
            raise RumpError(errnos.EDESTADDRREQ)
        return pcb.faddr, pcb.fport


class UdpProtocol(InetProtocol):
    type = N.SOCK_DGRAM
    protocol = N.IPPROTO_UDP
    pcbs_name = "udp_pcbs"

    def send(self, so, data, addr, control, flags):
        inet = _inet(so)
        pcb = so.pcb
        dst, dport = self._dest(so, addr)
        if dport == 0:
            raise RumpError(errnos.EADDRNOTAVAIL)
        if len(data) > so.snd_hiwat:
            raise RumpError(errnos.EMSGSIZE)
        if pcb.lport == 0:
            pcb.lport = anon_port(inet, pcb.portrange, inet.udp_pcbs)
            pcb.anon = True
        src = pcb.laddr
        if src == 0 or inet.is_broadcast(src):
            from .ip import route_to
            src = route_to(inet, dst)[3]
        if len(data) > 0xffff - 8:      # does not fit the UDP length field
            raise RumpError(errnos.EMSGSIZE)
        u = UDP(pcb.lport, dport, data)
        payload = u.emit(src.to_bytes(4, "big"), dst.to_bytes(4, "big"), bool(inet.params["udp.checksum"]))
        ip_output(inet, dst, N.IPPROTO_UDP, payload, src=src, ttl=pcb.ttl, tos=pcb.tos, options=pcb.ipopts,
                  so_broadcast=bool(so.options & N.SO_BROADCAST))
        inet.udpstat.inc("opackets")
        return len(data)


class RawProtocol(InetProtocol):
    type = N.SOCK_RAW
    pcbs_name = "raw_pcbs"
    sendspace = 9216
    recvspace = 9216

    def __init__(self):
        pass

    def sockaddr(self, so):
        return (N.AF_INET, ntoa(so.pcb.laddr), 0)

    def peeraddr(self, so):
        if not so.state & ISCONNECTED:
            raise RumpError(errnos.ENOTCONN)
        return (N.AF_INET, ntoa(so.pcb.faddr), 0)

    def send(self, so, data, addr, control, flags):
        inet = _inet(so)
        pcb = so.pcb
        dst, _port = self._dest(so, addr)
        if len(data) > so.snd_hiwat:
            raise RumpError(errnos.EMSGSIZE)
        inet.ipstat.inc("rawout")
        bcast = bool(so.options & N.SO_BROADCAST)
        if not pcb.hdrincl:
            ip_output(inet, dst, so.protocol, data, src=pcb.laddr, ttl=255 if pcb.ttl is None else pcb.ttl,
                      tos=pcb.tos, options=pcb.ipopts, so_broadcast=bcast)
            return len(data)
        if len(data) < 20:
            raise RumpError(errnos.EINVAL)
        hl = (data[0] & 0xf) << 2
        ip_len, = struct.unpack_from("=H", data, 2)
        ip_off, = struct.unpack_from("=H", data, 6)
        if hl < 20 or hl > len(data) or ip_len != len(data):
            raise RumpError(errnos.EINVAL)
        src = int.from_bytes(data[12:16], "big")
        hdst = int.from_bytes(data[16:20], "big")
        ident = int.from_bytes(data[4:6], "big")
        ip_output(inet, hdst or dst, data[9], bytes(data[hl:]), src=src, ttl=data[8], tos=data[1],
                  options=bytes(data[20:hl]), so_broadcast=bcast, ident=ident or None,
                  frag_flags=ip_off & 0xe000, frag_off=ip_off & 0x1fff)
        return len(data)


# -- input -------------------------------------------------------------------------------
def _src_addr(ip, sport):
    return (N.AF_INET, ntoa(int.from_bytes(ip.src, "big")), sport)


def _control(pcb, ip, ifp=None):
    out = []
    if pcb.recvdstaddr:
        out.append((N.IPPROTO_IP, N.IP_RECVDSTADDR, bytes(ip.dst)))
    if pcb.recvttl:
        out.append((N.IPPROTO_IP, N.IP_RECVTTL, bytes((ip.ttl,))))
    if pcb.recvif and ifp is not None:
        out.append((N.IPPROTO_IP, N.IP_RECVIF, ifp.name.encode()))
    return tuple(out) or None


def udp_input(inet, ifp, ip, data):
    st = inet.udpstat
    st.inc("ipackets")
    payload = bytes(ip.payload)
    try:
        u = UDP.parse(payload)
    except MalformedPacket:
        st.inc("hdrops" if len(payload) < 8 else "badlen")
        return
    if len(payload) != 8 + len(u.payload):
        st.inc("badlen")
        return
    if not u.cksum_ok(ip.src, ip.dst):
        st.inc("badsum")
        return
    src, dst = int.from_bytes(ip.src, "big"), int.from_bytes(ip.dst, "big")
    bcast = inet.is_broadcast(dst) or dst >> 28 == 0xe
    best, best_score, hits = None, -1, []
    for pcb in inet.udp_pcbs:
        if pcb.lport != u.dport:
            continue
        score = 0
        if pcb.laddr:
            if pcb.laddr != dst and not bcast:
                continue
            score += 2
        if pcb.faddr:
            if pcb.faddr != src or pcb.fport != u.sport:
                continue
            score += 1
        if bcast:
            hits.append(pcb)
        elif score > best_score:
            best, best_score = pcb, score
    if best is not None:
        hits = [best]
    if not hits:
        if bcast:
            st.inc("noportbcast")
            return
        st.inc("noport")
        from .icmp import icmp_error
        icmp_error(inet, data if data is not None else ip.emit(), 3, 3, ifp)
        return
    addr = _src_addr(ip, u.sport)
    for pcb in hits:
        if not pcb.so.append(u.payload, addr, _control(pcb, ip, ifp)):
            st.inc("fullsock")


def udp_ctlinput(inet, qip, qdata, err):
    """An ICMP error about a datagram we sent: tell the connected socket it came from."""
    sport, dport = struct.unpack_from("!HH", qdata)
    src, dst = int.from_bytes(qip.src, "big"), int.from_bytes(qip.dst, "big")
    for pcb in inet.udp_pcbs:
        if pcb.lport == sport and pcb.faddr == dst and pcb.fport == dport and \
                (pcb.laddr == src or pcb.laddr == 0):
            pcb.so.set_error(err)


def raw_input(inet, ip, data):
    """Give raw sockets of the protocol a copy (header included); True if one took it."""
    if not inet.raw_pcbs:
        return False
    if data is None:
        data = ip.emit()
    src, dst = int.from_bytes(ip.src, "big"), int.from_bytes(ip.dst, "big")
    took = False
    for pcb in inet.raw_pcbs:
        so = pcb.so
        if so.protocol and so.protocol != ip.proto:
            continue
        if pcb.laddr and pcb.laddr != dst:
            continue
        if pcb.faddr and pcb.faddr != src:
            continue
        if so.append(bytes(data), _src_addr(ip, 0), _control(pcb, ip)):
            took = True
    return took


def _int(value):
    if type(value) is int:
        return value
    if type(value) is bytes and len(value) in (1, 4):
        return int.from_bytes(value, "little", signed=len(value) == 4)
    raise RumpError(errnos.EINVAL)
