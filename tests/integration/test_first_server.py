"""The tutorial's "Your First Server" session, and rump_server's life cycle."""
import os
import re
import signal
import socket
import stat
import subprocess
import time

from tests.conftest import alive, cmd, pids_serving


def test_tutorial_first_server(servers, tmp_path):
    h = servers(name="rumpserver")
    st = os.stat(h.path)
    assert stat.S_ISSOCK(st.st_mode)
    assert st.st_mode & 0o077 == 0, "group/others must not be able to connect"
    r = h.run("rump.sysctl", "kern.hostname")
    assert r.returncode == 0
    m = re.fullmatch(r"kern\.hostname = rump-(\d{5,})\.(.+)\.rumpdomain\n", r.stdout.decode())
    assert m and int(m.group(1)) in h.pids and m.group(2) == socket.gethostname()
    r = h.run("rump.halt")
    assert r.returncode == 0 and r.stdout == b"" and r.stderr == b""
    r = h.run("rump.sysctl", "kern.hostname")
    assert r.returncode == 1
    assert r.stderr.decode() == "rump.sysctl: prog init failed: No such file or directory\n"
    assert not os.path.exists(h.path)
    for pid in h.pids:
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not alive(pid)


def test_relative_url_and_socket_mode_ignores_umask(servers, tmp_path, rumpenv):
    old = os.umask(0)
    try:
        r = subprocess.run([cmd("rump_server"), "unix://rel"], cwd=str(tmp_path), env=rumpenv,
                           capture_output=True, timeout=30)
    finally:
        os.umask(old)
    path = str(tmp_path / "rel")
    try:
        assert r.returncode == 0, r.stderr
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    finally:
        for pid in pids_serving(path):
            os.kill(pid, signal.SIGTERM)


def test_sigterm_and_sigint_reboot_cleanly(servers):
    for sig in (signal.SIGTERM, signal.SIGINT):
        h = servers(name="s%d" % sig, foreground=True)
        p = h.procs[0]
        p.send_signal(sig)
        out, err = p.communicate(timeout=10)
        assert p.returncode == 0, err
        text = out.decode()
        assert "rump kernel halting...\nsyncing disks... done\n" in text
        assert text.endswith("halted\n")
        assert not os.path.exists(h.path)


def test_foreground_halt_messages(servers):
    h = servers(foreground=True)
    assert h.run("rump.halt").returncode == 0
    out, _ = h.procs[0].communicate(timeout=10)
    assert h.procs[0].returncode == 0
    assert out.decode().splitlines()[-3:] == ["rump kernel halting...", "syncing disks... done", "halted"]


def test_halt_nosync(servers):
    h = servers(foreground=True)
    assert h.run("rump.halt", "-n").returncode == 0
    out, _ = h.procs[0].communicate(timeout=10)
    assert "syncing disks" not in out.decode()


def test_halt_h_stays_alive_without_socket(servers):
    h = servers(foreground=True)
    assert h.run("rump.halt", "-h").returncode == 0
    p = h.procs[0]
    deadline = time.monotonic() + 5
    while os.path.exists(h.path) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not os.path.exists(h.path)
    time.sleep(0.2)
    assert p.poll() is None, "RB_HALT must not exit"
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=10)
    assert "rump kernel halted (with RB_HALT, not exiting)" in out.decode()


def test_halt_d_dumps_and_aborts(servers, tmp_path):
    h = servers(foreground=True)
    assert h.run("rump.sysctl", "kern.hostname").returncode == 0
    assert h.run("rump.halt", "-d").returncode == 0
    p = h.procs[0]
    out, _ = p.communicate(timeout=20)
    assert p.returncode == -signal.SIGABRT
    m = re.search(r"rump kernel dump written to (\S+)", out.decode())
    assert m
    dump = open(m.group(1)).read()
    os.unlink(m.group(1))
    assert "== threads ==" in dump and "sp-accept" in dump and "callout" in dump
    assert "rumplocal" in dump


def test_halt_d_refuses_a_planted_symlink_and_does_not_sync(servers, tmp_path):
    """Issue 8 item 17: the dump is created with O_EXCL|O_NOFOLLOW, mode 0600; as NetBSD's
    cpu_reboot, -d takes the dive without syncing (what the man page says)."""
    img = tmp_path / "disk.img"
    h = servers("-lrumpvfs", "-d", "key=/dk,hostpath=%s,size=1m" % img, foreground=True)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.chmod(victim, 0o644)
    planted = tmp_path / ("rump_server.%d.dump" % h.procs[0].pid)
    os.symlink(victim, planted)
    assert h.run("rump.dd", "if=/dev/zero", "of=/dk", "bs=4k", "count=1", "conv=notrunc").returncode == 0
    w = h.run("rump.dd", "of=/dk", "bs=512", "count=1", "conv=notrunc", input=b"Q" * 512)
    assert w.returncode == 0, w.stderr
    assert h.run("rump.halt", "-d").returncode == 0
    p = h.procs[0]
    out, _ = p.communicate(timeout=20)
    assert p.returncode == -signal.SIGABRT
    assert victim.read_text() == "precious\n" and os.path.islink(planted)
    m = re.search(r"rump kernel dump written to (\S+)", out.decode())
    assert m and m.group(1) != str(planted)
    assert os.stat(m.group(1)).st_mode & 0o777 == 0o600
    os.unlink(m.group(1))
    with open(img, "rb") as f:
        assert f.read(512) != b"Q" * 512, "halt -d synced the cache"


def test_stale_socket_is_reclaimed(servers):
    h = servers(name="stale")
    for pid in h.pids:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(alive(p) for p in h.pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert os.path.exists(h.path), "SIGKILL leaves the socket behind"
    h2 = servers(name="stale")
    assert h2.run("rump.sysctl", "-n", "kern.ostype").stdout == b"NetBSD\n"


def test_live_server_on_same_url_is_an_error(servers):
    h = servers(name="busy")
    h2 = servers(name="busy", expect_ok=False)
    assert h2.result.returncode == 48, h2.result     # EADDRINUSE, NetBSD's number
    err = h2.result.stderr.decode()
    assert "rump_sp: failed to bind to URL unix://%s" % h.path in err
    assert "rump server init failed: Address already in use" in err
    assert h.run("rump.sysctl", "-n", "kern.ostype").returncode == 0


def test_regular_file_is_not_clobbered(servers, tmp_path):
    (tmp_path / "precious").write_text("data")
    h = servers(name="precious", expect_ok=False)
    assert h.result.returncode == 48
    assert (tmp_path / "precious").read_text() == "data"


def test_tcp_url(servers, tmp_path, rumpenv):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    url = "tcp://127.0.0.1:%d/" % port
    r = subprocess.run([cmd("rump_server"), url], env=rumpenv, capture_output=True, timeout=30,
                       cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    # issue 8 item 18: loopback is no protection on a shared machine: every tcp:// warns
    assert b"warning: %s has no authentication: every local user can connect" % url.encode() in r.stderr
    env = dict(rumpenv, RUMP_SERVER=url)
    out = subprocess.run([cmd("rump.sysctl"), "-n", "hw.machine"], env=env, capture_output=True, timeout=30)
    assert out.stdout == b"amd64\n"
    assert subprocess.run([cmd("rump.halt")], env=env, timeout=30).returncode == 0


def test_tcp_wildcard_warns(servers, tmp_path, rumpenv):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = subprocess.Popen([cmd("rump_server"), "-s", "tcp://0.0.0.0:%d/" % port], env=rumpenv, cwd=str(tmp_path),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        env = dict(rumpenv, RUMP_SERVER="tcp://127.0.0.1:%d/" % port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if subprocess.run([cmd("rump.sysctl"), "-n", "kern.ostype"], env=env,
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
    finally:
        p.send_signal(signal.SIGTERM)
        _out, err = p.communicate(timeout=10)
    assert b"reachable from the network" in err and b"root" in err
