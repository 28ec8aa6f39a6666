"""The routing table (IPv4): longest-prefix match over (destination, mask) keys.

NetBSD uses a radix tree; here a dict per prefix length, searched from the
longest present length down, gives the same answers for contiguous masks
(the only ones route(8) and the kernel make). Addresses and masks are
32-bit integers. An Rtentry's gateway is an address (RTF_GATEWAY routes) or
the link of its interface (connected and host routes: gwlink = ifindex).

The protocol family fills `resolve`: resolve(gateway) -> (ifp, source
address) of the interface a gateway is reachable through, or None (netinet
does, from its addresses), and `ifa_for(ifp)` the source address of an
interface. Locking rule: kernel lock held.
"""
from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError


def plen_of(mask):
    n = 0
    while n < 32 and mask & (0x80000000 >> n):
        n += 1
    if (0xffffffff << (32 - n)) & 0xffffffff != mask:
        return None
    return n


def mask_of(plen):
    return (0xffffffff << (32 - plen)) & 0xffffffff if plen else 0


class Rtentry:
    __slots__ = ("dst", "mask", "plen", "gateway", "gwlink", "flags", "ifp", "ifa", "use", "mtu",
                 "created", "gwname")

    def __init__(self, dst, plen, flags, ifp, ifa, gateway=None, gwlink=None, mtu=0, created=0.0):
        self.plen = plen
        self.mask = mask_of(plen)
        self.dst = dst & self.mask
        self.gateway, self.gwlink = gateway, gwlink
        self.flags, self.ifp, self.ifa = flags, ifp, ifa
        self.use = 0
        self.mtu = mtu
        self.created = created
        self.gwname = None          # printed for link gateways instead of link#N (lo0)


class RouteTable:
    def __init__(self, kernel):
        self.kernel = kernel
        self.tables = {}            # plen -> {dst: Rtentry}
        self.plens = []             # present prefix lengths, longest first
        self.resolve = None         # set by netinet
        self.generation = 0         # bumped on every change (caches compare it)

    def _relen(self):
        self.plens = sorted((p for p, t in self.tables.items() if t), reverse=True)
        self.generation += 1

    def add(self, rt):
        t = self.tables.setdefault(rt.plen, {})
        if rt.dst in t:
            raise RumpError(errnos.EEXIST)
        t[rt.dst] = rt
        self._relen()
        return rt

    def exact(self, dst, plen):
        return self.tables.get(plen, {}).get(dst & mask_of(plen))

    def delete(self, dst, plen):
        t = self.tables.get(plen, {})
        rt = t.pop(dst & mask_of(plen), None)
        if rt is None:
            raise RumpError(errnos.ESRCH)
        self._relen()
        return rt

    def lookup(self, dst):
        """The most specific route to dst (an int), or None."""
        tables = self.tables
        for plen in self.plens:
            rt = tables[plen].get(dst & mask_of(plen))
            if rt is not None:
                return rt
        return None

    def routes(self):
        """Every route: ascending destination, longer mask first on equal keys."""
        out = [rt for t in self.tables.values() for rt in t.values()]
        out.sort(key=lambda r: (r.dst, -r.plen))
        return out

    def purge(self, pred):
        for t in self.tables.values():
            for dst in [d for d, rt in t.items() if pred(rt)]:
                del t[dst]
        self._relen()

    def flags_of(self, rt):
        return rt.flags | (N.RTF_UP if rt.ifp is not None and rt.ifp.flags & N.IFF_UP else 0)
