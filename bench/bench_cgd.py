"""cgd throughput: rump.dd through /dev/rcgd0d (aes-cbc-128, aes-cbc-256, aes-xts-256) against the
same transfer through /dk unencrypted and against `openssl speed -evp` for the cipher, in one run.

256 MiB partition, bs=1m and bs=64k, medians of repeated runs; MB/s = 10^6 bytes per second.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import mbps as _mbps, table, timed_shell, tool  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SIZE_MB = int(os.environ.get("BENCH_DISK_MB", "256"))
CIPHERS = (("aes-cbc", 128, "aes-128-cbc"), ("aes-cbc", 256, "aes-256-cbc"), ("aes-xts", 256, "aes-128-xts"))

CONFIGURE = """
import os, sys
from rumptools.sp import client
from rumptools.abi import cgdioctl as ci
c = client.init("bench")
fd = c.open("/dev/rcgd0d", 2, 0)
if sys.argv[1] == "set":
    c.ioctl(fd, ci.CGDIOCSET, ("/dk", sys.argv[2], "encblkno1", int(sys.argv[3]), os.urandom(int(sys.argv[3]) // 8), -1))
else:
    c.ioctl(fd, ci.CGDIOCCLR, None)
"""


def timed(shell, env):
    return timed_shell(shell, env, RUNS)


def mbps(seconds):
    return _mbps(SIZE_MB * 1024 * 1024, seconds)


def openssl_speed(evp):
    """openssl speed -evp: MB/s at 16384-byte blocks (its largest default size)."""
    try:
        out = subprocess.run(["openssl", "speed", "-seconds", "1", "-evp", evp], capture_output=True,
                             text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        if line.lower().startswith(evp.lower()) or line.startswith("AES-"):
            nums = re.findall(r"([\d.]+)k", line)
            if nums:
                return float(nums[-1]) * 1000 / 1e6
    return None


def transfer(env, device, bs):
    n = SIZE_MB * (16 if bs == "64k" else 1)
    hbs = bs.upper()
    w = timed("dd if=/dev/zero bs=%s count=%d 2>/dev/null | rump.dd of=%s bs=%s" % (hbs, n, device, bs), env)
    r = timed("rump.dd if=%s bs=%s > /dev/null" % (device, bs), env)
    return mbps(w), mbps(r)


def main():
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "disk.img")
        sock = os.path.join(d, "s")
        env = dict(os.environ, RUMP_SERVER="unix://" + sock,
                   PATH=os.path.dirname(tool("rump.dd")) + os.pathsep + os.environ["PATH"])
        subprocess.run([tool("rump_server"), "-lrumpvfs", "-lrumpkern_crypto", "-lrumpdev",
                        "-lrumpdev_disk", "-lrumpdev_cgd", "-d",
                        "key=/dk,hostpath=%s,size=%dm" % (img, SIZE_MB), "unix://" + sock], check=True)
        rows = []
        try:
            base = {bs: transfer(env, "/dk", bs) for bs in ("1m", "64k")}
            for alg, bits, evp in CIPHERS:
                subprocess.run([sys.executable, "-c", CONFIGURE, "set", alg, str(bits)], env=env, check=True)
                try:
                    for bs in ("1m", "64k"):
                        w, r = transfer(env, "/dev/rcgd0d", bs)
                        bw, br = base[bs]
                        rows.append(("%s-%d" % (alg, bits), "bs=" + bs, "%.0f" % w, "%.0f" % bw,
                                     "%.0f%%" % (100 * w / bw), "%.0f" % r, "%.0f" % br, "%.0f%%" % (100 * r / br)))
                finally:
                    subprocess.run([sys.executable, "-c", CONFIGURE, "clr"], env=env, check=True)
                speed = openssl_speed(evp)
                rows.append(("  openssl speed -evp " + evp, "16k blocks",
                             "%.0f" % speed if speed else "n/a", "", "", "", "", ""))
        finally:
            subprocess.run([tool("rump.halt")], env=env)
        table("cgd through /dev/rcgd0d vs /dk unencrypted, %d MiB, MB/s (medians of %d)" % (SIZE_MB, RUNS),
              rows, ("cipher", "block", "cgd write", "/dk write", "ratio", "cgd read", "/dk read", "ratio"))


if __name__ == "__main__":
    main()
