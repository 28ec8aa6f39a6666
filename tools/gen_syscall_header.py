#!/usr/bin/env python3
"""Write rumptools/hijack/rumpsp_syscalls.h from the syscall table (rumptools/abi/syscalls.py).

    python tools/gen_syscall_header.py           rewrite the header
    python tools/gen_syscall_header.py --check   exit 1 if the header is out of date
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from rumptools.sp.cheader import PATH, render  # noqa: E402


def main(argv):
    check = "--check" in argv[1:]
    if any(a != "--check" for a in argv[1:]):
        sys.stderr.write("usage: %s [--check]\n" % os.path.basename(argv[0]))
        return 2
    path = os.path.join(ROOT, PATH)
    want = render().encode()
    try:
        with open(path, "rb") as f:
            have = f.read()
    except FileNotFoundError:
        have = None
    if have == want:
        return 0
    if check:
        sys.stderr.write("%s is out of date; run %s\n" % (PATH, argv[0]))
        return 1
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(want)
    os.replace(tmp, path)
    print("%s rewritten (%d lines)" % (PATH, want.count(b"\n")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
