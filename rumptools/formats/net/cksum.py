"""The Internet checksum (RFC 1071): 16-bit one's complement of the one's
complement sum of the data taken as big-endian 16-bit words.

It is on every packet's path, so it avoids Python loops: the one's complement
sum of the words of a byte string equals the string read as one big integer,
modulo 0xffff (2**16 is 1 modulo 0xffff), with one twist: the sum is 0 only
when every word is 0, and 0xffff when the remainder is 0 otherwise.  CPython
does the conversion and the remainder in C, a few hundred MB/s.

    partial(data)        one's complement sum of data (odd length: padded)
    combine(a, b, ...)   sum of partial sums (each part at an even offset)
    finish(s)            the checksum field value ~s & 0xffff
    checksum(data)       finish(partial(data)); 0 when data already holds a
                         correct checksum field
"""

_from_bytes = int.from_bytes


def partial(data):
    if len(data) & 1:
        data = bytes(data) + b"\0"
    n = _from_bytes(data, "big")
    return n % 0xffff or (0xffff if n else 0)


def combine(*sums):
    t = sum(sums)
    return t % 0xffff or (0xffff if t else 0)


def finish(s):
    return ~s & 0xffff


def checksum(data):
    if len(data) & 1:
        data = bytes(data) + b"\0"
    n = _from_bytes(data, "big")
    return ~(n % 0xffff or (0xffff if n else 0)) & 0xffff


def pseudo_header(src, dst, proto, length):
    """Partial sum of the IPv4 pseudo-header that UDP and TCP checksums cover."""
    return partial(src + dst + bytes((0, proto, length >> 8, length & 0xff)))
