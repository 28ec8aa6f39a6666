"""rump.sysctl: read and write a rump kernel's sysctl variables, printed as NetBSD's sysctl does."""
import sys

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
LEVELS = ("top", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
F_HEX, F_UNSIGNED = 2, 4


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


def fit_number(kind, value):
    """value as NetBSD's sysctl -w stores it in a node of this kind, or None if
    out of range: strtouq(3) wraps negatives and stops at 64 bits; an int
    node takes 32 bits (the upper half all zeros or all ones)."""
    if not -(1 << 64) < value < (1 << 64):
        return None
    q = value & ((1 << 64) - 1)
    if kind == "int":
        if (q >> 32) not in (0, 0xFFFFFFFF):
            return None
        v = q & 0xFFFFFFFF
        return v - (1 << 32) if v >= 1 << 31 else v
    if kind == "quad":
        return q - (1 << 64) if q >= 1 << 63 else q
    return value


class Printer:
    def __init__(self, client, opts):
        self.c = client
        self.o = opts
        self.status = 0
        self.out = []

    def emit(self, name, text):
        o = self.o
        if o["quiet"]:
            return
        if o["names_only"]:
            self.out.append(text)
        else:
            self.out.append(name + ("=" if o["equals"] else " = ") + text)

    def flush(self):
        if self.out:
            text = "\n".join(self.out) + "\n"
            buf = getattr(sys.stdout, "buffer", None)
            if buf is None:
                sys.stdout.write(text)
            else:                       # string values are bytes: print them as they are
                sys.stdout.flush()
                buf.write(text.encode("utf-8", "surrogateescape"))
            self.out = []
        sys.stdout.flush()

    def fail(self, msg):
        self.flush()
        _cli.warn(msg)
        self.status = 1

    def format(self, kind, value, flags):
        hexmode = self.o["hex"]
        if kind == "string":
            return value
        if kind == "bool":
            return "1" if value else "0"
        if hexmode or flags & F_HEX:
            return "%#x" % value
        if kind == "int" and flags & F_UNSIGNED:
            return "%u" % (value & 0xFFFFFFFF)
        if kind == "quad":
            return "%u" % (value & 0xFFFFFFFFFFFFFFFF)
        return "%d" % value

    def bad_name(self, name, exc):
        """Work out which component of a dotted name does not exist, as sysctl reports it."""
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            try:
                kind = self.c.sysctl(".".join(parts[:depth]), SYSCTL_READ, None)[0]
            except OSError:
                level = LEVELS[depth - 1] if depth <= len(LEVELS) else "%dth" % depth
                return "%s level name '%s' in '%s' is invalid" % (level, parts[depth - 1], name)
            if kind != "node" and depth < len(parts):
                return "%s: %s" % (name, errnos.strerror(errnos.ENOTDIR))
        return "%s: %s" % (name, _cli.syscall_error(None, exc))

    def show(self, name):
        try:
            kind, value, flags = self.c.sysctl(name, SYSCTL_READ, None)
        except OSError as e:
            if e.errno in (errnos.ENOENT, errnos.ENOTDIR) and isinstance(e, errnos.RumpError):
                if not self.o["quiet"]:
                    self.fail(self.bad_name(name, e))
                else:
                    self.status = 1
            else:
                self.fail(_cli.syscall_error(name, e))
            return
        if kind == "node":
            for child in value:
                self.show(name + "." + child if name else child)
            return
        if self.o["describe"]:
            self.emit_desc(name)
        else:
            self.emit(name, self.format(kind, value, flags))

    def emit_desc(self, name):
        try:
            _kind, desc, _flags = self.c.sysctl(name, SYSCTL_DESCRIBE, None)
        except OSError as e:
            self.fail(_cli.syscall_error(name, e))
            return
        if not self.o["quiet"]:
            self.out.append("%s: %s" % (name, desc or "(no description)"))

    def write(self, assignment):
        name, _eq, text = assignment.partition("=")
        try:
            kind, old, flags = self.c.sysctl(name, SYSCTL_READ, None)
        except OSError as e:
            self.fail(self.bad_name(name, e) if e.errno in (errnos.ENOENT, errnos.ENOTDIR)
                      else _cli.syscall_error(name, e))
            return
        if kind == "node":
            self.fail("%s: %s" % (name, "Is a directory"))
            return
        if kind == "string":
            value = text
        else:
            try:
                value = parse_c_integer(text)
            except ValueError:
                self.fail("%s: %s" % (name, errnos.strerror(errnos.EINVAL)))
                return
            value = fit_number(kind, value)
            if value is None:                   # what strtouq and write_number refuse
                self.fail("%s: %s" % (text, errnos.strerror(errnos.ERANGE)))
                return
        try:
            kind, old, flags = self.c.sysctl(name, SYSCTL_WRITE, value)
        except OSError as e:
            self.fail("Cannot write `%s': %s" % (name, errnos.host_text(e)))
            return
        new = self.format(kind, value, flags)
        if self.o["quiet"]:
            return
        if self.o["names_only"]:
            self.out.append(new)
        else:
            self.out.append("%s: %s -> %s" % (name, self.format(kind, old, flags), new))


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-a", "all_", is_flag=True)
@click.option("-A", "all_unavail", is_flag=True)
@click.option("-d", "describe", is_flag=True)
@click.option("-e", "equals", is_flag=True)
@click.option("-f", "file", metavar="file")
@click.option("-M", "mib", is_flag=True)
@click.option("-n", "names_only", is_flag=True)
@click.option("-q", "quiet", is_flag=True)
@click.option("-r", "raw", is_flag=True)
@click.option("-w", "write", is_flag=True)
@click.option("-x", "hex", count=True)
@click.argument("names", nargs=-1)
def cmd(**o):
    names = list(o["names"])
    if o["file"]:
        try:
            with open(o["file"], "rb") as f:     # bytes, as argv: names need not be UTF-8
                lines = [raw.decode("utf-8", "surrogateescape").strip() for raw in f]
            names += [line for line in lines if line and not line.startswith("#")]
        except OSError as e:
            _cli.die("%s: %s" % (o["file"], errnos.host_text(e)))
    if not names and not (o["all_"] or o["all_unavail"] or o["mib"]):
        _cli.NetBSDCommand.usage(cmd)
    if o["mib"]:
        _cli.die("-M: MIB numbers are not kept by this kernel; use names")
    client = _cli.connect()
    p = Printer(client, o)
    if o["all_"] or o["all_unavail"]:
        p.show("")
    for name in names:
        if "=" in name:
            if not o["write"] and not o["file"]:
                p.fail("Must specify -w to set variables")
                continue
            p.write(name)
        elif o["write"] and not o["file"]:
            p.fail("%s: variable=value required with -w" % name)
        else:
            p.show(name)
    p.flush()
    sys.exit(p.status)


def main():
    cmd.main()


if __name__ == "__main__":
    main()
