"""shmif(4): an Ethernet interface on a shared-memory bus file (specs/shmif.md §5).

`ifconfig shmif0 create` makes it without a bus; `linkstr PATH` attaches the
bus through the host layer (rumpuser/shmifbus.py) and starts the receive
thread; `-linkstr` detaches; init without a bus is ENXIO. The MAC is b2:a0
plus 4 random bytes, the sender id a separate random 64-bit number.

Threads: the receive thread is a host thread. It waits for wake-up writes,
reads new packets under the bus lock, passing over its own (sender id)
without copying them, drops runt and oversized frames and frames for other MACs (unless bpf wants everything),
and enqueues the rest on the interface's PktQueue; the queue's softint runs
ether_input with the kernel lock held. transmit() runs with the kernel lock
held and takes the bus lock only to copy the frame in (bounded: the bus
layer breaks a lock whose holder died). Wake-up writes are coalesced by the
bus layer's Waker: at once for a frame after a quiet spell or one that
answers frames heard (the receive thread tells it); during a burst its host
thread writes once per interval, without the kernel lock.
"""
import struct
import threading

from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ..kern.softint import PktQueue
from .ether import ether_input
from .if_ import Cloner, Ifnet

MAX_FRAME = 1518
MAX_LINKSTR = 1024


class ShmifIf(Ifnet):
    def __init__(self, net, unit):
        host = net.kernel.host
        mac = b"\xb2\xa0" + host.random(4)
        super().__init__(net, "shmif%d" % unit, 1500, N.IFF_BROADCAST | N.IFF_SIMPLEX | N.IFF_MULTICAST, mac)
        self.sender = struct.unpack("=Q", host.random(8))[0]
        self.bus = None
        self.promisc = False
        self.q = PktQueue(net.kernel.softints, self._input, maxlen=1024, name=self.name)
        self._thread_stop = None
        self.waker = None
        self.rx_filtered = 0

    # -- backend --------------------------------------------------------------------
    def set_linkstr(self, text):
        if text is None:
            if self.flags & N.IFF_UP:
                raise RumpError(errnos.EBUSY)
            self.detach_backend()
            return
        if self.flags & N.IFF_UP or self.bus is not None:
            raise RumpError(errnos.EBUSY)
        if len(text) > MAX_LINKSTR:
            raise RumpError(errnos.E2BIG)
        if not text:
            raise RumpError(errnos.EINVAL)
        from ..rumpuser.shmifbus import ShmifBus, Waker
        try:
            self.bus = ShmifBus(text, console=self.kernel.console)
        except OSError as e:
            raise RumpError(errnos.from_host(e.errno) if e.errno else errnos.EIO) from None
        self.linkstr = text
        stop = self._thread_stop = threading.Event()
        self.waker = Waker(self.bus.wakeup)
        self.kernel.host.start_thread(self._rx_loop, self.name + "-rx", self.bus, stop)
        self.kernel.host.start_thread(self.waker.run, self.name + "-wake", stop)

    def detach_backend(self):
        if self._thread_stop is not None:
            self._thread_stop.set()
            self._thread_stop = None
        bus, self.bus = self.bus, None
        self.linkstr = None
        if bus is not None:
            try:
                bus.wakeup()            # the receive thread notices and closes the bus
            except OSError:
                pass
        self.flags &= ~N.IFF_RUNNING

    def init(self):
        if self.bus is None:
            raise RumpError(errnos.ENXIO)
        self.flags |= N.IFF_RUNNING

    def stop(self):
        self.flags &= ~N.IFF_RUNNING
        if self.bus is not None:
            try:
                self.bus.wakeup()
            except OSError:
                pass

    def transmit(self, frame):
        bus = self.bus
        if bus is None:
            raise RumpError(errnos.ENXIO)
        t = self.kernel.host.clock.now() - self.net.boot_clock
        sec = int(t)
        try:
            bus.send((frame,), sec & 0xffffffff, int((t - sec) * 1e6), self.sender, wake=False)
            self.waker.sent()
        except (OSError, ValueError):
            raise RumpError(errnos.EIO) from None

    # -- receive (host thread) --------------------------------------------------------
    def _rx_loop(self, bus, stop):
        reader = bus.reader()
        sender, q = self.sender, self.q
        try:
            for _ in iter(int, 1):      # until stopped
                if stop.is_set():
                    return
                try:
                    pkts = bus.receive(reader, skip_sender=sender)   # own frames: not even copied
                except Exception:       # a damaged bus: skip what is there
                    reader.resync()
                    pkts = ()
                if not pkts:
                    if not reader.more:
                        bus.wait(0.5)
                    continue
                mac = self.lladdr
                promisc = self.promisc
                batch = []
                for length, _sec, _usec, snd, frame in pkts:
                    if snd == sender or length < 14 or length > MAX_FRAME:
                        continue
                    dst = frame[:6]
                    if dst != mac and not dst[0] & 1 and not promisc:
                        self.rx_filtered += 1
                        continue
                    batch.append(bytes(frame))
                if batch:
                    self.waker.heard()          # what this interface sends next answers it
                    q.enqueue_many(batch)      # one lock hold and one softint schedule per read
        finally:
            bus.close()

    def _input(self, frame):
        if self.flags & N.IFF_RUNNING:
            ether_input(self, frame)


def cloner():
    return Cloner("shmif", lambda net, unit: ShmifIf(net, unit))
