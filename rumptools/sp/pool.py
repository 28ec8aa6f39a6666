"""The sysproxy worker pool: every system call runs on one of its threads.

As NetBSD's rumpuser_sp.c does, the pool grows on demand up to max_workers
threads running calls, keeps at most keep_idle idle threads (a worker that
finds that many idle already ends), and queues work beyond its size: work is
never refused for lack of a thread.

A call that must sleep in the kernel *parks* (park() is the LWP's
before-sleep hook): its thread stays with the call, but it stops counting
against max_workers, so queued work gets a thread at once. Sleeping calls
therefore never fail and never hold up others; what bounds them is the
total thread cap (max_threads) and the per-connection limit on calls in
flight (server.py). Past max_threads, work waits in the queue.

Locking rule: Pool.lock guards the counters, the queue and the idle stack.
It is a leaf lock: nothing is called while it is held, and it may be taken
with the kernel lock held (park() runs inside tsleep). Work functions run
with no lock held.
"""
import sys
import threading
import traceback
from collections import deque

MAX_WORKERS = 128       # NetBSD's MAXWORKER
KEEP_IDLE = 16          # NetBSD's IDLEWORKER
MAX_THREADS = 4096      # running + parked; beyond it work queues


class _Worker:
    __slots__ = ("wake", "item", "parked")

    def __init__(self):
        self.wake = threading.Lock()
        self.wake.acquire()         # released by submit() to hand over an item
        self.item = None
        self.parked = False


_tls = threading.local()


class Pool:
    def __init__(self, max_workers=MAX_WORKERS, keep_idle=KEEP_IDLE, max_threads=MAX_THREADS,
                 name="sp-worker", on_error=None):
        self.max_workers = max_workers
        self.keep_idle = keep_idle
        self.max_threads = max_threads
        self.name = name
        self.on_error = on_error
        self.lock = threading.Lock()
        self.queue = deque()
        self.idle = []              # stack of idle _Worker: the most recently used is reused first
        self.threads = 0            # threads alive in the pool (idle, running and parked)
        self.parked = 0             # of which: running a call that sleeps
        self.closed = False

    # -- counters (read without the lock: for sysctl) ----------------------------------
    def stats(self):
        return {"workers": self.threads, "idle": len(self.idle), "parked": self.parked,
                "queued": len(self.queue)}

    def _may_spawn(self):
        return (self.threads - self.parked < self.max_workers and self.threads < self.max_threads
                and not self.closed)

    # -- work ------------------------------------------------------------------------
    def submit(self, fn, *args):
        """Run fn(*args) on a worker: an idle one, a new one, or queued for the next free."""
        item = (fn, args)
        with self.lock:
            w = self.idle.pop() if self.idle else None
            if w is None and not self._may_spawn():
                self.queue.append(item)
                return
            if w is None:
                self.threads += 1
        if w is not None:
            w.item = item
            w.wake.release()
            return
        self._spawn(item)

    def _spawn(self, item):
        t = threading.Thread(target=self._run, args=(item,), name=self.name, daemon=True)
        try:
            t.start()
        except RuntimeError:            # the host is out of threads: queue it for a running worker
            with self.lock:
                self.threads -= 1
                self.queue.appendleft(item)

    def park(self):
        """The call on this thread is about to sleep: stop counting it, start queued work."""
        w = getattr(_tls, "worker", None)
        if w is None or w.parked:
            return
        item = None
        with self.lock:
            w.parked = True
            self.parked += 1
            if self.queue and self._may_spawn():
                item = self.queue.popleft()
                self.threads += 1
        if item is not None:
            self._spawn(item)

    def _run(self, item):
        w = _Worker()
        _tls.worker = w
        while True:
            fn, args = item
            try:
                fn(*args)
            except Exception:               # a bug in a work function must not end the pool
                if self.on_error is not None:
                    self.on_error(traceback.format_exc())
                else:
                    sys.stderr.write(traceback.format_exc())
            item = fn = args = None          # an idle worker keeps no big frame alive
            with self.lock:
                if w.parked:
                    w.parked = False
                    self.parked -= 1
                over = self.threads - self.parked > self.max_workers
                if self.queue and not over and not self.closed:
                    item = self.queue.popleft()
                elif over or self.closed or len(self.idle) >= self.keep_idle:
                    self.threads -= 1
                    return
                else:
                    self.idle.append(w)
            if item is not None:
                continue
            w.wake.acquire()
            item = w.item
            w.item = None
            if item is None:                # close() woke us
                with self.lock:
                    self.threads -= 1
                return

    def close(self):
        """Let idle workers end; queued work is dropped (the server is going away)."""
        with self.lock:
            self.closed = True
            self.queue.clear()
            idle, self.idle = self.idle, []
        for w in idle:
            w.item = None
            w.wake.release()
