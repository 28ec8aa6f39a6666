"""ICMP messages (RFC 792): echo, destination unreachable, time exceeded,
parameter problem, with the quoted IP header of errors.

     0 type  1 code  2 checksum  4 four type-specific bytes  8 data

Echo and echo reply: id (u16) and seq (u16) at 4, data after.  Errors
(unreachable, time exceeded, source quench, redirect, parameter problem):
the four bytes are unused, the next-hop MTU (unreachable code 4, at 6), the
gateway (redirect) or the pointer (parameter problem, at 4); the data is
the offending datagram's IP header plus at least its first 8 bytes
(net.inet.icmp.returndatabytes).  The checksum covers the whole message;
parse() does not check it, cksum_ok() does.
"""
import struct

from . import MalformedPacket
from .cksum import checksum
from .ipv4 import IPv4

HDRLEN = 8
ECHOREPLY = 0
UNREACH = 3
SOURCEQUENCH = 4
REDIRECT = 5
ECHO = 8
TIMXCEED = 11
PARAMPROB = 12
TSTAMP = 13
TSTAMPREPLY = 14
MASKREQ = 17
MASKREPLY = 18

UNREACH_NET = 0
UNREACH_HOST = 1
UNREACH_PROTOCOL = 2
UNREACH_PORT = 3
UNREACH_NEEDFRAG = 4
UNREACH_SRCFAIL = 5
UNREACH_NET_PROHIB = 9
UNREACH_HOST_PROHIB = 10
UNREACH_FILTER_PROHIB = 13
TIMXCEED_INTRANS = 0
TIMXCEED_REASS = 1

ERROR_TYPES = frozenset((UNREACH, SOURCEQUENCH, REDIRECT, TIMXCEED, PARAMPROB))

_hdr = struct.Struct("!BBHI")


class ICMP:
    __slots__ = ("type", "code", "cksum", "word", "data", "_raw")

    def __init__(self, type, code=0, word=0, data=b"", cksum=0):
        self.type = type
        self.code = code
        self.word = word            # the four type-specific bytes as a u32
        self.data = data
        self.cksum = cksum
        self._raw = None

    # echo / echo reply
    @property
    def id(self):
        return self.word >> 16

    @property
    def seq(self):
        return self.word & 0xffff

    @property
    def mtu(self):
        """Next-hop MTU of a 'fragmentation needed' unreachable."""
        return self.word & 0xffff

    @property
    def pointer(self):
        """Offending byte of a parameter problem."""
        return self.word >> 24

    @classmethod
    def echo(cls, id, seq, data=b"", reply=False):
        return cls(ECHOREPLY if reply else ECHO, 0, (id & 0xffff) << 16 | (seq & 0xffff), data)

    @classmethod
    def error(cls, type, code, offending, returndatabytes=8, mtu=0, pointer=0, gateway=b""):
        """An error about the datagram `offending` (bytes of the IP packet as
        received): its header plus returndatabytes of its payload."""
        hl = (offending[0] & 0xf) << 2 if offending else 0
        quoted = bytes(offending[:hl + returndatabytes])
        if type == UNREACH and code == UNREACH_NEEDFRAG:
            word = mtu & 0xffff
        elif type == PARAMPROB:
            word = (pointer & 0xff) << 24
        elif type == REDIRECT:
            word = int.from_bytes(gateway, "big")
        else:
            word = 0
        return cls(type, code, word, quoted)

    @classmethod
    def parse(cls, data):
        if len(data) < HDRLEN:
            raise MalformedPacket("icmp message of %d bytes" % len(data))
        t, c, ck, w = _hdr.unpack_from(data)
        m = cls(t, c, w, data[HDRLEN:], ck)
        m._raw = data
        return m

    def cksum_ok(self):
        if self._raw is None:
            raise ValueError("cksum_ok() needs a parsed message")
        return checksum(self._raw) == 0

    @property
    def is_error(self):
        return self.type in ERROR_TYPES

    def quoted(self):
        """(IPv4 header object, first payload bytes) of an error's quoted
        datagram; MalformedPacket if it is not an IPv4 header."""
        if not self.is_error:
            raise MalformedPacket("icmp type %d quotes nothing" % self.type)
        ip = IPv4.parse(self.data, truncated_ok=True)
        return ip, bytes(ip.payload)

    def emit(self):
        body = _hdr.pack(self.type, self.code, 0, self.word) + self.data
        c = checksum(body)
        self.cksum = c
        return body[:2] + bytes((c >> 8, c & 0xff)) + body[4:]

    def __repr__(self):
        return "ICMP(type=%d, code=%d, word=0x%08x, %d bytes)" % (
            self.type, self.code, self.word, len(self.data))
