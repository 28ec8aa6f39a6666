"""The tutorial's userspace cgd session, end to end, and cgd's rules on a real server."""
import random
import re
import signal

from rumptools.crypto.cgd_ciphers import make_cipher
from rumptools.crypto.cgd_keygen import derive_key
from rumptools.formats.cgdparams import parse_params
from tests.integration.test_storage import make_usb_image

LIBS = ("-lrumpvfs", "-lrumpkern_crypto", "-lrumpdev", "-lrumpdev_disk", "-lrumpdev_cgd")
FAST = {"RUMPTOOLS_CGD_CALIBRATE_US": "50000"}
PART_OFFSET = 1048576 * 512
PART_SIZE = 25024 * 512


def sh(h, script, input=None, env=None):
    e = dict(FAST)
    e.update(env or {})
    return h.run("bash", "-c", script, input=input, env=e)


def test_tutorial_session(servers, tmp_path):
    make_usb_image(tmp_path / "usb.img")
    payload = random.Random(5).randbytes(PART_SIZE)          # stands in for unencrypted.ffs
    (tmp_path / "unencrypted.ffs").write_bytes(payload)
    h = servers(*LIBS, "-d", "key=/dk,hostpath=usb.img,disklabel=e", name="cgdserv")

    r = sh(h, "rump.cgdconfig -g aes-cbc > usb.cgdparams")
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "usb.cgdparams").read_text()
    assert re.fullmatch(r"algorithm aes-cbc;\niv-method encblkno1;\nkeylength 128;\nverify_method none;\n"
                        r"keygen pkcs5_pbkdf2/sha1 \{\n        iterations \d+;\n"
                        r"        salt [A-Za-z0-9+/=]{28};\n\};\n", text), text

    r = sh(h, "rump.cgdconfig cgd0 /dk usb.cgdparams", input=b"secret passphrase\n")
    assert r.returncode == 0, r.stderr
    assert b"/dk's passphrase:" in r.stderr
    assert h.run("rump.cgdconfig", "-l", "cgd0").stdout == b"cgd0: /dk \n"

    r = sh(h, "rump.dd if=/dev/rcgd0d | hexdump -x | sed 8q")
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 8 and lines[0].startswith("0000000 ") and lines[2] == "*"
    assert lines[3].startswith("0000200 ") and lines[6].startswith("0000400 ")
    # as in the tutorial: with zeros underneath, the second block repeats from sector to sector
    assert lines[1][8:] == lines[4][8:] == lines[7][8:]
    assert lines[0][8:] != lines[3][8:]

    r = sh(h, "dd if=unencrypted.ffs bs=64k | rump.dd of=/dev/rcgd0d bs=64k")
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode().splitlines()
    assert err.count("195+1 records in") == 2 and err.count("195+1 records out") == 2

    r = h.run("rump.dd", "if=/dk", "count=1")                      # the disk is cgd's now
    assert r.returncode == 1 and r.stderr.decode() == "rump.dd: /dk: Device busy\n"

    assert h.run("rump.halt").returncode == 0
    with open(tmp_path / "usb.img", "rb") as f:
        f.seek(PART_OFFSET)
        cipher_text = f.read(PART_SIZE)
    assert cipher_text != payload
    params = parse_params(text)
    key = derive_key(params, lambda: b"secret passphrase")
    plain = make_cipher("aes-cbc", key, "encblkno1").decrypt(cipher_text, 0)
    assert plain == payload


def test_wrong_passphrase_is_refused_and_nothing_written(servers, tmp_path):
    h = servers(*LIBS, "-d", "key=/dk,hostpath=disk.img,size=1m", name="wrong")
    r = sh(h, "rump.cgdconfig -g -V disklabel aes-xts > p")
    assert r.returncode == 0, r.stderr
    assert sh(h, "rump.cgdconfig -V none cgd0 /dk p", input=b"right\n").returncode == 0
    # write a disklabel through the cgd so that verification has something to find
    r = h.run("rump.disklabel", "-I", "-R", "cgd0", "/dev/null")
    label = b"type: cgd\ndisk: cgd\nlabel: fictitious\nbytes/sector: 512\nsectors/track: 2048\n" \
            b"tracks/cylinder: 1\nsectors/cylinder: 2048\ncylinders: 1\ntotal sectors: 2048\n" \
            b"4 partitions:\n a: 2048 0 4.2BSD 0 0 0\n d: 2048 0 unused 0 0\n"
    (tmp_path / "proto").write_bytes(label)
    r = h.run("rump.disklabel", "-R", "/dev/rcgd0d", "proto")
    assert r.returncode == 0, r.stderr
    assert h.run("rump.cgdconfig", "-u", "cgd0").returncode == 0
    before = (tmp_path / "disk.img").read_bytes()
    r = sh(h, "rump.cgdconfig cgd0 /dk p", input=b"wrong\n")
    assert r.returncode == 255
    assert "verification failed permanently" in r.stderr.decode()
    assert h.run("rump.cgdconfig", "-l", "cgd0").stdout == b"cgd0: not in use\n"
    assert (tmp_path / "disk.img").read_bytes() == before
    r = sh(h, "rump.cgdconfig cgd0 /dk p", input=b"right\n")
    assert r.returncode == 0, r.stderr


def test_sigterm_flushes_cached_cgd_writes(servers, tmp_path):
    h = servers(*LIBS, "-d", "key=/dk,hostpath=disk.img,size=2m", name="flush", foreground=True)
    (tmp_path / "p").write_text("algorithm blowfish-cbc;\nkeylength 128;\nkeygen storedkey key "
                                "AAAAgAAAAAAAAAAAAAAAAAAAAAA=;\n")
    r = h.run("rump.cgdconfig", "cgd0", "/dk", "p")
    assert r.returncode == 0, r.stderr
    data = random.Random(9).randbytes(700 * 1024 + 300)
    (tmp_path / "data").write_bytes(data)
    r = sh(h, "rump.dd if=data of=/dev/cgd0d bs=1k seek=1 conv=notrunc".replace("if=data ", "") + " < data")
    assert r.returncode == 0, r.stderr
    p = h.procs[0]
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=20)
    assert p.returncode == 0
    raw = (tmp_path / "disk.img").read_bytes()
    plain = make_cipher("blowfish-cbc", bytes(16), "encblkno1").decrypt(raw, 0)
    assert plain[1024:1024 + len(data)] == data


def test_unconfigure_rules(servers, tmp_path):
    h = servers(*LIBS, "-d", "key=/dk,hostpath=disk.img,size=1m", name="rules")
    (tmp_path / "p").write_text("algorithm aes-cbc;\nkeylength 128;\nkeygen storedkey key "
                                "AAAAgAAAAAAAAAAAAAAAAAAAAAA=;\n")
    r = h.run("rump.cgdconfig", "-u", "cgd0")       # NetBSD's cgdconfig returns -1: 255
    assert (r.returncode, r.stderr) == (255, b"rump.cgdconfig: ioctl: Device not configured\n")
    assert h.run("rump.cgdconfig", "cgd0", "/dk", "p").returncode == 0
    r = h.run("rump.cgdconfig", "cgd0", "/dk", "p")  # the failed CGDIOCSET's errno: EBUSY
    assert (r.returncode, r.stderr) == (16, b"rump.cgdconfig: ioctl: Device busy\n")
    r = h.run("rump.cgdconfig", "cgd1", "/dk", "p")
    assert (r.returncode, r.stderr) == (16, b"rump.cgdconfig: ioctl: Device busy\n")
    assert h.run("rump.cgdconfig", "-u", "cgd0").returncode == 0
    assert h.run("rump.dd", "if=/dk", "count=1", "of=/dev/null").returncode == 0
