"""TCP's protocol switch entry (NetBSD's tcp_usrreq.c): what socket calls do to a connection.

TcpProtocol is the Protocol of (AF_INET, SOCK_STREAM). It keeps the stream
buffers in the control block (tcp_var.TcpCb): send() appends to the send
buffer -- as much as fits, sleeping on the socket's `snd` channel for room
unless non-blocking -- and calls tcp_output, which cuts the data into
segments; recv() takes from the receive buffer, sleeping on `rcv` until
data, FIN or an error arrives, then lets tcp_output send a window update.
connect() sends the SYN and sleeps until the handshake ends (EINPROGRESS
when non-blocking; poll then reports writable and SO_ERROR the outcome).
listen() and accept() use the control block's accept queue, which the
SYN cache fills. Closing the descriptor starts the FIN handshake (or an
RST with SO_LINGER and a zero linger time); the control block outlives the
socket until the connection is over, listed in inet.tcp_pcbs.

Hooks for the pcb list and netstat: tstate(so) is the NetBSD TCPS_* state;
the stack's list of control blocks is kernel.slot("inet").tcp_pcbs.

Locking rule: kernel lock held; sleeping releases it.
"""
import collections

from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ...abi.syscalls import O_NONBLOCK
from ..net.socket import CANTRCVMORE, CANTSENDMORE, ISCONNECTED
from .tcp_output import tcp_output
from .tcp_var import (CLOSE_WAIT, CLOSED, ESTABLISHED, F_NODELAY, F_REQ_SCALE, FIN_WAIT_1, FIN_WAIT_2, LISTEN,
                      SOMAXCONN, SYN_RECEIVED, SYN_SENT, TcpCb)
from .udp_raw import InetProtocol, inet_sockaddr


def _stack(so):
    return so.kernel.slot("inet").tcp


def usrclosed(tp):
    """tcp_usrclosed: the user will send no more; move the state machine on."""
    stack = tp.stack
    st = tp.state
    if st in (CLOSED, LISTEN, SYN_SENT):
        stack.close(tp)
        return
    if st in (SYN_RECEIVED, ESTABLISHED):
        tp.state = FIN_WAIT_1
    elif st == CLOSE_WAIT:
        tp.state = 8                    # LAST_ACK
    if tp.state >= FIN_WAIT_2:
        so = tp.so
        so.state = (so.state & ~ISCONNECTED) | CANTRCVMORE | CANTSENDMORE
        if tp.state == FIN_WAIT_2:
            tp.t_2msl.schedule(tp.keepcnt * tp.keepintvl)


def autosndbuf(tp, so):
    """Send buffer auto-sizing (net.inet.tcp.sendbuf_*): a buffer 7/8 full while the peer's
    window could take what is unsent grows by sendbuf_inc, up to sendbuf_max. A user's
    SO_SNDBUF ends it."""
    if so.snd_hiwat != tp.snd_auto:
        tp.snd_auto = None
        return
    p = tp.stack.params
    inflight = (tp.snd_nxt - tp.snd_una) & 0xffffffff
    if so.snd_hiwat < p["sendbuf_max"] and min(tp.snd_wnd, tp.snd_cwnd) >= len(tp.snd_buf) - inflight:
        grown = min(so.snd_hiwat + p["sendbuf_inc"], p["sendbuf_max"])
        try:
            so.sbreserve(so.rcv_hiwat, grown)
        except RumpError:               # the memory budget is spent: the buffer stays as it is
            return
        tp.snd_auto = grown


def linger_wait(so, tp):
    """SO_LINGER with a time: close waits (at most so.linger seconds) until the connection is
    disconnected -- our FIN acknowledged -- as NetBSD's soclose does."""
    from ..kern.sleepq import curlwp
    lwp = curlwp()
    if lwp is None or lwp.proc.exiting:
        return
    stack = tp.stack
    deadline = stack.now() + so.linger
    for _ in range(10000):
        if tp.dead or not so.state & ISCONNECTED:
            return
        left = deadline - stack.now()
        if left <= 0:
            return
        try:
            so.kernel.sleepq.tsleep(so.snd, left)
        except RumpError:
            return


class TcpProtocol(InetProtocol):
    type = N.SOCK_STREAM
    protocol = N.IPPROTO_TCP
    sendspace = 32768
    recvspace = 32768
    atomic = False

    def attach(self, so):
        stack = _stack(so)
        so.rcv_hiwat = stack.params["recvspace"]
        so.snd_hiwat = stack.params["sendspace"]
        tp = TcpCb(so, stack)
        so.pcb = tp
        stack.add_pcb(tp)

    def detach(self, so):
        tp = so.pcb
        if tp.dead:
            return
        stack = tp.stack
        if tp.state in (CLOSED, LISTEN, SYN_SENT):
            stack.close(tp)
            return
        if so.options & N.SO_LINGER and not getattr(so, "linger", 0):
            stack.drop(tp, 0)
            return
        tp.rcv_buf.clear()
        usrclosed(tp)
        if not tp.dead:
            tcp_output(tp)
        if so.options & N.SO_LINGER and so.linger > 0 and not so.nonblocking():
            linger_wait(so, tp)

    def tstate(self, so):
        """NetBSD's TCPS_* number of the socket's connection (netstat -a, pcblist)."""
        return so.pcb.state

    # -- addresses --------------------------------------------------------------------------
    def bind(self, so, addr):
        tp = so.pcb
        if tp.lport or tp.dead:
            raise RumpError(errnos.EINVAL)
        a, port = inet_sockaddr(addr)
        stack = _stack(so)
        inet = stack.inet
        if a != 0 and a not in inet.local:
            raise RumpError(errnos.EADDRNOTAVAIL)
        if port == 0:
            port = stack.anon_port(tp)
            tp.anon = True
        elif stack.port_in_use(a, port, so.options & (N.SO_REUSEADDR | N.SO_REUSEPORT)):
            raise RumpError(errnos.EADDRINUSE)
        tp.laddr, tp.lport = a, port

    def listen(self, so, backlog):
        tp = so.pcb
        if tp.dead or tp.state not in (CLOSED, LISTEN):
            raise RumpError(errnos.EINVAL)
        stack = tp.stack
        if not tp.lport:
            tp.lport = stack.anon_port(tp)
            tp.anon = True
        if backlog < 0 or backlog > SOMAXCONN:
            backlog = SOMAXCONN
        tp.qlimit = backlog
        if tp.state != LISTEN:
            tp.state = LISTEN
            tp.acceptq = collections.deque()
            stack.listeners.setdefault(tp.lport, []).append(tp)
        so.options |= N.SO_ACCEPTCONN

    def accept(self, so):
        tp = so.pcb
        if tp.state != LISTEN and not (tp.dead and tp.acceptq is not None):
            raise RumpError(errnos.EINVAL)
        while not tp.acceptq:
            if so.error:
                raise RumpError(so.take_error())
            if tp.dead:
                raise RumpError(errnos.ECONNABORTED)
            if so.nonblocking():
                raise RumpError(errnos.EAGAIN)
            so.kernel.sleepq.tsleep(so.rcv, so.rcvtimeo)
        nso = tp.acceptq.popleft()
        ntp = nso.pcb
        ntp.head = None
        if so.flags & O_NONBLOCK:
            nso.flags |= O_NONBLOCK
        return nso, (N.AF_INET, _ntoa(ntp.faddr), ntp.fport)

    def connect(self, so, addr):
        tp = so.pcb
        if tp.state == LISTEN:
            raise RumpError(errnos.EOPNOTSUPP)
        if tp.state in (SYN_SENT, SYN_RECEIVED):
            raise RumpError(errnos.EALREADY)
        if so.state & ISCONNECTED or tp.state != CLOSED:
            raise RumpError(errnos.EISCONN)
        if tp.dead:
            raise RumpError(errnos.EINVAL)
        a, port = inet_sockaddr(addr)
        if port == 0:
            raise RumpError(errnos.EADDRNOTAVAIL)
        stack = tp.stack
        inet = stack.inet
        if a == 0:
            a = next(iter(inet.local), 0x7f000001)
        if a >> 28 == 0xe or inet.is_broadcast(a):
            raise RumpError(errnos.EINVAL)
        if tp.laddr == 0:
            if a in inet.local:
                src = a
            else:
                from .ip import route_to
                src = route_to(inet, a)[3]
            laddr = src
        else:
            laddr = tp.laddr
        if tp.lport == 0:
            tp.lport = stack.anon_port(tp)
            tp.anon = True
        if (laddr, tp.lport, a, port) in stack.conns:
            raise RumpError(errnos.EADDRINUSE)
        tp.laddr, tp.faddr, tp.fport = laddr, a, port
        stack.set_conn(tp)
        tp.ourmss = stack.mss_for(a)
        if tp.flags & F_REQ_SCALE:
            tp.request_r_scale = stack.rcv_scale_for(so.rcv_hiwat)
        tp.iss = stack.new_iss()
        tp.snd_una = tp.snd_nxt = tp.snd_max = tp.snd_up = tp.snd_recover = tp.iss
        tp.state = SYN_SENT
        tp.t_keep.schedule(tp.keepinit)
        stack.stats["connattempt"] += 1
        tcp_output(tp)
        if so.nonblocking():
            raise RumpError(errnos.EINPROGRESS)
        while tp.state in (SYN_SENT, SYN_RECEIVED) and not so.error:
            so.kernel.sleepq.tsleep(so.snd)
        if so.error:
            raise RumpError(so.take_error())
        if tp.dead:
            raise RumpError(errnos.ECONNREFUSED)

    # -- data -------------------------------------------------------------------------------
    def send(self, so, data, addr, control, flags):
        tp = so.pcb
        if addr is not None and so.state & ISCONNECTED:
            raise RumpError(errnos.EISCONN)
        if not so.state & ISCONNECTED:
            raise RumpError(errnos.ENOTCONN)
        n = len(data)
        if n == 0:
            return 0
        view = memoryview(data)
        pos = 0
        sleepq = so.kernel.sleepq
        while pos < n:
            if so.error:
                if pos:
                    return pos
                raise RumpError(so.take_error())
            if tp.dead or so.state & CANTSENDMORE:
                if pos:
                    return pos
                raise RumpError(errnos.EPIPE)
            buf = tp.snd_buf
            if tp.snd_auto is not None and len(buf) >= so.snd_hiwat // 8 * 7:
                autosndbuf(tp, so)
            space = so.snd_hiwat - len(buf)
            if space <= 0 or (space < n - pos and space < so.snd_lowat):
                if so.nonblocking(flags):
                    if pos:
                        return pos
                    raise RumpError(errnos.EAGAIN)
                try:
                    sleepq.tsleep(so.snd, so.sndtimeo)
                except RumpError:
                    if pos:
                        return pos
                    raise
                continue
            take = space if space < n - pos else n - pos
            buf.append(view[pos:pos + take])
            pos += take
            tcp_output(tp)
        return n

    def recv(self, so, n, flags):
        tp = so.pcb
        if flags & N.MSG_OOB:
            raise RumpError(errnos.EINVAL)
        peek = flags & N.MSG_PEEK
        waitall = flags & N.MSG_WAITALL and not peek
        out = None
        sleepq = so.kernel.sleepq
        while True:
            buf = tp.rcv_buf
            if buf and n > 0:
                want = n - (len(out) if out else 0)
                if peek:
                    chunk = buf.peek(0, want)
                else:
                    chunk = buf.take(want)
                    so.rcv_cc = len(buf)
                out = chunk if out is None else out + chunk
                if not waitall or len(out) >= n:
                    break
                continue
            if n <= 0:
                break
            if so.error:
                if out:
                    break
                raise RumpError(so.take_error())
            if so.state & CANTRCVMORE:
                break
            if tp.state in (CLOSED, LISTEN) and not so.state & ISCONNECTED:
                raise RumpError(errnos.ENOTCONN)
            if so.nonblocking(flags):
                if out:
                    break
                raise RumpError(errnos.EAGAIN)
            try:
                sleepq.tsleep(so.rcv, so.rcvtimeo)
            except RumpError:
                if out:
                    break
                raise
        if out and not peek and not tp.dead and tp.state >= ESTABLISHED:
            tcp_output(tp)              # a window update if the window opened enough
        return out or b"", None, None, 0

    def shutdown(self, so, how):
        tp = so.pcb
        if how != N.SHUT_WR:
            tp.rcv_buf.drop(len(tp.rcv_buf))
            so.rcv_cc = 0
            so.state |= CANTRCVMORE
        if how != N.SHUT_RD:
            if so.state & CANTSENDMORE or tp.dead:
                return
            so.state |= CANTSENDMORE
            usrclosed(tp)
            if not tp.dead:
                tcp_output(tp)

    # -- poll -------------------------------------------------------------------------------
    def readable(self, so):
        tp = so.pcb
        if tp.acceptq:
            return True
        return len(tp.rcv_buf) >= so.rcv_lowat

    def writable(self, so):
        if so.error or so.state & CANTSENDMORE:
            return True
        tp = so.pcb
        if not so.state & ISCONNECTED:
            return False
        return so.snd_hiwat - len(tp.snd_buf) >= so.snd_lowat

    # -- options ----------------------------------------------------------------------------
    def ctloutput(self, so, get, level, name, value):
        if level != N.IPPROTO_TCP:
            return super().ctloutput(so, get, level, name, value)
        tp = so.pcb
        if get:
            if name == N.TCP_NODELAY:
                return 1 if tp.flags & F_NODELAY else 0
            if name == N.TCP_MAXSEG:
                return tp.peermss
            if name == N.TCP_KEEPIDLE:
                return int(tp.keepidle)
            if name == N.TCP_KEEPINTVL:
                return int(tp.keepintvl)
            if name == N.TCP_KEEPCNT:
                return tp.keepcnt
            if name == N.TCP_KEEPINIT:
                return int(tp.keepinit)
            raise RumpError(errnos.ENOPROTOOPT)
        v = _int(value)
        if name == N.TCP_NODELAY:
            if v:
                tp.flags |= F_NODELAY
            else:
                tp.flags &= ~F_NODELAY
            if v and tp.state >= ESTABLISHED and not tp.dead:
                tcp_output(tp)
            return None
        if name == N.TCP_MAXSEG:
            if v <= 0 or v > tp.peermss:
                raise RumpError(errnos.EINVAL)
            tp.peermss = v
            tp.maxseg = min(tp.maxseg, v)
            return None
        if name in (N.TCP_KEEPIDLE, N.TCP_KEEPINTVL, N.TCP_KEEPCNT, N.TCP_KEEPINIT):
            if v <= 0:
                raise RumpError(errnos.EINVAL)
            attr = {N.TCP_KEEPIDLE: "keepidle", N.TCP_KEEPINTVL: "keepintvl", N.TCP_KEEPCNT: "keepcnt",
                    N.TCP_KEEPINIT: "keepinit"}[name]
            setattr(tp, attr, v if name == N.TCP_KEEPCNT else float(v))
            return None
        raise RumpError(errnos.ENOPROTOOPT)


def _ntoa(n):
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def _int(value):
    if type(value) is bool:
        return int(value)
    if type(value) is int:
        return value
    if type(value) is bytes and len(value) in (1, 4):
        return int.from_bytes(value, "little", signed=len(value) == 4)
    raise RumpError(errnos.EINVAL)
