"""Soak: hostile clients of every kind beside 8 well-behaved ones, for a bounded time.

    python bench/soak.py [seconds]        (make soak: 120 s; tests run a short one)

One rump_server (-r 64m) is attacked, each attacker a process of its own:
  looper    writes to a pipe with no reader in a loop and never reads (SIGPIPE)
  idle      keeps 60 connections open that never handshake
  huge      64 MiB frames: a list of millions of one-byte values, and a 64 MiB write
  half      64 MiB frames sent half-way, then left hanging
  storm     connects and disconnects as fast as it can, with and without handshake
while 8 well-behaved clients (processes too) time every call they make
(getpid, a pipe write and read, a sysctl read). The server's RSS is sampled.
At the end rump.halt is run with the attackers still at it, and timed.

Must hold: well-behaved p99 < 100 ms, RSS < memory limit + frame budget +
OVERHEAD, halt (and the server's exit) within 5 s. The result is printed; the
exit status is 0 if it held.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import tool  # noqa: E402
from rumptools.sp import wire  # noqa: E402
from tests.integration import rawproto  # noqa: E402  (the bare sysproxy peer the tests use)

MEMLIMIT = 64 << 20
OVERHEAD = 200 << 20         # interpreter, threads, the kernel's own structures, output queues
P99_LIMIT = 0.100
HALT_LIMIT = 5.0
GOOD_CLIENTS = 8
ATTACKERS = ("looper", "idle", "huge", "half", "storm")


# -- attackers and good clients (each runs as its own process) --------------------------
def _raw(path, handshake=True, timeout=5.0):
    """A raw connection past the banner and, with handshake, past a guest handshake."""
    s = rawproto.connect(path, timeout)
    if handshake:
        s.sendall(wire.frame(1, wire.REQ, wire.HANDSHAKE, wire.HS_GUEST, wire.encode(("soak",))))
        rawproto.read_frame(s)
    return s


def _call(s, reqno, name, *args):
    s.sendall(rawproto.syscall_frame(reqno, name, *args))


def attack_looper(path, until):
    while time.monotonic() < until:
        try:
            s = _raw(path)
            _call(s, 2, "pipe2", 0)
            r, w = wire.decode(rawproto.read_frame(s)[4])
            _call(s, 3, "close", r)
            rawproto.read_frame(s)
            s.settimeout(0.5)
            batch = b"".join(wire.frame(10, wire.REQ, wire.SYSCALL, 4, wire.encode((w, b"x" * 64)))
                             for _ in range(200))
            while time.monotonic() < until:
                s.sendall(batch)
        except (OSError, ConnectionError):
            pass
        time.sleep(min(3.0, max(0.0, until - time.monotonic())))     # stalled: hold it a while
        try:
            s.close()
        except (OSError, UnboundLocalError):
            pass


def attack_idle(path, until):
    socks = []
    while time.monotonic() < until:
        socks = [x for x in socks if _still_open(x)]
        while len(socks) < 60 and time.monotonic() < until:
            try:
                socks.append(_raw(path, handshake=False))
            except (OSError, ConnectionError):
                break
        time.sleep(0.5)
    for x in socks:
        x.close()


def _still_open(s):
    s.setblocking(False)
    try:
        data = s.recv(1)
        if data == b"":
            s.close()
            return False
        return True
    except BlockingIOError:
        return True
    except OSError:
        s.close()
        return False
    finally:
        try:
            s.setblocking(True)
        except OSError:
            pass


def attack_huge(path, until):
    n = 60 << 20
    nones = wire.frame(5, wire.REQ, wire.SYSCALL, 20, b"l" + n.to_bytes(4, "little") + b"N" * n)
    write = None
    while time.monotonic() < until:
        try:
            s = _raw(path, timeout=20)
            s.sendall(nones)
            rawproto.read_frame(s)
            if write is None:
                _call(s, 6, "open", "/dev/null", 2, 0)
                fd = wire.decode(rawproto.read_frame(s)[4])[0]
                write = wire.frame(7, wire.REQ, wire.SYSCALL, 4, wire.encode((fd, b"w" * (60 << 20))))
            s.sendall(write)
            rawproto.read_frame(s)
            s.close()
        except (OSError, ConnectionError):
            write = None
            time.sleep(0.2)


def attack_half(path, until):
    header = wire.HEADER.pack(wire.MAX_FRAME, 7, wire.REQ, wire.SYSCALL, 4)
    chunk = b"\0" * (1 << 20)
    socks = []
    while time.monotonic() < until:
        try:
            s = _raw(path, timeout=0.5)
            s.sendall(header)
            for _ in range(32):
                s.sendall(chunk)
        except (OSError, ConnectionError):
            pass
        socks.append(s)
        if len(socks) > 6:
            socks.pop(0).close()
        time.sleep(1.0)
    for x in socks:
        x.close()


def attack_storm(path, until):
    i = 0
    while time.monotonic() < until:
        i += 1
        try:
            s = _raw(path, handshake=bool(i % 2), timeout=2)
            s.close()
        except (OSError, ConnectionError):
            time.sleep(0.01)


def good_client(address, until, out):
    from rumptools.sp import client as spclient, url as spurl
    c = spclient.Client(spurl.parse(address), "good").connect()
    r, w = c.pipe2(0)
    lat, errors = [], []
    while time.monotonic() < until:
        for op in (lambda: c.getpid(), lambda: (c.write(w, b"ping"), c.read(r, 16)),
                   lambda: c.sysctl("kern.ostype", 0, None)):
            t0 = time.monotonic()
            try:
                op()
            except OSError as e:
                errors.append(repr(e))
            lat.append(time.monotonic() - t0)
        time.sleep(0.01)
    c.disconnect()
    with open(out, "w") as f:
        json.dump({"lat": lat, "errors": errors[:10], "nerrors": len(errors)}, f)


def role_main(argv):
    role, target, until = argv[0], argv[1], time.monotonic() + float(argv[2])
    if role == "good":
        good_client(target, until, argv[3])
    else:
        globals()["attack_" + role](target, until)


# -- the run -------------------------------------------------------------------------
def rss_of(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def server_pid(path):
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if any(a.endswith(os.fsencode(path)) for a in argv) and any(b"rump_server" in a for a in argv):
                return int(entry)
    return None


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def run(seconds, workdir, handshake_timeout=None):
    """Run the soak; return a dict of results (see main)."""
    from rumptools.sp import client as spclient, url as spurl
    from rumptools.sp.server import FRAME_BUDGET
    path = os.path.join(workdir, "soak")
    address = "unix://" + path
    env = dict(os.environ, RUMP_SERVER=address)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                    env.get("PYTHONPATH", "")] if p)
    subprocess.run([tool("rump_server"), "-r", "%dm" % (MEMLIMIT >> 20), "-lrumpvfs", address],
                   cwd=workdir, env=env, check=True, timeout=60)
    pid = server_pid(path)
    procs = []
    result = {"seconds": seconds}
    try:
        if handshake_timeout:
            c = spclient.Client(spurl.parse(address), "soak").connect()
            c.sysctl("kern.sysproxy.handshake_timeout", 1, handshake_timeout)
            c.disconnect()
        me = os.path.abspath(__file__)
        for role in ATTACKERS:
            procs.append(subprocess.Popen([sys.executable, me, "--role", role, path, str(seconds + 10)],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        outs = [os.path.join(workdir, "good%d.json" % i) for i in range(GOOD_CLIENTS)]
        goods = [subprocess.Popen([sys.executable, me, "--role", "good", address, str(seconds), o], env=env)
                 for o in outs]
        peak, deadline = 0, time.monotonic() + seconds + 60
        while any(g.poll() is None for g in goods) and time.monotonic() < deadline:
            peak = max(peak, rss_of(pid) if pid else 0)
            time.sleep(0.25)
        for g in goods:
            if g.poll() is None:
                g.kill()
            g.wait()
        lat, errors, nerrors = [], [], 0
        for o in outs:
            try:
                with open(o) as f:
                    d = json.load(f)
            except (OSError, ValueError):
                errors.append("a good client left no results")
                continue
            lat += d["lat"]
            errors += d["errors"]
            nerrors += d["nerrors"]
        lat.sort()
        result.update(calls=len(lat), p50=lat[len(lat) // 2] if lat else None,
                      p99=lat[int(len(lat) * 0.99)] if lat else None, max=lat[-1] if lat else None,
                      errors=nerrors + (len(errors) if not lat else 0), error_samples=errors[:5],
                      rss_peak=peak, rss_limit=MEMLIMIT + FRAME_BUDGET + OVERHEAD)
        # halt with the attackers still at it
        t0 = time.monotonic()
        h = subprocess.run([tool("rump.halt")], env=env, capture_output=True, timeout=30)
        halted = time.monotonic() - t0
        while pid and alive(pid) and time.monotonic() - t0 < 30:
            time.sleep(0.02)
        result.update(halt_status=h.returncode, halt_seconds=halted, exit_seconds=time.monotonic() - t0,
                      server_gone=not (pid and alive(pid)))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        if pid and alive(pid):
            os.kill(pid, 9)
    result["held"] = bool(result.get("p99") is not None and result["p99"] < P99_LIMIT
                          and result.get("errors") == 0
                          and result.get("rss_peak", 1 << 62) < result.get("rss_limit", 0)
                          and result.get("halt_status") == 0 and result.get("exit_seconds", 99) < HALT_LIMIT
                          and result.get("server_gone"))
    return result


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--role":
        role_main(sys.argv[2:])
        return
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 120.0
    seconds = min(seconds, 120.0)
    with tempfile.TemporaryDirectory() as d:
        r = run(seconds, d)
    print("soak: %.0f s, %d well-behaved calls, %d errors" % (r["seconds"], r.get("calls", 0), r.get("errors", -1)))
    if r.get("p99") is not None:
        print("  latency ms: p50 %.2f  p99 %.2f  max %.2f   (p99 must be < %.0f)"
              % (r["p50"] * 1e3, r["p99"] * 1e3, r["max"] * 1e3, P99_LIMIT * 1e3))
    print("  server RSS peak %.0f MiB (limit %.0f MiB = -r %d MiB + frame budget %d MiB + %d MiB)"
          % (r.get("rss_peak", 0) / 2**20, r.get("rss_limit", 0) / 2**20, MEMLIMIT >> 20,
             (r.get("rss_limit", 0) - MEMLIMIT - OVERHEAD) >> 20, OVERHEAD >> 20))
    print("  rump.halt: status %s in %.2f s, server gone after %.2f s (must be < %.0f s)"
          % (r.get("halt_status"), r.get("halt_seconds", -1), r.get("exit_seconds", -1), HALT_LIMIT))
    print("  %s" % ("held" if r["held"] else "FAILED"))
    sys.exit(0 if r["held"] else 1)


if __name__ == "__main__":
    main()
