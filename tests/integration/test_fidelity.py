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
