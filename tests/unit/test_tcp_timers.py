"""TCP's timers in virtual time on one kernel's loopback: connection timeout, retransmission
back-off and drop, delayed ACK, Nagle, persist probes, keepalive.

Segments leaving tcp_output pass a tap (tcpkit.SegmentTap) that records them
with the virtual time and can lose them; the clock moves only when a test
advances it, so every time below is exact."""
import pytest

from rumptools.abi import errnos
from rumptools.abi import net as N

from .kernelkit import call, wait_until
from .tcpkit import in_thread, listener, loopback_kernel, stats, tcp_socket

SYN, ACK, FIN, RST = 0x02, 0x10, 0x01, 0x04


@pytest.fixture
def lo(monkeypatch):
    yield from loopback_kernel(monkeypatch)


def advance(k, seconds, step=0.5):
    """Move virtual time in steps, letting loopback deliveries (a softint thread) settle."""
    import time
    n = int(round(seconds / step))
    for _ in range(n):
        k.host.clock.advance(step, kernel=k)
        time.sleep(0.002)


def connected(k, port=7000):
    ls = listener(k, "127.0.0.1", port)
    c = tcp_socket(k)
    call(k, k.p, "sock_connect", c, (N.AF_INET, "127.0.0.1", port))
    s, _ = call(k, k.p, "accept", ls)
    cport = call(k, k.p, "getsockname", c)[2]
    return c, s, cport


def test_connect_times_out_after_keepinit_with_syn_backoff(lo):
    k = lo
    t0 = k.host.clock.now()
    k.tap.drop = lambda rec: True                  # every SYN is lost
    c = tcp_socket(k)
    t, box = in_thread(call, k, k.p, "sock_connect", c, (N.AF_INET, "127.0.0.1", 7001))
    assert wait_until(lambda: len(k.tap.sent(flags=SYN)) == 1)
    advance(k, 74.5)
    assert [round(r[0] - t0, 3) for r in k.tap.sent(flags=SYN)] == [0, 6, 18, 42]
    assert "error" not in box and t.is_alive()
    advance(k, 0.5)
    t.join(5)
    assert box == {"error": errnos.ETIMEDOUT}
    assert stats(k)["conndrops"] == 1


def test_retransmission_backoff_then_drop(lo):
    k = lo
    c, s, cport = connected(k)
    t0 = k.host.clock.now()
    k.tap.drop = lambda rec: rec[1] == cport        # everything the client sends is lost
    assert call(k, k.p, "sendto", c, b"x" * 100, 0, None) == 100
    advance(k, 1200, step=0.5)
    times = [r[0] - t0 for r in k.tap.sent(sport=cport, data=True)]
    assert len(times) == 13                         # the original and 12 retransmissions
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
    assert gaps[0] == 1.5                           # RTO after a sub-tick RTT sample: 3 ticks
    assert gaps[1] == 3.0 and gaps[2] == 6.0        # doubling
    assert max(gaps) == 64.0 and gaps[-1] == 64.0   # capped at 64 s
    assert all(b >= a for a, b in zip(gaps, gaps[1:]))
    with pytest.raises(Exception) as e:
        call(k, k.p, "recvfrom", c, 10, 0)
    assert e.value.errno == errnos.ETIMEDOUT
    st = stats(k)
    assert st["timeoutdrop"] == 1 and st["rexmttimeo"] == 12 and st["sndrexmitpack"] == 12
    assert [r for r in k.tap.log if r[1] == cport and r[5] & RST]   # the drop resets the peer


def test_delayed_ack_200ms_and_every_second_segment(lo):
    k = lo
    c, s, cport = connected(k)
    n0 = len(k.tap.sent(sport=7000))
    assert call(k, k.p, "sendto", c, b"a", 0, None) == 1
    assert call(k, k.p, "recvfrom", s, 10, 0) == (b"a", None)
    assert len(k.tap.sent(sport=7000)) == n0           # not yet: the ACK is delayed
    advance(k, 0.1, step=0.1)
    assert len(k.tap.sent(sport=7000)) == n0
    advance(k, 0.1, step=0.1)
    assert wait_until(lambda: len(k.tap.sent(sport=7000)) == n0 + 1)
    assert stats(k)["delack"] == 1
    call(k, k.p, "setsockopt", c, N.IPPROTO_TCP, N.TCP_NODELAY, 1)
    assert call(k, k.p, "sendto", c, b"b", 0, None) == 1
    assert call(k, k.p, "sendto", c, b"c", 0, None) == 1
    assert wait_until(lambda: len(k.tap.sent(sport=7000)) == n0 + 2)   # second segment: ACK at once
    assert call(k, k.p, "recvfrom", s, 10, 0)[0] in (b"bc", b"b")


def test_nagle_holds_small_segments_until_acked(lo):
    k = lo
    c, s, cport = connected(k)
    assert call(k, k.p, "sendto", c, b"1", 0, None) == 1
    assert call(k, k.p, "sendto", c, b"2", 0, None) == 1     # unacknowledged data out: held
    assert call(k, k.p, "sendto", c, b"3", 0, None) == 1
    server = k.p.files.get(s)
    assert wait_until(lambda: server.rcv_cc == 1)             # "1" arrived; its ACK is delayed
    assert len(k.tap.sent(sport=cport, data=True)) == 1
    advance(k, 0.2, step=0.2)                                 # the delayed ACK releases them
    assert wait_until(lambda: len(k.tap.sent(sport=cport, data=True)) == 2)
    assert k.tap.sent(sport=cport, data=True)[1][6] == 2      # "23" in one segment
    assert call(k, k.p, "recvfrom", s, 3, N.MSG_WAITALL)[0] == b"123"
    assert call(k, k.p, "getsockopt", c, N.IPPROTO_TCP, N.TCP_NODELAY) == 0


def test_zero_window_persist_probes(lo):
    k = lo
    c, s, cport = connected(k)
    call(k, k.p, "setsockopt", c, N.SOL_SOCKET, N.SO_SNDTIMEO, 100000)
    sent = 0
    for _ in range(20):                                      # fill both buffers: the peer reads nothing
        try:
            sent += call(k, k.p, "sendto", c, b"z" * 16384, 0x80, None)
        except Exception:
            if not wait_until(lambda: False, 0.05):
                pass
    advance(k, 0.5, step=0.25)
    assert sent >= 32768
    n0 = stats(k)["sndprobe"]
    advance(k, 5.5)
    assert stats(k)["sndprobe"] > n0                         # a one-byte probe after 5 s
    got = b""
    while len(got) < sent:
        d, _ = call(k, k.p, "recvfrom", s, 65536, 0)
        got += d
        advance(k, 0.5)
    assert got == b"z" * sent


def test_keepalive_probes_then_drop(lo):
    k = lo
    c, s, cport = connected(k)
    call(k, k.p, "setsockopt", c, N.SOL_SOCKET, N.SO_KEEPALIVE, 1)
    k.tap.drop = lambda rec: rec[1] == 7000                  # the peer goes silent
    advance(k, 7199, step=7199)
    assert stats(k)["keepprobe"] == 0
    advance(k, 1, step=1)
    assert stats(k)["keepprobe"] == 1
    advance(k, 75 * 7, step=75)
    assert stats(k)["keepprobe"] == 8
    advance(k, 75, step=75)
    with pytest.raises(Exception) as e:
        call(k, k.p, "recvfrom", c, 10, 0)
    assert e.value.errno == errnos.ETIMEDOUT
    assert stats(k)["keepdrops"] == 1
