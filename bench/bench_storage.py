"""Storage throughput: rump.dd through a host-file disk (/dk) against host dd on the same file.

256 MiB image, bs=64k and bs=1m, medians of repeated runs; figures in MB/s (10^6 bytes).
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import mbps as _mbps, table, timed_shell, tool  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SIZE_MB = int(os.environ.get("BENCH_DISK_MB", "256"))


def timed(shell, env):
    return timed_shell(shell, env, RUNS)


def mbps(seconds):
    return _mbps(SIZE_MB * 1024 * 1024, seconds)


def main():
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "disk.img")
        sock = os.path.join(d, "s")
        env = dict(os.environ, RUMP_SERVER="unix://" + sock,
                   PATH=os.path.dirname(tool("rump.dd")) + os.pathsep + os.environ["PATH"])
        subprocess.run(["dd", "if=/dev/zero", "of=" + img, "bs=1M", "count=%d" % SIZE_MB],
                       check=True, stderr=subprocess.DEVNULL)
        subprocess.run([tool("rump_server"), "-lrumpvfs", "-d", "key=/dk,hostpath=%s,size=host" % img,
                        "unix://" + sock], check=True)
        rows = []
        try:
            for bs in ("64k", "1m"):
                n = SIZE_MB * (16 if bs == "64k" else 1)
                hbs = bs.upper()
                host_r = timed("dd if=%s bs=%s of=/dev/null" % (img, hbs), env)
                ours_r = timed("rump.dd if=/dk bs=%s > /dev/null" % bs, env)
                host_w = timed("dd if=/dev/zero bs=%s count=%d | dd of=%s bs=%s conv=notrunc"
                               % (hbs, n, img, hbs), env)
                ours_w = timed("dd if=/dev/zero bs=%s count=%d | rump.dd of=/dk bs=%s conv=notrunc"
                               % (hbs, n, bs), env)
                rows.append(("read", "bs=" + bs, "%.0f MB/s" % mbps(ours_r), "%.0f MB/s" % mbps(host_r),
                             "%.2f" % (host_r / ours_r)))
                rows.append(("write", "bs=" + bs, "%.0f MB/s" % mbps(ours_w), "%.0f MB/s" % mbps(host_w),
                             "%.2f" % (host_w / ours_w)))
        finally:
            subprocess.run([tool("rump.halt")], env=env)
        table("Storage: rump.dd through /dk vs host dd, %d MiB (medians of %d)" % (SIZE_MB, RUNS), rows,
              ("op", "block", "rump.dd", "host dd", "ratio"))


if __name__ == "__main__":
    main()
