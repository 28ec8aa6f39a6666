"""A scapy-built TCP/IP peer on a shmif bus, facing an in-process kernel that runs in virtual time.

    k = kernel_on(bus, "10.1.1.1")               # kernelkit kernel, shmif0 on the bus
    peer = Peer(bus, k)                           # 10.1.1.66, answers ARP by itself
    peer.send(TCP(sport=..., dport=..., flags="S", seq=...))     # IP and Ether added
    pkt = peer.expect(lambda p: p[TCP].flags.S)   # the next matching frame the kernel sent
    times = peer.advance(50, step=0.5)             # virtual time, pumping the bus each step

Every frame the kernel puts on the bus is read (by a background thread, or by
advance() right after each clock step) and stamped with the kernel's virtual
time; ARP requests for the peer's address are answered at once, everything
else addressed to the peer is queued for expect(). Timing assertions use the
virtual stamps, so they do not depend on machine load. Conn keeps the
sequence numbers of one connection so tests read like the RFC's diagrams.
"""
import collections
import contextlib
import os
import struct
import threading
import time

from scapy.layers.inet import ICMP, IP, TCP
from scapy.layers.l2 import ARP, Ether

from rumptools.abi import net as N
from rumptools.kernel.rumpuser.shmifbus import ShmifBus
from tests.unit import tcpkit
from tests.unit.kernelkit import call

KERNEL_IP = "10.1.1.1"
PEER_IP = "10.1.1.66"
PEER_MAC = "02:00:00:00:00:66"


def kernel_on(bus, addr=KERNEL_IP):
    """tcpkit's kernel on shmif0 (k.p a process, k.s a UDP socket), at KERNEL_IP unless told."""
    return tcpkit.kernel_on(bus, addr)


@contextlib.contextmanager
def kernel_and_peer(tmp_path):
    """(kernel, Peer) on a fresh bus in tmp_path; both shut down afterwards."""
    bus = str(tmp_path / "bus")
    k = kernel_on(bus)
    peer = Peer(bus, k)
    try:
        # a static ARP entry (arp -s): over hours of virtual time the kernel would otherwise re-resolve
        # the peer while its clock runs ahead of the input thread, and lose what it held meanwhile
        r = call(k, k.p, "socket", N.AF_ROUTE, N.SOCK_RAW, 0)
        call(k, k.p, "ioctl", r, N.RTM_MSG, (N.RTM_ADD, N.RTF_UP | N.RTF_HOST | N.RTF_LLDATA | N.RTF_STATIC,
                                              peer.ip, None, peer.mac, None))
        call(k, k.p, "close", r)
        peer.send(ICMP(type=8, id=1, seq=1) / b"warm")
        peer.expect(lambda p: ICMP in p and p[ICMP].type == 0, what="echo reply")
        yield k, peer
    finally:
        peer.close()
        k.reboot(0)


def mac_of(k):
    rows = call(k, k.p, "ioctl", k.s, N.SIOCGIFCONF, None)
    return [r[2] for r in rows if r[0] == "shmif0" and r[1] == N.AF_LINK][0]


class Peer:
    def __init__(self, bus, kernel, ip=PEER_IP, mac=PEER_MAC):
        self.k = kernel
        self.ip, self.mac = ip, mac
        self.kmac = mac_of(kernel)
        self.bus = ShmifBus(bus)
        self.sender = struct.unpack("=Q", os.urandom(8))[0]
        self.reader = self.bus.reader()
        self.q = collections.deque()
        self.cond = threading.Condition()
        self.pump_lock = threading.Lock()
        self.sent = 0
        self.ip_sent = 0                # IPv4 frames put on the bus (settle() waits for the kernel to count them)
        self.ip_base = self._ip_total()
        self.arp_base = self._arp_total()
        self.arp_answered = 0
        self.received = 0               # IP frames from the kernel to the peer, in all
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tcppeer", daemon=True)
        self._thread.start()

    # -- the bus ------------------------------------------------------------------------
    def now(self):
        return self.k.host.clock.now()

    def _loop(self):
        while not self._stop.is_set():
            if not self.pump():
                self.bus.wait(0.05)

    def pump(self):
        """Read what is new on the bus; answer ARP; queue IP for us. Returns the count read."""
        with self.pump_lock:
            if self._stop.is_set():
                return 0
            pkts = self.bus.receive(self.reader)
            stamp = self.now()
            got = []
            for _len, _s, _us, snd, frame in pkts:
                if snd == self.sender:
                    continue
                e = Ether(bytes(frame))
                if ARP in e and e[ARP].op == 1 and e[ARP].pdst == self.ip:
                    self.arp_answered += 1
                    self._put(Ether(dst=e.src, src=self.mac) /
                              ARP(op=2, hwsrc=self.mac, psrc=self.ip, hwdst=e[ARP].hwsrc, pdst=e[ARP].psrc))
                elif IP in e and e[IP].dst == self.ip:
                    e.vtime = stamp
                    got.append(e)
            self.received += len(got)
            if got:
                with self.cond:
                    self.q.extend(got)
                    self.cond.notify_all()
            return len(pkts)

    def _put(self, frame):
        self.bus.send([bytes(frame)], 0, 0, self.sender)
        self.sent += 1

    def send(self, l4, src=None, dst=None, raw=None, ip_kw=None):
        """Send a TCP (or other) layer to the kernel inside IP and Ether; raw: bytes of an IP datagram."""
        if raw is None:
            raw = bytes(IP(src=src or self.ip, dst=dst or self.k.addr, **(ip_kw or {})) / l4)
        self._put(bytes(Ether(dst=self.kmac, src=self.mac, type=0x0800)) + raw)
        self.ip_sent += 1

    def _ip_total(self):
        return call(self.k, self.k.p, "sysctl", "net.inet.ip.stats", 0, None)[1][0]     # ips_total

    def _arp_total(self):
        return dict(zip(N.ARPSTAT_FIELDS, call(self.k, self.k.p, "sysctl", "net.inet.arp.stats", 0, None)[1]))[
            "rcvtotal"]

    def settle(self, timeout=10.0):
        """Wait (real time) until the kernel's input has taken every datagram and ARP reply the peer
        sent; its TCP (or ARP) has then handled them too (same softint, under the kernel lock)."""
        end = time.monotonic() + timeout
        while self._ip_total() - self.ip_base < self.ip_sent or \
                self._arp_total() - self.arp_base < self.arp_answered:
            if time.monotonic() > end:
                raise AssertionError("the kernel took %d of %d datagrams, %d of %d ARP replies within %.0f s" %
                                     (self._ip_total() - self.ip_base, self.ip_sent,
                                      self._arp_total() - self.arp_base, self.arp_answered, timeout))
            time.sleep(0.002)

    def send_many(self, datagrams):
        """Raw IP datagrams in bus writes of up to 64 frames."""
        head = bytes(Ether(dst=self.kmac, src=self.mac, type=0x0800))
        frames = [head + d for d in datagrams]
        for i in range(0, len(frames), 64):
            self.bus.send(frames[i:i + 64], 0, 0, self.sender)
        self.sent += len(frames)
        self.ip_sent += len(frames)

    # -- what the kernel sent -------------------------------------------------------------
    def expect(self, pred=None, timeout=5.0, what="a frame"):
        """The first queued frame matching pred (removed, earlier non-matching frames stay); AssertionError on timeout."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for i, p in enumerate(self.q):
                    if pred is None or pred(p):
                        del self.q[i]
                        return p
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %s from the kernel within %.1f s; queued: %s" %
                                         (what, timeout, [p.summary() for p in self.q][:10]))
                self.cond.wait(min(left, 0.05))

    def quiet(self, pred=None, wait=0.3):
        """Frames matching pred that arrive within `wait` real seconds (a test asserts this is empty)."""
        time.sleep(wait)
        self.pump()
        with self.cond:
            return [p for p in self.q if pred is None or pred(p)]

    def drain(self):
        self.pump()
        with self.cond:
            out = list(self.q)
            self.q.clear()
        return out

    def advance(self, seconds, step=0.1):
        """Move the kernel's virtual clock forward in steps, reading the bus after each step; first
        the kernel takes in what the peer sent (so time never overtakes a segment in flight)."""
        self.settle()
        n = max(1, int(round(seconds / step)))
        for _ in range(n):
            self.k.host.clock.advance(step, kernel=self.k)
            arp = self.arp_answered
            self.pump()
            if self.arp_answered != arp:
                self.settle()           # the kernel has our MAC before its clock moves on

    def close(self):
        self._stop.set()
        self._thread.join(5)
        with self.pump_lock:
            self.bus.close()


def tcp_of(p):
    return p[TCP] if TCP in p else None


def opts(p):
    """A frame's TCP options as a dict (name -> value), NOP and EOL left out."""
    return {k: v for k, v in p[TCP].options if k not in ("NOP", "EOL")}


class Conn:
    """One TCP connection as the peer sees it: ports and next sequence numbers both ways."""

    def __init__(self, peer, sport, dport, iss=1000, rcv_nxt=0):
        self.peer, self.sport, self.dport = peer, sport, dport
        self.snd_nxt, self.rcv_nxt = iss, rcv_nxt
        self.window = 65535

    def mine(self, p):
        t = tcp_of(p)
        return t is not None and t.sport == self.dport and t.dport == self.sport

    def send(self, flags="A", data=b"", seq=None, ack=None, window=None, options=None, **kw):
        own = seq is None                   # only a segment at our own SND.NXT moves it
        seq = self.snd_nxt if own else seq
        ack = self.rcv_nxt if ack is None else ack
        t = TCP(sport=self.sport, dport=self.dport, flags=flags, seq=seq & 0xffffffff, ack=ack & 0xffffffff,
                window=self.window if window is None else window, options=options or [], **kw) / data
        self.peer.send(t)
        if own:
            self.snd_nxt = (self.snd_nxt + len(data) + ("S" in flags) + ("F" in flags)) & 0xffffffff
        return t

    def expect(self, pred=None, timeout=5.0, what="a segment"):
        return self.peer.expect(lambda p: self.mine(p) and (pred is None or pred(p[TCP])), timeout, what)

    def quiet(self, wait=0.3):
        return self.peer.quiet(self.mine, wait)

    def take(self, p):
        """Account for a segment the kernel sent: rcv_nxt moves past its data (and SYN/FIN)."""
        t = p[TCP]
        end = t.seq + len(bytes(t.payload)) + ("S" in t.flags) + ("F" in t.flags)
        if seq_gt(end, self.rcv_nxt):
            self.rcv_nxt = end & 0xffffffff
        return t

    def data_segments(self, timeout=1.0):
        """Every data-carrying segment the kernel sent that is queued or arrives within timeout."""
        out = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                p = self.expect(lambda t: len(bytes(t.payload)) > 0, timeout=max(0.01, end - time.monotonic()))
            except AssertionError:
                break
            out.append(p[TCP])
        return out


def seq_gt(a, b):
    return 0 < ((a - b) & 0xffffffff) < 0x80000000


def connect_to(peer, port, sport=40000, iss=1000, options=None):
    """The peer opens a connection to a listening kernel socket; returns (Conn, the SYN-ACK)."""
    c = Conn(peer, sport, port, iss)
    c.send("S", options=options if options is not None else [("MSS", 1460)])
    sa = c.expect(lambda t: t.flags == "SA", what="SYN-ACK")
    c.rcv_nxt = (sa[TCP].seq + 1) & 0xffffffff
    c.send("A")
    return c, sa
