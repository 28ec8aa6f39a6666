"""The `rumpfs_ffs` component: the file system type "ffs" for mount(2).

Requires the `vfs` slot (rumpvfs); adds the fstype through its attach
context, so unloading removes it. Unloading refuses while an ffs is mounted."""
from ....abi import errnos
from ....abi.errnos import RumpError
from ...kern.module import Component
from .vfsops import mount_ffs


def _attach(ctx):
    ctx.add_fstype("ffs", mount_ffs)


def _detach(ctx):
    if any(m.fstype == "ffs" for m in ctx.kernel.slot("vfs").mounts.mounts):
        raise RumpError(errnos.EBUSY)


component = Component("rumpfs_ffs", _attach, _detach, desc="Berkeley Fast File System",
                      requires=("vfs",))
