"""Phase 3 - Check Connectivity and Phase 4 - Check Reference Counts.

Directories never reached from the root are reconnected to lost+found (made
if missing); files nobody names are reconnected or cleared; link counts that
disagree with the references found are adjusted; condemned inodes cleared.
"""
import time

from rumptools.formats import ffs_dinode as di
from rumptools.formats import ffs_dir

from .dirs import add_entry, entries
from .pass2 import check_dotdot, scan_tree
from .state import DCLEAR, DFOUND, DSTATE, FCLEAR, FSTATE

LOSTFOUND = b"lost+found"


def _make_lostfound(st):
    ask = st.ask
    sb = st.sb
    if ask.preen:
        ask.write("%s: NO lost+found DIRECTORY (CREATED)\n" % ask.dev)
    else:
        ask.write("NO lost+found DIRECTORY")
        if not ask.reply("CREATE"):
            return 0
    ino = st.alloc_inode()
    addr = st.alloc_frags(1) if ino else None
    if not ino or addr is None:
        ask.write("SORRY. CANNOT CREATE lost+found DIRECTORY\n\n")
        return 0
    data = bytearray(ffs_dir.empty_dir(ino, 2, st.endian))
    for k in range(ffs_dir.DIRBLKSIZ, sb.fsize, ffs_dir.DIRBLKSIZ):
        data += ffs_dir.build_chunks([], st.endian)
    st.write(addr * sb.fsize, bytes(data))
    d = di.Dinode(st.ufs, None, st.endian)
    old = st.inode(ino)
    d.gen = old.gen
    d.mode = di.IFDIR | 0o700
    d.nlink = 2
    d.size = sb.fsize
    d.blocks = sb.fsize // 512
    d.db[0] = addr
    now = int(time.time())
    d.atime = d.mtime = d.ctime = now
    if st.ufs == 2:
        d.birthtime = now
    st.put_inode(ino, d)
    if not add_entry(st, 2, ino, ffs_dir.DT_DIR, LOSTFOUND):
        ask.write("SORRY. NO SPACE IN / DIRECTORY\n\n")
        z = di.Dinode(st.ufs, None, st.endian)
        z.gen = d.gen
        st.put_inode(ino, z)
        st.used[addr] = 0
        return 0
    st.state[ino] = DFOUND
    st.n_files += 1
    st.parent[ino] = 2
    st.dotdot[ino] = 2
    st.dirblocks[ino] = [(0, addr, 1)]
    st.dirsize[ino] = sb.fsize
    st.inoblocks[ino] = [(addr, 1)]
    st.dtype[ino] = ffs_dir.DT_DIR
    st.nlink[ino] = 2
    st.linkcnt[ino] = 0
    _bump_nlink(st, 2, +1)
    return ino


def _bump_nlink(st, ino, delta):
    d = st.inode(ino)
    d.nlink += delta
    st.put_inode(ino, d)
    st.nlink[ino] = d.nlink


def _lostfound(st):
    if st.lfdir:
        return st.lfdir
    for e in entries(st, 2):
        if e.name == LOSTFOUND and st.state[e.ino] in (DFOUND,) and \
                st.dtype.get(e.ino) == ffs_dir.DT_DIR:
            st.lfdir = e.ino
            return e.ino
    st.lfdir = _make_lostfound(st)
    return st.lfdir


def linkup(st, ino, is_dir):
    """Reconnect ino under lost+found as #ino; False if not done."""
    ask = st.ask
    d = st.inode(ino)
    text = "UNREF %s " % ("DIR" if is_dir else "FILE") + st.pinode(ino)
    if ask.preen:
        ask.write("%s: %s" % (ask.dev, text))
        if d.size == 0:
            return False
        ask.write(" (RECONNECTED)\n")
    else:
        ask.write(text)
        if not ask.reply("RECONNECT"):
            return False
    if not st.write_ok:
        return False
    lf = _lostfound(st)
    if not lf:
        return False
    name = b"#%d" % ino
    if not add_entry(st, lf, ino, st.dtype.get(ino, 0), name):
        ask.write("SORRY. NO SPACE IN lost+found DIRECTORY\n\n")
        return False
    st.linkcnt[ino] -= 1
    if is_dir:
        st.state[ino] = DFOUND
        st.parent[ino] = lf
        _bump_nlink(st, lf, +1)
        st.dotdot.pop(ino, None)
        scan_tree(st, ino)
        _fix_dotdots(st)
    return True


def _fix_dotdots(st):
    for dino in list(st.parent):
        if not st._dotdot_done.get(dino):
            st._dotdot_done[dino] = True
            check_dotdot(st, dino)


def pass3(st):
    st._dotdot_done = {}
    _fix_dotdots(st)
    for ino in range(2, st.maxino):
        if st.state[ino] != DSTATE:
            continue
        # climb to the top of the orphaned subtree through ".."
        top = ino
        for _ in range(st.maxino):
            up = st.dotdot.get(top)
            if up is None or not 2 <= up < st.maxino or st.state[up] != DSTATE or up == ino:
                break
            top = up
        if st.state[top] == DSTATE:
            linkup(st, top, True)


def clri(st, ino, kind, announce):
    ask = st.ask
    if announce:
        isdir = st.state[ino] in (DSTATE, DFOUND, DCLEAR)
        text = "%s %s" % (kind, "DIR" if isdir else "FILE") + st.pinode(ino)
        ask.write(("%s: " % ask.dev if ask.preen else "") + text)
    if ask.preen:
        ask.write(" (CLEARED)\n")
    elif not ask.reply("CLEAR"):
        return
    st.clear_inode(ino)


def adjust(st, ino, lcnt):
    ask = st.ask
    nl = st.nlink[ino]
    if nl == lcnt:
        if not linkup(st, ino, st.state[ino] == DFOUND):
            clri(st, ino, "UNREF", False)
        return
    isdir = st.state[ino] in (DSTATE, DFOUND)
    text = "LINK COUNT %s" % ("DIR" if isdir else "FILE") + st.pinode(ino) + \
        " COUNT %d SHOULD BE %d" % (nl, nl - lcnt)
    if ask.preen:
        ask.write("%s: %s (ADJUSTED)\n" % (ask.dev, text))
        ok = True
    else:
        ask.write(text)
        ok = ask.reply("ADJUST")
    if ok:
        d = st.inode(ino)
        d.nlink = nl - lcnt
        st.put_inode(ino, d)
        st.nlink[ino] = d.nlink
        st.linkcnt[ino] = 0


def pass4(st):
    for ino in range(2, st.maxino):
        s = st.state[ino]
        if s in (FSTATE, DFOUND):
            n = st.linkcnt.get(ino, 0)
            if n or st.nlink.get(ino, 0) == 0:
                if n == 0:
                    n = 0        # nlink 0 and no references: unreferenced
                adjust(st, ino, n)
        elif s == DSTATE:
            clri(st, ino, "UNREF", True)
        elif s in (DCLEAR, FCLEAR):
            clri(st, ino, "BAD/DUP", True)

