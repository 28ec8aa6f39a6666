"""Size and count arguments in the style of NetBSD's strsuftoll(3).

Used by dd's operands (bs=, count=, seek=, ...) and by rump_server's
``-d size=``/``offset=``.  Pure: no I/O, errors are raised, not printed.

Grammar (what strsuftoll accepts)::

    expr   := [space...] number [suffix] [('x' | '*') expr]
    number := [+|-] decimal-digits             (always base 10)
    suffix := b (512) | k (2^10) | m (2^20) | g (2^30) | t (2^40) | w (4)

``2x512k`` is a product.  Each factor of a product is itself range checked,
so ``bs=1x0`` fails on the 0.  The value must fit a signed 64-bit integer.

Error texts (``what`` names the quantity, e.g. "block size")::

    block size `12q': illegal number
    block size: Result too large or too small
    block size 0 is less than 1.
    block size 4294967296 is greater than 4294967295.

Two quirks of the C original are kept because scripts may meet them: a
negative number with a suffix (``-1k``) and a product whose later factor is
0 while the earlier one is not (``2x0``) are reported as out of range,
since NetBSD checks multiplication overflow by "the result got smaller".
"""

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)

# strsuftoll's ERANGE text, as NetBSD's strerror(3) spells it.
_ERANGE_TEXT = "Result too large or too small"

SUFFIXES = {
    "b": 512,
    "k": 1 << 10,
    "m": 1 << 20,
    "g": 1 << 30,
    "t": 1 << 40,
    "w": 4,          # sizeof(int)
}

_C_SPACE = " \t\n\v\f\r"
_DIGITS = "0123456789"


class SizeError(ValueError):
    """A size argument could not be converted; str() is NetBSD's message."""


def parse_size(text, what, minimum=0, maximum=INT64_MAX):
    """Convert text to an int the way strsuftoll(what, text, minimum, maximum) does.

    Raises SizeError with NetBSD's wording on junk, overflow, or a value
    outside [minimum, maximum].
    """
    return _expr(text, what, minimum, maximum)


def _expr(text, what, minimum, maximum):
    text = text.lstrip(_C_SPACE)
    num, rest = _strtoll(text)
    if num is None:
        raise SizeError("%s `%s': illegal number" % (what, text))
    if _out_of_int64(num):
        raise SizeError("%s: %s" % (what, _ERANGE_TEXT))

    if rest and rest[0] in SUFFIXES:
        num = _checked_product(num, SUFFIXES[rest[0]], what)
        rest = rest[1:]

    if rest == "":
        pass
    elif rest[0] in "x*":
        factor = _expr(rest[1:], what, minimum, maximum)
        num = _checked_product(num, factor, what)
    else:
        raise SizeError("%s `%s': illegal number" % (what, text))

    if num < minimum:
        raise SizeError("%s %d is less than %d." % (what, num, minimum))
    if num > maximum:
        raise SizeError("%s %d is greater than %d." % (what, num, maximum))
    return num


def _strtoll(text):
    """Leading base-10 integer of text (C strtoll rules) and the rest; (None, text) if none."""
    i = 0
    s = text.lstrip(_C_SPACE)
    lead = len(text) - len(s)
    sign = 1
    if s and s[0] in "+-":
        sign = -1 if s[0] == "-" else 1
        i = 1
    j = i
    while j < len(s) and s[j] in _DIGITS:
        j += 1
    if j == i:
        return None, text
    return sign * int(s[i:j]), text[lead + j:]


def _out_of_int64(value):
    return value > INT64_MAX or value < INT64_MIN


def _checked_product(num, factor, what):
    """num * factor, or SizeError when NetBSD's overflow test would trip."""
    product = num * factor
    # The C code multiplies in 64 bits and calls it overflow when the
    # result is smaller than the first operand; real overflow is caught here
    # exactly, and the "got smaller" cases (negatives, x0) as NetBSD does.
    if _out_of_int64(product) or num > product:
        raise SizeError("%s: %s" % (what, _ERANGE_TEXT))
    return product
