"""TCP rows of the pcblists (inet.tcp_pcbs, the stack's control blocks) and the socket lists of rump.netstat and
rump.sockstat, from records made in process: the formats of specs/net.md §12."""
import socket

from rumptools.abi import kinfo_pcb as K
from rumptools.abi import net as N
from rumptools.commands import netstat, sockstat

from .kernelkit import boot, call, spawn, wait_until


class FakeClient:
    def __init__(self, nodes):
        self.nodes = nodes

    def sysctl(self, name, op, value):
        if name not in self.nodes:
            raise OSError(2, "No such file or directory")
        return ("struct", self.nodes[name], 0)


def test_tcp_pcblist_of_real_connections():
    """A listener, both ends of an established loopback connection with data queued, then the
    closing side's TIME_WAIT control block (no socket any more) -- as kinfo_pcb records."""
    k = boot("rumpnet", "rumpnet_net", "rumpnet_netinet")
    p = spawn(k)
    try:
        assert k.slot("inet").tcp_pcbs == []
        ls = call(k, p, "socket", N.AF_INET, N.SOCK_STREAM, 0)
        call(k, p, "bind", ls, (N.AF_INET, "127.0.0.1", 7000))
        call(k, p, "listen", ls, 5)
        c = call(k, p, "socket", N.AF_INET, N.SOCK_STREAM, 0)
        call(k, p, "sock_connect", c, (N.AF_INET, "127.0.0.1", 7000))
        s, _peer = call(k, p, "accept", ls)
        assert call(k, p, "sendto", c, b"x" * 7, 0, None) == 7
        assert wait_until(lambda: _rows(k, p)[0]["rcvq"] == 7 or _rows(k, p)[1]["rcvq"] == 7)
        rows = _rows(k, p)
        cport = call(k, p, "getsockname", c)[2]
        by_src = {r["src"]: r for r in rows}
        assert len(rows) == 3
        assert by_src[(N.AF_INET, "127.0.0.1", 7000)]["tstate"] in (1, 4)
        lis = [r for r in rows if r["tstate"] == 1]
        assert len(lis) == 1 and lis[0]["dst"] == (N.AF_INET, "0.0.0.0", 0) and lis[0]["prstate"] == K.INP_BOUND
        client = by_src[(N.AF_INET, "127.0.0.1", cport)]
        assert client["tstate"] == 4 and client["pflags"] & K.INP_ANONPORT
        assert client["dst"] == (N.AF_INET, "127.0.0.1", 7000) and client["prstate"] == K.INP_CONNECTED
        assert client["sostate"] & K.SS_ISCONNECTED
        server = [r for r in rows if r["tstate"] == 4 and r is not client][0]
        assert server["rcvq"] == 7 and server["protocol"] == 6 and server["type"] == N.SOCK_STREAM
        call(k, p, "close", c)
        assert wait_until(lambda: any(r["tstate"] == 5 for r in _rows(k, p)))       # CLOSE_WAIT
        call(k, p, "close", s)
        assert wait_until(lambda: any(r["tstate"] == 10 for r in _rows(k, p)))
        tw = [r for r in _rows(k, p) if r["tstate"] == 10][0]
        assert tw["src"] == (N.AF_INET, "127.0.0.1", cport) and tw["dst"] == (N.AF_INET, "127.0.0.1", 7000)
    finally:
        k.reboot(0)


def _rows(k, p):
    return K.records(call(k, p, "sysctl", "net.inet.tcp.pcblist", 0, None)[1])


def _tcp(src, dst, tstate, rcvq=0, sndq=0, anon=False, sockaddr=0):
    return K.pack(pcbaddr=0xabc0, ppcbaddr=0xabc0, sockaddr=sockaddr, family=N.AF_INET, type=N.SOCK_STREAM,
                  protocol=6, pflags=K.INP_ANONPORT if anon else 0, tstate=tstate, rcvq=rcvq, sndq=sndq,
                  prstate=K.INP_CONNECTED if dst[1] else K.INP_BOUND,
                  src=(N.AF_INET,) + src, dst=(N.AF_INET,) + dst)


NODES = {
    "net.inet.tcp.pcblist": _tcp(("10.1.1.1", 65534), ("10.1.1.2", 80), 4, anon=True, sockaddr=11) +
    _tcp(("0.0.0.0", 22), ("0.0.0.0", 0), 1, sockaddr=12) +
    _tcp(("10.1.1.1", 1000), ("10.1.1.2", 2000), 10, rcvq=5),
    "net.inet.udp.pcblist": K.pack(ppcbaddr=0xdef0, sockaddr=13, family=N.AF_INET, type=N.SOCK_DGRAM,
                                   protocol=17, src=(N.AF_INET, "0.0.0.0", 53), dst=(N.AF_INET, "0.0.0.0", 0)),
}


def test_netstat_inet_rows(capsys):
    c = FakeClient(NODES)
    out = netstat.inet_rows(c, False, True, False)
    assert out == ["Active Internet connections",
                   "Proto Recv-Q Send-Q  Local Address          Foreign Address        State",
                   "tcp        0      0  10.1.1.1.65534         10.1.1.2.80            ESTABLISHED",
                   "tcp        5      0  10.1.1.1.1000          10.1.1.2.2000          TIME_WAIT"]
    out = netstat.inet_rows(c, True, True, False)
    assert out[0] == "Active Internet connections (including servers)"
    assert out[3] == "tcp        0      0  *.22                   *.*                    LISTEN"
    assert out[5] == "udp        0      0  *.53                   *.*                   "
    out = netstat.inet_rows(c, True, True, True)
    assert out[1] == "PCB      Proto Recv-Q Send-Q Local Address         Foreign Address       State"
    assert out[2] == "    abc0 tcp        0      0 10.1.1.1.65534        10.1.1.2.80           ESTABL"
    out = netstat.inet_rows(c, True, False, True)
    assert out[1] == "PCB      Proto Recv-Q Send-Q  Local Address      Foreign Address    State"
    try:
        http = socket.getservbyport(80, "tcp")          # /etc/services (netbase) names it
    except OSError:
        http = "80"
    assert out[2] == "    abc0 tcp        0      0  10.1.1.1.65534     %-18s ESTABLISHED" % ("10.1.1.2." + http)


def test_sockstat_tcp_rows():
    socks = {}
    for blob in NODES.values():
        for kp in K.records(blob):
            socks[kp["sockaddr"]] = kp
    files = [{"pid": 3, "fd": 4, "type": 2, "data": 12, "uid": 0, "comm": "a-very-long-name"},
             {"pid": 2, "fd": 7, "type": 2, "data": 11, "uid": 0, "comm": "client"},
             {"pid": 2, "fd": 1, "type": 1, "data": 11, "uid": 0, "comm": "client"},
             {"pid": 3, "fd": 5, "type": 2, "data": 13, "uid": 0, "comm": "a-very-long-name"}]
    out = sockstat.rows(socks, files, 0, set(), True)
    assert out == ["USER     COMMAND    PID   FD PROTO  LOCAL ADDRESS         FOREIGN ADDRESS",
                   "root     client     2      7 tcp    10.1.1.1.65534        10.1.1.2.80",
                   "root     a-very-lon 3      4 tcp    *.22                  *.*",
                   "root     a-very-lon 3      5 udp    *.53                  *.*"]
    assert sockstat.rows(socks, files, sockstat.ONLY_LISTEN, set(), True)[1:] == out[2:]
    assert sockstat.rows(socks, files, sockstat.ONLY_CONNECTED, set(), True)[1:] == out[1:2]
    assert sockstat.rows(socks, files, 0, {80}, True)[1:] == out[1:2]
