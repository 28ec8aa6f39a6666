"""rump_server's options and their errors, as specs/rump_server.md gives them."""
import subprocess

import pytest

from tests.conftest import cmd


def run_server(tmp_path, rumpenv, *args):
    return subprocess.run([cmd("rump_server")] + list(args), cwd=str(tmp_path), env=rumpenv,
                          capture_output=True, timeout=30)


USAGE = "usage: rump_server [-s] [-c ncpu] [-d drivespec] [-l libs] [-m modules] bindurl\n"


@pytest.mark.parametrize("args", [[], ["-x", "unix://s"], ["unix://a", "unix://b"], ["-c"]])
def test_usage(tmp_path, rumpenv, args):
    r = run_server(tmp_path, rumpenv, *args)
    assert r.returncode == 1
    assert r.stderr.decode().endswith(USAGE)


def test_ncpu_memlimit_verbose(servers):
    h = servers("-c", "4", "-r", "64m", "-v", foreground=True)
    assert h.run("rump.sysctl", "-n", "hw.ncpu").stdout == b"4\n"
    assert h.run("rump.sysctl", "-n", "hw.physmem64").stdout == b"%d\n" % (64 << 20)
    assert h.run("rump.halt").returncode == 0
    out, _ = h.procs[0].communicate(timeout=10)
    assert b"rump kernel booted" in out


def test_default_two_cpus(server):
    assert server.run("rump.sysctl", "-n", "hw.ncpu").stdout == b"2\n"


@pytest.mark.parametrize("args,message", [
    (["-c", "0"], "CPU count needs to be between 1 and"),
    (["-c", "lots"], "CPU count needs to be between 1 and"),
    (["-r", "12q"], "uvm_init: invalid RUMP_MEMLIMIT: 12q"),
    (["-r", "1G"], "uvm_init: invalid RUMP_MEMLIMIT: 1G"),
    (["-r", "0"], "uvm_init: no memory available"),       # issue 8 item 16: was ignored
    (["-r", "0k"], "uvm_init: no memory available"),
])
def test_bad_values(tmp_path, rumpenv, args, message):
    r = run_server(tmp_path, rumpenv, *args, "unix://s")
    assert r.returncode == 1 and message in r.stderr.decode()


def test_small_memlimit_warns(servers):
    h = servers("-r", "512k", foreground=True)
    h.procs[0].terminate()
    _out, err = h.procs[0].communicate(timeout=10)
    assert b"<1MB RAM limit" in err


@pytest.mark.parametrize("lib,why", [
    ("rumpnosuch", "rumpnosuch: unknown component"),
    ("rumpkern_tty", "rumpkern_tty: component not available yet"),
])
def test_bad_libraries(tmp_path, rumpenv, lib, why):
    r = run_server(tmp_path, rumpenv, "-l" + lib, "unix://s")
    assert r.returncode == 1
    assert r.stderr.decode() == 'failed to load -libraries, last error from "%s":\n  %s\n' % (lib, why)


def test_missing_requirement(tmp_path, rumpenv):
    r = run_server(tmp_path, rumpenv, "-lrumpdev_cgd", "-lrumpvfs", "unix://s")
    assert r.returncode != 0
    assert "rumpdev_cgd requires" in r.stderr.decode()


def test_libraries_in_any_form_and_order(servers):
    h = servers("-l", "librumpkern_crypto.so", "-lrumpdev")
    out = h.run("rump.modstat").stdout.decode()
    assert "crypto " in out and "dev " in out


@pytest.mark.parametrize("spec,message,usage", [
    ("key=/dk", "incomplete drivespec", True),
    ("hostpath=x,size=1m", "incomplete drivespec", True),
    ("key=/dk,hostpath=x,size=1m,bogus=1", "invalid dtoken", True),
    ("key=/dk,key=/dk2,hostpath=x,size=1", "key already given", True),
    ("key=/dk,hostpath=x,hostpath=y,size=1", "hostpath already given", True),
    ("key=/dk,hostpath=x,size=1,size=2", "size already given", True),
    ("key=/dk,hostpath=x,size=1,offset=1,offset=2", "offset already given", True),
    ("key=/dk,hostpath=x,size=1,type=chr,type=blk", "type already specified", True),
    ("key=/dk,hostpath=x,size=host,offset=512", "cannot specify offset with size=host", False),
    ("key=/dk,hostpath=x,offset=512,size=host", "cannot specify offset with size=host", False),
    ("key=/dk,hostpath=x,size=1m,disklabel=e", "disklabel needs to be used alone", False),
    ("key=/dk,hostpath=x,disklabel=ee", "invalid label part", False),
    ("key=/dk,hostpath=x,disklabel=E", "invalid label part", False),
    ("key=/dk,hostpath=x,size=1m,type=fifo", "invalid type fifo", False),
    ("key=/dk,hostpath=x,size=12q", "-d size", False),
    ("key=dk,hostpath=x,size=1m", "must be an absolute path", False),
])
def test_bad_drivespecs(tmp_path, rumpenv, spec, message, usage):
    r = run_server(tmp_path, rumpenv, "-d", spec, "unix://s")
    err = r.stderr.decode()
    assert r.returncode == 1 and message in err
    assert err.endswith(USAGE) == usage
    assert not (tmp_path / "x").exists(), "a bad spec must not create the host file"


def test_m_loads_after_boot(servers):
    h = servers("-lrumpvfs", "-m", "rumpkern_crypto")
    table = h.run("rump.modstat").stdout.decode()
    line = [x for x in table.splitlines() if x.startswith("crypto ")][0]
    assert "filesys" in line


def test_m_failure(tmp_path, rumpenv):
    r = run_server(tmp_path, rumpenv, "-m", "rumpdev_cgd", "unix://s")
    assert r.returncode != 0 and "module load failed" in r.stderr.decode()


def test_rump_allserver_has_everything_available(servers):
    h = servers(server="rump_allserver")
    names = {line.split()[0] for line in h.run("rump.modstat").stdout.decode().splitlines()[1:]}
    assert {"rump", "sysproxy", "vfs", "cgd", "crypto", "disk", "dev", "ffs"} <= names
    assert h.run("rump.sysctl", "-n", "vfs.generic.fstypes").stdout == b"ffs rumpfs\n"
