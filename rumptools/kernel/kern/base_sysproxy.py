"""The `rumpkern_sysproxy` component: remote system calls. Its counters live here;
the server itself is rumptools.sp.server, started by rump_server."""
from .module import Component
from ...abi.sysctl import INT


def _attach(ctx):
    kernel = ctx.kernel
    ctx.sysctl("kern.sysproxy.clients", INT, getter=lambda: kernel.nclients,
               desc="Connected sysproxy clients")
    ctx.sysctl("kern.sysproxy.threads", INT, getter=lambda: kernel.sp_threads,
               desc="Sysproxy threads alive (readers and sleeping calls)")

    def set_grace(v):
        if v < 0:
            from ...abi.errnos import RumpError
            raise RumpError(22)
        kernel.fork_grace = v

    ctx.sysctl("kern.sysproxy.fork_grace", INT, getter=lambda: kernel.fork_grace, setter=set_grace,
               writable=True, desc="Seconds a forked child may still claim its process after the parent left")


component = Component("rumpkern_sysproxy", _attach, unloadable=False, desc="remote system calls")
