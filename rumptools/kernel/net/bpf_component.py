"""The `rumpdev_bpf` component: /dev/bpf (major 23) and net.bpf.{jit,maxbufsize}."""
from ...abi import errnos
from ...abi.errnos import RumpError
from ..kern.module import Component
from ...abi.sysctl import INT
from ..vfs.vnode import VCHR
from .bpf import BPF_MAJOR, BpfDriver


def _attach(ctx):
    drv = BpfDriver(ctx.kernel)
    ctx.add_devsw(BPF_MAJOR, drv)
    ctx.add_devnode("bpf", VCHR, BPF_MAJOR, 0, 0o600)
    ctx.sysctl("net.bpf.jit", INT, 0, writable=True)

    def set_max(v):
        if v < 32:
            raise RumpError(errnos.EINVAL)
        drv.maxbufsize = v
    ctx.sysctl("net.bpf.maxbufsize", INT, getter=lambda: drv.maxbufsize, setter=set_max, writable=True)


component = Component("rumpdev_bpf", _attach, unloadable=False, desc="Berkeley packet filter",
                      requires=("net", "route", "devfs"))
