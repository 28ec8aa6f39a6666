"""TCP (issue 10): medians of repeated runs, each beside a host measurement made in the same run.

  - bulk between two rump kernels over shmif (MB/s; target >= 30), beside host loopback TCP
  - bulk between the rump kernel and Linux over virt/tap in a test-made namespace, both
    directions (MB/s; target >= 50); skipped, saying why, where no tap can be made
  - connection setup + 1-byte request/response + close between two kernels (median latency;
    target <= 2 ms), beside the same on host loopback
  - 1,000 idle established connections in one kernel (fresh kernels, over shmif): RSS growth,
    and CPU used over IDLE_S seconds with them beside the same kernel's CPU over IDLE_S seconds
    before they existed
Every transfer moves BULK_MB MiB; the sender and receiver are separate client processes.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
from bench.bench_net import setup  # noqa: E402
from bench.common import mbps, table, tool  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
BULK = int(os.environ.get("BULK_MB", "32")) << 20
IDLE_S = float(os.environ.get("IDLE_S", "10"))
CONNS = 1000

COMMON = """
import os, socket, statistics, sys, time
rump = os.environ.get("RUMP_SERVER")
if rump:
    from rumptools.sp import client
    from rumptools.abi import net as N
    c = client.init(sys.argv[1])
    def sock():
        return c.socket(N.AF_INET, N.SOCK_STREAM, 0)
    def connect(s, a, p): c.sock_connect(s, (N.AF_INET, a, p))
    def listen(s, a, p, n): c.bind(s, (N.AF_INET, a, p)); c.listen(s, n)
    def accept(s): return c.accept(s)[0]
    write, read, close = c.write, c.read, c.close
    def shut(s): c.shutdown(s, N.SHUT_WR)
else:
    def sock():
        return socket.socket()
    def connect(s, a, p): s.connect((a, p))
    def listen(s, a, p, n): s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((a, p)); s.listen(n)
    def accept(s): return s.accept()[0]
    def write(s, b): return s.send(b)
    def read(s, n): return s.recv(n)
    def close(s): s.close()
    def shut(s): s.shutdown(socket.SHUT_WR)
what, addr, port = sys.argv[2], sys.argv[3], int(sys.argv[4])
if what == "probe":                      # is there TCP at all?
    close(sock())
elif what == "recv":                       # one connection, read to the end; print bytes and seconds
    l = sock(); listen(l, addr, port, 1); print("ready", flush=True)
    s = accept(l); t0 = time.perf_counter(); got = 0
    while True:
        d = read(s, 262144)
        if not d: break
        got += len(d)
    print(got, time.perf_counter() - t0, flush=True); close(s); close(l)
elif what == "send":
    n = int(sys.argv[5]); s = sock(); connect(s, addr, port); block = b"x" * 65536
    while n > 0:
        n -= write(s, block[:min(n, 65536)])
    shut(s); read(s, 1); close(s)
elif what == "echo1":                    # accept, 1 byte in, 1 byte out, close; count times
    l = sock(); listen(l, addr, port, 64); print("ready", flush=True)
    for _ in range(int(sys.argv[5])):
        s = accept(l); d = read(s, 1); write(s, d); close(s)
elif what == "rr":                       # connect + 1-byte request/response + close, median ms
    t = []
    for _ in range(int(sys.argv[5])):
        t0 = time.perf_counter(); s = sock(); connect(s, addr, port); write(s, b"?")
        assert read(s, 1) == b"?"; close(s); t.append(time.perf_counter() - t0)
    print(statistics.median(t) * 1000, flush=True)
elif what == "hold_accept":              # accept n connections and keep them until stdin closes
    l = sock(); listen(l, addr, port, 128); print("ready", flush=True); fds = []
    for _ in range(int(sys.argv[5])):
        fds.append(accept(l))
    print("held", len(fds), flush=True); sys.stdin.read()
elif what == "hold_connect":
    fds = []
    for _ in range(int(sys.argv[5])):
        s = sock(); connect(s, addr, port); fds.append(s)
    print("held", len(fds), flush=True); sys.stdin.read()
"""


def py(env, *args, **kw):
    env = dict(env, PYTHONPATH=HERE)
    return subprocess.Popen([sys.executable, "-c", COMMON] + [str(a) for a in args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def idle_in_fresh_kernels():
    """The idle measurement in two kernels that have done nothing else (a heap grown by the
    transfers would hide what the connections cost)."""
    work = tempfile.mkdtemp(prefix="bench_tcp_idle.")
    envs, _bus = setup(work)
    try:
        return idle_connections(*envs)
    finally:
        for e in envs:
            subprocess.run([tool("rump.halt")], env=e, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def host_env():
    return {k: v for k, v in os.environ.items() if k != "RUMP_SERVER"}


def bulk(recv_env, send_env, addr, port, popen=py):
    r = popen(recv_env, "tcprecv", "recv", "0.0.0.0", port)
    line = r.stdout.readline()
    if line != "ready\n":
        raise SystemExit("receiver did not start: %s%s" % (line, r.stderr.read()))
    s = popen(send_env, "tcpsend", "send", addr, port, BULK)
    out = r.stdout.readline().split()
    s.wait(600)
    r.wait(60)
    if len(out) != 2 or int(out[0]) != BULK:
        raise SystemExit("transfer failed: %r %s %s" % (out, r.stderr.read(), s.stderr.read()))
    return mbps(int(out[0]), float(out[1]))


def median_of(fn, *args):
    return statistics.median(fn(*args) for _ in range(RUNS))


def latency(server_env, client_env, addr, port, n=200):
    srv = py(server_env, "echo1", "echo1", "0.0.0.0", port, n)
    assert srv.stdout.readline() == "ready\n", srv.stderr.read()
    cl = py(client_env, "rr", "rr", addr, port, n)
    out, err = cl.communicate(timeout=600)
    srv.wait(60)
    if cl.returncode:
        raise SystemExit("request/response failed: " + err)
    return float(out)


def server_pid(env):
    path = env["RUMP_SERVER"][len("unix://"):].encode()
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(path) for a in argv) and any(b"rump_server" in a for a in argv):
            return int(pid)
    raise SystemExit("no rump_server for " + env["RUMP_SERVER"])


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(pid):
    c0 = cpu_s(pid)
    time.sleep(IDLE_S)
    return cpu_s(pid) - c0


def idle_connections(env_a, env_b):
    pid = server_pid(env_a)
    time.sleep(1)
    rss0 = rss_kb(pid)
    cpu_before = idle_cpu(pid)
    holder = py(env_a, "hold", "hold_accept", "0.0.0.0", 8100, CONNS, stdin=subprocess.PIPE)
    assert holder.stdout.readline() == "ready\n", holder.stderr.read()
    opener = py(env_b, "hold", "hold_connect", "10.1.1.1", 8100, CONNS, stdin=subprocess.PIPE)
    try:
        for p in (opener, holder):
            line = p.stdout.readline()
            if line != "held %d\n" % CONNS:
                raise SystemExit("holding %d connections failed: %r %s" % (CONNS, line, p.stderr.read()))
        time.sleep(2)                       # handshakes' delayed ACKs and timers settle
        rss1 = rss_kb(pid)
        cpu_with = idle_cpu(pid)
        rss2 = rss_kb(pid)
    finally:
        for p in (opener, holder):
            p.stdin.close()
            p.wait(60)
    return rss1 - rss0, rss2 - rss1, cpu_before, cpu_with


_ports = iter(range(7000, 8000))


def next_port():
    """A fresh port in the rump kernels for every listener (no TIME_WAIT in the way)."""
    return next(_ports)


def tap_rows():
    from tests.integration.netns import HOST_IP, RUMP_IP, NetnsServer, why_no_tap
    why = why_no_tap()
    if why:
        print("bench_tcp: tap part skipped: " + why)
        return [("rump -> Linux over tap", "skipped", why), ("Linux -> rump over tap", "skipped", why)]
    work = tempfile.mkdtemp(prefix="bench_tcp_tap.")
    try:
        with NetnsServer(work) as ns:
            def in_ns(env, *args, **kw):
                return ns.popen([sys.executable, "-c", COMMON] + [str(a) for a in args], text=True,
                                env=dict(host_env(), PYTHONPATH=HERE), **kw)

            def rump(env, *args, **kw):
                return py(ns.env, *args, **kw)
            out = median_of(lambda: bulk(None, ns.env, HOST_IP, next_port(), popen=_mix(in_ns, rump)))
            back = median_of(lambda: bulk(ns.env, None, RUMP_IP, next_port(), popen=_mix(rump, in_ns)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [("rump -> Linux over tap", "%.1f MB/s" % out, ">= 50 MB/s"),
            ("Linux -> rump over tap", "%.1f MB/s" % back, ">= 50 MB/s")]


def _mix(recv_popen, send_popen):
    """A popen for bulk(): the receiver started one way, the sender the other."""
    def popen(env, name, *args, **kw):
        return (recv_popen if name == "tcprecv" else send_popen)(env, name, *args, **kw)
    return popen


def main():
    work = tempfile.mkdtemp(prefix="bench_tcp.")
    envs, _bus = setup(work)
    try:
        a, b = envs
        probe = py(a, "probe", "probe", "-", 0)
        out, err = probe.communicate(timeout=60)
        if probe.returncode:
            raise SystemExit("bench_tcp: no TCP in this kernel: %s" % (err.strip().splitlines() or ["?"])[-1])
        shm = median_of(lambda: bulk(b, a, "10.1.1.2", next_port()))
        host = median_of(lambda: bulk(host_env(), host_env(), "127.0.0.1", free_port()))
        lat = statistics.median(latency(b, a, "10.1.1.2", next_port()) for _ in range(RUNS))
        hlat = statistics.median(latency(host_env(), host_env(), "127.0.0.1", free_port()) for _ in range(RUNS))
        rows = [("TCP bulk, 2 kernels over shmif (%d MiB)" % (BULK >> 20), "%.1f MB/s" % shm, ">= 30 MB/s"),
                ("host loopback TCP, same size", "%.1f MB/s" % host, "(same run)")]
        rows += tap_rows()
        rows += [("connect + 1 B request/response + close", "%.3f ms" % lat, "<= 2 ms"),
                 ("same on host loopback", "%.3f ms" % hlat, "(same run)")]
        grow, drift, before, during = idle_in_fresh_kernels()
        rows += [("RSS growth, %d established connections" % CONNS, "%d kB (%.1f kB each)" % (grow, grow / CONNS),
                  "reported"),
                 ("RSS change over %g s idle with them" % IDLE_S, "%d kB" % drift, "reported"),
                 ("kernel CPU over %g s idle, no connections" % IDLE_S, "%.2f s" % before, "(same run)"),
                 ("kernel CPU over %g s idle, %d connections" % (IDLE_S, CONNS), "%.2f s" % during,
                  "idle means idle")]
        table("TCP (medians of %d runs)" % RUNS, rows, ("measure", "result", "target"))
    finally:
        for e in envs:
            subprocess.run([tool("rump.halt")], env=e, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


if __name__ == "__main__":
    main()
