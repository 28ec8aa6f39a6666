"""ARP packets (RFC 826) as carried in Ethernet type 0x0806.

    0 hrd (u16)  2 pro (u16)  4 hln (u8)  5 pln (u8)  6 op (u16)
    8 sha[hln]  spa[pln]  tha[hln]  tpa[pln]

parse() takes any hln/pln that fit; the kernel only uses Ethernet/IPv4
(hrd 1, pro 0x0800, 6, 4).  Trailing bytes (Ethernet padding) are ignored.
"""
import struct

from . import MalformedPacket

ARPHRD_ETHER = 1
ARPOP_REQUEST = 1
ARPOP_REPLY = 2
ARPOP_REVREQUEST = 3
ARPOP_REVREPLY = 4

_fixed = struct.Struct("!HHBBH")


class ARP:
    __slots__ = ("hrd", "pro", "op", "sha", "spa", "tha", "tpa")

    def __init__(self, op, sha, spa, tha, tpa, hrd=ARPHRD_ETHER, pro=0x0800):
        self.hrd = hrd
        self.pro = pro
        self.op = op
        self.sha = sha
        self.spa = spa
        self.tha = tha
        self.tpa = tpa

    @classmethod
    def parse(cls, data):
        if len(data) < 8:
            raise MalformedPacket("arp packet of %d bytes" % len(data))
        hrd, pro, hln, pln, op = _fixed.unpack_from(data)
        end = 8 + 2 * (hln + pln)
        if len(data) < end:
            raise MalformedPacket("arp packet of %d bytes, needs %d" % (len(data), end))
        data = bytes(data[8:end])
        sha = data[:hln]
        spa = data[hln:hln + pln]
        tha = data[hln + pln:2 * hln + pln]
        tpa = data[2 * hln + pln:]
        return cls(op, sha, spa, tha, tpa, hrd, pro)

    def emit(self):
        if len(self.sha) != len(self.tha) or len(self.spa) != len(self.tpa):
            raise ValueError("arp address lengths differ")
        return (_fixed.pack(self.hrd, self.pro, len(self.sha), len(self.spa), self.op)
                + self.sha + self.spa + self.tha + self.tpa)

    def __repr__(self):
        return "ARP(op=%d, sha=%s, spa=%s, tha=%s, tpa=%s)" % (
            self.op, self.sha.hex(":"), self.spa.hex("."), self.tha.hex(":"), self.tpa.hex("."))
