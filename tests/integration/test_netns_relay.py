"""The impairment relay of tests/integration/netns.py really loses and reorders frames (and only then).

Numbered UDP datagrams go from a client of the rump kernel in the namespace to
a Linux socket there, first over the plain tap, then through the relay set to
lose 5% and swap 5%: the plain link delivers all in order; the relay's link
loses some (but not most) and delivers some out of order. The TCP interop
test (test_tcp_linux.py) relies on this to claim loss and reordering.
"""
import sys
import textwrap

import pytest

from rumptools.abi import net as N
from rumptools.sp import client as spclient
from rumptools.sp import url
from tests.integration.netns import HOST_IP, NetnsServer, why_no_tap

RECV = textwrap.dedent("""
    import socket, struct
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind(("%s", 7200)); s.settimeout(20)
    print("ready", flush=True)
    got = [struct.unpack("!I", s.recv(100)[:4])[0]]
    s.settimeout(2)
    try:
        while True:
            got.append(struct.unpack("!I", s.recv(100)[:4])[0])
    except socket.timeout:
        pass
    inversions = sum(1 for a, b in zip(got, got[1:]) if b < a)
    print(len(got), len(set(got)), inversions, flush=True)
""" % HOST_IP)
COUNT = 2000


def send_numbered(server):
    server.run("rump.ping", "-c", "2", "-i", "0.2", HOST_IP)      # ARP resolved first (it holds one packet)
    h = server.popen([sys.executable, "-c", RECV])
    assert h.stdout.readline() == b"ready\n", h.stderr.read()
    c = spclient.Client(url.parse(server.url)).connect()
    try:
        s = c.socket(N.AF_INET, N.SOCK_DGRAM, 0)
        for i in range(COUNT):
            c.sendto(s, i.to_bytes(4, "big") + b"x" * 60, 0, (N.AF_INET, HOST_IP, 7200))
    finally:
        c.disconnect()
    out, err = h.communicate(timeout=60)
    assert h.returncode == 0, err.decode()
    return [int(x) for x in out.split()]


@pytest.fixture
def tap_ok():
    why = why_no_tap()
    if why:
        print("skipping relay test: " + why)
        pytest.skip(why)


def test_plain_link_delivers_everything_in_order(tap_ok, tmp_path):
    with NetnsServer(tmp_path) as server:
        n, distinct, inversions = send_numbered(server)
    assert (n, distinct, inversions) == (COUNT, COUNT, 0)


def test_relay_loses_and_reorders(tap_ok, tmp_path):
    with NetnsServer(tmp_path, impair="loss=0.05,reorder=0.05,seed=3") as server:
        n, distinct, inversions = send_numbered(server)
    assert n == distinct                                      # nothing duplicated
    assert 0.85 * COUNT < n < 0.99 * COUNT, n                 # about 5% lost (ARP aside)
    assert inversions > 10, inversions
