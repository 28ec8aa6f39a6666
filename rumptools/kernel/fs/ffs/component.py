"""The `rumpfs_ffs` component: the file system type "ffs" for mount(2)."""
from ....abi import errnos
from ....abi.errnos import RumpError
from ...kern.module import Component
from .vfsops import mount_ffs


def _attach(kernel, comp):
    kernel.fstypes["ffs"] = mount_ffs


def _detach(kernel, comp):
    if any(m.fstype == "ffs" for m in kernel.vfs.mounts.mounts):
        raise RumpError(errnos.EBUSY)
    kernel.fstypes.pop("ffs", None)


component = Component("rumpfs_ffs", _attach, _detach, desc="Berkeley Fast File System")
