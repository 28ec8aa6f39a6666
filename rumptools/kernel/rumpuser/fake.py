"""A fake host for unit tests: virtual time that only moves when a test says so."""
import threading

from .host import Host


class VirtualClock:
    def __init__(self, start=1000.0):
        self._now = start
        self._waiters = []          # conditions of callout threads to poke
        self._guard = threading.Lock()

    def now(self):
        return self._now

    def wait(self, cond, deadline):
        with self._guard:
            if cond not in self._waiters:
                self._waiters.append(cond)
        if deadline is None or deadline > self._now:
            cond.wait(0.05)

    def advance(self, seconds, kernel=None):
        """Move time forward; with a kernel, run its due callouts before returning."""
        self._now += seconds
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
