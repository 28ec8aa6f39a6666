"""IPv4 interface addresses and their ioctls (NetBSD's in.c), and the `inet` state.

An InIfaddr is one address on one interface: addr, mask, broadcast (ints).
Setting an address follows specs/net.md §5: no mask -> the class mask; the
broadcast is subnet | ~mask; a down interface is brought up (its init may
fail: ENXIO for shmif without a bus); routes are added as NetBSD does -- a
local host route (UHl, gateway link#<if>, interface lo0) and a connected
prefix route (UC, gateway link#<if>) unless another address owns the prefix
(a loopback address gets its host route only); then a permanent ARP entry
and one gratuitous ARP request -- or, when the interface was already up and
running, duplicate address detection first (in_dad.py).

Locking rule: kernel lock held.
"""
import collections
import ipaddress

from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ..net.route import Rtentry, mask_of, plen_of

ALLONES = 0xffffffff


_ATON = {}              # dotted quad -> number: a socket's peers repeat on every sendto
_ATON_MAX = 4096


def aton(text):
    n = _ATON.get(text) if type(text) is str else None
    if n is not None:
        return n
    if type(text) is not str:
        raise RumpError(errnos.EINVAL)
    try:
        n = int(ipaddress.IPv4Address(text))
    except ValueError:
        raise RumpError(errnos.EINVAL) from None
    if len(_ATON) >= _ATON_MAX:
        _ATON.clear()
    _ATON[text] = n
    return n


def ntoa(n):
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def class_mask(a):
    first = a >> 24
    if first < 128:
        return 0xff000000
    if first < 192:
        return 0xffff0000
    return 0xffffff00


class InIfaddr:
    __slots__ = ("addr", "mask", "broad", "ifp", "flags")

    def __init__(self, addr, mask, broad, ifp):
        self.addr, self.mask, self.broad, self.ifp = addr, mask, broad, ifp
        self.flags = 0

    @property
    def net(self):
        return self.addr & self.mask


class Counters:
    """A set of named u64 counters (net.inet.<proto>.stats)."""

    def __init__(self, names):
        self.names = names
        self.c = collections.Counter()

    def __getitem__(self, k):
        return self.c[k]

    def inc(self, k, n=1):
        self.c[k] += n

    def values(self):
        return tuple(self.c[k] for k in self.names)


class Inet:
    """The `inet` slot: IPv4 addresses, parameters, statistics and protocol tables."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.net = kernel.slot("net")
        self.routes = kernel.slot("route")
        self.ifaddrs = []               # in the order they were added
        self.local = {}                 # addr -> InIfaddr
        self.params = {"forwarding": 1, "redirect": 1, "ttl": 64, "forwsrcrt": 1, "directed-broadcast": 0,
                       "allowsrcrt": 1, "subnetsarelocal": 1, "mtudisc": 1, "anonportmin": 49152,
                       "anonportmax": 65535, "lowportmin": 600, "lowportmax": 1023, "maxfragpackets": 200,
                       "errppslimit": 100, "returndatabytes": 8, "bmcastecho": 0, "maskrepl": 0,
                       "rediraccept": 1, "redirtimeout": 600,
                       "udp.checksum": 1, "udp.sendspace": 9216, "udp.recvspace": 41600,
                       "arp.keep": 1200, "arp.down": 20, "arp.log_movements": 1,
                       "arp.log_permanent_modify": 1}
        self.ipstat = Counters(N.IPSTAT_FIELDS)
        self.icmpstat = Counters(N.ICMPSTAT_FIELDS)
        self.udpstat = Counters(N.UDPSTAT_FIELDS)
        self.arpstat = Counters(N.ARPSTAT_FIELDS)
        self.ip_id = int.from_bytes(kernel.host.random(2), "big")
        self.udp_pcbs = []
        self.raw_pcbs = []
        self.tcp = None                 # tcp_subr.TcpStack
        self.tcp_pcbs = []              # every TCP control block, newest first (the stack's list)
        self.arp = None                 # arp.ArpTable
        self.reass = None               # ip_reass.Reassembly
        self.dad = None                 # in_dad.DadState

    # -- queries --------------------------------------------------------------------
    def ifaddrs_of(self, ifp):
        return [ia for ia in self.ifaddrs if ia.ifp is ifp]

    def is_broadcast(self, dst, ifp=None):
        if dst == ALLONES or dst == 0:
            return True
        for ia in self.ifaddrs:
            if (ifp is None or ia.ifp is ifp) and ia.broad is not None and ia.ifp.flags & N.IFF_BROADCAST \
                    and dst == ia.broad:
                return True
        return False

    def resolve(self, gw, gateway):
        """Routes: the interface and source address a gateway is reached through."""
        own = self.local.get(gw)
        if own is not None and not gateway:
            return own.ifp, own.addr
        for ia in self.ifaddrs:
            if ia.ifp.flags & N.IFF_UP and gw & ia.mask == ia.net and not ia.ifp.flags & N.IFF_LOOPBACK:
                return ia.ifp, ia.addr
        if own is not None:
            return own.ifp, own.addr
        rt = self.routes.lookup(gw)
        if rt is not None and not rt.flags & N.RTF_GATEWAY and rt.ifp is not None:
            return rt.ifp, rt.ifa
        return None

    def next_id(self):
        self.ip_id = (self.ip_id + 1) & 0xffff
        return self.ip_id

    # -- ioctls ---------------------------------------------------------------------
    def control(self, cmd, arg):
        if cmd == N.SIOCAIFADDR:
            if type(arg) is not tuple or len(arg) != 4:
                raise RumpError(errnos.EINVAL)
            name, addr, broad, mask = arg
            ifp = self.net.ifunit(name)
            self.add_address(ifp, aton(addr), None if broad is None else aton(broad),
                             None if mask is None else aton(mask))
            return None
        if cmd == N.SIOCDIFADDR:
            if type(arg) is not tuple or len(arg) != 2:
                raise RumpError(errnos.EINVAL)
            ifp = self.net.ifunit(arg[0])
            a = aton(arg[1])
            for ia in self.ifaddrs_of(ifp):
                if ia.addr == a:
                    self.del_address(ia)
                    return None
            raise RumpError(errnos.EADDRNOTAVAIL)
        if cmd in (N.SIOCGIFADDR, N.SIOCGIFNETMASK, N.SIOCGIFBRDADDR):
            ifp = self.net.ifunit(arg[0] if type(arg) is tuple and arg else arg)
            ias = self.ifaddrs_of(ifp)
            if not ias:
                raise RumpError(errnos.EADDRNOTAVAIL)
            ia = ias[0]
            v = {N.SIOCGIFADDR: ia.addr, N.SIOCGIFNETMASK: ia.mask, N.SIOCGIFBRDADDR: ia.broad or 0}[cmd]
            return ntoa(v)
        raise RumpError(errnos.ENOTTY)

    def rows(self, ifp):
        return [(ifp.name, N.AF_INET, ntoa(ia.addr), ntoa(ia.mask),
                 ntoa(ia.broad) if ia.broad is not None else None, ia.flags) for ia in self.ifaddrs_of(ifp)]

    # -- adding and removing addresses --------------------------------------------------
    def add_address(self, ifp, addr, broad, mask):
        mine = [ia for ia in self.ifaddrs_of(ifp) if ia.addr == addr]
        if mine and mask is None and broad is None:
            return mine[0]
        if mask is not None and plen_of(mask) is None:
            raise RumpError(errnos.EINVAL)
        if mine:
            self.del_address(mine[0], keep_arp=True)
        if mask is None:
            mask = class_mask(addr)
        if broad is None and ifp.flags & N.IFF_BROADCAST:
            broad = (addr & mask) | (~mask & ALLONES)
        was_running = ifp.flags & N.IFF_UP and ifp.flags & N.IFF_RUNNING
        ifp.up()
        ia = InIfaddr(addr, mask, broad if ifp.flags & N.IFF_BROADCAST else None, ifp)
        self.ifaddrs.append(ia)
        ifp.addrs.setdefault(N.AF_INET, []).append(ia)
        self._add_routes(ia)
        ether = self.arp is not None and ifp.type == N.IFT_ETHER
        if ether:
            self.arp.add_permanent(ifp, addr, ifp.lladdr)
        if ether and was_running and self.dad is not None and self.dad.start(ia):
            return ia                   # usable once DAD clears it (in_dad.py)
        self.local[addr] = ia
        if ether:
            self.arp.gratuitous(ifp, addr)
        return ia

    def _add_routes(self, ia):
        ifp = ia.ifp
        lo = self.net.loif
        now = self.kernel.host.clock.now()
        loop = ifp.flags & N.IFF_LOOPBACK
        rt = Rtentry(ia.addr, 32, N.RTF_UP | N.RTF_HOST | N.RTF_LOCAL, lo, ia.addr,
                     gwlink=ifp.index, created=now, mtu=lo.mtu if loop else 0)
        if loop:
            rt.gwname = ifp.name
        if self.routes.exact(ia.addr, 32) is None:
            self.routes.add(rt)
        if loop:
            return
        plen = plen_of(ia.mask)
        if plen < 32 and self.routes.exact(ia.net, plen) is None:
            self.routes.add(Rtentry(ia.net, plen, N.RTF_UP | N.RTF_CONNECTED, ifp, ia.addr,
                                    gwlink=ifp.index, created=now))

    def del_address(self, ia, keep_arp=False):
        if self.dad is not None:
            self.dad.stop(ia)
        self.ifaddrs.remove(ia)
        if self.local.get(ia.addr) is ia:
            del self.local[ia.addr]
        lst = ia.ifp.addrs.get(N.AF_INET, [])
        if ia in lst:
            lst.remove(ia)
        rt = self.routes.exact(ia.addr, 32)
        if rt is not None and rt.flags & N.RTF_LOCAL and ia.addr not in self.local:
            self.routes.delete(ia.addr, 32)
        plen = plen_of(ia.mask)
        rt = self.routes.exact(ia.net, plen)
        if rt is not None and rt.flags & N.RTF_CONNECTED and rt.ifa == ia.addr:
            self.routes.delete(ia.net, plen)
            for other in self.ifaddrs:         # another address of the prefix takes it over
                if other.net == ia.net and other.mask == ia.mask and not other.ifp.flags & N.IFF_LOOPBACK:
                    self._add_routes(other)
                    break
        if self.arp is not None and not keep_arp:
            self.arp.remove(ia.ifp, ia.addr)

    def if_event(self, ifp, event):
        if event == "detach":
            for ia in self.ifaddrs_of(ifp):
                self.del_address(ia)
            if self.arp is not None:
                self.arp.purge_if(ifp)


__all__ = ["Inet", "InIfaddr", "aton", "ntoa", "class_mask", "mask_of", "ALLONES"]
