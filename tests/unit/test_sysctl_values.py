import pytest

from rumptools.commands.sysctl import parse_c_integer


@pytest.mark.parametrize("text,value", [("10", 10), ("010", 8), ("0x1F", 31), ("-3", -3), ("0", 0), ("+7", 7)])
def test_strtol_base_zero(text, value):
    assert parse_c_integer(text) == value


@pytest.mark.parametrize("text", ["", "1_000", "0x", "09", "abc", "1.5"])
def test_refused(text):
    with pytest.raises(ValueError):
        parse_c_integer(text)
