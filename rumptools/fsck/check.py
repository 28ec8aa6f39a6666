"""One run of fsck_ffs over an open disk: find and check the superblock,
run phases 1-5, print the summary, mark the file system clean, and say how it
ended.  Returns NetBSD's exit status (0 ok, 2 unresolved, 8 failed)."""
from rumptools.formats.ffs_superblock import (FS_ISCLEAN, SBLOCK_UFS2, SBLOCKSEARCH,
                                              SBLOCKSIZE, Superblock, magic_endian,
                                              read_candidate, validate)

from .ask import Unexpected
from .pass1 import pass1, pass1b
from .pass2 import RootError, pass2
from .pass34 import pass3, pass4
from .pass5 import pass5
from .state import State

_GEOMETRY = ("sblkno", "cblkno", "iblkno", "dblkno", "ncg", "bsize", "fsize", "frag",
             "bmask", "fmask", "bshift", "fshift", "fragshift", "fsbtodb", "sbsize",
             "nindir", "inopb", "cssize", "ipg", "fpg", "magic")


def find_superblock(disk, sbsector=None):
    """(Superblock, offset) as fsck finds it, or (None, reason)."""
    offsets = [sbsector * 512] if sbsector is not None else list(SBLOCKSEARCH)
    for off in offsets:
        sb = read_candidate(disk.read, off)
        if sb is None:
            continue
        if sb.ufs == 1 and off == SBLOCK_UFS2 and sbsector is None:
            continue
        why = validate(sb)
        if why:
            return None, "MAGIC NUMBER WRONG" if sbsector is None else why.upper()
        return sb, off
    return None, "CAN'T FIND SUPERBLOCK"


def _alternate_agrees(disk, sb):
    c = sb.ncg - 1
    try:
        raw = disk.read(sb.cgsblock(c) * sb.fsize, SBLOCKSIZE)
    except OSError:
        return False
    if magic_endian(raw) is None:
        return False
    alt = Superblock(raw, sb.endian)
    return all(getattr(alt, f) == getattr(sb, f) for f in _GEOMETRY)


def run(disk, devname, out, nflag=False, yflag=False, preen=False, force=False,
        writable=True, sbsector=None, answer=None):
    from .ask import Dialogue
    ask = Dialogue(out, devname, nflag or not writable, yflag, preen, answer)
    sb, where = find_superblock(disk, sbsector)
    if sb is None:
        out.write("\nBAD SUPER BLOCK: %s\n" % where)
        return 8
    if sbsector is None and not _alternate_agrees(disk, sb):
        out.write("\nBAD SUPER BLOCK: VALUES IN SUPER BLOCK DISAGREE WITH "
                  "THOSE IN FIRST ALTERNATE\n")
        return 8
    if not preen:
        out.write("** %s%s\n" % (devname, " (NO WRITE)" if ask.nflag else ""))
    if sb.clean & FS_ISCLEAN:
        if not force and sbsector is None:
            if preen:
                out.write("%s: file system is clean; not checking\n" % devname)
            else:
                out.write("** File system is clean; not checking\n")
            return 0
        if not preen:
            out.write("** File system is already clean\n")
    st = State(disk, sb, where, ask, write_ok=not ask.nflag)
    st.sb_dirty = False
    if not preen:
        out.write("** Last Mounted on %s\n" % sb.mountpoint)
    phase = (lambda text: None) if preen else (lambda text: out.write("** %s\n" % text))
    try:
        phase("Phase 1 - Check Blocks and Sizes")
        pass1(st)
        if any(st.dups.values()):
            phase("Phase 1b - Rescan For More DUPS")
            pass1b(st)
        phase("Phase 2 - Check Pathnames")
        pass2(st)
        phase("Phase 3 - Check Connectivity")
        pass3(st)
        phase("Phase 4 - Check Reference Counts")
        pass4(st)
        phase("Phase 5 - Check Cyl groups")
        pass5(st)
    except Unexpected:
        return 8
    except RootError:
        return 8
    ndir, nbfree, nifree, nffree = st.totals
    free = nffree + sb.frag * nbfree
    used = sb.dsize - free
    pct = nffree * 100 // sb.dsize if sb.dsize else 0
    dec = ((nffree * 1000 + sb.dsize // 2) // sb.dsize) % 10 if sb.dsize else 0
    ask.pwarn("%d files, %d used, %d free (%d frags, %d blocks, %d.%d%% fragmentation)\n"
              % (st.n_files, used, free, nffree, nbfree, pct, dec))
    if not sb.clean & FS_ISCLEAN and ask.resolved and st.write_ok:
        if preen:
            ok = True
            out.write("%s: MARKING FILE SYSTEM CLEAN\n" % devname)
        else:
            ok = ask.reply("MARK FILE SYSTEM CLEAN")
        if ok:
            sb.clean = FS_ISCLEAN
            st.sb_dirty = True
            if not preen:
                out.write("\n***** FILE SYSTEM MARKED CLEAN *****\n")
    if st.sb_dirty and st.write_ok:
        st.write(where, sb.pack())
    status = 0
    if not ask.resolved:
        out.write("\n***** UNRESOLVED INCONSISTENCIES REMAIN *****\n")
        status = 2
    if st.modified and not preen:
        out.write("\n***** FILE SYSTEM WAS MODIFIED *****\n")
    if st.write_ok:
        try:
            disk.sync()
        except OSError:
            pass
    return status
