"""TCP segments (RFC 793) and their options (RFC 7323, 2018).

     0 source port  2 destination port  4 seq  8 ack
    12 data offset:4 reserved:3 NS:1   13 flags (CWR ECE URG ACK PSH RST SYN FIN)
    14 window  16 checksum  18 urgent pointer  20 options, data at offset*4

Options: EOL 0, NOP 1, MSS 2 (len 4), window scale 3 (len 3), SACK permitted
4 (len 2), SACK 5 (len 2+8n), timestamps 8 (len 10).  Parsing follows
NetBSD's tcp_dooptions: an option whose length byte is bad ends the option
list (the segment is still taken), an option of the wrong length for its
kind is skipped.  emit() lays options out as NetBSD's tcp_output does, each
aligned with NOPs: MSS; NOP WS; NOP NOP SACKOK; NOP NOP TS; NOP NOP SACK.
"""
import struct

from . import MalformedPacket
from .cksum import combine, finish, partial, pseudo_header
from .ipv4 import IPPROTO_TCP

HDRLEN = 20
FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
FLAG_NAMES = ((FIN, "FIN"), (SYN, "SYN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK"),
              (URG, "URG"), (ECE, "ECE"), (CWR, "CWR"))

OPT_EOL, OPT_NOP, OPT_MSS, OPT_WS, OPT_SACKOK, OPT_SACK, OPT_TS = 0, 1, 2, 3, 4, 5, 8

_hdr = struct.Struct("!HHIIBBHHH")


class TCPOptions:
    """The options NetBSD understands; unknown ones are kept in `other`."""
    __slots__ = ("mss", "wscale", "sack_permitted", "ts", "sack", "other")

    def __init__(self, mss=None, wscale=None, sack_permitted=False, ts=None, sack=(), other=()):
        self.mss = mss                      # int or None
        self.wscale = wscale                # int or None
        self.sack_permitted = sack_permitted
        self.ts = ts                        # (tsval, tsecr) or None
        self.sack = list(sack)              # [(left, right)]
        self.other = list(other)            # [(kind, bytes)]

    @classmethod
    def parse(cls, raw):
        o = cls()
        i, n = 0, len(raw)
        while i < n:
            kind = raw[i]
            if kind == OPT_EOL:
                break
            if kind == OPT_NOP:
                i += 1
                continue
            if n - i < 2:
                break
            olen = raw[i + 1]
            if olen < 2 or olen > n - i:
                break
            body = bytes(raw[i + 2:i + olen])
            i += olen
            if kind == OPT_MSS:
                if olen == 4:
                    o.mss = int.from_bytes(body, "big")
            elif kind == OPT_WS:
                if olen == 3:
                    o.wscale = body[0]
            elif kind == OPT_SACKOK:
                if olen == 2:
                    o.sack_permitted = True
            elif kind == OPT_TS:
                if olen == 10:
                    o.ts = (int.from_bytes(body[:4], "big"), int.from_bytes(body[4:], "big"))
            elif kind == OPT_SACK:
                if (olen - 2) % 8 == 0:
                    o.sack = [(int.from_bytes(body[j:j + 4], "big"), int.from_bytes(body[j + 4:j + 8], "big"))
                              for j in range(0, olen - 2, 8)]
            else:
                o.other.append((kind, body))
        return o

    def emit(self):
        out = bytearray()
        if self.mss is not None:
            out += struct.pack("!BBH", OPT_MSS, 4, self.mss)
        if self.wscale is not None:
            out += bytes((OPT_NOP, OPT_WS, 3, self.wscale))
        if self.sack_permitted:
            out += bytes((OPT_NOP, OPT_NOP, OPT_SACKOK, 2))
        if self.ts is not None:
            out += bytes((OPT_NOP, OPT_NOP, OPT_TS, 10)) + struct.pack("!II", *self.ts)
        if self.sack:
            out += bytes((OPT_NOP, OPT_NOP, OPT_SACK, 2 + 8 * len(self.sack)))
            for left, right in self.sack:
                out += struct.pack("!II", left, right)
        for kind, body in self.other:
            out += bytes((kind, len(body) + 2)) + body
        out += bytes(-len(out) % 4)         # EOL padding
        if len(out) > 40:
            raise ValueError("tcp options longer than 40 bytes")
        return bytes(out)

    def __eq__(self, other):
        return isinstance(other, TCPOptions) and all(
            getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __repr__(self):
        return "TCPOptions(%s)" % ", ".join("%s=%r" % (s, getattr(self, s)) for s in self.__slots__)


class TCP:
    __slots__ = ("sport", "dport", "seq", "ack", "flags", "win", "cksum", "urp",
                 "options", "payload", "_raw")

    def __init__(self, sport, dport, seq=0, ack=0, flags=0, win=0, options=b"",
                 payload=b"", urp=0, cksum=0):
        self.sport = sport
        self.dport = dport
        self.seq = seq
        self.ack = ack
        self.flags = flags          # 9 bits: the 8 flag bits, NS as 0x100
        self.win = win
        self.options = options      # raw option bytes (TCPOptions.emit() makes them)
        self.payload = payload
        self.urp = urp
        self.cksum = cksum
        self._raw = None

    @classmethod
    def parse(cls, data):
        n = len(data)
        if n < HDRLEN:
            raise MalformedPacket("tcp segment of %d bytes" % n)
        sp, dp, seq, ack, off, fl, win, ck, urp = _hdr.unpack_from(data)
        hl = (off >> 4) << 2
        if hl < HDRLEN or hl > n:
            raise MalformedPacket("tcp data offset %d in %d bytes" % (hl, n), 12)
        t = cls(sp, dp, seq, ack, fl | (off & 1) << 8, win, bytes(data[HDRLEN:hl]),
                data[hl:], urp, ck)
        t._raw = data
        return t

    def parsed_options(self):
        return TCPOptions.parse(self.options)

    def cksum_ok(self, src, dst):
        if self._raw is None:
            raise ValueError("cksum_ok() needs a parsed segment")
        raw = self._raw
        return combine(pseudo_header(src, dst, IPPROTO_TCP, len(raw)), partial(raw)) == 0xffff

    def emit(self, src, dst, cksum=True):
        opts = self.options
        if len(opts) & 3:
            opts = opts + bytes(-len(opts) % 4)
        hl = HDRLEN + len(opts)
        if hl > 60:
            raise ValueError("tcp header longer than 60 bytes")
        hdr = _hdr.pack(self.sport, self.dport, self.seq & 0xffffffff, self.ack & 0xffffffff,
                        (hl >> 2) << 4 | (self.flags >> 8 & 1), self.flags & 0xff,
                        self.win, 0, self.urp) + opts
        c = 0
        if cksum:
            c = finish(combine(pseudo_header(src, dst, IPPROTO_TCP, hl + len(self.payload)),
                               partial(hdr), partial(self.payload)))
            hdr = hdr[:16] + bytes((c >> 8, c & 0xff)) + hdr[18:]
        self.cksum = c
        return hdr + self.payload

    def flag_names(self):
        return ",".join(name for bit, name in FLAG_NAMES if self.flags & bit)

    def __repr__(self):
        return "TCP(%d > %d, seq=%d, ack=%d, flags=<%s>, win=%d, %d bytes)" % (
            self.sport, self.dport, self.seq, self.ack, self.flag_names(), self.win, len(self.payload))
