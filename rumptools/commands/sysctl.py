"""rump.sysctl: read and write a rump kernel's sysctl variables, printed as NetBSD's sysctl does.

The rules are those of NetBSD's sbin/sysctl: a name that does not exist
stops the command (`second level name 'x' in 'kern.x' is invalid`); a
failed write stops it with `name: strerror`; a subtree is listed in node
number order, with empty subtrees and structures skipped unless asked for
by name; kern.clockrate, kern.boottime and proc.*.rlimit.* have their own
formats.  With -f the errors name the file and line and do not stop it.
"""
import re
import sys

import click

from . import _cli
from ..abi import errnos
from ..abi.syscalls import SYSCTL_DESCRIBE, SYSCTL_READ, SYSCTL_WRITE
from ..formats import sysctl_text as fmt
from ..formats.sysctl_text import RLIM_INFINITY

parse_c_integer = fmt.parse_c_integer       # where it used to live

USAGE = ("usage:\t%s [-dneq] [-x[x]|-r] variable ...\n"
         "\t%s [-ne] [-q] -w variable=value ...\n"
         "\t%s [-dne] -a\n"
         "\t%s [-dne] -A\n"
         "\t%s [-ne] -M\n"
         "\t%s [-dne] [-q] -f file")
LEVELS = ("top", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
          "eleventh", "twelfth")
RLIMIT_RE = re.compile(r"proc\.[^.]+\.rlimit\.[^.]+\.[^.]+")
# Empty nodes that sysctl(8) explains when asked for by name (its printother hints).
HINTS = {"debug": "missing 'options DEBUG' from kernel?", "ddb": "missing 'options DDB' from kernel?",
         "vendor": "no vendor extensions installed"}
SOFT_ERRORS = (errnos.ENOENT, errnos.ENOPROTOOPT, errnos.ENOTDIR, errnos.EINVAL, errnos.EOPNOTSUPP,
               errnos.EPROTONOSUPPORT)



def struct_bytes(value):
    """A struct node's bytes: as given, or a tuple of counters (net.inet.*.stats) as NetBSD's
    u64 array; rows of a pcb list have no byte form here (empty)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (tuple, list)) and all(type(x) is int for x in value):
        return b"".join((x & 0xffffffffffffffff).to_bytes(8, "little") for x in value)
    return b""

class Stop(Exception):
    """EXIT(1) in NetBSD's sysctl: exit now, or (with -f) go on with the next line."""


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
            text = "".join(self.out)
            buf = getattr(sys.stdout, "buffer", None)
            if buf is None:
                sys.stdout.write(text)
            else:                       # string values are bytes: print them as they are
                sys.stdout.flush()
                buf.write(text.encode("utf-8", "surrogateescape"))
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

    def display(self, name, kind, value, flags, mode="value"):
        """display_number/display_string: mode is value, old (name: old -> ) or new."""
        o = self.o
        if o["quiet"] or ((o["names_only"] or o["raw"]) and mode == "old"):
            return
        if o["raw"]:
            self.flush()
            sys.stdout.buffer.write(fmt.raw_bytes(kind, value))
            sys.stdout.buffer.flush()
            return
        head = ""
        if not o["names_only"]:
            head = name + ("=" if o["equals"] else " = ") if mode == "value" else (name + ": " if mode == "old" else "")
        if o["hex"] > 1:
            self.put(head + ("\n" if mode != "new" else "") + fmt.hex_dump(fmt.raw_bytes(kind, value)))
            return
        self.put(head + fmt.value_text(kind, value, flags, o["hex"]) + (" -> " if mode == "old" else "\n"))

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
            self.put(head + "\n" + fmt.hex_dump(data))
            return
        self.put(head + fmt.struct_text(data) + "\n")

    # -- special nodes (sysctl(8)'s handlers) --------------------------------
    def special(self, name, value):
        o = self.o
        if name == "kern.clockrate":
            if o["hex"] or o["raw"]:
                self.display_struct(name, fmt.clockrate_bytes(value))
            elif not o["quiet"]:
                self.put(("" if o["names_only"] else name + ": ") + fmt.clockrate_text(value) + "\n")
            return True
        if name == "kern.boottime":
            sec, usec = value
            if o["hex"] or o["raw"]:
                self.display_struct(name, fmt.boottime_bytes(sec, usec))
            elif not o["quiet"]:
                head = "" if o["names_only"] else name + ("=" if o["equals"] else " = ")
                self.put(head + fmt.boottime_text(sec, usec, o["names_only"]) + "\n")
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
            self.display_struct(name, struct_bytes(value))
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
                new = fmt.parse_number(kind, flags, text, errnos.strerror(errnos.ERANGE))
            except fmt.BadValue as e:
                self.perror("%s: '%s' is not a valid limit" % (name, text) if limit else str(e))
                raise Stop()
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
