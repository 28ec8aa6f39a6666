"""Callouts (NetBSD's callout(9) shape) on the fake and the real clock: no garbage, no polling."""
import random
import time

import pytest

from rumptools.abi import errnos
from rumptools.kernel.kern.kernel import Kernel
from rumptools.kernel.rumpuser.host import Host

from .kernelkit import boot, call, call_in_thread, spawn, wait_until


def test_reset_stop_cycles_leave_the_heap_bounded():
    k = boot()
    fired = []
    with k.lock:
        others = [k.callouts.schedule(50.0 + i, fired.append, i) for i in range(10)]
        co = k.callouts.callout(fired.append, "co")
        for i in range(100_000):
            co.reset(1.0 + (i % 7))
            assert co.pending()
            co.stop()
            assert len(k.callouts.heap) <= 11
        assert len(k.callouts.heap) == 10 and not co.pending()
        for i in range(100_000):            # re-arming an armed callout moves it
            co.reset(1.0 + (i % 13) * 0.5)
        assert len(k.callouts.heap) == 11 and k.callouts.pending() == 11
        co.reset(2.0)
    k.host.clock.advance(2.5, k)
    assert fired == ["co"], "fired once, at its last deadline"
    assert co.expired() and not co.pending() and len(k.callouts.heap) == 10
    with k.lock:
        for o in others:
            o.stop()
    assert k.callouts.pending() == 0


def test_callout_api_matches_netbsd():
    k = boot()
    got = []
    with k.lock:
        co = k.callouts.callout()
        assert not co.pending() and not co.expired() and not co.stop()
        co.reset(1.0, got.append, "first")
        co.reset(3.0, got.append, "second")     # the new function replaces the old
    k.host.clock.advance(1.5, k)
    assert got == []
    k.host.clock.advance(2.0, k)
    assert got == ["second"] and co.expired()
    with k.lock:
        assert co.stop() is True            # callout_stop: "was it expired?"
        assert not co.expired()
        co.schedule(1.0)                    # callout_schedule keeps the function
        assert co.stop() is False and not co.pending()
        co.setfunc(got.append, "third")
        co.schedule(1.0)
    k.host.clock.advance(1.0, k)
    assert got == ["second", "third"]
    with k.lock:
        co.schedule(1.0)
        assert co.halt() is False and not co.pending()
        co.destroy()
    k.host.clock.advance(5.0, k)
    assert got == ["second", "third"]


def test_same_deadline_fires_in_arming_order_and_a_handler_may_rearm():
    k = boot()
    got = []
    with k.lock:
        ticker = k.callouts.callout()

        def tick(n):
            got.append(("tick", n))
            if n < 3:
                ticker.reset(1.0, tick, n + 1)      # TCP's pattern: re-arm from the handler

        ticker.reset(1.0, tick, 1)
        for name in "abc":
            k.callouts.schedule(1.0, got.append, name)
    for _ in range(3):
        k.host.clock.advance(1.0, k)
    assert got == [("tick", 1), "a", "b", "c", ("tick", 2), ("tick", 3)]
    assert k.callouts.pending() == 0


def test_heap_agrees_with_a_model_under_random_operations():
    k = boot()
    rng = random.Random(7)
    fired = []
    with k.lock:
        cos = [k.callouts.callout(fired.append, i) for i in range(200)]
    model = {}                              # i -> deadline
    now = k.host.clock.now()
    for step in range(3000):
        i = rng.randrange(200)
        with k.lock:
            if rng.random() < 0.6:
                d = rng.choice([0.5, 1.0, 2.0, 3.5, 10.0]) + rng.random()
                cos[i].reset(d)
                model[i] = now + d
            else:
                cos[i].stop()
                model.pop(i, None)
            assert len(k.callouts.heap) == len(model)
        if step % 100 == 99:
            k.host.clock.advance(1.0, k)
            now += 1.0
            due = sorted((w, i) for i, w in model.items() if w <= now)
            assert sorted(fired) == sorted(i for _w, i in due)
            for _w, i in due:
                del model[i]
            fired.clear()
    heap = k.callouts.heap
    for j, co in enumerate(heap):
        assert co._idx == j
        if j:
            parent = heap[(j - 1) // 2]
            assert (parent.when, parent._seq) <= (co.when, co._seq)


def test_failing_handler_is_reported_and_the_clock_goes_on():
    k = boot()
    got = []
    with k.lock:
        k.callouts.schedule(1.0, lambda: 1 / 0)
        k.callouts.schedule(2.0, got.append, "after")
    k.host.clock.advance(1.0)               # no kernel: the callout thread fires them
    assert wait_until(lambda: any("ZeroDivisionError" in line for line in k.console_lines))
    k.host.clock.advance(1.0)
    assert wait_until(lambda: got == ["after"])


def test_fake_clock_thread_sleeps_until_time_moves():
    k = boot()
    got = []
    assert wait_until(lambda: k.callouts.wakeups == 0 and k.callouts.running)
    time.sleep(0.2)
    base = k.callouts.wakeups
    time.sleep(0.5)                         # polling every 50 ms would wake ~10 times
    assert k.callouts.wakeups == base
    with k.lock:
        k.callouts.schedule(30.0, got.append, "due")
    time.sleep(0.2)
    armed = k.callouts.wakeups
    assert armed <= base + 1                # woken once by the earlier deadline, then asleep
    k.host.clock.advance(29.0)
    time.sleep(0.1)
    assert got == []
    k.host.clock.advance(1.0)               # the clock wakes the thread: it fires on its own
    assert wait_until(lambda: got == ["due"])
    assert k.callouts.wakeups <= armed + 2


def test_real_clock_thread_sleeps_until_the_deadline():
    k = Kernel(Host(), console=lambda line: None)
    k.boot([])
    try:
        got = []
        time.sleep(0.2)
        base = k.callouts.wakeups
        with k.lock:
            far = k.callouts.schedule(3600.0, got.append, "far")
        time.sleep(0.5)
        assert k.callouts.wakeups <= base + 1 and got == []
        with k.lock:
            k.callouts.schedule(0.05, got.append, "near")
        assert wait_until(lambda: got == ["near"])
        assert k.callouts.wakeups <= base + 5     # the arming, the deadline, timer slack
        with k.lock:
            far.stop()
        assert k.callouts.pending() == 0
    finally:
        k.reboot(0)


def test_abandoned_sleeps_leave_no_timeout_behind():
    """Issue 8 item 8: long nanosleeps, then the callers go away (exit)."""
    k = boot()
    procs = [spawn(k, "sleeper%d" % i) for i in range(150)]
    threads = [call_in_thread(k, p, "nanosleep", 3600 * 10**9) for p in procs]
    assert wait_until(lambda: k.sleepq.sleepers == 150)
    watcher = spawn(k, "watcher")
    assert call(k, watcher, "sysctl", "kern.rump.callouts", 0, None)[1] == 150
    with k.lock:
        for p in procs:
            k.procs.exit(p)
    for t, box in threads:
        t.join(5)
        assert box == {"error": errnos.EINTR}
    assert k.callouts.pending() == 0 and len(k.callouts.heap) == 0
    assert call(k, watcher, "sysctl", "kern.rump.callouts", 0, None)[1] == 0
    assert k.sleepq.queues == {} and k.nlwps == 0


def test_woken_and_timed_out_sleeps_leave_no_timeout_behind():
    k = boot()
    p = spawn(k)
    r, w = call(k, p, "pipe2", 0)
    for _ in range(50):                     # woken early: the timer is stopped
        t, box = call_in_thread(k, p, "poll", ((r, 1),), 3_600_000)
        assert wait_until(lambda: k.sleepq.sleepers == 1)
        assert k.callouts.pending() == 1
        call(k, p, "write", w, b"x")
        t.join(5)
        assert box == {"result": (1,)}
        assert call(k, p, "read", r, 10) == b"x"
        assert k.callouts.pending() == 0
    t, box = call_in_thread(k, p, "nanosleep", 10**9)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    k.host.clock.advance(1.0, k)
    t.join(5)
    assert box == {"result": 0} and k.callouts.pending() == 0


@pytest.mark.parametrize("n", [1, 3])
def test_halt_of_a_callout_in_its_own_handler_does_not_wait(n):
    k = boot()
    got = []
    with k.lock:
        co = k.callouts.callout()

        def handler():
            got.append(co.invoking())
            co.halt()

        for _ in range(n):
            co.reset(1.0, handler)
    k.host.clock.advance(1.0, k)
    assert got == [True] and not co.invoking()
