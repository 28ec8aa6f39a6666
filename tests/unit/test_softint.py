"""Soft interrupts and bounded input queues: host threads hand work to the kernel."""
import threading

from rumptools.abi import errnos
from rumptools.abi import syscalls as sc
from rumptools.abi.poll import POLLIN
from rumptools.kernel.kern.selinfo import SelInfo, selnotify, selrecord
from rumptools.kernel.kern.sleepq import curlwp
from rumptools.kernel.kern.softint import IFQ_MAXLEN, PktQueue

from .kernelkit import boot, call, call_in_thread, spawn, wait_until


def test_host_thread_hands_work_to_the_softint_thread():
    k = boot()
    seen = []

    def handler(item):
        # the kernel's rules: lock held, in the kernel's softint thread, no LWP
        assert k.lock.locked()
        seen.append((item, threading.get_ident(), curlwp()))

    q = PktQueue(k.softints, handler, maxlen=10_000, name="testq")

    def host_rx():
        for i in range(2000):
            assert q.enqueue(i)

    t = threading.Thread(target=host_rx, name="host-rx")
    t.start()
    t.join(10)
    assert wait_until(lambda: len(seen) == 2000)
    assert [s[0] for s in seen] == list(range(2000)), "in order"
    assert {s[1] for s in seen} == {k.softints.thread_ident}
    assert {s[2] for s in seen} == {None}
    assert q.drops == 0 and q.enqueued == 2000 and len(q) == 0


def test_full_queue_drops_and_counts_like_ifqueue():
    k = boot()
    seen = []
    q = PktQueue(k.softints, seen.append, name="ipintrq")
    assert q.maxlen == IFQ_MAXLEN == 256
    p = spawn(k)
    with k.lock:
        q.sysctl_setup(k.sysctl, "net.test.ifq", owner=None)
        results = []
        # the kernel lock is busy (a long syscall): the host thread keeps receiving
        t = threading.Thread(target=lambda: results.extend(q.enqueue(i) for i in range(300)))
        t.start()
        t.join(10)
        assert results.count(False) == 44 and q.drops == 44 and len(q) == 256
        assert seen == []
    assert wait_until(lambda: len(seen) == 256)
    assert seen == list(range(256))
    assert call(k, p, "sysctl", "net.test.ifq.drops", sc.SYSCTL_READ, None)[1] == 44
    assert call(k, p, "sysctl", "net.test.ifq.len", sc.SYSCTL_READ, None)[1] == 0
    call(k, p, "sysctl", "net.test.ifq.maxlen", sc.SYSCTL_WRITE, 512)
    assert q.maxlen == 512
    e = call_err(k, p, "sysctl", "net.test.ifq.maxlen", sc.SYSCTL_WRITE, 0)
    assert e == errnos.EINVAL and q.maxlen == 512


def call_err(k, p, *args):
    from rumptools.abi.errnos import RumpError
    try:
        call(k, p, *args)
    except RumpError as e:
        return e.errno
    return 0


def test_softint_runs_once_per_scheduling_and_again_if_rescheduled_while_running():
    k = boot()
    runs = []
    with k.lock:
        si = k.softints.establish(lambda: runs.append(1))
        for _ in range(5):
            si.schedule()                   # the softint thread waits for the lock
    assert wait_until(lambda: len(runs) == 1)
    again = []

    def twice():
        again.append(1)
        if len(again) == 1:
            si2.schedule()

    si2 = k.softints.establish(twice)
    si2.schedule()
    assert wait_until(lambda: len(again) == 2)
    with k.lock:
        si.disestablish()
    si.schedule()
    assert k.softints.run_pending() == 0 and len(runs) == 1


def test_failing_handler_is_reported_and_the_queue_goes_on():
    k = boot()
    seen = []

    def handler(item):
        if item == 3:
            raise ValueError("bad frame")
        seen.append(item)

    q = PktQueue(k.softints, handler, name="rxq")
    for i in range(6):
        q.enqueue(i)
    assert wait_until(lambda: len(seen) == 5)
    assert q.errors == 1
    assert any("rxq: input handler failed" in line and "bad frame" in line for line in k.console_lines)


def test_big_backlog_is_drained_in_batches_releasing_the_lock():
    k = boot()
    seen = []
    holders = []

    def handler(item):
        seen.append(item)

    q = PktQueue(k.softints, handler, maxlen=5000, batch=64)
    with k.lock:
        for i in range(1000):
            q.enqueue(i)
    # a syscall gets the lock while the backlog drains
    p = spawn(k)
    for _ in range(20):
        holders.append(call(k, p, "getpid"))
    assert wait_until(lambda: len(seen) == 1000)
    assert seen == list(range(1000)) and q.si.runs >= 1000 // 64


def test_softint_handler_wakes_a_poller():
    """The receive path as networking will use it: a host thread enqueues, the
    softint handler changes state and selnotifies, a poll in a syscall wakes."""
    k = boot()
    p = spawn(k)
    inbox = []
    sel = SelInfo(k)

    class RxFile:
        def poll(self, events):
            if inbox:
                return events & POLLIN
            selrecord(curlwp(), sel)
            return 0

        def hold(self):
            return self

    with k.lock:
        p.files.slots[3] = [RxFile(), False]

    def ip_input(frame):
        inbox.append(frame)
        selnotify(sel, POLLIN)

    q = PktQueue(k.softints, ip_input)
    t, box = call_in_thread(k, p, "poll", ((3, POLLIN),), None)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    threading.Thread(target=q.enqueue, args=(b"frame",)).start()
    t.join(5)
    assert box == {"result": (POLLIN,)} and inbox == [b"frame"] and sel.notifies == 1
    with k.lock:
        del p.files.slots[3]


def test_reboot_stops_the_softint_thread():
    k = boot()
    assert wait_until(lambda: k.softints.thread_ident is not None)

    def alive():
        return any(t.ident == k.softints.thread_ident for t in threading.enumerate())

    assert alive()
    k.reboot(sc.RB_NOSYNC)
    assert wait_until(lambda: not alive())


def _kernel_with_sync(body):
    """A kernel whose sync(2) is body(lwp, kernel): a syscall a test can fill in."""
    from rumptools.kernel.kern.syscall import Syscalls
    from .kernelkit import attach
    k = boot()
    table = Syscalls()
    table("sync")(lambda lwp: body(lwp, k) or ())
    attach(k, lambda ctx: ctx.add_syscalls(table))
    return k


def test_a_syscall_runs_what_it_schedules_before_it_returns():
    """As NetBSD's fast softints: run on the scheduling CPU before the call goes back to
    the user, in the call's own thread (lock held, no LWP), without waking the softint thread."""
    ran = []

    def handler():
        ran.append((threading.get_ident(), curlwp(), k.lock.locked()))

    def body(lwp, k):
        si.schedule()
        si.schedule()                   # scheduled twice while pending: runs once
        assert ran == [] and k.softints.deferred

    k = _kernel_with_sync(body)
    si = k.softints.establish(handler, name="t")
    p = spawn(k)
    before = k.softints.inline_runs
    call(k, p, "sync")
    assert ran == [(threading.get_ident(), None, True)]
    assert k.softints.inline_runs == before + 1 and not k.softints.deferred and not k.softints.pending


def test_a_syscall_about_to_sleep_hands_what_it_scheduled_to_the_softint_thread():
    """The call waits for its own softint: it must run meanwhile (in the softint thread)."""
    ran = []

    def handler():
        ran.append(threading.get_ident())
        k.sleepq.wakeup("chan")

    def body(lwp, k):
        si.schedule()
        k.sleepq.tsleep("chan", timo=10)     # EAGAIN (a failed call) if nobody woke it

    k = _kernel_with_sync(body)
    si = k.softints.establish(handler, name="t")
    p = spawn(k)
    call(k, p, "sync")
    assert ran == [k.softints.thread_ident]


def test_handlers_that_keep_scheduling_go_to_the_thread_after_a_few_rounds():
    from rumptools.kernel.kern.softint import INLINE_ROUNDS
    ran = []

    def handler():
        ran.append(threading.get_ident())
        if len(ran) < INLINE_ROUNDS + 5:
            si.schedule()

    k = _kernel_with_sync(lambda lwp, k: si.schedule())
    si = k.softints.establish(handler, name="t")
    p = spawn(k)
    call(k, p, "sync")
    assert ran[:INLINE_ROUNDS] == [threading.get_ident()] * INLINE_ROUNDS
    assert wait_until(lambda: len(ran) == INLINE_ROUNDS + 5)
    assert set(ran[INLINE_ROUNDS:]) == {k.softints.thread_ident}


def test_a_datagram_to_127_0_0_1_is_in_its_socket_when_sendto_returns():
    from rumptools.abi import net as N
    k = boot("rumpnet", "rumpnet_net", "rumpnet_netinet")
    p = spawn(k)
    s = call(k, p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(k, p, "bind", s, (N.AF_INET, "127.0.0.1", 0))
    name = call(k, p, "getsockname", s)
    for i in range(50):
        call(k, p, "sendto", s, b"d%d" % i, 0, name)
        got = call(k, p, "recvfrom", s, 64, N.MSG_DONTWAIT)   # EAGAIN if it were still queued
        assert got[0] == b"d%d" % i
