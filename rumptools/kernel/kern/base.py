"""The `rump` base component: the kernel's own sysctl nodes and the core syscalls
(descriptors, pipes, poll/select, sleep, sysctl, modules, reboot).

Provides no slot: the kernel object itself is the core."""
from . import sys_descrip, sys_kern, sys_select, sysctl_base
from .module import Component


def _attach(ctx):
    sysctl_base.attach(ctx)
    ctx.add_syscalls(sys_descrip.syscalls)
    ctx.add_syscalls(sys_kern.syscalls)
    ctx.add_syscalls(sys_select.syscalls)


component = Component("rump", _attach, unloadable=False, desc="kernel core")
