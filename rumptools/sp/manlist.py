"""The SYSTEM CALLS list of rump_sp(7), made from the syscall table.

Pure: turns syscalls.TABLE into mdoc lines. tools/gen_rump_sp_list.py
writes them between the `.\\" BEGIN SYSCALL LIST` and `.\\" END SYSCALL LIST`
lines of man/rump_sp.7; tests/unit/test_manpages.py checks that the page
and the table agree.
"""
from ..abi.sctypes import TYPES
from ..abi.syscalls import TABLE

BEGIN = '.\\" BEGIN SYSCALL LIST'
END = '.\\" END SYSCALL LIST'


def _text(s):
    """Make s safe on an mdoc text line."""
    s = s.replace("\\", "\\e")
    if s[:1] in (".", "'"):
        s = "\\&" + s
    return s


def _sentence(s):
    s = s.strip()
    if not s:
        return s
    s = s[0].upper() + s[1:]
    return s if s.endswith(".") else s + "."


def param_words(params):
    """Typed parameters as words: [fd:fd, arg:?value] -> ['fd (descriptor)', 'arg (value or none)']."""
    words = []
    for p in params:
        what = TYPES[p.type].word
        if p.sized_by:
            what += ", at most " + p.sized_by
        if p.optional:
            what += " or none"
        words.append("%s (%s)" % (p.name, what))
    return words


def render_entry(sc):
    name = sc.name
    if name[:1].isupper():          # would be taken for an mdoc macro
        name = "\\&" + name
    lines = [".It Sy %s Pq %d" % (name, sc.number)]
    args = param_words(sc.args)
    lines.append("Arguments: %s." % (_text(", ".join(args)) if args else "none"))
    results = param_words(sc.results)
    lines.append("Results: %s." % (_text(", ".join(results)) if results else "none"))
    lines.append(_text(_sentence(sc.doc)))
    if sc.sleeps:
        lines.append("May sleep in the kernel.")
    if sc.method != sc.name:
        lines.append("Client method:")
        lines.append(".Fn %s ." % sc.method)
    return lines


def render_syscall_list():
    """The mdoc lines of the SYSTEM CALLS list, one per line, ending with a newline."""
    lines = [".Bl -tag -width Ds"]
    for sc in sorted(TABLE, key=lambda s: s.number):
        lines.extend(render_entry(sc))
    lines.append(".El")
    return "\n".join(lines) + "\n"


def replace_region(page, body=None):
    """Return page with the text between the BEGIN and END lines replaced by body.

    ValueError if the markers are missing or out of order.
    """
    if body is None:
        body = render_syscall_list()
    lines = page.splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.rstrip("\n") == BEGIN)
        end = next(i for i, line in enumerate(lines) if line.rstrip("\n") == END and i > start)
    except StopIteration:
        raise ValueError("markers %r and %r not found in order" % (BEGIN, END)) from None
    return "".join(lines[:start + 1]) + body + "".join(lines[end:])


def current_region(page):
    """The text between the BEGIN and END lines of page (ValueError if absent)."""
    lines = page.splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.rstrip("\n") == BEGIN)
        end = next(i for i, line in enumerate(lines) if line.rstrip("\n") == END and i > start)
    except StopIteration:
        raise ValueError("markers %r and %r not found in order" % (BEGIN, END)) from None
    return "".join(lines[start + 1:end])
