"""Ethernet II frames: destination, source, type, payload (no FCS).

    0 dst[6]  6 src[6]  12 type (u16 BE)  14 payload

shmif and tap carry frames without FCS and without padding to 60 bytes;
emit() pads only when asked.  802.3 length fields (type < 0x600) parse as
ordinary types; the stack ignores types it does not know.
"""
import struct

from . import MalformedPacket

HDRLEN = 14
ETHERMTU = 1500
ETHER_MIN_LEN = 60          # without FCS
ETHERTYPE_IP = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_IPV6 = 0x86dd
BROADCAST = b"\xff" * 6

_hdr = struct.Struct("!6s6sH")


def is_multicast(mac):
    """True for broadcast and multicast destinations (the I/G bit)."""
    return bool(mac[0] & 1)


class Ether:
    __slots__ = ("dst", "src", "type", "payload")

    def __init__(self, dst, src, type, payload=b""):
        self.dst = dst
        self.src = src
        self.type = type
        self.payload = payload

    @classmethod
    def parse(cls, frame):
        if len(frame) < HDRLEN:
            raise MalformedPacket("ethernet frame of %d bytes" % len(frame))
        dst, src, typ = _hdr.unpack_from(frame)
        return cls(dst, src, typ, frame[HDRLEN:])

    def header(self):
        return _hdr.pack(self.dst, self.src, self.type)

    def emit(self, pad=False):
        out = _hdr.pack(self.dst, self.src, self.type) + self.payload
        if pad and len(out) < ETHER_MIN_LEN:
            out += bytes(ETHER_MIN_LEN - len(out))
        return out

    def __repr__(self):
        return "Ether(dst=%s, src=%s, type=0x%04x, %d bytes)" % (
            self.dst.hex(":"), self.src.hex(":"), self.type, len(self.payload))
