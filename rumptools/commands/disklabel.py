"""rump.disklabel: show, edit (-e) or restore (-R) the NetBSD disklabel of a
disk image on the host, or of a disk inside a rump kernel (RUMP_SERVER).

Where the label is looked for (as disklabel(8) does in file mode): the 8 KiB
starting at sector LABELSECTOR (1) of the disk, then, if the MBR has a
NetBSD (0xA9) partition, the 8 KiB starting at that partition's start + 1;
in each, every 4-byte offset.  Byte-swapped and corrupt labels are skipped.
A new label is written where the old one was found, or else at the NetBSD
MBR partition's start + 1 sector, or else at sector 1.

The disk is reached only through rumptools.commands._diskio, so the same
code serves host image files and disks inside a rump kernel.
"""
import os
import sys

import click

from rumptools.commands import _cli
from rumptools.commands._diskio import DiskError, open_disk
from rumptools.formats import disklabel as dl
from rumptools.formats.disklabel_text import (LabelTextError, check_label,
                                              format_label, parse_label)

PROG = "rump.disklabel"
USAGE = (
    "usage: %(p)s [-FIrv] disk\t\t\t(to read label)\n"
    "       %(p)s -e [-FIrv] disk\t\t(to edit label)\n"
    "       %(p)s -R [-Frv] disk protofile\t(to restore label)\n"
    "       %(p)s -l\t\t\t\t(to show all known file system types)\n"
) % {"p": PROG}


# Machines (-M) whose labels sit where this command reads and writes them:
# little-endian, LABELSECTOR 1, LABELOFFSET 0, 16 partitions, raw partition d.
MACHINES = ("amd64", "i386")


class Fail(Exception):
    """Stop with `rump.disklabel: <message>` and exit status 1."""


def _warn(message):
    click.echo("%s: %s" % (PROG, message), err=True)


def _encode(text):
    return text.encode("utf-8", "surrogateescape")


def _decode(raw):
    return raw.decode("utf-8", "surrogateescape")


def _os_fail(exc, name):
    from rumptools.abi.errnos import host_text
    return Fail("%s: %s" % (name, host_text(exc)))


# ---------------------------------------------------------------- locating

def _label_sectors(disk):
    """Sectors where a label may start, and where a new one goes."""
    sectors = [dl.LABELSECTOR]
    mbr = dl.mbr_netbsd_partition(disk.read(0, dl.DEV_BSIZE))
    if mbr is not None and mbr[0] + dl.LABELSECTOR not in sectors:
        sectors.append(mbr[0] + dl.LABELSECTOR)
    return sectors


_MAGIC_LE = dl.DISKMAGIC.to_bytes(4, "little")


def read_label(disk, verbose=False):
    """(label, byte position) of the first usable label on disk, or None."""
    for sector in _label_sectors(disk):
        area = disk.read(sector * dl.DEV_BSIZE, dl.BBSIZE)
        for off, found in dl.candidates(area):
            if area[off:off + 4] != _MAGIC_LE:
                _warn("ignoring byteswapped label at offset %d from sector %u" % (off, sector))
                continue
            if isinstance(found, dl.DisklabelError) or found.npartitions > dl.MAXPARTITIONS:
                if verbose:
                    _warn("corrupt label found at offset %d in sector %u" % (off, sector))
                continue
            return found, sector * dl.DEV_BSIZE + off
    return None


def default_position(disk):
    return _label_sectors(disk)[-1] * dl.DEV_BSIZE


def write_label(disk, label, position):
    disk.write(position, dl.pack(label))
    disk.sync()


# ---------------------------------------------------------------- actions

def _show(disk, label):
    click.echo(_encode(format_label(label, disk.path)), nl=False)
    problems = check_label(label)
    for m in problems:
        _warn(m)
    return 1 if any(m.error for m in problems) else 0


def _run_editor(path):
    import subprocess
    editor = os.environ.get("EDITOR") or "vi"
    sys.stdout.flush()
    return subprocess.call(["/bin/sh", "-c", editor + ' "$1"', "sh", path])


def _edit(disk, label, position):
    """Edit label in $EDITOR until it parses (or the user gives up), then write it."""
    import tempfile
    fd, tmp = tempfile.mkstemp(prefix="EdDk.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_encode(format_label(label, disk.path)))
        while True:
            status = _run_editor(tmp)
            if status != 0:
                raise Fail("editor exited with status %d; label not changed" % status)
            with open(tmp, "rb") as f:
                text = _decode(f.read())
            try:
                new = parse_label(text, label, report=_warn)
            except LabelTextError:
                click.echo("re-edit the label? [y]: ", nl=False)
                answer = sys.stdin.readline()
                if not answer or answer[0] in "nN":
                    return 1
                continue
            write_label(disk, new, position)
            return 0
    finally:
        os.unlink(tmp)


def _restore(disk, protofile, position):
    try:
        with open(protofile, "rb") as f:
            text = _decode(f.read())
    except OSError as e:
        raise _os_fail(e, protofile) from None
    try:
        new = parse_label(text, None, report=_warn)
    except LabelTextError:
        return 1
    write_label(disk, new, position)
    return 0


def _list_fstypes():
    click.echo("Supported file system types:")
    for number, name in enumerate(dl.FSTYPENAMES):
        click.echo("  %2d  %s" % (number, name))
    return 0


def run(args, edit=False, restore=False, init=False, verbose=False):
    """Do one invocation; returns the exit status or raises Fail."""
    name = args[0]
    try:
        disk = open_disk(name, PROG, writable=edit or restore)
    except DiskError as e:
        raise Fail(str(e)) from None
    except OSError as e:
        raise _os_fail(e, name) from None
    try:
        with disk:
            found = read_label(disk, verbose)
            position = found[1] if found else default_position(disk)
            if restore:
                return _restore(disk, args[1], position)
            if found is None and not init:
                raise Fail("could not read existing label")
            label = found[0] if found else dl.default_label(disk.size() // dl.DEV_BSIZE)
            if edit:
                return _edit(disk, label, position)
            return _show(disk, label)
    except OSError as e:
        raise _os_fail(e, name) from None


# ---------------------------------------------------------------- command line

@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE.rstrip("\n"))
@click.option("-e", "edit", is_flag=True, help="edit the label in $EDITOR")
@click.option("-R", "restore", is_flag=True, help="restore the label from protofile")
@click.option("-I", "init", is_flag=True, help="start from a default label if none exists")
@click.option("-l", "list_types", is_flag=True, help="list file system types")
@click.option("-r", "raw", is_flag=True, help="accepted; disks are always read directly")
@click.option("-F", "file_mode", is_flag=True, help="accepted; image files imply it")
@click.option("-v", "verbose", is_flag=True, help="report corrupt labels skipped")
@click.option("-M", "machine", metavar="machine", help="target machine (amd64 or i386)")
@click.argument("args", nargs=-1)
@click.pass_context
def cli(ctx, edit, restore, init, list_types, raw, file_mode, verbose, machine, args):
    if machine is not None and machine not in MACHINES:
        _warn("-M %s: unsupported machine (labels of %s only)" % (machine, " and ".join(MACHINES)))
        sys.exit(1)
    if list_types:
        wanted_args = 0
    elif restore:
        wanted_args = 2
    else:
        wanted_args = 1
    if len(args) != wanted_args or (edit and restore) or (list_types and (edit or restore)):
        ctx.command.usage()
    if list_types:
        sys.exit(_list_fstypes())
    try:
        status = run(args, edit=edit, restore=restore, init=init, verbose=verbose)
    except Fail as e:
        _warn(e)
        status = 1
    sys.exit(status)


def main():
    cli(prog_name=PROG)


if __name__ == "__main__":
    main()
