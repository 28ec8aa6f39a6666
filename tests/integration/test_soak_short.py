"""A short soak (about 15 s): hostile clients of every kind beside 8 well-behaved ones,
the must-holds of bench/soak.py (which `make soak` runs for the full two minutes)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from bench import soak  # noqa: E402


def test_short_soak(tmp_path):
    r = soak.run(15, str(tmp_path), handshake_timeout=2)
    assert r["errors"] == 0, r["error_samples"]
    assert r["calls"] > 1000
    assert r["p99"] < soak.P99_LIMIT, r
    assert r["rss_peak"] < r["rss_limit"], r
    assert r["halt_status"] == 0 and r["exit_seconds"] < soak.HALT_LIMIT and r["server_gone"], r
    assert r["held"]
