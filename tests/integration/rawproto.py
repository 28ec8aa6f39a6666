"""A bare-bones sysproxy peer for tests that need to misbehave on purpose."""
import random
import socket

from rumptools.sp import wire
from rumptools.abi.syscalls import BY_NAME


def connect(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    banner = b""
    while not banner.endswith(b"\n"):
        chunk = s.recv(96)
        if not chunk:
            raise ConnectionError("no banner")
        banner += chunk
    return s


def guest(path, comm="raw"):
    s = connect(path)
    s.sendall(wire.frame(1, wire.REQ, wire.HANDSHAKE, wire.HS_GUEST, wire.encode((comm,))))
    reply = read_frame(s)
    assert reply[1] == wire.RESP
    return s


def read_frame(s):
    r = wire.FrameReader()
    while True:
        f = r.next_frame()
        if f is not None:
            return f
        data = s.recv(65536)
        if not data:
            raise ConnectionError("closed")
        r.feed(data)


def read_all_until_eof(s, limit=1 << 20):
    got = b""
    while len(got) < limit:
        try:
            data = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not data:
            break
        got += data
    return got


def syscall_frame(reqno, name, *args):
    return wire.frame(reqno, wire.REQ, wire.SYSCALL, BY_NAME[name].number, wire.encode(args))


def valid_frames():
    """Frames a well-behaved client might send after its handshake."""
    return [
        syscall_frame(2, "getpid"),
        syscall_frame(3, "__sysctl", "kern.hostname", 0, None),
        syscall_frame(4, "__sysctl", "kern", 0, None),
        syscall_frame(5, "pipe2", 0),
        syscall_frame(6, "write", 1, b"hello world"),
        syscall_frame(7, "modctl", 2, None),
        syscall_frame(8, "fcntl", 0, 1, None),
        wire.frame(9, wire.REQ, wire.PREFORK, 0),
    ]


def mutate(rng, data):
    """One random corruption of a frame: flip, truncate, extend, or rewrite a field."""
    b = bytearray(data)
    kind = rng.randrange(7)
    if kind == 0 and b:
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1:
        b = b[:rng.randrange(len(b) + 1)]
    elif kind == 2:
        b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    elif kind == 3:        # absurd length field
        b[0:8] = rng.choice([0, 1, 23, 24, 1 << 40, (1 << 64) - 1, len(b) + 1000]).to_bytes(8, "little")
    elif kind == 4:        # class/type/arg fields
        b[16:24] = bytes(rng.randrange(256) for _ in range(8))
    elif kind == 5 and len(b) > 24:   # a random body under a consistent length
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        b = bytearray(wire.HEADER.pack(24 + len(body), *wire.HEADER.unpack_from(b)[1:])) + body
    else:                  # pure garbage
        b = bytearray(rng.randrange(256) for _ in range(rng.randint(1, 80)))
    return bytes(b)


def rng(seed):
    return random.Random(seed)
