"""The sysproxy server: accepts clients and runs their system calls in the kernel.

Threads (leader/follower, on the pool of pool.py):
- one accept thread;
- each connection has one reading role, held by one pool thread at a time:
  it reads frames and handles each as it arrives -- handshakes, prefork
  and exec (ordered with the connection's other frames) and every system
  call, inline, so a call that does not wait costs no thread switch;
- a call about to wait (the LWP's before-sleep hook: a sleep, or the kernel
  lock let go around host I/O or cipher work) hands the reading role to
  another pool thread first (_handoff), so the connection's further calls
  are read and run meanwhile; the waiting thread answers its call and goes
  back to the pool. Sleeping calls thus never fail, and at the pool's
  thread limit a connection's requests wait to be read rather than fail;
- a writer per connection only while that client is behind in reading
  (outq.py).
NetBSD's server hands every call to a worker instead; running calls where
they are read halves the cost of a call that does not wait (rump_sp(7)).

Locking rule: the kernel lock is taken only inside kernel calls (and here
around process-table operations); nothing here waits on a client's socket
while holding it: replies and kernel-raised signals go through the
connection's non-blocking output queue (outq.py). _handoff runs inside
tsleep (or biglock.unlocked) with the kernel lock held: it takes only the
leaf locks Output.lock and Pool.lock and wakes or starts a thread. The
reading role is one thread's at a time (Connection.role says whose run()
holds it); only that thread touches the connection's frame reader, receive
buffer and frame-budget reservation. Server.lock guards the connection set;
it is never held while taking the kernel lock.

Limits, so that no client can lock others out: a connection must complete
its handshake within kern.sysproxy.handshake_timeout seconds; at most
MAX_PENDING connections may be waiting to handshake (a new one evicts the
oldest once that has waited PENDING_GRACE seconds, so a burst of honest
clients is not cut off), and MAX_CLIENTS in all (when full, a waiting one is
evicted first; a new connection is refused only when every slot has a
handshaken client).
Frames larger than SMALL_FRAME reserve their size from one FrameBudget
shared by all connections before they are read (the reader waits for room,
up to FRAME_WAIT seconds), and a frame that stops arriving for FRAME_STALL
seconds drops its connection. A connection has at most MAX_INFLIGHT waiting
calls in flight; past that its reader waits.
"""
import os
import select
import socket
import stat
import struct
import threading
import time

from . import wire
from .outq import Output
from .pool import Pool
from .encoders import result_encoder
from ..abi import errnos

_decode = wire.decode

MAX_CLIENTS = 255           # NetBSD's MAXCLI, less the listener
MAX_PENDING = 32
PENDING_GRACE = 2.0           # seconds a waiting connection is safe from eviction
MAX_INFLIGHT = 2048
HANDSHAKE_TIMEOUT = 10.0
RECV_SIZE = 1 << 20
SMALL_FRAME = 1 << 20
FRAME_BUDGET = 2 * wire.MAX_FRAME
FRAME_WAIT = 10.0
FRAME_STALL = 30.0
EXEC_WAIT = 5.0


class ServerError(Exception):
    """Binding failed; .message is the rump_sp diagnostic, .errno NetBSD's number."""

    def __init__(self, message, err):
        super().__init__(message)
        self.message = message
        self.errno = err


class FrameBudget:
    """Bytes of large incomplete frames that all connections together may buffer."""

    def __init__(self, total):
        self.total = total
        self.used = 0
        self.cond = threading.Condition(threading.Lock())

    def reserve(self, n, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.used + n > self.total:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            self.used += n
            return True

    def give_back(self, n):
        if n:
            with self.cond:
                self.used -= n
                self.cond.notify_all()


class Connection:
    def __init__(self, server, sock):
        self.server = server
        self.kernel = server.kernel
        self.sock = sock
        self.out = Output(sock, self._closed)
        self.reader = wire.FrameReader()
        self.proc = None
        self.accepted = time.monotonic()
        self.reserved = 0               # bytes of the frame budget the reader holds
        self.role = None                # token of the run() that holds the reading role
        self.rbuf = self.rview = None   # the reader's receive buffer, passed on with the role

    # -- sending -------------------------------------------------------------
    def send(self, data):
        return self.out.send(data)

    def send_error(self, reqno, code):
        self.out.send(wire.frame(reqno, wire.ERROR, 0, code))

    def raise_signal(self, signo):
        """The kernel's signal sink (kernel lock held): queued, never blocks."""
        self.out.send(wire.frame(0, wire.REQ, wire.RAISE, signo))

    def hangup(self):
        """Drop the connection: the reader sees EOF and the process exits."""
        self.out.drop()

    def _closed(self):
        self.server.forget(self)

    # -- reading -------------------------------------------------------------
    def run(self):
        """The connection's reading role, run by a pool thread: read frames and run each
        call inline until the peer goes, or until a call about to sleep hands the role
        to another thread (_handoff); this thread then finishes that call and returns
        to the pool."""
        me = self.role = object()
        if self.rbuf is None:
            self.rbuf = bytearray(RECV_SIZE)
            self.rview = memoryview(self.rbuf)
        try:
            ended = self._read_loop(me)
        except Exception:                   # a bug here must not leave the client hanging
            import traceback
            self.kernel.console("sysproxy: reader failed:\n%s" % traceback.format_exc())
            if self.role is not me:         # the role is another thread's now
                return
            self.hangup()
            ended = True
        if ended:
            self.role = None
            self.rbuf = self.rview = None   # the connection may live on in a cycle until gc
            self.server.budget.give_back(self.reserved)
            self.reserved = 0
            self.disconnected()
            self.out.release()

    def _handoff(self):
        """The LWP's before-sleep hook (kernel lock held): the call on this reader is
        about to sleep, so the connection's reading goes to another pool thread first.
        From here the call counts as in flight (exec waits for it; it holds its own
        reference to the socket)."""
        pool = self.server.pool
        if not pool.is_reader():            # not on a reader (a unit test's direct call)
            return
        self.out.call_started()
        self.role = None
        pool.handoff(self.run)

    def _wait_readable(self, timeout):
        """poll() the socket: True if there is something to read (or EOF)."""
        p = select.poll()
        try:
            p.register(self.sock.fileno(), select.POLLIN)
            return bool(p.poll(max(0, int(timeout * 1000))))
        except (OSError, ValueError):
            return True

    def _read_loop(self, me):
        """True when the connection is over, False when the role was handed off."""
        view = self.rview
        sock, reader, out, server = self.sock, self.reader, self.out, self.server
        rbuf = reader.buf                   # the same bytearray for the reader's life
        unpack = wire.HEADER.unpack_from
        handle, syscall = self.handle, self.syscall
        HSIZE, REQ, SYSCALL = wire.HEADER_SIZE, wire.REQ, wire.SYSCALL
        fr = None
        while True:
            pending = 0
            if fr is not None or reader.pos != len(rbuf):      # frames buffered
                try:
                    while True:
                        if fr is None:
                            fr = reader.next_frame()
                            if fr is None:
                                break
                            if self.reserved:
                                server.budget.give_back(self.reserved)
                                self.reserved = 0
                        ok = handle(fr)
                        fr = None
                        if self.role is not me:
                            return False
                        if not ok:
                            self.hangup()
                            return True
                except wire.WireError:
                    self.hangup()
                    return True
                pending = reader.pending()
            if out.queued > 0 or out.inflight >= MAX_INFLIGHT:
                if not out.wait_room(MAX_INFLIGHT):
                    return True
            if pending > SMALL_FRAME and not self.reserved:
                if pending > wire.MAX_FRAME:
                    self.hangup()
                    return True
                if not server.budget.reserve(pending, FRAME_WAIT):
                    self.hangup()
                    return True
                self.reserved = pending
                fr = self._read_big(pending)    # straight into a buffer of its own
                if fr is None:
                    return True
                held, self.reserved = self.reserved, 0   # now the call's, until it is done
                ok = handle(fr, held)
                fr = None
                if self.role is not me:
                    return False
                if not ok:
                    self.hangup()
                    return True
                continue
            timeout = None
            if self.proc is None:
                timeout = self.accepted + server.handshake_timeout() - time.monotonic()
            elif pending:
                timeout = FRAME_STALL
            if timeout is not None and not self._wait_readable(timeout):
                self.hangup()               # no handshake in time, or a frame that stopped coming
                return True
            try:
                n = sock.recv_into(view)
            except OSError:
                n = 0
            if n == 0:
                out.shut_read_side()
                return True
            if n >= HSIZE and reader.pos == len(rbuf):
                length, reqno, cls, typ, arg = unpack(view)
                if length == n:         # the common case: exactly one whole frame arrived
                    proc = self.proc
                    if typ == SYSCALL and cls == REQ and proc is not None:
                        syscall(proc, reqno, arg, bytes(view[HSIZE:n]))
                        if self.role is not me:
                            return False
                    else:
                        fr = (reqno, cls, typ, arg, bytes(view[HSIZE:n]))
                    continue
            reader.feed(view[:n])

    def _read_big(self, length):
        """Read the rest of a large frame into a bytearray of its size (recv_into: no
        copies, the GIL let go while waiting). Returns the frame with a memoryview body,
        or None if the peer went away or stopped sending for FRAME_STALL seconds."""
        big = bytearray(length)
        have = self.reader.take()
        big[:len(have)] = have
        pos, view = len(have), memoryview(big)
        while pos < length:
            if not self._wait_readable(FRAME_STALL):
                self.hangup()
                return None
            try:
                n = self.sock.recv_into(view[pos:], length - pos)
            except OSError:
                n = 0
            if n == 0:
                self.out.shut_read_side()
                return None
            pos += n
        _length, reqno, cls, typ, arg = wire.HEADER.unpack_from(big)
        return reqno, cls, typ, arg, view[wire.HEADER_SIZE:]

    def disconnected(self):
        k = self.kernel
        with k.lock:
            k.procs.orphan(self)
            if self.proc is not None:
                k.procs.exit(self.proc)
                self.proc = None
                k.nclients -= 1
        self.server.forget_pending(self)

    # -- frames --------------------------------------------------------------
    def handle(self, fr, held=0):
        """Handle one frame; False means drop the connection. held: bytes of the frame
        budget that the frame holds, given back once it is handled."""
        reqno, cls, typ, arg, body = fr
        if typ == wire.SYSCALL and cls == wire.REQ and self.proc is not None:
            self.syscall(self.proc, reqno, arg, body, held)
            return True
        try:
            return self._control(reqno, cls, typ, arg, body)
        finally:
            if held:
                self.server.budget.give_back(held)

    def _control(self, reqno, cls, typ, arg, body):
        if self.proc is None:
            if cls != wire.REQ:
                self.send_error(reqno, wire.E_AUTH)
                return False
            return self.handshake_first(reqno, typ, arg, body)
        if cls != wire.REQ:
            self.send_error(reqno, wire.E_MALFORMED)
            return True
        if typ == wire.HANDSHAKE:
            if arg == wire.HS_EXEC:
                return self.exec_handshake(reqno, body)
            self.send_error(reqno, wire.E_MALFORMED)
            return False
        if typ == wire.PREFORK:
            return self.prefork(reqno)
        if typ == wire.INTERRUPT:
            self.kernel.interrupt(self.proc, reqno)     # no response, whether found or not
            return True
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
                if values[1]:
                    k.procs.cancel(values[0])
                    return False
                proc = k.procs.claim(values[0])
                if proc is None:
                    self.send_error(reqno, wire.E_INVALID_PREFORK)
                    return False
            proc.signal_sink = self.raise_signal
            self.proc = proc
            k.nclients += 1
            pid = proc.pid
        self.server.handshaken(self)
        return self.send(wire.frame(reqno, wire.RESP, wire.HANDSHAKE, 0, wire.encode((pid,))))

    def prefork(self, reqno):
        k = self.kernel
        with k.lock:
            cookie = k.procs.park(self.proc, self)
        return self.send(wire.frame(reqno, wire.RESP, wire.PREFORK, 0, wire.encode((cookie,))))

    def exec_handshake(self, reqno, body):
        """The client exec'd: the process survives (ProcTable.exec). The reader
        handles it, so no later frame of this connection can overlap it."""
        try:
            values = wire.decode(body)
        except wire.WireError:
            values = ()
        if len(values) != 1 or type(values[0]) is not str:
            self.send_error(reqno, wire.E_MALFORMED)
            return False
        k = self.kernel
        with k.lock:
            k.procs.exec(self.proc, values[0][:16] or "???")
            pid = self.proc.pid
        # as NetBSD's serv_handleexec: the old image's calls (just interrupted) are
        # answered before the new image hears that exec is done
        self.out.wait_calls(time.monotonic() + EXEC_WAIT)
        return self.send(wire.frame(reqno, wire.RESP, wire.HANDSHAKE, 0, wire.encode((pid,))))

    def syscall(self, proc, reqno, number, body, held=0):
        """One system call and its reply, run inline by the connection's reader. Dispatch:
        one lookup finds the kernel's entry (handler, argument check, result encoder); an
        unknown number or a component not loaded is ENOSYS. If the call sleeps, the
        reading role has moved on (_handoff) and the call was counted in flight: it is
        counted out once its reply is sent."""
        me = self.role
        k = self.kernel
        after = None
        try:
            ent = k.sysent.get(number)
            if ent is None:
                reply = wire.frame(reqno, wire.RESP, wire.SYSCALL, errnos.ENOSYS)
            else:
                try:
                    args = _decode(body)
                except wire.WireError:
                    args = None
                body = None
                if args is None:
                    reply = wire.frame(reqno, wire.ERROR, 0, wire.E_MALFORMED)
                elif not ent.check(args):
                    reply = wire.frame(reqno, wire.RESP, wire.SYSCALL, errnos.EINVAL)
                else:
                    reply, after = self._run(k, proc, ent, args, reqno, number)
            self.out.send(reply)
            if after is not None:
                after()
        finally:
            body = None
            if held:
                self.server.budget.give_back(held)
            if self.role is not me:
                self.out.call_done()

    def _run(self, k, proc, ent, args, reqno, number):
        """Run the call in the kernel: (its reply frame, what to run once it is sent)."""
        err, results, after, detail = k.run(proc, ent, args, self._handoff, reqno)
        if err:
            body = wire.encode((detail,)) if detail else b""
            return wire.frame(reqno, wire.RESP, wire.SYSCALL, err, body), after
        try:
            return ent.encode(reqno, results), after
        except (wire.WireError, struct.error):
            return wire.frame(reqno, wire.RESP, wire.SYSCALL, errnos.EOVERFLOW), after
        except (ValueError, TypeError) as e:
            k.console("kernel: syscall %d failed: results do not fit the syscall table: %s" % (number, e))
            return wire.frame(reqno, wire.RESP, wire.SYSCALL, errnos.EIO), after


class Server:
    def __init__(self, kernel, address):
        self.kernel = kernel
        self.address = address
        self.lock = threading.Lock()
        self.listener = None
        self.conns = set()
        self.pending = {}               # connections not yet handshaken, oldest first
        self.running = False
        self._inode = None
        self.pool = Pool(on_error=lambda text: kernel.console("sysproxy: thread failed:\n" + text))
        self.budget = FrameBudget(FRAME_BUDGET)
        self.handshake_limit = HANDSHAKE_TIMEOUT
        kernel.sysproxy = self
        kernel.set_result_encoder(result_encoder)

    # -- what sysctl shows -----------------------------------------------------
    def handshake_timeout(self):
        return self.handshake_limit

    def stats(self):
        st = self.pool.stats()
        with self.lock:
            st["pending"] = len(self.pending)
        return st

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
        threading.stack_size(512 * 1024)    # readers and workers: many threads, shallow stacks
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
                time.sleep(0.01)        # EMFILE and the like: do not spin
                continue
            if not self.running:
                sock.close()
                return
            evict, refuse = self._make_room()
            if refuse:
                sock.close()                # every slot has a handshaken client
                continue
            if evict is not None:
                evict.hangup()
            if sock.family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                sent = sock.send(self.banner, socket.MSG_DONTWAIT)    # fits any empty socket buffer
            except OSError:
                sent = -1
            if sent != len(self.banner):
                sock.close()
                continue
            conn = Connection(self, sock)
            with self.lock:
                self.conns.add(conn)
                self.pending[conn] = True
            self.pool.start(conn.run)

    def _make_room(self):
        """Room for one more connection: (a waiting connection to evict or None, refuse).

        When full, the oldest connection still waiting to handshake is evicted, but
        only once it has waited PENDING_GRACE seconds: a burst of honest clients
        connecting at once is let through in turn, and a new connection waits at most
        that long for a slot held by idle ones. Bounded: the oldest only gets older."""
        while True:
            with self.lock:
                if len(self.pending) < MAX_PENDING and len(self.conns) < MAX_CLIENTS:
                    return None, False
                if not self.pending:
                    return None, True
                oldest = next(iter(self.pending))
                if not self.running or time.monotonic() - oldest.accepted >= PENDING_GRACE:
                    del self.pending[oldest]
                    return oldest, False
            time.sleep(0.01)

    def handshaken(self, conn):
        with self.lock:
            self.pending.pop(conn, None)

    def forget_pending(self, conn):
        with self.lock:
            self.pending.pop(conn, None)

    def forget(self, conn):
        with self.lock:
            self.conns.discard(conn)
            self.pending.pop(conn, None)

    def shutdown(self, grace=1.0, remove=True):
        """Stop accepting, remove the socket file (unless remove is False), give queued
        replies up to grace seconds to leave, then hang up on every client."""
        self.running = False
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
        if remove:
            self.remove_socket()
        with self.lock:
            conns = list(self.conns)
        deadline = time.monotonic() + grace
        for c in conns:
            c.out.drain(deadline)
        for c in conns:
            c.hangup()
        self.pool.close()

    def remove_socket(self):
        a = self.address
        if a.scheme == "unix" and self._inode is not None:
            try:
                if os.stat(a.path).st_ino == self._inode:
                    os.unlink(a.path)
            except OSError:
                pass
            self._inode = None
