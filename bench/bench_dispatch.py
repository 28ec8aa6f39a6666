"""The server's own cost of a null call, in process: the reader loop, dispatch from the
syscall table (one lookup: handler, compiled check, result encoder) and the kernel's
LWP, with the socket replaced by a stub that hands over one getpid frame per read.
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
REQUEST = wire.frame(1, wire.REQ, wire.SYSCALL, 20, wire.encode(()))


class StubSocket:
    """recv_into hands over one request per call, CALLS times; sendall drops the reply."""

    def __init__(self, calls):
        self.left = calls

    def recv_into(self, view):
        if self.left == 0:
            return 0
        self.left -= 1
        n = len(REQUEST)
        view[:n] = REQUEST
        return n

    def sendall(self, data):
        pass

    def shutdown(self, how):
        pass

    def close(self):
        pass


def ours():
    k = Kernel(FakeHost())
    k.boot([])
    srv = server.Server(k, url.parse("unix:///nonexistent/bench"))
    conn = server.Connection(srv, StubSocket(CALLS))
    with k.lock:
        conn.proc = k.procs.spawn("bench")
    k.nclients += 1
    t0 = time.perf_counter()
    conn.run()
    return (time.perf_counter() - t0) / CALLS


def bare():
    sock = StubSocket(CALLS)
    buf = memoryview(bytearray(1 << 20))
    t0 = time.perf_counter()
    while True:
        n = sock.recv_into(buf)
        if not n:
            break
        sock.sendall(buf[:n])
    return (time.perf_counter() - t0) / CALLS


def main():
    o = statistics.median(ours() for _ in range(RUNS))
    b = statistics.median(bare() for _ in range(RUNS))
    table("Server dispatch, in process (medians of %d runs of %d calls)" % (RUNS, CALLS),
          [("null call (getpid): reader + dispatch + kernel", "%.2f us" % (o * 1e6),
            "stub echo loop: %.2f us" % (b * 1e6), "+%.2f us" % ((o - b) * 1e6))],
          ("what", "ours", "baseline", "over baseline"))


if __name__ == "__main__":
    main()
