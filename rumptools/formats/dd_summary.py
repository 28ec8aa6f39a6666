"""dd's statistics and the summary it prints on stderr (exit, SIGINFO/SIGUSR1, SIGINT).

Pure: the caller passes the counters and the elapsed milliseconds and gets
the text back.  Formats (specs/formats.md section 1):

``msgfmt=posix`` (the default)::

    %llu+%llu records in
    %llu+%llu records out
    [%llu odd length swab block|blocks]
    [%llu truncated block|blocks]
    [%llu sparse output block|blocks]
    %llu bytes transferred in %lu.%03d secs (%llu bytes/sec)

``msgfmt=human`` is the same with a last line of
``%b bytes (%B) transferred in %s secs (%e bytes/sec - %E)``;
``msgfmt=quiet`` prints nothing; anything else is a template whose %
specifiers are listed in SPECIFIERS.  Time is counted in whole
milliseconds (at least 1, which is also the divisor of the rate).
"""
SPECIFIERS = {
    "b": "bytes transferred",
    "B": "bytes transferred, humanized",
    "e": "bytes per second",
    "E": "bytes per second, humanized, with /sec",
    "i": "partial input blocks",
    "I": "full input blocks",
    "o": "partial output blocks",
    "O": "full output blocks",
    "s": "elapsed seconds with milliseconds",
    "p": "sparse output blocks",
    "t": "truncated records",
    "w": "odd length swab blocks",
    "P": '"block" or "blocks" for %p',
    "T": '"block" or "blocks" for %t',
    "W": '"block" or "blocks" for %w',
    "%": "a percent sign",
}

_HUMAN = ("%I+%i records in\n%O+%o records out\n", "%w odd length swab %W\n",
          "%t truncated %T\n", "%p sparse output %P\n",
          "%b bytes (%B) transferred in %s secs (%e bytes/sec - %E)\n")


class MsgfmtError(ValueError):
    """An unknown % specifier in a msgfmt template; str() is NetBSD's message."""


class Stats:
    """dd's counters (NetBSD's STAT): blocks, records and bytes moved so far."""

    __slots__ = ("in_full", "in_part", "out_full", "out_part", "swab", "trunc",
                 "sparse", "bytes")

    def __init__(self, in_full=0, in_part=0, out_full=0, out_part=0, swab=0,
                 trunc=0, sparse=0, bytes=0):
        self.in_full = in_full      # full input blocks
        self.in_part = in_part      # partial input blocks
        self.out_full = out_full    # full output blocks
        self.out_part = out_part    # partial output blocks
        self.swab = swab            # odd length swab blocks
        self.trunc = trunc          # truncated records (conv=block)
        self.sparse = sparse        # output blocks skipped by conv=sparse
        self.bytes = bytes          # bytes written (sparse holes included)

    def as_tuple(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other):
        return isinstance(other, Stats) and self.as_tuple() == other.as_tuple()

    def __repr__(self):
        return "Stats(%s)" % ", ".join("%s=%d" % (n, getattr(self, n)) for n in self.__slots__)


def to_ms(ns):
    """A clock reading in nanoseconds as whole milliseconds, rounded like NetBSD's tv2mS."""
    return (ns // 1000 + 500) // 1000


def elapsed_ms(start_ns, now_ns):
    """Milliseconds between two clock readings, never less than 1."""
    ms = to_ms(now_ns) - to_ms(start_ns)
    return ms if ms > 0 else 1


def humanize_number(value, length=7, suffix="B"):
    """NetBSD humanize_number(buf, length, value, suffix, HN_AUTOSCALE, HN_DECIMAL).

    Binary prefixes (K M G T P E), a space before the prefix, one decimal for
    scaled values under 9.95; the result is cut to length-1 characters like
    the C buffer.  Returns "" where the C function fails.
    """
    prefixes = ("", "K", "M", "G", "T", "P", "E")
    maxscale = 7
    int64_max = (1 << 63) - 1
    sign = -1 if value < 0 else 1
    value = abs(value)
    baselen = 3 if sign < 0 else 2          # [sign,] digit, prefix
    post = 1
    if value < int64_max // 100:
        value *= 100
    else:
        post = 100
        baselen += 2
    baselen += 1 + len(suffix)              # separator and suffix
    if length < baselen + 1:
        return ""
    limit = 100 * 10 ** (length - baselen)
    scale = 0
    while value >= limit - 50 and scale < maxscale:
        value //= 1024
        scale += 1
    value *= post
    prefix = prefixes[scale] if scale < len(prefixes) else ""
    if value < 995 and scale > 0:
        if length < baselen + 1 + 2:
            return ""
        tenths = (value + 5) // 10
        text = "%d.%d %s%s" % (sign * (tenths // 10), tenths % 10, prefix, suffix)
    else:
        text = "%d %s%s" % (sign * ((value + 50) // 100), prefix, suffix)
    return text[:length - 1]


def _expand(fmt, st, ms):
    out = []
    i = 0
    n = len(fmt)
    while i < n:
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:                  # a lone trailing % prints nothing
            break
        c = fmt[i]
        i += 1
        rate = st.bytes * 1000 // ms
        if c == "b":
            out.append(str(st.bytes))
        elif c == "B":
            out.append(humanize_number(st.bytes))
        elif c == "e":
            out.append(str(rate))
        elif c == "E":
            out.append(humanize_number(rate) + "/sec")
        elif c == "i":
            out.append(str(st.in_part))
        elif c == "I":
            out.append(str(st.in_full))
        elif c == "o":
            out.append(str(st.out_part))
        elif c == "O":
            out.append(str(st.out_full))
        elif c == "s":
            out.append("%d.%03d" % (ms // 1000, ms % 1000))
        elif c == "p":
            out.append(str(st.sparse))
        elif c == "t":
            out.append(str(st.trunc))
        elif c == "w":
            out.append(str(st.swab))
        elif c == "P":
            out.append("block" if st.sparse == 1 else "blocks")
        elif c == "T":
            out.append("block" if st.trunc == 1 else "blocks")
        elif c == "W":
            out.append("block" if st.swab == 1 else "blocks")
        elif c == "%":
            out.append("%")
        else:
            raise MsgfmtError("unknown specifier '%s' in msgfmt string" % c)
    return "".join(out)


def format_template(fmt, st, ms):
    """Expand a msgfmt template; raises MsgfmtError on an unknown specifier."""
    return _expand(fmt, st, ms)


def validate_msgfmt(fmt):
    """Raise MsgfmtError if fmt is a template with an unknown specifier."""
    if fmt not in ("posix", "human", "quiet"):
        _expand(fmt, Stats(), 1)


def posix_summary(st, ms):
    lines = ["%d+%d records in\n%d+%d records out\n"
             % (st.in_full, st.in_part, st.out_full, st.out_part)]
    if st.swab:
        lines.append("%d odd length swab %s\n" % (st.swab, "block" if st.swab == 1 else "blocks"))
    if st.trunc:
        lines.append("%d truncated %s\n" % (st.trunc, "block" if st.trunc == 1 else "blocks"))
    if st.sparse:
        lines.append("%d sparse output %s\n" % (st.sparse, "block" if st.sparse == 1 else "blocks"))
    lines.append("%d bytes transferred in %d.%03d secs (%d bytes/sec)\n"
                 % (st.bytes, ms // 1000, ms % 1000, st.bytes * 1000 // ms))
    return "".join(lines)


def human_summary(st, ms):
    parts = [_expand(_HUMAN[0], st, ms)]
    if st.swab:
        parts.append(_expand(_HUMAN[1], st, ms))
    if st.trunc:
        parts.append(_expand(_HUMAN[2], st, ms))
    if st.sparse:
        parts.append(_expand(_HUMAN[3], st, ms))
    parts.append(_expand(_HUMAN[4], st, ms))
    return "".join(parts)


def render(msgfmt, st, ms, progress=False):
    """The whole summary text for msgfmt.

    progress tells that progress dots were being printed: NetBSD then starts
    the summary with a newline (and the posix format adds one more of its own).
    """
    lead = "\n" if progress else ""
    if msgfmt == "posix":
        return lead + lead + posix_summary(st, ms)
    if msgfmt == "human":
        return lead + human_summary(st, ms)
    if msgfmt == "quiet":
        return lead
    return lead + _expand(msgfmt, st, ms)
