"""The loopback interface lo0 (NetBSD's if_loop.c): made at boot, MTU 33624.

Packets sent to lo0 (or to one of the kernel's own addresses) are counted
in and out and queued on lo0's input queue; its softint hands them to the
family's input (net.af_input), never re-entering the protocol from its own
output path. bpf sees them with DLT_NULL's 4-byte family header.
"""
import struct

from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ..kern.softint import PktQueue
from .if_ import Cloner, Ifnet


class Loopback(Ifnet):
    type = N.IFT_LOOP
    hdrlen = 0
    dlt = 0             # DLT_NULL

    def __init__(self, net, unit):
        super().__init__(net, "lo%d" % unit, N.LOMTU, N.IFF_LOOPBACK | N.IFF_MULTICAST)
        self.q = PktQueue(net.kernel.softints, self._input, name=self.name)

    def looutput(self, af, packet):
        """Loop a packet of family af back in (kernel lock held)."""
        if not self.flags & N.IFF_UP:
            raise RumpError(errnos.ENETDOWN)
        c = self.counters
        frame = struct.pack("=I", af) + packet
        for tap in self.bpf_taps:
            tap(frame, True)
        c["opackets"] += 1
        c["obytes"] += len(packet)
        if not self.q.enqueue((af, packet)):
            c["iqdrops"] += 1
            raise RumpError(errnos.ENOBUFS)

    def _input(self, item):
        af, packet = item
        c = self.counters
        c["ipackets"] += 1
        c["ibytes"] += len(packet)
        handler = self.net.af_input.get(af)
        if handler is None or not self.flags & N.IFF_UP:
            c["noproto"] += 1
            return
        handler(self, packet)

    def transmit(self, frame):
        af = struct.unpack("=I", frame[:4])[0]
        self.looutput(af, frame[4:])


def cloner():
    return Cloner("lo", lambda net, unit: Loopback(net, unit))
