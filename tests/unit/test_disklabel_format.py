"""Tests for rumptools.formats.disklabel: the on-disk label, checksum, scanner."""
import struct

import pytest
from hypothesis import given, settings, strategies as st

from rumptools.formats import disklabel as dl
from rumptools.formats.disklabel import DisklabelError, Label, Partition


def tutorial_label():
    """The label of the tutorial's usb.img (NetBSD USB install image)."""
    parts = [Partition(981792, 63, 1024, dl.FS_BSDFFS, 8, 0),
             Partition(66721, 981855, 0, dl.FS_SWAP),
             Partition(1048513, 63),
             Partition(1048576, 0)] + [Partition() for _ in range(12)]
    return Label(typename=b"USB image", secsize=512, nsectors=63, ntracks=16,
                 secpercyl=1008, ncylinders=1040, secperunit=1048576, rpm=3600,
                 interleave=1, bbsize=8192, sbsize=8192, partitions=parts)


def by_hand(order="<"):
    """The tutorial label encoded field by field at the offsets of the spec,
    independently of the module under test."""
    buf = bytearray(148 + 16 * 16)
    put = lambda fmt, off, *v: struct.pack_into(order + fmt, buf, off, *v)  # noqa: E731
    put("I", 0, 0x82564557)
    buf[8:17] = b"USB image"
    put("IIIIII", 40, 512, 63, 16, 1040, 1008, 1048576)
    put("HH", 72, 3600, 1)
    put("I", 132, 0x82564557)
    put("H", 138, 16)
    put("II", 140, 8192, 8192)
    for i, (size, off, fsize, fstype, frag) in enumerate(
            [(981792, 63, 1024, 7, 8), (66721, 981855, 0, 1, 0),
             (1048513, 63, 0, 0, 0), (1048576, 0, 0, 0, 0)]):
        put("IIIBBH", 148 + 16 * i, size, off, fsize, fstype, frag, 0)
    total = 0
    for (w,) in struct.iter_unpack(order + "H", bytes(buf)):
        total ^= w
    put("H", 136, total)
    return bytes(buf)


def test_constants():
    assert dl.DISKMAGIC == 0x82564557
    assert dl.DISKMAGIC_SWAPPED == 0x57455682
    assert dl.DISKMAGIC_DELETED == 0x7DA9BAA8
    assert (dl.MAXPARTITIONS, dl.MAXMAXPARTITIONS, dl.RAW_PART, dl.LABELSECTOR) == (16, 22, 3, 1)
    assert dl.label_size(16) == 404
    assert dl.FSTYPENAMES[dl.FS_OTHER] == "unknown" and dl.FS_OTHER == 10
    assert dl.FSTYPENAMES[7] == "4.2BSD" and dl.FSTYPENAMES[29] == "MINIX FSv3"
    assert dl.DKTYPENAMES[17] == "cgd" and dl.DKTYPENAMES[22] == "md"


def test_pack_matches_hand_encoding():
    assert dl.pack(tutorial_label()) == by_hand("<")


def test_unpack_hand_encoding():
    assert dl.unpack(by_hand("<")) == tutorial_label()


def test_byteswapped_label_is_readable():
    raw = by_hand(">")
    assert raw[:4] == b"\x82\x56\x45\x57"
    label = dl.unpack(raw)
    assert label.swapped
    assert label.partitions[0] == Partition(981792, 63, 1024, 7, 8, 0)
    label.swapped = False
    assert label == tutorial_label()


def test_pack_swapped_round_trip():
    label = tutorial_label()
    label.swapped = True
    raw = dl.pack(label)
    assert raw == by_hand(">")
    assert dl.unpack(raw) == label


def test_checksum_makes_words_xor_to_zero():
    raw = dl.pack(tutorial_label())
    assert dl.checksum(raw) == 0
    stored, = struct.unpack_from("<H", raw, 136)
    zeroed = raw[:136] + b"\0\0" + raw[138:]
    assert dl.checksum(zeroed) == stored != 0


def test_checksum_simple_words():
    assert dl.checksum(b"\x01\x00\x02\x00\x04\x00") == 7
    assert dl.checksum(b"\x01\x00\x01\x00") == 0
    assert dl.checksum(b"\x00\x01", swapped=True) == 1
    with pytest.raises(DisklabelError):
        dl.checksum(b"\x00")


def test_bad_checksum_rejected():
    raw = bytearray(dl.pack(tutorial_label()))
    raw[200] ^= 0x10
    with pytest.raises(DisklabelError, match="bad checksum"):
        dl.unpack(bytes(raw))
    # still decodable on request, with the damaged value
    assert dl.unpack(bytes(raw), verify=False).partitions[3].offset == 0x10


@pytest.mark.parametrize("where", [0, 132])
def test_bad_magic_rejected(where):
    raw = bytearray(dl.pack(tutorial_label()))
    raw[where] ^= 1
    with pytest.raises(DisklabelError, match="bad magic"):
        dl.unpack(bytes(raw))


def test_mixed_byte_order_magics_rejected():
    raw = bytearray(dl.pack(tutorial_label()))
    raw[132:136] = struct.pack(">I", dl.DISKMAGIC)
    with pytest.raises(DisklabelError, match="bad magic"):
        dl.unpack(bytes(raw))


def test_too_many_partitions_and_truncation():
    raw = bytearray(dl.pack(tutorial_label()))
    struct.pack_into("<H", raw, 138, 23)
    with pytest.raises(DisklabelError, match="number of partitions"):
        dl.unpack(bytes(raw) + bytes(200))
    with pytest.raises(DisklabelError, match="truncated"):
        dl.unpack(dl.pack(tutorial_label())[:300])
    with pytest.raises(DisklabelError, match="truncated"):
        dl.unpack(b"\0" * 100)


def test_pack_rejects_bad_labels():
    with pytest.raises(DisklabelError, match="too many"):
        dl.pack(Label(partitions=[Partition()] * 23))
    with pytest.raises(DisklabelError, match="16 bytes"):
        dl.pack(Label(typename=b"x" * 17))
    with pytest.raises(DisklabelError, match="out of range"):
        dl.pack(Label(rpm=70000))


def test_unpack_at_offset_and_name_fields():
    label = tutorial_label()
    label.packname = b"sixteen-chars-ok"
    raw = b"\xff" * 12 + dl.pack(label)
    got = dl.unpack(raw, 12)
    assert got.packname == b"sixteen-chars-ok" and got.typename == b"USB image"


def test_copy_is_deep_for_partitions():
    a = tutorial_label()
    b = a.copy()
    b.partitions[0].size = 1
    assert a.partitions[0].size == 981792 and a != b


u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
names = st.binary(max_size=16).map(lambda b: b.rstrip(b"\0"))
partitions = st.builds(Partition, u32, u32, u32, st.integers(0, 255), st.integers(0, 255), u16)
labels = st.builds(
    Label, type=u16, subtype=u16, typename=names, packname=names, secsize=u32,
    nsectors=u32, ntracks=u32, ncylinders=u32, secpercyl=u32, secperunit=u32,
    sparespertrack=u16, sparespercyl=u16, acylinders=u32, rpm=u16, interleave=u16,
    trackskew=u16, cylskew=u16, headswitch=u32, trkseek=u32, flags=u32,
    drivedata=st.tuples(u32, u32, u32, u32, u32), spare=st.tuples(u32, u32, u32, u32, u32),
    bbsize=u32, sbsize=u32, partitions=st.lists(partitions, max_size=22),
    swapped=st.booleans())


@settings(max_examples=300)
@given(labels)
def test_round_trip(label):
    raw = dl.pack(label)
    assert len(raw) == dl.label_size(label.npartitions)
    assert dl.checksum(raw, label.swapped) == 0
    assert dl.unpack(raw) == label
    assert dl.pack(dl.unpack(raw)) == raw


@settings(max_examples=100)
@given(labels, st.integers(0, 300), st.binary(max_size=64))
def test_find_label_anywhere_aligned(label, slot, tail):
    head = bytes(4 * slot)
    found = dl.find_label(head + dl.pack(label) + tail)
    assert found == (4 * slot, label)


def test_find_label_skips_corrupt_and_unaligned():
    good = dl.pack(tutorial_label())
    bad = bytearray(good)
    bad[150] ^= 0xFF                        # breaks the checksum
    buf = bytes(64) + bad + bytes(6) + good + bytes(2) + good + bytes(512)
    # the corrupt copy at 64 and the unaligned one at 64+404+6 are skipped
    off, label = dl.find_label(buf)
    assert off == 64 + 404 + 6 + 404 + 2 == 880
    assert label == tutorial_label()
    kinds = [(o, type(x).__name__) for o, x in dl.candidates(buf)]
    assert kinds == [(64, "DisklabelError"), (880, "Label")]


def test_find_label_magic_without_magic2_ignored():
    raw = bytearray(dl.pack(tutorial_label()))
    raw[132:136] = b"\0\0\0\0"
    assert dl.find_label(bytes(raw) + bytes(1000)) is None
    assert dl.find_label(b"") is None
    assert dl.find_label(struct.pack("<I", dl.DISKMAGIC) * 64) is None


def test_find_label_more_than_22_partitions_ignored():
    raw = bytearray(dl.pack(Label(partitions=[Partition(1, 2)] * 22)))
    assert dl.find_label(bytes(raw))[1].npartitions == 22
    raw = bytearray(dl.pack(Label(partitions=[Partition()] * 22)) + bytes(16))
    struct.pack_into("<H", raw, 138, 23)
    raw[136:138] = b"\0\0"
    struct.pack_into("<H", raw, 136, dl.checksum(bytes(raw)))
    assert dl.checksum(bytes(raw)) == 0
    assert dl.find_label(bytes(raw)) is None


def test_find_label_swapped_and_maxscan():
    label = tutorial_label()
    label.swapped = True
    buf = bytes(8192) + dl.pack(label)
    off, got = dl.find_label(buf)
    assert off == 8192 and got.swapped and got.partitions[1].offset == 981855
    assert dl.find_label(buf, maxscan=8192) is None
    assert dl.find_label(buf, maxscan=8192 + 404)[0] == 8192
    assert dl.find_label(bytearray(buf))[0] == 8192


def _mbr(*entries):
    buf = bytearray(512)
    for i, (ptype, start, size) in enumerate(entries):
        buf[446 + 16 * i + 4] = ptype
        struct.pack_into("<II", buf, 446 + 16 * i + 8, start, size)
    buf[510:512] = b"\x55\xaa"
    return bytes(buf)


def test_mbr_netbsd_partition():
    assert dl.mbr_netbsd_partition(_mbr((0x0C, 2048, 100), (0xA9, 63, 1048513))) == (63, 1048513)
    assert dl.mbr_netbsd_partition(_mbr((0x83, 2048, 100))) is None
    assert dl.mbr_netbsd_partition(_mbr((0xA9, 63, 0))) is None
    no_signature = _mbr((0xA9, 63, 10))[:510] + b"\0\0"
    assert dl.mbr_netbsd_partition(no_signature) is None
    assert dl.mbr_netbsd_partition(b"") is None


def test_default_label():
    label = dl.default_label(204800)
    assert (label.nsectors, label.ntracks, label.secpercyl, label.ncylinders) == (32, 64, 2048, 100)
    assert label.npartitions == 4
    assert label.partitions[dl.RAW_PART] == Partition(204800, 0)
    assert dl.unpack(dl.pack(label)) == label
