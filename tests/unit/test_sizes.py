"""parse_size: NetBSD strsuftoll(3) numbers, suffixes, products and error texts."""
import pytest
from hypothesis import given, strategies as s

from rumptools.formats.sizes import INT64_MAX, SUFFIXES, SizeError, parse_size

UINT_MAX = (1 << 32) - 1


@pytest.mark.parametrize("text,value", [
    ("0", 0),
    ("512", 512),
    ("1b", 512),
    ("1k", 1024),
    ("64k", 65536),
    ("1m", 1 << 20),
    ("2g", 2 << 30),
    ("1t", 1 << 40),
    ("3w", 12),
    ("2x512k", 1 << 20),
    ("2*3", 6),              # '*' is the old spelling of 'x'
    ("2x3x4", 24),
    ("4bx2k", 4 * 512 * 2048),
    ("  7", 7),              # leading white space is skipped
    ("+9", 9),
    ("010", 10),             # always decimal, never octal
    ("0x10", 0),             # "0" times "10", not hexadecimal
    ("9223372036854775807", INT64_MAX),
])
def test_values(text, value):
    assert parse_size(text, "block count") == value


@pytest.mark.parametrize("text,message", [
    ("", "block size `': illegal number"),
    ("k", "block size `k': illegal number"),
    ("12q", "block size `12q': illegal number"),
    ("1kk", "block size `1kk': illegal number"),
    ("1x", "block size `': illegal number"),          # the empty factor is named
    ("2x5q", "block size `5q': illegal number"),
    ("1x 3z", "block size `3z': illegal number"),     # named after its spaces
    ("0", "block size 0 is less than 1."),
    ("1x0", "block size 0 is less than 1."),          # each factor is checked
    ("-5", "block size -5 is less than 1."),
    ("4g", "block size 4294967296 is greater than 4294967295."),
    ("9223372036854775808", "block size: Result too large or too small"),
    ("8589934592g", "block size: Result too large or too small"),
    ("4294967295x4294967295", "block size: Result too large or too small"),
    ("4294967296x2", "block size 8589934592 is greater than 4294967295."),
    ("-1k", "block size: Result too large or too small"),
])
def test_errors(text, message):
    with pytest.raises(SizeError) as exc:
        parse_size(text, "block size", 1, UINT_MAX)
    assert str(exc.value) == message


def test_zero_factor_after_nonzero_is_out_of_range():
    # NetBSD detects overflow as "the product got smaller", so 2x0 trips it.
    with pytest.raises(SizeError, match="^block count: Result too large or too small$"):
        parse_size("2x0", "block count")
    assert parse_size("0x2", "block count") == 0


def test_what_names_the_quantity():
    with pytest.raises(SizeError, match="^-d size `abc': illegal number$"):
        parse_size("abc", "-d size")


def test_size_error_is_value_error():
    assert issubclass(SizeError, ValueError)


@given(s.integers(0, 1 << 22), s.sampled_from(sorted(SUFFIXES) + [""]))
def test_suffix_multiplies(n, suffix):
    assert parse_size("%d%s" % (n, suffix), "n") == n * SUFFIXES.get(suffix, 1)


@given(s.integers(1, 1 << 20), s.sampled_from("bkmw"), s.integers(1, 1 << 20),
       s.sampled_from(["x", "*"]))
def test_products(a, suffix, b, sep):
    assert parse_size("%d%s%s%d" % (a, suffix, sep, b), "n") == a * SUFFIXES[suffix] * b


@given(s.integers(0, INT64_MAX))
def test_any_int64_round_trips(n):
    assert parse_size(str(n), "n") == n
