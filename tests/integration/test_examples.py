"""The example sessions (what `make demo` shows) run to the end and say what the tutorial says."""
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "examples")


@pytest.mark.parametrize("script,expect", [
    ("first-server.sh", ["rump.sysctl: prog init failed: No such file or directory",
                         "top level name 'vfs' in 'vfs.generic.fstypes' is invalid"]),
    ("cgd-session.sh", ["195+1 records in", "rump.dd: /dk: Device busy",
                        "ok: partition e differs from the plaintext", "0c38000"]),
    ("ffs-makefs-session.sh", ["32, 7200, 14368, 21536,",
                               "/dk               13423          0      12752   0%        1"
                               "     6781    0% /mnt",
                               "/dk on /mnt type ffs (local)",
                               "** File system is clean; not checking",
                               "ok: nethack.img holds the tree and is clean"]),
])
def test_example(script, expect, rumpenv):
    env = dict(rumpenv, RUMPTOOLS_CGD_CALIBRATE_US="50000")
    env.pop("RUMP_SERVER", None)
    r = subprocess.run(["bash", os.path.join(EXAMPLES, script)], env=env, capture_output=True,
                       timeout=300, stdin=subprocess.DEVNULL)
    out = r.stdout.decode() + r.stderr.decode()
    assert r.returncode == 0, out
    for text in expect:
        assert text in out
