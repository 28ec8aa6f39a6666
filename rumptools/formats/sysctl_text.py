"""sysctl(8)'s text for values, and its reading of values to write.

Pure: no I/O.  The forms are NetBSD's sbin/sysctl: integers `%d` (`%u` for
unsigned nodes, `%#x` for hex ones), with -x zero-padded to their size
(`0x00000002`), strings as they are or as hex bytes up to and including
the NUL, -xx a hex dump, -r the bytes themselves; structures as at most 16
hex bytes and `...(N more bytes)`; kern.clockrate and kern.boottime have
their own lines.  Values to write are read as strtouq(3) in base 0 reads
them, then checked against the node's size.
"""
import struct
import time

from ..abi.sysctl import F_HEX, F_UNSIGNED

SIZES = {"int": 4, "quad": 8, "bool": 1}
RLIM_INFINITY = (1 << 63) - 1


class BadValue(ValueError):
    """A value that cannot be written: its message is sysctl's (`12x: not a number`)."""


def parse_c_integer(text):
    """An integer as strtol(3) with base 0 reads it: 0x hex, leading 0 octal, else decimal."""
    t = text.strip()
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    if not t or "_" in t:
        raise ValueError(text)
    if t[:2].lower() == "0x":
        return sign * int(t[2:], 16)
    if len(t) > 1 and t[0] == "0":
        return sign * int(t[1:], 8)
    return sign * int(t, 10)


def parse_number(kind, flags, text, erange_text):
    """The value write_number() sends for `text`; BadValue with sysctl's message if none."""
    try:
        new = parse_c_integer(text) if text.strip() == text else None
    except ValueError:
        new = None
    if new is None:
        raise BadValue("%s: not a number" % text)
    if new < 0:
        new &= 0xFFFFFFFFFFFFFFFF           # strtouq(3) takes negative numbers modulo 2^64
    if new >> 64:
        raise BadValue("%s: %s" % (text, erange_text))
    if kind == "int":
        if new >> 32 not in (0, 0xFFFFFFFF):
            raise BadValue("%s: %s" % (text, erange_text))
        new &= 0xFFFFFFFF
        if new >= 1 << 31 and not flags & F_UNSIGNED:
            new -= 1 << 32
    elif kind == "bool":
        new = 1 if new else 0
    return new


def raw_bytes(kind, value):
    """What -r prints: the bytes of the value as the kernel holds them (amd64)."""
    if kind == "string":
        return value.encode("utf-8", "surrogateescape") + b"\0"
    if kind == "bool":
        return bytes([1 if value else 0])
    if kind == "int":
        return struct.pack("<I", value & 0xFFFFFFFF)
    if kind == "quad":
        return struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF)
    return bytes(value)


def value_text(kind, value, flags, xflag=0):
    """A value as display_number/display_string print it (without -xx)."""
    if kind == "string":
        if xflag:
            data = raw_bytes(kind, value)
            return "".join("%02x" % b for b in data[:data.index(0) + 1])
        if flags & F_HEX:
            return "".join("\\x%02x" % b for b in value.encode("utf-8", "surrogateescape"))
        return value
    size = SIZES[kind]
    if kind == "bool":
        value = 1 if value else 0
    elif kind == "int":
        value &= 0xFFFFFFFF
        if not (xflag or flags & (F_HEX | F_UNSIGNED)) and value >= 1 << 31:
            value -= 1 << 32
    else:
        value &= 0xFFFFFFFFFFFFFFFF
    if xflag:
        return "0x%0*x" % (size * 2, value)
    if flags & F_HEX:
        return "%#x" % value
    return "%d" % value


def struct_text(data):
    """display_struct with -x: at most 16 bytes in hex, then how many more there are."""
    more = len(data) - 16
    return "".join("%02x" % b for b in data[:16]) + ("...(%d more bytes)" % more if more > 0 else "")


def hex_dump(data):
    """sysctl -xx: offset, 16 bytes in hex and as text, then the byte count."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        line = [" "] * 78
        line[0:7] = "%07x" % off
        for j, b in enumerate(chunk):
            line[9 + j * 3:11 + j * 3] = "%02x" % b
            line[60 + j] = chr(b) if 32 <= b < 127 else "."
        line[58], line[77] = "|", "|"
        lines.append("".join(line))
    lines.append("%07d bytes" % len(data))
    return "\n".join(lines) + "\n"


def clockrate_text(value):
    return "tick = %d, tickadj = %d, hz = %d, profhz = %d, stathz = %d" % tuple(value)


def clockrate_bytes(value):
    return struct.pack("<5i", *value)


def boottime_text(sec, usec, nflag):
    """kern.boottime: ctime(3) without -n, seconds with -n, and microseconds with -nn."""
    if not nflag:
        return time.ctime(sec)
    return "%d" % sec if nflag == 1 else "%d.%06d" % (sec, usec)


def boottime_bytes(sec, usec):
    return struct.pack("<qq", sec, usec)
