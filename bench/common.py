"""Helpers for benchmarks: medians of repeated runs, pinning, a results table."""
import os
import shutil
import statistics
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)


def tool(name):
    return os.path.join(BIN, name)


def pinned(argv, cpu=0):
    """Prefix a command with taskset so it runs on one CPU."""
    if shutil.which("taskset"):
        return ["taskset", "-c", str(cpu)] + argv
    return argv


def median_time(fn, runs):
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def run_quiet(argv, env=None, cwd=None):
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)


def table(title, rows, headers):
    print()
    print(title)
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths)))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    sys.stdout.flush()


def timed_shell(shell, env, runs):
    """Median wall time of a shell pipeline run `runs` times."""
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(["bash", "-c", shell], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def mbps(nbytes, seconds):
    """Throughput in MB/s (10^6 bytes per second)."""
    return nbytes / seconds / 1e6
