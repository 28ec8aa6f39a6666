"""virt(4) against Linux's own stack: a tap in a network namespace made by the test.

The rump server runs inside a fresh namespace (unshare -n) holding only lo
and tap0 (10.9.0.1/24, no route out); the test reaches the server through
its unix socket and the namespace's host side through nsenter. Skipped,
with the reason printed, where a namespace or tap cannot be made."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

from rumptools.abi import net as N
from rumptools.sp import client as spclient
from rumptools.sp import url
from tests.integration.netns import why_no_tap

from tests.conftest import BIN, alive, wait_for_socket

HOST_ECHO = textwrap.dedent("""
    import socket, struct, sys, time
    what = sys.argv[1]
    if what == "ping":
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.settimeout(3)
        body = struct.pack("!BBHHH", 8, 0, 0, 77, 1) + b"hostping"
        c = sum(struct.unpack("!%dH" % (len(body) // 2), body)); c = (c >> 16) + (c & 0xffff); c += c >> 16
        body = body[:2] + struct.pack("!H", ~c & 0xffff) + body[4:]
        s.sendto(body, ("10.9.0.2", 0))
        end = time.time() + 5
        while time.time() < end:
            data, addr = s.recvfrom(2000)
            hl = (data[0] & 15) * 4
            if addr[0] == "10.9.0.2" and data[hl] == 0 and data[hl + 4:hl + 6] == b"\\x00M":
                print("reply ttl=%d" % data[8]); sys.exit(0)
        sys.exit(1)
    if what == "udpecho":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("10.9.0.1", 7000)); s.settimeout(10)
        print("ready", flush=True)
        d, a = s.recvfrom(2000); s.sendto(d.upper(), a)
    if what == "fuzz":
        from tests.integration.netfuzz import frames
        mac = bytes.fromhex(sys.argv[2].replace(":", ""))
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind(("tap0", 0))
        sent = 0
        for f in frames(mac, int(sys.argv[3]), seed=3):
            if len(f) >= 14:
                try:
                    s.send(f); sent += 1
                except OSError:
                    pass
        print(sent)
    if what == "udpsend":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"from linux", ("10.9.0.2", 7001))
""")

SETUP = ("ip link set lo up && ip tuntap add dev tap0 mode tap && ip addr add 10.9.0.1/24 dev tap0 && "
         "ip link set tap0 up && exec \"$0\" \"$@\"")


@pytest.fixture
def netns_server(tmp_path):
    why = why_no_tap()
    if why:
        print("skipping virt/tap test: " + why)
        pytest.skip(why)
    path = str(tmp_path / "sock")
    argv = ["unshare", "-n", "sh", "-c", SETUP, os.path.join(BIN, "rump_server"), "-s", "-lrumpnet",
            "-lrumpnet_net", "-lrumpnet_netinet", "-lrumpnet_virtif", "unix://" + path]
    p = subprocess.Popen(argv, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for_socket(path), p.stderr.read1(4096) if p.poll() is not None else "no socket"
        yield p, path
    finally:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        assert not alive(p.pid)


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def in_ns(p, what, *args, **kw):
    return subprocess.Popen(["nsenter", "-t", str(p.pid), "-n", sys.executable, "-c", HOST_ECHO, what] +
                            list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                            env=dict(os.environ, PYTHONPATH=REPO), **kw)


def test_virt_with_linux_through_a_tap(netns_server):
    p, path = netns_server
    env = dict(os.environ, RUMP_SERVER="unix://" + path, PATH=BIN + os.pathsep + os.environ["PATH"])
    run = lambda *a: subprocess.run(list(a), env=env, capture_output=True, timeout=60)
    r = run("rump.ifconfig", "virt1", "create")              # no tap1 in the namespace
    assert r.returncode == 1 and r.stderr.decode() == ("rump.ifconfig: clone_command: Device not configured\n"
                                                        "rump.ifconfig: exec_matches: Device not configured\n")
    assert run("rump.ifconfig", "virt0", "create").returncode == 0
    r = run("rump.ifconfig", "virt0", "inet", "10.9.0.2", "netmask", "255.255.255.0")
    assert r.returncode == 0, r.stderr
    assert "\tlinkstr: tap0" in run("rump.ifconfig", "virt0").stdout.decode()
    r = run("rump.ping", "-c", "2", "10.9.0.1")                   # the rump kernel pings Linux
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    assert "2 packets received" in r.stdout.decode() and "ttl=64" in r.stdout.decode()
    h = in_ns(p, "ping")                                           # Linux pings the rump kernel
    out, err = h.communicate(timeout=20)
    assert h.returncode == 0 and out.decode().strip() == "reply ttl=255", err.decode()
    c = spclient.Client(url.parse("unix://" + path)).connect()
    try:
        echo = in_ns(p, "udpecho")
        assert echo.stdout.readline() == b"ready\n"
        s = c.socket(N.AF_INET, N.SOCK_DGRAM, 0)
        c.setsockopt(s, N.SOL_SOCKET, N.SO_RCVTIMEO, 5000000)
        c.sendto(s, b"to linux", 0, (N.AF_INET, "10.9.0.1", 7000))
        assert c.recvfrom(s, 100, 0) == (b"TO LINUX", (N.AF_INET, "10.9.0.1", 7000))
        echo.wait(10)
        r2 = c.socket(N.AF_INET, N.SOCK_DGRAM, 0)
        c.bind(r2, (N.AF_INET, "0.0.0.0", 7001))
        c.setsockopt(r2, N.SOL_SOCKET, N.SO_RCVTIMEO, 5000000)
        send = in_ns(p, "udpsend")
        send.wait(10)
        data, frm = c.recvfrom(r2, 100, 0)
        assert data == b"from linux" and frm[1] == "10.9.0.1"
        # malformed frames into the tap (the 100,000-frame run is bench/bench_net.py --fuzz, on a bus)
        mac = run("rump.ifconfig", "virt0").stdout.decode().splitlines()[1].split()[1]
        f = in_ns(p, "fuzz", mac, "2000")
        out, err = f.communicate(timeout=120)
        assert f.returncode == 0 and int(out) > 1500, err.decode()
        r = run("rump.ping", "-c", "2", "10.9.0.1")
        assert r.returncode == 0 and "2 packets received" in r.stdout.decode()
        counted = run("rump.ifconfig", "-v", "virt0").stdout.decode()
        assert int(re.search(r"input: (\d+) packets", counted).group(1)) > 1500, counted
    finally:
        c.disconnect()
