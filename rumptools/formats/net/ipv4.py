"""IPv4 headers (RFC 791), options and fragmentation fields.

     0 version:4 ihl:4   1 tos   2 total length   4 id
     6 flags:3 (RF DF MF) fragment offset:13 (units of 8 bytes)
     8 ttl   9 protocol   10 header checksum   12 src[4]   16 dst[4]
    20 options (ihl*4 - 20 bytes, padded with EOL to a multiple of 4)

parse() checks what NetBSD's ip_input checks before it looks further:
version 4, ihl >= 5, header and total length within the buffer, total length
>= header length.  Bytes past the total length (Ethernet padding) are cut
off.  The header checksum is not checked by parse(): cksum_ok() says.
Options are parsed on demand (options_list()), since malformed options are
answered with an ICMP parameter problem pointing at the bad byte.
"""
import struct

from . import MalformedPacket
from .cksum import checksum

HDRLEN = 20
IP_RF = 0x8000
IP_DF = 0x4000
IP_MF = 0x2000
IP_OFFMASK = 0x1fff
MAXPACKET = 65535

IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17

IPOPT_EOL = 0
IPOPT_NOP = 1
IPOPT_RR = 7
IPOPT_TS = 68
IPOPT_SECURITY = 130
IPOPT_LSRR = 131
IPOPT_SSRR = 137
IPOPT_RA = 148

_hdr = struct.Struct("!BBHHHBBH4s4s")


def opt_copied(kind):
    """Options with the copied bit go into every fragment."""
    return bool(kind & 0x80)


def parse_options(raw, base=HDRLEN):
    """Options bytes -> [(kind, data)], EOL ends the list, NOP is (1, b'').
    A bad length raises MalformedPacket with the offset (from the start of
    the IP header) of the offending length byte."""
    out = []
    i = 0
    n = len(raw)
    while i < n:
        kind = raw[i]
        if kind == IPOPT_EOL:
            break
        if kind == IPOPT_NOP:
            out.append((kind, b""))
            i += 1
            continue
        if i + 1 >= n:
            raise MalformedPacket("ip option %d truncated" % kind, base + i)
        olen = raw[i + 1]
        if olen < 2 or i + olen > n:
            raise MalformedPacket("ip option %d has length %d" % (kind, olen), base + i + 1)
        out.append((kind, bytes(raw[i + 2:i + olen])))
        i += olen
    return out


def encode_options(opts):
    """[(kind, data)] -> bytes padded with EOL to a multiple of 4."""
    out = bytearray()
    for kind, data in opts:
        if kind in (IPOPT_EOL, IPOPT_NOP):
            out.append(kind)
        else:
            out += bytes((kind, len(data) + 2)) + data
    out += bytes(-len(out) % 4)
    if len(out) > 40:
        raise ValueError("ip options longer than 40 bytes")
    return bytes(out)


class IPv4:
    __slots__ = ("tos", "id", "flags", "frag", "ttl", "proto", "cksum",
                 "src", "dst", "options", "payload", "_raw_hdr")

    def __init__(self, src, dst, proto, payload=b"", ttl=64, id=0, tos=0,
                 flags=0, frag=0, options=b"", cksum=0):
        self.src = src
        self.dst = dst
        self.proto = proto
        self.payload = payload
        self.ttl = ttl
        self.id = id
        self.tos = tos
        self.flags = flags          # IP_DF | IP_MF (| IP_RF) as in the 16-bit field
        self.frag = frag            # fragment offset in 8-byte units
        self.options = options      # raw option bytes, a multiple of 4 when emitted
        self.cksum = cksum
        self._raw_hdr = None

    @property
    def hlen(self):
        return HDRLEN + len(self.options) + (-len(self.options) % 4)

    @property
    def total_length(self):
        return self.hlen + len(self.payload)

    @property
    def more_fragments(self):
        return bool(self.flags & IP_MF)

    @property
    def is_fragment(self):
        return bool(self.flags & IP_MF) or self.frag != 0

    @classmethod
    def parse(cls, data, truncated_ok=False):
        """truncated_ok: the datagram may be cut short (a header quoted in
        an ICMP error): the total length is then not checked against the
        buffer."""
        n = len(data)
        if n < HDRLEN:
            raise MalformedPacket("ip packet of %d bytes" % n)
        vhl, tos, tlen, id_, off, ttl, proto, ck, src, dst = _hdr.unpack_from(data)
        if vhl >> 4 != 4:
            raise MalformedPacket("ip version %d" % (vhl >> 4), 0)
        hl = (vhl & 0xf) << 2
        if hl < HDRLEN:
            raise MalformedPacket("ip header length %d" % hl, 0)
        if hl > n:
            raise MalformedPacket("ip header length %d beyond %d bytes" % (hl, n), 0)
        if tlen < hl:
            raise MalformedPacket("ip total length %d below header length %d" % (tlen, hl), 2)
        if tlen > n and not truncated_ok:
            raise MalformedPacket("ip total length %d beyond %d bytes" % (tlen, n), 2)
        p = cls(src, dst, proto, data[hl:tlen], ttl, id_, tos, off & 0xe000,
                off & IP_OFFMASK, bytes(data[HDRLEN:hl]), ck)
        p._raw_hdr = data[:hl]
        return p

    def cksum_ok(self):
        """True when the header checksum of the parsed header is correct."""
        if self._raw_hdr is None:
            raise ValueError("cksum_ok() needs a parsed header")
        return checksum(self._raw_hdr) == 0

    def options_list(self):
        return parse_options(self.options)

    def header(self, cksum=True):
        """The header bytes; cksum=False keeps self.cksum as it is."""
        opts = self.options
        if len(opts) & 3:
            opts = opts + bytes(-len(opts) % 4)
        hl = HDRLEN + len(opts)
        if hl > 60:
            raise ValueError("ip header longer than 60 bytes")
        tlen = hl + len(self.payload)
        if tlen > MAXPACKET:
            raise ValueError("ip datagram of %d bytes" % tlen)
        hdr = _hdr.pack(0x40 | (hl >> 2), self.tos, tlen, self.id,
                        self.flags | self.frag, self.ttl, self.proto,
                        0 if cksum else self.cksum, self.src, self.dst) + opts
        if cksum:
            c = checksum(hdr)
            hdr = hdr[:10] + bytes((c >> 8, c & 0xff)) + hdr[12:]
            self.cksum = c
        return hdr

    def emit(self, cksum=True):
        return self.header(cksum) + self.payload

    def __repr__(self):
        return "IPv4(%s > %s, proto=%d, ttl=%d, id=%d, flags=0x%x, frag=%d, %d bytes)" % (
            ".".join(map(str, self.src)), ".".join(map(str, self.dst)), self.proto,
            self.ttl, self.id, self.flags, self.frag, len(self.payload))


def fragment(packet, mtu):
    """Split an IPv4 object into fragments that fit in mtu bytes, as
    ip_fragment does: the first keeps all options, later ones only the
    copied ones; offsets in 8-byte units; MF on all but the last (and on
    the last too if the original had MF).  Raises ValueError if DF is set
    and the packet does not fit."""
    if packet.total_length <= mtu:
        return [packet]
    if packet.flags & IP_DF:
        raise ValueError("fragmentation needed and DF set")
    first_opts = packet.options
    later = encode_options([o for o in parse_options(first_opts) if opt_copied(o[0])])
    out = []
    data = packet.payload
    pos = 0
    opts = first_opts
    while pos < len(data):
        hl = HDRLEN + len(opts) + (-len(opts) % 4)
        room = (mtu - hl) & ~7
        if room <= 0:
            raise ValueError("mtu %d too small for the ip header" % mtu)
        chunk = data[pos:pos + room]
        last = pos + len(chunk) >= len(data)
        flags = packet.flags & ~IP_MF
        if not last or packet.flags & IP_MF:
            flags |= IP_MF
        out.append(IPv4(packet.src, packet.dst, packet.proto, chunk, packet.ttl,
                        packet.id, packet.tos, flags, packet.frag + pos // 8, opts))
        pos += len(chunk)
        opts = later
    return out
