"""The `rumpdev_disk` component: the disk framework (disks, partitions, hw.disknames)."""
from ..kern.module import Component
from ...abi.sysctl import STRING


def disknames(kernel):
    names = []
    vfs = kernel.slot("vfs", None)
    if vfs is not None:
        names += [vp.key for vp in vfs.etfs.values() if hasattr(vp, "disk")]
    cgd = kernel.slot("cgd", None)
    for unit in (cgd.units if cgd is not None else ()):
        if unit.disk is not None:
            names.append("cgd%d" % unit.number)
    return " ".join(names)


def _attach(ctx):
    kernel = ctx.kernel
    ctx.sysctl("hw.disknames", STRING, getter=lambda: disknames(kernel), num=8,
               desc="List of disk drives present")


component = Component("rumpdev_disk", _attach, desc="disk framework", requires=("vfs",))
