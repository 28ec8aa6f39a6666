"""shmif_dumpbus as a process: NetBSD's text, pcaps that tshark reads,
byte-swapped and version-2 buses, errors."""
import os
import shutil
import struct
import subprocess
import sys

import pytest

from rumptools.formats import pcap, shmif
from rumptools.kernel.rumpuser.shmifbus import ShmifBus

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw  # noqa: E402

DUMPBUS = os.path.join(os.path.dirname(sys.executable), "shmif_dumpbus")
needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None,
                                  reason="tshark not installed (Debian package tshark; .ci/run installs it)")

MAC_A, MAC_B = "b2:a0:11:22:33:44", "b2:a0:55:66:77:88"


def frames():
    return [
        bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=MAC_A) / ARP(op=1, hwsrc=MAC_A, psrc="10.1.1.1", pdst="10.1.1.2")),
        bytes(Ether(dst=MAC_A, src=MAC_B) / ARP(op=2, hwsrc=MAC_B, psrc="10.1.1.2", hwdst=MAC_A, pdst="10.1.1.1")),
        bytes(Ether(dst=MAC_B, src=MAC_A) / IP(src="10.1.1.1", dst="10.1.1.2") / ICMP(id=7, seq=0) / Raw(bytes(56))),
        bytes(Ether(dst=MAC_A, src=MAC_B) / IP(src="10.1.1.2", dst="10.1.1.1") / ICMP(type=0, id=7, seq=0) / Raw(bytes(56))),
        bytes(Ether(dst=MAC_B, src=MAC_A) / IP(src="10.1.1.1", dst="10.1.1.2") / UDP(sport=5000, dport=53) / Raw(b"x" * 1400)),
    ]


def dumpbus(*args):
    return subprocess.run([DUMPBUS] + list(args), capture_output=True, timeout=60)


@pytest.fixture
def bus(tmp_path):
    path = str(tmp_path / "bus")
    b = ShmifBus(path)
    for i, f in enumerate(frames()):
        b.send([f], 100 + i, 5 * i, 0x1234)
    b.close()
    return path


def test_text_output(bus):
    r = dumpbus(bus)
    assert r.returncode == 0 and r.stderr == b""
    lines = r.stdout.decode().splitlines()
    assert lines[0] == "bus version 3, lock: 0, generation: 0, firstoff: 0xfffe0, lastoff: 0x%04x" % \
        shmif.Header.parse(open(bus, "rb").read()).last
    fs = frames()
    off = 24
    want = []
    for i, f in enumerate(fs):
        want.append("packet %d, offset 0x%04x, length 0x%04x, ts %d/%06d" % (i, off + 24, len(f), 100 + i, 5 * i))
        off += 24 + len(f)
    assert lines[1:] == want
    h = dumpbus("-h", bus)
    assert h.stdout.decode().splitlines() == lines[:1]


def test_pcap_to_stdout_text_to_stderr(bus):
    r = dumpbus("-p", "-", bus)
    assert r.returncode == 0
    assert r.stderr.decode().splitlines()[0].startswith("bus version 3")
    assert len(r.stderr.decode().splitlines()) == 6
    linktype, snaplen, recs = pcap.read(r.stdout)
    assert (linktype, snaplen) == (1, 1518)
    assert [(s, u, n, d) for s, u, n, d in recs] == [(100 + i, 5 * i, len(f), f) for i, f in enumerate(frames())]
    assert r.stdout[:4] == struct.pack("=I", 0xa1b2c3d4)


@needs_tshark
def test_tshark_reads_the_pcap(bus, tmp_path):
    out = str(tmp_path / "bus.pcap")
    r = dumpbus("-p", out, bus)
    assert r.returncode == 0 and len(r.stdout.decode().splitlines()) == 6
    t = subprocess.run(["tshark", "-r", out, "-T", "fields", "-e", "frame.protocols", "-e", "eth.src",
                        "-e", "ip.src", "-e", "icmp.type", "-e", "udp.dstport", "-e", "_ws.expert"],
                       capture_output=True, timeout=120)
    assert t.returncode == 0, t.stderr
    rows = [line.split("\t") for line in t.stdout.decode().splitlines()]
    assert [r[0] for r in rows] == ["eth:ethertype:arp", "eth:ethertype:arp", "eth:ethertype:ip:icmp:data",
                                    "eth:ethertype:ip:icmp:data", "eth:ethertype:ip:udp:dns"]
    assert [r[1] for r in rows] == [MAC_A, MAC_B, MAC_A, MAC_B, MAC_A]
    assert [r[2] for r in rows[2:]] == ["10.1.1.1", "10.1.1.2", "10.1.1.1"]
    assert [r[3] for r in rows[2:4]] == ["8", "0"]
    # and through a pipe, as the example does
    p = subprocess.run("%s -p - %s | tshark -r - -T fields -e frame.len" % (DUMPBUS, bus), shell=True,
                       capture_output=True, timeout=120)
    assert p.stdout.decode().split() == [str(len(f)) for f in frames()]


@needs_tshark
def test_wrapped_bus_through_tshark(tmp_path):
    path = str(tmp_path / "bus")
    b = ShmifBus(path)
    base = frames()[4]
    for seq in range(1200):                       # ~1.7 rings of 1442-byte frames
        f = base[:-4] + struct.pack("!I", seq)
        b.send([f], seq, 0, 1)
    gen = b.ring.gen
    b.close()
    assert gen == 1
    r = dumpbus("-p", "-", path)
    _, _, recs = pcap.read(r.stdout)
    seqs = [struct.unpack("!I", d[-4:])[0] for _, _, _, d in recs]
    assert seqs == list(range(1200 - len(seqs), 1200)) and len(seqs) > 700
    t = subprocess.run(["tshark", "-r", "-", "-T", "fields", "-e", "udp.length"], input=r.stdout,
                       capture_output=True, timeout=120)
    assert t.stdout.decode().split() == ["1408"] * len(seqs)


def test_netbsd_buses_other_byte_order_and_version2(tmp_path):
    fs = frames()[:2]
    for swapped, hdrsize, version in ((True, shmif.PKTHDR_SIZE, 3), (False, shmif.PKTHDR2_SIZE, 2)):
        buf = bytearray(shmif.BUSMEM_SIZE)
        ring = shmif.Ring(buf, swapped=swapped, pkthdr_size=hdrsize)
        ring.init()
        ring.version = version
        for i, f in enumerate(fs):
            ring.append(f, 7, i, 0)
        path = str(tmp_path / ("bus%d%d" % (swapped, version)))
        with open(path, "wb") as fh:
            fh.write(buf)
        r = dumpbus("-p", "-", path)
        assert r.returncode == 0, r.stderr
        text = r.stderr.decode().splitlines()
        assert text[0].startswith("bus version %d, lock: 0, generation: 0, firstoff: 0xfffe0" % version)
        assert text[1] == "packet 0, offset 0x%04x, length 0x%04x, ts 7/000000" % (2 * hdrsize, len(fs[0]))
        assert [d for _, _, _, d in pcap.read(r.stdout)[2]] == fs


def test_errors(tmp_path):
    r = dumpbus(str(tmp_path / "missing"))
    assert (r.returncode, r.stderr) == (1, b"shmif_dumpbus: open bus: No such file or directory\n")
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a bus at all" * 10)
    r = dumpbus(str(junk))
    assert (r.returncode, r.stderr.decode()) == (1, "shmif_dumpbus: %s not a shmif bus\n" % junk)
    unused = tmp_path / "unused"
    ShmifBus(str(unused)).close()                 # attached, never sent: version 0
    r = dumpbus(str(unused))
    assert (r.returncode, r.stderr) == (1, b"shmif_dumpbus: bus version 0, program 3\n")
    for args in ([], ["a", "b"], ["-x", "a"], ["-p"]):
        r = dumpbus(*args)
        assert r.returncode == 1
        assert r.stderr.decode().splitlines()[-1] == "usage: shmif_dumpbus [-h] [-p pcapfile] buspath"


def test_damaged_bus_is_an_error_not_a_traceback(tmp_path):
    path = str(tmp_path / "bus")
    b = ShmifBus(path)
    b.send([frames()[0]], 1, 1, 1)
    b.close()
    with open(path, "r+b") as f:
        f.seek(32 + 24 + 24 + len(frames()[0]))     # where a second header would be
        f.write(struct.pack("=I", 0x7fffffff))
        f.seek(20)
        f.write(struct.pack("=I", 0x10000))
    r = dumpbus(path)
    assert r.returncode == 1
    assert "damaged bus" in r.stderr.decode() and "Traceback" not in r.stderr.decode()
    assert r.stdout.decode().splitlines()[1].startswith("packet 0, offset 0x0030")
