"""TCP selective acknowledgements (RFC 2018) with scapy as the peer, in virtual time.

NetBSD 7.99 has net.inet.tcp.sack.enable=1 (specs/net.md section 7): SACK-permitted
is offered on an active open and answered on a passive one only when the peer
offered it; ACKs carry SACK blocks while out-of-order data is queued; the sender
retransmits the holes the peer reports, never what it SACKed, and keeps its
scoreboard within sack.maxholes / sack.globalmaxholes whatever the peer sends.
Same harness as test_tcp_scapy.py (tests/integration/tcppeer.py).
"""
import random

import pytest
from scapy.layers.inet import TCP

from tests.integration.tcpkit import accept, connect_bg, listener
from tests.integration.tcppeer import PEER_IP, Conn, connect_to, kernel_and_peer, opts
from tests.unit.kernelkit import call

M32 = 0xffffffff


@pytest.fixture
def net(tmp_path):
    with kernel_and_peer(tmp_path) as kp:
        yield kp


def sysctl(k, name, value=None):
    if value is None:
        return call(k, k.p, "sysctl", "net.inet.tcp." + name, 0, None)[1]
    call(k, k.p, "sysctl", "net.inet.tcp." + name, 1, value)


def blocks(t):
    """The SACK blocks of a segment as [(left, right)] ([] without the option)."""
    v = opts_raw(t).get("SAck", ())
    return [(v[i], v[i + 1]) for i in range(0, len(v), 2)]


def opts_raw(t):
    return {k: v for k, v in t.options if k not in ("NOP", "EOL")}


def sack_conn(k, peer, sport=40000, ts=False, mss=1460):
    options = [("MSS", mss), ("SAckOK", b"")] + ([("Timestamp", (100, 0))] if ts else [])
    lfd = listener(k, 80)
    c, sa = connect_to(peer, 80, sport, options=options)
    assert "SAckOK" in opts(sa)
    fd = accept(k, lfd)[0]
    return c, fd


def test_sack_permitted_only_when_offered_and_enabled(net):
    k, peer = net
    listener(k, 80)
    c = Conn(peer, 41000, 80, iss=5000)
    c.send("S", options=[("MSS", 1460), ("WScale", 7), ("Timestamp", (1, 0))])
    sa = c.expect(lambda t: t.flags == "SA", what="SYN-ACK")[TCP]
    assert "SAckOK" not in opts(sa) and "Timestamp" in opts(sa)     # not offered: not answered
    # all four SYN options together fit (MSS, WS, SACKOK, TS: 24 bytes)
    c2 = Conn(peer, 41001, 80, iss=7000)
    c2.send("S", options=[("MSS", 1460), ("WScale", 7), ("SAckOK", b""), ("Timestamp", (1, 0))])
    sa2 = c2.expect(lambda t: t.flags == "SA", what="SYN-ACK")[TCP]
    assert {"MSS", "WScale", "SAckOK", "Timestamp"} <= set(opts(sa2))
    sysctl(k, "sack.enable", 0)
    c3 = Conn(peer, 41002, 80, iss=9000)
    c3.send("S", options=[("MSS", 1460), ("SAckOK", b"")])
    sa3 = c3.expect(lambda t: t.flags == "SA", what="SYN-ACK")[TCP]
    assert "SAckOK" not in opts(sa3)                                # sack.enable=0: never


def test_active_open_offers_sack_permitted_and_takes_the_answer(net):
    k, peer = net
    fd, th, box = connect_bg(k, PEER_IP, 9)
    syn = peer.expect(lambda p: TCP in p and p[TCP].flags == "S")[TCP]
    o = opts(syn)
    assert "SAckOK" in o and {"MSS", "WScale", "Timestamp"} <= set(o)
    c = Conn(peer, 9, syn.sport, iss=50000)
    c.rcv_nxt = syn.seq + 1
    c.send("SA", options=[("MSS", 1460), ("SAckOK", b"")])
    c.expect(lambda t: t.flags == "A" and t.ack == 50001, what="the handshake's ACK")
    th.join(5)
    assert box.get("error") is None
    # out-of-order data from the peer: the ACK carries a SACK block (agreed on the active side too)
    c.send("A", b"x" * 100, seq=c.snd_nxt + 100)
    a = c.expect(lambda t: t.ack == c.snd_nxt, what="ACK with SACK")[TCP]
    assert blocks(a) == [(c.snd_nxt + 100, c.snd_nxt + 200)]
    sysctl(k, "sack.enable", 0)
    fd2, th2, _box2 = connect_bg(k, PEER_IP, 10)
    syn2 = peer.expect(lambda p: TCP in p and p[TCP].flags == "S" and p[TCP].dport == 10)[TCP]
    assert "SAckOK" not in opts(syn2)


def test_no_sack_blocks_when_the_peer_did_not_offer(net):
    k, peer = net
    lfd = listener(k, 80)
    c, _sa = connect_to(peer, 80, 40000, options=[("MSS", 1460)])
    accept(k, lfd)
    c.send("A", b"y" * 100, seq=c.snd_nxt + 500)
    a = c.expect(lambda t: t.ack == c.snd_nxt, what="duplicate ACK")[TCP]
    assert "SAck" not in opts(a)


@pytest.mark.parametrize("ts,room", [(False, 4), (True, 3)])
def test_sack_blocks_for_out_of_order_segments_most_recent_first(net, ts, room):
    k, peer = net
    c, fd = sack_conn(k, peer, ts=ts)
    s = c.snd_nxt

    def ooo(lo, hi):
        extra = [("Timestamp", (200, 0))] if ts else []
        c.send("A", bytes(hi - lo), seq=s + lo, options=extra)
        a = c.expect(lambda t: "SAck" in opts(t) or t.ack != s, what="ACK for [%d, %d)" % (lo, hi))[TCP]
        return a.ack - s, [(left - s, right - s) for left, right in blocks(a)]

    assert ooo(1000, 2000) == (0, [(1000, 2000)])
    assert ooo(3000, 4000) == (0, [(3000, 4000), (1000, 2000)])
    assert ooo(2000, 3000) == (0, [(1000, 4000)])                  # merged with both neighbours
    for lo in (5000, 7000, 9000, 11000):
        ack, got = ooo(lo, lo + 500)
    ack, got = ooo(11500, 11800)                                    # the newest block grows
    expect = [(11000, 11800), (9000, 9500), (7000, 7500), (5000, 5500), (1000, 4000)]
    assert ack == 0 and got == expect[:room]                        # what fits beside the other options
    ack, got = ooo(0, 1000)                                         # the first hole filled
    assert ack == 4000 and got == expect[:4][:room]
    for lo, hi in ((11500, 12000), (10000, 11000), (9500, 10000), (8000, 9000), (7500, 8000),
                   (6000, 7000), (5500, 6000)):
        ooo(lo, hi)                                                 # the holes from the top
    ack, got = ooo(4000, 5000)                                      # the last one: nothing queued
    assert ack == 12000 and got == []


def flight(k, peer, c, fd, rounds=4):
    """Write data and let cwnd open by ACKing whole flights; returns the last flight, in order."""
    assert call(k, k.p, "write", fd, bytes(i % 251 for i in range(30000))) == 30000
    segs = []
    for _ in range(rounds):
        segs = sorted(c.data_segments(timeout=0.5), key=lambda t: t.seq)
        assert segs
        c.send("A", ack=segs[-1].seq + len(bytes(segs[-1].payload)))
    segs = sorted(c.data_segments(timeout=0.5), key=lambda t: t.seq)
    return segs


def test_sender_retransmits_the_reported_holes_not_sacked_data_and_rto_clears(net):
    k, peer = net
    c, fd = sack_conn(k, peer)
    segs = flight(k, peer, c, fd, rounds=2)
    assert len(segs) >= 6, [(t.seq, len(t.payload)) for t in segs]
    end = [t.seq + len(bytes(t.payload)) for t in segs]
    una = segs[0].seq
    hole1, hole2 = segs[0].seq, segs[2].seq                         # segments 0 and 2 lost
    sacked = [(end[0], segs[2].seq), (end[2], end[-1])]
    sack_opt = [("SAck", tuple(x for b in reversed(sacked) for x in b))]
    rexmits = []
    for i in range(3):                                              # three duplicate ACKs with SACK
        c.send("A", ack=una, options=sack_opt)
        rexmits += [t for t in c.data_segments(timeout=0.3) if t.seq < end[-1]]
    assert [t.seq for t in rexmits] == [hole1]                      # the first hole, once
    c.send("A", ack=una, options=sack_opt)                          # a fourth: the second hole next
    out = c.data_segments(timeout=0.3)
    assert [t.seq for t in out] == [hole2], [(t.seq, len(t.payload)) for t in out]
    assert sysctl(k, "sack.globalholes") == 2
    for i in range(3):                                              # more: new data only
        c.send("A", ack=una, options=sack_opt)
        out = c.data_segments(timeout=0.3)
        assert all(t.seq >= end[-1] for t in out), [t.seq for t in out]
    # partial ACK up to the second hole: nothing SACKed is sent again
    c.send("A", ack=hole2, options=[("SAck", sacked[1])])
    out = c.data_segments(timeout=0.3)
    assert not [t for t in out if t.seq < end[-1]], [t.seq for t in out]
    assert sysctl(k, "sack.globalholes") == 1
    # the retransmission timeout forgets the scoreboard and goes back to snd_una
    peer.advance(4, step=0.25)
    out = c.data_segments(timeout=0.5)
    assert out and min(t.seq for t in out) == hole2
    assert sysctl(k, "sack.globalholes") == 0
    call(k, k.p, "close", fd)


@pytest.mark.parametrize("maxholes,globalmax", [(6, 1024), (32, 5)])
def test_absurd_sack_blocks_keep_the_bounds(net, maxholes, globalmax):
    k, peer = net
    sysctl(k, "sack.maxholes", maxholes)
    sysctl(k, "sack.globalmaxholes", globalmax)
    c, fd = sack_conn(k, peer, mss=200)
    segs = flight(k, peer, c, fd, rounds=5)
    assert len(segs) >= 12, len(segs)
    una = segs[0].seq
    top = segs[-1].seq + len(bytes(segs[-1].payload))
    rnd = random.Random(7)
    bound = min(maxholes, globalmax)
    seen = set()
    sent_max = top
    for i in range(300):
        bl = []
        for _ in range(4):
            kind = rnd.randrange(5)
            if kind == 0:                                           # beyond snd_max
                left = top + rnd.randrange(1, 1 << 20)
                bl.append((left, left + rnd.randrange(1, 5000)))
            elif kind == 1:                                         # below snd_una / reversed / wrapped
                bl.append(((una - rnd.randrange(1, 1 << 30)) & M32, (una + rnd.randrange(0, 100)) & M32))
            elif kind == 2:
                bl.append((top, una))
            else:                                                   # small pieces inside the window
                left = una + rnd.randrange(1, top - una - 2)
                bl.append((left, min(top, left + rnd.randrange(1, 50))))
        # several SACK options in one segment (4 x 10 bytes)
        c.send("A", ack=una, options=[("SAck", b) for b in bl])
        if i % 50 == 49:
            peer.settle()
            n = sysctl(k, "sack.globalholes")
            assert 0 <= n <= bound
            seen.add(n)
        for t in c.data_segments(timeout=0.05) if i % 25 == 24 else ():   # what the window let out
            if (t.seq + len(bytes(t.payload)) - sent_max) & M32 < 1 << 31:
                sent_max = (t.seq + len(bytes(t.payload))) & M32
    assert max(seen) == bound                                       # the scoreboard filled up to it
    # everything acknowledged: the scoreboard is gone and the connection goes on
    top = sent_max
    c.send("A", ack=top)
    peer.settle()
    assert sysctl(k, "sack.globalholes") == 0
    assert call(k, k.p, "write", fd, b"z" * 100) == 100
    more = c.data_segments(timeout=0.5)
    assert more and min(t.seq for t in more) == top
    call(k, k.p, "close", fd)
    peer.settle()
    assert sysctl(k, "sack.globalholes") == 0
