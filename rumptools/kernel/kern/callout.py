"""Callouts: functions run at a time on the kernel's (replaceable) clock.

One thread fires due callouts with the kernel lock held. With a virtual
clock, time moves only when a test advances it and calls run_due().
"""
import heapq
import itertools
import threading


class Callout:
    __slots__ = ("when", "seq", "fn", "args", "cancelled")

    def __init__(self, when, seq, fn, args):
        self.when, self.seq, self.fn, self.args = when, seq, fn, args
        self.cancelled = False

    def __lt__(self, other):
        return (self.when, self.seq) < (other.when, other.seq)


class Callouts:
    def __init__(self, lock, clock):
        self.lock = lock
        self.clock = clock
        self.cond = threading.Condition(lock)
        self.heap = []
        self.seq = itertools.count()
        self.running = False

    def schedule(self, delay, fn, *args):
        """Run fn(*args) after delay seconds. Kernel lock must be held."""
        co = Callout(self.clock.now() + max(0.0, delay), next(self.seq), fn, args)
        heapq.heappush(self.heap, co)
        if self.heap[0] is co:
            self.cond.notify()
        return co

    def cancel(self, co):
        co.cancelled = True

    def pending(self):
        return sum(1 for co in self.heap if not co.cancelled)

    def run_due(self):
        """Fire every callout whose time has come (takes the kernel lock)."""
        with self.lock:
            self._fire_due()

    def _fire_due(self):
        now = self.clock.now()
        while self.heap and (self.heap[0].cancelled or self.heap[0].when <= now):
            co = heapq.heappop(self.heap)
            if not co.cancelled:
                co.fn(*co.args)

    def thread_main(self):
        with self.lock:
            while self.running:
                self._fire_due()
                live = [co for co in self.heap[:1] if not co.cancelled]
                self.clock.wait(self.cond, live[0].when if live else None)

    def stop(self):
        with self.lock:
            self.running = False
            self.cond.notify()
