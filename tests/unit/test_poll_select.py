"""poll/pollts/select, selinfo records and the sleep on several channels, in virtual time."""
import pytest

from rumptools.abi import errnos
from rumptools.abi import syscalls as sc
from rumptools.abi.errnos import RumpError
from rumptools.abi.poll import (INFTIM, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI,
                                POLLRDBAND, POLLRDNORM, POLLWRNORM, describe)
from rumptools.kernel.kern.pipe import PIPE_BUF_MAX

from .kernelkit import boot, call, call_in_thread, spawn, wait_until

RD = POLLIN | POLLRDNORM


def err(k, p, method, *args):
    with pytest.raises(RumpError) as e:
        call(k, p, method, *args)
    return e.value.errno


# -- sleeping on several channels ---------------------------------------------------

def _sleeper(k, chans, timo):
    from rumptools.abi.syscalls import Syscall
    from rumptools.kernel.kern.syscall import Sysent

    def handler(lwp):
        return (k.sleepq.tsleep_multi(chans, timo),)

    ent = Sysent(Syscall(990, "test_sleep_multi", "test_sleep_multi", "", "chan:value", True, "test"),
                 handler, None)
    p = spawn(k)
    box = {}

    def run():
        err, res, _a, _d = k.run(p, ent, ())
        box["r"] = (err, res)

    import threading
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return p, t, box


def test_sleep_on_several_channels_returns_the_one_woken():
    k = boot()
    a, b, c = object(), object(), object()
    _p, t, box = _sleeper(k, (a, b, c), None)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    assert all(ch in k.sleepq.queues for ch in (a, b, c))
    with k.lock:
        k.sleepq.wakeup(object())           # another channel: still asleep
    t.join(0.1)
    assert t.is_alive()
    with k.lock:
        k.sleepq.wakeup(b)
    t.join(5)
    assert box["r"] == (0, (b,))
    assert k.sleepq.queues == {}, "left on a queue it was not woken from"


def test_sleep_on_several_channels_times_out_and_is_interrupted():
    k = boot()
    a, b = object(), object()
    _p, t, box = _sleeper(k, (a, b), 2.0)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    k.host.clock.advance(2.0, k)
    t.join(5)
    assert box["r"][0] == errnos.EAGAIN and k.callouts.pending() == 0
    p, t, box = _sleeper(k, (), None)       # no channel at all: only an exit ends it
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    with k.lock:
        k.procs.exit(p)
    t.join(5)
    assert box["r"][0] == errnos.EINTR and k.sleepq.queues == {}


# -- poll readiness ---------------------------------------------------------------

def test_poll_pipe_readiness_as_netbsd():
    k = boot()
    p = spawn(k)
    r, w = call(k, p, "pipe2", 0)
    assert call(k, p, "poll", ((r, POLLIN), (w, POLLOUT)), 0) == (0, POLLOUT)
    call(k, p, "write", w, b"data")
    assert call(k, p, "poll", ((r, RD | POLLPRI), (w, POLLWRNORM)), 0) == (RD, POLLWRNORM)
    assert call(k, p, "poll", ((r, 0),), 0) == (0,), "nothing asked, nothing unasked"
    assert call(k, p, "poll", ((-1, POLLIN), (77, POLLIN), (r, POLLIN)), INFTIM) == \
        (0, POLLNVAL, POLLIN)
    call(k, p, "close", w)                  # writer gone: readable (EOF) and POLLHUP unasked
    assert call(k, p, "poll", ((r, POLLIN),), 0) == (POLLIN | POLLHUP,)
    assert call(k, p, "poll", ((r, 0),), 0) == (POLLHUP,)
    r2, w2 = call(k, p, "pipe2", 0)
    call(k, p, "close", r2)                 # reader gone: the write fails at once
    assert call(k, p, "poll", ((w2, POLLOUT),), 0) == (POLLOUT | POLLHUP,)
    assert describe(POLLIN | POLLHUP) == "POLLIN|POLLHUP"


def test_poll_full_pipe_is_not_writable_until_read():
    k = boot()
    p = spawn(k)
    r, w = call(k, p, "pipe2", sc.O_NONBLOCK)
    assert call(k, p, "write", w, b"x" * PIPE_BUF_MAX) == PIPE_BUF_MAX
    assert call(k, p, "poll", ((w, POLLOUT),), 0) == (0,)
    t, box = call_in_thread(k, p, "poll", ((w, POLLOUT),), None)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    call(k, p, "read", r, 100)              # 100 bytes of room: less than PIPE_BUF
    t.join(0.1)
    assert t.is_alive(), "woke for less than PIPE_BUF bytes of room"
    call(k, p, "read", r, 1000)
    t.join(5)
    assert box == {"result": (POLLOUT,)}


def test_poll_files_and_devices_are_always_ready():
    k = boot("rumpvfs")
    p = spawn(k)
    fd = call(k, p, "open", "/file", sc.O_RDWR | sc.O_CREAT, 0o644)
    null = call(k, p, "open", "/dev/null", sc.O_RDWR, 0)
    root = call(k, p, "open", "/", sc.O_RDONLY, 0)
    assert call(k, p, "poll", ((fd, POLLIN | POLLOUT | POLLPRI), (null, POLLOUT), (root, RD)), 0) == \
        (POLLIN | POLLOUT, POLLOUT, RD)
    assert call(k, p, "select", (fd, null), (fd,), (fd,), 0) == ((fd, null), (fd,), ())


def test_poll_arguments_are_checked():
    k = boot()
    p = spawn(k)
    assert err(k, p, "poll", ((0, 1),), -2) == errnos.EINVAL
    assert err(k, p, "poll", ((0,),), 0) == errnos.EINVAL
    assert err(k, p, "poll", (("x", 1),), 0) == errnos.EINVAL
    assert err(k, p, "poll", 5, 0) == errnos.EINVAL
    assert err(k, p, "poll", ((-1, 0),) * 3000, 0) == errnos.EINVAL
    assert err(k, p, "pollts", ((0, 1),), -1) == errnos.EINVAL
    assert call(k, p, "poll", (), 0) == ()
    assert call(k, p, "poll", [[-1, 0]] * 10, 0) == (0,) * 10


# -- poll and select sleeping --------------------------------------------------------

def test_poll_timeout_in_virtual_time():
    k = boot()
    p = spawn(k)
    r, _w = call(k, p, "pipe2", 0)
    t, box = call_in_thread(k, p, "poll", ((r, POLLIN),), 5000)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    k.host.clock.advance(4.0, k)
    t.join(0.1)
    assert t.is_alive(), "woke before its time"
    k.host.clock.advance(1.5, k)
    t.join(5)
    assert box == {"result": (0,)}
    t, box = call_in_thread(k, p, "pollts", ((r, POLLIN),), 2 * 10**9)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    k.host.clock.advance(2.0, k)
    t.join(5)
    assert box == {"result": (0,)}
    t, box = call_in_thread(k, p, "select", (r,), (), (), 250_000)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    k.host.clock.advance(0.25, k)
    t.join(5)
    assert box == {"result": ((), (), ())}
    assert k.callouts.pending() == 0


def test_poll_woken_by_another_process_write():
    k = boot()
    a = spawn(k, "reader")
    r1, w1 = call(k, a, "pipe2", 0)
    r2, w2 = call(k, a, "pipe2", 0)
    r3, w3 = call(k, a, "pipe2", 0)
    with k.lock:
        b = k.procs.fork(a, "writer")       # shares the pipes, as after fork(2)
    t, box = call_in_thread(k, a, "poll", ((r1, POLLIN), (r2, POLLIN), (r3, POLLIN)), None)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    call(k, b, "write", w2, b"hello")
    t.join(5)
    assert box == {"result": (0, POLLIN, 0)}
    assert k.sleepq.queues == {}, "selinfo records left behind"
    t, box = call_in_thread(k, a, "select", (r1, r3), (), (), None)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    call(k, b, "close", w3)
    with k.lock:
        k.procs.exit(b)
    t.join(0.1)
    assert t.is_alive(), "the reader still holds w3 open"
    call(k, a, "close", w3)
    t.join(5)
    assert box == {"result": ((r3,), (), ())}, "EOF is readable for select"


def test_poll_interrupted_by_exit_and_leaves_nothing():
    k = boot()
    p = spawn(k)
    r, _w = call(k, p, "pipe2", 0)
    t, box = call_in_thread(k, p, "poll", ((r, POLLIN),), 3_600_000)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    with k.lock:
        k.procs.exit(p)
    t.join(5)
    assert box == {"error": errnos.EINTR}
    assert k.callouts.pending() == 0 and k.sleepq.queues == {} and k.nfiles == 0


def test_poll_with_nothing_to_wait_for_is_a_sleep():
    k = boot()
    p = spawn(k)
    t, box = call_in_thread(k, p, "poll", (), 1000)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    k.host.clock.advance(1.0, k)
    t.join(5)
    assert box == {"result": ()}


def test_select_as_netbsd():
    k = boot()
    p = spawn(k)
    r, w = call(k, p, "pipe2", 0)
    assert call(k, p, "select", (r,), (w,), (r, w), 0) == ((), (w,), ())
    call(k, p, "write", w, b"x")
    assert call(k, p, "select", [r, r], None, None, None) == ((r,), (), ())
    assert err(k, p, "select", (r, 40), (), (), 0) == errnos.EBADF
    assert err(k, p, "select", (-1,), (), (), 0) == errnos.EINVAL
    assert err(k, p, "select", ("0",), (), (), 0) == errnos.EINVAL
    assert err(k, p, "select", (), (), (), -5) == errnos.EINVAL
    call(k, p, "close", r)                  # reader gone: the write end selects writable
    assert call(k, p, "select", (), (w,), (), 0) == ((), (w,), ())
    # the except set asks for priority data, which pipes never have
    assert POLLRDBAND & (POLLIN | POLLOUT | POLLERR) == 0


def test_poll_many_waiters_on_one_pipe_all_wake():
    k = boot()
    p = spawn(k)
    r, w = call(k, p, "pipe2", 0)
    waiters = [call_in_thread(k, p, "poll", ((r, POLLIN),), None) for _ in range(20)]
    assert wait_until(lambda: k.sleepq.sleepers == 20)
    call(k, p, "write", w, b"!")
    for t, box in waiters:
        t.join(5)
        assert box == {"result": (POLLIN,)}
    assert k.sleepq.queues == {}


def test_error_bit_reported_unasked():
    k = boot()
    p = spawn(k)

    class Broken:
        def poll(self, events):
            return POLLERR if events & POLLERR else 0

        def hold(self):
            return self

    with k.lock:
        p.files.slots[5] = [Broken(), False]
    assert call(k, p, "poll", ((5, POLLIN),), 0) == (POLLERR,)
    assert call(k, p, "select", (5,), (5,), (5,), 0) == ((5,), (5,), ())
    with k.lock:
        del p.files.slots[5]
