"""newfs's layout rules for FFS (NetBSD 7.99.34 mkfs.c, specs/ffs.md section 7):
from a size in sectors and the options, the geometry of the file system, and
the summary lines newfs prints.  Pure: no I/O.

Every quantity is in fragments unless its name says otherwise.
"""
import struct

from .ffs_cg import cgsize_bytes, howmany
from .ffs_superblock import MAXBSIZE, MINBSIZE, SBLOCK_UFS1, SBLOCK_UFS2, SBLOCKSIZE

DEFAULT_MINFREE = 5
DEFAULT_AVGFILESIZE = 16384
DEFAULT_AVGFPDIR = 64
INT32_MAX = (1 << 31) - 1


class GeometryError(ValueError):
    """newfs cannot lay out this file system; str() is newfs's message."""


def roundup(a, b):
    return howmany(a, b) * b


def ilog2(n):
    return n.bit_length() - 1


def default_sizes(fssize):
    """(fsize, bsize) newfs picks for a size in sectors."""
    if fssize < 20 * 2048:
        return 512, 4096
    if fssize < 1000 * 2048:
        return 1024, 8192
    if fssize < 128 * 1024 * 2048:
        return 2048, 16384
    return 4096, 32768


class Params:
    """newfs's options, with NetBSD's defaults."""

    def __init__(self, fssize, ufs=1, bsize=0, fsize=0, density=0, num_inodes=0,
                 minfree=DEFAULT_MINFREE, optim=None, maxcontig=0, maxbpg=0,
                 avgfilesize=DEFAULT_AVGFILESIZE, avgfpdir=DEFAULT_AVGFPDIR,
                 maxbsize=0, sectorsize=512, endian="<"):
        self.fssize = fssize
        self.ufs = ufs
        self.bsize, self.fsize = bsize, fsize
        self.density, self.num_inodes = density, num_inodes
        self.minfree, self.optim = minfree, optim
        self.maxcontig, self.maxbpg = maxcontig, maxbpg
        self.avgfilesize, self.avgfpdir = avgfilesize, avgfpdir
        self.maxbsize = maxbsize
        self.sectorsize = sectorsize
        self.endian = endian


class Geometry:
    """The numbers newfs computes; attribute names follow struct fs."""

    def __repr__(self):
        return "<Geometry ncg=%d fpg=%d ipg=%d size=%d>" % (self.ncg, self.fpg, self.ipg, self.size)


def _cgsize(g, ipg, fpg):
    return cgsize_bytes(ipg, fpg, g.frag, g.old_cpg, g.contigsumsize)


def compute(p):
    """Geometry for Params p.  Raises GeometryError with newfs's words."""
    g = Geometry()
    g.ufs = p.ufs if p.ufs in (1, 2) else 1
    g.level0 = p.ufs == 0
    fsize, bsize = p.fsize, p.bsize
    if not fsize and not bsize:
        fsize, bsize = default_sizes(p.fssize)
    elif not fsize:
        fsize = max(bsize // 8, p.sectorsize)
    elif not bsize:
        bsize = min(fsize * 8, MAXBSIZE)
    if bsize & (bsize - 1) or not MINBSIZE <= bsize <= MAXBSIZE:
        raise GeometryError("block size %d must be a power of 2 in [%d, %d]"
                            % (bsize, MINBSIZE, MAXBSIZE))
    if fsize & (fsize - 1) or fsize < p.sectorsize:
        raise GeometryError("fragment size %d is too small, minimum is %d"
                            % (fsize, p.sectorsize) if fsize < p.sectorsize else
                            "fragment size %d must be a power of 2" % fsize)
    if fsize > bsize:
        raise GeometryError("fragment size %d is larger than block size %d" % (fsize, bsize))
    if bsize // fsize > 8:
        raise GeometryError("block size %d is too large for fragment size %d, "
                            "maximum frag ratio is 8" % (bsize, fsize))
    g.fsize, g.bsize = fsize, bsize
    g.frag = bsize // fsize
    g.fshift, g.bshift, g.fragshift = ilog2(fsize), ilog2(bsize), ilog2(g.frag)
    g.fsbtodb = ilog2(fsize // p.sectorsize)
    g.minfree = p.minfree
    g.optim = p.optim if p.optim is not None else 0
    g.density = p.density or 4 * fsize
    g.maxbsize = p.maxbsize or bsize
    g.maxcontig = p.maxcontig or max(1, 65536 // bsize)
    g.contigsumsize = min(g.maxcontig, 16) if g.maxcontig > 1 else 0
    g.inode_size = 256 if g.ufs == 2 else 128
    g.addr_size = 8 if g.ufs == 2 else 4
    g.maxbpg = p.maxbpg or bsize // g.addr_size
    g.avgfilesize, g.avgfpdir = p.avgfilesize, p.avgfpdir
    g.old_cpg = 1 if g.ufs == 1 else 0
    g.sblockloc = SBLOCK_UFS2 if g.ufs == 2 else SBLOCK_UFS1
    g.inopb = bsize // g.inode_size
    g.nindir = bsize // g.addr_size

    size = p.fssize >> g.fsbtodb if p.sectorsize == 512 else \
        p.fssize * p.sectorsize // fsize
    if g.ufs == 1 and size >= 1 << 31:
        raise GeometryError("Too many fragments (0x%x) for a FFSv1 filesystem" % size)
    g.sblkno = roundup(howmany(g.sblockloc + SBLOCKSIZE, fsize), g.frag)
    g.cblkno = g.sblkno + roundup(howmany(SBLOCKSIZE, fsize), g.frag)
    g.iblkno = g.cblkno + g.frag
    if size < g.iblkno + 3 * g.frag:
        raise GeometryError("Filesystem size %d < minimum size of %d"
                            % (size, g.iblkno + 3 * g.frag))
    if p.num_inodes:
        inodeblks = howmany(p.num_inodes, g.inopb)
    else:
        inodeblks = (size - g.iblkno) // (g.frag + max(1, (g.density * g.inopb) >> g.fshift))
    inodeblks = max(1, min(inodeblks, (size - g.iblkno) // g.frag - 2))
    if inodeblks * g.inopb >= 1 << 31:
        inodeblks = ((1 << 31) - 1) // g.inopb
    cgzero = _cgsize(g, 0, 0)
    cgall = _cgsize(g, inodeblks * g.inopb, size)
    ncg = howmany(cgall - cgzero, bsize - cgzero)
    if ncg < 4:
        ncg = max(ncg, size // 2 // (g.iblkno + inodeblks * g.frag))
        ncg = min(ncg, 4, inodeblks)
    ncg = max(ncg, 1)
    fpg = roundup(roundup(howmany(size, ncg), g.frag), 8)
    ipg = ((inodeblks - 1) // ncg + 1) * g.inopb
    for _ in range(64):
        excess = _cgsize(g, ipg, fpg) - bsize
        if excess <= 0:
            break
        fpg -= 8 * excess
        if fpg <= 0:
            raise GeometryError("cylinder group too large for block size %d" % bsize)
        ncg = howmany(size, fpg)
        ipg = ((inodeblks - 1) // ncg + 1) * g.inopb
    else:
        raise GeometryError("cannot fit cylinder group in block size %d" % bsize)
    g.dblkno = g.iblkno + ipg // (g.inopb >> g.fragshift)
    last = size - (ncg - 1) * fpg
    if last < g.dblkno and ncg > 1:
        ncg -= 1
        size = ncg * fpg
    if g.dblkno + 3 * g.frag > fpg or size < g.dblkno + 3 * g.frag:
        raise GeometryError("Filesystem size %d < minimum size of %d"
                            % (size, g.dblkno + 3 * g.frag))
    g.ncg, g.fpg, g.ipg, g.size = ncg, fpg, ipg, size
    g.cgsize = roundup(_cgsize(g, ipg, fpg), fsize)
    g.cssize = roundup(16 * ncg, fsize)
    g.csfrags = g.cssize // fsize
    g.csaddr = g.dblkno
    g.dsize = size - g.sblkno - ncg * (g.dblkno - g.sblkno) - g.csfrags
    g.sbsize = roundup(1376, fsize)
    g.initediblk = min(ipg, 2 * g.inopb)
    g.maxsymlinklen = 0 if g.level0 else (120 if g.ufs == 2 else 60)
    maxfile = g.bsize * 12 - 1
    n = 1
    for _ in range(3):
        n *= g.nindir
        maxfile += n * g.bsize
    if g.ufs == 1:
        maxfile = min(maxfile, (1 << 31) * g.bsize - 1)
    g.maxfilesize = min(maxfile, (1 << 64) - 1)
    g.sectors = size << g.fsbtodb if p.sectorsize == 512 else size * fsize // p.sectorsize
    g.sectorsize = p.sectorsize
    return g


def cgbase(g, c):
    return g.fpg * c


def backups(g):
    """Sector numbers of each cylinder group's superblock backup."""
    return [(cgbase(g, c) + g.sblkno) << g.fsbtodb for c in range(g.ncg)]


def _f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def summary_lines(g, name):
    """newfs's first two lines."""
    mb = _f32(_f32(g.size) * g.fsize) / (1 << 20)
    cgmb = _f32(_f32(g.fpg) * g.fsize) / (1 << 20)
    return ("%s: %.1fMB (%d sectors) block size %d, fragment size %d\n"
            "\tusing %d cylinder groups of %.2fMB, %d blks, %d inodes.\n"
            % (name, mb, g.sectors, g.bsize, g.fsize, g.ncg, cgmb, g.fpg // g.frag, g.ipg))


def _dots(r, width):
    out = []
    delta = width * 65536 // r
    col = 0
    for _ in range(r):
        col += delta
        while col > 65536:
            out.append(".")
            col -= 65536
    return "".join(out), col


def report(g, name, verbosity=3, nflag=False, width=80):
    """Everything newfs prints on stdout for this geometry."""
    if verbosity <= 0:
        return ""
    out = [summary_lines(g, name)]
    if verbosity == 1:
        return out[0]
    if verbosity == 2:
        if nflag:
            return out[0]
        dots, col = _dots(g.ncg, width)
        out.append(dots)
        if col > 0:
            out.append("\n")
        return "".join(out)
    out.append("super-block backups (for fsck_ffs -b #) at:\n")
    if nflag and verbosity == 3:
        width -= 4
    items = backups(g)
    fw = len(str(items[-1])) if verbosity >= 4 else 1
    col = 0
    i = 0
    while i < len(items):
        item = "%s%*d," % (" " if col else "", fw, items[i])
        if col + len(item) < width:
            out.append(item)
            col += len(item)
            i += 1
            continue
        if verbosity >= 4:
            out.append("\n")
            col = 0
            continue
        if nflag:
            out.append(" ...")
            col += 4
            break
        out.append("\n")
        dots, col = _dots(len(items) - i, width)
        out.append(dots)
        break
    if col > 0:
        out.append("\n")
    return "".join(out)
