"""Helpers for TCP tests: kernels on a fake host (virtual time), sockets, a shmif pair."""
import threading

from rumptools.abi import net as N
from rumptools.abi.errnos import RumpError

from .kernelkit import boot, call, spawn

NET = ("rumpnet", "rumpnet_net", "rumpnet_netinet", "rumpnet_shmif")


def kernel_on(bus, addr):
    """A booted kernelkit kernel with shmif0 on `bus` at addr/24; k.p is a process, k.s a UDP socket."""
    k = boot(*NET)
    p = spawn(k)
    s = call(k, p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(k, p, "ioctl", s, N.SIOCIFCREATE, "shmif0")
    call(k, p, "ioctl", s, N.SIOCSLINKSTR, ("shmif0", bus))
    call(k, p, "ioctl", s, N.SIOCAIFADDR, ("shmif0", addr, None, None))
    k.p, k.s, k.addr = p, s, addr
    return k


def tcp_socket(k, p=None):
    return call(k, p or k.p, "socket", N.AF_INET, N.SOCK_STREAM, 0)


def listener(k, addr, port, backlog=5, p=None):
    s = tcp_socket(k, p)
    call(k, p or k.p, "bind", s, (N.AF_INET, addr, port))
    call(k, p or k.p, "listen", s, backlog)
    return s


def stats(k):
    return dict(zip(N.TCPSTAT_FIELDS, call(k, k.p, "sysctl", "net.inet.tcp.stats", 0, None)[1]))


def pcbs(k):
    return k.slot("inet").tcp_pcbs


def in_thread(fn, *args):
    """Run fn(*args) in a thread; returns (thread, box) with box['result'] or box['error']."""
    box = {}

    def run():
        try:
            box["result"] = fn(*args)
        except RumpError as e:
            box["error"] = e.errno

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def recv_all(k, p, s, n, chunk=65536):
    out = bytearray()
    while len(out) < n:
        d, _ = call(k, p, "recvfrom", s, chunk, 0)
        if not d:
            break
        out += d
    return bytes(out)


class SegmentTap:
    """Watches (and may drop) the segments tcp_output sends: records (time, sport, dport, seq, ack,
    flags, payload length); `drop(rec)` decides whether one is lost. Installed with monkeypatch."""

    def __init__(self, monkeypatch, clock):
        import struct
        from rumptools.kernel.netinet import tcp_output as mod
        self.clock = clock
        self.log = []
        self.drop = lambda rec: False
        orig = mod._send
        hdr = struct.Struct("!HHIIBBH")

        def send(tp, seg):
            sport, dport, seq, ack, off, flags, win = hdr.unpack_from(seg)
            rec = (clock.now(), sport, dport, seq, ack, flags, len(seg) - (off >> 4) * 4)
            self.log.append(rec)
            if self.drop(rec):
                return
            orig(tp, seg)
        monkeypatch.setattr(mod, "_send", send)

    def sent(self, sport=None, flags=None, data=None):
        out = []
        for rec in self.log:
            if sport is not None and rec[1] != sport:
                continue
            if flags is not None and rec[5] & flags != flags:
                continue
            if data is not None and bool(rec[6]) != data:
                continue
            out.append(rec)
        return out


def loopback_kernel(monkeypatch):
    """Generator for a fixture: one kernel (no interfaces but lo0) with a SegmentTap as k.tap."""
    from .kernelkit import boot
    k = boot("rumpnet", "rumpnet_net", "rumpnet_netinet")
    k.p = spawn(k)
    k.tap = SegmentTap(monkeypatch, k.host.clock)
    yield k
    k.reboot(0)


class ticking:
    """Context manager: virtual time runs while a bulk transfer is under way (50 ms every 5 ms
    of real time), so delayed ACKs and the like fire as they would on a real clock."""

    def __init__(self, *kernels, step=0.05):
        self.kernels, self.step = kernels, step
        self.stop = threading.Event()

    def __enter__(self):
        def run():
            while not self.stop.wait(0.005):
                for k in self.kernels:
                    k.host.clock.advance(self.step, kernel=k)
        self.t = threading.Thread(target=run, daemon=True)
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join(5)
