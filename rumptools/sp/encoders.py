"""Result encoders made from the syscall table: one per entry, chosen by its result types.

The server's dispatch entry for a call (kernel/kern/syscall.py Sysent) holds
the encoder of its results, so a reply is encoded without looking at the
values' types where the table already says them: no results, one integer,
one byte buffer; anything else goes through wire.encode. Every encoder
checks the number of results against the table (ValueError if a handler
returned another shape); an integer out of 64-bit range is struct.error,
which the server answers with EOVERFLOW as wire.encode's WireError.
"""
import struct

from . import wire

_INT_TYPES = frozenset("int fd flags mode uid gid dev int64 off size ssize pid".split())
_EMPTY = wire.encode(())
_ONE = struct.Struct("<cIc").pack(b"l", 1, b"i")
_ONE_BYTES = struct.Struct("<cIc").pack(b"l", 1, b"b")
_pack_q = struct.Struct("<q").pack
_pack_I = struct.Struct("<I").pack


def _none(results):
    if results:
        raise ValueError("results where the table has none")
    return _EMPTY


def _one_int(results):
    (v,) = results
    if type(v) is not int:
        raise ValueError("integer result expected")
    return _ONE + _pack_q(v)


def _one_bytes(results):
    (v,) = results
    if type(v) is not bytes:
        return wire.encode((v,))
    return _ONE_BYTES + _pack_I(len(v)) + v


def _generic(n):
    encode = wire.encode

    def enc(results):
        if len(results) != n:
            raise ValueError("%d results where the table has %d" % (len(results), n))
        return encode(results)
    return enc


def result_encoder(sc):
    """The encoder of one table entry's results: a function results -> body bytes."""
    res = sc.results
    if not res:
        return _none
    if len(res) == 1 and not res[0].optional:
        if res[0].type in _INT_TYPES:
            return _one_int
        if res[0].type == "outbuf":
            return _one_bytes
    return _generic(len(res))
