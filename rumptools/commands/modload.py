"""rump.modload [-f] [-b var=bool] [-i var=int] [-s var=str] [-P path] module: add a component."""
import click

from . import _cli
from ..abi.syscalls import MODCTL_LOAD

USAGE = "Usage: %s [-f] [-P path] [-b var=boolean] [-i var=integer] [-s var=string] module"


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-f", "force", is_flag=True)
@click.option("-P", "path", metavar="path")
@click.option("-b", "bools", multiple=True)
@click.option("-i", "ints", multiple=True)
@click.option("-s", "strs", multiple=True)
@click.argument("module")
def cmd(force, path, bools, ints, strs, module):
    client = _cli.connect()
    try:
        client.modctl(MODCTL_LOAD, module)
    except OSError as e:
        detail = getattr(e, "detail", None)
        _cli.die("%s: %s" % (detail or module, _cli.syscall_error(None, e)))


def main():
    cmd.main()


if __name__ == "__main__":
    main()
