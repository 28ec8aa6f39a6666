"""Duplicate address detection for IPv4 (RFC 5227 as NetBSD's in.c and if_arp.c do it; net.md §5).

An address added to an interface that is already UP and RUNNING is
TENTATIVE: unusable and unanswered (it is left out of inet.local) while
net.inet.ip.dad_count (3) ARP probes (sender address 0.0.0.0, target the
address) go out: the first after 0-1 s, the next ones 1-2 s apart; 2 s
after the last the flag is cleared, the address becomes usable and two
announcements (gratuitous requests) follow 2 s apart. Anyone else claiming
the address meanwhile (an ARP packet from it, or a probe for it from
another host) marks it DUPLICATED for good, and the console says
`<if>: DAD detected duplicate IPv4 address <A>: ARP out=<probes sent>`.
An address set on an interface that is down (the usual first address) is
usable at once, with one gratuitous request. Timers are callouts, so tests
run DAD in virtual time. Kernel lock held.
"""
from ...abi import net as N
from .in_ import ntoa

ANNOUNCE_WAIT = 2.0
ANNOUNCE_NUM = 2


class Dad:
    __slots__ = ("ia", "timer", "probes", "announces")

    def __init__(self, ia):
        self.ia = ia
        self.timer = None
        self.probes = 0
        self.announces = 0


class DadState:
    def __init__(self, inet):
        self.inet = inet
        self.kernel = inet.kernel
        self.running = {}           # InIfaddr -> Dad

    def _rand(self, lo, hi):
        r = int.from_bytes(self.kernel.host.random(2), "big") / 65536.0
        return lo + (hi - lo) * r

    def start(self, ia):
        count = self.kernel.sysctl.read("net.inet.ip.dad_count")[1]
        if count <= 0:
            return False
        d = Dad(ia)
        d.timer = self.kernel.callouts.callout(self._step, d, count)
        self.running[ia] = d
        ia.flags |= N.IN_IFF_TENTATIVE
        d.timer.reset(self._rand(0, 1))
        return True

    def stop(self, ia):
        d = self.running.pop(ia, None)
        if d is not None:
            d.timer.stop()

    def _step(self, d, count):
        ia = d.ia
        arp = self.inet.arp
        if self.running.get(ia) is not d:
            return
        if ia.flags & N.IN_IFF_TENTATIVE:
            if d.probes < count:
                d.probes += 1
                arp.request(ia.ifp, 0, ia.addr)
                d.timer.reset(self._rand(1, 2) if d.probes < count else ANNOUNCE_WAIT)
                return
            ia.flags &= ~N.IN_IFF_TENTATIVE          # nobody objected: usable from now on
            self.inet.local[ia.addr] = ia
        if d.announces < ANNOUNCE_NUM:
            d.announces += 1
            arp.gratuitous(ia.ifp, ia.addr)
            if d.announces < ANNOUNCE_NUM:
                d.timer.reset(ANNOUNCE_WAIT)
                return
        del self.running[ia]

    def conflict(self, ia, mac_text):
        """Someone else uses or probes for a tentative address."""
        d = self.running.get(ia)
        if d is None or not ia.flags & N.IN_IFF_TENTATIVE:
            return False
        ia.flags = (ia.flags & ~N.IN_IFF_TENTATIVE) | N.IN_IFF_DUPLICATED
        self.stop(ia)
        self.kernel.console("%s: DAD detected duplicate IPv4 address %s: ARP out=%d"
                            % (ia.ifp.name, ntoa(ia.addr), d.probes))
        return True
