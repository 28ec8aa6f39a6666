"""The sysproxy server: accepts clients and runs their system calls in the kernel.

Threads: one accept thread; per connection one reader thread that decodes
frames and runs each call inline with the kernel lock held. If a call must
sleep, a fresh reader thread takes over the connection before it sleeps
(leader/follower), so other calls on the same connection go on; the sleeper
sends its own reply when woken and then ends. Replies are serialised by a
per-connection send lock. The kernel itself never touches a socket: it only
sees processes, LWPs and the signal sink this module installs.
"""
import os
import socket
import stat
import struct
import threading

from . import wire
from .encoders import result_encoder
from ..abi import errnos
from ..abi.errnos import RumpError

_decode = wire.decode
_current_thread = threading.current_thread

MAX_CLIENTS = 255
MAX_SLEEPERS = 128
MAX_PARKED = 64
RECV_SIZE = 1 << 20


class ServerError(Exception):
    """Binding failed; .message is the rump_sp diagnostic, .errno NetBSD's number."""

    def __init__(self, message, err):
        super().__init__(message)
        self.message = message
        self.errno = err


class Connection:
    def __init__(self, server, sock):
        self.server = server
        self.kernel = server.kernel
        self.sock = sock
        self.send_lock = threading.Lock()
        self.reader = wire.FrameReader()
        self.proc = None
        self.execs = 0              # exec handshakes so far: replies of older images are dropped
        self.threads = 0            # threads using this connection (guarded by server.lock)
        self.closed = False

    # -- sending -------------------------------------------------------------
    def send(self, data):
        with self.send_lock:
            if self.closed:
                return False
            try:
                self.sock.sendall(data)
                return True
            except OSError:
                return False

    def send_error(self, reqno, code):
        self.send(wire.frame(reqno, wire.ERROR, 0, code))

    def raise_signal(self, signo):
        self.send(wire.frame(0, wire.REQ, wire.RAISE, signo))

    # -- thread bookkeeping --------------------------------------------------
    def enter(self):
        with self.server.lock:
            self.threads += 1
            self.kernel.sp_threads += 1

    def leave(self):
        with self.server.lock:
            self.threads -= 1
            self.kernel.sp_threads -= 1
            last = self.threads == 0
        if last:
            self._close_socket()

    def _close_socket(self):
        with self.send_lock:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass
        self.server.forget(self)

    def hangup(self):
        """Stop reading and writing; the socket closes when the last thread leaves."""
        with self.send_lock:
            if not self.closed:
                try:
                    self.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    # -- reading -------------------------------------------------------------
    def run(self):
        """Reader loop. Returns when the peer is gone or this thread handed off."""
        self.enter()
        try:
            self._read_loop()
        finally:
            self.leave()

    def _read_loop(self):
        me = threading.current_thread()
        self.owner = me
        buf = bytearray(RECV_SIZE)
        view = memoryview(buf)
        sock, reader = self.sock, self.reader
        unpack = wire.HEADER.unpack_from
        fr = None
        while True:
            try:
                while True:
                    if fr is None:
                        fr = reader.next_frame()
                        if fr is None:
                            break
                    ok = self.handle(fr)
                    fr = None
                    if not ok:
                        self.hangup()
                        self.disconnected()
                        return
                    if self.owner is not me:
                        return          # a sleeping call gave the connection to a new reader
            except wire.WireError:
                self.hangup()
                self.disconnected()
                return
            try:
                n = sock.recv_into(view)
            except OSError:
                n = 0
            if n == 0:
                self.disconnected()
                return
            if n >= wire.HEADER_SIZE and reader.pos == len(reader.buf):
                length, reqno, cls, typ, arg = unpack(view)
                if length == n:         # the common case: exactly one whole frame arrived
                    fr = (reqno, cls, typ, arg, bytes(view[wire.HEADER_SIZE:n]))
                    continue
            reader.feed(view[:n])

    def handoff(self):
        """Called (kernel lock held) when a call is about to sleep: start a new reader."""
        if self.server.sleepers >= MAX_SLEEPERS:
            raise RumpError(errnos.EAGAIN)
        self.server.sleepers += 1
        self.owner = None
        self.enter()
        t = threading.Thread(target=self._takeover, name="sp-reader", daemon=True)
        t.start()

    def _takeover(self):
        try:
            self._read_loop()
        finally:
            self.leave()

    def disconnected(self):
        with self.kernel.lock:
            self.server.orphan_parked(self)
            if self.proc is not None:
                self.kernel.procs.exit(self.proc)
                self.proc = None
                self.kernel.nclients -= 1

    # -- frames --------------------------------------------------------------
    def handle(self, fr):
        """Handle one frame; False means drop the connection."""
        reqno, cls, typ, arg, body = fr
        if self.proc is None:
            if cls != wire.REQ:
                self.send_error(reqno, wire.E_AUTH)
                return False
            return self.handshake_first(reqno, typ, arg, body)
        if cls != wire.REQ:
            self.send_error(reqno, wire.E_MALFORMED)
            return True
        if typ == wire.SYSCALL:
            self.syscall(reqno, arg, body)
            return True
        if typ == wire.HANDSHAKE:
            if arg == wire.HS_EXEC:
                return self.exec_handshake(reqno, body)
            self.send_error(reqno, wire.E_MALFORMED)
            return False
        if typ == wire.PREFORK:
            return self.prefork(reqno)
        self.send_error(reqno, wire.E_MALFORMED)
        return True

    def handshake_first(self, reqno, typ, kind, body):
        if typ != wire.HANDSHAKE or kind not in (wire.HS_GUEST, wire.HS_FORK):
            self.send_error(reqno, wire.E_AUTH)
            return False
        try:
            values = wire.decode(body)
        except wire.WireError:
            self.send_error(reqno, wire.E_MALFORMED)
            return False
        k = self.kernel
        with k.lock:
            if k.halting:
                self.send_error(reqno, wire.E_TRYAGAIN)
                return False
            if kind == wire.HS_GUEST:
                if len(values) != 1 or type(values[0]) is not str:
                    self.send_error(reqno, wire.E_MALFORMED)
                    return False
                proc = k.procs.spawn(values[0][:16] or "???")
            else:
                if len(values) != 2 or type(values[0]) is not bytes or type(values[1]) is not int:
                    self.send_error(reqno, wire.E_MALFORMED)
                    return False
                proc, _parent = self.server.parked.pop(values[0], (None, None))
                if proc is None:
                    self.send_error(reqno, wire.E_INVALID_PREFORK)
                    return False
                if values[1]:
                    k.procs.exit(proc)
                    return False
                k.procs.procs[proc.pid] = proc
            proc.signal_sink = self.raise_signal
            self.proc = proc
            k.nclients += 1
            pid = proc.pid
        return self.send(wire.frame(reqno, wire.RESP, wire.HANDSHAKE, 0, wire.encode((pid,))))

    def prefork(self, reqno):
        k = self.kernel
        with k.lock:
            child = k.procs.fork(self.proc)
            del k.procs.procs[child.pid]       # parked: not running until a fork handshake
            cookie = k.host.random(16)
            parked = self.server.parked
            parked[cookie] = (child, self)
            while len(parked) > MAX_PARKED:
                old, _owner = parked.pop(next(iter(parked)))
                k.procs.exit(old)
        return self.send(wire.frame(reqno, wire.RESP, wire.PREFORK, 0, wire.encode((cookie,))))

    def exec_handshake(self, reqno, body):
        """The client exec'd: same process, close-on-exec descriptors closed.

        The reader thread handles it, so no other frame of this connection
        can overlap it. Calls the old image left sleeping have no caller any
        more (execve ended its threads): they are interrupted, as a kernel
        ends the other LWPs of an exec'ing process.
        """
        try:
            values = wire.decode(body)
        except wire.WireError:
            values = ()
        if len(values) != 1 or type(values[0]) is not str:
            self.send_error(reqno, wire.E_MALFORMED)
            return False
        k = self.kernel
        with k.lock:
            self.execs += 1             # their request numbers may be reused by the new image
            for lwp in list(self.proc.lwps):
                k.sleepq.interrupt(lwp)
            self.proc.files.exec_close()
            self.proc.comm = values[0][:16] or "???"
            pid = self.proc.pid
        return self.send(wire.frame(reqno, wire.RESP, wire.HANDSHAKE, 0, wire.encode((pid,))))

    def syscall(self, reqno, number, body):
        """Dispatch: one lookup finds the kernel's entry (handler, argument check,
        result encoder); an unknown number or a component not loaded is ENOSYS."""
        k = self.kernel
        ent = k.sysent.get(number)
        if ent is None:
            self.send(wire.frame(reqno, wire.RESP, wire.SYSCALL, errnos.ENOSYS))
            return
        try:
            args = _decode(body)
        except wire.WireError:
            self.send_error(reqno, wire.E_MALFORMED)
            return
        if not ent.check(args):
            self.send(wire.frame(reqno, wire.RESP, wire.SYSCALL, errnos.EINVAL))
            return
        image = self.execs
        err, results, after, detail = k.run(self.proc, ent, args, self.handoff)
        if self.owner is not _current_thread():
            with k.lock:
                self.server.sleepers -= 1       # this call slept and gave up the reader role
        if image != self.execs:                 # its caller exec'd away: nobody to answer
            if after is not None:
                after()
            return
        if err:
            body = wire.encode((detail,)) if detail else b""
            reply = wire.frame(reqno, wire.RESP, wire.SYSCALL, err, body)
        else:
            try:
                reply = ent.encode(reqno, results)
            except (wire.WireError, struct.error):
                reply = wire.frame(reqno, wire.RESP, wire.SYSCALL, errnos.EOVERFLOW)
            except (ValueError, TypeError) as e:
                k.console("kernel: syscall %d failed: results do not fit the syscall table: %s" % (number, e))
                reply = wire.frame(reqno, wire.RESP, wire.SYSCALL, errnos.EIO)
        self.send(reply)
        if after is not None:
            after()


class Server:
    def __init__(self, kernel, address):
        self.kernel = kernel
        self.address = address
        self.lock = threading.Lock()
        self.listener = None
        self.conns = set()
        self.parked = {}
        self.sleepers = 0
        self.running = False
        self._inode = None
        kernel.set_result_encoder(result_encoder)

    # -- binding -------------------------------------------------------------
    def bind(self):
        a = self.address
        if a.scheme == "unix":
            self.listener = self._bind_unix(a.path)
        else:
            fam = socket.AF_INET6 if a.family6 else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((a.host, a.port))
            except OSError as e:
                s.close()
                raise ServerError("rump_sp: failed to bind to URL %s" % a.describe(),
                                  errnos.from_host(e.errno)) from None
            self.listener = s
        try:
            self.listener.listen(256)
        except OSError as e:
            raise ServerError("rump_sp: server listen failed", errnos.from_host(e.errno)) from None

    def _bind_unix(self, path):
        fail = "rump_sp: failed to bind to URL unix://%s" % path
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        if st is not None:
            if not stat.S_ISSOCK(st.st_mode):
                raise ServerError(fail, errnos.EADDRINUSE)
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(path)
                live = True
            except OSError:
                live = False
            finally:
                probe.close()
            if live:
                raise ServerError(fail, errnos.EADDRINUSE)
            os.unlink(path)             # stale socket of a killed server: reclaim it
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)           # srw------- whatever the caller's umask: clients get root
        try:
            s.bind(path)
        except OSError as e:
            s.close()
            raise ServerError(fail, errnos.from_host(e.errno)) from None
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        self._inode = os.stat(path).st_ino
        return s

    # -- running -------------------------------------------------------------
    def start(self):
        self.running = True
        self.banner = wire.banner("NetBSD", *self._identity())
        self.kernel.host.start_thread(self._accept_loop, "sp-accept")

    def _identity(self):
        from ..kernel.kern.kernel import OSRELEASE
        return OSRELEASE, "amd64"

    def _accept_loop(self):
        while self.running:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                if not self.running:
                    return
                continue
            if not self.running:
                sock.close()
                return
            with self.lock:
                full = len(self.conns) >= MAX_CLIENTS
            if full:
                sock.close()
                continue
            if sock.family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                sock.sendall(self.banner)
            except OSError:
                sock.close()
                continue
            conn = Connection(self, sock)
            with self.lock:
                self.conns.add(conn)
            threading.Thread(target=conn.run, name="sp-reader", daemon=True).start()

    def orphan_parked(self, conn):
        """The parent of parked forks went away: its children may still claim them
        (daemon(3) exits the parent first), but only for kern.sysproxy.fork_grace seconds."""
        k = self.kernel
        for cookie, (proc, owner) in list(self.parked.items()):
            if owner is conn:
                self.parked[cookie] = (proc, None)
                k.callouts.schedule(k.fork_grace, self._expire_parked, cookie)

    def _expire_parked(self, cookie):
        entry = self.parked.get(cookie)
        if entry is not None and entry[1] is None:
            del self.parked[cookie]
            self.kernel.procs.exit(entry[0])

    def forget(self, conn):
        with self.lock:
            self.conns.discard(conn)

    def shutdown(self):
        """Stop accepting, remove the socket file, hang up on every client."""
        self.running = False
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
        self.remove_socket()
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            c.hangup()

    def remove_socket(self):
        a = self.address
        if a.scheme == "unix" and self._inode is not None:
            try:
                if os.stat(a.path).st_ino == self._inode:
                    os.unlink(a.path)
            except OSError:
                pass
            self._inode = None
