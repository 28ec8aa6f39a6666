"""rumphijack --path | rumphijack command [arg ...]: find or use the hijack library.

--path prints the absolute path of librumphijack.so, for LD_PRELOAD; with a
command, runs it with the library added in front of LD_PRELOAD (the
environment's RUMP_SERVER and RUMPHIJACK are passed on unchanged).
"""
import os

import click

from . import _cli
from ..hijack import library_path

USAGE = "Usage: %s --path\n       %s command [arg ...]"


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE,
               context_settings={"allow_interspersed_args": False})
@click.option("--path", "show_path", is_flag=True)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def cmd(show_path, command):
    lib = library_path()
    if not os.path.exists(lib):
        _cli.die("%s: library not built (reinstall the package with a C compiler)" % lib)
    if show_path:
        if command:
            cmd.usage()
        click.echo(lib)
        return
    if not command:
        cmd.usage()
    env = dict(os.environ)
    old = env.get("LD_PRELOAD")
    env["LD_PRELOAD"] = lib + (" " + old if old else "")
    try:
        os.execvpe(command[0], list(command), env)
    except OSError as e:
        _cli.die("%s: %s" % (command[0], e.strerror), 127 if isinstance(e, FileNotFoundError) else 126)


def main():
    cmd.main()
