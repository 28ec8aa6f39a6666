"""The `rumpnet_net` component: Ethernet, the routing table and the routing socket.

Provides the `route` slot (route.RouteTable). The ARP table itself arrives
with rumpnet_netinet (as NetBSD's if_arp.c lives in netinet).
"""
from ...abi import net as N
from ..kern.module import Component
from .route import RouteTable
from .rtsock import RouteProtocol


def _attach(ctx):
    net = ctx.kernel.slot("net")
    table = ctx.provide("route", RouteTable(ctx.kernel))
    ctx.add_entry(net.protosw, (N.AF_ROUTE, N.SOCK_RAW, 0), RouteProtocol(), "protocol")

    def forget(ifp, event):
        if event == "detach":
            table.purge(lambda rt: rt.ifp is ifp)
    net.if_hooks.append(forget)
    ctx.record(lambda: net.if_hooks.remove(forget))


component = Component("rumpnet_net", _attach, unloadable=False, desc="Ethernet and routing",
                      requires=("net",), provides=("route",))
