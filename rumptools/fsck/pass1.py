"""Phase 1 - Check Blocks and Sizes, and phase 1b - Rescan For More DUPS.

Reads every inode (UFS2: those below each group's initediblk), checks its
type and size, follows its block pointers (direct, indirect) marking the
block map, and reports addresses out of range (BAD), claimed twice (DUP),
and wrong block counts.
"""
from rumptools.formats import ffs_dinode as di
from rumptools.formats import ffs_dir
from rumptools.formats.ffs_cg import CG, CG_MAGIC
from rumptools.formats.ffs_superblock import NDADDR

from .state import DCLEAR, DSTATE, FCLEAR, FSTATE, MAXBAD, MAXDUP

_TYPES = {di.IFIFO, di.IFCHR, di.IFDIR, di.IFBLK, di.IFREG, di.IFLNK, di.IFSOCK}
_NOBLOCKS = {di.IFIFO, di.IFCHR, di.IFBLK, di.IFSOCK}


def mark_metadata(st):
    """Superblocks, cylinder group blocks, inode areas and the summary area."""
    sb = st.sb
    used = st.used
    used[0:sb.sblkno] = b"\1" * sb.sblkno
    for c in range(sb.ncg):
        lo, hi = sb.cgsblock(c), min(sb.cgdmin(c), sb.size)
        used[lo:hi] = b"\1" * (hi - lo)
    used[sb.csaddr:sb.csaddr + st.csfrags] = b"\1" * st.csfrags


def _free_and_clear(raw, ufs):
    if ufs == 1:
        return not any(raw[0:2]) and not any(raw[8:16]) and not any(raw[40:100])
    return not any(raw[0:2]) and not any(raw[16:24]) and not any(raw[112:232])


class _Walk:
    """One inode's block pointers."""

    def __init__(self, st, ino):
        self.st = st
        self.ino = ino
        self.frags = 0
        self.bad = 0
        self.dup = 0
        self.stop = False
        self.blocks = []            # (addr, nfrags) for clearing later
        self.data = []              # (lbn, addr, nfrags)

    def claim(self, addr, n, lbn=None):
        st = self.st
        sb = st.sb
        self.frags += n
        if addr < 0 or addr + n > sb.size or addr < sb.sblkno:
            self.bad += 1
            st.ask.pwarn("%d BAD I=%d\n" % (addr, self.ino))
            if self.bad > MAXBAD:
                st.ask.pwarn("EXCESSIVE BAD BLKS I=%d\n" % self.ino)
                if not st.ask.reply("CONTINUE"):
                    raise _Abort()
                self.stop = True
            return False
        for f in range(addr, addr + n):
            if st.used[f]:
                self.dup += 1
                st.dups[f] = st.dups.get(f, 0) + 1
                if self.dup <= MAXDUP:
                    st.ask.pwarn("%d DUP I=%d\n" % (f, self.ino))
                elif self.dup == MAXDUP + 1:
                    st.ask.pwarn("EXCESSIVE DUP BLKS I=%d\n" % self.ino)
                    if not st.ask.reply("CONTINUE"):
                        raise _Abort()
            else:
                st.used[f] = 1
        self.blocks.append((addr, n))
        if lbn is not None:
            self.data.append((lbn, addr, n))
        return True


class _Abort(Exception):
    pass


def _walk(st, ino, d):
    sb = st.sb
    w = _Walk(st, ino)
    for lbn in range(NDADDR):
        a = d.db[lbn]
        if a and not w.stop:
            w.claim(a, sb.numfrags(sb.fragroundup(sb.blksize(d.size, lbn))), lbn)
    base, per = NDADDR, 1
    for level in range(3):
        a = d.ib[level]
        if a and not w.stop:
            _indirect(st, w, a, level, base, per * 1)
        per_level = sb.nindir ** (level + 1)
        base += per_level
    return w


def _indirect(st, w, addr, level, base, _):
    sb = st.sb
    if not w.claim(addr, sb.frag):
        return
    span = sb.nindir ** level           # data blocks under each pointer
    try:
        ptrs = st.read(addr * sb.fsize, sb.bsize)
    except OSError:
        return
    from rumptools.formats.ffs_dinode import addr_struct
    for i, a in enumerate(addr_struct(st.ufs, st.endian, sb.nindir).unpack(ptrs)):
        if not a or w.stop:
            continue
        if level == 0:
            w.claim(a, sb.frag, base + i)
        else:
            _indirect(st, w, a, level - 1, base + i * span, None)


def _clear(st, ino, d):
    z = di.Dinode(st.ufs, None, st.endian)
    z.gen = d.gen
    st.put_inode(ino, z)


def pass1(st):
    sb = st.sb
    ask = st.ask
    mark_metadata(st)
    isz = st.isize
    for c in range(sb.ncg):
        n = sb.ipg
        if st.ufs == 2:
            cg = CG(st.read(sb.cgtod(c) * sb.fsize, sb.cgsize), st.endian)
            if cg.magic == CG_MAGIC and 0 <= cg.initediblk <= sb.ipg:
                n = cg.initediblk
            st.initedi[c] = n
        area = st.read(sb.cgimin(c) * sb.fsize, n * isz)
        for k in range(n):
            ino = c * sb.ipg + k
            if ino < 2:
                continue
            raw = area[k * isz:(k + 1) * isz]
            if not raw[0] and not raw[1]:
                if not _free_and_clear(raw, st.ufs):
                    d = di.Dinode(st.ufs, raw, st.endian)
                    if ask.unsafe("PARTIALLY ALLOCATED INODE I=%d" % ino, "CLEAR"):
                        _clear(st, ino, d)
                continue
            d = di.Dinode(st.ufs, raw, st.endian)
            _check_inode(st, ino, d)


def _check_inode(st, ino, d):
    sb = st.sb
    ask = st.ask
    ft = di.ftype(d)
    if ft not in _TYPES or d.size > sb.maxfilesize or d.size < 0 or \
            (ft == di.IFDIR and d.size == 0):
        if ask.unsafe("UNKNOWN FILE TYPE I=%d" % ino, "CLEAR"):
            _clear(st, ino, d)
        else:
            _record(st, ino, d, FSTATE)
        return
    fast = ft == di.IFLNK and (d.size < sb.maxsymlinklen or
                               (sb.maxsymlinklen == 0 and d.blocks == 0))
    if ft in _NOBLOCKS or fast:
        w = _Walk(st, ino)
    else:
        try:
            w = _walk(st, ino, d)
        except _Abort:
            w = _Walk(st, ino)
            w.bad = 1
    state = DSTATE if ft == di.IFDIR else FSTATE
    if w.bad or w.dup:
        state = DCLEAR if ft == di.IFDIR else FCLEAR
        if w.dup:
            st.dupinodes.add(ino)
    _record(st, ino, d, state, w)
    want = w.frags * (sb.fsize // 512)
    if ft not in _NOBLOCKS and not fast and d.blocks != want:
        if ask.fix("INCORRECT BLOCK COUNT I=%d (%d should be %d)" % (ino, d.blocks, want),
                   "CORRECT", " (CORRECTED)"):
            d.blocks = want
            st.put_inode(ino, d)


def _record(st, ino, d, state, w=None):
    st.state[ino] = state
    st.n_files += 1
    st.linkcnt[ino] = d.nlink
    st.nlink[ino] = d.nlink
    st.dtype[ino] = ffs_dir.iftodt(d.mode)
    if w is not None:
        st.inoblocks[ino] = w.blocks
        if state in (DSTATE, DCLEAR):
            st.dirblocks[ino] = w.data
            st.dirsize[ino] = d.size


def pass1b(st):
    """Name every other inode that claims a duplicated fragment."""
    dupset = {f for f, n in st.dups.items() if n}
    if not dupset:
        return
    for ino, blocks in list(st.inoblocks.items()):
        if ino in st.dupinodes:
            continue
        for addr, n in blocks:
            hit = [f for f in range(addr, addr + n) if f in dupset]
            for f in hit:
                st.ask.pwarn("%d DUP I=%d\n" % (f, ino))
            if hit:
                st.dupinodes.add(ino)
                st.state[ino] = DCLEAR if st.state[ino] in (DSTATE,) else \
                    (FCLEAR if st.state[ino] == FSTATE else st.state[ino])

