"""Commands given bad input: one clear line on stderr and a non-zero status, never a traceback.

(issue 8, item 13: cgdconfig keygen parameters out of range, sysctl numbers
out of range and files that are not UTF-8, a bogus RUMPCLIENT__EXECFD.)
"""
import base64

import pytest

from rumptools.abi import errnos

SALT = base64.b64encode(bytes([16, 0, 0, 0]) + bytes(range(16))).decode()   # bits-encoded 128-bit salt


def one_line_error(r, *words):
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode != 0, err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], err
    return lines[0]


def params(keygen):
    return ("algorithm aes-cbc;\niv-method encblkno1;\nkeylength 128;\nverify_method none;\n"
            "keygen %s;\n" % keygen)


ARGON = "argon2id {\n iterations %s;\n memory %s;\n parallelism %s;\n version 19;\n salt AAAAgAABAgMEBQYHCAkKCwwNDg8=;\n}"
PBKDF2 = "pkcs5_pbkdf2/sha1 {\n iterations %s;\n salt AAAAgAABAgMEBQYHCAkKCwwNDg8=;\n}"


@pytest.mark.parametrize("keygen, word", [
    (PBKDF2 % 10 ** 12, "iterations"),
    (ARGON % (10 ** 12, 1024, 1), "iterations"),
    (ARGON % (1, 99999999999, 1), "memory"),
    (ARGON % (1, 1024, 0), "parallelism"),
    (ARGON % (1, 4, 1), "memory"),                  # argon2 needs 8 KiB per lane
    (ARGON % (1, 1024, 1 << 24), "parallelism"),
])
@pytest.mark.parametrize("mode", ["-t", "-G"])
def test_cgdconfig_keygen_parameters_out_of_range(rumpenv, tmp_path, keygen, word, mode):
    from tests.conftest import cmd
    import subprocess
    (tmp_path / "p").write_text(params(keygen))
    r = subprocess.run([cmd("rump.cgdconfig"), mode, "-p", str(tmp_path / "p")], input=b"pw\n",
                       capture_output=True, env=rumpenv, cwd=str(tmp_path), timeout=60)
    line = one_line_error(r, word)
    assert line.startswith("rump.cgdconfig: ")


def test_sysctl_int_out_of_range_is_netbsds_message(server):
    r = server.run("rump.sysctl", "-w", "kern.hostid=99999999999999999999999")
    too_large = errnos.strerror(errnos.ERANGE)         # NetBSD's strerror(ERANGE)
    assert one_line_error(r) == "rump.sysctl: 99999999999999999999999: " + too_large
    assert r.returncode == 1
    r = server.run("rump.sysctl", "-w", "kern.hostid=0x100000000")     # past 32 bits
    assert one_line_error(r) == "rump.sysctl: 0x100000000: " + too_large
    r = server.run("rump.sysctl", "-w", "kern.hostid=-1")               # strtouq wraps: fits
    assert r.returncode == 0, r.stderr
    r = server.run("rump.sysctl", "-n", "kern.hostid")
    assert r.stdout.strip() in (b"-1", b"4294967295")


def test_sysctl_f_on_a_file_that_is_not_utf8(server, tmp_path):
    f = tmp_path / "conf"
    f.write_bytes(b"kern.ostype\nkern.\xff\xfe\n")
    r = server.run("rump.sysctl", "-f", str(f))
    err = r.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err
    assert r.returncode == 1
    assert r.stdout == b"kern.ostype = NetBSD\n"
    assert len(err.strip().splitlines()) == 1 and "is invalid" in err


def test_sysctl_w_of_non_utf8_bytes_is_stored_and_printed_as_bytes(server):
    strict = {"PYTHONIOENCODING": "utf-8:strict"}       # as under a UTF-8 locale
    r = server.run("rump.sysctl", "-w", b"kern.hostname=\xff\xfe", env=strict)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(b" -> \xff\xfe\n")
    r = server.run("rump.sysctl", "-n", "kern.hostname", env=strict)
    assert r.stdout == b"\xff\xfe\n"


@pytest.mark.parametrize("value", ["abc", "-5", "", "5,x", "999999999999999999999"])
def test_bogus_execfd_in_the_environment(server, value):
    r = server.run("rump.sysctl", "kern.ostype", env={"RUMPCLIENT__EXECFD": value})
    if value == "":
        assert r.returncode == 0 and r.stdout == b"kern.ostype = NetBSD\n"
        return
    assert one_line_error(r) == "rump.sysctl: prog init failed: Bad file descriptor"
    assert r.returncode == 1
