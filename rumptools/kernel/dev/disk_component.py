"""The `rumpdev_disk` component: the disk framework (disks, partitions, hw.disknames)."""
from ..kern.module import Component
from ..kern.sysctl import STRING


def disknames(kernel):
    names = []
    vfs = getattr(kernel, "vfs", None)
    if vfs is not None:
        names += [vp.key for vp in vfs.etfs.values() if hasattr(vp, "disk")]
    for unit in getattr(kernel, "cgd_units", ()):
        if unit.disk is not None:
            names.append("cgd%d" % unit.number)
    return " ".join(names)


def _attach(kernel, comp):
    kernel.sysctl.add("hw.disknames", STRING, getter=lambda: disknames(kernel), owner=comp, num=8,
                      desc="List of disk drives present")


component = Component("rumpdev_disk", _attach, desc="disk framework")
