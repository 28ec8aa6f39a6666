#!/usr/bin/env python3
"""Rewrite the SYSTEM CALLS list of man/rump_sp.7 from rumptools/abi/syscalls.py.

    python tools/gen_rump_sp_list.py           rewrite the page in place
    python tools/gen_rump_sp_list.py --check   exit 1 if the page is out of date

Only the lines between `.\\" BEGIN SYSCALL LIST` and `.\\" END SYSCALL LIST`
are touched.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from rumptools.sp.manlist import current_region, render_syscall_list, replace_region  # noqa: E402

PAGE = os.path.join(ROOT, "man", "rump_sp.7")


def main(argv):
    check = "--check" in argv[1:]
    if any(a != "--check" for a in argv[1:]):
        sys.stderr.write("usage: %s [--check]\n" % os.path.basename(argv[0]))
        return 2
    with open(PAGE, encoding="utf-8") as f:
        page = f.read()
    want = render_syscall_list()
    try:
        have = current_region(page)
    except ValueError as e:
        sys.stderr.write("%s: %s\n" % (PAGE, e))
        return 1
    if have == want:
        return 0
    if check:
        sys.stderr.write("%s: SYSTEM CALLS list is out of date; run %s\n" % (PAGE, argv[0]))
        return 1
    tmp = PAGE + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(replace_region(page, want))
    os.replace(tmp, PAGE)
    print("%s: SYSTEM CALLS list rewritten (%d lines)" % (PAGE, want.count("\n")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
