"""The sysproxy INTERRUPT request (rump_sp(7)): a client ends one of its own waiting
calls with EINTR; an interrupt for a call that is not waiting changes nothing."""
import pytest

from rumptools.abi import errnos
from rumptools.sp import wire

from . import rawproto


@pytest.fixture
def server(servers):
    return servers("-lrumpvfs")


def interrupt(reqno):
    return wire.frame(reqno, wire.REQ, wire.INTERRUPT, 0)


class Frames:
    """Replies in order from one connection (two may arrive in one read)."""

    def __init__(self, s):
        self.s, self.r = s, wire.FrameReader()

    def next(self):
        while True:
            f = self.r.next_frame()
            if f is not None:
                return f
            data = self.s.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.r.feed(data)


def test_interrupt_ends_a_waiting_read(server):
    s = rawproto.guest(server.path)
    f = Frames(s)
    s.sendall(rawproto.syscall_frame(2, "pipe2", 0))
    reqno, cls, typ, arg, body = f.next()
    rfd, wfd = wire.decode(body)
    s.sendall(rawproto.syscall_frame(3, "read", rfd, 10))     # nothing to read: it sleeps
    s.sendall(rawproto.syscall_frame(4, "getpid"))            # the connection goes on meanwhile
    assert f.next()[0] == 4
    s.sendall(interrupt(3))
    reqno, cls, typ, arg, body = f.next()
    assert (reqno, cls, typ, arg) == (3, wire.RESP, wire.SYSCALL, errnos.EINTR)
    # an interrupt for a finished call or an unused number: ignored, no response
    s.sendall(interrupt(3) + interrupt(99))
    s.sendall(rawproto.syscall_frame(5, "write", wfd, b"x"))
    s.sendall(rawproto.syscall_frame(6, "read", rfd, 10))
    assert f.next()[0] == 5
    reqno, cls, typ, arg, body = f.next()
    assert (reqno, arg, wire.decode(body)) == (6, 0, (b"x",))
    s.close()


def test_interrupt_ends_a_waiting_poll(server):
    s = rawproto.guest(server.path)
    f = Frames(s)
    s.sendall(rawproto.syscall_frame(2, "pipe2", 0))
    rfd, wfd = wire.decode(f.next()[4])
    s.sendall(rawproto.syscall_frame(3, "__pollts50", ((rfd, 1),), None))
    s.sendall(interrupt(3))
    reqno, cls, typ, arg, body = f.next()
    assert (reqno, arg) == (3, errnos.EINTR)
    s.close()
