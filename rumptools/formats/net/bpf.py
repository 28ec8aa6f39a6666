"""Classic BPF: the filter machine of /dev/bpf, its validator and the record
header of bpf reads.  Semantics are NetBSD's bpf_filter.c (2015) for packets
held in one buffer.

Program: a list of Insn(code, jt, jf, k); on the wire (BIOCSETF) each is
8 bytes, u16 code, u8 jt, u8 jf, u32 k, in host byte order.

Machine: 32-bit accumulator A, index X, 16 scratch words; A, X and the
words start at 0.  filter() returns the snapshot length to keep (0 = drop):
  * a packet load past the end of the buffer returns 0, and so does an
    indexed load whose offset X + k overflows 32 bits;
  * division or modulo by X == 0 returns 0 (by a constant 0 is refused
    by validate());
  * unknown opcodes, BPF_RET|BPF_X and the coprocessor calls (COP, COPX:
    /dev/bpf installs none) return 0;
  * shifts take their count modulo 32, as the C code compiled for amd64
    does (the shift instruction masks the count).
Jumps are relative to the next instruction; validate() guarantees they stay
inside the program; filter() also returns 0 rather than run off the end of
a program that was not validated.

validate() is bpf_validate() as the kernel runs it: 1..512 instructions,
the last a RET with K or A; loads and stores of scratch words within 0..15
and no load of a word that some path has not stored first; only known ALU
operations; jumps forward and inside; no coprocessor calls.

Records of a bpf read (struct bpf_hdr on amd64, 32 bytes): i64 tv_sec,
i64 tv_usec, u32 caplen, u32 datalen, u16 hdrlen; the captured bytes start
at hdrlen = BPF_WORDALIGN(32 + link header length) - link header length
(34 for Ethernet, so the IP header is 8-byte aligned), and the next record
at BPF_WORDALIGN(hdrlen + caplen), BPF_WORDALIGN rounding up to 8.
"""
import re
import struct
from collections import namedtuple

from . import MalformedPacket

# classes
LD, LDX, ST, STX, ALU, JMP, RET, MISC = range(8)
# sizes, modes
W, H, B = 0x00, 0x08, 0x10
IMM, ABS, IND, MEM, LEN, MSH = 0x00, 0x20, 0x40, 0x60, 0x80, 0xa0
# alu / jmp operations, sources
ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, MOD, XOR = (0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60,
                                                      0x70, 0x80, 0x90, 0xa0)
JA, JEQ, JGT, JGE, JSET = 0x00, 0x10, 0x20, 0x30, 0x40
K, X = 0x00, 0x08
RVAL_A = 0x10
TAX, COP, COPX, TXA = 0x00, 0x20, 0x40, 0x80

MEMWORDS = 16
MAXINSNS = 512
HDRSIZE = 32
M32 = 0xffffffff

Insn = namedtuple("Insn", "code jt jf k")
_insn = struct.Struct("=HBBI")
_hdr = struct.Struct("=qqIIH6x")


def stmt(code, k=0):
    return Insn(code, 0, 0, k & M32)


def jump(code, k, jt, jf):
    return Insn(code, jt, jf, k & M32)


def pack_program(insns):
    return b"".join(_insn.pack(*i) for i in insns)


def unpack_program(raw):
    if len(raw) % 8:
        raise MalformedPacket("bpf program of %d bytes" % len(raw))
    return [Insn(*_insn.unpack_from(raw, o)) for o in range(0, len(raw), 8)]


_c_line = re.compile(r"\{\s*(0x[0-9a-fA-F]+|\d+),\s*(\d+),\s*(\d+),\s*(0x[0-9a-fA-F]+|\d+)\s*\}")


def from_c_array(text):
    """The `{ 0x28, 0, 0, 0x0000000c },` lines of `tcpdump -dd` -> program."""
    return [Insn(int(c, 0), int(t), int(f), int(k, 0)) for c, t, f, k in _c_line.findall(text)]


def filter(prog, pkt, wirelen=None):
    """Run prog over the bytes pkt (wirelen: the length on the wire, default
    len(pkt)); -> the number of bytes to capture, 0 to reject."""
    buflen = len(pkt)
    if wirelen is None:
        wirelen = buflen
    A = Xr = 0
    mem = [0] * MEMWORDS
    pc = 0
    n = len(prog)
    while 0 <= pc < n:
        code, jt, jf, k = prog[pc]
        pc += 1
        cls = code & 7
        if cls == LD:
            mode = code & 0xe0
            if mode == ABS or mode == IND:
                if mode == IND:
                    k = Xr + k
                    if k > M32:
                        return 0
                size = code & 0x18
                if size == W:
                    if k + 4 > buflen:
                        return 0
                    A = pkt[k] << 24 | pkt[k + 1] << 16 | pkt[k + 2] << 8 | pkt[k + 3]
                elif size == H:
                    if k + 2 > buflen:
                        return 0
                    A = pkt[k] << 8 | pkt[k + 1]
                elif size == B:
                    if k >= buflen:
                        return 0
                    A = pkt[k]
                else:
                    return 0
            elif code == LD | W | LEN:
                A = wirelen & M32
            elif code == LD | IMM:
                A = k
            elif code == LD | MEM:
                if k >= MEMWORDS:
                    return 0
                A = mem[k]
            else:
                return 0
        elif cls == JMP:
            op = code & 0xf0
            if op == JA:
                if code != JMP | JA:
                    return 0
                pc += k
                continue
            v = Xr if code & X else k
            if op == JEQ:
                t = A == v
            elif op == JGT:
                t = A > v
            elif op == JGE:
                t = A >= v
            elif op == JSET:
                t = A & v
            else:
                return 0
            pc += jt if t else jf
        elif cls == ALU:
            op = code & 0xf0
            if op == NEG:
                if code != ALU | NEG:
                    return 0
                A = -A & M32
                continue
            v = Xr if code & X else k
            if op == ADD:
                A = (A + v) & M32
            elif op == SUB:
                A = (A - v) & M32
            elif op == MUL:
                A = (A * v) & M32
            elif op == DIV:
                if v == 0:
                    return 0
                A //= v
            elif op == MOD:
                if v == 0:
                    return 0
                A %= v
            elif op == AND:
                A &= v
            elif op == OR:
                A |= v
            elif op == XOR:
                A ^= v
            elif op == LSH:
                A = (A << (v & 31)) & M32
            elif op == RSH:
                A >>= v & 31
            else:
                return 0
        elif cls == RET:
            if code == RET | K:
                return k
            if code == RET | RVAL_A:
                return A
            return 0
        elif cls == LDX:
            if code == LDX | B | MSH:
                if k >= buflen:
                    return 0
                Xr = (pkt[k] & 0xf) << 2
            elif code == LDX | IMM:
                Xr = k
            elif code == LDX | MEM:
                if k >= MEMWORDS:
                    return 0
                Xr = mem[k]
            elif code == LDX | W | LEN:
                Xr = wirelen & M32
            else:
                return 0
        elif cls == ST or cls == STX:
            if code & 0xf8 or k >= MEMWORDS:
                return 0
            mem[k] = A if cls == ST else Xr
        else:                                   # MISC
            if code == MISC | TAX:
                Xr = A
            elif code == MISC | TXA:
                A = Xr
            else:
                return 0
    return 0


def validate(prog):
    """True if the kernel would accept prog with BIOCSETF."""
    n = len(prog)
    if n < 1 or n > MAXINSNS:
        return False
    if prog[-1].code not in (RET | K, RET | RVAL_A):
        return False
    pending = [0] * n                   # scratch words some path into pc left unset
    invalid = 0xffff
    for i, (code, jt, jf, k) in enumerate(prog):
        invalid |= pending[i]
        cls = code & 7
        if cls == LD or cls == LDX:
            mode = code & 0xe0
            if mode == MEM:
                if k >= MEMWORDS or invalid & (1 << k):
                    return False
            elif mode not in (ABS, IND, MSH, IMM, LEN):
                return False
        elif cls == ST or cls == STX:
            if k >= MEMWORDS:
                return False
            invalid &= ~(1 << k)
        elif cls == ALU:
            op = code & 0xf0
            if op in (DIV, MOD):
                if not code & X and k == 0:
                    return False
            elif op not in (ADD, SUB, MUL, OR, XOR, AND, LSH, RSH, NEG):
                return False
        elif cls == JMP:
            frm = i + 1
            op = code & 0xf0
            if op == JA:
                dst = frm + k
                if dst >= n or dst > M32:
                    return False
                pending[dst] |= invalid
            elif op in (JEQ, JGT, JGE, JSET):
                if frm + jt >= n or frm + jf >= n:
                    return False
                pending[frm + jt] |= invalid
                pending[frm + jf] |= invalid
            else:
                return False
            invalid = 0
        elif cls == MISC:
            if code & 0xf8 in (COP, COPX):
                return False
    return True


def wordalign(n):
    return (n + 7) & ~7


def hdrlen(linkhdrlen):
    """Where captured data starts in a record, for a link header of this size."""
    return wordalign(HDRSIZE + linkhdrlen) - linkhdrlen


def record(sec, usec, data, datalen, linkhdrlen):
    """One record as a bpf read returns it, padded to the next record."""
    hl = hdrlen(linkhdrlen)
    rec = _hdr.pack(sec, usec, len(data), datalen, hl) + bytes(hl - HDRSIZE) + bytes(data)
    return rec + bytes(wordalign(len(rec)) - len(rec))


def records(buf):
    """The records of a bpf read buffer: [(sec, usec, datalen, data)]."""
    out = []
    off = 0
    n = len(buf)
    while off < n:
        if off + HDRSIZE > n:
            raise MalformedPacket("bpf record header truncated at %d" % off, off)
        sec, usec, caplen, datalen, hl = _hdr.unpack_from(buf, off)
        if hl < HDRSIZE or off + hl + caplen > n:
            raise MalformedPacket("bpf record at %d overruns the buffer" % off, off)
        out.append((sec, usec, datalen, bytes(buf[off + hl:off + hl + caplen])))
        off += wordalign(hl + caplen)
    return out
