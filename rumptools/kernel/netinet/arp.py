"""ARP (RFC 826) and the ARP table (NetBSD's if_arp.c, if_llatbl.c; specs/net.md §5).

Entries are keyed by (interface index, address). A resolved entry lives
arp.keep (1200) seconds; an unresolved one holds the newest packet for it,
sends at most one request a second as packets come, each request re-arming
an arp.down (20) second expiry, and after 5 requests further sends fail
with EHOSTDOWN (EHOSTUNREACH through a gateway) until it expires. Permanent
entries (own addresses, arp -s) never expire and are not overwritten by
received ARP. Expiry is a callout per entry, so tests run it in virtual time.

At most MAXENTRIES entries exist (then ENOBUFS, counted as allocfail).

Locking rule: kernel lock held (input runs in the interface softint).
"""
from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ...formats.net import MalformedPacket, mac_aton, mac_ntoa
from ...formats.net.arp import ARP, ARPOP_REPLY, ARPOP_REQUEST
from ...formats.net.ether import BROADCAST, ETHERTYPE_ARP, ETHERTYPE_IP
from ..net.ether import ether_output
from .in_ import ntoa

MAXTRIES = 5
HOLD = 1
MAXENTRIES = 4096       # per kernel: what floods of forged ARP or transit traffic can make


class LLEntry:
    __slots__ = ("ifp", "addr", "mac", "permanent", "timer", "asked", "held", "last_req", "pub")

    def __init__(self, ifp, addr):
        self.ifp, self.addr = ifp, addr
        self.mac = None
        self.permanent = False
        self.timer = None
        self.asked = 0
        self.held = []
        self.last_req = None
        self.pub = False


class ArpTable:
    def __init__(self, inet):
        self.inet = inet
        self.kernel = inet.kernel
        self.entries = {}           # (ifindex, addr) -> LLEntry, oldest first
        self.stat = inet.arpstat

    # -- entries ----------------------------------------------------------------------
    def _now(self):
        return self.kernel.host.clock.now()

    def _entry(self, ifp, addr, create=False):
        key = (ifp.index, addr)
        e = self.entries.get(key)
        if e is None and create:
            if len(self.entries) >= MAXENTRIES:
                self.stat.inc("allocfail")
                raise RumpError(errnos.ENOBUFS)
            e = self.entries[key] = LLEntry(ifp, addr)
            e.timer = self.kernel.callouts.callout(self._expire, e)
        return e

    def _expire(self, e):
        if self.entries.get((e.ifp.index, e.addr)) is e and not e.permanent:
            del self.entries[(e.ifp.index, e.addr)]
            if e.held:
                self.stat.inc("dfrdropped", len(e.held))

    def _drop(self, e):
        e.timer.stop()
        self.entries.pop((e.ifp.index, e.addr), None)

    def add_permanent(self, ifp, addr, mac):
        e = self._entry(ifp, addr, True)
        e.timer.stop()
        e.mac, e.permanent = mac, True
        self._flush(e)

    def remove(self, ifp, addr):
        e = self._entry(ifp, addr)
        if e is not None:
            self._drop(e)

    def purge_if(self, ifp):
        for e in [e for e in self.entries.values() if e.ifp is ifp]:
            self._drop(e)

    def expire_all(self):
        for e in list(self.entries.values()):
            if not e.permanent:
                self._drop(e)

    # -- output -------------------------------------------------------------------------
    def resolve(self, ifp, nexthop, packet, gateway=False):
        """Send an IP packet to nexthop on ifp, resolving its MAC (or holding the packet)."""
        e = self._entry(ifp, nexthop, True)
        if e.mac is not None:
            ether_output(ifp, e.mac, ETHERTYPE_IP, packet)
            return
        now = self._now()
        if e.asked >= MAXTRIES:
            self.stat.inc("dfrdropped")
            raise RumpError(errnos.EHOSTUNREACH if gateway else errnos.EHOSTDOWN)
        e.held.append(packet)
        self.stat.inc("dfrtotal")
        if len(e.held) > HOLD:
            del e.held[0]
            self.stat.inc("dfrdropped")
        if e.last_req is None or now - e.last_req >= 1.0:
            e.last_req = now
            e.asked += 1
            e.timer.reset(self.inet.params["arp.down"])
            self.request(ifp, self._source(ifp, nexthop), nexthop)

    def _source(self, ifp, target):
        best = None
        for ia in self.inet.ifaddrs_of(ifp):
            if target & ia.mask == ia.net:
                return ia.addr
            best = best or ia.addr
        return best or 0

    def request(self, ifp, spa, tpa):
        a = ARP(ARPOP_REQUEST, ifp.lladdr, spa.to_bytes(4, "big"), b"\0" * 6, tpa.to_bytes(4, "big"))
        self.stat.inc("sndtotal")
        self.stat.inc("sndrequest")
        try:
            ether_output(ifp, BROADCAST, ETHERTYPE_ARP, a.emit())
        except RumpError:
            pass

    def gratuitous(self, ifp, addr):
        self.request(ifp, addr, addr)

    def _flush(self, e):
        held, e.held = e.held, []
        for packet in held:
            try:
                ether_output(e.ifp, e.mac, ETHERTYPE_IP, packet)
                self.stat.inc("dfrsent")
            except RumpError:
                pass

    # -- input --------------------------------------------------------------------------
    def input(self, ifp, payload, frame):
        st = self.stat
        st.inc("rcvtotal")
        try:
            a = ARP.parse(payload)
        except MalformedPacket:
            st.inc("rcvbadlen")
            return
        if a.hrd != 1 or a.pro != ETHERTYPE_IP or len(a.sha) != 6 or len(a.spa) != 4:
            st.inc("rcvbadproto")
            return
        if a.sha == ifp.lladdr:
            st.inc("rcvlocalsha")
            return
        if a.sha == BROADCAST:
            st.inc("rcvbcastsha")
            return
        spa = int.from_bytes(a.spa, "big")
        tpa = int.from_bytes(a.tpa, "big")
        if a.op == ARPOP_REQUEST:
            st.inc("rcvrequest")
        elif a.op == ARPOP_REPLY:
            st.inc("rcvreply")
        ifas = self.inet.ifaddrs_of(ifp)
        dad = self.inet.dad
        if dad is not None and dad.running:
            for ia in ifas:                 # someone else uses or probes for a tentative address
                if ia.flags & N.IN_IFF_TENTATIVE and (spa == ia.addr or (spa == 0 and tpa == ia.addr)):
                    dad.conflict(ia, mac_ntoa(a.sha))
        mine = {ia.addr: ia for ia in ifas if not ia.flags & (N.IN_IFF_TENTATIVE | N.IN_IFF_DUPLICATED)}
        if tpa == 0:
            st.inc("rcvzerotpa")
            return
        if spa in mine:
            st.inc("rcvlocalspa")
            self.kernel.console("duplicate IP address %s sent from link address %s" % (ntoa(spa), mac_ntoa(a.sha)))
            if a.op == ARPOP_REQUEST and tpa == spa:
                self.request(ifp, spa, spa)     # defend
            return
        if spa != 0:
            try:
                e = self._entry(ifp, spa, create=tpa in mine)
            except RumpError:           # table full: answer, but do not remember the sender
                e = None
            if e is not None:
                if e.permanent:
                    if e.mac != a.sha:
                        st.inc("rcvoverperm")
                        if self.inet.params["arp.log_permanent_modify"]:
                            self.kernel.console("%s tried to overwrite permanent arp info for %s"
                                                % (mac_ntoa(a.sha), ntoa(spa)))
                else:
                    if e.mac is not None and e.mac != a.sha:
                        st.inc("rcvover")
                        if self.inet.params["arp.log_movements"]:
                            self.kernel.console("arp info overwritten for %s by %s" % (ntoa(spa), mac_ntoa(a.sha)))
                    e.mac = a.sha
                    e.asked = 0
                    e.last_req = None
                    e.timer.reset(self.inet.params["arp.keep"])
                    self._flush(e)
        else:
            st.inc("rcvzerospa")
        if a.op == ARPOP_REQUEST and tpa in mine:
            reply = ARP(ARPOP_REPLY, ifp.lladdr, a.tpa, a.sha, a.spa)
            st.inc("sndtotal")
            st.inc("sndreply")
            try:
                ether_output(ifp, a.sha, ETHERTYPE_ARP, reply.emit())
            except RumpError:
                pass
        else:
            pub = self._entry(ifp, tpa)
            if a.op == ARPOP_REQUEST and pub is not None and pub.pub and pub.mac is not None:
                reply = ARP(ARPOP_REPLY, pub.mac, a.tpa, a.sha, a.spa)
                try:
                    ether_output(ifp, a.sha, ETHERTYPE_ARP, reply.emit())
                except RumpError:
                    pass

    # -- the routing socket's view (arp -a, -s, -d) ---------------------------------------
    def dump(self):
        """RTROW_FIELDS rows: interfaces newest first (loopback skipped), NetBSD's bucket order."""
        now = self._now()
        rows = []
        ifps = sorted({e.ifp for e in self.entries.values()}, key=lambda i: -i.index)
        for ifp in ifps:
            es = [e for e in self.entries.values() if e.ifp is ifp]
            buckets = {}
            for e in es:
                b = ((e.addr >> 24) ^ (e.addr >> 16) ^ (e.addr >> 8) ^ e.addr) & 31
                buckets.setdefault(b, []).insert(0, e)
            for b in sorted(buckets):
                for e in buckets[b]:
                    flags = N.RTF_UP | N.RTF_HOST | N.RTF_LLDATA
                    if e.permanent:
                        flags |= N.RTF_STATIC
                    if e.pub:
                        flags |= N.RTF_ANNOUNCE
                    left = 0 if e.permanent else max(1, int(e.timer.when - now)) if e.timer.pending() else 1
                    rows.append((ntoa(e.addr), "255.255.255.255", mac_ntoa(e.mac) if e.mac else "", flags,
                                 ifp.name, "", 0, 0, left, 0))
        return tuple(rows)

    def rtrequest(self, mtype, flags, addr, gateway, ifname):
        net = self.inet.net
        if ifname:
            ifp = net.ifunit(ifname)
        else:
            found = self.inet.resolve(addr, True)
            if found is None:
                raise RumpError(errnos.ENETUNREACH)
            ifp = found[0]
        if mtype == N.RTM_ADD:
            try:
                mac = mac_aton(gateway)
            except (ValueError, TypeError, AttributeError):
                raise RumpError(errnos.EINVAL) from None
            e = self._entry(ifp, addr, True)
            e.mac = mac
            e.asked = 0
            e.pub = bool(flags & N.RTF_ANNOUNCE)
            if flags & N.RTF_STATIC:
                e.permanent = True
                e.timer.stop()
            else:
                e.permanent = False
                e.timer.reset(self.inet.params["arp.keep"])
            self._flush(e)
            return (mtype, flags | N.RTF_DONE, ntoa(addr), None, mac_ntoa(mac), ifp.name, "", 0, 0, 0)
        if mtype == N.RTM_DELETE:
            e = self._entry(ifp, addr)
            if e is None or addr in self.inet.local:
                raise RumpError(errnos.ESRCH)
            self._drop(e)
            return (mtype, flags | N.RTF_DONE, ntoa(addr), None, mac_ntoa(e.mac) if e.mac else "", ifp.name,
                    "", 0, 0, 0)
        if mtype == N.RTM_GET:
            e = self._entry(ifp, addr)
            if e is None:
                raise RumpError(errnos.ESRCH)
            return (mtype, flags | N.RTF_DONE, ntoa(addr), None, mac_ntoa(e.mac) if e.mac else "", ifp.name,
                    "", 0, 0, 0)
        raise RumpError(errnos.EOPNOTSUPP)

