"""FFS directory entries (specs/ffs.md section 6): parse a directory block,
build one, and the checks fsck applies to each 512-byte chunk.

Entry: u32 ino, u16 reclen, u8 type, u8 namlen, name, NUL, pad to 4.
Entries never cross a DIRBLKSIZ chunk; the last one's reclen reaches the end
of its chunk.  Pure: no I/O.
"""
import struct

DIRBLKSIZ = 512
MAXNAMLEN = 255
DT_UNKNOWN, DT_FIFO, DT_CHR, DT_DIR, DT_BLK, DT_REG, DT_LNK, DT_SOCK, DT_WHT = (
    0, 1, 2, 4, 6, 8, 10, 12, 14)
_IFTODT = {0o010000: DT_FIFO, 0o020000: DT_CHR, 0o040000: DT_DIR, 0o060000: DT_BLK,
           0o100000: DT_REG, 0o120000: DT_LNK, 0o140000: DT_SOCK}


def iftodt(mode):
    return _IFTODT.get(mode & 0o170000, DT_UNKNOWN)


def dirsiz(namlen):
    return 8 + ((namlen + 4) & ~3)


class DirError(ValueError):
    pass


class Entry:
    __slots__ = ("offset", "ino", "reclen", "type", "name")

    def __init__(self, offset, ino, reclen, dtype, name):
        self.offset, self.ino, self.reclen, self.type, self.name = offset, ino, reclen, dtype, name

    def __repr__(self):
        return "Entry(%d, ino=%d, reclen=%d, type=%d, %r)" % (
            self.offset, self.ino, self.reclen, self.type, self.name)


_HDR = {e: struct.Struct(e + "IHBB") for e in "<>"}


def entry_header(endian):
    """The entry header (ino, reclen, type, namlen) in this byte order."""
    return _HDR[endian]


def check_entry(buf, off, chunk_end, endian, maxino=None):
    """Why the entry at off is bad, or None (fsck's dircheck)."""
    if off + 8 > chunk_end:
        return "entry header crosses chunk"
    ino, reclen, dtype, namlen = entry_header(endian).unpack_from(buf, off)
    if reclen == 0 or reclen % 4 or off + reclen > chunk_end:
        return "bad reclen %d" % reclen
    if ino == 0:
        return None if reclen >= 8 else "bad reclen"
    if reclen < dirsiz(namlen) or namlen == 0:
        return "bad name length"
    name = bytes(buf[off + 8:off + 8 + namlen])
    if b"\0" in name or b"/" in name or buf[off + 8 + namlen] != 0:
        return "bad name"
    if maxino is not None and ino >= maxino:
        return "bad inode number %d" % ino
    return None


def parse_chunk(buf, start, endian, maxino=None):
    """Entries of the chunk at start (ino 0 included).  DirError if corrupt."""
    out = []
    off, end = start, start + DIRBLKSIZ
    hdr = entry_header(endian)
    while off < end:
        why = check_entry(buf, off, end, endian, maxino)
        if why:
            raise DirError("%s at offset %d" % (why, off))
        ino, reclen, dtype, namlen = hdr.unpack_from(buf, off)
        out.append(Entry(off, ino, reclen, dtype, bytes(buf[off + 8:off + 8 + namlen])))
        off += reclen
    return out


def parse_block(buf, endian, maxino=None):
    """Entries of a directory block (a multiple of DIRBLKSIZ bytes)."""
    if len(buf) % DIRBLKSIZ:
        raise DirError("directory block of %d bytes" % len(buf))
    out = []
    for start in range(0, len(buf), DIRBLKSIZ):
        out.extend(parse_chunk(buf, start, endian, maxino))
    return out


def pack_entry(buf, off, ino, reclen, dtype, name, endian):
    entry_header(endian).pack_into(buf, off, ino, reclen, dtype, len(name))
    n = dirsiz(len(name)) - 8
    buf[off + 8:off + 8 + n] = name.ljust(n, b"\0")


def build_chunks(entries, endian):
    """Directory bytes holding [(ino, dtype, name)] in order, NetBSD's layout:
    each chunk packed, the last entry of a chunk padded to its end."""
    out = bytearray()
    chunk = bytearray(DIRBLKSIZ)
    used = 0
    last = None
    for ino, dtype, name in entries:
        if len(name) > MAXNAMLEN or not name:
            raise DirError("bad name %r" % name)
        need = dirsiz(len(name))
        if used + need > DIRBLKSIZ:
            _close(chunk, last, endian)
            out += chunk
            chunk, used, last = bytearray(DIRBLKSIZ), 0, None
        pack_entry(chunk, used, ino, need, dtype, name, endian)
        last = (used, ino, dtype, name)
        used += need
    _close(chunk, last, endian)
    out += chunk
    return bytes(out)


def _close(chunk, last, endian):
    if last is None:
        entry_header(endian).pack_into(chunk, 0, 0, DIRBLKSIZ, 0, 0)
        return
    off, ino, dtype, name = last
    entry_header(endian).pack_into(chunk, off, ino, DIRBLKSIZ - off, dtype, len(name))


def empty_dir(ino, parent, endian):
    """The first chunk of a new directory: "." (reclen 12) and ".." (500)."""
    buf = bytearray(DIRBLKSIZ)
    pack_entry(buf, 0, ino, 12, DT_DIR, b".", endian)
    pack_entry(buf, 12, parent, DIRBLKSIZ - 12, DT_DIR, b"..", endian)
    return bytes(buf)
