"""The `rump` base component: the kernel's own sysctl nodes and the core syscalls
(descriptors, pipes, poll/select, sleep, sysctl, modules, reboot)."""
from . import sys_descrip, sys_kern, sys_select, sysctl_base
from .module import Component


def _attach(kernel, comp):
    sysctl_base.attach(kernel, comp)
    for table in (sys_descrip.HANDLERS, sys_kern.HANDLERS, sys_select.HANDLERS):
        for nr, fn in table.items():
            kernel.add_syscall(nr, fn, comp)


component = Component("rump", _attach, unloadable=False, desc="kernel core")
