"""The `rumpnet_local` component: AF_LOCAL (unix domain) sockets.

Provides the `local` slot (uipc_usrreq.LocalState), the protocol switch
entries (AF_LOCAL, SOCK_STREAM / SOCK_DGRAM / SOCK_SEQPACKET) and the
struct sysctl nodes net.local.{stream,dgram,seqpacket}.pcblist, whose
answer is the kinfo_pcb records (abi/kinfo_pcb.py) of the type's sockets.
Needs rumpnet (sockets) and rumpvfs (bound names live in the file system).
"""
from ...abi import kinfo_pcb as K
from ...abi import net as N
from ...abi.sysctl import STRUCT
from ..kern.module import Component
from .socket import CANTRCVMORE, CANTSENDMORE, ISCONNECTED
from .uipc_usrreq import LocalDgram, LocalSeqpacket, LocalState, LocalStream

_TYPES = (("stream", N.SOCK_STREAM), ("dgram", N.SOCK_DGRAM), ("seqpacket", N.SOCK_SEQPACKET))


def sostate(so):
    """The socket's state as NetBSD's SS_* bits."""
    st = K.SS_ISCONNECTED if so.state & ISCONNECTED else 0
    if so.pcb is not None and getattr(so.pcb, "connecting", False):
        st |= K.SS_ISCONNECTING
    if so.state & CANTSENDMORE:
        st |= K.SS_CANTSENDMORE
    if so.state & CANTRCVMORE:
        st |= K.SS_CANTRCVMORE
    return st


def pcblist(state, stype):
    """kinfo_pcb records of every AF_LOCAL socket of stype, newest first."""
    out = []
    for pcb in state.pcbs[stype]:
        so = pcb.so
        peer = pcb.conn
        out.append(K.pack(
            pcbaddr=id(pcb), sockaddr=id(so), family=N.AF_LOCAL, type=stype, sostate=sostate(so),
            rcvq=so.sb.cc if so.sb is not None else so.rcv_cc, sndq=0,
            src=(N.AF_LOCAL, pcb.path) if pcb.path else None,
            dst=(N.AF_LOCAL, peer.pcb.path) if peer is not None and peer.pcb.path else None,
            inode=pcb.ino, vnode=id(pcb.vp) if pcb.vp is not None else 0,
            conn=id(peer.pcb) if peer is not None else 0,
            refs=id(pcb.refs[0].pcb) if pcb.refs else 0,
            nextref=_nextref(pcb)))
    return b"".join(out)


def _nextref(pcb):
    """The socket after this one among those connected to its peer (dgram)."""
    peer = pcb.conn
    if peer is None or pcb.so not in peer.pcb.refs:
        return 0
    refs = peer.pcb.refs
    i = refs.index(pcb.so)
    return id(refs[i + 1].pcb) if i + 1 < len(refs) else 0


def _attach(ctx):
    kernel = ctx.kernel
    net = kernel.slot("net")
    state = ctx.provide("local", LocalState(kernel))
    for pr in (LocalStream(), LocalDgram(), LocalSeqpacket()):
        ctx.add_entry(net.protosw, (N.AF_LOCAL, pr.type, 0), pr, "protocol")
    tree = kernel.sysctl
    tree.node("net.local", num=N.AF_LOCAL, owner=ctx.comp)
    for name, stype in _TYPES:
        tree.node("net.local." + name, num=stype, owner=ctx.comp)
        ctx.sysctl("net.local.%s.pcblist" % name, STRUCT, getter=lambda t=stype: pcblist(state, t))


component = Component("rumpnet_local", _attach, unloadable=False, desc="AF_LOCAL sockets",
                      requires=("net", "vfs"), provides=("local",))
