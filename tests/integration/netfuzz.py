"""Malformed frames for a bus: random bytes, truncated headers, absurd lengths, bad options, overlapping fragments."""
import random
import struct


def _ip(rng, src, dst, proto, payload, **kw):
    hl = kw.get("hl", 5)
    total = kw.get("total", hl * 4 + len(payload))
    off = kw.get("off", 0)
    hdr = struct.pack("!BBHHHBBH4s4s", kw.get("ver", 4) << 4 | hl, 0, total & 0xffff, kw.get("id", 1), off,
                      kw.get("ttl", 64), proto, 0, src, dst)
    opts = kw.get("opts", b"")[:max(0, hl * 4 - 20)].ljust(max(0, hl * 4 - 20), b"\0")
    hdr += opts
    if kw.get("cksum", True):
        s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
        s = (s >> 16) + (s & 0xffff)
        s += s >> 16
        hdr = hdr[:10] + struct.pack("!H", ~s & 0xffff) + hdr[12:]
    return hdr + payload


def frames(dst_mac, n, seed=1):
    rng = random.Random(seed)
    src_mac = b"\x02\xff\0\0\0\x01"
    me, peer = bytes((10, 1, 1, 2)), bytes((10, 1, 1, 66))
    kinds = ("random", "short", "iphdr", "total", "hl", "opts", "frag", "udp", "icmp", "arp", "ver")
    for i in range(n):
        k = kinds[i % len(kinds)]
        if k == "random":
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 1500)))
            yield rng.choice((dst_mac, b"\xff" * 6)) + src_mac + body[:1500]
            continue
        if k == "short":
            yield (dst_mac + src_mac + b"\x08\x00" + bytes(rng.randint(0, 19)))[:rng.randint(0, 33)]
            continue
        if k == "arp":
            yield b"\xff" * 6 + src_mac + b"\x08\x06" + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))
            continue
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
        if k == "iphdr":
            ip = _ip(rng, peer, me, rng.randint(0, 255), payload, cksum=rng.random() < 0.5)
        elif k == "total":
            ip = _ip(rng, peer, me, 1, payload, total=rng.choice((0, 5, 19, 65535, len(payload) + 200)))
        elif k == "hl":
            ip = _ip(rng, peer, me, 17, payload, hl=rng.choice((0, 1, 4, 15)))
        elif k == "opts":
            ip = _ip(rng, peer, me, 1, payload, hl=rng.randint(6, 15),
                     opts=bytes(rng.choice((7, 68, 131, 137, 0, 1, 255)) if j % 3 == 0 else rng.getrandbits(8)
                                for j in range(40)))
        elif k == "frag":
            ip = _ip(rng, peer, me, rng.choice((1, 17)), payload, id=rng.randint(0, 20),
                     off=rng.choice((0x2000, 0)) | rng.randint(0, 8191))
        elif k == "udp":
            ip = _ip(rng, peer, me, 17, struct.pack("!HHHH", rng.randint(0, 65535), rng.randint(0, 65535),
                                                    rng.randint(0, 65535), rng.getrandbits(16)) + payload)
        elif k == "icmp":
            ip = _ip(rng, peer, me, 1, bytes((rng.randint(0, 20), rng.randint(0, 5))) + payload)
        else:
            ip = _ip(rng, peer, me, 1, payload, ver=rng.choice((0, 6, 15)))
        yield dst_mac + src_mac + b"\x08\x00" + ip[:1500]
