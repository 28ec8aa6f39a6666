"""newfs's layout rules and summary lines against the cases of specs/ffs.md,
which were checked against NetBSD 7.99.34 newfs output."""
import pytest

from rumptools.formats import ffs_geometry as geom

TUTORIAL = ("nethack.img: 14.0MB (28672 sectors) block size 4096, fragment size 512\n"
            "\tusing 4 cylinder groups of 3.50MB, 896 blks, 1696 inodes.\n"
            "super-block backups (for fsck_ffs -b #) at:\n"
            "32, 7200, 14368, 21536,\n")
EXAMPLE_A = ("/rdk: 8.0MB (16384 sectors) block size 4096, fragment size 512\n"
             "\tusing 4 cylinder groups of 2.00MB, 512 blks, 960 inodes.\n"
             "super-block backups (for fsck_ffs -b #) at:\n"
             "32, 4128, 8224, 12320,\n")
EXAMPLE_B = ("/rdk: 8.0MB (16384 sectors) block size 16384, fragment size 4096\n"
             "\tusing 4 cylinder groups of 2.00MB, 128 blks, 128 inodes.\n"
             "super-block backups (for fsck_ffs -b #) at:\n"
             "160, 4256, 8352, 12448,\n")


def g_of(fssize, **kw):
    return geom.compute(geom.Params(fssize, **kw))


def test_tutorial_14m():
    g = g_of(28672)
    assert geom.report(g, "nethack.img") == TUTORIAL
    assert (g.ncg, g.fpg, g.ipg) == (4, 7168, 1696)


def test_example_a_ffs1():
    g = g_of(16384, ufs=1)
    assert geom.report(g, "/rdk") == EXAMPLE_A
    assert (g.sblkno, g.cblkno, g.iblkno, g.dblkno) == (32, 48, 56, 296)
    assert (g.ipg, g.cgsize, g.dsize) == (960, 1024, 15295)


def test_example_b_ffs2_16k():
    g = g_of(16384, ufs=2, bsize=16384, fsize=4096)
    assert geom.report(g, "/rdk") == EXAMPLE_B
    assert (g.sblkno, g.cblkno, g.iblkno, g.dblkno, g.cgsize, g.dsize) == \
        (20, 24, 28, 36, 4096, 1963)


def test_other_reproduced_cases():
    g = g_of(16384, ufs=2)
    assert (g.sblkno, g.ipg, g.dblkno) == (144, 912, 624)
    assert geom.backups(g) == [144, 4240, 8336, 12432]
    g = g_of(16384, ufs=1, bsize=8192)
    assert (g.sblkno, g.ipg, g.dblkno) == (16, 512, 96)


@pytest.mark.parametrize("sectors,sizes", [(40959, (512, 4096)), (40960, (1024, 8192)),
                                           (2048000, (2048, 16384)),
                                           (268435456, (4096, 32768))])
def test_default_block_sizes(sectors, sizes):
    assert geom.default_sizes(sectors) == sizes


def test_too_small_and_bad_sizes():
    with pytest.raises(geom.GeometryError, match="< minimum size"):
        g_of(64)
    with pytest.raises(geom.GeometryError):
        g_of(16384, bsize=3000)
    with pytest.raises(geom.GeometryError):
        g_of(16384, bsize=65536, fsize=512)
    with pytest.raises(geom.GeometryError, match="Too many fragments"):
        g_of(1 << 33, fsize=512, bsize=4096)


def test_verbosity_levels():
    g = g_of(28672)
    assert geom.report(g, "x", 0) == ""
    assert geom.report(g, "x", 1) == geom.summary_lines(g, "x")
    v2 = geom.report(g, "x", 2)
    assert v2.startswith(geom.summary_lines(g, "x")) and "super-block" not in v2
    assert set(v2[len(geom.summary_lines(g, "x")):].strip()) == {"."}
    v4 = geom.report(g, "x", 4)
    assert v4.endswith("   32,  7200, 14368, 21536,\n")


def test_long_backup_lists():
    g = g_of(8 * 1024 * 1024, bsize=4096, fsize=512)      # 4 GiB of small blocks: many cgs
    assert g.ncg > 40
    full = geom.report(g, "x", 3, width=80)
    lines = full.split("\n")
    assert lines[3].startswith("32, ") and len(lines[3]) < 80
    assert set(lines[4]) == {"."} and 70 <= len(lines[4]) <= 80
    n = geom.report(g, "x", 3, nflag=True, width=80)
    assert n.split("\n")[3].endswith(" ...") and len(n.split("\n")[3]) <= 80
    v4 = geom.report(g, "x", 4, width=80).split("\n")[3:]
    items = " ".join(v4).replace(",", " ").split()
    assert [int(i) for i in items] == geom.backups(g)
