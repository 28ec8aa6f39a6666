"""The `rumpdev_cgd` component: cgd units with /dev/cgdN? and /dev/rcgdN? nodes.

Provides the `cgd` slot (the driver, with its units). Everything it adds is
recorded by its attach context; unloading refuses while a unit is configured."""
from ...abi import cgdioctl as ci
from ...abi import errnos
from ...abi.errnos import RumpError
from ..kern.module import Component
from ..vfs.vnode import VBLK, VCHR
from .cgd import BMAJOR, CMAJOR, MAXPART, CgdDriver


def _attach(ctx):
    drv = ctx.provide("cgd", CgdDriver(ctx.kernel))
    ctx.add_devsw(BMAJOR, drv)
    ctx.add_devsw(CMAJOR, drv)
    for unit in range(ci.NCGD):
        for i, part in enumerate(ci.PARTITIONS):
            ctx.add_devnode("cgd%d%s" % (unit, part), VBLK, BMAJOR, unit * MAXPART + i)
            ctx.add_devnode("rcgd%d%s" % (unit, part), VCHR, CMAJOR, unit * MAXPART + i)
    ctx.add_sync_hook(drv.sync)
    ctx.add_shutdown_hook(drv.shutdown, last=True)


def _detach(ctx):
    if any(u.disk is not None for u in ctx.kernel.slot("cgd").units):
        raise RumpError(errnos.EBUSY)


component = Component("rumpdev_cgd", _attach, _detach, desc="cryptographic disk driver",
                      requires=("vfs", "devfs", "bufcache"), provides=("cgd",))
