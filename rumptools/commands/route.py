"""rump.route: manipulate a rump kernel's routing table (NetBSD's route(8)).

    rump.route [-nqv] add|delete|change [-net|-host] destination gateway [netmask m]
    rump.route [-nqv] get destination | show | flush
Messages travel on a routing socket as values (abi/net.py RTM_MSG); output
follows specs/net.md §11 and formats.md §4. (Names are printed numerically.)
"""
import ipaddress
import sys

import click

from . import _cli, _net
from ..abi import errnos
from ..abi import net as N

USAGE = "usage: %s [ -fnqSsv ] cmd [[ -<qualifers> ] args ]"
FLAG_WORDS = ("UP", "GATEWAY", "HOST", "REJECT", "DYNAMIC", "MODIFIED", "DONE", "MASK_PRESENT", "CONNECTED",
              "XRESOLVE", "LLINFO", "STATIC", "BLACKHOLE", "CLONED", "PROTO2", "PROTO1", "LOCAL", "BROADCAST")
FLAG_BITS = (N.RTF_UP, N.RTF_GATEWAY, N.RTF_HOST, N.RTF_REJECT, N.RTF_DYNAMIC, N.RTF_MODIFIED, N.RTF_DONE,
             N.RTF_MASK, N.RTF_CONNECTED, 0x200, N.RTF_LLDATA, N.RTF_STATIC, N.RTF_BLACKHOLE, 0x10000000,
             N.RTF_PROTO2, N.RTF_PROTO1, N.RTF_LOCAL, N.RTF_BROADCAST)


def rtsock():
    client = _cli.connect()
    try:
        return client, client.socket(N.AF_ROUTE, N.SOCK_RAW, 0)
    except OSError as e:
        _cli.die(_cli.syscall_error("socket", e))


def inet_network(text):
    """inet_network(3): '10.1' -> 10.0.0.1? no: network number 10.1 -> 10.1.0.0 with parts shifted."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    vals = [int(p) for p in parts]
    if any(v > 255 for v in vals):
        raise ValueError(text)
    return int.from_bytes(bytes(vals + [0] * (4 - len(vals))), "big"), len(vals)


def class_mask(a):
    first = a >> 24
    return 0xff000000 if first < 128 else 0xffff0000 if first < 192 else 0xffffff00


def parse_dest(text, force):
    """(dst, mask or None for host, is_host)"""
    if text == "default":
        return "0.0.0.0", "0.0.0.0", False
    if "/" in text:
        a, _, bits = text.partition("/")
        n, _ = inet_network(a)
        b = int(bits)
        if not 0 <= b <= 32:
            raise ValueError(text)
        m = (0xffffffff << (32 - b)) & 0xffffffff if b else 0
        return _net.ntoa(n & m), _net.ntoa(m), False
    n, nparts = inet_network(text)
    if force == "host":
        return _net.ntoa(n), None, True
    m = class_mask(n)
    if force == "net":
        if nparts < 4:
            m = (0xffffffff << (32 - 8 * nparts)) & 0xffffffff
        return _net.ntoa(n & m), _net.ntoa(m), False
    if n & ~m & 0xffffffff and nparts == 4:
        return _net.ntoa(n), None, True
    if nparts < 4:
        m = (0xffffffff << (32 - 8 * nparts)) & 0xffffffff
    return _net.ntoa(n & m), _net.ntoa(m), False


def botched(word):
    """route(8)'s answer to a word it does not know: `botched keyword`, then the usage."""
    _cli.warn("botched keyword: %s" % word)
    _cli.NetBSDCommand.usage(cmd)


def cmd_modify(verb, args):
    force = None
    iface = False
    rest = []
    mask = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-net", "-host"):
            force = a[1:]
        elif a in ("-interface", "-iface"):
            iface = True
        elif a in ("-static", "-nostatic", "-cloning", "-llinfo", "-proto1", "-proto2"):
            pass
        elif a == "-netmask" or a == "netmask":
            i += 1
            mask = args[i] if i < len(args) else None
        elif a.startswith("-") and a != "-":
            botched(a[1:])
        else:
            rest.append(a)
        i += 1
    if not rest or (verb != "delete" and len(rest) < 2):
        _cli.NetBSDCommand.usage(cmd)
    text = rest[0]
    try:
        dst, m, is_host = parse_dest(text, force)
    except ValueError:
        _cli.die("%s: bad value" % text)
    if mask is not None:
        m, is_host = mask, False
    gw = rest[1] if len(rest) > 1 else None
    if gw is not None:
        try:
            ipaddress.IPv4Address(gw)
        except ValueError:
            import socket
            try:
                gw = socket.gethostbyname(gw)
            except OSError:
                _cli.die("%s: bad value" % gw)
    flags = N.RTF_UP | N.RTF_STATIC | (0 if iface else N.RTF_GATEWAY) | (N.RTF_HOST if is_host else 0)
    mtype = {"add": N.RTM_ADD, "delete": N.RTM_DELETE, "change": N.RTM_CHANGE}[verb]
    client, s = rtsock()
    line = "%s %s %s" % (verb, "host" if is_host else "net", text)
    if gw is not None:
        line += ": gateway %s" % gw
    try:
        client.ioctl(s, N.RTM_MSG, (mtype, flags, dst, m, gw if verb != "delete" or gw else None, None))
    except OSError as e:
        err = e.errno
        text_err = {errnos.ESRCH: "not in table", errnos.EBUSY: "entry in use",
                    errnos.ENOBUFS: "routing table overflow"}.get(err, _cli.syscall_error(None, e))
        sys.stdout.write("%s: %s\n" % (line, text_err))
        sys.stdout.flush()
        _cli.die("writing to routing socket: %s" % text_err)
    sys.stdout.write(line + "\n")


def cmd_get(args):
    if not args:
        _cli.die("missing destination")
    text = args[-1]
    try:
        dst, m, is_host = parse_dest(text, "host" if "-host" in args else "net" if "-net" in args else None)
    except ValueError:
        _cli.die("%s: bad value" % text)
    client, s = rtsock()
    try:
        r = client.ioctl(s, N.RTM_MSG, (N.RTM_GET, 0, dst, None if "/" not in text and "-net" not in args
                                        and text != "default" else m, None, None))
    except OSError as e:
        _cli.die("writing to routing socket: %s" % ("not in table" if e.errno == errnos.ESRCH
                                                    else _cli.syscall_error(None, e)))
    _t, flags, rdst, rmask, gw, ifname, ifaddr, _use, mtu, _exp = r
    out = ["   route to: %s" % text if text != "default" else "   route to: default",
           "destination: %s" % ("default" if rdst == "0.0.0.0" and rmask == "0.0.0.0" else rdst)]
    if rmask is not None:
        out.append("       mask: %s" % ("default" if rmask == "0.0.0.0" else rmask))
    if flags & N.RTF_GATEWAY:
        out.append("    gateway: %s" % gw)
    if ifaddr:
        out.append(" local addr: %s" % ifaddr)
    out.append("  interface: %s" % ifname)
    words = [w for w, b in zip(FLAG_WORDS, FLAG_BITS) if flags & b]
    out.append("      flags: <%s>" % ",".join(words) if words else "      flags: none")
    out.append(" recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire")
    out.append("".join("%8d%c " % (v, " ") for v in (0, 0, 0, 0, 0, 0, mtu, 0)))
    sys.stdout.write("\n".join(out) + "\n")


def cmd_flush(all_routes):
    client, s = rtsock()
    rows = client.ioctl(s, N.RTM_DUMP, None)
    for row in rows:
        dst, mask, gw, flags = row[0], row[1], row[2], row[3]
        if not all_routes and not flags & (N.RTF_GATEWAY | N.RTF_STATIC):
            continue
        if flags & N.RTF_LOCAL:
            continue
        try:
            client.ioctl(s, N.RTM_MSG, (N.RTM_DELETE, flags, dst, None if flags & N.RTF_HOST else mask, None,
                                        None))
        except OSError:
            continue
        name = dst if flags & N.RTF_HOST else _net.netname(dst, mask)
        sys.stdout.write("%-20.20s %-20.20s done\n" % (name, gw))


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE,
               context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def cmd(argv):
    argv = list(argv)
    while argv and argv[0].startswith("-") and len(argv[0]) > 1:
        a = argv.pop(0)
        if any(c not in "fnqSsvd" for c in a[1:]):
            _cli.warn("unknown option -- %s" % next(c for c in a[1:] if c not in "fnqSsvd"))
            _cli.NetBSDCommand.usage(cmd)
    if not argv:
        _cli.NetBSDCommand.usage(cmd)
    verb, args = argv[0], argv[1:]
    if verb in ("add", "delete", "change"):
        cmd_modify(verb, args)
    elif verb == "get":
        cmd_get(args)
    elif verb == "show":
        client, s = rtsock()
        sys.stdout.write(_net.routing_table(client.ioctl(s, N.RTM_DUMP, None), False))
    elif verb == "flush":
        cmd_flush("-a" in args)
    else:
        botched(verb)


def main():
    cmd.main()


if __name__ == "__main__":
    main()
