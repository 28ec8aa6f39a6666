"""O_SYNC and O_DSYNC: a write acknowledged on such a descriptor is on the host
when the call returns (issue 8, item 9), for block devices, cgd and files."""
import os
import random
import signal
import subprocess

import pytest

from rumptools.abi.syscalls import O_DSYNC, O_RDWR, O_SYNC, O_WRONLY, F_GETFL, F_SETFL
from rumptools.sp import client as spclient, url as spurl
from tests.conftest import cmd


def connect(h):
    return spclient.Client(spurl.parse(h.url), "osync").connect()


@pytest.mark.parametrize("oflag", ["sync", "dsync"])
def test_dd_oflag_sync_then_sigkill(servers, tmp_path, oflag):
    h = servers("-lrumpvfs", "-d", "key=/dk,hostpath=disk.img,size=16m", name="s" + oflag)
    data = random.Random(9).randbytes(4 << 20)
    (tmp_path / "in.bin").write_bytes(data)
    with open(tmp_path / "in.bin", "rb") as src:
        r = subprocess.run([cmd("rump.dd"), "of=/dk", "bs=64k", "oflag=" + oflag],
                           stdin=src, capture_output=True, env=h.env, cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    for pid in h.pids:                       # right after: no sync, no halt
        os.kill(pid, signal.SIGKILL)
    with open(tmp_path / "disk.img", "rb") as f:
        assert f.read(len(data)) == data


def test_without_osync_the_cache_holds_the_data(servers, tmp_path):
    """The control: the same write without the flag stays in the buffer cache."""
    h = servers("-lrumpvfs", "-d", "key=/dk,hostpath=disk.img,size=4m", name="ctl")
    c = connect(h)
    fd = c.open("/dk", O_RDWR, 0)
    c.pwrite(fd, b"cached" * 100, 8192)
    assert (tmp_path / "disk.img").read_bytes()[8192:8198] == bytes(6)
    c.fcntl(fd, F_SETFL, O_SYNC)                         # F_SETFL may turn it on (NetBSD's FCNTLFLAGS)
    assert c.fcntl(fd, F_GETFL, None) & O_SYNC
    c.pwrite(fd, b"synced", 0)
    img = (tmp_path / "disk.img").read_bytes()
    assert img[0:6] == b"synced"
    c.disconnect()


def test_osync_on_cgd_and_on_a_host_file(servers, tmp_path):
    h = servers("-lrumpvfs", "-lrumpdev", "-lrumpdev_disk", "-lrumpkern_crypto", "-lrumpdev_cgd",
                "-d", "key=/dk,hostpath=disk.img,size=4m",
                "-d", "key=/reg,hostpath=reg.bin,type=reg", name="cgd")
    (tmp_path / "reg.bin").write_bytes(b"")
    c = connect(h)
    try:
        fd = c.open("/reg", O_WRONLY | O_DSYNC, 0)
        assert c.write(fd, b"host file") == 9
        assert (tmp_path / "reg.bin").read_bytes() == b"host file"
        ctl = c.open("/dev/rcgd0d", O_RDWR, 0)
        c.ioctl(ctl, 0xC0404612, ("/dk", "aes-cbc", "encblkno1", 128, bytes(16), -1))
        cfd = c.open("/dev/cgd0d", O_RDWR | O_SYNC, 0)
        before = (tmp_path / "disk.img").read_bytes()[:4096]
        assert c.pwrite(cfd, b"\x01" * 4096, 0) == 4096
        assert (tmp_path / "disk.img").read_bytes()[:4096] != before   # ciphertext reached the host
    finally:
        c.disconnect()
