"""rump.arp: show and edit a rump kernel's ARP table (NetBSD's arp(8)).

    rump.arp [-n] hostname | -a [-n] | -d [-a | hostname] | -s hostname ether_addr [temp] [pub]
Output: `? (10.1.1.2) at b2:a0:..:.. on shmif0[ permanent][ published]`
(names are not looked up: `?`), specs/net.md §12.
"""
import socket
import sys

import click

from . import _cli
from ..abi import errnos
from ..abi import net as N
from ..formats.net import mac_aton

USAGE = ("usage: %s [-n] hostname\n"
         "usage: %s [-nv] -a\n"
         "usage: %s [-v] -d [-a|hostname]\n"
         "usage: %s -s hostname ether_addr [temp] [pub [proxy]]\n"
         "usage: %s -f filename")


def resolve(host):
    try:
        return socket.gethostbyname(host)
    except OSError:
        _cli.die("%s: Unknown host" % host)


def line(row):
    dst, _m, mac, flags, ifname = row[:5]
    text = "? (%s) at %s" % (dst, mac if mac else "(incomplete)")
    if ifname:
        text += " on %s" % ifname
    if flags & N.RTF_STATIC:
        text += " permanent"
    if flags & N.RTF_ANNOUNCE:
        text += " published"
    return text


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-a", "all_", is_flag=True)
@click.option("-n", "numeric", is_flag=True)
@click.option("-d", "delete", is_flag=True)
@click.option("-s", "set_", is_flag=True)
@click.option("-v", "verbose", is_flag=True)
@click.argument("args", nargs=-1)
def cmd(all_, numeric, delete, set_, verbose, args):
    client = _cli.connect()
    try:
        s = client.socket(N.AF_ROUTE, N.SOCK_RAW, 0)
        rows = client.ioctl(s, N.RTM_DUMPLL, None)
    except OSError as e:
        _cli.die(_cli.syscall_error("socket", e))
    if set_:
        if len(args) < 2:
            _cli.NetBSDCommand.usage(cmd)
        host, mac = args[0], args[1]
        addr = resolve(host)
        try:
            mac_aton(mac)
        except ValueError:
            _cli.die("invalid link-level address '%s'" % mac)
        flags = N.RTF_UP | N.RTF_HOST | N.RTF_LLDATA
        if "temp" not in args[2:]:
            flags |= N.RTF_STATIC
        if "pub" in args[2:]:
            flags |= N.RTF_ANNOUNCE
        try:
            client.ioctl(s, N.RTM_MSG, (N.RTM_ADD, flags, addr, None, mac, None))
        except OSError as e:
            _cli.die("writing to routing socket: %s" % _cli.syscall_error(None, e))
        if verbose:
            sys.stdout.write("%s (%s) added\n" % (host, addr))
        return
    if delete:
        targets = [r[0] for r in rows if not r[3] & N.RTF_STATIC or all_] if all_ else None
        if targets is None:
            if len(args) != 1:
                _cli.NetBSDCommand.usage(cmd)
            targets = [resolve(args[0])]
        for addr in targets:
            try:
                client.ioctl(s, N.RTM_MSG, (N.RTM_DELETE, N.RTF_LLDATA | N.RTF_HOST, addr, None, None, None))
            except OSError as e:
                if e.errno == errnos.ESRCH:
                    if all_:
                        continue
                    _cli.die("delete: can't locate %s" % (args[0] if args else addr))
                _cli.die("writing to routing socket: %s" % _cli.syscall_error(None, e))
            if verbose:
                sys.stdout.write("%s (%s) deleted\n" % (addr, addr))
        return
    if all_:
        sys.stdout.write("".join(line(r) + "\n" for r in rows))
        return
    if len(args) != 1:
        _cli.NetBSDCommand.usage(cmd)
    addr = resolve(args[0])
    mine = [r for r in rows if r[0] == addr]
    if not mine:
        _cli.die("%s (%s) -- no entry" % (args[0], addr))
    sys.stdout.write("".join(line(r) + "\n" for r in mine))


def main():
    cmd.main()


if __name__ == "__main__":
    main()
