"""A booted in-process kernel with rumpfs_ffs and an image on /dk, for the FFS
kernel tests: mount, unmount, remount, and tree walks through the syscalls."""
import os

from rumptools.abi.errnos import RumpError
from rumptools.abi.syscalls import O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_TRUNC
from rumptools.formats import ffs_geometry, ffs_mkfs
from rumptools.formats.drivespec import DriveSpec
from tests.unit.kernelkit import boot, call, spawn

S_IFMT, S_IFDIR, S_IFLNK, S_IFREG = 0o170000, 0o040000, 0o120000, 0o100000


def make_image(path, sectors, **params):
    endian = params.pop("endian", "<")
    g = ffs_geometry.compute(ffs_geometry.Params(sectors, endian=endian, **params))
    g.endian = endian
    with open(path, "wb") as f:
        f.truncate(sectors * 512)

        def write(off, data):
            f.seek(off)
            f.write(data)
        ffs_mkfs.build(g, write, 1.7e9, os.urandom)
    return path


class Box:
    """One kernel, one process, one image mounted on /mnt."""

    def __init__(self, image, flags=0):
        self.image = str(image)
        self.k = boot("rumpvfs", "rumpdev", "rumpdev_disk", "rumpfs_ffs")
        with self.k.lock:
            self.k.slot("etfs")(DriveSpec(key="/dk", hostpath=self.image, size="host"))
        self.p = spawn(self.k)
        self.c("mkdir", "/mnt", 0o755)
        self.mounted = False
        self.mount(flags)

    def c(self, method, *args):
        return call(self.k, self.p, method, *args)

    def err(self, method, *args):
        try:
            self.c(method, *args)
        except RumpError as e:
            return e.errno
        raise AssertionError("%s%r did not fail" % (method, args))

    def mount(self, flags=0):
        self.c("mount", "ffs", "/mnt", flags, "/dk")
        self.mounted = True

    def unmount(self):
        self.c("unmount", "/mnt", 0)
        self.mounted = False

    def remount(self):
        self.unmount()
        self.mount()

    def bugs(self):
        return [l for l in self.k.console_lines if "failed" in l]

    def close(self):
        if self.mounted:
            self.unmount()
        self.k.reboot(0)

    # -- data
    def put(self, path, data, offset=None):
        fd = self.c("open", path, O_CREAT | O_RDWR | (O_TRUNC if offset is None else 0), 0o644)
        try:
            if data:
                if offset is None:
                    view = memoryview(data)
                    for i in range(0, len(data), 1 << 20):
                        self.c("write", fd, bytes(view[i:i + (1 << 20)]))
                else:
                    self.c("pwrite", fd, data, offset)
        finally:
            self.c("close", fd)

    def get(self, path):
        fd = self.c("open", path, O_RDONLY, 0)
        try:
            out = bytearray()
            while True:
                chunk = self.c("read", fd, 1 << 20)
                if not chunk:
                    return bytes(out)
                out += chunk
        finally:
            self.c("close", fd)

    def names(self, path):
        fd = self.c("open", path, O_RDONLY | O_DIRECTORY, 0)
        try:
            out = []
            while True:
                ents = self.c("getdents", fd, 8192)
                if not ents:
                    return [e[3] for e in out if e[3] not in (".", "..")]
                out.extend(ents)
        finally:
            self.c("close", fd)

    def tree(self, top="/mnt"):
        """{relative path: ("d",) | ("f", bytes) | ("l", target bytes)}."""
        out = {}
        stack = [""]
        while stack:
            rel = stack.pop()
            for name in self.names(top + ("/" + rel if rel else "")):
                r = rel + "/" + name if rel else name
                full = top + "/" + r
                mode = self.lmode(full)
                if mode & S_IFMT == S_IFDIR:
                    out[r] = ("d",)
                    stack.append(r)
                elif mode & S_IFMT == S_IFLNK:
                    t = self.c("readlink", full, 4096)
                    out[r] = ("l", t if isinstance(t, bytes) else
                              t.encode("utf-8", "surrogateescape"))
                else:
                    out[r] = ("f", self.get(full))
        return out

    def lmode(self, path):
        from rumptools.abi.sctypes import STAT_FIELDS as FIELDS
        st = dict(zip(FIELDS, self.c("lstat", path)))
        return st["mode"]
