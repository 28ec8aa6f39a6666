"""Host-file disks (-d), the tutorial's cgd preparation, and data safety."""
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from rumptools.formats import disklabel as dl
from rumptools.formats.disklabel_text import parse_label
from tests.conftest import alive, cmd
from tests.tutorial_labels import TUTORIAL_EDITED, TUTORIAL_SHOW

def make_usb_image(path, with_e=True):
    """The tutorial's usb.img: a 512 MiB sparse image with its label (and partition e, edited in)."""
    label = parse_label(TUTORIAL_EDITED if with_e else TUTORIAL_SHOW)
    with open(path, "wb") as f:
        f.truncate(1048576 * 512)
        f.seek(512)
        f.write(dl.pack(label))


def test_tutorial_cgd_preparation(servers, tmp_path):
    usb = tmp_path / "usb.img"
    make_usb_image(usb)
    h = servers("-lrumpvfs", "-lrumpdev", "-lrumpdev_disk",
                "-d", "key=/dk,hostpath=usb.img,disklabel=e", name="cgdserv")
    # the image grew to hold partition e
    assert os.path.getsize(usb) == (1048576 + 25024) * 512
    r = h.run("bash", "-c", "rump.dd if=/dk bs=64k > emptypart")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.decode().splitlines()
    assert lines[:2] == ["195+1 records in", "195+1 records out"]
    assert lines[2].startswith("12812288 bytes transferred in ")
    data = (tmp_path / "emptypart").read_bytes()
    assert len(data) == 12812288 and data.count(0) == len(data)
    r = h.run("bash", "-c", "hexdump -x emptypart")
    assert r.stdout.decode().splitlines()[-1] == "0c38000"
    assert h.run("rump.halt").returncode == 0


def test_rump_disklabel_reads_a_rump_disk(servers, tmp_path):
    make_usb_image(tmp_path / "usb.img")
    h = servers("-lrumpvfs", "-d", "key=/rdisk,hostpath=usb.img,size=host,type=chr", name="dl")
    r = h.run("rump.disklabel", "/rdisk")
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert text.startswith("# /rdisk:\n") and "total sectors: 1073600" in text
    assert " e:     25024   1048576    unknown" in text


def random_bytes(n, seed):
    import random
    return random.Random(seed).randbytes(n)


def region_sha(path, offset, n):
    with open(path, "rb") as f:
        f.seek(offset)
        return hashlib.sha256(f.read(n)).hexdigest()


@pytest.mark.parametrize("how", ["halt", "sigterm", "sigint"])
def test_nothing_written_is_lost(servers, tmp_path, how):
    data = random_bytes(3 * 1024 * 1024 + 4096, 7)
    (tmp_path / "data").write_bytes(data)
    h = servers("-lrumpvfs", "-d", "key=/dk,hostpath=disk.img,size=8m,offset=1m",
                name="safe", foreground=(how != "halt"))
    r = h.run("bash", "-c", "rump.dd of=/dk bs=64k seek=3 conv=notrunc < data")
    assert r.returncode == 0, r.stderr
    if how == "halt":
        assert h.run("rump.halt").returncode == 0
        for pid in h.pids:
            deadline = time.monotonic() + 10
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
    else:
        p = h.procs[0]
        p.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGINT)
        p.communicate(timeout=20)
        assert p.returncode == 0
    img = tmp_path / "disk.img"
    assert os.path.getsize(img) == 9 * 1024 * 1024
    assert region_sha(img, 1024 * 1024 + 3 * 65536, len(data)) == hashlib.sha256(data).hexdigest()
    assert region_sha(img, 1024 * 1024, 3 * 65536) == hashlib.sha256(bytes(3 * 65536)).hexdigest()


FSYNC_WRITER = textwrap.dedent("""
    import random, sys
    from rumptools.sp import client
    c = client.init("writer")
    fd = c.open("/dk", 2, 0)
    data = random.Random(11).randbytes(1 << 20)
    assert c.pwrite(fd, data, 4096 + 17) == len(data)
    c.fsync(fd)
    print("synced", flush=True)
    c.pwrite(fd, b"unsynced" * 1000, 3 << 20)
    print("more", flush=True)
""")


def test_fsync_survives_sigkill(servers, tmp_path):
    h = servers("-lrumpvfs", "-d", "key=/dk,hostpath=disk.img,size=4m", name="kill")
    r = subprocess.run([sys.executable, "-c", FSYNC_WRITER], env=h.env, capture_output=True, timeout=60)
    assert r.stdout.decode().split() == ["synced", "more"], r.stderr
    for pid in h.pids:
        os.kill(pid, signal.SIGKILL)
    import random
    data = random.Random(11).randbytes(1 << 20)
    assert region_sha(tmp_path / "disk.img", 4096 + 17, len(data)) == hashlib.sha256(data).hexdigest()


def test_disk_edges(servers, tmp_path):
    h = servers("-lrumpvfs", "-d", "key=/blk,hostpath=b.img,size=1m",
                "-d", "key=/raw,hostpath=r.img,size=1m,type=chr",
                "-d", "key=/reg,hostpath=f.img,type=reg", name="edges")
    (tmp_path / "f.img").write_bytes(b"hello host file")
    code = textwrap.dedent("""
        from rumptools.sp import client
        from rumptools.abi import errnos
        c = client.init("edges")
        out = []
        b = c.open("/blk", 2, 0)
        out.append(len(c.pread(b, 4096, (1 << 20) - 100)))          # short count at the end
        out.append(len(c.pread(b, 10, 1 << 20)))                    # at the end: nothing
        try:
            c.pwrite(b, b"x", 1 << 20)
        except OSError as e:
            out.append(e.errno == errnos.EINVAL)
        r = c.open("/raw", 2, 0)
        for args in ((100, 0), (512, 3)):
            try:
                c.pread(r, *args)
            except OSError as e:
                out.append(e.errno == errnos.EINVAL)
        out.append(c.pwrite(r, b"s" * 512, 512))
        out.append(c.fstat(r).st_mode & 0o170000 == 0o020000)
        out.append(c.stat("/blk").st_mode & 0o170000 == 0o060000 and c.stat("/blk").st_size == 1 << 20)
        f = c.open("/reg", 2, 0)
        out.append(c.read(f, 100))
        c.pwrite(f, b"HELLO", 0)
        out.append("blk" not in str(c.getdents(c.open("/", 0, 0), 4096)))
        try:
            c.open("/" + "x" * 1100, 0, 0)
        except OSError as e:
            out.append(e.errno == errnos.ENAMETOOLONG)
        print(out)
    """)
    r = subprocess.run([sys.executable, "-c", code], env=h.env, capture_output=True, timeout=60)
    assert r.stdout.decode().strip() == \
        "[100, 0, True, True, True, 512, True, True, b'hello host file', True, True]", r.stderr
    assert h.run("rump.halt").returncode == 0
    assert (tmp_path / "f.img").read_bytes() == b"HELLO host file"
    assert (tmp_path / "r.img").read_bytes()[512:1024] == b"s" * 512


@pytest.mark.parametrize("spec,setup,status,message", [
    ("key=/dk,hostpath=plain.img,disklabel=e", "plain", 2, "disklabel not found: No such file or directory"),
    ("key=/dk,hostpath=usb.img,disklabel=q", "usb", 2, "partition not available: No such file or directory"),
    ("key=/dk,hostpath=usb.img,disklabel=p", "usb", 22, "etfs register: Invalid argument"),
    ("key=/dk,hostpath=empty.img,size=host", "empty", 22,
     "size=host, but cannot query non-zero size: Invalid argument"),
    ("key=/dk,hostpath=missing.img,size=host", None, 2, "etfs hostpath open: No such file or directory"),
    ("key=/dk,hostpath=nodir/x.img,size=1m", None, 2, "etfs hostpath open: No such file or directory"),
])
def test_drive_errors(tmp_path, rumpenv, spec, setup, status, message):
    if setup == "plain":
        (tmp_path / "plain.img").write_bytes(bytes(1 << 20))
    elif setup == "usb":
        make_usb_image(tmp_path / "usb.img", with_e=False)
    elif setup == "empty":
        (tmp_path / "empty.img").write_bytes(b"")
    r = subprocess.run([cmd("rump_server"), "-lrumpvfs", "-d", spec, "unix://" + str(tmp_path / "s")],
                       cwd=str(tmp_path), env=rumpenv, capture_output=True, timeout=30)
    assert r.returncode == status, r.stderr
    assert message in r.stderr.decode()
    assert not (tmp_path / "s").exists()


def test_d_needs_vfs(tmp_path, rumpenv):
    r = subprocess.run([cmd("rump_server"), "-d", "key=/dk,hostpath=x.img,size=1m",
                        "unix://" + str(tmp_path / "s")],
                       cwd=str(tmp_path), env=rumpenv, capture_output=True, timeout=30)
    assert r.returncode == 78 and b"-lrumpvfs" in r.stderr


def test_fstypes_and_dev(servers):
    h = servers("-lrumpvfs")
    assert h.run("rump.sysctl", "vfs.generic.fstypes").stdout == b"vfs.generic.fstypes = rumpfs\n"
    r = h.run("bash", "-c", "rump.dd if=/dev/zero bs=1k count=3 | od -An -c | head -1")
    assert r.stdout.split()[:2] == [b"\\0", b"\\0"]
