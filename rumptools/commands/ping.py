"""rump.ping: send ICMP echo requests through a rump kernel (NetBSD's ping(8)).

    rump.ping [-dfLnqRrv] [-c count] [-i wait] [-l preload] [-p pattern]
              [-s packetsize] [-T ttl] [-t tos] [-w deadline] [-I srcaddr] host
Sends its own IP header (IP_HDRINCL: ip_len and ip_off in host order, TTL
255 unless -T) on a raw ICMP socket of the rump kernel; the echo data starts
with a 16-byte timespec (the client's monotonic clock), so round-trip times
are real. Output and exit statuses are NetBSD's (specs/formats.md §5):
0 if any reply came back, 2 if none, 1 for errors.
"""
import math
import os
import signal
import socket
import struct
import sys
import time

import click

from . import _cli
from ..abi import errnos
from ..abi import net as N
from ..abi.poll import POLLIN

USAGE = ("usage: \n%s [-aCDdfLnoPQqRrv] [-c count] [-g gateway] [-h host] [-I addr] [-i interval]\n"
         "     [-l preload] [-p pattern] [-s size] [-t tos] [-T ttl] [-w maxwait] host")
TIMESPEC = struct.Struct("=qq")
ICMP_ECHO, ICMP_ECHOREPLY, ICMP_UNREACH, ICMP_TIMXCEED = 8, 0, 3, 11
UNREACH_TEXT = {0: "Destination Net Unreachable", 1: "Destination Host Unreachable",
                2: "Destination Protocol Unreachable", 3: "Destination Port Unreachable",
                4: "frag needed and DF set", 5: "Source Route Failed"}


def cksum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


# -R: a record-route option with room for 9 addresses, as ping.c's rspace
RR_OPTION = bytes((7, 39, 4)) + bytes(36) + bytes((0,))


def build(ident, seq, data, dst, ttl, tos, options=b""):
    icmp = struct.pack("!BBHHH", ICMP_ECHO, 0, 0, ident, seq) + data
    icmp = icmp[:2] + struct.pack("!H", cksum(icmp)) + icmp[4:]
    hl = 20 + len(options)
    total = hl + len(icmp)
    # ip_len and ip_off travel in host order on a HDRINCL raw socket (NetBSD)
    hdr = struct.pack("!BB", 0x40 | hl >> 2, tos) + struct.pack("=H", total) + struct.pack("!H", 0) + \
        struct.pack("=H", 0) + struct.pack("!BBH4s4s", ttl, 1, 0, b"\0" * 4, socket.inet_aton(dst)) + options
    return hdr + icmp


class Pinger:
    def __init__(self, o):
        self.o = o
        self.sent = 0
        self.received = 0
        self.dups = 0
        self.rtts = []
        self.seen = set()
        self.ident = os.getpid() & 0xffff
        self.stop_sending = False
        self.interrupts = 0
        self.old_rr = None
        self.rr_missing_said = False

    def stats(self, host):
        o = self.o
        if o["flood"]:
            sys.stdout.write("\n")
        out = ["", "----%s PING Statistics----" % host]
        line = "%d packets transmitted, %d packets received, " % (self.sent, self.received)
        if self.dups:
            line += "+%d duplicates, " % self.dups
        if self.sent:
            if self.received > self.sent:
                line += "-- somebody's duplicating packets!"
            else:
                line += "%.1f%% packet loss" % ((self.sent - self.received) * 100.0 / self.sent)
        out.append(line)
        if self.rtts and o["timing"]:
            n = len(self.rtts)
            avg = sum(self.rtts) / n
            sd = math.sqrt(sum((r - avg) ** 2 for r in self.rtts) / (n - 1)) if n > 1 else 0.0
            out.append("round-trip min/avg/max/stddev = %.6f/%.6f/%.6f/%.6f ms" % (min(self.rtts), avg,
                                                                                     max(self.rtts), sd))
        if o["flood"] and self.elapsed > 0:
            out[-1] += "\n  %.1f packets/sec sent,  %.1f packets/sec received" % (
                self.sent / self.elapsed, self.received / self.elapsed)
        sys.stdout.write("\n".join(out) + "\n")
        sys.stdout.flush()


def parse_number(text, what, lo=None, hi=None, kind=int):
    try:
        v = kind(text)
    except ValueError:
        _cli.die("Bad/invalid %s: %s" % (what, text))
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        _cli.die("Bad/invalid %s: %s" % (what, text))
    return v


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-c", "count")
@click.option("-i", "interval")
@click.option("-l", "preload")
@click.option("-p", "pattern")
@click.option("-s", "size")
@click.option("-T", "ttl")
@click.option("-t", "tos")
@click.option("-w", "deadline")
@click.option("-I", "source")
@click.option("-f", "flood", is_flag=True)
@click.option("-q", "quiet", is_flag=True)
@click.option("-n", "numeric", is_flag=True)
@click.option("-v", "verbose", is_flag=True)
@click.option("-d", "debug", is_flag=True)
@click.option("-r", "dontroute", is_flag=True)
@click.option("-L", "noloop", is_flag=True)
@click.option("-R", "rroute", is_flag=True)
@click.argument("host", required=False)
def cmd(count, interval, preload, pattern, size, ttl, tos, deadline, source, flood, quiet, numeric, verbose,
        debug, dontroute, noloop, rroute, host):
    if host is None:
        _cli.NetBSDCommand.usage(cmd)
    o = {"flood": flood, "rroute": rroute}
    npackets = parse_number(count, "number of packets to transmit", 1) if count is not None else 0
    wait = parse_number(interval, "timing interval", 0.0, None, float) if interval is not None else 1.0
    if flood and interval is None:
        wait = 0.01
    if flood and interval is not None:
        _cli.die("-f and -i incompatible options")
    nload = parse_number(preload, "preload value", 0) if preload is not None else 0
    datalen = parse_number(size, "packet size", 0, 65507) if size is not None else 56
    ttlv = parse_number(ttl, "ttl", 0, 255) if ttl is not None else 255
    tosv = parse_number(tos, "TOS", 0, 255) if tos is not None else 0
    maxwait = parse_number(deadline, "deadline", 0.0, None, float) if deadline is not None else None
    fill = bytes(range(256)) * 257
    if pattern is not None:
        try:
            pat = bytes.fromhex(pattern if len(pattern) % 2 == 0 else "0" + pattern)
        except ValueError:
            _cli.die("patterns must be specified with 1-16 hex digits")
        fill = (pat or b"\0") * (65536 // max(1, len(pat)) + 1)
    o["timing"] = datalen >= TIMESPEC.size
    try:
        dst = socket.gethostbyname(host)
    except (OSError, UnicodeError) as e:
        _cli.die('Cannot resolve "%s" (%s)' % (host, getattr(e, "strerror", None) or "Unknown host"))
    client = _cli.connect()
    try:
        s = client.socket(N.AF_INET, N.SOCK_RAW, N.IPPROTO_ICMP)
        client.setsockopt(s, N.IPPROTO_IP, N.IP_HDRINCL, 1)
        client.setsockopt(s, N.SOL_SOCKET, N.SO_RCVBUF, 60 * 1024)
        if source:
            client.bind(s, (N.AF_INET, source, 0))
    except OSError as e:
        _cli.die(_cli.syscall_error("socket", e))
    try:        # after a request, one blocking receive (at most an interval) instead of poll + recvfrom
        client.setsockopt(s, N.SOL_SOCKET, N.SO_RCVTIMEO, max(1, int(wait * 1e6)))
    except OSError as e:
        _cli.die(_cli.syscall_error("setsockopt", e))
    expect = False
    p = Pinger(o)
    sys.stdout.write("PING %s (%s): %d data bytes\n" % (host, dst, datalen))
    sys.stdout.flush()

    def on_int(signo, frame):
        p.interrupts += 1
        p.stop_sending = True
        if p.interrupts > 1 or p.received >= p.sent or not p.received:
            raise KeyboardInterrupt
    signal.signal(signal.SIGINT, on_int)
    start = time.monotonic()
    dead = start + maxwait if maxwait else None
    next_send = start
    last_sent_at = None
    maxrtt = 0.0
    status = 0

    def send_one():
        nonlocal last_sent_at
        seq = p.sent & 0xffff
        if o["timing"]:
            now = time.monotonic()
            sec = int(now)
            data = TIMESPEC.pack(sec, int((now - sec) * 1e9)) + fill[TIMESPEC.size:datalen]
        else:
            data = fill[:datalen]
        pkt = build(p.ident, seq, data, dst, ttlv, tosv, RR_OPTION if rroute else b"")
        p.sent += 1
        last_sent_at = time.monotonic()
        try:
            client.sendto(s, pkt, 0, (N.AF_INET, dst, 0))
        except OSError as e:
            _cli.warn(_cli.syscall_error("sendto", e))
            return False
        if flood:
            sys.stdout.write(".")
            sys.stdout.flush()
        return True

    try:
        for _ in range(nload):
            send_one()
        for _ in range(100000000):
            now = time.monotonic()
            if dead is not None and now >= dead:
                break
            if npackets and p.sent >= npackets:
                p.stop_sending = True
                if p.received >= npackets:
                    break
                linger = max(2 * maxrtt / 1000.0, 10 * wait if wait < 1.0 else 10.0)
                if last_sent_at is not None and now - last_sent_at >= linger:
                    break
            if p.stop_sending and p.received >= p.sent:
                break
            if not p.stop_sending and (now >= next_send or (flood and p.received >= p.sent)):
                expect = send_one()
                next_send += wait
                if next_send < now - wait:
                    next_send = now + wait
                continue
            until = next_send if not p.stop_sending else now + 0.1
            if dead is not None:
                until = min(until, dead)
            if not flood and not expect:
                timeout = max(0, int((until - now) * 1000))
                try:
                    rev = client.poll(((s, POLLIN),), timeout)
                except OSError as e:
                    _cli.warn(_cli.syscall_error("poll", e))
                    status = 1
                    break
                if not rev or not rev[0] & POLLIN:
                    continue
            expect = False
            try:
                data, frm = client.recvfrom(s, 65536, 0)
            except OSError as e:
                if e.errno == errnos.EAGAIN:
                    continue
                _cli.warn(_cli.syscall_error("recvfrom", e))
                continue
            rtt = handle(p, o, data, quiet, verbose)
            if rtt is not None:
                maxrtt = max(maxrtt, rtt)
    except KeyboardInterrupt:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    p.elapsed = time.monotonic() - start
    p.stats(host)
    try:
        client.close(s)
    except OSError:
        pass
    if status:
        sys.exit(status)
    sys.exit(0 if p.received else 2)


def record_route_text(p, options):
    """What ping.c prints after a reply line for -R: the recorded route, or that it is the same."""
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 2 >= len(options):
            break
        olen, ptr = options[i + 1], options[i + 2]
        if kind == 7:
            n = min(ptr, olen) - 4
            if n <= 0:
                return ""
            route = bytes(options[i + 3:i + 3 + n])
            if route == p.old_rr:
                return "\t(same route)"
            p.old_rr = route
            return "\nRR: " + "\n".join("\t%s" % socket.inet_ntoa(route[j:j + 4])
                                       for j in range(0, len(route) - 3, 4))
        i += max(olen, 2)
    if not p.rr_missing_said:
        p.rr_missing_said = True
        return "\nremote host does not support record route"
    return ""


def handle(p, o, data, quiet, verbose):
    """Account for one received datagram; returns the RTT (ms) of an echo reply of ours."""
    if len(data) < 20:
        return None
    hl = (data[0] & 0xf) << 2
    icmp = data[hl:]
    src = socket.inet_ntoa(data[12:16])
    if len(icmp) < 8:
        return None
    t, code, _ck, ident, seq = struct.unpack_from("!BBHHH", icmp)
    if t == ICMP_ECHOREPLY:
        if ident != p.ident:
            return None
        dup = seq in p.seen
        if dup:
            p.dups += 1
        else:
            p.seen.add(seq)
            p.received += 1
        rtt = None
        if o["timing"] and len(icmp) >= 8 + TIMESPEC.size:
            sec, nsec = TIMESPEC.unpack_from(icmp, 8)
            rtt = (time.monotonic() - (sec + nsec / 1e9)) * 1000.0
            if not dup:
                p.rtts.append(rtt)
        if o["flood"]:
            sys.stdout.write("\b \b")
            sys.stdout.flush()
        elif not quiet:
            line = "%d bytes from %s: icmp_seq=%u ttl=%d" % (len(icmp), src, seq, data[8])
            if rtt is not None:
                line += " time=%.6f ms" % rtt
            if dup:
                line += " DUP!"
            if o["rroute"]:
                line += record_route_text(p, data[20:hl])
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        return rtt
    if t in (ICMP_UNREACH, ICMP_TIMXCEED) and len(icmp) >= 8 + 20 + 8:
        q = icmp[8:]
        qhl = (q[0] & 0xf) << 2
        if q[9] != 1 or len(q) < qhl + 8:
            return None
        qt, _c, _k, qid, qseq = struct.unpack_from("!BBHHH", q, qhl)
        if qt != ICMP_ECHO or qid != p.ident:
            return None
        if t == ICMP_TIMXCEED:
            text = "Time To Live exceeded" if code == 0 else "Frag reassembly time exceeded"
        else:
            text = UNREACH_TEXT.get(code, "Destination Unreachable, Bad Code: %d" % code)
        if not quiet:
            sys.stdout.write("%d bytes from %s: %s\n" % (len(icmp), src, text))
            sys.stdout.flush()
    return None


def main():
    cmd.main()


if __name__ == "__main__":
    main()
