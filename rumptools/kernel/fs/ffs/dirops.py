"""FFS directories in the kernel: entries kept on disk in NetBSD's layout
(512-byte chunks, "." and ".." first, an entry's slack taken by the next
insert, removal by folding into the previous entry), with a parsed copy in
memory for lookups.  The vnode operations of a directory are here."""
from ....abi import errnos
from ....abi.errnos import RumpError
from ....formats import ffs_dinode as di
from ....formats import ffs_dir
from ...vfs.vnode import DT, VBLK, VCHR, VDIR, VFIFO, VLNK, VREG, VSOCK
from .inode import FfsFile

CHUNK = ffs_dir.DIRBLKSIZ


def _b(name):
    return name.encode("utf-8", "surrogateescape")


def _s(raw):
    return raw.decode("utf-8", "surrogateescape")


class FfsDir(FfsFile):
    def __init__(self, fs, ino, d):
        super().__init__(fs, ino, d)
        self._chunks = None          # [[Entry...] per chunk]
        self._index = None           # name bytes -> Entry

    def release(self):
        """Free everything, and forget the parsed copy of the entries."""
        self._chunks = self._index = None
        super().release()

    # -- the parsed copy
    def _load(self):
        if self._chunks is not None:
            return
        size = self.d.size
        if size % CHUNK or size > (1 << 31):
            raise RumpError(errnos.EIO)
        data = self.read_data(0, size)
        chunks, index = [], {}
        maxino = self.fs.sb.max_inode()
        for start in range(0, size, CHUNK):
            try:
                ents = ffs_dir.parse_chunk(data, start, self.fs.sb.endian, maxino)
            except ffs_dir.DirError:
                raise RumpError(errnos.EIO) from None
            chunks.append(ents)
            for e in ents:
                if e.ino:
                    index[e.name] = e
        self._chunks, self._index = chunks, index

    def _write_chunk(self, k):
        endian = self.fs.sb.endian
        buf = bytearray(CHUNK)
        base = k * CHUNK
        for e in self._chunks[k]:
            ffs_dir.pack_entry(buf, e.offset - base, e.ino, e.reclen, e.type, e.name, endian)
        self.write_data(base, bytes(buf))

    def _alive(self):
        if self.d.nlink == 0:
            raise RumpError(errnos.ENOENT)

    # -- lookups
    def entry(self, name):
        self._load()
        return self._index.get(_b(name))

    def lookup(self, name):
        self._alive()
        if name == ".":
            return self
        if name == "..":
            return self.parent()
        e = self.entry(name)
        if e is None:
            raise RumpError(errnos.ENOENT)
        return self.fs.vget(e.ino)

    def parent(self):
        self._alive()
        self._load()
        e = self._index.get(b"..")
        if e is None:
            raise RumpError(errnos.EIO)
        return self if e.ino == self.ino else self.fs.vget(e.ino)

    def name_of(self, child):
        self._load()
        for name, e in self._index.items():
            if e.ino == child.ino and name not in (b".", b".."):
                return _s(name)
        raise RumpError(errnos.ENOENT)

    def is_empty(self):
        self._load()
        return all(n in (b".", b"..") for n in self._index)

    def readdir(self, cookie):
        if self.d.nlink == 0:
            return []
        self._load()
        out = []
        for ents in self._chunks:
            for e in ents:
                if e.ino and e.offset + 1 > cookie:
                    out.append((e.offset + 1, e.ino, e.type, _s(e.name)))
        return out

    # -- changing entries (the caller writes inodes in the right order)
    def add_entry(self, name, ino, dtype):
        self._load()
        raw = _b(name)
        if len(raw) > ffs_dir.MAXNAMLEN:
            raise RumpError(errnos.ENAMETOOLONG)
        need = ffs_dir.dirsiz(len(raw))
        for k, ents in enumerate(self._chunks):
            for i, e in enumerate(ents):
                used = ffs_dir.dirsiz(len(e.name)) if e.ino else 0
                if e.reclen - used >= need:
                    if e.ino:
                        new = ffs_dir.Entry(e.offset + used, ino, e.reclen - used, dtype, raw)
                        e.reclen = used
                        ents.insert(i + 1, new)
                    else:
                        e.ino, e.type, e.name = ino, dtype, raw
                        new = e
                    self._index[raw] = new
                    self._write_chunk(k)
                    return
        k = len(self._chunks)
        new = ffs_dir.Entry(k * CHUNK, ino, CHUNK, dtype, raw)
        self._chunks.append([new])
        try:
            self._write_chunk(k)
        except RumpError:
            self._chunks.pop()
            raise
        self._index[raw] = new
        self.update()

    def remove_entry(self, name):
        self._load()
        raw = _b(name) if isinstance(name, str) else name
        e = self._index.pop(raw)
        k = e.offset // CHUNK
        ents = self._chunks[k]
        i = ents.index(e)
        if i == 0:
            e.ino, e.name, e.type = 0, b"", 0
        else:
            ents[i - 1].reclen += e.reclen
            del ents[i]
        self._write_chunk(k)

    def set_entry(self, name, ino, dtype):
        self._load()
        raw = _b(name) if isinstance(name, str) else name
        e = self._index[raw]
        e.ino, e.type = ino, dtype
        self._write_chunk(e.offset // CHUNK)

    # -- vnode operations
    def create(self, name, vtype, mode, rdev=0, target=None):
        self._alive()
        if self.entry(name) is not None:
            raise RumpError(errnos.EEXIST)
        if len(_b(name)) > ffs_dir.MAXNAMLEN:
            raise RumpError(errnos.ENAMETOOLONG)
        return self.fs.make_node(self, name, vtype, mode, rdev, target)

    def link(self, name, vp):
        if vp.mount is not self.mount:
            raise RumpError(errnos.EXDEV)
        self._alive()
        if self.entry(name) is not None:
            raise RumpError(errnos.EEXIST)
        if vp.d.nlink >= 32767:
            raise RumpError(errnos.EMLINK)
        now = self.fs.now()
        vp.nlink += 1
        vp.touch(now, c=True)
        vp.update()
        self.add_entry(name, vp.ino, DT[vp.vtype])
        self.touch(now, m=True)
        self.update()

    def remove(self, name, want_dir):
        self._alive()
        e = self.entry(name)
        if e is None or name in (".", ".."):
            raise RumpError(errnos.ENOENT if e is None else errnos.EINVAL)
        vp = self.fs.vget(e.ino)
        if want_dir:
            if vp.vtype != VDIR:
                raise RumpError(errnos.ENOTDIR)
            if vp.mounted_here is not None:
                raise RumpError(errnos.EBUSY)
            if not vp.is_empty():
                raise RumpError(errnos.ENOTEMPTY)
        elif vp.vtype == VDIR:
            raise RumpError(errnos.EPERM)
        now = self.fs.now()
        self.remove_entry(name)
        if want_dir:
            vp.nlink = 0
            self.nlink -= 1
        else:
            vp.nlink -= 1
        self.touch(now, m=True)
        vp.touch(now, c=True)
        self.update()
        vp.update()
        self.fs.inactive(vp)
        return vp

    def _ancestry(self):
        chain, d = [self], self
        for _ in range(self.fs.sb.max_inode()):
            if d.ino == 2:
                break
            d = d.parent()
            chain.append(d)
        return chain

    def rename(self, name, newdir, newname):
        self._alive()
        newdir._alive()
        if newdir.mount is not self.mount:
            raise RumpError(errnos.EXDEV)
        if name in (".", "..") or newname in (".", ".."):
            raise RumpError(errnos.EINVAL)
        e = self.entry(name)
        if e is None:
            raise RumpError(errnos.ENOENT)
        vp = self.fs.vget(e.ino)
        te = newdir.entry(newname)
        target = self.fs.vget(te.ino) if te is not None else None
        if newdir is not self:
            chain = newdir._ancestry()
            if self in chain:
                if vp in chain:
                    raise RumpError(errnos.EINVAL)
            elif target is self:
                raise RumpError(errnos.ENOTEMPTY)
            if vp.vtype == VDIR and vp in chain:
                raise RumpError(errnos.EINVAL)
        if vp.mounted_here is not None or (target is not None and target.mounted_here):
            raise RumpError(errnos.EBUSY)
        if target is vp:
            if newdir is not self or newname != name:
                self.remove(name, False)
            return
        if target is not None:
            if vp.vtype == VDIR and target.vtype == VDIR:
                if not target.is_empty():
                    raise RumpError(errnos.ENOTEMPTY)
            elif vp.vtype == VDIR:
                raise RumpError(errnos.ENOTDIR)
            elif target.vtype == VDIR:
                raise RumpError(errnos.EISDIR)
        now = self.fs.now()
        # 1. one more link while both names exist
        vp.nlink += 1
        vp.touch(now, c=True)
        vp.update()
        # 2. the new name
        if target is not None:
            newdir.set_entry(newname, vp.ino, DT[vp.vtype])
            if target.vtype == VDIR:
                target.nlink = 0
                newdir.nlink -= 1
            else:
                target.nlink -= 1
            target.touch(now, c=True)
            target.update()
        else:
            newdir.add_entry(newname, vp.ino, DT[vp.vtype])
        # 3. the old name goes
        self.remove_entry(name)
        vp.nlink -= 1
        vp.update()
        if vp.vtype == VDIR and newdir is not self:
            vp.set_entry("..", newdir.ino, ffs_dir.DT_DIR)
            self.nlink -= 1
            newdir.nlink += 1
        self.touch(now, m=True)
        newdir.touch(now, m=True)
        self.update()
        newdir.update()
        if target is not None:
            self.fs.inactive(target)


def new_dinode(fs, vtype, mode, now_ns, gen):
    d = di.Dinode(fs.sb.ufs, None, fs.sb.endian)
    d.mode = {VREG: di.IFREG, VDIR: di.IFDIR, VLNK: di.IFLNK, VBLK: di.IFBLK,
              VCHR: di.IFCHR, VFIFO: di.IFIFO, VSOCK: di.IFSOCK}[vtype] | (mode & 0o7777)
    d.gen = gen
    d.nlink = 1
    s, n = divmod(now_ns, 1_000_000_000)
    d.atime = d.mtime = d.ctime = s
    d.atimensec = d.mtimensec = d.ctimensec = n
    if fs.sb.ufs == 2:
        d.birthtime, d.birthnsec = s, n
    return d
