"""Shared helpers of the hijack tests: the built library and runs of programs under it."""
import hashlib
import os
import shutil
import subprocess

import pytest

from rumptools.hijack import library_path

LIB = library_path()
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def require_library():
    if not os.path.exists(LIB):
        pytest.fail("librumphijack.so was not built (make install compiles it)")
    return LIB


def header_sha256():
    with open(os.path.join(ROOT, "rumptools", "hijack", "rumpsp_syscalls.h"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def compile_c(tmp_path, name, source, *flags):
    """Build the C program source as tmp_path/name with gcc; skip (saying why)
    where gcc is missing.  Returns the program's path."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed (apt-get install gcc)")
    (tmp_path / (name + ".c")).write_text(source)
    subprocess.run([gcc, *flags, "-o", str(tmp_path / name), str(tmp_path / (name + ".c"))], check=True)
    return str(tmp_path / name)


def hijacked_env(server, **extra):
    env = dict(server.env)
    env["LD_PRELOAD"] = require_library()
    env.pop("RUMPHIJACK", None)
    env.pop("RUMPHIJACK_RETRYCONNECT", None)
    env.update(extra)
    return env


def run(server, argv, timeout=60, input=None, cwd=None, **extra):
    """Run argv (a list, or a string for sh -c) under the library."""
    if isinstance(argv, str):
        argv = ["sh", "-c", argv]
    return subprocess.run(argv, env=hijacked_env(server, **extra), capture_output=True, timeout=timeout,
                          input=input, cwd=cwd or server.workdir)


def ok(server, argv, **kw):
    r = run(server, argv, **kw)
    assert r.returncode == 0, (argv, r.stdout[-2000:], r.stderr[-2000:])
    return r.stdout


def sysctl(server, name):
    r = server.run("rump.sysctl", "-n", name)
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


# prints a JSON list of (relative path, kind, mode bits, sha256 or link target) of a tree;
# run under the library for a tree in /rump, without it for one on the host
DIGEST = r"""
import hashlib, json, os, sys
top = sys.argv[1]
out = []
for root, dirs, files in os.walk(top):
    dirs.sort()
    for name in sorted(dirs + files):
        p = os.path.join(root, name)
        rel = os.path.relpath(p, top)
        st = os.lstat(p)
        if os.path.islink(p):
            out.append((rel, "l", os.readlink(p)))
        elif os.path.isdir(p):
            out.append((rel, "d", st.st_mode & 0o7777))
        else:
            with open(p, "rb") as f:
                out.append((rel, "f", st.st_mode & 0o7777, st.st_size, hashlib.sha256(f.read()).hexdigest()))
print(json.dumps(out))
"""


def rump_tree(server, top):
    import json
    return json.loads(ok(server, ["python3", "-c", DIGEST, top]))


def host_tree(top):
    import json
    import sys
    r = subprocess.run([sys.executable, "-c", DIGEST, top], capture_output=True, check=True)
    return json.loads(r.stdout)

