"""Compiled parts of rumptools, built from source at install time.

Everything else is in pyproject.toml.  Each extension is a small C file
beside the Python that uses it; gcc (or any C compiler Python's build
knows) compiles it during `pip install` / `make install`.  No prebuilt
binaries are shipped.  The hijack library (librumphijack.so) follows the
same pattern.
"""
from setuptools import Extension, setup

setup(
    ext_modules=[
        # atomics on the shmif bus mapping, inotify for bus wake-ups
        Extension(
            "rumptools.kernel.rumpuser._hostops",
            sources=["rumptools/kernel/rumpuser/hostops.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        ),
    ],
)
