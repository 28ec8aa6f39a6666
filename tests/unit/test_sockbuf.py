"""The reusable stream socket buffer and listen queue (kernel/net/sockbuf.py, solisten.py)."""
import pytest

from rumptools.abi import errnos
from rumptools.abi.errnos import RumpError
from rumptools.kernel.net import sockbuf
from rumptools.kernel.net.sockbuf import SockBuf
from rumptools.kernel.net.solisten import ListenQueue, qlimit_of


def test_append_peek_drop_take():
    sb = SockBuf(10, lowat=2)
    sb.append(b"hello")
    sb.append(b" world")
    assert sb.cc == 11 and sb.space() == 0
    assert sb.peek(6, 3) == b"wor" and sb.cc == 11
    assert sb.peek(9, 100) == b"ld"
    assert sb.drop(2) == 2 and sb.base == 2
    assert sb.take(4) == b"llo " and sb.cc == 5
    assert sb.drop(100) == 5 and sb.cc == 0 and sb.base == 11
    assert sb.take(3) == b""
    with pytest.raises(ValueError):
        sb.peek(-1, 1)


def test_compaction_keeps_contents(monkeypatch):
    monkeypatch.setattr(sockbuf, "_COMPACT", 16)
    sb = SockBuf(1 << 20)
    expect = bytearray()
    for i in range(200):
        chunk = bytes([i % 251]) * (i % 37 + 1)
        sb.append(chunk)
        expect += chunk
        n = (i * 7) % 23
        assert sb.take(n) == bytes(expect[:n])
        del expect[:n]
        assert sb.cc == len(expect) and sb.peek(0, len(expect)) == bytes(expect)


def test_control_marks_cut_records():
    sb = SockBuf(100)
    sb.append(b"ab")
    sb.append(b"cd", control="C1")
    sb.append(b"ef")
    sb.append(b"gh", control="C2")
    assert sb.take_record(100) == (b"ab", None)
    assert sb.take_record(100, peek=True) == (b"cdef", "C1")
    assert sb.take_record(1) == (b"c", "C1")
    assert sb.take_record(100) == (b"def", None)
    assert sb.controls() == ["C2"]
    assert sb.take_record(100) == (b"gh", "C2")
    sb.append(b"x", control="C3")
    assert sb.clear() == ["C3"] and sb.cc == 0 and not sb.marks


def test_listen_queue_limits():
    assert qlimit_of(-5) == 0 and qlimit_of(5) == 5 and qlimit_of(10**6) == 128
    with pytest.raises(RumpError) as e:
        qlimit_of("5")
    assert e.value.errno == errnos.EINVAL

    class Head:
        woken = 0

        def rwakeup(self):
            Head.woken += 1

    h = Head()
    lq = ListenQueue(2)             # 3 * 2 // 2 = 3: a fourth request is refused
    assert lq.add_incomplete("a") and lq.add_complete("b", h) and lq.add_incomplete("c")
    assert lq.add_incomplete("d")
    assert lq.full() and not lq.add_incomplete("e") and not lq.add_complete("e", h)
    lq.complete("a", h)
    assert Head.woken == 2 and list(lq.q) == ["b", "a"]
    assert lq.remove("c") and not lq.remove("zz")
    assert lq.take() == "b" and lq.take() == "a" and lq.take() is None
    assert lq.drain() == ["d"] and len(lq) == 0
    zero = ListenQueue(0)
    assert zero.add_complete("x", h) and not zero.add_complete("y", h)
