"""Response encoders made from the syscall table: one per entry, chosen by its result types.

The dispatch entry of a call (kernel/kern/syscall.py Sysent) holds the
encoder of its results; encode(reqno, results) returns the whole response
frame. Where the table already says the types (no results, one integer, one
byte buffer) the frame is packed at once without looking at the values'
types, and struct stat, a list of integers, in one struct.pack; anything
else goes through wire.encode. Every encoder checks the
number of results against the table (ValueError if a handler returned
another shape); an integer out of 64-bit range is struct.error, which the
server answers with EOVERFLOW as it does wire.encode's WireError.
"""
import struct

from . import wire
from ..abi.sctypes import STAT_FIELDS

_INT_TYPES = frozenset("int fd flags mode uid gid dev int64 off size ssize pid".split())
_HEAD = "<QQHHi"
_pack_head = wire.HEADER.pack
_pack_none = struct.Struct(_HEAD + "cI").pack
_pack_int = struct.Struct(_HEAD + "cIcq").pack
_pack_bytes_head = struct.Struct(_HEAD + "cIcI").pack
_SIZE_NONE = wire.HEADER_SIZE + 5
_SIZE_INT = wire.HEADER_SIZE + 5 + 9
_SIZE_BYTES = wire.HEADER_SIZE + 5 + 5
RESP, SYSCALL = wire.RESP, wire.SYSCALL


def _none(reqno, results):
    if results:
        raise ValueError("results where the table has none")
    return _pack_none(_SIZE_NONE, reqno, RESP, SYSCALL, 0, b"l", 0)


def _one_int(reqno, results):
    (v,) = results
    if type(v) is not int:
        raise ValueError("integer result expected")
    return _pack_int(_SIZE_INT, reqno, RESP, SYSCALL, 0, b"l", 1, b"i", v)


def _one_bytes(reqno, results):
    (v,) = results
    if type(v) is not bytes:
        return _frame(reqno, wire.encode((v,)))
    n = len(v)
    return _pack_bytes_head(_SIZE_BYTES + n, reqno, RESP, SYSCALL, 0, b"l", 1, b"b", n) + v


def _frame(reqno, body):
    return _pack_head(wire.HEADER_SIZE + len(body), reqno, RESP, SYSCALL, 0) + body


def _generic(n):
    encode = wire.encode

    def enc(reqno, results):
        if len(results) != n:
            raise ValueError("%d results where the table has %d" % (len(results), n))
        return _frame(reqno, encode(results))
    return enc


def _int_list(n):
    """One result that is a list of n integers (struct stat): packed in one go; any other
    value goes the generic way, which raises what it would have raised."""
    pack = struct.Struct(_HEAD + "cIcI" + "cq" * n).pack
    size = wire.HEADER_SIZE + 5 + 5 + 9 * n
    # the arguments after the list head: tag, value, tag, value ... (values filled in per call)
    template = [size, 0, RESP, SYSCALL, 0, b"l", 1, b"l", n] + [b"i", 0] * n
    generic = _generic(1)

    def enc(reqno, results):
        if len(results) == 1:
            v = results[0]
            if type(v) is tuple and len(v) == n:
                args = template.copy()
                args[1] = reqno
                args[10::2] = v
                try:
                    return pack(*args)
                except struct.error:
                    pass
        return generic(reqno, results)
    return enc


_stat = _int_list(len(STAT_FIELDS))


def result_encoder(sc):
    """The encoder of one table entry: encode(reqno, results) -> response frame bytes."""
    res = sc.results
    if not res:
        return _none
    if len(res) == 1 and not res[0].optional:
        if res[0].type in _INT_TYPES:
            return _one_int
        if res[0].type == "outbuf":
            return _one_bytes
        if res[0].type == "stat":
            return _stat
    return _generic(len(res))
