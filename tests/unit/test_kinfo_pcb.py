"""struct kinfo_pcb (abi/kinfo_pcb.py): NetBSD's 640-byte layout, both ways."""
import struct

import pytest

from rumptools.abi import kinfo_pcb as K


def test_layout_offsets():
    rec = K.pack(pcbaddr=0x1122, ppcbaddr=0x3344, sockaddr=0x5566, family=2, type=1, protocol=6,
                 pflags=K.INP_ANONPORT, sostate=K.SS_ISCONNECTED, prstate=K.INP_CONNECTED, tstate=-1,
                 tflags=7, rcvq=100, sndq=200, src=(2, "10.1.1.1", 65534), dst=(2, "10.1.1.2", 80),
                 inode=9, vnode=10, conn=11, refs=12, nextref=13)
    assert len(rec) == K.KINFO_PCB_SIZE == 640
    assert struct.unpack_from("<QQQ", rec, 0) == (0x1122, 0x3344, 0x5566)
    assert struct.unpack_from("<IIIIIIiI", rec, 24) == (2, 1, 6, 0x40, 1, 2, -1, 7)
    assert struct.unpack_from("<QQ", rec, 56) == (100, 200)
    assert rec[72:80] == bytes([16, 2, 0xff, 0xfe, 10, 1, 1, 1])            # sockaddr_in, port big-endian
    assert rec[336:344] == bytes([16, 2, 0, 80, 10, 1, 1, 2])
    assert struct.unpack_from("<QQQQQ", rec, 600) == (9, 10, 11, 12, 13)
    d = K.unpack(rec)
    assert d["src"] == (2, "10.1.1.1", 65534) and d["dst"] == (2, "10.1.1.2", 80) and d["tstate"] == -1


def test_local_addresses_and_records():
    a = K.pack(family=1, src=(1, "/tmp/sock"), dst=(1, ""))
    b = K.pack(family=1)
    assert a[72:74] == bytes([2 + 9 + 1, 1]) and a[74:83] == b"/tmp/sock" and a[336:338] == bytes([2, 1])
    rows = K.records(a + b + b"partial")
    assert [(r["src"], r["dst"]) for r in rows] == [((1, "/tmp/sock"), (1, "")), (None, None)]
    with pytest.raises(ValueError):
        K.unpack(a[:600])
    with pytest.raises(ValueError):
        K.pack_sockaddr((99,))
