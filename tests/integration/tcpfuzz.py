"""Malformed TCP segments (as IPv4 datagrams) aimed at a listening and at an established socket.

    for dgram in segments(rng, n, src, dst, listen_port, conn):   # conn: (sport, dport, rcv_nxt, snd_nxt)
        ...

Every datagram has a good IP header; the TCP part is broken one way or another:
random flags and numbers at the listening port (from random source ports),
bad checksums, truncated headers, data offsets out of range, garbage options
(zero/one/huge option lengths, short MSS, absurd window scale, wrong-sized
timestamps). Segments at the established connection's 4-tuple are made so
that the RFCs let none of them change it: with a good checksum they are
either wholly outside the receive window (which is at most 65535 bytes, the
peer having offered no window scaling) or an RST/SYN that may only draw a
challenge ACK (RFC 5961), or an ACK for data never sent; everything else
there has a bad checksum or a broken header. So the connection must come out
unaffected, and the listener must still accept.
"""
import struct

from tests.integration.netfuzz import _ip

WINDOW_SLACK = 70000           # past any unscaled receive window

KINDS = ("listen_flags", "listen_opts", "badsum", "truncated", "doff", "oow", "old", "rst_in_window",
         "syn_in_window", "ack_unsent", "oow_opts")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def tcp(src, dst, sport, dport, seq, ack, flags, win=65535, opts=b"", payload=b"", doff=None, good=True, urp=0):
    opts = opts + b"\0" * (-len(opts) % 4)
    off = doff if doff is not None else 5 + len(opts) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, (off & 15) << 4,
                      flags & 0xff, win, 0, urp) + opts
    seg = hdr + payload
    c = checksum(src + dst + struct.pack("!BBH", 0, 6, len(seg)) + seg)
    if not good:
        c ^= 0x1 + (seq & 0x7ffe)              # never a correct sum
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def bad_options(rng):
    pick = rng.randrange(8)
    if pick == 0:
        return bytes((2, 3, 5))                               # MSS of the wrong length
    if pick == 1:
        return bytes((3, 3, rng.choice((15, 200, 255))))       # window scale beyond 14
    if pick == 2:
        return bytes((8, rng.choice((2, 6, 9, 40)))) + bytes(8)   # timestamps of the wrong length
    if pick == 3:
        return bytes((rng.randrange(256), 0)) * 3             # zero-length options (a loop for a naive parser)
    if pick == 4:
        return bytes((rng.randrange(2, 256), 255)) + bytes(20)   # an option longer than the header
    if pick == 5:
        return bytes((5, 10)) + bytes(8)                      # SACK blocks out of nowhere
    if pick == 6:
        return bytes((0,)) + bytes(rng.getrandbits(8) for _ in range(15))   # EOL, then garbage
    return bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 41)))


def segments(rng, n, src, dst, listen_port, conn):
    """n IPv4 datagrams; conn = (peer port, kernel port, kernel's RCV.NXT, kernel's SND.NXT)."""
    cs, cd, rcv_nxt, snd_nxt = conn
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        payload = bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 0, 1, rng.randrange(200)))))
        flags = rng.getrandbits(8)
        seq, ack = rng.getrandbits(32), rng.getrandbits(32)
        sport = rng.randrange(1024, 65536)
        while sport == cs:
            sport = rng.randrange(1024, 65536)
        target = rng.random() < 0.5
        ports = (cs, cd) if target else (sport, listen_port)
        if kind == "listen_flags":
            seg = tcp(src, dst, sport, listen_port, seq, ack, flags, rng.getrandbits(16), payload=payload,
                      urp=rng.getrandbits(16))
        elif kind == "listen_opts":
            seg = tcp(src, dst, sport, listen_port, seq, ack, 0x02 | (flags & 0xc0), opts=bad_options(rng)[:40])
        elif kind == "badsum":
            seg = tcp(src, dst, *ports, rcv_nxt if target else seq, snd_nxt, flags, payload=payload, good=False)
        elif kind == "truncated":
            whole = tcp(src, dst, *ports, seq, ack, flags, opts=bad_options(rng)[:40], payload=payload)
            seg = whole[:rng.randrange(0, 20)]
        elif kind == "doff":
            seg = tcp(src, dst, *ports, rcv_nxt if target else seq, snd_nxt, flags, payload=payload[:20],
                      doff=rng.choice((0, 1, 4, 15)))
            if rng.random() < 0.5:
                seg = seg[:20]
        elif kind == "oow":                                   # beyond the window: dropped (ACK unless RST)
            seg = tcp(src, dst, cs, cd, rcv_nxt + WINDOW_SLACK + rng.randrange(1 << 30), ack, flags & ~0x02,
                      payload=payload)
        elif kind == "old":                                   # wholly before RCV.NXT, SYN/FIN counted
            seg = tcp(src, dst, cs, cd, rcv_nxt - len(payload) - 4 - rng.randrange(1 << 30), snd_nxt,
                      flags, payload=payload)
        elif kind == "rst_in_window":                         # not exactly RCV.NXT: challenge ACK only
            seg = tcp(src, dst, cs, cd, rcv_nxt + 1 + rng.randrange(30000), ack, 0x04 | (flags & 0x10))
        elif kind == "syn_in_window":
            seg = tcp(src, dst, cs, cd, rcv_nxt + rng.randrange(30000), ack, 0x02 | (flags & 0x10))
        elif kind == "ack_unsent":                            # acknowledges data never sent: dropped + ACK
            seg = tcp(src, dst, cs, cd, rcv_nxt, snd_nxt + 1 + rng.randrange(1 << 30), 0x10)
        else:                                                 # out of the window, garbage options
            seg = tcp(src, dst, cs, cd, rcv_nxt + WINDOW_SLACK + rng.randrange(1 << 30), ack, 0x10,
                      opts=bad_options(rng)[:40], payload=payload)
        yield _ip(rng, src, dst, 6, seg, id=i & 0xffff)
