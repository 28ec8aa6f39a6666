"""The kernel core on a fake host: boot, components, sysctl, processes, sleep, callouts, pipes."""
import pytest

from rumptools.kernel.kern import components
from rumptools.kernel.kern.kernel import ComponentError, Kernel
from rumptools.kernel.rumpuser.fake import FakeHost
from rumptools.abi import errnos
from rumptools.abi.errnos import RumpError
from rumptools.abi import syscalls as sc

from rumptools.kernel.kern.syscall import Syscalls

from .kernelkit import attach, boot, call, call_in_thread, spawn, wait_until


def test_identity_nodes():
    k = boot(ncpu=3, memlimit=64 << 20)
    p = spawn(k)
    assert call(k, p, "sysctl", "kern.hostname", sc.SYSCTL_READ, None)[1] == \
        "rump-04711.testhost.example.org.rumpdomain"
    assert call(k, p, "sysctl", "kern.ostype", 0, None)[1] == "NetBSD"
    assert call(k, p, "sysctl", "kern.version", 0, None)[1].endswith("(RUMP-ROAST)\n")
    assert call(k, p, "sysctl", "hw.ncpu", 0, None)[1] == 3
    assert call(k, p, "sysctl", "hw.physmem64", 0, None)[1] == 64 << 20


def test_hostname_writable_and_limits():
    k = boot()
    p = spawn(k)
    kind, old, _ = call(k, p, "sysctl", "kern.hostname", sc.SYSCTL_WRITE, "golem")
    assert kind == "string" and old.startswith("rump-")
    assert k.hostname == "golem"
    with pytest.raises(RumpError) as e:
        call(k, p, "sysctl", "kern.hostname", sc.SYSCTL_WRITE, "x" * 300)
    assert e.value.errno == errnos.EINVAL
    with pytest.raises(RumpError) as e:
        call(k, p, "sysctl", "kern.ostype", sc.SYSCTL_WRITE, "Linux")
    assert e.value.errno == errnos.EPERM
    with pytest.raises(RumpError) as e:
        call(k, p, "sysctl", "hw.ncpu", sc.SYSCTL_WRITE, "many")
    assert e.value.errno == errnos.EPERM


def test_component_nodes_only_when_loaded():
    k = boot()
    p = spawn(k)
    with pytest.raises(RumpError) as e:
        call(k, p, "sysctl", "vfs.generic.fstypes", 0, None)
    assert e.value.errno == errnos.ENOENT
    with pytest.raises(RumpError) as e:
        call(k, p, "sysctl", "kern.hostname.x", 0, None)
    assert e.value.errno == errnos.ENOTDIR
    assert "crypto" not in call(k, p, "sysctl", "kern", 0, None)[1]
    call(k, p, "modctl", sc.MODCTL_LOAD, "rumpkern_crypto")
    assert call(k, p, "sysctl", "kern.crypto.ciphers", 0, None)[0] == "string"
    call(k, p, "modctl", sc.MODCTL_UNLOAD, "crypto")
    with pytest.raises(RumpError):
        call(k, p, "sysctl", "kern.crypto.ciphers", 0, None)


def test_every_spec_component_is_known():
    for name in ("rumpvfs", "rumpfs_ffs", "rumpdev", "rumpdev_disk", "rumpdev_cgd", "rumpkern_crypto",
                 "rumpnet", "rumpnet_net", "rumpnet_netinet", "rumpnet_netinet6", "rumpnet_local",
                 "rumpnet_shmif", "rumpnet_virtif", "rumpdev_bpf", "rumpnet_config", "rumpfs_nfs",
                 "rumpfs_nfsserver", "rumpfs_tmpfs", "rumpdev_opencrypto", "rumpkern_sysproxy"):
        assert name in components.REGISTRY
    assert components.canonical("librumpvfs.so") == "rumpvfs"
    assert components.canonical("/usr/lib/librumpdev_cgd.so.0") == "rumpdev_cgd"
    assert components.canonical("ffs") == "rumpfs_ffs"
    assert components.canonical("nonesuch") is None


def test_missing_requirement_is_named():
    k = Kernel(FakeHost())
    with pytest.raises(ComponentError) as e:
        k.boot(["rumpdev_cgd"])
    assert "requires" in str(e.value) and "rumpkern_crypto" in str(e.value)


def test_unavailable_component_says_so():
    k = Kernel(FakeHost())
    with pytest.raises(ComponentError, match="not available yet"):
        k.boot(["rumpnet_netinet6", "rumpnet_net", "rumpnet"])


def test_load_order_follows_requirements():
    ordered, missing = components.closure(["rumpdev_cgd", "rumpvfs", "rumpdev_disk", "rumpdev", "rumpkern_crypto"])
    assert not missing
    assert ordered.index("rumpvfs") < ordered.index("rumpdev_disk") < ordered.index("rumpdev_cgd")


def test_modunload_refuses_what_is_needed():
    k = boot("rumpdev", "rumpkern_crypto")
    p = spawn(k)
    with pytest.raises(RumpError) as e:
        call(k, p, "modctl", sc.MODCTL_UNLOAD, "rump")
    assert e.value.errno == errnos.EBUSY
    with pytest.raises(RumpError) as e:
        call(k, p, "modctl", sc.MODCTL_LOAD, "rumpkern_crypto")
    assert e.value.errno == errnos.EEXIST
    rows = call(k, p, "modctl", sc.MODCTL_STAT, None)
    assert {r[0] for r in rows} >= {"rump", "sysproxy", "crypto", "dev"}


def test_unknown_syscall_is_enosys():
    k = boot()
    p = spawn(k)
    err, res, _after, _d = k.syscall(p, 9999, ())
    assert err == errnos.ENOSYS and res == ()


def test_kernel_bug_is_eio_not_a_crash():
    k = boot()
    p = spawn(k)
    buggy = Syscalls()
    buggy("sync")(lambda lwp: 1 / 0)
    attach(k, lambda ctx: ctx.add_syscalls(buggy))
    err, _res, _a, _d = k.syscall(p, sc.BY_NAME["sync"].number, ())
    assert err == errnos.EIO
    assert any("ZeroDivisionError" in line for line in k.console_lines)
    assert k.nlwps == 0


def test_nanosleep_in_virtual_time():
    k = boot()
    p = spawn(k)
    t, box = call_in_thread(k, p, "nanosleep", 5 * 10**9)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    k.host.clock.advance(4.0, k)
    t.join(0.2)
    assert t.is_alive(), "woke before its time"
    k.host.clock.advance(1.5, k)
    t.join(2)
    assert not t.is_alive() and box == {"result": 0}
    assert k.nlwps == 0


def test_exit_interrupts_sleepers_and_closes_files():
    k = boot()
    p = spawn(k)
    r, w = call(k, p, "pipe2", 0)
    assert k.nfiles == 2
    t, box = call_in_thread(k, p, "read", r, 10)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    with k.lock:
        k.procs.exit(p)
    t.join(2)
    assert box == {"error": errnos.EINTR}
    assert k.nfiles == 0 and k.nlwps == 0


def test_pipe_wakes_reader_and_eof():
    k = boot()
    p = spawn(k)
    r, w = call(k, p, "pipe2", 0)
    t, box = call_in_thread(k, p, "read", r, 100)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    assert call(k, p, "write", w, b"ping") == 4
    t.join(2)
    assert box == {"result": b"ping"}
    call(k, p, "close", w)
    assert call(k, p, "read", r, 10) == b""


def test_pipe_epipe_raises_sigpipe():
    k = boot()
    p = spawn(k)
    got = []
    p.signal_sink = got.append
    r, w = call(k, p, "pipe2", 0)
    call(k, p, "close", r)
    with pytest.raises(RumpError) as e:
        call(k, p, "write", w, b"x")
    assert e.value.errno == errnos.EPIPE and got == [13]


def test_nonblocking_pipe():
    k = boot()
    p = spawn(k)
    r, w = call(k, p, "pipe2", sc.O_NONBLOCK)
    with pytest.raises(RumpError) as e:
        call(k, p, "read", r, 1)
    assert e.value.errno == errnos.EAGAIN


def test_descriptor_calls():
    k = boot()
    p = spawn(k)
    r, w = call(k, p, "pipe2", sc.O_CLOEXEC)
    assert (r, w) == (0, 1)
    assert call(k, p, "fcntl", r, sc.F_GETFD, None) == sc.FD_CLOEXEC
    d = call(k, p, "dup", w)
    assert d == 2 and call(k, p, "fcntl", d, sc.F_GETFD, None) == 0
    assert call(k, p, "dup2", r, 7) == 7
    assert call(k, p, "fcntl", w, sc.F_DUPFD, 10) == 10
    assert call(k, p, "fcntl", w, sc.F_GETFL, None) & 3 == sc.O_WRONLY
    with pytest.raises(RumpError) as e:
        call(k, p, "close", 99)
    assert e.value.errno == errnos.EBADF
    with k.lock:
        p.files.exec_close()
    assert sorted(p.files.slots) == [2, 7, 10]
    with k.lock:
        child = k.procs.fork(p)
    assert sorted(child.files.slots) == [2, 7, 10]
    assert call(k, child, "write", 2, b"x") == 1


def test_callouts_fire_in_order_and_cancel():
    k = boot()
    fired = []
    with k.lock:
        k.callouts.schedule(2.0, fired.append, "b")
        k.callouts.schedule(1.0, fired.append, "a")
        c = k.callouts.schedule(1.5, fired.append, "never")
        k.callouts.cancel(c)
    k.host.clock.advance(3.0, k)
    assert fired == ["a", "b"]


def test_reboot_syncs_and_runs_hooks():
    k = boot()
    flushed = []
    attach(k, lambda ctx: ctx.add_sync_hook(lambda: flushed.append(1)))
    k.reboot(0)
    assert flushed == [1]
    assert k.console_lines[:2] == ["rump kernel halting...", "syncing disks... done"]
    k2 = boot()
    attach(k2, lambda ctx: ctx.add_sync_hook(lambda: flushed.append(2)))
    k2.reboot(sc.RB_NOSYNC)
    assert flushed == [1]


def test_partial_pipe_write_reports_its_count_when_its_sleep_fails():
    """Issue 8 item 11: a 100,000-byte pipe write whose sleep fails after 65,536 bytes
    went in returns 65,536, not the error (the error would lose what was written)."""
    from rumptools.abi.syscalls import BY_METHOD
    k = boot()
    p = spawn(k)
    r, w = call(k, p, "pipe2", 0)

    def refuse():
        raise RumpError(errnos.EAGAIN)      # what the old server's 128-sleeper cap did

    err, res, _after, _detail = k.syscall(p, BY_METHOD["write"].number, (w, b"q" * 100_000), refuse)
    assert (err, res) == (0, (65536,))
    assert call(k, p, "read", r, 100_000) == b"q" * 65536
