"""Classic BPF (rumptools.formats.net.bpf): programs compiled by tcpdump -dd
run on scapy-built packets accept exactly what libpcap (tcpdump -r) accepts;
every instruction's edge cases; the validator's rules; bpf read records."""
import os
import shutil
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from rumptools.formats import pcap
from rumptools.formats.net import MalformedPacket, bpf
from rumptools.formats.net.bpf import (ABS, ADD, ALU, AND, B, COP, COPX, DIV, H, IMM, IND, JA, JEQ, JGE,
                                       JGT, JMP, JSET, LD, LDX, LEN, LSH, MEM, MISC, MOD, MSH, MUL,
                                       NEG, OR, RET, RSH, RVAL_A, ST, STX, SUB, TAX, TXA, XOR, K, W, X,
                                       Insn, jump, stmt)

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, IPOption, Raw,  # noqa: E402
                       fragment)

needs_tcpdump = pytest.mark.skipif(shutil.which("tcpdump") is None,
                                   reason="tcpdump not installed (Debian package tcpdump; .ci/run installs it)")

A1, A2 = "b2:a0:00:00:00:01", "b2:a0:00:00:00:02"


def packets():
    e = Ether(src=A1, dst=A2)
    pk = [
        Ether(src=A1, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc="10.1.1.1", pdst="10.1.1.2"),
        Ether(src=A2, dst=A1) / ARP(op=2, psrc="10.1.1.2", pdst="10.1.1.1", hwsrc=A2),
        e / IP(src="10.1.1.1", dst="10.1.1.2") / ICMP(type=8, id=1, seq=1) / Raw(bytes(56)),
        e / IP(src="10.1.1.2", dst="10.1.1.1", ttl=255) / ICMP(type=0, id=1, seq=1) / Raw(bytes(56)),
        e / IP(src="10.1.1.2", dst="10.1.1.1") / ICMP(type=3, code=3) / IP(src="10.1.1.1", dst="10.1.1.2") / UDP(),
        e / IP(src="10.1.1.1", dst="10.1.1.2", ttl=1) / UDP(sport=33434, dport=33435) / Raw(b"t" * 12),
        e / IP(src="10.1.1.1", dst="10.9.9.9") / UDP(sport=1234, dport=53) / Raw(b"q" * 30),
        e / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / Raw(bytes(300)),
        Ether(src=A1, dst="01:00:5e:00:00:01") / IP(src="10.1.1.1", dst="224.0.0.1") / UDP(dport=5000),
        e / IP(src="10.1.1.1", dst="10.1.1.2") / TCP(sport=40000, dport=80, flags="S"),
        e / IP(src="10.1.1.2", dst="10.1.1.1") / TCP(sport=80, dport=40000, flags="SA"),
        e / IP(src="10.1.1.1", dst="10.1.1.2") / TCP(sport=40000, dport=80, flags="PA") / Raw(b"GET / HTTP/1.0\r\n\r\n"),
        e / IP(src="10.1.1.1", dst="10.1.1.2") / TCP(sport=40000, dport=80, flags="A"),
        e / IP(src="10.1.1.1", dst="10.1.1.2") / TCP(sport=1500, dport=1999, flags="R"),
        e / IP(src="10.1.1.1", dst="10.1.1.2", options=[IPOption(b"\x07\x07\x04" + bytes(4))]) / UDP(dport=7) / Raw(b"opt"),
        e / Dot1Q(vlan=5) / IP(src="10.1.1.1", dst="10.1.1.2") / UDP(dport=53),
        e / Raw(bytes.fromhex("86dd") + bytes(40)),
    ]
    pk += fragment(e / IP(src="10.1.1.1", dst="10.1.1.2") / UDP(sport=9, dport=53) / Raw(bytes(3000)), fragsize=1000)
    raw = [bytes(p) for p in pk]
    raw += [raw[2][:20], raw[9][:40], raw[0][:13], b"", bytes(range(64))]     # short and odd frames
    return raw


EXPRESSIONS = [
    "arp", "arp[6:2] = 2", "icmp", "icmp[icmptype] == icmp-echo", "icmp[0] = 0 and ip[8] = 255",
    "udp", "udp port 53", "udp dst port 33435 and ip[8] < 2", "portrange 1000-2000", "tcp port 80",
    "tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)",
    "tcp[tcpflags] & tcp-rst != 0 or icmp",
    "tcp port 80 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)",
    "ip host 10.1.1.1 and not udp", "src host 10.1.1.2", "dst net 10.1.1.0/24", "net 224.0.0.0/4",
    "ether broadcast", "ether multicast", "ether src b2:a0:00:00:00:01", "ip broadcast or ip multicast",
    "len > 200", "less 60", "greater 1000", "ip[0] & 0xf > 5", "ip[6:2] & 0x1fff != 0",
    "ip[6] & 0x20 != 0", "ip[2:2] / 4 > 10", "ip[2:2] % 10 == 4", "(ip[4:2] ^ 0xffff) != 0",
    "ip[2:2] * 3 - 100 > 200", "udp[8:4] = 0x71717171", "ip proto 17 and udp[0:2] + 1 = 10",
    "vlan", "vlan 5 and udp", "ip6", "dst port 67 or dst port 68", "not ip",
    "ip[(ip[0] & 0xf) + 3] = 1", "ether[12:2] = 0x0800 and ip[9] = 6 and tcp[13] & 0x10 = 0x10",
]


def compile_filter(expr, pcapfile):
    r = subprocess.run(["tcpdump", "-dd", "-r", pcapfile, expr], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return bpf.from_c_array(r.stdout)


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    """A pcap of the packets, some cut to a snapshot length (caplen < len)."""
    path = str(tmp_path_factory.mktemp("bpf") / "in.pcap")
    recs = []
    out = pcap.file_header(pcap.DLT_EN10MB, 65535)
    for i, p in enumerate(packets()):
        cap = p[:34] if i in (4, 12, 18) else p            # some cut after the IP header
        recs.append((i, cap, len(p)))
        out += pcap.record(i + 1, 0, cap, wirelen=len(p))
    with open(path, "wb") as f:
        f.write(out)
    return path, recs


@needs_tcpdump
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_same_verdicts_as_libpcap(expr, capture, tmp_path):
    path, recs = capture
    prog = compile_filter(expr, path)
    assert bpf.validate(prog)
    out = str(tmp_path / "out.pcap")
    r = subprocess.run(["tcpdump", "-r", path, "-w", out, expr], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    libpcap = sorted(sec - 1 for sec, _, _, _ in pcap.read(open(out, "rb").read())[2])
    ours = [i for i, cap, wirelen in recs if bpf.filter(prog, cap, wirelen)]
    assert ours == libpcap
    assert 0 < len(ours) < len(recs) or expr in ("ip6",)          # the packets tell the filters apart


@needs_tcpdump
def test_program_bytes_round_trip(capture):
    prog = compile_filter("tcp port 80", capture[0])
    raw = bpf.pack_program(prog)
    assert len(raw) == 8 * len(prog) and bpf.unpack_program(raw) == prog
    with pytest.raises(MalformedPacket):
        bpf.unpack_program(raw[:-1])


def run(prog, pkt=b"", wirelen=None):
    return bpf.filter([Insn(*i) for i in prog], pkt, wirelen)


PKT = bytes(range(1, 41))


@pytest.mark.parametrize("prog,pkt,want", [
    ([stmt(RET | K, 96)], b"", 96),
    ([stmt(LD | W | ABS, 0), stmt(RET | RVAL_A)], PKT, 0x01020304),
    ([stmt(LD | H | ABS, 38), stmt(RET | RVAL_A)], PKT, 0x2728),
    ([stmt(LD | H | ABS, 39), stmt(RET | RVAL_A)], PKT, 0),           # one byte short
    ([stmt(LD | W | ABS, 37), stmt(RET | K, 1)], PKT, 0),
    ([stmt(LD | B | ABS, 40), stmt(RET | K, 1)], PKT, 0),
    ([stmt(LD | W | ABS, 0xffffffff), stmt(RET | K, 1)], PKT, 0),
    ([stmt(LDX | IMM, 2), stmt(LD | B | IND, 3), stmt(RET | RVAL_A)], PKT, 6),
    ([stmt(LDX | IMM, 0xffffffff), stmt(LD | B | IND, 2), stmt(RET | K, 1)], PKT, 0),   # X + k overflows
    ([stmt(LDX | B | MSH, 0), stmt(TXA | MISC), stmt(RET | RVAL_A)], b"\x45", 20),
    ([stmt(LDX | B | MSH, 1), stmt(RET | K, 1)], b"\x45", 0),
    ([stmt(LD | W | LEN), stmt(RET | RVAL_A)], PKT, 40),
    ([stmt(LDX | W | LEN), stmt(MISC | TXA), stmt(RET | RVAL_A)], PKT, 40),
    ([stmt(LD | IMM, 7), stmt(LDX | IMM, 0), stmt(ALU | DIV | X), stmt(RET | K, 1)], b"", 0),
    ([stmt(LD | IMM, 7), stmt(LDX | IMM, 0), stmt(ALU | MOD | X), stmt(RET | K, 1)], b"", 0),
    ([stmt(LD | IMM, 17), stmt(ALU | MOD | K, 5), stmt(RET | RVAL_A)], b"", 2),
    ([stmt(LD | IMM, 17), stmt(ALU | DIV | K, 5), stmt(RET | RVAL_A)], b"", 3),
    ([stmt(LD | IMM, 0xf0f0), stmt(ALU | XOR | K, 0xff00), stmt(RET | RVAL_A)], b"", 0x0ff0),
    ([stmt(LD | IMM, 1), stmt(ALU | NEG), stmt(RET | RVAL_A)], b"", 0xffffffff),
    ([stmt(LD | IMM, 0), stmt(ALU | SUB | K, 1), stmt(RET | RVAL_A)], b"", 0xffffffff),
    ([stmt(LD | IMM, 0x80000000), stmt(ALU | MUL | K, 2), stmt(RET | RVAL_A)], b"", 0),
    ([stmt(LD | IMM, 0xffffffff), stmt(ALU | ADD | K, 2), stmt(RET | RVAL_A)], b"", 1),
    ([stmt(LD | IMM, 1), stmt(ALU | LSH | K, 33), stmt(RET | RVAL_A)], b"", 2),         # count mod 32
    ([stmt(LD | IMM, 8), stmt(LDX | IMM, 34), stmt(ALU | RSH | X), stmt(RET | RVAL_A)], b"", 2),
    ([stmt(LD | IMM, 6), stmt(ALU | AND | K, 3), stmt(ALU | OR | K, 8), stmt(RET | RVAL_A)], b"", 10),
    ([stmt(LD | IMM, 5), stmt(ST, 3), stmt(LD | IMM, 0), stmt(LDX | MEM, 3), stmt(MISC | TXA),
      stmt(RET | RVAL_A)], b"", 5),
    ([stmt(LDX | IMM, 9), stmt(STX, 15), stmt(LD | MEM, 15), stmt(RET | RVAL_A)], b"", 9),
    ([stmt(LD | IMM, 4), stmt(MISC | TAX), stmt(LD | IMM, 0), stmt(MISC | TXA), stmt(RET | RVAL_A)], b"", 4),
    ([stmt(JMP | JA, 1), stmt(RET | K, 1), stmt(RET | K, 2)], b"", 2),
    ([stmt(LD | IMM, 5), jump(JMP | JGT | K, 4, 0, 1), stmt(RET | K, 1), stmt(RET | K, 2)], b"", 1),
    ([stmt(LD | IMM, 4), jump(JMP | JGT | K, 4, 0, 1), stmt(RET | K, 1), stmt(RET | K, 2)], b"", 2),
    ([stmt(LD | IMM, 4), jump(JMP | JGE | K, 4, 0, 1), stmt(RET | K, 1), stmt(RET | K, 2)], b"", 1),
    ([stmt(LD | IMM, 6), jump(JMP | JSET | K, 2, 0, 1), stmt(RET | K, 1), stmt(RET | K, 2)], b"", 1),
    ([stmt(LD | IMM, 6), stmt(LDX | IMM, 6), jump(JMP | JEQ | X, 0, 0, 1), stmt(RET | K, 1),
      stmt(RET | K, 2)], b"", 1),
    ([stmt(LD | IMM, 6), stmt(RET | X)], b"", 0),                     # RET|X is no instruction
    ([stmt(MISC | COP, 0), stmt(RET | K, 1)], b"", 0),                # no coprocessor
    ([stmt(MISC | COPX), stmt(RET | K, 1)], b"", 0),
    ([stmt(0xff), stmt(RET | K, 1)], b"", 0),                         # unknown opcode
    ([stmt(LD | IMM, 1)], b"", 0),                                    # runs off the end (unvalidated)
    ([stmt(JMP | JA, 5), stmt(RET | K, 1)], b"", 0),
])
def test_instruction_semantics(prog, pkt, want):
    assert run(prog, pkt) == want


def test_wirelen_and_buflen_differ():
    prog = [stmt(LD | W | LEN), stmt(RET | RVAL_A)]
    assert run(prog, b"abc", wirelen=1514) == 1514


@pytest.mark.parametrize("prog", [
    [],
    [stmt(RET | K, 1)] * 513,
    [stmt(LD | IMM, 1)],
    [stmt(RET | X)],
    [stmt(LD | MEM, 16), stmt(RET | K, 1)],
    [stmt(LD | MEM, 0), stmt(RET | K, 1)],                            # never stored
    [stmt(LD | IMM, 1), jump(JMP | JEQ | K, 1, 0, 1), stmt(ST, 0), stmt(LDX | MEM, 0), stmt(RET | K, 1)],
    [stmt(ST, 16), stmt(RET | K, 1)],
    [stmt(STX, 99), stmt(RET | K, 1)],
    [stmt(ALU | DIV | K, 0), stmt(RET | K, 1)],
    [stmt(ALU | MOD | K, 0), stmt(RET | K, 1)],
    [stmt(ALU | 0xb0 | K, 1), stmt(RET | K, 1)],
    [stmt(JMP | JA, 1), stmt(RET | K, 1)],
    [stmt(JMP | JA, 0xffffffff), stmt(RET | K, 1)],
    [jump(JMP | JEQ | K, 0, 1, 0), stmt(RET | K, 1)],
    [jump(JMP | JEQ | K, 0, 0, 1), stmt(RET | K, 1)],
    [jump(JMP | 0x50 | K, 0, 0, 0), stmt(RET | K, 1)],
    [stmt(MISC | COP, 0), stmt(RET | K, 1)],
    [stmt(MISC | COPX), stmt(RET | K, 1)],
    [stmt(LD | 0xc0, 0), stmt(RET | K, 1)],
])
def test_validator_refuses(prog):
    assert not bpf.validate(prog)


@pytest.mark.parametrize("prog", [
    [stmt(RET | K, 0)],
    [stmt(RET | RVAL_A)],
    [stmt(RET | K, 1)] * 512,
    [stmt(ST, 0), stmt(LD | MEM, 0), stmt(RET | RVAL_A)],
    [stmt(LD | IMM, 1), jump(JMP | JEQ | K, 1, 0, 1), stmt(ST, 0), stmt(ST, 0), stmt(LDX | MEM, 0),
     stmt(RET | K, 1)],
    [stmt(LD | IMM, 1), stmt(ST, 2), jump(JMP | JEQ | K, 1, 1, 0), stmt(RET | K, 0), stmt(LD | MEM, 2),
     stmt(RET | RVAL_A)],
    [stmt(LDX | IMM, 0), stmt(ALU | DIV | X), stmt(RET | K, 1)],        # division by X: checked at run time
    [stmt(MISC | TAX), stmt(MISC | TXA), stmt(RET | K, 1)],
    [stmt(RET | X), stmt(RET | K, 1)],                                   # NetBSD lets RET|X through here
])
def test_validator_accepts(prog):
    assert bpf.validate(prog)


insn = st.builds(Insn, st.integers(0, 0xffff), st.integers(0, 255), st.integers(0, 255),
                 st.one_of(st.integers(0, 64), st.integers(0, 0xffffffff)))


@given(st.lists(insn, max_size=40), st.binary(max_size=80))
@settings(max_examples=500, deadline=None)
def test_random_programs_never_raise(prog, pkt):
    bpf.validate(prog)
    v = bpf.filter(prog, pkt)
    assert 0 <= v <= 0xffffffff


def test_record_layout():
    assert bpf.hdrlen(14) == 34 and bpf.hdrlen(4) == 36
    frame = bytes(range(60))
    rec = bpf.record(1700000000, 123456, frame, 60, 14)
    assert len(rec) == bpf.wordalign(34 + 60) == 96
    assert rec[24:26] == (34).to_bytes(2, "little") and rec[34:94] == frame
    buf = rec + bpf.record(1, 2, frame[:20], 1514, 14)
    assert bpf.records(buf) == [(1700000000, 123456, 60, frame), (1, 2, 1514, frame[:20])]
    with pytest.raises(MalformedPacket):
        bpf.records(buf[:-30])
    with pytest.raises(MalformedPacket):
        bpf.records(buf[:20])
    assert os.path.basename(bpf.__file__) == "bpf.py"
