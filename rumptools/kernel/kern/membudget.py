"""The kernel's memory budget: one limit (rump_server -r, else half the host's
memory) shared by everything a client can make the kernel keep.

Subsystems charge what they hold and release it when they let go: every
rumpfs mount (file data, and a fixed cost per node and per name plus the
bytes of names and symlink targets), pipe buffers, socket buffers. A charge
past the limit is refused with the errno the caller names (ENOSPC for file
systems; pipes take what is left instead, see pipe.py). Charges made outside
a system call (boot, a component attaching its /dev nodes) are counted but
never refused: the kernel's own structures are not a client's to deny.

Per-owner totals (`by`) are kept for statistics and the halt -d dump.
Kernel lock held by callers.
"""
from ...abi import errnos
from ...abi.errnos import RumpError

# What a rumpfs node and a directory entry cost beyond their bytes: measured
# (tracemalloc) at about 450 and 200 bytes of Python objects, rounded up.
NODE_COST = 512
ENTRY_COST = 256


class MemBudget:
    def __init__(self, limit):
        if limit <= 0:
            raise ValueError("memory budget must be positive")
        self.limit = limit
        self.used = 0
        self.by = {}                # owner tag -> bytes

    @property
    def free(self):
        return max(0, self.limit - self.used)

    def charge(self, nbytes, owner, err=errnos.ENOSPC):
        """Take nbytes for owner, or raise RumpError(err) if they are not there.
        Outside a system call the charge always succeeds (see above)."""
        if nbytes <= 0:
            if nbytes < 0:
                self.release(-nbytes, owner)
            return
        if self.used + nbytes > self.limit and _in_syscall():
            raise RumpError(err)
        self._add(nbytes, owner)

    def take_upto(self, nbytes, owner):
        """Take as much of nbytes as is left (maybe 0); returns what was taken."""
        got = max(0, min(nbytes, self.limit - self.used))
        if got:
            self._add(got, owner)
        return got

    def release(self, nbytes, owner):
        if nbytes <= 0:
            return
        self.used -= nbytes
        left = self.by.get(owner, 0) - nbytes
        if left:
            self.by[owner] = left
        else:
            self.by.pop(owner, None)

    def _add(self, nbytes, owner):
        self.used += nbytes
        self.by[owner] = self.by.get(owner, 0) + nbytes


def _in_syscall():
    from .sleepq import curlwp
    return curlwp() is not None
