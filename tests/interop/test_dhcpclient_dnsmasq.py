"""rump.dhcpclient against Debian's dnsmasq, through a tap in a network namespace
the test makes (lo and tap0 at 192.168.2.1/24 only: no route out, nothing
bridged). The rump server is started with the tutorial's line as written, in
that namespace; dnsmasq serves tap0 from the namespace's side, in the
foreground, and is stopped by its pid.

dnsmasq is authoritative here: rump.dhcpclient's REQUEST names no server (as
NetBSD's), which RFC 2131 lets a non-authoritative server leave unanswered.
Skipped, with the reason printed, where dnsmasq is missing or a namespace or
tap cannot be made."""
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from tests.conftest import BIN, alive, pids_serving, stop_pids, wait_for_socket
from tests.integration.netns import why_no_tap

TUTORIAL = ["rump_server", "-lrumpnet", "-lrumpnet_net", "-lrumpnet_netinet", "-lrumpvfs", "-lrumpdev",
            "-lrumpdev_bpf", "-lrumpnet_virtif"]
SETUP = ("ip link set lo up && ip tuntap add dev tap0 mode tap && ip addr add 192.168.2.1/24 dev tap0 && "
         "ip link set tap0 up && echo ready && exec sleep 600")


def dnsmasq_path():
    return shutil.which("dnsmasq") or next((p for p in ("/usr/sbin/dnsmasq", "/sbin/dnsmasq")
                                            if os.access(p, os.X_OK)), None)


def skip(why):
    print("skipping dnsmasq test: " + why)
    pytest.skip(why)


@pytest.fixture
def tapnet(tmp_path):
    """(namespace holder, env): a namespace with tap0 and, in it, the tutorial's server."""
    if dnsmasq_path() is None:
        skip("dnsmasq is not installed (apt-get install dnsmasq-base)")
    why = why_no_tap()
    if why:
        skip(why)
    holder = subprocess.Popen(["unshare", "-n", "sh", "-c", SETUP], cwd=str(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    path = str(tmp_path / "netsrv")
    env = dict(os.environ, RUMP_SERVER="unix://" + path, PATH=BIN + os.pathsep + os.environ["PATH"])
    env.pop("RUMPHIJACK_RETRYCONNECT", None)
    try:
        assert holder.stdout.readline() == b"ready\n", holder.stderr.read1(4096)
        # the tutorial's line as written: it detaches, exit status 0 once the socket accepts
        r = subprocess.run(["nsenter", "-t", str(holder.pid), "-n"] + [os.path.join(BIN, TUTORIAL[0])] +
                           TUTORIAL[1:] + ["unix://" + path], cwd=str(tmp_path), env=env,
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert wait_for_socket(path)
        yield holder, env
    finally:
        subprocess.run([os.path.join(BIN, "rump.halt")], env=env, capture_output=True, timeout=30)
        stop_pids(pids_serving(path))
        assert pids_serving(path) == []
        holder.terminate()
        holder.wait(10)
        assert not alive(holder.pid)


def run(env, *argv, timeout=60):
    return subprocess.run(list(argv), env=env, capture_output=True, timeout=timeout)


class Dnsmasq:
    """dnsmasq in the namespace, in the foreground, logging to stderr."""

    def __init__(self, holder, tmp_path):
        self.leases = str(tmp_path / "dnsmasq.leases")
        argv = ["nsenter", "-t", str(holder.pid), "-n", dnsmasq_path(), "--keep-in-foreground",
                "--log-facility=-", "--port=0", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                "--interface=tap0", "--bind-interfaces", "--dhcp-authoritative", "--no-ping",
                "--dhcp-range=192.168.2.125,192.168.2.125,255.255.255.0,172800",
                "--dhcp-option=option:router,192.168.2.1", "--dhcp-leasefile=" + self.leases,
                "--pid-file=" + str(tmp_path / "dnsmasq.pid")]
        self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stderr:
            self.lines.append(line.decode(errors="replace"))

    def wait_for(self, text, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.p.poll() is None:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.05)
        return any(text in line for line in self.lines)

    def stop(self):
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)             # nsenter exec'd dnsmasq: this is its pid
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.reader.join(5)
        assert not alive(self.p.pid)


def test_dhcpclient_gets_its_lease_from_dnsmasq(tapnet, tmp_path):
    holder, env = tapnet
    r = run(env, "rump.ifconfig", "virt0", "create")
    assert r.returncode == 0, r.stderr
    d = Dnsmasq(holder, tmp_path)
    try:
        assert d.wait_for("DHCP, sockets bound exclusively to interface tap0"), "".join(d.lines)
        r = run(env, "rump.dhcpclient", "virt0")
        assert (r.returncode, r.stdout) == (0, b""), r.stderr.decode() + "".join(d.lines)
        assert r.stderr.decode() == ("virt0: adding IP address 192.168.2.125/24\n"
                                     "virt0: adding route to 192.168.2.0/24\n"
                                     "virt0: adding default route via 192.168.2.1\n"
                                     "lease time: 172800 seconds (2.00 days)\n")
        ifc = run(env, "rump.ifconfig", "virt0").stdout.decode()
        mac = ifc.splitlines()[1].split()[1]
        assert "\tinet 192.168.2.125 netmask 0xffffff00 broadcast 192.168.2.255" in ifc
        assert d.wait_for("DHCPACK(tap0) 192.168.2.125 %s" % mac), "".join(d.lines)
        with open(d.leases) as f:
            lease = f.read().split()
        assert lease[1:3] == [mac, "192.168.2.125"] and lease[3].startswith("rump-")
        routes = run(env, "rump.netstat", "-rn").stdout.decode().splitlines()
        assert "default            192.168.2.1        UGS         -        -      -  virt0" in routes
        assert "192.168.2/24       link#2             UC          -        -      -  virt0" in routes
        show = run(env, "rump.route", "show").stdout.decode().splitlines()
        assert "default            192.168.2.1        UG          -        -      -  virt0" in show
        r = run(env, "rump.ifconfig", "-w", "20")           # duplicate address detection first
        assert r.returncode == 0, r.stderr
        r = run(env, "rump.ping", "-c", "2", "192.168.2.1")
        assert r.returncode == 0 and "2 packets received" in r.stdout.decode(), r.stdout + r.stderr
    finally:
        d.stop()


def test_no_dhcp_server_on_the_tap(tapnet):
    _holder, env = tapnet
    assert run(env, "rump.ifconfig", "virt0", "create").returncode == 0
    t0 = time.monotonic()
    r = run(env, "rump.dhcpclient", "virt0")
    took = time.monotonic() - t0
    assert (r.returncode, r.stdout, r.stderr.decode()) == (1, b"", "rump.dhcpclient: timed out waiting for response\n")
    assert 5.0 <= took < 30.0, took
    assert "\tinet " not in run(env, "rump.ifconfig", "virt0").stdout.decode()
