"""/dev/bpf in process: clone opens, ioctls, filtered capture with bpf headers, timeouts, writes."""
import struct

import pytest

from rumptools.abi import errnos
from rumptools.abi import net as N
from rumptools.abi.errnos import RumpError
from rumptools.abi.syscalls import O_NONBLOCK, O_RDWR
from rumptools.formats.net import bpf as fbpf

from .kernelkit import boot, call, call_in_thread, spawn, wait_until

ALL = ("rumpvfs", "rumpdev", "rumpnet", "rumpnet_net", "rumpnet_netinet", "rumpnet_shmif", "rumpdev_bpf")


@pytest.fixture
def k():
    k = boot(*ALL)
    k.p = spawn(k)
    yield k
    k.reboot(0)


def udp_to_self(k, port, data=b"hello"):
    s = call(k, k.p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    call(k, k.p, "sendto", s, data, 0, (N.AF_INET, "127.0.0.1", port))


def test_clone_opens_and_ioctl_rules(k):
    p = k.p
    a = call(k, p, "open", "/dev/bpf", O_RDWR, 0)
    b = call(k, p, "open", "/dev/bpf", O_RDWR, 0)
    assert call(k, p, "ioctl", a, N.BIOCVERSION, None) == (1, 1)
    assert call(k, p, "ioctl", a, N.BIOCGBLEN, None) == 32768
    assert call(k, p, "ioctl", a, N.BIOCSBLEN, 10) == 32                 # clamped and written back
    assert call(k, p, "ioctl", a, N.BIOCSBLEN, 1 << 24) == 1048576
    assert call(k, p, "ioctl", b, N.BIOCGBLEN, None) == 32768            # each open is its own
    with pytest.raises(RumpError) as e:
        call(k, p, "ioctl", a, N.BIOCGDLT, None)
    assert e.value.errno == errnos.EINVAL                                # before SETIF
    with pytest.raises(RumpError) as e:
        call(k, p, "ioctl", a, N.BIOCSETIF, "shmif7")
    assert e.value.errno == errnos.ENXIO
    call(k, p, "ioctl", a, N.BIOCSETIF, "lo0")
    assert call(k, p, "ioctl", a, N.BIOCGDLT, None) == 0
    assert call(k, p, "ioctl", a, N.BIOCGETIF, None) == "lo0"
    with pytest.raises(RumpError) as e:
        call(k, p, "ioctl", a, N.BIOCSBLEN, 4096)
    assert e.value.errno == errnos.EINVAL                                # after SETIF
    with pytest.raises(RumpError) as e:
        call(k, p, "ioctl", a, N.BIOCSETF, fbpf.pack_program([fbpf.stmt(0x06, 0)] * 513))
    assert e.value.errno == errnos.EINVAL
    with pytest.raises(RumpError) as e:
        call(k, p, "read", a, 100)
    assert e.value.errno == errnos.EINVAL                                # not the buffer size


def test_capture_with_filter_headers_and_stats(k):
    p = k.p
    fd = call(k, p, "open", "/dev/bpf", O_RDWR, 0)
    call(k, p, "ioctl", fd, N.BIOCSETIF, "lo0")
    call(k, p, "ioctl", fd, N.BIOCIMMEDIATE, 1)
    # DLT_NULL: 4-byte family, then IPv4; accept UDP to port 9999 only, 64 bytes of it
    prog = [fbpf.stmt(0x30, 13), fbpf.jump(0x15, 17, 0, 3),             # ldb [13] proto == UDP
            fbpf.stmt(0x28, 26), fbpf.jump(0x15, 9999, 0, 1),           # ldh [26] dport == 9999
            fbpf.stmt(0x06, 64), fbpf.stmt(0x06, 0)]
    call(k, p, "ioctl", fd, N.BIOCSETF, fbpf.pack_program(prog))
    # listeners on both ports, so no ICMP port unreachable adds a lo0 packet whenever
    # the input softint happens to run before the statistics are read
    for port in (9998, 9999):
        sink = call(k, p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
        call(k, p, "bind", sink, (N.AF_INET, "127.0.0.1", port))
    udp_to_self(k, 9998)
    udp_to_self(k, 9999, b"x" * 200)
    buf = call(k, p, "read", fd, 32768)
    recs = fbpf.records(buf)
    assert len(recs) == 1
    _sec, _usec, datalen, data = recs[0]
    assert datalen == 4 + 20 + 8 + 200 and len(data) == 64
    assert struct.unpack("=I", data[:4])[0] == N.AF_INET
    assert struct.unpack_from("=H", buf, 24)[0] == 36                   # hdrlen for DLT_NULL
    recv, drop, capt = call(k, p, "ioctl", fd, N.BIOCGSTATS, None)
    assert (recv, drop, capt) == (2, 0, 1)        # lo0 taps once per packet, in looutput, as NetBSD


def test_read_timeout_nonblocking_and_wakeup(k):
    p = k.p
    fd = call(k, p, "open", "/dev/bpf", O_RDWR | O_NONBLOCK, 0)
    call(k, p, "ioctl", fd, N.BIOCSETIF, "lo0")
    with pytest.raises(RumpError) as e:
        call(k, p, "read", fd, 32768)
    assert e.value.errno == errnos.EAGAIN
    call(k, p, "ioctl", fd, N.FIONBIO, 0)
    call(k, p, "ioctl", fd, N.BIOCSRTIMEOUT, 500000)
    assert call(k, p, "ioctl", fd, N.BIOCGRTIMEOUT, None) == 500000
    t, box = call_in_thread(k, p, "read", fd, 32768)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    k.host.clock.advance(0.6, kernel=k)
    t.join(5)
    assert box == {"result": b""}                                       # timeout with nothing stored
    call(k, p, "ioctl", fd, N.BIOCIMMEDIATE, 1)
    t, box = call_in_thread(k, p, "read", fd, 32768)
    assert wait_until(lambda: k.sleepq.sleepers == 1)
    udp_to_self(k, 4000)
    t.join(5)
    assert len(fbpf.records(box["result"])) >= 1


def test_write_a_frame_and_see_it_on_the_bus(k, tmp_path):
    from rumptools.kernel.rumpuser.shmifbus import ShmifBus
    p = k.p
    s = call(k, p, "socket", N.AF_INET, N.SOCK_DGRAM, 0)
    bus = str(tmp_path / "bus")
    call(k, p, "ioctl", s, N.SIOCIFCREATE, "shmif0")
    call(k, p, "ioctl", s, N.SIOCSLINKSTR, ("shmif0", bus))
    call(k, p, "ioctl", s, N.SIOCSIFFLAGS, ("shmif0", N.IFF_UP))
    fd = call(k, p, "open", "/dev/bpf", O_RDWR, 0)
    with pytest.raises(RumpError) as e:
        call(k, p, "write", fd, b"x" * 60)
    assert e.value.errno == errnos.ENXIO
    call(k, p, "ioctl", fd, N.BIOCSETIF, "shmif0")
    with pytest.raises(RumpError) as e:
        call(k, p, "write", fd, b"x" * 1600)
    assert e.value.errno == errnos.EMSGSIZE
    frame = b"\xff" * 6 + b"\0" * 6 + b"\x88\xb5" + b"payload"
    assert call(k, p, "write", fd, frame) == len(frame)
    host = ShmifBus(bus)
    try:
        from rumptools.formats import shmif
        frames = [bytes(f) for *_x, f in shmif.walk(host.ring)]
    finally:
        host.close()
    mac = [r[2] for r in call(k, p, "ioctl", s, N.SIOCGIFCONF, None) if r[0] == "shmif0"][0]
    assert frames[-1] == b"\xff" * 6 + bytes.fromhex(mac.replace(":", "")) + b"\x88\xb5payload"


def test_garbage_ioctls_and_programs(k):
    import random
    rng = random.Random(4)
    p = k.p
    fd = call(k, p, "open", "/dev/bpf", O_RDWR | O_NONBLOCK, 0)
    cmds = [c for n, c in vars(N).items() if n.startswith(("BIOC", "FION")) and type(c) is int]
    values = [None, 0, 1, -5, 1 << 40, "lo0", "nosuch", b"", b"\x06" * 8, b"\x06" * 7, (), ((6, 0, 0, 5),),
              ((0xffff, 9, 9, -1),), ((6, 0, 0),), (("a", 1, 2, 3),), ((0x15, 200, 200, 0), (6, 0, 0, 1))]
    for _ in range(2000):
        try:
            call(k, p, "ioctl", fd, rng.choice(cmds), rng.choice(values))
        except RumpError as e:
            assert e.errno != errnos.EIO, "\n".join(k.console_lines[-3:])
    assert not [line for line in k.console_lines if "failed" in line]
