"""A short soak (about 15 s): hostile clients of every kind beside well-behaved ones
(bench/soak.py runs the full two minutes)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def rss_of(pid):
    """Resident set size of a host process, in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
