"""rump.dumpfs: print an FFS image's superblock, summary and cylinder groups
in NetBSD dumpfs(8)'s format (specs/ffs.md section 10).  A host image file,
or with RUMP_SERVER a disk in the rump kernel."""
import sys
import time

import click

from rumptools.commands import _cli
from rumptools.commands._diskio import DiskError, open_disk
from rumptools.formats import ffs_superblock as fsb
from rumptools.formats.ffs_cg import CG

USAGE = "usage: %s [-acFijmsv] filesys | device [...]"


def _ctime(t):
    try:
        return time.ctime(t) + "\n"
    except (OverflowError, OSError, ValueError):
        return "(bad time %d)\n" % t


def bits_text(data, nbits):
    """Set bits as a or a-b, ", " between, ",\\n\\t" after every 6th."""
    items = []
    i = 0
    while i < nbits:
        if data[i >> 3] >> (i & 7) & 1:
            j = i
            while j + 1 < nbits and data[(j + 1) >> 3] >> ((j + 1) & 7) & 1:
                j += 1
            items.append("%d" % i if i == j else "%d-%d" % (i, j))
            i = j + 1
        else:
            i += 1
    out = []
    for k, it in enumerate(items):
        out.append(it)
        if k + 1 < len(items):
            out.append(",\n\t" if (k + 1) % 6 == 0 else ", ")
    return "".join(out) + "\n"


def superblock_text(sb, where, name, csums):
    o = []
    p = o.append
    p("file system: %s\n" % name)
    p("format\tFFSv%d\n" % sb.ufs)
    p("endian\t%s-endian\n" % ("little" if sb.endian == "<" else "big"))
    if where != fsb.SBLOCK_UFS1:
        p("location %d\t(-b %d)\n" % (where, where // fsb.DEV_BSIZE))
    p("magic\t%-8x\ttime\t%s" % (sb.magic, _ctime(sb.time)))
    p("superblock location\t%d\tid\t[ %x %x ]\n" % (sb.sblockloc, sb.id[0] & 0xffffffff,
                                                    sb.id[1] & 0xffffffff))
    if sb.is_ufs2:
        p("cylgrp\tdynamic\tinodes\tFFSv2\tsblock\tFFSv2\tfslevel 5\n")
    else:
        p("cylgrp\tdynamic\tinodes\t4.4BSD\tsblock\tFFSv2\tfslevel 4\n")
    ndir, nbfree, nifree, nffree = sb.totals()
    p("nbfree\t%d\tndir\t%d\tnifree\t%d\tnffree\t%d\n" % (nbfree, ndir, nifree, nffree))
    p("ncg\t%d\tsize\t%d\tblocks\t%d\n" % (sb.ncg, sb.size, sb.dsize))
    p("bsize\t%d\tshift\t%d\tmask\t0x%08x\n" % (sb.bsize, sb.bshift, sb.bmask & 0xffffffff))
    p("fsize\t%d\tshift\t%d\tmask\t0x%08x\n" % (sb.fsize, sb.fshift, sb.fmask & 0xffffffff))
    p("frag\t%d\tshift\t%d\tfsbtodb\t%d\n" % (sb.frag, sb.fragshift, sb.fsbtodb))
    p("bpg\t%d\tfpg\t%d\tipg\t%d\n" % (sb.fpg // sb.frag, sb.fpg, sb.ipg))
    p("minfree\t%d%%\toptim\t%s\tmaxcontig %d\tmaxbpg\t%d\n"
      % (sb.minfree, "space" if sb.optim == fsb.FS_OPTSPACE else "time",
         sb.maxcontig, sb.maxbpg))
    p("symlinklen %d\tcontigsumsize %d\n" % (sb.maxsymlinklen, sb.contigsumsize))
    p("maxfilesize 0x%016x\n" % sb.maxfilesize)
    p("nindir\t%d\tinopb\t%d\n" % (sb.nindir, sb.inopb))
    p("avgfilesize %d\tavgfpdir %d\n" % (sb.avgfilesize, sb.avgfpdir))
    p("sblkno\t%d\tcblkno\t%d\tiblkno\t%d\tdblkno\t%d\n"
      % (sb.sblkno, sb.cblkno, sb.iblkno, sb.dblkno))
    p("sbsize\t%d\tcgsize\t%d\n" % (sb.sbsize, sb.cgsize))
    p("csaddr\t%d\tcssize\t%d\n" % (sb.csaddr, sb.cssize))
    p("cgrotor\t%d\tfmod\t%d\tronly\t%d\tclean\t0x%02x\n"
      % (sb.cgrotor, sb.fmod, sb.ronly, sb.clean))
    p("wapbl version 0x%x\tlocation %u\tflags 0x%x\n"
      % (sb.journal_version, sb.journal_location, sb.journal_flags))
    p("wapbl loc0 %d\tloc1 %d\tloc2 %d\tloc3 %d\n" % tuple(sb.journallocs))
    words = [n for bit, n in fsb.FLAG_NAMES if sb.flags & bit]
    p("flags\t%s\n" % ("".join(w + " " for w in words) if words else "none"))
    p("fsmnt\t%s\n" % sb.mountpoint)
    p("volname\t%s\tswuid\t%d\n" % (sb.volname.split(b"\0", 1)[0].decode("utf-8", "replace"),
                                    sb.swuid))
    if csums is not None:
        p("cs[].cs_(nbfree,ndir,nifree,nffree):\n\t")
        for i, (nd, nb, ni, nf) in enumerate(csums):
            if i and i % 4 == 0:
                p("\n\t")
            p("(%d,%d,%d,%d) " % (nb, nd, ni, nf))
        p("\n")
    return "".join(o)


def cg_text(sb, c, cg, tell):
    o = []
    p = o.append
    p("\ncg %d:\n" % c)
    p("magic\t%x\ttell\t%x\ttime\t%s" % (cg.magic, tell, _ctime(cg.time)))
    p("cgx\t%d\tniblk\t%d\tndblk\t%d\n" % (cg.cgx, cg.niblk, cg.ndblk))
    nd, nb, ni, nf = cg.cs
    p("nbfree\t%d\tndir\t%d\tnifree\t%d\tnffree\t%d\n" % (nb, nd, ni, nf))
    p("rotor\t%d\tirotor\t%d\tfrotor\t%d\n" % (cg.rotor, cg.irotor, cg.frotor))
    p("frsum" + "".join("\t%d" % cg.frsum[i] for i in range(1, sb.frag)) + "\n")
    p("sum of frsum: %d\n" % sum(i * cg.frsum[i] for i in range(1, sb.frag)))
    if sb.contigsumsize > 0 and cg.clustersumoff:
        sums = cg.clustersum(sb.contigsumsize + 1)
        for i in range(1, sb.contigsumsize, 8):
            hi = min(i + 7, sb.contigsumsize - 1)
            p("clusters %d-%d:" % (i, hi) + "".join("\t%d" % sums[j] for j in range(i, hi + 1))
              + "\n")
        p("clusters size %d and over: %d\n" % (sb.contigsumsize, sums[sb.contigsumsize]))
        p("clusters free:\t" + bits_text(cg.buf[cg.clusteroff:], cg.nclusterblks))
    p("iused:\t" + bits_text(cg.buf[cg.iusedoff:], sb.ipg))
    p("free:\t" + bits_text(cg.buf[cg.freeoff:], cg.ndblk))
    return "".join(o)


def dump(disk, name, out, show_sb=True, show_cg=True):
    try:
        sb, where = fsb.find_superblock(disk.read)
    except fsb.SuperblockError:
        _cli.warn("%s: could not find superblock, skipped" % name)
        return 1
    cs = fsb.unpack_csums(disk.read(sb.csaddr * sb.fsize, sb.cssize), sb.endian, sb.ncg)
    if show_sb:
        out.write(superblock_text(sb, where, name, cs))
    if show_cg:
        for c in range(sb.ncg):
            tell = sb.cgtod(c) * sb.fsize
            cg = CG(disk.read(tell, sb.cgsize), sb.endian)
            if len(cg.buf) < sb.cgsize or cg.check(sb, c):
                _cli.warn("%s: cg %d: bad magic number" % (name, c))
                return 1
            out.write(cg_text(sb, c, cg, tell))
    return 0


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-a", "a", is_flag=True)
@click.option("-c", "c", is_flag=True)
@click.option("-F", "F", is_flag=True)
@click.option("-i", "i", is_flag=True)
@click.option("-j", "j", is_flag=True)
@click.option("-m", "m", is_flag=True)
@click.option("-s", "s", is_flag=True)
@click.option("-v", "v", is_flag=True)
@click.argument("names", nargs=-1)
@click.pass_context
def cli(ctx, names, **o):
    if not names:
        ctx.command.usage()
    anyflag = o["a"] or o["c"] or o["i"] or o["j"] or o["m"] or o["s"]
    show_sb = not anyflag or o["s"] or o["a"]
    show_cg = not anyflag or o["c"] or o["a"]
    status = 0
    for name in names:
        try:
            disk = open_disk(name, "dumpfs")
        except (DiskError, OSError) as e:
            _cli.warn("%s: %s" % (name, getattr(e, "strerror", None) or e))
            status = 1
            continue
        with disk:
            try:
                status |= dump(disk, name, sys.stdout, show_sb, show_cg)
            except OSError as e:
                _cli.warn("%s: %s" % (name, e.strerror or e))
                status = 1
    sys.exit(status)


def main():
    cli(prog_name="rump.dumpfs")


if __name__ == "__main__":
    main()
