"""IPv4 reassembly (NetBSD's ip_reass.c): fragments queued per (src, dst, id, proto).

A queue lives at most REASS_TTL (30) seconds from its first fragment (a
callout; expiry counts fragtimeout). At most net.inet.ip.maxfragpackets
queues exist at once (more are dropped). Overlapping data keeps the bytes
that arrived first; a datagram is complete when bytes 0..end are covered
and the last fragment (MF clear) has been seen; it may not exceed 65535
bytes. Kernel lock held.
"""
REASS_TTL = 30.0
MAXLEN = 65535


class _Queue:
    __slots__ = ("pieces", "end", "first", "timer", "nbytes")

    def __init__(self):
        self.pieces = []        # (offset, bytes)
        self.end = None
        self.first = None       # the first fragment's IPv4 object (its header is kept)
        self.timer = None
        self.nbytes = 0


class Reassembly:
    def __init__(self, inet):
        self.inet = inet
        self.queues = {}

    def add(self, ip):
        """Add a fragment (IPv4 object); returns the whole payload's IPv4 object or None."""
        st = self.inet.ipstat
        st.inc("fragments")
        key = (ip.src, ip.dst, ip.id, ip.proto)
        off = ip.frag * 8
        data = bytes(ip.payload)
        last = not ip.more_fragments
        if off + len(data) > MAXLEN - 20 or (not last and len(data) % 8) or (not data and not last):
            st.inc("fragdropped")
            return None
        q = self.queues.get(key)
        if q is None:
            if len(self.queues) >= self.inet.params["maxfragpackets"]:
                st.inc("fragdropped")
                return None
            q = self.queues[key] = _Queue()
            q.timer = self.inet.kernel.callouts.callout(self._timeout, key)
            q.timer.reset(REASS_TTL)
        if last:
            if q.end is not None and q.end != off + len(data):
                self._drop(key)
                st.inc("fragdropped")
                return None
            q.end = off + len(data)
        if off == 0:
            q.first = ip
        if q.nbytes > 2 * MAXLEN:
            self._drop(key)
            st.inc("fragdropped")
            return None
        q.pieces.append((off, data))
        q.nbytes += len(data)
        if q.end is None or q.first is None:
            return None
        buf = bytearray(q.end)
        have = bytearray(q.end)     # coverage, one flag byte per data byte (bounded: 64 KiB)
        for o, d in q.pieces:       # oldest first; later copies do not overwrite
            d = d[:max(0, q.end - o)]
            for i in range(len(d)):
                if not have[o + i]:
                    have[o + i] = 1
                    buf[o + i] = d[i]
        if 0 in have:
            return None
        self._drop(key)
        st.inc("reassembled")
        whole = q.first
        whole.payload = bytes(buf)
        whole.flags &= ~0x2000
        whole.frag = 0
        return whole

    def _drop(self, key):
        q = self.queues.pop(key, None)
        if q is not None:
            q.timer.stop()

    def _timeout(self, key):
        q = self.queues.pop(key, None)
        if q is not None:
            self.inet.ipstat.inc("fragtimeout")
            self.inet.ipstat.inc("fragdropped", len(q.pieces))
