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
from tools._gen import parse_args, regenerate  # noqa: E402


def main(argv):
    check = parse_args(argv)
    return regenerate(os.path.join(ROOT, PATH), render().encode(), check, argv[0], "C header")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
