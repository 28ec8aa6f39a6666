"""BOOTP/DHCP messages (RFC 951, RFC 2131/2132, option overload and RFC 3396
concatenation) and the frames rump.dhcpclient sends and accepts through bpf.

Message layout (UDP payload, network byte order):

    0 op  1 htype  2 hlen  3 hops  4 xid[4]  8 secs[2]  10 flags[2]
    12 ciaddr  16 yiaddr  20 siaddr  24 giaddr  28 chaddr[16]
    44 sname[64]  108 file[128]  236 magic cookie 63 82 53 63  240 options

Options are (code, length, data) with 0 (pad) and 255 (end) alone; option 52
(overload) says that `file` (1), `sname` (2) or both (3) hold more options,
read after the options field, file first. An option that appears more than
once is the concatenation of its pieces (RFC 3396); emit() splits data longer
than 255 bytes the same way.

Addresses are 4-byte strings, as in the other wire modules. Pure: no I/O.
The lease and route rules of the client are in dhcp_lease.py.
"""
import struct

from . import MalformedPacket
from . import bpf as fbpf
from .ether import BROADCAST, ETHERTYPE_IP, Ether
from .ether import HDRLEN as ETHER_HDRLEN
from .ipv4 import IPPROTO_UDP, IPv4, IP_OFFMASK
from .udp import UDP

BOOTREQUEST, BOOTREPLY = 1, 2
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
TYPE_NAMES = {DISCOVER: "DISCOVER", OFFER: "OFFER", REQUEST: "REQUEST", DECLINE: "DECLINE", ACK: "ACK",
              NAK: "NAK", RELEASE: "RELEASE", INFORM: "INFORM"}
MAGIC = b"\x63\x82\x53\x63"
FIXED = 236                     # the BOOTP header up to the cookie
CLIENT_PORT, SERVER_PORT = 68, 67
HTYPE_ETHER = 1
MTU_MIN, MTU_MAX = 576, 1500
# NetBSD's struct dhcp_message: header, cookie and the options of a message that
# fills a 1500-byte Ethernet frame (236 + 4 + 1500 - 268)
MESSAGE_MAX = 1472
INFINITE = 0xffffffff

# option codes
PAD, END = 0, 255
SUBNETMASK, ROUTER, HOSTNAME, BROADCAST_ADDR = 1, 3, 12, 28
STATICROUTE, REQUESTED_ADDR, LEASETIME, OVERLOAD = 33, 50, 51, 52
MESSAGETYPE, SERVERID, PARAMREQ, MESSAGE, MAXMSGSIZE = 53, 54, 55, 56, 57
RENEWALTIME, REBINDTIME, CLIENTID = 58, 59, 61
CSR, MSCSR = 121, 249
# what rump.dhcpclient asks for (dhcpcd's table order of the options marked REQUEST)
PARAMS = (SUBNETMASK, STATICROUTE, ROUTER, BROADCAST_ADDR, LEASETIME, RENEWALTIME, REBINDTIME)

_hdr = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")


class Message:
    """One BOOTP/DHCP message; `options` is the list of (code, data) in wire order."""

    __slots__ = ("op", "htype", "hlen", "hops", "xid", "secs", "flags", "ciaddr", "yiaddr", "siaddr",
                 "giaddr", "chaddr", "sname", "file", "options")

    def __init__(self, op=BOOTREQUEST, xid=0, chaddr=b"", options=(), htype=HTYPE_ETHER, hlen=6, hops=0,
                 secs=0, flags=0, ciaddr=bytes(4), yiaddr=bytes(4), siaddr=bytes(4), giaddr=bytes(4),
                 sname=b"", file=b""):
        self.op, self.htype, self.hlen, self.hops = op, htype, hlen, hops
        self.xid, self.secs, self.flags = xid, secs, flags
        self.ciaddr, self.yiaddr, self.siaddr, self.giaddr = ciaddr, yiaddr, siaddr, giaddr
        self.chaddr, self.sname, self.file = chaddr, sname, file
        self.options = list(options)

    # -- bytes ------------------------------------------------------------------------
    @classmethod
    def parse(cls, data):
        """A message from a UDP payload; MalformedPacket when it is shorter than the
        header and cookie, has another cookie, or its options run past the end."""
        if len(data) < FIXED + 4:
            raise MalformedPacket("bootp message of %d bytes" % len(data))
        if data[FIXED:FIXED + 4] != MAGIC:
            raise MalformedPacket("no dhcp magic cookie", FIXED)
        f = _hdr.unpack_from(data)
        m = cls(op=f[0], htype=f[1], hlen=f[2], hops=f[3], xid=f[4], secs=f[5], flags=f[6], ciaddr=f[7],
                yiaddr=f[8], siaddr=f[9], giaddr=f[10], chaddr=f[11], sname=f[12], file=f[13])
        m.options = _parse_options(data[FIXED + 4:])
        over = m.get(OVERLOAD)
        if over and over[0] & 1:
            m.options += _parse_options(m.file)
        if over and over[0] & 2:
            m.options += _parse_options(m.sname)
        return m

    def emit(self):
        chaddr = self.chaddr[:16].ljust(16, b"\0")
        out = [_hdr.pack(self.op, self.htype, self.hlen, self.hops, self.xid, self.secs, self.flags,
                         self.ciaddr, self.yiaddr, self.siaddr, self.giaddr, chaddr,
                         self.sname[:64].ljust(64, b"\0"), self.file[:128].ljust(128, b"\0")), MAGIC]
        for code, value in self.options:
            value = bytes(value)
            if code in (PAD, END):
                raise ValueError("option %d carries no data" % code)
            for i in range(0, max(len(value), 1), 255):
                piece = value[i:i + 255]
                out.append(bytes((code, len(piece))) + piece)
        out.append(bytes((END,)))
        return b"".join(out)

    # -- options --------------------------------------------------------------------------
    def get(self, code):
        """The data of an option (pieces concatenated), or None when absent."""
        pieces = [v for c, v in self.options if c == code]
        return b"".join(pieces) if pieces else None

    def addr(self, code):
        """An IPv4 address option (4 bytes), or None when absent or shorter."""
        v = self.get(code)
        return v[:4] if v is not None and len(v) >= 4 else None

    def addrs(self, code):
        v = self.get(code) or b""
        return [v[i:i + 4] for i in range(0, len(v) - 3, 4)]

    def u32(self, code):
        """A 32-bit option of exactly four bytes, or None."""
        v = self.get(code)
        return int.from_bytes(v, "big") if v is not None and len(v) == 4 else None

    @property
    def type(self):
        """The DHCP message type (option 53), or None."""
        v = self.get(MESSAGETYPE)
        return v[0] if v is not None and len(v) == 1 else None

    def __repr__(self):
        return "Message(op=%d, xid=0x%08x, type=%s, yiaddr=%s, %d options)" % (
            self.op, self.xid, TYPE_NAMES.get(self.type, self.type), ".".join(map(str, self.yiaddr)),
            len(self.options))


def _parse_options(raw):
    """(code, data) pairs up to the end option (or the end of raw)."""
    out = []
    i, n = 0, len(raw)
    while i < n:
        code = raw[i]
        if code == PAD:
            i += 1
            continue
        if code == END:
            return out
        if i + 1 >= n or i + 2 + raw[i + 1] > n:
            raise MalformedPacket("dhcp option %d runs past the end" % code, FIXED + 4 + i)
        ln = raw[i + 1]
        out.append((code, bytes(raw[i + 2:i + 2 + ln])))
        i += 2 + ln
    return out


# -- what the client sends --------------------------------------------------------------
def client_message(kind, xid, mac, hostname, mtu, secs=0, requested=None):
    """DISCOVER or REQUEST as NetBSD's rump.dhcpclient makes them: broadcast flag
    clear, no client id, options 53, [50 requested address], 57 (the MTU, 576 to
    1500), 12 (the host name up to its first dot, when there is one) and 55."""
    opts = [(MESSAGETYPE, bytes((kind,)))]
    if requested is not None:
        opts.append((REQUESTED_ADDR, bytes(requested)))
    opts.append((MAXMSGSIZE, min(max(mtu, MTU_MIN), MTU_MAX).to_bytes(2, "big")))
    short = hostname.split(".", 1)[0].encode()[:255]
    if short:
        opts.append((HOSTNAME, short))
    opts.append((PARAMREQ, bytes(PARAMS)))
    return Message(BOOTREQUEST, xid, bytes(mac), opts, hlen=len(mac), secs=min(max(secs, 0), 0xffff))


def client_frame(message, ip_id=0):
    """The Ethernet frame that carries a client message: broadcast, source MAC
    left zero (bpf fills it in), IP 0.0.0.0 -> 255.255.255.255, TTL 64, UDP 68 -> 67."""
    src, dst = bytes(4), b"\xff" * 4
    udp = UDP(CLIENT_PORT, SERVER_PORT, message.emit()).emit(src, dst)
    ip = IPv4(src, dst, IPPROTO_UDP, udp, ttl=64, id=ip_id & 0xffff)
    return Ether(BROADCAST, bytes(6), ETHERTYPE_IP, ip.emit()).emit()


# -- what the client accepts -------------------------------------------------------------
class BadPacket(Exception):
    """A captured frame that fails the IP or UDP checks: `invalid packet received`."""


def reply_from_frame(frame):
    """The DHCP message in a captured Ethernet frame, checked as rump.dhcpclient
    checks it: only the first 1500 bytes after the Ethernet header count, and in
    them the IP header checksum and total length and the UDP checksum (when not
    0) must be right (else BadPacket: so a message can never exceed MESSAGE_MAX,
    NetBSD's `invalid packet size`). Returns None for what it ignores silently
    (not IPv4 UDP to port 68, or no BOOTP message with the magic cookie)."""
    try:
        eth = Ether.parse(frame)
    except MalformedPacket:
        return None
    if eth.type != ETHERTYPE_IP:
        return None
    data = eth.payload[:MTU_MAX]
    try:
        ip = IPv4.parse(data)
    except MalformedPacket:
        raise BadPacket() from None
    if not ip.cksum_ok():
        raise BadPacket()
    if ip.proto != IPPROTO_UDP or ip.frag:
        return None
    try:
        udp = UDP.parse(ip.payload)
    except MalformedPacket:
        raise BadPacket() from None
    if not udp.cksum_ok(ip.src, ip.dst):
        raise BadPacket()
    if udp.dport != CLIENT_PORT:
        return None
    try:
        return Message.parse(udp.payload)
    except MalformedPacket:
        return None


def bpf_program():
    """The filter rump.dhcpclient installs: IPv4, UDP, not a fragment, destination
    port 68 (behind an IP header of any length); the whole frame, or nothing."""
    s, j = fbpf.stmt, fbpf.jump
    return [
        s(fbpf.LD | fbpf.H | fbpf.ABS, 12),                         # ethertype
        j(fbpf.JMP | fbpf.JEQ | fbpf.K, ETHERTYPE_IP, 0, 8),
        s(fbpf.LD | fbpf.B | fbpf.ABS, ETHER_HDRLEN + 9),           # protocol
        j(fbpf.JMP | fbpf.JEQ | fbpf.K, IPPROTO_UDP, 0, 6),
        s(fbpf.LD | fbpf.H | fbpf.ABS, ETHER_HDRLEN + 6),           # flags and offset
        j(fbpf.JMP | fbpf.JSET | fbpf.K, IP_OFFMASK, 4, 0),
        s(fbpf.LDX | fbpf.B | fbpf.MSH, ETHER_HDRLEN),              # X = IP header length
        s(fbpf.LD | fbpf.H | fbpf.IND, ETHER_HDRLEN + 2),           # UDP destination port
        j(fbpf.JMP | fbpf.JEQ | fbpf.K, CLIENT_PORT, 0, 1),
        s(fbpf.RET | fbpf.K, 0xffffffff),
        s(fbpf.RET | fbpf.K, 0),
    ]
