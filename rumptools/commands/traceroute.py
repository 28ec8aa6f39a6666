"""rump.traceroute: print the route packets take through a rump kernel's network (LBL traceroute).

    rump.traceroute [-nI] [-f first_ttl] [-m max_ttl] [-p port] [-q nqueries] [-w waittime] host
UDP probes (12 data bytes: 40-byte packets) to port 33434 + probe number
with TTL 1, 2, ...; answers are read from a raw ICMP socket. The hop limit
defaults to net.inet.ip.ttl. Output per formats.md §6 (header on stderr).
"""
import socket
import struct
import sys
import time

import click

from . import _cli
from ..abi import net as N
from ..abi.poll import POLLIN

USAGE = ("Usage: %s [-adDFPIlMnrvx] [-g gateway] [-i iface] [-f first_ttl]\n"
         "\t[-m max_ttl] [-p port] [-q nqueries] [-s src_addr] [-t tos]\n"
         "\t[-w waittime] [-z pausemsecs] [-A as_server] host [packetlen]")
MARKS = {0: " !N", 1: " !H", 2: " !P", 4: " !F", 5: " !S", 13: " !X", 9: " !N", 10: " !H"}


def num(text, what, lo, hi):
    try:
        v = int(text)
    except ValueError:
        _cli.die("%s must be > %d and <= %d" % (what, lo - 1, hi))
    if not lo <= v <= hi:
        _cli.die("%s must be > %d and <= %d" % (what, lo - 1, hi))
    return v


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-n", "numeric", is_flag=True)
@click.option("-I", "icmp", is_flag=True)
@click.option("-f", "first")
@click.option("-m", "maxttl")
@click.option("-p", "port")
@click.option("-q", "nqueries")
@click.option("-w", "waittime")
@click.argument("host", required=False)
def cmd(numeric, icmp, first, maxttl, port, nqueries, waittime, host):
    if host is None:
        _cli.NetBSDCommand.usage(cmd)
    try:
        dst = socket.gethostbyname(host)
    except OSError:
        _cli.die("unknown host %s" % host)
    client = _cli.connect()
    try:
        default_ttl = client.sysctl("net.inet.ip.ttl", 0, None)[1]
    except OSError:
        default_ttl = 64
    max_ttl = num(maxttl, "max ttl", 1, 255) if maxttl else default_ttl
    first_ttl = num(first, "first ttl", 1, max_ttl) if first else 1
    nprobes = num(nqueries, "nprobes", 1, 1000) if nqueries else 3
    wait = num(waittime, "wait time", 2, 86400) if waittime else 5
    base = num(port, "port", 1, 65535) if port else 33434
    try:
        rs = client.socket(N.AF_INET, N.SOCK_RAW, N.IPPROTO_ICMP)
        us = client.socket(N.AF_INET, N.SOCK_DGRAM, 0)
        client.bind(us, (N.AF_INET, "0.0.0.0", 0))
    except OSError as e:
        _cli.die(_cli.syscall_error("socket", e))
    _f, _src, sport = client.getsockname(us)
    sys.stderr.write("%s to %s (%s), %d hops max, 40 byte packets\n" % (_cli.progname(), host, dst, max_ttl))
    sys.stderr.flush()
    seq = 0
    for ttl in range(first_ttl, max_ttl + 1):
        sys.stdout.write("%2d " % ttl)
        sys.stdout.flush()
        last = None
        got_there = unreachable = 0
        for _ in range(nprobes):
            seq += 1
            dport = base + seq
            client.setsockopt(us, N.IPPROTO_IP, N.IP_TTL, ttl)
            t0 = time.monotonic()
            try:
                client.sendto(us, struct.pack("!BB10x", seq & 0xff, ttl), 0, (N.AF_INET, dst, dport))
            except OSError as e:
                if e.errno in (51, 65) and ttl == first_ttl:
                    _cli.die("Can't find any network interfaces")
                _cli.warn(_cli.syscall_error("sendto", e))
            answer = None
            deadline = t0 + wait
            for _ in range(10000):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                rev = client.poll(((rs, POLLIN),), int(left * 1000) + 1)
                if not rev or not rev[0] & POLLIN:
                    continue
                data, _frm = client.recvfrom(rs, 512, 0)
                answer = match(data, sport, dport)
                if answer is not None:
                    break
            if answer is None:
                sys.stdout.write(" *")
                sys.stdout.flush()
                continue
            rtt = (time.monotonic() - t0) * 1000.0
            frm, itype, code, rttl = answer
            if frm != last:
                sys.stdout.write(" %s" % frm if numeric else " %s (%s)" % (_name(frm), frm))
                last = frm
            sys.stdout.write("  %.3f ms" % rtt)
            if itype == 3:
                if code == 3:
                    if rttl <= 1:
                        sys.stdout.write(" !")
                    got_there += 1
                else:
                    sys.stdout.write(MARKS.get(code, " !<%d>" % code))
                    unreachable += 1
            sys.stdout.flush()
        sys.stdout.write("\n")
        sys.stdout.flush()
        if got_there or (unreachable and unreachable >= nprobes - 1):
            break
    client.close(us)
    client.close(rs)


def _name(addr):
    try:
        return socket.gethostbyaddr(addr)[0]
    except OSError:
        return addr


def match(data, sport, dport):
    """(from, type, code, ttl) for an ICMP time exceeded or unreachable about our probe."""
    if len(data) < 20:
        return None
    hl = (data[0] & 0xf) << 2
    icmp = data[hl:]
    if len(icmp) < 8 + 20 + 8:
        return None
    t, code = icmp[0], icmp[1]
    if t not in (3, 11):
        return None
    q = icmp[8:]
    qhl = (q[0] & 0xf) << 2
    if q[9] != 17 or len(q) < qhl + 4:
        return None
    qs, qd = struct.unpack_from("!HH", q, qhl)
    if qs != sport or qd != dport:
        return None
    return socket.inet_ntoa(data[12:16]), t, code, data[8]


def main():
    cmd.main()


if __name__ == "__main__":
    main()
