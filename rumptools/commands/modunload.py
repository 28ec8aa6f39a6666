"""rump.modunload module: remove a component that nothing else needs."""
import click

from . import _cli
from ..abi.syscalls import MODCTL_UNLOAD

USAGE = "Usage: %s module"


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.argument("module")
def cmd(module):
    client = _cli.connect()
    try:
        client.modctl(MODCTL_UNLOAD, module)
    except OSError as e:
        _cli.die("%s: %s" % (module, _cli.syscall_error(None, e)))


def main():
    cmd.main()


if __name__ == "__main__":
    main()
