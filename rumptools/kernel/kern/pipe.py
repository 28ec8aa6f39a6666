"""Pipes: a bounded byte queue between two Files. Readers and writers sleep.

Writing with no reader left fails with EPIPE and raises SIGPIPE in the
writing client, as a kernel does. poll follows NetBSD's pipe_poll: the read
end is readable with data or at end of file, the write end writable with
PIPE_BUF bytes of room or with no reader left (the write then fails at
once), and a closed peer adds POLLHUP whatever was asked. Each direction has
a selinfo record that changes of state notify. Kernel lock held throughout.

Memory: a pipe's buffer comes out of the kernel's budget (membudget.py), as
NetBSD's pipes come out of its pipe KVA. Making a pipe reserves PIPE_SIZE
(16 KiB); pipe2 fails with ENOMEM when even that is not there. A buffer
grows towards BIG_PIPE_SIZE (64 KiB) only with what the budget has left, and
gives the growth back as readers drain it. So a write that finds the budget
spent sees a fuller pipe, as a NetBSD writer whose pipe could not get a big
buffer does: it blocks, or with O_NONBLOCK returns what it wrote (EAGAIN if
nothing). Never an error for the lack of memory alone. The reservation goes
back when both ends are closed.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from ...abi.syscalls import O_NONBLOCK, O_RDONLY, O_WRONLY
from ...abi.poll import POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from .files import File
from .selinfo import SelInfo, selnotify, selrecord
from .sleepq import curlwp

PIPE_BUF_MAX = 65536          # BIG_PIPE_SIZE
PIPE_SIZE = 16384             # always there once the pipe exists
PIPE_BUF = 512                # a write of this much is atomic; poll wants this much room
SIGPIPE = 13


class PipeBuffer:
    def __init__(self, kernel):
        budget = kernel.membudget
        budget.charge(PIPE_SIZE, "pipe", errnos.ENOMEM)
        self.budget = budget
        self.charged = PIPE_SIZE    # bytes of the budget this buffer holds
        self.data = bytearray()
        self.readers = 1
        self.writers = 1
        self.rsel = SelInfo(kernel)     # readers poll here: data arrived, writer gone
        self.wsel = SelInfo(kernel)     # writers poll here: room appeared, reader gone

    def room(self, want):
        """Space for up to `want` more bytes, growing the buffer within the budget."""
        cap = min(PIPE_BUF_MAX, len(self.data) + want)
        if cap > self.charged:
            self.charged += self.budget.take_upto(cap - self.charged, "pipe")
        return max(0, self.charged - len(self.data))

    def space(self):
        """Bytes a write could add now (room() without taking anything): for poll."""
        cap = min(PIPE_BUF_MAX, max(self.charged, len(self.data) + self.budget.free))
        return max(0, cap - len(self.data))

    def shrink(self):
        """After a read: give back growth the data no longer needs."""
        keep = max(PIPE_SIZE, len(self.data))
        if self.charged > keep:
            self.budget.release(self.charged - keep, "pipe")
            self.charged = keep

    def free(self):
        self.budget.release(self.charged, "pipe")
        self.charged = 0


class PipeEnd(File):
    kind = "pipe"

    def __init__(self, kernel, pipe, flags):
        super().__init__(kernel, flags)
        self.pipe = pipe

    def read(self, n, offset=None):
        if offset is not None:
            raise RumpError(errnos.ESPIPE)
        p = self.pipe
        while not p.data:
            if p.writers == 0 or n == 0:
                return b""
            if self.flags & O_NONBLOCK:
                raise RumpError(errnos.EAGAIN)
            self.kernel.sleepq.tsleep(p)
        chunk = bytes(p.data[:n])
        del p.data[:n]
        p.shrink()
        self.kernel.sleepq.wakeup(p)
        selnotify(p.wsel, POLLOUT)
        return chunk

    def write(self, data, offset=None):
        if offset is not None:
            raise RumpError(errnos.ESPIPE)
        p = self.pipe
        done = 0
        while done < len(data):
            if p.readers == 0:
                lwp = curlwp()
                if lwp is not None:
                    lwp.proc.psignal(SIGPIPE)
                if done:
                    return done
                raise RumpError(errnos.EPIPE)
            room = p.room(len(data) - done)
            if room <= 0:
                if self.flags & O_NONBLOCK:
                    if done:
                        return done
                    raise RumpError(errnos.EAGAIN)
                try:
                    self.kernel.sleepq.tsleep(p)
                except RumpError:
                    if done:
                        return done     # a partial write reports its count, as write(2) does
                    raise
                continue
            p.data += data[done:done + room]
            done += min(room, len(data) - done)
            self.kernel.sleepq.wakeup(p)
            selnotify(p.rsel, POLLIN)
        return done

    def poll(self, events):
        p = self.pipe
        rev = 0
        if self.readable():
            if p.writers == 0:
                rev |= (events & (POLLIN | POLLRDNORM)) | POLLHUP
            elif p.data:
                rev |= events & (POLLIN | POLLRDNORM)
            elif events & (POLLIN | POLLRDNORM):
                selrecord(curlwp(), p.rsel)
        elif self.writable():
            if p.readers == 0:
                rev |= (events & (POLLOUT | POLLWRNORM)) | POLLHUP
            elif p.space() >= PIPE_BUF:
                rev |= events & (POLLOUT | POLLWRNORM)
            elif events & (POLLOUT | POLLWRNORM):
                selrecord(curlwp(), p.wsel)
        return rev

    def stat(self):
        from .stat import S_IFIFO, make_stat
        return make_stat(mode=S_IFIFO | 0o600, size=len(self.pipe.data))

    def release(self):
        p = self.pipe
        if self.readable():
            p.readers -= 1
        else:
            p.writers -= 1
        if p.readers == 0 and p.writers == 0:
            p.data = bytearray()
            p.free()
        self.kernel.sleepq.wakeup(p)
        selnotify(p.rsel, POLLHUP)
        selnotify(p.wsel, POLLHUP)


def make_pipe(kernel, flags):
    p = PipeBuffer(kernel)
    extra = flags & O_NONBLOCK
    return PipeEnd(kernel, p, O_RDONLY | extra), PipeEnd(kernel, p, O_WRONLY | extra)
