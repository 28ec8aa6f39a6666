"""Tests for rump.cgdconfig, in process with click's CliRunner.

The rump kernel is a fake client object (FakeKernel): /dev/rcgd<N>d devices
over in-memory disks, the cgd ioctls by value as rumptools.abi.cgdioctl
describes them, and decrypted reads through the real cgd ciphers.  Disks are
prepared by encrypting a plaintext (a disklabel, an MBR, an FFS magic) under
the key a params file and passphrase give, as a configured cgd would have
written it.  The kernel never writes, so "the disk is unchanged" is checked
byte for byte.  End-to-end tests against the real kernel live elsewhere.
"""
import base64
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rumptools.commands import cgdconfig_gen, cgdconfig_keys
from rumptools.commands._diskio import disk_paths
from rumptools.commands.cgdconfig import cli
from rumptools.crypto.cgd_ciphers import CgdError, make_cipher
from rumptools.crypto.cgd_keygen import derive_key
from rumptools.formats import disklabel as dl
from rumptools.formats.cgdparams import (DEFAULT_KEYLEN, KeyGen, Params,
                                         bits_encode, format_params,
                                         parse_params)
from rumptools.abi import cgdioctl, errnos
from rumptools.abi.errnos import RumpError

REPO = Path(__file__).resolve().parents[2]
SALT = bytes(range(16))
PW = "correct horse"
DISK_SIZE = 64 * 1024


# ---------------------------------------------------------------- fake kernel

class FakeKernel:
    """Just enough of a rump kernel with the cgd driver for cgdconfig."""

    def __init__(self, disks=None, nunits=1):
        self.disks = disks if disks is not None else {}
        self.units = {u: None for u in range(nunits)}
        self.fds = {}
        self.next_fd = 3
        self.log = []               # (ioctl name, unit)
        self.connected = 0

    def open(self, path, flags, mode=0):
        m = re.match(r"^/dev/rcgd(\d+)([a-g])$", path)
        if not m or int(m.group(1)) not in self.units:
            raise RumpError(errnos.ENOENT)
        fd, self.next_fd = self.next_fd, self.next_fd + 1
        self.fds[fd] = int(m.group(1))
        return fd

    def close(self, fd):
        if self.fds.pop(fd, None) is None:
            raise RumpError(errnos.EBADF)

    def _unit(self, fd):
        if fd not in self.fds:
            raise RumpError(errnos.EBADF)
        return self.fds[fd]

    def ioctl(self, fd, cmd, arg):
        unit = self._unit(fd)
        if cmd == cgdioctl.CGDIOCSET:
            self.log.append(("SET", unit))
            disk, alg, ivmethod, keylen, key, blocksize = arg
            if self.units[unit] is not None:
                raise RumpError(errnos.EBUSY)
            if disk not in self.disks:
                raise RumpError(errnos.ENOENT)
            if keylen != len(key) * 8:
                raise RumpError(errnos.EINVAL)
            try:
                cipher = make_cipher(alg, key, ivmethod, blocksize)
            except CgdError:
                raise RumpError(errnos.EINVAL)
            self.units[unit] = dict(disk=disk, alg=alg, ivmethod=ivmethod,
                                    keylen=keylen, key=bytes(key),
                                    cipher=cipher)
            return None
        if cmd == cgdioctl.CGDIOCCLR:
            self.log.append(("CLR", unit))
            if self.units[unit] is None:
                raise RumpError(errnos.ENXIO)
            self.units[unit] = None
            return None
        if cmd == cgdioctl.CGDIOCGET:
            self.log.append(("GET", unit))
            u = unit if arg == -1 else arg
            if u not in self.units:
                raise RumpError(errnos.ENXIO)
            cfg = self.units[u]
            if cfg is None:
                return (u, "", "", 0, 0, 0)
            mode = (cgdioctl.MODE_ENCBLKNO1 if cfg["ivmethod"] == "encblkno1"
                    else cgdioctl.MODE_ENCBLKNO8)
            return (u, cfg["disk"], cfg["alg"], cfg["cipher"].blocksize, mode,
                    cfg["keylen"])
        raise RumpError(errnos.ENOTTY)

    def pread(self, fd, n, off):
        cfg = self.units[self._unit(fd)]
        if cfg is None:
            raise RumpError(errnos.ENXIO)
        if off % 512 or n % 512:
            raise RumpError(errnos.EINVAL)
        data = bytes(self.disks[cfg["disk"]][off:off + n])
        data = data[:len(data) // 512 * 512]
        return cfg["cipher"].decrypt(data, off // 512) if data else b""


# ---------------------------------------------------------------- helpers

def pbkdf2_params(alg="aes-cbc", verify="disklabel", iterations=1000,
                  ivmethod="encblkno1", keylen=None):
    return format_params(Params(
        algorithm=alg, ivmethod=ivmethod,
        keylength=keylen or DEFAULT_KEYLEN[alg], verify_method=verify,
        keygens=[KeyGen("pkcs5_pbkdf2/sha1", iterations=iterations,
                        salt=SALT)]))


def key_of(params_text, passphrase=PW):
    return derive_key(parse_params(params_text), lambda: passphrase)


def label_bytes():
    parts = [dl.Partition(120, 0, 0, dl.FS_BSDFFS),
             dl.Partition(), dl.Partition(), dl.Partition(128, 0)]
    return dl.pack(dl.Label(type=dl.DKTYPE_CGD, typename=b"cgd",
                            packname=b"fictitious", secsize=512, nsectors=2048,
                            ntracks=1, secpercyl=2048, ncylinders=1,
                            secperunit=128, rpm=3600, interleave=1,
                            partitions=parts))


def plaintext(kind):
    buf = bytearray(DISK_SIZE)
    if kind == "disklabel":
        lb = label_bytes()
        buf[512:512 + len(lb)] = lb
    elif kind == "mbr":
        buf[510:512] = b"\x55\xaa"
    elif kind == "ffs":                      # UFS1 superblock at 8 KiB
        buf[8192 + 1372:8192 + 1376] = (0x011954).to_bytes(4, "little")
    return bytes(buf)


def encrypted_disk(params_text, kind, passphrase=PW):
    p = parse_params(params_text)
    cipher = make_cipher(p.algorithm, key_of(params_text, passphrase),
                         p.ivmethod)
    return bytearray(cipher.encrypt(plaintext(kind), 0))


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A fake kernel behind client.init, cwd = tmp_path, /etc/cgd = tmp/etc."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["rump.cgdconfig"])
    monkeypatch.delenv(cgdconfig_gen.CALIBRATE_ENV, raising=False)
    etc = tmp_path / "etc"
    etc.mkdir()
    monkeypatch.setattr(cgdconfig_keys, "CGD_DIR", str(etc))
    monkeypatch.setattr(cgdconfig_keys, "CGD_CONF", str(etc / "cgd.conf"))
    kernel = FakeKernel()

    def init(progname=None, retry=None):
        kernel.connected += 1
        return kernel
    monkeypatch.setattr("rumptools.sp.client.init", init)
    return kernel


def run(args, input=None):
    return CliRunner().invoke(cli, args, input=input)


def tty(monkeypatch, answers):
    """Make stdin a terminal whose user types `answers` at the prompts."""
    prompts = []
    it = iter(answers)

    def read(prompt, echo):
        prompts.append(prompt)
        return next(it, None)
    monkeypatch.setattr(cgdconfig_keys, "_stdin_is_tty", lambda: True)
    monkeypatch.setattr(cgdconfig_keys, "_read_tty", read)
    return prompts


def write(path, text):
    Path(path).write_text(text)
    return str(path)


# ---------------------------------------------------------------- configure

def test_configure_verifies_disklabel(env):
    text = pbkdf2_params()
    env.disks["/dk"] = encrypted_disk(text, "disklabel")
    write("usb.cgdparams", text)
    r = run(["cgd0", "/dk", "usb.cgdparams"], input=PW + "\n")
    assert r.exit_code == 0, r.output
    assert "/dk's passphrase:" in r.stderr
    assert r.stdout == ""
    cfg = env.units[0]
    assert cfg["disk"] == "/dk" and cfg["alg"] == "aes-cbc"
    assert cfg["key"] == key_of(text) and cfg["keylen"] == 128
    assert env.fds == {}                            # everything closed


@pytest.mark.parametrize("kind", ["mbr", "ffs"])
def test_configure_verifies_mbr_and_ffs(env, kind):
    text = pbkdf2_params(verify=kind)
    env.disks["/dk"] = encrypted_disk(text, kind)
    write("p", text)
    r = run(["cgd0", "/dk", "p"], input=PW + "\n")
    assert r.exit_code == 0, r.output
    assert env.units[0] is not None


@pytest.mark.parametrize("kind", ["disklabel", "mbr", "ffs"])
def test_wrong_passphrase_is_refused_and_nothing_stays(env, kind):
    text = pbkdf2_params(verify=kind)
    disk = encrypted_disk(text, kind)
    before = bytes(disk)
    env.disks["/dk"] = disk
    write("p", text)
    r = run(["cgd0", "/dk", "p"], input="wrong\n")
    assert r.exit_code == 255
    assert "rump.cgdconfig: verification failed permanently" in r.stderr
    assert env.units[0] is None
    assert [n for n, _ in env.log if n != "GET"] == ["SET", "CLR"]
    assert bytes(env.disks["/dk"]) == before
    assert env.fds == {}


def test_terminal_asks_again_after_a_failed_verification(env, monkeypatch):
    text = pbkdf2_params()
    env.disks["/dk"] = encrypted_disk(text, "disklabel")
    write("p", text)
    prompts = tty(monkeypatch, ["wrong", "also wrong", PW])
    r = run(["cgd0", "/dk", "p"])
    assert r.exit_code == 0, r.output
    assert prompts == ["/dk's passphrase:"] * 3
    assert r.stderr.count("rump.cgdconfig: verification failed, please "
                          "reenter passphrase") == 2
    assert env.units[0]["key"] == key_of(text)


def test_terminal_eof_gives_up(env, monkeypatch):
    text = pbkdf2_params()
    env.disks["/dk"] = encrypted_disk(text, "disklabel")
    write("p", text)
    tty(monkeypatch, ["wrong"])
    r = run(["cgd0", "/dk", "p"])
    assert r.exit_code == 1
    assert "rump.cgdconfig: failed to read passphrase" in r.stderr
    assert env.units[0] is None


def test_p_reads_stdin_even_on_a_terminal_and_fails_permanently(env, monkeypatch):
    text = pbkdf2_params()
    env.disks["/dk"] = encrypted_disk(text, "disklabel")
    write("p", text)
    prompts = tty(monkeypatch, [PW])
    r = run(["-p", "cgd0", "/dk", "p"], input="wrong\n" + PW + "\n")
    assert r.exit_code == 255
    assert prompts == []
    assert "passphrase:" not in r.stderr            # -p: no prompt
    assert "verification failed permanently" in r.stderr
    assert env.units[0] is None


def test_p_takes_one_passphrase_per_line(env):
    text = pbkdf2_params()
    env.disks["/dk"] = encrypted_disk(text, "disklabel")
    write("p", text)
    r = run(["-p", "cgd0", "/dk", "p"], input=PW + "\nnext line\n")
    assert r.exit_code == 0, r.output
    assert env.units[0]["key"] == key_of(text)


def test_verify_none_configures_whatever_the_passphrase(env):
    text = pbkdf2_params(verify="none")
    env.disks["/dk"] = bytearray(DISK_SIZE)
    write("p", text)
    r = run(["cgd0", "/dk", "p"], input="anything\n")
    assert r.exit_code == 0
    assert env.units[0]["key"] == key_of(text, "anything")
    assert [n for n, _ in env.log if n != "GET"] == ["SET"]


def test_V_overrides_the_verify_method(env):
    text = pbkdf2_params(verify="none")
    env.disks["/dk"] = bytearray(DISK_SIZE)          # no label in it
    write("p", text)
    r = run(["-V", "disklabel", "cgd0", "/dk", "p"], input=PW + "\n")
    assert r.exit_code == 255
    assert "verification failed permanently" in r.stderr
    assert env.units[0] is None


def test_re_enter(env):
    text = pbkdf2_params(verify="re-enter")
    env.disks["/dk"] = bytearray(DISK_SIZE)
    write("p", text)
    r = run(["cgd0", "/dk", "p"], input="%s\n%s\n" % (PW, PW))
    assert r.exit_code == 0, r.output
    assert "/dk's passphrase:" in r.stderr
    assert "re-enter device's passphrase:" in r.stderr
    assert env.units[0]["key"] == key_of(text)


def test_re_enter_mismatch(env):
    text = pbkdf2_params(verify="re-enter")
    env.disks["/dk"] = bytearray(DISK_SIZE)
    write("p", text)
    r = run(["cgd0", "/dk", "p"], input="%s\nother\n" % PW)
    assert r.exit_code == 255
    assert "verification failed permanently" in r.stderr
    assert env.units[0] is None


def test_default_params_file_is_etc_cgd_basename(env, tmp_path):
    text = pbkdf2_params()
    env.disks["/dk"] = encrypted_disk(text, "disklabel")
    write(tmp_path / "etc" / "dk", text)
    r = run(["cgd0", "/dk"], input=PW + "\n")
    assert r.exit_code == 0, r.output
    assert env.units[0] is not None


def test_relative_params_file_is_retried_in_etc_cgd(env, tmp_path):
    text = pbkdf2_params()
    env.disks["/dk"] = encrypted_disk(text, "disklabel")
    write(tmp_path / "etc" / "usb.cgdparams", text)
    r = run(["cgd0", "/dk", "usb.cgdparams"], input=PW + "\n")
    assert r.exit_code == 0, r.output


def test_missing_params_file(env):
    r = run(["cgd0", "/dk", "nope"], input=PW + "\n")
    assert r.exit_code == 255
    assert r.stderr == ('rump.cgdconfig: failed to open params file "nope": '
                        "No such file or directory\n")
    assert env.connected == 0 and env.log == []


def test_malformed_params_file(env):
    write("bad", "algorithm aes-cbc;\nkeylength 128;\nfrobnicate 3;\n")
    r = run(["cgd0", "/dk", "bad"], input=PW + "\n")
    assert r.exit_code == 255
    assert r.stderr == 'rump.cgdconfig: bad: line 3: unknown keyword "frobnicate"\n'
    assert all(u is None for u in env.units.values())
    assert not any(n == "SET" for n, _ in env.log)


def test_bad_blocksize_makes_params_invalid(env):
    write("p", pbkdf2_params())
    r = run(["-b", "64", "cgd0", "/dk", "p"], input=PW + "\n")
    assert r.exit_code == 255
    assert r.stderr.endswith("rump.cgdconfig: params invalid\n")
    assert 'blocksize 64 is not valid for algorithm "aes-cbc"' in r.stderr


def test_unknown_algorithm_warns_then_the_kernel_refuses(env):
    text = pbkdf2_params(verify="none").replace("aes-cbc", "rot13-cbc")
    env.disks["/dk"] = bytearray(DISK_SIZE)
    write("p", text)
    r = run(["cgd0", "/dk", "p"], input=PW + "\n")
    assert r.exit_code == 22
    assert 'unknown algorithm "rot13-cbc"(warning)' in r.stderr
    assert r.stderr.endswith("rump.cgdconfig: ioctl: Invalid argument\n")
    assert env.units[0] is None


def test_missing_disk(env):
    write("p", pbkdf2_params(verify="none"))
    r = run(["cgd0", "/nodisk", "p"], input=PW + "\n")
    assert r.exit_code == 2
    assert r.stderr.endswith("rump.cgdconfig: ioctl: No such file or directory\n")


def test_cannot_open_cgd(env):
    write("p", pbkdf2_params(verify="none"))
    r = run(["cgd3", "/dk", "p"], input=PW + "\n")
    assert r.exit_code == 255
    assert r.stderr == 'rump.cgdconfig: can\'t open cgd "cgd3", "/dev/rcgd3d"\n'


def test_already_in_use(env):
    text = pbkdf2_params(verify="none")
    env.disks["/dk"] = bytearray(DISK_SIZE)
    write("p", text)
    assert run(["cgd0", "/dk", "p"], input=PW + "\n").exit_code == 0
    r = run(["cgd0", "/dk", "p"], input=PW + "\n")
    assert r.exit_code == 16
    # NetBSD 7.99's cgdconfig asks, then the kernel refuses: the exit status is EBUSY
    assert r.stderr == "/dk's passphrase:\nrump.cgdconfig: ioctl: Device busy\n"


def test_dry_run_prints_and_configures_nothing(env):
    text = pbkdf2_params()
    env.disks["/dk"] = encrypted_disk(text, "disklabel")
    write("p", text)
    r = run(["-nvv", "cgd0", "/dk", "p"], input=PW + "\n")
    assert r.exit_code == 0, r.output
    key = key_of(text)
    assert r.stdout == ("    with alg aes-cbc keylen 128 blocksize "
                        "18446744073709551615 ivmethod encblkno1\n"
                        "key: %s\n" % bits_encode(key))
    assert env.units[0] is None
    assert not any(n in ("SET", "CLR") for n, _ in env.log)


def test_vv_prints_the_key_in_the_bits_encoding(env):
    text = pbkdf2_params(verify="none")
    env.disks["/dk"] = bytearray(DISK_SIZE)
    write("p", text)
    r = run(["-vv", "-b", "128", "cgd0", "/dk", "p"], input=PW + "\n")
    assert r.exit_code == 0, r.output
    b64 = r.stdout.splitlines()[1].removeprefix("key: ")
    raw = base64.b64decode(b64)
    assert raw[:4] == (128).to_bytes(4, "big") and raw[4:] == key_of(text)
    assert "blocksize 128 " in r.stdout


def test_wrong_number_of_args(env):
    r = run(["cgd0"])
    assert r.exit_code == 1
    assert r.stderr.startswith("rump.cgdconfig: wrong number of args\n"
                               "usage: rump.cgdconfig [-enpv] [-V vmeth] "
                               "cgd dev [paramsfile]\n")


# ---------------------------------------------------------------- -s, -u, -l

def test_s_reads_a_raw_key_from_stdin(env):
    env.disks["/dk"] = bytearray(DISK_SIZE)
    key = bytes(range(32))
    r = CliRunner().invoke(cli, ["-s", "cgd0", "/dk", "aes-cbc", "256"],
                           input=key + b"trailing")
    assert r.exit_code == 0, r.output
    cfg = env.units[0]
    assert cfg["key"] == key and cfg["keylen"] == 256


def test_s_default_keylen_and_short_key(env):
    env.disks["/dk"] = bytearray(DISK_SIZE)
    r = CliRunner().invoke(cli, ["-s", "cgd0", "/dk", "blowfish-cbc"],
                           input=b"x" * 15)
    assert r.exit_code == 255
    assert r.stderr == "rump.cgdconfig: failed to read key from stdin\n"
    assert env.units[0] is None
    r = CliRunner().invoke(cli, ["-s", "cgd0", "/dk", "blowfish-cbc"],
                           input=b"x" * 16)
    assert r.exit_code == 0
    assert env.units[0]["keylen"] == 128


def test_s_dry_run(env):
    r = CliRunner().invoke(cli, ["-s", "-n", "cgd0", "/dk", "aes-cbc"],
                           input=b"k" * 16)
    assert r.exit_code == 0
    assert env.units[0] is None and env.log == []


def test_unconfigure(env):
    text = pbkdf2_params(verify="none")
    env.disks["/dk"] = bytearray(DISK_SIZE)
    write("p", text)
    assert run(["cgd0", "/dk", "p"], input=PW + "\n").exit_code == 0
    r = run(["-v", "-u", "cgd0"])
    assert r.exit_code == 0, r.output
    assert r.stdout == "cgd0 (/dev/rcgd0d): clearing\n"
    assert env.units[0] is None
    r = run(["-u", "cgd0"])
    assert r.exit_code == 255
    assert r.stderr == "rump.cgdconfig: ioctl: Device not configured\n"


def test_unconfigure_errors(env):
    r = run(["-u", "cgd7"])
    assert r.exit_code == 2
    assert r.stderr == ('rump.cgdconfig: can\'t open cgd "cgd7", "/dev/rcgd7d": '
                        "No such file or directory\n")
    r = run(["-u", "-n", "cgd0"])
    assert r.exit_code == 0 and ("CLR", 0) not in env.log
    r = run(["-u"])
    assert r.exit_code == 1 and r.stderr.startswith("usage: ")


def test_list(env):
    env.units = {0: None, 1: None}
    r = run(["-l"])
    assert r.exit_code == 0
    assert r.stdout == "cgd0: not in use\ncgd1: not in use\n"
    env.disks["/dk"] = bytearray(DISK_SIZE)
    write("p", pbkdf2_params(verify="none"))
    assert run(["cgd1", "/dk", "p"], input=PW + "\n").exit_code == 0
    assert run(["-l"]).stdout == "cgd0: not in use\ncgd1: /dk \n"
    assert run(["-l", "-v", "cgd1"]).stdout == "cgd1: /dk aes-cbc \n"
    assert run(["-lvv", "cgd1"]).stdout == (
        "cgd1: /dk aes-cbc keylen 128 blksize 16 encblkno1 \n")


def test_list_encblkno8_and_a_missing_unit(env):
    env.disks["/dk"] = bytearray(DISK_SIZE)
    write("p", pbkdf2_params(alg="3des-cbc", verify="none",
                             ivmethod="encblkno8"))
    assert run(["cgd0", "/dk", "p"], input=PW + "\n").exit_code == 0
    assert run(["-lvv"]).stdout == (
        "cgd0: /dk 3des-cbc keylen 192 blksize 8 encblkno8 \n")
    r = run(["-l", "cgd5"])
    assert r.exit_code == 0 and r.stdout == ""
    assert r.stderr == "rump.cgdconfig: open: cgd5: No such file or directory\n"


def test_server_unreachable(env, monkeypatch):
    def init(progname=None, retry=None):
        raise FileNotFoundError(2, "No such file or directory")
    monkeypatch.setattr("rumptools.sp.client.init", init)
    r = run(["-l"])
    assert r.exit_code == 1
    assert r.stderr == ("rump.cgdconfig: prog init failed: "
                        "No such file or directory\n")


# ---------------------------------------------------------------- -C, -U, -T

def test_configure_and_unconfigure_all(env, tmp_path):
    env.units = {0: None, 1: None}
    a, b = pbkdf2_params(), pbkdf2_params(alg="aes-xts", verify="mbr")
    env.disks["/dk"] = encrypted_disk(a, "disklabel")
    env.disks["/dk2"] = encrypted_disk(b, "mbr", "second")
    write(tmp_path / "etc" / "dk", a)
    write(tmp_path / "b.params", b)
    conf = write(tmp_path / "cgd.conf",
                 "# cgd\ttarget\t[paramsfile]\n\n"
                 "cgd0 /dk   # default params\n"
                 "cgd1 /dk2 \\\n   b.params\n")
    r = run(["-C", "-f", conf], input=PW + "\nsecond\n")
    assert r.exit_code == 0, r.output
    assert env.units[0]["disk"] == "/dk" and env.units[1]["disk"] == "/dk2"
    assert env.units[1]["key"] == key_of(b, "second")
    r = run(["-U", "-f", conf])
    assert r.exit_code == 0, r.output
    assert env.units == {0: None, 1: None}


def test_configure_all_stops_at_the_failing_line(env, tmp_path):
    env.units = {0: None, 1: None}
    text = pbkdf2_params()
    env.disks["/dk"] = encrypted_disk(text, "disklabel")
    write(tmp_path / "etc" / "dk", text)
    conf = write(tmp_path / "etc" / "cgd.conf",
                 "cgd0 /dk\ncgd1\ncgd1 /dk\n")
    r = run(["-C"], input=PW + "\n")
    assert r.exit_code == 255
    assert r.stderr.endswith('rump.cgdconfig: action failed on "%s" line 2\n'
                             % conf)
    assert env.units[0] is not None and env.units[1] is None


def test_missing_config_file(env):
    r = run(["-U", "-f", "nope.conf"])
    assert r.exit_code == 255
    assert r.stderr == ('rump.cgdconfig: could not open config file '
                        '"nope.conf": No such file or directory\n')
    assert env.connected == 0


def test_T_prints_every_key(env, tmp_path, monkeypatch):
    monkeypatch.setattr("rumptools.sp.client.init", None)   # no server
    a = pbkdf2_params()
    write(tmp_path / "etc" / "wd0e", a)
    conf = write(tmp_path / "cgd.conf", "cgd0 /dev/wd0e\ncgd1 /dev/sd0h "
                 + write(tmp_path / "s", STORED_ADIANTUM) + "\n")
    r = run(["-T", "-f", conf], input=PW + "\n")
    assert r.exit_code == 0, r.output
    assert r.stdout == "/dev/wd0e: %s\n/dev/sd0h: %s\n" % (
        base64.b64encode(key_of(a)).decode(), STORED_ADIANTUM_KEY)


def test_cgd_conf_lines():
    text = ("# comment\n\ncgd0 /dev/wd0e # trailing\n"
            "cgd1 \\\n /dev/sd0h \\\n p\\#1\n   \n")
    assert list(cgdconfig_keys.conf_lines(text)) == [
        (3, ["cgd0", "/dev/wd0e"]), (6, ["cgd1", "/dev/sd0h", "p#1"])]


# ---------------------------------------------------------------- -t

# NetBSD's tests/dev/cgd/t_cgdconfig.sh
STORED_ADIANTUM = """algorithm adiantum;
iv-method encblkno1;
keylength 256;
verify_method none;
keygen storedkey key AAABAJtnmp3XZspMBAFpCYnB8Hekn0 \\
                     gj5cDVngslfGLSqwcy;
"""
STORED_ADIANTUM_KEY = "m2eanddmykwEAWkJicHwd6SfSCPlwNWeCyV8YtKrBzI="
SECOND_STORED = ("keygen storedkey key AAABAK1pbgIayXftX0RQ3AaMK4YEd/ \\\n"
                 "                     fowKwQbENxpu3o1k9m;\n")


def test_t_prints_netbsds_storedkey_vectors(env, monkeypatch):
    monkeypatch.setattr("rumptools.sp.client.init", None)   # no server
    write("params", STORED_ADIANTUM)
    r = run(["-t", "params"])
    assert r.exit_code == 0, r.output
    assert r.stdout == STORED_ADIANTUM_KEY + "\n"
    write("params2", STORED_ADIANTUM + SECOND_STORED)
    assert run(["-t", "params2"]).stdout == (
        "Ng70n82vvaFbRTnVj03b8aDov8slbMXySFTajzp9SFQ=\n")


def test_t_with_a_passphrase(env):
    text = pbkdf2_params()
    write("p", text)
    r = run(["-t", "p"], input=PW + "\n")
    assert r.exit_code == 0
    assert r.stdout == base64.b64encode(key_of(text)).decode() + "\n"
    assert "p's passphrase:" in r.stderr


# ---------------------------------------------------------------- -g and -G

@pytest.fixture
def fast_calibration(monkeypatch):
    import rumptools.crypto.cgd_keygen as kg
    monkeypatch.setattr(kg, "calibrate_iterations",
                        lambda keylen, target_us, **kw: 4321)


GEN_RE = re.compile(
    r"^algorithm aes-cbc;\n"
    r"iv-method encblkno1;\n"
    r"keylength 128;\n"
    r"verify_method none;\n"
    r"keygen pkcs5_pbkdf2/sha1 \{\n"
    r"        iterations (\d+);\n"
    r"        salt (AAAAg[A-Za-z0-9+/]{22}=);\n"
    r"\};\n$")


def test_g_prints_the_tutorials_format(env, fast_calibration, monkeypatch):
    monkeypatch.setattr("rumptools.sp.client.init", None)   # no server
    r = run(["-g", "aes-cbc"])
    assert r.exit_code == 0, r.output
    m = GEN_RE.match(r.stdout)
    assert m, r.stdout
    assert m.group(1) == "4321"
    assert len(base64.b64decode(m.group(2))) == 4 + 16
    assert run(["-g", "aes-cbc"]).stdout != r.stdout    # a new salt


def test_g_calibrates_for_the_test_target(env, monkeypatch):
    monkeypatch.setenv(cgdconfig_gen.CALIBRATE_ENV, "20000")
    r = run(["-g", "aes-cbc"])
    assert r.exit_code == 0, r.output
    m = GEN_RE.match(r.stdout)
    assert m and int(m.group(1)) > 0


def test_g_options(env, fast_calibration):
    r = run(["-g", "-V", "disklabel", "-i", "encblkno8", "-b", "128",
             "aes-cbc", "256"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("algorithm aes-cbc;\niv-method encblkno8;\n"
                               "keylength 256;\nblocksize 128;\n"
                               "verify_method disklabel;\n")
    p = parse_params(r.stdout)
    assert p.keygens[0].iterations == 4321
    r = run(["-g", "-k", "storedkey", "blowfish-cbc", "200"])
    p = parse_params(r.stdout)
    assert p.keylength == 200 and len(p.keygens[0].key) == 25
    r = run(["-g", "-k", "urandomkey", "aes-xts"])
    assert "keygen urandomkey;\n" in r.stdout


def test_g_errors(env, fast_calibration):
    r = run(["-g", "rot13"])
    assert r.exit_code == 255
    assert r.stderr == ('rump.cgdconfig: could not determine key length for '
                        'unknown algorithm "rot13"\n')
    r = run(["-g", "-k", "magic", "aes-cbc"])
    assert r.exit_code == 255
    assert r.stderr == ('rump.cgdconfig: unrecognized key generation method "magic"\n'
                        'rump.cgdconfig: Failed to generate defaults for keygen\n')
    r = run(["-g", "-V", "crc", "aes-cbc"])
    assert r.stderr.startswith('rump.cgdconfig: params_setverify_method: '
                               'unrecognized verify method "crc"\nusage: ')
    r = run(["-g", "aes-cbc", "100"])
    assert r.exit_code == 255 and "keylength 100" in r.stderr
    assert run(["-g"]).exit_code == 1
    assert run(["-g", "-l", "aes-cbc"]).stderr.startswith("usage: ")


def test_g_o_writes_mode_0600(env, fast_calibration, tmp_path):
    old = os.umask(0)
    try:
        r = run(["-g", "-o", "out.params", "aes-cbc"])
    finally:
        os.umask(old)
    assert r.exit_code == 0 and r.stdout == ""
    st = os.stat(tmp_path / "out.params")
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert GEN_RE.match((tmp_path / "out.params").read_text())
    r = run(["-g", "-o", str(tmp_path / "no" / "such"), "aes-cbc"])
    assert r.exit_code == 255
    assert "could not open outfile" in r.stderr


def test_G_makes_a_file_generating_the_same_key(env, fast_calibration,
                                                monkeypatch):
    monkeypatch.setattr("rumptools.sp.client.init", None)   # no server
    old = pbkdf2_params(verify="disklabel")
    write("old", old)
    r = run(["-G", "-o", "new", "old"], input="%s\nnew secret\n" % PW)
    assert r.exit_code == 0, r.output
    assert "old file's passphrase:" in r.stderr
    assert "new file's passphrase:" in r.stderr
    new = Path("new").read_text()
    p = parse_params(new)
    assert p.verify_method == "disklabel" and p.algorithm == "aes-cbc"
    assert [k.method for k in p.keygens] == ["pkcs5_pbkdf2/sha1", "storedkey"]
    assert p.keygens[0].salt != SALT
    assert key_of(new, "new secret") == key_of(old)
    assert stat.S_IMODE(os.stat("new").st_mode) == 0o600
    r = run(["-t", "new"], input="new secret\n")
    assert r.stdout == base64.b64encode(key_of(old)).decode() + "\n"


def test_G_refuses_random_keys(env):
    write("old", pbkdf2_params())
    r = run(["-G", "-k", "randomkey", "old"], input=PW + "\n")
    assert r.exit_code == 255
    assert r.stderr == "rump.cgdconfig: can't preserve randomly generated key\n"
    write("rnd", "algorithm aes-cbc;\nkeygen urandomkey;\n")
    r = run(["-G", "rnd"])
    assert r.exit_code == 255
    assert r.stderr == "rump.cgdconfig: can't preserve randomly generated key\n"


# ---------------------------------------------------------------- the command

def test_two_actions_are_a_usage_error(env):
    r = run(["-u", "-l"])
    assert r.exit_code == 1
    assert r.stderr.startswith("usage: rump.cgdconfig [-enpv]")
    assert env.connected == 0


def test_options_end_at_the_first_argument(env):
    r = run(["cgd0", "-v", "/dk"])          # "-v" is the dev, as for getopt
    assert r.exit_code == 255
    assert 'failed to open params file "/dk"' in r.stderr


def test_cgd_names():
    assert disk_paths("cgd0") == ["/dev/rcgd0", "/dev/rcgd0d"]     # opendisk(3)
    assert disk_paths("rcgd0") == ["/dev/rcgd0", "/dev/rcgd0d"]
    assert disk_paths("rcgd1a") == ["/dev/rcgd1a"]
    assert disk_paths("/dev/rcgd0d") == ["/dev/rcgd0d"]
    assert disk_paths("foo") == ["/dev/rfoo", "/dev/rfood"]


def test_list_and_unconfigure_start_light():
    """No numpy or cryptography for -l and -u (rump.* commands start fast)."""
    code = ("import sys\n"
            "sys.argv = ['rump.cgdconfig'] + %r\n"
            "from rumptools.commands import cgdconfig\n"
            "try:\n    cgdconfig.main()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'cryptography')]\n"
            "print(heavy)\n")
    for opt in (["-l"], ["-u", "cgd0"], ["-lvv", "cgd0"]):
        env = dict(os.environ)
        env.pop("RUMP_SERVER", None)
        r = subprocess.run([sys.executable, "-c", code % opt], cwd=REPO,
                           env=env, capture_output=True, text=True, timeout=60)
        assert r.stdout.strip() == "[]", (r.stdout, r.stderr)


def _on_a_terminal(tmp_path, args, typed, timeout=30):
    """Run rump.cgdconfig on a new pseudo-terminal; type `typed` at the
    first prompt; return everything the terminal showed."""
    import pty
    import select
    import time
    code = ("import sys; sys.argv = ['rump.cgdconfig'] + %r\n"
            "from rumptools.commands.cgdconfig import main; main()\n" % args)
    pid, fd = pty.fork()
    if pid == 0:                                    # the child
        try:
            os.chdir(tmp_path)
            os.environ["PYTHONPATH"] = str(REPO)
            os.execv(sys.executable, [sys.executable, "-c", code])
        finally:
            os._exit(127)
    shown, sent = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:                         # EIO: the child is gone
                break
            if not chunk:
                break
            shown += chunk
            if not sent and b"passphrase:" in shown:
                os.write(fd, typed.encode() + b"\n")
                sent = True
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    return shown.decode(errors="replace"), os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize("echo", [False, True])
def test_passphrase_from_the_terminal(tmp_path, echo):
    text = pbkdf2_params()
    write(tmp_path / "p", text)
    shown, status = _on_a_terminal(tmp_path, (["-e"] if echo else [])
                                   + ["-t", "p"], PW)
    assert status == 0, shown
    assert "p's passphrase:" in shown
    assert base64.b64encode(key_of(text)).decode() in shown
    assert (PW in shown) == echo
