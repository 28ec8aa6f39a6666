"""cgd's bytes on the host file, decrypted by independent implementations.

A real server writes through /dev/rcgd0d; each sector of the host image is then
decrypted by OpenSSL, sector by sector, with NetBSD's IV rules: CBC with the
`openssl enc` command (encblkno1: IV = E_k(LE64(sector))), XTS with OpenSSL's own
XTS mode through the cryptography package (tweak = LE128(sector); `openssl enc`
has no XTS). Our cipher layer computes IVs and tweaks for whole requests at once
in numpy; if it were wrong anywhere the plaintext would not come back.
"""
import random
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.integration.test_cgd import LIBS

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")

CONFIGURE = textwrap.dedent("""
    import sys
    from rumptools.sp import client
    from rumptools.abi import cgdioctl as ci
    c = client.init("cfg")
    fd = c.open("/dev/rcgd0d", 2, 0)
    alg, bits, key = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
    c.ioctl(fd, ci.CGDIOCSET, ("/dk", alg, "encblkno1", bits, key, -1))
""")


def openssl(*args, data):
    r = subprocess.run(["openssl", "enc", *args], input=data, capture_output=True, check=True)
    return r.stdout


@pytest.mark.parametrize("alg,bits,evp", [("aes-cbc", 128, "aes-128-cbc"), ("aes-cbc", 256, "aes-256-cbc"),
                                          ("aes-xts", 256, "aes-128-xts"), ("aes-xts", 512, "aes-256-xts")])
def test_openssl_decrypts_what_cgd_wrote(servers, tmp_path, alg, bits, evp):
    rng = random.Random(bits)
    key = rng.randbytes(bits // 8)
    plain = rng.randbytes(8 * 512)
    (tmp_path / "plain").write_bytes(plain)
    h = servers(*LIBS, "-d", "key=/dk,hostpath=disk.img,size=64k", name="ossl")
    r = subprocess.run([sys.executable, "-c", CONFIGURE, alg, str(bits), key.hex()], env=h.env,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = h.run("bash", "-c", "rump.dd of=/dev/rcgd0d bs=512 seek=3 conv=notrunc < plain")
    assert r.returncode == 0, r.stderr
    assert h.run("rump.halt").returncode == 0
    image = (tmp_path / "disk.img").read_bytes()
    for i in range(8):
        sector = 3 + i
        ct = image[sector * 512:(sector + 1) * 512]
        if alg == "aes-xts":
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
            d = Cipher(algorithms.AES(key), modes.XTS(sector.to_bytes(16, "little"))).decryptor()
            pt = d.update(ct) + d.finalize()
        else:
            ecb = "aes-%d-ecb" % bits
            iv = openssl("-e", "-" + ecb, "-K", key.hex(), "-nopad", data=sector.to_bytes(16, "little"))
            pt = openssl("-d", "-" + evp, "-K", key.hex(), "-iv", iv.hex(), "-nopad", data=ct)
        assert pt == plain[i * 512:(i + 1) * 512], "sector %d" % sector
