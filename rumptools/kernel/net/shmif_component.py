"""The `rumpnet_shmif` component: the shmif interface cloner."""
from ..kern.module import Component
from . import if_shmif


def _attach(ctx):
    net = ctx.kernel.slot("net")
    ctx.add_entry(net.cloners, "shmif", if_shmif.cloner(), "interface cloner")


component = Component("rumpnet_shmif", _attach, unloadable=False, desc="shared memory bus interface",
                      requires=("net", "route"))
