"""struct kinfo_pcb: one socket of a pcblist sysctl node (specs/net.md §4), 640 bytes, amd64.

The nodes net.inet.{tcp,udp,raw}.pcblist and net.local.{stream,dgram,
seqpacket}.pcblist answer the records of every socket of their protocol
one after another (inet lists newest first). Layout (little-endian):

    0   u64 pcbaddr      8  u64 ppcbaddr    16  u64 sockaddr (kernel addresses: opaque ids)
    24  u32 family      28  u32 type        32  u32 protocol    36  u32 pflags (INP_ANONPORT)
    40  u32 sostate     44  u32 prstate     48  i32 tstate      52  u32 tflags
    56  u64 rcvq        64  u64 sndq
    72  src sockaddr (264 bytes)           336 dst sockaddr (264 bytes)
    600 u64 inode      608 u64 vnode      616 u64 conn      624 u64 refs      632 u64 nextref

Socket addresses are kept in their binary form: sockaddr_in {len 16, family,
port (big-endian), address} or sockaddr_un {len, family, path}. pack()
takes and unpack() gives a dict whose src/dst are the tuples of abi/net.py:
(AF_INET, "1.2.3.4", port), (AF_LOCAL, "/path"), or None for an empty one.
"""
import socket
import struct

KINFO_PCB_SIZE = 640
SA_SIZE = 264
_HEAD = struct.Struct("<QQQIIIIIIiIQQ")       # up to sndq: 72 bytes
_TAIL = struct.Struct("<QQQQQ")               # inode..nextref: 40 bytes
AF_LOCAL, AF_INET, AF_INET6 = 1, 2, 24

INP_ANONPORT = 0x40
INP_ATTACHED, INP_BOUND, INP_CONNECTED = 0, 1, 2
SS_ISCONNECTED, SS_ISCONNECTING, SS_CANTSENDMORE, SS_CANTRCVMORE = 0x1, 0x2, 0x10, 0x20
PCB_ALL = 0

HEAD_FIELDS = ("pcbaddr", "ppcbaddr", "sockaddr", "family", "type", "protocol", "pflags", "sostate",
               "prstate", "tstate", "tflags", "rcvq", "sndq")
TAIL_FIELDS = ("inode", "vnode", "conn", "refs", "nextref")

# TCP states (tcp_fsm.h) and their names as netstat prints them
TCP_STATES = ("CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1",
              "CLOSING", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT")


def pack_sockaddr(addr):
    """A sockaddr tuple as the bytes of a 264-byte sockaddr slot (None: all zero)."""
    if addr is None:
        return bytes(SA_SIZE)
    fam = addr[0]
    if fam == AF_INET:
        raw = struct.pack("<BB", 16, AF_INET) + struct.pack("!H", addr[2]) + socket.inet_aton(addr[1]) + bytes(8)
    elif fam == AF_LOCAL:
        path = addr[1].encode("utf-8", "surrogateescape")[:104] if len(addr) > 1 and addr[1] else b""
        raw = struct.pack("<BB", 2 + len(path) + 1 if path else 106, AF_LOCAL) + path
    elif fam == AF_INET6:
        raw = struct.pack("<BB", 28, AF_INET6) + struct.pack("!HI", addr[2], 0) + \
            socket.inet_pton(socket.AF_INET6, addr[1]) + bytes(4)
    else:
        raise ValueError("no sockaddr form for family %r" % (fam,))
    return raw + bytes(SA_SIZE - len(raw))


def unpack_sockaddr(raw):
    """The tuple form of a sockaddr slot (None if its family is 0)."""
    fam = raw[1]
    if fam == 0:
        return None
    if fam == AF_INET:
        return (AF_INET, socket.inet_ntoa(raw[4:8]), struct.unpack_from("!H", raw, 2)[0])
    if fam == AF_LOCAL:
        path = raw[2:2 + 104].split(b"\0", 1)[0]
        return (AF_LOCAL, path.decode("utf-8", "surrogateescape"))
    if fam == AF_INET6:
        return (AF_INET6, socket.inet_ntop(socket.AF_INET6, bytes(raw[8:24])), struct.unpack_from("!H", raw, 2)[0])
    return (fam,)


def pack(**f):
    """One 640-byte record; fields not given are 0 (src/dst: None)."""
    head = _HEAD.pack(*(f.get(k, 0) for k in HEAD_FIELDS))
    tail = _TAIL.pack(*(f.get(k, 0) for k in TAIL_FIELDS))
    return head + pack_sockaddr(f.get("src")) + pack_sockaddr(f.get("dst")) + tail


def unpack(rec):
    """A record as a dict of the field names above plus src and dst."""
    if len(rec) != KINFO_PCB_SIZE:
        raise ValueError("a kinfo_pcb is %d bytes, not %d" % (KINFO_PCB_SIZE, len(rec)))
    d = dict(zip(HEAD_FIELDS, _HEAD.unpack_from(rec, 0)))
    d.update(zip(TAIL_FIELDS, _TAIL.unpack_from(rec, 600)))
    d["src"] = unpack_sockaddr(rec[72:72 + SA_SIZE])
    d["dst"] = unpack_sockaddr(rec[336:336 + SA_SIZE])
    return d


def records(blob):
    """Every record of a pcblist answer (a trailing partial record is ignored)."""
    blob = bytes(blob or b"")
    return [unpack(blob[i:i + KINFO_PCB_SIZE]) for i in range(0, len(blob) - KINFO_PCB_SIZE + 1, KINFO_PCB_SIZE)]
