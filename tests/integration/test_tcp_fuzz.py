"""Malformed TCP segments at a listening and at an established socket (issue 10, must hold).

The kernel (in process, virtual time, tests/integration/tcppeer.py) gets
TCP_FUZZ_SEGMENTS (default 3,000; `make fuzz-tcp` runs 100,000) segments from
tests/integration/tcpfuzz.py, paced so that its input queue never overflows
(every one reaches TCP). Afterwards: the kernel still runs, the established
connection carries data both ways with its sequence numbers unchanged, the
listener accepts a new connection, the half-open connections the fuzz left
are gone after the SYN cache's 93 s, and the Python objects the kernel holds
did not grow with the number of segments (memory bounded).
"""
import gc
import os
import random
import time

import pytest
from scapy.layers.inet import TCP

from rumptools.abi import net as N
from tests.integration.tcpfuzz import segments
from tests.integration.tcpkit import accept, tcp_rows
from tests.integration.tcppeer import PEER_IP, connect_to, kernel_and_peer
from tests.integration.test_tcp_scapy import established, read_soon
from tests.unit.kernelkit import call

COUNT = int(os.environ.get("TCP_FUZZ_SEGMENTS", "3000"))
BATCH = 256


@pytest.fixture
def net(tmp_path):
    with kernel_and_peer(tmp_path) as kp:
        yield kp


def ip_total(k):
    return dict(zip(N.IPSTAT_FIELDS, call(k, k.p, "sysctl", "net.inet.ip.stats", 0, None)[1]))["total"]


def fuzz_round(k, peer, rng, n, conn):
    src, dst = bytes(map(int, PEER_IP.split("."))), bytes(map(int, k.addr.split(".")))
    gen = segments(rng, n, src, dst, 80, (conn.sport, conn.dport, conn.snd_nxt, conn.rcv_nxt))
    sent = 0
    base = ip_total(k)
    while sent < n:
        batch = [d for _, d in zip(range(BATCH), gen)]
        peer.send_many(batch)
        sent += len(batch)
        end = time.monotonic() + 60
        while ip_total(k) - base < sent:                      # every datagram reached IP input
            assert time.monotonic() < end, "the kernel stopped taking input"
            time.sleep(0.002)
        peer.drain()                                          # the kernel's answers (ACKs, RSTs)
    return sent


def check_connection(k, peer, c, fd, tag):
    c.send("PA", tag)
    assert read_soon(k, peer, fd) == tag
    assert call(k, k.p, "write", fd, tag.upper()) == len(tag)
    seg = c.expect(lambda t: bytes(t.payload) == tag.upper(), what="data after the fuzz")[TCP]
    assert seg.seq == c.rcv_nxt                               # its sequence space was not disturbed
    c.take(seg)
    c.send("A")


def kernel_objects():
    gc.collect()
    return len(gc.get_objects())


def test_malformed_segments_change_nothing_they_must_not(net):
    k, peer = net
    c, fd, lfd = established(k, peer)                         # listener on 80, connection from 40000
    rng = random.Random(10)
    half = COUNT // 2
    fuzz_round(k, peer, rng, half, c)
    check_connection(k, peer, c, fd, b"after round one")
    peer.advance(100, step=1.0)                               # the SYN cache lets the half-open go (93 s)
    peer.drain()
    first = kernel_objects()
    fuzz_round(k, peer, rng, COUNT - half, c)
    check_connection(k, peer, c, fd, b"after round two")
    peer.advance(100, step=1.0)
    peer.drain()
    grown = kernel_objects() - first
    st = dict(zip(N.TCPSTAT_FIELDS, call(k, k.p, "sysctl", "net.inet.tcp.stats", 0, None)[1]))
    print("\n%d segments: objects %+d over the second half; tcp rcvtotal %d badsum %d badoff %d short %d "
          "SYN cache added %d timed out %d; %d frames back" % (
              COUNT, grown, st["rcvtotal"], st["rcvbadsum"], st["rcvbadoff"], st["rcvshort"], st["sc_added"],
              st["sc_timed_out"], peer.received))
    assert st["rcvbadsum"] > COUNT // 20 and st["rcvbadoff"] + st["rcvshort"] > COUNT // 20   # they reached TCP
    assert grown < 2000, "%d more objects after %d more segments" % (grown, COUNT - half)
    rows = tcp_rows(k)
    assert sorted(r["fport"] for r in rows) == [0, 40000]     # the listener and our connection, nothing else
    c2, _ = connect_to(peer, 80, 40001, iss=99)
    fd2, frm = accept(k, lfd)
    assert frm == (N.AF_INET, PEER_IP, 40001)
    check_connection(k, peer, c2, fd2, b"a new one")
