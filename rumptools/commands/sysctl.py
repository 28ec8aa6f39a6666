"""rump.sysctl: read and write a rump kernel's sysctl variables, printed as NetBSD's sysctl does.

The rules are those of NetBSD's sbin/sysctl: a name that does not exist
stops the command (`second level name 'x' in 'kern.x' is invalid`); a
failed write stops it with `name: strerror`; a subtree is listed in node
number order, with empty subtrees and structures skipped unless asked for
by name; kern.clockrate, kern.boottime and proc.*.rlimit.* have their own
formats.  With -f the errors name the file and line and do not stop it.
"""
import re
import struct
import sys
import time

import click

from . import _cli
from ..abi import errnos
from ..abi.syscalls import SYSCTL_DESCRIBE, SYSCTL_READ, SYSCTL_WRITE

USAGE = ("usage:\t%s [-dneq] [-x[x]|-r] variable ...\n"
         "\t%s [-ne] [-q] -w variable=value ...\n"
         "\t%s [-dne] -a\n"
         "\t%s [-dne] -A\n"
         "\t%s [-ne] -M\n"
         "\t%s [-dne] [-q] -f file")
LEVELS = ("top", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
          "eleventh", "twelfth")
F_HEX, F_UNSIGNED = 2, 4
RLIM_INFINITY = (1 << 63) - 1
RLIMIT_RE = re.compile(r"proc\.[^.]+\.rlimit\.[^.]+\.[^.]+")
SIZES = {"int": 4, "quad": 8, "bool": 1}
# Empty nodes that sysctl(8) explains when asked for by name (its printother hints).
HINTS = {"debug": "missing 'options DEBUG' from kernel?", "ddb": "missing 'options DDB' from kernel?",
         "vendor": "no vendor extensions installed"}
SOFT_ERRORS = (errnos.ENOENT, errnos.ENOPROTOOPT, errnos.ENOTDIR, errnos.EINVAL, errnos.EOPNOTSUPP,
               errnos.EPROTONOSUPPORT)


class Stop(Exception):
    """EXIT(1) in NetBSD's sysctl: exit now, or (with -f) go on with the next line."""


def parse_c_integer(text):
    """An integer as strtol(3) with base 0 reads it: 0x hex, leading 0 octal, else decimal."""
    t = text.strip()
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    if not t or "_" in t:
        raise ValueError(text)
    if t[:2].lower() == "0x":
        return sign * int(t[2:], 16)
    if len(t) > 1 and t[0] == "0":
        return sign * int(t[1:], 8)
    return sign * int(t, 10)


def hex_dump(data):
    """sysctl -xx: offset, 16 bytes in hex and as text, then the byte count."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        line = [" "] * 78
        line[0:7] = "%07x" % off
        for j, b in enumerate(chunk):
            line[9 + j * 3:11 + j * 3] = "%02x" % b
            line[60 + j] = chr(b) if 32 <= b < 127 else "."
        line[58], line[77] = "|", "|"
        lines.append("".join(line))
    lines.append("%07d bytes" % len(data))
    return "\n".join(lines) + "\n"


class Printer:
    def __init__(self, client, opts):
        self.c = client
        self.o = opts
        self.errs = 0
        self.req = False
        self.where = ""         # "file#line: " while reading -f
        self.out = []

    # -- output ------------------------------------------------------------
    def put(self, text):
        self.out.append(text)

    def flush(self):
        if self.out:
            sys.stdout.write("".join(self.out))
            self.out = []
        sys.stdout.flush()

    def perror(self, msg):
        """sysctlperror: to stderr (stdout with -A), counted as an error."""
        self.errs += 1
        if self.o["all_unavail"]:
            self.put("%s: %s%s\n" % (_cli.progname(), self.where, msg))
            return
        self.flush()
        sys.stderr.write("%s: %s%s\n" % (_cli.progname(), self.where, msg))
        sys.stderr.flush()

    def sysctlerror(self, name, exc, soft):
        e = exc.errno if isinstance(exc, errnos.RumpError) else errnos.from_host(exc.errno or 5)
        text = errnos.host_text(exc)
        if soft and e in SOFT_ERRORS:
            if self.o["all_unavail"] or self.req:
                self.perror("%s: the value is not available (%s)" % (name, text))
            return
        if self.o["all_unavail"] or self.req:
            self.perror("%s: %s" % (name, text))
        if not soft:
            raise Stop()

    # -- values ------------------------------------------------------------
    def raw_bytes(self, kind, value):
        if kind == "string":
            return value.encode("utf-8", "surrogateescape") + b"\0"
        if kind == "bool":
            return bytes([1 if value else 0])
        if kind == "int":
            return struct.pack("<I", value & 0xFFFFFFFF)
        if kind == "quad":
            return struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF)
        return bytes(value)

    def text_of(self, kind, value, flags):
        x = self.o["hex"]
        if kind == "string":
            if x:
                data = self.raw_bytes(kind, value)
                return "".join("%02x" % b for b in data[:data.index(0) + 1])
            if flags & F_HEX:
                return "".join("\\x%02x" % b for b in value.encode("utf-8", "surrogateescape"))
            return value
        size = SIZES[kind]
        if kind == "bool":
            value = 1 if value else 0
        elif kind == "int":
            value &= 0xFFFFFFFF
            if not (x or flags & (F_HEX | F_UNSIGNED)) and value >= 1 << 31:
                value -= 1 << 32
        else:
            value &= 0xFFFFFFFFFFFFFFFF
        if x:
            return "0x%0*x" % (size * 2, value)
        if flags & F_HEX:
            return "%#x" % value
        return "%d" % value

    def display(self, name, kind, value, flags, mode="value"):
        """display_number/display_string: mode is value, old (name: old -> ) or new."""
        o = self.o
        if o["quiet"] or ((o["names_only"] or o["raw"]) and mode == "old"):
            return
        if o["raw"]:
            self.flush()
            sys.stdout.buffer.write(self.raw_bytes(kind, value))
            sys.stdout.buffer.flush()
            return
        head = ""
        if not o["names_only"]:
            head = name + ("=" if o["equals"] else " = ") if mode == "value" else (name + ": " if mode == "old" else "")
        if o["hex"] > 1:
            self.put(head + ("\n" if mode != "new" else "") + hex_dump(self.raw_bytes(kind, value)))
            return
        self.put(head + self.text_of(kind, value, flags) + (" -> " if mode == "old" else "\n"))

    def display_struct(self, name, data):
        o = self.o
        if o["quiet"]:
            return
        if not (o["hex"] or o["raw"]):
            if o["all_unavail"] or self.req:
                self.perror("%s: this type is unknown to this program" % name)
            return
        if o["raw"]:
            self.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        head = "" if o["names_only"] else name + ("=" if o["equals"] else " = ")
        if o["hex"] > 1:
            self.put(head + "\n" + hex_dump(data))
            return
        more = len(data) - 16
        self.put(head + "".join("%02x" % b for b in data[:16])
                 + ("...(%d more bytes)" % more if more > 0 else "") + "\n")

    # -- special nodes (sysctl(8)'s handlers) --------------------------------
    def special(self, name, value):
        o = self.o
        if name == "kern.clockrate":
            data = struct.pack("<5i", *value)
            if o["hex"] or o["raw"]:
                self.display_struct(name, data)
                return True
            if not o["quiet"]:
                self.put(("" if o["names_only"] else name + ": ")
                         + "tick = %d, tickadj = %d, hz = %d, profhz = %d, stathz = %d\n" % tuple(value))
            return True
        if name == "kern.boottime":
            sec, usec = value
            if o["hex"] or o["raw"]:
                self.display_struct(name, struct.pack("<qq", sec, usec))
                return True
            if o["quiet"]:
                return True
            if not o["names_only"]:
                self.put(name + ("=" if o["equals"] else " = ") + time.ctime(sec) + "\n")
            elif o["names_only"] == 1:
                self.put("%d\n" % sec)
            else:
                self.put("%d.%06d\n" % (sec, usec))
            return True
        return False

    # -- reading -------------------------------------------------------------
    def bad_name(self, name, exc):
        """The level at which a dotted name stops existing, as sysctl reports it."""
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            try:
                kind = self.c.sysctl(".".join(parts[:depth]), SYSCTL_READ, None)[0]
            except OSError:
                break
            if kind != "node" and depth < len(parts):
                depth += 1
                break
        else:
            return "%s: %s" % (name, _cli.syscall_error(None, exc))
        level = LEVELS[depth - 1] if depth <= len(LEVELS) else "%dth" % depth
        return "%s level name '%s' in '%s' is invalid" % (level, parts[depth - 1], name)

    def show(self, name, top=False):
        """print_tree: a leaf, or every leaf under a node (req only for the named one)."""
        try:
            kind, value, flags = self.c.sysctl(name, SYSCTL_READ, None)
        except OSError as e:
            self.sysctlerror(name, e, True)
            return
        o = self.o
        if o["describe"] and name and (o["all_unavail"] or kind != "node"):
            self.describe(name, top)
            if kind != "node":
                return
        if kind == "node":
            if not value:
                if name in HINTS and (o["all_unavail"] or self.req):
                    self.perror("%s: %s" % (name, HINTS[name]))
                elif (o["all_unavail"] or self.req) and not o["describe"]:
                    self.put("%s: no children\n" % name)
                return
            self.req = False
            for child in value:
                self.show(name + "." + child if name else child)
            return
        if self.special(name, value):
            return
        if kind == "struct":
            self.display_struct(name, bytes(value))
        elif kind == "quad" and RLIMIT_RE.fullmatch(name) and value == RLIM_INFINITY \
                and not (o["hex"] or o["raw"]):
            self.display(name, "string", "unlimited", 0)
        else:
            self.display(name, kind, value, flags)

    def describe(self, name, top):
        try:
            _kind, desc, _flags = self.c.sysctl(name, SYSCTL_DESCRIBE, None)
        except OSError:
            desc = ""
        if self.o["all_unavail"] or top or desc:
            self.put(("" if self.o["names_only"] else name + ": ") + (desc or "(no description)") + "\n")

    # -- one request -----------------------------------------------------------
    def parse(self, line):
        self.req = True
        key, eq, value = line.partition("=")
        optional = False
        if eq and key.endswith("?"):
            key, optional = key[:-1], True
        if not eq:
            value = None
        if not key:                     # the root is not a name
            if self.o["quiet"]:
                self.errs += 1
            else:
                self.perror("top level name '' in '%s' is invalid" % key)
            raise Stop()
        try:
            kind, _v, flags = self.c.sysctl(key, SYSCTL_READ, None)
        except OSError as e:
            if optional:
                return
            if isinstance(e, errnos.RumpError) and e.errno in (errnos.ENOENT, errnos.ENOTDIR):
                if self.o["quiet"]:
                    self.errs += 1
                else:
                    self.perror(self.bad_name(key, e))
                raise Stop()
            self.sysctlerror(key, e, value is None)
            return
        if value is None:
            self.show(key, top=True)
            return
        if self.o["file"]:
            value = value.lstrip()
        if not self.o["write"]:
            self.perror("Must specify -w to set variables")
            sys.exit(1)
        if kind == "node":
            self.show(key)
        elif kind == "struct":
            self.show(key, top=True)
        else:
            self.write(key, kind, flags, value, optional)

    def write(self, name, kind, flags, text, optional):
        if self.o["file"]:
            text = text.strip()
        limit = kind == "quad" and RLIMIT_RE.fullmatch(name)
        if kind == "string":
            new = text
        elif limit and text == "unlimited":
            new = RLIM_INFINITY
        else:
            try:
                new = parse_c_integer(text) if text.strip() == text else None
            except ValueError:
                new = None
            if new is None:
                self.perror("%s: '%s' is not a valid limit" % (name, text) if limit
                            else "%s: not a number" % text)
                raise Stop()
            if new < 0:
                new &= 0xFFFFFFFFFFFFFFFF           # strtouq(3) takes negative numbers modulo 2^64
            if new >> 64:
                self.perror("%s: %s" % (text, errnos.strerror(errnos.ERANGE)))
                raise Stop()
            if kind == "int":
                high = new >> 32
                if high not in (0, 0xFFFFFFFF):
                    self.perror("%s: %s" % (text, errnos.strerror(errnos.ERANGE)))
                    raise Stop()
                new &= 0xFFFFFFFF
                if new >= 1 << 31 and not flags & F_UNSIGNED:
                    new -= 1 << 32
            elif kind == "bool":
                new = 1 if new else 0
        try:
            kind, old, flags = self.c.sysctl(name, SYSCTL_WRITE, new)
        except OSError as e:
            if optional and isinstance(e, errnos.RumpError) and e.errno == errnos.EPERM:
                return
            self.sysctlerror(name, e, False)
            return
        if limit and not (self.o["hex"] or self.o["raw"]):
            for v, mode in ((old, "old"), (new, "new")):
                if v == RLIM_INFINITY:
                    self.display(name, "string", "unlimited", 0, mode)
                else:
                    self.display(name, kind, v, flags, mode)
            return
        self.display(name, kind, old, flags, "old")
        self.display(name, kind, new, flags, "new")


def _file_lines(path):
    """fparseln(3): lines without comments, backslash-continued lines joined; (line number, text)."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            raw = f.read().split("\n")
    except OSError as e:
        _cli.die("%s: %s" % (path, errnos.host_text(e)))
    nr, pending = 0, ""
    for line in raw:
        nr += 1
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        text = (pending + line).split("#", 1)[0].strip()
        pending = ""
        if text:
            yield nr, text


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE,
               context_settings={"allow_interspersed_args": False})     # getopt: options first
@click.option("-a", "all_", is_flag=True)
@click.option("-A", "all_unavail", is_flag=True)
@click.option("-b", "raw_b", is_flag=True, hidden=True)
@click.option("-d", "describe", is_flag=True)
@click.option("-e", "equals", is_flag=True)
@click.option("-f", "file", metavar="file")
@click.option("-M", "mib", is_flag=True)
@click.option("-n", "names_only", count=True)
@click.option("-q", "quiet", is_flag=True)
@click.option("-r", "raw", is_flag=True)
@click.option("-w", "write", is_flag=True)
@click.option("-x", "hex", count=True)
@click.argument("names", nargs=-1)
def cmd(**o):
    names = list(o["names"])
    o["raw"] = o["raw"] or o["raw_b"]
    if o["file"]:
        o["write"] = True
    if (o["hex"] and o["raw"]) or ((o["all_"] or o["all_unavail"]) and o["quiet"]):
        _cli.NetBSDCommand.usage(cmd)
    if (o["all_unavail"] or o["mib"] or o["describe"]) and not names and not o["file"]:
        o["all_"] = True
    if not names and not o["all_"] and not o["file"]:
        _cli.NetBSDCommand.usage(cmd)
    client = _cli.connect()
    if o["mib"]:
        _cli.die("-M: MIB numbers are not sent by this kernel's protocol; use names")
    p = Printer(client, o)
    try:
        if o["all_"]:
            p.show("")
            p.flush()
            sys.exit(0)         # sysctl -a exits 0 whatever it met
        elif o["file"]:
            for nr, line in _file_lines(o["file"]):
                p.where = "%s#%d: " % (o["file"], nr)
                try:
                    p.parse(line)
                except Stop:
                    pass
        else:
            for name in names:
                p.parse(name)
    except Stop:
        p.flush()
        sys.exit(1)
    p.flush()
    sys.exit(1 if p.errs else 0)


def main():
    cmd.main()


if __name__ == "__main__":
    main()
