"""libpcap savefiles ("pcap"), the classic format tcpdump -w writes.

    file header (24 bytes, writer's byte order): u32 magic 0xa1b2c3d4,
        u16 version 2, u16 4, i32 thiszone 0, u32 sigfigs 0, u32 snaplen,
        u32 linktype (1 = Ethernet)
    per packet (16 bytes): u32 ts_sec, u32 ts_usec, u32 caplen, u32 len,
        then caplen bytes

Pure: bytes out, and a reader for tests and tools (either byte order).
"""
import struct

MAGIC = 0xa1b2c3d4
DLT_NULL = 0
DLT_EN10MB = 1
_file = struct.Struct("=IHHiIII")
_rec = struct.Struct("=IIII")


class PcapError(ValueError):
    pass


def file_header(linktype=DLT_EN10MB, snaplen=1518):
    return _file.pack(MAGIC, 2, 4, 0, 0, snaplen, linktype)


def record(sec, usec, data, wirelen=None, snaplen=None):
    cap = data if snaplen is None else data[:snaplen]
    return _rec.pack(sec & 0xffffffff, usec, len(cap), len(data) if wirelen is None else wirelen) + bytes(cap)


def read(data):
    """-> (linktype, snaplen, [(sec, usec, wirelen, bytes)])."""
    if len(data) < 24:
        raise PcapError("pcap file of %d bytes" % len(data))
    for order in "<>":
        magic, vmaj, vmin, _, _, snaplen, linktype = struct.unpack_from(order + "IHHiIII", data)
        if magic == MAGIC:
            break
    else:
        raise PcapError("not a pcap file")
    rec = struct.Struct(order + "IIII")
    out = []
    off = 24
    while off < len(data):
        if off + 16 > len(data):
            raise PcapError("truncated record header at %d" % off)
        sec, usec, caplen, wirelen = rec.unpack_from(data, off)
        off += 16
        if off + caplen > len(data):
            raise PcapError("truncated record at %d" % off)
        out.append((sec, usec, wirelen, bytes(data[off:off + caplen])))
        off += caplen
    return linktype, snaplen, out
