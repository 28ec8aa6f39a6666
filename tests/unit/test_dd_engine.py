"""The rump.dd copy engine, run in process against host files (sysmod = os), a fake
kernel client, and as a subprocess for signals; compared with Linux's own dd."""
import errno
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import time
import types

import pytest
from hypothesis import HealthCheck, given, settings, strategies as s

from rumptools.commands.dd import run
from rumptools.formats import dd_tables
from rumptools.abi import errnos
from rumptools.abi.errnos import RumpError

GNU_DD = shutil.which("dd")
needs_gnu_dd = pytest.mark.skipif(GNU_DD is None, reason="no host dd")
RECORDS = re.compile(r"^(\d+)\+(\d+) records (in|out)$", re.M)
SLOW = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def ours(operands, cwd, sysmod=os, stdin_data=None):
    """Run the engine in process; returns (status, stderr text)."""
    err_path = os.path.join(cwd, ".stderr")
    errfd = os.open(err_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    infd = 0
    if stdin_data is not None:
        in_path = os.path.join(cwd, ".stdin")
        with open(in_path, "wb") as f:
            f.write(stdin_data)
        infd = os.open(in_path, os.O_RDONLY)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        status = run(list(operands), sysmod, stdin_fd=infd, stderr_fd=errfd)
    finally:
        os.chdir(old)
        os.close(errfd)
        if infd:
            os.close(infd)
    with open(err_path) as f:
        return status, f.read()


def gnu(operands, cwd):
    r = subprocess.run([GNU_DD, *operands], cwd=cwd, capture_output=True,
                       env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "")})
    return r.returncode, r.stderr.decode()


def records(text):
    return RECORDS.findall(text)


def data(n, seed=1):
    """n deterministic bytes with every value, letters included."""
    return bytes((i * 131 + seed * 7 + (i >> 8)) & 0xFF for i in range(n))


def write(path, content):
    with open(path, "wb") as f:
        f.write(content)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# -- against Linux's dd ---------------------------------------------------------

@needs_gnu_dd
@SLOW
@given(size=s.integers(0, 6000),
       blocks=s.sampled_from([["bs=1"], ["bs=7"], ["bs=512"], ["bs=4096"], [],
                              ["ibs=100", "obs=33"], ["ibs=7", "obs=512"],
                              ["ibs=1000", "obs=1000"], ["ibs=4k", "obs=10"]]),
       count=s.one_of(s.none(), s.integers(0, 30)),
       skip=s.integers(0, 4), seek=s.integers(0, 4), notrunc=s.booleans(),
       sync=s.booleans())
def test_same_bytes_and_records_as_linux_dd(tmp_path, size, blocks, count, skip, seek,
                                            notrunc, sync):
    write(tmp_path / "in", data(size))
    ops = ["if=in", *blocks, "skip=%d" % skip, "seek=%d" % seek]
    if count is not None:
        ops.append("count=%d" % count)
    conv = [c for c, on in (("notrunc", notrunc), ("sync", sync)) if on]
    if conv:
        ops.append("conv=" + ",".join(conv))
    old = data(9000, seed=5)
    write(tmp_path / "ours", old)
    write(tmp_path / "gnu", old)
    status, err = ours(ops + ["of=ours"], tmp_path)
    gstatus, gerr = gnu(ops + ["of=gnu"], tmp_path)
    assert (status, gstatus) == (0, 0)
    assert read(tmp_path / "ours") == read(tmp_path / "gnu")
    assert records(err) == records(gerr)


@needs_gnu_dd
@SLOW
@given(size=s.integers(0, 3000).map(lambda n: n * 2),
       ibs=s.sampled_from([2, 8, 512, 1000]), obs=s.sampled_from([3, 512, 4096]),
       conv=s.sampled_from(["swab", "ucase", "lcase", "swab,ucase", "ascii", "ebcdic",
                            "ibm", "ascii,ucase", "ascii,lcase"]))
def test_conversions_match_linux_dd(tmp_path, size, ibs, obs, conv):
    write(tmp_path / "in", data(size))
    ops = ["if=in", "ibs=%d" % ibs, "obs=%d" % obs, "conv=" + conv]
    status, err = ours(ops + ["of=ours"], tmp_path)
    gnu(ops + ["of=gnu"], tmp_path)
    assert status == 0
    assert read(tmp_path / "ours") == read(tmp_path / "gnu")


@needs_gnu_dd
@pytest.mark.parametrize("conv", ["ascii", "ebcdic", "ibm"])
def test_posix_tables_match_linux_dd(tmp_path, conv):
    write(tmp_path / "in", bytes(range(256)))
    ours(["if=in", "of=ours", "conv=" + conv], tmp_path)
    gnu(["if=in", "of=gnu", "conv=" + conv], tmp_path)
    assert read(tmp_path / "ours") == read(tmp_path / "gnu")


@needs_gnu_dd
@pytest.mark.parametrize("conv", ["block", "unblock", "block,ucase", "ebcdic", "ascii"])
def test_record_conversions_match_linux_dd(tmp_path, conv):
    lines = b"short\n\nexactly-ten\na line that is much longer than the record\nx\n" * 20
    if conv in ("unblock", "ascii"):        # fixed records in, lines out
        lines = b"".join(line.ljust(16)[:16] for line in lines.split(b"\n"))
        cbs = "cbs=16"
    else:                                   # lines in, fixed records out
        cbs = "cbs=10"
    write(tmp_path / "in", lines)
    ops = ["if=in", cbs, "conv=" + conv, "obs=100"]
    status, _ = ours(ops + ["of=ours"], tmp_path)
    gnu(ops + ["of=gnu"], tmp_path)
    assert status == 0
    assert read(tmp_path / "ours") == read(tmp_path / "gnu")


@needs_gnu_dd
def test_sparse_output_matches_and_has_holes(tmp_path):
    content = b"A" * 4096 + bytes(64 * 4096) + b"B" * 100 + bytes(3 * 4096)
    write(tmp_path / "in", content)
    status, err = ours(["if=in", "of=ours", "bs=4k", "conv=sparse"], tmp_path)
    assert status == 0
    assert read(tmp_path / "ours") == content
    # 64 zero blocks after the A's, then 2 more after the B block; the short
    # zero tail is written (the last block is never a hole)
    assert "66 sparse output blocks" in err
    assert records(err) == [("68", "1", "in"), ("68", "1", "out")]
    gnu(["if=in", "of=gnu", "bs=4k", "conv=sparse"], tmp_path)
    assert read(tmp_path / "gnu") == content
    st = os.stat(tmp_path / "ours")
    assert st.st_blocks * 512 < len(content) // 2


def test_sparse_keeps_the_length_when_the_end_is_a_hole(tmp_path):
    content = b"x" * 512 + bytes(10 * 512)
    write(tmp_path / "in", content)
    status, err = ours(["if=in", "of=out", "conv=sparse"], tmp_path)
    assert status == 0 and read(tmp_path / "out") == content
    # 9 holes seeked over; the last zero block is written so the file is long enough
    assert "9 sparse output blocks" in err
    assert records(err) == [("11", "0", "in"), ("11", "0", "out")]


# -- NetBSD specifics (no Linux dd comparison) --------------------------------

def test_tutorial_partition_dump(tmp_path):
    with open(tmp_path / "dk", "wb") as f:
        f.truncate(12812288)
    status, err = ours(["if=dk", "bs=64k", "of=emptypart"], tmp_path)
    assert status == 0
    lines = err.splitlines()
    assert lines[:2] == ["195+1 records in", "195+1 records out"]
    assert re.fullmatch(r"12812288 bytes transferred in \d+\.\d{3} secs \(\d+ bytes/sec\)",
                        lines[2])
    assert read(tmp_path / "emptypart") == bytes(12812288)


def test_count_zero_copies_nothing_but_positions_and_truncates(tmp_path):
    write(tmp_path / "in", b"data")
    write(tmp_path / "out", b"old content here")
    status, err = ours(["if=in", "of=out", "bs=4", "seek=2", "count=0"], tmp_path)
    assert status == 0
    assert read(tmp_path / "out") == b"old cont"
    assert err.startswith("0+0 records in\n0+0 records out\n0 bytes transferred in ")


def test_seek_past_end_makes_a_hole(tmp_path):
    write(tmp_path / "in", b"xyz")
    status, _ = ours(["if=in", "of=out", "bs=1k", "seek=3"], tmp_path)
    assert status == 0 and read(tmp_path / "out") == bytes(3072) + b"xyz"


def test_files_zero_prints_summary_and_opens_nothing(tmp_path):
    kernel = FakeKernel()
    status, err = ours(["files=0", "if=/nothing", "of=/nowhere"], tmp_path, kernel)
    assert status == 0 and kernel.calls == []
    assert err.startswith("0+0 records in\n0+0 records out\n")


def test_osync_pads_the_last_block_only_when_partial(tmp_path):
    write(tmp_path / "in", b"12345")
    status, err = ours(["if=in", "of=out", "ibs=2", "obs=4", "conv=osync"], tmp_path)
    assert status == 0 and read(tmp_path / "out") == b"12345" + bytes(3)
    assert records(err) == [("2", "1", "in"), ("2", "0", "out")]
    write(tmp_path / "in", b"12345678")
    ours(["if=in", "of=out", "ibs=2", "obs=4", "conv=osync"], tmp_path)
    assert read(tmp_path / "out") == b"12345678"


def test_swab_counts_odd_blocks(tmp_path):
    write(tmp_path / "in", b"abcdefg")
    status, err = ours(["if=in", "of=out", "bs=4", "conv=swab"], tmp_path)
    assert read(tmp_path / "out") == b"badcfeg"
    assert "1 odd length swab block\n" in err


def test_block_counts_truncated_records(tmp_path):
    write(tmp_path / "in", b"abcdefgh\nab\nlast")
    status, err = ours(["if=in", "of=out", "cbs=4", "conv=block"], tmp_path)
    assert status == 0
    assert read(tmp_path / "out") == b"abcdab  last"
    # "abcdefgh" was cut, and "last" has no newline
    assert "2 truncated blocks\n" in err


def test_unblock_warns_about_a_short_last_record(tmp_path):
    write(tmp_path / "in", b"ab  cd  e")
    status, err = ours(["if=in", "of=out", "cbs=4", "conv=unblock"], tmp_path)
    assert status == 0 and read(tmp_path / "out") == b"ab\ncd\ne\n"
    assert err.startswith("rump.dd: in: short input record\n")


def test_old_tables_are_inverse(tmp_path):
    write(tmp_path / "in", bytes(range(256)))
    ours(["if=in", "of=mid", "conv=oldebcdic"], tmp_path)
    ours(["if=mid", "of=out", "conv=oldascii"], tmp_path)
    assert read(tmp_path / "mid") == dd_tables.A2E_32V
    assert read(tmp_path / "out") == bytes(range(256))


def test_case_applies_after_the_character_set_as_in_netbsd(tmp_path):
    # NetBSD builds tolower(table[c]); Linux's dd lowers before ASCII->EBCDIC.
    write(tmp_path / "in", b"\xa0A")
    ours(["if=in", "of=out", "conv=ebcdic,lcase"], tmp_path)
    assert read(tmp_path / "out") == b"\x61\xc1"


def test_block_pads_with_translated_spaces(tmp_path):
    write(tmp_path / "in", b"A\n")
    ours(["if=in", "of=out", "cbs=3", "conv=ebcdic"], tmp_path)
    assert read(tmp_path / "out") == b"\xc1\x40\x40"


def test_errors_name_the_file_with_netbsd_texts(tmp_path):
    status, err = ours(["if=missing", "of=out"], tmp_path)
    assert (status, err) == (1, "rump.dd: missing: No such file or directory\n")
    os.mkdir(tmp_path / "dir")
    write(tmp_path / "in", b"x")
    status, err = ours(["if=in", "of=dir"], tmp_path)
    assert (status, err) == (1, "rump.dd: dir: Is a directory\n")


def test_bad_operands_are_reported(tmp_path):
    assert ours(["bs=0"], tmp_path) == (1, "rump.dd: block size 0 is less than 1.\n")
    assert ours(["nonsense"], tmp_path) == (1, "rump.dd: unknown operand nonsense\n")


def test_oflag_trunc_conflicts(tmp_path):
    status, err = ours(["of=out", "oflag=creat,trunc", "seek=1"], tmp_path, stdin_data=b"")
    assert status == 1 and err == (
        "rump.dd: oflag=trunc is incompatible with seek or oseek operands, giving up.\n")
    status, err = ours(["of=out", "oflag=trunc", "conv=notrunc"], tmp_path, stdin_data=b"")
    assert err.endswith("incompatible with conv=notrunc operand, giving up.\n")


def test_oflag_replaces_creat(tmp_path):
    status, err = ours(["of=new", "oflag=sync"], tmp_path, stdin_data=b"x")
    assert (status, err) == (1, "rump.dd: new: No such file or directory\n")
    status, _ = ours(["of=new", "oflag=creat,append"], tmp_path, stdin_data=b"x")
    status, _ = ours(["of=new", "oflag=append", "conv=notrunc"], tmp_path, stdin_data=b"y")
    assert read(tmp_path / "new") == b"xy"


def test_stdin_to_file(tmp_path):
    status, err = ours(["of=out", "bs=3"], tmp_path, stdin_data=b"abcdefgh")
    assert status == 0 and read(tmp_path / "out") == b"abcdefgh"
    assert records(err) == [("2", "1", "in"), ("2", "1", "out")]


def test_msgfmt_quiet_and_template(tmp_path):
    write(tmp_path / "in", b"x" * 1000)
    assert ours(["if=in", "of=out", "msgfmt=quiet"], tmp_path) == (0, "")
    status, err = ours(["if=in", "of=out", "msgfmt=%I+%i %b %B|"], tmp_path)
    assert err == "1+1 1000 1.0 KB|"


# -- through a fake kernel client ------------------------------------------

class FakeFile:
    def __init__(self, content=b"", mode=stat.S_IFREG | 0o644, chunks=None, fail_at=()):
        self.data = bytearray(content)
        self.mode = mode
        self.chunks = list(chunks) if chunks is not None else None   # pipe reads
        self.fail_at = set(fail_at)     # read numbers that fail with EIO
        self.reads = 0


class FakeKernel:
    """An os-like client speaking NetBSD numbers, like rumptools.sp.client's."""

    def __init__(self, files=None):
        self.files = dict(files or {})
        self.fds = {}
        self.calls = []

    def open(self, path, flags, mode):
        self.calls.append(("open", path, flags, mode))
        f = self.files.get(path)
        if f is None:
            if not flags & NB["creat"]:
                raise RumpError(errnos.ENOENT)
            f = self.files[path] = FakeFile()
        if flags & NB["trunc"]:
            del f.data[:]
        fd = 3 + len(self.fds)
        self.fds[fd] = [f, 0]
        return fd

    def read(self, fd, n):
        f, pos = self.fds[fd]
        f.reads += 1
        if f.reads in f.fail_at:
            raise RumpError(errnos.EIO)
        if f.chunks is not None:            # a pipe: one writer's chunk at a time
            if not f.chunks:
                return b""
            chunk = f.chunks.pop(0)
            if len(chunk) > n:
                f.chunks.insert(0, chunk[n:])
            return chunk[:n]
        out = bytes(f.data[pos:pos + n])
        self.fds[fd][1] = pos + len(out)
        return out

    def write(self, fd, data):
        assert type(data) is bytes, "the wire wants bytes"
        f, pos = self.fds[fd]
        if pos > len(f.data):
            f.data.extend(bytes(pos - len(f.data)))
        f.data[pos:pos + len(data)] = data
        self.fds[fd][1] = pos + len(data)
        return len(data)

    def lseek(self, fd, off, whence):
        f, pos = self.fds[fd]
        if f.chunks is not None:
            raise RumpError(errnos.ESPIPE)
        new = {0: off, 1: pos + off, 2: len(f.data) + off}[whence]
        self.fds[fd][1] = new
        return new

    def fstat(self, fd):
        f = self.fds[fd][0]
        return types.SimpleNamespace(st_mode=f.mode, st_size=len(f.data))

    def ftruncate(self, fd, n):
        f = self.fds[fd][0]
        del f.data[n:]
        f.data.extend(bytes(n - len(f.data)))

    def close(self, fd):
        self.calls.append(("close", fd))
        del self.fds[fd]


NB = {"rdonly": 0, "wronly": 1, "rdwr": 2, "append": 0x8, "creat": 0x200, "trunc": 0x400}
FIFO = stat.S_IFIFO | 0o600


def test_fake_kernel_gets_netbsd_open_flags_and_bytes(tmp_path):
    k = FakeKernel({"/dk": FakeFile(b"0123456789")})
    status, err = ours(["if=/dk", "of=/copy", "ibs=3", "obs=4"], tmp_path, k)
    assert status == 0
    assert bytes(k.files["/copy"].data) == b"0123456789"
    opens = [c for c in k.calls if c[0] == "open"]
    assert opens == [("open", "/dk", NB["rdonly"], 0),
                     ("open", "/copy", NB["rdwr"] | NB["creat"] | NB["trunc"], 0o666)]
    assert sorted(c for c in k.calls if c[0] == "close") == [("close", 3), ("close", 4)]


def test_host_os_gets_host_open_flags(tmp_path, monkeypatch):
    seen = []
    real_open = os.open

    def spy(path, flags, mode=0o777):
        seen.append((path, flags))
        return real_open(path, flags, mode)

    write(tmp_path / "in", b"z")
    monkeypatch.setattr(os, "open", spy)
    ours(["if=in", "of=out", "oflag=creat,append", "conv=notrunc"], tmp_path)
    monkeypatch.undo()
    assert ("in", os.O_RDONLY) in seen
    assert ("out", os.O_RDWR | os.O_CREAT | os.O_APPEND) in seen


def test_kernel_errors_use_netbsd_texts(tmp_path):
    class Busy(FakeKernel):
        def open(self, path, flags, mode):
            raise RumpError(errnos.EBUSY)
    status, err = ours(["if=/dev/rcgd0d"], tmp_path, Busy())
    assert (status, err) == (1, "rump.dd: /dev/rcgd0d: Device busy\n")


def test_pipe_input_short_reads_are_partial_records(tmp_path):
    k = FakeKernel({"/p": FakeFile(mode=FIFO, chunks=[b"a" * 64, b"b" * 10, b"c" * 64])})
    status, err = ours(["if=/p", "of=/o", "bs=64"], tmp_path, k)
    assert status == 0
    assert bytes(k.files["/o"].data) == b"a" * 64 + b"b" * 10 + b"c" * 64
    assert records(err) == [("2", "1", "in"), ("2", "1", "out")]


def test_pipe_input_reblocks_without_bs(tmp_path):
    k = FakeKernel({"/p": FakeFile(mode=FIFO, chunks=[b"a" * 300, b"b" * 300, b"c" * 500])})
    status, err = ours(["if=/p", "of=/o"], tmp_path, k)
    assert bytes(k.files["/o"].data) == b"a" * 300 + b"b" * 300 + b"c" * 500
    # three short reads of ibs=512 gathered into two full 512 blocks and a rest
    assert records(err) == [("0", "3", "in"), ("2", "1", "out")]


def test_skip_on_a_pipe_reads_exact_bytes(tmp_path):
    k = FakeKernel({"/p": FakeFile(mode=FIFO, chunks=[b"12", b"345", b"6789", b"ABCD"])})
    status, err = ours(["if=/p", "of=/o", "bs=3", "skip=2"], tmp_path, k)
    assert status == 0 and bytes(k.files["/o"].data) == b"789ABCD"


def test_skip_past_end_of_a_pipe(tmp_path):
    k = FakeKernel({"/p": FakeFile(mode=FIFO, chunks=[b"12"])})
    assert ours(["if=/p", "bs=3", "skip=1"], tmp_path, k) == \
        (1, "rump.dd: skip reached end of input\n")


def test_seek_on_a_pipe_output_fails(tmp_path):
    k = FakeKernel({"/p": FakeFile(mode=FIFO, chunks=[])})
    status, err = ours(["of=/p", "seek=1"], tmp_path, k, stdin_data=b"")
    assert (status, err) == (1, "rump.dd: /p: Illegal seek\n")


def test_read_error_stops_and_summary_follows(tmp_path):
    k = FakeKernel({"/dk": FakeFile(b"x" * 2048, fail_at={3})})
    status, err = ours(["if=/dk", "of=/o"], tmp_path, k)
    assert status == 1
    lines = err.splitlines()
    assert lines[0] == "rump.dd: /dk: Input/output error"
    assert lines[1:3] == ["2+0 records in", "2+0 records out"]
    assert bytes(k.files["/o"].data) == b"x" * 1024


def test_noerror_sync_fills_the_bad_block_with_zeros(tmp_path):
    k = FakeKernel({"/dk": FakeFile(b"x" * 2048, fail_at={2})})
    status, err = ours(["if=/dk", "of=/o", "conv=noerror,sync"], tmp_path, k)
    assert status == 0
    # the failed read skipped its block with lseek, so the data stays in place
    assert bytes(k.files["/o"].data) == b"x" * 512 + bytes(512) + b"x" * 1024
    assert err.startswith("rump.dd: /dk: Input/output error\n1+0 records in\n")
    assert records(err)[-2:] == [("4", "0", "in"), ("4", "0", "out")]


def test_noerror_without_sync_omits_the_block(tmp_path):
    k = FakeKernel({"/dk": FakeFile(b"a" * 512 + b"b" * 512 + b"c" * 512, fail_at={2})})
    status, _ = ours(["if=/dk", "of=/o", "conv=noerror"], tmp_path, k)
    assert status == 0 and bytes(k.files["/o"].data) == b"a" * 512 + b"c" * 512


# -- the command as a process ------------------------------------------------

def dd_process(*operands, **kw):
    return subprocess.Popen([sys.executable, "-m", "rumptools.commands.dd", *operands], **kw)


def read_until(fd, needle, timeout=20.0):
    buf = b""
    end = time.monotonic() + timeout
    while needle not in buf:
        left = end - time.monotonic()
        assert left > 0, "timed out waiting for %r, got %r" % (needle, buf)
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
    return buf.decode()


def wait_for_size(path, size, timeout=20.0):
    end = time.monotonic() + timeout
    while not (os.path.exists(path) and os.path.getsize(path) >= size):
        assert time.monotonic() < end, "dd did not copy in time"
        time.sleep(0.01)


def test_sigusr1_prints_the_running_summary(tmp_path):
    out = tmp_path / "out"
    with open(out, "wb") as outf:
        p = dd_process("bs=4", stdin=subprocess.PIPE, stdout=outf, stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"abcd")
        p.stdin.flush()
        wait_for_size(out, 4)
        p.send_signal(signal.SIGUSR1)
        text = read_until(p.stderr.fileno(), b"bytes/sec)\n")
        assert text.startswith("1+0 records in\n1+0 records out\n4 bytes transferred in ")
        p.stdin.write(b"ef")
        p.stdin.close()
        assert p.wait(timeout=20) == 0
        rest = p.stderr.read().decode()
        assert rest.startswith("1+1 records in\n1+1 records out\n6 bytes transferred in ")
        assert read(out) == b"abcdef"
    finally:
        p.kill()
        p.wait()


def test_sigint_prints_the_summary_and_dies_by_the_signal(tmp_path):
    out = tmp_path / "out"
    with open(out, "wb") as outf:
        p = dd_process("bs=2", stdin=subprocess.PIPE, stdout=outf, stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"xyz")
        p.stdin.flush()
        wait_for_size(out, 3)
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=20) == -signal.SIGINT
        text = p.stderr.read().decode()
        assert text.startswith("1+1 records in\n1+1 records out\n3 bytes transferred in ")
    finally:
        p.kill()
        p.wait()


def test_closed_reader_ends_dd_silently_by_sigpipe(tmp_path):
    with open("/dev/zero", "rb") as zero, open(tmp_path / "err", "wb") as err:
        p = dd_process("bs=1k", stdin=zero, stdout=subprocess.PIPE, stderr=err)
        try:
            assert len(p.stdout.read(4096)) == 4096
            p.stdout.close()
            assert p.wait(timeout=20) == -signal.SIGPIPE
        finally:
            p.kill()
            p.wait()
    assert read(tmp_path / "err") == b""


def test_progress_dots_when_stderr_is_not_a_terminal(tmp_path):
    write(tmp_path / "in", bytes(10 * 512))
    with open(tmp_path / "in", "rb") as inf:
        r = subprocess.run([sys.executable, "-m", "rumptools.commands.dd", "progress=2"],
                           stdin=inf, capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout == bytes(5120)
    assert r.stderr.decode().startswith(".....\n\n10+0 records in\n10+0 records out\n")


def test_command_line_errors(tmp_path):
    r = subprocess.run([sys.executable, "-m", "rumptools.commands.dd", "-x"],
                       capture_output=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.decode() == ("rump.dd: unknown option -- x\n"
                                 "rump.dd: usage: dd [operand ...]\n")
    r = subprocess.run([sys.executable, "-m", "rumptools.commands.dd", "conv=bogus"],
                       capture_output=True, timeout=60)
    assert (r.returncode, r.stderr) == (1, b"rump.dd: unknown conversion bogus\n")


def test_stdin_to_stdout_needs_no_kernel():
    r = subprocess.run([sys.executable, "-m", "rumptools.commands.dd", "bs=5",
                        "conv=ucase"], input=b"hello, world", capture_output=True,
                       timeout=60)
    assert (r.returncode, r.stdout) == (0, b"HELLO, WORLD")
    assert r.stderr.decode().startswith("2+1 records in\n2+1 records out\n12 bytes ")


def test_module_import_stays_light():
    code = ("import sys, rumptools.commands.dd; "
            "print(sorted(m for m in ('rich', 'click', 'rumptools.sp.client') "
            "if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert r.stdout.strip() == b"[]"


# -- main() with a stand-in for the kernel client -----------------------------

def fake_client(monkeypatch, init):
    module = types.ModuleType("rumptools.sp.client")
    module.init = init
    monkeypatch.setitem(sys.modules, "rumptools.sp.client", module)


def test_main_uses_the_kernel_client_for_named_files(monkeypatch, capfd):
    from rumptools.commands.dd import main
    kernel = FakeKernel({"/dk": FakeFile(b"q" * 1000)})
    names = []
    fake_client(monkeypatch, lambda progname: names.append(progname) or kernel)
    with pytest.raises(SystemExit) as exc:
        main(["if=/dk", "of=/copy", "bs=300"])
    assert exc.value.code == 0 and names == ["rump.dd"]
    assert bytes(kernel.files["/copy"].data) == b"q" * 1000
    assert capfd.readouterr().err.startswith("3+1 records in\n3+1 records out\n1000 bytes ")


def test_main_reports_init_failure(monkeypatch, capfd):
    from rumptools.commands.dd import main

    def refuse(progname):
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    fake_client(monkeypatch, refuse)
    with pytest.raises(SystemExit) as exc:
        main(["of=/x"])
    assert exc.value.code == 1
    assert capfd.readouterr().err == "rump.dd: init failed: Connection refused\n"


def test_main_checks_operands_before_contacting_the_server(monkeypatch, capfd):
    from rumptools.commands.dd import main
    fake_client(monkeypatch, lambda progname: pytest.fail("init must not be called"))
    with pytest.raises(SystemExit) as exc:
        main(["if=/dk", "bs=0"])
    assert exc.value.code == 1
    assert capfd.readouterr().err == "rump.dd: block size 0 is less than 1.\n"


def test_progress_bar_on_a_terminal(tmp_path):
    """With stderr on a terminal, progress= draws a rich bar, then the summary."""
    import pty
    import select
    master, slave = pty.openpty()
    try:
        with open("/dev/zero", "rb") as zero, open(os.devnull, "wb") as null:
            p = subprocess.Popen([sys.executable, "-m", "rumptools.commands.dd", "progress=1", "bs=64k",
                                  "count=200"], stdin=zero, stdout=null, stderr=slave,
                                 env=dict(os.environ, COLUMNS="100", TERM="xterm"))
        os.close(slave)
        slave = None
        out = b""
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        p.wait(30)
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    text = out.decode("utf-8", "replace")
    assert p.returncode == 0
    assert "200+0 records in" in text and "13107200 bytes transferred" in text
    assert "\x1b[" in text or "━" in text            # drawn by rich: escape codes or bar glyphs
