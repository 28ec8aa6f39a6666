"""rump.fsck_ffs: NetBSD's fsck_ffs(8) for FFS images: with -F on a host image
file, otherwise on a disk in the rump kernel at RUMP_SERVER (or a host file
that exists).  The checking is rumptools.fsck's; this module parses and opens.

Exit status as NetBSD: 0 ok, 1 usage, 2 unresolved, 8 failed.
"""
import sys

import click

from rumptools.commands import _cli
from rumptools.commands._diskio import DiskError, open_disk

USAGE = ("usage: %s [-adFfPpqUX] [-B byteorder] [-b block] [-c level] "
         "[-m mode]\n\t[-x snap-backup] [-y | -n] filesystem ...")


def _ask_terminal(question):
    return sys.stdin.readline()[:1] in ("y", "Y")


def check_one(name, o, out):
    from rumptools.fsck.check import run
    writable = not o["n"]
    try:
        disk = open_disk(name, "fsck_ffs", writable=writable)
    except (DiskError, OSError) as e:
        if writable and isinstance(e, PermissionError):
            try:
                disk = open_disk(name, "fsck_ffs", writable=False)
                writable = False
            except (DiskError, OSError) as e2:
                out.write("Can't open %s: %s\n" % (name, getattr(e2, "strerror", e2)))
                return 8
        else:
            out.write("Can't open %s: %s\n" % (name, getattr(e, "strerror", None) or e))
            return 8
    answer = None
    if not o["n"] and not o["y"] and not o["p"] and sys.stdin.isatty():
        answer = _ask_terminal
    try:
        with disk:
            return run(disk, name, out, nflag=o["n"], yflag=o["y"], preen=o["p"],
                       force=o["f"], writable=writable,
                       sbsector=int(o["b"]) if o["b"] else None, answer=answer)
    except OSError as e:
        out.write("%s: %s\n" % (name, e.strerror or e))
        return 8


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-a", "a", is_flag=True)
@click.option("-d", "d", is_flag=True)
@click.option("-F", "F", is_flag=True)
@click.option("-f", "f", is_flag=True)
@click.option("-P", "P", is_flag=True)
@click.option("-p", "p", is_flag=True)
@click.option("-q", "q", is_flag=True)
@click.option("-U", "U", is_flag=True)
@click.option("-X", "X", is_flag=True)
@click.option("-y", "y", is_flag=True)
@click.option("-n", "n", is_flag=True)
@click.option("-B", "B", default=None)
@click.option("-b", "b", default=None)
@click.option("-c", "c", default=None)
@click.option("-m", "m", default=None)
@click.option("-x", "x", default=None)
@click.argument("filesystems", nargs=-1)
@click.pass_context
def cli(ctx, filesystems, **o):
    if not filesystems or (o["y"] and o["n"]):
        ctx.command.usage()
    if o["b"] is not None and not o["b"].isdigit():
        _cli.die("-b: bad block number `%s'" % o["b"], 8)
    if o["c"] is not None:
        _cli.die("-c: conversion between file system levels is not supported", 8)
    status = 0
    for name in filesystems:
        status = max(status, check_one(name, o, sys.stdout))
        sys.stdout.flush()
    sys.exit(status)


def main():
    cli(prog_name="rump.fsck_ffs")


if __name__ == "__main__":
    main()
