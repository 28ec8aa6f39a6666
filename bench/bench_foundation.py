"""Foundation benchmarks: boot time, one command end to end, null call latency,
parallel call rate, idle server memory. Each beside a baseline measured in the same run."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import median_time, pinned, run_quiet, table, tool  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
PY = sys.executable


def wait_socket(path):
    for _ in range(2000):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return
        except OSError:
            time.sleep(0.001)
        finally:
            s.close()
    raise RuntimeError("server did not come up")


def halt(env):
    subprocess.run([tool("rump.halt")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def bench_boot(d, pin):
    path = os.path.join(d, "boot")
    env = dict(os.environ, RUMP_SERVER="unix://" + path)
    wrap = pinned if pin else (lambda a: a)

    def boot():
        run_quiet(wrap([tool("rump_server"), "unix://" + path]))   # returns once the socket accepts
    samples = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        boot()
        samples.append(time.perf_counter() - t0)
        halt(env)
        while os.path.exists(path):
            time.sleep(0.001)
    import statistics
    ours = statistics.median(samples)
    base = median_time(lambda: run_quiet(wrap([PY, "-c", "pass"])), RUNS)
    return ours, base


def bench_command(d, pin):
    path = os.path.join(d, "cmd")
    env = dict(os.environ, RUMP_SERVER="unix://" + path)
    run_quiet([tool("rump_server"), "unix://" + path])
    wrap = pinned if pin else (lambda a: a)
    try:
        ours = median_time(lambda: run_quiet(wrap([tool("rump.sysctl"), "kern.hostname"]), env=env), RUNS)
        base = median_time(lambda: run_quiet(wrap([PY, "-c", "import click"])), RUNS)
    finally:
        halt(env)
    return ours, base


BARE_SERVER = """
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
buf = bytearray(65536)
while True:
    n = c.recv_into(buf)
    if not n:
        break
    c.sendall(buf[:n])
"""

NULL_CLIENT = """
import socket, sys, time, statistics
mode, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "bare":
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    msg = bytes(24)
    buf = bytearray(65536)
    def call():
        s.sendall(msg)
        s.recv_into(buf)
else:
    from rumptools.sp import client, url
    c = client.Client(url.parse("unix://" + path), "bench").connect()
    call = c.getpid
samples = []
for _ in range(15):
    t0 = time.perf_counter()
    for _ in range(n):
        call()
    samples.append((time.perf_counter() - t0) / n)
print(statistics.median(samples))
"""


def bench_null(d, pin):
    wrap = (lambda a: pinned(a, 0)) if pin else (lambda a: a)
    bare = os.path.join(d, "bare%d" % pin)
    srv = subprocess.Popen(wrap([PY, "-c", BARE_SERVER, bare]), stdout=subprocess.PIPE)
    srv.stdout.readline()
    try:
        base = float(subprocess.run(wrap([PY, "-c", NULL_CLIENT, "bare", bare, "2000"]),
                                    capture_output=True, check=True).stdout)
    finally:
        srv.kill()
        srv.wait()
    path = os.path.join(d, "null")
    env = dict(os.environ, RUMP_SERVER="unix://" + path)
    run_quiet(wrap([tool("rump_server"), "unix://" + path]))
    try:
        ours = float(subprocess.run(wrap([PY, "-c", NULL_CLIENT, "rump", path, "2000"]),
                                    capture_output=True, check=True).stdout)
    finally:
        halt(env)
    return ours, base


PARALLEL_CLIENT = """
import sys, time
from rumptools.sp import client, url
c = client.Client(url.parse("unix://" + sys.argv[1]), "par").connect()
n = int(sys.argv[2])
sys.stdin.readline()
for _ in range(n):
    c.getpid()
"""


def bench_parallel(d, clients=8, calls=3000):
    path = os.path.join(d, "par")
    env = dict(os.environ, RUMP_SERVER="unix://" + path)
    run_quiet([tool("rump_server"), "unix://" + path])
    try:
        procs = [subprocess.Popen([PY, "-c", PARALLEL_CLIENT, path, str(calls)], stdin=subprocess.PIPE)
                 for _ in range(clients)]
        time.sleep(1.0)          # let them connect
        t0 = time.perf_counter()
        for p in procs:
            p.stdin.write(b"go\n")
            p.stdin.flush()
        for p in procs:
            p.wait()
        took = time.perf_counter() - t0
    finally:
        halt(env)
    return clients * calls / took


def bench_rss(d):
    path = os.path.join(d, "rss")
    p = subprocess.Popen([tool("rump_server"), "-s", "unix://" + path], stdout=subprocess.DEVNULL)
    try:
        wait_socket(path)
        time.sleep(0.5)
        with open("/proc/%d/status" % p.pid) as f:
            rss = [int(line.split()[1]) for line in f if line.startswith("VmRSS:")][0]
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()
    return rss / 1024.0


def main():
    with tempfile.TemporaryDirectory() as d:
        rows = []
        for pin in (True, False):
            label = "pinned" if pin else "unpinned"
            ours, base = bench_boot(d, pin)
            rows.append(("boot: rump_server until socket accepts", label, "%.1f ms" % (ours * 1e3),
                         "python3 -c pass: %.1f ms" % (base * 1e3), "%.2fx" % (ours / base),
                         "+%.1f ms" % ((ours - base) * 1e3)))
            ours, base = bench_command(d, pin)
            rows.append(("rump.sysctl kern.hostname", label, "%.1f ms" % (ours * 1e3),
                         "python3 -c 'import click': %.1f ms" % (base * 1e3), "%.2fx" % (ours / base),
                         "+%.1f ms" % ((ours - base) * 1e3)))
            ours, base = bench_null(d, pin)
            rows.append(("null remote call (getpid)", label, "%.1f us" % (ours * 1e6),
                         "bare unix-socket echo: %.1f us" % (base * 1e6), "%.2fx" % (ours / base), ""))
        rate = bench_parallel(d)
        rows.append(("calls/s, 8 client processes", "unpinned", "%.0f/s" % rate, "", "", ""))
        rss = bench_rss(d)
        rows.append(("idle rump_server resident memory", "", "%.1f MB" % rss, "", "", ""))
        table("Foundation (medians of %d runs)" % RUNS, rows,
              ("what", "cpu", "ours", "baseline", "ratio", "over baseline"))


if __name__ == "__main__":
    main()
