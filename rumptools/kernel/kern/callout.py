"""Callouts: functions run at a time on the kernel's (replaceable) clock.

The shape is NetBSD's callout(9): a Callout is set up once (callout_init,
callout_setfunc) and armed, re-armed and disarmed many times
(callout_reset, callout_schedule, callout_stop, callout_halt), with
callout_pending / callout_expired / callout_invoking to ask its state.

Data structure: an *indexed* binary min-heap keyed on (deadline, arming
order). Every armed Callout knows its slot in the heap, so stop removes it
and reset moves it in O(log n) -- a cancelled or re-armed callout never
stays behind, and the heap holds exactly the pending callouts (len(heap) ==
pending(), which tests and the kern.rump.callouts sysctl read). Chosen over
lazy deletion (garbage and a compaction pass to tune) and over a timer wheel
(NetBSD's choice for integer ticks; here time is a float on a clock that
tests replace, and the callout thread needs the next deadline at once to
sleep exactly until it -- the heap's top).

Threads and locking: everything here runs with the kernel lock held --
arming, disarming and the handlers themselves, which the callout thread
calls with the lock held, in deadline order. Handlers must not sleep.
Host threads (a tap or shmif receive thread, disk completion) may not touch
callouts directly: they hand work to a softint (softint.py), whose handler
runs under the kernel's rules and may arm callouts.

The callout thread sleeps on the clock until the earliest deadline or until
an arming makes an earlier one (it is notified); it never polls. With the
fake host's virtual clock, time moves only when a test advances it: the
clock then wakes the thread, and advance(kernel=...) also fires what is due
before returning, so tests are deterministic.
"""
import itertools
import threading
import traceback


class Callout:
    """One timer (NetBSD's struct callout). Create with Callouts.callout()."""

    __slots__ = ("_owner", "_idx", "when", "_seq", "fn", "args", "_state", "_runner")

    # _state: 0 idle, 1 pending, 2 fired (expired, handler ran or is running)
    def __init__(self, owner, fn=None, args=()):
        self._owner = owner
        self._idx = -1              # slot in the heap, -1 when not pending
        self.when = None
        self._seq = 0
        self.fn, self.args = fn, args
        self._state = 0
        self._runner = None         # thread running the handler, while it runs

    # -- NetBSD callout(9) ---------------------------------------------------
    def setfunc(self, fn, *args):
        """callout_setfunc: the function (and arguments) the next expiry calls."""
        self.fn, self.args = fn, args

    def reset(self, delay, fn=None, *args):
        """callout_reset: (re)arm to fire after delay seconds, optionally with a new function.

        An armed callout is moved, not duplicated. Kernel lock held.
        """
        if fn is not None:
            self.fn, self.args = fn, args
        self._owner._arm(self, delay)

    def schedule(self, delay):
        """callout_schedule: (re)arm with the function already set."""
        self._owner._arm(self, delay)

    def stop(self):
        """callout_stop: disarm. Returns True if the callout had already expired
        (its handler ran or is running), as NetBSD does. Kernel lock held."""
        expired = self._state == 2
        self._owner._disarm(self)
        self._state = 0
        return expired

    def halt(self):
        """callout_halt: stop, and wait for a handler running in another thread to end.

        The kernel lock is held by the caller; waiting releases it.
        """
        expired = self.stop()
        owner = self._owner
        me = threading.current_thread()
        while self._runner is not None and self._runner is not me:
            owner.done.wait()
        return expired

    def pending(self):
        """callout_pending: armed and not yet fired."""
        return self._state == 1

    def expired(self):
        """callout_expired: fired since last armed."""
        return self._state == 2

    def invoking(self):
        """callout_invoking: its handler is running right now."""
        return self._runner is not None

    def destroy(self):
        """callout_destroy: the callout must not be used again."""
        self.stop()
        self.fn = None


class Callouts:
    """The kernel's timers on one clock, and the thread that fires them."""

    def __init__(self, lock, clock):
        self.lock = lock
        self.clock = clock
        self.cond = threading.Condition(lock)   # the callout thread sleeps on it
        self.done = threading.Condition(lock)   # callout_halt waits for handlers on it
        self.heap = []
        self._seq = itertools.count()
        self.running = False
        self.wakeups = 0            # times the callout thread woke (tests: it must not poll)
        self.fired = 0
        self.report = None          # callable(text): where a failing handler is reported

    # -- API ----------------------------------------------------------------
    def callout(self, fn=None, *args):
        """callout_init (+ callout_setfunc): a new idle callout."""
        return Callout(self, fn, args)

    def schedule(self, delay, fn, *args):
        """A one-shot timer: run fn(*args) after delay seconds. Kernel lock held.

        Returns the Callout, which the caller may stop() or cancel().
        """
        co = Callout(self, fn, args)
        self._arm(co, delay)
        return co

    def cancel(self, co):
        co.stop()

    def pending(self):
        """Number of armed callouts (the heap holds nothing else)."""
        return len(self.heap)

    def next_deadline(self):
        return self.heap[0].when if self.heap else None

    def run_due(self):
        """Fire every callout whose time has come (takes the kernel lock)."""
        with self.lock:
            self._fire_due()

    # -- heap ---------------------------------------------------------------
    def _arm(self, co, delay):
        when = self.clock.now() + max(0.0, delay)
        co.when = when
        co._seq = next(self._seq)
        co._state = 1
        heap = self.heap
        if co._idx < 0:
            co._idx = len(heap)
            heap.append(co)
            self._up(co._idx)
        else:
            self._fix(co._idx)
        if heap[0] is co:
            self.cond.notify()      # an earlier deadline: the thread re-computes its sleep

    def _disarm(self, co):
        i = co._idx
        if i < 0:
            return
        heap = self.heap
        last = heap.pop()
        co._idx = -1
        if last is not co:
            heap[i] = last
            last._idx = i
            self._fix(i)

    @staticmethod
    def _less(a, b):
        return a.when < b.when or (a.when == b.when and a._seq < b._seq)

    def _fix(self, i):
        if i > 0 and self._less(self.heap[i], self.heap[(i - 1) >> 1]):
            self._up(i)
        else:
            self._down(i)

    def _up(self, i):
        heap, less = self.heap, self._less
        co = heap[i]
        while i > 0:
            parent = (i - 1) >> 1
            p = heap[parent]
            if not less(co, p):
                break
            heap[i] = p
            p._idx = i
            i = parent
        heap[i] = co
        co._idx = i

    def _down(self, i):
        heap, less = self.heap, self._less
        n = len(heap)
        co = heap[i]
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            if child + 1 < n and less(heap[child + 1], heap[child]):
                child += 1
            c = heap[child]
            if not less(c, co):
                break
            heap[i] = c
            c._idx = i
            i = child
        heap[i] = co
        co._idx = i

    def _pop(self):
        co = self.heap[0]
        self._disarm(co)
        return co

    # -- firing -------------------------------------------------------------
    def _fire_due(self):
        now = self.clock.now()
        heap = self.heap
        me = threading.current_thread()
        while heap and heap[0].when <= now:
            co = self._pop()
            co._state = 2
            fn = co.fn
            if fn is None:
                continue
            co._runner = me
            try:
                fn(*co.args)
            except Exception:       # a kernel bug in a handler must not stop the clock
                if self.report is not None:
                    self.report("callout %r failed:\n%s" % (fn, traceback.format_exc()))
            finally:
                co._runner = None
                self.fired += 1
                self.done.notify_all()

    def thread_main(self):
        with self.lock:
            while self.running:
                self._fire_due()
                if not self.running:
                    break
                self.clock.wait(self.cond, self.next_deadline())
                self.wakeups += 1

    def stop(self):
        with self.lock:
            self.running = False
            self.cond.notify()
