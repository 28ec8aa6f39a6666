"""The rumptools sysproxy wire format: frames and the value encoding.

Pure: no sockets here. Every message is a 24-byte header and a body.

Header, little-endian:  u64 len (whole frame, header included) | u64 reqno |
u16 class | u16 type | i32 arg.   `arg` is the syscall number in a request,
the NetBSD errno in a syscall response, the handshake kind in a handshake, the
error code in an ERROR frame and the NetBSD signal number in RAISE.

Bodies carry values by value as a tagged encoding (one byte tag, then data):
  N              None
  i <i64>        integer
  b <u32 n> ...  bytes
  s <u32 n> ...  str (UTF-8, undecodable bytes kept with surrogateescape)
  l <u32 n> ...  list of n values (decoded as a tuple)
A syscall request body is one list: the arguments. A response body is one
list: the results. Decoding checks every length against what is left, so a
truncated or absurd frame is an error, never a huge allocation; and it counts
what it builds: at most MAX_LIST items in one list and MAX_OBJECTS values in
one body, so a frame of millions of one-byte values costs an error, not
gigabytes of tuples.
"""
import struct

HEADER = struct.Struct("<QQHHi")
HEADER_SIZE = HEADER.size          # 24
MAX_FRAME = 64 * 1024 * 1024 + 4096   # 64 MiB of data plus a little room
MAX_DEPTH = 8
MAX_LIST = 1 << 16          # items in one list
MAX_OBJECTS = 1 << 18       # values decoded from one body

# class
REQ, RESP, ERROR = 0, 1, 2
# type
HANDSHAKE, SYSCALL, PREFORK, RAISE = 0, 1, 7, 8
INTERRUPT = 9     # client -> server: interrupt the call with this request number (no response)
# handshake kinds
HS_GUEST, HS_AUTH, HS_FORK, HS_EXEC = 0, 1, 2, 3
# ERROR frame codes and the errno a client reports for each (NetBSD numbers)
E_TRYAGAIN, E_AUTH, E_INVALID_PREFORK, E_RFORK_FAILED, E_INEXEC, E_NOMEM, E_MALFORMED = range(1, 8)
ERROR_ERRNO = {1: 35, 2: 1, 3: 3, 4: 5, 5: 16, 6: 12, 7: 22}

PROTOCOL_MAJOR, PROTOCOL_MINOR = 1, 0
BANNER_MAX = 96


class WireError(Exception):
    """A frame or body that does not decode."""


def banner(ostype, osrelease, machine):
    text = "RUMPSP-%d.%d-%s-%s/%s rumptools\n" % (PROTOCOL_MAJOR, PROTOCOL_MINOR, ostype, osrelease, machine)
    return text.encode()[:BANNER_MAX]


def check_banner(data):
    """Validate a server banner; return its (major, minor)."""
    if not data.endswith(b"\n") or not data.startswith(b"RUMPSP-"):
        raise WireError("invalid banner %r" % data[:40])
    try:
        version = data[7:].split(b"-", 1)[0]
        major, minor = (int(x) for x in version.split(b"."))
    except ValueError:
        raise WireError("invalid banner %r" % data[:40]) from None
    if major != PROTOCOL_MAJOR:
        raise WireError("protocol version %d.%d not supported (need %d.x)" % (major, minor, PROTOCOL_MAJOR))
    return major, minor


def frame(reqno, cls, typ, arg, body=b""):
    return HEADER.pack(HEADER_SIZE + len(body), reqno, cls, typ, arg) + body


_pack_q = struct.Struct("<q").pack
_pack_I = struct.Struct("<I").pack
_unpack_q = struct.Struct("<q").unpack_from
_unpack_I = struct.Struct("<I").unpack_from
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1


def _enc(value, out, depth):
    t = type(value)
    if t is int or t is bool:
        if not _INT_MIN <= value <= _INT_MAX:
            raise WireError("integer out of range")
        out.append(b"i" + _pack_q(value))
    elif t is bytes or t is bytearray or t is memoryview:
        out.append(b"b" + _pack_I(len(value)))
        out.append(value)
    elif t is str:
        raw = value.encode("utf-8", "surrogateescape")
        out.append(b"s" + _pack_I(len(raw)))
        out.append(raw)
    elif value is None:
        out.append(b"N")
    elif t is tuple or t is list:
        if depth >= MAX_DEPTH:
            raise WireError("values nested too deeply")
        out.append(b"l" + _pack_I(len(value)))
        for item in value:
            _enc(item, out, depth + 1)
    else:
        raise WireError("cannot encode %s" % t.__name__)


_EMPTY = b"l" + _pack_I(0)
_ONE_INT = b"l" + _pack_I(1) + b"i"
_pack_iq = struct.Struct("<cq").pack


def encode(values):
    """Encode a list or tuple of values as a body."""
    if not values:
        return _EMPTY
    out = [b"l" + _pack_I(len(values))]
    for v in values:
        if type(v) is int and _INT_MIN <= v <= _INT_MAX:
            out.append(_pack_iq(b"i", v))
        else:
            _enc(v, out, 1)
    return b"".join(out)


def _dec(buf, pos, end, depth, left):
    """Decode one value at pos; left is a one-item list: values this body may still make."""
    if pos >= end:
        raise WireError("truncated value")
    left[0] -= 1
    if left[0] < 0:
        raise WireError("more than %d values in one body" % MAX_OBJECTS)
    tag = buf[pos]
    pos += 1
    if tag == 0x69:        # i
        if pos + 8 > end:
            raise WireError("truncated integer")
        return _unpack_q(buf, pos)[0], pos + 8
    if tag == 0x4E:        # N
        return None, pos
    if pos + 4 > end:
        raise WireError("truncated length")
    n = _unpack_I(buf, pos)[0]
    pos += 4
    if tag == 0x62 or tag == 0x73:     # b, s
        if n > end - pos:
            raise WireError("length %d past end of frame" % n)
        raw = bytes(buf[pos:pos + n])
        if tag == 0x73:
            return raw.decode("utf-8", "surrogateescape"), pos + n
        return raw, pos + n
    if tag == 0x6C:        # l
        if depth >= MAX_DEPTH:
            raise WireError("values nested too deeply")
        if n > end - pos:     # every item takes at least one byte
            raise WireError("list of %d items past end of frame" % n)
        if n > MAX_LIST or n > left[0]:
            raise WireError("list of %d items is too long" % n)
        items = []
        for _ in range(n):
            item, pos = _dec(buf, pos, end, depth + 1, left)
            items.append(item)
        return tuple(items), pos
    raise WireError("unknown tag 0x%02x" % tag)


_ONE_STR = b"l" + _pack_I(1) + b"s"
_ONE_LIST = b"l" + _pack_I(1) + b"l"
_INT_LISTS = {}             # n -> (Struct unpacking n tagged integers, the n tags)


def _int_list(n):
    got = _INT_LISTS.get(n)
    if got is None:
        got = (struct.Struct("<" + "xq" * n), b"i" * n)
        if n <= 64:
            _INT_LISTS[n] = got
    return got


def decode(body):
    """Decode a body into the tuple it carries; the whole body must be used.

    The shapes of most calls (nothing, one integer, one string such as a path,
    one list of integers such as struct stat) are taken apart without the
    general walk; they decode to exactly what the walk would give."""
    size = len(body)
    if size < 10:
        if body == _EMPTY or not body:
            return ()
    else:
        head = body[:6]
        if head == _ONE_STR:
            if _unpack_I(body, 6)[0] == size - 10:
                return (str(body[10:], "utf-8", "surrogateescape"),)
        elif head == _ONE_INT:
            if size == 14:
                return (_unpack_q(body, 6)[0],)
        elif head == _ONE_LIST:
            n = _unpack_I(body, 6)[0]
            if size == 10 + 9 * n and 2 <= n <= MAX_LIST:
                st, tags = _int_list(n)
                if body[10::9] == tags:
                    return (st.unpack_from(body, 10),)
    buf = memoryview(body)
    value, pos = _dec(buf, 0, len(buf), 0, [MAX_OBJECTS])
    if pos != len(buf):
        raise WireError("%d bytes of junk after value" % (len(buf) - pos))
    if type(value) is not tuple:
        raise WireError("body is not a list")
    return value


_unpack_header = HEADER.unpack_from


class FrameReader:
    """Splits a byte stream into frames. feed() bytes, then pop frames.

    Consumed bytes are dropped lazily (pos), so a burst of small frames costs
    no copying of the rest of the buffer.
    """

    __slots__ = ("buf", "pos")

    def __init__(self):
        self.buf = bytearray()
        self.pos = 0

    def feed(self, data):
        if self.pos:
            if self.pos == len(self.buf):
                self.buf.clear()
            else:
                del self.buf[:self.pos]
            self.pos = 0
        self.buf += data

    def pending(self):
        """Length of the incomplete frame at the head of the buffer (0 if none is started)."""
        have = len(self.buf) - self.pos
        if have < HEADER_SIZE:
            return HEADER_SIZE if have else 0
        return min(_unpack_header(self.buf, self.pos)[0], MAX_FRAME + 1)

    def buffered(self):
        return len(self.buf) - self.pos

    def take(self):
        """Everything buffered and not yet consumed (the reader then starts empty)."""
        data = bytes(self.buf[self.pos:])
        self.buf.clear()
        self.pos = 0
        return data

    def next_frame(self):
        """Return (reqno, cls, typ, arg, body) or None if incomplete; WireError if bad."""
        buf, pos = self.buf, self.pos
        have = len(buf) - pos
        if have < HEADER_SIZE:
            return None
        length, reqno, cls, typ, arg = _unpack_header(buf, pos)
        if length < HEADER_SIZE or length > MAX_FRAME:
            raise WireError("bad frame length %d" % length)
        if have < length:
            return None
        body = bytes(buf[pos + HEADER_SIZE:pos + length]) if length > HEADER_SIZE else b""
        self.pos = pos + length
        return reqno, cls, typ, arg, body
