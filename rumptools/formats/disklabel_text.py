"""The text form of a NetBSD disklabel: what `disklabel disk` prints and what
`disklabel -e` / `-R protofile` read back, plus the label sanity check.

Pure: strings and Label objects only.  The text is one `key: value` per line
(header), a `N partitions:` line, a column header and one line per non-empty
partition:

     a:    981792        63     4.2BSD   1024  8192     0  # (Cyl.      0*-    974*)

i.e. letter, size, offset (sectors), fstype name, then type-specific fields
(fsize bsize cpg for FFS).  `#` starts a comment; the cylinder range printed
after it is informational only.  Messages follow disklabel(8): parse errors
are `line N: ...`; check_label() returns warnings and errors (an error means
the label must not be written).
"""
import re

from . import disklabel as dl


class Complaint(str):
    """A message about a label; .error is true when the label is unusable."""

    def __new__(cls, text, error=False):
        self = super().__new__(cls, text)
        self.error = error
        return self


class LabelTextError(dl.DisklabelError):
    """The text has errors; .messages lists every complaint in order."""

    def __init__(self, messages):
        self.messages = list(messages)
        super().__init__("\n".join(m for m in self.messages if m.error))


def _name(raw):
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------- printing

def _partition_line(label, letter, p):
    out = [" %s: %9u %9u " % (letter, p.size, p.offset)]
    t = p.fstype
    out.append("%10.10s" % dl.FSTYPENAMES[t] if t < len(dl.FSTYPENAMES) else "%10u" % t)
    if t == dl.FS_UNUSED:
        out.append("  %5u %5u %5.5s " % (p.fsize, p.bsize, ""))
    elif t in (dl.FS_BSDFFS, dl.FS_ADOS, dl.FS_APPLEUFS, dl.FS_BSDLFS):
        out.append("  %5u %5u %5u " % (p.fsize, p.bsize, p.cpg))
    elif t == dl.FS_EX2FS:
        out.append("  %5u %5u       " % (p.fsize, p.bsize))
    elif t == dl.FS_ISO9660:
        out.append("  %6u            " % p.fsize)
    else:
        out.append(" " * 20)
    spc, unit = label.secpercyl, label.secperunit
    if spc:
        out.append(" # (Cyl. %6u" % (p.offset // spc))
        out.append("+" if p.offset > unit else "*" if p.offset % spc else " ")
        out.append("- %6u" % ((p.end + spc - 1) // spc - 1))
        out.append("+" if p.end > unit else "*" if p.end % spc else "")
        out.append(")")
    return "".join(out) + "\n"


def format_label(label, diskname):
    """The text `disklabel diskname` prints for label (header, a blank line,
    the partition table)."""
    lines = ["# %s:\n" % diskname]
    if label.type < len(dl.DKTYPENAMES):
        lines.append("type: %s\n" % dl.DKTYPENAMES[label.type])
    else:
        lines.append("type: %u\n" % label.type)
    lines.append("disk: %s\n" % _name(label.typename))
    lines.append("label: %s\n" % _name(label.packname))
    flags = "".join(word for bit, word in ((dl.D_REMOVABLE, " removable"),
                                           (dl.D_ECC, " ecc"),
                                           (dl.D_BADSECT, " badsect"))
                    if label.flags & bit)
    lines.append("flags:%s\n" % flags)
    for key, value in (("bytes/sector", label.secsize),
                       ("sectors/track", label.nsectors),
                       ("tracks/cylinder", label.ntracks),
                       ("sectors/cylinder", label.secpercyl),
                       ("cylinders", label.ncylinders),
                       ("total sectors", label.secperunit),
                       ("rpm", label.rpm),
                       ("interleave", label.interleave),
                       ("trackskew", label.trackskew),
                       ("cylinderskew", label.cylskew)):
        lines.append("%s: %u\n" % (key, value))
    lines.append("headswitch: %u\t\t# microseconds\n" % label.headswitch)
    lines.append("track-to-track seek: %u\t# microseconds\n" % label.trkseek)
    last = max([i for i, v in enumerate(label.drivedata) if v] or [0])
    lines.append("drivedata: %s\n" % "".join("%u " % v for v in label.drivedata[:last + 1]))
    lines.append("\n")
    lines.append("%u partitions:\n" % label.npartitions)
    lines.append("#        size    offset     fstype [fsize bsize cpg/sgs]\n")
    for i, p in enumerate(label.partitions):
        if p.size:
            lines.append(_partition_line(label, chr(ord("a") + i), p))
    return "".join(lines)


# ---------------------------------------------------------------- checking

def check_label(label):
    """Warnings and errors about label, in disklabel(8)'s words.

    Zero sectors/cylinder or total sectors are taken as computed from the
    geometry (the parser fills them in the same way).  Overlaps are only
    warnings, and only between partitions whose fstype is not `unused`.
    """
    out = []

    def warn(text):
        out.append(Complaint(text))

    def error(text):
        out.append(Complaint(text, error=True))

    if label.secsize == 0:
        error("sector size 0")
        return out
    if label.nsectors == 0:
        error("sectors/track 0")
        return out
    if label.ntracks == 0:
        error("tracks/cylinder 0")
        return out
    if label.ncylinders == 0:
        error("cylinders/unit 0")
    if label.rpm == 0:
        warn("warning, revolutions/minute 0")
    spc = label.secpercyl or label.nsectors * label.ntracks
    unit = label.secperunit or spc * label.ncylinders
    for what, value in (("boot block", label.bbsize), ("super block", label.sbsize)):
        if value == 0:
            error("%s size 0" % what)
        elif value % label.secsize:
            warn("warning, %s size %% sector-size != 0" % what)
    if label.npartitions > dl.MAXPARTITIONS:
        warn("warning, number of partitions (%d) > MAXPARTITIONS (%d)"
             % (label.npartitions, dl.MAXPARTITIONS))
    parts = label.partitions
    for i, p in enumerate(parts):
        letter = chr(ord("a") + i)
        if p.size == 0 and p.offset != 0:
            warn("warning, partition %s: size 0, but offset %u" % (letter, p.offset))
        if p.offset > unit:
            error("partition %s: offset past end of unit" % letter)
        if p.end > unit:
            error("partition %s: partition extends past end of unit" % letter)
        if p.fstype == dl.FS_UNUSED or p.size == 0:
            continue
        for j in range(i + 1, len(parts)):
            q = parts[j]
            if q.fstype == dl.FS_UNUSED or q.size == 0:
                continue
            if p.offset < q.end and q.offset < p.end:
                warn("partitions %s and %s overlap" % (letter, chr(ord("a") + j)))
    return out


# ---------------------------------------------------------------- parsing

# header key -> (Label attribute, largest value)
_NUMERIC = {
    "bytes/sector": ("secsize", 0xFFFFFFFF),
    "sectors/track": ("nsectors", 0xFFFFFFFF),
    "tracks/cylinder": ("ntracks", 0xFFFFFFFF),
    "sectors/cylinder": ("secpercyl", 0xFFFFFFFF),
    "cylinders": ("ncylinders", 0xFFFFFFFF),
    "total sectors": ("secperunit", 0xFFFFFFFF),
    "sectors/unit": ("secperunit", 0xFFFFFFFF),
    "rpm": ("rpm", 0xFFFF),
    "interleave": ("interleave", 0xFFFF),
    "trackskew": ("trackskew", 0xFFFF),
    "cylinderskew": ("cylskew", 0xFFFF),
    "headswitch": ("headswitch", 0xFFFFFFFF),
    "track-to-track seek": ("trkseek", 0xFFFFFFFF),
}
_NOT_IN_TEXT = ("subtype", "sparespertrack", "sparespercyl", "acylinders", "spare", "swapped")
_FLAGS = {"removable": dl.D_REMOVABLE, "ecc": dl.D_ECC, "badsect": dl.D_BADSECT}
_NPARTS = re.compile(r"([-+]?[0-9]+)[ \t]+partitions\Z")
_DIGITS = re.compile(r"[0-9]+\Z")
# fstypes that take [fsize bsize cpg] after the name, and how many numbers
_FS_FIELDS = {dl.FS_UNUSED: 2, dl.FS_BSDFFS: 3, dl.FS_ADOS: 3, dl.FS_APPLEUFS: 3,
              dl.FS_BSDLFS: 3, dl.FS_EX2FS: 2, dl.FS_ISO9660: 1}


class _Bad(Exception):
    """One line is wrong; the message is already worded."""


def _number(token, limit):
    if token is None or not _DIGITS.match(token) or int(token) > limit:
        return None
    return int(token)


def _split_word(rest):
    """First whitespace-separated word of rest and what follows it."""
    parts = rest.split(None, 1) if rest else []
    if not parts:
        return None, ""
    return parts[0], (parts[1] if len(parts) > 1 else "")


def _sectors(token, label):
    """A size or offset: sectors, or cyl/track[/sector] in the current geometry."""
    pieces = token.split("/")
    if len(pieces) > 3 or not all(_DIGITS.match(x) for x in pieces):
        return None
    value = int(pieces[0])
    if len(pieces) > 1:
        value = value * label.secpercyl + int(pieces[1]) * label.nsectors
    if len(pieces) > 2:
        value += int(pieces[2])
    return value if value <= 0xFFFFFFFF else None


def _fstype(rest):
    """Match a file system type name (names may hold blanks) at rest's start."""
    best = None
    for number, name in enumerate(dl.FSTYPENAMES):
        if rest.startswith(name) and rest[len(name):len(name) + 1] in ("", " ", "\t"):
            if best is None or len(name) > len(dl.FSTYPENAMES[best]):
                best = number
    if best is None:
        return None, rest
    return best, rest[len(dl.FSTYPENAMES[best]):]


def _parse_partition(lineno, value, label, warn):
    """Parse `size offset fstype [fields]` into a new Partition."""
    p = dl.Partition()
    for what in ("size", "offset"):
        token, value = _split_word(value)
        if token is None:
            raise _Bad("line %d: too few numeric fields" % lineno)
        number = _sectors(token, label)
        if number is None:
            raise _Bad("line %d: bad partition %s: %s" % (lineno, what, token))
        setattr(p, what, number)
    value = value.lstrip(" \t")
    if not value:
        raise _Bad("line %d: too few fields" % lineno)
    fstype, value = _fstype(value)
    if fstype is None:
        token, value = _split_word(value)
        if _DIGITS.match(token):
            fstype = _number(token, 0xFF)
            if fstype is None:
                raise _Bad("line %d: bad file system type: %s" % (lineno, token))
            if fstype >= len(dl.FSTYPENAMES):
                warn("line %d: warning, unknown file system type: %s" % (lineno, token))
        else:
            warn("line %d: warning, unknown file system type: %s" % (lineno, token))
            warn("tip: use -l to see all valid file system types")
            fstype = dl.FS_UNUSED
    p.fstype = fstype
    wanted = _FS_FIELDS.get(fstype, 0)
    if fstype == dl.FS_UNUSED and not value.strip():
        wanted = 0                      # fsize and bsize are optional here
    numbers = []
    for what in ("fsize", "bsize", "cpg")[:wanted]:
        token, value = _split_word(value)
        if token is None:
            raise _Bad("line %d: too few numeric fields" % lineno)
        number = _number(token, 0xFFFF if what == "cpg" else 0xFFFFFFFF)
        if number is None:
            raise _Bad("line %d: bad %s: %s" % (lineno, what, token))
        numbers.append(number)
        if what == "fsize" and number == 0:
            break                       # no block size without a fragment size
    if numbers:
        p.fsize = numbers[0]
    if len(numbers) > 1:
        if numbers[1] // p.fsize > 0xFF:
            raise _Bad("line %d: bad bsize: %u" % (lineno, numbers[1]))
        p.frag = numbers[1] // p.fsize
    if len(numbers) > 2:
        p.cpg = numbers[2]
    return p


def _parse_header(lineno, key, value, label, warn):
    """Apply one `key: value` header line to label; False if key is not a header key."""
    if key == "type":
        value = value or "unknown"
        for number, name in enumerate(dl.DKTYPENAMES):
            if name.lower() == value.lower():
                label.type = number
                return True
        number = _number(value, 0xFFFF)
        if number is None:
            raise _Bad("line %d: syntax error" % lineno)
        label.type = number
        if number >= len(dl.DKTYPENAMES):
            warn("line %d: warning, unknown disk type: %s" % (lineno, value))
        return True
    if key == "flags":
        bits = 0
        for word in (value or "").split():
            if word.lower() not in _FLAGS:
                raise _Bad("line %d: bad flag: %s" % (lineno, word))
            bits |= _FLAGS[word.lower()]
        label.flags = bits
        return True
    if key == "drivedata":
        data = list(label.drivedata)
        for i, word in enumerate((value or "").split()[:dl.NDDATA]):
            number = _number(word, 0xFFFFFFFF)
            if number is None:
                raise _Bad("line %d: bad drive data" % lineno)
            data[i] = number
        label.drivedata = tuple(data)
        return True
    if key in ("disk", "label"):
        raw = (value or "").rstrip().encode("utf-8", "surrogateescape")[:16]
        setattr(label, "typename" if key == "disk" else "packname", raw)
        return True
    if key in _NUMERIC:
        attr, limit = _NUMERIC[key]
        number = _number((value or "").strip(), limit)
        if number is None or (attr in ("secsize", "interleave") and
                              (number == 0 or attr == "secsize" and number % 512)):
            raise _Bad("line %d: bad %s: %s" % (lineno, key, value or ""))
        setattr(label, attr, number)
        return True
    return False


def parse_label(text, base=None, report=None):
    """Build a Label from disklabel text (the -e buffer or a -R protofile).

    The fields the text form cannot express (subtype, spares, alternate
    cylinders, d_spare, byte order) are taken from base; everything else
    starts at zero, as in disklabel(8), so a line left out is a zero value
    (and an emptied buffer an unusable label).  Boot and super block
    sizes are set to 8192, zero sectors/cylinder and total sectors are
    computed from the geometry, and the result is checked with check_label().
    report(Complaint) is called for each message as it is found; when any is
    an error, LabelTextError carrying all of them is raised.
    """
    label = dl.Label()
    if base is not None:
        for name in _NOT_IN_TEXT:
            setattr(label, name, getattr(base, name))
    label.bbsize, label.sbsize = dl.BBSIZE, dl.SBLOCKSIZE
    slots = [None] * dl.MAXPARTITIONS
    declared = 0
    messages = []

    def say(text, error=False):
        m = Complaint(text, error)
        messages.append(m)
        if report is not None:
            report(m)

    for lineno, line in enumerate(text.split("\n"), 1):
        line = re.split(r"[#\r]", line, maxsplit=1)[0].strip(" \t\v\f")
        if not line:
            continue
        if ":" not in line:
            say("line %d: syntax error" % lineno, True)
            continue
        key, value = line.split(":", 1)
        value = value.lstrip(" \t") or None
        try:
            m = _NPARTS.match(key)
            if m:
                n = int(m.group(1))
                if not 0 < n <= dl.MAXPARTITIONS:
                    declared = dl.MAXPARTITIONS
                    raise _Bad("line %d: bad # of partitions" % lineno)
                declared = n
                continue
            if _parse_header(lineno, key, value, label, say):
                continue
            if len(key) != 1 or not "a" <= key <= "z":
                raise _Bad("line %d: unknown field: %s" % (lineno, key))
            index = ord(key) - ord("a")
            if index >= dl.MAXPARTITIONS:
                raise _Bad("line %d: bad partition name: %s" % (lineno, key))
            slots[index] = _parse_partition(lineno, value, label, say)
        except _Bad as e:
            say(str(e), True)

    if label.secpercyl == 0:
        label.secpercyl = label.nsectors * label.ntracks
    if label.secperunit == 0:
        label.secperunit = label.secpercyl * label.ncylinders
    used = [i for i, p in enumerate(slots) if p is not None and (p.size or p.offset)]
    if used and used[-1] >= declared:
        if declared:
            say("warning, partition %s increased number of partitions from %d to %d"
                % (chr(ord("a") + used[-1]), declared, used[-1] + 1))
        declared = used[-1] + 1
    label.partitions = [p or dl.Partition() for p in slots[:declared]]
    for m in check_label(label):
        say(m, m.error)
    if any(m.error for m in messages):
        raise LabelTextError(messages)
    return label
