"""The output side of one sysproxy connection: replies never block the sender.

send() tries one non-blocking send; what the socket does not take goes to a
per-connection queue that a writer thread (started only while the queue is
not empty) pushes out as the client reads. So a worker or the kernel (a
kernel-raised SIGPIPE is sent with the kernel lock held) never waits on a
client's socket, and a client that stops reading stalls only itself:

- past SOFT queued bytes the connection's reader stops taking new requests
  (wait_room), so that client's own calls wait;
- past HARD queued bytes (a single frame of any size is always taken into
  an empty queue) the connection is dropped;
- a queue that makes no progress for STALL seconds after the peer stopped
  sending (half-closed, never reading) is dropped too.

Locking rule: Output.lock guards the queue, the counters, the reference
count and the socket's closing; it is a leaf lock (taken with the kernel
lock held, never the other way round). The socket is closed only when the
last reference (reader, calls in flight, writer) is released, so no thread
ever sends on a descriptor that was closed and reused.
"""
import select
import socket
import threading
import time
from collections import deque

SOFT = 256 * 1024
HARD = 8 * 1024 * 1024
STALL = 30.0
_DONTWAIT = socket.MSG_DONTWAIT
_POLLOUT = select.POLLOUT


class Output:
    def __init__(self, sock, on_close):
        self.sock = sock
        self.on_close = on_close        # called once, after the socket is closed
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.queue = deque()
        self.queued = 0                 # bytes in the queue, the one being written included
        self.writer = False
        self.dead = False               # dropped or closed: nothing more is sent
        self.refs = 1                   # the reader's
        self.inflight = 0               # calls handed to the pool and not yet answered
        self.waiting = False            # the reader waits in wait_room()
        self.peer_done = False          # the peer stopped sending (EOF)

    # -- references ----------------------------------------------------------------
    def hold(self):
        with self.lock:
            self.refs += 1

    def release(self):
        with self.lock:
            self.refs -= 1
            last = self.refs == 0
            if last:
                self.dead = True
                self.queue.clear()
                self.queued = 0
                try:
                    self.sock.close()
                except OSError:
                    pass
        if last:
            self.on_close()

    # -- sending -------------------------------------------------------------------
    def send(self, data):
        """Queue one frame for the client; never blocks. False if the connection is gone."""
        with self.lock:
            if self.dead:
                return False
            if not self.queue:
                try:
                    n = self.sock.send(data, _DONTWAIT)
                except BlockingIOError:
                    n = 0
                except OSError:
                    self._drop_locked()
                    return False
                if n == len(data):
                    return True
                data = memoryview(data)[n:]
            if self.queued and self.queued + len(data) > HARD:
                self._drop_locked()
                return False
            self.queue.append(data)
            self.queued += len(data)
            if not self.writer:
                self.writer = True
                self.refs += 1
                start = True
            else:
                start = False
        if start:
            t = threading.Thread(target=self._write_loop, name="sp-writer", daemon=True)
            try:
                t.start()
            except RuntimeError:
                with self.lock:
                    self.writer = False
                    self._drop_locked()
                self.release()
                return False
        return True

    def _write_loop(self):
        poller = select.poll()
        try:
            poller.register(self.sock.fileno(), _POLLOUT)
        except (OSError, ValueError):
            poller = None
        last_progress = time.monotonic()
        try:
            while True:
                with self.lock:
                    if self.dead or not self.queue:
                        self.writer = False
                        self.cond.notify_all()
                        return
                    item = self.queue[0]
                    try:
                        n = self.sock.send(item, _DONTWAIT)
                    except BlockingIOError:
                        n = 0
                    except OSError:
                        self._drop_locked()
                        continue
                    if n:
                        last_progress = time.monotonic()
                        self.queued -= n
                        if n == len(item):
                            self.queue.popleft()
                        else:
                            self.queue[0] = memoryview(item)[n:]
                        if self.waiting and self.queued <= SOFT:
                            self.cond.notify_all()
                        continue
                    if self.peer_done and time.monotonic() - last_progress > STALL:
                        self._drop_locked()
                        continue
                if poller is None:
                    time.sleep(0.05)
                else:
                    poller.poll(1000)
        finally:
            self.release()

    # -- flow control --------------------------------------------------------------
    def call_started(self):
        with self.lock:
            self.inflight += 1
            self.refs += 1

    def call_done(self):
        with self.lock:
            self.inflight -= 1
            if self.waiting:
                self.cond.notify_all()
        self.release()

    def wait_room(self, max_inflight):
        """The reader waits here while the client has too much unread or in flight.
        False if the connection died meanwhile."""
        with self.lock:
            while not self.dead and (self.queued > SOFT or self.inflight >= max_inflight):
                self.waiting = True
                self.cond.wait(1.0)
            self.waiting = False
            return not self.dead

    def wait_calls(self, deadline):
        """Wait (until deadline) for every call in flight to be answered: exec does."""
        with self.lock:
            while self.inflight and not self.dead:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.waiting = True
                self.cond.wait(left)
            self.waiting = False
            return True

    def drain(self, deadline):
        """Wait (until deadline, monotonic) for queued replies to leave: used at halt."""
        with self.lock:
            while self.queue and not self.dead:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    # -- ending --------------------------------------------------------------------
    def drop(self):
        """Hang up: the reader sees EOF, pending output is discarded."""
        with self.lock:
            self._drop_locked()

    def _drop_locked(self):
        if not self.dead:
            self.dead = True
            self.queue.clear()
            self.queued = 0
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.cond.notify_all()

    def shut_read_side(self):
        """The peer will send nothing more (EOF); replies still in flight go out."""
        with self.lock:
            self.peer_done = True
