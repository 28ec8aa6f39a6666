"""cgd(4): the cryptographic disk driver, layered over any disk of the kernel.

A configured unit encrypts every sector written through it and decrypts
every sector read, whole requests at a time (rumptools.crypto.cgd_ciphers).
While configured it holds its disk exclusively (others get EBUSY), so the
ciphertext and plaintext views never mix. Block nodes are cached in the
buffer cache (flushed by sync, unconfigure and halt); raw nodes are not.
Minor numbers: unit * 16 + partition.

Locking: raw transfers encrypt or decrypt and do the backing disk's host I/O
without the kernel lock (kern/biglock.py), so a bs=32m write does not hold up
other clients. While one runs the unit is busy: unconfiguring it is EBUSY,
so the unit and its disk are still the same when the lock is taken back.
"""
from ...abi import cgdioctl as ci
from ...abi import errnos
from ...abi.errnos import RumpError
from ..kern.biglock import unlocked
from .disk import Disk, block_read, block_write, raw_read, raw_write
from .partition import Window, partition_extent

BMAJOR, CMAJOR = 21, 164
MAXPART = 16
PIECE = 1 << 20             # bytes per cipher call in large requests (a multiple of any sector size)


class CgdDisk(Disk):
    """The plaintext view of a backing disk."""

    def __init__(self, name, under, cipher):
        super().__init__(name, under.nsectors, under.secsize)
        self.under = under
        self.cipher = cipher

    def read_sectors(self, sector, count):
        data = self.under.read_sectors(sector, count)
        if len(data) <= PIECE:
            return self.cipher.decrypt(data, sector, self.secsize)
        return bytes(self._pieces(self.cipher.decrypt_into, data, sector))

    def write_sectors(self, sector, data):
        if len(data) <= PIECE:
            self.under.write_sectors(sector, self.cipher.encrypt(bytes(data), sector, self.secsize))
        else:
            self.under.write_sectors(sector, self._pieces(self.cipher.encrypt_into, data, sector))

    def _pieces(self, into, data, sector):
        """A large request a PIECE at a time: each cipher call holds the GIL only briefly,
        so other clients' calls run between pieces."""
        out = bytearray(len(data))
        src, dst, ss = memoryview(data), memoryview(out), self.secsize
        for off in range(0, len(data), PIECE):
            into(src[off:off + PIECE], sector + off // ss, dst[off:off + PIECE], ss)
        return out

    def flush_disk(self):
        self.under.flush_disk()


class CgdUnit:
    def __init__(self, number):
        self.number = number
        self.disk = None            # CgdDisk when configured
        self.path = ""
        self.alg = ""
        self.ivmethod = ""
        self.keylen = 0
        self.blocksize = 0
        self.opens = 0
        self.busy = 0               # raw transfers running without the kernel lock
        self.windows = {}           # partition index -> Window (stable cache identity)

    def window(self, index):
        w = self.windows.get(index)
        if w is None:
            start, n = partition_extent(self.disk, index)
            w = self.windows[index] = Window(self.disk, "cgd%d%s" % (self.number, chr(97 + index)), start, n)
        return w


class CgdDriver:
    name = "cgd"

    def __init__(self, kernel):
        self.kernel = kernel
        self.units = [CgdUnit(i) for i in range(ci.NCGD)]

    def _unit(self, minor):
        u = minor // MAXPART
        if not 0 <= u < len(self.units):
            raise RumpError(errnos.ENXIO)
        return self.units[u], minor % MAXPART

    def _cache(self):
        return self.kernel.slot("bufcache")

    def _window(self, minor):
        unit, part = self._unit(minor)
        if unit.disk is None:
            raise RumpError(errnos.ENXIO)
        return unit.window(part)

    # -- device switch entry points -------------------------------------------------
    def open(self, minor, flags, raw):
        unit, part = self._unit(minor)
        if unit.disk is not None:
            unit.window(part)           # ENXIO for a partition that does not exist
        unit.opens += 1

    def close(self, minor, flags, raw):
        unit, _ = self._unit(minor)
        unit.opens = max(0, unit.opens - 1)

    def read(self, minor, offset, n, raw):
        w = self._window(minor)
        if not raw:
            return block_read(w, self._cache(), offset, n)
        return self._busy(minor, lambda: raw_read(w, self._cache(), offset, n, self._unlocked))

    def write(self, minor, offset, data, raw):
        w = self._window(minor)
        if not raw:
            return block_write(w, self._cache(), offset, data)
        return self._busy(minor, lambda: raw_write(w, self._cache(), offset, data, self._unlocked))

    def _unlocked(self):
        return unlocked(self.kernel.lock)

    def _busy(self, minor, transfer):
        unit, _ = self._unit(minor)
        unit.busy += 1
        try:
            return transfer()
        finally:
            unit.busy -= 1

    def fsync(self, minor):
        unit, _ = self._unit(minor)
        self.flush_unit(unit)

    def size(self, minor):
        return self._window(minor).size

    def ioctl(self, minor, cmd, arg, raw):
        unit, _ = self._unit(minor)
        if cmd == ci.CGDIOCSET:
            return self.configure(unit, arg)
        if cmd == ci.CGDIOCCLR:
            return self.unconfigure(unit)
        if cmd == ci.CGDIOCGET:
            if type(arg) is not int or not 0 <= arg < len(self.units):
                raise RumpError(errnos.ENXIO)
            u = self.units[arg]
            if u.disk is None:
                return (u.number, "", "", 0, 0, 0)
            mode = ci.MODE_ENCBLKNO1 if u.ivmethod == "encblkno1" else ci.MODE_ENCBLKNO8
            return (u.number, u.path, u.alg, u.blocksize, mode, u.keylen)
        raise RumpError(errnos.ENOTTY)

    # -- configuration ----------------------------------------------------------------
    def configure(self, unit, arg):
        if unit.disk is not None:
            raise RumpError(errnos.EBUSY)
        if type(arg) is not tuple or len(arg) != 6:
            raise RumpError(errnos.EINVAL)
        path, alg, ivmethod, keylen, key, blocksize = arg
        if not (type(path) is str and type(alg) is str and type(ivmethod) is str
                and type(keylen) is int and type(key) is bytes and type(blocksize) is int):
            raise RumpError(errnos.EINVAL)
        if keylen <= 0 or keylen % 8 or len(key) != keylen // 8:
            raise RumpError(errnos.EINVAL)
        from ...crypto.cgd_ciphers import CgdError, make_cipher
        try:
            cipher = make_cipher(alg, key, ivmethod, None if blocksize < 0 else blocksize)
        except CgdError:
            raise RumpError(errnos.EINVAL) from None
        from ..kern.sleepq import curlwp
        lwp = curlwp()
        vp = self.kernel.slot("vfs").lookup(lwp.proc if lwp else None, path)
        under = getattr(vp, "disk", None)
        if under is None:
            raise RumpError(errnos.ENOTBLK)
        under.claim(unit)
        self._cache().forget(under)              # no stale ciphertext blocks around
        unit.disk = CgdDisk("cgd%d" % unit.number, under, cipher)
        unit.path, unit.alg, unit.ivmethod = path, alg, ivmethod
        unit.keylen = keylen
        unit.blocksize = cipher.blocksize
        unit.windows = {}
        return 0

    def unconfigure(self, unit):
        if unit.disk is None:
            raise RumpError(errnos.ENXIO)
        if unit.opens > 1 or unit.busy:
            raise RumpError(errnos.EBUSY)
        self.flush_unit(unit)
        for w in unit.windows.values():
            self._cache().forget(w)
        unit.disk.under.release(unit)
        unit.disk = None
        unit.windows = {}
        unit.path = unit.alg = unit.ivmethod = ""
        unit.keylen = unit.blocksize = 0
        return 0

    def flush_unit(self, unit):
        if unit.disk is None:
            return
        cache = self._cache()
        for w in unit.windows.values():
            cache.flush(w)
        unit.disk.flush_disk()

    def sync(self):
        for unit in self.units:
            self.flush_unit(unit)

    def shutdown(self):
        """At halt: write everything back; units stay as they are (the process ends)."""
        self.sync()
