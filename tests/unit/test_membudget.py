"""One memory budget for the whole kernel (issue 8, items 6 and 7).

Every rumpfs mount, names and symlinks included, and every pipe buffer
draw on the same budget (the -r limit); statvfs of any rumpfs reports it.
"""
import gc
import tracemalloc

import pytest

from rumptools.abi import errnos as E
from rumptools.abi.errnos import RumpError
from rumptools.abi.syscalls import O_CREAT, O_NONBLOCK, O_WRONLY
from rumptools.kernel.kern.membudget import ENTRY_COST, NODE_COST
from rumptools.kernel.kern.pipe import PIPE_BUF_MAX, PIPE_SIZE

from .kernelkit import boot, call, errno_of, spawn

MiB = 1 << 20


@pytest.fixture
def kp():
    k = boot("rumpvfs", memlimit=4 * MiB)
    yield k, spawn(k)
    k.callouts.stop()
    assert not [line for line in k.console_lines if "failed" in line]


def fill(k, p, path, chunk=256 << 10):
    """Write to path until ENOSPC; returns the bytes stored."""
    fd = call(k, p, "open", path, O_WRONLY | O_CREAT, 0o644)
    stored = 0
    for _ in range(1000):
        try:
            stored += call(k, p, "write", fd, bytes(chunk))
        except RumpError as e:
            assert e.errno == E.ENOSPC
            if chunk == 1:
                break
            chunk = max(1, chunk // 4)
    call(k, p, "close", fd)
    return stored


def test_four_mounts_share_one_budget(kp):
    k, p = kp
    for i in range(4):
        call(k, p, "mkdir", "/m%d" % i, 0o755)
        call(k, p, "mount", "rumpfs", "/m%d" % i, 0, None)
        call(k, p, "close", call(k, p, "open", "/m%d/f" % i, O_WRONLY | O_CREAT, 0o644))
    stored = [fill(k, p, "/m%d/f" % i, chunk=MiB // 2) for i in range(4)]
    total = sum(stored)
    assert 3 * MiB < total <= 4 * MiB
    assert k.membudget.used <= k.membudget.limit
    views = {call(k, p, "statvfs", "/m%d" % i, 0)[2:8] for i in range(4)} | {call(k, p, "statvfs", "/", 0)[2:8]}
    assert len(views) == 1                                 # one budget, the same from every mount
    blocks, bfree, bavail, files, ffree, favail = views.pop()
    assert blocks == 4 * MiB // 4096 and bfree == bavail == 0
    assert files == 4 * MiB // NODE_COST and ffree == favail == 0
    # unmounting one gives its data back to everyone
    call(k, p, "unmount", "/m0", 0)
    assert k.membudget.free >= stored[0]
    assert fill(k, p, "/m1/g") > MiB // 2


def test_symlinks_stop_at_the_budget_and_memory_stays_bounded(kp):
    k, p = kp
    call(k, p, "mkdir", "/d", 0o755)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        made = 0
        for i in range(100000):
            try:
                call(k, p, "symlink", "target-%06d" % i, "/d/link-%06d" % i)
            except RumpError as e:
                assert e.errno == E.ENOSPC
                break
            made += 1
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    per = NODE_COST + ENTRY_COST + len("target-000000") + len("link-000000")
    assert made < 100000 and made >= (4 * MiB - (64 << 10)) // per
    assert grown < 4 * MiB                                 # the charge covers what Python keeps
    sv = call(k, p, "statvfs", "/", 0)
    assert sv[3] == 0 and sv[6] == 0                       # bfree, ffree
    assert errno_of(k, p, "mkdir", "/d/one-more", 0o755) == E.ENOSPC
    assert errno_of(k, p, "linkat", -100, "/d/link-000000", -100, "/d/hard", 0) == E.ENOSPC
    for i in range(100):
        call(k, p, "unlink", "/d/link-%06d" % i)
    assert k.membudget.free >= 100 * per - 100
    call(k, p, "mkdir", "/d/now-fits", 0o755)
    call(k, p, "rename", "/d/now-fits", "/d/renamed-with-a-longer-name")
    assert call(k, p, "statvfs", "/", 0)[6] == k.membudget.free // NODE_COST


def test_pipes_are_charged(kp):
    k, p = kp
    before = k.membudget.used
    pipes = []
    for _ in range(16):
        r, w = call(k, p, "pipe2", O_NONBLOCK)
        pipes.append((r, w))
        assert call(k, p, "write", w, bytes(100000)) == PIPE_BUF_MAX
    assert k.membudget.used == before + 16 * PIPE_BUF_MAX
    # the file system now has what the pipes left
    stored = fill(k, p, "/f")
    assert stored <= 4 * MiB - 16 * PIPE_BUF_MAX
    # a pipe made when little is left gets its reserve and that little: a write returns what fitted
    call(k, p, "truncate", "/f", stored - PIPE_SIZE - 100)
    assert k.membudget.free == PIPE_SIZE + 100
    r, w = call(k, p, "pipe2", O_NONBLOCK)
    assert call(k, p, "write", w, bytes(100000)) == PIPE_SIZE + 100
    assert errno_of(k, p, "write", w, b"x") == E.EAGAIN
    # with nothing left at all, a new pipe cannot be made
    assert k.membudget.free == 0
    assert errno_of(k, p, "pipe2", 0) == E.ENOMEM
    # reading drains the growth back; closing both ends frees the rest
    r0, w0 = pipes[0]
    used = k.membudget.used
    assert len(call(k, p, "read", r0, PIPE_BUF_MAX)) == PIPE_BUF_MAX
    assert k.membudget.used == used - (PIPE_BUF_MAX - PIPE_SIZE)
    call(k, p, "close", r0)
    call(k, p, "close", w0)
    assert k.membudget.used == used - PIPE_BUF_MAX


def test_poll_says_a_pipe_is_full_when_the_budget_is(kp):
    from rumptools.abi.poll import POLLOUT
    k, p = kp
    r, w = call(k, p, "pipe2", O_NONBLOCK)
    stored = fill(k, p, "/f")
    fp = p.files.get(w)
    with k.lock:
        assert fp.poll(POLLOUT) & POLLOUT                  # its 16 KiB reserve is free
    call(k, p, "write", w, bytes(PIPE_SIZE))
    with k.lock:
        assert not fp.poll(POLLOUT) & POLLOUT              # full: the budget has nothing more
    call(k, p, "truncate", "/f", stored - 1000)
    with k.lock:
        assert fp.poll(POLLOUT) & POLLOUT


def test_the_kernel_boots_within_any_budget_but_clients_are_held_to_it():
    k = boot("rumpvfs", memlimit=2048)                       # less than / and /dev take
    p = spawn(k)
    try:
        assert k.membudget.used > k.membudget.limit
        assert call(k, p, "stat", "/dev/null")[0]
        assert errno_of(k, p, "mkdir", "/d", 0o755) == E.ENOSPC
        assert call(k, p, "statvfs", "/", 0)[3] == 0
    finally:
        k.callouts.stop()


def test_unmount_gives_a_mount_back_unless_forced_while_in_use(kp):
    from rumptools.kernel.kern.dump import render
    k, p = kp
    base = k.membudget.used
    for m in ("/a", "/b"):
        call(k, p, "mkdir", m, 0o755)
        call(k, p, "mount", "rumpfs", m, 0, None)
        call(k, p, "mkdir", m + "/sub", 0o755)
        fd = call(k, p, "open", m + "/sub/f", O_WRONLY | O_CREAT, 0o644)
        call(k, p, "write", fd, bytes(100000))
        call(k, p, "close", fd)
    held = k.membudget.used - base
    assert "rumpfs %d" % k.membudget.by["rumpfs"] in render(k)
    call(k, p, "unmount", "/a", 0)
    after_a = k.membudget.used
    assert base + held // 2 - 4096 < after_a < base + held // 2 + 4096
    call(k, p, "chdir", "/b/sub")
    call(k, p, "unmount", "/b", 0x80000)                     # MNT_FORCE, cwd still inside
    assert k.membudget.used == after_a                        # the tree lives on, so do its charges
    call(k, p, "unlink", "f")                                 # and what it gives back still counts
    assert k.membudget.used < after_a - 100000


def test_the_buffer_cache_is_sized_from_the_limit(tmp_path):
    """Not charged (it evicts), but sized as NetBSD's vm.bufcache: 15 % of the memory."""
    from rumptools.formats.drivespec import DriveSpec
    from rumptools.kernel.dev.bufcache import MAX_CAPACITY
    k = boot("rumpvfs", memlimit=16 * MiB)
    p = spawn(k)
    try:
        with k.lock:
            k.slot("etfs")(DriveSpec(key="/dk", hostpath=str(tmp_path / "img"), size=8 * MiB))
        assert k.slot("bufcache").capacity == 16 * MiB * 15 // 100
        fd = call(k, p, "open", "/dk", 2, 0)
        for i in range(8):
            call(k, p, "pwrite", fd, bytes([i]) * MiB, i * MiB)
        assert k.slot("bufcache").bytes <= k.slot("bufcache").capacity + MiB       # one request of overshoot
        call(k, p, "fsync", fd)
        with open(tmp_path / "img", "rb") as f:
            assert all(f.read(MiB) == bytes([i]) * MiB for i in range(8))
    finally:
        k.callouts.stop()
    big = boot("rumpvfs")                                             # half the host's memory
    try:
        with big.lock:
            big.slot("etfs")(DriveSpec(key="/dk", hostpath=str(tmp_path / "img2"), size=MiB))
        assert big.slot("bufcache").capacity == min(MAX_CAPACITY, big.membudget.limit * 15 // 100)
    finally:
        big.callouts.stop()
