"""dd summary text: posix/human/quiet/templates, millisecond rules, humanize_number."""
import pytest

from rumptools.formats.dd_summary import (SPECIFIERS, MsgfmtError, Stats, elapsed_ms,
                                          format_template, humanize_number, render,
                                          validate_msgfmt)


def test_posix_example_from_the_spec():
    st = Stats(in_full=2, out_full=2, bytes=1024)
    assert render("posix", st, 1) == (
        "2+0 records in\n"
        "2+0 records out\n"
        "1024 bytes transferred in 0.001 secs (1024000 bytes/sec)\n")


@pytest.mark.parametrize("ms,line", [
    (733, "12812288 bytes transferred in 0.733 secs (17479246 bytes/sec)\n"),
    (890, "12812288 bytes transferred in 0.890 secs (14395829 bytes/sec)\n"),
    (896, "12812288 bytes transferred in 0.896 secs (14299428 bytes/sec)\n"),
])
def test_tutorial_sessions(ms, line):
    st = Stats(in_full=195, in_part=1, out_full=195, out_part=1, bytes=12812288)
    assert render("posix", st, ms) == "195+1 records in\n195+1 records out\n" + line


def test_seconds_and_rate_for_long_runs():
    st = Stats(in_full=8387, in_part=1, out_full=8387, out_part=1, bytes=549683200)
    assert render("posix", st, 122461).splitlines()[-1] == \
        "549683200 bytes transferred in 122.461 secs (4488638 bytes/sec)"


def test_optional_lines_order_and_plurals():
    st = Stats(in_part=1, out_part=1, swab=1, trunc=2, sparse=1, bytes=7)
    assert render("posix", st, 1000).splitlines() == [
        "0+1 records in",
        "0+1 records out",
        "1 odd length swab block",
        "2 truncated blocks",
        "1 sparse output block",
        "7 bytes transferred in 1.000 secs (7 bytes/sec)",
    ]
    st = Stats(swab=3, sparse=5)
    lines = render("posix", st, 1).splitlines()
    assert "3 odd length swab blocks" in lines and "5 sparse output blocks" in lines
    assert not any("truncated" in line for line in lines)


def test_elapsed_ms_rounds_like_tv2ms_and_is_at_least_one():
    assert elapsed_ms(0, 0) == 1
    assert elapsed_ms(0, 400_000) == 1          # 0.4 ms rounds to 0, shown as 1
    assert elapsed_ms(0, 1_499_000) == 1
    assert elapsed_ms(0, 1_500_000) == 2
    assert elapsed_ms(1_000_000_000, 1_733_000_000) == 733
    # each reading is rounded on its own, then subtracted
    assert elapsed_ms(499_000, 1_501_000) == 2


@pytest.mark.parametrize("value,text", [
    (0, "0 B"), (1, "1 B"), (999, "999 B"),
    (1000, "1.0 KB"), (1024, "1.0 KB"), (1536, "1.5 KB"),
    (10239, "10 KB"), (102400, "100 KB"), (1048576, "1.0 MB"),
    (12812288, "12 MB"), (17479246, "17 MB"), (1 << 30, "1.0 GB"),
    (5 * (1 << 40), "5.0 TB"),
])
def test_humanize_number(value, text):
    assert humanize_number(value) == text
    assert len(humanize_number(value)) <= 6     # fits NetBSD's 7-byte buffer


def test_human_format():
    st = Stats(in_full=2, out_full=2, bytes=1024)
    assert render("human", st, 1) == (
        "2+0 records in\n2+0 records out\n"
        "1024 bytes (1.0 KB) transferred in 0.001 secs (1024000 bytes/sec - 1.0 MB/sec)\n")
    st.trunc = 1
    assert "1 truncated block\n" in render("human", st, 1)


def test_quiet_prints_nothing():
    assert render("quiet", Stats(in_full=3, bytes=3), 5) == ""


def test_template_specifiers():
    st = Stats(in_full=3, in_part=1, out_full=4, out_part=2, swab=1, trunc=2, sparse=0,
               bytes=2048)
    fmt = "%b|%B|%e|%E|%i|%I|%o|%O|%s|%p|%t|%w|%P|%T|%W|%%"
    assert format_template(fmt, st, 2000) == \
        "2048|2.0 KB|1024|1.0 KB/sec|1|3|2|4|2.000|0|2|1|blocks|blocks|block|%"
    assert render(fmt, st, 2000) == format_template(fmt, st, 2000)
    assert set(SPECIFIERS) == set("bBeEiIoOspPtTwW%")


def test_template_edge_cases():
    st = Stats(bytes=5)
    assert format_template("no specifiers\n", st, 1) == "no specifiers\n"
    assert format_template("ends with %", st, 1) == "ends with "
    with pytest.raises(MsgfmtError, match="^unknown specifier 'x' in msgfmt string$"):
        format_template("%b %x", st, 1)


def test_validate_msgfmt():
    for good in ("posix", "human", "quiet", "%b\n", "100%%"):
        validate_msgfmt(good)
    with pytest.raises(MsgfmtError):
        validate_msgfmt("%z")


def test_progress_newlines():
    st = Stats()
    # NetBSD's summary() writes a newline after the dots, and its posix
    # summary writes one more.
    assert render("posix", st, 1, progress=True).startswith("\n\n0+0 records in")
    assert render("human", st, 1, progress=True).startswith("\n0+0 records in")
    assert render("quiet", st, 1, progress=True) == "\n"
    assert render("%b", st, 1, progress=True) == "\n0"


def test_stats_equality_and_repr():
    assert Stats(bytes=1) == Stats(bytes=1) != Stats()
    assert "in_full=0" in repr(Stats())
