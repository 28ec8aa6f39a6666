"""A byte-stream socket buffer (NetBSD's struct sockbuf for stream protocols).

Bytes are kept in one bytearray from a head offset; append() adds at the
tail, peek(offset, n) copies without consuming (what TCP retransmits from),
drop(n) discards from the head (acknowledged data, or data read) and
take(n) is peek + drop. The consumed front is reclaimed once it is both
large and more than half of the array, so every operation is amortised
O(bytes moved).

Control data (AF_LOCAL's SCM_RIGHTS and SCM_CREDS) may be attached to the
first byte of an append: take_record() then stops before the next byte
carrying control, as soreceive() stops at a control mbuf, and returns the
control with the bytes it starts. Byte positions count from the start of
the stream (`base` is the position of the head), so attached control
survives drops and compaction.

cc: bytes held. hiwat: the limit senders respect (space()). lowat: the
amount a reader or poll wants before calling the buffer readable (rcv) or
writable (snd, by space()).

Locking rule: none of its own; the kernel lock is held by every caller.
"""
import collections

_COMPACT = 65536


class SockBuf:
    __slots__ = ("_buf", "_head", "base", "hiwat", "lowat", "marks")

    def __init__(self, hiwat, lowat=1):
        self._buf = bytearray()
        self._head = 0
        self.base = 0                   # stream position of the first byte held
        self.hiwat = hiwat
        self.lowat = lowat
        self.marks = None               # deque of (stream position, control), ascending; made on first use

    @property
    def cc(self):
        return len(self._buf) - self._head

    def __len__(self):
        return len(self._buf) - self._head

    def space(self):
        """Bytes that may still be appended before hiwat (never negative)."""
        return max(0, self.hiwat - self.cc)

    def append(self, data, control=None):
        """Add data at the tail; control (any non-None value) is attached to its first byte."""
        if control is not None:
            if self.marks is None:
                self.marks = collections.deque()
            self.marks.append((self.base + self.cc, control))
        self._buf += data

    def peek(self, offset, n):
        """Up to n bytes from offset (0 = head) without consuming them."""
        if offset < 0 or n < 0:
            raise ValueError("negative offset or count")
        start = self._head + offset
        return bytes(self._buf[start:start + n])

    def drop(self, n):
        """Discard up to n bytes from the head (and control attached to them); the count dropped."""
        n = max(0, min(n, self.cc))
        self._head += n
        self.base += n
        marks = self.marks
        while marks and marks[0][0] < self.base:
            marks.popleft()
        if self._head == len(self._buf):
            self._buf = bytearray()
            self._head = 0
        elif self._head >= _COMPACT and self._head * 2 >= len(self._buf):
            del self._buf[:self._head]
            self._head = 0
        return n

    def take(self, n):
        """Remove and return up to n bytes from the head."""
        data = self.peek(0, n)
        self.drop(len(data))
        return data

    def next_mark(self):
        """Bytes before the next attached control (cc if none)."""
        for pos, _control in self.marks or ():
            if pos > self.base:
                return pos - self.base
        return self.cc

    def take_record(self, n, peek=False):
        """(data, control): up to n bytes, not crossing into bytes that carry other control.

        control is the one attached to the head byte (None if none). With
        peek nothing is consumed.
        """
        control = None
        if self.marks and self.marks[0][0] == self.base:
            control = self.marks[0][1]
        n = min(n, self.next_mark())
        if peek:
            return self.peek(0, n), control
        if control is not None:
            self.marks.popleft()
        return self.take(n), control

    def controls(self):
        """Every attached control still held (to dispose of descriptors in flight)."""
        return [c for _pos, c in self.marks or ()]

    def clear(self):
        """Drop everything; returns the attached controls that were dropped."""
        dropped = self.controls()
        self.drop(self.cc)
        self.marks = None
        return dropped
