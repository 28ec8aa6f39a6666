"""The FFS mount: reading and checking the superblock and cylinder groups,
the clean flag (cleared while mounted read-write, set again on unmount),
the vnode cache, inode I/O, indirect blocks, statvfs, sync and unmount.

The file system reaches its disk only through the device vnode named at
mount time (a block device: a -d disk or a cgd partition), so its I/O goes
through the kernel's buffer cache.
"""

from ....abi import errnos
from ....abi.errnos import RumpError
from ....formats import ffs_dinode as di
from ....formats import ffs_dir
from ....formats import ffs_superblock as fsb
from ....abi.mntflags import MNT_LOCAL, MNT_RDONLY, MNT_UPDATE
from ...vfs.mount import Mount
from ...vfs.vnode import VBLK, VCHR, VDIR, VLNK
from .cgalloc import Allocator
from .dirops import FfsDir, new_dinode
from .inode import VTYPE, FfsFile, FfsLink, FfsOther, FfsSpecial

INDIRECT_CACHE = 256


class FfsMount(Mount):
    def statvfs(self):
        fs = self.fs
        sb = fs.sb
        nd, nb, ni, nf = fs.alloc.totals()
        bfree = nb * sb.frag + nf
        reserve = sb.dsize * sb.minfree // 100
        bavail = max(0, bfree - reserve)
        files = sb.ncg * sb.ipg - 2
        return (sb.bsize, sb.fsize, sb.dsize, bfree, bavail, files, ni, ni, self.fsid,
                self.flags | MNT_LOCAL, 255, "ffs", self.path, self.source)

    def sync(self):
        self.fs.sync()

    def unmount(self, force):
        self.fs.unmount()

    def update(self, flags):
        """mount -u: read-only to read-write and back."""
        self.fs.set_readonly(bool(flags & MNT_RDONLY))
        self.flags = flags & ~MNT_UPDATE


class Ffs:
    def __init__(self, kernel, devvp, source, flags):
        self.kernel = kernel
        self.dev = devvp
        self.ronly = bool(flags & MNT_RDONLY)
        try:
            sb, where = fsb.find_superblock(self.dev_read)
        except fsb.SuperblockError:
            raise RumpError(errnos.EINVAL) from None
        if sb.flags & ~fsb.FS_KNOWN_FLAGS or sb.flags & 0x100:
            raise RumpError(errnos.EINVAL)          # unknown flags, or a WAPBL log
        if sb.size * sb.fsize > self.dev_size():
            raise RumpError(errnos.EINVAL)
        self.sb = sb
        self.sboff = where
        self.alloc = Allocator(self)
        self.nodes = {}
        self.dirty_nodes = set()
        self._ind = {}                  # indirect block cache: addr -> list
        self._ind_dirty = set()         # cached indirect blocks not yet written
        self._addr = di.addr_struct(sb.ufs, sb.endian, sb.nindir)
        self.mount = FfsMount("ffs", source, flags, iosize=sb.bsize)
        self.mount.fs = self
        root = self.vget(fsb.UFS_ROOTINO)
        if root.vtype != VDIR:
            raise RumpError(errnos.EINVAL)
        self.mount.root = root
        if not self.ronly:
            self._mark_dirty()

    # -- device I/O
    def dev_size(self):
        devsize = getattr(self.dev, "devsize", None)
        return devsize() if devsize else self.dev.size

    def dev_read(self, off, n):
        data = self.dev.read(off, n)
        if len(data) != n:
            raise RumpError(errnos.EIO)
        return data

    def dev_write(self, off, data):
        if self.ronly:
            raise RumpError(errnos.EROFS)
        if off < 0 or off + len(data) > self.sb.size * self.sb.fsize:
            raise RumpError(errnos.EIO)
        done = self.dev.write(off, data)
        if done != len(data):
            raise RumpError(errnos.EIO)

    def now(self):
        return int(self.kernel.host.wall_time() * 1e9)

    # -- the superblock and the clean flag
    def _write_sb(self):
        sb = self.sb
        nd, nb, ni, nf = self.alloc.totals()
        sb.set_totals(nd, nb, ni, nf)
        sb.set_time(self.now() // 1_000_000_000)
        sb.fmod = 0
        sb.ronly = 0
        mnt = (self.mount.path or "/").encode("utf-8", "surrogateescape")
        sb.fsmnt = mnt[:fsb.MAXMNTLEN - 1].ljust(fsb.MAXMNTLEN, b"\0")
        self.dev_write(self.sb.csaddr * self.sb.fsize, self.alloc.csum_bytes())
        self.dev_write(self.sboff, sb.pack())

    def _mark_dirty(self):
        sb = self.sb
        sb.clean = (sb.clean << 1) & 0xff
        self._write_sb()
        self.dev.fsync()

    # -- inodes
    def vget(self, ino):
        node = self.nodes.get(ino)
        if node is not None:
            return node
        sb = self.sb
        if not fsb.UFS_ROOTINO <= ino < sb.max_inode():
            raise RumpError(errnos.EIO)
        d = di.Dinode(sb.ufs, self.dev_read(sb.ino_offset(ino), sb.inode_size), sb.endian)
        if d.mode == 0 or (d.mode & di.IFMT) not in VTYPE or d.size > sb.maxfilesize:
            raise RumpError(errnos.EIO)
        node = self._node(ino, d)
        self.nodes[ino] = node
        return node

    def _node(self, ino, d):
        vtype = VTYPE[d.mode & di.IFMT]
        if vtype == VDIR:
            return FfsDir(self, ino, d)
        if vtype == VLNK:
            return FfsLink(self, ino, d)
        if vtype in (VBLK, VCHR):
            return FfsSpecial(self, ino, d)
        if vtype in (VTYPE[di.IFIFO], VTYPE[di.IFSOCK]):
            return FfsOther(self, ino, d)
        return FfsFile(self, ino, d)

    def write_inode(self, node):
        sb = self.sb
        self.dev_write(sb.ino_offset(node.ino), node.d.pack())
        self.dirty_nodes.discard(node)

    def make_node(self, dvp, name, vtype, mode, rdev, target):
        sb = self.sb
        if vtype == VLNK and target is not None and \
                len(target.encode("utf-8", "surrogateescape")) > sb.maxfilesize:
            raise RumpError(errnos.ENAMETOOLONG)
        pcg = dvp.ino // sb.ipg
        cg = self.alloc.pick_dir_group(pcg) if vtype == VDIR else pcg
        ino = self.alloc.alloc_inode(cg, vtype == VDIR, self.kernel.host.random)
        old = di.Dinode(sb.ufs, self.dev_read(sb.ino_offset(ino), sb.inode_size), sb.endian)
        now = self.now()
        d = new_dinode(self, vtype, mode, now, (old.gen + 1) & 0x7fffffff or 1)
        node = self._node(ino, d)
        self.nodes[ino] = node
        try:
            if vtype == VDIR:
                d.nlink = 2
                node.write_data(0, ffs_dir.empty_dir(ino, dvp.ino, sb.endian))
                dvp.nlink += 1
                dvp.update()
            elif vtype == VLNK:
                raw = target.encode("utf-8", "surrogateescape")
                if len(raw) < sb.maxsymlinklen:
                    di.set_fast_link_target(d, raw)
                else:
                    node.write_data(0, raw)
            elif vtype in (VBLK, VCHR):
                d.db[0] = rdev & 0xffffffff
                if d.db[0] >= 1 << 31 and sb.ufs == 1:
                    d.db[0] -= 1 << 32
            node.update()
            dvp.add_entry(name, ino, ffs_dir.iftodt(d.mode))
        except RumpError:
            self._undo_create(node, dvp, vtype)
            raise
        dvp.touch(now, m=True)
        dvp.update()
        return node

    def _undo_create(self, node, dvp, vtype):
        try:
            if vtype == VDIR:
                dvp.nlink -= 1
                dvp.update()
            node.d.nlink = 0
            self.inactive(node)
        except RumpError:
            pass

    def inactive(self, node):
        """Free a node with no names left once nobody has it open."""
        if node.d.nlink > 0 or node.opencount > 0:
            return
        node.release()
        is_dir = node.vtype == VDIR
        ino = node.ino
        gen = node.d.gen
        z = di.Dinode(self.sb.ufs, None, self.sb.endian)
        z.gen = gen
        node.d = z
        self.write_inode(node)
        self.alloc.free_inode(ino, is_dir)
        self.nodes.pop(ino, None)

    # -- indirect blocks
    def indirect(self, addr):
        got = self._ind.get(addr)
        if got is None:
            sb = self.sb
            if not sb.dblkno <= addr < sb.size:
                raise RumpError(errnos.EIO)
            got = list(self._addr.unpack(self.dev_read(addr * sb.fsize, sb.bsize)))
            if len(self._ind) >= INDIRECT_CACHE:
                for old in list(self._ind)[:INDIRECT_CACHE // 4]:
                    if old not in self._ind_dirty:
                        del self._ind[old]
            self._ind[addr] = got
        return got

    def put_indirect(self, addr, ptrs):
        self._ind[addr] = list(ptrs)
        self._ind_dirty.discard(addr)
        self.dev_write(addr * self.sb.fsize, self._addr.pack(*ptrs))

    def set_indirect(self, addr, idx, value):
        """Change one pointer; the block is written by flush_indirects()."""
        ptrs = self.indirect(addr)
        ptrs[idx] = value
        self._ind_dirty.add(addr)

    def new_indirect(self, node):
        sb = self.sb
        addr = self.alloc.alloc_block(node.pref_cg())
        self._ind[addr] = [0] * sb.nindir
        self._ind_dirty.add(addr)
        return addr

    def flush_indirects(self):
        """Write changed indirect blocks (after the data, before the inode)."""
        for addr in sorted(self._ind_dirty):
            ptrs = self._ind.get(addr)
            if ptrs is not None:
                self.dev_write(addr * self.sb.fsize, self._addr.pack(*ptrs))
        self._ind_dirty.clear()

    def forget_indirect(self, addr):
        self._ind.pop(addr, None)
        self._ind_dirty.discard(addr)

    # -- sync and unmount
    def sync(self):
        if self.ronly:
            return
        self.flush_indirects()
        for node in list(self.dirty_nodes):
            self.write_inode(node)
        self.alloc.flush(self.now() // 1_000_000_000)
        self._write_sb()
        self.dev.fsync()

    def set_readonly(self, ronly):
        if ronly == self.ronly:
            return
        if ronly:
            self.sync()
            if self.sb.clean & fsb.FS_WASCLEAN:
                self.sb.clean = fsb.FS_ISCLEAN
            self._write_sb()
            self.dev.fsync()
            self.ronly = True
        else:
            self.ronly = False
            self._mark_dirty()

    def unmount(self):
        if not self.ronly:
            for node in list(self.nodes.values()):
                if node.d.nlink == 0 and node.d.mode:
                    node.opencount = 0          # forced: open files go with the mount
                    self.inactive(node)
            self.sync()
            if self.sb.clean & fsb.FS_WASCLEAN:
                self.sb.clean = fsb.FS_ISCLEAN
            self._write_sb()
            self.dev.fsync()
        self.dev.close(0)
        self.dev.opencount = max(0, getattr(self.dev, "opencount", 1) - 1)
        self.nodes.clear()


def mount_ffs(kernel, source, flags, data):
    """fstype "ffs": data (or source) names the block device, as ufs_args.fspec."""
    spec = data if isinstance(data, str) and data else source
    if isinstance(spec, (bytes, bytearray)):
        spec = bytes(spec).split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    if not spec:
        raise RumpError(errnos.EINVAL)
    vfs = kernel.slot("vfs")
    devvp = vfs.lookup(None, spec)
    if devvp.vtype != VBLK:
        raise RumpError(errnos.ENOTBLK)
    for m in vfs.mounts.mounts:
        if getattr(getattr(m, "fs", None), "dev", None) is devvp:
            raise RumpError(errnos.EBUSY)
    devvp.open(0 if flags & MNT_RDONLY else 2)
    devvp.opencount = getattr(devvp, "opencount", 0) + 1
    try:
        fs = Ffs(kernel, devvp, spec, flags)
    except RumpError:
        devvp.opencount -= 1
        devvp.close(0)
        raise
    except Exception:
        devvp.opencount -= 1
        devvp.close(0)
        raise RumpError(errnos.EIO) from None
    return fs.mount
