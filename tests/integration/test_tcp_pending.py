"""TCP conformance checks the kernel does not pass yet, each failing for the reason its mark states.

Strict xfail: when the kernel is fixed the test passes, the suite reports
XPASS as a failure, and the mark must go (the test then belongs with the
others in test_tcp_scapy.py). Same harness as test_tcp_scapy.py.
"""
import pytest
from scapy.layers.inet import TCP

from tests.integration.tcppeer import Conn, kernel_and_peer, opts
from tests.integration.test_tcp_scapy import listener


def pending(reason):
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


@pytest.fixture
def net(tmp_path):
    with kernel_and_peer(tmp_path) as kp:
        yield kp


@pending("no SACK: net.inet.tcp.sack.enable is 1 (tcp_subr.PARAMS) but a SYN-ACK never carries SACK-permitted")
def test_syn_ack_offers_sack_permitted_when_the_peer_does(net):
    k, peer = net
    listener(k, 80)
    c = Conn(peer, 41000, 80, iss=5000)
    c.send("S", options=[("MSS", 1460), ("SAckOK", b"")])
    sa = c.expect(lambda t: t.flags == "SA", what="SYN-ACK")[TCP]
    assert "SAckOK" in opts(sa)                               # specs/net.md section 7: SACK on
