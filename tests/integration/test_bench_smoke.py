"""The benchmarks that measure sysproxy's per-call cost still measure it: short runs that
must answer every call they count and report figures that are not zero."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from rumptools.hijack import library_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_dispatch_bench_answers_every_call():
    env = dict(os.environ, BENCH_CALLS="300", BENCH_RUNS="1")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "bench_dispatch.py")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    figures = re.findall(r"(getpid|stat of /x)\S*: reader \+ dispatch \+ kernel\s+([\d.]+) us", out.stdout)
    assert [f[0] for f in figures] == ["getpid", "stat of /x"], out.stdout
    assert all(float(f[1]) > 0 for f in figures), out.stdout


def test_hijack_stat_rows_in_each_placement():
    if shutil.which("gcc") is None or not os.path.exists(library_path()):
        pytest.skip("needs gcc and the built library")
    sys.path.insert(0, ROOT)
    try:
        from bench import bench_hijack
    finally:
        sys.path.remove(ROOT)
    bench_hijack.STAT_ROUNDS = 1
    with tempfile.TemporaryDirectory() as d:
        prog = os.path.join(d, "statloop")
        with open(prog + ".c", "w") as f:
            f.write(bench_hijack.CPROG)
        subprocess.run(["gcc", "-O2", "-o", prog, prog + ".c"], check=True)
        rows = bench_hijack._stat_rows(d, prog, library_path())
    names = [r[0].rsplit(", ", 1)[1] for r in rows]
    want = ["unpinned"] if shutil.which("taskset") is None or os.cpu_count() < 2 else \
        ["same CPU", "two CPUs", "unpinned"]
    assert names == want
    for _what, ours, base, ratio in rows:
        assert float(re.match(r"(\d+) calls/s", ours).group(1)) > 0
        assert float(re.search(r"([\d.]+) us", base).group(1)) > 0
        assert float(ratio.rstrip("x")) > 0
