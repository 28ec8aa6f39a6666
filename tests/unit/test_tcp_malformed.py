"""Hostile and malformed TCP segments (10,000) at a listening and an established socket (in process).

Random flags, sequence and acknowledgment numbers in and out of the window,
random option bytes and data offsets, bad checksums: no handler may fail,
memory stays bounded (SYN cache, reassembly queue), and the established
connection either still carries data or was reset by the rules."""
import random
import struct

from rumptools.abi import errnos
from rumptools.abi import net as N
from rumptools.abi.errnos import RumpError
from rumptools.formats.net.ipv4 import IPv4
from rumptools.kernel.netinet.tcp_output import _cksum

import pytest

from .kernelkit import call, wait_until
from .tcpkit import in_thread, listener, loopback_kernel, stats, tcp_socket
from .test_tcp_timers import connected

LOCAL = 0x7f000001
LB = LOCAL.to_bytes(4, "big")


@pytest.fixture
def lo(monkeypatch):
    yield from loopback_kernel(monkeypatch)


def segment(rng, sport, dport, seq, ack):
    flags = rng.getrandbits(8)
    nopt = rng.choice((0, 0, 4, 8, 12, 20, 40))
    opts = bytes(rng.getrandbits(8) for _ in range(nopt))
    if rng.random() < 0.3:
        opts = struct.pack("!BBH", 2, 4, rng.choice((0, 1, 64, 1460, 65535))) + \
            bytes((3, 3, rng.getrandbits(8), 1))
    payload = bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 0, 1, 10, 500, 1400))))
    hl = 20 + len(opts)
    off = hl >> 2
    if rng.random() < 0.1:
        off = rng.getrandbits(4)                   # a wrong data offset
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, off << 4, flags,
                      rng.getrandbits(16), 0, rng.getrandbits(16)) + opts
    seg = hdr + payload
    c = _cksum(LOCAL, LOCAL, seg)
    if rng.random() < 0.1:
        c ^= 0x5a5a                                # a bad checksum
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    if rng.random() < 0.05:
        seg = seg[:rng.randrange(0, 20)]           # cut short
    return IPv4(LB, LB, 6, seg, id=rng.getrandbits(16)).emit()


def test_random_segments_at_listener_and_connection(lo):
    k = lo
    rng = random.Random(4711)
    ls = listener(k, "127.0.0.1", 7000)
    c = tcp_socket(k)
    call(k, k.p, "sock_connect", c, (N.AF_INET, "127.0.0.1", 7000))
    s, _ = call(k, k.p, "accept", ls)
    cport = call(k, k.p, "getsockname", c)[2]
    tp = k.slot("inet").tcp.conns[(LOCAL, cport, LOCAL, 7000)]
    loif = k.slot("net").loif
    sent = resets = 0
    for i in range(10000):
        if tp.dead:                                     # reset by the rules: take a new connection
            resets += 1
            assert wait_until(lambda: len(loif.q) == 0)
            c = call(k, k.p, "socket", N.AF_INET, N.SOCK_STREAM, 0)
            t, box = in_thread(call, k, k.p, "sock_connect", c, (N.AF_INET, "127.0.0.1", 7000))
            for _ in range(10):                         # a SYN lost to a full lo0 queue is resent
                t.join(1)
                if not t.is_alive():
                    break
                k.host.clock.advance(6, kernel=k)
            assert box == {"result": None}
            s, _ = call(k, k.p, "accept", ls)
            cport = call(k, k.p, "getsockname", c)[2]
            tp = k.slot("inet").tcp.conns[(LOCAL, cport, LOCAL, 7000)]
        kind = rng.random()
        if kind < 0.4:
            raw = segment(rng, rng.randrange(1024, 65535), 7000, rng.getrandbits(32), rng.getrandbits(32))
        else:
            base_seq, base_ack = tp.rcv_nxt, tp.snd_una
            seq = base_seq + rng.choice((0, 1, -1, 100, 40000, -40000, rng.getrandbits(32)))
            ack = base_ack + rng.choice((0, 1, -1, 100, rng.getrandbits(32)))
            raw = segment(rng, 7000, cport, seq, ack)
        with k.lock:
            try:
                loif.looutput(N.AF_INET, raw)
            except RumpError:
                pass                                    # lo0's queue full: dropped, as NetBSD would
        sent += 1
        if i % 50 == 0:
            assert wait_until(lambda: len(loif.q) == 0)
    assert wait_until(lambda: len(loif.q) == 0)
    assert not [line for line in k.console_lines if "failed" in line], k.console_lines
    print(resets, {key: v for key, v in stats(k).items() if v})
    st = stats(k)
    assert st["rcvbadsum"] > 0 and st["rcvbadoff"] + st["rcvshort"] > 0
    assert len(k.slot("inet").tcp.syncache) <= 10255
    assert len(tp.reass) <= 256 and tp.reass_bytes <= 2 * 32768
    # the connection: still usable, or reset by an acceptable RST
    try:
        call(k, k.p, "sendto", s, b"after", N.MSG_NOSIGNAL, None)
        call(k, k.p, "setsockopt", c, N.SOL_SOCKET, N.SO_RCVTIMEO, 1)
        got = call(k, k.p, "recvfrom", c, 65536, 0)[0]
        assert got.endswith(b"after") or got == b""
    except RumpError as e:
        assert e.errno in (errnos.ECONNRESET, errnos.EPIPE, errnos.EAGAIN)
    # a fresh connection to the listener works
    c2, s2, _ = connected(k, 7001)
    assert call(k, k.p, "sendto", c2, b"fresh", 0, None) == 5
    assert call(k, k.p, "recvfrom", s2, 10, 0) == (b"fresh", None)
