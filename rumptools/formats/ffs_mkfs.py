"""Build an empty FFS (UFS1 or UFS2) from a Geometry, as NetBSD's newfs lays
it out (specs/ffs.md section 7, steps 8-11): superblock and backups, cylinder
groups with their maps, inode blocks, the summary area, the root directory.

`build(g, write, now, rand)` calls write(offset, bytes) for every area it
fills, in increasing order within each group, the primary superblock last;
`zap_offsets(g, disk_size)` says where stale superblocks must be cleared
first.  `now` (seconds, float) and `rand` (n -> bytes) are injected, so the
result is reproducible in tests.  Pure: no I/O of its own.
"""

from . import ffs_dinode as di
from . import ffs_dir
from .ffs_cg import CG, CG_MAGIC, map_offsets, pack_bits, summarize
from .ffs_geometry import roundup
from .ffs_superblock import (FS_FLAGS_UPDATED, FS_ISCLEAN, FS_UFS1_MAGIC, FS_UFS2_MAGIC,
                             SBLOCKSEARCH, SBLOCKSIZE, Superblock, pack_csums)

ROOTINO = 2


def make_superblock(g, now, rand):
    sb = Superblock(bytes(1376), g.endian)
    sb.magic = FS_UFS2_MAGIC if g.ufs == 2 else FS_UFS1_MAGIC
    for name in ("sblkno", "cblkno", "iblkno", "dblkno", "ncg", "bsize", "fsize", "frag",
                 "minfree", "maxcontig", "maxbpg", "fragshift", "fsbtodb", "sbsize",
                 "nindir", "inopb", "optim", "cssize", "cgsize", "ipg", "fpg", "size",
                 "dsize", "csaddr", "avgfilesize", "avgfpdir", "contigsumsize",
                 "maxsymlinklen", "maxbsize", "maxfilesize", "sblockloc"):
        setattr(sb, name, getattr(g, name))
    sb.bmask = ~(g.bsize - 1)
    sb.fmask = ~(g.fsize - 1)
    sb.bshift, sb.fshift = g.bshift, g.fshift
    sb.qbmask, sb.qfmask = g.bsize - 1, g.fsize - 1
    sb.old_inodefmt = 2
    sb.old_flags = 0 if g.level0 else FS_FLAGS_UPDATED
    sb.clean = FS_ISCLEAN
    sb.id = [int(now) & 0x7fffffff, int.from_bytes(rand(4), "little") & 0x7fffffff]
    sb.time = int(now)
    if g.ufs == 1:
        sb.old_time = int(now) & 0x7fffffff
        sb.old_size, sb.old_dsize, sb.old_csaddr = g.size, g.dsize, g.csaddr
        sb.old_cgmask = -1
        sb.old_rps = 60
        sb.old_nspf = g.fsize // g.sectorsize
        sb.old_cpg = 1
        sb.old_interleave = 1
        sb.old_postblformat = 1
        sb.old_nrpos = 1
        sb.old_spc = sb.old_nsect = sb.old_npsect = g.fpg * sb.old_nspf
        sb.old_ncyl = g.ncg
    if g.level0:
        sb.sblockloc = 0
    return sb


def _cg_block(g, c, now, inodes_used):
    """(CG, nbfree, nffree) for group c of a fresh file system."""
    sb_frag = g.frag
    cbase = c * g.fpg
    ndblk = min(g.fpg, g.size - cbase)
    offs = map_offsets(g.ufs, g.ipg, g.fpg, g.frag, g.contigsumsize, g.old_cpg)
    buf = bytearray(g.cgsize)
    cg = CG(buf, g.endian)
    cg.magic = CG_MAGIC
    cg.cgx = c
    cg.ndblk = ndblk
    if g.ufs == 1:
        cg.old_time = int(now) & 0x7fffffff
        cg.old_ncyl = 1
        cg.old_niblk = (g.ipg + 0x8000) % 0x10000 - 0x8000
        cg.old_btotoff, cg.old_boff = offs["btot"], offs["boff"]
    else:
        cg.time = int(now)
        cg.niblk = g.ipg
        cg.initediblk = g.initediblk
    cg.iusedoff, cg.freeoff, cg.nextfreeoff = offs["iused"], offs["free"], offs["nextfree"]
    cg.clustersumoff, cg.clusteroff = offs["clustersum"], offs["cluster"]
    cg.nclusterblks = ndblk // sb_frag if g.contigsumsize > 0 else 0
    free = bytearray(ndblk)            # 1 = free, per frag
    if c > 0:
        free[0:g.sblkno] = b"\1" * g.sblkno
    dupper = g.dblkno + (g.csfrags if c == 0 else 0)
    free[dupper:ndblk] = b"\1" * (ndblk - dupper)
    for i in inodes_used:
        cg.set_inode_used(i)
    return cg, free


def _finish_cg(g, cg, free, ndir, nifree):
    nbfree, nffree, frsum, cluster, csum = summarize(free, g.frag, cg.ndblk, g.contigsumsize)
    cg.cs = [ndir, nbfree, nifree, nffree]
    cg.frsum = frsum
    cg.pack()
    fo = cg.freeoff
    bits = pack_bits(free)
    cg.buf[fo:fo + len(bits)] = bits
    if g.contigsumsize > 0:
        cb = pack_bits(cluster)
        cg.buf[cg.clusteroff:cg.clusteroff + len(cb)] = cb
        cg.set_clustersum(csum)
    if g.ufs == 1:
        cg.set_old_btot(nbfree)
    return nbfree, nffree


_LOW7 = bytes(b & 0x7f for b in range(256))


def inode_blocks(g, count, rand):
    """`count` zeroed dinodes, each with a random generation number."""
    isz = g.inode_size
    buf = bytearray(count * isz)
    gen_off = 80 if g.ufs == 2 else 108
    rnd = bytearray(rand(4 * count)[:4 * count])
    rnd[3::4] = bytes(rnd[3::4]).translate(_LOW7)       # gen & 0x7fffffff
    for k in range(4):
        buf[gen_off + k::isz] = rnd[(3 - k if g.endian == ">" else k)::4]
    return bytes(buf)


def root_inode(g, addr, now, uid=0, gid=0):
    d = di.Dinode(g.ufs, None, g.endian)
    d.mode = di.IFDIR | 0o755
    d.nlink = 2
    d.size = ffs_dir.DIRBLKSIZ
    d.blocks = g.fsize // 512
    d.db[0] = addr
    d.uid, d.gid = uid, gid
    if g.ufs == 2:
        sec = int(now)
        nsec = int((now - sec) * 1e6) * 1000
        d.atime = d.mtime = d.ctime = d.birthtime = sec
        d.atimensec = d.mtimensec = d.ctimensec = d.birthnsec = nsec
    return d


def zap_offsets(g, disk_size):
    """[(offset, kind)] newfs clears before writing: kind "magic" (clear a
    superblock magic found there) or "zero" (write 1536 zero bytes)."""
    cg0_end = (g.dblkno + g.csfrags) * g.fsize
    out = []
    seen = set()
    for off in SBLOCKSEARCH:
        for cand in [off] + [roundup(off + SBLOCKSIZE, s) for s in (8192, 16384, 32768, 65536)]:
            if cand in seen or cand + 1536 > disk_size:
                continue
            seen.add(cand)
            if cand < g.sblockloc:
                out.append((cand, "magic"))
            elif cand >= cg0_end:
                out.append((cand, "zero"))
    return out


def build(g, write, now, rand, uid=0, gid=0):
    """Write the whole empty file system through write(offset, data).
    Returns the primary Superblock as written."""
    sb = make_superblock(g, now, rand)
    fs = g.fsize
    isz = g.inode_size
    csum = []
    tot = [0, 0, 0, 0]
    # the root's block: the first whole free block of cg 0
    dupper0 = g.dblkno + g.csfrags
    root_addr = roundup(dupper0, g.frag)
    ninit = g.ipg if g.ufs == 1 else g.initediblk
    # backup superblocks carry the totals from before the root existed
    cgs = []
    for c in range(g.ncg):
        used = [0, 1] if c == 0 else []
        cg, free = _cg_block(g, c, now, used)
        nifree = g.ipg - len(used)
        nb, nf = _finish_cg(g, cg, free, 0, nifree)
        for i, v in enumerate((0, nb, nifree, nf)):
            tot[i] += v
        cgs.append((cg, free, nifree))
    sb.set_totals(*tot)
    if g.ufs == 1:
        sb.old_cstotal = list(tot)
    backup = bytearray(g.sbsize)
    backup[:1376] = sb.pack()
    backup = bytes(backup)
    # now the root: allocate one frag in cg 0
    cg0, free0, nifree0 = cgs[0]
    for f in range(root_addr, root_addr + 1):
        free0[f] = 0
    cg0.set_inode_used(ROOTINO)
    nb, nf = _finish_cg(g, cg0, free0, 1, nifree0 - 1)
    tot = [0, 0, 0, 0]
    for c in range(g.ncg):
        cg = cgs[c][0]
        for i in range(4):
            tot[i] += cg.cs[i]
        csum.append(cg.cs)
    sb.set_totals(*tot)
    if g.ufs == 1:
        sb.old_cstotal = list(tot)
    # per group: backup superblock, cg block, inode blocks
    for c in range(g.ncg):
        base = c * g.fpg
        write((base + g.sblkno) * fs, backup)
        write((base + g.cblkno) * fs, cgs[c][0].pack())
        itab = bytearray(inode_blocks(g, ninit, rand))
        if c == 0:
            root = root_inode(g, root_addr, now, uid, gid).pack()
            itab[ROOTINO * isz:(ROOTINO + 1) * isz] = root
        write((base + g.iblkno) * fs, bytes(itab))
    # summary area, root directory block, primary superblock
    cs = pack_csums(csum, g.endian, g.cssize)
    write(g.csaddr * fs, cs)
    write(root_addr * fs, ffs_dir.empty_dir(ROOTINO, ROOTINO, g.endian).ljust(fs, b"\0"))
    primary = bytearray(g.sblkno * fs - g.sblockloc if g.sblockloc else g.sbsize)
    primary[:1376] = sb.pack()
    write(g.sblockloc, bytes(primary))
    return sb
