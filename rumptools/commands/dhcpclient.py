"""rump.dhcpclient: configure a rump kernel's interface from a DHCP server
(NetBSD's rump.dhcpclient(1)).

    rump.dhcpclient [-dq] ifname ...

Per interface, as NetBSD's: raise the MTU to 576 if lower, open /dev/bpf in
the kernel (BIOCVERSION, BIOCSETIF, BIOCGBLEN, BIOCIMMEDIATE, BIOCSETF with a
filter for IPv4 UDP to port 68), bring the interface up, read its MAC and
kern.hostname, then one DISCOVER -> OFFER -> REQUEST -> ACK exchange in raw
Ethernet frames written to bpf (no address yet), each wait bounded by 5 s.
The lease (taken from the OFFER, formats/net/dhcp_lease.py) is applied with
SIOCAIFADDR and route messages on a routing socket; standard error says what
was done, as the tutorial shows:

    virt0: adding IP address 192.168.2.125/24
    virt0: adding route to 192.168.2.0/24
    virt0: adding default route via 192.168.2.1
    lease time: 172800 seconds (2.00 days)

Beyond NetBSD's one `ifname`: several interfaces are configured in turn (exit
1 if any failed), -d reports each message sent and taken, -q keeps only
warnings and errors. No lease is kept or renewed.
"""
import math
import os
import sys
import time

import click

from . import _cli
from ..abi import errnos
from ..abi import net as N
from ..abi.poll import POLLIN
from ..abi.syscalls import O_NONBLOCK, O_RDWR
from ..formats.net import bpf as fbpf
from ..formats.net import dhcp
from ..formats.net.dhcp_lease import ALLONES, Lease, cidr, describe, is_subnet_route, ntoa, plan_routes

USAGE = "Usage: %s [-dq] ifname ..."
RESPWAIT = 5.0                  # seconds for each answer (NetBSD's RESPWAIT 5000 ms)
MAX_FRAMES = 100000             # frames looked at in one wait, whatever arrives


class Failure(Exception):
    """Ends the configuration of one interface: err(3)'s message, exit status 1."""


def _err(what, e):
    return Failure(_cli.syscall_error(what, e))


class Session:
    """One interface's exchange and configuration, through a client of the kernel
    (rumptools.sp.client or anything with its methods)."""

    def __init__(self, client, s, rts, name, debug=False, quiet=False, out=None):
        self.c, self.s, self.rts, self.name = client, s, rts, name
        self.debug, self.quiet = debug, quiet
        self.out = out or sys.stderr
        self.bpf = None
        self.pending = []

    def say(self, line, info=True):
        if not (info and self.quiet):
            self.out.write(line + "\n")
            self.out.flush()

    # -- set-up (NetBSD's init_interface, open_socket, up_interface, get_hwaddr) ---------
    def init_interface(self):
        c, name = self.c, self.name
        try:
            self.flags = c.ioctl(self.s, N.SIOCGIFFLAGS, name)
            mtu = c.ioctl(self.s, N.SIOCGIFMTU, name)
            if mtu < dhcp.MTU_MIN:
                c.ioctl(self.s, N.SIOCSIFMTU, (name, dhcp.MTU_MIN))
                mtu = dhcp.MTU_MIN
        except OSError as e:
            raise _err("cannot init %s" % name, e) from None
        self.mtu = mtu

    def open_bpf(self):
        c = self.c
        try:
            fd = c.open("/dev/bpf", O_RDWR | O_NONBLOCK, 0)
        except OSError as e:
            raise _err("bpf", e) from None
        self.bpf = fd
        try:
            major, minor = c.ioctl(fd, N.BIOCVERSION, None)
            if major != 1 or minor < 1:
                raise Failure("bpf: BPF version mismatch")
            c.ioctl(fd, N.BIOCSETIF, self.name)
            self.bufsize = c.ioctl(fd, N.BIOCGBLEN, None)
            c.ioctl(fd, N.BIOCIMMEDIATE, 1)
            c.ioctl(fd, N.BIOCSETF, fbpf.pack_program(dhcp.bpf_program()))
        except OSError as e:
            raise _err("bpf", e) from None

    def up_interface(self):
        try:
            flags = self.c.ioctl(self.s, N.SIOCGIFFLAGS, self.name)
            if not flags & N.IFF_UP:
                self.c.ioctl(self.s, N.SIOCSIFFLAGS, (self.name, flags | N.IFF_UP))
        except OSError:
            pass                        # NetBSD goes on regardless

    def hostname(self):
        try:
            return self.c.sysctl("kern.hostname", 0, None)[1]
        except OSError:
            return "unknown.hostname"

    def hwaddr(self):
        try:
            rows = self.c.ioctl(self.s, N.SIOCGIFCONF, None)
            mac = next((r[2] for r in rows if r[0] == self.name and r[1] == N.AF_LINK), "")
            if not mac:
                raise errnos.RumpError(errnos.EADDRNOTAVAIL)
            return bytes(int(x, 16) for x in mac.split(":"))
        except (OSError, ValueError) as e:
            if not isinstance(e, OSError):
                e = errnos.RumpError(errnos.EINVAL)
            raise _err("failed to get hwaddr for %s" % self.name, e) from None

    # -- the exchange -------------------------------------------------------------------------
    def send(self, kind, requested=None):
        msg = dhcp.client_message(kind, self.xid, self.mac, self.host, self.mtu,
                                  secs=int(time.monotonic()), requested=requested)
        frame = dhcp.client_frame(msg, int.from_bytes(os.urandom(2), "big"))
        if self.debug:
            self.say("%s: sending %s (xid 0x%08x)" % (self.name, dhcp.TYPE_NAMES[kind], self.xid), False)
        try:
            self.c.write(self.bpf, frame)
        except OSError as e:
            raise _err("sending discover failed", e) from None      # NetBSD's text for both

    def receive(self):
        """The next message of our transaction; frames of others are skipped with
        NetBSD's notes. Ends with `timed out waiting for response` RESPWAIT
        seconds after it began, whatever arrives meanwhile."""
        deadline = time.monotonic() + RESPWAIT
        for _ in range(MAX_FRAMES):
            if not self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure("timed out waiting for response")
                try:
                    rev = self.c.poll(((self.bpf, POLLIN),), max(1, math.ceil(left * 1000)))
                except OSError as e:
                    raise _err("poll failed", e) from None
                if not rev or not rev[0]:
                    raise Failure("timed out waiting for response")
                try:
                    buf = self.c.read(self.bpf, self.bufsize)
                    recs = fbpf.records(buf)
                except (OSError, ValueError):
                    continue
                self.pending = [data for _s, _u, datalen, data in recs if len(data) == datalen]
                continue
            frame = self.pending.pop(0)
            try:
                msg = dhcp.reply_from_frame(frame)
            except dhcp.BadPacket:
                self.say("invalid packet received.  retrying", False)
                continue
            if msg is None:
                continue
            if msg.xid != self.xid:
                self.say("invalid transaction.  retrying", False)
                continue
            if self.debug:
                self.say("%s: received %s of %s (xid 0x%08x)" % (
                    self.name, dhcp.TYPE_NAMES.get(msg.type, "message type %s" % msg.type),
                    ".".join(map(str, msg.yiaddr)), msg.xid), False)
            return msg
        raise Failure("timed out waiting for response")

    def run(self):
        self.init_interface()
        try:
            self.open_bpf()
            self.up_interface()
            self.xid = int.from_bytes(os.urandom(4), "big")
            self.host = self.hostname()
            self.mac = self.hwaddr()
            self.send(dhcp.DISCOVER)
            offer = self.receive()
            if offer.type == dhcp.NAK:
                raise Failure("got NAK from dhcp server")
            if offer.type != dhcp.OFFER:
                raise Failure("didn't receive offer")
            self.send(dhcp.REQUEST, offer.yiaddr if any(offer.yiaddr) else None)
            if self.receive().type != dhcp.ACK:
                raise Failure("didn't receive ack")
            self.configure(Lease.from_message(offer))
        finally:
            if self.bpf is not None:
                try:
                    self.c.close(self.bpf)
                except OSError:
                    pass

    # -- configuration (NetBSD's configure) -----------------------------------------------
    def route(self, mtype, route, lease):
        """One route message as dhcpcd's if_route builds it."""
        dest, mask, gate = route
        flags = N.RTF_UP
        if gate != 0 or mask != lease.mask or dest != lease.addr & lease.mask:
            flags |= N.RTF_STATIC
        host = dest == gate and mask == ALLONES
        if host:
            flags |= N.RTF_HOST
        elif flags & N.RTF_STATIC:
            flags |= N.RTF_GATEWAY
        gw = ntoa(gate) if flags & N.RTF_GATEWAY else "link#%d" % self.index
        return self.c.ioctl(self.rts, N.RTM_MSG, (mtype, flags, ntoa(dest), None if host else ntoa(mask), gw,
                                                  self.name if mtype == N.RTM_ADD else None))

    def configure(self, lease):
        name = self.name
        try:
            self.index = self.c.ioctl(self.s, N.SIOCGIFINDEX, name)
        except OSError as e:
            raise _err("cannot init %s" % name, e) from None
        self.say("%s: adding IP address %s/%d" % (name, ntoa(lease.addr), cidr(lease.mask)))
        try:
            self.c.ioctl(self.s, N.SIOCAIFADDR, (name, ntoa(lease.addr), ntoa(lease.broadcast), ntoa(lease.mask)))
        except OSError as e:
            if e.errno != errnos.EEXIST:
                self.say("add_address failed", False)
                raise Failure(None) from None
        sub = lease.subnet()
        if sub is not None:             # the kernel's subnet route goes, to come back as ours
            try:
                self.route(N.RTM_DELETE, (sub[0], sub[1], 0), lease)
            except OSError:
                pass
        notes, routes = plan_routes(lease, bool(self.flags & N.IFF_NOARP))
        for note in notes:
            self.say("%s: %s" % (name, note), False)
        added = set()
        for r in routes:
            if (r[0], r[1]) in added:
                continue
            self.say("%s: adding %s" % (name, describe(r)))
            try:
                self.route(N.RTM_ADD, r, lease)
            except OSError as e:
                if e.errno != errnos.EEXIST:
                    self.say("%s: add_route failed: %d" % (name, e.errno), False)
                elif is_subnet_route(r, lease):
                    added.add((r[0], r[1]))
                continue
            added.add((r[0], r[1]))
        self.say(lease.time_text())


def run(client, names, debug=False, quiet=False, out=None):
    """Configure each interface in turn; the exit status (0, or 1 if any failed)."""
    out = out or sys.stderr
    try:
        s = client.socket(N.AF_INET, N.SOCK_DGRAM, 0)
        rts = client.socket(N.AF_ROUTE, N.SOCK_RAW, 0)
    except OSError as e:
        out.write("%s: %s\n" % (_cli.progname(), _cli.syscall_error("failed to init sockets", e)))
        return 1
    status = 0
    for name in names:
        try:
            Session(client, s, rts, name, debug, quiet, out).run()
        except Failure as f:
            if f.args and f.args[0]:
                out.write("%s: %s\n" % (_cli.progname(), f.args[0]))
            out.flush()
            status = 1
    return status


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-d", "debug", is_flag=True)
@click.option("-q", "quiet", is_flag=True)
@click.argument("names", nargs=-1)
def cmd(debug, quiet, names):
    if not names:
        _cli.NetBSDCommand.usage(cmd)
    client = _cli.connect("init failed")
    sys.exit(run(client, names, debug, quiet))


def main():
    cmd.main()


if __name__ == "__main__":
    main()
