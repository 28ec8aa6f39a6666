"""rump.mount_ffs: mount an FFS disk of the rump kernel (RUMP_SERVER) on a
directory in its namespace, as NetBSD's mount_ffs(8)."""
import sys

import click

from rumptools.abi import errnos, mntflags
from rumptools.commands import _cli

USAGE = "usage: %s [-o options] special node"


def mount_flags(options, update=False, ro=False, rw=False, force=False):
    """The mount(2) flags of -o options and the -u/-r/-w/-f switches; dies on an
    unknown -o word."""
    flags = 0
    for o in options:
        try:
            flags = mntflags.parse_options(o, flags)
        except ValueError as e:
            _cli.die("-o %s: option not supported" % e)
    if update:
        flags |= mntflags.MNT_UPDATE
    if ro:
        flags |= mntflags.MNT_RDONLY
    if rw:
        flags &= ~mntflags.MNT_RDONLY
    if force:
        flags |= mntflags.MNT_FORCE
    return flags


def do_mount(fstype, special, node, flags):
    c = _cli.connect()
    try:
        c.mount(fstype, node, flags, special)
    except OSError as e:
        if e.errno == errnos.EINVAL and fstype == "ffs":
            _cli.die("%s on %s: incorrect super block" % (special, node))
        _cli.die("%s on %s: %s" % (special, node, errnos.host_text(e)))
    return 0


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-o", "options", multiple=True)
@click.option("-u", "update", is_flag=True)
@click.option("-r", "ro", is_flag=True)
@click.option("-w", "rw", is_flag=True)
@click.argument("args", nargs=-1)
@click.pass_context
def cli(ctx, options, update, ro, rw, args):
    if len(args) != 2:
        ctx.command.usage()
    flags = mount_flags(options, update, ro, rw)
    sys.exit(do_mount("ffs", args[0], args[1], flags))


def main():
    cli(prog_name="rump.mount_ffs")


if __name__ == "__main__":
    main()
