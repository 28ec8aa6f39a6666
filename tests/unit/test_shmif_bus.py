"""The host side of shmif buses (rumpuser/shmifbus): attach rules, the
atomic lock across processes, wake-ups, a dead lock holder, concurrent
writers."""
import errno
import os
import struct
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from rumptools.formats import shmif
from rumptools.kernel.rumpuser import _hostops
from rumptools.kernel.rumpuser.shmifbus import BusError, ShmifBus, Waker


@pytest.fixture
def buspath(tmp_path):
    return str(tmp_path / "bus")


def open_bus(path, **kw):
    msgs = []
    bus = ShmifBus(path, console=msgs.append, **kw)
    bus.messages = msgs
    return bus


def test_attach_makes_a_bus(buspath):
    bus = open_bus(buspath)
    try:
        assert os.path.getsize(buspath) == shmif.BUSMEM_SIZE
        h = shmif.Header.parse(open(buspath, "rb").read())
        assert (h.magic, h.version, h.first, h.last, h.lock) == (shmif.MAGIC, 0, shmif.DATASIZE, 0, 0)
        bus.send([b"\xff" * 6 + b"\xb2\xa0\0\0\0\1" + b"\x08\x06" + bytes(28)], 1, 2, 3)
        h = shmif.Header.parse(open(buspath, "rb").read())
        assert h.version == 3 and h.last == 24          # the wake-up write set the version
    finally:
        bus.close()


@pytest.mark.parametrize("content", [b"hello, world\n" * 100, b"\x01", struct.pack("=I", shmif.MAGIC ^ 1) + bytes(64)])
def test_not_magical_is_refused_untouched(buspath, content):
    with open(buspath, "wb") as f:
        f.write(content)
    before = os.stat(buspath)
    msgs = []
    with pytest.raises(BusError) as e:
        ShmifBus(buspath, console=msgs.append)
    assert e.value.errno == errno.ENOEXEC
    assert msgs == ["bus is not magical"]
    assert open(buspath, "rb").read() == content
    after = os.stat(buspath)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_a_bus_is_never_shrunk(buspath):
    bus = open_bus(buspath)
    bus.close()
    with open(buspath, "ab") as f:
        f.write(b"tail" * 100)
    bus = open_bus(buspath)
    bus.close()
    assert os.path.getsize(buspath) == shmif.BUSMEM_SIZE + 400


def test_two_interfaces_exchange_and_wake(buspath):
    a, b = open_bus(buspath), open_bus(buspath)
    try:
        rd = b.reader()
        b.wait(0)                                        # drain attach-time events
        assert not b.wait(0.05)
        a.send([bytes(range(60)), bytes(70)], 10, 20, 0xabc)
        assert b.wait(2.0)
        got = [p for p in b.receive(rd) if p[0]]
        assert [(p[0], p[1], p[2], p[3]) for p in got] == [(60, 10, 20, 0xabc), (70, 10, 20, 0xabc)]
        assert got[0][4] == bytes(range(60))
        assert b.receive(rd) == []
    finally:
        a.close()
        b.close()


def test_dead_lock_holder_is_taken_over(buspath):
    bus = open_bus(buspath, lock_timeout=0.2)
    try:
        _hostops.swap32(bus.mm, shmif.OFF_LOCK, 1)      # a holder that died
        t0 = time.monotonic()
        bus.send([bytes(60)], 0, 0, 1)
        waited = time.monotonic() - t0
        assert 0.2 <= waited < 30
        assert bus.lock_breaks == 1
        assert len(bus.messages) == 1 and "lock held for over 0.2 s, taking it over" in bus.messages[0]
        assert _hostops.load32(bus.mm, shmif.OFF_LOCK) == 0
        assert [w[1] for w in shmif.walk(bus.ring)] == [60]
    finally:
        bus.close()


def test_hostops_rejects_bad_offsets():
    import mmap
    m = mmap.mmap(-1, 4096)
    with pytest.raises(IndexError):
        _hostops.cas32(m, 4094, 0, 1)
    with pytest.raises(ValueError):
        _hostops.cas32(m, 2, 0, 1)
    with pytest.raises(BufferError):
        _hostops.cas32(b"read-only", 0, 0, 1)
    assert _hostops.cas32(m, 8, 0, 7) == 0 and _hostops.cas32(m, 8, 0, 9) == 7
    assert _hostops.load32(m, 8) == 7


LOCKER = textwrap.dedent("""
    import struct, sys
    from rumptools.kernel.rumpuser.shmifbus import ShmifBus
    bus = ShmifBus(sys.argv[1])
    for _ in range(int(sys.argv[2])):
        bus.lock()
        v = struct.unpack_from("=I", bus.mm, 28)[0]     # the spare word: a shared counter
        struct.pack_into("=I", bus.mm, 28, v + 1)
        bus.unlock()
    bus.close()
""")


def run_children(script, args_list, timeout=120):
    procs = [subprocess.Popen([sys.executable, "-c", script] + args) for args in args_list]
    try:
        for p in procs:
            assert p.wait(timeout=timeout) == 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_lock_is_mutual_exclusion_across_processes(buspath):
    open_bus(buspath).close()
    run_children(LOCKER, [[buspath, "4000"], [buspath, "4000"], [buspath, "4000"]])
    data = open(buspath, "rb").read(32)
    assert struct.unpack_from("=I", data, 28)[0] == 12000
    assert struct.unpack_from("=I", data, 24)[0] == 0


WRITER = textwrap.dedent("""
    import struct, sys
    from rumptools.kernel.rumpuser.shmifbus import ShmifBus
    bus = ShmifBus(sys.argv[1])
    sender, count = int(sys.argv[2]), int(sys.argv[3])
    for seq in range(count):
        size = 60 + (seq * 37) % 200
        body = struct.pack("!QI", sender, seq)
        body += bytes((seq + sender + i) & 0xff for i in range(size - len(body)))
        bus.send([body], seq, 0, sender)
    bus.close()
""")


def check_frame(f):
    sender, seq = struct.unpack("!QI", f[:12])
    size = 60 + (seq * 37) % 200
    assert len(f) == size
    assert f[12:] == bytes((seq + sender + i) & 0xff for i in range(size - 12)), "frame corrupted"
    return sender, seq


def test_two_writers_lose_nothing_and_corrupt_nothing(buspath):
    count = 1500                      # 2 x 1500 x (24 + ~160) bytes: fits the ring, no frame may be lost
    reader_bus = open_bus(buspath)
    rd = reader_bus.reader()
    live = []
    stop = threading.Event()

    def watch():
        deadline = time.monotonic() + 120
        while not stop.is_set() and time.monotonic() < deadline and len(live) < 2 * count:
            reader_bus.wait(0.2)
            live.extend(p for p in reader_bus.receive(rd, limit=10000) if p[0])

    t = threading.Thread(target=watch)
    t.start()
    try:
        run_children(WRITER, [[buspath, "1", str(count)], [buspath, "2", str(count)]])
    finally:
        t.join(130)
        stop.set()
    try:
        on_bus = [check_frame(f[5]) for f in shmif.walk(reader_bus.ring)]
        for sender in (1, 2):
            assert [s for x, s in on_bus if x == sender] == list(range(count))
        seen = [check_frame(p[4]) for p in live]
        for sender in (1, 2):
            assert [s for x, s in seen if x == sender] == list(range(count))
        assert rd.overruns == 0 and rd.corrupt == 0
        assert struct.unpack_from("=I", reader_bus.mm, 24)[0] == 0
    finally:
        reader_bus.close()


HOLDER = textwrap.dedent("""
    import sys, time
    from rumptools.kernel.rumpuser.shmifbus import ShmifBus
    bus = ShmifBus(sys.argv[1])
    bus.lock()
    print("locked", flush=True)
    time.sleep(60)
""")


def test_writer_killed_holding_the_lock(buspath):
    """A process dies (SIGKILL) holding the bus lock: the next one to lock waits
    its bounded time (here while attaching), says so, and the bus works on."""
    open_bus(buspath).close()
    p = subprocess.Popen([sys.executable, "-c", HOLDER, buspath], stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"locked\n"
    finally:
        p.kill()
        p.wait()
    a = open_bus(buspath, lock_timeout=0.3)
    b = open_bus(buspath, lock_timeout=0.3)
    try:
        rd = b.reader()
        a.send([bytes(range(64))], 1, 1, 1)
        assert a.lock_breaks == 1 and "taking it over" in a.messages[0]
        assert [p[4] for p in b.receive(rd) if p[0]] == [bytes(range(64))]
        assert b.messages == [] and b.lock_breaks == 0
    finally:
        a.close()
        b.close()


class FakeTime:
    def __init__(self):
        self.t = 100.0

    def clock(self):
        return self.t

    def sleep(self, d):
        self.t += d


def test_waker_writes_at_once_after_a_quiet_spell_and_once_an_interval_in_a_burst():
    ft = FakeTime()
    writes = []
    w = Waker(lambda: writes.append(ft.t), interval=0.001, clock=ft.clock, sleep=ft.sleep)
    w.sent()                                    # quiet: the frame's write is made inline
    assert writes == [100.0] and not w.kick.is_set()
    for _ in range(50):                         # a burst: owed, the thread kicked once
        ft.t += 0.0001
        w.sent()
        assert w.kick.is_set() and len(writes) == 1
    assert w.tick() is True                     # the thread writes once for all 50
    assert len(writes) == 2 and writes[1] >= 100.001
    ft.t += 0.0002
    w.sent()                                    # mid-burst: owed, no kick (the thread is on it)
    w.kick.clear()
    w.sent()
    assert not w.kick.is_set() and len(writes) == 2
    assert w.tick() is True and len(writes) == 3
    assert w.tick() is False                    # nothing owed: the burst is over
    assert len(writes) == 3 and not w.burst
    ft.t += 1.0
    w.sent()                                    # quiet again: inline
    assert len(writes) == 4 and w.writes == 4


def test_waker_writes_at_once_for_a_frame_that_answers_what_was_heard():
    """A ping, or a request and its answer: a frame sent after frames were heard from
    the bus is never made to wait for the burst interval."""
    ft = FakeTime()
    writes = []
    w = Waker(lambda: writes.append(ft.t), interval=0.001, clock=ft.clock, sleep=ft.sleep)
    for i in range(10):
        w.sent()
        assert len(writes) == i + 1 and not w.owed and not w.kick.is_set()
        ft.t += 0.0003                          # within the interval: the answer comes back
        w.heard()
    ft.t += 0.01
    w.sent()
    ft.t += 0.00005
    w.sent()                                    # a burst starts: owed, kicked
    assert len(writes) == 11 and w.owed and w.kick.is_set()
    w.heard()
    w.sent()                                    # an answer mid-burst: written now, nothing owed
    assert len(writes) == 12 and not w.owed
    w.sent()                                    # heard once, answered once: back to owing
    assert len(writes) == 12 and w.owed
    assert w.tick() is True and len(writes) == 13
    assert w.tick() is False and len(writes) == 13


def test_waker_thread_follows_the_last_frame_of_a_burst_with_a_write():
    writes = []
    w = Waker(lambda: writes.append(1), interval=0.002)
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,), daemon=True)
    t.start()
    try:
        for _ in range(200):
            w.sent()
        deadline = time.monotonic() + 10
        while (w.owed or w.burst) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not w.owed and not w.burst       # nothing left unwritten
        assert 1 <= len(writes) <= 200
    finally:
        stop.set()
        t.join(5)
    assert not t.is_alive()


def test_waker_thread_ends_when_the_bus_is_gone(buspath):
    bus = open_bus(buspath)
    ft = FakeTime()
    w = Waker(bus.wakeup, interval=0.001, clock=ft.clock, sleep=ft.sleep)
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,), daemon=True)
    t.start()
    try:
        w.sent()                                # inline, on the open bus
        bus.close()
        w.sent()                                # owed: the thread's write fails on the closed bus
        t.join(5)
        assert not t.is_alive() and w.writes == 2
    finally:
        stop.set()
