"""poll(2), pollts(2) and select(2): wait for any of several descriptors.

Values on the wire: poll takes a list of (fd, events) pairs and a timeout in
milliseconds (None or INFTIM: for ever) and returns one revents per pair;
pollts takes the timeout in nanoseconds (None: for ever; the signal mask of
NetBSD's pollts is the client's business, since signals are delivered on
the host); select takes three lists of descriptors and a timeout in
microseconds (None: for ever) and returns the three lists of ready ones.

The scan follows NetBSD's sel_do_scan: each descriptor's File.poll answers
what is ready and records (selrecord) the selinfo of what is not; with
nothing ready the LWP sleeps on all recorded records at once
(tsleep_multi) until one is notified, the timeout passes or the process
exits (EINTR), then scans again. Kernel lock held; it is released only
while asleep. Results as NetBSD gives them: a negative fd is skipped
(revents 0), a descriptor that is not open is POLLNVAL for poll and EBADF
for select; POLLHUP and POLLERR are reported unasked; a timeout is not an
error (everything comes back empty).

Handlers register by name in `syscalls` (kern/syscall.py); the base component adds them.
"""
from ...abi import errnos
from ...abi import poll as pl
from ...abi.errnos import RumpError
from .files import NDFILE_MAX
from .syscall import Syscalls

syscalls = Syscalls()

POLL_MAX_FDS = NDFILE_MAX + 1000      # NetBSD: nfds beyond dt_nfiles + 1000 is EINVAL
_SELECT_FLAGS = (pl.SELECT_READ, pl.SELECT_WRITE, pl.SELECT_EXCEPT)


def _is_int(v):
    return type(v) is int


def _poll_entries(fds):
    """Validate poll's list of (fd, events) pairs -> list of (fd, events)."""
    if type(fds) not in (tuple, list) or len(fds) > POLL_MAX_FDS:
        raise RumpError(errnos.EINVAL)
    out = []
    for ent in fds:
        if type(ent) not in (tuple, list) or len(ent) != 2 \
                or not _is_int(ent[0]) or not _is_int(ent[1]):
            raise RumpError(errnos.EINVAL)
        fd, events = ent
        if not -(1 << 31) <= fd < (1 << 31):
            raise RumpError(errnos.EINVAL)
        out.append((fd, events & 0xffff))
    return out


def _timeout(value, per_second):
    """A timeout in units of 1/per_second -> seconds, or None for ever."""
    if value is None:
        return None
    if value < 0 or value >= 1 << 62:
        raise RumpError(errnos.EINVAL)
    return value / per_second


def _pollscan(lwp, entries):
    files = lwp.proc.files.slots
    revents = []
    n = 0
    for fd, events in entries:
        if fd < 0:
            rev = 0
        else:
            slot = files.get(fd)
            if slot is None:
                rev = pl.POLLNVAL
            else:
                rev = slot[0].poll(events | pl.POLLERR | pl.POLLHUP)
        if rev:
            n += 1
        revents.append(rev)
    return n, revents


def _selscan(lwp, sets):
    files = lwp.proc.files.slots
    ready = ([], [], [])
    n = 0
    for which, fds in enumerate(sets):
        flags = _SELECT_FLAGS[which]
        for fd in fds:
            slot = files.get(fd)
            if slot is None:
                raise RumpError(errnos.EBADF)
            if slot[0].poll(flags):
                ready[which].append(fd)
                n += 1
    return n, ready


def _do_scan(lwp, scan, timo):
    """NetBSD's sel_do_scan: scan, sleep on what was recorded, scan again."""
    kernel = lwp.proc.kernel
    clock = kernel.host.clock
    deadline = None if timo is None else clock.now() + timo
    try:
        while True:
            lwp.selrecs = set()
            n, result = scan()
            if n:
                return result
            if deadline is None:
                left = None
            else:
                left = deadline - clock.now()
                if left <= 0:
                    return None
            recs, lwp.selrecs = lwp.selrecs, None
            try:
                kernel.sleepq.tsleep_multi(recs, left)
            except RumpError as e:
                if e.errno == errnos.EAGAIN:        # the timeout ran out: nothing ready
                    return None
                raise
    finally:
        lwp.selrecs = None


def pollcommon(lwp, fds, timo):
    entries = _poll_entries(fds)
    revents = _do_scan(lwp, lambda: _pollscan(lwp, entries), timo)
    return (tuple(revents) if revents is not None else (0,) * len(entries),)


@syscalls("poll")
def sys_poll(lwp, fds, timeout):
    """poll(fds, timeout_ms): revents for each (fd, events) pair."""
    if timeout == pl.INFTIM:
        timeout = None
    return pollcommon(lwp, fds, _timeout(timeout, 1e3))


@syscalls("__pollts50")
def sys_pollts(lwp, fds, timeout_ns):
    """pollts(fds, timeout_ns): poll with a timeout in nanoseconds."""
    return pollcommon(lwp, fds, _timeout(timeout_ns, 1e9))


@syscalls("__select50")
def sys_select(lwp, rfds, wfds, xfds, timeout_us):
    """select(read, write, except, timeout_us): the three lists of ready descriptors."""
    sets = []
    for fds in (rfds, wfds, xfds):
        if fds is None:
            fds = ()
        if type(fds) not in (tuple, list) or len(fds) > NDFILE_MAX:
            raise RumpError(errnos.EINVAL)
        for fd in fds:
            if not _is_int(fd) or not 0 <= fd < NDFILE_MAX:
                raise RumpError(errnos.EINVAL)
        sets.append(sorted(set(fds)))
    ready = _do_scan(lwp, lambda: _selscan(lwp, sets), _timeout(timeout_us, 1e6))
    if ready is None:
        return ((), (), ())
    return tuple(tuple(r) for r in ready)

