"""FFS on-disk format modules: superblock, cylinder group, dinode, directory
entries — round trips in both byte orders and the facts of specs/ffs.md."""
import random
import struct

import pytest

from rumptools.formats import ffs_dinode as di
from rumptools.formats import ffs_dir
from rumptools.formats import ffs_geometry as geom
from rumptools.formats import ffs_mkfs
from rumptools.formats import ffs_superblock as fsb
from rumptools.formats.ffs_cg import CG, map_offsets, summarize
from rumptools.formats.ffs_reader import Image


def build(fssize, endian="<", **kw):
    g = geom.compute(geom.Params(fssize, endian=endian, **kw))
    g.endian = endian
    img = bytearray(fssize * 512)

    def write(off, data):
        img[off:off + len(data)] = data
    ffs_mkfs.build(g, write, 1_500_000_000.25, lambda n: bytes(range(256)) * (n // 256 + 1))
    return g, img


def reader(img):
    return Image(lambda off, n: bytes(img[off:off + n]))


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("ufs", [1, 2])
def test_superblock_round_trip_and_find(endian, ufs):
    g, img = build(16384, endian, ufs=ufs)
    im = reader(img)
    sb = im.sb
    assert sb.endian == endian and sb.ufs == ufs
    assert im.sboff == (65536 if ufs == 2 else 8192) == sb.sblockloc
    raw = bytes(img[im.sboff:im.sboff + 1376])
    assert sb.pack() == raw
    assert fsb.parse(raw).pack() == raw
    assert fsb.validate(sb) is None
    magic = struct.unpack_from(endian + "i", raw, 1372)[0]
    assert magic == (fsb.FS_UFS2_MAGIC if ufs == 2 else fsb.FS_UFS1_MAGIC)


def test_superblock_validation_refuses_nonsense():
    g, img = build(16384)
    sb = reader(img).sb
    for field, value in [("bsize", 1000), ("fsize", 8192 * 2), ("ncg", 0), ("frag", 3),
                         ("sbsize", 100), ("cgsize", 100000), ("inopb", 7)]:
        bad = fsb.parse(sb.pack())
        setattr(bad, field, value)
        assert fsb.validate(bad) is not None, field
    junk = bytearray(img)
    junk[8192:8192 + 1376] = bytes(1376)
    with pytest.raises(fsb.SuperblockError):
        fsb.find_superblock(lambda o, n: bytes(junk[o:o + n]))


def test_ufs1_superblock_at_65536_is_not_taken_as_primary():
    g, img = build(16384, bsize=65536, fsize=8192)
    # a 64 K-block UFS1's first backup sits at 65536; the primary at 8192 wins
    sb, off = fsb.find_superblock(lambda o, n: bytes(img[o:o + n]))
    assert off == 8192
    img[8192 + 1372:8192 + 1376] = bytes(4)
    with pytest.raises(fsb.SuperblockError):
        fsb.find_superblock(lambda o, n: bytes(img[o:o + n]))


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("ufs", [1, 2])
def test_dinode_round_trip(ufs, endian):
    rng = random.Random(ufs * 10 + (endian == ">"))
    for _ in range(50):
        raw = bytes(rng.getrandbits(8) for _ in range(di.size_of(ufs)))
        d = di.Dinode(ufs, raw, endian)
        assert d.pack() == raw
    d = di.Dinode(ufs, None, endian)
    d.mode, d.nlink, d.size, d.db[3], d.ib[2] = di.IFREG | 0o644, 3, 123456789, 77, 99
    back = di.Dinode(ufs, d.pack(), endian)
    assert (back.mode, back.nlink, back.size, back.db[3], back.ib[2]) == \
        (d.mode, 3, 123456789, 77, 99)


@pytest.mark.parametrize("ufs,limit", [(1, 60), (2, 120)])
def test_fast_symlink_area(ufs, limit):
    d = di.Dinode(ufs)
    d.mode = di.IFLNK | 0o777
    di.set_fast_link_target(d, b"x" * (limit - 1))
    assert di.fast_link_target(di.Dinode(ufs, d.pack())) == b"x" * (limit - 1)
    with pytest.raises(ValueError):
        di.set_fast_link_target(d, b"x" * limit)


def test_dirsiz_and_chunks():
    assert ffs_dir.dirsiz(1) == 12 and ffs_dir.dirsiz(2) == 12 and ffs_dir.dirsiz(4) == 16
    ents = [(2, ffs_dir.DT_DIR, b"."), (2, ffs_dir.DT_DIR, b"..")] + \
        [(10 + i, ffs_dir.DT_REG, b"name-%03d" % i) for i in range(100)]
    for endian in "<>":
        data = ffs_dir.build_chunks(ents, endian)
        assert len(data) % 512 == 0 and len(data) > 512
        got = ffs_dir.parse_block(data, endian)
        assert [(e.ino, e.type, e.name) for e in got] == ents
        for start in range(0, len(data), 512):
            chunk = ffs_dir.parse_chunk(data, start, endian)
            assert chunk[-1].offset + chunk[-1].reclen == start + 512
    first = ffs_dir.empty_dir(5, 2, "<")
    e = ffs_dir.parse_chunk(first, 0, "<")
    assert [(x.name, x.ino, x.reclen) for x in e] == [(b".", 5, 12), (b"..", 2, 500)]


def test_directory_damage_is_found():
    data = bytearray(ffs_dir.empty_dir(5, 2, "<"))
    struct.pack_into("<H", data, 4, 13)              # reclen not a multiple of 4
    with pytest.raises(ffs_dir.DirError):
        ffs_dir.parse_chunk(data, 0, "<")
    data = bytearray(ffs_dir.empty_dir(5, 2, "<"))
    struct.pack_into("<H", data, 16, 600)            # crosses the chunk
    with pytest.raises(ffs_dir.DirError):
        ffs_dir.parse_chunk(data, 0, "<")
    data = bytearray(ffs_dir.empty_dir(5, 2, "<"))
    data[20] = ord("/")                              # '/' in a name
    with pytest.raises(ffs_dir.DirError):
        ffs_dir.parse_chunk(data, 0, "<")


def test_cg_map_offsets_verified_by_spec():
    # specs/ffs.md: "ffs1 174/294/804/872/936; ffs2 168/282/792/860/924"
    o1 = map_offsets(1, 960, 4096, 8, 16)
    assert (o1["iused"], o1["free"], o1["clustersum"], o1["cluster"], o1["nextfree"]) == \
        (174, 294, 804, 872, 936)
    o2 = map_offsets(2, 912, 4096, 8, 16)
    assert (o2["iused"], o2["free"], o2["clustersum"], o2["cluster"], o2["nextfree"]) == \
        (168, 282, 792, 860, 924)


def test_summarize_counts_runs():
    free = [0] * 8 + [1] * 8 + [0, 1, 1, 0, 1, 1, 1, 0] + [1] * 16
    nb, nf, frsum, cluster, csum = summarize(free, 8, len(free), 4)
    assert (nb, nf) == (3, 5)
    assert frsum[2] == 1 and frsum[3] == 1
    assert cluster == [0, 1, 0, 1, 1] and csum[1] == 1 and csum[2] == 1


@pytest.mark.parametrize("ufs", [1, 2])
def test_fresh_cgs_agree_with_superblock(ufs):
    g, img = build(16384, ufs=ufs)
    im = reader(img)
    sb = im.sb
    tot = [0, 0, 0, 0]
    for c in range(sb.ncg):
        cg = im.cg(c)
        assert cg.check(sb, c) is None
        back = CG(cg.pack(), sb.endian)
        assert back.pack() == bytes(img[sb.cgtod(c) * sb.fsize:][:sb.cgsize])
        for i in range(4):
            tot[i] += cg.cs[i]
    assert tuple(tot) == sb.totals()
    if ufs == 1:
        # specs/ffs.md example A after the root: nbfree 1910, nffree 14
        assert tot == [1, 1910, 4 * 960 - 3, 14]
    root = im.inode(2)
    assert im.listdir(root) == [(b".", 2, 4), (b"..", 2, 4)]
    assert root.blocks == sb.fsize // 512 and root.nlink == 2
