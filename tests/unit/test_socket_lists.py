"""TCP rows of the pcblists (inet.tcp_pcbs, filled by TCP) and the socket lists of rump.netstat and
rump.sockstat, from records made in process: the formats of specs/net.md §12."""
import socket
import types

from rumptools.abi import kinfo_pcb as K
from rumptools.abi import net as N
from rumptools.commands import netstat, sockstat

from .kernelkit import boot, call, spawn


class FakeClient:
    def __init__(self, nodes):
        self.nodes = nodes

    def sysctl(self, name, op, value):
        if name not in self.nodes:
            raise OSError(2, "No such file or directory")
        return ("struct", self.nodes[name], 0)


def _pcb(so, laddr, lport, faddr, fport, anon=False, **kw):
    return types.SimpleNamespace(so=so, laddr=laddr, lport=lport, faddr=faddr, fport=fport, anon=anon, **kw)


def test_tcp_pcblist_from_the_tcp_slot():
    k = boot("rumpnet", "rumpnet_net", "rumpnet_netinet")
    p = spawn(k)
    try:
        inet = k.slot("inet")
        assert inet.tcp_pcbs == []
        pr = types.SimpleNamespace(tstate=lambda so: so.t)
        est = types.SimpleNamespace(pr=pr, t=4, sb=types.SimpleNamespace(cc=7), rcv_cc=0, state=0x4,
                                    snd_sb=types.SimpleNamespace(cc=3))
        lis = types.SimpleNamespace(pr=pr, t=1, sb=None, rcv_cc=0, state=0)
        with k.lock:
            inet.tcp_pcbs[:] = [_pcb(est, 0x0a010101, 65534, 0x0a010102, 80, anon=True),
                                _pcb(lis, 0, 22, 0, 0),
                                _pcb(None, 0x0a010101, 1000, 0x0a010102, 2000, tstate=10)]
        rows = K.records(call(k, p, "sysctl", "net.inet.tcp.pcblist", 0, None)[1])
        assert [(r["tstate"], r["rcvq"], r["sndq"], r["pflags"], r["protocol"], r["type"]) for r in rows] == [
            (4, 7, 3, K.INP_ANONPORT, 6, N.SOCK_STREAM), (1, 0, 0, 0, 6, N.SOCK_STREAM),
            (10, 0, 0, 0, 6, N.SOCK_STREAM)]
        assert rows[0]["src"] == (N.AF_INET, "10.1.1.1", 65534) and rows[0]["dst"] == (N.AF_INET, "10.1.1.2", 80)
        assert rows[0]["sostate"] & K.SS_ISCONNECTED and rows[0]["prstate"] == K.INP_CONNECTED
        assert rows[1]["prstate"] == K.INP_BOUND and rows[2]["sockaddr"] == 0
    finally:
        k.reboot(0)


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
