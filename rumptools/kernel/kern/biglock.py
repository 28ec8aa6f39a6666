"""Letting go of the kernel lock around slow work (NetBSD's KERNEL_UNLOCK around I/O).

The kernel lock guards all kernel state (sleepq.py); a thread holding it
while it waits for the host's disk or encrypts 32 MiB holds up every other
client. So drivers release it around exactly that work:

    with unlocked(kernel.lock):
        data = cipher.encrypt(buf)       # or hostfile.pread(...)

The rule for the code inside: it touches no kernel state, only its own
buffers and objects it made safe first (a busy count that stops the device
going away, a host file that is never closed while the kernel runs). After
the lock is taken back, everything that others may have changed meanwhile
is re-checked: the unit is still configured (cgd), cached blocks of the
range are dropped again (raw writes). The caller must hold the lock.

Where it is let go: raw transfers of cgd (cipher work and the backing
disk's host I/O) and of -d disks, and host I/O and fsync of type=reg -d
files. Not yet: the buffer cache's fills and write-backs (block device
access, sync) still do their host I/O with the lock held, since a block
being filled or written back would need a busy mark that others wait on.

Letting go counts as a sleep for the calling LWP's before-sleep hook: the
sysproxy server runs calls on the thread that reads their connection, and
hands that reading on to another thread before a call waits (rumptools.sp.pool),
so the connection's other calls are not held up behind slow host work.
"""
from contextlib import contextmanager

from .sleepq import curlwp_slot


@contextmanager
def unlocked(lock):
    lwp = getattr(curlwp_slot, "lwp", None)
    if lwp is not None:
        lwp.before_sleep()          # as a sleep: sysproxy moves the connection's reading on
    lock.release()
    try:
        yield
    finally:
        lock.acquire()
