"""The FFS superblock (UFS1 and UFS2, either byte order): parse, pack, find,
validate, and the address arithmetic of fs.h that depends only on it.

Layout (offsets in bytes, i32 unless noted) is in specs/ffs.md section 2.  The
structure is 1376 bytes; on disk it occupies sbsize bytes.  Fields not named
here (the in-core pointers at 728..855, spares) are kept as they were read.
Pure: no I/O.  `find_superblock(read)` takes a read(offset, length) function.
"""
import struct

from .ffs_struct import Fields, Record

SBLOCKSIZE = 8192
SBLOCK_UFS1 = 8192
SBLOCK_UFS2 = 65536
SBLOCK_PIGGY = 262144
SBLOCKSEARCH = (SBLOCK_UFS2, SBLOCK_UFS1, 0, SBLOCK_PIGGY)
SBLOCK_STRUCT = 1376

FS_UFS1_MAGIC = 0x00011954
FS_UFS2_MAGIC = 0x19540119
MAGIC_OFFSET = 1372
FS_FLAGS_UPDATED = 0x80
FS_ISCLEAN = 1
FS_WASCLEAN = 2
FS_OPTTIME = 0
FS_OPTSPACE = 1
MAXMNTLEN = 468
MAXVOLLEN = 32
UFS_ROOTINO = 2
UFS_WINO = 1
NDADDR = 12
NIADDR = 3
MINBSIZE = 4096
MAXBSIZE = 65536
MAXFRAG = 8
DEV_BSIZE = 512
CSUM_SIZE = 16
# fs_flags bits a kernel without them accepts (softdep, WAPBL, quota2)
FS_KNOWN_FLAGS = 0x002 | 0x100 | 0x200
FLAG_NAMES = ((0x001, "unclean"), (0x002, "soft-updates"), (0x004, "needs-fsck-snap"),
              (0x008, "indexed-dirs"), (0x010, "acls"), (0x020, "multilabel"),
              (0x040, "gjournal"), (0x080, "updated"), (0x100, "wapbl"),
              (0x200, "quotas"), (0x400, "trim"))

_SPEC = [
    ("sblkno", 8, "i"), ("cblkno", 12, "i"), ("iblkno", 16, "i"), ("dblkno", 20, "i"),
    ("old_cgoffset", 24, "i"), ("old_cgmask", 28, "i"), ("old_time", 32, "i"),
    ("old_size", 36, "i"), ("old_dsize", 40, "i"),
    ("ncg", 44, "I"), ("bsize", 48, "i"), ("fsize", 52, "i"), ("frag", 56, "i"),
    ("minfree", 60, "i"), ("old_rotdelay", 64, "i"), ("old_rps", 68, "i"),
    ("bmask", 72, "i"), ("fmask", 76, "i"), ("bshift", 80, "i"), ("fshift", 84, "i"),
    ("maxcontig", 88, "i"), ("maxbpg", 92, "i"), ("fragshift", 96, "i"),
    ("fsbtodb", 100, "i"), ("sbsize", 104, "i"),
    ("nindir", 116, "i"), ("inopb", 120, "I"), ("old_nspf", 124, "i"), ("optim", 128, "i"),
    ("old_npsect", 132, "i"), ("old_interleave", 136, "i"), ("old_trackskew", 140, "i"),
    ("id", 144, "i", 2), ("old_csaddr", 152, "i"), ("cssize", 156, "i"), ("cgsize", 160, "i"),
    ("old_nsect", 168, "i"), ("old_spc", 172, "i"), ("old_ncyl", 176, "i"),
    ("old_cpg", 180, "i"), ("ipg", 184, "I"), ("fpg", 188, "i"),
    ("old_cstotal", 192, "i", 4),
    ("fmod", 208, "B"), ("clean", 209, "B"), ("ronly", 210, "B"), ("old_flags", 211, "B"),
    ("fsmnt", 212, "468s"), ("volname", 680, "32s"), ("swuid", 712, "Q"),
    ("cgrotor", 724, "i"), ("old_cpc", 856, "i"), ("maxbsize", 860, "i"),
    ("journal_version", 864, "B"), ("journal_location", 865, "B"),
    ("journal_flags", 868, "I"), ("journallocs", 872, "Q", 4),
    ("quota_magic", 904, "I"), ("quota_flags", 908, "B"), ("quotafile", 912, "Q", 2),
    ("sblockloc", 1000, "q"), ("cstotal", 1008, "q", 4),
    ("time", 1072, "q"), ("size", 1080, "q"), ("dsize", 1088, "q"), ("csaddr", 1096, "q"),
    ("pendingblocks", 1104, "q"), ("pendinginodes", 1112, "I"),
    ("avgfilesize", 1196, "I"), ("avgfpdir", 1200, "I"), ("save_cgsize", 1204, "i"),
    ("flags", 1312, "I"), ("contigsumsize", 1316, "i"), ("maxsymlinklen", 1320, "i"),
    ("old_inodefmt", 1324, "i"), ("maxfilesize", 1328, "Q"), ("qbmask", 1336, "q"),
    ("qfmask", 1344, "q"), ("state", 1352, "i"), ("old_postblformat", 1356, "i"),
    ("old_nrpos", 1360, "i"), ("magic", MAGIC_OFFSET, "i"),
]
FIELDS = Fields(SBLOCK_STRUCT, _SPEC)


# the summary area at csaddr: one struct csum a group (ndir, nbfree, nifree,
# nffree; int32 each)
CSUM_SIZE = 16
_CSUM = {e: struct.Struct(e + "4i") for e in "<>"}


def csum_struct(endian):
    """struct csum in this byte order (pack_into/unpack_from at CSUM_SIZE * cg)."""
    return _CSUM[endian]


def unpack_csums(raw, endian, ncg):
    """(ndir, nbfree, nifree, nffree) of each of the first ncg groups that raw
    holds whole."""
    s = _CSUM[endian]
    return [s.unpack_from(raw, CSUM_SIZE * c) for c in range(ncg)
            if CSUM_SIZE * (c + 1) <= len(raw)]


def pack_csums(sums, endian, size):
    """A summary area of size bytes holding sums, group 0 first."""
    s = _CSUM[endian]
    return b"".join(s.pack(*x) for x in sums).ljust(size, b"\0")


class SuperblockError(ValueError):
    """Not a usable superblock; str() says why."""


def magic_endian(buf, off=MAGIC_OFFSET):
    """(ufs version 1|2, endian "<"|">") from the magic at off, or None."""
    raw = bytes(buf[off:off + 4])
    if len(raw) < 4:
        return None
    for endian in ("<", ">"):
        m = int.from_bytes(raw, "little" if endian == "<" else "big")
        if m == FS_UFS1_MAGIC:
            return 1, endian
        if m == FS_UFS2_MAGIC:
            return 2, endian
    return None


def _log2(n):
    return n.bit_length() - 1


class Superblock(Record):
    FIELDS = FIELDS

    def __init__(self, raw=None, endian=None):
        if endian is None:
            found = magic_endian(raw) if raw is not None else None
            endian = found[1] if found else "<"
        super().__init__(raw, endian)

    # ---- identity
    @property
    def ufs(self):
        return 2 if self.magic == FS_UFS2_MAGIC else 1

    @property
    def is_ufs2(self):
        return self.magic == FS_UFS2_MAGIC

    @property
    def inode_size(self):
        return 256 if self.is_ufs2 else 128

    @property
    def addr_size(self):
        return 8 if self.is_ufs2 else 4

    @property
    def mountpoint(self):
        return self.fsmnt.split(b"\0", 1)[0].decode("utf-8", "replace")

    # ---- 64-bit totals vs. the old copies
    def totals(self):
        """(ndir, nbfree, nifree, nffree) as the kernel reads them."""
        if self.is_ufs2 or self.old_flags & FS_FLAGS_UPDATED:
            return tuple(self.cstotal[:4])
        return tuple(self.old_cstotal)

    def set_totals(self, ndir, nbfree, nifree, nffree):
        self.cstotal[:4] = [ndir, nbfree, nifree, nffree]
        if not self.is_ufs2 and not self.old_flags & FS_FLAGS_UPDATED:
            self.old_cstotal = [ndir, nbfree, nifree, nffree]

    def set_time(self, t):
        self.time = int(t)
        if not self.is_ufs2:
            self.old_time = int(t) & 0x7fffffff

    # ---- address arithmetic (fs.h), all in fragments unless said
    def cgbase(self, c):
        return self.fpg * c

    def cgstart(self, c):
        if self.is_ufs2:
            return self.cgbase(c)
        return self.cgbase(c) + self.old_cgoffset * (c & ~self.old_cgmask)

    def cgsblock(self, c):
        return self.cgstart(c) + self.sblkno

    def cgtod(self, c):
        return self.cgstart(c) + self.cblkno

    def cgimin(self, c):
        return self.cgstart(c) + self.iblkno

    def cgdmin(self, c):
        return self.cgstart(c) + self.dblkno

    def dtog(self, d):
        return d // self.fpg

    def dtogd(self, d):
        return d % self.fpg

    def ino_to_cg(self, ino):
        return ino // self.ipg

    def ino_to_fsba(self, ino):
        """Fragment address of the inode block holding ino."""
        c = ino // self.ipg
        return self.cgimin(c) + (((ino % self.ipg) // self.inopb) << self.fragshift)

    def ino_to_fsbo(self, ino):
        return ino % self.inopb

    def ino_offset(self, ino):
        """Byte offset of inode ino from the start of the partition."""
        return self.ino_to_fsba(ino) * self.fsize + self.ino_to_fsbo(ino) * self.inode_size

    def fsbtodb(self, f):
        return f << self.fsbtodb

    def blkroundup(self, n):
        return (n + self.bsize - 1) & ~(self.bsize - 1)

    def fragroundup(self, n):
        return (n + self.fsize - 1) & ~(self.fsize - 1)

    def lblkno(self, off):
        return off >> self.bshift

    def blkoff(self, off):
        return off & (self.bsize - 1)

    def numfrags(self, n):
        return n >> self.fshift

    def blksize(self, size, lbn):
        """Bytes of logical block lbn of a file of `size` bytes (fs.h sblksize)."""
        if lbn >= NDADDR or size >= (lbn + 1) << self.bshift:
            return self.bsize
        return self.fragroundup(self.blkoff(size))

    def max_inode(self):
        return self.ncg * self.ipg

    def __repr__(self):
        return "<Superblock UFS%d %s ncg=%d bsize=%d fsize=%d>" % (
            self.ufs, "le" if self.endian == "<" else "be", self.ncg, self.bsize, self.fsize)


def parse(raw):
    """A Superblock from bytes holding one (magic at 1372); SuperblockError if none."""
    found = magic_endian(raw)
    if found is None:
        raise SuperblockError("bad magic number")
    return Superblock(raw, found[1])


def validate(sb):
    """None when the superblock passes the kernel's checks, else the reason."""
    if sb.magic not in (FS_UFS1_MAGIC, FS_UFS2_MAGIC):
        return "bad magic number"
    if not SBLOCK_STRUCT <= sb.sbsize <= SBLOCKSIZE:
        return "sbsize %d out of range" % sb.sbsize
    def pow2(n):
        return n > 0 and n & (n - 1) == 0
    if not pow2(sb.bsize) or not MINBSIZE <= sb.bsize <= MAXBSIZE:
        return "bad block size %d" % sb.bsize
    if not pow2(sb.fsize) or sb.fsize > sb.bsize or sb.fsize < DEV_BSIZE:
        return "bad fragment size %d" % sb.fsize
    for name in ("size", "cssize", "ipg", "fpg", "ncg", "maxbpg"):
        if getattr(sb, name) <= 0:
            return "%s is zero" % name
    if sb.inopb != sb.bsize // sb.inode_size:
        return "bad inodes per block %d" % sb.inopb
    if sb.bshift != _log2(sb.bsize) or sb.fshift != _log2(sb.fsize):
        return "bad shifts"
    if sb.bmask != ~(sb.bsize - 1) or sb.fmask != ~(sb.fsize - 1):
        return "bad masks"
    frag = sb.bsize >> sb.fshift
    if frag > MAXFRAG or sb.frag != frag or sb.fragshift != _log2(frag):
        return "bad frag %d" % sb.frag
    if sb.fsbtodb != _log2(sb.fsize // DEV_BSIZE):
        return "bad fsbtodb"
    if not 176 <= sb.cgsize <= sb.bsize:
        return "bad cgsize %d" % sb.cgsize
    if sb.nindir != sb.bsize // sb.addr_size:
        return "bad nindir"
    if sb.ipg % sb.inopb or sb.fpg % sb.frag:
        return "bad ipg/fpg"
    if not 0 < sb.sblkno < sb.cblkno < sb.iblkno < sb.dblkno <= sb.fpg:
        return "bad cylinder group layout"
    if sb.iblkno + (sb.ipg // sb.inopb) * sb.frag > sb.dblkno:
        return "inodes overlap data"
    if (sb.ncg - 1) * sb.fpg >= sb.size or sb.ncg * sb.fpg < sb.size:
        return "size and cylinder groups disagree"
    if sb.cssize != sb.fragroundup(sb.ncg * CSUM_SIZE):
        return "bad cssize"
    if not 0 < sb.csaddr < sb.size:
        return "bad csaddr"
    if sb.ncg * sb.ipg >= 1 << 32:
        return "too many inodes"
    return None


def read_candidate(read, off):
    """The Superblock stored at byte offset off, in the byte order its magic
    number says, or None when the read fails, comes up short or finds no magic.
    read(offset, length) returns bytes."""
    try:
        raw = read(off, SBLOCKSIZE)
    except OSError:
        return None
    if len(raw) < SBLOCK_STRUCT:
        return None
    found = magic_endian(raw)
    if found is None:
        return None
    return Superblock(raw, found[1])


def find_superblock(read, strict=True):
    """(Superblock, offset) of the primary superblock, as the kernel finds it.

    read(offset, length) returns bytes (short or empty past the end).  With
    strict, a superblock whose sblockloc is not where it was found is a backup
    and is skipped (a UFS1 one without FS_FLAGS_UPDATED is skipped at 65536
    and takes its location as found).  Raises SuperblockError.
    """
    for off in SBLOCKSEARCH:
        sb = read_candidate(read, off)
        if sb is None:
            continue
        if sb.ufs == 1 and off == SBLOCK_UFS2:
            continue
        if sb.ufs == 1 and not sb.old_flags & FS_FLAGS_UPDATED:
            pass
        elif strict and sb.sblockloc != off:
            continue
        problem = validate(sb)
        if problem is not None:
            raise SuperblockError(problem)
        return sb, off
    raise SuperblockError("can't find superblock")
