"""TCP between two rump_server processes on a shmif bus, driven through the Python client
API, then `rump.netstat -s -p tcp` and the net.inet.tcp nodes as the commands show them."""
import hashlib
import os
import threading

from rumptools.abi import net as N
from rumptools.sp import client as spclient
from rumptools.sp import url as spurl

from .test_net import attach, ok

NET = ("-lrumpnet", "-lrumpnet_net", "-lrumpnet_netinet", "-lrumpnet_shmif")


def test_bulk_both_ways_between_two_servers_and_netstat(servers, tmp_path):
    bus = str(tmp_path / "bus")
    a = servers(*NET, name="a")
    b = servers(*NET, name="b")
    attach(a, "shmif0", bus, "10.1.1.1")
    attach(b, "shmif0", bus, "10.1.1.2")
    ca = spclient.Client(spurl.parse(a.url), "tcpa").connect()
    cb = spclient.Client(spurl.parse(b.url), "tcpb").connect()
    try:
        ls = cb.socket(N.AF_INET, N.SOCK_STREAM, 0)
        cb.bind(ls, (N.AF_INET, "0.0.0.0", 80))
        cb.listen(ls, 5)
        c = ca.socket(N.AF_INET, N.SOCK_STREAM, 0)
        ca.sock_connect(c, (N.AF_INET, "10.1.1.2", 80))
        s, peer = cb.accept(ls)
        assert peer[1] == "10.1.1.1"
        up, down = os.urandom(4 << 20), os.urandom(4 << 20)
        got = {}

        def pump(cl, fd, data):
            for i in range(0, len(data), 65536):
                assert cl.sendto(fd, data[i:i + 65536], 0, None) == len(data[i:i + 65536])

        def drain(cl, fd, n, key):
            buf = bytearray()
            while len(buf) < n:
                d, _ = cl.recvfrom(fd, 262144, 0)
                if not d:
                    break
                buf += d
            got[key] = bytes(buf)
        threads = [threading.Thread(target=pump, args=(ca, c, up)),
                   threading.Thread(target=pump, args=(cb, s, down))]
        for t in threads:
            t.start()
        drain_up = threading.Thread(target=drain, args=(cb, s, len(up), "up"))
        drain_down = threading.Thread(target=drain, args=(ca, c, len(down), "down"))
        drain_up.start()
        drain_down.start()
        for t in threads + [drain_up, drain_down]:
            t.join(120)
        assert hashlib.sha256(got["up"]).digest() == hashlib.sha256(up).digest()
        assert hashlib.sha256(got["down"]).digest() == hashlib.sha256(down).digest()
        ca.close(c)
        assert cb.recvfrom(s, 10, 0)[0] == b""
        cb.close(s)
    finally:
        ca.disconnect()
        cb.disconnect()
    out = ok(a, "rump.netstat", "-s", "-p", "tcp").splitlines()
    assert out[0] == "tcp:"
    assert out[1].startswith("\t") and out[1].endswith(" packets sent")
    assert "\t1 connection request" in out
    assert "\t1 connection established (including accepts)" in out
    sent = [line for line in out if line.startswith("\t\t") and "data packets (" in line][0]
    assert sent.endswith(" bytes)") and int(sent.split("(")[1].split()[0]) >= 4 << 20
    outb = ok(b, "rump.netstat", "-ss", "-p", "tcp")
    assert "\t1 connection accept\n" in outb and "\t\t1 completed\n" in outb
    assert not [line for line in outb.splitlines() if line.lstrip("\t").startswith("0 ")]   # -ss: no zeros
    assert "\t0 " in ok(b, "rump.netstat", "-s", "-p", "tcp")                           # -s: zeros too
    sysctl = ok(a, "rump.sysctl", "net.inet.tcp.keepidle", "net.inet.tcp.mslt.remote")
    assert sysctl == "net.inet.tcp.keepidle = 14400\nnet.inet.tcp.mslt.remote = 60\n"
    # NetBSD's tcp_usrreq.c makes net.inet6.tcp6 beside net.inet.tcp: same nodes, values, stats
    lines = ok(a, "rump.sysctl", "-a").splitlines()
    tcp = [line for line in lines if line.startswith("net.inet.tcp.")]
    tcp6 = [line for line in lines if line.startswith("net.inet6.tcp6.")]
    assert len(tcp) == 51 and tcp6 == [line.replace("net.inet.tcp.", "net.inet6.tcp6.") for line in tcp]
    assert tcp[:4] == ["net.inet.tcp.rfc1323 = 1", "net.inet.tcp.sendspace = 32768",
                       "net.inet.tcp.recvspace = 32768", "net.inet.tcp.mssdflt = 536"]
    assert lines.index(tcp6[0]) == lines.index("net.inet.arp.debug = 0") + 1
    full = ok(a, "rump.netstat", "-s")
    sections = full.split("\n" + "tcp6:\n")
    assert len(sections) == 2 and full.index("\ntcp:\n") < full.index("\nudp:\n") < full.index("\ntcp6:\n")
    tcp_part = full.split("\ntcp:\n")[1].split("\nudp:\n")[0]
    tcp6_part = sections[1].split("\narp:\n")[0]
    assert tcp6_part == tcp_part                              # the same counters, printed again
