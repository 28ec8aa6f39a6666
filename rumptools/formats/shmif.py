"""The shmif bus file: NetBSD's shared-memory Ethernet segment (libshmif).

Pure: works on any buffer holding the whole bus (an mmap in the kernel's
rumpuser layer, a read-only mapping in shmif_dumpbus, a bytearray in tests);
no I/O, no locking -- the caller holds the bus lock while it calls Ring
methods on a live bus.

Layout (native byte order; a bus written on a machine of the other byte
order reads with swapped=True):

     0 u32 magic 0xca11d054 (0: not initialised yet)
     4 u32 version 3; also the wake-up word writers pwrite() after sending
     8 u64 generation: +1 each time a writer wraps past the end of the data
    16 u32 first: data offset of the oldest whole packet (DATASIZE: none lost yet)
    20 u32 last: data offset of the newest packet
    24 u32 lock word: 0 free, 1 held (atomic compare-and-swap)
    28 u32 spare
    32 data: a ring of DATASIZE = 1 MiB - 32 bytes

Each packet is a header -- u32 length, u32 sec, u32 usec (the sender's
uptime), 4 bytes of padding, u64 sender id: 24 bytes; 12 bytes without the
padding and sender in bus version 2 -- followed by the Ethernet frame.
Headers and frames wrap byte by byte from the end of the ring to offset 0.
A writer overwriting the header of the packet at `first` moves `first` on
packet by packet, so readers that fall a whole ring behind notice (the
generation and first/last tell them) and restart at `first`.
"""
import struct
import sys

MAGIC = 0xca11d054
VERSION = 3
BUSMEM_SIZE = 1024 * 1024
HDRSIZE = 32
DATASIZE = BUSMEM_SIZE - HDRSIZE
PKTHDR_SIZE = 24
PKTHDR2_SIZE = 12
OFF_MAGIC, OFF_VERSION, OFF_GEN, OFF_FIRST, OFF_LAST, OFF_LOCK = 0, 4, 8, 16, 20, 24
OFF_WAKEUP = OFF_VERSION
LOCK_UNLOCKED, LOCK_LOCKED = 0, 1
LOCK_COOLDOWN = 1001            # failed tries before the locker sleeps 1 ms
MAXFRAME = 1514                 # ETHERMTU + header; longer frames are dropped
_MAXLEN = DATASIZE // 2         # a packet length beyond this is corruption


class BusCorrupt(Exception):
    """The ring's bookkeeping makes no sense (a damaged or foreign file)."""


def _order(swapped):
    native = "<" if sys.byteorder == "little" else ">"
    if swapped:
        return ">" if native == "<" else "<"
    return native


class Header:
    """The 32-byte bus header, as found (no checks beyond reading)."""
    __slots__ = ("magic", "version", "gen", "first", "last", "lock", "swapped")

    @classmethod
    def parse(cls, buf):
        if len(buf) < HDRSIZE:
            raise BusCorrupt("bus file of %d bytes" % len(buf))
        h = cls()
        h.swapped = False
        (magic,) = struct.unpack_from(_order(False) + "I", buf, 0)
        if magic != MAGIC and struct.unpack_from(_order(True) + "I", buf, 0)[0] == MAGIC:
            h.swapped = True
        (h.magic, h.version, h.gen, h.first, h.last, h.lock) = struct.unpack_from(
            _order(h.swapped) + "IIQIII", buf, 0)
        return h


def advance(off, delta):
    off += delta
    return off - DATASIZE if off >= DATASIZE else off


class Ring:
    """The packet ring of one bus mapping."""

    def __init__(self, buf, swapped=False, pkthdr_size=PKTHDR_SIZE):
        if len(buf) < BUSMEM_SIZE:
            raise BusCorrupt("bus file of %d bytes, needs %d" % (len(buf), BUSMEM_SIZE))
        self.buf = buf
        self.data = memoryview(buf)[HDRSIZE:BUSMEM_SIZE]
        o = _order(swapped)
        self._u32 = struct.Struct(o + "I")
        self._u64 = struct.Struct(o + "Q")
        self.hdrsize = pkthdr_size
        self._pkthdr = struct.Struct(o + ("IIIxxxxQ" if pkthdr_size == PKTHDR_SIZE else "III"))

    def release(self):
        """Drop the view of the buffer (an mmap cannot close while one exists)."""
        self.data.release()

    # header fields, read and written in place
    def _get32(self, off):
        return self._u32.unpack_from(self.buf, off)[0]

    def _set32(self, off, v):
        self._u32.pack_into(self.buf, off, v)

    magic = property(lambda s: s._get32(OFF_MAGIC), lambda s, v: s._set32(OFF_MAGIC, v))
    version = property(lambda s: s._get32(OFF_VERSION), lambda s, v: s._set32(OFF_VERSION, v))
    first = property(lambda s: s._get32(OFF_FIRST), lambda s, v: s._set32(OFF_FIRST, v))
    last = property(lambda s: s._get32(OFF_LAST), lambda s, v: s._set32(OFF_LAST, v))
    gen = property(lambda s: s._u64.unpack_from(s.buf, OFF_GEN)[0],
                   lambda s, v: s._u64.pack_into(s.buf, OFF_GEN, v & 0xffffffffffffffff))

    def sane(self):
        """first and last lie within the ring (else the file is damaged)."""
        return self.first <= DATASIZE and self.last < DATASIZE

    def repair(self):
        """Restart a damaged ring empty, as a freshly made bus (writers only)."""
        self.data[:self.hdrsize] = bytes(self.hdrsize)
        self.last = 0
        self.first = DATASIZE

    def init(self):
        """Make a zeroed bus a bus (NetBSD writes no version here: the first
        wake-up write does)."""
        self.magic = MAGIC
        self.first = DATASIZE

    # ring access
    def read(self, off, n):
        """-> (bytes, offset after them, whether the end of the ring was reached)."""
        if n >= _MAXLEN or off > DATASIZE:
            raise BusCorrupt("read of %d bytes at 0x%x" % (n, off))
        chunk = min(n, DATASIZE - off)
        out = bytes(self.data[off:off + chunk])
        wrap = off + chunk == DATASIZE
        if chunk == n:
            return out, (off + chunk) % DATASIZE, wrap
        rest = n - chunk
        return out + bytes(self.data[:rest]), rest, wrap

    def skip(self, off, n):
        """Pass over n bytes at off without reading them, as read() would:
        -> (offset after them, whether the end of the ring was reached)."""
        if n >= _MAXLEN or off > DATASIZE:
            raise BusCorrupt("skip of %d bytes at 0x%x" % (n, off))
        end = off + n
        if end < DATASIZE:
            return end, False
        return end - DATASIZE, True

    def pktlen(self, off):
        """Length field of the packet header at off (wrapping)."""
        if off > DATASIZE:
            raise BusCorrupt("packet offset 0x%x" % off)
        if off + 4 <= DATASIZE:
            return self._u32.unpack_from(self.data, off)[0]
        return self._u32.unpack(self.read(off, 4)[0])[0]

    def nextpktoff(self, off):
        """Offset of the packet after the one at off.  A length that cannot
        be right (a damaged bus) counts as 0, so walks always move on."""
        n = self.pktlen(off)
        if n >= _MAXLEN:
            n = 0
        return advance(off, self.hdrsize + n)

    def _advancefirst(self, off, n):
        u32, buf, hdrsize = self._u32, self.buf, self.hdrsize
        first = start = u32.unpack_from(buf, OFF_FIRST)[0]
        for _ in range(DATASIZE // hdrsize + 2):
            if not (off <= first + hdrsize and off + n > first):
                break
            first = self.nextpktoff(first)
        else:
            raise BusCorrupt("first packet offset does not move on")
        if first != start:
            u32.pack_into(buf, OFF_FIRST, first)

    def write(self, off, data):
        """Write data at off (wrapping), moving `first` past packets whose
        headers it overwrites.  -> (offset after, whether the end was reached)."""
        n = len(data)
        if n >= _MAXLEN or off > DATASIZE:
            raise BusCorrupt("write of %d bytes at 0x%x" % (n, off))
        chunk = min(n, DATASIZE - off)
        filled = off + chunk == DATASIZE
        self._advancefirst(off, chunk + (1 if filled else 0))
        if chunk == n:
            self.data[off:off + n] = data
            return (off + n) % DATASIZE, filled
        self.data[off:off + chunk] = data[:chunk]
        rest = n - chunk
        self._advancefirst(0, rest)
        self.data[:rest] = data[chunk:]
        return rest, filled

    def pack_pkthdr(self, length, sec, usec, sender):
        if self.hdrsize == PKTHDR_SIZE:
            return self._pkthdr.pack(length, sec & 0xffffffff, usec, sender & 0xffffffffffffffff)
        return self._pkthdr.pack(length, sec & 0xffffffff, usec)

    def unpack_pkthdr(self, raw):
        """-> (length, sec, usec, sender); sender 0 for version-2 buses."""
        v = self._pkthdr.unpack(raw)
        return v if len(v) == 4 else v + (0,)

    def append(self, frame, sec, usec, sender):
        """Put one frame on the bus (the caller holds the lock), as
        shmif_start does: last moves to the next packet, the header and
        frame are written there (one write; shmif_start makes two, to the
        same effect), and the generation grows if the ring wrapped.
        A damaged ring is restarted empty first."""
        if not self.sane():
            self.repair()
        try:
            return self._append(frame, sec, usec, sender)
        except BusCorrupt:
            self.repair()
            return self._append(frame, sec, usec, sender)

    def _append(self, frame, sec, usec, sender):
        last = self.nextpktoff(self._u32.unpack_from(self.buf, OFF_LAST)[0])
        self._u32.pack_into(self.buf, OFF_LAST, last)
        # header and frame in one write: moving `first` over the whole span at once
        # is the same as over the header's and then the frame's (first lies ahead of
        # the writer, and each check moves it past whatever starts in its span)
        _off, wrapped = self.write(last, self.pack_pkthdr(len(frame), sec, usec, sender) + frame)
        if wrapped:
            self.gen = self.gen + 1
        return last


class Reader:
    """One receiver's position on the bus (shmif_rcv's nextpkt and devgen).
    It starts at the newest packet, as an interface does when it attaches
    or comes up (and so may see that one packet again)."""

    def __init__(self, ring):
        self.ring = ring
        self.nextpkt = ring.last
        self.devgen = ring.gen
        self.overruns = 0           # times the writers lapped this reader
        self.corrupt = 0            # damaged headers skipped
        self.more = False           # take() stopped at its limit with packets left

    def pending(self):
        r = self.ring
        if not r.sane():
            return False
        return not (self.devgen == r.gen and r.nextpktoff(r.last) == self.nextpkt)

    def _stillvalid(self, gen, first, lastoff):
        """The cursor still points at a packet the writers have not overwritten
        (shmif_rcv's stillvalid_p); lastoff is nextpktoff(last)."""
        gendiff = (gen - self.devgen) & 0xffffffffffffffff
        devoff = self.nextpkt
        if gendiff > 1:
            return False
        if first >= lastoff:
            lastoff += DATASIZE
            if gendiff == 0:
                devoff += DATASIZE
        elif gendiff:
            return False
        return first <= devoff <= lastoff

    def resync(self):
        """Skip everything on the bus now (after damage)."""
        r = self.ring
        self.corrupt += 1
        self.devgen = r.gen
        try:
            self.nextpkt = r.nextpktoff(r.last)
        except BusCorrupt:
            self.nextpkt = 0

    def take(self, limit, skip_sender=None):
        """Up to `limit` new packets, oldest first, as (length, sec, usec, sender,
        frame); the caller holds the bus lock.  Packets whose sender is
        skip_sender (an interface's own) are passed over without copying their
        frames, but count against the limit.  Afterwards `more` says whether
        the limit stopped the walk with packets still to come.  Damage ends
        the walk: the reader resynchronises at the newest packet."""
        r = self.ring
        self.more = False
        out = []
        if not r.sane():
            return out
        # the header cannot change while the lock is held: read it once per walk
        gen, first, last = r.gen, r.first, r.last
        try:
            lastoff = r.nextpktoff(last)
        except BusCorrupt:
            self.resync()
            return out
        hdrsize, read, unpack = r.hdrsize, r.read, r.unpack_pkthdr
        for _ in range(limit):
            if self.devgen == gen and lastoff == self.nextpkt:
                return out
            try:
                if self._stillvalid(gen, first, lastoff):
                    nextpkt = self.nextpkt
                else:
                    self.overruns += 1
                    nextpkt = first if first < DATASIZE else 0
                    self.devgen = gen - 1 if first > last else gen
                raw, nextpkt, w1 = read(nextpkt, hdrsize)
                length, sec, usec, sender = unpack(raw)
                if sender == skip_sender and skip_sender is not None:
                    frame = None
                    nextpkt, w2 = r.skip(nextpkt, length)
                else:
                    frame, nextpkt, w2 = read(nextpkt, length)
            except BusCorrupt:
                self.resync()
                return out
            self.nextpkt = nextpkt
            if w1 or w2:
                self.devgen += 1
            if frame is not None:
                out.append((length, sec, usec, sender, frame))
        self.more = not (self.devgen == gen and lastoff == self.nextpkt)
        return out

    def next(self):
        """The next packet as (length, sec, usec, sender, frame), or None when
        there is nothing new (or damage was skipped).  The caller holds the bus lock."""
        got = self.take(1)
        return got[0] if got else None


def walk(ring):
    """Every packet on the bus from the oldest to the newest, as
    shmif_dumpbus walks it: (data offset of the frame, length, sec, usec,
    sender, frame), zero-length header slots skipped.  Stops at damage."""
    cur = ring.first
    last = ring.last
    if cur == DATASIZE:
        cur = 0
    bonus = last < cur
    for _ in range(DATASIZE // ring.hdrsize + 2):
        if not (cur <= last or bonus):
            return
        raw, cur, wrap = ring.read(cur, ring.hdrsize)
        if wrap:
            bonus = False
        length, sec, usec, sender = ring.unpack_pkthdr(raw)
        if length == 0:
            continue
        at = cur
        frame, cur, wrap = ring.read(cur, length)
        if wrap:
            bonus = False
        yield at, length, sec, usec, sender, frame
