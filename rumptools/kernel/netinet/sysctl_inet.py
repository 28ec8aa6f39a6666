"""NetBSD's net.inet.{ip,icmp,udp,arp}.* sysctl nodes (specs/net.md §14) and the stats nodes.

Writable ones change the stack's parameters (inet.params); the others show
NetBSD 7.99.34's values. Stats nodes are structs (tuples of u64 counters in
NetBSD's order, abi/net.py *STAT_FIELDS) that sysctl -a does not print.
"""
from ...abi import net as N
from ...abi.sysctl import INT, STRING, STRUCT
from ..net.pcblist import inet_records

_IP = (("forwarding", 1, True), ("redirect", 2, True), ("ttl", 3, True), ("forwsrcrt", 5, True),
       ("directed-broadcast", 6, True), ("allowsrcrt", 7, True), ("subnetsarelocal", 8, True),
       ("mtudisc", 9, True), ("anonportmin", 10, True), ("anonportmax", 11, True),
       ("mtudisctimeout", 12, False), ("maxflows", 13, False), ("hostzerobroadcast", 14, False),
       ("lowportmin", 15, True), ("lowportmax", 16, True), ("maxfragpackets", 17, True))
_FIXED = {"mtudisctimeout": 600, "maxflows": 256, "hostzerobroadcast": 0}


def attach(ctx, inet, ipq):
    tree = ctx.kernel.sysctl
    # NetBSD's numbers, so the nodes list in its order: net.inet = PF_INET, ip = IPPROTO_IP, ...
    for path, num in (("net.inet", 2), ("net.inet.ip", 0), ("net.inet.icmp", 1), ("net.inet.udp", 17)):
        tree.node(path, num=num, owner=ctx.comp)
    def param(path, key, num, writable=True, lo=None, hi=None):
        def setter(v):
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                from ...abi.errnos import RumpError
                from ...abi import errnos
                raise RumpError(errnos.EINVAL)
            inet.params[key] = v
        ctx.sysctl(path, INT, getter=lambda: inet.params[key], setter=setter if writable else None,
                   writable=writable, num=num)

    for name, num, writable in _IP:
        if name in _FIXED:
            ctx.sysctl("net.inet.ip." + name, INT, _FIXED[name], num=num)
        else:
            param("net.inet.ip." + name, name, num, writable,
                  lo=1 if name == "ttl" else 0, hi=255 if name == "ttl" else None)
    ctx.sysctl("net.inet.ip.checkinterface", INT, 0, writable=True)
    ipq.sysctl_setup(ctx.kernel.sysctl, "net.inet.ip.ifq", ctx.comp)
    for name, value in (("random_id", 0), ("do_loopback_cksum", 0), ("dad_count", 3)):
        ctx.sysctl("net.inet.ip." + name, INT, value, writable=True)
    ctx.sysctl("net.inet.ip.anonportalgo.available", STRING,
               "bsd random_start random_pick hash doublehash randinc")
    ctx.sysctl("net.inet.ip.anonportalgo.selected", STRING, "random_start", writable=True)
    ctx.sysctl("net.inet.ip.anonportalgo.reserve", STRING, "")     # sysctl -a shows it empty
    ctx.sysctl("net.inet.ip.hashsize", INT, 64)
    ctx.sysctl("net.inet.ip.stats", STRUCT, getter=inet.ipstat.values)
    for name, key, num in (("maskrepl", "maskrepl", 1), ("returndatabytes", "returndatabytes", 2),
                           ("errppslimit", "errppslimit", 3)):
        param("net.inet.icmp." + name, key, num)
    param("net.inet.icmp.rediraccept", "rediraccept", None)
    param("net.inet.icmp.redirtimeout", "redirtimeout", None, lo=0)
    param("net.inet.icmp.bmcastecho", "bmcastecho", None)
    ctx.sysctl("net.inet.icmp.stats", STRUCT, getter=inet.icmpstat.values)
    param("net.inet.udp.checksum", "udp.checksum", 1)
    param("net.inet.udp.sendspace", "udp.sendspace", 3)
    param("net.inet.udp.recvspace", "udp.recvspace", 4)
    ctx.sysctl("net.inet.udp.do_loopback_cksum", INT, 0, writable=True)
    ctx.sysctl("net.inet.udp.stats", STRUCT, getter=inet.udpstat.values)
    # pcblists: kinfo_pcb records, newest first (abi/kinfo_pcb.py)
    ctx.sysctl("net.inet.udp.pcblist", STRUCT, getter=lambda: inet_records(inet.udp_pcbs, N.SOCK_DGRAM,
                                                                           N.IPPROTO_UDP))
    ctx.sysctl("net.inet.raw.pcblist", STRUCT, getter=lambda: inet_records(inet.raw_pcbs, N.SOCK_RAW))
    param("net.inet.arp.keep", "arp.keep", None, lo=1)
    param("net.inet.arp.down", "arp.down", None, lo=1)
    param("net.inet.arp.log_movements", "arp.log_movements", None)
    param("net.inet.arp.log_permanent_modify", "arp.log_permanent_modify", None)
    ctx.sysctl("net.inet.arp.log_wrong_iface", INT, 1, writable=True)
    ctx.sysctl("net.inet.arp.log_unknown_network", INT, 1, writable=True)
    ctx.sysctl("net.inet.arp.debug", INT, 0, writable=True)
    ctx.sysctl("net.inet.arp.stats", STRUCT, getter=inet.arpstat.values)

