"""Sockets of a rump kernel with the interface of Python's socket module.

    from rumptools.sp import rsocket
    with rsocket.socket(rsocket.AF_INET, rsocket.SOCK_DGRAM) as s:
        s.bind(("10.1.1.1", 5353))
        data, peer = s.recvfrom(512)

A RumpSocket is a descriptor in the rump kernel, reached through a
client.Client (the `client=` argument; by default one connection made with
client.init() on first use and shared). Arguments use the host's socket
module constants (socket.AF_UNIX, socket.SOL_SOCKET, socket.SO_REUSEADDR,
socket.MSG_PEEK, ...), which are translated to NetBSD's numbers; NetBSD's
own numbers (SOL_SOCKET 0xffff) pass unchanged. Addresses are the socket
module's: (host, port) for AF_INET, a path for AF_UNIX. Errors are OSError
with the host's errno (ConnectionRefusedError, BlockingIOError, ...);
timeouts raise socket.timeout (TimeoutError).

Timeouts (settimeout) keep the kernel descriptor non-blocking and wait in
the kernel's poll (__pollts50) for the time left, so a timeout is the
kernel's clock, not a guess on the client side. Sends never raise SIGPIPE
(MSG_NOSIGNAL): a closed peer is BrokenPipeError, as with the socket module.
fileno() is the rump descriptor, not one the host's select() knows.
"""
import io
import socket as _host
import struct
import threading
import time

from ..abi import errnos
from ..abi import net as N
from ..abi.errnos import RumpError
from ..abi.poll import POLLIN, POLLOUT

AF_UNIX = AF_LOCAL = _host.AF_UNIX
AF_INET = _host.AF_INET
AF_INET6 = _host.AF_INET6
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET = (_host.SOCK_STREAM, _host.SOCK_DGRAM, _host.SOCK_RAW,
                                                     _host.SOCK_SEQPACKET)
SOCK_NONBLOCK, SOCK_CLOEXEC = _host.SOCK_NONBLOCK, _host.SOCK_CLOEXEC
SHUT_RD, SHUT_WR, SHUT_RDWR = 0, 1, 2
timeout = _host.timeout

_FAMILY = {_host.AF_UNIX: N.AF_LOCAL, _host.AF_INET: N.AF_INET, _host.AF_INET6: N.AF_INET6}
_FAMILY_BACK = {v: k for k, v in _FAMILY.items()}
_SOL = {  # host SOL_SOCKET option -> NetBSD's
    _host.SO_DEBUG: N.SO_DEBUG, _host.SO_ACCEPTCONN: N.SO_ACCEPTCONN, _host.SO_REUSEADDR: N.SO_REUSEADDR,
    _host.SO_KEEPALIVE: N.SO_KEEPALIVE, _host.SO_DONTROUTE: N.SO_DONTROUTE, _host.SO_BROADCAST: N.SO_BROADCAST,
    _host.SO_LINGER: N.SO_LINGER, _host.SO_OOBINLINE: N.SO_OOBINLINE, _host.SO_REUSEPORT: N.SO_REUSEPORT,
    _host.SO_SNDBUF: N.SO_SNDBUF, _host.SO_RCVBUF: N.SO_RCVBUF, _host.SO_SNDLOWAT: N.SO_SNDLOWAT,
    _host.SO_RCVLOWAT: N.SO_RCVLOWAT, _host.SO_ERROR: N.SO_ERROR, _host.SO_TYPE: N.SO_TYPE,
    _host.SO_SNDTIMEO: N.SO_SNDTIMEO, _host.SO_RCVTIMEO: N.SO_RCVTIMEO}
_IP = {_host.IP_OPTIONS: N.IP_OPTIONS, _host.IP_HDRINCL: N.IP_HDRINCL, _host.IP_TOS: N.IP_TOS,
       _host.IP_TTL: N.IP_TTL, _host.IP_MULTICAST_TTL: N.IP_MULTICAST_TTL,
       _host.IP_MULTICAST_LOOP: N.IP_MULTICAST_LOOP}
_MSG = ((_host.MSG_OOB, N.MSG_OOB), (_host.MSG_PEEK, N.MSG_PEEK), (_host.MSG_DONTROUTE, N.MSG_DONTROUTE),
        (_host.MSG_EOR, N.MSG_EOR), (_host.MSG_TRUNC, N.MSG_TRUNC), (_host.MSG_CTRUNC, N.MSG_CTRUNC),
        (_host.MSG_WAITALL, N.MSG_WAITALL), (_host.MSG_DONTWAIT, N.MSG_DONTWAIT),
        (_host.MSG_NOSIGNAL, N.MSG_NOSIGNAL))
_BOOLS = frozenset(N.SO_BOOL_OPTIONS) | {N.SO_ACCEPTCONN, N.SO_LINGER}
SCM_RIGHTS = 1
_NETBSD_SOL_SOCKET = N.SOL_SOCKET

_default = None
_default_lock = threading.Lock()


def default_client():
    """The shared connection to RUMP_SERVER (client.init() on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            from . import client
            _default = client.init()
        return _default


def _oserror(e):
    """A RumpError (NetBSD errno) as the OSError subclass the host's errno gives."""
    return OSError(errnos.to_host(e.errno), e.strerror)


def _msgflags(flags, back=False):
    out = 0
    for host, nb in _MSG:
        if flags & (nb if back else host):
            out |= host if back else nb
    return out


def _sockopt(level, name, family):
    """Host (level, option) as NetBSD's; level 0 is IPPROTO_IP on Internet sockets, SOL_LOCAL on local ones."""
    if level == _host.SOL_SOCKET:
        if name not in _SOL:
            raise OSError(errnos.to_host(errnos.ENOPROTOOPT), errnos.strerror(errnos.ENOPROTOOPT))
        return N.SOL_SOCKET, _SOL[name]
    if level == _host.IPPROTO_IP and family == _host.AF_INET and name in _IP:
        return level, _IP[name]
    return level, name


class RumpSocket:
    """One socket of the rump kernel. See the module docstring."""

    def __init__(self, family=AF_INET, type=SOCK_STREAM, proto=0, fileno=None, *, client=None):
        self._client = client if client is not None else default_client()
        flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC)
        self.family, self.type, self.proto = family, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), proto
        self._timeout = 0.0 if flags & SOCK_NONBLOCK else None
        self._io_refs = 0
        self._closed = False
        if fileno is not None:
            self._fd = fileno
            return
        nbtype = self.type | (N.SOCK_CLOEXEC if flags & SOCK_CLOEXEC else 0)
        self._fd = self._call("socket", _FAMILY.get(family, family), nbtype, proto)
        if self._timeout is not None:
            self._set_nbio(True)

    # -- plumbing -------------------------------------------------------------------------
    def _call(self, method, *args):
        try:
            return getattr(self._client, method)(*args)
        except RumpError as e:
            raise _oserror(e) from None

    def _set_nbio(self, on):
        self._call("ioctl", self._fd, N.FIONBIO, 1 if on else 0)

    def _wait(self, events, deadline):
        """Sleep in the kernel's poll until the socket is ready or the deadline passes."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise timeout("timed out")
        revents = self._call("pollts", [(self._fd, events)], max(1, int(left * 1e9)))
        if not revents or not revents[0]:
            raise timeout("timed out")

    def _io(self, events, method, *args):
        """Run a call under the socket's timeout: retry after poll while it would block."""
        if not self._timeout:                   # None: the kernel blocks; 0: EAGAIN raises
            return self._call(method, *args)
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                return getattr(self._client, method)(*args)
            except RumpError as e:
                if e.errno != errnos.EAGAIN:
                    raise _oserror(e) from None
            self._wait(events, deadline)

    def _addr_in(self, address):
        fam = _FAMILY.get(self.family, self.family)
        if fam == N.AF_LOCAL:
            if isinstance(address, bytes):
                address = address.decode("utf-8", "surrogateescape")
            if not isinstance(address, str):
                raise TypeError("an AF_UNIX address is a path (str or bytes)")
            return (N.AF_LOCAL, address)
        if not (isinstance(address, tuple) and len(address) >= 2):
            raise TypeError("an %s address is a (host, port) tuple" % ("AF_INET6" if fam == N.AF_INET6
                                                                       else "AF_INET"))
        host, port = address[0], address[1]
        if host in ("", None):
            host = "0.0.0.0"
        elif host == "<broadcast>":
            host = "255.255.255.255"
        elif fam == N.AF_INET:
            try:
                _host.inet_aton(host)
            except OSError:
                host = _host.gethostbyname(host)
        return (fam, host, int(port))

    @staticmethod
    def _addr_out(addr):
        if addr is None:
            return None
        if addr[0] == N.AF_LOCAL:
            return addr[1] if len(addr) > 1 else ""
        if addr[0] in (N.AF_INET, N.AF_INET6):
            return (addr[1], addr[2])
        return addr

    # -- the socket module's interface -------------------------------------------------------
    def fileno(self):
        return -1 if self._closed else self._fd

    def bind(self, address):
        self._call("bind", self._fd, self._addr_in(address))

    def listen(self, backlog=128):
        self._call("listen", self._fd, backlog)

    def accept(self):
        fd, addr = self._io(POLLIN, "accept", self._fd)
        s = RumpSocket(self.family, self.type, self.proto, fileno=fd, client=self._client)
        return s, self._addr_out(addr)

    def connect(self, address):
        err = self.connect_ex(address, _raise=True)
        if err:
            raise OSError(err, errnos.strerror(errnos.from_host(err)))

    def connect_ex(self, address, _raise=False):
        """connect() that answers the host errno (0 when connected)."""
        addr = self._addr_in(address)
        try:
            self._client.sock_connect(self._fd, addr)
            return 0
        except RumpError as e:
            if e.errno != errnos.EINPROGRESS or self._timeout == 0:
                if _raise and e.errno != errnos.EINPROGRESS:
                    raise _oserror(e) from None
                return errnos.to_host(e.errno)
        if self._timeout is None:                   # cannot happen for a blocking socket; be safe
            return errnos.to_host(errnos.EINPROGRESS)
        self._wait(POLLOUT, time.monotonic() + self._timeout)
        err = self._call("getsockopt", self._fd, N.SOL_SOCKET, N.SO_ERROR)
        if err and _raise:
            raise OSError(errnos.to_host(err), errnos.strerror(err))
        return errnos.to_host(err) if err else 0

    def send(self, data, flags=0):
        return self._io(POLLOUT, "sendto", self._fd, bytes(data), _msgflags(flags) | N.MSG_NOSIGNAL, None)

    def sendall(self, data, flags=0):
        view = memoryview(data).cast("B")
        deadline = None if not self._timeout else time.monotonic() + self._timeout
        sent = 0
        while sent < len(view):
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise timeout("timed out")
                saved, self._timeout = self._timeout, left
                try:
                    n = self.send(view[sent:sent + (1 << 20)], flags)
                finally:
                    self._timeout = saved
            else:
                n = self.send(view[sent:sent + (1 << 20)], flags)
            sent += n

    def sendto(self, data, flags_or_addr, addr=None):
        flags = flags_or_addr if addr is not None else 0
        addr = addr if addr is not None else flags_or_addr
        return self._io(POLLOUT, "sendto", self._fd, bytes(data), _msgflags(flags) | N.MSG_NOSIGNAL,
                        self._addr_in(addr))

    def recv(self, bufsize, flags=0):
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        return self._io(POLLIN, "recvfrom", self._fd, bufsize, _msgflags(flags))[0]

    def recvfrom(self, bufsize, flags=0):
        data, addr = self._io(POLLIN, "recvfrom", self._fd, bufsize, _msgflags(flags))
        return data, self._addr_out(addr)

    def recv_into(self, buffer, nbytes=0, flags=0):
        view = memoryview(buffer).cast("B")
        n = nbytes or len(view)
        data = self.recv(n, flags)
        view[:len(data)] = data
        return len(data)

    def recvfrom_into(self, buffer, nbytes=0, flags=0):
        view = memoryview(buffer).cast("B")
        data, addr = self.recvfrom(nbytes or len(view), flags)
        view[:len(data)] = data
        return len(data), addr

    def sendmsg(self, buffers, ancdata=(), flags=0, address=None):
        """Gathered buffers and control messages (SOL_SOCKET, SCM_RIGHTS, packed rump descriptors)."""
        control = tuple((N.SOL_SOCKET if lvl in (_host.SOL_SOCKET, _NETBSD_SOL_SOCKET) else lvl, typ, bytes(d))
                        for lvl, typ, d in ancdata) or None
        return self._io(POLLOUT, "sendmsg", self._fd, [bytes(b) for b in buffers], control,
                        _msgflags(flags) | N.MSG_NOSIGNAL,
                        None if address is None else self._addr_in(address))

    def recvmsg(self, bufsize, ancbufsize=0, flags=0):
        """(data, ancdata, msg_flags, address); ancdata levels as the host's (SOL_SOCKET)."""
        data, addr, control, mflags = self._io(POLLIN, "recvmsg", self._fd, bufsize, ancbufsize,
                                               _msgflags(flags))
        anc = [(_host.SOL_SOCKET if lvl == N.SOL_SOCKET else lvl, typ, d) for lvl, typ, d in control or ()]
        return data, anc, _msgflags(mflags, back=True), self._addr_out(addr)

    def getsockname(self):
        return self._addr_out(self._call("getsockname", self._fd))

    def getpeername(self):
        return self._addr_out(self._call("getpeername", self._fd))

    def setsockopt(self, level, optname, value, optlen=None):
        lvl, name = _sockopt(level, optname, self.family)
        if lvl == N.SOL_SOCKET and name in (N.SO_SNDTIMEO, N.SO_RCVTIMEO) and isinstance(value, (bytes,
                                                                                            bytearray)):
            sec, usec = struct.unpack("@ll", bytes(value)[:16])
            value = sec * 1000000 + usec
        elif lvl == N.SOL_SOCKET and name == N.SO_LINGER and isinstance(value, (bytes, bytearray)):
            onoff, _secs = struct.unpack("@ii", bytes(value)[:8])
            value = onoff
        elif isinstance(value, bytearray):
            value = bytes(value)
        if value is None and optlen is not None:
            value = bytes(optlen)
        self._call("setsockopt", self._fd, lvl, name, value)

    def getsockopt(self, level, optname, buflen=None):
        lvl, name = _sockopt(level, optname, self.family)
        v = self._call("getsockopt", self._fd, lvl, name)
        if lvl == N.SOL_SOCKET and name == N.SO_ERROR and v:
            v = errnos.to_host(v)
        if lvl == N.SOL_SOCKET and name in _BOOLS:
            v = int(bool(v))                        # NetBSD answers the option's bit, Linux 1
        if buflen is None:
            return v
        if isinstance(v, int):
            if lvl == N.SOL_SOCKET and name in (N.SO_SNDTIMEO, N.SO_RCVTIMEO):
                raw = struct.pack("@ll", v // 1000000, v % 1000000)
            else:
                raw = struct.pack("@i", v)
        else:
            raw = bytes(v)
        return raw[:buflen]

    def shutdown(self, how):
        self._call("shutdown", self._fd, how)

    def setblocking(self, flag):
        self.settimeout(None if flag else 0.0)

    def getblocking(self):
        return self._timeout != 0.0

    def settimeout(self, value):
        if value is not None:
            value = float(value)
            if value < 0:
                raise ValueError("Timeout value out of range")
        was = self._timeout
        self._timeout = value
        if (was is None) != (value is None):
            self._set_nbio(value is not None)

    def gettimeout(self):
        return self._timeout

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self):
        try:
            self._client.close(self._fd)
        except RumpError:
            pass

    def detach(self):
        """Forget the descriptor without closing it; returns it."""
        self._closed = True
        fd, self._fd = self._fd, -1
        return fd

    def dup(self):
        fd = self._call("dup", self._fd)
        s = RumpSocket(self.family, self.type, self.proto, fileno=fd, client=self._client)
        s._timeout = self._timeout
        return s

    def makefile(self, mode="r", buffering=None, *, encoding=None, errors=None, newline=None):
        """File objects over the socket (io wrappers), as socket.makefile does."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError("invalid mode %r (only r, w, b allowed)" % (mode,))
        writing, reading, binary = "w" in mode, "r" in mode or "w" not in mode, "b" in mode
        rawmode = ("r" if reading else "") + ("w" if writing else "")
        raw = _SocketIO(self, rawmode)
        self._io_refs += 1
        if buffering is None:
            buffering = -1
        if buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if not binary:
                raise ValueError("unbuffered streams must be binary")
            return raw
        if reading and writing:
            buf = io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buf = io.BufferedReader(raw, buffering)
        else:
            buf = io.BufferedWriter(raw, buffering)
        if binary:
            return buf
        text = io.TextIOWrapper(buf, encoding, errors, newline)
        text.mode = mode
        return text

    def _decref_socketios(self):
        self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self._real_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<rsocket fd=%d family=%d type=%d proto=%d%s>" % (self._fd, self.family, self.type, self.proto,
                                                                 " [closed]" if self._closed else "")


class _SocketIO(io.RawIOBase):
    """The raw stream makefile() wraps: readinto/write on the socket."""

    def __init__(self, sock, mode):
        super().__init__()
        self._sock, self._mode = sock, mode

    def readable(self):
        return "r" in self._mode

    def writable(self):
        return "w" in self._mode

    def readinto(self, b):
        return self._sock.recv_into(b)

    def write(self, b):
        return self._sock.send(b)

    def fileno(self):
        return self._sock.fileno()

    def close(self):
        if self.closed:
            return
        super().close()
        self._sock._decref_socketios()


socket = RumpSocket


def socketpair(family=AF_UNIX, type=SOCK_STREAM, proto=0, *, client=None):
    """A pair of connected rump sockets."""
    c = client if client is not None else default_client()
    flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC)
    base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)
    try:
        a, b = c.socketpair(_FAMILY.get(family, family), base | (N.SOCK_NONBLOCK if flags & SOCK_NONBLOCK
                                                                   else 0), proto)
    except RumpError as e:
        raise _oserror(e) from None
    out = []
    for fd in (a, b):
        s = RumpSocket(family, base, proto, fileno=fd, client=c)
        if flags & SOCK_NONBLOCK:
            s._timeout = 0.0
        out.append(s)
    return tuple(out)


def create_connection(address, timeout=None, source_address=None, *, client=None):
    """socket.create_connection over the rump kernel's IPv4 stack."""
    s = RumpSocket(AF_INET, SOCK_STREAM, client=client)
    try:
        if timeout is not None:
            s.settimeout(timeout)
        if source_address is not None:
            s.bind(source_address)
        s.connect(address)
        return s
    except BaseException:
        s.close()
        raise
