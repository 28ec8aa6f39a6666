"""Host side of a shmif bus: the mapped file, its lock word, wake-ups.

The only code that touches a bus file.  It opens (creating) the file, maps
its first MiB shared, and offers what the shmif interface needs:

    bus = ShmifBus(path, console=print_to_console)
    bus.send([frame, ...], sec, usec, sender)   # under the bus lock, then a wake-up write
    rd = bus.reader()                            # a cursor at the newest packet
    bus.receive(rd, skip_sender=own_id) -> [(len, sec, usec, sender, frame), ...]   # what is new
    bus.wait(timeout)                            # until some writer's wake-up write
    bus.close()

Locking rule: the lock word at offset 24 is taken with an atomic
compare-and-swap on the shared page (the compiled _hostops helper), spinning
LOCK_COOLDOWN times between 1 ms sleeps, exactly as NetBSD's shmif does, so
that our kernels and NetBSD's can share a bus.  NetBSD waits forever for a
holder that died; this layer waits at most lock_timeout seconds, then says
so on the console and takes the lock over (a holder that died mid-write may
have left a damaged packet: readers skip damage).  Ring methods are only
called with the lock held; nothing blocks while holding it.  Sending one
frame first tries the compiled _hostops.shmif_send: one try of the lock,
Ring.append's steps in C, unlock; a held lock or a damaged ring falls back
to the Python path above (the C code leaves a damaged ring locked for it).

Wake-ups: after sending, the writer pwrite()s the value 3 over the version
word -- a real write, so every other attached interface's inotify watch
(IN_MODIFY) fires; stores through the mapping would not.

Coalescing (Waker): a frame is followed by its wake-up write at once when
the sender has heard from the bus since its last write (an answer: a ping,
a request and its reply are latency, not bulk) or when COALESCE seconds
have passed since its last write (a quiet spell); other frames -- a burst --
only mark a write as owed, and one host thread pays the debt once per
COALESCE seconds for as long as the burst lasts, then sleeps until the next
burst. So a burst costs the sender no thread switch per frame and the
readers one wake-up per interval, never none: the last frame of a burst is
followed by a write within COALESCE seconds.

A file whose magic is neither 0 nor the bus magic is refused with
"bus is not magical" (ENOEXEC) before anything is written to it, grown or
mapped writable; a bus is never shrunk.
"""
import errno
import mmap
import os
import select
import struct
import sys
import threading
import time

from rumptools.formats import shmif
from rumptools.kernel.rumpuser import _hostops

_WAKEUP = struct.pack("=I", shmif.VERSION)
LOCK_TIMEOUT = 2.0
_FAST_MAX = 2048         # frames up to this long take the compiled send path
COALESCE = 0.0005       # seconds: during a burst, one wake-up write per this interval


class BusError(OSError):
    pass


def _stderr_console(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


class ShmifBus:
    def __init__(self, path, console=_stderr_console, lock_timeout=LOCK_TIMEOUT):
        self.path = path
        self.console = console
        self.lock_timeout = lock_timeout
        self.lock_breaks = 0
        self.mm = None
        self.ino = -1
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            self._attach()
        except BaseException:
            self.close()
            raise

    def _not_magical(self):
        self.console("bus is not magical")
        raise BusError(errno.ENOEXEC, "bus is not magical", self.path)

    def _attach(self):
        head = os.pread(self.fd, 4, 0)
        magic = struct.unpack("=I", head.ljust(4, b"\0"))[0]
        if magic not in (0, shmif.MAGIC):
            self._not_magical()
        if os.fstat(self.fd).st_size < shmif.BUSMEM_SIZE:
            os.ftruncate(self.fd, shmif.BUSMEM_SIZE)
        self.mm = mmap.mmap(self.fd, shmif.BUSMEM_SIZE, mmap.MAP_SHARED,
                            mmap.PROT_READ | mmap.PROT_WRITE)
        self.ring = shmif.Ring(self.mm)
        self.lock()
        try:
            magic = self.ring.magic
            if magic == 0:
                self.ring.init()
            elif magic != shmif.MAGIC:      # changed under us: leave it be
                self.unlock()
                self._not_magical()
        finally:
            if self.locked:
                self.unlock()
        self.ino = _hostops.inotify_init()
        _hostops.inotify_add_watch(self.ino, os.readlink("/proc/self/fd/%d" % self.fd),
                                   _hostops.IN_MODIFY)

    # the bus lock
    locked = False

    def lock(self):
        cas = _hostops.cas32
        mm = self.mm
        if cas(mm, shmif.OFF_LOCK, 0, 1) == 0:
            self.locked = True
            return
        deadline = time.monotonic() + self.lock_timeout
        tries = 0
        while cas(mm, shmif.OFF_LOCK, 0, 1) != 0:
            tries += 1
            if tries > shmif.LOCK_COOLDOWN:
                tries = 0
                if time.monotonic() >= deadline:
                    self.lock_breaks += 1
                    self.console("shmif: bus %s: lock held for over %g s, taking it over"
                                 % (self.path, self.lock_timeout))
                    _hostops.swap32(mm, shmif.OFF_LOCK, 1)
                    break
                time.sleep(0.001)
        self.locked = True

    def unlock(self):
        self.locked = False
        _hostops.swap32(self.mm, shmif.OFF_LOCK, 0)

    # sending and receiving
    def wakeup(self):
        os.pwrite(self.fd, _WAKEUP, shmif.OFF_WAKEUP)

    def send(self, frames, sec, usec, sender, wake=True):
        """Put frames on the bus under one lock hold, then wake the readers
        (wake=False: the caller wakes them later, once for many sends)."""
        if len(frames) == 1 and len(frames[0]) <= _FAST_MAX:
            # the compiled fast path: lock, append, unlock in one call (shmif_send);
            # a held lock or a damaged ring falls back to the Python steps below
            r = _hostops.shmif_send(self.mm, frames[0], sec, usec, sender)
            if r >= 0:
                if wake:
                    self.wakeup()
                return
            if r != _hostops.SEND_BUSY:
                self.locked = True      # shmif_send left the lock held
                try:
                    if r == _hostops.SEND_DAMAGED:
                        self.ring.repair()
                        self.ring._append(frames[0], sec, usec, sender)
                    else:
                        self.ring.append(frames[0], sec, usec, sender)
                finally:
                    self.unlock()
                if wake:
                    self.wakeup()
                return
        ring = self.ring
        self.lock()
        try:
            for frame in frames:
                ring.append(frame, sec, usec, sender)
        finally:
            self.unlock()
        if wake:
            self.wakeup()

    def reader(self):
        self.lock()
        try:
            return shmif.Reader(self.ring)
        finally:
            self.unlock()

    def receive(self, reader, limit=256, skip_sender=None):
        """Up to `limit` new packets for this reader, oldest first, under one lock hold;
        those of skip_sender (the interface's own) are passed over uncopied
        (reader.more: the limit stopped it with packets left)."""
        self.lock()
        try:
            return reader.take(limit, skip_sender)
        finally:
            self.unlock()

    def wait(self, timeout):
        """Block until a wake-up write (or timeout seconds); True if woken."""
        r, _, _ = select.select([self.ino], [], [], timeout)
        if not r:
            return False
        try:
            while os.read(self.ino, 4096):
                pass
        except BlockingIOError:
            pass
        return True

    def close(self):
        if self.ino >= 0:
            os.close(self.ino)
            self.ino = -1
        if self.mm is not None:
            if self.locked:
                self.unlock()
            if getattr(self, "ring", None) is not None:
                self.ring.release()
                self.ring = None
            self.mm.close()
            self.mm = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Waker:
    """Coalesced wake-up writes for one sender on a bus (see the module comment).

        w = Waker(bus.wakeup)
        start a host thread running w.run(stop)
        w.sent()                # after each bus.send(..., wake=False)
        w.heard()               # the receive thread took frames of others off the bus

    Locking rule: sent() and the thread share only the flags owed and burst,
    under Waker.lock (a leaf lock, held for no I/O); the write itself is made
    without it. heard() sets `answering` without the lock: a race with sent()
    costs one write made at once or one left to the thread, never a frame
    without a write. clock and sleep are injectable for tests."""

    def __init__(self, write, interval=COALESCE, clock=time.monotonic, sleep=time.sleep):
        self.write = write
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.lock = threading.Lock()
        self.kick = threading.Event()
        self.last = -interval - 1.0     # time of the last write
        self.answering = False          # frames were heard since the last write
        self.owed = False               # frames went out since the last write
        self.burst = False              # the thread is paying writes off (no kick needed)
        self.writes = 0

    def heard(self):
        """The interface received frames from others (its receive thread says so): the
        next frame it sends answers them and is written at once."""
        self.answering = True

    def sent(self):
        """A frame went onto the bus (wake=False): write now if it answers what was heard
        or ends a quiet spell, else owe the write."""
        now = self.clock()
        with self.lock:
            if self.answering or (now - self.last > self.interval and not self.burst):
                self.last = now
                self.answering = False
                self.owed = False       # this write covers every frame sent so far
                inline = True
            else:
                inline = False
                self.owed = True
                kick = not self.burst
                self.burst = True
        if inline:
            self._write()
        elif kick:
            self.kick.set()             # one thread wake-up a burst, not one a frame

    def _write(self):
        self.writes += 1
        self.write()

    def tick(self):
        """One step of the thread during a burst: sleep out the interval since the last
        write, then write if a frame is owed one. False once the burst is over."""
        delay = self.last + self.interval - self.clock()
        if delay > 0:
            self.sleep(delay)
        with self.lock:
            if not self.owed:
                self.burst = False
                return False
            self.owed = False
            self.last = self.clock()
        self._write()
        return True

    def run(self, stop):
        """The host thread: until stop is set (or a write fails, the bus being gone)."""
        kick = self.kick
        try:
            while not stop.is_set():
                if not kick.wait(0.5):
                    continue
                kick.clear()
                while self.tick() and not stop.is_set():
                    pass
        except (OSError, ValueError):
            return
