"""rumpfs_ffs in process: mount(2)/unmount(2) of makefs and newfs images, what
we write read back after remount and found clean by our fsck, a model-based
test of random operations, full file systems, and corrupt images."""
import itertools
import os
import random
import subprocess

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from rumptools.abi import errnos as E
from rumptools.abi.syscalls import O_CREAT, O_RDWR
from tests.ffs_helpers import BIN, make_tree, makefs
from tests.ffs_kernel_kit import Box, make_image

MNT_RDONLY = 0x1


def fsck_clean(img):
    r = subprocess.run([os.path.join(BIN, "rump.fsck_ffs"), "-f", "-n", str(img)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "?" not in r.stdout, r.stdout
    return r.stdout


@pytest.fixture
def box_of():
    boxes = []

    def make(image, flags=0):
        b = Box(image, flags)
        boxes.append(b)
        return b
    yield make
    for b in boxes:
        try:
            b.close()
        finally:
            assert not b.bugs(), b.bugs()


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    root = tmp_path_factory.mktemp("kernsrc") / "t"
    root.mkdir()
    return root, make_tree(str(root))


@pytest.mark.parametrize("version,opts,endian", [(1, (), None), (2, (), None),
                                                 (1, ("bsize=4096", "fsize=512"), "be"),
                                                 (2, ("bsize=16384", "fsize=2048"), None)])
def test_makefs_images_mount_and_read_back(tmp_path, src, box_of, version, opts, endian):
    root, want = src
    img = makefs(tmp_path / "m.img", root, version, *opts, endian=endian)
    b = box_of(img, MNT_RDONLY)
    got = b.tree()
    assert sorted(got) == sorted(want)
    for rel in want:
        assert got[rel] == want[rel], rel
    assert b.err("mkdir", "/mnt/new", 0o755) == E.EROFS


@pytest.mark.parametrize("ufs,endian", [(1, "<"), (2, "<"), (1, ">"), (2, ">")])
def test_populate_remount_and_fsck(tmp_path, src, box_of, ufs, endian):
    root, want = src
    img = make_image(tmp_path / "n.img", 32768, ufs=ufs, endian=endian)
    b = box_of(img)
    for rel in sorted(want):
        e = want[rel]
        full = "/mnt/" + rel
        if e[0] == "d":
            try:
                b.c("mkdir", full, 0o755)
            except OSError:
                pass
    for rel in sorted(want):
        e = want[rel]
        full = "/mnt/" + rel
        if e[0] == "f" and rel != "hardlink":
            b.put(full, e[1])
        elif e[0] == "l":
            b.c("symlink", e[1].decode(), full)
    b.c("link", "/mnt/small", "/mnt/hardlink")
    b.remount()
    got = b.tree()
    assert sorted(got) == sorted(want)
    for rel in want:
        assert got[rel] == want[rel], rel
    b.unmount()
    fsck_clean(img)


def test_sparse_and_truncate(tmp_path, box_of):
    img = make_image(tmp_path / "s.img", 32768, ufs=2)
    b = box_of(img)
    b.put("/mnt/sp", b"x" * 10, offset=5_000_000)
    assert b.get("/mnt/sp") == bytes(5_000_000) + b"x" * 10
    fd = b.c("open", "/mnt/sp", O_RDWR, 0)
    b.c("ftruncate", fd, 100)
    b.c("ftruncate", fd, 20000)
    b.c("pwrite", fd, b"abc", 50)
    b.c("close", fd)
    assert b.get("/mnt/sp") == bytes(50) + b"abc" + bytes(20000 - 53)
    b.put("/mnt/grow", b"a" * 700)
    for i in range(1, 30):
        b.put("/mnt/grow", b"b" * 700, offset=700 * i)
    assert b.get("/mnt/grow") == b"a" * 700 + b"b" * 700 * 29
    b.unmount()
    fsck_clean(img)


def test_statvfs_counts_and_clean_flag(tmp_path, box_of):
    from rumptools.formats.ffs_reader import open_path
    img = make_image(tmp_path / "c.img", 16384, ufs=1)
    b = box_of(img)
    assert open_path(str(img)).sb.clean == 2           # cleared while mounted
    sv = b.c("statvfs", "/mnt", 0)
    bsize, frsize, blocks, bfree, bavail, files, ffree = sv[:7]
    assert (bsize, frsize, blocks, bfree, files, ffree) == (4096, 512, 15295, 15294,
                                                            3838, 3837)
    assert bavail == 15294 - 15295 * 5 // 100
    assert sv[11] == "ffs" and sv[12] == "/mnt" and sv[13] == "/dk"
    b.put("/mnt/f", b"z" * 8192)
    assert b.c("statvfs", "/mnt", 0)[3] == 15294 - 16 and b.c("statvfs", "/mnt", 0)[6] == 3836
    b.unmount()
    sb = open_path(str(img)).sb
    assert sb.clean == 1 and sb.mountpoint == "/mnt"
    fsck_clean(img)


def test_enospc_is_clean(tmp_path, box_of):
    img = make_image(tmp_path / "f.img", 4096, ufs=1)
    b = box_of(img)
    fd = b.c("open", "/mnt/big", O_CREAT | O_RDWR, 0o644)
    with pytest.raises(OSError) as e:
        for _ in range(10000):
            b.c("write", fd, bytes(65536))
    assert e.value.errno == E.ENOSPC
    b.c("close", fd)
    assert b.c("statvfs", "/mnt", 0)[3] < 2 * 8             # no whole block left
    size = b.c("stat", "/mnt/big")[7]
    assert size >= 1_500_000 and b.get("/mnt/big") == bytes(size)
    b.c("unlink", "/mnt/big")
    b.put("/mnt/after", b"ok")
    b.unmount()
    fsck_clean(img)


def test_inode_exhaustion_is_clean(tmp_path, box_of):
    img = make_image(tmp_path / "i.img", 8192, ufs=2, num_inodes=64)
    b = box_of(img)
    made = 0
    with pytest.raises(OSError) as e:
        for i in range(1000):
            b.put("/mnt/f%d" % i, b"")
            made += 1
    assert e.value.errno == E.ENOSPC
    assert made == b.c("statvfs", "/mnt", 0)[5] - 1         # all but the root
    b.unmount()
    fsck_clean(img)


@pytest.mark.parametrize("seed", range(8))
def test_corrupt_images_refused_or_eio(tmp_path, box_of, seed):
    from rumptools.formats.ffs_reader import open_path
    img = make_image(tmp_path / "x.img", 8192, ufs=1 + seed % 2)
    b = box_of(img)
    for i in range(20):
        b.c("mkdir", "/mnt/d%d" % i, 0o755)
        b.put("/mnt/d%d/f" % i, bytes([i]) * (3000 * i))
    b.close()
    rng = random.Random(seed)
    sb = open_path(str(img)).sb
    with open(img, "r+b") as f:
        for _ in range(4):
            where = rng.choice(["sb", "cg", "inodes", "data"])
            if where == "sb":
                off = 8192 if sb.ufs == 1 else 65536
            elif where == "cg":
                off = sb.cgtod(rng.randrange(sb.ncg)) * sb.fsize
            elif where == "inodes":
                off = sb.cgimin(0) * sb.fsize
            else:
                off = sb.cgdmin(0) * sb.fsize
            f.seek(off + rng.randrange(1024))
            f.write(bytes(rng.getrandbits(8) for _ in range(256)))
    b2 = Box.__new__(Box)
    try:
        b2.__init__(img)
    except OSError as e:
        assert e.errno in (E.EINVAL, E.EIO)
        assert not b2.bugs()
        b2.k.reboot(0)
        return
    try:
        for i in range(20):
            for op in (lambda: b2.get("/mnt/d%d/f" % i), lambda: b2.names("/mnt/d%d" % i),
                       lambda: b2.put("/mnt/d%d/g" % i, b"new")):
                try:
                    op()
                except OSError as e:
                    assert e.errno in (E.EIO, E.ENOENT, E.ENOTDIR, E.ENOSPC, E.EINVAL,
                                       E.EFBIG, E.EEXIST), e
        assert not b2.bugs(), b2.bugs()
    finally:
        try:
            b2.close()
        except OSError:
            pass


# ---------------------------------------------------------------- model

NAMES = st.sampled_from(["a", "b", "c", "dd", "e" * 40])
DATA = st.binary(max_size=3000) | st.builds(lambda n, c: bytes([c]) * n,
                                            st.integers(0, 200_000), st.integers(0, 255))


_FORMATS = itertools.cycle([1, 2])


class FfsModel(RuleBasedStateMachine):
    """Random operations on FFS and on a dict; after each remount they agree
    and our fsck finds the image clean."""

    def __init__(self):
        super().__init__()
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="ffsmodel")
        self.img = os.path.join(self.dir, "m.img")
        make_image(self.img, 16384, ufs=next(_FORMATS))
        self.box = Box(self.img)
        self.model = {}                  # rel path -> ("d",) | ("f", bytes) | ("l", bytes)
        self.links = {}                  # rel path -> the set of names of that file

    def teardown(self):
        try:
            self.box.close()
        finally:
            import shutil
            shutil.rmtree(self.dir, ignore_errors=True)

    def dirs(self):
        return [""] + [p for p, e in self.model.items() if e[0] == "d"]

    def _path(self, d, n):
        return (d + "/" + n) if d else n

    @rule(data=st.data(), name=NAMES, content=DATA)
    def create(self, data, name, content):
        d = data.draw(st.sampled_from(self.dirs()))
        rel = self._path(d, name)
        if rel in self.model:
            return
        self.box.put("/mnt/" + rel, content)
        self.model[rel] = ("f", content)

    @precondition(lambda self: any(e[0] == "f" for e in self.model.values()))
    @rule(data=st.data(), content=st.binary(min_size=1, max_size=5000),
          offset=st.integers(0, 300_000))
    def write_at(self, data, content, offset):
        rel = data.draw(st.sampled_from(sorted(p for p, e in self.model.items() if e[0] == "f")))
        self.box.put("/mnt/" + rel, content, offset=offset)
        old = self.model[rel][1]
        new = bytearray(old.ljust(max(len(old), offset + len(content)), b"\0"))
        new[offset:offset + len(content)] = content
        self.model[rel] = ("f", bytes(new))
        self._relink(rel)

    def _relink(self, rel):
        """Hard links share data: keep every name of the file in step."""
        group = self.links.get(rel, {rel})
        for p in group:
            if p in self.model:
                self.model[p] = self.model[rel]

    @precondition(lambda self: any(e[0] == "f" for e in self.model.values()))
    @rule(data=st.data(), size=st.integers(0, 250_000))
    def truncate(self, data, size):
        rel = data.draw(st.sampled_from(sorted(p for p, e in self.model.items() if e[0] == "f")))
        fd = self.box.c("open", "/mnt/" + rel, O_RDWR, 0)
        self.box.c("ftruncate", fd, size)
        self.box.c("close", fd)
        old = self.model[rel][1]
        self.model[rel] = ("f", old[:size].ljust(size, b"\0"))
        self._relink(rel)

    @rule(data=st.data(), name=NAMES)
    def mkdir(self, data, name):
        d = data.draw(st.sampled_from(self.dirs()))
        rel = self._path(d, name)
        if rel in self.model:
            return
        self.box.c("mkdir", "/mnt/" + rel, 0o755)
        self.model[rel] = ("d",)

    @rule(data=st.data(), name=NAMES, n=st.integers(1, 300))
    def symlink(self, data, name, n):
        d = data.draw(st.sampled_from(self.dirs()))
        rel = self._path(d, name)
        if rel in self.model:
            return
        target = ("t%d" % n) * (n // 3 + 1)
        self.box.c("symlink", target, "/mnt/" + rel)
        self.model[rel] = ("l", target.encode())

    @precondition(lambda self: any(e[0] != "d" for e in self.model.values()))
    @rule(data=st.data())
    def unlink(self, data):
        rel = data.draw(st.sampled_from(sorted(p for p, e in self.model.items() if e[0] != "d")))
        self.box.c("unlink", "/mnt/" + rel)
        del self.model[rel]
        g = self.links.pop(rel, None)
        if g:
            g.discard(rel)

    @precondition(lambda self: any(e[0] == "d" for e in self.model.values()))
    @rule(data=st.data())
    def rmdir(self, data):
        rel = data.draw(st.sampled_from(sorted(p for p, e in self.model.items() if e[0] == "d")))
        empty = not any(p.startswith(rel + "/") for p in self.model)
        if empty:
            self.box.c("rmdir", "/mnt/" + rel)
            del self.model[rel]
        else:
            assert self.box.err("rmdir", "/mnt/" + rel) == E.ENOTEMPTY

    @precondition(lambda self: any(e[0] == "f" for e in self.model.values()))
    @rule(data=st.data(), name=NAMES)
    def link(self, data, name):
        rel = data.draw(st.sampled_from(sorted(p for p, e in self.model.items() if e[0] == "f")))
        d = data.draw(st.sampled_from(self.dirs()))
        new = self._path(d, name)
        if new in self.model:
            return
        self.box.c("link", "/mnt/" + rel, "/mnt/" + new)
        self.model[new] = self.model[rel]
        group = self.links.setdefault(rel, {rel})
        group.add(new)
        self.links[new] = group

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), name=NAMES)
    def rename(self, data, name):
        rel = data.draw(st.sampled_from(sorted(self.model)))
        d = data.draw(st.sampled_from(self.dirs()))
        new = self._path(d, name)
        if new in self.model or new == rel or new.startswith(rel + "/"):
            return
        self.box.c("rename", "/mnt/" + rel, "/mnt/" + new)
        moved = {p: e for p, e in self.model.items() if p == rel or p.startswith(rel + "/")}
        for p in moved:
            del self.model[p]
        for p, e in moved.items():
            np = new + p[len(rel):]
            self.model[np] = e
            g = self.links.pop(p, None)
            if g is not None:
                g.discard(p)
                g.add(np)
                self.links[np] = g

    @rule()
    def remount_and_check(self):
        self.box.unmount()
        fsck_clean(self.img)
        self.box.mount()
        assert self.box.tree() == self.model

    @invariant()
    def no_kernel_bugs(self):
        assert not self.box.bugs(), self.box.bugs()


FfsModel.TestCase.settings = settings(max_examples=12, stateful_step_count=25, deadline=None,
                                      suppress_health_check=list(HealthCheck))
test_ffs_model = FfsModel.TestCase


# ---------------------------------------------------------------- details

@pytest.mark.parametrize("ufs,limit", [(1, 60), (2, 120)])
def test_symlink_boundary_devices_times(tmp_path, box_of, ufs, limit):
    from rumptools.formats import ffs_dinode as di
    from rumptools.formats.ffs_reader import open_path
    from rumptools.kernel.vfs.vnode import makedev
    img = make_image(tmp_path / "d.img", 16384, ufs=ufs)
    b = box_of(img)
    b.c("symlink", "x" * (limit - 1), "/mnt/fast")
    b.c("symlink", "y" * limit, "/mnt/slow")
    b.c("mknod", "/mnt/cdev", 0o020644, makedev(3, 7))
    b.c("mknod", "/mnt/bdev", 0o060600, makedev(200, 70000))
    b.put("/mnt/t", b"times")
    b.c("utimes", "/mnt/t", 1_600_000_000_123_456_789, 1_500_000_000_987_654_321)
    b.remount()
    st = dict(zip(("mode", "ino", "dev", "nlink", "uid", "gid", "rdev", "size"),
                  b.c("lstat", "/mnt/cdev")))
    assert st["mode"] == 0o020644 and st["rdev"] == makedev(3, 7)
    assert b.c("lstat", "/mnt/bdev")[6] == makedev(200, 70000)
    from rumptools.abi.sctypes import STAT_FIELDS as FIELDS
    t = dict(zip(FIELDS, b.c("stat", "/mnt/t")))
    if ufs == 2:
        assert (t["atime_ns"], t["mtime_ns"]) == (1_600_000_000_123_456_789,
                                                  1_500_000_000_987_654_321)
        assert t["birthtime_ns"] <= t["mtime_ns"]
    else:
        assert (t["atime_ns"] // 10**9, t["mtime_ns"] // 10**9) == (1_600_000_000,
                                                                  1_500_000_000)
    b.unmount()
    im = open_path(str(img))
    found = {p: d for p, _, d in im.walk()}
    assert found[b"/fast"].blocks == 0 and im.readlink(found[b"/fast"]) == b"x" * (limit - 1)
    assert found[b"/slow"].blocks > 0 and im.readlink(found[b"/slow"]) == b"y" * limit
    assert di.ftype(found[b"/bdev"]) == di.IFBLK
    fsck_clean(img)


def test_directories_spread_over_groups_files_stay(tmp_path, box_of):
    img = make_image(tmp_path / "g.img", 32768, ufs=1)
    b = box_of(img)
    for i in range(4):
        b.c("mkdir", "/mnt/d%d" % i, 0o755)
    from rumptools.formats.ffs_reader import open_path
    sb = open_path(str(img)).sb
    groups = {b.c("stat", "/mnt/d%d" % i)[1] // sb.ipg for i in range(4)}
    assert len(groups) >= 3
    b.put("/mnt/d2/f", b"1")
    assert b.c("stat", "/mnt/d2/f")[1] // sb.ipg == b.c("stat", "/mnt/d2")[1] // sb.ipg
    b.unmount()
    fsck_clean(img)


def test_update_mount_read_only_and_back(tmp_path, box_of):
    from rumptools.formats.ffs_reader import open_path
    img = make_image(tmp_path / "u.img", 16384, ufs=2)
    b = box_of(img)
    b.put("/mnt/a", b"A" * 5000)
    b.c("mount", "ffs", "/mnt", MNT_RDONLY | 0x10000, "/dk")
    assert open_path(str(img)).sb.clean == 1
    assert b.err("mkdir", "/mnt/x", 0o755) == E.EROFS
    assert b.get("/mnt/a") == b"A" * 5000
    b.c("mount", "ffs", "/mnt", 0x10000, "/dk")
    assert open_path(str(img)).sb.clean == 2
    b.c("mkdir", "/mnt/x", 0o755)
    b.unmount()
    fsck_clean(img)


def test_dirty_image_mounts_and_unmount_keeps_it_dirty(tmp_path, box_of):
    from rumptools.formats.ffs_reader import open_path
    img = make_image(tmp_path / "dirty.img", 16384, ufs=1)
    assert open_path(str(img)).sb.clean == 1
    with open(img, "r+b") as f:
        f.seek(8192 + 209)
        f.write(b"\0")
    b = box_of(img)
    b.unmount()
    assert open_path(str(img)).sb.clean == 0     # only fsck may mark it clean


def test_getvfsstat_lists_mounts(tmp_path, box_of):
    img = make_image(tmp_path / "v.img", 16384)
    b = box_of(img)
    m = b.c("getvfsstat", 1)
    assert [(x[11], x[12], x[13]) for x in m] == [("rumpfs", "/", "rumpfs"),
                                                  ("ffs", "/mnt", "/dk")]
    assert m[1][9] & 0x1000


def test_df_report_format():
    from rumptools.commands.df import report
    st = (4096, 512, 15295, 15294, 14530, 3838, 3837, 3837, 1, 0x1000, 255, "ffs", "/mnt", "/dk")
    assert report([st], environ={}) == (
        "Filesystem   512-blocks       Used      Avail %Cap Mounted on\n"
        "/dk               15295          1      14530   0% /mnt\n")
    out = report([st], iflag=True, unit=1024, environ={})
    assert out.splitlines()[1] == \
        "/dk                7647          0       7265   0%        1     3837    0% /mnt"
    assert report([st], pflag=True, environ={}) == (
        "Filesystem 512-blocks Used Available Capacity Mounted on\n"
        "/dk 15295 1 14530 0% /mnt\n")
    h = report([st], hflag=True, environ={}).splitlines()[1]
    assert h.split() == ["/dk", "7.5M", "512B", "7.1M", "0%", "/mnt"]


def test_mount_listing_format():
    from rumptools.commands.mount import format_mount
    assert format_mount((0,) * 9 + (0x1001, 255, "ffs", "/mnt", "/dk")) == \
        "/dk on /mnt type ffs (local, read-only)"


def test_st_blocks_counts_fragments_and_indirect_blocks(tmp_path, box_of):
    img = make_image(tmp_path / "b.img", 16384, ufs=1)      # fsize 512, bsize 4096
    b = box_of(img)
    b.put("/mnt/small", b"x" * 700)
    assert b.c("stat", "/mnt/small")[9] == 2                  # two 512-byte fragments
    b.put("/mnt/big", b"y" * (13 * 4096))                     # 13 blocks: one indirect
    assert b.c("stat", "/mnt/big")[9] == 14 * 8
    b.put("/mnt/sparse", b"z", offset=1 << 20)                # the last block only
    assert b.c("stat", "/mnt/sparse")[9] == 2 * 8


def test_unlinked_open_file_is_freed_on_last_close(tmp_path, box_of):
    img = make_image(tmp_path / "o.img", 16384, ufs=2)
    b = box_of(img)
    b.put("/mnt/f", b"q" * 100000)
    before = b.c("statvfs", "/mnt", 0)[3]
    fd = b.c("open", "/mnt/f", O_RDWR, 0)
    b.c("unlink", "/mnt/f")
    assert b.c("pread", fd, 5, 99995) == b"qqqqq"              # still readable
    assert b.c("statvfs", "/mnt", 0)[3] < before + 100
    b.c("close", fd)
    assert b.c("statvfs", "/mnt", 0)[3] >= before + 100000 // 512
    b.unmount()
    fsck_clean(img)


def test_big_files_spread_over_groups_by_maxbpg(tmp_path, box_of):
    from rumptools.formats.ffs_reader import open_path
    img = make_image(tmp_path / "s.img", 65536, ufs=2)      # 32 MiB, 4 groups
    b = box_of(img)
    b.put("/mnt/big", bytes(12 << 20))
    b.unmount()
    im = open_path(str(img))
    ino = [i for p, i, d in im.walk() if p == b"/big"][0]
    groups = {im.sb.dtog(a) for _lbn, a, _n in im.blocks(im.inode(ino))}
    assert len(groups) >= 2
    fsck_clean(img)
