"""The `rumpkern_sysproxy` component: remote system calls. Its counters live here;
the server itself is rumptools.sp.server, started by rump_server, which sets
kernel.sysproxy (stats() and the handshake deadline)."""
from ...abi import errnos
from ...abi.errnos import RumpError
from .module import Component
from ...abi.sysctl import INT


def _stat(kernel, key):
    sp = kernel.sysproxy
    return sp.stats()[key] if sp is not None else 0


def _attach(ctx):
    kernel = ctx.kernel

    def add(name, getter, desc, setter=None):
        ctx.sysctl("kern.sysproxy." + name, INT, getter=getter, setter=setter,
                   writable=setter is not None, desc=desc)

    add("clients", lambda: kernel.nclients, "Connected sysproxy clients")
    add("threads", lambda: _stat(kernel, "readers") + _stat(kernel, "workers"),
        "Sysproxy threads alive (one reading each connection, and the workers)")
    add("workers", lambda: _stat(kernel, "workers"),
        "Pool threads not reading a connection: asleep in a call, finishing one, or idle")
    add("idle_workers", lambda: _stat(kernel, "idle"), "Idle pool threads (at most 16 are kept)")
    add("sleeping", lambda: _stat(kernel, "parked"), "Calls asleep in the kernel")
    add("queued", lambda: _stat(kernel, "queued"),
        "Connections waiting for a thread to read their calls (past the thread limit)")

    def set_grace(v):
        if v < 0:
            raise RumpError(errnos.EINVAL)
        kernel.fork_grace = v

    add("fork_grace", lambda: kernel.fork_grace,
        "Seconds a forked child may still claim its process after the parent left", set_grace)

    def get_hs():
        sp = kernel.sysproxy
        return int(sp.handshake_limit) if sp is not None else 0

    def set_hs(v):
        if v < 1 or v > 3600:
            raise RumpError(errnos.EINVAL)
        if kernel.sysproxy is not None:
            kernel.sysproxy.handshake_limit = float(v)

    add("handshake_timeout", get_hs,
        "Seconds a new connection has to complete its handshake", set_hs)


component = Component("rumpkern_sysproxy", _attach, unloadable=False, desc="remote system calls")
