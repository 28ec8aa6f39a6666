"""Transfers larger than one frame, split by the client (rump.dd bs=65m .. 4g).

A frame carries at most wire.MAX_FRAME bytes, and the kernel takes at most
MAX_IO bytes per read or write; a larger request is made of MAX_IO pieces
here, as a kernel splits a large uio. read() stops at the first short piece
(end of file, a pipe with less) and returns what it has; write() stops at
the first short piece and returns the count written. An error after some
bytes moved returns those bytes (the error comes back on the next call),
so a partial transfer always reports its count.
"""
MAX_IO = 64 * 1024 * 1024       # the kernel's per-call limit (kern/sys_descrip, vfs/sysutil)


class SplitIO:
    """Wraps a Client: read/write/pread/pwrite of any size, everything else passed through."""

    def __init__(self, client, chunk=MAX_IO):
        self._client = client
        self._chunk = chunk

    def __getattr__(self, name):
        return getattr(self._client, name)

    def read(self, fd, n):
        if n <= self._chunk:
            return self._client.read(fd, n)
        return self._gather(lambda size, done: self._client.read(fd, size), n)

    def pread(self, fd, n, offset):
        if n <= self._chunk:
            return self._client.pread(fd, n, offset)
        return self._gather(lambda size, done: self._client.pread(fd, size, offset + done), n)

    def write(self, fd, data):
        if len(data) <= self._chunk:
            return self._client.write(fd, data)
        return self._scatter(lambda piece, done: self._client.write(fd, piece), data)

    def pwrite(self, fd, data, offset):
        if len(data) <= self._chunk:
            return self._client.pwrite(fd, data, offset)
        return self._scatter(lambda piece, done: self._client.pwrite(fd, piece, offset + done), data)

    def _gather(self, call, n):
        parts, done = [], 0
        while done < n:
            size = min(self._chunk, n - done)
            try:
                got = call(size, done)
            except OSError:
                if done:
                    break
                raise
            parts.append(got)
            done += len(got)
            if len(got) < size:
                break
        return b"".join(parts)

    def _scatter(self, call, data):
        view, done = memoryview(data), 0
        while done < len(data):
            piece = view[done:done + self._chunk]
            try:
                n = call(bytes(piece), done)
            except OSError:
                if done:
                    break
                raise
            done += n
            if n < len(piece):
                break
        return done
