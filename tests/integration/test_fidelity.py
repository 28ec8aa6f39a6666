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


# ---------------------------------------------------------------- 1. the sysctl tree

BARE_NAMES = """kern.ostype kern.osrelease kern.osrevision kern.version kern.maxproc kern.maxfiles
kern.securelevel kern.hostname kern.hostid kern.clockrate kern.domainname kern.rawpartition kern.msgbufsize
kern.pipe.maxkvasz kern.pipe.maxloankvasz kern.pipe.maxbigpipes kern.pipe.nbigpipes kern.pipe.kvasize
kern.urandom kern.hardclock_ticks kern.boottime kern.module.autoload kern.module.verbose
kern.timecounter.choice kern.timecounter.hardware kern.timecounter.timestepwarnings
kern.uidinfo.proccnt kern.uidinfo.lwpcnt kern.uidinfo.sbsize kern.posix.semmax kern.direct_select
kern.rump.verbose kern.rump.callouts kern.nprocs kern.nfiles kern.nlwps
kern.sysproxy.clients kern.sysproxy.threads kern.sysproxy.workers
kern.sysproxy.idle_workers kern.sysproxy.sleeping kern.sysproxy.queued kern.sysproxy.fork_grace
kern.sysproxy.handshake_timeout
hw.machine hw.model hw.ncpu hw.byteorder hw.physmem hw.pagesize hw.machine_arch hw.alignbytes
hw.physmem64 hw.ncpuonline""".split() + ["user." + n for n in """cs_path bc_base_max bc_dim_max
bc_scale_max bc_string_max coll_weights_max expr_nest_max line_max re_dup_max posix2_version
posix2_c_bind posix2_c_dev posix2_char_term posix2_fort_dev posix2_fort_run posix2_localedef
posix2_sw_dev posix2_upe stream_max tzname_max atexit_max""".split()] + \
    ["proc.curproc.corename"] + \
    ["proc.curproc.rlimit.%s.%s" % (n, w) for n in """cputime filesize datasize stacksize coredumpsize
memoryuse memorylocked maxproc descriptors sbsize vmemoryuse maxlwp""".split() for w in ("soft", "hard")] + \
    ["proc.curproc.stopfork", "proc.curproc.stopexec", "proc.curproc.stopexit", "security.models.suser.name"]

HW = (b"hw.machine = amd64\nhw.model = rumpcore (virtual)\nhw.ncpu = 2\nhw.byteorder = 1234\n"
      b"hw.physmem = %d\nhw.pagesize = 4096\nhw.machine_arch = x86_64\nhw.alignbytes = 7\n"
      b"hw.physmem64 = %d\nhw.ncpuonline = 2\n")


def _names(listing):
    """The names of `sysctl -a` lines, in order (kern.version's value ends in a blank line)."""
    import re
    return [re.match(r"([\w.]+)(?: = |: )", line).group(1) for line in listing.decode().splitlines() if line]


def test_bare_tree_in_netbsd_order(server):
    r = server.run("rump.sysctl", "-a")
    assert (r.returncode, r.stderr) == (0, b"")
    assert _names(r.stdout) == BARE_NAMES
    r = server.run("rump.sysctl", "hw")
    assert (r.returncode, r.stdout, r.stderr) == (0, HW % (256 << 20, 256 << 20), b"")
    r = server.run("rump.sysctl", "kern.clockrate", "kern.rawpartition", "kern.timecounter", "user.posix2_version",
                   "security")
    assert r.stdout == (b"kern.clockrate: tick = 10000, tickadj = 40, hz = 100, profhz = 100, stathz = 100\n"
                        b"kern.rawpartition = 3\n"
                        b"kern.timecounter.choice = rumpclk(q=0, f=100 Hz) dummy(q=-1000000, f=1000000 Hz)\n"
                        b"kern.timecounter.hardware = rumpclk\nkern.timecounter.timestepwarnings = 0\n"
                        b"user.posix2_version = 200112\nsecurity.models.suser.name = Traditional NetBSD: Superuser\n")


def test_physmem_is_the_kernels_memory(servers):
    h = servers("-r", "64m", name="mem")
    assert h.run("rump.sysctl", "hw").stdout == HW % (64 << 20, 64 << 20)


def test_rumpvfs_nodes(servers):
    h = servers("-lrumpvfs", name="vfs")
    names = _names(h.run("rump.sysctl", "-a").stdout)
    assert names[names.index("kern.hostid") + 1:names.index("kern.clockrate")] == []
    assert names.index("kern.maxvnodes") == names.index("kern.osrevision") + 2       # number 5, after version
    assert [n for n in names if n.startswith(("vm.", "vfs."))] == [
        "vm.bufcache", "vm.bufmem", "vm.bufmem_lowater", "vm.bufmem_hiwater",
        "vfs.generic.maxtypenum", "vfs.generic.magiclinks", "vfs.generic.fstypes",
        "vfs.generic.dirhash.memused", "vfs.generic.dirhash.maxmem",
        "vfs.sync.delay", "vfs.sync.filedelay", "vfs.sync.dirdelay", "vfs.sync.metadelay",
        "vfs.wapbl.flush_disk_cache", "vfs.wapbl.verbose_commit"]
    assert names[names.index("hw.ncpuonline") + 1] == "hw.firmware.path"
    r = h.run("rump.sysctl", "vfs.generic.fstypes", "vm.bufcache", "hw.firmware.path")
    assert r.stdout == (b"vfs.generic.fstypes = rumpfs\nvm.bufcache = 15\nhw.firmware.path = "
                        b"/libdata/firmware:/usr/libdata/firmware:/usr/pkg/libdata/firmware:/usr/pkg/libdata\n")


def test_rlimits_are_per_process_and_writable(server):
    # one command line is one process: its write is seen by its own read
    r = server.run("rump.sysctl", "-w", "proc.curproc.rlimit.descriptors.soft=64",
                   "proc.curproc.rlimit.descriptors.soft", "proc.curproc.rlimit.cputime.soft=unlimited",
                   "proc.curproc.rlimit.maxproc.hard=100", "proc.curproc.rlimit.maxproc")
    assert (r.returncode, r.stderr) == (0, b"")
    assert r.stdout == (b"proc.curproc.rlimit.descriptors.soft: 128 -> 64\n"
                        b"proc.curproc.rlimit.descriptors.soft = 64\n"
                        b"proc.curproc.rlimit.cputime.soft: unlimited -> unlimited\n"
                        b"proc.curproc.rlimit.maxproc.hard: 532 -> 100\n"
                        b"proc.curproc.rlimit.maxproc.soft = 100\nproc.curproc.rlimit.maxproc.hard = 100\n")
    # the next command is another process, with proc0's limits
    r = server.run("rump.sysctl", "-n", "proc.curproc.rlimit.descriptors.soft")
    assert r.stdout == b"128\n"
    r = server.run("rump.sysctl", "-w", "proc.curproc.rlimit.maxproc.soft=1000")
    assert (r.returncode, r.stdout, r.stderr) == (
        1, b"", b"rump.sysctl: proc.curproc.rlimit.maxproc.soft: Invalid argument\n")
    r = server.run("rump.sysctl", "-w", "proc.curproc.rlimit.maxproc.soft=lots")
    assert (r.returncode, r.stderr) == (
        1, b"rump.sysctl: proc.curproc.rlimit.maxproc.soft: 'lots' is not a valid limit\n")
    r = server.run("rump.sysctl", "-w", "proc.curproc.corename=%n.%p.core", "proc.curproc.corename")
    assert r.stdout == b"proc.curproc.corename: %n.core -> %n.%p.core\nproc.curproc.corename = %n.%p.core\n"


def test_rlimits_follow_fork(server, tmp_path):
    code = ("import os, sys\nfrom rumptools.sp import client\nfrom rumptools.abi.syscalls import SYSCTL_READ, "
            "SYSCTL_WRITE\nc = client.init('forker')\n"
            "c.sysctl('proc.curproc.rlimit.descriptors.soft', SYSCTL_WRITE, 77)\n"
            "pid = c.fork()\n"
            "if pid == 0:\n"
            "    print(c.sysctl('proc.curproc.rlimit.descriptors.soft', SYSCTL_READ, None)[1], flush=True)\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)\n")
    import sys
    r = server.run(sys.executable, "-c", code)
    assert (r.returncode, r.stdout) == (0, b"77\n"), r.stderr


# ---------------------------------------------------------------- 2. sysctl messages

def test_sysctl_messages(server):
    cases = [
        (["vfs.generic.fstypes"], b"", b"rump.sysctl: second level name 'generic' in 'vfs.generic.fstypes' is invalid\n"),
        (["nosuch.thing"], b"", b"rump.sysctl: top level name 'nosuch' in 'nosuch.thing' is invalid\n"),
        (["-w", "kern.ostype=Linux"], b"", b"rump.sysctl: kern.ostype: Operation not permitted\n"),
        (["kern.ostype=Linux"], b"", b"rump.sysctl: Must specify -w to set variables\n"),
        (["kern.arandom"], b"", b"rump.sysctl: kern.arandom: this type is unknown to this program\n"),
        (["-w", "kern.hostid=12x"], b"", b"rump.sysctl: 12x: not a number\n"),
        (["-w", "kern.hostid=0x100000000"], b"", b"rump.sysctl: 0x100000000: Result too large or too small\n"),
        # a bad name stops the command before the names after it
        (["kern.nosuch", "kern.ostype"], b"", b"rump.sysctl: second level name 'nosuch' in 'kern.nosuch' is invalid\n"),
        (["-q", "kern.nosuch"], b"", b""),
    ]
    for args, stdout, stderr in cases:
        r = server.run("rump.sysctl", *args)
        assert (r.returncode, r.stdout, r.stderr) == (1, stdout, stderr), args
    r = server.run("rump.sysctl", "vfs", "-x", "kern.ostype")     # getopt stops at the first name
    assert (r.returncode, r.stdout, r.stderr) == (
        1, b"vfs: no children\n", b"rump.sysctl: top level name '-x' in '-x' is invalid\n")
    r = server.run("rump.sysctl", "-x", "vfs", "kern.ostype", "kern.osrevision")
    assert (r.returncode, r.stdout, r.stderr) == (
        0, b"vfs: no children\nkern.ostype = 4e657442534400\nkern.osrevision = 0x2f9fd308\n", b"")


# ---------------------------------------------------------------- 5. cgdconfig exit statuses

def test_cgdconfig_statuses(servers, tmp_path):
    h = servers("-lrumpvfs", "-lrumpkern_crypto", "-lrumpdev", "-lrumpdev_disk", "-lrumpdev_cgd",
                "-d", "key=/dk,hostpath=dk.img,size=1m", name="cgd")
    (tmp_path / "p").write_text("algorithm aes-cbc;\nkeylength 128;\nkeygen storedkey key "
                                "AAAAgAAAAAAAAAAAAAAAAAAAAAA=;\n")
    cases = [   # argv, exit status, stderr
        (["-g", "-k", "nosuch", "aes-cbc"], 255,
         b'rump.cgdconfig: unrecognized key generation method "nosuch"\n'
         b"rump.cgdconfig: Failed to generate defaults for keygen\n"),
        (["-g", "rot13", "128"], 255, b'rump.cgdconfig: unknown algorithm "rot13"\n'),
        (["cgd0", "/dk", "nope"], 255,
         b'rump.cgdconfig: failed to open params file "nope": No such file or directory\n'),
        (["-u", "cgd0"], 255, b"rump.cgdconfig: ioctl: Device not configured\n"),
        (["cgd0", "/dk", "p"], 0, b""),
        (["cgd0", "/dk", "p"], 16, b"rump.cgdconfig: ioctl: Device busy\n"),
        (["-u", "cgd0"], 0, b""),
        (["cgd0", "/nosuch", "p"], 2, b"rump.cgdconfig: ioctl: No such file or directory\n"),
    ]
    for argv, status, stderr in cases:
        r = h.run("rump.cgdconfig", *argv)
        assert (r.returncode, r.stdout, r.stderr) == (status, b"", stderr), argv
    # 4. the raw cgd device ends like any raw device
    import re
    assert h.run("rump.cgdconfig", "cgd0", "/dk", "p").returncode == 0
    r = h.run("rump.dd", "if=/dev/zero", "of=/dev/rcgd0d", "bs=64k", "count=20")
    assert r.returncode == 1 and r.stdout == b""
    assert re.fullmatch(re.escape("rump.dd: /dev/rcgd0d: end of device\n") + _dd_summary("17+0", "16+0", 1 << 20),
                        r.stderr.decode()), r.stderr
