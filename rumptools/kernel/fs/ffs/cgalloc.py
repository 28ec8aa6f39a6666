"""Cylinder groups in memory and FFS's allocators.

Each group keeps its free map as one byte per fragment (1 = free) and its
inode map as one byte per inode, with running counts; the on-disk group
(counts, frsum, clusters) is rebuilt from these when it is written.
Policies (ffs_alloc.c, simplified): a file's blocks come from its inode's
group, after the previous block when that is free; directories go to the
group with the fewest directories among those with at least average free
inodes and blocks; fragments come from the smallest fitting run of a
partly used block, else a block is split.
"""
from ....abi import errnos
from ....abi.errnos import RumpError
from ....formats.ffs_cg import CG, CG_MAGIC, pack_bits, summarize
from ....formats.ffs_mkfs import inode_blocks
from ....formats.ffs_superblock import pack_csums

_EXPAND = [bytes((v >> k) & 1 for k in range(8)) for v in range(256)]


def unpack_bits(data, nbits):
    return bytearray(b"".join(_EXPAND[b] for b in data))[:nbits]


class Group:
    def __init__(self, fs, c, raw):
        sb = fs.sb
        self.c = c
        self.cg = CG(raw, sb.endian)
        why = self.cg.check(sb, c)
        if why:
            raise RumpError(errnos.EINVAL)
        self.ndblk = min(sb.fpg, sb.size - sb.cgbase(c))
        if self.cg.ndblk != self.ndblk:
            raise RumpError(errnos.EINVAL)
        cg = self.cg
        self.free = unpack_bits(cg.buf[cg.freeoff:cg.freeoff + (sb.fpg + 7) // 8], self.ndblk)
        self.iused = unpack_bits(cg.buf[cg.iusedoff:cg.iusedoff + (sb.ipg + 7) // 8], sb.ipg)
        self.frag = sb.frag
        self._ones = b"\1" * sb.frag
        self._zeros = bytes(sb.frag)
        nb, nf, _frsum, _cl, _cs = summarize(self.free, sb.frag, self.ndblk, 0)
        self.nbfree, self.nffree = nb, nf
        self.nifree = sb.ipg - sum(self.iused)
        self.ndir = max(0, cg.cs[0])
        self.initediblk = cg.initediblk if sb.is_ufs2 else sb.ipg
        self.dirty = False

    # -- per-block bookkeeping
    def _contrib(self, b):
        f = self.frag
        blk = self.free[b * f:b * f + f]
        if len(blk) == f and all(blk):
            return 1, 0
        return 0, sum(blk)

    def set_range(self, start, n, value):
        """Mark frags [start, start+n) (group-relative) free (1) or used (0)."""
        f = self.frag
        if n == f and start % f == 0 and start + f <= self.ndblk:
            # a whole block: the common case, without looking at each fragment
            blk = self.free[start:start + f]
            if value == 0 and blk == self._ones:
                self.nbfree -= 1
                self.free[start:start + f] = self._zeros
                self.dirty = True
                return
            if value == 1 and not any(blk):
                self.nbfree += 1
                self.free[start:start + f] = self._ones
                self.dirty = True
                return
        b0, b1 = start // f, (start + n - 1) // f
        for b in range(b0, b1 + 1):
            nb, nf = self._contrib(b)
            self.nbfree -= nb
            self.nffree -= nf
        self.free[start:start + n] = bytes([value]) * n
        for b in range(b0, b1 + 1):
            nb, nf = self._contrib(b)
            self.nbfree += nb
            self.nffree += nf
        self.dirty = True

    def find_block(self, pref):
        """Group-relative frag of a wholly free block, at or after pref first."""
        f = self.frag
        ones = b"\1" * f
        for lo, hi in ((pref - pref % f, self.ndblk), (0, pref)):
            pos = lo
            while pos < hi:
                i = self.free.find(ones, pos, hi)
                if i < 0:
                    break
                a = -(-i // f) * f
                if self.free[a:a + f] == ones:
                    return a
                pos = a
        return None

    def find_frags(self, n):
        """Group-relative frag of n free frags inside a partly used block."""
        f = self.frag
        best = None
        run_pat = b"\1" * n
        pos = 0
        while True:
            i = self.free.find(run_pat, pos)
            if i < 0:
                break
            b = i // f
            if (i + n - 1) // f != b:
                pos = (b + 1) * f
                continue
            blk = self.free[b * f:b * f + f]
            if all(blk) and len(blk) == f:
                pos = (b + 1) * f
                continue
            # length of this run inside the block
            j = i
            while j < (b + 1) * f and j < self.ndblk and self.free[j]:
                j += 1
            if best is None or j - i < best[1]:
                best = (i, j - i)
                if j - i == n:
                    break
            pos = j
        return None if best is None else best[0]

    def to_disk(self, sb, now):
        """The group block as it should be written now."""
        cg = self.cg
        nb, nf, frsum, cluster, csum = summarize(self.free, sb.frag, self.ndblk,
                                                 sb.contigsumsize)
        self.nbfree, self.nffree = nb, nf
        cg.cs = [self.ndir, nb, self.nifree, nf]
        cg.frsum = frsum
        if sb.is_ufs2:
            cg.initediblk = self.initediblk
            cg.time = int(now)
        else:
            cg.old_time = int(now) & 0x7fffffff
            cg.time = int(now)
        cg.pack()
        buf = cg.buf
        ib = pack_bits(self.iused)
        buf[cg.iusedoff:cg.iusedoff + len(ib)] = ib
        fb = pack_bits(self.free)
        end = cg.freeoff + (sb.fpg + 7) // 8
        buf[cg.freeoff:end] = fb + bytes(end - cg.freeoff - len(fb))
        if sb.contigsumsize > 0 and cg.clusteroff:
            cb = pack_bits(cluster)
            cend = cg.clusteroff + (sb.fpg // sb.frag + 7) // 8
            buf[cg.clusteroff:cend] = cb + bytes(cend - cg.clusteroff - len(cb))
            cg.set_clustersum(csum)
        return bytes(buf)


class Allocator:
    """The groups of one mounted file system and what allocates from them."""

    def __init__(self, fs):
        self.fs = fs
        sb = fs.sb
        self.sb = sb
        self.groups = []
        for c in range(sb.ncg):
            raw = fs.dev_read(sb.cgtod(c) * sb.fsize, sb.cgsize)
            g = Group(fs, c, raw)
            if g.cg.magic != CG_MAGIC:
                raise RumpError(errnos.EINVAL)
            self.groups.append(g)

    # -- totals
    def totals(self):
        nd = nb = ni = nf = 0
        for g in self.groups:
            nd += g.ndir
            nb += g.nbfree
            ni += g.nifree
            nf += g.nffree
        return nd, nb, ni, nf

    # -- blocks
    def _groups_from(self, c):
        n = len(self.groups)
        return [self.groups[(c + k) % n] for k in range(n)]

    def alloc_block(self, pref_cg, pref_addr=0):
        sb = self.sb
        for g in self._groups_from(pref_cg):
            if g.nbfree <= 0:
                continue
            base = sb.cgbase(g.c)
            rel = pref_addr - base if g.c == pref_cg and base <= pref_addr < base + g.ndblk \
                else sb.dblkno
            a = g.find_block(max(0, rel))
            if a is not None:
                g.set_range(a, sb.frag, 0)
                return base + a
        raise RumpError(errnos.ENOSPC)

    def spread_group(self, start):
        """The first group from start with at least average free blocks."""
        n = len(self.groups)
        avg = self.totals()[1] // n
        for g in self._groups_from(start % n):
            if g.nbfree >= max(avg, 1):
                return g.c
        return start % n

    def alloc_frags(self, n, pref_cg):
        """n < frag fragments inside one block."""
        sb = self.sb
        for g in self._groups_from(pref_cg):
            if g.nffree >= n:
                a = g.find_frags(n)
                if a is not None:
                    g.set_range(a, n, 0)
                    return sb.cgbase(g.c) + a
        addr = self.alloc_block(pref_cg)
        self.free(addr + n, sb.frag - n)
        return addr

    def extend_in_place(self, addr, old, new):
        """Grow a fragment run from old to new frags where it lies, if free."""
        sb = self.sb
        g = self.groups[sb.dtog(addr)]
        rel = sb.dtogd(addr)
        if (rel + new - 1) // sb.frag != rel // sb.frag or rel + new > g.ndblk:
            return False
        if not all(g.free[rel + old:rel + new]):
            return False
        g.set_range(rel + old, new - old, 0)
        return True

    def free(self, addr, n):
        sb = self.sb
        if n <= 0:
            return
        g = self.groups[sb.dtog(addr)]
        g.set_range(sb.dtogd(addr), n, 1)

    # -- inodes
    def pick_dir_group(self, parent_cg):
        """ffs_dirpref, simplified: fewest directories among groups with at
        least average free inodes and blocks."""
        nd, nb, ni, nf = self.totals()
        n = len(self.groups)
        avgi, avgb = ni // n, nb // n
        best = None
        for g in self._groups_from(parent_cg):
            if g.nifree and g.nifree >= avgi and g.nbfree >= avgb:
                if best is None or g.ndir < best.ndir:
                    best = g
        if best is None:
            for g in self._groups_from(parent_cg):
                if g.nifree:
                    return g.c
            raise RumpError(errnos.ENOSPC)
        return best.c

    def alloc_inode(self, pref_cg, is_dir, rand):
        sb = self.sb
        for g in self._groups_from(pref_cg):
            if g.nifree <= 0:
                continue
            i = g.iused.find(0, 0)
            while i >= 0 and g.c * sb.ipg + i < 3:
                i = g.iused.find(0, i + 1)
            if i < 0:
                continue
            if sb.is_ufs2:
                while i >= g.initediblk:
                    self._init_inode_block(g, rand)
            g.iused[i] = 1
            g.nifree -= 1
            if is_dir:
                g.ndir += 1
            g.dirty = True
            return g.c * sb.ipg + i
        raise RumpError(errnos.ENOSPC)

    def _init_inode_block(self, g, rand):
        """UFS2: zero the next block of inodes (each with a random generation)."""
        sb = self.sb
        from types import SimpleNamespace
        geo = SimpleNamespace(inode_size=sb.inode_size, ufs=2, endian=sb.endian)
        data = inode_blocks(geo, sb.inopb, rand)
        first = g.c * sb.ipg + g.initediblk
        self.fs.dev_write(sb.ino_to_fsba(first) * sb.fsize, data)
        g.initediblk = min(sb.ipg, g.initediblk + sb.inopb)
        g.dirty = True

    def free_inode(self, ino, is_dir):
        sb = self.sb
        g = self.groups[ino // sb.ipg]
        i = ino % sb.ipg
        if g.iused[i]:
            g.iused[i] = 0
            g.nifree += 1
            if is_dir:
                g.ndir -= 1
            g.dirty = True

    # -- writing
    def flush(self, now):
        sb = self.sb
        for g in self.groups:
            if g.dirty:
                self.fs.dev_write(sb.cgtod(g.c) * sb.fsize, g.to_disk(sb, now))
                g.dirty = False

    def csum_bytes(self):
        sb = self.sb
        return pack_csums([(g.ndir, g.nbfree, g.nifree, g.nffree) for g in self.groups],
                          sb.endian, sb.cssize)
