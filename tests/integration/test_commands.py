"""rump.sysctl, rump.modstat, rump.modload, rump.modunload, rump.halt as a user runs them."""
import pytest

from rumptools.commands.modstat import format_table


def out(r):
    return r.stdout.decode()


def test_sysctl_forms(server):
    assert out(server.run("rump.sysctl", "kern.ostype")) == "kern.ostype = NetBSD\n"
    assert out(server.run("rump.sysctl", "-n", "kern.ostype")) == "NetBSD\n"
    assert out(server.run("rump.sysctl", "-e", "kern.ostype")) == "kern.ostype=NetBSD\n"
    assert out(server.run("rump.sysctl", "-q", "kern.ostype")) == ""
    assert out(server.run("rump.sysctl", "kern.version")) == "kern.version = NetBSD 7.99.34 (RUMP-ROAST)\n\n"
    assert out(server.run("rump.sysctl", "-x", "hw.ncpu")) == "hw.ncpu = 0x00000002\n"     # %0*x, sizeof(int)
    assert out(server.run("rump.sysctl", "-d", "kern.hostname")) == "kern.hostname: System hostname\n"
    both = out(server.run("rump.sysctl", "kern.ostype", "hw.machine_arch"))
    assert both == "kern.ostype = NetBSD\nhw.machine_arch = x86_64\n"


def test_sysctl_subtree_and_all(server):
    hw = out(server.run("rump.sysctl", "hw")).splitlines()
    assert "hw.ncpu = 2" in hw and all(line.startswith("hw.") for line in hw)
    everything = out(server.run("rump.sysctl", "-a"))
    assert "kern.hostname = rump-" in everything and "hw.machine = amd64" in everything
    assert "\nvfs." not in everything


def test_sysctl_write(server):
    r = server.run("rump.sysctl", "-w", "kern.hostname=golem.localhost")
    assert r.returncode == 0
    assert out(r).startswith("kern.hostname: rump-") and out(r).endswith(" -> golem.localhost\n")
    assert out(server.run("rump.sysctl", "-n", "kern.hostname")) == "golem.localhost\n"
    assert out(server.run("rump.sysctl", "-nw", "kern.hostid=7")) == "7\n"
    r = server.run("rump.sysctl", "kern.hostname=x")
    assert r.returncode == 1 and r.stderr.decode() == "rump.sysctl: Must specify -w to set variables\n"
    r = server.run("rump.sysctl", "-w", "kern.ostype=Linux")
    assert r.returncode == 1
    assert r.stderr.decode() == "rump.sysctl: kern.ostype: Operation not permitted\n"
    r = server.run("rump.sysctl", "-w", "kern.hostid=many")
    assert r.returncode == 1 and r.stderr.decode() == "rump.sysctl: many: not a number\n"


@pytest.mark.parametrize("name,message", [
    ("nosuch", "top level name 'nosuch' in 'nosuch' is invalid"),
    ("kern.nosuch", "second level name 'nosuch' in 'kern.nosuch' is invalid"),
    ("vfs.generic.fstypes", "second level name 'generic' in 'vfs.generic.fstypes' is invalid"),
    ("kern.ostype.x", "third level name 'x' in 'kern.ostype.x' is invalid"),
])
def test_sysctl_bad_names(server, name, message):
    r = server.run("rump.sysctl", name)
    assert r.returncode == 1 and r.stderr.decode() == "rump.sysctl: %s\n" % message


def test_sysctl_usage(server):
    r = server.run("rump.sysctl")
    assert r.returncode == 1 and r.stderr.decode().startswith("usage:\trump.sysctl [-dneq]")


def test_modstat_modload_modunload(server):
    table = out(server.run("rump.modstat"))
    assert table.splitlines()[0].split() == ["NAME", "CLASS", "SOURCE", "FLAG", "REFS", "SIZE", "REQUIRES"]
    assert "rump " in table and "builtin" in table
    assert server.run("rump.modload", "rumpkern_crypto").returncode == 0
    assert server.run("rump.modload", "rumpdev").returncode == 0
    table = out(server.run("rump.modstat"))
    assert [line.split()[0] for line in table.splitlines()[1:]] == ["crypto", "dev", "rump", "sysproxy"]
    assert "filesys" in table
    r = server.run("rump.modload", "rumpkern_crypto")
    assert r.returncode == 1 and "File exists" in r.stderr.decode()
    r = server.run("rump.modload", "rumpkern_tty")
    assert r.returncode == 1 and "not available yet" in r.stderr.decode()
    r = server.run("rump.modload", "bogus")
    assert r.returncode == 1 and "unknown component" in r.stderr.decode()
    assert server.run("rump.modunload", "crypto").returncode == 0
    r = server.run("rump.modunload", "rump")
    assert r.returncode == 1 and r.stderr.decode() == "rump.modunload: rump: Device busy\n"
    r = server.run("rump.modunload", "crypto")
    assert r.returncode == 1 and "No such file or directory" in r.stderr.decode()
    assert out(server.run("rump.modstat", "dev")).splitlines()[1].startswith("dev ")


def test_modstat_table_format():
    text = format_table([("vfs", "misc", "builtin", 2, ""), ("cgd", "driver", "filesys", 0, "vfs,dev")])
    lines = text.splitlines()
    assert lines[0] == "NAME             CLASS    SOURCE   FLAG REFS  SIZE    REQUIRES "
    assert lines[1] == "cgd              driver   filesys  -    0     -       vfs,dev"
    assert lines[2] == "vfs              misc     builtin  -    2     -       -"
    wide = format_table([("a_module_name_of_20c", "misc", "builtin", 0, "")]).splitlines()
    assert wide[0].startswith("NAME                 CLASS") and wide[1].startswith("a_module_name_of_20c misc")


HEADER = "NAME             CLASS    SOURCE   FLAG REFS  SIZE    REQUIRES \n"


def test_modstat_exact_bytes(server):
    r = server.run("rump.modstat")
    assert (r.returncode, r.stderr) == (0, b"")
    assert out(r) == (HEADER +
                      "rump             misc     builtin  -    0     -       -\n"
                      "sysproxy         misc     builtin  -    0     -       -\n")
    for args in (["-n", "ffs"], ["ffs"]):
        r = server.run("rump.modstat", *args)
        assert (r.returncode, out(r), r.stderr) == (0, HEADER, b""), args


def test_halt_usage_and_errors(server, tmp_path):
    r = server.run("rump.halt", "-x")
    assert r.returncode == 1 and r.stderr.decode().endswith("usage: rump.halt [-dhn]\n")
    r = server.run("rump.halt", env={"RUMP_SERVER": "unix://" + str(tmp_path / "none")})
    assert r.returncode == 1 and r.stderr.decode() == "rump.halt: init failed: No such file or directory\n"
    r = server.run("rump.sysctl", "kern.ostype", env={"RUMP_SERVER": "bogus"})
    assert r.returncode == 1
    assert r.stderr.decode() == "rump_sp: invalid locator ``bogus''\nrump.sysctl: prog init failed: Invalid argument\n"
