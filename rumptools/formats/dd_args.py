"""dd's operands (``name=value`` words, JCL style) parsed into a DDArgs record.

Pure: nothing is opened.  Follows NetBSD's bin/dd/args.c: the operand and
conversion names, which ones exclude each other, the final sanity checks,
the error texts (without the ``rump.dd: `` prefix, which the command adds)
and the warnings (collected in DDArgs.warnings, printed by the command).

Operands: bs cbs conv count files ibs if iflag iseek (= skip) msgfmt obs of
oflag oseek (= seek) progress seek skip.

``flags`` holds NetBSD's C_* option bits by lower-case name: the operands
given (bs ibs obs cbs count files if of seek skip iflag oflag) and the
conversions (ascii block ebcdic lcase noerror notrunc osync sparse swab sync
ucase unblock; ibm/oldebcdic/oldibm set ebcdic, oldascii sets ascii).
``bs`` stays in flags only when bs= was given and no conversion turned it
off: it means "write each input block as it was read".
"""
from rumptools.abi import syscalls as _abi
from rumptools.formats.dd_summary import MsgfmtError, validate_msgfmt
from rumptools.formats.sizes import INT64_MAX, SizeError, parse_size

UINT_MAX = (1 << 32) - 1


class DDArgsError(ValueError):
    """Bad operands; str() is NetBSD's message (the command exits 1)."""


class DDArgs:
    """The operands of one dd run, with NetBSD's defaults."""

    def __init__(self):
        self.if_name = None         # input file (None: standard input)
        self.of_name = None         # output file (None: standard output)
        self.ibs = 512
        self.obs = 512
        self.cbs = 0                # conversion record size (block/unblock)
        self.count = None           # input blocks to copy; None: to the end
        self.files = 1
        self.skip = 0               # input blocks (of ibs) to skip
        self.seek = 0               # output blocks (of obs) to seek over
        self.progress = 0           # a sign of life every N output blocks
        self.msgfmt = "posix"
        self.table = None           # conv= keyword whose translation table applies
        self.iflag = ("rdonly",)    # open(2) flag names for the input file
        self.oflag = ("creat",)     # open(2) flag names for the output file
        self.flags = set()          # NetBSD's C_* bits by name (see above)
        self.warnings = []          # messages to print, without the program name

    def __repr__(self):
        return "DDArgs(%s)" % ", ".join("%s=%r" % kv for kv in vars(self).items())

    @property
    def mode(self):
        """The conversion routine: "def" (copy/reblock), "block" or "unblock"."""
        if "block" in self.flags:
            return "block"
        if "unblock" in self.flags:
            return "unblock"
        return "def"


# operand -> (flags set, flags that must not be set yet)
OPERANDS = {
    "bs": ({"bs"}, {"bs", "ibs", "obs", "osync"}),
    "cbs": ({"cbs"}, {"cbs"}),
    "conv": (set(), set()),
    "count": ({"count"}, {"count"}),
    "files": ({"files"}, {"files"}),
    "ibs": ({"ibs"}, {"bs", "ibs"}),
    "if": ({"if"}, {"if"}),
    "iflag": ({"iflag"}, {"iflag"}),
    "iseek": ({"skip"}, {"skip"}),
    "msgfmt": (set(), set()),
    "obs": ({"obs"}, {"bs", "obs"}),
    "of": ({"of"}, {"of"}),
    "oflag": ({"oflag"}, {"oflag"}),
    "oseek": ({"seek"}, {"seek"}),
    "progress": (set(), set()),
    "seek": ({"seek"}, {"seek"}),
    "skip": ({"skip"}, {"skip"}),
}

# conv= keyword -> (flag set, flag that must not be set yet, has a translation table)
CONVERSIONS = {
    "ascii": ("ascii", "ebcdic", True),
    "block": ("block", "unblock", False),
    "ebcdic": ("ebcdic", "ascii", True),
    "ibm": ("ebcdic", "ascii", True),
    "lcase": ("lcase", "ucase", False),
    "noerror": ("noerror", None, False),
    "notrunc": ("notrunc", None, False),
    "oldascii": ("ascii", "ebcdic", True),
    "oldebcdic": ("ebcdic", "ascii", True),
    "oldibm": ("ebcdic", "ascii", True),
    "osync": ("osync", "bs", False),
    "sparse": ("sparse", None, False),
    "swab": ("swab", None, False),
    "sync": ("sync", None, False),
    "ucase": ("ucase", "lcase", False),
    "unblock": ("unblock", "block", False),
}

# Conversions that turn off bs='s "one write per read" meaning.
_BS_BREAKERS = {"block", "lcase", "swab", "ucase", "unblock", "osync", "ascii",
                "ebcdic", "sparse"}

# iflag=/oflag= keyword -> where it makes sense ("i", "o", both or neither).
# The open(2) bit values live with the caller (host os or NetBSD's, see
# NETBSD_OPEN_FLAGS), since they differ between the two.
IOFLAGS = {
    "alt_io": "io", "append": "o", "async": "io", "cloexec": "io",
    "creat": "o", "direct": "io", "directory": "", "dsync": "o",
    "excl": "io", "exlock": "io", "noctty": "io", "nofollow": "io",
    "nonblock": "io", "nosigpipe": "io", "rdonly": "i", "rdwr": "i",
    "rsync": "i", "search": "io", "shlock": "io", "sync": "io",
    "trunc": "io", "wronly": "",
}
ACCESS_MODES = ("rdonly", "wronly", "rdwr")

# NetBSD's <sys/fcntl.h> values (abi), for kernels that speak NetBSD numbering:
# the flag word names O_<WORD>.
NETBSD_OPEN_FLAGS = {name: getattr(_abi, "O_" + name.upper()) for name in (
    "rdonly", "wronly", "rdwr", "nonblock", "append", "shlock", "exlock", "async", "sync",
    "nofollow", "creat", "trunc", "excl", "noctty", "dsync", "rsync", "alt_io", "direct",
    "directory", "cloexec", "search", "nosigpipe")}


def parse_operands(argv):
    """Parse dd's operands (argv without the program name) into DDArgs."""
    a = DDArgs()
    flags = a.flags
    for word in argv:
        name, eq, value = word.partition("=")
        if not eq:
            raise DDArgsError("unknown operand %s" % word)
        if not value:
            raise DDArgsError("no value specified for %s" % name)
        if name not in OPERANDS:
            raise DDArgsError("unknown operand %s" % name)
        sets, forbidden = OPERANDS[name]
        if flags & forbidden:
            raise DDArgsError("%s: illegal argument combination or already set" % name)
        flags |= sets
        _apply(a, name, value)
        if name == "files" and a.files == 0:
            # NetBSD prints the (empty) summary and exits right here,
            # without looking at the remaining operands.
            return a

    if "bs" in flags and flags & _BS_BREAKERS:
        # bs= then only sets both block sizes; data is reblocked as usual.
        flags.discard("bs")
        flags |= {"ibs", "obs"}

    if flags & {"block", "unblock"}:
        if "cbs" not in flags:
            raise DDArgsError("record operations require cbs")
    elif "cbs" in flags:
        if "ascii" in flags:
            flags.add("unblock")
        elif "ebcdic" in flags:
            flags.add("block")
        else:
            raise DDArgsError("cbs meaningless if not doing record operations")
    return a


def _size(value, what, lo, hi):
    try:
        return parse_size(value, what, lo, hi)
    except SizeError as exc:
        raise DDArgsError(str(exc)) from None


def _apply(a, name, value):
    if name == "bs":
        a.ibs = a.obs = _size(value, "block size", 1, UINT_MAX)
    elif name == "cbs":
        a.cbs = _size(value, "conversion record size", 1, UINT_MAX)
    elif name == "count":
        a.count = _size(value, "block count", 0, INT64_MAX)
    elif name == "files":
        a.files = _size(value, "file count", 0, UINT_MAX)
    elif name == "ibs":
        if "bs" not in a.flags:
            a.ibs = _size(value, "input block size", 1, UINT_MAX)
    elif name == "obs":
        if "bs" not in a.flags:
            a.obs = _size(value, "output block size", 1, UINT_MAX)
    elif name == "if":
        a.if_name = value
    elif name == "of":
        a.of_name = value
    elif name in ("seek", "oseek"):
        a.seek = _size(value, "seek blocks", 0, INT64_MAX)
    elif name in ("skip", "iseek"):
        a.skip = _size(value, "skip blocks", 0, INT64_MAX)
    elif name == "progress":
        a.progress = _size(value, "progress blocks", 0, INT64_MAX)
    elif name == "msgfmt":
        try:
            validate_msgfmt(value)
        except MsgfmtError as exc:
            raise DDArgsError(str(exc)) from None
        a.msgfmt = value
    elif name == "conv":
        _conv(a, value)
    elif name == "iflag":
        a.iflag = _ioflags(a, value, "i")
    elif name == "oflag":
        a.oflag = _ioflags(a, value, "o")


def _conv(a, value):
    for word in value.split(","):
        if word not in CONVERSIONS:
            raise DDArgsError("unknown conversion %s" % word)
        sets, forbidden, has_table = CONVERSIONS[word]
        if forbidden in a.flags:
            raise DDArgsError("%s: illegal conversion combination" % word)
        a.flags.add(sets)
        if has_table:
            a.table = word


def _ioflags(a, value, kind):
    which = "iflag" if kind == "i" else "oflag"
    chosen = []
    for word in value.split(","):
        if word not in IOFLAGS:
            raise DDArgsError("unknown %s %s" % (which, word))
        # NetBSD tests the access mode bits, and O_RDONLY has none: so only
        # wronly and rdwr get this warning, rdonly the "no sense" one below.
        if kind == "o" and word in ("wronly", "rdwr"):
            a.warnings.append("rdonly, rdwr and wronly are ignored for oflag")
            continue
        if kind not in IOFLAGS[word]:
            a.warnings.append("%s set for %s but makes no sense" % (word, which))
        chosen.append(word)
    return tuple(chosen)
