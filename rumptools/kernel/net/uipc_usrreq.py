"""AF_LOCAL sockets (NetBSD's uipc_usrreq.c): stream, datagram and seqpacket.

bind() makes a socket node (VSOCK, 0777 & ~umask) in the rump file system
and records which socket it names in the `local` slot (LocalState.bound);
the node stays after close, and connecting to it then is ECONNREFUSED. A
name in use is EADDRINUSE, binding twice EINVAL. connect() looks the path
up (ENOENT, ENOTSOCK for a node that is no socket, EPROTOTYPE for another
socket type, ECONNREFUSED with no listener or a full backlog).

The data path (send, recv, readiness) is the LocalIO mixin of uipc_io.py.
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
from ..vfs.vnode import VSOCK
from . import scm
from .sockbuf import SockBuf
from .uipc_io import LocalIO, _name, _proc
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


class LocalProtocol(LocalIO, Protocol):
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
        so.flush_records()

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
        try:
            nso = Socket(so.kernel, N.AF_LOCAL, self.type, 0, self)
        except RumpError:               # no room in the memory budget: as sonewconn failing
            raise RumpError(errnos.ECONNREFUSED) from None
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
        try:
            b = Socket(kernel, N.AF_LOCAL, self.type, 0, self, nonblock=nonblock)
        except RumpError:               # no room in the memory budget for the second
            a.refs = 1
            a.drop()
            raise
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
