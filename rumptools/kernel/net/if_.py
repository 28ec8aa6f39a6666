"""Network interfaces (NetBSD's struct ifnet) and the table of them.

An Ifnet has a name, an index (creation order, lo0 = 1), flags, MTU, a link
address, counters (if_data), the protocol addresses of each family, and a
driver part: init/stop bring it up and down, transmit(frame) puts a link
frame on the wire, set_linkstr attaches a backend. Input comes from a
driver's PktQueue handler (a softint) through input(frame).

bpf taps: ifp.bpf_taps holds callables tap(frame, outgoing) that see every
frame in and out (rumpdev_bpf adds them).

Locking rule: kernel lock held for everything here, except that a driver's
receive thread (a host thread) only enqueues onto its PktQueue.
"""
from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError


class Ifnet:
    type = N.IFT_ETHER
    hdrlen = 14
    dlt = 1             # DLT_EN10MB
    cloner = None

    def __init__(self, net, name, mtu=1500, flags=0, lladdr=b""):
        self.net = net
        self.kernel = net.kernel
        self.name = name
        self.index = 0
        self.flags = flags
        self.mtu = mtu
        self.metric = 0
        self.lladdr = lladdr
        self.linkstr = None
        self.counters = dict.fromkeys(N.IFDATA_COUNTERS, 0)
        self.addrs = {}             # family -> list of protocol addresses (netinet's InIfaddr)
        self.bpf_taps = []
        self.lastchange = 0.0

    # -- driver part (overridden) -------------------------------------------------
    def init(self):
        """Bring the interface up: RUNNING, or an error (ENXIO without a backend)."""
        self.flags |= N.IFF_RUNNING

    def stop(self):
        self.flags &= ~N.IFF_RUNNING

    def transmit(self, frame):
        """Put one link-level frame on the wire (kernel lock held, must not sleep)."""
        raise RumpError(errnos.ENXIO)

    def set_linkstr(self, text):
        raise RumpError(errnos.ENOTTY)

    def detach_backend(self):
        """Let go of host resources (destroy, halt)."""

    # -- common part --------------------------------------------------------------
    def set_flags(self, flags):
        """SIOCSIFFLAGS: UP/down run init/stop."""
        want_up = bool(flags & N.IFF_UP)
        self.flags = (self.flags & N.IFF_CANTCHANGE) | (flags & ~N.IFF_CANTCHANGE)
        if want_up and not self.flags & N.IFF_RUNNING:
            try:
                self.init()
            except RumpError:
                self.flags &= ~N.IFF_UP
                raise
        elif not want_up and self.flags & N.IFF_RUNNING:
            self.stop()
        self.lastchange = self.kernel.host.wall_time()

    def up(self):
        """Mark UP and init, as an address assignment does; restores the flags on failure."""
        if self.flags & N.IFF_UP and self.flags & N.IFF_RUNNING:
            return
        old = self.flags
        self.flags |= N.IFF_UP
        try:
            self.init()
        except RumpError:
            self.flags = old
            raise

    def output_frame(self, frame, multicast=False):
        """Count and tap an outgoing frame, then hand it to the driver."""
        if not self.flags & N.IFF_RUNNING or not self.flags & N.IFF_UP:
            raise RumpError(errnos.ENETDOWN)
        c = self.counters
        for tap in self.bpf_taps:
            tap(frame, True)
        try:
            self.transmit(frame)
        except RumpError:
            c["oerrors"] += 1
            raise
        c["opackets"] += 1
        c["obytes"] += len(frame)
        if multicast:
            c["omcasts"] += 1

    def ifdata(self):
        c = self.counters
        return (self.type, len(self.lladdr), self.hdrlen, 2 if self.flags & N.IFF_RUNNING else 0,
                self.mtu, self.metric, 10000000 if self.type == N.IFT_ETHER else 0) + \
            tuple(c[k] for k in N.IFDATA_COUNTERS)

    def __repr__(self):
        return "<ifnet %s index %d>" % (self.name, self.index)


class Cloner:
    """An interface cloner (if_clone): make(net, unit) -> Ifnet."""

    def __init__(self, name, make, maxunit=65535):
        self.name = name
        self.make = make
        self.maxunit = maxunit


def split_name(name):
    """'shmif12' -> ('shmif', 12); (name, None) if it has no unit."""
    i = len(name)
    while i > 0 and name[i - 1].isdigit():
        i -= 1
    if i == len(name) or i == 0:
        return name, None
    digits = name[i:]
    if len(digits) > 1 and digits[0] == "0":
        return name, None
    return name[:i], int(digits)
