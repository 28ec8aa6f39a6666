"""Shared by the generators in tools/: compare a generated file with the one
checked in, and either rewrite it or (--check) report that it is out of date."""
import os
import sys


def parse_args(argv):
    """True for --check; exits with status 2 on anything else."""
    if any(a != "--check" for a in argv[1:]):
        sys.stderr.write("usage: %s [--check]\n" % os.path.basename(argv[0]))
        sys.exit(2)
    return "--check" in argv[1:]


def regenerate(path, want, check, prog, what):
    """Write want (bytes) to path unless it is there already; with check, only say so.

    Returns the exit status: 0 current or rewritten, 1 out of date (check)."""
    try:
        with open(path, "rb") as f:
            have = f.read()
    except FileNotFoundError:
        have = None
    if have == want:
        return 0
    if check:
        sys.stderr.write("%s: %s is out of date; run %s\n" % (path, what, prog))
        return 1
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(want)
    os.replace(tmp, path)
    print("%s: %s rewritten (%d lines)" % (path, what, want.count(b"\n")))
    return 0
