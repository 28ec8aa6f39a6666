"""The real host behind the hypercall layer: clock, identity, randomness, threads.

The rumpuser package is the only part of the kernel that touches the host.
Tests hand the kernel a FakeHost (fake.py) instead, with virtual time.

Threads started here for host I/O (a tap or shmif receive loop, a disk
completion) are host threads: they do not hold the kernel lock and never
change kernel state themselves; they hand their work to a softint or a
PktQueue (kern/softint.py), which runs it under the kernel lock. The
callout thread sleeps on the clock until the next deadline (RealClock.wait
with a timeout), or until an arming of an earlier one notifies it.
"""
import os
import socket
import threading
import time


class RealClock:
    """Monotonic seconds; callout threads wait on it with real timeouts."""

    def now(self):
        return time.monotonic()

    def wait(self, cond, deadline):
        """Wait on cond (its lock held) until notified or the deadline passes."""
        if deadline is None:
            cond.wait()
        else:
            delay = deadline - time.monotonic()
            if delay > 0:
                cond.wait(delay)


class Host:
    def __init__(self):
        self.clock = RealClock()

    def pid(self):
        return os.getpid()

    def hostname(self):
        try:
            return socket.gethostname()
        except OSError:
            return ""

    def wall_time(self):
        return time.time()

    def random(self, n):
        return os.urandom(n)

    def cpu_count(self):
        return os.cpu_count() or 1

    def memory_bytes(self):
        try:
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError):
            return 1 << 30

    def start_thread(self, target, name, *args):
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        t.start()
        return t
