"""librumphijack benchmarks, each beside a baseline measured in the same run:
stat() of a rump path from a hijacked C program (calls/s) beside the bare unix-socket
echo round trip of the same C program, a UDP datagram sent to itself and received
through the kernel's loopback beside the host's, curl of a file from python3 -m
http.server over the kernel's TCP beside the host's, cat of a 256 MiB rumpfs file (MB/s) beside cat of
a host file, cp -R of a 1,000-file tree into /rump and ls -lR of it beside the host, and
the start-up cost of `true` with and without the library."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import mbps, median_time, pinned, run_quiet, table, tool  # noqa: E402
from rumptools.hijack import library_path  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
BIG_MIB = int(os.environ.get("BENCH_HIJACK_MIB", "256"))
PY = sys.executable
STAT_ROUNDS = int(os.environ.get("BENCH_STAT_ROUNDS", "9"))

CPROG = r"""
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* stat PATH N | echo SOCKET N | udp - N: prints seconds per call (udp: per datagram sent and received) */
int main(int argc, char **argv) {
    int n = atoi(argv[3]);
    double t0;
    if (strcmp(argv[1], "stat") == 0) {
        struct stat sb;
        t0 = now();
        for (int i = 0; i < n; i++)
            if (stat(argv[2], &sb) != 0) { perror("stat"); return 1; }
    } else if (strcmp(argv[1], "udp") == 0) {
        /* a datagram to itself over 127.0.0.1, then receive it */
        struct sockaddr_in a = {AF_INET};
        socklen_t al = sizeof(a);
        char buf[64] = {0};
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        a.sin_addr.s_addr = htonl(0x7f000001);
        if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
            getsockname(s, (struct sockaddr *)&a, &al) != 0) { perror("udp"); return 1; }
        t0 = now();
        for (int i = 0; i < n; i++) {
            if (sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&a, sizeof(a)) != sizeof(buf) ||
                recv(s, buf, sizeof(buf), 0) != sizeof(buf)) { perror("udp"); return 1; }
        }
    } else {
        struct sockaddr_un sun = {AF_UNIX};
        char buf[256];
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        strcpy(sun.sun_path, argv[2]);
        if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) != 0) { perror("connect"); return 1; }
        /* 48 bytes each way (a stat request of /x is 36 bytes, its reply 160) */
        t0 = now();
        for (int i = 0; i < n; i++) {
            if (write(s, buf, 48) != 48) return 1;
            size_t got = 0;
            while (got < 48) { ssize_t r = read(s, buf, 48 - got); if (r <= 0) return 1; got += r; }
        }
    }
    printf("%.9f\n", (now() - t0) / n);
    return 0;
}
"""

ECHO_SERVER = """
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True)
buf = bytearray(65536)
while True:                     # one client at a time, as many as come
    c, _ = s.accept()
    while True:
        n = c.recv_into(buf)
        if not n:
            break
        c.sendall(buf[:n])
    c.close()
"""


def _serve(root, port, env):
    """python3 -m http.server on 127.0.0.1:port (the kernel's if env hijacks), waited for."""
    web = subprocess.Popen([PY, "-m", "http.server", "-b", "127.0.0.1", str(port)], cwd=root, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:%d/" % port], env=env)
        if r.returncode == 0:
            return web
        time.sleep(0.1)
    web.kill()
    raise SystemExit("bench_hijack: http.server did not come up")


def _http_row(d, hj):
    import socket
    root = os.path.join(d, "www")
    os.mkdir(root)
    mib = 32
    with open(os.path.join(root, "f"), "wb") as f:
        f.write(os.urandom(mib << 20))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    times = {}
    for name, env in (("rump", hj), ("host", dict(os.environ))):
        web = _serve(root, port, env)
        try:
            times[name] = median_time(lambda: run_quiet(["curl", "-s", "-o", "/dev/null",
                                                         "http://127.0.0.1:%d/f" % port], env=env), 5)
        finally:
            web.kill()
            web.wait()
    return ("curl of %d MiB from python3 -m http.server (both hijacked, kernel TCP)" % mib,
            "%.0f MB/s" % mbps(mib << 20, times["rump"]),
            "the same over the host's TCP: %.0f MB/s" % mbps(mib << 20, times["host"]),
            "%.2fx" % (times["rump"] / times["host"]))


# where the kernel (and the echo server) and the client run: (name, server CPU, client CPU)
PLACEMENTS = (("same CPU", 0, 0), ("two CPUs", 0, 1), ("unpinned", None, None))


def _stat_rows(d, prog, lib):
    """stat() of a rump path from the hijacked C program beside the bare echo round trip,
    alternated run by run, for each placement: a kernel of its own per placement, pinned
    with taskset the same way as the echo server, so that both see the same wake-ups. On a
    VM a wake-up across CPUs costs more than a whole call, so unpinned figures depend on
    where the scheduler happens to leave each pair; the pinned ones compare like with like."""
    rows = []
    for name, scpu, ccpu in PLACEMENTS:
        if scpu is not None and (shutil.which("taskset") is None or os.cpu_count() < 2):
            continue
        pin_s = (lambda a: pinned(a, scpu)) if scpu is not None else (lambda a: a)
        pin_c = (lambda a: pinned(a, ccpu)) if ccpu is not None else (lambda a: a)
        sock, echo = os.path.join(d, "st-" + name[:3]), os.path.join(d, "echo-" + name[:3])
        env = dict(os.environ, RUMP_SERVER="unix://" + sock)
        hj = dict(env, LD_PRELOAD=lib)
        run_quiet(pin_s([tool("rump_server"), "-lrumpvfs", "unix://" + sock]), env=env)
        srv = None
        try:
            run_quiet(["mkdir", "/rump/x"], env=hj)
            srv = subprocess.Popen(pin_s([PY, "-c", ECHO_SERVER, echo]), stdout=subprocess.PIPE)
            srv.stdout.readline()
            stats, echoes = [], []
            for _ in range(STAT_ROUNDS):     # alternated, so that both see the same load
                stats.append(float(subprocess.run(pin_c([prog, "stat", "/rump/x", "5000"]), env=hj,
                                                  capture_output=True, check=True).stdout))
                echoes.append(float(subprocess.run(pin_c([prog, "echo", echo, "5000"]), capture_output=True,
                                                   check=True).stdout))
        finally:
            if srv is not None:
                srv.kill()
                srv.wait()
            subprocess.run([tool("rump.halt")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        per_stat, per_echo = statistics.median(stats), statistics.median(echoes)
        rows.append(("stat() of /rump/x, hijacked C program, %s" % name, "%.0f calls/s (%.1f us)" % (
            1 / per_stat, per_stat * 1e6), "bare unix-socket echo (C client, Python echo): %.1f us" % (
            per_echo * 1e6), "%.2fx" % (per_stat / per_echo)))
    return rows


def main():
    lib = library_path()
    if not os.path.exists(lib) or shutil.which("gcc") is None:
        print("bench_hijack: needs the built library and gcc; skipped")
        return
    with tempfile.TemporaryDirectory() as d:
        prog = os.path.join(d, "statloop")
        with open(prog + ".c", "w") as f:
            f.write(CPROG)
        subprocess.run(["gcc", "-O2", "-o", prog, prog + ".c"], check=True)
        sock = os.path.join(d, "fs")
        env = dict(os.environ, RUMP_SERVER="unix://" + sock)
        hj = dict(env, LD_PRELOAD=lib)
        run_quiet([tool("rump_server"), "-lrumpvfs", "-lrumpnet", "-lrumpnet_net", "-lrumpnet_netinet",
                   "unix://" + sock], env=env)
        rows = []
        try:
            # 1. stat() round trips beside the bare echo, in three placements
            rows.extend(_stat_rows(d, prog, lib))

            # 1b. a UDP datagram to itself over the kernel's loopback beside the host's
            udp = [float(subprocess.run([prog, "udp", "-", "2000"], env=hj, capture_output=True,
                                        check=True).stdout) for _ in range(5)]
            udp_host = [float(subprocess.run([prog, "udp", "-", "2000"], capture_output=True,
                                             check=True).stdout) for _ in range(5)]
            per, per_host = statistics.median(udp), statistics.median(udp_host)
            rows.append(("UDP sendto+recv over 127.0.0.1, hijacked C program", "%.0f datagrams/s (%.1f us)" % (
                1 / per, per * 1e6), "the host's stack: %.1f us" % (per_host * 1e6), "%.1fx" % (per / per_host)))

            # 1c. curl from python3 -m http.server, both hijacked, over the kernel's TCP beside the host's
            if shutil.which("curl"):
                rows.append(_http_row(d, hj))

            # 2. cat of a big rumpfs file
            nbytes = BIG_MIB << 20
            host_big = os.path.join(d, "big")        # random bytes: no file system shortcut for zeros
            run_quiet(["dd", "if=/dev/urandom", "of=" + host_big, "bs=1M", "count=%d" % BIG_MIB])
            t0 = time.perf_counter()
            run_quiet(["dd", "if=" + host_big, "of=/rump/big", "bs=1M"], env=hj)
            write_s = time.perf_counter() - t0
            ours = median_time(lambda: run_quiet(["cat", "/rump/big"], env=hj), 3)
            base = median_time(lambda: run_quiet(["cat", host_big]), 3)
            rows.append(("cat of a %d MiB rumpfs file" % BIG_MIB, "%.0f MB/s" % mbps(nbytes, ours),
                         "cat of a host file: %.0f MB/s" % mbps(nbytes, base), "%.2fx" % (ours / base)))
            rows.append(("dd of=/rump/big bs=1M (writing it)", "%.0f MB/s" % mbps(nbytes, write_s), "", ""))
            run_quiet(["rm", "/rump/big"], env=hj)
            os.unlink(host_big)

            # 3. a 1,000-file tree: cp -R in, ls -lR
            tree = os.path.join(d, "tree")
            for i in range(20):
                sub = os.path.join(tree, "d%02d" % i)
                os.makedirs(sub)
                for j in range(50):
                    with open(os.path.join(sub, "f%02d" % j), "wb") as f:
                        f.write(os.urandom(1024 + 37 * j))
            k = [0]

            def cp_rump():
                k[0] += 1
                run_quiet(["cp", "-R", tree, "/rump/t%d" % k[0]], env=hj)

            def cp_host():
                k[0] += 1
                run_quiet(["cp", "-R", tree, os.path.join(d, "h%d" % k[0])])
            runs = max(3, RUNS // 5)
            ours = median_time(cp_rump, runs)
            base = median_time(cp_host, runs)
            rows.append(("cp -R of a 1,000-file tree into /rump", "%.0f ms" % (ours * 1e3),
                         "cp -R on the host: %.0f ms" % (base * 1e3), "%.2fx" % (ours / base)))
            ours = median_time(lambda: run_quiet(["ls", "-lR", "/rump/t1"], env=hj), runs)
            base = median_time(lambda: run_quiet(["ls", "-lR", os.path.join(d, "h%d" % k[0])]), runs)
            rows.append(("ls -lR of it", "%.0f ms" % (ours * 1e3), "ls -lR on the host: %.0f ms" % (
                base * 1e3), "%.2fx" % (ours / base)))

            # 4. start-up of a program that never touches the kernel
            ours = median_time(lambda: run_quiet(["/bin/true"], env=hj), RUNS * 4)
            base = median_time(lambda: run_quiet(["/bin/true"], env=env), RUNS * 4)
            rows.append(("start-up: /bin/true with the library", "%.2f ms" % (ours * 1e3),
                         "without: %.2f ms" % (base * 1e3), "+%.2f ms" % ((ours - base) * 1e3)))
        finally:
            subprocess.run([tool("rump.halt")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        table("librumphijack (medians)", rows, ("what", "ours", "baseline", "ratio"))


if __name__ == "__main__":
    main()
