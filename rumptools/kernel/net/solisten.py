"""The listen/accept queues of a listening socket (NetBSD's so_q0 / so_q, uipc_socket2.c).

A connection request makes a new socket that waits on the incomplete
queue (q0: TCP's SYN received) or goes straight to the complete queue
(q: AF_LOCAL, or TCP once established); accept() takes the oldest
complete one. A listener takes no new request once
qlen + q0len > 3 * qlimit / 2 (sonewconn's rule), so a backlog of 0 still
admits one. listen(backlog): qlimit = min(max(backlog, 0), somaxconn).

accept_wait() is the generic accept(2): it sleeps on the listener's `rcv`
channel, which complete() wakes (with the listener's read selinfo), and
answers EAGAIN when non-blocking and ECONNABORTED once the listener is
closed or shut down.

Locking rule: none of its own; the kernel lock is held by every caller.
"""
import collections

from ...abi import errnos
from ...abi.errnos import RumpError
from .socket import CANTRCVMORE

SOMAXCONN = 128


def qlimit_of(backlog, somaxconn=SOMAXCONN):
    """listen()'s backlog as a queue limit."""
    if type(backlog) is not int:
        raise RumpError(errnos.EINVAL)
    return min(max(backlog, 0), somaxconn)


class ListenQueue:
    __slots__ = ("qlimit", "q0", "q")

    def __init__(self, qlimit):
        self.qlimit = qlimit
        self.q0 = collections.deque()       # incomplete connections
        self.q = collections.deque()        # complete, waiting for accept()

    def full(self):
        """True if a new connection request must be refused (or dropped)."""
        return len(self.q) + len(self.q0) > 3 * self.qlimit // 2

    def add_incomplete(self, so):
        """Queue a half-made connection; False if the listener is full."""
        if self.full():
            return False
        self.q0.append(so)
        return True

    def add_complete(self, so, head):
        """Queue a ready connection directly and wake accept(); False if full."""
        if self.full():
            return False
        self.q.append(so)
        head.rwakeup()
        return True

    def complete(self, so, head):
        """Move so from the incomplete to the complete queue and wake accept()."""
        try:
            self.q0.remove(so)
        except ValueError:
            pass
        self.q.append(so)
        head.rwakeup()

    def remove(self, so):
        """Forget so (it was reset or closed before accept); True if it was queued."""
        for queue in (self.q0, self.q):
            try:
                queue.remove(so)
                return True
            except ValueError:
                pass
        return False

    def take(self):
        """The oldest complete connection, or None."""
        return self.q.popleft() if self.q else None

    def drain(self):
        """Every queued socket (both queues), emptied: the listener is going away."""
        out = list(self.q0) + list(self.q)
        self.q0.clear()
        self.q.clear()
        return out

    def __len__(self):
        return len(self.q)


def accept_wait(head, flags=0):
    """Sleep until head's queue has a complete connection and take it (accept(2)).

    head is a listening Socket whose `lq` is a ListenQueue. Errors: EINVAL
    when it is not listening, EAGAIN when non-blocking and none is ready,
    ECONNABORTED once the listener can receive no more, a pending so_error.
    """
    lq = head.lq
    if lq is None:
        raise RumpError(errnos.EINVAL)
    while not lq.q:
        if head.error:
            raise RumpError(head.take_error())
        if head.closed or head.state & CANTRCVMORE:
            raise RumpError(errnos.ECONNABORTED)
        if head.nonblocking(flags):
            raise RumpError(errnos.EAGAIN)
        head.kernel.sleepq.tsleep(head.rcv, head.rcvtimeo)
        lq = head.lq
        if lq is None:
            raise RumpError(errnos.ECONNABORTED)
    return lq.take()
