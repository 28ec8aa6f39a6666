"""The sysproxy thread pool: leader/follower threads that read connections and run calls.

Every thread of the pool is, at any time, one of:

- a *reader*: it holds one connection's reading role (server.py): it reads
  that connection's frames and runs each system call itself, inline, as it
  arrives. A call that never sleeps thus costs no thread switch;
- *asleep in a call* (parked): a call about to sleep in the kernel hands the
  reading role of its connection to another pool thread first (handoff(),
  the LWP's before-sleep hook), so the connection's further calls are read
  and run while it sleeps; the sleeper leaves the readers and keeps the
  call until its reply is sent;
- *idle*, waiting for a reading role to take.

A reading role goes to an idle thread (the most recently used first), else
to a new thread while the pool has fewer than max_threads threads; past
that it queues, and the next thread that finishes a call or a connection
takes it. So no call ever fails for lack of a thread: at the bound a
connection's further calls wait to be read, they are never refused. When a
call or a connection is done, its thread takes queued work, else stays idle
if fewer than keep_idle (NetBSD's IDLEWORKER, 16) are, else ends: the pool
falls back when the burst is over.

How many calls run at once is bounded by the connections (each reader runs
one call at a time) plus the sleepers that were woken and are finishing
theirs; all run under the one kernel lock.

Locking rule: Pool.lock guards the counters, the queue and the idle stack.
It is a leaf lock: nothing is called while it is held, and it may be taken
with the kernel lock held (handoff() runs inside tsleep, before the sleep).
Roles run with no lock held.
"""
import sys
import threading
import traceback
from collections import deque

KEEP_IDLE = 16          # NetBSD's IDLEWORKER
MAX_THREADS = 4096      # readers + sleepers + idle; beyond it reading roles queue


class _Worker:
    __slots__ = ("pool", "wake", "item", "reading", "parked")

    def __init__(self, pool):
        self.pool = pool
        self.wake = threading.Lock()
        self.wake.acquire()         # released to hand this idle thread a role
        self.item = None
        self.reading = False        # holds a connection's reading role
        self.parked = False         # handed its role off: asleep in (or finishing) a call


_tls = threading.local()


class Pool:
    def __init__(self, keep_idle=KEEP_IDLE, max_threads=MAX_THREADS, name="sp-thread", on_error=None):
        self.keep_idle = keep_idle
        self.max_threads = max_threads
        self.name = name
        self.on_error = on_error
        self.lock = threading.Lock()
        self.queue = deque()        # reading roles waiting for a thread
        self.idle = []              # stack of idle _Worker: the most recently used is reused first
        self.threads = 0            # threads alive in the pool
        self.readers = 0            # of which: holding a reading role
        self.parked = 0             # of which: asleep in a call (or finishing it after the sleep)
        self.closed = False

    # -- counters (read without the lock: for sysctl) ----------------------------------
    def stats(self):
        return {"readers": self.readers, "workers": self.threads - self.readers,
                "idle": len(self.idle), "parked": self.parked, "queued": len(self.queue)}

    # -- roles -----------------------------------------------------------------------
    def start(self, fn):
        """Run the reading role fn() on an idle thread, a new one, or the next one free."""
        with self.lock:
            w = self.idle.pop() if self.idle else None
            if w is None:
                if self.threads >= self.max_threads:
                    self.queue.append(fn)
                    return
                self.threads += 1
            self.readers += 1
        if w is not None:
            w.item = fn
            w.wake.release()
            return
        self._spawn(fn)

    def _spawn(self, fn):
        t = threading.Thread(target=self._run, args=(fn,), name=self.name, daemon=True)
        try:
            t.start()
        except RuntimeError:            # the host is out of threads: the next free one takes it
            with self.lock:
                self.threads -= 1
                self.readers -= 1
                self.queue.appendleft(fn)

    def is_reader(self):
        """True on a thread of this pool that holds a reading role."""
        w = getattr(_tls, "worker", None)
        return w is not None and w.reading and w.pool is self

    def handoff(self, fn):
        """The call on this reader is about to sleep: this thread leaves the readers (it
        keeps the call) and fn, the connection's reading role, goes to another thread.
        False if this thread is not a reader of the pool (nothing is done then)."""
        w = getattr(_tls, "worker", None)
        if w is None or not w.reading or w.pool is not self:
            return False
        with self.lock:
            w.reading = False
            w.parked = True
            self.readers -= 1
            self.parked += 1
        self.start(fn)
        return True

    def _run(self, fn):
        w = _Worker(self)
        _tls.worker = w
        lock = self.lock
        while True:
            w.reading = True
            try:
                fn()
            except Exception:               # a bug in a role must not end the pool
                if self.on_error is not None:
                    self.on_error(traceback.format_exc())
                else:
                    sys.stderr.write(traceback.format_exc())
            fn = None
            with lock:
                if w.reading:
                    w.reading = False
                    self.readers -= 1
                if w.parked:
                    w.parked = False
                    self.parked -= 1
                if self.queue and not self.closed:
                    fn = self.queue.popleft()
                    self.readers += 1
                elif self.closed or len(self.idle) >= self.keep_idle:
                    self.threads -= 1
                    return
                else:
                    self.idle.append(w)
            if fn is not None:
                continue
            w.wake.acquire()
            fn = w.item
            w.item = None
            if fn is None:                  # close() woke us
                with lock:
                    self.threads -= 1
                return

    def close(self):
        """Let idle threads end; queued roles are dropped (the server is going away)."""
        with self.lock:
            self.closed = True
            self.queue.clear()
            idle, self.idle = self.idle, []
        for w in idle:
            w.item = None
            w.wake.release()
