#!/usr/bin/env python3
"""Network groundwork on the hot path: checksum, a UDP frame, the shmif bus, bpf.

Prints medians beside baselines measured in the same run:
  * Internet checksum MB/s over 1500-byte and 64 KiB buffers, beside
    zlib.crc32 (C) and hashlib.md5 (C) over the same bytes;
  * parse and emit of a 1400-byte-payload Ethernet/IPv4/UDP frame per
    second (checksums verified on parse, computed on emit), beside a bare
    struct.unpack of the 42 header bytes;
  * shmif bus: frames of 1400 bytes written and read back per second
    (one writer, one reader, both through the real mapped file and lock),
    beside os.pwrite+os.pread of the same bytes on the same file;
  * bpf: `udp port 53` run over the frame per second.

    python bench/bench_netwire.py [--runs 7]
"""
import argparse
import hashlib
import os
import statistics
import struct
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from rumptools.formats.net import bpf, cksum, ether, ipv4, udp  # noqa: E402
from rumptools.kernel.rumpuser.shmifbus import ShmifBus  # noqa: E402

SRC, DST = bytes((10, 1, 1, 1)), bytes((10, 1, 1, 2))
MAC1, MAC2 = bytes.fromhex("b2a000000001"), bytes.fromhex("b2a000000002")


def rate(fn, n, runs):
    """Median calls per second of fn over runs batches of n calls."""
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def make_frame(payload):
    u = udp.UDP(40000, 53, payload).emit(SRC, DST)
    ip = ipv4.IPv4(SRC, DST, ipv4.IPPROTO_UDP, u, id=1).emit()
    return ether.Ether(MAC2, MAC1, ether.ETHERTYPE_IP, ip).emit()


def parse_frame(frame):
    e = ether.Ether.parse(frame)
    ip = ipv4.IPv4.parse(e.payload)
    if not ip.cksum_ok():
        raise ValueError("ip checksum")
    u = udp.UDP.parse(ip.payload)
    if not u.cksum_ok(ip.src, ip.dst):
        raise ValueError("udp checksum")
    return u.payload


UDP53 = [bpf.Insn(*i) for i in (
    (0x28, 0, 0, 12), (0x15, 0, 8, 0x800), (0x30, 0, 0, 23), (0x15, 0, 6, 17),
    (0x28, 0, 0, 20), (0x45, 4, 0, 0x1fff), (0xb1, 0, 0, 14), (0x48, 0, 0, 14),
    (0x15, 1, 0, 53), (0x48, 0, 0, 16), (0x15, 0, 1, 53), (0x6, 0, 0, 0xffff), (0x6, 0, 0, 0))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    runs = ap.parse_args().runs

    print("checksum (MB/s, median of %d)" % runs)
    print("  %-10s %12s %12s %12s" % ("size", "cksum", "zlib.crc32", "md5"))
    for size, n in ((1500, 20000), (65536, 600)):
        data = os.urandom(size)
        c = rate(lambda: cksum.checksum(data), n, runs) * size / 1e6
        z = rate(lambda: zlib.crc32(data), n, runs) * size / 1e6
        m = rate(lambda: hashlib.md5(data).digest(), n, runs) * size / 1e6
        print("  %-10d %12.0f %12.0f %12.0f   (cksum/crc32 %.2f)" % (size, c, z, m, c / z))

    payload = os.urandom(1400)
    frame = make_frame(payload)
    assert parse_frame(frame) == payload
    hdr = struct.Struct("!6s6sHBBHHHBBH4s4sHHHH")
    print("\nEthernet/IPv4/UDP frame of %d bytes (frames/s, median of %d)" % (len(frame), runs))
    p = rate(lambda: parse_frame(frame), 20000, runs)
    e = rate(lambda: make_frame(payload), 20000, runs)
    s = rate(lambda: hdr.unpack_from(frame), 20000, runs)
    print("  parse+verify %10.0f   emit %10.0f   baseline struct.unpack of the headers %10.0f" % (p, e, s))
    print("  parse+verify MB/s %6.1f   emit MB/s %6.1f" % (p * len(frame) / 1e6, e * len(frame) / 1e6))

    print("\nbpf 'udp port 53' on that frame (runs/s, median of %d)" % runs)
    assert bpf.filter(UDP53, frame) == 0xffff
    print("  %10.0f" % rate(lambda: bpf.filter(UDP53, frame), 20000, runs))

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bus")
        w = ShmifBus(path)
        r = ShmifBus(path)
        rd = r.reader()
        r.receive(rd)
        batch = [frame] * 32

        def bus_round():
            w.send(batch, 1, 0, 7)
            got = r.receive(rd, limit=64)
            if len(got) != 32:
                raise AssertionError("lost frames: %d" % len(got))

        def bus_single():
            w.send([frame], 1, 0, 7)
            if len(r.receive(rd)) != 1:
                raise AssertionError("lost a frame")

        fd = os.open(os.path.join(d, "plain"), os.O_RDWR | os.O_CREAT)

        def plain():
            os.pwrite(fd, frame, 4096)
            os.pread(fd, len(frame), 4096)

        print("\nshmif bus, %d-byte frames written and read back (frames/s, median of %d)" % (len(frame), runs))
        b1 = rate(bus_single, 5000, runs)
        b32 = rate(bus_round, 300, runs) * 32
        pl = rate(plain, 5000, runs)
        print("  one per send %10.0f   32 per send %10.0f   baseline pwrite+pread %10.0f" % (b1, b32, pl))
        print("  32 per send: %.1f MB/s" % (b32 * len(frame) / 1e6))
        os.close(fd)
        w.close()
        r.close()


if __name__ == "__main__":
    main()
