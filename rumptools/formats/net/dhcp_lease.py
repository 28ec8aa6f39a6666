"""What rump.dhcpclient makes of an offer: the lease and the routes to add (the
rules of NetBSD's rump.dhcpclient, from dhcpcd 5: dhcp.c get_lease and
get_option_routes, configure.c build_routes).

Addresses here are 32-bit integers. A Route is (dest, mask, gate); gate 0
means "through the interface itself". Pure: the command does the calls.

Lease: the address is yiaddr (ciaddr when 0); the mask is option 1, else the
address's class mask; the broadcast option 28, else address | ~mask; the lease
time option 51, else INFINITE.

Routes, in the order they are added:
  1. the subnet route (address & mask, mask, 0), unless the mask is 0 or all ones;
  2. the classless static routes (121, else Microsoft's 249) when they decode,
     and then nothing else of the offer; otherwise the static routes (33: each
     destination with the mask its class and trailing zero bits give) followed by
     one default route per router (3);
  a host route (gate = the own address) has its gate set to its destination, and
  a default route whose router no earlier route reaches gets a host route to the
  router just before it (with the message "router X requires a host route"), or,
  on an interface without ARP, is sent through the interface instead.
"""
from .dhcp import (BROADCAST_ADDR, CSR, INFINITE, LEASETIME, MSCSR, ROUTER, STATICROUTE, SUBNETMASK)

ALLONES = 0xffffffff


def _u32(b):
    return int.from_bytes(b, "big")


def ntoa(n):
    return "%d.%d.%d.%d" % (n >> 24, n >> 16 & 255, n >> 8 & 255, n & 255)


def cidr(mask):
    """dhcpcd's inet_ntocidr: shifts of the mask until it is 0 (24 for 255.255.255.0)."""
    n = 0
    while mask:
        n += 1
        mask = (mask << 1) & ALLONES
    return n


def class_mask(addr):
    """get_netmask: the mask of the address's class (0 for 0 and classes D and E)."""
    if addr == 0:
        return 0
    if not addr & 0x80000000:
        return 0xff000000
    if addr & 0xc0000000 == 0x80000000:
        return 0xffff0000
    if addr & 0xe0000000 == 0xc0000000:
        return 0xffffff00
    return 0


def route_mask(dest):
    """The mask of a static route (option 33): the class's host part, shortened
    while it overlaps set bits of the destination; all ones for classes D and E."""
    t = ~class_mask(dest) & ALLONES if class_mask(dest) else 0
    while t & dest:
        t >>= 1
    return ~t & ALLONES


class Lease:
    __slots__ = ("addr", "mask", "broadcast", "leasetime", "routers", "static", "classless")

    def __init__(self, addr, mask, broadcast, leasetime, routers=(), static=(), classless=None):
        self.addr, self.mask, self.broadcast, self.leasetime = addr, mask, broadcast, leasetime
        self.routers, self.static, self.classless = list(routers), list(static), classless

    @classmethod
    def from_message(cls, m):
        addr = _u32(m.yiaddr) or _u32(m.ciaddr)
        mask = m.addr(SUBNETMASK)
        mask = _u32(mask) if mask is not None else class_mask(addr)
        brd = m.addr(BROADCAST_ADDR)
        brd = _u32(brd) if brd is not None else addr | (~mask & ALLONES)
        lt = m.u32(LEASETIME)
        classless = None
        for code in (CSR, MSCSR):
            v = m.get(code)
            if v is not None:
                classless = decode_classless(v)
                if classless is not None:
                    break
        a = [_u32(x) for x in m.addrs(STATICROUTE)]
        static = [(a[i], route_mask(a[i]), a[i + 1]) for i in range(0, len(a) - 1, 2)]
        return cls(addr, mask, brd, INFINITE if lt is None else lt,
                   [_u32(r) for r in m.addrs(ROUTER)], static, classless)

    def time_text(self):
        """The last line rump.dhcpclient prints."""
        if self.leasetime == INFINITE:
            return "lease time: infinite"
        return "lease time: %u seconds (%.2f days)" % (self.leasetime, self.leasetime / 86400.0)

    def subnet(self):
        """(dest, mask) of the interface's subnet route, or None."""
        if self.mask in (0, ALLONES):
            return None
        return self.addr & self.mask, self.mask

    def offered_routes(self):
        if self.classless is not None:
            return list(self.classless)
        return list(self.static) + [(0, 0, r) for r in self.routers]


def decode_classless(data):
    """RFC 3442 routes: width, the significant octets of the destination, router.
    None when shorter than one route (5 bytes), a width is above 32, or the data
    ends inside a route."""
    if len(data) < 5:
        return None
    out = []
    i = 0
    while i < len(data):
        width = data[i]
        i += 1
        if width > 32:
            return None
        n = (width + 7) // 8
        if i + n + 4 > len(data):
            return None
        dest = _u32(bytes(data[i:i + n]).ljust(4, b"\0"))
        mask = (ALLONES << (32 - width)) & ALLONES if width else 0
        out.append((dest, mask, _u32(data[i + n:i + n + 4])))
        i += n + 4
    return out


def plan_routes(lease, noarp=False):
    """(notes, routes): the messages printed while the list is built, and the
    routes to add in order (the caller skips a destination and mask it has
    already added)."""
    routes = []
    for dest, mask, gate in lease.offered_routes():
        if gate == lease.addr and mask == ALLONES:
            gate = dest
        routes.append((dest, mask, gate))
    sub = lease.subnet()
    if sub is not None:
        routes.insert(0, (sub[0], sub[1], 0))
    notes = []
    i = 0
    while i < len(routes):
        dest, mask, gate = routes[i]
        if dest == 0 and not any(d == gate or (gate ^ d) & m == 0 for d, m, _g in routes[:i]):
            if noarp:
                notes.append("forcing router %s through interface" % ntoa(gate))
                routes[i] = (dest, mask, 0)
            else:
                notes.append("router %s requires a host route" % ntoa(gate))
                routes.insert(i, (gate, ALLONES, gate))
                i += 1
        i += 1
    return notes, routes


def describe(route):
    """dhcpcd's desc_route text after `ifname: adding `."""
    dest, mask, gate = route
    if gate == 0:
        return "route to %s/%d" % (ntoa(dest), cidr(mask))
    if gate == dest and mask == ALLONES:
        return "host route to %s" % ntoa(dest)
    if dest == 0 and mask == 0:
        return "default route via %s" % ntoa(gate)
    return "route to %s/%d via %s" % (ntoa(dest), cidr(mask), ntoa(gate))


def is_subnet_route(route, lease):
    dest, mask, gate = route
    return gate == 0 and mask == lease.mask and dest == lease.addr & lease.mask
