"""rump.umount: unmount file systems in the rump kernel (RUMP_SERVER), as
NetBSD's umount(8).  -R (take the path as given) is what it always does."""
import sys

import click

from rumptools.abi import errnos, mntflags
from rumptools.commands import _cli

USAGE = "usage: %s [-fvFR] [-t fstypelist] special | node\n       %s -a[fvF] [-h host] [-t fstypelist]"


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-f", "force", is_flag=True)
@click.option("-R", "raw", is_flag=True)
@click.option("-v", "verbose", is_flag=True)
@click.option("-F", "fake", is_flag=True)
@click.option("-a", "all_", is_flag=True)
@click.option("-t", "types", default=None)
@click.argument("paths", nargs=-1)
@click.pass_context
def cli(ctx, force, raw, verbose, fake, all_, types, paths):
    if not paths and not all_:
        ctx.command.usage()
    c = _cli.connect()
    if all_:
        mounts = [m for m in c.getvfsstat(1)[1:]]
        paths = tuple(m[12] for m in reversed(mounts)
                      if types is None or m[11] in types.split(","))
    status = 0
    for p in paths:
        target = p
        try:
            for m in c.getvfsstat(1):
                if m[13] == p and m[12] != "/":
                    target = m[12]              # a special names its mount point
        except OSError:
            pass
        if fake:
            continue
        try:
            c.unmount(target, mntflags.MNT_FORCE if force else 0)
            if verbose:
                click.echo("%s: unmount from %s" % (p, target))
        except OSError as e:
            _cli.warn("%s: %s" % (p, errnos.host_text(e)))
            status = 1
    sys.exit(status)


def main():
    cli(prog_name="rump.umount")


if __name__ == "__main__":
    main()
