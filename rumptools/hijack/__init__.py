"""librumphijack: the LD_PRELOAD library of rumphijack(3), in C beside this file.

The C sources (spclient.c, config.c, hijack*.c) are compiled into
librumphijack.so when the package is installed (setup.py); the generated
rumpsp_syscalls.h gives them the syscall numbers and wire constants.  This
module only says where the built library is.
"""
import os

LIBRARY = "librumphijack.so"


def library_path():
    """The absolute path of the built library (it may not exist if the build failed)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), LIBRARY)
