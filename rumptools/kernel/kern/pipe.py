"""Pipes: a bounded byte queue between two Files. Readers and writers sleep.

Writing with no reader left fails with EPIPE and raises SIGPIPE in the
writing client, as a kernel does.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from ...abi.syscalls import O_NONBLOCK, O_RDONLY, O_WRONLY
from .files import File

PIPE_BUF_MAX = 65536
SIGPIPE = 13


class PipeBuffer:
    def __init__(self):
        self.data = bytearray()
        self.readers = 1
        self.writers = 1


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
        self.kernel.sleepq.wakeup(p)
        return chunk

    def write(self, data, offset=None):
        if offset is not None:
            raise RumpError(errnos.ESPIPE)
        p = self.pipe
        done = 0
        from .sleepq import curlwp
        while done < len(data):
            if p.readers == 0:
                lwp = curlwp()
                if lwp is not None:
                    lwp.proc.psignal(SIGPIPE)
                if done:
                    return done
                raise RumpError(errnos.EPIPE)
            room = PIPE_BUF_MAX - len(p.data)
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
        return done

    def poll(self, events):
        from .poll import POLLIN, POLLOUT, POLLHUP, POLLRDNORM, POLLWRNORM
        p = self.pipe
        rev = 0
        if self.readable() and (p.data or p.writers == 0):
            rev |= events & (POLLIN | POLLRDNORM)
        if self.writable() and len(p.data) < PIPE_BUF_MAX:
            rev |= events & (POLLOUT | POLLWRNORM)
        if (self.readable() and p.writers == 0) or (self.writable() and p.readers == 0):
            rev |= POLLHUP
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
        self.kernel.sleepq.wakeup(p)


def make_pipe(kernel, flags):
    p = PipeBuffer()
    extra = flags & O_NONBLOCK
    return PipeEnd(kernel, p, O_RDONLY | extra), PipeEnd(kernel, p, O_WRONLY | extra)
