"""Kernel-wide syscalls: getpid, nanosleep, __sysctl, modctl, reboot.

Handlers register by their syscall table name (kern/syscall.py); the `rump`
base component adds the set."""
from ...abi import errnos
from ...abi import syscalls as sc
from ...abi.errnos import RumpError
from .kernel import ComponentError
from .syscall import Syscalls

syscalls = Syscalls()


@syscalls("getpid")
def sys_getpid(lwp):
    return (lwp.proc.pid,)


@syscalls("__nanosleep50")
def sys_nanosleep(lwp, ns):
    if ns < 0 or ns >= 1 << 62:
        raise RumpError(errnos.EINVAL)
    kernel = lwp.proc.kernel
    start = kernel.host.clock.now()
    try:
        kernel.sleepq.tsleep(lwp, ns / 1e9)
    except RumpError as e:
        if e.errno != errnos.EAGAIN:       # EAGAIN = the timeout ran out: done
            raise
    left = max(0.0, ns / 1e9 - (kernel.host.clock.now() - start))
    return (int(left * 1e9) if lwp.woken == "wakeup" else 0,)


@syscalls("__sysctl")
def sys_sysctl(lwp, name, op, value):
    tree = lwp.proc.kernel.sysctl
    if op == sc.SYSCTL_READ:
        return tree.read(name, lwp.proc)
    if op == sc.SYSCTL_WRITE:
        return tree.write(name, value, lwp.proc)
    if op == sc.SYSCTL_DESCRIBE:
        return tree.describe(name)
    raise RumpError(errnos.EINVAL)


@syscalls("modctl")
def sys_modctl(lwp, op, arg):
    kernel = lwp.proc.kernel
    try:
        if op == sc.MODCTL_STAT:
            return (kernel.modstat(),)
        if type(arg) is not str:
            raise RumpError(errnos.EINVAL)
        if op == sc.MODCTL_LOAD:
            return (kernel.modload(arg),)
        if op == sc.MODCTL_UNLOAD:
            return (kernel.modunload(arg),)
        if op == sc.MODCTL_EXISTS:
            from . import components
            name = components.canonical(arg)
            return (1 if name and components.REGISTRY[name].impl else 0,)
    except ComponentError as exc:
        raise RumpError(exc.errno, detail=str(exc)) from None
    raise RumpError(errnos.EINVAL)


@syscalls("reboot")
def sys_reboot(lwp, howto, bootstr):
    kernel = lwp.proc.kernel
    if kernel.on_reboot is None:
        raise RumpError(errnos.EPERM)
    lwp.after_reply = lambda: kernel.on_reboot(howto)
    return ()
