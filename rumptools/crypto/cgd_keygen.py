"""cgdconfig's key generation and verification (specs/cgd.md sections 6-7).

derive_key() turns a Params into the raw cgd key: the XOR of what every keygen
statement yields (PBKDF2-HMAC-SHA1, NetBSD's legacy PBKDF2, Argon2id, a stored
key, random bytes or a shell command's output), each optionally expanded with
HKDF-SHA256 when it is `shared`.  calibrate_iterations() and generate_params()
back `cgdconfig -g`; verify() checks the decrypted start of a cgd the way
verify_method asks.  Light to import: hashlib/hmac only; `cryptography` is
loaded for Argon2id alone.

The legacy "pkcs5_pbkdf2" numbers its output blocks from 0 where RFC 2898
numbers them from 1.  So its block k (k >= 1) IS standard PBKDF2's block k:
everything after the first 20 bytes comes from one hashlib.pbkdf2_hmac call
(OpenSSL speed).  Only block 0, whose chain starts from HMAC(P, salt||0000),
has no standard counterpart; it runs as a Python loop over precomputed inner
and outer SHA-1 states (about 1.5 us an iteration, ~1.5 s for 10^6).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import time
from typing import Callable

from rumptools.formats import ffs_superblock
from rumptools.formats.cgdparams import (DEFAULT_KEYLEN, IVMETHODS, KEYLENGTHS,
                                         VERIFY_METHODS, KeyGen, Params,
                                         check_params)


class KeygenError(ValueError):
    """A key that cannot be generated, or a method that cannot be used."""


PassphraseGetter = Callable[[], "str | bytes"]

CALIBRATE_TARGET_US = 1_000_000   # the tutorial's "about one second"
CALIBRATE_MIN_US = 30_000
CALIBRATE_SALT_BITS = 128

# verify(): how much of the decrypted cgd it may look at.
FFS_SUPERBLOCKS = ffs_superblock.SBLOCKSEARCH
FFS_MAGIC_OFFSET = ffs_superblock.MAGIC_OFFSET
GPT_SECTOR_SIZES = (512, 1024, 2048, 4096)
DISKLABEL_AREA = 8192
VERIFY_READ_BYTES = 256 * 1024 + 1380


# --- PBKDF2 ----------------------------------------------------------------

def pbkdf2_sha1(passphrase: bytes, salt: bytes, iterations: int,
                dklen: int) -> bytes:
    """RFC 2898 PBKDF2 with HMAC-SHA1 (keygen pkcs5_pbkdf2/sha1)."""
    return hashlib.pbkdf2_hmac("sha1", passphrase, salt, iterations, dklen)


def _block0(passphrase: bytes, salt: bytes, iterations: int) -> bytes:
    """F(P, S, c, 0): the one legacy block standard PBKDF2 never computes."""
    if len(passphrase) > 64:
        passphrase = hashlib.sha1(passphrase).digest()
    pad = passphrase.ljust(64, b"\0")
    inner = hashlib.sha1(bytes(b ^ 0x36 for b in pad))
    outer = hashlib.sha1(bytes(b ^ 0x5C for b in pad))
    ic, oc, frombytes = inner.copy, outer.copy, int.from_bytes
    h = ic()
    h.update(salt + b"\0\0\0\0")
    g = oc()
    g.update(h.digest())
    u = g.digest()
    acc = frombytes(u, "big")
    for _ in range(iterations - 1):
        h = ic()
        h.update(u)
        g = oc()
        g.update(h.digest())
        u = g.digest()
        acc ^= frombytes(u, "big")
    return acc.to_bytes(20, "big")


def pbkdf2_legacy(passphrase: bytes, salt: bytes, iterations: int,
                  dklen: int) -> bytes:
    """NetBSD's old "pkcs5_pbkdf2": PBKDF2-HMAC-SHA1 with blocks from 0."""
    if iterations < 1:
        raise KeygenError("pkcs5_pbkdf2: iterations must be positive")
    out = _block0(passphrase, salt, iterations)
    if dklen > 20:
        out += hashlib.pbkdf2_hmac("sha1", passphrase, salt, iterations,
                                   dklen - 20)
    return out[:dklen]


def _hkdf_expand_sha256(prk: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF-Expand with HMAC-SHA256 (no Extract step)."""
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), "sha256").digest()
        out += block
        i += 1
    return out[:length]


# --- keygens ---------------------------------------------------------------

def _passphrase(get: PassphraseGetter | None, method: str) -> bytes:
    if get is None:
        raise KeygenError(f"keygen {method}: needs a passphrase")
    pw = get()
    return pw.encode("utf-8") if isinstance(pw, str) else bytes(pw)


def _shell(cmd: str, nbytes: int) -> bytes:
    """The first nbytes of `cmd`'s output (run by /bin/sh, as popen does)."""
    proc = subprocess.Popen(["/bin/sh", "-c", cmd], stdout=subprocess.PIPE)
    try:
        data = proc.stdout.read(nbytes)
    finally:
        proc.stdout.close()
        proc.wait()
    if len(data) < nbytes:
        raise KeygenError(f"keygen shell_cmd: command gave {len(data)} "
                          f"bytes, need {nbytes}")
    return data


def _argon2id(kg: KeyGen, pw: bytes, nbytes: int) -> bytes:
    if kg.version != 0x13:
        raise KeygenError(f"keygen argon2id: version {kg.version} is not "
                          "supported (only 19)")
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
    try:
        host = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        host = None
    if host and kg.memory * 1024 > host:
        raise KeygenError(f"keygen argon2id: memory {kg.memory} KiB is more "
                          f"than this host has ({host // 1024} KiB)")
    try:
        return Argon2id(salt=kg.salt, length=nbytes, iterations=kg.iterations,
                        lanes=kg.parallelism, memory_cost=kg.memory).derive(pw)
    except (ValueError, OverflowError, MemoryError) as e:
        raise KeygenError(f"keygen argon2id: {e}") from None


def keygen_output(kg: KeyGen, keylen_bits: int,
                  get_passphrase: PassphraseGetter | None = None) -> bytes:
    """What one keygen yields before any `shared` expansion."""
    n = keylen_bits // 8
    m = kg.method
    if m == "pkcs5_pbkdf2/sha1":
        return pbkdf2_sha1(_passphrase(get_passphrase, m), kg.salt,
                           kg.iterations, n)
    if m == "pkcs5_pbkdf2":
        return pbkdf2_legacy(_passphrase(get_passphrase, m), kg.salt,
                             kg.iterations, n)
    if m == "argon2id":
        return _argon2id(kg, _passphrase(get_passphrase, m), n)
    if m == "storedkey":
        if len(kg.key) != n:
            raise KeygenError(f"keygen storedkey: key is {len(kg.key) * 8} "
                              f"bits, keylength is {keylen_bits}")
        return kg.key
    if m in ("randomkey", "urandomkey"):
        return os.urandom(n)
    if m == "shell_cmd":
        return _shell(kg.cmd, n)
    raise KeygenError(f'unknown keygen method "{m}"')


def derive_key(params: Params, get_passphrase: PassphraseGetter | None = None,
               *, shared_cache: dict[str, bytes] | None = None) -> bytes:
    """The cgd key: XOR of all keygens, keylength/8 bytes.

    Keygens with a `shared` name are evaluated once per cache (pass the same
    dict for every cgd of one run); each then gets its own HKDF subkey.
    """
    n = params.keylength // 8
    if not params.keygens:
        raise KeygenError("no keygen")
    key = bytes(n)
    for kg in params.keygens:
        if kg.shared_name is None:
            out = keygen_output(kg, params.keylength, get_passphrase)
        else:
            cache = {} if shared_cache is None else shared_cache
            prk = cache.get(kg.shared_name)
            if prk is None:
                prk = keygen_output(kg, params.keylength, get_passphrase)
                cache[kg.shared_name] = prk
            out = _hkdf_expand_sha256(prk, kg.shared_info or b"", n)
        key = bytes(a ^ b for a, b in zip(key, out))
    return key


# --- cgdconfig -g ----------------------------------------------------------

def _measure_pbkdf2(iterations: int, dklen: int,
                    timer: Callable[[], float] = time.process_time) -> float:
    """CPU microseconds of one PBKDF2 over 64-byte password and salt."""
    buf = bytes(64)
    t0 = timer()
    hashlib.pbkdf2_hmac("sha1", buf, buf, iterations, dklen)
    return (timer() - t0) * 1e6


def calibrate_iterations(keylen_bits: int,
                         target_us: float = CALIBRATE_TARGET_US, *,
                         measure: Callable[[int], float] | None = None,
                         min_us: float = CALIBRATE_MIN_US,
                         attempts: int = 5, tolerance: float = 0.05,
                         repeat: int = 2) -> int:
    """PBKDF2-SHA1 iterations taking about `target_us` of CPU time.

    As cgdconfig: double from 1 until a run takes more than `min_us`, scale
    to the target, re-time, accept within `tolerance` (5 %), at most
    `attempts` times.  Each timing is the best of `repeat` runs, as CPU time
    on a shared machine jitters by 10 % or more.  `measure(c)` returns the
    microseconds of c iterations and replaces the real timing (for tests).
    """
    dklen = max(1, keylen_bits // 8)
    if measure is None:
        def measure(c: int) -> float:
            return min(_measure_pbkdf2(c, dklen) for _ in range(repeat))
    c, t = 1, measure(1)
    while t <= min_us:
        c *= 2
        t = measure(c)
    estimates = []
    for _ in range(attempts):
        c = max(1, int(c * target_us / t))
        t = measure(c)
        if abs(t - target_us) <= target_us * tolerance:
            return c
        estimates.append(max(1, int(c * target_us / t)))
    # A busy machine never lands within 5 %: where NetBSD gives up, settle on
    # the median estimate, unless the timings disagree beyond reason.
    estimates.sort()
    if estimates[-1] > 2 * estimates[0]:
        raise KeygenError("could not calibrate pkcs5_pbkdf2")
    return estimates[len(estimates) // 2]


def generate_params(alg: str, keylen: int | None = None,
                    ivmethod: str | None = None,
                    keygen: str = "pkcs5_pbkdf2/sha1", verify: str = "none",
                    blocksize: int | None = None, *,
                    iterations: int | None = None,
                    target_us: float = CALIBRATE_TARGET_US) -> Params:
    """Fresh parameters as `cgdconfig -g alg [keylen]` makes them."""
    if alg not in KEYLENGTHS:
        raise KeygenError(f'unknown algorithm "{alg}"')
    keylen = DEFAULT_KEYLEN[alg] if keylen is None else keylen
    if keylen not in KEYLENGTHS[alg]:
        raise KeygenError(f'keylength {keylen} is not valid for algorithm '
                          f'"{alg}"')
    ivmethod = ivmethod or "encblkno1"
    if ivmethod not in IVMETHODS:
        raise KeygenError(f'unknown iv-method "{ivmethod}"')
    if verify not in VERIFY_METHODS:
        raise KeygenError("params_setverify_method: unrecognized verify "
                          f'method "{verify}"')
    if keygen in ("pkcs5_pbkdf2/sha1", "pkcs5_pbkdf2"):
        if iterations is None:
            iterations = calibrate_iterations(keylen, target_us)
        kg = KeyGen(keygen, iterations=iterations,
                    salt=os.urandom(CALIBRATE_SALT_BITS // 8))
    elif keygen in ("randomkey", "urandomkey"):
        kg = KeyGen(keygen)
    elif keygen == "storedkey":
        kg = KeyGen(keygen, key=os.urandom(keylen // 8))
    else:
        raise KeygenError(f'keygen {keygen}: cannot generate parameters')
    p = Params(algorithm=alg, ivmethod=ivmethod, keylength=keylen,
               blocksize=blocksize, verify_method=verify, keygens=[kg])
    try:
        check_params(p)
    except ValueError as e:
        raise KeygenError(str(e).removeprefix("line 0: ")) from None
    return p


# --- verify_method ---------------------------------------------------------

def _le32(b: bytes, off: int) -> int:
    return int.from_bytes(b[off:off + 4], "little")


def verify(method: str, first_bytes: bytes, secsize: int = 512) -> bool:
    """Does the decrypted start of a cgd look as `method` expects?

    `first_bytes` should be VERIFY_READ_BYTES long (or the whole cgd if
    smaller).  "re-enter" is not a property of the data: cgdconfig compares
    two derived keys instead, so it raises here.
    """
    data = bytes(first_bytes)
    if method == "none":
        return True
    if method == "mbr":
        return data[510:512] == b"\x55\xaa"
    if method == "gpt":
        for ss in sorted({secsize, *GPT_SECTOR_SIZES}):
            if (data[ss:ss + 8] == b"EFI PART" and len(data) >= ss + 16
                    and _le32(data, ss + 8) == 0x00010000
                    and _le32(data, ss + 12) == 92):
                return True
        return False
    if method == "ffs":
        # as NetBSD's cgdconfig: a UFS1 or UFS2 magic, either byte order,
        # at one of the places the kernel looks for a superblock
        return any(ffs_superblock.magic_endian(data, off + FFS_MAGIC_OFFSET)
                   for off in FFS_SUPERBLOCKS)
    if method == "disklabel":
        from rumptools.formats.disklabel import find_label
        return find_label(data[:DISKLABEL_AREA]) is not None
    if method == "re-enter":
        raise KeygenError("re-enter: compare the keys of two passphrases, "
                          "not the data")
    raise KeygenError("params_setverify_method: unrecognized verify method "
                      f'"{method}"')
