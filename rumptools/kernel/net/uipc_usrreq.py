"""AF_LOCAL sockets (NetBSD's uipc_usrreq.c): stream, datagram and seqpacket.

bind() makes a socket node (VSOCK, 0777 & ~umask) in the rump file system
and records which socket it names in the `local` slot (LocalState.bound);
the node stays after close, and connecting to it then is ECONNREFUSED. A
name in use is EADDRINUSE, binding twice EINVAL. connect() looks the path
up (ENOENT, ENOTSOCK for a node that is no socket, EPROTOTYPE for another
socket type, ECONNREFUSED with no listener or a full backlog).

Data moves straight into the peer's receive buffer, as NetBSD's does: a
stream socket's receive buffer is a sockbuf.SockBuf, datagram and
seqpacket records go on the Socket's record queue. The sender's snd_hiwat
bounds what it has in flight in the peer's buffer (stream, seqpacket
4096; datagram sends over 2048 bytes are EMSGSIZE and a full receiver is
ENOBUFS). Listening uses solisten.ListenQueue: connect() makes the server's
socket at once and queues it complete; with LOCAL_CONNWAIT on either side
connect() waits until it is accepted.

Options (level 0): LOCAL_CONNWAIT, LOCAL_CREDS (the receiver gets one
SCM_CREDS per connection on stream/seqpacket, one per datagram on dgram),
LOCAL_PEEREID (struct unpcbid of the peer). SCM_RIGHTS passes descriptors
(scm.py). Descriptors in flight in a closed socket are released; cycles of
sockets passed through themselves are not collected (no unp_gc).

Locking rule: kernel lock held throughout; sleeping calls release it.
"""
from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ..kern.sleepq import curlwp
from ..vfs.vnode import VSOCK
from . import scm
from .sockbuf import SockBuf
from .socket import CANTRCVMORE, CANTSENDMORE, ISCONNECTED, Protocol, Socket
from .solisten import ListenQueue, accept_wait, qlimit_of

LOCAL_CONNWAIT, LOCAL_PEEREID, LOCAL_CREDS = 2, 3, 4
SUN_PATH_MAX = 104


class UnPcb:
    __slots__ = ("so", "path", "vp", "conn", "refs", "peereid", "wantcred", "connwait", "connecting", "ino")

    def __init__(self, so, ino):
        self.so = so
        self.path = None            # bound name
        self.vp = None              # bound vnode
        self.conn = None            # connected peer Socket
        self.refs = []              # dgram: sockets connected to this one
        self.peereid = None         # LOCAL_PEEREID bytes once known
        self.wantcred = False       # LOCAL_CREDS
        self.connwait = False       # LOCAL_CONNWAIT
        self.connecting = False     # connect() waiting for accept (LOCAL_CONNWAIT)
        self.ino = ino


class LocalState:
    """The `local` slot: bound vnodes and the sockets of each type (newest first)."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.bound = {}             # vnode -> Socket
        self.pcbs = {N.SOCK_STREAM: [], N.SOCK_DGRAM: [], N.SOCK_SEQPACKET: []}
        self.next_ino = 1


def _local(so):
    return so.kernel.slot("local")


def _proc():
    lwp = curlwp()
    return lwp.proc if lwp is not None else None


def _path(addr):
    if type(addr) is not tuple or not addr or type(addr[0]) is not int:
        raise RumpError(errnos.EINVAL)
    if addr[0] != N.AF_LOCAL:
        raise RumpError(errnos.EAFNOSUPPORT)
    path = addr[1] if len(addr) > 1 else ""
    if type(path) is not str:
        raise RumpError(errnos.EINVAL)
    if len(path.encode("utf-8", "surrogateescape")) > SUN_PATH_MAX:
        raise RumpError(errnos.EINVAL)
    if not path:
        raise RumpError(errnos.ENOENT)
    return path


def _name(so):
    pcb = so.pcb if so is not None else None
    return (N.AF_LOCAL, pcb.path if pcb is not None and pcb.path else "")


class LocalProtocol(Protocol):
    domain = N.AF_LOCAL
    sendspace = 4096
    recvspace = 4096
    connected_only = True

    # -- life ------------------------------------------------------------------------
    def attach(self, so):
        st = _local(so)
        so.pcb = UnPcb(so, st.next_ino)
        st.next_ino += 1
        st.pcbs[self.type].insert(0, so.pcb)
        so.sb = SockBuf(self.recvspace) if self.type == N.SOCK_STREAM else None

    def detach(self, so):
        st = _local(so)
        pcb = so.pcb
        lst = st.pcbs[self.type]
        if pcb in lst:
            lst.remove(pcb)
        if pcb.vp is not None and st.bound.get(pcb.vp) is so:
            del st.bound[pcb.vp]
        if so.lq is not None:
            pending, so.lq = so.lq.drain(), None
            for nso in pending:
                nso.error = errnos.ECONNABORTED
                nso.refs += 1
                nso.drop()
        self.disconnect(so)
        for other in list(pcb.refs):                # dgram sockets connected to this one
            other.pcb.conn = None
            other.state &= ~ISCONNECTED
            other.set_error(errnos.ECONNRESET)
        pcb.refs = []
        self.flush(so)

    def flush(self, so):
        """Discard what waits to be read, releasing descriptors in flight."""
        if so.sb is not None:
            for control in so.sb.clear():
                scm.dispose(control)
        for _data, _addr, control in so.rcvq:
            scm.dispose(control)
        so.rcvq.clear()
        so.rcv_cc = 0

    def disconnect(self, so):
        pcb = so.pcb
        peer, pcb.conn = pcb.conn, None
        if peer is None:
            return
        if self.type == N.SOCK_DGRAM:
            if so in peer.pcb.refs:
                peer.pcb.refs.remove(so)
            so.state &= ~ISCONNECTED
            return
        for s in (so, peer):
            s.state = (s.state & ~ISCONNECTED) | CANTRCVMORE | CANTSENDMORE
            s.rwakeup()
            s.wwakeup()
        peer.pcb.conn = None
        if peer.pcb.connecting:
            peer.pcb.connecting = False
            peer.set_error(errnos.ECONNRESET)

    # -- names -----------------------------------------------------------------------
    def bind(self, so, addr):
        pcb = so.pcb
        path = _path(addr)
        if pcb.vp is not None:
            raise RumpError(errnos.EINVAL)
        kernel = so.kernel
        proc = _proc()
        vfs = kernel.slot("vfs")
        nd = vfs.namei(proc, path, False, None, parent=True)
        if nd.vp is not None or nd.dvp is None:
            raise RumpError(errnos.EADDRINUSE)
        if nd.trailing:
            raise RumpError(errnos.ENOENT)
        umask = proc.umask if proc is not None else 0o022
        vp = nd.dvp.create(nd.name, VSOCK, 0o777 & ~umask)
        if proc is not None:
            vp.uid, vp.gid = proc.uid, proc.gid
        pcb.vp, pcb.path = vp, path
        _local(so).bound[vp] = so

    def sockaddr(self, so):
        return _name(so)

    def peeraddr(self, so):
        if so.pcb.conn is None:
            raise RumpError(errnos.ENOTCONN)
        return _name(so.pcb.conn)

    def _target(self, so, addr):
        """The bound socket a path names (connect, sendto)."""
        path = _path(addr)
        vp = so.kernel.slot("vfs").lookup(_proc(), path, True)
        if vp.vtype != VSOCK:
            raise RumpError(errnos.ENOTSOCK)
        target = _local(so).bound.get(vp)
        if target is None or target.closed:
            raise RumpError(errnos.ECONNREFUSED)
        if target.type != so.type:
            raise RumpError(errnos.EPROTOTYPE)
        return target

    # -- connections -------------------------------------------------------------------
    def connect(self, so, addr):
        pcb = so.pcb
        if so.lq is not None:
            raise RumpError(errnos.EINVAL)
        if pcb.conn is not None or pcb.connecting:
            raise RumpError(errnos.EALREADY if pcb.connecting else errnos.EISCONN)
        head = self._target(so, addr)
        if head.lq is None:
            raise RumpError(errnos.ECONNREFUSED)
        if head.lq.full():
            raise RumpError(errnos.ECONNREFUSED)
        proc = _proc()
        nso = Socket(so.kernel, N.AF_LOCAL, self.type, 0, self)
        nso.options = head.options & ~N.SO_ACCEPTCONN
        nso.pcb.path = head.pcb.path
        nso.pcb.wantcred = head.pcb.wantcred
        nso.pcb.peereid = scm.unpcbid(proc) if proc is not None else None
        pcb.peereid = head.pcb.peereid
        pcb.conn, nso.pcb.conn = nso, so
        nso.state |= ISCONNECTED
        wait = pcb.connwait or head.pcb.connwait
        if wait:
            pcb.connecting = True
        else:
            so.state |= ISCONNECTED
        head.lq.add_complete(nso, head)
        if not wait:
            return
        if so.nonblocking():
            raise RumpError(errnos.EINPROGRESS)
        while pcb.connecting:
            so.kernel.sleepq.tsleep(so.snd, None)
        if so.error:
            raise RumpError(so.take_error())

    def listen(self, so, backlog):
        if self.type == N.SOCK_DGRAM:
            raise RumpError(errnos.EOPNOTSUPP)
        pcb = so.pcb
        if pcb.vp is None or pcb.conn is not None or pcb.connecting:
            raise RumpError(errnos.EINVAL)
        limit = qlimit_of(backlog)
        if so.lq is None:
            so.lq = ListenQueue(limit)
        else:
            so.lq.qlimit = limit
        so.options |= N.SO_ACCEPTCONN
        proc = _proc()
        pcb.peereid = scm.unpcbid(proc) if proc is not None else None

    def accept(self, so):
        if self.type == N.SOCK_DGRAM:
            raise RumpError(errnos.EOPNOTSUPP)
        nso = accept_wait(so)
        peer = nso.pcb.conn
        if peer is not None and peer.pcb.connecting:
            peer.pcb.connecting = False
            peer.state |= ISCONNECTED
            peer.wwakeup()
        if nso.error and nso.pcb.conn is None:
            nso.error = 0
        return nso, _name(peer)

    def socketpair(self, lwp, stype):
        kernel = lwp.proc.kernel
        nonblock = bool(stype & N.SOCK_NONBLOCK)
        a = Socket(kernel, N.AF_LOCAL, self.type, 0, self, nonblock=nonblock)
        b = Socket(kernel, N.AF_LOCAL, self.type, 0, self, nonblock=nonblock)
        eid = scm.unpcbid(lwp.proc)
        for x, y in ((a, b), (b, a)):
            x.pcb.conn = y
            x.pcb.peereid = eid
            x.state |= ISCONNECTED
            if stype & N.SOCK_NOSIGPIPE:
                x.options |= N.SO_NOSIGPIPE
            if self.type == N.SOCK_DGRAM:
                x.pcb.refs.append(y)
        files = lwp.proc.files
        cloexec = bool(stype & N.SOCK_CLOEXEC)
        try:
            fa = files.alloc(a, cloexec)
        except RumpError:
            for s in (a, b):
                s.refs += 1
                s.drop()
            raise
        try:
            fb = files.alloc(b, cloexec)
        except RumpError:
            files.close(fa)
            b.refs += 1
            b.drop()
            raise
        return fa, fb

    def shutdown(self, so, how):
        if how != N.SHUT_WR:
            self.flush(so)
        if how != N.SHUT_RD:
            peer = so.pcb.conn
            if peer is not None and self.type != N.SOCK_DGRAM:
                peer.state |= CANTRCVMORE
                peer.rwakeup()

    # -- options -----------------------------------------------------------------------
    def ctloutput(self, so, get, level, name, value):
        if level != 0:
            raise RumpError(errnos.ENOPROTOOPT)
        pcb = so.pcb
        if name == LOCAL_PEEREID:
            if not get:
                raise RumpError(errnos.EINVAL)
            if pcb.peereid is None or (pcb.conn is None and not pcb.connecting and so.lq is None):
                raise RumpError(errnos.EINVAL)
            return pcb.peereid
        if name not in (LOCAL_CREDS, LOCAL_CONNWAIT):
            raise RumpError(errnos.ENOPROTOOPT)
        attr = "wantcred" if name == LOCAL_CREDS else "connwait"
        if get:
            return int(getattr(pcb, attr))
        if type(value) is bytes and len(value) == 4:
            value = int.from_bytes(value, "little", signed=True)
        if type(value) not in (int, bool):
            raise RumpError(errnos.EINVAL)
        setattr(pcb, attr, bool(value))
        return None

    # -- data --------------------------------------------------------------------------
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
            peer.rcvq.append((bytes(data), None, ctl))
            peer.rcv_cc += len(data)
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
                except RumpError:
                    if sent:
                        return sent
                    raise
                try:
                    peer = self._check_send(so)
                except RumpError:
                    if sent:
                        return sent
                    raise
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
        if target.rcv_cc + len(data) > target.rcv_hiwat:
            raise RumpError(errnos.ENOBUFS)
        ctl = self._control(so, target, control)
        target.rcvq.append((bytes(data), _name(so), ctl))
        target.rcv_cc += len(data)
        target.rwakeup()
        return len(data)


def _peek_control(control):
    """What MSG_PEEK shows of control: everything but descriptors (delivered on the real read)."""
    if not control:
        return None
    return [c for c in control if not isinstance(c[2], scm.Rights)] or None


class LocalStream(LocalProtocol):
    type = N.SOCK_STREAM
    atomic = False


class LocalDgram(LocalProtocol):
    type = N.SOCK_DGRAM
    sendspace = 2048
    recvspace = 4096

    def connect(self, so, addr):
        if type(addr) is tuple and addr and addr[0] == N.AF_UNSPEC:
            self.disconnect(so)
            return
        target = self._target(so, addr)
        self.disconnect(so)
        so.pcb.conn = target
        target.pcb.refs.append(so)
        so.state |= ISCONNECTED


class LocalSeqpacket(LocalProtocol):
    type = N.SOCK_SEQPACKET
