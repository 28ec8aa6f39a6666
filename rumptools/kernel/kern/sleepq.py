"""The kernel lock, sleep and wakeup.

Locking rule: one lock (Kernel.lock) guards all kernel state. A syscall
handler runs with it held. tsleep() releases it while the LWP sleeps and
takes it back before returning, so code around a sleep must re-check state.
An LWP is woken by wakeup(chan), by its timeout (a callout, so virtual time
works) or by its process exiting (EINTR).
"""
import threading

from ...abi import errnos
from ...abi.errnos import RumpError

_current = threading.local()
curlwp_slot = _current      # the syscall path sets .lwp directly (one attribute store per call)


def curlwp():
    return getattr(_current, "lwp", None)


def set_curlwp(lwp):
    _current.lwp = lwp


class SleepQueues:
    def __init__(self, lock, callouts):
        self.lock = lock
        self.callouts = callouts
        self.queues = {}        # chan -> set of sleeping LWPs
        self.sleepers = 0

    def tsleep(self, chan, timo=None, intr=True):
        """Sleep on chan until woken; timo in seconds. Kernel lock must be held.

        Raises EINTR if the process is exiting (with intr), EWOULDBLOCK
        (EAGAIN) on timeout.
        """
        lwp = curlwp()
        if lwp is None:
            raise RuntimeError("tsleep outside an LWP")
        if intr and lwp.proc.exiting:
            raise RumpError(errnos.EINTR)
        lwp.before_sleep()
        if lwp.cond is None:
            lwp.cond = threading.Condition(self.lock)
        lwp.wchan = chan
        lwp.woken = None
        self.queues.setdefault(chan, set()).add(lwp)
        self.sleepers += 1
        timer = None
        if timo is not None:
            timer = self.callouts.schedule(timo, self._timeout, lwp)
        try:
            while lwp.woken is None:
                if intr and lwp.proc.exiting:
                    lwp.woken = "intr"
                    break
                lwp.cond.wait()
        finally:
            self.sleepers -= 1
            q = self.queues.get(chan)
            if q is not None:
                q.discard(lwp)
                if not q:
                    del self.queues[chan]
            if timer is not None:
                self.callouts.cancel(timer)
            lwp.wchan = None
        if lwp.woken == "timeout":
            raise RumpError(errnos.EAGAIN)
        if lwp.woken == "intr":
            raise RumpError(errnos.EINTR)

    def wakeup(self, chan):
        for lwp in self.queues.get(chan, ()):
            if lwp.woken is None:
                lwp.woken = "wakeup"
                lwp.cond.notify()

    def _timeout(self, lwp):
        if lwp.woken is None and lwp.wchan is not None:
            lwp.woken = "timeout"
            lwp.cond.notify()

    def interrupt(self, lwp):
        """Wake an LWP of an exiting process."""
        if lwp.wchan is not None and lwp.woken is None:
            lwp.woken = "intr"
            lwp.cond.notify()
