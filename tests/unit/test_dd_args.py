"""dd operand parsing: values, NetBSD's exclusions, final checks and error texts."""
import pytest

from rumptools.formats.dd_args import (CONVERSIONS, IOFLAGS, NETBSD_OPEN_FLAGS,
                                       DDArgsError, parse_operands)


def parse(*words):
    return parse_operands(list(words))


def error(*words):
    with pytest.raises(DDArgsError) as exc:
        parse(*words)
    return str(exc.value)


def test_defaults():
    a = parse()
    assert (a.if_name, a.of_name, a.ibs, a.obs, a.count, a.skip, a.seek) == \
        (None, None, 512, 512, None, 0, 0)
    assert a.files == 1 and a.progress == 0 and a.msgfmt == "posix"
    assert a.flags == set() and a.mode == "def" and a.table is None
    assert a.iflag == ("rdonly",) and a.oflag == ("creat",)


def test_files_and_sizes():
    a = parse("if=/dk", "of=out img", "bs=64k", "count=3", "skip=2", "seek=1b",
              "progress=10", "msgfmt=human")
    assert a.if_name == "/dk" and a.of_name == "out img"
    assert a.ibs == a.obs == 65536
    assert (a.count, a.skip, a.seek, a.progress, a.msgfmt) == (3, 2, 512, 10, "human")
    assert a.flags == {"if", "of", "bs", "count", "skip", "seek"}


def test_value_may_contain_equals_sign():
    assert parse("of=a=b").of_name == "a=b"


def test_iseek_and_oseek_are_skip_and_seek():
    a = parse("iseek=3", "oseek=4")
    assert (a.skip, a.seek) == (3, 4)
    assert error("iseek=1", "skip=2") == "skip: illegal argument combination or already set"
    assert error("seek=1", "oseek=2") == "oseek: illegal argument combination or already set"


def test_ibs_obs_separately():
    a = parse("ibs=1k", "obs=3")
    assert (a.ibs, a.obs) == (1024, 3)
    assert "bs" not in a.flags and a.flags >= {"ibs", "obs"}


@pytest.mark.parametrize("conv", ["ucase", "lcase", "swab", "ascii", "ebcdic",
                                  "sparse", "ibm"])
def test_conversion_turns_bs_into_ibs_and_obs(conv):
    a = parse("bs=4k", "conv=" + conv)
    assert "bs" not in a.flags and {"ibs", "obs"} <= a.flags
    assert a.ibs == a.obs == 4096


@pytest.mark.parametrize("conv", ["noerror", "notrunc", "sync", "noerror,sync,notrunc"])
def test_these_conversions_keep_bs(conv):
    assert "bs" in parse("bs=4k", "conv=" + conv).flags


@pytest.mark.parametrize("words,message", [
    (["foo"], "unknown operand foo"),
    (["foo=1"], "unknown operand foo"),
    (["=1"], "unknown operand "),
    (["BS=1"], "unknown operand BS"),
    (["if="], "no value specified for if"),
    (["bs=1", "ibs=2"], "ibs: illegal argument combination or already set"),
    (["ibs=1", "bs=2"], "bs: illegal argument combination or already set"),
    (["obs=1", "bs=2"], "bs: illegal argument combination or already set"),
    (["bs=1", "bs=2"], "bs: illegal argument combination or already set"),
    (["if=a", "if=b"], "if: illegal argument combination or already set"),
    (["count=1", "count=1"], "count: illegal argument combination or already set"),
    (["iflag=sync", "iflag=direct"], "iflag: illegal argument combination or already set"),
    (["conv=osync", "bs=2"], "bs: illegal argument combination or already set"),
    (["bs=2", "conv=osync"], "osync: illegal conversion combination"),
    (["conv=nosuch"], "unknown conversion nosuch"),
    (["conv=ucase,"], "unknown conversion "),
    (["conv=ascii,ebcdic"], "ebcdic: illegal conversion combination"),
    (["conv=ibm", "conv=oldascii"], "oldascii: illegal conversion combination"),
    (["conv=lcase,ucase"], "ucase: illegal conversion combination"),
    (["conv=unblock,block"], "block: illegal conversion combination"),
    (["conv=block"], "record operations require cbs"),
    (["conv=unblock"], "record operations require cbs"),
    (["cbs=80"], "cbs meaningless if not doing record operations"),
    (["cbs=0", "conv=block"], "conversion record size 0 is less than 1."),
    (["bs=0"], "block size 0 is less than 1."),
    (["ibs=x"], "input block size `x': illegal number"),
    (["obs=5g"], "output block size 5368709120 is greater than 4294967295."),
    (["count=-1"], "block count -1 is less than 0."),
    (["skip=1q"], "skip blocks `1q': illegal number"),
    (["seek=z"], "seek blocks `z': illegal number"),
    (["files=q"], "file count `q': illegal number"),
    (["progress=q"], "progress blocks `q': illegal number"),
    (["msgfmt=%Q"], "unknown specifier 'Q' in msgfmt string"),
    (["iflag=bogus"], "unknown iflag bogus"),
    (["oflag=sync,bogus"], "unknown oflag bogus"),
])
def test_errors(words, message):
    assert error(*words) == message


def test_first_error_wins():
    assert error("bogus=1", "conv=nosuch") == "unknown operand bogus"


def test_conversion_tables_and_flags():
    assert parse("conv=ibm").table == "ibm"
    assert "ebcdic" in parse("conv=oldibm").flags
    assert "ascii" in parse("conv=oldascii").flags
    a = parse("conv=ucase", "conv=swab,noerror")
    assert a.flags == {"ucase", "swab", "noerror"} and a.table is None
    assert set(CONVERSIONS) == {
        "ascii", "block", "ebcdic", "ibm", "lcase", "noerror", "notrunc", "oldascii",
        "oldebcdic", "oldibm", "osync", "sparse", "swab", "sync", "ucase", "unblock"}


def test_record_conversions():
    a = parse("conv=block", "cbs=80")
    assert a.mode == "block" and a.cbs == 80
    assert parse("conv=unblock", "cbs=8").mode == "unblock"
    assert parse("conv=ascii", "cbs=80").mode == "unblock"      # ascii + cbs implies unblock
    assert parse("conv=ebcdic", "cbs=80").mode == "block"       # ebcdic + cbs implies block
    assert parse("conv=ascii").mode == "def"                    # without cbs: just translate


def test_files_zero_stops_parsing():
    # NetBSD prints the summary and exits at files=0, ignoring what follows.
    a = parse("files=0", "bogus=1")
    assert a.files == 0


def test_ioflags():
    a = parse("iflag=direct,sync", "oflag=creat,append,excl")
    assert a.iflag == ("direct", "sync") and a.oflag == ("creat", "append", "excl")
    assert a.warnings == []
    assert set(IOFLAGS) <= set(NETBSD_OPEN_FLAGS)


def test_ioflag_warnings():
    a = parse("oflag=wronly,rdwr,rdonly,sync")
    assert a.oflag == ("rdonly", "sync")
    assert a.warnings == ["rdonly, rdwr and wronly are ignored for oflag",
                          "rdonly, rdwr and wronly are ignored for oflag",
                          "rdonly set for oflag but makes no sense"]
    a = parse("iflag=append,wronly")
    assert a.iflag == ("append", "wronly")
    assert a.warnings == ["append set for iflag but makes no sense",
                          "wronly set for iflag but makes no sense"]


def test_msgfmt_templates_are_checked_but_kept():
    assert parse("msgfmt=%b bytes%%\n").msgfmt == "%b bytes%%\n"
    assert parse("msgfmt=quiet").msgfmt == "quiet"
    assert parse("msgfmt=trailing %").msgfmt == "trailing %"
