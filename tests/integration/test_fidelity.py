"""Issue 13: where a script written for NetBSD's rump tools would notice a difference.

Each test compares exact bytes and the exit status with what NetBSD's tools print.
"""
import subprocess

from tests.conftest import cmd


def run(argv, env, cwd):
    return subprocess.run([cmd(argv[0])] + list(argv[1:]), env=env, cwd=str(cwd),
                          capture_output=True, timeout=60)


# ---------------------------------------------------------------- 6. locators

def test_empty_rump_server_is_an_invalid_locator(rumpenv, tmp_path):
    env = dict(rumpenv, RUMP_SERVER="")
    r = run(["rump.sysctl", "kern.ostype"], env, tmp_path)
    assert (r.returncode, r.stdout) == (1, b"")
    assert r.stderr == b"rump_sp: invalid locator ``''\nrump.sysctl: prog init failed: Invalid argument\n"
    r = run(["rump.halt"], env, tmp_path)
    assert (r.returncode, r.stderr) == (1, b"rump_sp: invalid locator ``''\nrump.halt: init failed: Invalid argument\n")


def test_unset_rump_server(rumpenv, tmp_path):
    env = dict(rumpenv)
    env.pop("RUMP_SERVER", None)
    r = run(["rump.sysctl", "kern.ostype"], env, tmp_path)
    assert (r.returncode, r.stderr) == (
        1, b"error: RUMP_SERVER not set\nrump.sysctl: prog init failed: No such file or directory\n")


def test_rump_server_malformed_url_exits_einval(rumpenv, tmp_path):
    r = run(["rump_server", "notaurl"], rumpenv, tmp_path)
    assert (r.returncode, r.stdout) == (22, b"")
    assert r.stderr == b"rump_sp: invalid locator ``notaurl''\nrump server init failed: Invalid argument\n"
    r = run(["rump_server", "-s", "notaurl"], rumpenv, tmp_path)        # in the foreground: exit 1
    assert (r.returncode, r.stdout) == (1, b"")
    assert r.stderr == b"rump_sp: invalid locator ``notaurl''\nrump server init failed: Invalid argument\n"


# ---------------------------------------------------------------- 4. dd at the end of a device

def _dd_summary(records_in, records_out, nbytes):
    """dd's summary with the time and speed left as patterns (they vary)."""
    import re
    return (re.escape("%s records in\n%s records out\n%d bytes transferred in " % (records_in, records_out, nbytes))
            + r"\d+\.\d{3} secs \(\d+ bytes/sec\)\n")


def test_dd_at_the_end_of_block_and_raw_devices(servers):
    import re
    h = servers("-lrumpvfs", "-d", "key=/dk,hostpath=dk.img,size=64k",
                "-d", "key=/rdk,hostpath=rdk.img,size=64k,type=chr", name="ends")
    cases = [
        # writing past the end: block device EINVAL, raw device "end of device"
        (["if=/dev/zero", "of=/dk", "bs=512", "count=200"], "rump.dd: /dk: Invalid argument\n", ("129+0", "128+0", 65536)),
        (["if=/dev/zero", "of=/rdk", "bs=512", "count=200"], "rump.dd: /rdk: end of device\n", ("129+0", "128+0", 65536)),
        # skip= past the end of a block device: EINVAL, exit 1; exactly to the end: nothing, exit 0
        (["if=/dk", "of=/dev/null", "bs=512", "skip=200"], "rump.dd: /dk: Invalid argument\n", ("0+0", "0+0", 0)),
        (["if=/dk", "of=/dev/null", "bs=512", "skip=128"], "", ("0+0", "0+0", 0)),
    ]
    for args, message, summary in cases:
        r = h.run("rump.dd", *args)
        assert r.returncode == (1 if message else 0), (args, r.stderr)
        assert r.stdout == b""
        assert re.fullmatch(re.escape(message) + _dd_summary(*summary), r.stderr.decode()), (args, r.stderr)
