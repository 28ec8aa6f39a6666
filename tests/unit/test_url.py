"""sp/url: RUMP_SERVER addresses (unix:// relative and absolute, tcp:// v4 and
v6, the wildcard only for servers) and the messages for bad ones."""
import os

import pytest

from rumptools.sp import url
from rumptools.abi import errnos


def test_unix_relative_becomes_absolute(tmp_path):
    a = url.parse("unix://rumpserver", cwd=str(tmp_path))
    assert a.scheme == "unix" and a.path == os.path.join(str(tmp_path), "rumpserver")
    assert a.describe() == "unix://" + a.path


def test_unix_absolute_three_slashes():
    assert url.parse("unix:///tmp/cgdserv").path == "/tmp/cgdserv"


def test_unix_path_too_long():
    with pytest.raises(url.URLError) as e:
        url.parse("unix:///" + "x" * 200)
    assert e.value.errno == errnos.ENAMETOOLONG


def test_tcp_v4_and_v6():
    a = url.parse("tcp://127.0.0.1:12345/")
    assert (a.host, a.port, a.family6) == ("127.0.0.1", 12345, False) and a.loopback
    b = url.parse("tcp://[::1]:999")
    assert (b.host, b.port, b.family6) == ("::1", 999, True)
    assert b.describe() == "tcp://[::1]:999/"


def test_wildcard_only_for_servers():
    assert url.parse("tcp://*:4000/", server=True).wildcard
    assert url.parse("tcp://0:4000/", server=True).host == "0.0.0.0"
    with pytest.raises(url.URLError, match="client needs !INADDR_ANY"):
        url.parse("tcp://0.0.0.0:4000/")


@pytest.mark.parametrize("text,message", [
    ("rumpserver", "rump_sp: invalid locator ``rumpserver''"),
    ("averyveryverylongid://x", "identifier too long"),
    ("udp://1.2.3.4:5", "rump_sp: invalid identifier ``udp://1.2.3.4:5''"),
    ("tcp://1.2.3.4", "rump_sp_tcp: missing port specifier"),
    ("tcp://1.2.3.4:", "port now found"),
    ("tcp://1.2.3.4:12x", "junk at end of port: 12x"),
    ("tcp://1.2.3.4:70000/", "port 70000 out of range"),
    ("tcp://host.example:80/", "cannot parse host.example"),
    ("tcp6://[::1]:5/", "support not yet implemented"),
    ("unix://", "empty unix path"),
])
def test_bad_urls(text, message):
    with pytest.raises(url.URLError) as e:
        url.parse(text)
    assert message in e.value.message
