"""Phase 2 - Check Pathnames: every directory reachable from the root, entry
by entry: the chunk rules of specs/ffs.md section 6 (DIRECTORY CORRUPTED,
salvaged by folding the bad part into the previous entry), "." and "..",
entries naming free, out-of-range or condemned inodes (REMOVE), type bytes
(BAD TYPE VALUE), extra hard links to directories.  Counts each reference
against the link counts phase 4 checks."""
import struct
from collections import deque

from rumptools.formats import ffs_dir

from .dirs import chunks
from .state import DCLEAR, DFOUND, DSTATE, FCLEAR, USTATE


class RootError(Exception):
    pass


def fileerror(st, ino, msg, path):
    """pwarn("msg "), the inode, then FILE=/DIR=path."""
    ask = st.ask
    text = "%s " % msg + st.pinode(ino) + "\n"
    if ask.preen:
        ask.write("%s: %s" % (ask.dev, text))
    else:
        ask.write(text)
    kind = "DIR" if st.state[ino] in (DSTATE, DFOUND, DCLEAR) else "FILE"
    if not 2 <= ino < st.maxino or st.state[ino] == USTATE:
        kind = "NAME"
    return "%s=%s\n" % (kind, path)


def _hdr(st):
    return ffs_dir.entry_header(st.endian)


def _salvage(st, off, buf, prev):
    """Give the rest of the chunk, from the bad entry on, to the entry before it
    (prev, which ends where the bad one starts), or make the chunk one empty
    slot when the first entry is the bad one."""
    h = _hdr(st)
    if prev is None:
        h.pack_into(buf, 0, 0, ffs_dir.DIRBLKSIZ, 0, 0)
    else:
        ino, _, t, nl = h.unpack_from(buf, prev)
        h.pack_into(buf, prev, ino, ffs_dir.DIRBLKSIZ - prev, t, nl)
    st.write(off, bytes(buf))


def scan_dir(st, dirino, queue):
    ask = st.ask
    h = _hdr(st)
    dpath = st.pathname(dirino)
    first = True
    for off, chunk in chunks(st, dirino):
        buf = bytearray(chunk)
        pos, prev = 0, None
        changed = False
        while pos < ffs_dir.DIRBLKSIZ:
            why = ffs_dir.check_entry(buf, pos, ffs_dir.DIRBLKSIZ, st.endian)
            if why:
                msg = "DIRECTORY CORRUPTED" + " " + st.pinode(dirino) + "\n"
                text = msg + ("%s: " % ask.dev if ask.preen else "") + "DIR=%s\n" % dpath
                if ask.fix(text.rstrip("\n") if ask.preen else text, "SALVAGE", " (SALVAGED)"):
                    _salvage(st, off, buf, prev)
                    changed = False
                break
            ino, reclen, dtype, namlen = h.unpack_from(buf, pos)
            name = bytes(buf[pos + 8:pos + 8 + namlen])
            if ino:
                if _entry(st, dirino, dpath, buf, pos, ino, dtype, name, first, queue):
                    changed = True
            first = False
            prev = pos
            pos += reclen
        if changed:
            st.write(off, bytes(buf))


def _remove(st, buf, pos):
    struct.pack_into(st.endian + "I", buf, pos, 0)


def _entry(st, dirino, dpath, buf, pos, ino, dtype, name, first, queue):
    """Check one entry; True if buf was changed."""
    ask = st.ask
    sname = name.decode("utf-8", "replace")
    path = dpath.rstrip("/") + "/" + sname
    if name == b".":
        if ino != dirino:
            if ask.fix("BAD INODE NUMBER FOR '.' I=%d\n" % dirino, "FIX", " (FIXED)"):
                struct.pack_into(st.endian + "I", buf, pos, dirino)
                st.linkcnt[dirino] = st.linkcnt.get(dirino, 0) - 1
                return True
            return False
        st.linkcnt[dirino] = st.linkcnt.get(dirino, 0) - 1
        return False
    if name == b"..":
        st.dotdot[dirino] = ino
        return False
    if not 2 <= ino < st.maxino:
        if ask.unsafe("I OUT OF RANGE I=%d NAME=%s\n" % (ino, path), "REMOVE"):
            _remove(st, buf, pos)
            return True
        return False
    s = st.state[ino]
    if s == USTATE or s in (FCLEAR, DCLEAR):
        what = "UNALLOCATED" if s == USTATE else ("DUP/BAD" if ino in st.dupinodes else "BAD/DUP")
        if ask.preen:
            ask.pfatal(("%s " % what + st.pinode(ino)).rstrip())
        text = fileerror(st, ino, what, path)
        ask.write(text)
        if ask.reply("REMOVE"):
            _remove(st, buf, pos)
            return True
        return False
    changed = False
    want = st.dtype.get(ino, 0)
    if dtype != want:
        if ask.fix("BAD TYPE VALUE I=%d" % ino, "FIX", " (FIXED)"):
            buf[pos + 6] = want
            changed = True
    if s == DFOUND:
        if ask.unsafe("EXTRANEOUS HARD LINK TO DIRECTORY %s I=%d\n" % (path, ino), "REMOVE"):
            _remove(st, buf, pos)
            return True
        st.linkcnt[ino] -= 1
        return changed
    st.linkcnt[ino] -= 1
    if s == DSTATE:
        st.state[ino] = DFOUND
        st.parent[ino] = dirino
        queue.append(ino)
    return changed


def scan_tree(st, top):
    queue = deque([top])
    seen = 0
    while queue and seen <= st.maxino:
        d = queue.popleft()
        seen += 1
        scan_dir(st, d, queue)


def pass2(st):
    ask = st.ask
    s = st.state[2]
    if s == USTATE:
        ask.pfatal("ROOT INODE UNALLOCATED\n")
        raise RootError()
    if s not in (DSTATE, DFOUND):
        ask.pfatal("ROOT INODE NOT DIRECTORY\n")
        raise RootError()
    st.state[2] = DFOUND
    st.parent[2] = 2
    scan_tree(st, 2)


def check_dotdot(st, dirino):
    """After a directory was placed: its ".." must name where it was found."""
    ask = st.ask
    par = st.parent.get(dirino)
    if par is None:
        return
    dd = st.dotdot.get(dirino)
    if dd != par:
        msg = "BAD INODE NUMBER FOR '..'" + " " + st.pinode(dirino) + "\n"
        if ask.fix(msg, "FIX", " (FIXED)"):
            for off, chunk in chunks(st, dirino):
                try:
                    ents = ffs_dir.parse_chunk(chunk, 0, st.endian)
                except ffs_dir.DirError:
                    break
                for e in ents:
                    if e.name == b"..":
                        buf = bytearray(chunk)
                        struct.pack_into(st.endian + "I", buf, e.offset, par)
                        st.write(off, bytes(buf))
                        st.dotdot[dirino] = par
                        break
                break
        else:
            return
    st.linkcnt[par] = st.linkcnt.get(par, 0) - 1
