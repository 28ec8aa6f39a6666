"""rump.modstat [-Aaen] [name]: list the kernel's modules (rump components)."""
import click

from . import _cli
from ..abi.syscalls import MODCTL_STAT

USAGE = "Usage: %s [-Aaen] [name]"


def format_table(rows, addresses=False):
    """rows: (name, class, source, refs, requires); NetBSD's columns, sorted by name."""
    width = max([16] + [len(r[0]) for r in rows])      # NetBSD's column is at least 16 wide
    head = ["%-*s" % (width, "NAME"), "%-8s" % "CLASS", "%-8s" % "SOURCE", "%-4s" % "FLAG", "%-5s" % "REFS"]
    if addresses:
        head.append("%-16s" % "ADDRESS")
    head += ["%-7s" % "SIZE", "REQUIRES"]
    lines = [" ".join(head) + " "]
    for name, klass, source, refs, requires in sorted(rows):
        cols = ["%-*s" % (width, name), "%-8s" % klass, "%-8s" % source, "%-4s" % "-", "%-5d" % refs]
        if addresses:
            cols.append("%-16s" % "-")
        cols += ["%-7s" % "-", requires or "-"]
        lines.append(" ".join(cols))
    return "\n".join(lines) + "\n"


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-A", "autoload", is_flag=True)
@click.option("-a", "addresses", is_flag=True)
@click.option("-e", "enabled", is_flag=True)
@click.option("-n", "numeric", is_flag=True)
@click.argument("name", required=False)
def cmd(autoload, addresses, enabled, numeric, name):
    client = _cli.connect()
    if autoload or enabled:
        # rump kernels load modules only when asked: no autoloading, loading enabled
        if autoload:
            click.echo("Module autoloading is disabled")
        if enabled:
            click.echo("Module loading is enabled")
        return
    try:
        rows = client.modctl(MODCTL_STAT, None)
    except OSError as e:
        _cli.die(_cli.syscall_error("modctl(MODCTL_STAT)", e))
    rows = [r[:5] for r in rows if name is None or name in (r[0], r[5])]
    # a name that is not loaded leaves the header alone, exit status 0, as NetBSD's modstat
    click.echo(format_table(rows, addresses), nl=False)


def main():
    cmd.main()


if __name__ == "__main__":
    main()
