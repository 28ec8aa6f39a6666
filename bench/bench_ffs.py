"""FFS: rump.newfs of a 1 GiB image, rump.fsck_ffs -f of a full 256 MiB image,
and sequential write/read of a 256 MiB file in FFS through rump.dd bs=1m
beside the same transfer through a raw disk of the same server; a 1,000-file
tree copied in through the client API and walked, beside the host's file
system.  Medians of BENCH_RUNS runs (default 5); figures in MB/s (10^6 B)."""
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import mbps, median_time, table, timed_shell, tool  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
MB = 256

TREE = textwrap.dedent("""
    import os, sys
    from rumptools.sp import client
    c = client.init("bench")
    src, dst = sys.argv[1], sys.argv[2]
    c.mkdir(dst, 0o755)
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        base = dst + ("" if rel == "." else "/" + rel)
        if rel != ".":
            c.mkdir(base, 0o755)
        for f in filenames:
            with open(os.path.join(dirpath, f), "rb") as fh:
                data = fh.read()
            fd = c.open(base + "/" + f, 0x202, 0o644)
            c.write(fd, data)
            c.close(fd)
    n = 0
    stack = [dst]
    while stack:
        d = stack.pop()
        fd = c.open(d, 0x200000, 0)
        while True:
            ents = c.getdents(fd, 65536)
            if not ents:
                break
            for e in ents:
                if e[3] in (".", ".."):
                    continue
                st = c.lstat(d + "/" + e[3])
                n += 1
                if e[2] == 4:
                    stack.append(d + "/" + e[3])
        c.close(fd)
    print(n)
""")

HOSTTREE = textwrap.dedent("""
    import os, shutil, sys
    src, dst = sys.argv[1], sys.argv[2]
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    n = 0
    for dirpath, dirnames, filenames in os.walk(dst):
        for name in dirnames + filenames:
            os.lstat(os.path.join(dirpath, name))
            n += 1
    print(n)
""")


def run(argv, env=None, cwd=None):
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_tree(root, n=1000):
    rng = random.Random(3)
    for i in range(n):
        d = os.path.join(root, "d%02d" % (i % 40), "s%d" % (i % 3))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%04d" % i), "wb") as f:
            f.write(rng.randbytes(rng.choice([100, 2000, 9000, 30000])))


def main():
    rows = []
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, PATH=os.path.dirname(tool("rump.dd")) + os.pathsep +
                   os.environ["PATH"])
        # newfs of 1 GiB
        img = os.path.join(d, "g.img")

        def newfs_1g():
            if os.path.exists(img):
                os.unlink(img)
            run([tool("rump.newfs"), "-F", "-s", "1g", img])
        t = median_time(newfs_1g, RUNS)
        rows.append(("rump.newfs -F -s 1g", "%.2f s" % t, "target <= 2 s"))
        os.unlink(img)

        # a full 256 MiB file system, for fsck -f
        full = os.path.join(d, "full.img")
        run([tool("rump.newfs"), "-F", "-s", "%dm" % MB, full])
        sock = os.path.join(d, "s")
        e = dict(env, RUMP_SERVER="unix://" + sock)
        run([tool("rump_server"), "-lrumpvfs", "-lrumpfs_ffs", "-d",
             "key=/dk,hostpath=%s,size=host" % full, "unix://" + sock])
        try:
            run([sys.executable, "-c", "from rumptools.sp import client; "
                 "client.init('b').mkdir('/mnt', 0o755)"], env=e)
            run([tool("rump.mount_ffs"), "/dk", "/mnt"], env=e)
            src = os.path.join(d, "tree")
            make_tree(src)
            with open(os.path.join(d, "tree.py"), "w") as f:
                f.write(TREE)
            run([sys.executable, os.path.join(d, "tree.py"), src, "/mnt/tree"], env=e)
            subprocess.run(["bash", "-c", "dd if=/dev/urandom bs=1M count=%d 2>/dev/null | "
                            "rump.dd of=/mnt/fill bs=1m 2>/dev/null; true" % MB], env=e)
            run([tool("rump.umount"), "/mnt"], env=e)
        finally:
            subprocess.run([tool("rump.halt")], env=e)
        t = median_time(lambda: run([tool("rump.fsck_ffs"), "-f", "-n", full]), RUNS)
        df = subprocess.run([tool("rump.fsck_ffs"), "-f", "-n", full], capture_output=True,
                            text=True).stdout.strip().splitlines()[-1]
        rows.append(("rump.fsck_ffs -f (full %d MiB)" % MB, "%.2f s" % t,
                     "target <= 5 s; %s" % df))
        os.unlink(full)

        # sequential transfer: a file in FFS vs a raw disk of the same server
        fsimg = os.path.join(d, "fs.img")
        raw = os.path.join(d, "raw.img")
        run([tool("rump.newfs"), "-F", "-s", "%dm" % (MB + 64), fsimg])
        with open(raw, "wb") as f:
            f.truncate(MB << 20)
        run([tool("rump_server"), "-lrumpvfs", "-lrumpfs_ffs",
             "-d", "key=/dk,hostpath=%s,size=host" % fsimg,
             "-d", "key=/raw,hostpath=%s,size=host" % raw, "unix://" + sock])
        xfer = []
        try:
            run([sys.executable, "-c", "from rumptools.sp import client; "
                 "client.init('b').mkdir('/mnt', 0o755)"], env=e)
            run([tool("rump.mount_ffs"), "/dk", "/mnt"], env=e)
            wf = timed_shell("dd if=/dev/zero bs=1M count=%d 2>/dev/null | "
                             "rump.dd of=/mnt/big bs=1m" % MB, e, RUNS)
            wr = timed_shell("dd if=/dev/zero bs=1M count=%d 2>/dev/null | "
                             "rump.dd of=/raw bs=1m conv=notrunc" % MB, e, RUNS)
            rf = timed_shell("rump.dd if=/mnt/big bs=1m > /dev/null", e, RUNS)
            rr = timed_shell("rump.dd if=/raw bs=1m count=%d > /dev/null" % MB, e, RUNS)
            n = MB << 20
            xfer.append(("write", "%.0f MB/s" % mbps(n, wf), "%.0f MB/s" % mbps(n, wr),
                         "%.0f%%" % (100 * wr / wf)))
            xfer.append(("read", "%.0f MB/s" % mbps(n, rf), "%.0f MB/s" % mbps(n, rr),
                         "%.0f%%" % (100 * rr / rf)))
            with open(os.path.join(d, "tree.py"), "w") as f:
                f.write(TREE)

            def tree_ffs():
                run([sys.executable, os.path.join(d, "tree.py"), src,
                     "/mnt/t%d" % time.monotonic_ns()], env=e)
            tf = median_time(tree_ffs, max(1, RUNS // 2))
            with open(os.path.join(d, "host.py"), "w") as f:
                f.write(HOSTTREE)
            th = median_time(lambda: run([sys.executable, os.path.join(d, "host.py"), src,
                                          os.path.join(d, "hostcopy")]), max(1, RUNS // 2))
            xfer.append(("1,000-file tree in + walk", "%.2f s" % tf, "host fs %.2f s" % th,
                         "%.0f%%" % (100 * th / tf)))
            run([tool("rump.umount"), "/mnt"], env=e)
        finally:
            subprocess.run([tool("rump.halt")], env=e)
    table("FFS tools (medians of %d)" % RUNS, rows, ("what", "time", "note"))
    table("FFS transfers, %d MiB, rump.dd bs=1m (medians of %d)" % (MB, RUNS), xfer,
          ("op", "FFS file", "baseline", "FFS/baseline"))


if __name__ == "__main__":
    main()
