"""Bad arguments reach no Python traceback in the kernel: each gets NetBSD's errno.

The kernel's syscall wrapper answers EIO and writes a traceback to the
console for a kernel bug; a client's bad value must never take that path.
"""
import pytest

from rumptools.abi import errnos as E
from rumptools.abi.errnos import RumpError
from rumptools.abi.syscalls import BY_METHOD, F_GETFD, F_GETFL, F_SETFD, F_SETFL, O_RDONLY, O_RDWR
from rumptools.kernel.kern.stat import S_IFBLK
from rumptools.kernel.vfs.vnode import makedev

from .kernelkit import boot, call, errno_of, spawn


def no_tracebacks(k):
    bugs = [line for line in k.console_lines if "Traceback" in line or "failed" in line]
    assert not bugs, "\n".join(bugs)


@pytest.fixture
def k():
    kern = boot("rumpvfs", "rumpdev", "rumpdev_disk", "rumpkern_crypto", "rumpdev_cgd")
    yield kern
    no_tracebacks(kern)


@pytest.fixture
def p(k):
    return spawn(k)


@pytest.mark.parametrize("cmd", [F_SETFD, F_SETFL])
@pytest.mark.parametrize("arg", [b"\x01", (1,), ((),), "1"])
def test_fcntl_set_with_a_non_integer_is_einval(k, p, cmd, arg):
    fd = call(k, p, "open", "/dev/null", O_RDWR, 0)
    before = call(k, p, "fcntl", fd, F_GETFD, None), call(k, p, "fcntl", fd, F_GETFL, None)
    assert errno_of(k, p, "fcntl", fd, cmd, arg) == E.EINVAL
    assert (call(k, p, "fcntl", fd, F_GETFD, None), call(k, p, "fcntl", fd, F_GETFL, None)) == before


def test_sysctl_string_of_non_utf8_bytes_is_stored(k, p):
    """NetBSD's kernel stores a string node's bytes as given; so does ours
    (kept as str with surrogateescape, the wire's encoding of such bytes)."""
    raw = "\udcff\udcfe"
    kind, _old, _flags = call(k, p, "sysctl", "kern.hostname", 1, raw)
    assert kind == "string"
    assert call(k, p, "sysctl", "kern.hostname", 0, None)[1] == raw
    call(k, p, "sysctl", "kern.hostname", 1, b"\xfa\xfbok")
    assert call(k, p, "sysctl", "kern.hostname", 0, None)[1].encode("utf-8", "surrogateescape") == b"\xfa\xfbok"
    # the length limit counts bytes, as the kernel's buffer does
    assert errno_of(k, p, "sysctl", "kern.hostname", 1, "\udcff" * 256) == E.EINVAL


def test_link_of_an_etfs_regular_key_then_unlink(k, p, tmp_path):
    from rumptools.formats.drivespec import DriveSpec
    host = tmp_path / "host.bin"
    host.write_bytes(b"hello")
    k.slot("etfs")(DriveSpec(key="/hostfile", hostpath=str(host), size=None, type="reg"))
    call(k, p, "link", "/hostfile", "/alias")
    assert call(k, p, "stat", "/hostfile")[3] == 2          # st_nlink
    call(k, p, "unlink", "/alias")
    assert errno_of(k, p, "stat", "/alias") == E.ENOENT
    assert call(k, p, "stat", "/hostfile")[3] == 1
    fd = call(k, p, "open", "/hostfile", O_RDONLY, 0)
    assert call(k, p, "read", fd, 100) == b"hello"
    assert host.read_bytes() == b"hello"


@pytest.mark.parametrize("dev", [makedev(21, -1), makedev(21, -8), -1, -(1 << 40)])
def test_mknod_of_cgd_with_a_negative_minor_then_open(k, p, dev):
    """dev_t is unsigned: a negative minor names a unit that does not exist (ENXIO)."""
    try:
        call(k, p, "mknod", "/node", S_IFBLK | 0o600, dev)
    except RumpError as e:
        assert e.errno == E.EINVAL          # NODEV (-1) is refused
        return
    assert errno_of(k, p, "open", "/node", O_RDONLY, 0) == E.ENXIO


def test_generic_wrapper_answers_einval_for_a_handler_type_error(k, p):
    """A handler that trips over a value of the wrong type (TypeError,
    ValueError, OverflowError, UnicodeError) answers EINVAL, not EIO, and
    logs no traceback."""
    from rumptools.abi.syscalls import Syscall
    from rumptools.kernel.kern.syscall import Sysent

    def handler(lwp, value):
        return (value & 1,)
    ent = Sysent(Syscall(777, "test_and", "test_and", "value:value", "bit:int", False, "test"), handler, None)
    err, _res, _after, _detail = k.run(p, ent, (b"x",))
    assert err == E.EINVAL
    err, _res, _after, _detail = k.run(p, ent, (3,))
    assert err == 0
    bug = Sysent(Syscall(778, "test_bug", "test_bug", "", "", False, "test"), lambda lwp: 1 / 0, None)
    err, _res, _after, _detail = k.run(p, bug, ())       # a real bug still reports
    assert err == E.EIO
    assert any("ZeroDivisionError" in line for line in k.console_lines)
    k.console_lines.clear()


def test_v_arguments_of_every_call_never_trace(k, p):
    """Every call taking an untyped value, given values of every wire type."""
    fds = [call(k, p, "open", path, O_RDWR, 0) for path in ("/dev/null", "/dev/rcgd0d", "/dev/cgd0a")]
    values = [None, -1, 1 << 62, b"\xff", "x", "\udcff", (), (1,), ((b"a",),), (1, 2, 3, 4, 5, 6)]
    for method in ("fcntl", "ioctl", "sysctl", "modctl", "mount", "readv", "writev"):
        sc = BY_METHOD[method]
        for v in values:
            for fd in fds:
                args = {"fcntl": [(fd, c, v) for c in (0, 1, 2, 3, 4)],
                        "ioctl": [(fd, c, v) for c in (0xC0404612, 0x80404613, 0xC0404614, 0)],
                        "sysctl": [("kern.hostname", 1, v), ("kern.maxvnodes", 1, v)],
                        "modctl": [(op, v) for op in (0, 1, 2, 3)],
                        "mount": [("rumpfs", "/dev", 0, v)],
                        "readv": [(fd, v)],
                        "writev": [(fd, v)]}[method]
                for a in args:
                    k.syscall(p, sc.number, a)
    no_tracebacks(k)


def test_dump_renders_a_hostname_that_is_not_utf8(k, p):
    from rumptools.kernel.kern.dump import render
    call(k, p, "sysctl", "kern.hostname", 1, "\udcff\udcfe")
    text = render(k)
    text.encode("utf-8")                                     # writable to a UTF-8 file
    assert "hostname: \\udcff\\udcfe" in text
