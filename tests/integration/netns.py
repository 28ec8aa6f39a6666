"""A rump server in a network namespace made by the test, with Linux's stack as its peer on a tap.

    why = why_no_tap()                 # None, or why a namespace with a tap cannot be made here
    with NetnsServer(workdir, impair=None) as ns:
        ns.run("rump.ifconfig", ...)    # the rump tools against the server (RUMP_SERVER set)
        ns.popen([...])                 # a host program inside the namespace (nsenter -n)
        ns.tc("qdisc", "add", ...)      # tc inside the namespace

The namespace (unshare -n, started with the server and gone with it) holds lo
and the taps only: no route out, nothing bridged. Plain: the rump kernel's
virt0 (10.9.0.2) is on tap0, Linux has 10.9.0.1/24 on tap0. With impair=
"loss=0.01,reorder=0.02,seed=7": the rump kernel is on tap0, Linux's address
is on tap1, and a relay in the namespace (this module run as a script) copies
frames between tap0 (a packet socket) and tap1 (its descriptor), dropping and
swapping frames by a seeded random generator -- loss and reordering on the
host side where `tc netem` is not available (why_no_netem() says whether it is).
"""
import os
import random
import select
import shutil
import subprocess
import sys
import time

from tests.conftest import wait_for_socket

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
RUMP_IP, HOST_IP = "10.9.0.2", "10.9.0.1"
SERVER_LIBS = ["-lrumpnet", "-lrumpnet_net", "-lrumpnet_netinet", "-lrumpnet_virtif"]


def why_no_tap():
    if not shutil.which("unshare") or not shutil.which("ip") or not shutil.which("nsenter"):
        return "unshare, ip or nsenter missing"
    r = subprocess.run(["unshare", "-n", "sh", "-c", "ip tuntap add dev tap0 mode tap"], capture_output=True)
    if r.returncode:
        return "cannot make a tap in a new network namespace: %s" % r.stderr.decode().strip()
    return None


def why_no_netem():
    why = why_no_tap()
    if why:
        return why
    if not shutil.which("tc"):
        return "tc (iproute2) missing"
    r = subprocess.run(["unshare", "-n", "sh", "-c", "ip tuntap add dev tap0 mode tap && "
                        "tc qdisc add dev tap0 root netem loss 1% delay 1ms 1ms"], capture_output=True)
    if r.returncode:
        return "tc netem unavailable (the host kernel has no sch_netem): %s" % r.stderr.decode().strip()
    return None


class NetnsServer:
    def __init__(self, workdir, impair=None, libs=SERVER_LIBS, mtu=1500):
        self.workdir = str(workdir)
        self.path = os.path.join(self.workdir, "nssock")
        self.url = "unix://" + self.path
        self.impair = impair
        self.libs = libs
        self.mtu = mtu
        self.proc = None
        self.relay = None
        self.env = dict(os.environ, RUMP_SERVER=self.url, PATH=BIN + os.pathsep + os.environ["PATH"],
                        PYTHONPATH=REPO)

    def __enter__(self):
        host_if = "tap1" if self.impair else "tap0"
        setup = ["ip link set lo up", "ip tuntap add dev tap0 mode tap", "ip link set tap0 mtu %d up" % self.mtu]
        if self.impair:
            # Linux must not answer on tap0 itself (it would, for any local address): only through the relay
            setup += ["echo 8 > /proc/sys/net/ipv4/conf/tap0/arp_ignore",
                      "echo 1 > /proc/sys/net/ipv6/conf/tap0/disable_ipv6", "ip tuntap add dev tap1 mode tap"]
        setup += ["ip addr add %s/24 dev %s" % (HOST_IP, host_if), "ip link set %s mtu %d up" % (host_if, self.mtu),
                  'exec "$0" "$@"']
        argv = ["unshare", "-n", "sh", "-c", " && ".join(setup), os.path.join(BIN, "rump_server"), "-s"] + \
            self.libs + [self.url]
        self.proc = subprocess.Popen(argv, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            if not wait_for_socket(self.path):
                err = self.proc.stderr.read1(4096) if self.proc.poll() is not None else b"no socket"
                raise RuntimeError("rump_server in a namespace did not start: %r" % err)
            self.run_ok("rump.ifconfig", "virt0", "create")
            self.run_ok("rump.ifconfig", "virt0", "inet", RUMP_IP, "netmask", "255.255.255.0")
            if self.impair:
                self.relay = self.popen([sys.executable, os.path.abspath(__file__), "relay", self.impair],
                                        stdout=subprocess.PIPE)
                line = self.relay.stdout.readline()
                if line != b"relaying\n":
                    raise RuntimeError("impairment relay did not start: %r" % (line + self.relay.stderr.read()))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for p in (self.relay, self.proc):
            if p is None or p.poll() is not None:
                continue
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for p in (self.relay, self.proc):
            if p is not None:
                for f in (p.stdout, p.stderr):
                    if f is not None:
                        f.close()

    def run(self, *argv, timeout=60):
        return subprocess.run(list(argv), env=self.env, capture_output=True, timeout=timeout)

    def run_ok(self, *argv):
        r = self.run(*argv)
        if r.returncode:
            raise RuntimeError("%s: %s" % (" ".join(argv), r.stderr.decode()))
        return r.stdout.decode()

    def popen(self, argv, **kw):
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("env", self.env)
        return subprocess.Popen(["nsenter", "-t", str(self.proc.pid), "-n"] + list(argv), cwd=REPO, **kw)

    def tc(self, *args):
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-n", "tc"] + list(args), capture_output=True)


# -- the impairment relay (runs inside the namespace) ----------------------------------------

TUNSETIFF = 0x400454ca
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def _open_tap(name):
    import fcntl
    import struct
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def relay(spec, limit_seconds=3600):
    """Copy frames tap0 <-> tap1, dropping a `loss` fraction and holding back a `reorder`
    fraction until the next frame in the same direction has gone (a swap)."""
    import socket
    kv = dict(item.split("=") for item in spec.split(","))
    loss, reorder = float(kv.get("loss", 0)), float(kv.get("reorder", 0))
    rng = random.Random(int(kv.get("seed", 1)))
    ps = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    ps.bind(("tap0", 0))
    ps.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    tfd = _open_tap("tap1")
    os.set_blocking(tfd, False)                            # a dropped frame must not leave us in a read
    held = {0: None, 1: None}
    out = {0: lambda f: os.write(tfd, f), 1: ps.send}    # 0: rump -> linux, 1: linux -> rump
    print("relaying", flush=True)
    end = time.monotonic() + limit_seconds
    while time.monotonic() < end:
        holding = held[0] is not None or held[1] is not None
        r, _, _ = select.select([ps, tfd], [], [], 0.002 if holding else 0.2)
        if not r:                                          # quiet for 2 ms: let held frames go
            for d in (0, 1):
                if held[d] is not None:
                    _emit(out[d], held[d])
                    held[d] = None
            continue
        for src in r:
            d = 0 if src is ps else 1
            for _ in range(64):
                try:
                    if d == 0:
                        f, addr = ps.recvfrom(65536, socket.MSG_DONTWAIT)
                        if addr[2] == socket.PACKET_OUTGOING:      # Linux's own frames out of tap0
                            continue
                    else:
                        f = os.read(tfd, 65536)
                except (BlockingIOError, InterruptedError):
                    break
                if rng.random() < loss:
                    continue
                if held[d] is None and rng.random() < reorder:
                    held[d] = f
                    continue
                _emit(out[d], f)
                if held[d] is not None:
                    _emit(out[d], held[d])
                    held[d] = None


def _emit(fn, frame):
    try:
        fn(frame)
    except OSError:
        pass                                               # a full queue drops, like a wire would


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "relay":
    relay(sys.argv[2])
