"""The C header of the hijack library: current with the table, and compiled by gcc."""
import os
import shutil
import subprocess

import pytest

from rumptools.abi import errnos
from rumptools.abi import syscalls as sc
from rumptools.abi.sctypes import TYPES
from rumptools.sp.cheader import PATH, render

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROGRAM = r"""
#include <stdio.h>
#include "rumpsp_syscalls.h"

int main(void) {
    int i, j;
    for (i = 0; i < RUMPSP_NSYSCALLS; i++) {
        const struct rumpsp_syscall *s = &rumpsp_syscalls[i];
        printf("%d %s %s %d", s->number, s->name, s->method, s->sleeps);
        for (j = 0; j < s->nargs; j++)
            printf(" a%d:%d:%d", s->args[j].type, s->args[j].optional, s->args[j].sized_by);
        for (j = 0; j < s->nresults; j++)
            printf(" r%d:%d:%d", s->results[j].type, s->results[j].optional, s->results[j].sized_by);
        printf("\n");
    }
#define SHOW(n, name) printf("errno %d %s\n", n, #name);
    RUMPSP_ERRNO_LIST(SHOW)
    printf("const %d %d %d %d %d %d\n", RUMPSP_SYS_read, RUMPSP_O_CREAT, RUMPSP_AT_FDCWD,
           RUMPSP_EFTYPE, RUMPSP_HEADER_SIZE, RUMPSP_TAG_LIST);
    return 0;
}
"""


def expected():
    lines = []
    for s in sorted(sc.TABLE, key=lambda s: s.number):
        index = {p.name: i for i, p in enumerate(s.args)}
        words = ["%d %s %s %d" % (s.number, s.name, s.method, 1 if s.sleeps else 0)]
        for tag, params in (("a", s.args), ("r", s.results)):
            for p in params:
                words.append("%s%d:%d:%d" % (tag, TYPES[p.type].code, 1 if p.optional else 0,
                                             index[p.sized_by] if p.sized_by else -1))
        lines.append(" ".join(words))
    lines += ["errno %d %s" % pair for pair in errnos.numbers()]
    lines.append("const 3 %d -100 %d 24 %d" % (sc.O_CREAT, errnos.EFTYPE, ord("l")))
    return "\n".join(lines) + "\n"


def test_header_is_current():
    with open(os.path.join(ROOT, PATH), "rb") as f:
        have = f.read()
    assert have == render().encode(), "%s is out of date: run python tools/gen_syscall_header.py" % PATH


def test_generator_check_mode_agrees():
    r = subprocess.run(["python3", os.path.join(ROOT, "tools", "gen_syscall_header.py"), "--check"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_gcc_compiles_the_header_and_agrees_with_the_table(tmp_path):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not installed (Debian package gcc)")
    src = tmp_path / "t.c"
    src.write_text(PROGRAM)
    exe = tmp_path / "t"
    r = subprocess.run([gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-I", os.path.join(ROOT, "rumptools", "hijack"),
                        "-o", str(exe), str(src)], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    out = subprocess.run([str(exe)], capture_output=True, timeout=30, check=True).stdout.decode()
    assert out == expected()
