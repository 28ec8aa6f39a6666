"""rump.newfs, rump.fsck_ffs and rump.dumpfs on host image files: newfs's
summary lines for the spec's cases, images The Sleuth Kit reads as valid
empty UFS1/UFS2, fsck's phases and repairs of injected damage, dumpfs's
format."""
import os
import struct
import subprocess

import pytest

from rumptools.formats import ffs_dir
from rumptools.formats.ffs_reader import open_path
from tests.ffs_helpers import fsck_clean, image_tree, makefs, newfs, run, tool

TUTORIAL = ("nethack.img: 14.0MB (28672 sectors) block size 4096, fragment size 512\n"
            "\tusing 4 cylinder groups of 3.50MB, 896 blks, 1696 inodes.\n"
            "super-block backups (for fsck_ffs -b #) at:\n"
            "32, 7200, 14368, 21536,\n")


def test_newfs_tutorial_output_exact(tmp_path):
    r = run("rump.newfs", "-F", "-s", "14M", "nethack.img", cwd=tmp_path, check=0)
    assert r.stdout == TUTORIAL and r.stderr == ""
    assert os.path.getsize(tmp_path / "nethack.img") == 14 << 20
    r2 = run("rump.newfs", "-F", "-N", "-s", "28672", "other.img", cwd=tmp_path, check=0)
    assert r2.stdout == TUTORIAL.replace("nethack.img", "other.img")
    assert not (tmp_path / "other.img").exists()


@pytest.mark.parametrize("args,lines", [
    (("-O", "1", "-s", "8m"),
     ["x.img: 8.0MB (16384 sectors) block size 4096, fragment size 512",
      "\tusing 4 cylinder groups of 2.00MB, 512 blks, 960 inodes.",
      "32, 4128, 8224, 12320,"]),
    (("-O", "2", "-b", "16384", "-f", "4096", "-s", "16384"),
     ["x.img: 8.0MB (16384 sectors) block size 16384, fragment size 4096",
      "\tusing 4 cylinder groups of 2.00MB, 128 blks, 128 inodes.",
      "160, 4256, 8352, 12448,"]),
    (("-O", "2", "-s", "8M"),
     ["x.img: 8.0MB (16384 sectors) block size 4096, fragment size 512",
      "\tusing 4 cylinder groups of 2.00MB, 512 blks, 912 inodes.",
      "144, 4240, 8336, 12432,"]),
])
def test_newfs_spec_cases(tmp_path, args, lines):
    r = run("rump.newfs", "-F", *args, "x.img", cwd=tmp_path, check=0)
    out = r.stdout.split("\n")
    assert out[0] == lines[0] and out[1] == lines[1] and out[3] == lines[2]


def test_newfs_errors(tmp_path):
    r = run("rump.newfs", "-F", "-s", "10k", "x.img", cwd=tmp_path)
    assert r.returncode == 1 and "minimum size" in r.stderr
    r = run("rump.newfs", "-F", "-b", "1000", "-s", "8m", "x.img", cwd=tmp_path)
    assert r.returncode == 1 and \
        r.stderr == "newfs: block size `1000' (1000) is less than the minimum (4096).\n"
    r = run("rump.newfs", "-F", "-s", "8m", "-o", "fast", "x.img", cwd=tmp_path)
    assert r.returncode == 1 and "optimization" in r.stderr
    r = run("rump.newfs", "-F", "nosuch.img", cwd=tmp_path)
    assert r.returncode == 1 and "nosuch.img" in r.stderr
    r = run("rump.newfs", cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.startswith("usage:")
    r = run("rump.newfs", "-F", "-m", "2", "-s", "8m", "x.img", cwd=tmp_path, check=0)
    assert r.stdout.startswith("Warning: changing optimization to space because "
                               "minfree is less than 5%\n")


@pytest.mark.parametrize("args,kind", [(("-O", "1"), "UFS 1"), (("-O", "2"), "UFS 2"),
                                       (("-O", "2", "-b", "32768"), "UFS 2"),
                                       (("-O", "1", "-b", "16384", "-f", "2048"), "UFS 1")])
def test_newfs_image_is_valid_for_sleuthkit(tmp_path, args, kind):
    fsstat = tool("fsstat", "sleuthkit")
    img = tmp_path / "x.img"
    newfs(img, "-s", "32m", *args)
    r = subprocess.run([fsstat, str(img)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "File System Type: %s" % kind in r.stdout
    r = subprocess.run([tool("fls", "sleuthkit"), "-r", str(img)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0
    assert [l for l in r.stdout.splitlines() if "$OrphanFiles" not in l] == []
    fsck_clean(img)


def test_newfs_fsck_summary_matches_spec(tmp_path):
    img = tmp_path / "a.img"
    newfs(img, "-s", "8M")
    out = run("rump.fsck_ffs", "-f", "-F", img, check=0).stdout
    assert out == ("** %s\n** File system is already clean\n** Last Mounted on \n"
                   "** Phase 1 - Check Blocks and Sizes\n** Phase 2 - Check Pathnames\n"
                   "** Phase 3 - Check Connectivity\n** Phase 4 - Check Reference Counts\n"
                   "** Phase 5 - Check Cyl groups\n"
                   "1 files, 1 used, 15294 free (14 frags, 1910 blocks, 0.1%% fragmentation)\n"
                   % img)
    r = run("rump.fsck_ffs", "-F", img, check=0)
    assert r.stdout == "** %s\n** File system is clean; not checking\n" % img
    r = run("rump.fsck_ffs", "-p", img, check=0)
    assert r.stdout == "%s: file system is clean; not checking\n" % img


@pytest.mark.parametrize("endian", ["le", "be"])
def test_newfs_big_endian_image_checks_clean(tmp_path, endian):
    img = tmp_path / "b.img"
    newfs(img, "-B", endian, "-O", "2", "-s", "8m")
    assert open_path(str(img)).sb.endian == (">" if endian == "be" else "<")
    fsck_clean(img)


# ---------------------------------------------------------------- damage

@pytest.fixture
def populated(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_bytes(b"A" * 5000)
    (src / "b").write_bytes(b"B" * 70000)
    (src / "d").mkdir()
    (src / "d" / "c").write_bytes(b"C" * 10)
    return makefs(tmp_path / "p.img", src, 1, "bsize=4096", "fsize=512", size=4 << 20)


def _poke(img, off, data):
    with open(img, "r+b") as f:
        f.seek(off)
        f.write(data)


def _entry(img, path):
    """(image, inode number, dinode) of a path."""
    im = open_path(str(img))
    for p, ino, d in im.walk():
        if p == path:
            return im, ino, d
    raise KeyError(path)


def test_fsck_fixes_wrong_free_counts(tmp_path, populated):
    im = open_path(str(populated))
    sb = im.sb
    cgoff = sb.cgtod(0) * sb.fsize
    _poke(populated, cgoff + 24 + 4, struct.pack("<i", 3))          # cg 0 nbfree
    _poke(populated, im.sboff + 1008 + 8, struct.pack("<q", 5))      # sb nbfree
    r = run("rump.fsck_ffs", "-n", "-f", populated)
    assert r.returncode == 2
    assert "SUMMARY INFORMATION BAD\nSALVAGE? no" in r.stdout
    assert "FREE BLK COUNT(S) WRONG IN SUPERBLK\nSALVAGE? no" in r.stdout
    assert "UNRESOLVED INCONSISTENCIES REMAIN" in r.stdout
    r = run("rump.fsck_ffs", "-y", "-f", populated, check=0)
    assert "SALVAGE? yes" in r.stdout and "FILE SYSTEM WAS MODIFIED" in r.stdout
    fsck_clean(populated)


def test_fsck_adjusts_link_count(tmp_path, populated):
    im, ino, d = _entry(populated, b"/a")
    d.nlink = 5
    _poke(populated, im.sb.ino_offset(ino), d.pack())
    r = run("rump.fsck_ffs", "-n", "-f", populated)
    assert r.returncode == 2
    assert "LINK COUNT FILE I=%d  OWNER=" % ino in r.stdout
    assert " COUNT 5 SHOULD BE 1\nADJUST? no" in r.stdout
    run("rump.fsck_ffs", "-y", "-f", populated, check=0)
    fsck_clean(populated)
    assert _entry(populated, b"/a")[2].nlink == 1


def test_fsck_preen_adjusts_and_marks_clean(tmp_path, populated):
    im, ino, d = _entry(populated, b"/b")
    d.nlink = 3
    _poke(populated, im.sb.ino_offset(ino), d.pack())
    _poke(populated, im.sboff + 209, b"\0")                  # not clean
    r = run("rump.fsck_ffs", "-p", populated, check=0)
    assert "(ADJUSTED)" in r.stdout and "%s: MARKING FILE SYSTEM CLEAN" % populated in r.stdout
    assert open_path(str(populated)).sb.clean == 1
    fsck_clean(populated)


def test_fsck_reconnects_unreferenced_file(tmp_path, populated):
    im, ino, d = _entry(populated, b"/d/c")
    _, dino, dd = _entry(populated, b"/d")
    # drop "c" from /d by folding it into the previous entry
    addr = dd.db[0] * im.sb.fsize
    chunk = bytearray(im.read(addr, 512))
    ents = ffs_dir.parse_chunk(chunk, 0, "<")
    prev = ents[[e.name for e in ents].index(b"c") - 1]
    struct.pack_into("<H", chunk, prev.offset + 4, prev.reclen +
                     ents[[e.name for e in ents].index(b"c")].reclen)
    _poke(populated, addr, bytes(chunk))
    r = run("rump.fsck_ffs", "-n", "-f", populated)
    assert r.returncode == 2 and "UNREF FILE  I=%d" % ino in r.stdout
    r = run("rump.fsck_ffs", "-y", "-f", populated, check=0)
    assert "NO lost+found DIRECTORY\nCREATE? yes" in r.stdout
    assert "RECONNECT? yes" in r.stdout
    fsck_clean(populated)
    tree = image_tree(populated)
    assert tree["lost+found/#%d" % ino] == ("f", b"C" * 10)
    assert "d/c" not in tree


def test_fsck_removes_entry_to_unallocated_inode(tmp_path, populated):
    im, ino, d = _entry(populated, b"/a")
    _poke(populated, im.sb.ino_offset(ino), bytes(128))
    r = run("rump.fsck_ffs", "-y", "-f", populated, check=0)
    assert "UNALLOCATED  I=%d  OWNER=" % ino in r.stdout and "REMOVE? yes" in r.stdout
    assert "BLK(S) MISSING IN BIT MAPS" in r.stdout
    fsck_clean(populated)
    assert "a" not in image_tree(populated)


def test_fsck_corrects_block_count(tmp_path, populated):
    im, ino, d = _entry(populated, b"/b")
    good = d.blocks
    d.blocks = good + 8
    _poke(populated, im.sb.ino_offset(ino), d.pack())
    r = run("rump.fsck_ffs", "-y", "-f", populated, check=0)
    assert "INCORRECT BLOCK COUNT I=%d (%d should be %d)\nCORRECT? yes" % (
        ino, good + 8, good) in r.stdout
    fsck_clean(populated)


def test_fsck_salvages_a_corrupted_directory(tmp_path, populated):
    """An entry of /d with a record length that is not a multiple of 4: the
    chunk is salvaged from there (its file then goes to lost+found)."""
    im, ino, d = _entry(populated, b"/d")
    ents = ffs_dir.parse_chunk(im.read_file(d)[:ffs_dir.DIRBLKSIZ], 0, im.sb.endian)
    bad = [e for e in ents if e.name == b"c"][0]
    _poke(populated, d.db[0] * im.sb.fsize + bad.offset + 4, struct.pack("<H", 3))
    r = run("rump.fsck_ffs", "-n", "-f", populated)
    assert r.returncode == 2
    assert "DIRECTORY CORRUPTED  I=%d  OWNER=" % ino in r.stdout
    assert "DIR=/d\n" in r.stdout and "SALVAGE? no" in r.stdout
    r = run("rump.fsck_ffs", "-y", "-f", populated, check=0)
    assert "SALVAGE? yes" in r.stdout
    fsck_clean(populated)
    tree = image_tree(populated)
    assert "d/c" not in tree and any(k.startswith("lost+found/") for k in tree), tree


def test_fsck_bad_superblock(tmp_path, populated):
    _poke(populated, 8192, bytes(8192))
    r = run("rump.fsck_ffs", "-n", "-f", populated)
    assert r.returncode == 8 and "BAD SUPER BLOCK" in r.stdout


@pytest.mark.parametrize("seed", range(6))
def test_fsck_survives_random_damage(tmp_path, populated, seed):
    import random
    rng = random.Random(seed)
    im = open_path(str(populated))
    sb = im.sb
    where = rng.choice(["cg", "inodes", "dir", "indirect"])
    if where == "cg":
        off = sb.cgtod(rng.randrange(sb.ncg)) * sb.fsize + rng.randrange(sb.cgsize - 64)
    elif where == "inodes":
        off = sb.cgimin(0) * sb.fsize + rng.randrange(2 * 128, 8 * 128)
    elif where == "dir":
        off = im.inode(2).db[0] * sb.fsize + rng.randrange(480)
    else:
        _, _, d = _entry(populated, b"/b")
        off = d.ib[0] * sb.fsize + rng.randrange(64)
    _poke(populated, off, bytes(rng.getrandbits(8) for _ in range(32)))
    r = run("rump.fsck_ffs", "-y", "-f", populated)
    assert r.returncode in (0, 2, 8), r.stdout
    if r.returncode == 0:
        r2 = run("rump.fsck_ffs", "-y", "-f", populated)
        assert r2.returncode == 0
        fsck_clean(populated)


# ---------------------------------------------------------------- dumpfs

def test_dumpfs_of_fresh_ffs1(tmp_path):
    img = tmp_path / "a.img"
    newfs(img, "-s", "8M")
    out = run("rump.dumpfs", img, check=0).stdout
    lines = out.split("\n")
    assert lines[:3] == ["file system: %s" % img, "format\tFFSv1", "endian\tlittle-endian"]
    assert "sblkno\t32\tcblkno\t48\tiblkno\t56\tdblkno\t296" in lines
    assert "nbfree\t1910\tndir\t1\tnifree\t3837\tnffree\t14" in lines
    assert "cylgrp\tdynamic\tinodes\t4.4BSD\tsblock\tFFSv2\tfslevel 4" in lines
    assert "\t(473,1,957,14) (479,0,960,0) (479,0,960,0) (479,0,960,0) " in lines
    assert "maxfilesize 0x000004010040bfff" in lines
    i = lines.index("cg 0:")
    assert lines[i - 1] == ""
    assert lines[i + 1].startswith("magic\t90255\ttell\t6000\ttime\t")
    assert "iused:\t0-2" in lines and "free:\t297-303, 305-4095" in lines
    img2 = tmp_path / "b.img"
    newfs(img2, "-O", "2", "-s", "8M")
    out2 = run("rump.dumpfs", "-s", img2, check=0).stdout
    assert "location 65536\t(-b 128)" in out2 and "cg 0:" not in out2
    assert "cylgrp\tdynamic\tinodes\tFFSv2\tsblock\tFFSv2\tfslevel 5" in out2


def test_dumpfs_not_ffs(tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(bytes(300000))
    r = run("rump.dumpfs", junk)
    assert r.returncode == 1 and "could not find superblock" in r.stderr


def test_fsck_refuses_when_the_last_alternate_disagrees(tmp_path, populated):
    sb = open_path(str(populated)).sb
    _poke(populated, sb.cgsblock(sb.ncg - 1) * sb.fsize + 188, struct.pack("<i", sb.fpg + 8))
    r = run("rump.fsck_ffs", "-y", "-f", populated)
    assert r.returncode == 8 and r.stdout == ("\nBAD SUPER BLOCK: VALUES IN SUPER BLOCK "
                                              "DISAGREE WITH THOSE IN FIRST ALTERNATE\n")


def test_fsck_rewrites_a_bad_middle_alternate(tmp_path):
    img = tmp_path / "m.img"
    newfs(img, "-s", "8M")
    sb = open_path(str(img)).sb
    _poke(img, sb.cgsblock(1) * sb.fsize + 188, struct.pack("<i", sb.fpg + 8))
    r = run("rump.fsck_ffs", "-n", "-f", img)
    assert r.returncode == 2 and "ALTERNATE SUPERBLK(S) ARE INCORRECT\nSALVAGE? no" in r.stdout
    r = run("rump.fsck_ffs", "-y", "-f", img, check=0)
    fsck_clean(img)


def test_newfs_z_zeroes_and_keeps_a_larger_file(tmp_path):
    img = tmp_path / "z.img"
    img.write_bytes(b"\xff" * (10 << 20))
    newfs(img, "-Z", "-s", "8m")
    data = img.read_bytes()
    assert len(data) == 10 << 20 and data[8 << 20:] == b"\xff" * (2 << 20)
    assert data[:8192] == bytes(8192)
    fsck_clean(img)


def test_fsck_duplicate_blocks(tmp_path, populated):
    im, ino_a, a = _entry(populated, b"/a")
    _, ino_b, b = _entry(populated, b"/b")
    a.db[0] = b.db[0]                                   # /a now claims /b's first block
    _poke(populated, im.sb.ino_offset(ino_a), a.pack())
    r = run("rump.fsck_ffs", "-n", "-f", populated)
    assert r.returncode == 2
    assert "** Phase 1b - Rescan For More DUPS" in r.stdout
    dup_lines = [l for l in r.stdout.splitlines() if " DUP I=" in l]
    assert {int(l.rsplit("=", 1)[1]) for l in dup_lines} == {ino_a, ino_b}
    r = run("rump.fsck_ffs", "-y", "-f", populated)
    assert "REMOVE? yes" in r.stdout and "CLEAR? yes" in r.stdout
    r = run("rump.fsck_ffs", "-y", "-f", populated)
    fsck_clean(populated)
