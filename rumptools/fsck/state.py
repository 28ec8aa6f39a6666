"""What the checker knows about the file system while it runs: the disk, the
superblock, per-inode state and remaining link counts, the block map it
rebuilds in phase 1 and corrects later, and the writes it makes (none with -n).

Inode states follow fsck_ffs: USTATE free, FSTATE file, DSTATE directory not
yet reached from the root, DFOUND reached, FCLEAR/DCLEAR to be cleared.
"""
import pwd
import time as _time

from rumptools.formats import ffs_dinode as di

USTATE, FSTATE, DSTATE, DFOUND, FCLEAR, DCLEAR = range(6)
MAXBAD = 10
MAXDUP = 10


class State:
    def __init__(self, disk, sb, sboff, dialogue, write_ok):
        self.disk = disk
        self.sb = sb
        self.sboff = sboff
        self.ask = dialogue
        self.write_ok = write_ok
        self.ufs = sb.ufs
        self.endian = sb.endian
        self.isize = sb.inode_size
        self.maxino = sb.ncg * sb.ipg
        self.state = bytearray(self.maxino)
        self.linkcnt = {}           # ino -> link count not yet accounted for
        self.nlink = {}             # ino -> di_nlink as read (after fixes)
        self.dtype = {}             # ino -> DT_* for entries
        self.dirblocks = {}         # dir ino -> [(lbn, addr, nfrags)]
        self.dirsize = {}           # dir ino -> size
        self.parent = {}            # dir ino -> where it was found (phase 2)
        self.dotdot = {}            # dir ino -> what its ".." says
        self.inoblocks = {}         # ino -> [(addr, nfrags)] for clearing (all inodes)
        self.used = bytearray(sb.size)      # 1 = fragment in use
        self.dups = {}              # frag addr -> extra claims
        self.dupinodes = set()
        self.n_files = 0
        self.lfdir = 0
        self.modified = False
        self.csfrags = sb.cssize // sb.fsize
        self.initedi = [sb.ipg] * sb.ncg   # UFS2: inodes initialized per group

    # ---- raw I/O
    def read(self, off, n):
        data = self.disk.read(off, n)
        if len(data) < n:
            data = bytes(data) + bytes(n - len(data))
        return data

    def write(self, off, data):
        if not self.write_ok:
            return
        self.disk.write(off, data)
        self.modified = True

    # ---- inodes
    def inode(self, ino):
        raw = self.read(self.sb.ino_offset(ino), self.isize)
        return di.Dinode(self.ufs, raw, self.endian)

    def put_inode(self, ino, d):
        self.write(self.sb.ino_offset(ino), d.pack())

    def clear_inode(self, ino):
        """Zero ino and give its blocks back to the map."""
        d = self.inode(ino)
        gen = d.gen
        z = di.Dinode(self.ufs, None, self.endian)
        z.gen = gen
        self.put_inode(ino, z)
        for addr, n in self.inoblocks.pop(ino, []):
            for f in range(addr, addr + n):
                if self.dups.get(f):
                    self.dups[f] -= 1
                elif 0 <= f < len(self.used):
                    self.used[f] = 0
        if self.state[ino] in (DSTATE, DFOUND, DCLEAR):
            self.dirblocks.pop(ino, None)
        self.state[ino] = USTATE
        self.linkcnt.pop(ino, None)
        self.n_files -= 1

    def pinode(self, ino):
        """fsck's " I=n  OWNER=u MODE=m\\nSIZE=s MTIME=... " text."""
        d = self.inode(ino)
        try:
            owner = pwd.getpwuid(d.uid).pw_name
        except (KeyError, OverflowError):
            owner = "%u" % d.uid
        t = _time.ctime(d.mtime if -(1 << 40) < d.mtime < (1 << 40) else 0)
        text = " I=%d  OWNER=%s MODE=%o\n" % (ino, owner, d.mode)
        if self.ask.preen:
            text += "%s: " % self.ask.dev
        text += "SIZE=%d MTIME=%12.12s %4.4s " % (d.size, t[4:], t[20:])
        return text

    # ---- paths for messages
    def pathname(self, ino, limit=64):
        if ino == 2:
            return "/"
        parts = []
        cur = ino
        for _ in range(limit):
            if cur == 2:
                break
            par = self.parent.get(cur)
            if not par:
                return "?/" + "/".join(reversed(parts)) if parts else "?"
            name = self._name_in(par, cur)
            parts.append(name if name is not None else "?")
            cur = par
        return "/" + "/".join(reversed(parts))

    def _name_in(self, dirino, ino):
        from .dirs import entries
        for e in entries(self, dirino):
            if e.ino == ino and e.name not in (b".", b".."):
                return e.name.decode("utf-8", "replace")
        return None

    # ---- block allocation (lost+found)
    def alloc_frags(self, n, pref_cg=0):
        """A run of n free fragments inside one block, marked used; or None."""
        sb = self.sb
        frag = sb.frag
        for c in list(range(pref_cg, sb.ncg)) + list(range(0, pref_cg)):
            lo = sb.cgdmin(c) + (self.csfrags if c == 0 else 0)
            hi = min(sb.cgbase(c + 1), sb.size)
            b = -(-lo // frag) * frag
            while b + frag <= hi:
                blk = self.used[b:b + frag]
                if not any(blk):
                    self.used[b:b + n] = b"\1" * n
                    return b
                b += frag
        return None

    def alloc_inode(self, pref_cg=0):
        sb = self.sb
        for ino in range(max(3, pref_cg * sb.ipg), self.maxino):
            if self.state[ino] == USTATE and self._initialized(ino):
                return ino
        return None

    def _initialized(self, ino):
        if self.ufs == 1:
            return True
        return ino % self.sb.ipg < self.initedi[ino // self.sb.ipg]
