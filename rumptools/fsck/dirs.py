"""Directory contents as the checker sees them: the 512-byte chunks of a
directory (found through the block list phase 1 kept) and their entries;
adding an entry (for lost+found and reconnections)."""

from rumptools.formats import ffs_dir


def chunks(st, dirino):
    """Yield (byte offset on disk, chunk bytes) for each chunk within size."""
    sb = st.sb
    size = st.dirsize.get(dirino, 0)
    for lbn, addr, nf in sorted(st.dirblocks.get(dirino, [])):
        base = lbn * sb.bsize
        if base >= size:
            continue
        data = st.read(addr * sb.fsize, nf * sb.fsize)
        for k in range(0, len(data), ffs_dir.DIRBLKSIZ):
            if base + k + ffs_dir.DIRBLKSIZ > size:
                break
            yield addr * sb.fsize + k, data[k:k + ffs_dir.DIRBLKSIZ]


def entries(st, dirino):
    """Entries with an inode number, from chunks that parse."""
    out = []
    for _, chunk in chunks(st, dirino):
        try:
            out.extend(e for e in ffs_dir.parse_chunk(chunk, 0, st.endian) if e.ino)
        except ffs_dir.DirError:
            continue
    return out


def add_entry(st, dirino, ino, dtype, name):
    """Put (ino, dtype, name) in a chunk of dirino with room; False if none."""
    need = ffs_dir.dirsiz(len(name))
    hdr = ffs_dir.entry_header(st.endian)
    for off, chunk in chunks(st, dirino):
        try:
            ents = ffs_dir.parse_chunk(chunk, 0, st.endian)
        except ffs_dir.DirError:
            continue
        for e in ents:
            used = ffs_dir.dirsiz(len(e.name)) if e.ino else 0
            if e.reclen - used >= need:
                buf = bytearray(chunk)
                if e.ino:
                    hdr.pack_into(buf, e.offset, e.ino, used, e.type, len(e.name))
                    at, reclen = e.offset + used, e.reclen - used
                else:
                    at, reclen = e.offset, e.reclen
                ffs_dir.pack_entry(buf, at, ino, reclen, dtype, name, st.endian)
                st.write(off, bytes(buf))
                return True
    return False
