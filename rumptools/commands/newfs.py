"""rump.newfs: make an FFS (UFS1 or UFS2) file system, with NetBSD newfs(8)'s
options, layout rules and summary lines.

With -F the special is a host image file (created, and grown to -s, as
NetBSD's newfs -F does); otherwise a disk in the rump kernel at RUMP_SERVER
(or a host file that exists).  The layout is rumptools.formats.ffs_geometry's,
the bytes ffs_mkfs's; this module parses, opens, and prints.
"""
import os
import sys
import time

import click

from rumptools.commands import _cli
from rumptools.commands._diskio import DiskError, open_disk
from rumptools.formats import ffs_geometry as geom
from rumptools.formats import ffs_mkfs
from rumptools.formats.ffs_superblock import magic_endian

PROG = "newfs"
USAGE = ("usage: %s [ fsoptions ] special-device\n"
         "where fsoptions are:\n"
         "\t-B byte order (`be' or `le')\n"
         "\t-F (create file system image in regular file)\n"
         "\t-N (do not create file system, just print out parameters)\n"
         "\t-O N (filesystem format: 0 ==> 4.3BSD, 1 ==> FFS, 2 ==> UFS2)\n"
         "\t-S secsize (sector size)\n"
         "\t-V verbose output level (default 3)\n"
         "\t-Z (pre-zero the image file)\n"
         "\t-a maximum contiguous blocks\n"
         "\t-b block size\n"
         "\t-d maximum extent size\n"
         "\t-e maximum blocks per file in a cylinder group\n"
         "\t-f frag size\n"
         "\t-g average file size\n"
         "\t-h average files per directory\n"
         "\t-i number of bytes per inode\n"
         "\t-m minimum free space %%\n"
         "\t-n number of inodes (overrides -i density)\n"
         "\t-o optimization preference (`space' or `time')\n"
         "\t-s file system size (sectors)")


class Fail(Exception):
    """newfs: <message>, exit 1."""


_MULT = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_num(text, what, lo, hi, sector_units=False, secsize=512):
    """A number with newfs's suffixes: none/s as given, b bytes, k m g t
    powers of 1024 (bytes).  With sector_units, bytes become sectors."""
    t = text.strip()
    mult, is_bytes = 1, False
    if t and t[-1].lower() in _MULT:
        mult, is_bytes, t = _MULT[t[-1].lower()], True, t[:-1]
    elif t and t[-1].lower() == "b":
        is_bytes, t = True, t[:-1]
    elif t and t[-1].lower() == "s":
        t = t[:-1]
    try:
        n = int(t, 10)
    except ValueError:
        raise Fail("%s `%s' is not a valid number." % (what, text)) from None
    n *= mult
    if sector_units and is_bytes:
        n //= secsize
    if n < lo:
        raise Fail("%s `%s' (%d) is less than the minimum (%d)." % (what, text, n, lo))
    if n > hi:
        raise Fail("%s `%s' (%d) is greater than the maximum (%d)." % (what, text, n, hi))
    return n


def _terminal_width():
    try:
        if os.isatty(1):
            return os.get_terminal_size(1).columns
    except OSError:
        pass
    return 80


def _open_target(special, fflag, size_sectors, secsize, nflag):
    """(disk or None, device size in sectors)."""
    if fflag:
        if nflag and not os.path.exists(special):
            return None, 0
        flags = os.O_RDONLY if nflag else os.O_RDWR | (os.O_CREAT if size_sectors else 0)
        try:
            fd = os.open(special, flags, 0o666)
        except OSError as e:
            raise Fail("%s: %s" % (special, e.strerror)) from None
        os.close(fd)
    try:
        disk = open_disk(special, PROG, writable=not nflag)
    except DiskError as e:
        raise Fail(str(e)) from None
    except OSError as e:
        raise Fail("%s: %s" % (special, e.strerror)) from None
    return disk, disk.size() // secsize


def run(o, special, out=None):
    out = out or sys.stdout
    secsize = parse_num(o["S"], "sector size", 512, 65536) if o["S"] else 512
    ufs = int(parse_num(o["O"], "format", 0, 2)) if o["O"] is not None else 1
    verbosity = parse_num(o["V"], "verbose", 0, 4) if o["V"] is not None else 3
    fssize_arg = None
    if o["s"] is not None:
        fssize_arg = parse_num(o["s"], "file system size", -(1 << 62), 1 << 62,
                               sector_units=True, secsize=secsize)
        if fssize_arg == 0:
            raise Fail("file system size `%s' (0) is less than the minimum (1)." % o["s"])
    minfree = parse_num(o["m"], "free space %", 0, 99) if o["m"] is not None else 5
    optim = None
    if o["o"] is not None:
        if o["o"] not in ("space", "time"):
            raise Fail("%s: unknown optimization preference: use `space' or `time'." % o["o"])
        optim = 1 if o["o"] == "space" else 0
    endian = "<"
    if o["B"] is not None:
        b = o["B"].lower()
        if b in ("be", "big"):
            endian = ">"
        elif b not in ("le", "little"):
            raise Fail("-B: `%s' is not a valid byte order" % o["B"])
    num = lambda k, what, lo, hi: parse_num(o[k], what, lo, hi) if o[k] is not None else 0
    params = dict(
        bsize=num("b", "block size", 4096, 65536),
        fsize=num("f", "fragment size", 512, 65536),
        density=num("i", "bytes per inode", 1, 0x7fffffff),
        num_inodes=num("n", "number of inodes", 1, 0x7fffffff),
        maxcontig=num("a", "maximum contiguous blocks", 1, 0x7fffffff),
        maxbpg=num("e", "blocks per file in a cylinder group", 1, 0x7fffffff),
        maxbsize=num("d", "maximum extent size", 0, 0x7fffffff),
    )
    avgfilesize = num("g", "average file size", 1, 0x7fffffff) or geom.DEFAULT_AVGFILESIZE
    avgfpdir = num("h", "expected files per directory", 1, 0x7fffffff) or geom.DEFAULT_AVGFPDIR

    disk, devsize = _open_target(special, o["F"], fssize_arg, secsize, o["N"])
    try:
        if fssize_arg is None:
            fssize = devsize
        elif fssize_arg < 0:
            fssize = devsize + fssize_arg
        else:
            fssize = fssize_arg
        if fssize <= 0:
            raise Fail("%s: could not determine the file system size; use -s" % special)
        if minfree < geom.DEFAULT_MINFREE and optim != 1:
            out.write("Warning: changing optimization to space because minfree "
                      "is less than %d%%\n" % geom.DEFAULT_MINFREE)
            optim = 1
        p = geom.Params(fssize, ufs=ufs, minfree=minfree, optim=optim, avgfilesize=avgfilesize,
                        avgfpdir=avgfpdir, sectorsize=secsize, endian=endian, **params)
        try:
            g = geom.compute(p)
        except geom.GeometryError as e:
            raise Fail(str(e)) from None
        g.endian = endian
        width = _terminal_width()
        out.write(geom.report(g, special, verbosity, o["N"], width))
        out.flush()
        if o["N"]:
            return 0
        if o["F"] and disk.sys is os:
            if os.fstat(disk.fd).st_size < fssize * secsize:
                os.ftruncate(disk.fd, fssize * secsize)
        elif fssize > devsize:
            raise Fail("%s: file system size %d is larger than the device (%d sectors)"
                       % (special, fssize, devsize))
        if o["Z"]:
            zero = bytes(1 << 20)
            for off in range(0, fssize * secsize, len(zero)):
                disk.write(off, zero[:min(len(zero), fssize * secsize - off)])
        write = disk.write
        end = fssize * secsize
        write(end - secsize, bytes(secsize))          # the last sector must be writable
        for off, kind in ffs_mkfs.zap_offsets(g, end):
            if kind == "zero":
                write(off, bytes(1536))
            else:
                if magic_endian(disk.read(off, 8192)):
                    write(off + 1372, bytes(4))
        ffs_mkfs.build(g, write, time.time(), os.urandom, os.geteuid(), os.getegid())
        disk.sync()
        return 0
    except OSError as e:
        raise Fail("%s: %s" % (special, e.strerror or e)) from None
    finally:
        if disk is not None:
            disk.close()


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-B", "B", default=None)
@click.option("-O", "O", default=None)
@click.option("-S", "S", default=None)
@click.option("-V", "V", default=None)
@click.option("-a", "a", default=None)
@click.option("-b", "b", default=None)
@click.option("-d", "d", default=None)
@click.option("-e", "e", default=None)
@click.option("-f", "f", default=None)
@click.option("-g", "g", default=None)
@click.option("-h", "h", default=None)
@click.option("-i", "i", default=None)
@click.option("-m", "m", default=None)
@click.option("-n", "n", default=None)
@click.option("-o", "o", default=None)
@click.option("-s", "s", default=None)
@click.option("-q", "q", default=None, help="accepted; quotas are not made")
@click.option("-F", "F", is_flag=True)
@click.option("-N", "N", is_flag=True)
@click.option("-Z", "Z", is_flag=True)
@click.argument("special", nargs=-1)
@click.pass_context
def cli(ctx, special, **o):
    if len(special) != 1:
        ctx.command.usage()
    try:
        status = run(o, special[0])
    except Fail as e:
        sys.stdout.flush()
        sys.stderr.write("%s: %s\n" % (PROG, e))
        status = 1
    sys.exit(status)


def main():
    cli(prog_name="rump.newfs")


if __name__ == "__main__":
    main()
