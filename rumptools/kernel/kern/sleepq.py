"""The kernel lock, sleep and wakeup, on one channel or several.

Locking rule: one lock (Kernel.lock) guards all kernel state. A syscall
handler runs with it held. tsleep() releases it while the LWP sleeps and
takes it back before returning, so code around a sleep must re-check state.
Checking a condition and going to sleep happen under the lock without a
gap, so a wakeup cannot be lost between them.

An LWP sleeps on one channel (tsleep) or on several at once (tsleep_multi:
poll/select sleep on every selinfo their descriptors recorded; a socket
may wait for data or for an error). It is woken by wakeup(chan) on any of
them, by its timeout (its own Callout on the kernel clock, re-armed per
sleep and stopped on every exit from it, so virtual time works and no
timer outlives its sleep), by its process exiting or by its client
interrupting the call (EINTR; interruptible sleeps only).

Only LWPs (syscalls) sleep. Callout handlers and softint handlers must not;
host threads never touch sleep queues (they hand work to a softint).
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
        self._sleep((chan,), timo, intr)

    def tsleep_multi(self, chans, timo=None, intr=True):
        """Sleep until any of chans is woken; returns that channel.

        With no channels, only the timeout or an exit ends the sleep.
        Errors as tsleep().
        """
        return self._sleep(tuple(chans), timo, intr)

    def _sleep(self, chans, timo, intr):
        lwp = curlwp()
        if lwp is None:
            raise RuntimeError("tsleep outside an LWP")
        if intr and (lwp.proc.exiting or lwp.interrupted):
            raise RumpError(errnos.EINTR)
        lwp.before_sleep()
        if lwp.cond is None:
            lwp.cond = threading.Condition(self.lock)
        lwp.wchan = chans
        lwp.woken = None
        lwp.wokenby = None
        queues = self.queues
        for chan in chans:
            q = queues.get(chan)
            if q is None:
                queues[chan] = {lwp}
            else:
                q.add(lwp)
        self.sleepers += 1
        timer = None
        if timo is not None:
            timer = lwp.timer
            if timer is None:
                timer = lwp.timer = self.callouts.callout(self._timeout, lwp)
            timer.schedule(timo)
        try:
            while lwp.woken is None:
                if intr and (lwp.proc.exiting or lwp.interrupted):
                    lwp.woken = "intr"
                    break
                lwp.cond.wait()
        finally:
            self.sleepers -= 1
            for chan in chans:
                q = queues.get(chan)
                if q is not None:
                    q.discard(lwp)
                    if not q:
                        del queues[chan]
            if timer is not None:
                timer.stop()
            lwp.wchan = None
        if lwp.woken == "timeout":
            raise RumpError(errnos.EAGAIN)
        if lwp.woken == "intr":
            raise RumpError(errnos.EINTR)
        return lwp.wokenby

    def wakeup(self, chan):
        q = self.queues.get(chan)
        if not q:
            return
        for lwp in q:
            if lwp.woken is None:
                lwp.woken = "wakeup"
                lwp.wokenby = chan
                lwp.cond.notify()

    def _timeout(self, lwp):
        if lwp.woken is None and lwp.wchan is not None:
            lwp.woken = "timeout"
            lwp.cond.notify()

    def interrupt(self, lwp):
        """Wake an LWP of an exiting process, or one whose client interrupted its call."""
        if lwp.wchan is not None and lwp.woken is None:
            lwp.woken = "intr"
            lwp.cond.notify()
