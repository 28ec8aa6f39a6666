"""selinfo records: how a file tells pollers that its state changed.

NetBSD's shape (selrecord/selnotify, sys/select.h). An object that can be
polled (a pipe, a device, later a socket buffer) owns one SelInfo per
direction. Its poll operation answers the events that are ready now and, for
the ones that are not, calls selrecord(lwp, sip): the polling LWP notes the
record. When the object's state changes (data arrives, room appears, a peer
closes) it calls selnotify(sip), which wakes every LWP that recorded it.

poll/select (sys_select.py) scan their descriptors with lwp.selrecs set to
an empty set, then sleep on all the recorded SelInfos at once
(SleepQueues.tsleep_multi): a SelInfo is itself a sleep channel. The scan
and the sleep happen under the kernel lock without a gap, so a notify cannot
fall between them (NetBSD needs SEL_RESET and collision counts for that
because its pollers and notifiers hold different locks).

Locking rule: kernel lock held for selrecord and selnotify. A host thread
never calls selnotify itself: it hands its event to a softint, whose handler
changes the object's state and notifies. selrecord outside a scan
(lwp.selrecs is None) does nothing, so poll operations may call it always.
"""


class SelInfo:
    """One selinfo record. Pollers sleep on it; selnotify() wakes them."""

    __slots__ = ("sleepq", "notifies", "__weakref__")

    def __init__(self, kernel):
        self.sleepq = kernel.sleepq
        self.notifies = 0           # how many times state changed (for tests and dumps)

    def waiting(self):
        """True if some LWP is asleep on this record."""
        return bool(self.sleepq.queues.get(self))


def selrecord(lwp, sip):
    """Note that lwp's current poll/select scan waits on sip (kernel lock held)."""
    recs = lwp.selrecs if lwp is not None else None
    if recs is not None:
        recs.add(sip)


def selnotify(sip, events=0):
    """The object behind sip changed state: wake the LWPs that recorded it.

    events says what happened (POLL* bits); pollers re-scan their
    descriptors anyway, so it is informational (NetBSD's knote hint).
    """
    sip.notifies += 1
    sip.sleepq.wakeup(sip)
