"""Sockets: the File a socket descriptor points at, its buffers, and the protocol switch entry.

NetBSD's shape (uipc_socket.c, protosw): a Socket holds the generic state --
options, timeouts, error, shutdown state, the receive buffer and selinfo --
and calls its Protocol (the protosw entry of (domain, type, protocol)) for
everything protocol-specific. Datagram protocols (UDP, raw IP, the routing
socket) use the receive buffer here: append() queues one record (data,
from-address, control) and wakes readers. TCP and AF_LOCAL stream sockets
(next issue) slot in as Protocol subclasses that override recv/send/listen/
accept and keep their own stream buffers.

Sleeping: recv sleeps on the socket's `rcv` channel, a blocking send on
`snd`; wakeups come from protocol input running in a softint. poll answers
from the buffers and records the SelInfos (rsel, wsel).

Locking rule: kernel lock held throughout.
"""
import collections

from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ...abi.poll import POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from ...abi.syscalls import O_NONBLOCK, O_RDWR
from ..kern.files import File
from ..kern.selinfo import SelInfo, selnotify, selrecord
from ..kern.sleepq import curlwp

CANTSENDMORE, CANTRCVMORE, ISCONNECTED = 0x1, 0x2, 0x4


class Protocol:
    """A protocol switch entry. Subclasses implement what they support."""

    domain = N.AF_UNSPEC
    type = 0
    protocol = 0
    sendspace = 9216
    recvspace = 41600
    atomic = True               # datagrams: one record per send

    def attach(self, so):
        pass

    def detach(self, so):
        pass

    def bind(self, so, addr):
        raise RumpError(errnos.EOPNOTSUPP)

    def connect(self, so, addr):
        raise RumpError(errnos.EOPNOTSUPP)

    def listen(self, so, backlog):
        raise RumpError(errnos.EOPNOTSUPP)

    def accept(self, so):
        raise RumpError(errnos.EOPNOTSUPP)

    def send(self, so, data, addr, control, flags):
        raise RumpError(errnos.EOPNOTSUPP)

    def recv(self, so, n, flags):
        return so.dgram_recv(n, flags)

    def shutdown(self, so, how):
        pass

    def sockaddr(self, so):
        raise RumpError(errnos.EOPNOTSUPP)

    def peeraddr(self, so):
        raise RumpError(errnos.ENOTCONN)

    def ctloutput(self, so, get, level, name, value):
        """Options of levels other than SOL_SOCKET; get=True reads."""
        raise RumpError(errnos.ENOPROTOOPT)

    def control(self, so, cmd, arg):
        """ioctls the socket layer does not know: interface configuration."""
        return so.kernel.slot("net").ioctl(so, cmd, arg)


# What a record costs in mbufs (NetBSD's sb_mbcnt; amd64: MSIZE 512, MCLBYTES 2048): the
# sender's address in one mbuf, each control message in one, the data in one small mbuf
# when it fits beside a packet header, else in clusters. sb_mbmax is twice the byte limit
# (sbreserve), so a queue of tiny datagrams stops long before its bytes reach the limit.
MSIZE = 512
MCLBYTES = 2048
MHLEN = 424


def record_mbcnt(nbytes, addr, control):
    n = MSIZE if addr is not None else 0
    if control:
        n += MSIZE * len(control)
    if nbytes <= MHLEN:
        return n + MSIZE
    return n + -(-nbytes // MCLBYTES) * (MSIZE + MCLBYTES)


class Socket(File):
    kind = "socket"
    # slots: past 30 attributes CPython gives each instance a dict of its own (1.5 kB)
    __slots__ = ("domain", "type", "protocol", "pr", "options", "state", "error", "rcvq", "rcv_cc",
                 "rcv_mbcnt", "rcv_hiwat", "snd_hiwat", "rcv_lowat", "snd_lowat", "rcvtimeo",
                 "sndtimeo", "rcv_drops", "pcb", "lq", "sb", "rsel", "wsel", "rcv", "snd", "closed",
                 "linger", "reserved")

    def __init__(self, kernel, domain, stype, protocol, pr, nonblock=False):
        super().__init__(kernel, O_RDWR | (O_NONBLOCK if nonblock else 0))
        self.domain, self.type, self.protocol = domain, stype, protocol
        self.pr = pr
        self.options = 0
        self.state = 0
        self.error = 0
        self.rcvq = collections.deque()     # records (data, addr, control)
        self.rcv_cc = 0
        self.rcv_mbcnt = 0                  # their mbuf cost (record_mbcnt), at most 2 x rcv_hiwat
        self.rcv_hiwat = pr.recvspace
        self.snd_hiwat = pr.sendspace
        self.rcv_lowat = 1
        self.snd_lowat = 2048
        self.rcvtimeo = None                # seconds, None = for ever
        self.sndtimeo = None
        self.rcv_drops = 0
        self.pcb = None
        self.lq = None                      # listening: a solisten.ListenQueue
        self.sb = None                      # stream protocols: receive sockbuf.SockBuf
        self.rsel = SelInfo(kernel)
        self.wsel = SelInfo(kernel)
        self.rcv = ("so-rcv", id(self))     # sleep channels
        self.snd = ("so-snd", id(self))
        self.closed = False
        self.linger = 0                     # SO_LINGER's time in seconds
        self.reserved = 0                   # bytes of the kernel's memory budget the buffers hold
        pr.attach(self)
        try:
            self.sbreserve(self.rcv_hiwat, self.snd_hiwat)
        except RumpError:                   # no room in the budget: no socket (ENOBUFS)
            self.closed = True
            pr.detach(self)
            kernel.nfiles -= 1
            raise

    def sbreserve(self, rcv, snd):
        """Set the receive and send limits, their bytes reserved from the kernel's memory
        budget (NetBSD's soreserve/sbreserve): ENOBUFS in a system call when the budget has
        no room for the growth; outside one (a connection accepted by the stack) never refused."""
        delta = rcv + snd - self.reserved
        if delta:
            self.kernel.membudget.charge(delta, "socket", errnos.ENOBUFS)
            self.reserved += delta
        self.rcv_hiwat, self.snd_hiwat = rcv, snd

    # -- buffers ------------------------------------------------------------------
    def append(self, data, addr=None, control=None):
        """Queue one datagram record; False (dropped, counted) if it does not fit."""
        if self.state & CANTRCVMORE or self.closed:
            return False
        if not self.room_for(data, addr, control):
            self.rcv_drops += 1
            return False
        self.enqueue(data, addr, control)
        self.rwakeup()
        return True

    def room_for(self, data, addr, control):
        """Whether a record fits the receive queue: its bytes within rcv_hiwat and its
        mbufs within twice that (NetBSD's sbspace)."""
        return self.rcv_cc + len(data) <= self.rcv_hiwat and \
            self.rcv_mbcnt + record_mbcnt(len(data), addr, control) <= 2 * self.rcv_hiwat

    def enqueue(self, data, addr, control):
        """Put a record on the receive queue (room checked by the caller, or none needed)."""
        self.rcvq.append((data, addr, control))
        self.rcv_cc += len(data)
        self.rcv_mbcnt += record_mbcnt(len(data), addr, control)

    def flush_records(self):
        """Empty the receive queue (the records' control messages are the caller's)."""
        self.rcvq.clear()
        self.rcv_cc = self.rcv_mbcnt = 0

    def rwakeup(self):
        self.kernel.sleepq.wakeup(self.rcv)
        selnotify(self.rsel, POLLIN)

    def wwakeup(self):
        self.kernel.sleepq.wakeup(self.snd)
        selnotify(self.wsel, POLLOUT)

    def set_error(self, err):
        """An asynchronous error (ICMP unreachable): the next call returns it."""
        self.error = err
        self.rwakeup()
        self.wwakeup()

    def take_error(self):
        err, self.error = self.error, 0
        return err

    def nonblocking(self, flags=0):
        return bool(self.flags & O_NONBLOCK) or bool(flags & N.MSG_DONTWAIT)

    def dgram_recv(self, n, flags):
        """Datagram receive: one record; returns (data, addr, control, msgflags)."""
        while not self.rcvq:
            if self.error:
                raise RumpError(self.take_error())
            if self.state & CANTRCVMORE:
                return b"", None, None, 0
            if self.nonblocking(flags):
                raise RumpError(errnos.EAGAIN)
            self.kernel.sleepq.tsleep(self.rcv, self.rcvtimeo)
        data, addr, control = self.rcvq[0]
        if not flags & N.MSG_PEEK:
            self.rcvq.popleft()
            self.rcv_cc -= len(data)
            # (recomputed, not stored: exact unless a peeked record's control list changed,
            # and an empty queue costs nothing whatever came before)
            self.rcv_mbcnt = max(0, self.rcv_mbcnt - record_mbcnt(len(data), addr, control)) \
                if self.rcvq else 0
        mflags = 0
        if len(data) > n:
            mflags |= N.MSG_TRUNC
            data = data[:n]
        return data, addr, control, mflags

    # -- File operations ------------------------------------------------------------
    def read(self, n, offset=None):
        if offset is not None:
            raise RumpError(errnos.ESPIPE)
        data, _addr, control, _mflags = self.pr.recv(self, n, 0)
        if control:
            from .scm import dispose
            dispose(control)
        return data

    def write(self, data, offset=None):
        if offset is not None:
            raise RumpError(errnos.ESPIPE)
        return self.send(data, None, None, 0)

    def send(self, data, addr, control, flags):
        try:
            if self.state & CANTSENDMORE:
                raise RumpError(errnos.EPIPE)
            if self.error:
                raise RumpError(self.take_error())
            return self.pr.send(self, data, addr, control, flags)
        except RumpError as e:
            if e.errno == errnos.EPIPE:         # also when the peer went away during the send
                lwp = curlwp()
                if lwp is not None and not flags & N.MSG_NOSIGNAL and not self.options & N.SO_NOSIGPIPE:
                    lwp.proc.psignal(13)
            raise

    def ioctl(self, cmd, arg):
        if cmd == N.FIONBIO:
            if arg:
                self.flags |= O_NONBLOCK
            else:
                self.flags &= ~O_NONBLOCK
            return None
        if cmd == N.FIONREAD:
            return self.sb.cc if self.sb is not None else self.rcv_cc
        return self.pr.control(self, cmd, arg)

    def poll(self, events):
        rev = 0
        if events & (POLLIN | POLLRDNORM):
            if self.rcvq or self.state & CANTRCVMORE or self.error or self.pr_readable():
                rev |= events & (POLLIN | POLLRDNORM)
            else:
                selrecord(curlwp(), self.rsel)
        if events & (POLLOUT | POLLWRNORM):
            if self.pr_writable():
                rev |= events & (POLLOUT | POLLWRNORM)
            else:
                selrecord(curlwp(), self.wsel)
        if self.error:
            rev |= POLLERR
        if self.state & CANTRCVMORE and self.state & CANTSENDMORE:
            rev |= POLLHUP
        return rev

    def pr_readable(self):
        f = getattr(self.pr, "readable", None)
        return f(self) if f else False

    def pr_writable(self):
        f = getattr(self.pr, "writable", None)
        return f(self) if f else True

    def stat(self):
        from ..kern.stat import make_stat
        return make_stat(mode=0o140666, size=self.rcv_cc, blksize=self.snd_hiwat)

    def release(self):
        self.closed = True
        self.pr.detach(self)
        self.flush_records()
        self.kernel.membudget.release(self.reserved, "socket")
        self.reserved = 0
        self.rwakeup()
        self.wwakeup()

    # -- options --------------------------------------------------------------------
    def setopt(self, level, name, value):
        if level != N.SOL_SOCKET:
            return self.pr.ctloutput(self, False, level, name, value)
        if name in N.SO_BOOL_OPTIONS or name == N.SO_LINGER:
            if name == N.SO_LINGER:
                # (l_onoff, l_linger), struct linger's 8 bytes, or just the on/off integer
                if type(value) is tuple and len(value) == 2:
                    self.linger = _int(value[1])
                elif type(value) is bytes and len(value) == 8:
                    self.linger = int.from_bytes(value[4:], "little", signed=True)
                    value = value[:4]
                value = value[0] if type(value) is tuple and value else value
            v = _int(value)
            if v:
                self.options |= name
            else:
                self.options &= ~name
            return
        if name in (N.SO_SNDBUF, N.SO_RCVBUF, N.SO_SNDLOWAT, N.SO_RCVLOWAT):
            v = _int(value)
            if v < 1 or (name in (N.SO_SNDBUF, N.SO_RCVBUF) and v > 262144 * 8):
                raise RumpError(errnos.EINVAL if v < 1 else errnos.ENOBUFS)
            if name == N.SO_SNDBUF:
                self.sbreserve(self.rcv_hiwat, v)
            elif name == N.SO_RCVBUF:
                self.sbreserve(v, self.snd_hiwat)
            else:
                setattr(self, "snd_lowat" if name == N.SO_SNDLOWAT else "rcv_lowat", v)
            return
        if name in (N.SO_SNDTIMEO, N.SO_RCVTIMEO):
            us = _int(value)
            if us < 0:
                raise RumpError(errnos.EDOM)
            t = us / 1e6 if us else None
            if name == N.SO_SNDTIMEO:
                self.sndtimeo = t
            else:
                self.rcvtimeo = t
            return
        raise RumpError(errnos.ENOPROTOOPT)

    def getopt(self, level, name):
        if level != N.SOL_SOCKET:
            return self.pr.ctloutput(self, True, level, name, None)
        if name in N.SO_BOOL_OPTIONS or name == N.SO_LINGER or name == N.SO_ACCEPTCONN:
            return name if self.options & name else 0
        table = {N.SO_SNDBUF: self.snd_hiwat, N.SO_RCVBUF: self.rcv_hiwat, N.SO_SNDLOWAT: self.snd_lowat,
                 N.SO_RCVLOWAT: self.rcv_lowat, N.SO_TYPE: self.type}
        if name in table:
            return table[name]
        if name == N.SO_ERROR:
            return self.take_error()
        if name in (N.SO_SNDTIMEO, N.SO_RCVTIMEO):
            t = self.sndtimeo if name == N.SO_SNDTIMEO else self.rcvtimeo
            return int(round((t or 0) * 1e6))
        raise RumpError(errnos.ENOPROTOOPT)


def _int(value):
    if type(value) is bool:
        return int(value)
    if type(value) is int:
        return value
    if type(value) is bytes and len(value) == 4:
        return int.from_bytes(value, "little", signed=True)
    raise RumpError(errnos.EINVAL)
