"""FFS cylinder group blocks: header fields, the inode/free/cluster bitmaps and
their offsets, and CGSIZE (specs/ffs.md section 3).

A CG wraps the cgsize bytes of one group as a bytearray; fields are read and
written in place (either byte order).  Bitmaps are LSB first; in the free map
and the cluster map a set bit means free.  Pure: no I/O.
"""
import struct

from .ffs_struct import Fields, Record

CG_MAGIC = 0x00090255
CG_HEADER = 168              # where the maps begin
SIZEOF_CG = 176              # sizeof(struct cg) on amd64

_SPEC = [
    ("magic", 4, "i"), ("old_time", 8, "i"), ("cgx", 12, "I"),
    ("old_ncyl", 16, "h"), ("old_niblk", 18, "h"), ("ndblk", 20, "I"),
    ("cs", 24, "i", 4), ("rotor", 40, "I"), ("frotor", 44, "I"), ("irotor", 48, "I"),
    ("frsum", 52, "i", 8), ("old_btotoff", 84, "i"), ("old_boff", 88, "i"),
    ("iusedoff", 92, "I"), ("freeoff", 96, "I"), ("nextfreeoff", 100, "I"),
    ("clustersumoff", 104, "I"), ("clusteroff", 108, "I"), ("nclusterblks", 112, "I"),
    ("niblk", 116, "I"), ("initediblk", 120, "I"), ("time", 136, "q"),
]
FIELDS = Fields(CG_HEADER, _SPEC)


def howmany(a, b):
    return -(-a // b)


def cgsize_bytes(ipg, fpg, frag, old_cpg, contigsumsize):
    """CGSIZE of fs.h (before rounding up to a fragment)."""
    n = SIZEOF_CG + 4 + 6 * old_cpg + howmany(ipg, 8) + howmany(fpg, 8)
    if contigsumsize > 0:
        n += 4 * contigsumsize + howmany(fpg // frag, 8)
    return n


def map_offsets(ufs, ipg, fpg, frag, contigsumsize, old_cpg=1):
    """Dict of the map offsets newfs gives a group: iused, free, clustersum,
    cluster, nextfree (and UFS1 btot/boff)."""
    o = {}
    if ufs == 1:
        o["btot"] = CG_HEADER
        o["boff"] = CG_HEADER + 4 * old_cpg
        o["iused"] = o["boff"] + 2 * old_cpg
    else:
        o["btot"] = o["boff"] = 0
        o["iused"] = CG_HEADER
    o["free"] = o["iused"] + howmany(ipg, 8)
    if contigsumsize > 0:
        cs = o["free"] + howmany(fpg, 8) - 4
        o["clustersum"] = (cs + 3) & ~3
        o["cluster"] = o["clustersum"] + 4 * (contigsumsize + 1)
        o["nextfree"] = o["cluster"] + howmany(fpg // frag, 8)
    else:
        o["clustersum"] = o["cluster"] = 0
        o["nextfree"] = o["free"] + howmany(fpg, 8)
    return o


class CGError(ValueError):
    pass


class CG(Record):
    """One cylinder group block.  self.buf is the whole block (cgsize bytes)."""
    FIELDS = FIELDS

    def __init__(self, raw, endian="<"):
        super().__init__(raw, endian)
        self.buf = bytearray(raw)

    def pack(self):
        head = super().pack()
        self.buf[:CG_HEADER] = head
        return bytes(self.buf)

    def check(self, sb, c):
        """None if the header is sane for group c of sb, else the reason."""
        if self.magic != CG_MAGIC:
            return "bad magic number"
        if self.cgx != c:
            return "bad cgx %d" % self.cgx
        size = len(self.buf)
        for name in ("iusedoff", "freeoff"):
            if not CG_HEADER <= getattr(self, name) < size:
                return "bad %s" % name
        if self.iusedoff + howmany(sb.ipg, 8) > size or \
                self.freeoff + howmany(sb.fpg, 8) > size:
            return "maps overrun the group"
        if sb.contigsumsize > 0 and (
                self.clustersumoff + 4 * (sb.contigsumsize + 1) > size or
                self.clusteroff + howmany(sb.fpg // sb.frag, 8) > size):
            return "cluster maps overrun the group"
        if self.ndblk > sb.fpg:
            return "bad ndblk"
        return None

    # ---- bit helpers (absolute byte offsets into self.buf)
    def _get(self, base, i):
        return (self.buf[base + (i >> 3)] >> (i & 7)) & 1

    def _set(self, base, i, v):
        if v:
            self.buf[base + (i >> 3)] |= 1 << (i & 7)
        else:
            self.buf[base + (i >> 3)] &= ~(1 << (i & 7)) & 0xff

    def inode_used(self, i):
        return self._get(self.iusedoff, i)

    def set_inode_used(self, i, v=True):
        self._set(self.iusedoff, i, v)

    def frag_free(self, f):
        return self._get(self.freeoff, f)

    def set_frag_free(self, f, v=True):
        self._set(self.freeoff, f, v)

    def block_free(self, frag, b):
        """Is block b (frags b*frag .. b*frag+frag-1) wholly free?"""
        f = b * frag
        return all(self._get(self.freeoff, f + k) for k in range(frag))

    def set_cluster_free(self, b, v=True):
        if self.clusteroff:
            self._set(self.clusteroff, b, v)

    def map_bytes(self, which, nbits):
        base = {"iused": self.iusedoff, "free": self.freeoff,
                "cluster": self.clusteroff}[which]
        return bytes(self.buf[base:base + howmany(nbits, 8)])

    # clustersum[0] is never used and, as newfs lays groups out, shares its
    # bytes with the end of the free map: only slots 1.. are read or written.
    def clustersum(self, n):
        """Slots 1..n-1 (index 0 of the result is reported as 0)."""
        return [0] + list(struct.unpack_from(self.endian + "%di" % (n - 1), self.buf,
                                             self.clustersumoff + 4))

    def set_clustersum(self, values):
        struct.pack_into(self.endian + "%di" % (len(values) - 1), self.buf,
                         self.clustersumoff + 4, *values[1:])

    def set_old_btot(self, nblocks):
        if self.old_btotoff:
            struct.pack_into(self.endian + "i", self.buf, self.old_btotoff, nblocks)
            struct.pack_into(self.endian + "h", self.buf, self.old_boff, nblocks)


def pack_bits(bits):
    """LSB-first bitmap bytes of a sequence of 0/1 values (a group's inode,
    free and cluster maps)."""
    n = len(bits)
    if not n:
        return b""
    text = bytes(bits).translate(_BITCHARS)[::-1]
    return int(text, 2).to_bytes((n + 7) // 8, "little")


_BITCHARS = bytes([0x30, 0x31]) + bytes(254)


def free_runs(bits):
    """(start, length) of each run of 1s in an iterable of 0/1."""
    runs, start, n = [], None, 0
    for i, b in enumerate(bits):
        if b and start is None:
            start = i
        elif not b and start is not None:
            runs.append((start, i - start))
            start = None
        n = i + 1
    if start is not None:
        runs.append((start, n - start))
    return runs


def _count_fragments(bits, frsum):
    """Adds each run of free fragments in bits (one block or less) to frsum by
    its length; returns how many fragments were free."""
    n = 0
    for _, run in free_runs(bits):
        frsum[run] += 1
        n += run
    return n


def summarize(free_bits, frag, ndblk, contigsumsize):
    """(nbfree, nffree, frsum[8], clusterbits, clustersum) of a free map.

    free_bits: list of 0/1 per fragment of the group, length >= ndblk.
    """
    nbfree = nffree = 0
    frsum = [0] * 8
    nblk = ndblk // frag
    cluster = [0] * nblk
    for b in range(nblk):
        f0 = b * frag
        chunk = free_bits[f0:f0 + frag]
        if all(chunk):
            nbfree += 1
            cluster[b] = 1
            continue
        nffree += _count_fragments(chunk, frsum)
    # a trailing partial block: its free frags count as fragments
    nffree += _count_fragments(free_bits[nblk * frag:ndblk], frsum)
    csum = [0] * (contigsumsize + 1) if contigsumsize > 0 else []
    if contigsumsize > 0:
        for _, n in free_runs(cluster):
            csum[min(n, contigsumsize)] += 1
    return nbfree, nffree, frsum, cluster, csum
