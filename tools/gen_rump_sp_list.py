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

from rumptools.sp.manlist import replace_region  # noqa: E402
from tools._gen import parse_args, regenerate  # noqa: E402

PAGE = os.path.join(ROOT, "man", "rump_sp.7")


def main(argv):
    check = parse_args(argv)
    with open(PAGE, encoding="utf-8") as f:
        page = f.read()
    try:
        want = replace_region(page)
    except ValueError as e:
        sys.stderr.write("%s: %s\n" % (PAGE, e))
        return 1
    return regenerate(PAGE, want.encode("utf-8"), check, argv[0], "SYSTEM CALLS list")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
