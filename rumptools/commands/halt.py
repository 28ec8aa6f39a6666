"""rump.halt [-dhn]: reboot(2) a rump kernel server: -d dump, -h halt without exiting, -n no sync."""
import click

from . import _cli
from ..abi.syscalls import RB_DUMP, RB_HALT, RB_NOSYNC

USAGE = "usage: %s [-dhn]"


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-d", "dump", is_flag=True)
@click.option("-h", "halt", is_flag=True)
@click.option("-n", "nosync", is_flag=True)
def cmd(dump, halt, nosync):
    howto = (RB_DUMP if dump else 0) | (RB_HALT if halt else 0) | (RB_NOSYNC if nosync else 0)
    client = _cli.connect("init failed")
    try:
        client.reboot(howto, None)
    except OSError as e:
        _cli.die(_cli.syscall_error("reboot", e))


def main():
    cmd.main()


if __name__ == "__main__":
    main()
