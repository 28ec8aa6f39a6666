"""cgd ciphers and key generation against known answers and references.

Known answers: NetBSD's tests/dev/cgd vectors (every cipher x key length x IV
method there), IEEE 1619 XTS vectors 4-11, RFC 6070 PBKDF2-SHA1, and the keys
t_cgdconfig.sh expects.  References: one `cryptography` CBC/XTS context per
sector (kept here only), a plain HMAC loop for the legacy PBKDF2.
"""

import base64
import hashlib
import hmac
import importlib.util
import os
import pathlib
import sys
import threading
import types

import pytest
from cryptography.hazmat.decrepit.ciphers import algorithms as decrepit
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from rumptools.crypto import cgd_keygen as kgm
from rumptools.crypto.cgd_ciphers import (DEFAULT_KEYLEN, KEYLENGTHS, CgdError,
                                          make_cipher)
from rumptools.formats.cgdparams import KeyGen, Params, parse_params

_spec = importlib.util.spec_from_file_location(
    "cgd_vectors", pathlib.Path(__file__).parent / "data" / "cgd_vectors.py")
V = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(V)


def hx(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


def key_for(alg: str, bits: int) -> bytes:
    return V.KEYS[f"{alg}-{bits}"]


# --- NetBSD's CBC vectors --------------------------------------------------

CBC_CASES = [(alg, bits, iv, blk) for (alg, bits, iv), secs in V.CBC.items()
             for blk in range(len(secs))]


def test_every_cipher_keylength_ivmethod_is_covered():
    combos = {(alg, bits, iv) for alg, bits, iv, _ in CBC_CASES}
    assert {a for a, _, _ in combos} == {"aes-cbc", "3des-cbc", "blowfish-cbc"}
    assert {(b, iv) for a, b, iv in combos if a == "aes-cbc"} == {
        (k, m) for k in (128, 192, 256) for m in ("encblkno1", "encblkno8")}
    assert {(b, iv) for a, b, iv in combos if a == "blowfish-cbc"} == {
        (k, m) for k in (128, 256, 448) for m in ("encblkno1", "encblkno8")}
    assert len(CBC_CASES) == 56


@pytest.mark.parametrize("alg,bits,ivmethod,blkno", CBC_CASES)
def test_cbc_netbsd_vector(alg, bits, ivmethod, blkno):
    want = hx(V.CBC[alg, bits, ivmethod][blkno])
    assert len(want) == 512
    c = make_cipher(alg, key_for(alg, bits), ivmethod)
    assert c.encrypt(V.CBC_PLAINTEXT, blkno) == want
    assert c.decrypt(want, blkno) == V.CBC_PLAINTEXT


@pytest.mark.parametrize("alg,bits,ivmethod", list(V.CBC))
def test_cbc_netbsd_vectors_as_one_request(alg, bits, ivmethod):
    want = b"".join(hx(s) for s in V.CBC[alg, bits, ivmethod])
    c = make_cipher(alg, key_for(alg, bits), ivmethod,
                    blocksize_bits=64 if alg != "aes-cbc" else 128)
    assert c.encrypt(V.CBC_PLAINTEXT * 4, 0) == want
    assert c.decrypt(want, 0) == V.CBC_PLAINTEXT * 4
    # and from the middle of the disk
    assert c.decrypt(want[1024:], 2) == V.CBC_PLAINTEXT * 2


@pytest.mark.parametrize("alg,bits", [("aes-cbc", 256), ("3des-cbc", 192),
                                      ("blowfish-cbc", 448)])
def test_encblkno_is_an_alias_of_encblkno8(alg, bits):
    c = make_cipher(alg, key_for(alg, bits), "encblkno")
    assert c.encrypt(V.CBC_PLAINTEXT, 3) == hx(V.CBC[alg, bits, "encblkno8"][3])


# --- IEEE 1619 XTS vectors -------------------------------------------------

def _xts_vectors():
    ct = {}
    out = []
    for n, key, blk, pt, c in V.XTS:
        c = hx(c)
        ct[n] = c
        if pt == "count":
            p = V.XTS_COUNT
        elif isinstance(pt, int):
            p = ct[pt]
        else:
            p = hx(pt)
        out.append((n, V.KEYS[key], blk, p, c))
    return out


XTS_VECTORS = _xts_vectors()


@pytest.mark.parametrize("n,key,blkno,ptxt,ctxt", XTS_VECTORS,
                         ids=[f"vector{v[0]}" for v in XTS_VECTORS])
def test_xts_ieee1619_vector(n, key, blkno, ptxt, ctxt):
    x = make_cipher("aes-xts", key)
    assert x.encrypt(ptxt, blkno) == ctxt
    assert x.decrypt(ctxt, blkno) == ptxt


@pytest.mark.parametrize("first", [(4, 5, 6), (7, 8, 9)])
def test_xts_chained_vectors_as_one_request(first):
    vec = {v[0]: v for v in XTS_VECTORS}
    ptxt = b"".join(vec[n][3] for n in first)
    ctxt = b"".join(vec[n][4] for n in first)
    x = make_cipher("aes-xts", V.KEYS["aes-xts-256"])
    assert x.encrypt(ptxt, vec[first[0]][2]) == ctxt
    assert x.decrypt(ctxt, vec[first[0]][2]) == ptxt


# --- per-sector references (one cryptography context per sector) -----------

def _block_algo(alg, key):
    if alg == "aes-cbc":
        return lambda: algorithms.AES(key), 16
    if alg == "3des-cbc":
        return lambda: decrepit.TripleDES(key), 8
    return lambda: decrepit.Blowfish(key), 8


def reference_encrypt(alg, key, ivmethod, data, first, secsize):
    out = []
    for i in range(len(data) // secsize):
        sector = data[i * secsize:(i + 1) * secsize]
        if alg == "aes-xts":
            tweak = (first + i).to_bytes(16, "little")
            ctx = Cipher(algorithms.AES(key), modes.XTS(tweak)).encryptor()
        else:
            algo, bsize = _block_algo(alg, key)
            iv = (first + i).to_bytes(8, "little").ljust(bsize, b"\0")
            ecb = Cipher(algo(), modes.ECB()).encryptor()
            for _ in range(1 if ivmethod == "encblkno1" else 8):
                iv = ecb.update(iv)
            ctx = Cipher(algo(), modes.CBC(iv)).encryptor()
        out.append(ctx.update(sector) + ctx.finalize())
    return b"".join(out)


COMBOS = ([("aes-cbc", k, m) for k in (128, 192, 256)
           for m in ("encblkno1", "encblkno8")]
          + [("aes-xts", k, "encblkno1") for k in (256, 512)]
          + [("3des-cbc", 192, m) for m in ("encblkno1", "encblkno8")]
          + [("blowfish-cbc", k, m) for k in (40, 128, 448)
             for m in ("encblkno1", "encblkno8")])


@pytest.mark.parametrize("alg,bits,ivmethod", COMBOS)
@pytest.mark.parametrize("nsec,secsize,first", [
    (1, 512, 0), (7, 512, 12345), (64, 512, 2**40 - 3), (3, 4096, 99),
    (5, 1024, 2**63)])
def test_batched_equals_per_sector_reference(alg, bits, ivmethod, nsec,
                                             secsize, first):
    key = os.urandom(bits // 8)
    data = os.urandom(nsec * secsize)
    c = make_cipher(alg, key, ivmethod)
    ct = c.encrypt(data, first, secsize)
    assert ct == reference_encrypt(alg, key, ivmethod, data, first, secsize)
    assert c.decrypt(ct, first, secsize) == data


def test_large_request_matches_reference():
    key = os.urandom(32)
    data = os.urandom(1 << 20)
    for alg in ("aes-cbc", "aes-xts"):
        c = make_cipher(alg, key)
        ct = c.encrypt(data, 777)
        assert ct == reference_encrypt(alg, key, "encblkno1", data, 777, 512)
        assert c.decrypt(ct, 777) == data


@settings(max_examples=60, deadline=None)
@given(combo=st.sampled_from(COMBOS), nsec=st.integers(0, 9),
       secsize=st.sampled_from([512, 1024, 2048]),
       first=st.integers(0, 2**64 - 10), seed=st.binary(min_size=8,
                                                        max_size=8))
def test_round_trip(combo, nsec, secsize, first, seed):
    alg, bits, ivmethod = combo
    key = hashlib.shake_256(seed + b"k").digest(bits // 8)
    data = hashlib.shake_256(seed).digest(nsec * secsize) if nsec else b""
    c = make_cipher(alg, key, ivmethod)
    ct = c.encrypt(data, first, secsize)
    assert len(ct) == len(data)
    if data:
        assert ct != data
    assert c.decrypt(ct, first, secsize) == data
    out = bytearray(len(data))
    c.encrypt_into(data, first, out, secsize)
    assert bytes(out) == ct
    c.decrypt_into(out, first, out, secsize)        # in place
    assert bytes(out) == data


def test_sectors_are_independent_and_position_dependent():
    c = make_cipher("aes-cbc", bytes(16))
    zero = bytes(512 * 3)
    ct = c.encrypt(zero, 0)
    # the tutorial's hexdump: every sector differs in its first block only
    # where the IV differs, and identical plaintext sectors never repeat
    assert len({ct[i:i + 512] for i in range(0, len(ct), 512)}) == 3
    assert c.encrypt(zero[:512], 1) == ct[512:1024]


def test_one_cipher_shared_by_threads():
    c = make_cipher("aes-xts", bytes(range(64)))
    data = os.urandom(64 * 512)
    want = c.encrypt(data, 5)
    errors = []

    def work():
        for _ in range(20):
            if c.encrypt(data, 5) != want or c.decrypt(want, 5) != data:
                errors.append("mismatch")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# --- refusals --------------------------------------------------------------

@pytest.mark.parametrize("args,msg", [
    (("aes-gcm", bytes(16)), 'unknown algorithm "aes-gcm"'),
    (("adiantum", bytes(32)), "adiantum: not supported"),
    (("aes-cbc", bytes(16), "encblkno2"), 'unknown iv-method "encblkno2"'),
    (("aes-cbc", bytes(20)), "aes-cbc: invalid key length 160 bits"),
    (("aes-xts", bytes(32 + 16)), "aes-xts: invalid key length 384 bits"),
    (("3des-cbc", bytes(16)), "3des-cbc: invalid key length 128 bits"),
    (("blowfish-cbc", bytes(4)), "blowfish-cbc: invalid key length 32 bits"),
    (("blowfish-cbc", bytes(57)), "invalid key length 456 bits"),
    (("aes-cbc", bytes(16), "encblkno1", 64), "invalid block size 64 bits"),
    (("3des-cbc", bytes(24), "encblkno1", 128), "invalid block size 128"),
    (("aes-xts", bytes(32), "encblkno8"), 'aes-xts: iv-method "encblkno8"'),
])
def test_make_cipher_refuses(args, msg):
    with pytest.raises(CgdError, match=msg) as e:
        make_cipher(*args)
    assert isinstance(e.value, ValueError)


def test_default_blocksize_spellings_accepted():
    for bs in (None, -1, 2**64 - 1, 128):
        make_cipher("aes-cbc", bytes(16), "encblkno1", bs)


def test_tables():
    assert DEFAULT_KEYLEN == {"aes-cbc": 128, "aes-xts": 256, "3des-cbc": 192,
                              "blowfish-cbc": 128, "adiantum": 256}
    assert KEYLENGTHS["blowfish-cbc"][0] == 40
    assert KEYLENGTHS["blowfish-cbc"][-1] == 448
    assert all(k % 8 == 0 for k in KEYLENGTHS["blowfish-cbc"])


@pytest.mark.parametrize("length,secsize", [(500, 512), (513, 512),
                                            (1024, 500), (1024, 0)])
def test_partial_or_misaligned_requests_refused(length, secsize):
    c = make_cipher("aes-cbc", bytes(16))
    with pytest.raises(CgdError):
        c.encrypt(bytes(length), 0, secsize)
    with pytest.raises(CgdError):
        c.decrypt(bytes(length), 0, secsize)


def test_into_wants_matching_writable_buffer():
    c = make_cipher("aes-xts", bytes(32))
    with pytest.raises(CgdError, match="output buffer"):
        c.encrypt_into(bytes(512), 0, bytearray(1024))
    with pytest.raises(CgdError, match="output buffer"):
        c.encrypt_into(bytes(512), 0, bytes(512))


# --- PBKDF2 ----------------------------------------------------------------

@pytest.mark.parametrize("pw,salt,c,dklen,want", V.PBKDF2_SHA1)
def test_pbkdf2_sha1_rfc6070(pw, salt, c, dklen, want):
    assert kgm.pbkdf2_sha1(pw, salt, c, dklen).hex() == want


def legacy_reference(pw, salt, c, dklen):
    """PBKDF2-HMAC-SHA1 with INT(i) counting from 0, written out plainly."""
    out = b""
    i = 0
    while len(out) < dklen:
        u = hmac.new(pw, salt + i.to_bytes(4, "big"), "sha1").digest()
        t = bytearray(u)
        for _ in range(c - 1):
            u = hmac.new(pw, u, "sha1").digest()
            t = bytearray(a ^ b for a, b in zip(t, u))
        out += bytes(t)
        i += 1
    return out[:dklen]


@pytest.mark.parametrize("pw,c,dklen", [
    (b"password", 1, 16), (b"password", 2, 20), (b"pass", 1000, 24),
    (b"x" * 100, 17, 32), (b"", 3, 64), (b"pw", 1, 8)])
def test_pbkdf2_legacy_matches_plain_definition(pw, c, dklen):
    salt = b"saltSALT"
    got = kgm.pbkdf2_legacy(pw, salt, c, dklen)
    assert got == legacy_reference(pw, salt, c, dklen)
    assert got != kgm.pbkdf2_sha1(pw, salt, c, dklen)
    if dklen > 20:      # blocks 1.. are the standard blocks 1..
        assert got[20:] == kgm.pbkdf2_sha1(pw, salt, c, dklen - 20)


def test_pbkdf2_legacy_is_fast_enough():
    import time
    t0 = time.process_time()
    kgm.pbkdf2_legacy(b"secret", bytes(16), 100_000, 32)
    assert time.process_time() - t0 < 2.0      # ~10^6 would be ~1.5 s


# --- t_cgdconfig.sh key derivations ----------------------------------------

@pytest.mark.parametrize("text,want", V.CGDCONFIG)
@pytest.mark.parametrize("form", ["continued", "joined"])
def test_cgdconfig_key_generation(text, want, form):
    if form == "joined":             # what the test's here-documents write
        text = text.replace("\\\n", "")
    p = parse_params(text)
    key = kgm.derive_key(p)
    assert base64.b64encode(key).decode() == want


def test_shared_keygens_are_evaluated_once():
    calls = []

    def ask():
        calls.append(1)
        return "pass"

    def params(info):
        return Params("aes-cbc", keylength=256, keygens=[KeyGen(
            "pkcs5_pbkdf2/sha1", iterations=10, salt=bytes(16),
            shared_name="home", shared_alg="hkdf-hmac-sha256",
            shared_info=info)])

    cache = {}
    k1 = kgm.derive_key(params(b"one"), ask, shared_cache=cache)
    k2 = kgm.derive_key(params(b"two"), ask, shared_cache=cache)
    assert len(calls) == 1 and k1 != k2
    prk = kgm.pbkdf2_sha1(b"pass", bytes(16), 10, 32)
    expand = hmac.new(prk, b"one\x01", "sha256").digest()
    assert k1 == expand


def test_keygens_xor_together():
    a, b = os.urandom(16), os.urandom(16)
    p = Params("aes-cbc", keylength=128,
               keygens=[KeyGen("storedkey", key=a), KeyGen("storedkey", key=b)])
    assert kgm.derive_key(p) == bytes(x ^ y for x, y in zip(a, b))
    p.keygens.append(KeyGen("pkcs5_pbkdf2/sha1", iterations=5, salt=b"s"))
    k = kgm.derive_key(p, lambda: b"pw")
    pb = kgm.pbkdf2_sha1(b"pw", b"s", 5, 16)
    assert k == bytes(x ^ y ^ z for x, y, z in zip(a, b, pb))


def test_passphrase_keygen_needs_a_getter():
    p = Params("aes-cbc", keylength=128, keygens=[
        KeyGen("pkcs5_pbkdf2", iterations=5, salt=b"s")])
    with pytest.raises(kgm.KeygenError, match="needs a passphrase"):
        kgm.derive_key(p)
    assert len(kgm.derive_key(p, lambda: "pässword")) == 16


def test_random_keys():
    for m in ("randomkey", "urandomkey"):
        p = Params("aes-xts", keylength=512, keygens=[KeyGen(m)])
        k1, k2 = kgm.derive_key(p), kgm.derive_key(p)
        assert len(k1) == 64 and k1 != k2


def test_shell_cmd_keygen():
    p = Params("aes-cbc", keylength=128, keygens=[
        KeyGen("shell_cmd", cmd="printf 0123456789abcdefXYZ")])
    assert kgm.derive_key(p) == b"0123456789abcdef"
    p.keygens[0].cmd = "yes"                  # endless output is cut off
    assert kgm.derive_key(p) == b"y\ny\ny\ny\ny\ny\ny\ny\n"
    p.keygens[0].cmd = "printf short"
    with pytest.raises(kgm.KeygenError, match="gave 5 bytes, need 16"):
        kgm.derive_key(p)


def test_argon2id_keygen():
    kg = KeyGen("argon2id", iterations=1, memory=64, parallelism=1,
                version=19, salt=bytes(16))
    p = Params("aes-cbc", keylength=256, keygens=[kg])
    k = kgm.derive_key(p, lambda: "pw")
    assert len(k) == 32 and k == kgm.derive_key(p, lambda: "pw")
    assert k != kgm.derive_key(p, lambda: "pw2")
    kg.version = 16
    with pytest.raises(kgm.KeygenError, match="version 16"):
        kgm.derive_key(p, lambda: "pw")


# --- calibration and generation --------------------------------------------

def test_calibrate_follows_the_spec_deterministically():
    seen = []

    def measure(c):                     # 0.5 us per iteration, exactly
        seen.append(c)
        return c * 0.5

    c = kgm.calibrate_iterations(128, 1_000_000, measure=measure)
    assert c == 2_000_000
    # doubled from 1 until a run took more than 30 ms, then scaled once
    assert seen[:3] == [1, 2, 4] and seen[-2] == 65536 and seen[-1] == c


def test_calibrate_gives_up_when_timings_are_wild():
    flip = iter(range(1000))

    def measure(c):                     # estimates a factor of 9 apart
        return c * (0.1 if next(flip) % 2 else 0.9)

    with pytest.raises(kgm.KeygenError, match="could not calibrate pkcs5_pbkdf2"):
        kgm.calibrate_iterations(128, 1_000_000, measure=measure)


def test_calibrate_settles_on_a_noisy_machine():
    flip = iter(range(1000))

    def measure(c):                     # 10 % jitter: never within 5 %, but consistent
        return c * (0.9 if next(flip) % 2 else 1.1)

    c = kgm.calibrate_iterations(128, 1_000_000, measure=measure)
    assert 800_000 < c < 1_200_000


def test_calibrate_for_real_with_a_small_target():
    target = 60_000
    c = kgm.calibrate_iterations(256, target, attempts=30)
    took = min(kgm._measure_pbkdf2(c, 32) for _ in range(3))
    assert 0.5 * target < took < 2 * target


def test_generate_params():
    p = kgm.generate_params("aes-cbc", iterations=1000)
    assert (p.algorithm, p.ivmethod, p.keylength, p.verify_method) == (
        "aes-cbc", "encblkno1", 128, "none")
    (kg,) = p.keygens
    assert kg.method == "pkcs5_pbkdf2/sha1" and kg.iterations == 1000
    assert len(kg.salt) == 16
    assert kgm.generate_params("aes-cbc", iterations=1000).keygens[0].salt \
        != kg.salt
    p = kgm.generate_params("aes-xts", 512, keygen="storedkey", verify="gpt",
                            blocksize=128)
    assert len(p.keygens[0].key) == 64 and p.blocksize == 128
    p = kgm.generate_params("blowfish-cbc", keygen="randomkey")
    assert p.keylength == 128 and p.keygens == [KeyGen("randomkey")]
    p = kgm.generate_params("3des-cbc", target_us=40_000)
    assert p.keygens[0].iterations > 1


@pytest.mark.parametrize("args,kw,msg", [
    (("rot13",), {}, 'unknown algorithm "rot13"'),
    (("aes-cbc", 100), {}, 'keylength 100 is not valid for algorithm "aes-cbc"'),
    (("aes-cbc",), {"ivmethod": "x"}, 'unknown iv-method "x"'),
    (("aes-cbc",), {"verify": "sha"}, 'unrecognized verify method "sha"'),
    (("aes-cbc",), {"keygen": "shell_cmd"}, "cannot generate"),
    (("aes-cbc",), {"blocksize": 64, "keygen": "randomkey"}, "blocksize 64"),
])
def test_generate_params_refuses(args, kw, msg):
    with pytest.raises(kgm.KeygenError, match=msg):
        kgm.generate_params(*args, **kw)


# --- verify methods --------------------------------------------------------

def test_verify_read_bytes_covers_every_method():
    assert kgm.VERIFY_READ_BYTES >= 262144 + 1372 + 4
    assert kgm.VERIFY_READ_BYTES >= 4096 + 16 and kgm.VERIFY_READ_BYTES >= 8192


def test_verify_none_and_mbr():
    blank = bytes(kgm.VERIFY_READ_BYTES)
    assert kgm.verify("none", blank)
    assert not kgm.verify("mbr", blank)
    mbr = bytearray(blank)
    mbr[510:512] = b"\x55\xaa"
    assert kgm.verify("mbr", mbr)


@pytest.mark.parametrize("secsize", [512, 1024, 2048, 4096])
def test_verify_gpt(secsize):
    buf = bytearray(kgm.VERIFY_READ_BYTES)
    buf[secsize:secsize + 16] = (b"EFI PART" + (0x10000).to_bytes(4, "little")
                                 + (92).to_bytes(4, "little"))
    assert kgm.verify("gpt", buf)
    buf[secsize + 12] = 93
    assert not kgm.verify("gpt", buf)
    assert not kgm.verify("gpt", bytes(600))


@pytest.mark.parametrize("where", kgm.FFS_SUPERBLOCKS)
@pytest.mark.parametrize("magic", [0x011954, 0x19540119])
@pytest.mark.parametrize("order", ["little", "big"])
def test_verify_ffs(where, magic, order):
    buf = bytearray(kgm.VERIFY_READ_BYTES)
    assert not kgm.verify("ffs", buf)
    buf[where + 1372:where + 1376] = magic.to_bytes(4, order)
    assert kgm.verify("ffs", buf)


def test_verify_random_data_fails_everything():
    junk = os.urandom(kgm.VERIFY_READ_BYTES)
    for m in ("mbr", "gpt", "ffs"):
        assert not kgm.verify(m, junk)


def test_verify_disklabel_uses_find_label(monkeypatch):
    seen = []

    def find_label(buf):
        seen.append(len(buf))
        return (64, object()) if buf[64:68] == b"\x57\x45\x56\x82" else None

    fake = types.ModuleType("rumptools.formats.disklabel")
    fake.find_label = find_label
    monkeypatch.setitem(sys.modules, "rumptools.formats.disklabel", fake)
    buf = bytearray(kgm.VERIFY_READ_BYTES)
    assert not kgm.verify("disklabel", buf)
    buf[64:68] = b"\x57\x45\x56\x82"
    assert kgm.verify("disklabel", buf)
    assert seen == [8192, 8192]


def test_verify_refuses_re_enter_and_unknown():
    with pytest.raises(kgm.KeygenError, match="re-enter"):
        kgm.verify("re-enter", b"")
    with pytest.raises(kgm.KeygenError, match='unrecognized verify method "x"'):
        kgm.verify("x", b"")


def test_verify_disklabel_with_the_real_scanner():
    dl = pytest.importorskip("rumptools.formats.disklabel")
    if not hasattr(dl, "pack") or not hasattr(dl, "default_label"):
        pytest.skip("disklabel module has no label builder")
    buf = bytearray(kgm.VERIFY_READ_BYTES)
    assert not kgm.verify("disklabel", buf)
    label = dl.pack(dl.default_label(25024))
    buf[512:512 + len(label)] = label
    assert kgm.verify("disklabel", buf)
    assert not kgm.verify("disklabel", os.urandom(kgm.VERIFY_READ_BYTES))


@pytest.mark.parametrize("ufs", [1, 2])
@pytest.mark.parametrize("endian", ["<", ">"])
def test_verify_ffs_finds_a_real_newfs_superblock(ufs, endian):
    """verify_method ffs on what rump.newfs writes (through the FFS superblock
    module), and not on the same disk decrypted with a wrong key."""
    from rumptools.formats import ffs_geometry, ffs_mkfs
    g = ffs_geometry.compute(ffs_geometry.Params(8192, ufs=ufs, endian=endian))
    g.endian = endian
    img = bytearray(8192 * 512)

    def write(off, data):
        img[off:off + len(data)] = data
    ffs_mkfs.build(g, write, 1e9, os.urandom)
    assert kgm.verify("ffs", bytes(img[:kgm.VERIFY_READ_BYTES]))
    garbled = bytes(b ^ 0x5A for b in img[:kgm.VERIFY_READ_BYTES])
    assert not kgm.verify("ffs", garbled)
