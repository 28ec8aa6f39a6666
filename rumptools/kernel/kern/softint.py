"""Soft interrupts and bounded input queues: how host threads hand work to the kernel.

NetBSD's softint(9) and pktqueue(9)/ifqueue shapes. A host thread -- a tap
or shmif receive thread, a disk completion -- must not touch kernel state:
it does not hold the kernel lock and may not take it for long. Instead it
enqueues on a PktQueue (or schedules a Softint) and goes back to its host
I/O. The softint thread ("softint", one per kernel) then runs the handlers
under the kernel's rules: with the kernel lock held, in a kernel thread,
one after another.

    si = kernel.softints.establish(fn, arg)      # softint_establish
    si.schedule()                                # softint_schedule: any thread
    q = PktQueue(kernel.softints, ip_input, maxlen=256)
    q.enqueue(frame)                             # any thread; False = dropped
    q.sysctl_setup(kernel.sysctl, "net.inet.ip.ifq", owner)   # len, maxlen, drops

Locking rule: the softint lock (Softints.lock) guards only the list of
scheduled softints; each PktQueue's own lock guards only its deque and
counters. Neither is ever held while taking the kernel lock, and both may be
taken with the kernel lock held, so establish/schedule/enqueue are safe from
host threads and from kernel code alike. Handlers run with the kernel lock
held and curlwp None: they may change kernel state, arm callouts and
selnotify, but must not sleep (no tsleep). A softint scheduled again while
it waits runs once; scheduled while it runs, it runs again afterwards. A
PktQueue drains at most `batch` items per run and then re-schedules itself,
so the kernel lock is released between batches and syscalls are not starved.
A full queue drops the new item and counts it (ifq_drops), as NetBSD does.

A softint scheduled by a system call (its LWP holds the kernel lock) runs in
that call's own thread before the call returns, as NetBSD's fast softints
run on the scheduling CPU as soon as it lowers its priority: a datagram sent
to 127.0.0.1 has reached its socket when sendto returns, with no thread
switch. The call's thread notes it (deferred) instead of waking the softint
thread; Kernel.run calls run_deferred() on the way out, and an LWP about to
sleep or let go of the kernel lock calls kick() first, which hands what is
deferred to the softint thread. run_deferred runs a few rounds (handlers
that schedule more, such as a TCP answer over lo0, are run in the next
round) and leaves anything further to the thread.
"""
import collections
import threading
import traceback

from ...abi import errnos
from ...abi.errnos import RumpError
from ...abi.sysctl import INT, QUAD
from .sleepq import curlwp_slot

IFQ_MAXLEN = 256        # NetBSD's default ifqueue / pktqueue length
BATCH = 64
INLINE_ROUNDS = 8       # rounds run_deferred runs before it leaves the rest to the thread
_get_ident = threading.get_ident


class Softint:
    """One established soft interrupt (NetBSD's softint cookie)."""

    __slots__ = ("owner", "fn", "args", "name", "queued", "alive", "runs")

    def __init__(self, owner, fn, args, name):
        self.owner, self.fn, self.args, self.name = owner, fn, args, name
        self.queued = False
        self.alive = True
        self.runs = 0

    def schedule(self):
        """softint_schedule: run the handler soon. Any thread, any lock state."""
        self.owner._schedule(self)

    def disestablish(self):
        """softint_disestablish: the handler will not run again (kernel lock held)."""
        self.alive = False


class Softints:
    """The soft interrupt machinery of one kernel and its thread."""

    def __init__(self, kernel_lock, report=None):
        self.klock = kernel_lock
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.pending = []
        self.running = False
        self.report = report
        self.thread_ident = None
        self.deferred = False       # scheduled by a syscall (or run_deferred): it runs them itself
        self.inline = None          # the thread in run_deferred (it holds the kernel lock)
        self.inline_runs = 0        # handler runs done by syscalls' threads

    def establish(self, fn, *args, name=None):
        return Softint(self, fn, args, name or getattr(fn, "__name__", "softint"))

    def _schedule(self, si):
        with self.lock:
            if si.queued or not si.alive:
                return
            si.queued = True
            self.pending.append(si)
            if getattr(curlwp_slot, "lwp", None) is not None or self.inline == _get_ident():
                self.deferred = True    # this syscall runs it before it returns (or kicks)
                return
            self.cond.notify()

    def run_deferred(self):
        """What syscalls scheduled, run in the calling thread: kernel lock held, curlwp None.
        Up to INLINE_ROUNDS rounds; what is still pending after them goes to the thread."""
        self.inline = _get_ident()
        try:
            for _ in range(INLINE_ROUNDS):
                with self.lock:
                    self.deferred = False
                    batch = self._take()
                if not batch:
                    return
                self.inline_runs += len(batch)
                self._run(batch)
        finally:
            self.inline = None
            self.kick()

    def kick(self):
        """Hand what syscalls deferred to the softint thread (kernel lock held: an LWP about
        to sleep or let go of the lock, or run_deferred when it stops)."""
        if self.deferred:
            with self.lock:
                self.deferred = False
                if self.pending:
                    self.cond.notify()

    def _take(self):
        batch, self.pending = self.pending, []
        for si in batch:
            si.queued = False
        return batch

    def _run(self, batch):
        """Run handlers; kernel lock held."""
        for si in batch:
            if not si.alive:
                continue
            si.runs += 1
            try:
                si.fn(*si.args)
            except Exception:           # a kernel bug in a handler must not stop the thread
                if self.report is not None:
                    self.report("softint %s failed:\n%s" % (si.name, traceback.format_exc()))

    def run_pending(self, rounds=100):
        """Run what is scheduled now, in the caller's thread (tests; takes the kernel lock).

        Repeats while handlers re-schedule, up to `rounds` times. Returns the
        number of handler runs.
        """
        ran = 0
        for _ in range(rounds):
            with self.lock:
                batch = self._take()
            if not batch:
                break
            with self.klock:
                self._run(batch)
            ran += len(batch)
        return ran

    def thread_main(self):
        self.thread_ident = threading.get_ident()
        while True:
            with self.lock:
                while self.running and not self.pending:
                    self.cond.wait()
                if not self.running:
                    return
                batch = self._take()
            with self.klock:
                self._run(batch)

    def start(self, host):
        self.running = True
        host.start_thread(self.thread_main, "softint")

    def stop(self):
        with self.lock:
            self.running = False
            self.cond.notify()


class PktQueue:
    """A bounded input queue drained by a softint (NetBSD's pktqueue / ifqueue).

    handler(item) runs for each item with the kernel lock held, in the
    softint thread. enqueue() may be called from any thread.
    """

    def __init__(self, softints, handler, maxlen=IFQ_MAXLEN, name=None, batch=BATCH):
        self.handler = handler
        self.maxlen = maxlen
        self.batch = batch
        self.q = collections.deque()
        self.qlock = threading.Lock()
        self.enqueued = 0
        self.drops = 0
        self.errors = 0
        self.report = softints.report
        self.si = softints.establish(self._drain, name=name or "pktq")

    def enqueue(self, item):
        """Queue item for the handler; False (and a drop counted) if the queue is full."""
        with self.qlock:
            if len(self.q) >= self.maxlen:
                self.drops += 1
                return False
            self.q.append(item)
            self.enqueued += 1
        self.si.schedule()
        return True

    def enqueue_many(self, items):
        """Queue several items under one lock hold and schedule the softint once;
        those beyond the queue's room are dropped and counted. Returns how many were queued."""
        with self.qlock:
            room = self.maxlen - len(self.q)
            if room < len(items):
                self.drops += len(items) - max(room, 0)
                items = items[:max(room, 0)]
            self.q.extend(items)
            self.enqueued += len(items)
        if items:
            self.si.schedule()
        return len(items)

    def __len__(self):
        return len(self.q)

    def _drain(self):
        q = self.q
        with self.qlock:                # take up to a batch at once
            items = [q.popleft() for _ in range(min(self.batch, len(q)))]
        handler = self.handler
        for item in items:
            try:
                handler(item)
            except Exception:
                self.errors += 1
                if self.report is not None:
                    self.report("%s: input handler failed:\n%s" % (self.si.name, traceback.format_exc()))
        if q:
            self.si.schedule()          # more left: let others have the kernel lock first

    def sysctl_setup(self, tree, prefix, owner):
        """Add <prefix>.len, <prefix>.maxlen (writable) and <prefix>.drops, as
        NetBSD's net.inet.ip.ifq.* nodes. Kernel lock held."""
        def set_maxlen(v):
            if v < 1:
                raise RumpError(errnos.EINVAL)
            self.maxlen = v

        tree.add(prefix + ".len", INT, getter=lambda: len(self.q), owner=owner,
                 desc="Current input queue length")
        tree.add(prefix + ".maxlen", INT, getter=lambda: self.maxlen, setter=set_maxlen,
                 writable=True, owner=owner, desc="Maximum allowed input queue length")
        tree.add(prefix + ".drops", QUAD, getter=lambda: self.drops, owner=owner,
                 desc="Packets dropped due to full input queue")
