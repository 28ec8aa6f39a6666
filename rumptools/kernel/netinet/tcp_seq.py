"""TCP sequence number arithmetic modulo 2**32 (NetBSD's tcp_seq.h).

SEQ_LT(a, b) is true when a comes before b: their difference, taken as a
signed 32-bit number, is negative. Pure functions on ints; hot paths may
inline the same expressions.
"""
M32 = 0xffffffff
HALF = 0x80000000


def seq_lt(a, b):
    return (a - b) & M32 >= HALF


def seq_leq(a, b):
    return a == b or (a - b) & M32 >= HALF


def seq_gt(a, b):
    return (b - a) & M32 >= HALF


def seq_geq(a, b):
    return a == b or (b - a) & M32 >= HALF


def seq_diff(a, b):
    """a - b as a signed 32-bit number."""
    d = (a - b) & M32
    return d - 0x100000000 if d >= HALF else d


def seq_add(a, n):
    return (a + n) & M32


def seq_max(a, b):
    return b if (a - b) & M32 >= HALF else a
