"""rump.ifconfig: configure network interfaces of a rump kernel (NetBSD's ifconfig(8)).

    rump.ifconfig -a [-v] | -l [-u|-d|-b] | -C | -w n | -W n
    rump.ifconfig interface [-v]
    rump.ifconfig interface create | destroy
    rump.ifconfig interface [inet] [address[/len]] [netmask m] [broadcast b] [alias | -alias]
                            [up | down] [mtu n] [linkstr s | -linkstr]
Output and messages are those of NetBSD 7.99 (specs/formats.md §3, net.md §10).
"""
import sys

import click

from . import _cli
from ._net import snprintb
from ..abi import net as N

USAGE = ("usage: %s [-h] [-m] [-v] [-z] [-L] interface\n"
         "\t[ af [ address [ dest_addr ] ] [ netmask mask ] [ prefixlen n ]\n"
         "\t\t[ alias | -alias ] ]\n"
         "\t[ up ] [ down ] [ metric n ] [ mtu n ]\n"
         "\t[ linkstr str | -linkstr ]\n"
         "       %s -a [-b] [-d] [-h] %s[-u] [-v] [-z] [ af ]\n"
         "       %s -l [-b] [-d] [-s] [-u]\n"
         "       %s -C\n"
         "       %s interface create\n"
         "       %s interface destroy")


def usage():
    sys.stderr.write(USAGE.replace("%s -a [-b] [-d] [-h] %s", "%s -a [-b] [-d] [-h] [-m] ")
                     .replace("%s", _cli.progname()) + "\n")
    sys.exit(1)


class Ifc:
    def __init__(self):
        self.client = _cli.connect()
        try:
            self.s = self.client.socket(N.AF_INET, N.SOCK_DGRAM, 0)
        except OSError as e:
            _cli.die(_cli.syscall_error("socket", e))

    def ioctl(self, cmd, arg):
        return self.client.ioctl(self.s, cmd, arg)


def mask_hex(mask):
    a = [int(x) for x in mask.split(".")]
    return "0x%02x%02x%02x%02x" % tuple(a)


def status(ifc, name, rows, verbose):
    flags = ifc.ioctl(N.SIOCGIFFLAGS, name)
    mtu = ifc.ioctl(N.SIOCGIFMTU, name)
    line = "%s: flags=%s" % (name, snprintb(flags, N.IFF_NAMES))
    if mtu:
        line += " mtu %d" % mtu
    out = [line]
    mine = [r for r in rows if r[0] == name]
    for r in mine:
        if r[1] == N.AF_LINK and r[2]:
            out.append("\taddress: %s" % r[2])
    try:
        out.append("\tlinkstr: %s" % ifc.ioctl(N.SIOCGLINKSTR, name))
    except OSError:
        pass
    if verbose:
        d = dict(zip(N.IFDATA_FIELDS, ifc.ioctl(N.SIOCGIFDATA, name)))
        out.append("\tinput: " + _counts(d, (("ipackets", "packet"), ("ibytes", "byte"), ("imcasts", "multicast"),
                                             ("ierrors", "error"), ("iqdrops", "queue drop"),
                                             ("noproto", "unknown protocol")), 2))
        out.append("\toutput: " + _counts(d, (("opackets", "packet"), ("obytes", "byte"), ("omcasts", "multicast"),
                                              ("oerrors", "error"), ("collisions", "collision")), 2))
    first = True
    for r in mine:
        if r[1] != N.AF_INET:
            continue
        text = "\tinet %s%s netmask %s" % ("" if first else "alias ", r[2], mask_hex(r[3]))
        if r[4]:
            text += " broadcast %s" % r[4]
        for bit, word in ((N.IN_IFF_TENTATIVE, " tentative"), (N.IN_IFF_DUPLICATED, " duplicated"),
                          (N.IN_IFF_DETACHED, " detached")):
            if r[5] & bit:
                text += word
        out.append(text)
        first = False
    click.echo("\n".join(out))


def _counts(d, items, always):
    parts = []
    for i, (key, word) in enumerate(items):
        v = d[key]
        if i < always or v:
            parts.append("%d %s%s" % (v, word, "" if v == 1 else "s"))
    return ", ".join(parts)


def _fail(what, e):
    _cli.die(_cli.syscall_error(what, e))


def configure(ifc, name, words):
    """The address/flag/link words of `ifconfig interface ...`, applied in NetBSD's order."""
    addr = mask = broad = None
    alias = None
    updown = None
    mtu = linkstr = None
    unlink = False
    i = 0
    n = len(words)

    def arg():
        nonlocal i
        i += 1
        if i >= n:
            _cli.die("%s: missing argument" % words[i - 1])
        return words[i]

    while i < n:
        w = words[i]
        if w == "inet":
            pass
        elif w == "netmask":
            mask = arg()
        elif w == "broadcast":
            broad = arg()
        elif w in ("alias", "add"):
            alias = True
        elif w in ("-alias", "delete"):
            alias = False
        elif w == "up":
            updown = True
        elif w == "down":
            updown = False
        elif w == "mtu":
            mtu = arg()
        elif w == "linkstr":
            linkstr = arg()
        elif w == "-linkstr":
            unlink = True
        elif w == "prefixlen":
            mask = "/" + arg()
        elif addr is None and not w.startswith("-"):
            addr = w
        else:
            _cli.die("%s: bad value" % w)
        i += 1
    try:
        flags = ifc.ioctl(N.SIOCGIFFLAGS, name)
    except OSError as e:
        if addr is not None:
            _fail("commit_address: getifflags", e)
        _fail("SIOCGIFFLAGS", e)
    if unlink:
        try:
            ifc.ioctl(N.SIOCSLINKSTR, (name, None))
        except OSError as e:
            _fail("SIOCSLINKSTR", e)
    if linkstr is not None:
        try:
            ifc.ioctl(N.SIOCSLINKSTR, (name, linkstr))
        except OSError as e:
            _fail("SIOCSLINKSTR", e)
    if mtu is not None:
        if not mtu.isdigit():
            _cli.die("%s: bad value" % mtu)
        try:
            ifc.ioctl(N.SIOCSIFMTU, (name, int(mtu)))
        except OSError as e:
            _fail("SIOCSIFMTU", e)
    if updown is not None:
        nf = flags | N.IFF_UP if updown else flags & ~N.IFF_UP
        try:
            ifc.ioctl(N.SIOCSIFFLAGS, (name, nf))
        except OSError as e:
            _fail("SIOCSIFFLAGS", e)
    if addr is not None:
        if "/" in addr:
            addr, _, bits = addr.partition("/")
            mask = "/" + bits
        if mask is not None and mask.startswith("/"):
            try:
                b = int(mask[1:])
                if not 0 <= b <= 32:
                    raise ValueError
            except ValueError:
                _cli.die("%s: bad value" % mask[1:])
            m = (0xffffffff << (32 - b)) & 0xffffffff if b else 0
            mask = "%d.%d.%d.%d" % (m >> 24, (m >> 16) & 255, (m >> 8) & 255, m & 255)
        elif mask is not None and mask.startswith("0x"):
            try:
                m = int(mask, 16)
            except ValueError:
                _cli.die("%s: bad value" % mask)
            mask = "%d.%d.%d.%d" % (m >> 24, (m >> 16) & 255, (m >> 8) & 255, m & 255)
        for v in (addr, mask, broad):
            if v is not None and not _dotted(v):
                _cli.die("%s: bad value" % v)
        if alias is False:
            try:
                ifc.ioctl(N.SIOCDIFADDR, (name, addr))
            except OSError as e:
                _fail("SIOCDIFADDR", e)
            return
        if alias is None:
            try:
                old = ifc.ioctl(N.SIOCGIFADDR, name)
            except OSError:
                old = None
            if old is not None and old != addr:
                try:
                    ifc.ioctl(N.SIOCDIFADDR, (name, old))
                except OSError as e:
                    _fail("SIOCDIFADDR", e)
        try:
            ifc.ioctl(N.SIOCAIFADDR, (name, addr, broad, mask))
        except OSError as e:
            _fail("SIOCAIFADDR", e)


def wait_addresses(seconds, detached):
    """-w / -W: poll every 10 ms until no address is tentative (or detached); 0 = for ever."""
    import time
    ifc = Ifc()
    mask = N.IN_IFF_TENTATIVE | (N.IN_IFF_DETACHED if detached else 0)
    end = time.monotonic() + seconds if seconds else None
    while any(r[1] == N.AF_INET and r[5] & mask for r in ifc.ioctl(N.SIOCGIFCONF, None)):
        if end is not None and time.monotonic() >= end:
            _cli.die("timed out")
        time.sleep(0.01)


def _dotted(text):
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE,
               context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def cmd(argv):
    argv = list(argv)
    opts = set()
    while argv and argv[0].startswith("-") and len(argv[0]) > 1 and argv[0] not in ("-alias", "-linkstr"):
        a = argv.pop(0)
        if a == "--":
            break
        for ch in a[1:]:
            if ch not in "abdhlmsuvzCLwW":
                _cli.warn("unknown option -- %s" % ch)
                usage()
            opts.add(ch)
    verbose = "v" in opts
    if "w" in opts or "W" in opts:
        if not argv or not argv[0].isdigit() or len(argv) > 1 or len(opts) > 1:
            usage()
        wait_addresses(int(argv[0]), "W" in opts)
        return
    if "C" in opts:
        ifc = Ifc()
        click.echo(" ".join(ifc.ioctl(N.SIOCIFGCLONERS, None)))
        return
    if "a" in opts or "l" in opts:
        if argv and argv[0] != "inet":
            usage()
        ifc = Ifc()
        rows = ifc.ioctl(N.SIOCGIFCONF, None)
        names = []
        for r in rows:
            if r[0] not in names:
                names.append(r[0])
        sel = []
        for nm in names:
            fl = ifc.ioctl(N.SIOCGIFFLAGS, nm)
            if ("u" in opts and not fl & N.IFF_UP) or ("d" in opts and fl & N.IFF_UP) or \
                    ("b" in opts and not fl & N.IFF_BROADCAST):
                continue
            sel.append(nm)
        if "l" in opts:
            click.echo(" ".join(sel))
            return
        for nm in sel:
            status(ifc, nm, rows, verbose)
        return
    if not argv:
        usage()
    name = argv.pop(0)
    ifc = Ifc()
    if argv and argv[0] in ("create", "destroy"):
        create = argv[0] == "create"
        try:
            ifc.ioctl(N.SIOCIFCREATE if create else N.SIOCIFDESTROY, name)
        except OSError as e:
            msg = _cli.syscall_error(None, e)
            _cli.warn("clone_command: %s" % msg)
            _cli.die("exec_matches: %s" % msg)
        if len(argv) > 1 and create:
            configure(ifc, name, argv[1:])
        return
    if not argv:
        try:
            rows = ifc.ioctl(N.SIOCGIFCONF, None)
            status(ifc, name, rows, verbose)
        except OSError as e:
            _fail("SIOCGIFFLAGS %s" % name, e)
        return
    configure(ifc, name, argv)


def main():
    cmd.main()


if __name__ == "__main__":
    main()
