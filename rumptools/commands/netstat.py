"""rump.netstat: show a rump kernel's network state (NetBSD's netstat(1)).

    rump.netstat -r [-n]        routing tables (every flag letter)
    rump.netstat -i [-n]        interfaces and their counters
    rump.netstat -s [-p proto]  ip, icmp, tcp, udp and arp statistics
    rump.netstat [-an]          UDP sockets (-a: also those not connected)
Formats are those of specs/net.md §12 and formats.md §4; TCP and unix
sockets join the list with TCP and AF_LOCAL.
"""
import sys

import click

from . import _cli, _net
from ..abi import net as N

USAGE = ("usage: %s [-Aan] [-f address_family] [-M core] [-N system]\n"
         "       %s [-bdgiLmnqrsSv] [-f address_family] [-M core] [-N system]\n"
         "       %s [-dn] [-I interface] [-M core] [-N system] [-w wait]\n"
         "       %s [-p protocol] [-M core] [-N system]")

IP_LINES = (("total", "total packet%s received"), ("badsum", "bad header checksum%s"),
            ("toosmall", "with size smaller than minimum"), ("tooshort", "with data size < data length"),
            ("toolong", "with length > max ip packet size"), ("badhlen", "with header length < data size"),
            ("badlen", "with data length < header length"), ("badoptions", "with bad options"),
            ("badvers", "with incorrect version number"), ("fragments", "fragment%s received"),
            ("fragdropped", "fragment%s dropped (dup or out of space)"),
            ("fragtimeout", "fragment%s dropped after timeout"), ("reassembled", "packet%s reassembled ok"),
            ("delivered", "packet%s for this host"), ("noproto", "packet%s for unknown/unsupported protocol"),
            ("forward", "packet%s forwarded"), ("cantforward", "packet%s not forwardable"),
            ("redirectsent", "redirect%s sent"), ("localout", "packet%s sent from this host"),
            ("rawout", "packet%s sent with fabricated ip header"),
            ("odropped", "output packet%s dropped due to no bufs, etc."),
            ("noroute", "output packet%s discarded due to no route"),
            ("fragmented", "output datagram%s fragmented"), ("ofragments", "fragment%s created"),
            ("cantfrag", "datagram%s that can't be fragmented"),
            ("badaddr", "datagram%s with bad address in header"))
UDP_LINES = (("ipackets", "datagram%s received"), ("hdrops", "with incomplete header"),
             ("badlen", "with bad data length field"), ("badsum", "with bad checksum"),
             ("noport", "dropped due to no socket"),
             ("noportbcast", "broadcast/multicast datagram%s dropped due to no socket"),
             ("fullsock", "dropped due to full socket buffers"), ("opackets", "datagram%s output"))
ARP_LINES = (("sndtotal", "packet%s sent"), ("sndreply", "reply packet%s"), ("sndrequest", "request packet%s"),
             ("rcvtotal", "packet%s received"), ("rcvreply", "reply packet%s"),
             ("rcvrequest", "valid request packet%s"), ("rcvmcast", "broadcast/multicast packet%s"),
             ("rcvbadproto", "packet%s with unknown protocol type"),
             ("rcvbadlen", "packet%s with bad (short) length"), ("rcvzerotpa", "packet%s with null target IP address"),
             ("rcvzerospa", "packet%s with null source IP address"),
             ("rcvnoint", "could not be mapped to an interface"),
             ("rcvlocalsha", "packet%s sourced from a local hardware address"),
             ("rcvbcastsha", "packet%s with a broadcast source hardware address"),
             ("rcvlocalspa", "duplicate%s for a local IP address"),
             ("rcvoverperm", "attempt%s to overwrite a static entry"),
             ("rcvoverint", "packet%s received on wrong interface"), ("rcvover", "entry%s overwritten"),
             ("rcvlenchg", "change%s in hardware address length"),
             ("dfrtotal", "packet%s deferred pending ARP resolution"), ("dfrsent", "sent"),
             ("dfrdropped", "dropped"), ("allocfail", "failure%s to allocate llinfo"))
# tcp_stats() of NetBSD's inet.c: (kind, fields, format); kinds as its macros p, ps, p2, p2s, p3
TCP_LINES = (
    ("p", ("sndtotal",), "\t%d packet%s sent"),
    ("p2", ("sndpack", "sndbyte"), "\t\t%d data packet%s (%d byte%s)"),
    ("p2", ("sndrexmitpack", "sndrexmitbyte"), "\t\t%d data packet%s (%d byte%s) retransmitted"),
    ("p2s", ("sndacks", "delack"), "\t\t%d ack-only packet%s (%d delayed)"),
    ("p", ("sndurg",), "\t\t%d URG only packet%s"),
    ("p", ("sndprobe",), "\t\t%d window probe packet%s"),
    ("p", ("sndwinup",), "\t\t%d window update packet%s"),
    ("p", ("sndctrl",), "\t\t%d control packet%s"),
    ("p", ("selfquench",), "\t\t%d send attempt%s resulted in self-quench"),
    ("p", ("rcvtotal",), "\t%d packet%s received"),
    ("p2", ("rcvackpack", "rcvackbyte"), "\t\t%d ack%s (for %d byte%s)"),
    ("p", ("rcvdupack",), "\t\t%d duplicate ack%s"),
    ("p", ("rcvacktoomuch",), "\t\t%d ack%s for unsent data"),
    ("p2", ("rcvpack", "rcvbyte"), "\t\t%d packet%s (%d byte%s) received in-sequence"),
    ("p2", ("rcvduppack", "rcvdupbyte"), "\t\t%d completely duplicate packet%s (%d byte%s)"),
    ("p", ("pawsdrop",), "\t\t%d old duplicate packet%s"),
    ("p2", ("rcvpartduppack", "rcvpartdupbyte"), "\t\t%d packet%s with some dup. data (%d byte%s duped)"),
    ("p2", ("rcvoopack", "rcvoobyte"), "\t\t%d out-of-order packet%s (%d byte%s)"),
    ("p2", ("rcvpackafterwin", "rcvbyteafterwin"), "\t\t%d packet%s (%d byte%s) of data after window"),
    ("p", ("rcvwinprobe",), "\t\t%d window probe%s"),
    ("p", ("rcvwinupd",), "\t\t%d window update packet%s"),
    ("p", ("rcvafterclose",), "\t\t%d packet%s received after close"),
    ("p", ("rcvbadsum",), "\t\t%d discarded for bad checksum%s"),
    ("p", ("rcvbadoff",), "\t\t%d discarded for bad header offset field%s"),
    ("ps", ("rcvshort",), "\t\t%d discarded because packet too short"),
    ("p", ("connattempt",), "\t%d connection request%s"),
    ("p", ("accepts",), "\t%d connection accept%s"),
    ("p", ("connects",), "\t%d connection%s established (including accepts)"),
    ("p2", ("closed", "drops"), "\t%d connection%s closed (including %d drop%s)"),
    ("p", ("conndrops",), "\t%d embryonic connection%s dropped"),
    ("p", ("delayed_free",), "\t%d delayed free%s of tcpcb"),
    ("p2", ("rttupdated", "segstimed"), "\t%d segment%s updated rtt (of %d attempt%s)"),
    ("p", ("rexmttimeo",), "\t%d retransmit timeout%s"),
    ("p", ("timeoutdrop",), "\t\t%d connection%s dropped by rexmit timeout"),
    ("p2", ("persisttimeo", "persistdrops"), "\t%d persist timeout%s (resulting in %d dropped connection%s)"),
    ("p", ("keeptimeo",), "\t%d keepalive timeout%s"),
    ("p", ("keepprobe",), "\t\t%d keepalive probe%s sent"),
    ("p", ("keepdrops",), "\t\t%d connection%s dropped by keepalive"),
    ("p", ("predack",), "\t%d correct ACK header prediction%s"),
    ("p", ("preddat",), "\t%d correct data packet header prediction%s"),
    ("p3", ("pcbhashmiss",), "\t%d PCB hash miss%s"),
    ("ps", ("noport",), "\t%d dropped due to no socket"),
    ("p", ("connsdrained",), "\t%d connection%s drained due to memory shortage"),
    ("p", ("pmtublackhole",), "\t%d PMTUD blackhole%s detected"),
    ("p", ("badsyn",), "\t%d bad connection attempt%s"),
    ("ps", ("sc_added",), "\t%d SYN cache entries added"),
    ("p", ("sc_collisions",), "\t\t%d hash collision%s"),
    ("ps", ("sc_completed",), "\t\t%d completed"),
    ("ps", ("sc_aborted",), "\t\t%d aborted (no space to build PCB)"),
    ("ps", ("sc_timed_out",), "\t\t%d timed out"),
    ("ps", ("sc_overflowed",), "\t\t%d dropped due to overflow"),
    ("ps", ("sc_bucketoverflow",), "\t\t%d dropped due to bucket overflow"),
    ("ps", ("sc_reset",), "\t\t%d dropped due to RST"),
    ("ps", ("sc_unreach",), "\t\t%d dropped due to ICMP unreachable"),
    ("ps", ("sc_delayed_free",), "\t\t%d delayed free of SYN cache entries"),
    ("p", ("sc_retransmitted",), "\t%d SYN,ACK%s retransmitted"),
    ("p", ("sc_dupesyn",), "\t%d duplicate SYN%s received for entries already in the cache"),
    ("p", ("sc_dropped",), "\t%d SYN%s dropped (no route or no space)"),
    ("p", ("badsig",), "\t%d packet%s with bad signature"),
    ("p", ("goodsig",), "\t%d packet%s with good signature"),
    ("p", ("ecn_shs",), "\t%d successful ECN handshake%s"),
    ("p", ("ecn_ce",), "\t%d packet%s with ECN CE bit"),
    ("p", ("ecn_ect",), "\t%d packet%s ECN ECT(0) bit"),
)
ICMP_NAMES = ("echo reply", "#1", "#2", "destination unreachable", "source quench", "routing redirect", "#6",
              "#7", "echo", "router advertisement", "router solicitation", "time exceeded", "parameter problem",
              "time stamp", "time stamp reply", "information request", "information request reply",
              "address mask request", "address mask reply")


def _plural(fmt, v):
    return fmt % ("" if v == 1 else "s") if "%s" in fmt else fmt


def section(title, names, values, lines, sflag):
    d = dict(zip(names, values))
    out = ["%s:" % title]
    for key, fmt in lines:
        v = d.get(key, 0)
        if v or sflag <= 1:
            out.append("\t%d %s" % (v, _plural(fmt, v)))
    return out


def icmp_section(values, sflag):
    d = dict(zip(N.ICMPSTAT_FIELDS, values))
    out = ["icmp:"]
    for key, fmt in (("error", "call%s to icmp_error"), ("oldicmp", "error%s not generated because old message was icmp")):
        v = d[key]
        if v or sflag <= 1:
            out.append("\t%d %s" % (v, _plural(fmt, v)))
    hist = [(i, d["outhist%d" % i]) for i in range(19) if d["outhist%d" % i]]
    if hist:
        out.append("\tOutput histogram:")
        out += ["\t\t%s: %d" % (ICMP_NAMES[i], v) for i, v in hist]
    for key, fmt in (("badcode", "message%s with bad code fields"), ("tooshort", "message%s < minimum length"),
                     ("checksum", "bad checksum%s"), ("badlen", "message%s with bad length")):
        v = d[key]
        if v or sflag <= 1:
            out.append("\t%d %s" % (v, _plural(fmt, v)))
    hist = [(i, d["inhist%d" % i]) for i in range(19) if d["inhist%d" % i]]
    if hist:
        out.append("\tInput histogram:")
        out += ["\t\t%s: %d" % (ICMP_NAMES[i], v) for i, v in hist]
    v = d["reflect"]
    if v or sflag <= 1:
        out.append("\t%d message response%s generated" % (v, "" if v == 1 else "s"))
    return out


def tcp_section(values, sflag, title="tcp"):
    d = dict(zip(N.TCPSTAT_FIELDS, values))
    out = ["%s:" % title]
    for kind, keys, fmt in TCP_LINES:
        v = [d[k] for k in keys]
        if not any(v) and sflag > 1:
            continue
        if kind == "p":
            out.append(fmt % (v[0], "" if v[0] == 1 else "s"))
        elif kind == "ps":
            out.append(fmt % v[0])
        elif kind == "p3":
            out.append(fmt % (v[0], "" if v[0] == 1 else "es"))
        elif kind == "p2":
            out.append(fmt % (v[0], "" if v[0] == 1 else "s", v[1], "" if v[1] == 1 else "s"))
        else:
            out.append(fmt % (v[0], "" if v[0] == 1 else "s", v[1]))
    return out


def read_stats(client, proto):
    try:
        if proto == "tcp6":
            return client.sysctl("net.inet6.tcp6.stats", 0, None)[1]
        return client.sysctl("net.inet.%s.stats" % proto, 0, None)[1]
    except OSError:
        return None


def show_stats(client, proto, sflag):
    out = []
    table = (("ip", N.IPSTAT_FIELDS, IP_LINES), ("icmp", N.ICMPSTAT_FIELDS, None),
             ("tcp", N.TCPSTAT_FIELDS, TCP_LINES), ("udp", N.UDPSTAT_FIELDS, UDP_LINES),
             ("tcp6", N.TCPSTAT_FIELDS, TCP_LINES), ("arp", N.ARPSTAT_FIELDS, ARP_LINES))
    if proto is not None and proto not in [t[0] for t in table]:
        _cli.die("%s: unknown or uninstrumented protocol" % proto)
    for name, names, lines in table:
        if proto is not None and proto != name:
            continue
        values = read_stats(client, name)
        if values is None:
            continue
        if name == "icmp":
            out += icmp_section(values, sflag)
        elif name in ("tcp", "tcp6"):
            out += tcp_section(values, sflag, name)
        else:
            out += section(name, names, values, lines, sflag)
    if out:
        sys.stdout.write("\n".join(out) + "\n")


def show_interfaces(client):
    s = client.socket(N.AF_INET, N.SOCK_DGRAM, 0)
    rows = client.ioctl(s, N.SIOCGIFCONF, None)
    out = ["Name  Mtu   Network       Address              Ipkts Ierrs    Opkts Oerrs Colls"]
    names = []
    for r in rows:
        if r[0] not in names:
            names.append(r[0])
    for nm in names:
        flags = client.ioctl(s, N.SIOCGIFFLAGS, nm)
        mtu = client.ioctl(s, N.SIOCGIFMTU, nm)
        d = dict(zip(N.IFDATA_FIELDS, client.ioctl(s, N.SIOCGIFDATA, nm)))
        shown = nm[:4] + "*" if not flags & N.IFF_UP and len(nm) >= 5 else nm + ("*" if not flags & N.IFF_UP else "")
        counters = "%8d %5d %8d %5d %5d" % (d["ipackets"], d["ierrors"], d["opackets"], d["oerrors"],
                                            d["collisions"])
        for r in rows:
            if r[0] != nm:
                continue
            if r[1] == N.AF_LINK:
                out.append("%-5.5s %-5d %-13.13s %-17.17s %s" % (shown, mtu, "<Link>", r[2], counters))
            elif r[1] == N.AF_INET:
                a, m = _net.aton(r[2]), _net.aton(r[3])
                net = _net.netname(_net.ntoa(a & m), r[3])
                out.append("%-5.5s %-5d %-13.13s %-17.17s %s" % (shown, mtu, net, r[2], counters))
    sys.stdout.write("\n".join(out) + "\n")


def _addr(host, port, numeric, proto, anon):
    h = "*" if host == "0.0.0.0" else host[:16]
    if port == 0:
        p = "*"
    elif numeric or anon:
        p = str(port)
    else:
        try:
            import socket
            p = socket.getservbyport(port, proto)
        except (OSError, OverflowError):
            p = str(port)
    return "%s.%s" % (h, p)


def show_sockets(client, all_, numeric):
    """NetBSD's socket list: udp sockets, newest first (without -a only connected ones)."""
    out = []
    try:
        rows = client.sysctl("net.inet.udp.pcblist", 0, None)[1]
    except OSError:
        rows = ()
    for row in rows:
        r = dict(zip(N.PCB_FIELDS, row))
        if not all_ and r["faddr"] == "0.0.0.0":
            continue
        if not out:
            out.append("Active Internet connections%s" % (" (including servers)" if all_ else ""))
            out.append("Proto Recv-Q Send-Q  Local Address          Foreign Address        State")
        out.append("%-5.5s %6d %6d  %-22.22s %-22.22s" % (
            "udp", r["rcvq"], r["sndq"], _addr(r["laddr"], r["lport"], numeric, "udp", r["anonport"]),
            _addr(r["faddr"], r["fport"], numeric, "udp", False)))
    if out:
        sys.stdout.write("\n".join(out) + "\n")


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-r", "routes", is_flag=True)
@click.option("-n", "numeric", is_flag=True)
@click.option("-i", "interfaces", is_flag=True)
@click.option("-s", "stats", count=True)
@click.option("-p", "proto")
@click.option("-a", "all_", is_flag=True)
@click.option("-f", "family")
@click.option("-v", "verbose", is_flag=True)
def cmd(routes, numeric, interfaces, stats, proto, all_, family, verbose):
    client = _cli.connect()
    try:
        if routes:
            s = client.socket(N.AF_ROUTE, N.SOCK_RAW, 0)
            sys.stdout.write(_net.routing_table(client.ioctl(s, N.RTM_DUMP, None), True))
        elif interfaces:
            show_interfaces(client)
        elif stats or proto:
            show_stats(client, proto, stats or 1)
        else:
            show_sockets(client, all_, numeric)
    except OSError as e:
        _cli.die(_cli.syscall_error(None, e))


def main():
    cmd.main()


if __name__ == "__main__":
    main()
