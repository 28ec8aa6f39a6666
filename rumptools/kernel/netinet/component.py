"""The `rumpnet_netinet` component: IPv4, ARP, ICMP, UDP and raw sockets.

Provides the `inet` slot (in_.Inet). Registers the IP and ARP Ethernet
types, AF_INET's socket protocols (SOCK_DGRAM -> UDP, SOCK_RAW -> raw IP),
the address ioctls and SIOCGIFCONF rows, lo0's 127.0.0.1, the IP input
queue (net.inet.ip.ifq: Ethernet input hands IPv4 packets to it, its softint
runs ip_input) and the net.inet sysctl nodes; TCP (SOCK_STREAM: tcp_usrreq,
tcp_input, tcp_output, tcp_timer, tcp_syncache) with its net.inet.tcp nodes.
"""
from ...abi import net as N
from ...formats.net.ether import ETHERTYPE_ARP, ETHERTYPE_IP
from ..kern.module import Component
from ..kern.softint import PktQueue
from . import sysctl_inet
from .arp import ArpTable
from .in_ import Inet
from .in_dad import DadState
from .ip import ip_input
from .ip_reass import Reassembly
from .udp_raw import RawProtocol, UdpProtocol
from . import sysctl_tcp
from .tcp_subr import TcpStack
from .tcp_syncache import SynCache
from .tcp_usrreq import TcpProtocol


def _attach(ctx):
    kernel = ctx.kernel
    net = kernel.slot("net")
    routes = kernel.slot("route")
    inet = ctx.provide("inet", Inet(kernel))
    inet.arp = ArpTable(inet)
    inet.reass = Reassembly(inet)
    inet.dad = DadState(inet)
    net.lltable = inet.arp
    ctx.record(lambda: setattr(net, "lltable", None))
    routes.resolve = inet.resolve
    ctx.record(lambda: setattr(routes, "resolve", None))
    ipq = PktQueue(kernel.softints, lambda item: ip_input(inet, item[0], item[1]), name="ipintr")

    def ether_ip(ifp, payload, frame):
        """IPv4 from Ethernet goes through the IP input queue (NetBSD's ipintr)."""
        if not ipq.enqueue((ifp, payload)):
            ifp.counters["iqdrops"] += 1

    ctx.add_entry(net.ethertypes, ETHERTYPE_IP, ether_ip, "ethertype")
    ctx.add_entry(net.ethertypes, ETHERTYPE_ARP, inet.arp.input, "ethertype")
    ctx.add_entry(net.af_input, N.AF_INET, lambda ifp, pkt: ip_input(inet, ifp, pkt), "family")
    ctx.add_entry(net.af_control, N.AF_INET, inet.control, "family")
    ctx.add_entry(net.ifaddr_rows, N.AF_INET, inet.rows, "family")
    inet.tcp = TcpStack(inet)
    inet.tcp.syncache = SynCache(inet.tcp)
    inet.tcp_pcbs = inet.tcp.pcbs
    tcp = TcpProtocol()
    ctx.add_entry(net.protosw, (N.AF_INET, N.SOCK_STREAM, 0), tcp, "protocol")
    ctx.add_entry(net.protosw, (N.AF_INET, N.SOCK_STREAM, N.IPPROTO_TCP), tcp, "protocol")
    udp = UdpProtocol()
    raw = RawProtocol()
    ctx.add_entry(net.protosw, (N.AF_INET, N.SOCK_DGRAM, 0), udp, "protocol")
    ctx.add_entry(net.protosw, (N.AF_INET, N.SOCK_DGRAM, N.IPPROTO_UDP), udp, "protocol")
    ctx.add_entry(net.protosw, (N.AF_INET, N.SOCK_RAW, None), raw, "protocol")
    net.if_hooks.append(inet.if_event)
    ctx.record(lambda: net.if_hooks.remove(inet.if_event))
    sysctl_inet.attach(ctx, inet, ipq)
    sysctl_tcp.attach(ctx, inet.tcp)
    inet.add_address(net.loif, 0x7f000001, None, 0xff000000)


component = Component("rumpnet_netinet", _attach, unloadable=False, desc="IPv4 protocols",
                      requires=("net", "route"), provides=("inet",))
