"""rump.sockstat: list the open sockets of a rump kernel's processes (NetBSD's sockstat(1)).

    rump.sockstat [-46clnu] [-f address_family] [-p ports]

Reads the pcblist sysctl nodes (kinfo_pcb records, abi/kinfo_pcb.py) and
kern.file2 (one row per descriptor, abi/sysctl.py FILE2_FIELDS), matches a
descriptor to its socket by the socket's id, and prints one row per socket
descriptor sorted by pid and fd (specs/net.md §12):
    USER     COMMAND    PID   FD PROTO  LOCAL ADDRESS         FOREIGN ADDRESS
"""
import sys

import click

from . import _cli
from ..abi import kinfo_pcb as K
from ..abi import net as N
from ..abi.sysctl import DTYPE_SOCKET, FILE2_FIELDS

USAGE = "usage: %s [-46clnu] [-f address_family] [-p ports]"
INET, INET6, LOCAL = 1, 2, 4
ONLY_CONNECTED, ONLY_LISTEN = 1, 2
IPPROTO_RAW = 255


def parse_ports(text, ports):
    """A service name, or numbers and ranges separated by commas (80,8000-8080)."""
    import socket
    try:
        ports.add(socket.getservbyname(text))
        return
    except OSError:
        pass
    for part in text.split(","):
        lo, dash, hi = part.partition("-")
        try:
            a = _port(lo)
            b = _port(hi) if dash else a
        except ValueError:
            _cli.die("%s: Invalid argument" % text)
        ports.update(range(a, b + 1))


def _port(s):
    if not s.isdigit():
        raise ValueError(s)
    v = int(s, 0) if not (len(s) > 1 and s[0] == "0") else int(s, 8)
    if not 0 <= v <= 65535:
        raise ValueError(s)
    return v


def isconnected(kp):
    return bool(kp["sostate"] & K.SS_ISCONNECTED or kp["prstate"] >= K.INP_CONNECTED or kp["tstate"] > 1
                or kp["conn"])


def islistening(kp):
    if isconnected(kp):
        return False
    if kp["tstate"] == 1:
        return True
    src = kp["src"]
    if kp["family"] in (N.AF_INET, N.AF_INET6):
        return kp["type"] == N.SOCK_RAW or (kp["type"] == N.SOCK_DGRAM and src is not None and src[2] != 0)
    if kp["family"] == N.AF_LOCAL:
        return bool(src and len(src) > 1 and src[1])
    return False


def wanted(kp, only, ports):
    if only:
        if isconnected(kp):
            if not only & ONLY_CONNECTED:
                return False
        elif islistening(kp):
            if not only & ONLY_LISTEN:
                return False
        else:
            return False
    if ports:
        if kp["family"] not in (N.AF_INET, N.AF_INET6):
            return False
        sp = kp["src"][2] if kp["src"] else 0
        dp = kp["dst"][2] if kp["dst"] else 0
        if sp not in ports and dp not in ports:
            return False
    return True


def proto_name(kp):
    fam, ptype, proto = kp["family"], kp["type"], kp["protocol"]
    if fam in (N.AF_INET, N.AF_INET6):
        names = {N.IPPROTO_TCP: "tcp", N.IPPROTO_UDP: "udp", IPPROTO_RAW: "raw"}
        if proto in names:
            return names[proto] + ("6" if fam == N.AF_INET6 else "")
        return "%d/%d" % (fam, proto)
    if fam == N.AF_LOCAL:
        return {N.SOCK_STREAM: "stream", N.SOCK_DGRAM: "dgram", N.SOCK_RAW: "raw", 4: "rdm",
                N.SOCK_SEQPACKET: "seq"}.get(ptype, "%d/%d" % (fam, proto))
    return "%d/%d/%d" % (fam, ptype, proto)


def addr_text(sa, stype, anon, numeric):
    """print_addr: host.port, *.port, *.* for inet; the path or - for local."""
    if sa is None:
        return "(PF_UNSPEC)"
    if sa[0] == N.AF_LOCAL:
        return sa[1] if len(sa) > 1 and sa[1] else "-"
    if sa[0] not in (N.AF_INET, N.AF_INET6):
        return ""
    host, port = sa[1], sa[2]
    any_ = host in ("0.0.0.0", "::")
    if any_ and port == 0:
        return "*.*"
    hname, pname = host, str(port)
    if not numeric:
        import socket
        flags = socket.NI_DGRAM if stype == N.SOCK_DGRAM else 0
        if anon:
            flags |= socket.NI_NUMERICSERV
        try:
            hname, pname = socket.getnameinfo((host, port), flags)
        except OSError:
            pass
    return "*.%s" % pname if any_ else "%s.%s" % (hname, pname)


def user_name(uid):
    import pwd
    try:
        return "%-8s" % pwd.getpwuid(uid).pw_name
    except KeyError:
        return "%-8d" % uid


def gather(client, families, ports):
    names = []
    if families & INET:
        names += ["net.inet.tcp.pcblist", "net.inet.udp.pcblist"] + ([] if ports else ["net.inet.raw.pcblist"])
    if families & INET6:
        names += ["net.inet6.tcp6.pcblist", "net.inet6.udp6.pcblist"] + ([] if ports else
                                                                         ["net.inet6.raw6.pcblist"])
    if families & LOCAL:
        names += ["net.local.stream.pcblist", "net.local.dgram.pcblist", "net.local.seqpacket.pcblist"]
    socks = {}
    for name in names:
        try:
            blob = client.sysctl(name, 0, None)[1]
        except OSError:
            continue            # the kernel has no such protocol
        for kp in K.records(blob):
            socks[kp["sockaddr"]] = kp
    return socks


def rows(socks, files, only, ports, numeric):
    out = []
    for f in sorted(files, key=lambda f: (f["pid"], f["fd"])):
        if f["type"] != DTYPE_SOCKET:
            continue
        kp = socks.get(f["data"])
        if kp is None or not wanted(kp, only, ports):
            continue
        if not out:
            out.append("%-8s %-10s %-5s %-2s %-6s %-21s %s" % ("USER", "COMMAND", "PID", "FD", "PROTO",
                                                                "LOCAL ADDRESS", "FOREIGN ADDRESS"))
        anon = bool(kp["pflags"] & K.INP_ANONPORT)
        local = addr_text(kp["src"], kp["type"], anon, numeric)
        if isconnected(kp):
            foreign = addr_text(kp["dst"], kp["type"], anon, numeric)
        elif kp["family"] in (N.AF_INET, N.AF_INET6):
            foreign = "*.*"
        else:
            foreign = "-"
        out.append("%s %-10.10s %-5d %2d %-6s %-21s %s" % (user_name(f["uid"]), f["comm"], f["pid"], f["fd"],
                                                           proto_name(kp), local, foreign))
    return out


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-4", "inet4", is_flag=True)
@click.option("-6", "inet6", is_flag=True)
@click.option("-c", "connected", is_flag=True)
@click.option("-f", "family", multiple=True)
@click.option("-l", "listening", is_flag=True)
@click.option("-n", "numeric", is_flag=True)
@click.option("-p", "portlist", multiple=True)
@click.option("-u", "local", is_flag=True)
def cmd(inet4, inet6, connected, family, listening, numeric, portlist, local):
    families = (INET if inet4 else 0) | (INET6 if inet6 else 0) | (LOCAL if local else 0)
    for f in family:
        fam = {"inet": INET, "inet6": INET6, "local": LOCAL, "unix": LOCAL}.get(f.lower())
        if fam is None:
            _cli.die("%s: unsupported protocol family" % f)
        families |= fam
    only = (ONLY_CONNECTED if connected else 0) | (ONLY_LISTEN if listening else 0)
    ports = set()
    for p in portlist:
        parse_ports(p, ports)
    if portlist and not families:
        families = INET | INET6
    if not families:
        families = INET | INET6 | LOCAL
    if portlist and families & LOCAL:
        _cli.die("local domain sockets do not have ports")
    client = _cli.connect()
    try:
        socks = gather(client, families, bool(portlist))
        files = [dict(zip(FILE2_FIELDS, r)) for r in client.sysctl("kern.file2", 0, None)[1]]
    except OSError as e:
        _cli.die(_cli.syscall_error("sysctl", e))
    out = rows(socks, files, only, ports, numeric)
    if out:
        sys.stdout.write("\n".join(out) + "\n")


def main():
    cmd.main()


if __name__ == "__main__":
    main()
