"""Networking end to end: rump_server processes on shmif buses, driven by the real commands.

Frames on the buses are checked with scapy (tests only); scapy-built frames
are pushed onto a bus through the host bus layer."""
import os
import random
import re
import time

import pytest

from rumptools.formats import shmif
from rumptools.kernel.rumpuser.shmifbus import ShmifBus

NET = ("-lrumpnet", "-lrumpnet_net", "-lrumpnet_netinet", "-lrumpnet_shmif")


def ok(h, *argv):
    r = h.run(*argv)
    assert r.returncode == 0, (argv, r.stdout.decode(), r.stderr.decode())
    return r.stdout.decode()


def attach(h, ifname, bus, addr, *more):
    ok(h, "rump.ifconfig", ifname, "create")
    ok(h, "rump.ifconfig", ifname, "linkstr", bus)
    ok(h, "rump.ifconfig", ifname, "inet", addr, *more)


@pytest.fixture
def two(servers, tmp_path):
    bus = str(tmp_path / "bus")
    a = servers(*NET, name="a")
    b = servers(*NET, name="b")
    attach(a, "shmif0", bus, "10.1.1.1")
    attach(b, "shmif0", bus, "10.1.1.2")
    return a, b, bus


def test_two_kernels_ping_and_the_tools_show_it(two):
    a, b, bus = two
    r = a.run("rump.ping", "-c", "3", "10.1.1.2")
    out = r.stdout.decode()
    assert r.returncode == 0, out + r.stderr.decode()
    lines = out.splitlines()
    assert lines[0] == "PING 10.1.1.2 (10.1.1.2): 56 data bytes"
    for seq in range(3):
        assert re.fullmatch(r"64 bytes from 10\.1\.1\.2: icmp_seq=%d ttl=255 time=\d+\.\d{6} ms" % seq,
                            lines[1 + seq])
    assert lines[4:7] == ["", "----10.1.1.2 PING Statistics----",
                          "3 packets transmitted, 3 packets received, 0.0% packet loss"]
    assert re.fullmatch(r"round-trip min/avg/max/stddev = (\d+\.\d{6}/){3}\d+\.\d{6} ms", lines[7])
    ifc = ok(a, "rump.ifconfig", "-a").splitlines()
    assert ifc[:2] == ["lo0: flags=0x8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 33624",
                       "\tinet 127.0.0.1 netmask 0xff000000"]
    assert ifc[2] == "shmif0: flags=0x8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500"
    assert re.fullmatch(r"\taddress: b2:a0(:[0-9a-f]{2}){4}", ifc[3])
    assert ifc[4:] == ["\tlinkstr: " + bus, "\tinet 10.1.1.1 netmask 0xff000000 broadcast 10.255.255.255"]
    assert ok(a, "rump.ifconfig", "-l") == "lo0 shmif0\n"
    mac_a = ifc[3].split()[1]
    mac_b = ok(b, "rump.ifconfig", "shmif0").splitlines()[1].split()[1]
    assert ok(a, "rump.arp", "-an") == ("? (10.1.1.2) at %s on shmif0\n? (10.1.1.1) at %s on shmif0 permanent\n"
                                        % (mac_b, mac_a))
    assert ok(a, "rump.route", "add", "default", "10.1.1.254") == "add net default: gateway 10.1.1.254\n"
    show = ok(a, "rump.route", "-n", "show")
    assert show == (
        "Routing tables\n\nInternet:\n"
        "Destination        Gateway            Flags    Refs      Use    Mtu Interface\n"
        "default            10.1.1.254         UG          -        -      -  shmif0\n"
        "10/8               link#2             U           -        -      -  shmif0\n"
        "10.1.1.1           link#2             UHl         -        -      -  lo0\n"
        "127.0.0.1          lo0                UHl         -        -  33624  lo0\n")
    rn = ok(a, "rump.netstat", "-rn")
    assert "default            10.1.1.254         UGS" in rn and "10/8               link#2             UC " in rn
    r = a.run("rump.route", "add", "default", "10.1.1.254")
    assert r.returncode == 1
    assert r.stdout.decode() == "add net default: gateway 10.1.1.254: File exists\n"
    assert r.stderr.decode() == "rump.route: writing to routing socket: File exists\n"
    ok(a, "rump.route", "delete", "default")
    r = a.run("rump.route", "delete", "default")
    assert (r.returncode, r.stdout.decode()) == (1, "delete net default: not in table\n")
    ni = ok(a, "rump.netstat", "-in").splitlines()
    assert ni[0] == "Name  Mtu   Network       Address              Ipkts Ierrs    Opkts Oerrs Colls"
    assert re.match(r"shmif 1500  10/8          10\.1\.1\.1 +\d+ +0 +\d+ +0 +0$", ni[-1])


def test_command_errors(two):
    a, _b, _bus = two
    r = a.run("rump.ifconfig", "shmif0", "create")
    assert (r.returncode, r.stderr.decode()) == (1, "rump.ifconfig: clone_command: File exists\n"
                                                    "rump.ifconfig: exec_matches: File exists\n")
    r = a.run("rump.ifconfig", "shmif9", "inet", "10.9.9.9")
    assert (r.returncode, r.stderr.decode()) == (1, "rump.ifconfig: commit_address: getifflags: "
                                                    "Device not configured\n")
    ok(a, "rump.ifconfig", "shmif1", "create")
    assert ok(a, "rump.ifconfig", "shmif1") == "shmif1: flags=0x8802<BROADCAST,SIMPLEX,MULTICAST> mtu 1500\n" \
        "\taddress: %s\n" % ok(a, "rump.ifconfig", "shmif1").splitlines()[1].split()[1]
    r = a.run("rump.ifconfig", "shmif1", "inet", "10.5.5.5")
    assert (r.returncode, r.stderr.decode()) == (1, "rump.ifconfig: SIOCAIFADDR: Device not configured\n")
    r = a.run("rump.ifconfig", "shmif0", "-alias", "10.7.7.7")
    assert r.stderr.decode() == "rump.ifconfig: SIOCDIFADDR: Can't assign requested address\n"
    r = a.run("rump.ping", "-c", "x", "10.1.1.2")
    assert (r.returncode, r.stderr.decode()) == (1, "rump.ping: Bad/invalid number of packets to transmit: x\n")
    r = a.run("rump.arp", "-n", "10.1.1.99")
    assert (r.returncode, r.stderr.decode()) == (1, "rump.arp: 10.1.1.99 (10.1.1.99) -- no entry\n")
    r = a.run("rump.arp", "-s", "10.1.1.50", "zz:zz")
    assert r.stderr.decode() == "rump.arp: invalid link-level address 'zz:zz'\n"
    ok(a, "rump.arp", "-s", "10.1.1.50", "02:00:00:00:00:50")
    assert "? (10.1.1.50) at 02:00:00:00:00:50 on shmif0 permanent" in ok(a, "rump.arp", "-an")
    ok(a, "rump.arp", "-d", "10.1.1.50")
    assert "10.1.1.50" not in ok(a, "rump.arp", "-an")


def test_alias_and_down(two):
    a, _b, _bus = two
    ok(a, "rump.ifconfig", "shmif0", "inet", "10.1.1.5", "alias")
    assert "\tinet alias 10.1.1.5 netmask 0xff000000 broadcast 10.255.255.255 tentative\n" in \
        ok(a, "rump.ifconfig", "shmif0")                        # DAD on an interface that is up
    t0 = time.monotonic()
    ok(a, "rump.ifconfig", "-w", "10")
    assert 3 < time.monotonic() - t0 < 10
    assert "\tinet alias 10.1.1.5 netmask 0xff000000 broadcast 10.255.255.255\n" in ok(a, "rump.ifconfig", "shmif0")
    ok(a, "rump.ifconfig", "shmif0", "inet", "10.1.1.5", "-alias")
    assert "10.1.1.5" not in ok(a, "rump.ifconfig", "shmif0")
    ok(a, "rump.ifconfig", "shmif0", "down")
    assert ok(a, "rump.ifconfig", "shmif0").startswith("shmif0: flags=0x8802<BROADCAST,SIMPLEX,MULTICAST> mtu 1500\n")
    r = a.run("rump.ping", "-c", "1", "-w", "2", "10.1.1.2")
    assert r.returncode == 2
    ok(a, "rump.ifconfig", "shmif0", "up")
    assert a.run("rump.ping", "-c", "1", "10.1.1.2").returncode == 0
    v = ok(a, "rump.ifconfig", "-v", "shmif0").splitlines()
    assert re.fullmatch(r"\tinput: \d+ packets, \d+ bytes(, \d+ multicasts?)?", v[3]), v
    assert re.fullmatch(r"\toutput: \d+ packets, \d+ bytes(, \d+ multicasts?)?", v[4]), v
    ok(a, "rump.ifconfig", "shmif0", "destroy")
    assert ok(a, "rump.ifconfig", "-l") == "lo0\n"
    assert "10.1.1.1" not in ok(a, "rump.netstat", "-rn") and "10.1.1.1" not in ok(a, "rump.arp", "-an")


def test_three_kernels_forwarding_and_traceroute(servers, tmp_path):
    bus1, bus2 = str(tmp_path / "bus1"), str(tmp_path / "bus2")
    a = servers(*NET, name="a")
    r = servers(*NET, name="r")
    b = servers(*NET, name="b")
    attach(a, "shmif0", bus1, "10.1.1.1/24")
    attach(r, "shmif0", bus1, "10.1.1.254", "netmask", "255.255.255.0")
    attach(r, "shmif1", bus2, "10.2.2.254/24")
    attach(b, "shmif0", bus2, "10.2.2.2/24")
    assert "10.2.2/24" in ok(r, "rump.netstat", "-rn")
    ok(a, "rump.route", "add", "default", "10.1.1.254")
    ok(b, "rump.route", "add", "default", "10.2.2.254")
    out = ok(a, "rump.ping", "-c", "2", "10.2.2.2")
    assert "2 packets transmitted, 2 packets received" in out and "ttl=254" in out  # one hop
    t = a.run("rump.traceroute", "-n", "-w", "2", "10.2.2.2")
    assert t.returncode == 0, t.stderr.decode()
    assert t.stderr.decode() == "rump.traceroute to 10.2.2.2 (10.2.2.2), 64 hops max, 40 byte packets\n"
    hops = t.stdout.decode().splitlines()
    assert len(hops) == 2
    assert re.fullmatch(r" 1  10\.1\.1\.254( +\d+\.\d{3} ms){3}", hops[0]), hops
    assert re.fullmatch(r" 2  10\.2\.2\.2( +\d+\.\d{3} ms){3}", hops[1]), hops
    # TTL 1 towards b: the forwarder answers time exceeded
    out = a.run("rump.ping", "-c", "1", "-T", "1", "-w", "3", "10.2.2.2").stdout.decode()
    assert "36 bytes from 10.1.1.254: Time To Live exceeded" in out
    ok(r, "rump.sysctl", "-w", "net.inet.ip.forwarding=0")
    assert a.run("rump.ping", "-c", "1", "-w", "2", "10.2.2.2").returncode == 2
    stats = ok(r, "rump.netstat", "-s", "-p", "ip")
    assert re.search(r"\t[1-9]\d* packets? forwarded", stats)
    assert re.search(r"\t[1-9]\d* packets? not forwardable", stats)


# -- frames checked by scapy ------------------------------------------------------------------
def bus_frames(path):
    with open(path, "rb") as f:
        raw = f.read()
    out = []
    r = shmif.Ring(memoryview(bytearray(raw)))
    for _at, _length, _sec, _usec, sender, frame in shmif.walk(r):
        out.append((sender, bytes(frame)))
    r.release()
    return out


def test_frames_decode_in_scapy_and_scapy_frames_are_accepted(two):
    scapy = pytest.importorskip("scapy.all", reason="scapy is a test dependency")
    Ether, IP, ICMP, ARP, UDP = scapy.Ether, scapy.IP, scapy.ICMP, scapy.ARP, scapy.UDP
    a, b, bus = two
    ok(a, "rump.ping", "-c", "2", "10.1.1.2")
    udp_ok = a.run("rump.traceroute", "-n", "-q", "1", "-w", "2", "10.1.1.2")
    assert udp_ok.returncode == 0
    frames = bus_frames(bus)
    assert len(frames) >= 8
    kinds = set()
    for _sender, frame in frames:
        p = Ether(frame)
        names = [layer.__name__ for layer in p.layers()]
        assert "Padding" not in names and (p.haslayer(IP) or p.haslayer(ARP)), p.summary()
        assert bytes(p) == frame
        if p.haslayer(IP):
            ip = p[IP]
            assert ip.len == len(bytes(ip)) and ip.version == 4 and ip.ihl >= 5
            assert ip.haslayer(ICMP) or ip.haslayer(UDP), p.summary()
            again = IP(bytes(ip))
            del again.chksum
            assert IP(bytes(again)).chksum == ip.chksum, p.summary()
            if ip.haslayer(ICMP):
                c = ICMP(bytes(ip[ICMP]))
                ck = c.chksum
                del c.chksum
                assert ICMP(bytes(c)).chksum == ck
                kinds.add(("icmp", c.type))
            if ip.haslayer(UDP):
                kinds.add(("udp", ip[UDP].dport >= 33434))
        if p.haslayer(ARP):
            kinds.add(("arp", p[ARP].op))
    assert {("icmp", 8), ("icmp", 0), ("arp", 1), ("arp", 2), ("udp", True), ("icmp", 3)} <= kinds, kinds
    mac_b = ok(b, "rump.ifconfig", "shmif0").splitlines()[1].split()[1]
    me = "02:00:00:00:00:09"
    host = ShmifBus(bus)
    try:
        reader = host.reader()

        def replies(pred, timeout=5.0):
            got = []
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                for _l, _s, _u, snd, fr in host.receive(reader):
                    if snd == 0x5ca9:               # what this test sent
                        continue
                    p = Ether(bytes(fr))
                    if pred(p):
                        got.append(p)
                if got:
                    return got
                host.wait(0.1)
            return got

        def send(pkt):
            host.send([bytes(pkt)], 0, 0, 0x5ca9)

        send(Ether(dst="ff:ff:ff:ff:ff:ff", src=me) / ARP(op=1, hwsrc=me, psrc="10.1.1.9", pdst="10.1.1.2"))
        got = replies(lambda p: p.haslayer(ARP) and p[ARP].op == 2 and p[ARP].pdst == "10.1.1.9")
        assert got and got[0][ARP].hwsrc == mac_b and got[0].dst == me
        # echo with a record-route option: the reply carries it with B's address recorded
        rr = scapy.IPOption_RR(routers=["0.0.0.0"] * 3)
        send(Ether(dst=mac_b, src=me) / IP(src="10.1.1.9", dst="10.1.1.2", options=[rr]) /
             ICMP(id=99, seq=1) / b"options")
        got = replies(lambda p: p.haslayer(ICMP) and p[ICMP].type == 0 and p[ICMP].id == 99)
        assert got and bytes(got[0][ICMP].payload) == b"options"
        opts = got[0][IP].options
        assert opts and opts[0].option == 7 and opts[0].routers[0] == "10.1.1.2"
        # fragments out of order
        frags = scapy.fragment(IP(src="10.1.1.9", dst="10.1.1.2", id=777) / ICMP(id=100, seq=1) /
                               (b"F" * 3000), fragsize=1000)
        random.Random(5).shuffle(frags)
        for f in frags:
            send(Ether(dst=mac_b, src=me) / f)
        got = replies(lambda p: p.haslayer(IP) and p[IP].dst == "10.1.1.9" and p[IP].proto == 1
                      and (p[IP].flags.MF or p[IP].frag))
        assert got, "no reply to the reassembled echo"
        # bad IP checksum and bad ICMP checksum: no reply
        send(Ether(dst=mac_b, src=me) / IP(src="10.1.1.9", dst="10.1.1.2", chksum=0x1234) / ICMP(id=101))
        send(Ether(dst=mac_b, src=me) / IP(src="10.1.1.9", dst="10.1.1.2") / ICMP(id=102, chksum=0x4321))
        assert not replies(lambda p: p.haslayer(ICMP) and p[ICMP].id in (101, 102), 1.5)
    finally:
        host.close()
    st = ok(b, "rump.netstat", "-s")
    assert re.search(r"\t1 bad header checksum\n", st) and re.search(r"\t1 bad checksum\n", st)


def test_malformed_frames_while_pinging(two):
    """A few thousand malformed frames (the 100,000-frame run is bench/bench_net.py --fuzz)."""
    a, b, bus = two
    fuzz(bus, ok(b, "rump.ifconfig", "shmif0").splitlines()[1].split()[1], 3000, seed=9)
    r = a.run("rump.ping", "-c", "3", "-i", "0.2", "10.1.1.2")
    assert r.returncode == 0 and "3 packets received" in r.stdout.decode()
    assert ok(b, "rump.sysctl", "-n", "kern.ostype") == "NetBSD\n"


def fuzz(bus, mac, n, seed):
    from tests.integration.netfuzz import frames
    host = ShmifBus(bus)
    try:
        batch = []
        for f in frames(bytes.fromhex(mac.replace(":", "")), n, seed):
            batch.append(f)
            if len(batch) == 64:
                host.send(batch, 0, 0, 0xf022)
                batch = []
                time.sleep(0.002)
        host.send(batch, 0, 0, 0xf022)
    finally:
        host.close()


def test_pcap_captures_through_bpf(servers, tmp_path):
    import shutil
    import subprocess
    bus = str(tmp_path / "bus")
    a = servers("-lrumpvfs", "-lrumpdev", *NET, "-lrumpdev_bpf", name="a")
    b = servers(*NET, name="b")
    attach(a, "shmif0", bus, "10.1.1.1")
    attach(b, "shmif0", bus, "10.1.1.2")
    out = str(tmp_path / "cap.pcap")
    p = subprocess.Popen([os.path.join(os.path.dirname(__import__("sys").executable), "rump.pcap"),
                          "-c", "4", "-w", out, "shmif0"], env=a.env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=a.workdir)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and ok(a, "rump.sysctl", "-n", "net.bpf.maxbufsize") and \
                not os.path.exists(out):
            time.sleep(0.05)
        time.sleep(0.3)
        ok(a, "rump.ping", "-c", "2", "10.1.1.2")
        _o, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0 and err.decode().startswith("4 packets captured\n"), err
    from rumptools.formats import pcap
    with open(out, "rb") as f:
        linktype, _snap, recs = pcap.read(f.read())
    assert linktype == 1 and len(recs) == 4
    if shutil.which("tshark"):
        r = subprocess.run(["tshark", "-r", out, "-T", "fields", "-e", "icmp.type", "-e", "arp.opcode"],
                           capture_output=True, timeout=60)
        assert r.returncode == 0
        seen = r.stdout.decode().split()
        assert "8" in seen and "0" in seen, seen
    r = a.run("rump.pcap", "-w", out, "shmif9")
    assert (r.returncode, r.stderr.decode()) == (1, "rump.pcap: shmif9: Device not configured\n")
    r = b.run("rump.pcap", "-w", out, "shmif0")
    assert (r.returncode, r.stderr.decode()) == (1, "rump.pcap: /dev/bpf: Function not implemented\n")


def test_flood_ping_and_preload(two):
    a, _b, _bus = two
    r = a.run("rump.ping", "-f", "-c", "50", "10.1.1.2")
    out = r.stdout.decode()
    assert r.returncode == 0 and "50 packets transmitted, 50 packets received, 0.0% packet loss" in out
    assert re.search(r"  [\d.]+ packets/sec sent,  [\d.]+ packets/sec received\n$", out)
    r = a.run("rump.ping", "-q", "-l", "3", "-c", "3", "-s", "1000", "-p", "ab", "10.1.1.2")
    assert r.returncode == 0 and r.stdout.decode().startswith("PING 10.1.1.2 (10.1.1.2): 1000 data bytes\n\n")
    assert "3 packets received" in r.stdout.decode()
    r = a.run("rump.ping", "-R", "-c", "2", "10.1.1.2")                  # record route: b, then a
    lines = r.stdout.decode().splitlines()
    assert r.returncode == 0 and lines[2:4] == ["RR: \t10.1.1.2", "\t10.1.1.1"], lines
    assert lines[4].startswith("64 bytes from 10.1.1.2: icmp_seq=1 ") and lines[4].endswith(" ms\t(same route)")
    r = a.run("rump.ping", "-c", "1", "-s", "3000", "10.1.1.2")          # fragmented both ways
    assert r.returncode == 0 and "3008 bytes from 10.1.1.2" in r.stdout.decode()


def test_netstat_lists_udp_sockets(two):
    from rumptools.abi import net as N
    from rumptools.sp import client as spclient
    from rumptools.sp import url
    a, _b, _bus = two
    assert ok(a, "rump.netstat", "-n") == ""
    c = spclient.Client(url.parse(a.url)).connect()
    try:
        s = c.socket(N.AF_INET, N.SOCK_DGRAM, 0)
        c.bind(s, (N.AF_INET, "0.0.0.0", 7777))
        t = c.socket(N.AF_INET, N.SOCK_DGRAM, 0)
        c.sock_connect(t, (N.AF_INET, "10.1.1.2", 53))
        port = c.getsockname(t)[2]
        out = ok(a, "rump.netstat", "-an")
        assert out == ("Active Internet connections (including servers)\n"
                       "Proto Recv-Q Send-Q  Local Address          Foreign Address        State\n"
                       "udp        0      0  %-22s 10.1.1.2.53           \n"
                       "udp        0      0  *.7777                 *.*                   \n" % ("10.1.1.1.%d" % port))
        assert ok(a, "rump.netstat", "-n").splitlines()[2:] == ["udp        0      0  %-22s 10.1.1.2.53           "
                                                               % ("10.1.1.1.%d" % port)]
    finally:
        c.disconnect()


def test_sendmmsg_and_recvmmsg_through_the_client_library(two):
    """A batch each way over the wire: the messages' nested values, partial results and
    the deferred error arrive as the kernel made them."""
    from rumptools.abi import errnos
    from rumptools.abi import net as N
    from rumptools.abi.errnos import RumpError
    from rumptools.sp import client as spclient
    from rumptools.sp import url
    a, b, _bus = two
    ca = spclient.Client(url.parse(a.url)).connect()
    cb = spclient.Client(url.parse(b.url)).connect()
    try:
        r = cb.socket(N.AF_INET, N.SOCK_DGRAM, 0)
        cb.bind(r, (N.AF_INET, "0.0.0.0", 7300))
        cb.setsockopt(r, N.SOL_SOCKET, N.SO_RCVTIMEO, 5000000)
        # room for the whole burst: the default 41,600 bytes hold 27 such datagrams (mbuf count)
        cb.setsockopt(r, N.SOL_SOCKET, N.SO_RCVBUF, 1 << 17)
        s = ca.socket(N.AF_INET, N.SOCK_DGRAM, 0)
        ca.sock_connect(s, (N.AF_INET, "10.1.1.2", 7300))
        assert ca.sendto(s, b"arp", 0, None) == 3       # resolve first: ARP holds one packet only
        assert cb.recvfrom(r, 10, 0)[0] == b"arp"
        msgs = [((b"%04d" % i, b"." * 1000), None, None) for i in range(40)]
        msgs[30] = ((b"x" * 10000,), None, None)        # over the send buffer: EMSGSIZE after 30
        assert ca.sendmmsg(s, msgs, 0) == (1004,) * 30
        with pytest.raises(RumpError) as e:
            ca.sendto(s, b"next", 0, None)
        assert e.value.errno == errnos.EMSGSIZE
        got = []
        deadline = time.monotonic() + 20
        while len(got) < 30 and time.monotonic() < deadline:
            got += cb.recvmmsg(r, (2000,) * 64, 64, N.MSG_WAITFORONE, None)
        assert [m[0][:4] for m in got] == [b"%04d" % i for i in range(30)]
        assert all(len(m[0]) == 1004 and m[1][1] == "10.1.1.1" and m[2] == () and m[3] == 0 for m in got)
    finally:
        ca.disconnect()
        cb.disconnect()
