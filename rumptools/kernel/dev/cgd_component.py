"""The `rumpdev_cgd` component: cgd units with /dev/cgdN? and /dev/rcgdN? nodes."""
from ...abi import cgdioctl as ci
from ..kern.module import Component
from ..vfs.component import add_devnode, remove_devnode
from ..vfs.vnode import VBLK, VCHR
from .cgd import BMAJOR, CMAJOR, MAXPART, CgdDriver


def _nodes():
    for unit in range(ci.NCGD):
        for i, part in enumerate(ci.PARTITIONS):
            yield unit, i, part


def _attach(kernel, comp):
    drv = CgdDriver(kernel)
    kernel.cgd = drv
    kernel.cgd_units = drv.units
    kernel.devsw[BMAJOR] = drv
    kernel.devsw[CMAJOR] = drv
    for unit, i, part in _nodes():
        add_devnode(kernel, "cgd%d%s" % (unit, part), VBLK, BMAJOR, unit * MAXPART + i)
        add_devnode(kernel, "rcgd%d%s" % (unit, part), VCHR, CMAJOR, unit * MAXPART + i)
    kernel.add_sync_hook(comp, drv.sync)
    kernel.shutdown_hooks.insert(0, drv.shutdown)


def _detach(kernel, comp):
    drv = kernel.cgd
    if any(u.disk is not None for u in drv.units):
        from ...abi.errnos import RumpError
        raise RumpError(16)
    for unit, i, part in _nodes():
        remove_devnode(kernel, "cgd%d%s" % (unit, part))
        remove_devnode(kernel, "rcgd%d%s" % (unit, part))
    kernel.devsw.pop(BMAJOR, None)
    kernel.devsw.pop(CMAJOR, None)
    del kernel.cgd, kernel.cgd_units


component = Component("rumpdev_cgd", _attach, _detach, desc="cryptographic disk driver")
