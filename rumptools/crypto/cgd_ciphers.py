"""The sector ciphers of cgd(4): aes-cbc, aes-xts, 3des-cbc and blowfish-cbc.

A cgd encrypts every sector of its backing disk on its own: CBC ciphers with an
IV derived from the sector number (IV methods encblkno1 and encblkno8, see
specs/cgd.md section 3), aes-xts with the sector number as the IEEE 1619 tweak.

`make_cipher()` returns an object whose encrypt()/decrypt() take a WHOLE request
of many sectors and transform it with a handful of calls into OpenSSL, never one
cipher context per sector:

* CBC decryption is one ECB-decrypt of the whole buffer, then an XOR with the
  ciphertext shifted by one block (the IV in front of each sector), in numpy.
* CBC encryption is serial inside a sector, so it runs lane-wise across
  sectors: step j ECB-encrypts block j of every sector in one call.
* IVs are one ECB call (encblkno1) or eight chained ones (encblkno8).
* XTS computes all tweaks with one ECB call under K2, multiplies them by x^j in
  GF(2^128) in numpy, and whitens around one ECB call under K1.

Each object holds its ECB contexts for its whole life and a lock, so one object
may be shared by threads (calls are serialised).
"""

from __future__ import annotations

import threading

import numpy as np
from cryptography.hazmat.decrepit.ciphers import algorithms as decrepit
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from rumptools.formats.cgdparams import (ALGORITHMS, BLOCK_BITS,
                                         DEFAULT_KEYLEN, IVMETHODS, KEYLENGTHS)


class CgdError(ValueError):
    """A cipher, IV method, key or request that cgd does not accept."""


# The tables (key lengths in bits, cgdconfig's defaults, block sizes in bits,
# IV methods) are cgdconfig's, kept with the params file code.
__all__ = ["ALGORITHMS", "BLOCK_BITS", "DEFAULT_KEYLEN", "IVMETHODS",
           "KEYLENGTHS", "CgdError", "SectorCipher", "make_cipher"]

_LE64 = np.dtype("<u8")
_NO_BLOCKSIZE = (None, -1, (1 << 64) - 1)   # "cipher default", as (size_t)-1


class _Ecb:
    """ECB encrypt/decrypt under one key, written into caller buffers.

    OpenSSL's update_into wants bsize-1 bytes of slack after the output, so
    every `out` given here is a flat uint8 array at least that much longer.
    """

    def __init__(self, algo, bsize: int):
        c = Cipher(algo, modes.ECB())
        self._enc = c.encryptor()
        self._dec = c.decryptor()
        self.bsize = bsize

    def encrypt(self, src: np.ndarray, out: np.ndarray) -> np.ndarray:
        return self._run(self._enc, src, out)

    def decrypt(self, src: np.ndarray, out: np.ndarray) -> np.ndarray:
        return self._run(self._dec, src, out)

    @staticmethod
    def _run(ctx, src: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Transform contiguous `src`; the result has src's shape, in `out`."""
        n = src.nbytes
        ctx.update_into(src.reshape(-1).view(np.uint8), out)
        return out[:n].view(_LE64).reshape(src.shape)


def _sector_numbers(first: int, count: int, words: int) -> np.ndarray:
    """LE64(sector) padded with zeros to `words` 64-bit words, one row each."""
    if first < 0 or first + count > 1 << 64:
        raise CgdError(f"sector number out of range: {first}")
    s = np.zeros((count, words), _LE64)
    s[:, 0] = np.arange(first, first + count, dtype=np.uint64)
    return s


def _times_x(lo, hi, m: int, out_lo, out_hi, sp, tm) -> None:
    """(out_lo, out_hi) = (lo, hi) * x^m in XTS's GF(2^128), 1 <= m <= 56.

    A shift by m bits; the m bits pushed out of the top fold back in as
    overflow * (x^7 + x^2 + x + 1).  Safe in place (out may be the input).
    """
    u = np.uint64
    np.right_shift(hi, u(64 - m), out=sp)
    np.right_shift(lo, u(64 - m), out=tm)
    np.left_shift(hi, u(m), out=out_hi)
    out_hi |= tm
    np.left_shift(lo, u(m), out=out_lo)
    out_lo ^= sp
    for k in (1, 2, 7):
        np.left_shift(sp, u(k), out=tm)
        out_lo ^= tm


class SectorCipher:
    """Request checking, locking and scratch space; subclasses transform.

    encrypt()/decrypt() return new bytes; encrypt_into()/decrypt_into() write
    into a caller's writable buffer of the same length (no allocation on the
    hot path: scratch arrays are kept per object and reused).
    """

    alg: str
    blocksize: int          # cipher block in bytes

    def __init__(self, alg: str, key: bytes, ivmethod: str):
        self.alg = alg
        self.keylen = len(key) * 8
        self.ivmethod = ivmethod
        self._lock = threading.Lock()
        self._scratch: dict[str, np.ndarray] = {}

    def _buf(self, name: str, nbytes: int) -> np.ndarray:
        """A reusable flat uint8 scratch array of `nbytes` (grown on need)."""
        b = self._scratch.get(name)
        if b is None or b.size < nbytes:
            b = self._scratch[name] = np.empty(nbytes, np.uint8)
        return b[:nbytes]

    def _blocks(self, buf: np.ndarray, secsize: int) -> np.ndarray:
        if secsize <= 0 or secsize % self.blocksize:
            raise CgdError(f"{self.alg}: sector size {secsize} is not a "
                           f"multiple of the {self.blocksize}-byte block")
        if buf.size % secsize:
            raise CgdError(f"{self.alg}: request of {buf.size} bytes is not "
                           f"a whole number of {secsize}-byte sectors")
        return buf.view(_LE64).reshape(buf.size // secsize,
                                       secsize // self.blocksize,
                                       self.blocksize // 8)

    def _run(self, fn, data, first: int, secsize: int, out) -> None:
        src = self._blocks(np.frombuffer(data, np.uint8), secsize)
        dst = np.frombuffer(out, np.uint8)
        if dst.size != src.nbytes or not dst.flags.writeable:
            raise CgdError(f"{self.alg}: output buffer must be writable and "
                           f"{src.nbytes} bytes long")
        if src.size:
            with self._lock:
                fn(src, first, self._blocks(dst, secsize))

    def encrypt_into(self, data, first_sector: int, out,
                     secsize: int = 512) -> None:
        self._run(self._encrypt, data, first_sector, secsize, out)

    def decrypt_into(self, data, first_sector: int, out,
                     secsize: int = 512) -> None:
        self._run(self._decrypt, data, first_sector, secsize, out)

    def encrypt(self, data, first_sector: int, secsize: int = 512) -> bytes:
        return self._to_bytes(self._encrypt, data, first_sector, secsize)

    def decrypt(self, data, first_sector: int, secsize: int = 512) -> bytes:
        return self._to_bytes(self._decrypt, data, first_sector, secsize)

    def _to_bytes(self, fn, data, first: int, secsize: int) -> bytes:
        src = self._blocks(np.frombuffer(data, np.uint8), secsize)
        if not src.size:
            return b""
        with self._lock:
            dst = self._buf("out", src.nbytes)[:src.nbytes]
            fn(src, first, self._blocks(dst, secsize))
            return dst.tobytes()


class _CbcCipher(SectorCipher):
    """CBC per sector with an IV made from the sector number."""

    def __init__(self, alg, key, ivmethod, algo, bsize):
        super().__init__(alg, key, ivmethod)
        self.blocksize = bsize
        self._ecb = _Ecb(algo, bsize)
        self._iv_rounds = 1 if ivmethod == "encblkno1" else 8

    def _ivs(self, first: int, count: int) -> np.ndarray:
        iv = _sector_numbers(first, count, self.blocksize // 8)
        out = self._buf("iv", iv.nbytes + self.blocksize)
        for _ in range(self._iv_rounds):
            iv = self._ecb.encrypt(iv, out).copy()
        return iv

    def _encrypt(self, p: np.ndarray, first: int, dst: np.ndarray) -> None:
        nsec, nblk, words = p.shape
        lane = nsec * self.blocksize
        whole = np.dtype(f"V{self.blocksize}")    # one cipher block per item
        # Lane-major copies (block j of every sector side by side) make each
        # step below contiguous; moving whole blocks keeps the transposes cheap.
        pt = self._buf("pt", p.nbytes).view(whole)[:nsec * nblk]
        pt = pt.reshape(nblk, nsec)
        np.copyto(pt, p.reshape(nsec, nblk * words).view(whole).T)
        pt = pt.view(_LE64).reshape(nblk, nsec, words)
        flat = self._buf("ct", p.nbytes + self.blocksize)   # + slack
        ct = flat[:p.nbytes].view(_LE64).reshape(nblk, nsec, words)
        x = self._buf("x", lane).view(_LE64).reshape(nsec, words)
        prev = self._ivs(first, nsec)
        for j in range(nblk):
            np.bitwise_xor(pt[j], prev, out=x)
            self._ecb.encrypt(x, flat[j * lane:])
            prev = ct[j]
        np.copyto(dst.reshape(nsec, nblk * words).view(whole),
                  ct.reshape(nblk, nsec * words).view(whole).T)

    def _decrypt(self, c: np.ndarray, first: int, dst: np.ndarray) -> None:
        raw = self._ecb.decrypt(np.ascontiguousarray(c),
                                self._buf("raw", c.nbytes + self.blocksize))
        # XOR every block with the ciphertext block before it in the buffer,
        # then swap the wrongly used previous-sector block for the IV.  The
        # fix-up is taken before dst is written: dst may be c itself.
        blk = self.blocksize // 8
        fix = self._ivs(first, c.shape[0])
        fix[1:] ^= c[:-1, -1]
        out, raw = dst.reshape(-1), raw.reshape(-1)
        np.bitwise_xor(raw[blk:], c.reshape(-1)[:-blk], out=out[blk:])
        out[:blk] = raw[:blk]
        dst[:, 0] ^= fix


class _XtsCipher(SectorCipher):
    """AES-XTS (IEEE 1619) with the sector number as data unit number."""

    blocksize = 16

    def __init__(self, alg, key, ivmethod):
        super().__init__(alg, key, ivmethod)
        half = len(key) // 2
        self._data = _Ecb(algorithms.AES(key[:half]), 16)
        self._tweak = _Ecb(algorithms.AES(key[half:]), 16)

    def _tweaks(self, first: int, nsec: int, nblk: int) -> np.ndarray:
        """T * x^j for every sector and block j, as (lo, hi) LE64 words.

        Computed lane-major in two planes (low and high 64 bits, block j of
        every sector side by side) by doubling: blocks [n, 2n) are blocks
        [0, n) times x^n.  Then interleaved and transposed to sector-major.
        """
        cells = nsec * nblk
        t = self._tweak.encrypt(_sector_numbers(first, nsec, 2),
                                self._buf("t", nsec * 16 + 16))
        plane = [self._buf(n, cells * 8).view(_LE64)[:cells].reshape(nblk, nsec)
                 for n in ("lo", "hi", "spill", "tmp")]
        lo, hi, sp, tm = plane
        lo[0], hi[0] = t[:, 0], t[:, 1]
        done = 1
        while done < nblk:
            n = min(done, nblk - done)
            src, dst = slice(0, n), slice(done, done + n)
            if done <= 56:
                _times_x(lo[src], hi[src], done, lo[dst], hi[dst],
                         sp[src], tm[src])
            else:
                lo[dst], hi[dst] = lo[src], hi[src]
                left = done
                while left:
                    m = min(left, 56)
                    _times_x(lo[dst], hi[dst], m, lo[dst], hi[dst],
                             sp[src], tm[src])
                    left -= m
            done += n
        lane = self._buf("lane", cells * 16).view(_LE64)[:cells * 2]
        lane = lane.reshape(nblk, nsec, 2)
        lane[:, :, 0], lane[:, :, 1] = lo, hi
        whole = np.dtype("V16")
        out = self._buf("tw", cells * 16).view(_LE64)[:cells * 2]
        out = out.reshape(nsec, nblk, 2)
        np.copyto(out.reshape(nsec, nblk * 2).view(whole),
                  lane.reshape(nblk, nsec * 2).view(whole).T)
        return out

    def _encrypt(self, p: np.ndarray, first: int, dst: np.ndarray) -> None:
        self._whiten(p, first, dst, self._data.encrypt)

    def _decrypt(self, c: np.ndarray, first: int, dst: np.ndarray) -> None:
        self._whiten(c, first, dst, self._data.decrypt)

    def _whiten(self, d: np.ndarray, first: int, dst: np.ndarray, ecb) -> None:
        tw = self._tweaks(first, d.shape[0], d.shape[1])
        x = self._buf("x", d.nbytes).view(_LE64)[:tw.size].reshape(tw.shape)
        np.bitwise_xor(d, tw, out=x)
        y = ecb(x, self._buf("y", d.nbytes + 16))
        np.bitwise_xor(y, tw, out=dst)


def _check(alg: str, key: bytes, ivmethod: str, blocksize_bits) -> None:
    if alg not in KEYLENGTHS:
        raise CgdError(f'unknown algorithm "{alg}"')
    if alg == "adiantum":
        raise CgdError("adiantum: not supported")
    if ivmethod not in IVMETHODS:
        raise CgdError(f'unknown iv-method "{ivmethod}"')
    if alg == "aes-xts" and ivmethod != "encblkno1":
        raise CgdError(f'aes-xts: iv-method "{ivmethod}" is not supported, '
                       "use encblkno1")
    bits = len(key) * 8
    if bits not in KEYLENGTHS[alg]:
        raise CgdError(f"{alg}: invalid key length {bits} bits")
    if (blocksize_bits not in _NO_BLOCKSIZE
            and blocksize_bits != BLOCK_BITS[alg]):
        raise CgdError(f"{alg}: invalid block size {blocksize_bits} bits "
                       f"(must be {BLOCK_BITS[alg]})")


def make_cipher(alg: str, key: bytes, ivmethod: str = "encblkno1",
                blocksize_bits: int | None = None) -> SectorCipher:
    """A sector cipher for `alg` under `key` (len(key)*8 bits)."""
    key = bytes(key)
    _check(alg, key, ivmethod, blocksize_bits)
    if alg == "aes-xts":
        return _XtsCipher(alg, key, ivmethod)
    if alg == "aes-cbc":
        algo, bsize = algorithms.AES(key), 16
    elif alg == "3des-cbc":
        algo, bsize = decrepit.TripleDES(key), 8
    else:
        algo, bsize = decrepit.Blowfish(key), 8
    return _CbcCipher(alg, key, ivmethod, algo, bsize)
