"""virt(4): an Ethernet interface backed by a host tap (the tutorial's rump_server -lrumpnet_virtif).

`ifconfig virt0 create` attaches virtN to the host's tapN; `linkstr tapX`
attaches it to another tap instead (and `-linkstr` lets go). A tap that is
missing or not the user's fails the create (or linkstr) with ENXIO/EPERM and
a console line naming the tap and how to make it. MAC b2:0a:XX:0b:0e:NN.

Threads: a host receive thread reads the frames queued on the tap (a batch
per wake-up) and enqueues them on the interface's PktQueue together; its
softint runs ether_input with the kernel lock held. transmit() writes one frame to the tap (kernel lock held; a full
tap queue drops the frame and counts an output error).
"""
import threading

from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ..kern.softint import PktQueue
from .ether import ether_input
from .if_ import Cloner, Ifnet


class VirtIf(Ifnet):
    def __init__(self, net, unit):
        mac = bytes((0xb2, 0x0a, net.kernel.host.random(1)[0], 0x0b, 0x0e, unit & 0xff))
        super().__init__(net, "virt%d" % unit, 1500, N.IFF_BROADCAST | N.IFF_SIMPLEX | N.IFF_MULTICAST, mac)
        self.tap = None
        self.promisc = False
        self.q = PktQueue(net.kernel.softints, self._input, maxlen=1024, name=self.name)
        self._stop = None
        self._open("tap%d" % unit)

    def _open(self, tapname):
        from ..rumpuser.tap import TapDevice
        try:
            self.tap = TapDevice(tapname)
        except OSError as e:
            self.kernel.console("%s: %s" % (self.name, e.strerror))
            raise RumpError(errnos.from_host(e.errno) if e.errno else errnos.ENXIO) from None
        self.linkstr = tapname
        stop = self._stop = threading.Event()
        self.kernel.host.start_thread(self._rx_loop, self.name + "-rx", self.tap, stop)

    def set_linkstr(self, text):
        if self.flags & N.IFF_UP:
            raise RumpError(errnos.EBUSY)
        if text is None:
            self.detach_backend()
            return
        if not text or len(text) >= N.IFNAMSIZ:
            raise RumpError(errnos.EINVAL)
        self.detach_backend()
        self._open(text)

    def detach_backend(self):
        if self._stop is not None:
            self._stop.set()
            self._stop = None
        self.tap = None
        self.linkstr = None
        self.flags &= ~N.IFF_RUNNING

    def init(self):
        if self.tap is None:
            raise RumpError(errnos.ENXIO)
        self.flags |= N.IFF_RUNNING

    def transmit(self, frame):
        tap = self.tap
        if tap is None:
            raise RumpError(errnos.ENXIO)
        try:
            tap.write(frame)
        except OSError:
            raise RumpError(errnos.ENOBUFS) from None

    def _rx_loop(self, tap, stop):
        q = self.q
        try:
            while not stop.is_set():
                try:
                    frames = tap.read_many(0.5)     # all that is queued: one softint schedule for them
                except OSError:
                    return
                mac, promisc = self.lladdr, self.promisc
                batch = []
                for frame in frames:
                    if len(frame) < 14 or len(frame) > 1518:
                        continue
                    dst = frame[:6]
                    if dst != mac and not dst[0] & 1 and not promisc:
                        continue
                    batch.append(frame)
                if batch:
                    q.enqueue_many(batch)
        finally:
            tap.close()

    def _input(self, frame):
        if self.flags & N.IFF_RUNNING:
            ether_input(self, frame)


def cloner():
    return Cloner("virt", lambda net, unit: VirtIf(net, unit))
