"""What the network commands share: a socket for ioctls, address forms, NetBSD's flag texts.

Pure helpers and thin wrappers over the sysproxy client; no kernel code.
"""
import ipaddress

from ..abi import net as N


def snprintb(value, names):
    """NetBSD's snprintb: 0x8843<UP,BROADCAST,...> (no <> when no named bit is set)."""
    bits = [n for i, n in enumerate(names) if value & (1 << i)]
    return "0x%x<%s>" % (value, ",".join(bits)) if bits else "0x%x" % value


def aton(text):
    return int(ipaddress.IPv4Address(text))


def ntoa(n):
    return str(ipaddress.IPv4Address(n))


def plen(mask_text):
    m = aton(mask_text)
    n = bin(m).count("1")
    return n


def netname(dst, mask):
    """NetBSD's network names: default, 10/8, 192.168.1/24, 10.1.1.0/25."""
    d, m = aton(dst), aton(mask)
    bits = bin(m).count("1")
    if d == 0 and bits == 0:
        return "default"
    if bits == 32:
        return dst
    octets = dst.split(".")
    if bits % 8 == 0:
        keep = max(1, bits // 8)
        if all(o == "0" for o in octets[keep:]):
            return "%s/%d" % (".".join(octets[:keep]), bits)
    # trailing zero octets cut where the mask allows
    keep = 4
    while keep > 1 and octets[keep - 1] == "0" and (keep - 1) * 8 >= bits:
        keep -= 1
    return "%s/%d" % (".".join(octets[:keep]), bits)


# route flag letters, in NetBSD's order (netstat prints all, route show U G H R l b)
RTF_LETTERS = ((N.RTF_UP, "U"), (N.RTF_GATEWAY, "G"), (N.RTF_HOST, "H"), (N.RTF_REJECT, "R"),
               (N.RTF_BLACKHOLE, "B"), (N.RTF_DYNAMIC, "D"), (N.RTF_MODIFIED, "M"), (N.RTF_DONE, "d"),
               (N.RTF_MASK, "m"), (N.RTF_CONNECTED, "C"), (N.RTF_STATIC, "S"), (N.RTF_PROTO1, "1"),
               (N.RTF_PROTO2, "2"), (N.RTF_ANNOUNCE, "p"), (N.RTF_LOCAL, "l"), (N.RTF_BROADCAST, "b"))
ROUTE_SHOW_LETTERS = "UGHRlb"


def flag_letters(flags, only=None):
    return "".join(c for bit, c in RTF_LETTERS if flags & bit and (only is None or c in only))


def routing_table(rows, all_flags):
    """`Routing tables` as route show (all_flags False) or netstat -r prints it."""
    out = ["Routing tables", "", "Internet:",
           "%-18.18s %-18.18s %-6.6s %6.6s %8.8s %6.6s %s" % ("Destination", "Gateway", "Flags", "Refs",
                                                              "Use", "Mtu", "Interface")]
    rows = sorted(rows, key=lambda r: (aton(r[0]) if netname(r[0], r[1]) != "default" else -1,
                                       -bin(aton(r[1])).count("1")))
    for dst, mask, gw, flags, ifname, _ifa, _use, mtu, _exp, _refs in rows:
        name = netname(dst, mask) if not flags & N.RTF_HOST else dst
        fl = flag_letters(flags, None if all_flags else ROUTE_SHOW_LETTERS)
        out.append("%-18s %-18s %-6.6s %6s %8s %6s%s %.16s" % (name, gw, fl, "-", "-",
                                                               str(mtu) if mtu else "-", " ", ifname))
    return "\n".join(out) + "\n"


def ioctl_name(cmd):
    return N.IOCTL_NAMES.get(cmd, "ioctl")
