"""rumpfs: the in-memory root file system of a rump kernel.

Directories keep their entries in insertion order with a per-entry cookie
(so getdents offsets survive removals), regular files keep their bytes in
a bytearray, symlinks their target, device nodes their device number.
Everything a rumpfs keeps counts against the kernel's one memory budget
(kern/membudget.py: the -r limit, else half the host's memory, shared with
every other mount, pipes and sockets): file data, and metadata -- a fixed
cost per node plus its symlink target, a fixed cost per directory entry
plus its name. Growing past the budget is ENOSPC, not an out-of-memory
server; statvfs reports the shared budget (blocks) and what is left of it
(bfree; files/ffree in nodes of the fixed cost). A node's bytes are given
back when its last name and last open are gone, an entry's when it is
removed, a whole mount's when it is unmounted (unless a forced unmount
leaves its tree in use: then the charges stay until the server ends).
"""
import itertools

from ...abi import errnos
from ...abi.errnos import RumpError
from ..kern.membudget import ENTRY_COST, NODE_COST
from ...abi.mntflags import MNT_LOCAL
from .mount import Mount
from .specfs import SpecOps
from .vnode import DT, VBLK, VCHR, VDIR, VFIFO, VLNK, VREG, VSOCK, Vnode

MAX_FILE = 1 << 40


def _nbytes(name):
    return len(name.encode("utf-8", "surrogateescape"))


class RumpfsNode(Vnode):
    meta = 0            # budget bytes charged for the node itself (released once)

    def __init__(self, fs, vtype, mode, rdev=0):
        super().__init__(fs.mount, next(fs.mount.next_ino), mode, now_ns=fs.now(), rdev=rdev)
        self.fs = fs
        self.kernel = fs.kernel
        self.vtype = vtype

    def free_meta(self):
        """Give back the node's own charge (its last name is gone)."""
        if self.meta:
            self.fs.charge(-self.meta)
            self.meta = 0


class RumpfsFile(RumpfsNode):
    def __init__(self, fs, mode):
        super().__init__(fs, VREG, mode)
        self.data = bytearray()

    @property
    def size(self):
        return len(self.data)

    def read(self, offset, n):
        return bytes(self.data[offset:offset + n])

    def _resize(self, size):
        """Grow or shrink the data to size bytes (zeros), within the budget."""
        if size > MAX_FILE:
            raise RumpError(errnos.EFBIG)
        self.fs.charge(size - len(self.data))
        if size < len(self.data):
            del self.data[size:]
        else:
            self.data.extend(bytes(size - len(self.data)))

    def write(self, offset, data):
        end = offset + len(data)
        if end > len(self.data):
            self._resize(end)
        self.data[offset:end] = data
        self.touch(self.fs.now(), m=True)
        return len(data)

    def truncate(self, size):
        self._resize(size)
        self.touch(self.fs.now(), m=True)

    def reclaim(self):
        """Free the data and the node once no name and no open file is left."""
        if self.nlink == 0 and self.opencount == 0:
            if self.data:
                self.fs.charge(-len(self.data))
                self.data = bytearray()
            self.free_meta()

    def close(self, flags):
        self.reclaim()


class RumpfsLink(RumpfsNode):
    def __init__(self, fs, mode, target):
        super().__init__(fs, VLNK, mode)
        self.target = target

    @property
    def size(self):
        return len(self.target.encode("utf-8", "surrogateescape"))

    def readlink(self):
        return self.target


class RumpfsSpecial(SpecOps, RumpfsNode):
    @property
    def size(self):
        return 0


class RumpfsOther(RumpfsNode):
    """fifos and sockets: names in the namespace, nothing more (yet)."""


class RumpfsDir(RumpfsNode):
    """A directory. Once removed (nlink 0) it is empty for good: no "." or ".."
    to look up, nothing may be created in it (ENOENT), as in tmpfs."""

    def __init__(self, fs, mode, parent=None):
        super().__init__(fs, VDIR, mode)
        self.entries = {}                 # name -> [cookie, vnode], in cookie order
        self._parent = parent if parent is not None else self
        self.nlink = 2
        self.cookies = itertools.count(3)   # 1 and 2 are . and ..

    @property
    def size(self):
        return 512 * (1 + len(self.entries) // 16)

    def _alive(self):
        if self.nlink == 0:
            raise RumpError(errnos.ENOENT)

    def parent(self):
        self._alive()
        return self._parent

    def lookup(self, name):
        self._alive()
        if name == ".":
            return self
        if name == "..":
            return self._parent
        entry = self.entries.get(name)
        if entry is None:
            raise RumpError(errnos.ENOENT)
        return entry[1]

    def _enter(self, name, vp):
        self._alive()
        if name in self.entries:
            raise RumpError(errnos.EEXIST)
        self.fs.charge(ENTRY_COST + _nbytes(name))
        self.entries[name] = [next(self.cookies), vp]
        self.touch(self.fs.now(), m=True)

    def _forget(self, name):
        del self.entries[name]
        self.fs.charge(-(ENTRY_COST + _nbytes(name)))

    def create(self, name, vtype, mode, rdev=0, target=None):
        self._alive()
        if name in self.entries:
            raise RumpError(errnos.EEXIST)
        fs = self.fs
        meta = NODE_COST + (_nbytes(target) if vtype == VLNK else 0)
        fs.charge(meta)
        try:                                # the node and its entry, or neither
            vp = self._make(name, vtype, mode, rdev, target)
            self._enter(name, vp)
        except BaseException:
            fs.charge(-meta)
            raise
        vp.meta = meta
        if vtype == VDIR:
            self.nlink += 1
        return vp

    def _make(self, name, vtype, mode, rdev, target):
        fs = self.fs
        if vtype == VREG:
            vp = RumpfsFile(fs, mode)
        elif vtype == VDIR:
            vp = RumpfsDir(fs, mode, self)
        elif vtype == VLNK:
            vp = RumpfsLink(fs, mode, target)
        elif vtype in (VBLK, VCHR):
            vp = RumpfsSpecial(fs, vtype, mode, rdev)
        elif vtype in (VFIFO, VSOCK):
            vp = RumpfsOther(fs, vtype, mode)
        else:
            raise RumpError(errnos.EINVAL)
        return vp

    def link(self, name, vp):
        if vp.mount is not self.mount:
            raise RumpError(errnos.EXDEV)
        self._enter(name, vp)
        vp.nlink += 1
        vp.touch(self.fs.now(), c=True)

    def remove(self, name, want_dir):
        entry = self.entries.get(name)
        if entry is None:
            raise RumpError(errnos.ENOENT)
        vp = entry[1]
        if want_dir:
            if vp.vtype != VDIR:
                raise RumpError(errnos.ENOTDIR)
            if vp.mounted_here is not None:
                raise RumpError(errnos.EBUSY)
            if vp.entries:
                raise RumpError(errnos.ENOTEMPTY)
            self.nlink -= 1
            vp.nlink = 0
            vp.free_meta()
        else:
            if vp.vtype == VDIR:
                raise RumpError(errnos.EPERM)
            vp.nlink -= 1
            if isinstance(vp, RumpfsFile):
                vp.reclaim()
            elif vp.nlink == 0 and isinstance(vp, RumpfsNode):  # (an etfs key linked here is not ours)
                vp.free_meta()
        self._forget(name)
        now = self.fs.now()
        self.touch(now, m=True)
        vp.touch(now, c=True)
        return vp

    def _ancestry(self):
        """self and its ancestors up to the file system root, nearest first."""
        chain, d = [self], self
        while d._parent is not d:
            d = d._parent
            chain.append(d)
        return chain

    def rename(self, name, newdir, newname):
        """Move entry name to newdir/newname, replacing what is there (genfs_sane_rename).

        A directory may not move below itself (EINVAL), a target directory
        must be empty (ENOTEMPTY) and of the same kind (ENOTDIR, EISDIR);
        renaming one hard link over another of the same file removes the
        source name (BSD semantics), over itself does nothing.
        """
        self._alive()
        newdir._alive()
        if newdir.mount is not self.mount:
            raise RumpError(errnos.EXDEV)
        entry = self.entries.get(name)
        if entry is None:
            raise RumpError(errnos.ENOENT)
        vp = entry[1]
        old = newdir.entries.get(newname)
        target = old[1] if old is not None else None
        if newdir is not self:
            chain = newdir._ancestry()
            if self in chain:                       # we are an ancestor of newdir
                if vp is chain[chain.index(self) - 1]:
                    raise RumpError(errnos.EINVAL)
            elif target is self:
                raise RumpError(errnos.ENOTEMPTY)
        if vp.mounted_here is not None or (target is not None and target.mounted_here is not None):
            raise RumpError(errnos.EBUSY)
        if target is vp:
            if newdir is not self or newname != name:
                self.remove(name, False)
            return
        if target is not None:
            if vp.vtype == VDIR and target.vtype == VDIR:
                if target.entries:
                    raise RumpError(errnos.ENOTEMPTY)
            elif vp.vtype == VDIR:
                raise RumpError(errnos.ENOTDIR)
            elif target.vtype == VDIR:
                raise RumpError(errnos.EISDIR)
            newdir.remove(newname, target.vtype == VDIR)
        self.fs.charge(ENTRY_COST + _nbytes(newname))
        self._forget(name)
        newdir.entries[newname] = [next(newdir.cookies), vp]
        if vp.vtype == VDIR and newdir is not self:
            vp._parent = newdir
            self.nlink -= 1
            newdir.nlink += 1
        now = self.fs.now()
        self.touch(now, m=True)
        newdir.touch(now, m=True)
        vp.touch(now, c=True)

    def readdir(self, cookie):
        if self.nlink == 0:
            return []
        out = []
        if cookie < 1:
            out.append((1, self.ino, DT[VDIR], "."))
        if cookie < 2:
            out.append((2, self._parent.ino, DT[VDIR], ".."))
        for name, (ck, vp) in self.entries.items():
            if ck > cookie:
                out.append((ck, vp.ino, DT.get(vp.vtype, 0), name))
        return out

    def name_of(self, child):
        for name, (_ck, vp) in self.entries.items():
            if vp is child:
                return name
        raise RumpError(errnos.ENOENT)


class RumpfsMount(Mount):
    def statvfs(self):
        """The kernel's shared budget: its size, and what is left of it for anyone."""
        bsize, budget = self.iosize, self.fs.budget
        free = budget.free
        files, ffree = budget.limit // NODE_COST, free // NODE_COST
        return (bsize, bsize, budget.limit // bsize, free // bsize, free // bsize, files, ffree, ffree,
                self.fsid, self.flags | MNT_LOCAL, 511, self.fstype, self.path, self.source)

    def unmount(self, force):
        """Give the whole tree's charges back, unless a forced unmount leaves it in use."""
        fs = self.fs
        if force and _referenced(fs.kernel, self):
            return
        fs.charge(-fs.used)
        fs.gone = True


def _referenced(kernel, mnt):
    for proc in kernel.procs.procs.values():
        if proc.cwd is not None and proc.cwd.mount is mnt:
            return True
        for fp, _ce in proc.files.slots.values():
            if getattr(getattr(fp, "vp", None), "mount", None) is mnt:
                return True
    return False


class Rumpfs:
    """One rumpfs instance (the root, or a mounted copy)."""

    def __init__(self, kernel, source="rumpfs"):
        self.kernel = kernel
        self.budget = kernel.membudget
        self.used = 0               # this instance's share of the budget
        self.gone = False           # unmounted and given back: charges end
        self.charge(NODE_COST, errnos.ENOSPC)
        self.mount = RumpfsMount("rumpfs", source)
        self.mount.fs = self
        self.mount.root = RumpfsDir(self, 0o755)
        self.mount.root.meta = NODE_COST

    def now(self):
        return int(self.kernel.host.wall_time() * 1e9)

    def charge(self, nbytes, err=errnos.ENOSPC):
        """Account for nbytes more (or, negative, fewer) bytes: ENOSPC past the budget."""
        if self.gone:
            return
        self.budget.charge(nbytes, "rumpfs", err)
        self.used += nbytes


def mount_rumpfs(kernel, source, flags, data):
    fs = Rumpfs(kernel, source or "rumpfs")
    fs.mount.flags = flags
    return fs.mount
