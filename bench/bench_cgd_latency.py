"""Latency of other clients' calls while one client writes 256 MiB through cgd with bs=32m.

Client A: `rump.dd if=/dev/zero of=/dev/rcgd0d bs=32m count=8` (aes-cbc-256): every
write(2) carries 32 MiB (a host pipe would deliver short reads, hence /dev/zero
of the kernel).
Client B, in this process: getpid and a sysctl read in a loop for as long as A
runs; each call's round trip is one sample. Printed: p50, p99 and max of B's
calls during A's write, beside B's latency on the idle server (the baseline,
measured in the same run), and A's throughput.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import table, tool  # noqa: E402

SIZE_MB = int(os.environ.get("BENCH_CGD_MB", "256"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))

CONFIGURE = """
import os, sys
from rumptools.sp import client
from rumptools.abi import cgdioctl as ci
c = client.init("bench")
fd = c.open("/dev/rcgd0d", 2, 0)
c.ioctl(fd, ci.CGDIOCSET, ("/dk", "aes-cbc", "encblkno1", 256, os.urandom(32), -1))
"""


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


def probe(address, stop, samples):
    from rumptools.sp import client as spclient, url as spurl
    c = spclient.Client(spurl.parse(address), "probe").connect()
    while not stop.is_set():
        t0 = time.perf_counter()
        c.getpid()
        c.sysctl("kern.ostype", 0, None)
        samples.append((time.perf_counter() - t0) / 2)
        time.sleep(0.002)
    c.disconnect()


def measure(address, env, write):
    samples, stop = [], threading.Event()
    t = threading.Thread(target=probe, args=(address, stop, samples))
    t.start()
    t0 = time.perf_counter()
    if write:
        subprocess.run([tool("rump.dd"), "if=/dev/zero", "of=/dev/rcgd0d", "bs=32m", "count=%d" % (SIZE_MB // 32)],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        time.sleep(2.0)
    took = time.perf_counter() - t0
    stop.set()
    t.join()
    return samples, took


def run():
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "s")
        address = "unix://" + sock
        env = dict(os.environ, RUMP_SERVER=address,
                   PATH=os.path.dirname(tool("rump.dd")) + os.pathsep + os.environ["PATH"])
        subprocess.run([tool("rump_server"), "-lrumpvfs", "-lrumpkern_crypto", "-lrumpdev", "-lrumpdev_disk",
                        "-lrumpdev_cgd", "-d", "key=/dk,hostpath=%s,size=%dm" % (os.path.join(d, "img"), SIZE_MB + 1),
                        address], check=True)
        try:
            subprocess.run([sys.executable, "-c", CONFIGURE], env=env, check=True)
            idle, _ = measure(address, env, False)
            busy, took = [], []
            for _ in range(RUNS):
                s, t = measure(address, env, True)
                busy += s
                took.append(t)
        finally:
            subprocess.run([tool("rump.halt")], env=env)
    return idle, busy, statistics.median(took)


def main():
    idle, busy, took = run()
    ms = lambda v: "%.2f" % (v * 1000)     # noqa: E731
    rows = [("idle server", len(idle), ms(pct(idle, 50)), ms(pct(idle, 99)), ms(max(idle)), ""),
            ("during cgd write", len(busy), ms(pct(busy, 50)), ms(pct(busy, 99)), ms(max(busy)),
             "%.0f MB/s" % (SIZE_MB * 1048576 / took / 1e6))]
    table("another client's call latency while %d MiB go through cgd (bs=32m), ms (%d runs)" % (SIZE_MB, RUNS),
          rows, ("phase", "calls", "p50", "p99", "max", "cgd write"))


if __name__ == "__main__":
    main()
