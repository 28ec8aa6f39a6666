"""rump.df: free space of the rump kernel's file systems (RUMP_SERVER) in
NetBSD df(1)'s columns and units (BLOCKSIZE, -k -m -g -h -i -P -n -l -t)."""
import os
import sys

import click

from rumptools.abi import errnos, mntflags
from rumptools.commands import _cli

USAGE = "Usage: %s [-agln] [-Ghkm|-ihkm|-Pk] [-t type] [file | file_system ...]"


def getbsize(environ):
    """(header, blocksize) from BLOCKSIZE, as getbsize(3)."""
    text = environ.get("BLOCKSIZE", "")
    size = 512
    if text:
        mult = {"k": 1024, "m": 1 << 20, "g": 1 << 30}.get(text[-1:].lower(), 1)
        num = text[:-1] if mult != 1 else text
        try:
            size = int(num or "1") * mult
        except ValueError:
            size = 512
        size = max(512, min(size, 1 << 30))
    if size >= 1 << 30 and size % (1 << 30) == 0:
        return "%dG-blocks" % (size >> 30), size
    if size >= 1 << 20 and size % (1 << 20) == 0:
        return "%dM-blocks" % (size >> 20), size
    if size >= 1024 and size % 1024 == 0:
        return "%dK-blocks" % (size >> 10), size
    return "%d-blocks" % size, size


def fsbtoblk(num, fsbs, bs):
    if fsbs and fsbs < bs:
        return num // (bs // fsbs)
    return num * (fsbs // bs)


def pct(used, total):
    return "%d" % (used * 100 // total)


def human(nbytes):
    v = nbytes * 100
    i = 0
    while v >= 99950 and i < 6:
        v //= 1024
        i += 1
    suffix = "BKMGTPE"[i]
    if i and v < 995:
        t = (v + 5) // 10
        return "%d.%d%s" % (t // 10, t % 10, suffix)
    return "%d%s" % ((v + 50) // 100, suffix)


def report(stats, iflag=False, hflag=False, pflag=False, unit=None, environ=None):
    environ = os.environ if environ is None else environ
    out = []
    maxwidth = max([len(s[13]) for s in stats] + [12])
    if unit == 1024:
        header, bs = ("1024-blocks" if pflag else "1K-blocks"), 1024
    elif unit == 1 << 20:
        header, bs = "1M-blocks", 1 << 20
    elif unit == 1 << 30:
        header, bs = "1G-blocks", 1 << 30
    elif hflag:
        header, bs = "Size", 512
    else:
        header, bs = getbsize(environ)
    if pflag:
        if bs not in (512, 1024):
            raise ValueError("non-standard block size incompatible with -P")
        out.append("Filesystem %s Used Available Capacity Mounted on\n" % header)
    else:
        w = maxwidth - (len(header) - 10)
        line = "%-*.*s %s       Used      Avail %%Cap" % (w, w, "Filesystem", header)
        if iflag:
            line += "    iUsed   iAvail %iCap"
        out.append(line + " Mounted on\n")
    for s in stats:
        (bsize, frsize, blocks, bfree, bavail, files, ffree) = s[:7]
        used = blocks - bfree
        availblks = bavail + used
        cap = "100" if availblks == 0 else pct(used, availblks)
        if pflag:
            out.append("%s %d %d %d %s%% %s\n" % (
                s[13], fsbtoblk(blocks, frsize, bs), fsbtoblk(used, frsize, bs),
                fsbtoblk(bavail, frsize, bs), cap, s[12]))
            continue
        line = "%-*.*s " % (maxwidth, maxwidth, s[13])
        if hflag:
            line += "%s %6s" % ("   ", human(blocks * frsize))
            line += "%s %6s" % ("    ", human(used * frsize))
            line += "%s %6s" % ("    ", human(bavail * frsize))
        else:
            line += "%10d %10d %10d" % (fsbtoblk(blocks, frsize, bs), fsbtoblk(used, frsize, bs),
                                        fsbtoblk(bavail, frsize, bs))
        line += " %3s%%" % cap
        if iflag:
            iused = files - ffree
            icap = ("  0" if iused == 0 else "100") if files == 0 else pct(iused, files)
            line += " %8d %8d %4s%%" % (iused, ffree, icap)
        out.append(line + " %s\n" % s[12])
    return "".join(out)


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-a", "aflag", is_flag=True)
@click.option("-G", "gflag", is_flag=True)
@click.option("-g", "giga", is_flag=True)
@click.option("-h", "hflag", is_flag=True)
@click.option("-i", "iflag", is_flag=True)
@click.option("-k", "kilo", is_flag=True)
@click.option("-l", "lflag", is_flag=True)
@click.option("-m", "mega", is_flag=True)
@click.option("-n", "nflag", is_flag=True)
@click.option("-P", "pflag", is_flag=True)
@click.option("-t", "types", default=None)
@click.argument("files", nargs=-1)
@click.pass_context
def cli(ctx, aflag, gflag, giga, hflag, iflag, kilo, lflag, mega, nflag, pflag, types, files):
    if pflag and (iflag or hflag or mega or giga):
        ctx.command.usage()
    unit = (1 << 30) if giga else (1 << 20) if mega else 1024 if kilo else None
    c = _cli.connect()
    stats = []
    status = 0
    if files:
        for f in files:
            try:
                stats.append(tuple(c.statvfs(f, 1)))
            except OSError as e:
                _cli.warn("%s: %s" % (f, errnos.host_text(e)))
                status = 1
    else:
        try:
            stats = [tuple(m) for m in c.getvfsstat(1)]
        except OSError as e:
            _cli.die("getvfsstat: %s" % errnos.host_text(e))
        if not aflag:
            stats = [s for s in stats if not s[9] & mntflags.MNT_IGNORE]
        if lflag:
            stats = [s for s in stats if s[9] & mntflags.MNT_LOCAL]
        if types:
            want = types[2:].split(",") if types.startswith("no") else types.split(",")
            neg = types.startswith("no")
            stats = [s for s in stats if (s[11] in want) != neg]
    if stats:
        try:
            sys.stdout.write(report(stats, iflag, hflag, pflag, unit))
        except ValueError as e:
            _cli.die(str(e))
    sys.exit(status)


def main():
    cli(prog_name="rump.df")


if __name__ == "__main__":
    main()
