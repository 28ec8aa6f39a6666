"""The kernel console on a host descriptor (rumpuser_putchar's place): never blocks the kernel.

Kernel code prints with the kernel lock held, and the descriptor may be a
pipe that nobody reads (rump_server -s | something stuck). So write() only
queues the text (up to LIMIT bytes; past that messages are dropped and
counted) and one console thread does the blocking host writes. flush()
waits a bounded time for the queue to empty, for the last words at halt.

Locking rule: Console.lock guards the queue and counters; it is a leaf lock,
taken with the kernel lock held and never the other way round.
"""
import os
import threading
import time
from collections import deque

LIMIT = 1 << 20


class Console:
    def __init__(self, fd, limit=LIMIT):
        self.fd = fd
        self.limit = limit
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.queue = deque()
        self.queued = 0
        self.dropped = 0
        self.busy = False           # the thread is writing an item it took
        self.thread = None

    def write(self, text):
        """Queue one message (a newline is added). Never blocks on the descriptor."""
        data = (text + "\n").encode("utf-8", "replace")
        with self.lock:
            if self.queued + len(data) > self.limit:
                self.dropped += 1
                return
            if self.dropped:
                note = ("[console: %d messages lost]\n" % self.dropped).encode()
                self.queue.append(note)
                self.queued += len(note)
                self.dropped = 0
            self.queue.append(data)
            self.queued += len(data)
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="console", daemon=True)
                self.thread.start()
            else:
                self.cond.notify()

    __call__ = write

    def _run(self):
        while True:
            with self.lock:
                while not self.queue:
                    self.busy = False
                    self.cond.notify_all()
                    self.cond.wait()
                self.busy = True
                data = b"".join(self.queue)
                self.queue.clear()
            view = memoryview(data)
            while view:
                try:
                    n = os.write(self.fd, view)
                except InterruptedError:
                    continue
                except OSError:
                    n = len(view)           # the console is gone: drop what is left
                view = view[n:]
            with self.lock:
                self.queued -= len(data)

    def flush(self, timeout):
        """Wait up to timeout seconds for everything queued to be written. True if it was."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.queue or self.busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True
