"""Tests for rumptools.formats.disklabel_text: printing, parsing and checking
labels in disklabel(8)'s text form, against the tutorial's sessions."""
import pytest
from hypothesis import given, settings, strategies as st

from rumptools.formats import disklabel as dl
from rumptools.formats.disklabel import Label, Partition
from rumptools.formats.disklabel_text import (Complaint, LabelTextError, check_label,
                                              format_label, parse_label)
from tests.tutorial_labels import TUTORIAL_EDITED, TUTORIAL_SHOW

# `disklabel cgd0` on the target machine at the end of the tutorial.
TUTORIAL_CGD = """\
# /dev/rcgd0d:
type: cgd
disk: cgd
label: fictitious
flags:
bytes/sector: 512
sectors/track: 2048
tracks/cylinder: 1
sectors/cylinder: 2048
cylinders: 12
total sectors: 25024
rpm: 3600
interleave: 1
trackskew: 0
cylinderskew: 0
headswitch: 0           # microseconds
track-to-track seek: 0  # microseconds
drivedata: 0 

4 partitions:
#        size    offset     fstype [fsize bsize cpg/sgs]
 a:     25024         0     4.2BSD      0     0     0  # (Cyl.      0 -     12*)
 d:     25024         0     unused      0     0        # (Cyl.      0 -     12*)
"""


def tutorial_label():
    parts = [Partition(981792, 63, 1024, dl.FS_BSDFFS, 8, 0),
             Partition(66721, 981855, 0, dl.FS_SWAP),
             Partition(1048513, 63),
             Partition(1048576, 0)] + [Partition() for _ in range(12)]
    return Label(typename=b"USB image", secsize=512, nsectors=63, ntracks=16,
                 secpercyl=1008, ncylinders=1040, secperunit=1048576, rpm=3600,
                 interleave=1, bbsize=8192, sbsize=8192, partitions=parts)


def cgd_label():
    return Label(type=dl.DKTYPE_CGD, typename=b"cgd", packname=b"fictitious",
                 secsize=512, nsectors=2048, ntracks=1, secpercyl=2048,
                 ncylinders=12, secperunit=25024, rpm=3600, interleave=1,
                 partitions=[Partition(25024, 0, 0, dl.FS_BSDFFS), Partition(),
                             Partition(), Partition(25024, 0)])


def test_tutorial_show_exact():
    text = format_label(tutorial_label(), "usb.img")
    assert "headswitch: 0\t\t# microseconds\n" in text
    assert "track-to-track seek: 0\t# microseconds\n" in text
    assert "drivedata: 0 \n\n16 partitions:\n" in text
    assert text.expandtabs(8) == TUTORIAL_SHOW


def test_tutorial_cgd_show_exact_and_checked():
    assert format_label(cgd_label(), "/dev/rcgd0d").expandtabs(8) == TUTORIAL_CGD
    # the fictitious cgd label has no boot/super block sizes: disklabel complains
    msgs = check_label(cgd_label())
    assert msgs == ["boot block size 0", "super block size 0"]
    assert all(m.error for m in msgs)


def test_tutorial_edit_parses():
    label = parse_label(TUTORIAL_EDITED, tutorial_label())
    assert label.secperunit == 1073600
    assert label.npartitions == 16
    assert label.partitions[4] == Partition(25024, 1048576, 0, dl.FS_OTHER, 0, 0)
    assert label.partitions[2] == Partition(1073537, 63)
    assert label.partitions[0] == Partition(981792, 63, 1024, dl.FS_BSDFFS, 8, 0)
    assert label.partitions[5:] == [Partition()] * 11
    # shown again, every line is the tutorial's but e's: "unknown" has no
    # fsize/bsize columns, so disklabel prints blanks where the user typed 0 0
    shown = format_label(label, "usb.img").expandtabs(8).splitlines()
    want = TUTORIAL_EDITED.splitlines()
    assert shown[:-1] == want[:-1]
    assert shown[-1] == " e:     25024   1048576    unknown                     # (Cyl.   1040*-   1065*)"


def test_tutorial_show_parses_back_to_the_label():
    assert parse_label(TUTORIAL_SHOW, None) == tutorial_label()
    assert parse_label(format_label(tutorial_label(), "x"), None) == tutorial_label()


def test_cylinder_markers():
    label = Label(secsize=512, nsectors=10, ntracks=10, secpercyl=100, ncylinders=10,
                  secperunit=1000, partitions=[Partition(100, 1100, 0, dl.FS_MSDOS)])
    line = format_label(label, "x").splitlines()[-1]
    assert line == " a:       100      1100      MSDOS                     # (Cyl.     11+-     11+)"
    label.partitions[0] = Partition(200, 100, 0, dl.FS_MSDOS)
    assert format_label(label, "x").endswith("# (Cyl.      1 -      2)\n")
    label.secpercyl = 0
    assert format_label(label, "x").endswith("      MSDOS                    \n")


def test_field_columns_per_fstype():
    label = Label(partitions=[Partition(1, 0, 2048, dl.FS_EX2FS, 2),
                              Partition(1, 0, 3, dl.FS_ISO9660),
                              Partition(1, 0, 512, dl.FS_BSDLFS, 8, 20),
                              Partition(1, 0, 0, 77)])
    lines = format_label(label, "x").splitlines()[-4:]
    assert lines == [" a:         1         0 Linux Ext2   2048  4096       ",
                     " b:         1         0    ISO9660       3            ",
                     " c:         1         0     4.4LFS    512  4096    20 ",
                     " d:         1         0         77                    "]


def test_header_variants():
    label = Label(type=99, flags=dl.D_REMOVABLE | dl.D_BADSECT, typename=b"sixteen bytes ok",
                  drivedata=(1, 0, 7, 0, 0))
    text = format_label(label, "d")
    assert "type: 99\n" in text and "disk: sixteen bytes ok\n" in text
    assert "flags: removable badsect\n" in text
    assert "drivedata: 1 0 7 \n" in text
    assert "0 partitions:\n" in text


def messages_of(text, base=None):
    got = []
    try:
        parse_label(text, base, report=got.append)
    except LabelTextError as e:
        assert e.messages == got
        return got, True
    return got, False


def replace_line(text, number, new):
    lines = text.split("\n")
    lines[number - 1] = new
    return "\n".join(lines)


@pytest.mark.parametrize("lineno,new,message", [
    (3, "disk USB image", "line 3: syntax error"),
    (7, "sectors/trak: 63", "line 7: unknown field: sectors/trak"),
    (20, "17 partitions:", "line 20: bad # of partitions"),
    (20, "0 partitions:", "line 20: bad # of partitions"),
    (23, " q: 100 0 4.2BSD 1024 8192 16", "line 23: bad partition name: q"),
    (23, " A: 100 0 4.2BSD 1024 8192 16", "line 23: unknown field: A"),
    (23, " a: 100", "line 23: too few numeric fields"),
    (23, " a: 100 0", "line 23: too few fields"),
    (23, " a: 100 0 4.2BSD 1024", "line 23: too few numeric fields"),
    (23, " a: 1x0 0 4.2BSD 1024 8192 0", "line 23: bad partition size: 1x0"),
    (23, " a: 100 -5 swap", "line 23: bad partition offset: -5"),
    (6, "bytes/sector: 500", "line 6: bad bytes/sector: 500"),
    (12, "rpm: 70000", "line 12: bad rpm: 70000"),
    (5, "flags: removable shiny", "line 5: bad flag: shiny"),
    (2, "type: strange", "line 2: syntax error"),
    (18, "drivedata: 1 x", "line 18: bad drive data"),
])
def test_line_numbered_errors(lineno, new, message):
    got, failed = messages_of(replace_line(TUTORIAL_SHOW, lineno, new))
    assert failed
    assert message in got
    assert [m for m in got if m.error][0] == message


def test_errors_reported_in_order_with_line_numbers():
    text = replace_line(replace_line(TUTORIAL_SHOW, 3, "nonsense"), 24, " z: 1 2 swap")
    got, failed = messages_of(text)
    assert failed and got == ["line 3: syntax error", "line 24: bad partition name: z"]


def test_unknown_fstype_is_a_warning_and_unused():
    text = replace_line(TUTORIAL_SHOW, 24, " d:   1048576         0     floppyfs")
    got, failed = messages_of(text)
    assert not failed
    assert got == ["line 24: warning, unknown file system type: floppyfs",
                   "tip: use -l to see all valid file system types"]
    assert parse_label(text).partitions[3].fstype == dl.FS_UNUSED


def test_fstype_by_number_and_names_with_blanks():
    text = "\n".join(["bytes/sector: 512", "sectors/track: 10", "tracks/cylinder: 1",
                      "cylinders: 100", "rpm: 1", "interleave: 1",
                      "a: 10 0 Linux Ext2 1024 4096", "b: 10 10 12 3", "c: 10 20 Apple UFS 512 4096 7",
                      "d: 1000 0 unused", "e: 1 30 200", "f: 1 31 Version 7", ""])
    got = []
    label = parse_label(text, report=got.append)
    assert got == ["line 11: warning, unknown file system type: 200"]
    p = label.partitions
    assert (p[0].fstype, p[0].fsize, p[0].frag) == (dl.FS_EX2FS, 1024, 4)
    assert (p[1].fstype, p[1].fsize) == (dl.FS_ISO9660, 3)
    assert (p[2].fstype, p[2].bsize, p[2].cpg) == (dl.FS_APPLEUFS, 4096, 7)
    assert (p[3].fstype, p[3].fsize, p[3].frag) == (dl.FS_UNUSED, 0, 0)
    assert p[4].fstype == 200 and p[5].fstype == 3
    # no "N partitions" line: the count follows the last partition given
    assert label.npartitions == 6
    # zero sectors/cylinder and total sectors come from the geometry
    assert (label.secpercyl, label.secperunit) == (10, 1000)
    assert (label.bbsize, label.sbsize) == (8192, 8192)


def test_cylinder_track_sector_notation_and_crlf():
    text = ("bytes/sector: 512\r\nsectors/track: 63\r\ntracks/cylinder: 16\r\n"
            "sectors/cylinder: 1008\r\ncylinders: 1040\r\nrpm: 3600\r\ninterleave: 1\r\n"
            "4 partitions:\r\n\r\n   # a comment line\r\n"
            "a: 2/0/0 0/0/63 4.2BSD 1024 8192 16 # trailing\r\nd: 1040/0 0 unused\r\n")
    label = parse_label(text)
    assert label.partitions[0] == Partition(2016, 63, 1024, dl.FS_BSDFFS, 8, 16)
    assert label.partitions[3] == Partition(1048320, 0)
    assert label.npartitions == 4


def test_partition_beyond_declared_count_increases_it():
    text = TUTORIAL_SHOW.replace("16 partitions:", "4 partitions:") + " f: 10 2000 unused\n"
    got = []
    label = parse_label(text, report=got.append)
    assert got == ["warning, partition f increased number of partitions from 4 to 6"]
    assert label.npartitions == 6 and label.partitions[5] == Partition(10, 2000)


def test_past_end_of_unit_is_an_error():
    text = TUTORIAL_EDITED.replace("total sectors: 1073600", "total sectors: 1048576")
    got, failed = messages_of(text)
    assert failed
    assert got == ["partition c: partition extends past end of unit",
                   "partition d: partition extends past end of unit",
                   "partition e: partition extends past end of unit"]
    text = TUTORIAL_SHOW + " e: 5 2000000 swap\n"
    got, failed = messages_of(text)
    assert failed and got == ["partition e: offset past end of unit",
                              "partition e: partition extends past end of unit"]


def test_overlap_warns_only_for_used_partitions():
    text = TUTORIAL_EDITED.replace("unknown      0     0", "4.2BSD 1024 8192 0").replace(
        "25024   1048576", "25024   1000000")
    got = []
    label = parse_label(text, report=got.append)
    assert got == ["partitions b and e overlap"]
    assert not got[0].error
    assert label.partitions[4].offset == 1000000


def test_check_label_geometry_errors():
    assert check_label(Label()) == ["sector size 0"]
    assert check_label(Label(secsize=512)) == ["sectors/track 0"]
    assert check_label(Label(secsize=512, nsectors=1)) == ["tracks/cylinder 0"]
    msgs = check_label(Label(secsize=512, nsectors=1, ntracks=1, bbsize=8192, sbsize=100))
    assert msgs == ["cylinders/unit 0", "warning, revolutions/minute 0",
                    "warning, super block size % sector-size != 0"]
    assert [m.error for m in msgs] == [True, False, False]
    assert isinstance(msgs[0], Complaint) and isinstance(msgs[0], str)


def test_base_gives_only_fields_the_text_lacks():
    base = tutorial_label()
    base.subtype, base.spare, base.acylinders = 5, (1, 2, 3, 4, 5), 9
    label = parse_label(TUTORIAL_EDITED, base)
    assert (label.subtype, label.spare, label.acylinders) == (5, (1, 2, 3, 4, 5), 9)
    assert base.partitions[0].size == 981792 and base.secperunit == 1048576
    # a header line left out is zero, as in disklabel(8): an emptied buffer fails
    got, failed = messages_of("", base)
    assert failed and got == ["sector size 0"]
    got, failed = messages_of(TUTORIAL_SHOW.replace("rpm: 3600", ""), base)
    assert not failed and got == ["warning, revolutions/minute 0"]


# ---- round trip through the text form, for labels the text can express

_SHORT_FSTYPES = [i for i, n in enumerate(dl.FSTYPENAMES) if len(n) <= 10]
_word = st.text("abcdefghijklmnopqrstuvwxyzABC0123456789-._/", min_size=1, max_size=5)
_name = st.lists(_word, max_size=3).map(" ".join).filter(lambda s: len(s) <= 16)


@st.composite
def _partition(draw):
    size = draw(st.integers(0, 1 << 20))
    if size == 0:
        return Partition()
    t = draw(st.sampled_from(_SHORT_FSTYPES + [40, 255]))
    p = Partition(size, draw(st.integers(0, 1 << 20)), fstype=t)
    nfields = {0: 2, 7: 3, 9: 3, 14: 3, 22: 3, 17: 2, 12: 1}.get(t, 0)
    if nfields:
        p.fsize = draw(st.integers(0, 1 << 16))
        if p.fsize and nfields >= 2:
            p.frag = draw(st.integers(0, 255))
        if p.fsize and nfields == 3:
            p.cpg = draw(st.integers(0, 0xFFFF))
    return p


@st.composite
def _label(draw):
    u32 = st.integers(1, 0xFFFFFFFF)
    return Label(
        type=draw(st.integers(0, 0xFFFF)), typename=draw(_name).encode(),
        packname=draw(_name).encode(), secsize=512 * draw(st.integers(1, 8)),
        nsectors=draw(u32), ntracks=draw(u32), ncylinders=draw(u32),
        secpercyl=draw(st.integers(1, 4096)), secperunit=draw(st.integers(1 << 22, 0xFFFFFFFF)),
        rpm=draw(st.integers(0, 0xFFFF)), interleave=draw(st.integers(1, 0xFFFF)),
        trackskew=draw(st.integers(0, 0xFFFF)), cylskew=draw(st.integers(0, 0xFFFF)),
        headswitch=draw(st.integers(0, 0xFFFFFFFF)), trkseek=draw(st.integers(0, 0xFFFFFFFF)),
        flags=draw(st.integers(0, 7)),
        drivedata=tuple(draw(st.lists(st.integers(0, 0xFFFFFFFF), min_size=5, max_size=5))),
        bbsize=8192, sbsize=8192,
        partitions=draw(st.lists(_partition(), min_size=1, max_size=16)))


@settings(max_examples=200)
@given(_label())
def test_text_round_trip(label):
    assert parse_label(format_label(label, "disk"), report=lambda m: None) == label
