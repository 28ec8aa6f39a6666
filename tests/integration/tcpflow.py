"""Bulk TCP streams through sysproxy clients: a seeded byte stream out, its sha256 in.

    sent = send_stream(client, fd, nbytes, seed)     # (nbytes, sha256 hex), then shutdown(SHUT_WR)
    got = recv_stream(client, fd)                    # (nbytes, sha256 hex) read up to end of stream
    sent = host_send(sock, nbytes, seed)             # the same with a host (Linux) socket
    got = host_recv(sock)

The stream is made chunk by chunk from random.Random(seed), so 64 MiB never
sit in memory and a reordered, duplicated or lost chunk changes the digest.
Used by the shmif and Linux interop tests and by bench/bench_tcp.py.
"""
import hashlib
import random

from rumptools.abi import net as N

CHUNK = 65536


def chunks(nbytes, seed):
    rng = random.Random(seed)
    left = nbytes
    while left > 0:
        n = min(CHUNK, left)
        yield rng.randbytes(n)
        left -= n


def send_stream(c, fd, nbytes, seed, shut=True):
    h = hashlib.sha256()
    for block in chunks(nbytes, seed):
        h.update(block)
        view = memoryview(block)
        while view:
            n = c.write(fd, bytes(view))
            view = view[n:]
    if shut:
        c.shutdown(fd, N.SHUT_WR)
    return nbytes, h.hexdigest()


def recv_stream(c, fd, limit=1 << 31):
    h = hashlib.sha256()
    total = 0
    while total <= limit:
        data = c.read(fd, CHUNK * 4)
        if not data:
            break
        h.update(data)
        total += len(data)
    return total, h.hexdigest()


def host_send(s, nbytes, seed, shut=True):
    import socket
    h = hashlib.sha256()
    for block in chunks(nbytes, seed):
        h.update(block)
        s.sendall(block)
    if shut:
        s.shutdown(socket.SHUT_WR)
    return nbytes, h.hexdigest()


def host_recv(s, limit=1 << 31):
    h = hashlib.sha256()
    total = 0
    while total <= limit:
        data = s.recv(CHUNK * 4)
        if not data:
            break
        h.update(data)
        total += len(data)
    return total, h.hexdigest()
