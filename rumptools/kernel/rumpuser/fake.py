"""A fake host for unit tests: virtual time that only moves when a test says so.

The callout thread sleeps on the virtual clock with no timeout at all: it
wakes when an arming makes an earlier deadline (the callouts notify it) or
when a test advances time (advance() notifies every thread waiting on the
clock). It never polls.

advance() takes the waiting threads' locks to notify them, so it must be
called without the kernel lock held (tests call it from their own thread).
"""
import threading

from .host import Host


class VirtualClock:
    def __init__(self, start=1000.0):
        self._now = start
        self._waiters = []          # conditions of threads sleeping on this clock
        self._guard = threading.Lock()

    def now(self):
        return self._now

    def wait(self, cond, deadline):
        """Sleep on cond (its lock held) until notified; time passes only by advance()."""
        with self._guard:
            if cond not in self._waiters:
                self._waiters.append(cond)
        if deadline is None or deadline > self._now:
            cond.wait()

    def advance(self, seconds, kernel=None):
        """Move time forward and wake the threads sleeping on the clock; with a
        kernel, also run its due callouts before returning."""
        with self._guard:
            self._now += seconds
            waiters = list(self._waiters)
        for cond in waiters:
            with cond:
                cond.notify_all()
        if kernel is not None:
            kernel.callouts.run_due()


class FakeHost(Host):
    def __init__(self, pid=4711, hostname="testhost.example.org"):
        super().__init__()
        self.clock = VirtualClock()
        self._pid = pid
        self._hostname = hostname

    def pid(self):
        return self._pid

    def hostname(self):
        return self._hostname
