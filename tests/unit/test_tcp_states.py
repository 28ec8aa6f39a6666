"""TCP's state machine on one kernel's loopback, in virtual time: simultaneous open and close,
TIME_WAIT re-use, RST acceptance by RFC 5961 (challenge ACKs), RST generation, fast retransmit,
and a listener whose backlog overflows and stays usable."""
import hashlib
import os

import pytest

from rumptools.abi import errnos
from rumptools.abi import net as N
from rumptools.abi.errnos import RumpError

from .kernelkit import call, wait_until
from .tcpkit import in_thread, listener, loopback_kernel, recv_all, stats, tcp_socket
from .test_tcp_timers import ACK, FIN, RST, SYN, advance, connected

LOCAL = 0x7f000001


@pytest.fixture
def lo(monkeypatch):
    yield from loopback_kernel(monkeypatch)


def tcb(k, lport, fport):
    return k.slot("inet").tcp.conns[(LOCAL, lport, LOCAL, fport)]


def inject(k, sport, dport, seq, ack, flags, payload=b"", win=8192):
    """A hand-made segment from 127.0.0.1:sport to :dport, through lo0's input queue."""
    from rumptools.formats.net.ipv4 import IPv4
    from rumptools.kernel.netinet.tcp_output import build
    seg = build(sport, dport, seq, ack, flags, win, b"", payload, LOCAL, LOCAL)
    raw = IPv4(LOCAL.to_bytes(4, "big"), LOCAL.to_bytes(4, "big"), 6, seg, id=1).emit()
    with k.lock:
        k.slot("net").loif.looutput(N.AF_INET, raw)


def test_simultaneous_open_then_simultaneous_close(lo):
    k = lo
    a, b = tcp_socket(k), tcp_socket(k)
    call(k, k.p, "bind", a, (N.AF_INET, "127.0.0.1", 6001))
    call(k, k.p, "bind", b, (N.AF_INET, "127.0.0.1", 6002))
    k.tap.drop = lambda rec: rec[5] & SYN and not rec[5] & ACK and len(k.tap.sent(flags=SYN)) <= 2
    ta, ba = in_thread(call, k, k.p, "sock_connect", a, (N.AF_INET, "127.0.0.1", 6002))
    tb, bb = in_thread(call, k, k.p, "sock_connect", b, (N.AF_INET, "127.0.0.1", 6001))
    assert wait_until(lambda: len(k.tap.sent(flags=SYN)) == 2)       # both SYNs lost: both in SYN_SENT
    assert tcb(k, 6001, 6002).state == 2 and tcb(k, 6002, 6001).state == 2
    advance(k, 6, step=6)                                            # both resend: the SYNs cross
    ta.join(5)
    tb.join(5)
    assert ba == {"result": None} and bb == {"result": None}
    assert stats(k)["connects"] == 2 and stats(k)["accepts"] == 0
    assert len(k.tap.sent(flags=SYN | ACK)) == 2                      # each went through SYN_RCVD
    assert call(k, k.p, "sendto", a, b"ping", 0, None) == 4
    assert call(k, k.p, "recvfrom", b, 10, 0) == (b"ping", None)
    # both shut down while their FINs are lost, then the FINs cross: CLOSING, then TIME_WAIT
    k.tap.drop = lambda rec: rec[5] & FIN and len(k.tap.sent(flags=FIN)) <= 2
    call(k, k.p, "shutdown", a, N.SHUT_WR)
    call(k, k.p, "shutdown", b, N.SHUT_WR)
    assert tcb(k, 6001, 6002).state == 6 and tcb(k, 6002, 6001).state == 6    # FIN_WAIT_1
    advance(k, 2, step=0.5)
    assert wait_until(lambda: tcb(k, 6001, 6002).state == 10 and tcb(k, 6002, 6001).state == 10)
    assert call(k, k.p, "recvfrom", a, 10, 0) == (b"", None)
    advance(k, 2.5)
    assert (LOCAL, 6001, LOCAL, 6002) not in k.slot("inet").tcp.conns


def test_rst_acceptance_rfc5961(lo):
    k = lo
    c, s, cport = connected(k)
    tp = tcb(k, cport, 7000)
    nxt = tp.rcv_nxt
    acks0 = len(k.tap.sent(sport=cport))
    inject(k, 7000, cport, (nxt + 100) & 0xffffffff, 0, RST)          # in the window, not exact
    assert wait_until(lambda: len(k.tap.sent(sport=cport)) == acks0 + 1)
    challenge = k.tap.sent(sport=cport)[-1]
    assert challenge[5] == ACK and challenge[3] == tp.snd_nxt and challenge[4] == nxt
    assert tp.state == 4
    inject(k, 7000, cport, (nxt + 10 ** 6) & 0xffffffff, 0, RST)      # outside the window: ignored
    inject(k, 7000, cport, (nxt - 5) & 0xffffffff, 0, RST)
    inject(k, 7000, cport, nxt, tp.snd_nxt, SYN | ACK)                # a SYN: challenge ACK too
    assert wait_until(lambda: len(k.tap.sent(sport=cport)) == acks0 + 2)
    assert tp.state == 4
    assert call(k, k.p, "sendto", s, b"still", 0, None) == 5
    assert call(k, k.p, "recvfrom", c, 10, 0) == (b"still", None)
    inject(k, 7000, cport, tp.rcv_nxt, 0, RST)                        # exactly rcv_nxt: reset
    with pytest.raises(RumpError) as e:
        call(k, k.p, "recvfrom", c, 10, 0)
    assert e.value.errno == errnos.ECONNRESET
    assert not [r for r in k.tap.sent(sport=cport) if r[5] & RST]     # a RST is never answered
    assert tcb(k, 7000, cport).state == 4                              # (the forged one did not reach s)
    assert call(k, k.p, "recvfrom", c, 10, 0) == (b"", None)
    with pytest.raises(RumpError) as e:
        call(k, k.p, "sendto", c, b"x", N.MSG_NOSIGNAL, None)
    assert e.value.errno == errnos.EPIPE


def test_rst_for_closed_port_and_ack_to_listener_and_never_for_rst(lo):
    k = lo
    listener(k, "127.0.0.1", 7100)
    seen = []
    from rumptools.kernel.netinet import tcp_output as mod
    orig = mod.respond

    def respond(stack, src, dst, sport, dport, seq, ack, flags, *a, **kw):
        seen.append((sport, dport, seq, ack, flags))
        return orig(stack, src, dst, sport, dport, seq, ack, flags, *a, **kw)
    import rumptools.kernel.netinet.tcp_input as tin
    tin.respond = respond
    try:
        inject(k, 5555, 7199, 1000, 0, SYN)                            # no socket: RST|ACK, ack seq+1
        inject(k, 5555, 7100, 2000, 777, ACK)                          # ACK to a listener: RST seq=ack
        inject(k, 5555, 7199, 3000, 0, RST)                            # never a RST for a RST
        inject(k, 5555, 7199, 4000, 0, FIN, b"abc")                    # seq + len + FIN
        assert wait_until(lambda: len(seen) == 3)
        assert seen[0] == (7199, 5555, 0, 1001, RST | ACK)
        assert seen[1] == (7100, 5555, 777, 0, RST)
        assert seen[2] == (7199, 5555, 0, 4004, RST | ACK)
        st = stats(k)
        # three to 7199, and our three RSTs coming back to 127.0.0.1:5555 (unanswered)
        assert wait_until(lambda: stats(k)["noport"] == 6)
        assert len(seen) == 3 and st["badsyn"] == 1
        # the RST rate limit: net.inet.tcp.rstppslimit per second
        call(k, k.p, "sysctl", "net.inet.tcp.rstppslimit", 1, 2)
        assert call(k, k.p, "sysctl", "net.inet.tcp.rstppslimit", 0, None)[1] == 2
        advance(k, 1, step=1)                                           # a new second
        before = stats(k)["sndctrl"]
        for i in range(5):
            inject(k, 5555, 7199, 5000 + i, 0, SYN)
        assert wait_until(lambda: len(seen) == 8)
        assert stats(k)["sndctrl"] - before <= 2
    finally:
        tin.respond = orig


def test_time_wait_reused_by_a_newer_syn(lo):
    k = lo
    ls = listener(k, "127.0.0.1", 7000)
    c = tcp_socket(k)
    call(k, k.p, "setsockopt", c, N.SOL_SOCKET, N.SO_REUSEADDR, 1)
    call(k, k.p, "bind", c, (N.AF_INET, "127.0.0.1", 40000))
    call(k, k.p, "sock_connect", c, (N.AF_INET, "127.0.0.1", 7000))
    s, _ = call(k, k.p, "accept", ls)
    call(k, k.p, "close", s)                                          # the server closes first
    assert call(k, k.p, "recvfrom", c, 10, 0) == (b"", None)
    call(k, k.p, "close", c)
    assert wait_until(lambda: k.slot("inet").tcp.conns.get((LOCAL, 7000, LOCAL, 40000)) is not None and
                      tcb(k, 7000, 40000).state == 10)
    advance(k, 1)                                                     # newer timestamps
    c2 = tcp_socket(k)
    call(k, k.p, "setsockopt", c2, N.SOL_SOCKET, N.SO_REUSEADDR, 1)
    call(k, k.p, "bind", c2, (N.AF_INET, "127.0.0.1", 40000))
    call(k, k.p, "sock_connect", c2, (N.AF_INET, "127.0.0.1", 7000))  # same 4-tuple: accepted
    s2, peer = call(k, k.p, "accept", ls)
    assert peer == (N.AF_INET, "127.0.0.1", 40000)
    assert tcb(k, 7000, 40000).state == 4


def test_fast_retransmit_on_three_duplicate_acks(lo):
    k = lo
    c, s, cport = connected(k)
    call(k, k.p, "setsockopt", c, N.IPPROTO_TCP, N.TCP_MAXSEG, 1000)
    call(k, k.p, "setsockopt", c, N.IPPROTO_TCP, N.TCP_NODELAY, 1)   # no tail held for a delayed ACK
    dropped = []

    def drop(rec):
        if rec[1] == cport and rec[6] and not dropped and len(k.tap.sent(sport=cport, data=True)) == 2:
            dropped.append(rec)
            return True
        return False
    k.tap.drop = drop
    data = os.urandom(20000)
    t, box = in_thread(call, k, k.p, "sendto", c, data, 0, None)
    got = recv_all(k, k.p, s, len(data))
    t.join(5)
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    st = stats(k)
    assert dropped and st["rcvdupack"] >= 3 and st["sndrexmitpack"] == 1
    assert st["rexmttimeo"] == 0                                      # no timeout: virtual time stood still
    assert st["rcvoopack"] >= 1


def test_backlog_overflow_leaves_the_listener_usable(lo):
    k = lo
    ls = listener(k, "127.0.0.1", 7000, backlog=1)                   # qlimit 1: up to 2 queued
    socks = []
    for _ in range(5):
        c = call(k, k.p, "socket", N.AF_INET, N.SOCK_STREAM | N.SOCK_NONBLOCK, 0)
        try:
            call(k, k.p, "sock_connect", c, (N.AF_INET, "127.0.0.1", 7000))
        except RumpError as e:
            assert e.errno == errnos.EINPROGRESS
        socks.append(c)
    assert wait_until(lambda: stats(k)["sc_aborted"] == 3)
    assert stats(k)["sc_completed"] == 2
    errs = []
    for c in socks:
        assert wait_until(lambda: k.p.files.get(c).pcb.state in (0, 4))
        errs.append(call(k, k.p, "getsockopt", c, N.SOL_SOCKET, N.SO_ERROR))
    assert sorted(errs) == [0, 0, errnos.ECONNRESET, errnos.ECONNRESET, errnos.ECONNRESET]
    for _ in range(2):
        call(k, k.p, "accept", ls)
    c = tcp_socket(k)
    call(k, k.p, "sock_connect", c, (N.AF_INET, "127.0.0.1", 7000))
    s, _ = call(k, k.p, "accept", ls)
    assert call(k, k.p, "sendto", c, b"ok", 0, None) == 2
    assert call(k, k.p, "recvfrom", s, 10, 0) == (b"ok", None)


def test_linger_zero_resets_and_sysctl_nodes(lo):
    k = lo
    c, s, cport = connected(k)
    call(k, k.p, "setsockopt", c, N.SOL_SOCKET, N.SO_LINGER, (1, 0))
    call(k, k.p, "close", c)
    assert [r for r in k.tap.sent(sport=cport) if r[5] & RST]
    with pytest.raises(RumpError) as e:
        call(k, k.p, "recvfrom", s, 10, 0)
    assert e.value.errno == errnos.ECONNRESET
    assert call(k, k.p, "sysctl", "net.inet.tcp.mslt.loopback", 0, None)[1] == 2
    assert call(k, k.p, "sysctl", "net.inet.tcp.keepidle", 0, None)[1] == 14400
    assert call(k, k.p, "sysctl", "net.inet.tcp.congctl.selected", 0, None)[1] == "newreno"
    assert len(call(k, k.p, "sysctl", "net.inet.tcp.stats", 0, None)[1]) == 76


def test_icmp_unreachable_is_the_connect_error(lo):
    from rumptools.formats.net.icmp import ICMP
    from rumptools.formats.net.ipv4 import IPv4
    from rumptools.kernel.netinet.tcp_output import build
    k = lo
    k.tap.drop = lambda rec: True                  # the SYNs vanish
    c = tcp_socket(k)
    t, box = in_thread(call, k, k.p, "sock_connect", c, (N.AF_INET, "127.0.0.1", 7300))
    assert wait_until(lambda: len(k.tap.sent(flags=SYN)) == 1)
    syn = k.tap.sent(flags=SYN)[0]
    lb = LOCAL.to_bytes(4, "big")
    quoted = IPv4(lb, lb, 6, build(syn[1], syn[2], syn[3], 0, SYN, 0, b"", b"", LOCAL, LOCAL), id=9).emit()
    icmp = ICMP.error(3, 1, quoted).emit()                  # host unreachable
    with k.lock:
        k.slot("net").loif.looutput(N.AF_INET, IPv4(lb, lb, 1, icmp, id=10).emit())
    assert wait_until(lambda: k.slot("inet").tcp.conns[(LOCAL, syn[1], LOCAL, 7300)].softerror ==
                      errnos.EHOSTUNREACH)
    advance(k, 75, step=1)
    t.join(5)
    assert box == {"error": errnos.EHOSTUNREACH}           # the soft error, not ETIMEDOUT


def test_linger_with_a_time_waits_for_the_fin_to_be_acknowledged(lo):
    k = lo
    c, s, cport = connected(k)
    call(k, k.p, "setsockopt", c, N.SOL_SOCKET, N.SO_LINGER, (1, 5))
    k.tap.drop = lambda rec: rec[1] == cport and rec[5] & FIN   # our FINs are lost
    t, box = in_thread(call, k, k.p, "close", c)
    assert wait_until(lambda: len(k.tap.sent(sport=cport, flags=FIN)) == 1)
    assert t.is_alive()                                  # close waits
    advance(k, 4.5)
    assert t.is_alive()
    advance(k, 1)
    t.join(5)
    assert box == {"result": None}                       # the linger time ran out
    k.tap.drop = lambda rec: False
    advance(k, 6)                                        # the FIN is resent (10.5 s) and acknowledged
    assert call(k, k.p, "recvfrom", s, 10, 0) == (b"", None)


def test_syn_cache_timing_and_limits(lo):
    k = lo
    listener(k, "127.0.0.1", 7400)
    sc = k.slot("inet").tcp.syncache
    # the SYN-ACKs come back to this kernel (no socket on 6000): no RSTs, or they would cancel
    call(k, k.p, "sysctl", "net.inet.tcp.rstppslimit", 1, 0)
    inject(k, 6000, 7400, 1000, 0, SYN)                               # a peer that never answers
    assert wait_until(lambda: len(sc) == 1)
    marks = []
    for t in (2.9, 0.2, 5.8, 0.2, 11.8, 0.2, 23.8, 0.2, 47.8, 0.2):    # to 2.9, 3.1, 8.9, 9.1, ... 93.1
        advance(k, t, step=t)
        marks.append(stats(k)["sc_retransmitted"])
    assert marks == [0, 1, 1, 2, 2, 3, 3, 4, 4, 4]                    # SYN-ACK again at 3, 9, 21, 45 s
    assert len(sc) == 0 and stats(k)["sc_timed_out"] == 1             # dropped at 93 s
    call(k, k.p, "sysctl", "net.inet.tcp.syn_cache_limit", 1, 20)
    call(k, k.p, "sysctl", "net.inet.tcp.syn_bucket_limit", 1, 3)
    for port in range(10000, 10200):                                  # a SYN flood
        inject(k, port, 7400, port * 7, 0, SYN)
        if port % 50 == 0:
            assert wait_until(lambda: len(k.slot("net").loif.q) == 0)
    assert wait_until(lambda: stats(k)["sc_added"] == 201)
    assert len(sc) <= 20 and max(len(b) for b in sc.buckets) <= 3
    st = stats(k)
    assert st["sc_overflowed"] + st["sc_bucketoverflow"] >= 180
    c = tcp_socket(k)                                                 # the listener still answers
    call(k, k.p, "sock_connect", c, (N.AF_INET, "127.0.0.1", 7400))
