"""Phase 5 - Check Cyl groups: rebuild every cylinder group (header counts,
frsum, inode and free maps, cluster map and sums, UFS1 btot) from what the
earlier phases found, compare with the disk, and fix the group, the summary
area and the superblock totals (NetBSD's three questions, each asked once).
"""

from rumptools.formats.ffs_cg import (CG, CG_HEADER, CG_MAGIC, howmany, map_offsets, pack_bits,
                                      summarize)
from rumptools.formats.ffs_superblock import CSUM_SIZE, csum_struct

from .state import DCLEAR, DFOUND, DSTATE, USTATE

_DIRS = (DSTATE, DFOUND, DCLEAR)


class _Fix:
    """One dofix() question: asked the first time, remembered after."""

    def __init__(self, ask, message):
        self.ask, self.message, self.answer = ask, message, None

    def __call__(self):
        if self.answer is None:
            self.answer = self.ask.fix(self.message, "SALVAGE", " (SALVAGED)")
        return self.answer


def _fresh_header(st, c):
    sb = st.sb
    offs = map_offsets(st.ufs, sb.ipg, sb.fpg, sb.frag, sb.contigsumsize, 1)
    cg = CG(bytes(sb.cgsize), st.endian)
    cg.magic = CG_MAGIC
    cg.cgx = c
    cg.iusedoff, cg.freeoff, cg.nextfreeoff = offs["iused"], offs["free"], offs["nextfree"]
    cg.clustersumoff, cg.clusteroff = offs["clustersum"], offs["cluster"]
    if st.ufs == 1:
        cg.old_btotoff, cg.old_boff = offs["btot"], offs["boff"]
        cg.old_ncyl = 1
        cg.old_niblk = (sb.ipg + 0x8000) % 0x10000 - 0x8000
    else:
        cg.niblk = sb.ipg
        cg.initediblk = min(sb.ipg, 2 * sb.inopb)
    return cg


def rebuild(st, c, old):
    """The group as it should be, keeping the old group's times and rotors."""
    sb = st.sb
    good = old is not None and old.check(sb, c) is None
    cg = CG(old.pack(), st.endian) if good else _fresh_header(st, c)
    base = sb.cgbase(c)
    ndblk = min(sb.fpg, sb.size - base)
    cg.ndblk = ndblk
    cg.nclusterblks = ndblk // sb.frag if sb.contigsumsize > 0 else 0
    if st.ufs == 2 and not good:
        cg.initediblk = st.initedi[c]
    # maps
    ipg = sb.ipg
    states = st.state[c * ipg:(c + 1) * ipg]
    iused = bytearray(1 if s != USTATE else 0 for s in states)
    if c == 0:
        iused[0] = iused[1] = 1
    ndir = sum(1 for s in states if s in _DIRS)
    free = bytes(st.used[base:base + ndblk]).translate(_FLIP)
    nbfree, nffree, frsum, cluster, csum = summarize(free, sb.frag, ndblk, sb.contigsumsize)
    cg.cs = [ndir, nbfree, ipg - sum(iused), nffree]
    cg.frsum = frsum
    if cg.rotor >= ndblk:
        cg.rotor = 0
    if cg.frotor >= ndblk:
        cg.frotor = 0
    if cg.irotor >= ipg:
        cg.irotor = 0
    cg.pack()
    buf = cg.buf
    start = cg.iusedoff
    end = cg.nextfreeoff
    buf[start:cg.freeoff + howmany(sb.fpg, 8)] = bytes(cg.freeoff + howmany(sb.fpg, 8) - start)
    if cg.clusteroff:
        buf[cg.clusteroff:end] = bytes(end - cg.clusteroff)
    ib = pack_bits(iused)
    buf[cg.iusedoff:cg.iusedoff + len(ib)] = ib
    fb = pack_bits(free)
    buf[cg.freeoff:cg.freeoff + len(fb)] = fb
    if sb.contigsumsize > 0:
        cb = pack_bits(cluster)
        buf[cg.clusteroff:cg.clusteroff + len(cb)] = cb
        cg.set_clustersum(csum)
    if st.ufs == 1 and cg.old_btotoff and not good:
        cg.set_old_btot(nbfree)         # kept as found otherwise: FFSv1 no longer uses it
    return cg


_FLIP = bytes([1, 0]) + bytes(254)


def _header_bytes(cg):
    """The header as compared: without times and rotors, plus the sums."""
    raw = bytearray(cg.buf[:CG_HEADER])
    for off, n in ((8, 4), (136, 8), (40, 12)):
        raw[off:off + n] = bytes(n)
    extra = b""
    if cg.clustersumoff:
        extra = bytes(cg.buf[cg.clustersumoff + 4:cg.clusteroff])
    return bytes(raw) + extra


def _map_bytes(cg, sb):
    out = bytes(cg.buf[cg.iusedoff:cg.iusedoff + howmany(sb.ipg, 8)])
    out += bytes(cg.buf[cg.freeoff:cg.freeoff + howmany(sb.fpg, 8)])
    if cg.clusteroff:
        out += bytes(cg.buf[cg.clusteroff:cg.clusteroff + howmany(sb.fpg // sb.frag, 8)])
    return out


def pass5(st):
    sb = st.sb
    ask = st.ask
    fix_sum = _Fix(ask, "SUMMARY INFORMATION BAD")
    fix_map = _Fix(ask, "BLK(S) MISSING IN BIT MAPS")
    fix_tot = _Fix(ask, "FREE BLK COUNT(S) WRONG IN SUPERBLK")
    csraw = bytearray(st.read(sb.csaddr * sb.fsize, sb.cssize))
    cs_struct = csum_struct(st.endian)
    total = [0, 0, 0, 0]
    cs_dirty = False
    for c in range(sb.ncg):
        off = sb.cgtod(c) * sb.fsize
        old = CG(st.read(off, sb.cgsize), st.endian)
        if old.magic != CG_MAGIC:
            ask.pfatal("CG %d: BAD MAGIC NUMBER\n" % c)
        new = rebuild(st, c, old)
        dirty = False
        if _header_bytes(new) != _header_bytes(old) and fix_sum():
            dirty = True
        if _map_bytes(new, sb) != _map_bytes(old, sb) and fix_map():
            dirty = True
        if dirty:
            st.write(off, new.pack())
        for i in range(4):
            total[i] += new.cs[i]
        if list(cs_struct.unpack_from(csraw, CSUM_SIZE * c)) != list(new.cs) and fix_tot():
            cs_struct.pack_into(csraw, CSUM_SIZE * c, *new.cs)
            cs_dirty = True
    if cs_dirty:
        st.write(sb.csaddr * sb.fsize, bytes(csraw))
    st.totals = total
    if list(sb.totals()) != total and fix_tot():
        sb.set_totals(*total)
        st.sb_dirty = True
    check_alternates(st)


# what every backup superblock must agree on with the primary
_GEOMETRY = ("sblkno", "cblkno", "iblkno", "dblkno", "ncg", "bsize", "fsize", "frag",
             "bmask", "fmask", "bshift", "fshift", "fragshift", "fsbtodb", "sbsize",
             "nindir", "inopb", "cssize", "cgsize", "ipg", "fpg", "size", "dsize",
             "csaddr", "magic", "maxsymlinklen", "maxbsize", "sblockloc")


def check_alternates(st):
    """ALTERNATE SUPERBLK(S) ARE INCORRECT: rewrite the backups from the primary."""
    from rumptools.formats.ffs_superblock import Superblock
    sb = st.sb
    bad = []
    for c in range(sb.ncg):
        off = sb.cgsblock(c) * sb.fsize
        alt = Superblock(st.read(off, 1376), sb.endian)
        if any(getattr(alt, f) != getattr(sb, f) for f in _GEOMETRY):
            bad.append(off)
    if bad and st.ask.fix("ALTERNATE SUPERBLK(S) ARE INCORRECT", "SALVAGE", " (SALVAGED)"):
        raw = sb.pack()
        for off in bad:
            st.write(off, raw)
