"""Networking: two rump kernels on a shmif bus, in one run.

  - ping RTT (rump.ping, median of the per-reply times; target <= 1 ms)
  - flood ping for 5 s (replies/s; target >= 2000)
  - UDP bulk, 1400-byte datagrams from a client of kernel A to a client of kernel B
    (MB/s received over the receiver's first-to-last datagram), each run beside a host UDP
    loopback socket pair, medians of RUNS runs (target >= 30 MB/s), two ways: a plain
    loop of one sendto/recvfrom per datagram (one sysproxy round trip each), and
    sendmmsg/recvmmsg clients moving 64 datagrams a call (MSG_WAITFORONE), as
    high-rate UDP programs do on NetBSD
With --udp: the UDP bulk measure only.
  - `rump.ifconfig -a` end to end beside `python -c "import click"` (within 25 ms)
With --fuzz: 100,000 malformed frames onto the bus while pinging (the test suite runs 3,000).
"""
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import mbps, table, tool  # noqa: E402

NET = ["-lrumpnet", "-lrumpnet_net", "-lrumpnet_netinet", "-lrumpnet_shmif"]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def sh(env, *argv, check=True):
    r = subprocess.run([tool(argv[0])] + list(argv[1:]), env=env, capture_output=True, timeout=300)
    if check and r.returncode:
        raise SystemExit("%s failed: %s" % (" ".join(argv), r.stderr.decode()))
    return r.stdout.decode()


def setup(work):
    envs = []
    bus = os.path.join(work, "bus")
    for name, addr in (("a", "10.1.1.1"), ("b", "10.1.1.2")):
        env = dict(os.environ, RUMP_SERVER="unix://" + os.path.join(work, name))
        subprocess.run([tool("rump_server")] + NET + ["unix://" + os.path.join(work, name)], env=env, check=True,
                       cwd=work)
        sh(env, "rump.ifconfig", "shmif0", "create")
        sh(env, "rump.ifconfig", "shmif0", "linkstr", bus)
        sh(env, "rump.ifconfig", "shmif0", "inet", addr)
        envs.append(env)
    return envs, bus


def ping_rtt(env):
    out = sh(env, "rump.ping", "-c", str(20 * RUNS), "-i", "0.02", "10.1.1.2")
    times = [float(t) for t in re.findall(r"time=([\d.]+) ms", out)]
    return statistics.median(times)


def flood(env):
    out = sh(env, "rump.ping", "-f", "-w", "5", "10.1.1.2", check=False)
    m = re.search(r"([\d.]+) packets/sec received", out)
    return float(m.group(1)) if m else 0.0


UDP_SEND = """
import sys
from rumptools.sp import client
from rumptools.abi import net as N
c = client.init("udpsend")
s = c.socket(N.AF_INET, N.SOCK_DGRAM, 0)
c.sock_connect(s, (N.AF_INET, "10.1.1.2", 9000))
data = b"x" * 1400
n = int(sys.argv[1])
if sys.argv[2] == "mmsg":
    batch = (((data,), None, None),) * 64
    sent = 0
    for _ in range(n):                  # bounded: every call sends one datagram or more
        if sent >= n:
            break
        try:
            sent += len(c.sendmmsg(s, batch[:n - sent], 0))
        except OSError:
            sent += 1
else:
    for i in range(n):
        try:
            c.sendto(s, data, 0, None)
        except OSError:
            pass
"""

UDP_RECV = """
import sys, time
from rumptools.sp import client
from rumptools.abi import net as N
c = client.init("udprecv")
s = c.socket(N.AF_INET, N.SOCK_DGRAM, 0)
c.setsockopt(s, N.SOL_SOCKET, N.SO_RCVBUF, 1 << 20)
c.bind(s, (N.AF_INET, "0.0.0.0", 9000))
c.setsockopt(s, N.SOL_SOCKET, N.SO_RCVTIMEO, 1000000)
print("ready", flush=True)
mmsg = sys.argv[1] == "mmsg"
sizes = (2000,) * 64
got = 0; t0 = None; last = None
while True:
    try:
        if mmsg:
            n = sum(len(m[0]) for m in c.recvmmsg(s, sizes, 0, N.MSG_WAITFORONE, None))
        else:
            n = len(c.recvfrom(s, 2000, 0)[0])
    except OSError:
        break                           # a second without datagrams: the sender is done
    last = time.perf_counter()
    if t0 is None:
        t0 = last
    got += n
print(got, (last or 0) - (t0 or 0))
"""


def udp_bulk(env_a, env_b, n=20000, how="plain"):
    """MB/s received and the number of datagrams received (UDP may drop: counted, not retried)."""
    r = subprocess.Popen([sys.executable, "-c", UDP_RECV, how], env=env_b, stdout=subprocess.PIPE, text=True)
    assert r.stdout.readline() == "ready\n"
    subprocess.run([sys.executable, "-c", UDP_SEND, str(n), how], env=env_a, check=True)
    got, secs = r.stdout.readline().split()
    r.wait(30)
    return mbps(int(got), float(secs)) if float(secs) > 0 else 0.0, int(got) // 1400


def udp_runs(env_a, env_b):
    """RUNS rounds of: plain loop, mmsg clients, host pair; per-run rows and the medians."""
    rows, plain, mm, host = [], [], [], []
    for i in range(RUNS):
        p, pc = udp_bulk(env_a, env_b, 20000, "plain")
        m, mc = udp_bulk(env_a, env_b, 40000, "mmsg")
        h = host_udp()
        plain.append(p)
        mm.append(m)
        host.append(h)
        rows.append(("run %d" % (i + 1), "%.1f MB/s (%d/20000)" % (p, pc), "%.1f MB/s (%d/40000)" % (m, mc),
                     "%.1f MB/s" % h))
    return rows, statistics.median(plain), statistics.median(mm), statistics.median(host)


def host_udp(n=20000):
    rs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    rs.bind(("127.0.0.1", 0))
    rs.settimeout(0.5)
    box = {}

    def rx():
        got, t0, last = 0, None, None
        while True:
            try:
                d = rs.recv(2000)
            except socket.timeout:
                break
            last = time.perf_counter()
            t0 = t0 or last
            got += len(d)
        box["r"] = (got, (last or 0) - (t0 or 0))
    t = threading.Thread(target=rx)
    t.start()
    ss = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    data = b"x" * 1400
    addr = rs.getsockname()
    for _ in range(n):
        ss.sendto(data, addr)
    t.join()
    got, secs = box["r"]
    return mbps(got, secs)


def startup(env):
    def med(argv):
        samples = []
        for _ in range(RUNS * 2):
            t0 = time.perf_counter()
            subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples) * 1000
    return med([tool("rump.ifconfig"), "-a"]), med([sys.executable, "-c", "import click"])


def fuzz(env_a, env_b, bus, n):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from rumptools.kernel.rumpuser.shmifbus import ShmifBus
    from tests.integration.netfuzz import frames
    mac = sh(env_b, "rump.ifconfig", "shmif0").splitlines()[1].split()[1]
    pinger = subprocess.Popen([tool("rump.ping"), "-i", "0.2", "-w", "600", "10.1.1.2"], env=env_a,
                              stdout=subprocess.PIPE, text=True)
    host = ShmifBus(bus)
    t0 = time.perf_counter()
    batch = []
    for f in frames(bytes.fromhex(mac.replace(":", "")), n, seed=7):
        batch.append(f)
        if len(batch) == 64:
            host.send(batch, 0, 0, 0xf022)
            batch = []
            time.sleep(0.01)            # let the receiver keep up rather than lap it on the ring
    host.send(batch, 0, 0, 0xf022)
    host.close()
    took = time.perf_counter() - t0
    time.sleep(2)
    pinger.send_signal(2)
    out = pinger.communicate(timeout=30)[0]
    alive = sh(env_b, "rump.sysctl", "-n", "kern.ostype").strip() == "NetBSD"
    counters = re.search(r"input: (\d+) packets", sh(env_b, "rump.ifconfig", "-v", "shmif0"))
    taken = int(counters.group(1)) if counters else -1
    m = re.search(r"(\d+) packets transmitted, (\d+) packets received", out)
    rss = 0
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if env_b["RUMP_SERVER"][7:].encode() in f.read():
                    with open("/proc/%s/status" % pid) as st:
                        rss = int(re.search(r"VmRSS:\s+(\d+)", st.read()).group(1))
        except (OSError, AttributeError):
            continue
    return took, m.groups() if m else ("?", "?"), alive, rss, taken


def main():
    work = tempfile.mkdtemp(prefix="bench_net.")
    envs, bus = setup(work)
    try:
        a, b = envs
        if "--fuzz" in sys.argv:
            took, (tx, rx), alive, rss, taken = fuzz(a, b, bus, 100000)
            table("100,000 malformed frames onto the bus while pinging", [
                ("frames pushed in", "%.1f s" % took), ("frames kernel B took in", "%d" % taken),
                ("pings sent/answered", "%s/%s" % (tx, rx)),
                ("kernel B answers syscalls", "yes" if alive else "NO"), ("kernel B RSS", "%d kB" % rss)],
                ("", "value"))
            return
        rows, plain, mm, host = udp_runs(a, b)
        table("UDP bulk, 1400-byte datagrams over shmif, received (of sent) beside a host UDP loopback pair",
              rows, ("", "sendto/recvfrom loop", "sendmmsg/recvmmsg, 64 a call", "host UDP loopback"))
        if "--udp" in sys.argv:
            table("UDP bulk (medians of %d runs)" % RUNS, [
                ("UDP bulk 1400 B, sendto/recvfrom loop", "%.1f MB/s" % plain, ">= 30 MB/s"),
                ("UDP bulk 1400 B, sendmmsg/recvmmsg", "%.1f MB/s" % mm, ">= 30 MB/s"),
                ("host UDP loopback pair", "%.1f MB/s" % host, "(same runs)")],
                ("measure", "result", "target"))
            return
        rtt = ping_rtt(a)
        fl = flood(a)
        ifc, click = startup(a)
        table("rump kernels over shmif (medians)", [
            ("ping RTT", "%.3f ms" % rtt, "<= 1 ms"),
            ("flood ping, 5 s", "%.0f replies/s" % fl, ">= 2000"),
            ("UDP bulk 1400 B, sendto/recvfrom loop", "%.1f MB/s" % plain, ">= 30 MB/s"),
            ("UDP bulk 1400 B, sendmmsg/recvmmsg", "%.1f MB/s" % mm, ">= 30 MB/s"),
            ("host UDP loopback pair", "%.1f MB/s" % host, "(same runs)"),
            ("rump.ifconfig -a", "%.1f ms" % ifc, "within 25 ms of import click"),
            ("python -c 'import click'", "%.1f ms" % click, "(same run)")],
            ("measure", "result", "target"))
    finally:
        for e in envs:
            subprocess.run([tool("rump.halt")], env=e, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
