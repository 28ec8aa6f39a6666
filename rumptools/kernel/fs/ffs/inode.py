"""FFS vnodes: the dinode's fields as vnode attributes, the block map (direct,
single, double and triple indirect), reading, writing with NetBSD's fragment
rules (only the last block of a file under 12 blocks is partial), sparse
files, truncation.

Write order, so that fsck can always repair an interrupted run: blocks are
taken in the group map first, data is written next, the inode that points to
it last; on truncation the inode is written before its blocks are freed.
"""
from ....abi import errnos
from ....abi.errnos import RumpError
from ....formats import ffs_dinode as di
from ....formats.ffs_superblock import NDADDR, NIADDR
from ...vfs.specfs import SpecOps
from ...vfs.vnode import VBLK, VCHR, VDIR, VFIFO, VLNK, VREG, VSOCK, Vnode

VTYPE = {di.IFREG: VREG, di.IFDIR: VDIR, di.IFLNK: VLNK, di.IFBLK: VBLK, di.IFCHR: VCHR,
         di.IFIFO: VFIFO, di.IFSOCK: VSOCK}
IFMT_OF = {v: k for k, v in VTYPE.items()}


class FfsNode(Vnode):
    """Attributes live in self.d (the dinode); setting one marks it dirty."""

    def __init__(self, fs, ino, d):
        self.fs = fs
        self.kernel = fs.kernel
        self.mount = fs.mount
        self.ino = ino
        self.d = d
        self.mounted_here = None
        self.opencount = 0
        self.vtype = VTYPE.get(d.mode & di.IFMT, VREG)

    # -- attributes over the dinode
    def _mark_dirty(self):
        """The dinode changed: fs.sync (or update) writes it."""
        self.fs.dirty_nodes.add(self)

    def _set(self, name, value):
        setattr(self.d, name, value)
        self._mark_dirty()

    mode = property(lambda s: s.d.mode & 0o7777,
                    lambda s, v: s._set("mode", (s.d.mode & di.IFMT) | (v & 0o7777)))
    uid = property(lambda s: s.d.uid, lambda s, v: s._set("uid", v & 0xffffffff))
    gid = property(lambda s: s.d.gid, lambda s, v: s._set("gid", v & 0xffffffff))
    nlink = property(lambda s: s.d.nlink, lambda s, v: s._set("nlink", v))

    @property
    def rdev(self):
        return di.dev_number(self.d) if self.vtype in (VBLK, VCHR) else 0

    @rdev.setter
    def rdev(self, v):
        pass

    @property
    def size(self):
        return self.d.size

    def _time(self, sec, nsec):
        return getattr(self.d, sec) * 1_000_000_000 + getattr(self.d, nsec)

    def _settime(self, sec, nsec, ns):
        s, n = divmod(int(ns), 1_000_000_000)
        if self.fs.sb.ufs == 1:
            s = max(-(1 << 31), min(s, (1 << 31) - 1))
        setattr(self.d, sec, s)
        setattr(self.d, nsec, n)
        self._mark_dirty()

    atime = property(lambda s: s._time("atime", "atimensec"),
                     lambda s, v: s._settime("atime", "atimensec", v))
    mtime = property(lambda s: s._time("mtime", "mtimensec"),
                     lambda s, v: s._settime("mtime", "mtimensec", v))
    ctime = property(lambda s: s._time("ctime", "ctimensec"),
                     lambda s, v: s._settime("ctime", "ctimensec", v))

    @property
    def birthtime(self):
        if self.fs.sb.ufs == 2:
            return self._time("birthtime", "birthnsec")
        return 0

    @birthtime.setter
    def birthtime(self, v):
        if self.fs.sb.ufs == 2:
            self._settime("birthtime", "birthnsec", v)

    def stat(self):
        """st_blocks is the dinode's count of 512-byte units (data and indirect)."""
        s = list(super().stat())
        s[9] = self.d.blocks
        return tuple(s)

    def close(self, flags):
        """Last close of one open: a file with no names left is freed now."""
        if self.d.nlink == 0 and self.opencount == 0 and self.fs.nodes.get(self.ino) is self:
            self.fs.inactive(self)

    def update(self):
        """Write the dinode now."""
        self.fs.write_inode(self)

    def fsync(self):
        self.fs.sync()

    # -- block map
    def bmap(self, lbn):
        """Fragment address of logical block lbn, 0 for a hole."""
        d = self.d
        if lbn < NDADDR:
            return d.db[lbn]
        fs = self.fs
        nindir = fs.sb.nindir
        lbn -= NDADDR
        span = nindir
        for level in range(NIADDR):
            if lbn < span:
                addr = d.ib[level]
                per = span // nindir
                while addr:
                    ptrs = fs.indirect(addr)
                    idx = lbn // per
                    addr = ptrs[idx]
                    if per == 1:
                        return addr
                    lbn %= per
                    per //= nindir
                return 0
            lbn -= span
            span *= nindir
        raise RumpError(errnos.EFBIG)

    def _path(self, lbn):
        """(level, [indexes]) of an indirect lbn (level 0 = single)."""
        nindir = self.fs.sb.nindir
        lbn -= NDADDR
        span = nindir
        for level in range(NIADDR):
            if lbn < span:
                idx = []
                per = span // nindir
                while True:
                    idx.append(lbn // per)
                    lbn %= per
                    if per == 1:
                        return level, idx
                    per //= nindir
            lbn -= span
            span *= nindir
        raise RumpError(errnos.EFBIG)

    def _blocks_add(self, nfrags):
        self.d.blocks += nfrags * (self.fs.sb.fsize // 512)

    def set_block(self, lbn, addr):
        """Point lbn at addr, allocating indirect blocks on the way."""
        d = self.d
        if lbn < NDADDR:
            d.db[lbn] = addr
            return
        fs = self.fs
        level, idx = self._path(lbn)
        if not d.ib[level]:
            d.ib[level] = fs.new_indirect(self)
            self._blocks_add(fs.sb.frag)
        parent = d.ib[level]
        for k in idx[:-1]:
            ptrs = fs.indirect(parent)
            child = ptrs[k]
            if not child:
                child = fs.new_indirect(self)
                self._blocks_add(fs.sb.frag)
                fs.set_indirect(parent, k, child)
            parent = child
        fs.set_indirect(parent, idx[-1], addr)

    def pref_cg(self):
        return self.ino // self.fs.sb.ipg


class FfsFile(FfsNode):
    """Regular files (and the data of slow symlinks and directories)."""

    def read(self, offset, n):
        if self.vtype == VDIR:
            raise RumpError(errnos.EISDIR)
        return self.read_data(offset, n)

    def read_data(self, offset, n):
        size = self.d.size
        if offset >= size or n <= 0:
            return b""
        n = min(n, size - offset)
        fs = self.fs
        sb = fs.sb
        bs = sb.bsize
        out = bytearray(n)
        pos = offset
        end = offset + n
        while pos < end:
            lbn = pos // bs
            boff = pos % bs
            # gather a run of physically contiguous blocks
            addr = self.bmap(lbn)
            run = 1
            while (lbn + run) * bs < end and addr:
                nxt = self.bmap(lbn + run)
                if nxt != addr + run * sb.frag:
                    break
                run += 1
            chunk_end = min(end, (lbn + run) * bs)
            if addr:
                data = fs.dev_read(addr * sb.fsize + boff, chunk_end - pos)
                out[pos - offset:chunk_end - offset] = data
            pos = chunk_end
        return bytes(out)

    def write(self, offset, data):
        if self.vtype == VDIR:
            raise RumpError(errnos.EISDIR)
        n = self.write_data(offset, data)
        now = self.fs.now()
        self.touch(now, m=True)
        self.update()
        return n

    def _lastfrags(self, size, lbn):
        sb = self.fs.sb
        return sb.numfrags(sb.fragroundup(sb.blksize(size, lbn)))

    def write_data(self, offset, data):
        fs = self.fs
        sb = fs.sb
        n = len(data)
        if n == 0:
            return 0
        end = offset + n
        if end > sb.maxfilesize:
            raise RumpError(errnos.EFBIG)
        bs = sb.bsize
        old_size = self.d.size
        new_size = max(old_size, end)
        # the old last block, if partial, becomes whole when the file grows past it
        eff = old_size              # the size the allocated fragments stand for
        if old_size:
            old_last = (old_size - 1) // bs
            if old_last < NDADDR and (new_size - 1) // bs > old_last:
                self._grow_block(old_last, old_size, (old_last + 1) * bs)
                eff = (old_last + 1) * bs
        first, last = offset // bs, (end - 1) // bs
        view = memoryview(data)
        pos = offset
        fsz = sb.fsize
        run_off, run, run_end = None, [], None     # contiguous pieces, written at once
        prev = None                                 # the block before, for placement
        try:
            for lbn in range(first, last + 1):
                want = self._lastfrags(new_size, lbn) if lbn < NDADDR else sb.frag
                bstart = lbn * bs
                lo = max(pos, bstart)
                hi = min(end, bstart + bs)
                addr = self.bmap(lbn)
                if addr and lbn < NDADDR and bstart < eff:
                    if self._lastfrags(eff, lbn) < want:
                        if run:
                            fs.dev_write(run_off, b"".join(run))
                            run_off, run = None, []
                        addr = self._grow_block(lbn, eff, new_size)
                if not addr:
                    whole = lo == bstart and hi - bstart == want * fsz
                    addr = self._alloc(lbn, want, zero=not whole, prev=prev)
                prev = addr
                doff = addr * fsz + (lo - bstart)
                piece = view[lo - offset:hi - offset]
                if run and run_end == doff:
                    run.append(piece)
                else:
                    if run:
                        fs.dev_write(run_off, b"".join(run))
                    run_off, run = doff, [piece]
                run_end = doff + len(piece)
                pos = hi
                if hi > self.d.size:
                    self.d.size = hi
                if len(run) >= 256:
                    fs.dev_write(run_off, b"".join(run))
                    run_off, run = None, []
            if run:
                fs.dev_write(run_off, b"".join(run))
        finally:
            fs.flush_indirects()
            if self.d.size < new_size and pos >= end:
                self.d.size = new_size
            self._mark_dirty()
        return n

    def _alloc(self, lbn, nfrags, zero=True, prev=None):
        """A new block for lbn, zeroed unless the caller fills all of it."""
        fs = self.fs
        sb = fs.sb
        if prev is None:
            prev = self.bmap(lbn - 1) if lbn > 0 else 0
        pref = prev + sb.frag if prev else 0
        cg = self.pref_cg()
        if lbn >= NDADDR and (lbn - NDADDR) % max(1, sb.maxbpg) == 0:
            # ffs_blkpref: each maxbpg run of a big file starts in the next
            # group with at least the average number of free blocks
            cg = fs.alloc.spread_group(cg + lbn // max(1, sb.maxbpg))
            pref = sb.cgbase(cg) + sb.dblkno
        if nfrags >= sb.frag:
            addr = fs.alloc.alloc_block(cg, pref)
        else:
            addr = fs.alloc.alloc_frags(nfrags, self.pref_cg())
        if zero:
            fs.dev_write(addr * sb.fsize, bytes(nfrags * sb.fsize))
        try:
            self.set_block(lbn, addr)
        except RumpError:
            fs.alloc.free(addr, nfrags)
            raise
        self._blocks_add(nfrags)
        return addr

    def _grow_block(self, lbn, old_size, new_size):
        """Make lbn's fragments enough for new_size (in place or moved)."""
        fs = self.fs
        sb = fs.sb
        addr = self.d.db[lbn]
        old = self._lastfrags(old_size, lbn)
        new = self._lastfrags(new_size, lbn)
        if not addr or new <= old:
            return addr
        if fs.alloc.extend_in_place(addr, old, new):
            fs.dev_write((addr + old) * sb.fsize, bytes((new - old) * sb.fsize))
            self._blocks_add(new - old)
            return addr
        keep = fs.dev_read(addr * sb.fsize, old * sb.fsize)
        if new >= sb.frag:
            naddr = fs.alloc.alloc_block(self.pref_cg(), addr)
        else:
            naddr = fs.alloc.alloc_frags(new, self.pref_cg())
        fs.dev_write(naddr * sb.fsize, keep + bytes((new - old) * sb.fsize))
        self.d.db[lbn] = naddr
        self.update()
        fs.alloc.free(addr, old)
        self._blocks_add(new - old)
        return naddr

    def truncate(self, size):
        if self.vtype == VDIR:
            raise RumpError(errnos.EISDIR)
        self.set_size(size)
        self.touch(self.fs.now(), m=True)
        self.update()

    def set_size(self, size):
        fs = self.fs
        sb = fs.sb
        if size < 0:
            raise RumpError(errnos.EINVAL)
        if size > sb.maxfilesize:
            raise RumpError(errnos.EFBIG)
        old = self.d.size
        if size > old:
            # as NetBSD: the block holding the new last byte is allocated
            self.write_data(size - 1, b"\0")
            return
        if size == old:
            return
        self._shrink(size)

    def _shrink(self, size):
        fs = self.fs
        sb = fs.sb
        bs = sb.bsize
        old = self.d.size
        freed = []                  # (addr, nfrags), freed after the inode is written
        keep_last = (size - 1) // bs if size else -1
        # direct blocks
        for lbn in range(NDADDR):
            a = self.d.db[lbn]
            if not a:
                continue
            have = self._lastfrags(old, lbn) if lbn * bs < old else sb.frag
            if lbn > keep_last:
                freed.append((a, have))
                self.d.db[lbn] = 0
            elif lbn == keep_last:
                want = self._lastfrags(size, lbn)
                if want < have:
                    freed.append((a + want, have - want))
        # indirect blocks
        base, span = NDADDR, sb.nindir
        for level in range(NIADDR):
            a = self.d.ib[level]
            if a:
                if self._trim(a, level, base, keep_last, freed):
                    freed.append((a, sb.frag))
                    self.d.ib[level] = 0
            base += span
            span *= sb.nindir
        # zero the tail of the new last block, so growing again reads zeros
        if size % bs and keep_last >= 0:
            a = self.bmap(keep_last)
            if a:
                alloc_len = self._lastfrags(size, keep_last) * sb.fsize \
                    if keep_last < NDADDR else bs
                n = alloc_len - size % bs
                if n > 0:
                    fs.dev_write(a * sb.fsize + size % bs, bytes(n))
        self.d.size = size
        self.d.blocks -= sum(n for _, n in freed) * (sb.fsize // 512)
        self.update()
        for a, n in freed:
            fs.alloc.free(a, n)
            fs.forget_indirect(a)

    def _trim(self, addr, level, base, keep_last, freed):
        """Free what lies past keep_last under indirect block addr; True if
        the indirect block itself is then empty."""
        fs = self.fs
        sb = fs.sb
        per = sb.nindir ** level
        ptrs = list(fs.indirect(addr))
        changed = False
        for i, a in enumerate(ptrs):
            if not a:
                continue
            first = base + i * per
            if level == 0:
                if first > keep_last:
                    freed.append((a, sb.frag))
                    ptrs[i] = 0
                    changed = True
            elif first + per - 1 > keep_last:
                if self._trim(a, level - 1, first, keep_last, freed):
                    freed.append((a, sb.frag))
                    ptrs[i] = 0
                    changed = True
        if not any(ptrs):
            return True
        if changed:
            fs.put_indirect(addr, ptrs)
        return False

    def release(self):
        """Free everything (last link gone and closed)."""
        if self.d.size or any(self.d.db) or any(self.d.ib):
            if self.vtype == VLNK and self.d.blocks == 0:
                self.d.size = 0
                self.d.db = [0] * NDADDR
                self.d.ib = [0] * NIADDR
            else:
                self._shrink(0)


class FfsLink(FfsFile):
    def readlink(self):
        d = self.d
        sb = self.fs.sb
        if d.blocks == 0 and d.size < max(sb.maxsymlinklen, 1):
            raw = di.fast_link_target(d)
        else:
            raw = self.read_data(0, d.size)
        return raw.decode("utf-8", "surrogateescape")

    def read(self, offset, n):
        raise RumpError(errnos.EINVAL)

    def write(self, offset, data):
        raise RumpError(errnos.EINVAL)


class FfsSpecial(SpecOps, FfsNode):
    @property
    def size(self):
        return 0


class FfsOther(FfsNode):
    """fifos and sockets: names only."""
