"""The sysproxy client library: connect to RUMP_SERVER and make remote system calls.

A Client looks like Python's os module for the calls in the syscall table
(client.getpid(), client.read(fd, n), ...); failures raise RumpError with
NetBSD's errno. Several threads may call at once: the first waiting thread
reads replies for everyone (leader/follower), so a thread blocked in a
sleeping call does not hold up the others.

Reconnect policy (RUMPHIJACK_RETRYCONNECT): by default a lost server is
ENOTCONN; `inftime` retries forever, `once` tries once, `die` exits, and
N retries for N seconds. After a reconnect the client is a new kernel
process: descriptors it had are gone, as with NetBSD's librumpclient.
"""
import os
import socket
import sys
import threading
import time

from . import url, wire
from ..abi import errnos
from ..abi.errnos import RumpError
from ..abi.results import CONVERT
from ..abi.syscalls import TABLE

RETRY_NONE, RETRY_INFTIME, RETRY_ONCE, RETRY_DIE = 0, -1, -2, -3
ENV_EXECFD = "RUMPCLIENT__EXECFD"
ENV_PARSED = "RUMP__PARSEDSERVER"


class ConnectionLost(RumpError):
    """ENOTCONN because the connection to the kernel was lost (not a socket of the kernel's)."""

    lost = True

    def __init__(self):
        super().__init__(errnos.ENOTCONN, detail="connection to the kernel was lost")


def parse_retry(text):
    """The RUMPHIJACK_RETRYCONNECT value as a policy number; ValueError if invalid."""
    if text in ("inftime", "once", "die"):
        return {"inftime": RETRY_INFTIME, "once": RETRY_ONCE, "die": RETRY_DIE}[text]
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise ValueError("RUMPHIJACK_RETRYCONNECT must be keyword or integer, got: %s" % text)


def _comm():
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not name or name in ("-c", "-m"):
        try:
            with open("/proc/self/comm") as f:
                name = f.read().strip()
        except OSError:
            name = "???"
    return name[:16]


class Client:
    def __init__(self, address, comm=None, retry=RETRY_NONE, sock=None):
        self.address = address
        self.comm = comm or _comm()
        self.retry = retry
        self.pid = None
        self._send_lock = threading.Lock()
        self._state = threading.Lock()
        self._cond = threading.Condition(self._state)
        self._leader = False
        self._sleepers = 0              # threads waiting on _cond (for the reader role or a reply)
        self._replies = {}
        self._waiting = set()
        self._reqno = 0
        self._generation = 0
        self._reader = wire.FrameReader()
        self._buf = bytearray(1 << 20)
        self._view = memoryview(self._buf)
        self.sock = None
        if sock is not None:
            self._adopt(sock)

    # -- connection ------------------------------------------------------------
    def _open_socket(self):
        a = self.address
        if a.scheme == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target = a.path
        else:
            s = socket.socket(socket.AF_INET6 if a.family6 else socket.AF_INET, socket.SOCK_STREAM)
            target = (a.host, a.port)
        try:
            s.connect(target)
        except OSError:
            s.close()
            raise
        if a.scheme == "tcp":
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._keep_off_stdio(s)

    @staticmethod
    def _keep_off_stdio(s):
        """The socket never sits on descriptors 0-2, which programs reuse freely."""
        if s.fileno() > 2:
            return s
        fd = os.dup(s.fileno())
        while fd <= 2:
            fd = os.dup(fd)
        dup = socket.socket(fileno=fd)
        s.close()
        return dup

    def _read_banner(self, s):
        data = b""
        while not data.endswith(b"\n") and len(data) < wire.BANNER_MAX:
            chunk = s.recv(wire.BANNER_MAX - len(data))
            if not chunk:
                raise ConnectionResetError(errnos.to_host(errnos.ECONNRESET), "connection closed")
            data += chunk
        try:
            wire.check_banner(data)
        except wire.WireError as e:
            raise RumpError(errnos.EPROTO, detail=str(e)) from None

    def _greet(self):
        """Open a new connection, check the server's banner and make it ours."""
        s = self._open_socket()
        try:
            self._read_banner(s)
        except BaseException:
            s.close()
            raise
        self._adopt(s)
        return s

    def connect(self, handshake=wire.HS_GUEST, cookie=None):
        self._greet()
        if handshake == wire.HS_GUEST:
            self.pid = self._handshake(wire.HS_GUEST, (self.comm,))
        else:
            self.pid = self._handshake(wire.HS_FORK, (cookie, 0))
        return self

    def _adopt(self, s):
        self.sock = s
        self._reader = wire.FrameReader()
        self._generation += 1

    def _handshake(self, kind, values):
        cls, arg, body = self._request(wire.HANDSHAKE, kind, wire.encode(values))
        if cls == wire.ERROR:
            raise RumpError(wire.ERROR_ERRNO.get(arg, errnos.EINVAL))
        try:
            return wire.decode(body)[0]
        except (wire.WireError, IndexError):
            raise RumpError(errnos.EPROTO) from None

    def disconnect(self):
        """Close the connection (close() is the system call, as in the os module)."""
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)   # wakes a thread blocked reading it
            except OSError:
                pass
            try:
                self.sock.close()
            finally:
                self.sock = None

    # -- requests ----------------------------------------------------------------
    def _request(self, typ, arg, body=b""):
        """Send a request and wait for its reply: (class, arg, body).

        The request is registered before it is sent, so a reply that comes
        back at once is never lost; the first thread to wait reads for all.
        Lock order: _send_lock, then _state. The reader role is claimed only
        while holding _send_lock or with no lock at all, and a thread that has
        the reader role never waits for _send_lock: so _lost() (which holds
        _send_lock while it waits for the reader role) cannot deadlock.
        """
        state = self._state
        with self._send_lock:
            gen = self._generation
            with state:
                self._reqno += 1
                reqno = self._reqno
                lead = not self._leader
                if lead:
                    self._leader = True
                else:
                    self._waiting.add(reqno)
            try:
                self.sock.sendall(wire.HEADER.pack(wire.HEADER_SIZE + len(body), reqno, wire.REQ, typ, arg) + body)
            except BaseException:
                if lead:
                    self._release_lead()
                else:
                    with state:
                        self._waiting.discard(reqno)
                raise
        if not lead:
            return self._follow(reqno, gen)
        try:
            return self._lead(reqno)
        finally:
            self._release_lead()

    def _release_lead(self):
        with self._state:
            self._leader = False
            if self._sleepers:          # the common single-threaded case wakes no one
                self._cond.notify_all()

    def _wait(self):
        """Wait on _cond (held) until notified, counted so that _release_lead knows."""
        self._sleepers += 1
        try:
            self._cond.wait()
        finally:
            self._sleepers -= 1

    def _follow(self, reqno, gen):
        cond = self._cond
        with cond:
            while True:
                got = self._replies.pop(reqno, None)
                if got is not None:
                    self._waiting.discard(reqno)
                    return got
                if self._generation != gen:     # the connection it went out on is gone
                    self._waiting.discard(reqno)
                    raise ConnectionResetError(errnos.to_host(errnos.ECONNRESET), "connection lost")
                if not self._leader:
                    self._leader = True
                    self._waiting.discard(reqno)
                    break
                self._wait()
        try:
            return self._lead(reqno)
        finally:
            self._release_lead()

    def _lead(self, reqno):
        """Read frames until our reply comes, handing others to their threads."""
        sock, view, reader = self.sock, self._view, self._reader
        unpack = wire.HEADER.unpack_from
        rbuf = reader.buf
        while True:
            fr = reader.next_frame() if reader.pos != len(rbuf) else None
            if fr is None:
                n = sock.recv_into(view)
                if n == 0:
                    raise ConnectionResetError(errnos.to_host(errnos.ECONNRESET), "server closed the connection")
                if n >= wire.HEADER_SIZE and reader.pos == len(reader.buf):
                    length, rno, cls, typ, arg = unpack(view)
                    if length == n and rno == reqno and cls != wire.REQ:
                        return cls, arg, bytes(view[wire.HEADER_SIZE:n])   # just our reply
                reader.feed(view[:n])
                continue
            rno, cls, typ, arg, body = fr
            if cls == wire.REQ:
                self._server_request(typ, arg)
                continue
            if rno == reqno:
                return cls, arg, body
            with self._cond:
                if rno in self._waiting:
                    self._replies[rno] = (cls, arg, body)
                    self._cond.notify_all()

    def _server_request(self, typ, arg):
        if typ == wire.RAISE:
            from ..abi.signals import to_host
            sig = to_host(arg)
            if sig is not None:
                os.kill(os.getpid(), sig)

    # -- system calls ------------------------------------------------------------
    def syscall(self, sc, args):
        """Run one system call; return its results tuple or raise RumpError."""
        body = wire.encode(args)
        while True:
            gen = self._generation
            try:
                cls, arg, rbody = self._request(wire.SYSCALL, sc.number, body)
                break
            except RumpError:
                raise
            except (OSError, AttributeError, wire.WireError):    # AttributeError: sock is None
                self._lost(gen)
        if arg or cls == wire.ERROR:
            self._raise(cls, arg, rbody)
        return wire.decode(rbody)

    @staticmethod
    def _raise(cls, arg, rbody):
        if cls == wire.ERROR:
            raise RumpError(wire.ERROR_ERRNO.get(arg, errnos.EINVAL))
        detail = None
        if rbody:
            try:
                detail = wire.decode(rbody)[0]
            except (wire.WireError, IndexError):
                pass
        raise RumpError(arg, detail=detail)

    def _lost(self, gen):
        """The connection broke: reconnect as the policy says or raise ENOTCONN."""
        with self._send_lock:
            if gen != self._generation:       # another thread already reconnected
                return
            self.disconnect()
            policy = self.retry
            if policy == RETRY_NONE:
                raise ConnectionLost()
            if policy == RETRY_DIE:
                os._exit(1)
            start = time.monotonic()
            last_note = start
            attempt = 0
            while True:
                if attempt == 1:
                    if policy == RETRY_ONCE:
                        raise ConnectionLost()
                    sys.stderr.write("rump_sp: connection to kernel lost, trying to reconnect ...\n")
                    sys.stderr.flush()
                if attempt:
                    time.sleep(0.1 * attempt if attempt < 10 else min(10, attempt - 9))
                now = time.monotonic()
                if policy > 0 and now - start > policy:
                    sys.stderr.write("rump_sp: reconnect failed, %d second timeout\n" % policy)
                    sys.stderr.flush()
                    raise ConnectionLost()
                if now - last_note > 120:
                    sys.stderr.write("rump_sp: still trying to reconnect ...\n")
                    sys.stderr.flush()
                    last_note = now
                try:
                    self._reconnect()
                    if attempt:
                        sys.stderr.write("rump_sp: reconnected!\n")
                        sys.stderr.flush()
                    return
                except (OSError, wire.WireError):
                    attempt += 1

    def _reconnect(self):
        """Called by _lost() with _send_lock held: take the reader role first (its holder
        only reads, and the old socket is shut down, so it lets go soon), then connect."""
        with self._cond:
            while self._leader:
                self._wait()
            self._leader = True
        try:
            s = self._greet()
            with self._cond:
                self._cond.notify_all()     # followers of the old connection give up
                self._reqno += 1
                reqno = self._reqno
            s.sendall(wire.frame(reqno, wire.REQ, wire.HANDSHAKE, wire.HS_GUEST, wire.encode((self.comm,))))
            cls, _arg, body = self._lead(reqno)
        finally:
            self._release_lead()
        if cls != wire.RESP:
            raise ConnectionResetError(errnos.to_host(errnos.ECONNRESET), "handshake refused")
        self.pid = wire.decode(body)[0]

    # -- fork and exec -----------------------------------------------------------
    def prefork(self):
        """Ask the kernel to park a copy of this process; returns the cookie."""
        cls, arg, body = self._request(wire.PREFORK, 0)
        if cls == wire.ERROR:
            raise RumpError(wire.ERROR_ERRNO.get(arg, errnos.EINVAL))
        return wire.decode(body)[0]

    def fork(self):
        """os.fork() for rump clients: the child gets its own kernel process sharing
        a copy of the parent's descriptors. Returns like os.fork()."""
        cookie = self.prefork()
        pid = os.fork()
        if pid == 0:
            self.sock.close()
            self.sock = None
            self.__init__(self.address, self.comm, self.retry)
            self.connect(wire.HS_FORK, cookie)
        return pid

    def exec_env(self):
        """Environment and descriptor to pass to a program this one is about to exec.

        The new program calls init(); it reuses the connection, and the kernel
        process survives with its close-on-exec descriptors closed."""
        fd = self.sock.fileno()
        os.set_inheritable(fd, True)
        return {ENV_EXECFD: "%d,-1" % fd, ENV_PARSED: self.address.describe()}, fd

    def _exec_handshake(self):
        self.pid = self._handshake(wire.HS_EXEC, (self.comm,))


def _stub(sc):
    """The client method of one table entry: call it, return its results os-style
    (one result as itself, several as a tuple, none as None; stat and statvfs
    as named tuples)."""
    rs = sc.resultspec          # the raw text: parsing every entry would slow start-up
    convert = CONVERT.get(rs.partition(":")[2]) if rs and " " not in rs else None
    if convert is not None:
        def stub(self, *args):
            res = self.syscall(sc, args)
            return convert(res[0]) if len(res) == 1 else (res or None)
    else:
        def stub(self, *args):
            res = self.syscall(sc, args)
            return res[0] if len(res) == 1 else (res or None)
    stub.__name__ = stub.__qualname__ = sc.method
    stub.__doc__ = "%s(%s) -> %s: %s (syscall %d %s)" % (
        sc.method, sc.argspec, sc.resultspec or "None", sc.doc, sc.number, sc.name)
    return stub


for _sc in TABLE:       # the stubs are made from the table once, at import
    setattr(Client, _sc.method, _stub(_sc))
del _sc


def _from_exec(value, address, comm, retry):
    """Adopt the connection an exec'ing parent left at descriptor `value` ("fd,kq").
    Anything but a descriptor of an open socket is EBADF (as a failed handshake)."""
    try:
        fd = int(value.split(",")[0])
    except ValueError:
        fd = -1
    if not 0 <= fd < 1 << 31:
        raise OSError(errnos.to_host(errnos.EBADF), errnos.strerror(errnos.EBADF))
    s = socket.socket(fileno=fd)
    os.set_inheritable(fd, False)
    c = Client(address, comm, retry, sock=s)
    # replies to calls the old image left in flight may still arrive: number our
    # requests far from the old image's so that none is taken for ours
    c._reqno = int.from_bytes(os.urandom(4), "little") << 24
    c._exec_handshake()
    return c


def init(progname=None, retry=None):
    """librumpclient's rumpclient_init(): connect to RUMP_SERVER.

    Prints NetBSD's diagnostic and raises OSError on failure (errno is the
    host's; use errnos.host_text for NetBSD's message).
    """
    env = os.environ
    text = env.get(ENV_PARSED) or env.get("RUMP_SERVER")
    if text is None:                    # set but empty is a locator that does not parse
        sys.stderr.write("error: RUMP_SERVER not set\n")
        raise FileNotFoundError(errnos.to_host(errnos.ENOENT), "RUMP_SERVER not set")
    if retry is None:
        spec = env.get("RUMPHIJACK_RETRYCONNECT")
        if spec is None:
            retry = RETRY_NONE
        else:
            try:
                retry = parse_retry(spec)
            except ValueError as e:
                sys.stderr.write("%s\n" % e)
                sys.exit(1)
    try:
        address = url.parse(text)
    except url.URLError as e:
        sys.stderr.write(e.message + "\n")
        raise OSError(errnos.to_host(e.errno), errnos.strerror(e.errno)) from None
    comm = progname or _comm()
    execfd = env.pop(ENV_EXECFD, None)
    if execfd:
        env.pop(ENV_PARSED, None)
        return _from_exec(execfd, address, comm, retry)
    c = Client(address, comm, retry)
    try:
        return c.connect()
    except RumpError as e:
        raise OSError(errnos.to_host(e.errno), e.strerror) from None
