"""sendmmsg and recvmmsg (NetBSD's uipc_syscalls.c) between two kernels on a shmif bus:
batches, partial counts, errors after the first datagram kept for the next call,
MSG_WAITFORONE, the timeout looked at after each datagram, the 1024 cap, bad shapes."""
import pytest

from rumptools.abi import errnos
from rumptools.abi import net as N
from rumptools.abi.errnos import RumpError

from .kernelkit import call, call_in_thread, wait_until
from .test_net_stack import kernel_on

B = (N.AF_INET, "10.1.1.2", 7200)


@pytest.fixture
def pair(tmp_path):
    bus = str(tmp_path / "bus")
    a, b = kernel_on(bus, "10.1.1.1"), kernel_on(bus, "10.1.1.2")
    # resolve ARP first: an unresolved entry holds only the newest packet, as NetBSD's does
    r = receiver(b, 7999)
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(a, a.p, "sendto", s, b"hello", 0, (N.AF_INET, "10.1.1.2", 7999))
    assert wait_until(lambda: queued(b, r) == 1)
    yield a, b
    for k in (a, b):
        k.reboot(0)


def receiver(b, port=7200, rcvbuf=None):
    r = call(b, b.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    if rcvbuf:
        call(b, b.p, "setsockopt", r, N.SOL_SOCKET, N.SO_RCVBUF, rcvbuf)
    call(b, b.p, "bind", r, (N.AF_INET, "0.0.0.0", port))
    return r


def queued(k, fd):
    return len(k.p.files.get(fd).rcvq)


def test_a_batch_goes_out_and_comes_in_in_order(pair):
    a, b = pair
    r = receiver(b)
    r2 = receiver(b, 7201)
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    msgs = tuple(((b"dgram-%d" % i, b"!" * i), B, None) for i in range(5)) + \
        (((b"elsewhere",), (N.AF_INET, "10.1.1.2", 7201), None),)
    assert call(a, a.p, "sendmmsg", s, msgs, 0) == (7, 8, 9, 10, 11, 9)
    assert wait_until(lambda: queued(b, r) == 5 and queued(b, r2) == 1)
    got = call(b, b.p, "recvmmsg", r, (100, 100, 7, 100, 100, 100), 0, N.MSG_DONTWAIT, None)
    assert [g[0] for g in got] == [b"dgram-0", b"dgram-1!", b"dgram-2", b"dgram-3!!!", b"dgram-4!!!!"]
    assert [g[3] for g in got] == [0, 0, N.MSG_TRUNC, 0, 0]      # the third buffer was 7 bytes
    assert all(g[1][:2] == (N.AF_INET, "10.1.1.1") and g[2] == () for g in got)
    assert call(b, b.p, "recvmmsg", r2, (100,), 0, 0, None)[0][0] == b"elsewhere"


def test_an_error_after_the_first_datagram_is_the_sockets_next(pair):
    a, b = pair
    receiver(b)
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    big = b"x" * 10000                                  # over the 9216-byte send buffer: EMSGSIZE
    msgs = (((b"one",), B, None), ((b"two",), B, None), ((big,), B, None), ((b"four",), B, None))
    assert call(a, a.p, "sendmmsg", s, msgs, 0) == (3, 3)
    with pytest.raises(RumpError) as e:                 # kept: the next call on the socket says so
        call(a, a.p, "sendto", s, b"five", 0, B)
    assert e.value.errno == errnos.EMSGSIZE
    assert call(a, a.p, "sendto", s, b"six", 0, B) == 3  # and only once
    with pytest.raises(RumpError) as e:                 # at the first: the call's own error
        call(a, a.p, "sendmmsg", s, (((big,), B, None), ((b"two",), B, None)), 0)
    assert e.value.errno == errnos.EMSGSIZE
    assert call(a, a.p, "sendto", s, b"seven", 0, B) == 5


@pytest.mark.parametrize("msgs", [
    "not a list", (b"bytes",), (((b"a",), B),), (((b"a",), B, None, 0),), ((b"a", B, None),),
    (((b"a", 5), B, None),), (((b"a",), B, "control"),), (((b"a",), "10.1.1.2", None),)])
def test_bad_message_shapes_are_einval(pair, msgs):
    a, _b = pair
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    with pytest.raises(RumpError) as e:
        call(a, a.p, "sendmmsg", s, msgs, 0)
    assert e.value.errno == errnos.EINVAL


def test_a_bad_message_after_good_ones_ends_the_batch(pair):
    a, b = pair
    r = receiver(b)
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    assert call(a, a.p, "sendmmsg", s, (((b"ok",), B, None), "junk", ((b"never",), B, None)), 0) == (2,)
    assert wait_until(lambda: queued(b, r) == 1)
    with pytest.raises(RumpError) as e:
        call(a, a.p, "sendto", s, b"x", 0, B)
    assert e.value.errno == errnos.EINVAL


def test_recvmmsg_nonblocking_waitforone_and_errors(pair):
    a, b = pair
    r = receiver(b)
    with pytest.raises(RumpError) as e:                 # nothing queued, not waiting: EAGAIN...
        call(b, b.p, "recvmmsg", r, (100,) * 4, 0, N.MSG_DONTWAIT, None)
    assert e.value.errno == errnos.EAGAIN
    assert b.p.files.get(r).error == 0                  # ...and nothing kept for later
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(a, a.p, "sendmmsg", s, tuple(((b"%d" % i,), B, None) for i in range(3)), 0)
    assert wait_until(lambda: queued(b, r) == 3)
    got = call(b, b.p, "recvmmsg", r, (100,) * 8, 0, N.MSG_WAITFORONE, None)
    assert [g[0] for g in got] == [b"0", b"1", b"2"]     # what was there, without waiting for 8
    assert b.p.files.get(r).error == 0
    th, box = call_in_thread(b, b.p, "recvmmsg", r, (100,) * 8, 0, N.MSG_WAITFORONE, None)
    assert wait_until(lambda: b.sleepq.sleepers == 1)   # waits for the first
    call(a, a.p, "sendto", s, b"late", 0, B)
    th.join(10)
    assert [g[0] for g in box["result"]] == [b"late"]
    for bad in (((100, "x"), 0, 0, None), ((100,), 0, 0, -1), ((-1,), 0, 0, None), ((100,), -1, 0, None)):
        with pytest.raises(RumpError) as e:
            call(b, b.p, "recvmmsg", r, *bad)
        assert e.value.errno == errnos.EINVAL
    with pytest.raises(RumpError) as e:
        call(b, b.p, "recvmmsg", 99, (100,), 0, 0, None)
    assert e.value.errno == errnos.EBADF


def test_recvmmsg_without_waitforone_waits_for_every_datagram(pair):
    a, b = pair
    r = receiver(b)
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(a, a.p, "sendto", s, b"first", 0, B)
    assert wait_until(lambda: queued(b, r) == 1)
    th, box = call_in_thread(b, b.p, "recvmmsg", r, (100, 100), 0, 0, None)
    assert wait_until(lambda: b.sleepq.sleepers == 1)   # has the first, sleeps for the second
    call(a, a.p, "sendto", s, b"second", 0, B)
    th.join(10)
    assert [g[0] for g in box["result"]] == [b"first", b"second"]
    # with a receive timeout the wait for the second ends; the first is returned, no error kept
    call(b, b.p, "setsockopt", r, N.SOL_SOCKET, N.SO_RCVTIMEO, 200000)
    call(a, a.p, "sendto", s, b"third", 0, B)
    assert wait_until(lambda: queued(b, r) == 1)
    th, box = call_in_thread(b, b.p, "recvmmsg", r, (100, 100), 0, 0, None)
    assert wait_until(lambda: b.sleepq.sleepers == 1)
    b.host.clock.advance(0.3, kernel=b)
    th.join(10)
    assert [g[0] for g in box["result"]] == [b"third"] and b.p.files.get(r).error == 0


def test_recvmmsg_timeout_is_looked_at_after_each_datagram(pair):
    a, b = pair
    r = receiver(b)
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(a, a.p, "sendmmsg", s, tuple(((b"%d" % i,), B, None) for i in range(6)), 0)
    assert wait_until(lambda: queued(b, r) == 6)
    # a timeout already over: the call ends after one datagram although more are queued
    assert len(call(b, b.p, "recvmmsg", r, (100,) * 6, 0, N.MSG_DONTWAIT, 0)) == 1
    # ten virtual seconds are not over at once: the rest come in one call
    assert len(call(b, b.p, "recvmmsg", r, (100,) * 6, 0, N.MSG_DONTWAIT, 10 * 10**9)) == 5


def test_at_most_1024_datagrams_a_call(pair):
    a, b = pair
    r = receiver(b, rcvbuf=1 << 20)
    s = call(a, a.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    lens = call(a, a.p, "sendmmsg", s, (((b"z",), B, None),) * 1100, 0)
    assert lens == (1,) * N.MMSG_MAX
    so = b.p.files.get(r)
    with b.lock:                                        # 1100 records queued, whatever came over the bus
        so.rcvq.clear()
        so.rcv_cc = 0
        for i in range(1100):
            assert so.append(b"%d" % i, (N.AF_INET, "10.1.1.1", 1))
    got = call(b, b.p, "recvmmsg", r, (10,) * 1100, 0, N.MSG_DONTWAIT, None)
    assert len(got) == N.MMSG_MAX and got[-1][0] == b"1023" and queued(b, r) == 1100 - N.MMSG_MAX
