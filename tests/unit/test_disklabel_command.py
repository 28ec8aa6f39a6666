"""Tests for the rump.disklabel command: in process with click's CliRunner and
end to end as a subprocess, on image files shaped like the tutorial's usb.img
(an MBR with a NetBSD partition at sector 63, its label at sector 64), and on
a disk inside a fake rump kernel."""
import errno
import os
import struct
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from rumptools.commands.disklabel import cli
from rumptools.formats import disklabel as dl
from rumptools.formats.disklabel import Label, Partition
from rumptools.abi.errnos import RumpError
from tests.tutorial_labels import TUTORIAL_SHOW

REPO = Path(__file__).resolve().parents[2]
SECTORS = 1048576

# The partition table after the tutorial's `disklabel -re usb.img`, as printed.
EDITED_TABLE = """\
16 partitions:
#        size    offset     fstype [fsize bsize cpg/sgs]
 a:    981792        63     4.2BSD   1024  8192     0  # (Cyl.      0*-    974*)
 b:     66721    981855       swap                     # (Cyl.    974*-   1040*)
 c:   1073537        63     unused      0     0        # (Cyl.      0*-   1065*)
 d:   1073600         0     unused      0     0        # (Cyl.      0 -   1065*)
 e:     25024   1048576    unknown                     # (Cyl.   1040*-   1065*)
"""

# An $EDITOR that makes the tutorial's change: total sectors, c, d, and a new e.
TUTORIAL_EDITOR = """\
import re, sys
path = sys.argv[1]
text = open(path).read()
text = text.replace("total sectors: 1048576", "total sectors: 1073600")
text = re.sub(r"(?m)^ c:.*$", " c:   1073537        63     unused      0     0", text)
text = re.sub(r"(?m)^ d:.*$", " d:   1073600         0     unused      0     0", text)
text += " e:     25024   1048576    unknown\\n"
open(path, "w").write(text)
"""


def tutorial_label():
    parts = [Partition(981792, 63, 1024, dl.FS_BSDFFS, 8, 0),
             Partition(66721, 981855, 0, dl.FS_SWAP),
             Partition(1048513, 63),
             Partition(1048576, 0)] + [Partition() for _ in range(12)]
    return Label(typename=b"USB image", secsize=512, nsectors=63, ntracks=16,
                 secpercyl=1008, ncylinders=1040, secperunit=SECTORS, rpm=3600,
                 interleave=1, bbsize=8192, sbsize=8192, partitions=parts)


def mbr(start=63, size=SECTORS - 63):
    buf = bytearray(512)
    buf[446 + 4] = dl.MBR_PTYPE_NETBSD
    struct.pack_into("<II", buf, 446 + 8, start, size)
    buf[510:512] = b"\x55\xaa"
    return bytes(buf)


def make_image(path, label_bytes=None, at=64 * 512, with_mbr=True, sectors=SECTORS):
    with open(path, "wb") as f:
        if with_mbr:
            f.write(mbr())
        if label_bytes is not None:
            f.seek(at)
            f.write(label_bytes)
        f.truncate(sectors * 512)
    return path


def head(path, n=65536):
    with open(path, "rb") as f:
        return f.read(n)


@pytest.fixture
def usb(tmp_path, monkeypatch):
    """tmp_path/usb.img as in the tutorial, with the cwd set to tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUMP_SERVER", raising=False)
    return make_image(tmp_path / "usb.img", dl.pack(tutorial_label()))


def run(args, **kw):
    return CliRunner().invoke(cli, args, **kw)


def editor(tmp_path, source, name="ed.py"):
    script = tmp_path / name
    script.write_text(textwrap.dedent(source))
    return "%s %s" % (sys.executable, script)


# ---------------------------------------------------------------- showing

def test_show_tutorial_label(usb):
    r = run(["usb.img"])
    assert r.exit_code == 0, r.output
    assert r.stdout.expandtabs(8) == TUTORIAL_SHOW
    assert r.stderr == ""


def test_show_with_r_and_F_flags(usb):
    for flags in (["-r"], ["-F"], ["-rF"]):
        r = run(flags + ["usb.img"])
        assert r.exit_code == 0 and r.stdout.expandtabs(8) == TUTORIAL_SHOW


def test_show_end_to_end_subprocess(usb, tmp_path):
    exe = REPO / ".venv" / "bin" / "rump.disklabel"
    if not exe.exists():
        pytest.skip("console script not installed")
    env = {k: v for k, v in os.environ.items() if k != "RUMP_SERVER"}
    p = subprocess.run([str(exe), "usb.img"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.expandtabs(8) == TUTORIAL_SHOW
    p = subprocess.run([str(exe), "nosuch.img"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout) == (1, "")
    assert p.stderr == "rump.disklabel: nosuch.img: No such file or directory\n"


def test_label_without_mbr_at_sector_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_image("plain.img", dl.pack(tutorial_label()), at=512, with_mbr=False)
    r = run(["plain.img"])
    assert r.exit_code == 0
    assert r.stdout.expandtabs(8) == TUTORIAL_SHOW.replace("usb.img", "plain.img")


def test_label_found_at_other_offset_in_boot_area(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_image("usb.img", dl.pack(tutorial_label()), at=64 * 512 + 1024)
    r = run(["usb.img"])
    assert r.exit_code == 0 and r.stdout.expandtabs(8) == TUTORIAL_SHOW


def test_no_label(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_image("blank.img", sectors=2048)
    r = run(["blank.img"])
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr == "rump.disklabel: could not read existing label\n"


def test_bad_checksum_is_reported_and_not_used(usb):
    raw = bytearray(dl.pack(tutorial_label()))
    raw[160] ^= 0x01
    make_image(usb, bytes(raw))
    r = run(["usb.img"])
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == "rump.disklabel: could not read existing label\n"
    r = run(["-v", "usb.img"])
    assert r.exit_code == 1
    assert r.stderr == ("rump.disklabel: corrupt label found at offset 0 in sector 64\n"
                        "rump.disklabel: could not read existing label\n")


def test_bad_magic_is_not_used(usb):
    raw = bytearray(dl.pack(tutorial_label()))
    raw[132] ^= 0x01
    make_image(usb, bytes(raw))
    r = run(["-v", "usb.img"])
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == "rump.disklabel: could not read existing label\n"


def test_corrupt_copy_skipped_for_a_good_one_later(usb):
    raw = bytearray(dl.pack(tutorial_label()))
    raw[160] ^= 0x01
    make_image(usb, bytes(raw) + bytes(108) + dl.pack(tutorial_label()))
    r = run(["-v", "usb.img"])
    assert r.exit_code == 0 and r.stdout.expandtabs(8) == TUTORIAL_SHOW
    assert r.stderr == "rump.disklabel: corrupt label found at offset 0 in sector 64\n"


def test_byteswapped_label_ignored_with_warning(usb):
    label = tutorial_label()
    label.swapped = True
    make_image(usb, dl.pack(label))
    r = run(["usb.img"])
    assert r.exit_code == 1
    assert r.stderr == ("rump.disklabel: ignoring byteswapped label at offset 0 from sector 64\n"
                        "rump.disklabel: could not read existing label\n")


def test_show_reports_check_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    label = tutorial_label()
    label.partitions[3].size = SECTORS + 1
    make_image("usb.img", dl.pack(label))
    r = run(["usb.img"])
    assert r.exit_code == 1
    assert " d:   1048577         0     unused" in r.stdout
    assert r.stderr == "rump.disklabel: partition d: partition extends past end of unit\n"


def test_init_shows_default_label(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_image("blank.img", with_mbr=False, sectors=4096)
    r = run(["-I", "blank.img"])
    assert r.exit_code == 0, r.output
    assert "total sectors: 4096\n" in r.stdout
    assert r.stdout.endswith(" d:      4096         0     unused      0     0"
                             "        # (Cyl.      0 -      1)\n")
    assert head("blank.img") == bytes(65536)        # showing writes nothing


# ---------------------------------------------------------------- editing

def test_tutorial_edit(usb, tmp_path, monkeypatch):
    monkeypatch.setenv("EDITOR", editor(tmp_path, TUTORIAL_EDITOR))
    r = run(["-re", "usb.img"])
    assert r.exit_code == 0, r.output
    assert r.stdout == "" and r.stderr == ""
    # written back where it was found, valid magic and checksum
    raw = head(usb)
    label = dl.unpack(raw, 64 * 512)
    assert dl.find_label(raw) == (64 * 512, label)
    assert raw[512:64 * 512] == bytes(63 * 512)
    assert label.secperunit == 1073600
    e = label.partitions[4]
    assert (e.size, e.offset, e.fstype) == (25024, 1048576, dl.FS_OTHER)
    shown = run(["usb.img"]).stdout.expandtabs(8)
    assert "total sectors: 1073600\n" in shown
    assert shown.endswith("drivedata: 0 \n\n" + EDITED_TABLE)


def test_tutorial_edit_end_to_end(usb, tmp_path):
    exe = REPO / ".venv" / "bin" / "rump.disklabel"
    if not exe.exists():
        pytest.skip("console script not installed")
    env = {k: v for k, v in os.environ.items() if k != "RUMP_SERVER"}
    env["EDITOR"] = editor(tmp_path, TUTORIAL_EDITOR)
    p = subprocess.run([str(exe), "-re", "usb.img"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    p = subprocess.run([str(exe), "usb.img"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.stdout.expandtabs(8).endswith(EDITED_TABLE)


def test_edit_buffer_is_the_shown_text(usb, tmp_path, monkeypatch):
    copy = tmp_path / "seen.txt"
    monkeypatch.setenv("EDITOR", editor(tmp_path, """
        import shutil, sys
        shutil.copy(sys.argv[1], %r)
    """ % str(copy)))
    before = head(usb)
    r = run(["-e", "usb.img"])
    assert r.exit_code == 0, r.output
    assert copy.read_text().expandtabs(8) == TUTORIAL_SHOW
    # unchanged text writes the same label again
    assert head(usb) == before


REEDIT_EDITOR = """
    import os, sys
    count = %r
    n = int(open(count).read()) if os.path.exists(count) else 0
    open(count, "w").write(str(n + 1))
    text = open(sys.argv[1]).read()
    if n == 0:
        text = text.replace("disk: USB image", "disk USB image")
        text += " q: 1 2 swap\\n"
    else:
        text = text.replace("disk USB image", "disk: edited")
        text = text.replace(" q: 1 2 swap", "")
    open(sys.argv[1], "w").write(text)
"""


def test_parse_errors_offer_re_edit(usb, tmp_path, monkeypatch):
    count = tmp_path / "count"
    monkeypatch.setenv("EDITOR", editor(tmp_path, REEDIT_EDITOR % str(count)))
    r = run(["-e", "usb.img"], input="y\n")
    assert r.exit_code == 0, r.output
    assert count.read_text() == "2"
    assert r.stderr == ("rump.disklabel: line 3: syntax error\n"
                        "rump.disklabel: line 26: bad partition name: q\n")
    assert r.stdout == "re-edit the label? [y]: "
    assert dl.unpack(head(usb), 64 * 512).typename == b"edited"


@pytest.mark.parametrize("answer", ["n\n", "", "No thanks\n"])
def test_declining_re_edit_leaves_disk_alone(usb, tmp_path, monkeypatch, answer):
    count = tmp_path / "count"
    monkeypatch.setenv("EDITOR", editor(tmp_path, REEDIT_EDITOR % str(count)))
    before = head(usb)
    r = run(["-e", "usb.img"], input=answer)
    assert r.exit_code == 1
    assert count.read_text() == "1"
    assert head(usb) == before


def test_partition_past_end_refused(usb, tmp_path, monkeypatch):
    monkeypatch.setenv("EDITOR", editor(tmp_path, """
        import sys
        open(sys.argv[1], "a").write(" e: 25024 1048576 unknown\\n")
    """))
    before = head(usb)
    r = run(["-re", "usb.img"], input="n\n")
    assert r.exit_code == 1
    assert r.stderr == "rump.disklabel: partition e: partition extends past end of unit\n"
    assert r.stdout == "re-edit the label? [y]: "
    assert head(usb) == before


def test_failing_editor_changes_nothing(usb, monkeypatch):
    monkeypatch.setenv("EDITOR", "false")
    before = head(usb)
    r = run(["-e", "usb.img"])
    assert r.exit_code == 1
    assert r.stderr == "rump.disklabel: editor exited with status 1; label not changed\n"
    assert head(usb) == before


def test_edit_needs_a_label_unless_I(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EDITOR", "true")
    make_image("blank.img", sectors=8192)
    r = run(["-e", "blank.img"])
    assert (r.exit_code, r.stderr) == (1, "rump.disklabel: could not read existing label\n")
    r = run(["-I", "-e", "blank.img"])
    assert r.exit_code == 0, r.output
    # MBR with a NetBSD partition at 63: the new label goes to sector 64
    raw = head("blank.img")
    assert dl.find_label(raw)[0] == 64 * 512
    assert dl.unpack(raw, 64 * 512).partitions[3] == Partition(8192, 0)
    assert run(["blank.img"]).exit_code == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write read-only files")
def test_edit_read_only_image(usb, monkeypatch):
    monkeypatch.setenv("EDITOR", "true")
    os.chmod(usb, 0o444)
    r = run(["-e", "usb.img"])
    assert (r.exit_code, r.stderr) == (1, "rump.disklabel: usb.img: Permission denied\n")


# ---------------------------------------------------------------- restoring

def test_restore_from_protofile(usb, tmp_path):
    proto = tmp_path / "proto"
    shown = run(["usb.img"]).stdout
    proto.write_text(shown.replace("total sectors: 1048576", "total sectors: 1073600")
                     .replace("unused      0     0", "unused")
                     + "e: 25024 1048576 unknown\n")
    r = run(["-R", "usb.img", "proto"])
    assert r.exit_code == 0, r.output
    label = dl.unpack(head(usb), 64 * 512)
    assert label.npartitions == 16 and label.partitions[4].size == 25024


def test_restore_onto_blank_image_goes_to_sector_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_image("blank.img", with_mbr=False, sectors=SECTORS)
    (tmp_path / "proto").write_text(TUTORIAL_SHOW)
    r = run(["-R", "blank.img", "proto"])
    assert r.exit_code == 0, r.output
    assert dl.find_label(head("blank.img")) == (512, tutorial_label())


def test_restore_bad_protofile(usb, tmp_path):
    (tmp_path / "proto").write_text("bytes/sector 512\n")
    before = head(usb)
    r = run(["-R", "usb.img", "proto"])
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0] == "rump.disklabel: line 1: syntax error"
    assert head(usb) == before
    r = run(["-R", "usb.img", "missing"])
    assert (r.exit_code, r.stderr) == (1, "rump.disklabel: missing: No such file or directory\n")


# ---------------------------------------------------------------- command line

@pytest.mark.parametrize("args", [[], ["-e"], ["-e", "-R", "a", "b"], ["-R", "a"],
                                  ["a", "b"], ["-x", "a"], ["-l", "a"]])
def test_usage_errors(args):
    r = run(args)
    assert r.exit_code == 1
    assert "usage: rump.disklabel [-FIrv] disk\t" in r.stderr
    assert r.stdout == ""
    if args[:1] == ["-x"]:
        assert r.stderr.splitlines()[0].endswith("unknown option -- x")   # getopt wording, then usage


def test_list_fstypes():
    r = run(["-l"])
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "Supported file system types:"
    assert "  10  unknown" in lines and "   7  4.2BSD" in lines and "  17  Linux Ext2" in lines


def test_missing_disk_without_rump_server(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUMP_SERVER", raising=False)
    r = run(["cgd0"])
    assert (r.exit_code, r.stderr) == (1, "rump.disklabel: cgd0: No such file or directory\n")


# ---------------------------------------------------------------- rump kernel disks

class FakeRumpSys:
    """An os-like view of a rump kernel holding in-memory disks."""

    def __init__(self, disks):
        self.disks, self.fds, self.opened, self.synced = disks, {}, [], 0

    def open(self, path, flags, mode):
        self.opened.append((path, flags))
        if path not in self.disks:
            raise RumpError(errno.ENOENT)
        fd = len(self.fds) + 3
        self.fds[fd] = self.disks[path]
        return fd

    def pread(self, fd, n, off):
        return bytes(self.fds[fd][off:off + n])

    def pwrite(self, fd, data, off):
        self.fds[fd][off:off + len(data)] = data
        return len(data)

    def fstat(self, fd):
        return types.SimpleNamespace(st_size=len(self.fds[fd]))

    def fsync(self, fd):
        self.synced += 1

    def close(self, fd):
        del self.fds[fd]


def cgd_label():
    return Label(type=dl.DKTYPE_CGD, typename=b"cgd", packname=b"fictitious",
                 secsize=512, nsectors=2048, ntracks=1, secpercyl=2048,
                 ncylinders=12, secperunit=25024, rpm=3600, interleave=1,
                 partitions=[Partition(25024, 0, 0, dl.FS_BSDFFS), Partition(),
                             Partition(), Partition(25024, 0)])


@pytest.fixture
def rump(tmp_path, monkeypatch):
    disk = bytearray(65536)
    disk[512:512 + 212] = dl.pack(cgd_label())
    fake = FakeRumpSys({"/dev/rcgd0d": disk})
    calls = []

    def init(progname):
        calls.append(progname)
        return fake

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUMP_SERVER", "unix://" + str(tmp_path / "sock"))
    monkeypatch.setitem(sys.modules, "rumptools.sp.client",
                        types.SimpleNamespace(init=init))
    fake.calls = calls
    return fake


def test_rump_disk_by_bare_name(rump):
    r = run(["cgd0"])
    assert rump.calls == ["rump.disklabel"]
    assert [p for p, _ in rump.opened] == ["/dev/rcgd0", "/dev/rcgd0d"]
    # the tutorial's `disklabel cgd0`, complaints included
    assert r.stdout.splitlines()[0] == "# /dev/rcgd0d:"
    assert " a:     25024         0     4.2BSD      0     0     0  # (Cyl.      0 -     12*)" \
        in r.stdout.splitlines()
    assert r.stderr == ("rump.disklabel: boot block size 0\n"
                        "rump.disklabel: super block size 0\n")
    assert r.exit_code == 1
    assert rump.fds == {}                       # closed again


def test_rump_disk_edit_writes_through_the_kernel(rump, tmp_path, monkeypatch):
    monkeypatch.setenv("EDITOR", editor(tmp_path, """
        import sys
        p = sys.argv[1]
        text = open(p).read().replace("label: fictitious", "label: secret")
        open(p, "w").write(text)
    """))
    r = run(["-e", "/dev/rcgd0d"])
    assert r.exit_code == 0, r.output
    assert rump.opened == [("/dev/rcgd0d", os.O_RDWR)]
    assert rump.synced == 1
    label = dl.unpack(rump.disks["/dev/rcgd0d"], 512)
    assert label.packname == b"secret"
    assert (label.bbsize, label.sbsize) == (8192, 8192)


def test_rump_disk_missing(rump):
    r = run(["cgd1"])
    assert (r.exit_code, r.stderr) == (1, "rump.disklabel: cgd1: No such file or directory\n")


def test_rump_client_unavailable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUMP_SERVER", "unix:///nonexistent")
    monkeypatch.setitem(sys.modules, "rumptools.sp.client", None)
    r = run(["cgd0"])
    assert r.exit_code == 1
    assert r.stderr.startswith("rump.disklabel: rump client support is not available")


def test_rump_server_unreachable(tmp_path, monkeypatch):
    def init(progname):
        raise ConnectionRefusedError(errno.ECONNREFUSED, "refused")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUMP_SERVER", "unix:///nonexistent")
    monkeypatch.setitem(sys.modules, "rumptools.sp.client", types.SimpleNamespace(init=init))
    r = run(["cgd0"])
    assert (r.exit_code, r.stderr) == (1, "rump.disklabel: prog init failed: Connection refused\n")


@pytest.mark.parametrize("flags", [[], ["-e"]])
def test_host_errors_use_netbsd_texts(tmp_path, monkeypatch, flags):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EDITOR", "true")
    (tmp_path / "dir.img").mkdir()
    r = run(flags + ["dir.img"])
    assert (r.exit_code, r.stderr) == (1, "rump.disklabel: dir.img: Is a directory\n")


def test_rump_client_without_disk_calls(tmp_path, monkeypatch):
    lacking = types.SimpleNamespace(open=None, close=None, fstat=None, fsync=None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUMP_SERVER", "unix:///nonexistent")
    monkeypatch.setitem(sys.modules, "rumptools.sp.client",
                        types.SimpleNamespace(init=lambda progname: lacking))
    r = run(["cgd0"])
    assert (r.exit_code, r.stderr) == (1, "rump.disklabel: the rump client has no pread, "
                                          "pwrite system call\n")


def test_machine_option_amd64_accepted(usb):
    """NetBSD scripts say `disklabel -M amd64`: the label shows as without it."""
    for args in (["-M", "amd64", "usb.img"], ["-Mi386", "-r", "usb.img"]):
        r = run(args)
        assert (r.exit_code, r.stdout.expandtabs(8), r.stderr) == (0, TUTORIAL_SHOW, "")


def test_machine_option_other_machine_refused(usb):
    r = run(["-M", "sparc64", "usb.img"])
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr == "rump.disklabel: -M sparc64: unsupported machine (labels of amd64 and i386 only)\n"
