"""getvfsstat(2): the statvfs of every mount, in mount order (what mount(8)
and df(1) list).  The flags argument (ST_WAIT/ST_NOWAIT) changes nothing here:
the numbers are always current."""
from ..kern.syscall import Syscalls
from .sysutil import vfs_of

syscalls = Syscalls()


@syscalls("getvfsstat")
def sys_getvfsstat(lwp, flags):
    out = []
    for m in vfs_of(lwp).mounts.mounts:
        if m.covered is None and m is not vfs_of(lwp).mounts.mounts[0]:
            continue
        out.append(tuple(m.statvfs()))
    return (tuple(out),)
