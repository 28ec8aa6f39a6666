"""The calls librumphijack makes (rumptools/hijack/calls.h) against the generated table:
they match today, and a table that changes a call's shape is caught by the library's
start-up check (check.c), compiled here against an altered header."""
import os
import shutil
import subprocess

import pytest

from rumptools.sp.cheader import render

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HIJACK = os.path.join(ROOT, "rumptools", "hijack")

MAIN = r"""
#include <stdio.h>
#include "calls.h"
int main(void) {
    char err[256];
    if (hj_check_calls(err, sizeof(err)) != 0) { puts(err); return 1; }
    puts("ok");
    return 0;
}
"""


def check(tmp_path, header_text):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed (apt-get install gcc)")
    for name in ("calls.h", "check.c"):
        shutil.copy(os.path.join(HIJACK, name), tmp_path / name)
    (tmp_path / "rumpsp_syscalls.h").write_text(header_text)
    (tmp_path / "main.c").write_text(MAIN)
    subprocess.run([gcc, "-Wall", "-o", str(tmp_path / "t"), str(tmp_path / "main.c"),
                    str(tmp_path / "check.c")], check=True, capture_output=True)
    r = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True)
    return r.returncode, r.stdout.strip()


def test_the_library_matches_the_table(tmp_path):
    assert check(tmp_path, render()) == (0, "ok")


def test_a_changed_result_type_is_caught(tmp_path):
    text = render()
    row = text.index('{439, "__stat50"')
    results = text.index("{{RUMPSP_T_STAT, 0, -1}}", row)
    text = text[:results] + "{{RUMPSP_T_INT, 0, -1}}" + text[results + len("{{RUMPSP_T_STAT, 0, -1}}"):]
    assert check(tmp_path, text) == (1, "rumphijack error: syscall __stat50 does not have the arguments "
                                        "or results the library sends (rebuild it from the current table)")


def test_a_renumbered_call_is_caught(tmp_path):
    text = render().replace('{466, "fstatat"', '{999, "fstatat"')
    assert check(tmp_path, text) == (1, "rumphijack error: syscall fstatat missing from the table")
