"""The manual pages: mandoc accepts them, every command has one, and the
SYSTEM CALLS list of rump_sp(7) matches the syscall table."""
import os
import re
import shutil
import subprocess
import tomllib

import pytest

from rumptools.sp.manlist import current_region, render_syscall_list

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAN = os.path.join(ROOT, "man")
PAGE_RE = re.compile(r"^(?P<name>.+)\.(?P<section>[1-9])$")


def pages():
    return sorted(f for f in os.listdir(MAN)
                  if PAGE_RE.match(f) and os.path.isfile(os.path.join(MAN, f)))


def console_scripts():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return sorted(tomllib.load(f)["project"]["scripts"])


def test_there_are_pages():
    assert "rump_sp.7" in pages() and "rump_server.1" in pages()


@pytest.mark.parametrize("page", pages())
def test_mandoc_lint_is_clean(page):
    mandoc = shutil.which("mandoc")
    if mandoc is None:
        reason = "mandoc is not installed (apt-get install mandoc); man pages not linted"
        print(reason)
        pytest.skip(reason)
    r = subprocess.run([mandoc, "-T", "lint", "-W", "warning", page], cwd=MAN,
                       capture_output=True, timeout=60)
    out = (r.stdout + r.stderr).decode(errors="replace")
    assert r.returncode == 0 and out == "", "mandoc -T lint -W warning man/%s:\n%s" % (page, out)


@pytest.mark.parametrize("script", console_scripts())
def test_every_command_has_a_page(script):
    have = {PAGE_RE.match(p).group("name") for p in pages()}
    assert script in have, "console script %s has no page man/%s.<section>" % (script, script)


def test_rump_sp_syscall_list_is_generated_from_the_table():
    with open(os.path.join(MAN, "rump_sp.7"), encoding="utf-8") as f:
        page = f.read()
    assert current_region(page) == render_syscall_list(), (
        "the SYSTEM CALLS list of man/rump_sp.7 does not match rumptools/abi/syscalls.py; "
        "run: python tools/gen_rump_sp_list.py")


def test_syscall_list_names_every_entry():
    from rumptools.abi.syscalls import TABLE
    text = render_syscall_list()
    for sc in TABLE:
        assert ".It Sy %s Pq %d\n" % (sc.name, sc.number) in text
