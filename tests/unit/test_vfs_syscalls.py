"""The file system calls of rumpvfs, in process: results and NetBSD errno values.

Where NetBSD and Linux differ, NetBSD's answer is expected (O_NOFOLLOW on a
link is EFTYPE, unlink of a directory EPERM, getdents of a file EINVAL,
link(2) follows a final symlink, renaming a hard link over another of the
same file removes the source).
"""
from collections import namedtuple

import pytest

from rumptools.abi.sctypes import STAT_FIELDS as FIELDS
from rumptools.kernel.kern.stat import S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG
from rumptools.kernel.vfs.vnode import makedev
from rumptools.abi import errnos as E
from rumptools.abi.errnos import RumpError
from rumptools.abi.syscalls import (AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, F_DUPFD,
                                   F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_APPEND, O_CLOEXEC, O_CREAT,
                                   O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY,
                                   SEEK_CUR, SEEK_END, SEEK_SET)

from rumptools.kernel.kern.membudget import ENTRY_COST, NODE_COST

from .kernelkit import boot, call, spawn

Stat = namedtuple("Stat", FIELDS)
MNT_RDONLY, MNT_FORCE = 0x1, 0x80000
UTIME_OMIT = -2
DT_DIR, DT_REG, DT_LNK, DT_CHR = 4, 8, 10, 2
CW = O_WRONLY | O_CREAT


class P:
    """A process of a booted kernel: p.open(...) makes the call, p.err(...) its errno."""

    def __init__(self, k, proc):
        self.k, self.proc = k, proc

    def __getattr__(self, method):
        return lambda *args: call(self.k, self.proc, method, *args)

    def err(self, method, *args):
        with pytest.raises(RumpError) as e:
            call(self.k, self.proc, method, *args)
        return e.value.errno

    def st(self, path):
        return Stat(*self.stat(path))

    def lst(self, path):
        return Stat(*self.lstat(path))

    def put(self, path, data=b"", flags=CW | O_TRUNC, mode=0o644):
        fd = self.open(path, flags, mode)
        if data:
            assert self.write(fd, data) == len(data)
        self.close(fd)

    def get(self, path):
        fd = self.open(path, O_RDONLY, 0)
        try:
            return self.read(fd, 1 << 20)
        finally:
            self.close(fd)

    def names(self, path):
        fd = self.open(path, O_RDONLY | O_DIRECTORY, 0)
        try:
            return sorted(e[3] for e in self.getdents(fd, 8192) if e[3] not in (".", ".."))
        finally:
            self.close(fd)


@pytest.fixture
def k():
    kern = boot("rumpvfs")
    yield kern
    bugs = [line for line in kern.console_lines if "failed" in line]
    assert not bugs, "kernel bug (EIO) during the test:\n" + "\n".join(bugs)


@pytest.fixture
def p(k):
    return P(k, spawn(k))


def kind(mode):
    return mode & S_IFMT


# -- namei ----------------------------------------------------------------------
def test_absolute_relative_dot_dotdot(p):
    p.mkdir("/a", 0o755)
    p.mkdir("/a/b", 0o755)
    p.put("/a/b/f", b"x")
    ino = p.st("/a/b/f").ino
    for path in ("/a/b/f", "/a/./b/f", "/a/b/../b/f", "//a///b//f", "/../a/b/f", "/a/b/./../../a/b/f"):
        assert p.st(path).ino == ino, path
    p.chdir("/a")
    assert p.st("b/f").ino == ino and p.st("./b/f").ino == ino and p.st("../a/b/f").ino == ino
    p.chdir("b")
    assert p.getcwd() == "/a/b"
    assert p.st("f").ino == ino
    assert p.st("..").ino == p.st("/a").ino
    assert p.st("../../..").ino == p.st("/").ino


def test_enoent_enotdir_empty(p):
    p.put("/f")
    assert p.err("stat", "/nope") == E.ENOENT
    assert p.err("stat", "/nope/x") == E.ENOENT
    assert p.err("stat", "/f/x") == E.ENOTDIR
    assert p.err("stat", "/f/.") == E.ENOTDIR
    assert p.err("stat", "") == E.ENOENT
    assert p.err("open", "", O_RDONLY, 0) == E.ENOENT


def test_trailing_slash_needs_a_directory(p):
    p.put("/f")
    p.mkdir("/d", 0o755)
    p.symlink("/f", "/lf")
    p.symlink("/d", "/ld")
    assert p.err("stat", "/f/") == E.ENOTDIR
    assert p.err("lstat", "/lf/") == E.ENOTDIR           # the link is followed, to a file
    assert kind(p.lst("/ld/").mode) == S_IFDIR              # followed, to a directory
    assert kind(p.lst("/ld").mode) == S_IFLNK
    assert kind(p.st("/d/").mode) == S_IFDIR
    p.symlink("f/", "/lslash")                              # a target ending in '/'
    assert p.err("stat", "/lslash") == E.ENOTDIR


def test_symlinks_relative_absolute_chained(p):
    p.mkdir("/d", 0o755)
    p.mkdir("/d/e", 0o755)
    p.put("/d/e/f", b"data")
    p.symlink("e/f", "/d/rel")            # relative to the link's directory
    p.symlink("/d/e", "/abs")
    p.symlink("rel", "/d/chain")
    p.symlink("../e", "/d/e/up")
    assert p.get("/d/rel") == b"data"
    assert p.get("/abs/f") == b"data"
    assert p.get("/d/chain") == b"data"
    assert p.get("/d/e/up/up/up/f") == b"data"
    p.chdir("/abs")                        # cwd is the directory, not the link
    assert p.getcwd() == "/d/e"
    assert p.readlink("/d/chain", 1024) == "rel"
    assert p.lst("/d/rel").size == 3


def test_eloop(p):
    p.symlink("/self", "/self")
    p.symlink("/b", "/a")
    p.symlink("/a", "/b")
    assert p.err("stat", "/self") == E.ELOOP
    assert p.err("stat", "/a/x") == E.ELOOP
    assert p.err("open", "/a", O_RDONLY, 0) == E.ELOOP
    assert kind(p.lst("/a").mode) == S_IFLNK


def test_maxsymlinks_is_32(p):
    p.put("/target", b"t")
    p.symlink("/target", "/l0")
    for i in range(1, 33):
        p.symlink("/l%d" % (i - 1), "/l%d" % i)
    assert p.get("/l31") == b"t"           # 32 links followed
    assert p.err("stat", "/l32") == E.ELOOP


def test_path_max_is_enametoolong(p):
    long_ok = "/" + "/".join(["a" * 100] * 9) + "/" + "b" * 113     # 1023 bytes
    assert len(long_ok) == 1023
    assert p.err("stat", long_ok) == E.ENOENT
    too_long = long_ok + "c"
    p.put("/x")
    for method, args in (("stat", (too_long,)), ("lstat", (too_long,)), ("open", (too_long, CW, 0o644)),
                         ("mkdir", (too_long, 0o755)), ("unlink", (too_long,)), ("rmdir", (too_long,)),
                         ("chdir", (too_long,)), ("rename", ("/x", too_long)), ("link", (too_long, "/y")),
                         ("symlink", ("/x", too_long)), ("symlink", (too_long, "/y")),
                         ("readlink", (too_long, 100)), ("truncate", (too_long, 0)),
                         ("access", (too_long, 0)), ("chmod", (too_long, 0o644))):
        assert p.err(method, *args) == E.ENAMETOOLONG, method
    assert p.err("stat", "x" * 5000) == E.ENAMETOOLONG


def test_name_max(p):
    p.put("/" + "n" * 511)
    assert p.err("open", "/" + "n" * 512, CW, 0o644) == E.ENAMETOOLONG
    assert p.err("stat", "/" + "n" * 512 + "/x") == E.ENAMETOOLONG


def test_symlink_expansion_past_path_max(p):
    p.mkdir("/d", 0o755)
    p.symlink("/d/" + "/".join(["x" * 200] * 4), "/l")   # a valid target of ~800 bytes
    assert p.err("stat", "/l/" + "y" * 300) == E.ENAMETOOLONG
    assert p.err("stat", "/l") == E.ENOENT


def test_empty_symlink(p):
    p.symlink("", "/empty")                 # NetBSD allows it
    assert p.readlink("/empty", 100) == ""
    assert p.err("stat", "/empty") == E.ENOENT
    assert p.lst("/empty").size == 0


# -- mounts ---------------------------------------------------------------------
def test_mount_points_crossed_both_ways(p):
    p.mkdir("/mnt", 0o755)
    p.put("/mnt/hidden")
    covered = p.st("/mnt")
    p.mount("rumpfs", "/mnt", 0, None)
    root = p.st("/mnt")
    assert root.dev != covered.dev and root.ino == 2
    assert p.names("/mnt") == []                            # the covered entry is hidden
    p.mkdir("/mnt/sub", 0o755)
    p.put("/mnt/sub/f", b"in")
    assert p.st("/mnt/sub/f").dev == root.dev
    assert p.st("/mnt/..").ino == p.st("/").ino             # up, out of the mount
    assert p.st("/mnt/sub/../..").ino == p.st("/").ino
    p.chdir("/mnt/sub")
    assert p.getcwd() == "/mnt/sub"
    assert p.st("../../mnt/sub/f").dev == root.dev          # down into it again
    p.chdir("..")
    assert p.getcwd() == "/mnt"
    p.chdir("..")
    assert p.getcwd() == "/"
    p.symlink("/mnt/sub", "/into")
    assert p.get("/into/f") == b"in"
    p.unmount("/mnt", 0)
    assert p.names("/mnt") == ["hidden"]
    assert p.err("stat", "/into/f") == E.ENOENT
    assert p.st("/mnt").dev == covered.dev


def test_cwd_under_a_new_mount_stays_covered(p):
    p.mkdir("/mnt", 0o755)
    p.put("/mnt/old", b"covered")
    p.chdir("/mnt")
    p.mount("rumpfs", "/mnt", 0, None)
    assert p.get("old") == b"covered"                       # names are looked up in the cwd itself
    assert p.names(".") == []                               # '.' is found, and crosses the mount
    assert p.names("/mnt") == []
    assert p.getcwd() == "/mnt"
    p.chdir("/mnt")
    assert p.err("stat", "old") == E.ENOENT


def test_mounts_stack_and_nest(p):
    p.mkdir("/mnt", 0o755)
    p.mount("rumpfs", "/mnt", 0, None)
    p.mkdir("/mnt/inner", 0o755)
    p.mount("rumpfs", "/mnt/inner", 0, None)
    p.put("/mnt/inner/f")
    assert p.err("unmount", "/mnt", 0) == E.EBUSY          # something is mounted inside
    p.mount("rumpfs", "/mnt", 0, None)                      # stacked on the mounted root
    assert p.names("/mnt") == []
    assert p.st("/mnt/..").ino == p.st("/").ino
    p.unmount("/mnt", 0)
    assert p.names("/mnt") == ["inner"]
    p.unmount("/mnt/inner", 0)
    p.unmount("/mnt", 0)
    assert p.names("/mnt") == []


def test_mount_errors(p):
    p.put("/f")
    p.mkdir("/mnt", 0o755)
    assert p.err("mount", "nosuchfs", "/mnt", 0, None) == E.ENODEV
    assert p.err("mount", "rumpfs", "/f", 0, None) == E.ENOTDIR
    assert p.err("mount", "rumpfs", "/nope", 0, None) == E.ENOENT
    assert p.err("mount", "rumpfs", "/", 0, None) == E.EBUSY
    assert p.err("unmount", "/mnt", 0) == E.EINVAL          # not a mount point
    assert p.err("unmount", "/", 0) == E.EINVAL
    assert p.err("unmount", "/nope", 0) == E.ENOENT


def test_unmount_busy_then_forced(k, p):
    p.mkdir("/mnt", 0o755)
    p.mount("rumpfs", "/mnt", 0, None)
    p.put("/mnt/f", b"x")
    fd = p.open("/mnt/f", O_RDONLY, 0)
    assert p.err("unmount", "/mnt", 0) == E.EBUSY
    p.close(fd)
    other = P(k, spawn(k))
    other.chdir("/mnt")
    assert p.err("unmount", "/mnt", 0) == E.EBUSY           # another process's cwd
    p.unmount("/mnt", MNT_FORCE)
    assert p.names("/mnt") == []


def test_busy_mount_point_cannot_go(p):
    p.mkdir("/mnt", 0o755)
    p.mount("rumpfs", "/mnt", 0, None)
    assert p.err("rmdir", "/mnt") == E.EBUSY
    assert p.err("rename", "/mnt", "/elsewhere") == E.EBUSY
    assert p.err("rmdir", "/mnt/..") == E.EBUSY            # "/" itself
    p.mkdir("/d", 0o755)
    assert p.err("rename", "/d", "/mnt") == E.EBUSY         # over a mount point


def test_across_mounts_is_exdev(p):
    p.mkdir("/mnt", 0o755)
    p.mount("rumpfs", "/mnt", 0, None)
    p.put("/f")
    p.mkdir("/d", 0o755)
    assert p.err("link", "/f", "/mnt/f") == E.EXDEV
    assert p.err("rename", "/f", "/mnt/f") == E.EXDEV
    assert p.err("rename", "/d", "/mnt/d") == E.EXDEV
    p.put("/mnt/g")
    assert p.err("rename", "/mnt/g", "/g") == E.EXDEV


def test_readonly_mount(p):
    p.mkdir("/ro", 0o755)
    p.mount("rumpfs", "/ro", MNT_RDONLY, None)
    assert p.err("open", "/ro/f", CW, 0o644) == E.EROFS
    assert p.err("mkdir", "/ro/d", 0o755) == E.EROFS
    assert p.err("symlink", "x", "/ro/l") == E.EROFS
    assert p.err("mknod", "/ro/n", S_IFCHR | 0o600, makedev(2, 2)) == E.EROFS
    assert p.err("chmod", "/ro", 0o700) == E.EROFS
    assert p.err("chown", "/ro", 1, 1) == E.EROFS
    assert p.err("utimes", "/ro", None, None) == E.EROFS
    assert p.err("access", "/ro", 2) == E.EROFS
    assert p.err("open", "/ro", O_RDONLY | O_TRUNC, 0) == E.EISDIR
    assert p.err("mkdir", "/ro", 0o755) == E.EEXIST          # an existing name comes first
    fd = p.open("/ro", O_RDONLY, 0)
    p.close(fd)
    assert p.statvfs("/ro", 0)[9] & MNT_RDONLY


def test_statvfs(p):
    p.mkdir("/mnt", 0o755)
    p.mount("rumpfs", "/mnt", 0, "mysource")
    sv = p.statvfs("/mnt", 0)
    assert sv[11:] == ("rumpfs", "/mnt", "mysource")
    root = p.statvfs("/", 0)
    assert root[11:13] == ("rumpfs", "/") and root[8] != sv[8]
    fd = p.open("/mnt", O_RDONLY, 0)
    assert p.fstatvfs(fd, 0) == sv
    assert p.err("statvfs", "/nope", 0) == E.ENOENT
    assert p.err("fstatvfs", 99, 0) == E.EBADF


# -- the root file system ----------------------------------------------------------
def test_fstypes_sysctl(p):
    assert "rumpfs" in p.sysctl("vfs.generic.fstypes", 0, None)[1].split()


def test_dev_null_and_zero(p):
    null, zero = p.st("/dev/null"), p.st("/dev/zero")
    assert kind(null.mode) == S_IFCHR and null.rdev == makedev(2, 2) and null.mode & 0o777 == 0o666
    assert kind(zero.mode) == S_IFCHR and zero.rdev == makedev(2, 12)
    fd = p.open("/dev/zero", O_RDWR, 0)
    assert p.read(fd, 10) == bytes(10)
    assert p.pread(fd, 5, 1000) == bytes(5)
    assert p.write(fd, b"gone") == 4
    p.close(fd)
    fd = p.open("/dev/null", O_RDWR | O_TRUNC, 0)
    assert p.read(fd, 10) == b""
    assert p.write(fd, b"x" * 100) == 100
    p.close(fd)
    assert {"null", "zero"} <= set(p.names("/dev"))


def test_link_counts(p):
    p.mkdir("/d", 0o755)
    assert p.st("/d").nlink == 2
    root = p.st("/").nlink
    p.mkdir("/d/e", 0o755)
    assert p.st("/d").nlink == 3 and p.st("/").nlink == root
    p.put("/d/f")
    assert p.st("/d").nlink == 3
    p.link("/d/f", "/d/g")
    assert p.st("/d/f").nlink == 2 and p.st("/d/g").ino == p.st("/d/f").ino
    p.unlink("/d/f")
    assert p.st("/d/g").nlink == 1
    p.rename("/d/e", "/e")
    assert p.st("/d").nlink == 2 and p.st("/").nlink == root + 1
    p.rmdir("/e")
    assert p.st("/").nlink == root


def test_owners_modes_umask(p):
    assert p.umask(0o027) == 0o022
    p.put("/f", mode=0o7777)
    assert p.st("/f").mode & 0o7777 == 0o6750              # umask, and no sticky bit on files
    p.mkdir("/d", 0o7777)
    assert p.st("/d").mode & 0o7777 == 0o750               # mkdir keeps the permission bits only
    p.symlink("x", "/l")
    assert p.lst("/l").mode & 0o7777 == 0o750
    p.mknod("/n", S_IFCHR | 0o666, makedev(2, 2))
    assert p.st("/n").mode & 0o7777 == 0o640
    assert p.umask(0o22) == 0o027
    st = p.st("/f")
    assert (st.uid, st.gid) == (0, 0)


def test_times(k, p):
    now = [2000.0]
    k.host.wall_time = lambda: now[0]
    p.put("/f", b"abc")
    st = p.st("/f")
    assert st.mtime_ns == st.ctime_ns == st.birthtime_ns == 2000 * 10**9
    now[0] = 2001.0
    fd = p.open("/f", O_WRONLY, 0)
    p.write(fd, b"x")
    p.close(fd)
    st = p.st("/f")
    assert st.mtime_ns == st.ctime_ns == 2001 * 10**9 and st.birthtime_ns == 2000 * 10**9
    now[0] = 2002.0
    p.chmod("/f", 0o600)
    st = p.st("/f")
    assert st.ctime_ns == 2002 * 10**9 and st.mtime_ns == 2001 * 10**9
    p.utimes("/f", 5 * 10**9, 7 * 10**9)
    st = p.st("/f")
    assert (st.atime_ns, st.mtime_ns, st.birthtime_ns) == (5 * 10**9, 7 * 10**9, 7 * 10**9)
    p.utimes("/f", UTIME_OMIT, None)
    st = p.st("/f")
    assert st.atime_ns == 5 * 10**9 and st.mtime_ns == 2002 * 10**9
    now[0] = 2003.0
    p.mkdir("/d", 0o755)
    before = p.st("/").mtime_ns
    assert before == 2003 * 10**9                             # the directory changed too


# -- open -----------------------------------------------------------------------
def test_open_create_excl_trunc(p):
    fd = p.open("/f", CW | O_EXCL, 0o600)
    p.write(fd, b"hello")
    p.close(fd)
    assert p.err("open", "/f", CW | O_EXCL, 0o600) == E.EEXIST
    assert p.err("open", "/nope", O_RDONLY, 0) == E.ENOENT
    fd = p.open("/f", CW, 0o600)                                # exists: opened as is
    p.close(fd)
    assert p.get("/f") == b"hello"
    fd = p.open("/f", O_RDONLY | O_TRUNC, 0)                    # NetBSD truncates here too
    p.close(fd)
    assert p.st("/f").size == 0
    assert p.err("open", "/f", 3, 0) == E.EINVAL                 # O_ACCMODE 3
    assert p.err("open", "/", CW, 0o644) == E.EEXIST
    assert p.err("open", "/nodir/f", CW, 0o644) == E.ENOENT


def test_open_append(p):
    p.put("/f", b"abc")
    fd = p.open("/f", O_WRONLY | O_APPEND, 0)
    p.lseek(fd, 0, SEEK_SET)
    p.write(fd, b"de")
    assert p.lseek(fd, 0, SEEK_CUR) == 5
    p.pwrite(fd, b"f", 0)                                         # IO_APPEND wins over the offset
    p.close(fd)
    assert p.get("/f") == b"abcdef"


def test_open_directory_flags(p):
    p.mkdir("/d", 0o755)
    p.put("/f")
    fd = p.open("/d", O_RDONLY | O_DIRECTORY, 0)
    p.close(fd)
    assert p.err("open", "/f", O_RDONLY | O_DIRECTORY, 0) == E.ENOTDIR
    assert p.err("open", "/d", O_WRONLY, 0) == E.EISDIR
    assert p.err("open", "/d", O_RDWR, 0) == E.EISDIR
    assert p.err("open", "/d", O_RDONLY | O_TRUNC, 0) == E.EISDIR
    assert p.err("open", "/d", CW, 0o644) == E.EISDIR
    fd = p.open("/d", O_RDONLY | O_CREAT, 0o644)                  # an existing directory, read only
    p.close(fd)
    fd = p.open("/d", O_RDONLY, 0)
    assert p.err("read", fd, 10) == E.EISDIR


def test_open_nofollow_and_links(p):
    p.put("/f", b"target")
    p.symlink("/f", "/l")
    p.symlink("/newfile", "/dangling")
    assert p.err("open", "/l", O_RDONLY | O_NOFOLLOW, 0) == E.EFTYPE
    assert p.err("open", "/l", CW | O_NOFOLLOW, 0o644) == E.EFTYPE
    assert p.err("open", "/l", CW | O_EXCL, 0o644) == E.EEXIST
    assert p.err("open", "/dangling", CW | O_EXCL, 0o644) == E.EEXIST
    assert p.err("open", "/l/", O_RDONLY, 0) == E.ENOTDIR
    fd = p.open("/dangling", CW, 0o644)                        # creates the link's target
    p.write(fd, b"new")
    p.close(fd)
    assert p.get("/newfile") == b"new"
    assert kind(p.lst("/dangling").mode) == S_IFLNK
    fd = p.open("/f", O_RDONLY | O_NOFOLLOW, 0)                 # not a link: fine
    p.close(fd)


def test_open_trailing_slash(p):
    p.put("/f")
    assert p.err("open", "/f/", CW, 0o644) == E.ENOTDIR
    assert p.err("open", "/new/", CW, 0o644) == E.ENOENT
    assert p.err("stat", "/new") == E.ENOENT


def test_open_flags_kept_and_cloexec(p):
    p.put("/f")
    fd = p.open("/f", O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
    assert p.fcntl(fd, F_GETFL, None) == O_RDWR | O_APPEND
    assert p.fcntl(fd, F_GETFD, None) == FD_CLOEXEC


def test_open_devices_and_unknown_major(p):
    p.mknod("/cdev", S_IFCHR | 0o600, makedev(2, 12))
    fd = p.open("/cdev", O_RDONLY, 0)
    assert p.read(fd, 3) == bytes(3)
    p.close(fd)
    p.mknod("/nodrv", S_IFBLK | 0o600, makedev(200, 0))
    assert kind(p.st("/nodrv").mode) == S_IFBLK
    assert p.err("open", "/nodrv", O_RDONLY, 0) == E.ENXIO
    p.mknod("/bad", S_IFCHR | 0o600, makedev(2, 5))
    assert p.err("open", "/bad", O_RDONLY, 0) == E.ENXIO


def test_too_many_open_files(p):
    p.put("/f")
    fds = [p.open("/f", O_RDONLY, 0) for _ in range(1024)]
    assert p.err("open", "/g", CW, 0o644) == E.EMFILE
    assert p.err("stat", "/g") == E.ENOENT                       # nothing was created
    for fd in fds:
        p.close(fd)


# -- *at calls ----------------------------------------------------------------------
def test_at_family(p):
    p.mkdir("/d", 0o755)
    dfd = p.open("/d", O_RDONLY | O_DIRECTORY, 0)
    fd = p.openat(dfd, "f", CW, 0o644)
    p.write(fd, b"at")
    p.close(fd)
    assert p.get("/d/f") == b"at"
    assert Stat(*p.fstatat(dfd, "f", 0)).size == 2
    p.mkdirat(dfd, "sub", 0o755)
    p.symlinkat("f", dfd, "l")
    assert p.readlinkat(dfd, "l", 100) == "f"
    assert kind(Stat(*p.fstatat(dfd, "l", AT_SYMLINK_NOFOLLOW)).mode) == S_IFLNK
    assert kind(Stat(*p.fstatat(dfd, "l", 0)).mode) == S_IFREG
    assert p.err("fstatat", dfd, "l", 0x4000) == E.EINVAL
    p.linkat(dfd, "l", dfd, "hard_link_to_link", 0)
    p.linkat(dfd, "l", dfd, "hard_link_to_file", AT_SYMLINK_FOLLOW)
    assert kind(p.lst("/d/hard_link_to_link").mode) == S_IFLNK
    assert p.lst("/d/hard_link_to_file").ino == p.st("/d/f").ino
    p.renameat(dfd, "sub", AT_FDCWD, "/moved")
    p.faccessat(dfd, "f", 6, 0)
    p.fchmodat(dfd, "f", 0o600, 0)
    assert p.st("/d/f").mode & 0o777 == 0o600
    p.utimensat(dfd, "f", 10, 20, 0)
    assert p.st("/d/f").mtime_ns == 20
    p.unlinkat(dfd, "hard_link_to_link", 0)
    assert p.err("unlinkat", AT_FDCWD, "/moved", 0) == E.EPERM
    p.unlinkat(AT_FDCWD, "/moved", AT_REMOVEDIR)
    assert p.err("unlinkat", dfd, "f", AT_REMOVEDIR) == E.ENOTDIR
    assert p.err("unlinkat", dfd, "f", 0x1) == E.EINVAL
    assert p.openat(dfd, "/d/f", O_RDONLY, 0) >= 0             # absolute: the descriptor is ignored


def test_at_bad_descriptors(p):
    p.put("/f")
    ffd = p.open("/f", O_RDONLY, 0)
    r, _w = p.pipe2(0)
    assert p.err("openat", ffd, "x", O_RDONLY, 0) == E.ENOTDIR
    assert p.err("openat", 77, "x", O_RDONLY, 0) == E.EBADF
    assert p.err("openat", r, "x", O_RDONLY, 0) == E.EINVAL    # not a vnode
    assert p.err("mkdirat", ffd, "x", 0o755) == E.ENOTDIR
    assert p.err("fstatat", 77, "/f", 0) == E.EBADF            # checked even for absolute paths


# -- data -------------------------------------------------------------------------
def test_read_write_offsets(p):
    fd = p.open("/f", O_RDWR | O_CREAT, 0o644)
    assert p.write(fd, b"hello world") == 11
    assert p.read(fd, 10) == b""
    assert p.lseek(fd, 0, SEEK_SET) == 0
    assert p.read(fd, 5) == b"hello"
    assert p.lseek(fd, 1, SEEK_CUR) == 6
    assert p.read(fd, 100) == b"world"
    assert p.lseek(fd, -5, SEEK_END) == 6
    assert p.lseek(fd, 20, SEEK_SET) == 20                       # past the end
    p.write(fd, b"!")
    assert p.pread(fd, 100, 0) == b"hello world" + bytes(9) + b"!"
    assert p.err("lseek", fd, -1, SEEK_SET) == E.EINVAL
    assert p.err("lseek", fd, -100, SEEK_END) == E.EINVAL
    assert p.err("lseek", fd, 0, 7) == E.EINVAL
    assert p.lseek(fd, 0, SEEK_CUR) == 21


def test_pread_pwrite(p):
    fd = p.open("/f", O_RDWR | O_CREAT, 0o644)
    assert p.pwrite(fd, b"abc", 10) == 3
    assert p.lseek(fd, 0, SEEK_CUR) == 0                         # the offset does not move
    assert p.pread(fd, 13, 0) == bytes(10) + b"abc"
    assert p.pread(fd, 10, 100) == b""
    assert p.err("pread", fd, 1, -1) == E.EINVAL
    assert p.err("pwrite", fd, b"x", -1) == E.EINVAL
    assert p.err("pread", fd, -1, 0) == E.EINVAL
    r, w = p.pipe2(0)
    assert p.err("pread", r, 1, 0) == E.ESPIPE
    assert p.err("pwrite", w, b"x", -1) == E.ESPIPE              # ESPIPE before the offset check
    assert p.err("lseek", r, 0, SEEK_SET) == E.ESPIPE
    ro = p.open("/f", O_RDONLY, 0)
    wo = p.open("/f", O_WRONLY, 0)
    assert p.err("pwrite", ro, b"x", 0) == E.EBADF
    assert p.err("pread", wo, 1, 0) == E.EBADF
    assert p.err("write", ro, b"x") == E.EBADF
    assert p.err("read", wo, 1) == E.EBADF
    assert p.err("pread", 99, 1, 0) == E.EBADF


def test_readv_writev(p):
    fd = p.open("/f", O_RDWR | O_CREAT, 0o644)
    assert p.writev(fd, (b"ab", b"", b"cdef")) == 6
    p.lseek(fd, 0, SEEK_SET)
    assert p.readv(fd, (1, 3, 0, 10)) == (b"a", b"bcd", b"", b"ef")
    assert p.err("readv", fd, (1, -1)) == E.EINVAL
    assert p.err("writev", fd, (b"a", "b")) == E.EINVAL
    ro = p.open("/f", O_RDONLY, 0)
    assert p.err("writev", ro, (b"a",)) == E.EBADF


def test_close_dup_dup2_fcntl(p):
    p.put("/f", b"0123456789")
    fd = p.open("/f", O_RDONLY, 0)
    d = p.dup(fd)
    assert d != fd
    p.read(fd, 3)
    assert p.read(d, 2) == b"34"                                   # one shared offset
    assert p.dup2(fd, 50) == 50
    assert p.read(50, 1) == b"5"
    assert p.fcntl(fd, F_DUPFD, 40) == 40
    p.fcntl(fd, F_SETFD, FD_CLOEXEC)
    assert p.fcntl(fd, F_GETFD, None) == FD_CLOEXEC and p.fcntl(d, F_GETFD, None) == 0
    p.close(fd)
    assert p.err("close", fd) == E.EBADF
    assert p.read(d, 100) == b"6789"
    assert p.err("dup", fd) == E.EBADF
    assert p.err("dup2", d, 5000) == E.EBADF
    w = p.open("/f", O_WRONLY, 0)
    p.fcntl(w, F_SETFL, O_APPEND)
    assert p.fcntl(w, F_GETFL, None) == O_WRONLY | O_APPEND
    p.write(w, b"Z")
    assert p.get("/f") == b"0123456789Z"


# -- attributes -----------------------------------------------------------------------
def test_stat_lstat_fstat(p):
    p.put("/f", b"12345")
    p.symlink("/f", "/l")
    st = p.st("/f")
    assert kind(st.mode) == S_IFREG and st.size == 5 and st.nlink == 1 and st.blocks == 1
    assert p.st("/l") == st
    lst = p.lst("/l")
    assert kind(lst.mode) == S_IFLNK and lst.size == 2 and lst.ino != st.ino
    fd = p.open("/l", O_RDONLY, 0)
    assert Stat(*p.fstat(fd)) == st
    assert p.err("fstat", 99) == E.EBADF
    d = p.st("/")
    assert kind(d.mode) == S_IFDIR and d.ino == 2


def test_access(p):
    p.put("/f", mode=0o644)
    p.put("/x", mode=0o755)
    assert p.access("/f", 0) == 0
    assert p.access("/f", 6) == 0
    assert p.err("access", "/f", 1) == E.EACCES
    assert p.access("/x", 1) == 0
    assert p.access("/", 1) == 0
    assert p.err("access", "/f", 8) == E.EINVAL
    assert p.err("access", "/nope", 0) == E.ENOENT


def test_chmod_chown(p):
    p.put("/f")
    p.chmod("/f", 0o16755)                                          # only ALLPERMS kept
    assert p.st("/f").mode & 0o7777 == 0o6755
    p.chown("/f", 1000, -1)                                           # a new owner clears set-user-id
    st = p.st("/f")
    assert (st.uid, st.gid) == (1000, 0) and st.mode & 0o7777 == 0o2755
    p.chown("/f", -1, 50)                                             # a new group clears set-group-id
    st = p.st("/f")
    assert (st.uid, st.gid) == (1000, 50) and st.mode & 0o7777 == 0o755
    p.symlink("/f", "/l")
    p.lchown("/l", 7, 8)
    assert (p.lst("/l").uid, p.st("/l").uid) == (7, 1000)
    fd = p.open("/f", O_RDONLY, 0)
    p.fchmod(fd, 0o700)
    p.fchown(fd, 1, 2)
    st = p.st("/f")
    assert (st.mode & 0o7777, st.uid, st.gid) == (0o700, 1, 2)
    r, _w = p.pipe2(0)
    assert p.err("fchmod", r, 0o700) == E.EINVAL
    assert p.err("fchown", 99, 0, 0) == E.EBADF
    assert p.err("chmod", "/nope", 0) == E.ENOENT
    p.fchmodat(AT_FDCWD, "/l", 0o700, AT_SYMLINK_NOFOLLOW)
    assert p.lst("/l").mode & 0o777 == 0o700


def test_truncate_ftruncate(p):
    p.put("/f", b"abcdef")
    p.truncate("/f", 3)
    assert p.get("/f") == b"abc"
    p.truncate("/f", 6)
    assert p.get("/f") == b"abc\0\0\0"
    fd = p.open("/f", O_RDWR, 0)
    p.ftruncate(fd, 1)
    assert p.get("/f") == b"a"
    assert p.err("ftruncate", fd, -1) == E.EINVAL
    assert p.err("truncate", "/f", -1) == E.EINVAL
    assert p.err("truncate", "/nope", -1) == E.EINVAL                # the length is checked first
    ro = p.open("/f", O_RDONLY, 0)
    assert p.err("ftruncate", ro, 0) == E.EINVAL
    p.mkdir("/d", 0o755)
    assert p.err("truncate", "/d", 0) == E.EISDIR
    assert p.err("truncate", "/nope", 0) == E.ENOENT
    r, _w = p.pipe2(0)
    assert p.err("ftruncate", r, 0) == E.EINVAL
    p.truncate("/dev/null", 0)                                         # devices ignore it


def test_fsync(p):
    p.put("/f", b"x")
    fd = p.open("/f", O_RDONLY, 0)
    p.fsync(fd)
    r, _w = p.pipe2(0)
    assert p.err("fsync", r) == E.EINVAL
    assert p.err("fsync", 99) == E.EBADF
    p.sync()


# -- names ----------------------------------------------------------------------------
def test_mkdir_rmdir(p):
    p.mkdir("/d", 0o755)
    p.mkdir("/d/e/", 0o755)                                  # a trailing slash is fine for mkdir
    p.put("/f")
    assert p.err("mkdir", "/d", 0o755) == E.EEXIST
    assert p.err("mkdir", "/", 0o755) == E.EEXIST
    assert p.err("mkdir", "/d/.", 0o755) == E.EEXIST
    assert p.err("mkdir", "/d/..", 0o755) == E.EEXIST
    assert p.err("mkdir", "/f/", 0o755) == E.ENOTDIR
    assert p.err("mkdir", "/nope/d", 0o755) == E.ENOENT
    assert p.err("mkdir", "/f/d", 0o755) == E.ENOTDIR
    assert p.err("rmdir", "/d") == E.ENOTEMPTY
    assert p.err("rmdir", "/d/e/.") == E.EINVAL
    assert p.err("rmdir", "/d/e/..") == E.ENOTEMPTY
    assert p.err("rmdir", "/") == E.EBUSY
    assert p.err("rmdir", "/f") == E.ENOTDIR
    assert p.err("rmdir", "/nope") == E.ENOENT
    p.symlink("/d/e", "/l")
    assert p.err("rmdir", "/l") == E.ENOTDIR
    p.rmdir("/d/e/")
    p.rmdir("/d")
    assert p.err("stat", "/d") == E.ENOENT
    p.chdir("/")
    assert p.err("rmdir", ".") == E.EBUSY                     # "." is the root here


def test_unlink(p):
    p.put("/f", b"still here")
    p.mkdir("/d", 0o755)
    fd = p.open("/f", O_RDONLY, 0)
    p.unlink("/f")
    assert p.err("stat", "/f") == E.ENOENT
    assert p.read(fd, 100) == b"still here"                    # an open file outlives its name
    assert Stat(*p.fstat(fd)).nlink == 0
    assert p.err("unlink", "/f") == E.ENOENT
    assert p.err("unlink", "/d") == E.EPERM
    assert p.err("unlink", "/d/") == E.EPERM
    p.put("/g")
    assert p.err("unlink", "/g/") == E.ENOTDIR
    assert p.err("unlink", "/") == E.EBUSY
    p.chdir("/d")
    assert p.err("unlink", ".") == E.EINVAL
    assert p.err("unlink", "..") == E.EBUSY                   # the root
    p.symlink("/g", "/l")
    p.unlink("/l")                                              # the link, not its target
    assert p.st("/g").nlink == 1


def test_rename_files(p):
    p.mkdir("/a", 0o755)
    p.mkdir("/b", 0o755)
    p.put("/a/f", b"f")
    p.put("/b/g", b"g")
    p.rename("/a/f", "/a/f2")
    assert p.names("/a") == ["f2"]
    p.rename("/a/f2", "/b/g")                                   # over an existing file, across dirs
    assert p.names("/a") == [] and p.names("/b") == ["g"] and p.get("/b/g") == b"f"
    p.rename("/b/g", "/b/g")                                    # onto itself: nothing
    assert p.get("/b/g") == b"f"
    p.link("/b/g", "/b/h")
    p.rename("/b/g", "/b/h")                                    # links of one file: source goes
    assert p.names("/b") == ["h"] and p.st("/b/h").nlink == 1
    p.symlink("/b/h", "/lnk")
    p.rename("/lnk", "/lnk2")                                   # the link moves, not its target
    assert kind(p.lst("/lnk2").mode) == S_IFLNK and p.names("/b") == ["h"]


def test_rename_directories(p):
    p.mkdir("/a", 0o755)
    p.mkdir("/a/sub", 0o755)
    p.put("/a/sub/f", b"x")
    p.mkdir("/empty", 0o755)
    p.mkdir("/full", 0o755)
    p.put("/full/x")
    p.put("/file")
    p.rename("/a/sub", "/empty")                                 # over an empty directory
    assert p.get("/empty/f") == b"x" and p.names("/a") == []
    assert p.st("/empty/..").ino == p.st("/").ino               # '..' follows the move
    assert p.err("rename", "/empty", "/full") == E.ENOTEMPTY
    assert p.err("rename", "/empty", "/file") == E.ENOTDIR
    assert p.err("rename", "/file", "/empty") == E.EISDIR
    assert p.err("rename", "/empty", "/empty/inside") == E.EINVAL
    p.mkdir("/empty/deeper", 0o755)
    assert p.err("rename", "/empty", "/empty/deeper/x") == E.EINVAL
    assert p.err("rename", "/empty/f", "/empty/f/") == E.ENOTDIR
    assert p.err("rename", "/empty/deeper", "/empty") == E.ENOTEMPTY
    p.rename("/empty/deeper", "/a/d2/")                          # a trailing slash for a directory
    assert p.names("/a") == ["d2"]
    p.chdir("/a/d2")
    p.rename("/a", "/z")
    assert p.getcwd() == "/z/d2"                                  # cwd moves along


def test_rename_errors(p):
    p.mkdir("/d", 0o755)
    p.put("/f")
    assert p.err("rename", "/nope", "/x") == E.ENOENT
    assert p.err("rename", "/f", "/nope/x") == E.ENOENT
    assert p.err("rename", "/d/.", "/x") == E.EINVAL
    assert p.err("rename", "/d/..", "/x") == E.EINVAL
    assert p.err("rename", "/f", "/d/.") == E.EISDIR
    assert p.err("rename", "/f", "/d/..") == E.EINVAL
    assert p.err("rename", "/", "/x") == E.EBUSY
    assert p.err("rename", "/d", "/") == E.EBUSY
    assert p.err("rename", "/f", "/newname/") == E.ENOENT
    assert p.err("rename", "/f/", "/g") == E.ENOTDIR
    p.put("/d/g")
    assert p.err("rename", "/d/g", "/d") == E.EISDIR


def test_link(p):
    p.put("/f", b"x")
    p.mkdir("/d", 0o755)
    p.symlink("/f", "/l")
    p.link("/l", "/hard")                                        # link(2) follows a final link
    assert p.lst("/hard").ino == p.st("/f").ino and p.st("/f").nlink == 2
    assert p.err("link", "/f", "/hard") == E.EEXIST
    assert p.err("link", "/d", "/d2") == E.EPERM
    assert p.err("link", "/d", "/f") == E.EEXIST                  # the name is checked first
    assert p.err("link", "/nope", "/x") == E.ENOENT
    assert p.err("link", "/f", "/nope/x") == E.ENOENT
    assert p.err("link", "/f", "/new/") == E.ENOENT
    assert p.err("link", "/f", "/") == E.EEXIST


def test_symlink_readlink(p):
    p.symlink("some/where", "/l")
    assert p.readlink("/l", 1024) == "some/where"
    assert p.readlink("/l", 4) == "some"
    assert p.readlink("/l", 0) == ""
    assert p.err("readlink", "/l", -1) == E.EINVAL
    assert p.err("symlink", "x", "/l") == E.EEXIST
    assert p.err("symlink", "x", "/nope/l") == E.ENOENT
    assert p.err("symlink", "x", "/new/") == E.ENOENT
    assert p.err("symlink", "x" * 1024, "/long") == E.ENAMETOOLONG
    p.symlink("x" * 1023, "/long")
    p.put("/f")
    assert p.err("readlink", "/f", 100) == E.EINVAL
    assert p.err("readlink", "/nope", 100) == E.ENOENT
    assert kind(p.lst("/l").mode) == S_IFLNK and p.lst("/l").size == 10


def test_mknod(p):
    p.mknod("/c", S_IFCHR | 0o600, makedev(7, 300))
    p.mknod("/b", S_IFBLK | 0o600, makedev(8, 1))
    p.mknod("/r", S_IFREG | 0o600, 0)
    st = p.st("/c")
    assert kind(st.mode) == S_IFCHR and st.rdev == makedev(7, 300)
    assert kind(p.st("/b").mode) == S_IFBLK and kind(p.st("/r").mode) == S_IFREG
    assert p.err("mknod", "/c", S_IFCHR | 0o600, 0) == E.EEXIST
    assert p.err("mknod", "/fifo", S_IFIFO | 0o600, 0) == E.EINVAL     # NetBSD: mkfifo's job
    assert p.err("mknod", "/dir", S_IFDIR | 0o700, 0) == E.EINVAL
    assert p.err("mknod", "/none", 0o600, 0) == E.EINVAL
    assert p.err("mknod", "/nope/c", S_IFCHR, 0) == E.ENOENT
    assert sorted(p.names("/")) == ["b", "c", "dev", "r"]


# -- directories and the cwd ---------------------------------------------------------------
def test_getdents_lists_and_resumes(p):
    p.mkdir("/d", 0o755)
    names = ["n%02d" % i for i in range(40)]
    for n in names:
        p.put("/d/" + n)
    p.mkdir("/d/sub", 0o755)
    p.symlink("x", "/d/lnk")
    fd = p.open("/d", O_RDONLY, 0)
    seen = []
    while True:
        ents = p.getdents(fd, 16 * 7)                              # seven at a time
        if not ents:
            break
        assert len(ents) <= 7
        seen += ents
    by_name = {e[3]: e for e in seen}
    assert len(seen) == len(by_name) == 44
    assert by_name["."][1] == p.st("/d").ino and by_name[".."][1] == p.st("/").ino
    assert by_name["sub"][2] == DT_DIR and by_name["n00"][2] == DT_REG and by_name["lnk"][2] == DT_LNK
    assert by_name["n05"][1] == p.st("/d/n05").ino
    assert p.getdents(fd, 1024) == ()
    assert p.lseek(fd, 0, SEEK_SET) == 0
    first = p.getdents(fd, 16 * 10)
    for e in first:                                                 # remove what was already seen
        if e[3] not in (".", ".."):
            p.unlink("/d/" + e[3])
    p.put("/d/late")                                                # added while reading: comes later
    rest = p.getdents(fd, 8192)
    names_rest = [e[3] for e in rest]
    assert not set(names_rest) & {e[3] for e in first}
    assert "late" in names_rest
    assert len(first) + len(rest) == 45


def test_getdents_errors(p):
    p.put("/f")
    p.mkdir("/d", 0o755)
    fd = p.open("/f", O_RDONLY, 0)
    assert p.err("getdents", fd, 1024) == E.EINVAL                  # not a directory
    r, _w = p.pipe2(0)
    assert p.err("getdents", r, 1024) == E.EINVAL                   # not a vnode
    assert p.err("getdents", 99, 1024) == E.EBADF
    dfd = p.open("/d", O_RDONLY, 0)
    assert p.err("getdents", dfd, 8) == E.EINVAL
    assert p.getdents(dfd, 16)[0][3] == "."                          # one at a time


def test_chdir_fchdir_getcwd(p):
    p.mkdir("/a", 0o755)
    p.mkdir("/a/b", 0o755)
    p.put("/f")
    assert p.getcwd() == "/"
    p.chdir("/a/b")
    assert p.getcwd() == "/a/b"
    p.chdir("..")
    assert p.getcwd() == "/a"
    assert p.err("chdir", "/f") == E.ENOTDIR
    assert p.err("chdir", "/nope") == E.ENOENT
    fd = p.open("/a/b", O_RDONLY, 0)
    p.chdir("/")
    p.fchdir(fd)
    assert p.getcwd() == "/a/b"
    ffd = p.open("/f", O_RDONLY, 0)
    assert p.err("fchdir", ffd) == E.ENOTDIR
    assert p.err("fchdir", 99) == E.EBADF
    p.put("rel", b"r")                                              # relative to the cwd
    assert p.get("/a/b/rel") == b"r"


def test_removed_cwd(p):
    p.mkdir("/d", 0o755)
    p.chdir("/d")
    p.rmdir("/d")
    assert p.err("getcwd") == E.ENOENT
    assert p.err("open", "f", CW, 0o644) == E.ENOENT             # nothing can be made in it
    assert p.err("mkdir", "x", 0o755) == E.ENOENT
    assert p.err("stat", ".") == E.ENOENT                       # not even '.' or '..' (tmpfs)
    assert p.err("stat", "..") == E.ENOENT
    fd = p.open("/", O_RDONLY, 0)
    p.fchdir(fd)
    assert p.getcwd() == "/"


def test_processes_have_their_own_cwd_and_umask(k, p):
    q = P(k, spawn(k))
    p.mkdir("/d", 0o755)
    p.chdir("/d")
    p.umask(0o077)
    assert q.getcwd() == "/" and q.umask(0o022) == 0o022


# -- etfs keys (rump_server -d) in the namespace --------------------------------------------
def test_etfs_keys_are_whole_paths(k, p, tmp_path):
    from rumptools.formats.drivespec import DriveSpec
    host = tmp_path / "disk.img"
    with k.lock:
        k.slot("etfs")(DriveSpec(key="/dk", hostpath=str(host), size=64 * 1024))
        k.slot("etfs")(DriveSpec(key="/rdk", hostpath=str(host), size=64 * 1024, type="chr"))
    for path in ("/dk", "//dk"):
        st = p.st(path)
        assert kind(st.mode) == S_IFBLK and st.size == 64 * 1024
    assert kind(p.st("/rdk").mode) == S_IFCHR
    assert "dk" not in p.names("/")                                # not listed
    assert p.err("stat", "dk") == E.ENOENT                           # relative paths are no keys
    assert p.err("mkdir", "/dk", 0o755) == E.EEXIST
    fd = p.open("/dk", O_RDWR, 0)
    assert p.pwrite(fd, b"hello", 1000) == 5                         # unaligned, through the cache
    assert p.lseek(fd, 0, SEEK_END) == 64 * 1024
    assert host.read_bytes()[1000:1005] == bytes(5)
    p.fsync(fd)
    assert host.read_bytes()[1000:1005] == b"hello"
    raw = p.open("/rdk", O_RDONLY, 0)
    assert p.pread(raw, 1024, 512)[488:493] == b"hello"
    assert p.err("pread", raw, 100, 0) == E.EINVAL                   # raw I/O in whole sectors
    assert p.err("pwrite", fd, b"x", 64 * 1024) == E.EINVAL                 # block device: at the end, as NetBSD


def test_forced_unmount_leaves_cwd_without_a_path(k, p):
    p.mkdir("/mnt", 0o755)
    p.mount("rumpfs", "/mnt", 0, None)
    p.mkdir("/mnt/d", 0o755)
    p.chdir("/mnt/d")
    p.unmount("/mnt", MNT_FORCE)
    assert p.err("getcwd") == E.ENOENT
    p.put("still_works", b"x")                                   # the detached tree lives on
    assert p.get("../d/still_works") == b"x"
    assert p.names("/mnt") == []


# -- rumpfs memory -------------------------------------------------------------------------
def test_file_data_has_a_budget():
    kern = boot("rumpvfs", memlimit=1 << 20)
    q = P(kern, spawn(kern))
    budget = kern.membudget
    try:
        sv = q.statvfs("/", 0)
        assert sv[2] == (1 << 20) // sv[0]
        assert 0 < budget.used < 64 << 10                  # / and /dev: metadata only
        assert sv[3] == budget.free // sv[0]
        assert q.err("truncate", "/dev/../big", 0) == E.ENOENT
        q.put("/big")
        assert q.err("truncate", "/big", 100 << 30) == E.ENOSPC      # no 100 GiB allocation
        fd = q.open("/big", O_WRONLY, 0)
        assert q.err("pwrite", fd, b"x", 50 << 30) == E.ENOSPC
        room = budget.free
        q.pwrite(fd, b"y", room - 1)                                    # exactly the budget
        q.lseek(fd, 0, SEEK_END)
        assert q.err("write", fd, b"z") == E.ENOSPC
        assert q.statvfs("/", 0)[3] == 0 and budget.free == 0
        q.truncate("/big", 1000)                                        # shrinking gives it back
        assert budget.free == room - 1000
        q.link("/big", "/big2")
        q.unlink("/big")
        assert budget.free == room - 1000 - len("big2") + len("big")
        q.unlink("/big2")                                                # still open: kept
        assert budget.free == room - 1000 + ENTRY_COST + len("big")     # no names left
        q.close(fd)                                                       # last close frees it
        assert budget.free == room + ENTRY_COST + len("big") + NODE_COST
        assert q.statvfs("/", 0)[3] == budget.free // sv[0]
        assert not [line for line in kern.console_lines if "failed" in line]
    finally:
        kern.callouts.stop()
