"""Shared by the FFS tests: run our FFS commands, make trees and makefs images,
read images with The Sleuth Kit.  Debian tools missing -> skip with a reason."""
import hashlib
import os
import shutil
import subprocess
import sys

import pytest

BIN = os.path.dirname(sys.executable)


def tool(name, package):
    path = shutil.which(name)
    if path is None:
        reason = "%s is not installed (apt-get install %s)" % (name, package)
        print(reason)
        pytest.skip(reason)
    return path


def run(name, *args, check=None, **kw):
    """Run one of our commands (rump.newfs, ...) as a subprocess."""
    r = subprocess.run([os.path.join(BIN, name), *map(str, args)], capture_output=True,
                       text=True, timeout=120, **kw)
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def newfs(path, *args):
    return run("rump.newfs", "-F", *args, path, check=0)


def fsck_clean(path, *extra):
    """fsck -fn says nothing is wrong."""
    r = run("rump.fsck_ffs", "-f", "-n", *extra, path)
    assert r.returncode == 0 and "?" not in r.stdout, r.stdout
    return r.stdout


def make_tree(root):
    """A tree with large, sparse, deep, many-entry directories, long symlinks,
    hard links; returns {relative path: ("f", bytes) | ("l", target) | ("d",)}."""
    want = {}

    def f(rel, data):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as fh:
            fh.write(data)
        want[rel] = ("f", data)

    f("small", b"hello\n")
    f("empty", b"")
    f("large", bytes((i * 7 + i // 4096) % 251 for i in range(700_000)))
    sparse = os.path.join(root, "sparse")
    with open(sparse, "wb") as fh:
        fh.write(b"head")
        fh.seek(3 * 1024 * 1024)
        fh.write(b"tail")
    with open(sparse, "rb") as fh:
        want["sparse"] = ("f", fh.read())
    deep = "/".join("d%d" % i for i in range(24))
    f(deep + "/leaf", b"deep file\n")
    for i in range(300):
        f("many/entry-with-a-longish-name-%03d" % i, b"%d\n" % i)
    for n in (1, 59, 60, 119, 120, 200, 1000):
        target = ("t" * n)
        os.symlink(target, os.path.join(root, "link%d" % n))
        want["link%d" % n] = ("l", target.encode())
    os.link(os.path.join(root, "small"), os.path.join(root, "hardlink"))
    want["hardlink"] = want["small"]
    for dirpath, dirnames, _ in os.walk(root):
        for d in dirnames:
            want[os.path.relpath(os.path.join(dirpath, d), root)] = ("d",)
    return want


def makefs(image, tree, version, *opts, endian=None, size=None):
    exe = tool("makefs", "makefs")
    o = "version=%d" % version + "".join("," + x for x in opts)
    args = [exe, "-t", "ffs", "-o", o]
    if endian:
        args += ["-B", endian]
    if size:
        args += ["-s", str(size)]
    r = subprocess.run(args + [str(image), str(tree)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return image


def image_tree(img):
    """{relative path: entry} as our reader sees the image."""
    from rumptools.formats import ffs_dinode as di
    from rumptools.formats.ffs_reader import open_path
    im = open_path(str(img))
    got = {}
    for path, ino, d in im.walk():
        if path == b"/":
            continue
        rel = path.decode()[1:]
        t = di.ftype(d)
        if t == di.IFDIR:
            got[rel] = ("d",)
        elif t == di.IFLNK:
            got[rel] = ("l", im.readlink(d))
        else:
            got[rel] = ("f", im.read_file(d))
    return got


def tsk_files(img):
    """{path: inode} of regular files and links by fls -r -p."""
    fls = tool("fls", "sleuthkit")
    r = subprocess.run([fls, "-r", "-p", str(img)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        kind, rest = line.split(" ", 1)
        ino, name = rest.split(":\t", 1)
        if name.startswith("$OrphanFiles"):
            continue
        out[name] = (kind, int(ino.strip().rstrip("*").strip()))
    return out


def tsk_cat(img, ino):
    icat = tool("icat", "sleuthkit")
    r = subprocess.run([icat, str(img), str(ino)], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def tsk_link(img, ino):
    """The target istat reports for a symbolic link (icat reads no fast links)."""
    istat = tool("istat", "sleuthkit")
    r = subprocess.run([istat, str(img), str(ino)], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for line in r.stdout.split(b"\n"):
        if line.startswith(b"symbolic link to: "):
            return line[len(b"symbolic link to: "):]
    raise AssertionError("istat shows no link target for inode %d" % ino)


def sha(data):
    return hashlib.sha256(data).hexdigest()
