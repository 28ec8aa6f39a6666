"""Wire formats of the network stack: Ethernet, ARP, IPv4, ICMP, UDP, TCP, bpf, DHCP.

Pure modules: bytes in, objects out, objects in, bytes out; no kernel state,
no I/O.  Every parser raises MalformedPacket (and nothing else) for input it
cannot take apart; the kernel counts and drops such frames.

Addresses are bytes: 6 for MAC addresses, 4 for IPv4 addresses.  Multi-byte
fields are in network byte order on the wire and plain ints here.
"""


class MalformedPacket(ValueError):
    """A header that cannot be parsed; `offset` is the byte at fault when known
    (ICMP parameter problem reports it)."""

    def __init__(self, message, offset=None):
        super().__init__(message)
        self.offset = offset


def mac_ntoa(mac):
    """b'\\xb2\\xa0...' -> 'b2:a0:...' (lowercase, as ifconfig and arp print)."""
    return ":".join("%02x" % b for b in mac)


def mac_aton(text):
    """'b2:a0:1:2:3:4' -> 6 bytes; ValueError if it is not a MAC address."""
    parts = text.split(":")
    if len(parts) != 6 or not all(1 <= len(p) <= 2 for p in parts):
        raise ValueError("invalid link-level address %r" % text)
    return bytes(int(p, 16) for p in parts)
