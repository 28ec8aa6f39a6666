"""Issue 13, first contact: manual pages installed with the package, shell completion
for every command, and a build without setuptools deprecation warnings."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

from tests.conftest import BIN, cmd

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAGES = sorted(glob.glob(os.path.join(REPO, "man", "*.[178]")))


def scripts():
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        return sorted(tomllib.load(f)["project"]["scripts"])


# ---------------------------------------------------------------- 8. manual pages

def test_man_pages_are_in_the_environments_share_man():
    assert len(PAGES) >= 11
    for page in PAGES:
        section = page.rsplit(".", 1)[1]
        installed = os.path.join(sys.prefix, "share", "man", "man" + section, os.path.basename(page))
        assert os.path.isfile(installed), installed
        with open(page, "rb") as a, open(installed, "rb") as b:
            assert a.read() == b.read(), "stale copy: run make install"


def test_every_command_has_a_page():
    names = {os.path.basename(p).rsplit(".", 1)[0] for p in PAGES}
    assert set(scripts()) <= names


def test_man_finds_the_pages_through_path():
    if shutil.which("man") is None:
        pytest.skip("man(1) is not installed (Debian package man-db)")
    env = {k: v for k, v in os.environ.items() if k != "MANPATH"}
    env["PATH"] = BIN + os.pathsep + "/usr/bin:/bin"
    for name, section in (("rump.sysctl", "8"), ("rump_server", "1"), ("rump_sp", "7")):
        r = subprocess.run(["man", "-w", name], env=env, capture_output=True, timeout=60)
        assert (r.returncode, r.stdout.decode()) == (
            0, os.path.join(sys.prefix, "share", "man", "man" + section, name + "." + section) + "\n")
    r = subprocess.run(["man", "-P", "cat", "rump.sysctl"], env=dict(env, MANWIDTH="80"),
                       capture_output=True, timeout=60)
    assert r.returncode == 0 and b"rump.sysctl" in r.stdout and b"NAME" in r.stdout


def test_wheel_carries_the_pages_and_builds_without_warnings(tmp_path):
    """A plain `pip install` gets the pages from the wheel's data; the SPDX license
    string leaves setuptools nothing to warn about."""
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info",
                                                              "__pycache__", ".pytest_cache"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "w"), str(src)],
                       capture_output=True, timeout=600)
    out = r.stdout.decode() + r.stderr.decode()
    if r.returncode != 0 and ("No matching distribution" in out or "Could not find a version" in out
                              or "installing build dependencies" in out.lower() and "did not run successfully" in out):
        pytest.skip("pip cannot fetch setuptools>=77 for the isolated build: " + out.splitlines()[-1])
    assert r.returncode == 0, out
    assert "license" not in out.lower() or "deprecat" not in out.lower(), out
    assert "BuildBackendWarning" not in out and "SetuptoolsDeprecationWarning" not in out, out
    wheel = glob.glob(str(tmp_path / "w" / "rumptools-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read([n for n in names if n.endswith(".dist-info/METADATA")][0]).decode()
    for page in PAGES:
        section = page.rsplit(".", 1)[1]
        assert "rumptools-0.1.0.data/data/share/man/man%s/%s" % (section, os.path.basename(page)) in names
    assert "License-Expression: BSD-2-Clause" in meta


# ---------------------------------------------------------------- 9. shell completion

def complete_var(prog):
    """click's variable: _<PROG>_COMPLETE, dots and dashes as underscores."""
    return "_%s_COMPLETE" % prog.replace("-", "_").replace(".", "_").upper()


@pytest.mark.parametrize("prog", scripts())
def test_completion_scripts_for_bash_and_zsh(prog):
    safe = re.sub(r"\W*", "", prog.replace("-", "_"), flags=re.ASCII)
    r = subprocess.run([cmd(prog)], env=dict(os.environ, **{complete_var(prog): "bash_source"}),
                       capture_output=True, timeout=60)
    assert (r.returncode, r.stderr) == (0, b"")
    assert ("_%s_completion() {" % safe).encode() in r.stdout
    assert ("complete -o nosort -F _%s_completion %s\n" % (safe, prog)).encode() in r.stdout
    r = subprocess.run([cmd(prog)], env=dict(os.environ, **{complete_var(prog): "zsh_source"}),
                       capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith(("#compdef %s\n" % prog).encode())


@pytest.mark.parametrize("prog,words,expect", [
    ("rump.sysctl", "rump.sysctl -", ["-a", "-A", "-d", "-e", "-f", "-M", "-n", "-q", "-r", "-w", "-x"]),
    ("rump.halt", "rump.halt -", ["-d", "-h", "-n"]),
    ("rump.sockstat", "rump.sockstat -", ["-4", "-6", "-c", "-f", "-l", "-n", "-p", "-u"]),
    ("rump.dd", "rump.dd o", ["obs=", "of=", "oflag=", "oseek="]),
])
def test_bash_completes_options(prog, words, expect):
    """The script bash gets, sourced into a real bash, completes the options."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    safe = re.sub(r"\W*", "", prog, flags=re.ASCII)
    script = ('eval "$(%s=bash_source %s)"; COMP_WORDS=(%s); COMP_CWORD=%d; _%s_completion %s; '
              'printf "%%s\\n" "${COMPREPLY[@]}"' % (complete_var(prog), prog, words,
                                                     len(words.split()) - 1, safe, prog))
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    r = subprocess.run(["bash", "-c", script], env=env, capture_output=True, timeout=60)
    assert (r.returncode, r.stderr) == (0, b"")
    assert r.stdout.decode().split() == expect


def test_readme_lists_every_pages_compatibility_notes():
    """Every manual page with a COMPATIBILITY section is named in the README's list of
    deliberate differences."""
    with open(os.path.join(REPO, "README.md")) as f:
        readme = f.read()
    section = readme.split("## Where we differ from NetBSD, on purpose", 1)[1].split("\n## ", 1)[0]
    for page in PAGES:
        with open(page) as f:
            if "\n.Sh COMPATIBILITY\n" not in f.read():
                continue
        name, sec = os.path.basename(page).rsplit(".", 1)
        assert "%s(%s)" % (name, sec) in section, page
