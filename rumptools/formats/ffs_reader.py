"""Read an FFS image through a read(offset, length) function: inodes, block
maps (direct and indirect), file contents, directories, symlinks.

Used by fsck_ffs, dumpfs and the tests; it keeps no state but the superblock
and a small cache of indirect blocks.  Every address is checked against the
file system's size, so a corrupt image gives ReadError, never an exception
of another kind or a read outside the image.
"""
from . import ffs_dinode as di
from . import ffs_dir
from .ffs_cg import CG
from .ffs_superblock import NDADDR, find_superblock


class ReadError(ValueError):
    pass


class Image:
    def __init__(self, read, sb=None, sboff=None):
        self._read = read
        if sb is None:
            sb, sboff = find_superblock(read)
        self.sb = sb
        self.sboff = sboff
        self.ufs = sb.ufs
        self.endian = sb.endian
        self._addrs = di.addr_struct(self.ufs, self.endian, sb.nindir)

    def read(self, off, n):
        data = self._read(off, n)
        if len(data) != n:
            raise ReadError("short read at %d" % off)
        return data

    def read_frags(self, addr, nfrags):
        sb = self.sb
        if addr < 0 or addr + nfrags > sb.size:
            raise ReadError("block %d out of range" % addr)
        return self.read(addr * sb.fsize, nfrags * sb.fsize)

    def cg(self, c):
        sb = self.sb
        return CG(self.read(sb.cgtod(c) * sb.fsize, sb.cgsize), self.endian)

    def inode(self, ino):
        sb = self.sb
        if not 0 <= ino < sb.max_inode():
            raise ReadError("inode %d out of range" % ino)
        raw = self.read(sb.ino_offset(ino), sb.inode_size)
        return di.Dinode(self.ufs, raw, self.endian)

    def indirect(self, addr):
        return self._addrs.unpack(self.read_frags(addr, self.sb.frag))

    def blocks(self, d, with_meta=False):
        """Yield (lbn, addr, nfrags) for each allocated data block of d (and,
        with_meta, (-level, addr, frag) for each indirect block)."""
        sb = self.sb
        size = d.size
        for lbn in range(NDADDR):
            a = d.db[lbn]
            if a:
                yield lbn, a, sb.numfrags(sb.fragroundup(sb.blksize(size, lbn)))
        base = NDADDR
        span = 1
        for level in range(3):
            span *= sb.nindir
            a = d.ib[level]
            if a:
                yield from self._walk(a, level, base, span // sb.nindir, with_meta)
            base += span

    def _walk(self, addr, level, base, per, with_meta):
        sb = self.sb
        if with_meta:
            yield -(level + 1), addr, sb.frag
        for i, a in enumerate(self.indirect(addr)):
            if not a:
                continue
            if level == 0:
                yield base + i, a, sb.frag
            else:
                yield from self._walk(a, level - 1, base + i * per,
                                      per // sb.nindir, with_meta)

    def read_file(self, d, limit=1 << 34):
        """The contents of d (holes as zeros)."""
        sb = self.sb
        size = d.size
        if size > limit:
            raise ReadError("file too large to read whole")
        out = bytearray(size)
        for lbn, a, nf in self.blocks(d):
            off = lbn * sb.bsize
            if off >= size:
                continue
            data = self.read_frags(a, nf)
            n = min(len(data), size - off)
            out[off:off + n] = data[:n]
        return bytes(out)

    def readlink(self, d):
        if d.blocks == 0 and d.size < max(self.sb.maxsymlinklen, 1):
            return di.fast_link_target(d)
        return self.read_file(d)

    def listdir(self, d):
        """[(name, ino, type)] of a directory inode, "." and ".." included."""
        data = self.read_file(d)
        try:
            ents = ffs_dir.parse_block(data[:len(data) - len(data) % ffs_dir.DIRBLKSIZ],
                                       self.endian, self.sb.max_inode())
        except ffs_dir.DirError as e:
            raise ReadError("corrupt directory: %s" % e)
        return [(e.name, e.ino, e.type) for e in ents if e.ino]

    def walk(self, ino=2, path=b"", depth=0, seen=None):
        """Yield (path, ino, dinode) for everything under ino, depth first."""
        seen = set() if seen is None else seen
        if depth > 1000:
            raise ReadError("directory tree too deep")
        d = self.inode(ino)
        yield path or b"/", ino, d
        if di.ftype(d) != di.IFDIR:
            return
        if ino in seen:
            raise ReadError("directory loop at inode %d" % ino)
        seen.add(ino)
        for name, child, _ in self.listdir(d):
            if name in (b".", b".."):
                continue
            cd = self.inode(child)
            if di.ftype(cd) == di.IFDIR:
                yield from self.walk(child, path + b"/" + name, depth + 1, seen)
            else:
                yield path + b"/" + name, child, cd


def open_path(path, sector_offset=0):
    """An Image over a host file (read only), for tests and tools."""
    f = open(path, "rb")

    def read(off, n):
        f.seek(off + sector_offset)
        return f.read(n)
    return Image(read)
