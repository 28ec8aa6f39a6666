"""rump.dd at the edges of the protocol: transfers larger than one frame (issue 8
item 14) and a server that dies mid-copy (item 15)."""
import os
import signal
import subprocess
import time

from tests.conftest import alive, cmd


def test_bs_above_the_frame_limit_is_split(servers, tmp_path):
    img = tmp_path / "big.img"
    h = servers("-lrumpvfs", "-d", "key=/dk,hostpath=%s,size=70m" % img)
    r = h.run("rump.dd", "if=/dev/zero", "of=/dk", "bs=65m", "count=1", timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr.decode().splitlines()[:2] == ["1+0 records in", "1+0 records out"]
    assert "68157440 bytes transferred" in r.stderr.decode()
    # and back: a 65 MiB read is one record too
    data = b"".join(bytes([i]) * (1 << 20) for i in range(65))
    w = h.run("rump.dd", "of=/dk", "bs=65m", input=data, timeout=120)
    assert w.returncode == 0, w.stderr
    r = h.run("rump.dd", "if=/dk", "bs=65m", "count=1", timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data
    assert r.stderr.decode().splitlines()[:2] == ["1+0 records in", "1+0 records out"]


def test_server_dying_mid_copy_is_reported_as_a_lost_connection(servers, tmp_path):
    img = tmp_path / "slow.img"
    h = servers("-lrumpvfs", "-d", "key=/dk,hostpath=%s,size=4g" % img)
    p = subprocess.Popen([cmd("rump.dd"), "if=/dev/zero", "of=/dk", "bs=64k"], env=h.env,
                         cwd=h.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)
        for pid in h.pids:
            os.kill(pid, signal.SIGKILL)
        for pid in h.pids:
            deadline = time.monotonic() + 5
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
        _out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    text = err.decode()
    assert p.returncode == 1, text
    assert "rump.dd: connection to the kernel was lost" in text, text
    assert "Bad file descriptor" not in text
