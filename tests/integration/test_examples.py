"""The example sessions (what `make demo` shows) run to the end and say what the tutorial says."""
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "examples")


@pytest.mark.parametrize("script,expect", [
    ("first-server.sh", ["rump.sysctl: prog init failed: No such file or directory",
                         "second level name 'generic' in 'vfs.generic.fstypes' is invalid"]),
    ("cgd-session.sh", ["195+1 records in", "rump.dd: /dk: Device busy",
                        "ok: partition e differs from the plaintext", "0c38000"]),
    ("ffs-makefs-session.sh", ["32, 7200, 14368, 21536,",
                               "/dk               13423          0      12752   0%        1"
                               "     6781    0% /mnt",
                               "/dk on /mnt type ffs (local)",
                               "** File system is clean; not checking",
                               "ok: nethack.img holds the tree and is clean"]),
    ("network-session.sh", ["3 packets transmitted, 3 packets received, 0.0% packet loss",
                            "? (10.1.1.2) at ", "hello from kernel b",
                            "tcp    10.1.1.2.http-alt     *.*",
                            "10.1.1.2.8080          *.*                    LISTEN",
                            "TIME_WAIT", " connection request"]),   # how many: the client retries until b listens
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


# The tour's whole output: every step says what it shows before its command runs.
TOUR = r"""
# Start a rump kernel server: it detaches, and exits 0 once its socket accepts.
\$ rump_server unix://rumpserver

# The server is a unix socket in this directory, only for its owner \(mode 0600\).
\$ ls -l rumpserver
srw------- 1 \S+ \S+ 0 .* rumpserver

# Clients find the server through RUMP_SERVER.
\$ export RUMP_SERVER=unix://rumpserver

# The kernel's host name: rump-<server pid>.<host name>.rumpdomain.
\$ rump.sysctl kern.hostname
kern.hostname = rump-\d{5,}\..+\.rumpdomain

# It is a NetBSD kernel, whatever the host runs; two virtual CPUs by default.
\$ rump.sysctl kern.ostype kern.osrelease hw.ncpu
kern.ostype = NetBSD
kern.osrelease = 7.99.34
hw.ncpu = 2

# Its modules: only the kernel core and the remote system call server.
\$ rump.modstat
NAME             CLASS    SOURCE   FLAG REFS  SIZE    REQUIRES 
rump             misc     builtin  -    0     -       -
sysproxy         misc     builtin  -    0     -       -

# This server was started without -lrumpvfs, so it has no file systems: vfs exists
# \(it does on every NetBSD kernel\) but is empty, and sysctl says the second level is invalid.
\$ rump.sysctl vfs.generic.fstypes
rump.sysctl: second level name 'generic' in 'vfs.generic.fstypes' is invalid

# Halt the kernel: the server exits and removes its socket.
\$ rump.halt

# Now no server answers: the command cannot connect \(prog init failed\).
\$ rump.sysctl kern.hostname
rump.sysctl: prog init failed: No such file or directory

# And the socket is gone.
\$ ls -l rumpserver
ls: .*rumpserver.*
"""


def test_tour_explains_each_step(rumpenv):
    import re
    env = dict(rumpenv)
    env.pop("RUMP_SERVER", None)
    r = subprocess.run(["bash", os.path.join(EXAMPLES, "first-server.sh")], env=env, capture_output=True,
                       timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stderr == b""
    assert re.fullmatch(TOUR, r.stdout.decode()), r.stdout.decode()
