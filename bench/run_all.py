"""Run every bench/bench_*.py in turn (make bench)."""
import glob
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
status = 0
for script in sorted(glob.glob(os.path.join(here, "bench_*.py"))):
    print("==> %s" % os.path.basename(script), flush=True)
    status |= subprocess.run([sys.executable, script]).returncode
sys.exit(status)
