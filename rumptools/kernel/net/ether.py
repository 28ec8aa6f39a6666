"""Ethernet input and output (NetBSD's if_ethersubr.c).

ether_input(ifp, frame) runs in the interface's softint with the kernel
lock held: counts, taps bpf, keeps frames for our MAC, broadcast and
multicast (all, when promiscuous for bpf only), and hands the payload to the
handler registered for its type in net.ethertypes; unknown types count as
noproto. ether_output builds the header and transmits.
"""
import struct

from ...abi import net as N
from ...formats.net.ether import HDRLEN

_hdr = struct.Struct("!6s6sH")


def ether_input(ifp, frame):
    c = ifp.counters
    n = len(frame)
    if n < HDRLEN or not ifp.flags & N.IFF_UP:
        c["ierrors"] += 1
        return
    c["ipackets"] += 1
    c["ibytes"] += n
    for tap in ifp.bpf_taps:
        tap(frame, False)
    dst, _src, etype = _hdr.unpack_from(frame)
    if dst[0] & 1:
        c["imcasts"] += 1
    elif dst != ifp.lladdr:
        return                      # seen by bpf in promiscuous mode only
    handler = ifp.net.ethertypes.get(etype)
    if handler is None:
        c["noproto"] += 1
        return
    handler(ifp, frame[HDRLEN:], frame)


def ether_output(ifp, dst, etype, payload):
    """Send payload to MAC dst with type etype (kernel lock held)."""
    frame = _hdr.pack(dst, ifp.lladdr, etype) + payload
    ifp.output_frame(frame, bool(dst[0] & 1))
