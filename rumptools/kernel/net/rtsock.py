"""The routing socket, carried as values (NetBSD's rtsock.c, route(4)).

socket(AF_ROUTE, SOCK_RAW, 0) then ioctl(fd, RTM_MSG, (type, flags, dst,
mask, gateway, ifname)) does what writing an rt_msghdr does: RTM_ADD,
RTM_DELETE, RTM_CHANGE, RTM_GET, with NetBSD's errors (EEXIST, ESRCH,
ENETUNREACH, EINVAL). RTM_ADD also takes a link gateway "link#N" (the
interface with index N) for a route through that interface. A reply is RTMSG_FIELDS + (ifaddr, use, mtu, expire)
with RTF_DONE set. Messages with RTF_LLDATA and a link gateway edit the ARP
table (arp -s / -d), through net.lltable (netinet's ARP). RTM_DUMP and
RTM_DUMPLL give what sysctl NET_RT_DUMP and NET_RT_FLAGS give: the routes
and the ARP entries as RTROW_FIELDS tuples. Kernel lock held.
"""
import ipaddress

from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from .route import Rtentry, plen_of
from .socket import Protocol


def aton(text):
    if type(text) is not str:
        raise RumpError(errnos.EINVAL)
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        raise RumpError(errnos.EINVAL) from None


def ntoa(n):
    return str(ipaddress.IPv4Address(n))


def route_row(table, rt, now):
    gw = ntoa(rt.gateway) if rt.gateway is not None else (rt.gwname or "link#%d" % rt.gwlink)
    return (ntoa(rt.dst), ntoa(rt.mask), gw, table.flags_of(rt), rt.ifp.name if rt.ifp else "",
            ntoa(rt.ifa) if rt.ifa is not None else "", rt.use, rt.mtu, 0, 0)


class RouteProtocol(Protocol):
    domain = N.AF_ROUTE
    type = N.SOCK_RAW
    recvspace = sendspace = 8192

    def sockaddr(self, so):
        return (N.AF_ROUTE,)

    def send(self, so, data, addr, control, flags):
        raise RumpError(errnos.EOPNOTSUPP)      # messages travel as values: ioctl RTM_MSG

    def control(self, so, cmd, arg):
        net = so.kernel.slot("net")
        table = so.kernel.slot("route")
        now = so.kernel.host.clock.now()
        if cmd == N.RTM_DUMP:
            return tuple(route_row(table, rt, now) for rt in table.routes())
        if cmd == N.RTM_DUMPLL:
            lt = getattr(net, "lltable", None)
            return lt.dump() if lt is not None else ()
        if cmd == N.RTM_MSG:
            return rtrequest(so.kernel, net, table, arg)
        return net.ioctl(so, cmd, arg)


def rtrequest(kernel, net, table, msg):
    if type(msg) is not tuple or len(msg) != len(N.RTMSG_FIELDS):
        raise RumpError(errnos.EINVAL)
    mtype, flags, dst, mask, gateway, ifname = msg
    if type(mtype) is not int or type(flags) is not int or dst is None:
        raise RumpError(errnos.EINVAL)
    if flags & N.RTF_LLDATA:
        lt = getattr(net, "lltable", None)
        if lt is None:
            raise RumpError(errnos.EAFNOSUPPORT)
        return lt.rtrequest(mtype, flags, aton(dst), gateway, ifname)
    d = aton(dst)
    if mask is None:
        plen = 32 if flags & N.RTF_HOST or mtype == N.RTM_GET else None
        if plen is None:
            raise RumpError(errnos.EINVAL)
    else:
        plen = plen_of(aton(mask))
        if plen is None:
            raise RumpError(errnos.EINVAL)
    if plen == 32:
        flags |= N.RTF_HOST
    if mtype == N.RTM_GET:
        rt = table.lookup(d) if mask is None else table.exact(d, plen)
        if rt is None:
            raise RumpError(errnos.ESRCH)
        return _reply(table, rt, N.RTM_GET)
    if mtype == N.RTM_DELETE:
        rt = table.exact(d, plen)
        if rt is None:
            raise RumpError(errnos.ESRCH)
        table.delete(d, plen)
        return _reply(table, rt, N.RTM_DELETE)
    if mtype in (N.RTM_ADD, N.RTM_CHANGE):
        if gateway is None:
            raise RumpError(errnos.EINVAL)
        if mtype == N.RTM_ADD and type(gateway) is str and gateway.startswith("link#") \
                and not flags & N.RTF_GATEWAY:
            return _add_link_route(kernel, net, table, d, plen, flags, gateway)
        g = aton(gateway)
        if table.resolve is None:
            raise RumpError(errnos.ENETUNREACH)
        found = table.resolve(g, bool(flags & N.RTF_GATEWAY))
        if found is None:
            raise RumpError(errnos.ENETUNREACH)
        ifp, ifa = found
        if ifname:
            ifp = net.ifunit(ifname)
        keep = flags & (N.RTF_GATEWAY | N.RTF_HOST | N.RTF_STATIC | N.RTF_REJECT | N.RTF_BLACKHOLE |
                        N.RTF_PROTO1 | N.RTF_PROTO2)
        if mtype == N.RTM_CHANGE:
            rt = table.exact(d, plen)
            if rt is None:
                raise RumpError(errnos.ESRCH)
            rt.gateway = g if flags & N.RTF_GATEWAY else None
            rt.gwlink = None if flags & N.RTF_GATEWAY else ifp.index
            rt.ifp, rt.ifa = ifp, ifa
            rt.flags = (rt.flags & ~N.RTF_GATEWAY) | keep | N.RTF_UP
            return _reply(table, rt, N.RTM_CHANGE)
        rt = Rtentry(d, plen, keep | N.RTF_UP, ifp, ifa,
                     gateway=g if flags & N.RTF_GATEWAY else None,
                     gwlink=None if flags & N.RTF_GATEWAY else ifp.index,
                     created=kernel.host.clock.now())
        table.add(rt)
        return _reply(table, rt, N.RTM_ADD)
    raise RumpError(errnos.EOPNOTSUPP)


def _add_link_route(kernel, net, table, d, plen, flags, gateway):
    """RTM_ADD with a link gateway ("link#N", a sockaddr_dl naming interface N):
    a route straight through that interface, whose hosts are neighbours. A net
    route so made is RTF_CONNECTED, like the one an address adds (dhcpclient
    deletes that one and adds it back this way); the source address is the
    interface's address on the destination's prefix, else its first."""
    try:
        index = int(gateway[5:])
    except ValueError:
        raise RumpError(errnos.EINVAL) from None
    ifp = net.by_index(index)
    if ifp is None:
        raise RumpError(errnos.ENETUNREACH)
    ias = [ia for ia in ifp.addrs.get(N.AF_INET, ())]
    if not ias:
        raise RumpError(errnos.ENETUNREACH)
    ifa = next((ia.addr for ia in ias if d & ia.mask == ia.net), ias[0].addr)
    keep = flags & (N.RTF_HOST | N.RTF_STATIC | N.RTF_REJECT | N.RTF_BLACKHOLE | N.RTF_PROTO1 | N.RTF_PROTO2)
    if plen < 32:
        keep |= N.RTF_CONNECTED
    rt = Rtentry(d, plen, keep | N.RTF_UP, ifp, ifa, gwlink=ifp.index, created=kernel.host.clock.now())
    table.add(rt)
    return _reply(table, rt, N.RTM_ADD)


def _reply(table, rt, mtype):
    gw = ntoa(rt.gateway) if rt.gateway is not None else (rt.gwname or "link#%d" % rt.gwlink)
    return (mtype, table.flags_of(rt) | N.RTF_DONE, ntoa(rt.dst),
            None if rt.plen == 32 else ntoa(rt.mask), gw, rt.ifp.name if rt.ifp else "",
            ntoa(rt.ifa) if rt.ifa is not None else "", rt.use, rt.mtu, 0)
