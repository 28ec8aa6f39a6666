"""The `net` slot: interfaces, cloners, protocol switch and interface ioctls.

NetBSD keeps these in globals of sys/net/if.c and sys/kern/uipc_domain.c;
here one object holds them, provided by the rumpnet component:

    ifnets      name -> Ifnet (ifindex order is creation order)
    cloners     cloner name -> Cloner (lo; shmif from rumpnet_shmif; ...)
    protosw     (domain, type, protocol) -> protocol object (socket.py);
                protocol 0 finds the type's default
    ethertypes  Ethernet type -> input(ifp, payload, frame) (rumpnet_netinet: IP, ARP)
    af_control  family -> control(ifp, cmd, arg) for address ioctls
    ifaddr_rows family -> fn(ifp) giving SIOCGIFCONF rows
    af_input    family -> input(ifp, packet) (lo0 hands looped packets here)
    if_hooks    called as fn(ifp, "attach"|"detach") (routes and ARP of a vanishing interface)

Locking rule: kernel lock held throughout.
"""
from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from .if_ import split_name


class NetState:
    def __init__(self, kernel):
        self.kernel = kernel
        self.ifnets = {}
        self.cloners = {}
        self.protosw = {}
        self.ethertypes = {}
        self.af_control = {}
        self.ifaddr_rows = {}
        self.if_hooks = []
        self.af_input = {}          # family -> input(ifp, packet): what lo0 loops back
        self.next_index = 1
        self.loif = None
        self.boot_clock = kernel.host.clock.now()     # shmif stamps frames with uptime
        self.lltable = None         # the ARP table (rumpnet_netinet)

    # -- interfaces ---------------------------------------------------------------
    def if_attach(self, ifp):
        ifp.index = self.next_index
        self.next_index += 1
        self.ifnets[ifp.name] = ifp
        for hook in list(self.if_hooks):
            hook(ifp, "attach")
        return ifp

    def if_detach(self, ifp):
        if ifp.flags & N.IFF_RUNNING:
            ifp.stop()
        ifp.flags &= ~N.IFF_UP
        for hook in list(self.if_hooks):
            hook(ifp, "detach")
        ifp.detach_backend()
        self.ifnets.pop(ifp.name, None)

    def ifunit(self, name):
        ifp = self.ifnets.get(name) if type(name) is str else None
        if ifp is None:
            raise RumpError(errnos.ENXIO)
        return ifp

    def by_index(self, index):
        for ifp in self.ifnets.values():
            if ifp.index == index:
                return ifp
        return None

    def ordered(self):
        return sorted(self.ifnets.values(), key=lambda i: i.index)

    def clone_create(self, name):
        base, unit = split_name(name) if type(name) is str else (None, None)
        cl = self.cloners.get(base)
        if cl is None or unit is None or unit > cl.maxunit:
            raise RumpError(errnos.EINVAL)
        if name in self.ifnets:
            raise RumpError(errnos.EEXIST)
        ifp = cl.make(self, unit)
        ifp.cloner = cl
        return self.if_attach(ifp)

    def clone_destroy(self, name):
        ifp = self.ifunit(name)
        if ifp.cloner is None or ifp is self.loif:
            raise RumpError(errnos.EOPNOTSUPP)
        self.if_detach(ifp)

    # -- protocol switch ----------------------------------------------------------
    def find_protocol(self, domain, stype, protocol):
        if not any(k[0] == domain for k in self.protosw):
            raise RumpError(errnos.EAFNOSUPPORT)
        pr = self.protosw.get((domain, stype, protocol))
        if pr is None and protocol == 0:
            pr = self.protosw.get((domain, stype, 0))
        if pr is None:
            wild = self.protosw.get((domain, stype, None))      # raw: any protocol
            if wild is not None:
                return wild
            if any(k[0] == domain and k[1] == stype for k in self.protosw):
                raise RumpError(errnos.EPROTONOSUPPORT)
            raise RumpError(errnos.EPROTOTYPE if stype in (N.SOCK_STREAM, N.SOCK_DGRAM, N.SOCK_RAW,
                                                           N.SOCK_SEQPACKET) else errnos.EPROTONOSUPPORT)
        return pr

    # -- interface ioctls (ifioctl) -------------------------------------------------
    def ioctl(self, so, cmd, arg):
        if cmd == N.SIOCIFCREATE:
            self.clone_create(_name(arg))
            return None
        if cmd == N.SIOCIFDESTROY:
            self.clone_destroy(_name(arg))
            return None
        if cmd == N.SIOCIFGCLONERS:
            return tuple(sorted(self.cloners))
        if cmd == N.SIOCGIFCONF:
            rows = []
            for ifp in self.ordered():
                rows.append((ifp.name, N.AF_LINK, ":".join("%02x" % b for b in ifp.lladdr), None, None, 0))
                for fam in sorted(self.ifaddr_rows):
                    rows.extend(self.ifaddr_rows[fam](ifp))
            return tuple(rows)
        if cmd in (N.SIOCGIFFLAGS, N.SIOCGIFMTU, N.SIOCGIFINDEX, N.SIOCGLINKSTR, N.SIOCGIFDATA,
                   N.SIOCZIFDATA):
            ifp = self.ifunit(_name(arg))
            if cmd == N.SIOCGIFFLAGS:
                return ifp.flags
            if cmd == N.SIOCGIFMTU:
                return ifp.mtu
            if cmd == N.SIOCGIFINDEX:
                return ifp.index
            if cmd == N.SIOCGLINKSTR:
                if ifp.linkstr is None:
                    raise RumpError(errnos.ENOENT)
                return ifp.linkstr
            data = ifp.ifdata()
            if cmd == N.SIOCZIFDATA:
                for k in ifp.counters:
                    ifp.counters[k] = 0
            return data
        if cmd in (N.SIOCSIFFLAGS, N.SIOCSIFMTU, N.SIOCSLINKSTR):
            name, value = _pair(arg)
            ifp = self.ifunit(name)
            if cmd == N.SIOCSIFFLAGS:
                if type(value) is not int:
                    raise RumpError(errnos.EINVAL)
                ifp.set_flags(value)
            elif cmd == N.SIOCSIFMTU:
                # NetBSD's ether_ioctl: ETHERMIN (46) to ETHERMTU
                if type(value) is not int or not 46 <= value <= max(1500, ifp.mtu if ifp is self.loif else 1500):
                    raise RumpError(errnos.EINVAL)
                ifp.mtu = value
            else:
                if value is not None and type(value) is not str:
                    raise RumpError(errnos.EINVAL)
                ifp.set_linkstr(value)
            return None
        # address ioctls belong to the socket's family (in_control for AF_INET)
        control = self.af_control.get(so.domain) or self.af_control.get(N.AF_INET)
        if control is None:
            raise RumpError(errnos.EOPNOTSUPP)
        return control(cmd, arg)


def _name(arg):
    if type(arg) is tuple and arg:
        arg = arg[0]
    if type(arg) is not str or not arg or len(arg) >= N.IFNAMSIZ:
        raise RumpError(errnos.ENXIO if type(arg) is str else errnos.EINVAL)
    return arg


def _pair(arg):
    if type(arg) is not tuple or len(arg) != 2:
        raise RumpError(errnos.EINVAL)
    return _name(arg[0]), arg[1]
