"""TCP conformance with scapy as the peer, in virtual time (issue 10, must hold).

An in-process kernel (kernelkit, fake host, virtual clock) has shmif0 at
10.1.1.1 on a bus file; the peer (tests/integration/tcppeer.py) writes
scapy-built frames onto the bus and reads what the kernel sends, stamped with
the kernel's virtual time. Expected values are NetBSD 7.99's (specs/net.md §7)
and the RFCs': RFC 9293 §3.10.7 (resets), RFC 5961 (challenge ACKs), RFC 6298
(RTO), RFC 5681 (fast retransmit), RFC 7323 (options).
"""
import time

import pytest
from scapy.layers.inet import TCP

from rumptools.abi import errnos
from rumptools.abi import net as N
from rumptools.abi.errnos import RumpError
from tests.integration.tcpkit import accept, connect_bg, error_of, listener, read_now, tcp_rows
from tests.integration.tcppeer import PEER_IP, Conn, connect_to, kernel_and_peer, opts
from tests.unit.kernelkit import call



@pytest.fixture
def net(tmp_path):
    with kernel_and_peer(tmp_path) as kp:
        yield kp


def established(k, peer, port=80, sport=40000, options=None):
    """The peer connects to a fresh listener on port; returns (Conn, accepted fd, listening fd)."""
    lfd = listener(k, port)
    c, _sa = connect_to(peer, port, sport, options=options)
    fd = accept(k, lfd)[0]
    return c, fd, lfd


def established_iss(k, peer, upper, options=None, tries=40):
    """Like established(), retried until the kernel's ISS is in the upper (or lower) half of the
    sequence space (sequence comparisons against a zero that was never set show only in one half)."""
    lfd = listener(k, 80, backlog=64)
    for i in range(tries):
        c, sa = connect_to(peer, 80, 40000 + i, options=options)
        fd = accept(k, lfd)[0]
        if (sa[TCP].seq >= 1 << 31) == upper:
            return c, fd, lfd
        call(k, k.p, "close", fd)
    raise AssertionError("no ISS in the wanted half in %d connections" % tries)


def fast_retransmit(k, peer, c, fd):
    """Data out, the first segment ACKed, then duplicate ACKs for the second: returns the
    retransmissions of the second seen after each of three duplicate ACKs."""
    payload = bytes(i % 251 for i in range(20000))
    assert call(k, k.p, "write", fd, payload) == 20000
    segs = c.data_segments(timeout=0.5)
    assert len(segs) >= 2, segs
    base = segs[0].seq
    c.send("A", ack=base + 1000)                                # the first segment arrived
    more = c.data_segments(timeout=0.5)
    assert more, "cwnd did not open after an ACK"
    lost = base + 1000
    assert lost in {t.seq for t in segs + more}
    seen = []
    for _ in range(3):
        c.send("A", ack=lost)                                   # duplicate ACKs: same ack, no data
        seen.append([t for t in c.data_segments(timeout=0.3) if t.seq == lost])
    return seen, payload[1000:]


def read_soon(k, peer, fd, n=65536, timeout=5.0):
    """What the socket has once the kernel's input thread has taken the peer's segment (real time
    passes, virtual time does not)."""
    end = time.monotonic() + timeout
    while True:
        try:
            return read_now(k, fd, n)
        except RumpError as e:
            assert e.errno == errnos.EAGAIN, e
            assert time.monotonic() < end, "nothing to read within %.1f s" % timeout
            time.sleep(0.005)


def test_syn_ack_carries_the_options_the_peer_offered(net):
    k, peer = net
    listener(k, 80)
    c = Conn(peer, 41000, 80, iss=5000)
    c.send("S", options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (12345, 0)), ("NOP", None),
                         ("WScale", 7)])
    sa = c.expect(lambda t: t.flags == "SA", what="SYN-ACK")[TCP]
    o = opts(sa)
    assert sa.ack == 5001
    assert o["MSS"] == 1460                                  # MTU 1500 - 40
    assert 0 <= o["WScale"] <= 14
    assert o["Timestamp"][1] == 12345                         # echoes the peer's value
    # a SYN with no options: only MSS comes back (RFC 7323: the others only when offered)
    c2 = Conn(peer, 41001, 80, iss=9000)
    c2.send("S", options=[])
    sa2 = c2.expect(lambda t: t.flags == "SA", what="SYN-ACK")[TCP]
    assert sa2.ack == 9001 and set(opts(sa2)) == {"MSS"}


def test_syn_ack_offers_sack_permitted_when_the_peer_does(net):
    k, peer = net
    listener(k, 80)
    c = Conn(peer, 41000, 80, iss=5000)
    c.send("S", options=[("MSS", 1460), ("SAckOK", b"")])
    sa = c.expect(lambda t: t.flags == "SA", what="SYN-ACK")[TCP]
    assert "SAckOK" in opts(sa)                               # specs/net.md section 7: SACK on


def test_handshake_data_both_ways_and_the_peers_mss(net):
    k, peer = net
    c, fd, _l = established(k, peer, options=[("MSS", 536)])
    c.send("PA", b"hello kernel")
    assert read_soon(k, peer, fd) == b"hello kernel"
    peer.advance(0.3)                                           # a delayed ACK goes within 200 ms
    c.expect(lambda t: t.ack == c.snd_nxt, what="ACK of the data")
    assert call(k, k.p, "write", fd, bytes(range(256)) * 12) == 3072
    segs = c.data_segments(timeout=1.0)
    assert segs and all(len(bytes(t.payload)) <= 536 for t in segs)     # the peer's MSS holds
    got = b"".join(bytes(t.payload) for t in sorted(segs, key=lambda t: t.seq))
    assert got == (bytes(range(256)) * 12)[:len(got)] and segs[0].seq == c.rcv_nxt
    assert call(k, k.p, "getpeername", fd) == (N.AF_INET, PEER_IP, 40000)


def test_syn_is_retransmitted_at_6_18_42_s_and_connect_times_out_at_75_s(net):
    k, peer = net
    t0 = peer.now()
    fd, th, box = connect_bg(k, PEER_IP, 9)
    first = peer.expect(lambda p: TCP in p and p[TCP].flags == "S", what="SYN")
    peer.advance(80, step=0.25)
    th.join(5)
    syns = [first] + [p for p in peer.drain() if TCP in p and p[TCP].flags == "S"]
    offsets = [round(p.vtime - first.vtime, 2) for p in syns]
    assert len(offsets) == 4 and all(abs(a - b) <= 0.75 for a, b in zip(offsets, (0, 6, 18, 42))), offsets
    assert len({p[TCP].seq for p in syns}) == 1
    assert box == {"error": errnos.ETIMEDOUT}
    assert 74 <= peer.now() - t0                               # keepinit: 75 s
    call(k, k.p, "close", fd)
    assert tcp_rows(k) == []


def test_vanished_peer_backoff_doubles_to_64_s_then_etimedout_and_nothing_leaks(net):
    k, peer = net
    c, fd, lfd = established(k, peer)
    assert call(k, k.p, "write", fd, b"are you there?") == 14
    first = c.expect(lambda t: bytes(t.payload) == b"are you there?", what="data")
    peer.advance(1000, step=0.25)
    again = [p for p in peer.drain() if c.mine(p) and bytes(p[TCP].payload)]
    assert all(p[TCP].seq == first[TCP].seq for p in again)
    times = [first.vtime] + [p.vtime for p in again]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(again) == 12, gaps                              # 12 retransmits, then the drop
    assert gaps[0] >= 0.75                                     # RTO at least 1 s (tick granularity)
    for a, b in zip(gaps, gaps[1:]):
        if a < 60:
            assert abs(b - 2 * a) <= 1.0 or abs(b - 64) <= 1.0, gaps
        else:
            assert abs(b - 64) <= 1.0, gaps                    # at most 64 s
    with pytest.raises(RumpError) as e:
        read_now(k, fd)
    assert e.value.errno == errnos.ETIMEDOUT
    call(k, k.p, "close", fd)
    call(k, k.p, "close", lfd)
    peer.advance(1)
    assert tcp_rows(k) == []


def test_fast_retransmit_after_three_duplicate_acks(net):
    k, peer = net
    c, fd, _l = established_iss(k, peer, upper=False, options=[("MSS", 1000)])
    seen, rest = fast_retransmit(k, peer, c, fd)
    assert seen[0] == [] and seen[1] == [], "retransmitted before the third duplicate ACK"
    assert seen[2] and bytes(seen[2][0].payload) == rest[:len(seen[2][0].payload)]


def test_zero_window_probe_and_window_updates(net):
    k, peer = net
    c, fd, _l = established(k, peer, options=[("MSS", 1000)])
    # the peer's window is 0 (said in a segment past the last window update: one with the same
    # SEQ and ACK may not shrink it): nothing flows, a probe goes out after the persist time
    c.send("PA", b"w")
    c.send("A", window=0)
    peer.advance(0.1)                                           # (settles: the kernel has the window)
    call(k, k.p, "write", fd, b"z" * 3000)
    assert not [p for p in c.quiet(0.2) if bytes(p[TCP].payload)]
    t0 = peer.now()
    peer.advance(61, step=0.25)
    probes = [p for p in peer.drain() if c.mine(p) and bytes(p[TCP].payload)]
    # one byte, within the persist range (5 to 60 s; test_first_zero_window_probe_after_5_s checks the exact 5 s)
    assert probes and len(bytes(probes[0][TCP].payload)) == 1 and 4.5 <= probes[0].vtime - t0 <= 60.5
    c.send("A", window=65535)                                   # the window opens: data flows
    segs = c.data_segments(timeout=1.0)
    assert segs
    # the kernel's own window: fill its receive buffer, then the reader opens it again
    sent = 1                                                    # the byte that closed the window
    win = None
    for _ in range(300):
        c.send("A", b"r" * 1000)
        sent += 1000
        peer.advance(0.3, step=0.05)                            # a delayed ACK, if none went at once
        win = c.expect(lambda t: t.ack == c.snd_nxt, timeout=3, what="ACK of all sent")[TCP].window
        if win < 1000:
            break
    assert win is not None and win < 1000, "receive window never closed"
    got = 0
    for _ in range(100):
        try:
            got += len(read_now(k, fd))
        except RumpError:
            break
    assert got == sent
    upd = c.expect(lambda t: t.window >= 2000 and t.ack == c.snd_nxt, what="window update")
    assert upd[TCP].window > win


def test_resets_to_a_closed_port(net):
    k, peer = net
    c = Conn(peer, 42000, 81, iss=777)
    c.send("S")
    r = c.expect(lambda t: "R" in t.flags, what="RST")[TCP]
    assert (r.flags, r.seq, r.ack) == ("RA", 0, 778)
    c.send("A", seq=900, ack=31337)
    r = c.expect(lambda t: "R" in t.flags, what="RST")[TCP]
    assert (r.flags, r.seq) == ("R", 31337)
    c.send("PA", b"0123456789", seq=1000, ack=5)
    r = c.expect(lambda t: "R" in t.flags, what="RST")[TCP]
    assert (r.flags, r.seq) == ("R", 5)
    c.send("P", b"0123456789", seq=2000)                        # no ACK flag: RST|ACK, ack = seq + len
    r = c.expect(lambda t: "R" in t.flags, what="RST")[TCP]
    assert (r.flags, r.seq, r.ack) == ("RA", 0, 2010)
    c.send("R", seq=3000)                                        # never a reset for a reset
    c.send("RA", seq=3000, ack=1)
    assert c.quiet(0.3) == []


def test_ack_to_a_listener_is_reset_and_the_listener_survives(net):
    k, peer = net
    lfd = listener(k, 80)
    c = Conn(peer, 42001, 80, iss=100)
    c.send("A", seq=100, ack=4242)
    r = c.expect(lambda t: "R" in t.flags, what="RST")[TCP]
    assert (r.flags, r.seq) == ("R", 4242)
    c2, _ = connect_to(peer, 80, 42002)
    assert accept(k, lfd)[1] == (N.AF_INET, PEER_IP, 42002)


def test_reset_in_syn_sent(net):
    k, peer = net
    fd, th, box = connect_bg(k, PEER_IP, 9)
    syn = peer.expect(lambda p: TCP in p and p[TCP].flags == "S")[TCP]
    c = Conn(peer, 9, syn.sport, iss=50000)
    c.send("SA", seq=50000, ack=syn.seq + 7)                     # unacceptable ACK: RST seq = its ack
    r = c.expect(lambda t: "R" in t.flags, what="RST")[TCP]
    assert (r.flags, r.seq) == ("R", syn.seq + 7)
    assert th.is_alive()                                         # still connecting
    c.send("RA", seq=0, ack=syn.seq + 1)                         # RST with the right ACK
    th.join(5)
    assert box == {"error": errnos.ECONNREFUSED}
    call(k, k.p, "close", fd)


def test_rst_rules_of_rfc_5961(net):
    k, peer = net
    c, fd, _l = established(k, peer)
    # out of the window: dropped without a word
    c.send("R", seq=c.snd_nxt + 10 ** 6)
    assert c.quiet(0.3) == []
    # in the window but not exactly RCV.NXT: a challenge ACK, the connection stays
    c.send("R", seq=c.snd_nxt + 100)
    ch = c.expect(lambda t: t.flags == "A", what="challenge ACK")[TCP]
    assert ch.ack == c.snd_nxt and ch.seq == c.rcv_nxt
    # a SYN on an established connection, in or out of the window: a challenge ACK
    for seq in (c.snd_nxt + 5, c.snd_nxt - 10 ** 6):
        c.send("S", seq=seq)
        ch = c.expect(lambda t: "A" in t.flags and "R" not in t.flags, what="challenge ACK to SYN")[TCP]
        assert ch.ack == c.snd_nxt and "S" not in ch.flags
    c.send("PA", b"still here")
    assert read_soon(k, peer, fd) == b"still here"
    assert error_of(k, fd) == 0
    # exactly RCV.NXT: the connection is reset
    c.send("R", seq=c.snd_nxt)
    end = time.monotonic() + 5
    while True:
        with pytest.raises(RumpError) as e:
            read_now(k, fd)
        if e.value.errno != errnos.EAGAIN:
            break
        assert time.monotonic() < end, "the exact RST did not reset the connection"
        time.sleep(0.005)
    assert e.value.errno == errnos.ECONNRESET
    call(k, k.p, "close", fd)
    assert [r for r in tcp_rows(k) if r["fport"] == 40000] == []


def test_time_wait_after_active_close_is_reused_by_a_newer_syn(net):
    k, peer = net
    c, fd, lfd = established(k, peer)
    call(k, k.p, "close", fd)                                    # the kernel closes first
    fin = c.expect(lambda t: "F" in t.flags, what="FIN")
    c.take(fin)
    c.send("FA")                                                 # ACK its FIN, send ours
    c.expect(lambda t: t.ack == c.snd_nxt, what="ACK of our FIN")
    rows = [r for r in tcp_rows(k) if r["fport"] == 40000]
    assert [r["state"] for r in rows] == [10]                   # TIME_WAIT holds the 4-tuple
    c.send("FA", seq=c.snd_nxt - 1)                              # our FIN again: ACKed again
    c.expect(lambda t: t.ack == c.snd_nxt, what="ACK of the retransmitted FIN")
    # an old SYN (below RCV.NXT) does not reopen it: an ACK, no SYN-ACK
    c.send("S", seq=c.snd_nxt - 5000)
    old = c.expect(lambda t: "A" in t.flags, what="ACK to an old SYN")[TCP]
    assert "S" not in old.flags and "R" not in old.flags and old.ack == c.snd_nxt
    assert [r["state"] for r in tcp_rows(k) if r["fport"] == 40000] == [10]
    # a SYN with a higher sequence number reopens the 4-tuple (RFC 9293 3.10.7.4, RFC 6191)
    c2 = Conn(peer, 40000, 80, iss=c.snd_nxt + 100000)
    c2.send("S", options=[("MSS", 1460)])
    sa = c2.expect(lambda t: t.flags == "SA", what="SYN-ACK from TIME_WAIT")[TCP]
    c2.rcv_nxt = sa.seq + 1
    c2.send("A")
    fd2, frm = accept(k, lfd)
    assert frm == (N.AF_INET, PEER_IP, 40000)
    c2.send("PA", b"again")
    assert read_soon(k, peer, fd2) == b"again"


def test_keepalive_probes_after_2_h_then_8_unanswered_drop_the_connection(net):
    k, peer = net
    c, fd, lfd = established(k, peer)
    call(k, k.p, "setsockopt", fd, N.SOL_SOCKET, N.SO_KEEPALIVE, 1)
    t0 = peer.now()
    peer.advance(7200 + 9 * 75 + 10, step=1.0)
    probes = [p for p in peer.drain() if c.mine(p)]
    assert all(p[TCP].seq == (c.rcv_nxt - 1) & 0xffffffff and p[TCP].ack == c.snd_nxt
               for p in probes if "R" not in p[TCP].flags), [p.summary() for p in probes]
    times = [round(p.vtime - t0) for p in probes if "R" not in p[TCP].flags]
    assert len(times) == 8, times                                # tcp_keepcnt
    assert abs(times[0] - 7200) <= 2                             # tcp_keepidle: 2 h
    assert all(abs(b - a - 75) <= 2 for a, b in zip(times, times[1:])), times     # tcp_keepintvl
    with pytest.raises(RumpError) as e:
        read_now(k, fd)
    assert e.value.errno == errnos.ETIMEDOUT
    call(k, k.p, "close", fd)
    assert [r for r in tcp_rows(k) if r["fport"] == 40000] == []


def test_fin_wait_2_of_a_closed_socket_ends_after_600_s_idle(net):
    k, peer = net
    c, fd, lfd = established(k, peer)
    call(k, k.p, "close", fd)
    c.take(c.expect(lambda t: "F" in t.flags, what="FIN"))
    c.send("A")                                                  # its FIN ACKed, ours never comes
    peer.advance(590, step=1.0)
    assert [r["state"] for r in tcp_rows(k) if r["fport"] == 40000] == [9]     # FIN_WAIT_2
    peer.advance(110, step=1.0)                                  # keepintvl x keepcnt = 600 s idle
    assert [r for r in tcp_rows(k) if r["fport"] == 40000] == []


def test_time_wait_lasts_10_s_for_a_peer_on_the_subnet(net):
    k, peer = net
    c, fd, lfd = established(k, peer)
    call(k, k.p, "close", fd)
    c.take(c.expect(lambda t: "F" in t.flags, what="FIN"))
    c.send("FA")
    c.expect(lambda t: t.ack == c.snd_nxt, what="ACK of our FIN")
    peer.advance(9.5, step=0.5)
    assert len([r for r in tcp_rows(k) if r["fport"] == 40000]) == 1
    peer.advance(1.5, step=0.5)
    assert [r for r in tcp_rows(k) if r["fport"] == 40000] == []
    call(k, k.p, "close", lfd)
    assert tcp_rows(k) == []


def test_syn_flood_past_the_backlog_leaves_the_listener_usable(net):
    k, peer = net
    lfd = listener(k, 80, backlog=2)
    from scapy.layers.inet import IP
    flood = [bytes(IP(src=PEER_IP, dst=k.addr) / TCP(sport=20000 + i, dport=80, flags="S", seq=i * 1000))
             for i in range(1000)]
    peer.send_many(flood)
    peer.advance(0.5)
    answered = len([p for p in peer.drain() if TCP in p and p[TCP].flags == "SA"])
    assert answered > 0
    # complete more handshakes than the backlog holds, accepting none
    done = []
    for i in range(6):
        c = Conn(peer, 30000 + i, 80, iss=7000 + i)
        c.send("S", options=[("MSS", 1460)])
        try:
            sa = c.expect(lambda t: "S" in t.flags and "A" in t.flags, timeout=1, what="SYN-ACK")[TCP]
        except AssertionError:
            continue
        c.rcv_nxt = sa.seq + 1
        c.send("A")
        done.append(c)
    peer.advance(0.2)
    got = [accept(k, lfd)[1][2] for _ in range(2)]
    assert all(30000 <= p < 30006 for p in got)
    # after the flood's SYN cache entries are dropped (93 s), a new connection works end to end
    peer.advance(100, step=1.0)
    peer.drain()
    c, _sa = connect_to(peer, 80, 31000, iss=1)
    while True:
        fd, frm = accept(k, lfd)
        if frm[2] == 31000:
            break
    c.send("PA", b"usable")
    assert read_soon(k, peer, fd) == b"usable"
    flood_rows = [r for r in tcp_rows(k) if 20000 <= r["fport"] < 21000]
    assert flood_rows == []                                     # half-open entries did not leak


def test_fast_retransmit_on_an_accepted_connection_whose_iss_is_in_the_upper_half(net):
    k, peer = net
    c, fd, _l = established_iss(k, peer, upper=True, options=[("MSS", 1000)])
    seen, rest = fast_retransmit(k, peer, c, fd)
    assert seen[0] == [] and seen[1] == []
    assert seen[2] and bytes(seen[2][0].payload) == rest[:len(seen[2][0].payload)]


def test_first_zero_window_probe_after_5_s(net):
    k, peer = net
    c, fd, _l = established(k, peer, options=[("MSS", 1000)])
    c.send("PA", b"w")
    c.send("A", window=0)
    peer.advance(0.1)
    call(k, k.p, "write", fd, b"z" * 3000)
    t0 = peer.now()
    peer.advance(8, step=0.25)
    probes = [p for p in peer.drain() if c.mine(p) and bytes(p[TCP].payload)]
    assert probes and 4.5 <= probes[0].vtime - t0 <= 6.0, [p.vtime - t0 for p in probes]
