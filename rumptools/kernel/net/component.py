"""The `rumpnet` component: interfaces, the socket layer, lo0.

Provides the `net` slot (net.NetState): interfaces, cloners, the protocol
switch, interface ioctls. Attaching makes lo0 (index 1) and marks it
UP|RUNNING; rumpnet_netinet gives it 127.0.0.1. Adds the socket syscalls
and the net.interfaces.<if> sysctl nodes of lo0.
"""
from ...abi import net as N
from ..kern.module import Component
from ...abi.sysctl import INT, QUAD
from . import if_loop, sys_socket
from .net import NetState


def _attach(ctx):
    net = ctx.provide("net", NetState(ctx.kernel))
    cl = if_loop.cloner()
    ctx.add_entry(net.cloners, "lo", cl, "interface cloner")
    lo0 = net.clone_create("lo0")
    net.loif = lo0
    lo0.flags |= N.IFF_UP | N.IFF_RUNNING
    ctx.add_syscalls(sys_socket.syscalls)
    ctx.sysctl("net.interfaces.lo0.rcvq.drops", QUAD, getter=lambda: lo0.q.drops)
    ctx.sysctl("net.interfaces.lo0.sndq.len", INT, 0)
    ctx.sysctl("net.interfaces.lo0.sndq.maxlen", INT, 256)
    ctx.sysctl("net.interfaces.lo0.sndq.drops", QUAD, 0)
    ctx.add_shutdown_hook(lambda: _halt(net))


def _halt(net):
    for ifp in list(net.ifnets.values()):
        if ifp.flags & N.IFF_RUNNING:
            ifp.stop()
        ifp.detach_backend()


component = Component("rumpnet", _attach, unloadable=False, desc="network interfaces and sockets",
                      provides=("net",))
