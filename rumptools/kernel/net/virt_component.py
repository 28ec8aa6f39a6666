"""The `rumpnet_virtif` component: the virt interface cloner (host taps)."""
from ..kern.module import Component
from . import if_virt


def _attach(ctx):
    net = ctx.kernel.slot("net")
    ctx.add_entry(net.cloners, "virt", if_virt.cloner(), "interface cloner")


component = Component("rumpnet_virtif", _attach, unloadable=False, desc="virtual interface on a host tap",
                      requires=("net", "route"))
