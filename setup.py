"""Compiled parts of rumptools, built from source at install time.

Everything else is in pyproject.toml.  No prebuilt binaries are shipped:
gcc (or the C compiler Python's build uses) compiles them during
`pip install` / `make install`.

rumptools.kernel.rumpuser._hostops is a small Python extension beside the
code that uses it: atomics on the shmif bus mapping, inotify for bus wake-ups.

librumphijack.so, the LD_PRELOAD library of rumphijack(3), is a plain shared
library, not a Python extension: it is declared as an Extension so that
setuptools builds it with the rest (in place for the editable install the
Makefile makes, into the wheel otherwise), and BuildExt gives it the plain
name rumptools/hijack/librumphijack.so and no Python entry point.  The hash
of the generated header it is compiled from (rumptools/hijack/rumpsp_syscalls.h)
is embedded in it, so a test can tell a library built from a stale table.
"""
import hashlib
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
HIJACK = "rumptools.hijack.librumphijack"
HIJACK_DIR = "rumptools/hijack"
HIJACK_SOURCES = ["spclient.c", "config.c", "check.c", "hijack.c", "hijack_io.c", "hijack_fs.c",
                  "hijack_dir.c", "hijack_ftw.c", "hijack_stdio.c", "hijack_proc.c", "hijack_misc.c",
                  "hijack_more.c", "hijack_sock.c", "hijack_poll.c"]


def _header_sha256():
    with open(os.path.join(HERE, HIJACK_DIR, "rumpsp_syscalls.h"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class BuildExt(build_ext):
    """build_ext that names the hijack library as a plain shared library."""

    def get_ext_filename(self, fullname):
        # called with the full dotted name or with its last part alone
        if fullname.split(".")[-1] == HIJACK.split(".")[-1]:
            return os.path.join(*fullname.split(".")) + ".so"
        return super().get_ext_filename(fullname)

    def get_export_symbols(self, ext):
        if ext.name == HIJACK:
            return []           # no PyInit_: it is never imported
        return super().get_export_symbols(ext)


hijack = Extension(
    HIJACK,
    sources=[HIJACK_DIR + "/" + s for s in HIJACK_SOURCES],
    depends=[HIJACK_DIR + "/" + h for h in ("rumpsp_syscalls.h", "spclient.h", "config.h", "hijack.h", "calls.h")],
    define_macros=[("RUMPHIJACK_HEADER_SHA256", '"%s"' % _header_sha256())],
    libraries=["dl", "pthread"],
    extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-nonnull-compare",
                        "-Wno-format-truncation", "-fno-strict-aliasing"],
)

hostops = Extension(
    "rumptools.kernel.rumpuser._hostops",
    sources=["rumptools/kernel/rumpuser/hostops.c"],
    extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
)

setup(ext_modules=[hostops, hijack], cmdclass={"build_ext": BuildExt})
