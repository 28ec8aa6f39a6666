"""The data path of AF_LOCAL sockets (uipc_usrreq.c's PRU_SEND and soreceive for unix sockets).

A mixin of uipc_usrreq.LocalProtocol: send() moves bytes straight into the
peer's receive buffer (a sockbuf.SockBuf for stream, the record queue for
datagram and seqpacket), bounded by the sender's snd_hiwat as NetBSD's
so_snd accounting bounds it; recv() reads them back, stream reads stopping
where a control message (SCM_RIGHTS, SCM_CREDS) starts. Readiness for poll
comes from readable() and writable(). Control messages are internalized
(descriptors held) at send time by scm.py; MSG_PEEK shows no descriptors.

Locking rule: kernel lock held throughout; sleeping calls release it.
"""
from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ..kern.sleepq import curlwp
from . import scm
from .socket import CANTRCVMORE, CANTSENDMORE, ISCONNECTED


def _proc():
    lwp = curlwp()
    return lwp.proc if lwp is not None else None


def _name(so):
    """The AF_LOCAL address of a socket: its bound path, or none."""
    pcb = so.pcb if so is not None else None
    return (N.AF_LOCAL, pcb.path if pcb is not None and pcb.path else "")


class LocalIO:
    def _control(self, so, peer, control):
        proc = _proc()
        out = scm.internalize(proc, control) if control else []
        if peer.pcb.wantcred and proc is not None:
            out.append((N.SOL_SOCKET, scm.SCM_CREDS, scm.sockcred(proc)))
            if self.type != N.SOCK_DGRAM:
                peer.pcb.wantcred = False
        return out or None

    def readable(self, so):
        if so.lq is not None:
            return bool(so.lq.q)
        return so.sb is not None and so.sb.cc > 0

    def writable(self, so):
        if so.state & CANTSENDMORE:
            return True
        if self.type == N.SOCK_DGRAM:
            return True
        peer = so.pcb.conn
        if peer is None or not so.state & ISCONNECTED:
            return False
        return so.snd_hiwat - self._inflight(peer) >= min(so.snd_lowat, so.snd_hiwat)

    @staticmethod
    def _inflight(peer):
        return peer.sb.cc if peer.sb is not None else peer.rcv_cc

    def _wait_send(self, so, flags):
        if so.nonblocking(flags):
            raise RumpError(errnos.EAGAIN)
        so.kernel.sleepq.tsleep(so.snd, so.sndtimeo)

    def _check_send(self, so):
        if so.state & CANTSENDMORE:
            raise RumpError(errnos.EPIPE)
        if so.error:
            raise RumpError(so.take_error())
        peer = so.pcb.conn
        if peer is None or not so.state & ISCONNECTED:
            raise RumpError(errnos.ENOTCONN)
        return peer

    def recv(self, so, n, flags):
        if self.type == N.SOCK_STREAM:
            return self._stream_recv(so, n, flags)
        if self.type == N.SOCK_SEQPACKET and not so.rcvq and not so.state & (ISCONNECTED | CANTRCVMORE) \
                and not so.error:
            raise RumpError(errnos.ENOTCONN)
        data, addr, control, mflags = so.dgram_recv(n, flags)
        if flags & N.MSG_PEEK:
            control = _peek_control(control)
        peer = so.pcb.conn
        if peer is not None and self.type == N.SOCK_SEQPACKET:
            peer.wwakeup()
        if self.type == N.SOCK_SEQPACKET:
            addr = None
        return data, addr, control, mflags

    def _stream_recv(self, so, n, flags):
        sb = so.sb
        peek = bool(flags & N.MSG_PEEK)
        waitall = bool(flags & N.MSG_WAITALL) and not peek
        out, control = [], None
        got = 0
        while True:
            if sb.cc and got < n:
                data, ctl = sb.take_record(n - got, peek)
                if ctl is not None and got:
                    break                           # control starts a new record: stop before it
                out.append(data)
                got += len(data)
                if ctl is not None:
                    control = _peek_control(ctl) if peek else ctl
                so.rcv_cc = sb.cc
                peer = so.pcb.conn
                if peer is not None and not peek:
                    peer.wwakeup()
                if not waitall or got >= n or control is not None:
                    break
                continue
            if got and not waitall:
                break
            if so.error:
                if got:
                    break
                raise RumpError(so.take_error())
            if so.state & CANTRCVMORE or n == 0:
                break
            if not so.state & ISCONNECTED and not so.pcb.connecting:
                if got:
                    break
                raise RumpError(errnos.ENOTCONN)
            if so.nonblocking(flags):
                if got:
                    break
                raise RumpError(errnos.EAGAIN)
            try:
                so.kernel.sleepq.tsleep(so.rcv, so.rcvtimeo)
            except RumpError:
                if got:
                    break
                raise
        return b"".join(out), None, control, 0

    def send(self, so, data, addr, control, flags):
        if self.type == N.SOCK_DGRAM:
            return self._dgram_send(so, data, addr, control, flags)
        if addr is not None:
            raise RumpError(errnos.EISCONN if so.state & ISCONNECTED else errnos.EOPNOTSUPP)
        peer = self._check_send(so)
        if self.type == N.SOCK_SEQPACKET:
            if len(data) > so.snd_hiwat:
                raise RumpError(errnos.EMSGSIZE)
            while so.snd_hiwat - self._inflight(peer) < len(data) and self._inflight(peer):
                self._wait_send(so, flags)
                peer = self._check_send(so)
            ctl = self._control(so, peer, control)
            peer.enqueue(bytes(data), None, ctl)      # flow control is the sender's snd_hiwat
            peer.rwakeup()
            return len(data)
        sent = 0
        total = len(data)
        view = memoryview(data)
        ctl_pending = control
        while sent < total or (total == 0 and ctl_pending):
            room = so.snd_hiwat - self._inflight(peer)
            want = total - sent
            if room <= 0 or (room < want and room < min(so.snd_lowat, so.snd_hiwat)):
                try:
                    self._wait_send(so, flags)
                except RumpError as e:
                    if sent and e.errno in (errnos.EAGAIN, errnos.EINTR):
                        return sent             # a partial write, as sys_sendit reports one
                    raise
                peer = self._check_send(so)     # EPIPE even after a partial write, as NetBSD
                continue
            chunk = bytes(view[sent:sent + min(room, want)])
            ctl = self._control(so, peer, ctl_pending) if (ctl_pending or peer.pcb.wantcred) else None
            ctl_pending = None
            peer.sb.append(chunk, ctl)
            peer.rcv_cc = peer.sb.cc
            peer.rwakeup()
            sent += len(chunk)
            if total == 0:
                break
        return sent

    def _dgram_send(self, so, data, addr, control, flags):
        pcb = so.pcb
        if addr is not None:
            if pcb.conn is not None:
                raise RumpError(errnos.EISCONN)
            target = self._target(so, addr)
        else:
            target = pcb.conn
            if target is None:
                raise RumpError(errnos.ENOTCONN)
        if len(data) > so.snd_hiwat:
            raise RumpError(errnos.EMSGSIZE)
        if target.closed or target.state & CANTRCVMORE:
            raise RumpError(errnos.ECONNREFUSED)
        name = _name(so)
        if not target.room_for(data, name, None):     # its control messages are counted once made
            raise RumpError(errnos.ENOBUFS)
        ctl = self._control(so, target, control)
        target.enqueue(bytes(data), name, ctl)
        target.rwakeup()
        return len(data)


def _peek_control(control):
    """What MSG_PEEK shows of control: everything but descriptors (delivered on the real read)."""
    if not control:
        return None
    return [c for c in control if not isinstance(c[2], scm.Rights)] or None
