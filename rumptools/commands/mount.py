"""rump.mount: list the mounts of the rump kernel (RUMP_SERVER) as NetBSD's
mount(8) does with no arguments (`/dk on /mnt type ffs (local)`), or mount
with -t ffs [-o options] special node."""
import sys

import click

from rumptools.abi import errnos, mntflags
from rumptools.commands import _cli
from rumptools.commands.mount_ffs import do_mount, mount_flags

USAGE = ("usage: %s [-Aadfruvw] [-t type]\n"
         "       %s [-dfruvw] special | node\n"
         "       %s [-dfruvw] [-o options] [-t type] special node")


def format_mount(m):
    words = mntflags.words(m[9])
    text = "%s on %s type %s" % (m[13], m[12], m[11])
    return text + (" (%s)" % ", ".join(words) if words else "")


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-t", "fstype", default=None)
@click.option("-o", "options", multiple=True)
@click.option("-u", "update", is_flag=True)
@click.option("-r", "ro", is_flag=True)
@click.option("-w", "rw", is_flag=True)
@click.option("-v", "verbose", is_flag=True)
@click.option("-d", "dry", is_flag=True)
@click.option("-f", "force", is_flag=True)
@click.option("-a", "all_", is_flag=True)
@click.option("-A", "all2", is_flag=True)
@click.argument("args", nargs=-1)
@click.pass_context
def cli(ctx, fstype, options, update, ro, rw, verbose, dry, force, all_, all2, args):
    if not args:
        c = _cli.connect()
        try:
            mounts = c.getvfsstat(1)
        except OSError as e:
            _cli.die("getvfsstat: %s" % errnos.host_text(e))
        for m in mounts:
            if fstype is None or m[11] in fstype.split(","):
                click.echo(format_mount(m))
        sys.exit(0)
    if len(args) != 2 or (fstype or "ffs") != "ffs":
        if len(args) == 2:
            _cli.die("%s: file system type not supported" % fstype)
        ctx.command.usage()
    flags = mount_flags(options, update, ro, rw, force=force)
    if dry:
        sys.exit(0)
    sys.exit(do_mount("ffs", args[0], args[1], flags))


def main():
    cli(prog_name="rump.mount")


if __name__ == "__main__":
    main()
