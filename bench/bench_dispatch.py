"""The server's own cost of a call, in process: the reader loop, dispatch from the
syscall table (one lookup: handler, compiled check, result encoder) and the kernel's
LWP, with the socket replaced by a stub that hands over one request per read: a null
call (getpid) and stat of a directory (namei, the vnode's attributes, struct stat).
Baseline, measured in the same run: the same loop over the stub doing no work
(what a bare echo server costs in Python). No processes, no system calls."""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import table  # noqa: E402
from rumptools.kernel.kern.kernel import Kernel  # noqa: E402
from rumptools.kernel.rumpuser.fake import FakeHost  # noqa: E402
from rumptools.sp import server, url, wire  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
GETPID = wire.frame(1, wire.REQ, wire.SYSCALL, 20, wire.encode(()))
STAT = wire.frame(1, wire.REQ, wire.SYSCALL, 439, wire.encode(("/x",)))
MKDIR = 136


class StubSocket:
    """recv_into hands over one request per call, CALLS times; send counts and drops the
    replies (the connection's output queue sends with send(data, MSG_DONTWAIT))."""

    def __init__(self, calls, request):
        self.left = calls
        self.request = request
        self.replies = 0
        self.failed = 0

    def recv_into(self, view):
        if self.left == 0:
            return 0
        self.left -= 1
        n = len(self.request)
        view[:n] = self.request
        return n

    def send(self, data, flags=0):
        self.replies += 1
        self.failed += data[20:24] != b"\0\0\0\0"     # the header's arg: the errno
        return len(data)

    sendall = send

    def fileno(self):
        return -1

    def shutdown(self, how):
        pass

    def close(self):
        pass


def ours(request):
    k = Kernel(FakeHost())
    k.boot(["rumpvfs"])
    srv = server.Server(k, url.parse("unix:///nonexistent/bench"))
    sock = StubSocket(CALLS, request)
    conn = server.Connection(srv, sock)
    with k.lock:
        conn.proc = k.procs.spawn("bench")
    k.nclients += 1
    k.run(conn.proc, k.sysent[MKDIR], ("/x", 0o755))
    t0 = time.perf_counter()
    conn.run()
    took = time.perf_counter() - t0
    if sock.replies != CALLS or sock.failed:
        raise SystemExit("bench_dispatch: %d replies to %d calls, %d failed" % (sock.replies, CALLS, sock.failed))
    return took / CALLS


def bare():
    sock = StubSocket(CALLS, GETPID)
    buf = memoryview(bytearray(1 << 20))
    t0 = time.perf_counter()
    while True:
        n = sock.recv_into(buf)
        if not n:
            break
        sock.sendall(buf[:n])
    return (time.perf_counter() - t0) / CALLS


def main():
    rows = []
    for name, request in (("null call (getpid)", GETPID), ("stat of /x", STAT)):
        o = statistics.median(ours(request) for _ in range(RUNS))
        b = statistics.median(bare() for _ in range(RUNS))
        rows.append(("%s: reader + dispatch + kernel" % name, "%.2f us" % (o * 1e6),
                     "stub echo loop: %.2f us" % (b * 1e6), "+%.2f us" % ((o - b) * 1e6)))
    table("Server dispatch, in process (medians of %d runs of %d calls)" % (RUNS, CALLS), rows,
          ("what", "ours", "baseline", "over baseline"))


if __name__ == "__main__":
    main()
