"""formats/sysctl_text: the C integer forms sysctl accepts (strtol base 0), the
value texts it prints per node kind and flag, and its refusals."""
import pytest

from rumptools.formats.sysctl_text import parse_c_integer


@pytest.mark.parametrize("text,value", [("10", 10), ("010", 8), ("0x1F", 31), ("-3", -3), ("0", 0), ("+7", 7)])
def test_strtol_base_zero(text, value):
    assert parse_c_integer(text) == value


@pytest.mark.parametrize("text", ["", "1_000", "0x", "09", "abc", "1.5"])
def test_refused(text):
    with pytest.raises(ValueError):
        parse_c_integer(text)


# -- sysctl(8)'s text for values -------------------------------------------------------

from rumptools.formats import sysctl_text as fmt  # noqa: E402


@pytest.mark.parametrize("kind,value,flags,x,text", [
    ("int", 2, 0, 0, "2"), ("int", 2, 0, 1, "0x00000002"), ("int", -1, 0, 0, "-1"),
    ("int", -1, fmt.F_UNSIGNED, 0, "4294967295"), ("int", 255, fmt.F_HEX, 0, "0xff"),
    ("quad", 1 << 40, 0, 0, "1099511627776"), ("quad", 3, 0, 1, "0x0000000000000003"),
    ("bool", 1, 0, 1, "0x01"), ("string", "NetBSD", 0, 1, "4e657442534400"),
    ("string", "ab", fmt.F_HEX, 0, "\\x61\\x62"), ("string", "x y", 0, 0, "x y"),
])
def test_value_text(kind, value, flags, x, text):
    assert fmt.value_text(kind, value, flags, x) == text


@pytest.mark.parametrize("kind,flags,text,value", [
    ("int", 0, "7", 7), ("int", 0, "0x10", 16), ("int", 0, "-1", -1), ("int", 0, "4294967295", -1),
    ("int", fmt.F_UNSIGNED, "4294967295", 4294967295), ("bool", 0, "5", 1), ("quad", 0, "-1", (1 << 64) - 1),
])
def test_parse_number(kind, flags, text, value):
    assert fmt.parse_number(kind, flags, text, "Result too large or too small") == value


@pytest.mark.parametrize("kind,text,message", [
    ("int", "12x", "12x: not a number"), ("int", " 1", " 1: not a number"),
    ("int", "0x100000000", "0x100000000: Result too large or too small"),
    ("quad", "0x10000000000000000", "0x10000000000000000: Result too large or too small"),
])
def test_parse_number_refuses(kind, text, message):
    with pytest.raises(fmt.BadValue) as e:
        fmt.parse_number(kind, 0, text, "Result too large or too small")
    assert str(e.value) == message


def test_structs_and_dumps():
    assert fmt.struct_text(bytes(range(20))) == "000102030405060708090a0b0c0d0e0f...(4 more bytes)"
    assert fmt.struct_text(b"\xab\xcd") == "abcd"
    assert fmt.hex_dump(b"NetBSD\0") == (
        "0000000  4e 65 74 42 53 44 00                             | NetBSD.          |\n"
        "0000007 bytes\n")
    assert fmt.clockrate_text((10000, 40, 100, 100, 100)) == \
        "tick = 10000, tickadj = 40, hz = 100, profhz = 100, stathz = 100"
    assert fmt.raw_bytes("int", -2) == b"\xfe\xff\xff\xff" and fmt.raw_bytes("string", "a") == b"a\0"
    assert fmt.boottime_text(86400, 5, 1) == "86400" and fmt.boottime_text(86400, 5, 2) == "86400.000005"
