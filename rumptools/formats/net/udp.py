"""UDP datagrams (RFC 768) with the IPv4 pseudo-header checksum.

    0 source port  2 destination port  4 length (header + data)  6 checksum

The checksum covers the pseudo-header (src, dst, 0, 17, length), the header
and the data; 0 on the wire means "no checksum", so a computed 0 is sent as
0xffff.  parse() cuts the data to the length field (which must lie within
the buffer and be at least 8).
"""
import struct

from . import MalformedPacket
from .cksum import combine, finish, partial, pseudo_header
from .ipv4 import IPPROTO_UDP

HDRLEN = 8
_hdr = struct.Struct("!HHHH")


class UDP:
    __slots__ = ("sport", "dport", "cksum", "payload", "_raw")

    def __init__(self, sport, dport, payload=b"", cksum=0):
        self.sport = sport
        self.dport = dport
        self.payload = payload
        self.cksum = cksum
        self._raw = None

    @classmethod
    def parse(cls, data):
        n = len(data)
        if n < HDRLEN:
            raise MalformedPacket("udp datagram of %d bytes" % n)
        sp, dp, ulen, ck = _hdr.unpack_from(data)
        if ulen < HDRLEN or ulen > n:
            raise MalformedPacket("udp length %d in %d bytes" % (ulen, n), 4)
        u = cls(sp, dp, data[HDRLEN:ulen], ck)
        u._raw = data[:ulen]
        return u

    def cksum_ok(self, src, dst):
        """True if the checksum is right or absent (0)."""
        if self._raw is None:
            raise ValueError("cksum_ok() needs a parsed datagram")
        if self.cksum == 0:
            return True
        raw = self._raw
        return combine(pseudo_header(src, dst, IPPROTO_UDP, len(raw)), partial(raw)) == 0xffff

    def emit(self, src, dst, cksum=True):
        ulen = HDRLEN + len(self.payload)
        if ulen > 0xffff:
            raise ValueError("udp datagram of %d bytes" % ulen)
        hdr = _hdr.pack(self.sport, self.dport, ulen, 0)
        c = 0
        if cksum:
            c = finish(combine(pseudo_header(src, dst, IPPROTO_UDP, ulen),
                               partial(hdr), partial(self.payload))) or 0xffff
            hdr = hdr[:6] + bytes((c >> 8, c & 0xff))
        self.cksum = c
        return hdr + self.payload

    def __repr__(self):
        return "UDP(%d > %d, %d bytes)" % (self.sport, self.dport, len(self.payload))
