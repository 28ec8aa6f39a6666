"""A little helper for FFS's fixed-layout structures: a table of named fields
(offset, struct code, count) over a byte buffer that keeps the bytes it does
not name, so that parse -> pack gives back the same bytes.

Both byte orders: `endian` is "<" (little) or ">" (big).  Pure; no I/O.
"""
import struct


class Fields:
    """Named fields of one structure.  spec: [(name, offset, code[, count])]."""

    def __init__(self, size, spec):
        self.size = size
        self.spec = []
        for item in spec:
            name, off, code = item[:3]
            count = item[3] if len(item) > 3 else 1
            self.spec.append((name, off, code, count))
        self._cache = {}

    def _structs(self, endian):
        got = self._cache.get(endian)
        if got is None:
            got = [(name, off, struct.Struct(endian + (code if n == 1 else "%d%s" % (n, code))), n)
                   for name, off, code, n in self.spec]
            self._cache[endian] = got
        return got

    def unpack(self, buf, endian, obj):
        for name, off, st, n in self._structs(endian):
            vals = st.unpack_from(buf, off)
            if n == 1:
                setattr(obj, name, vals[0])
            else:
                setattr(obj, name, list(vals))

    def pack(self, obj, endian, buf):
        for name, off, st, n in self._structs(endian):
            v = getattr(obj, name)
            if n == 1:
                st.pack_into(buf, off, v)
            else:
                st.pack_into(buf, off, *v)


class Record:
    """Base of a parsed structure: raw bytes kept, fields as attributes."""

    FIELDS = None           # a Fields

    def __init__(self, raw=None, endian="<"):
        size = self.FIELDS.size
        self.endian = endian
        self.raw = bytearray(raw[:size] if raw is not None else bytes(size))
        if len(self.raw) < size:
            self.raw.extend(bytes(size - len(self.raw)))
        self.FIELDS.unpack(self.raw, endian, self)

    def pack(self):
        out = bytearray(self.raw)
        self.FIELDS.pack(self, self.endian, out)
        return bytes(out)
