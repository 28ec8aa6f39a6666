"""The sysctl nodes rumpvfs brings, with NetBSD's numbers and a rump kernel's values.

vfs.generic (vfs_init.c, vfs_lookup.c, vfs_dirhash.c), vfs.sync (sync_subr.c),
vfs.wapbl (vfs_wapbl.c), the buffer cache's vm.buf* (vfs_bio.c), kern.maxvnodes
and hw.firmware.path (subr_firmload.c).  The buffer cache numbers are those of
the kernel's own cache (rumptools.kernel.dev.bufcache).
"""
from ...abi.sysctl import INT, QUAD, STRING

FIRMWARE_PATH = ("/libdata/firmware:/usr/libdata/firmware:/usr/pkg/libdata/firmware:"
                 "/usr/pkg/libdata")


def attach(ctx, vfs, cache):
    """Add the nodes through rumpvfs's attach context; vfs and cache are its slots' objects."""
    s, comp = ctx.kernel.sysctl, ctx.comp

    def add(path, kind, value=None, num=None, **kw):
        return ctx.sysctl(path, kind, value, num=num, **kw)

    add("kern.maxvnodes", INT, 1024, 5, writable=True, desc="Maximum number of vnodes")
    add("vm.bufcache", INT, 15, writable=True, desc="Percentage of physical memory to use for buffer cache")
    add("vm.bufmem", QUAD, getter=lambda: cache.bytes,
        desc="Amount of kernel memory used by buffer cache")
    add("vm.bufmem_lowater", QUAD, getter=lambda: cache.capacity >> 3,
        desc="Minimum amount of kernel memory to reserve for buffer cache")
    add("vm.bufmem_hiwater", QUAD, getter=lambda: cache.capacity,
        desc="Maximum amount of kernel memory to use for buffer cache")
    s.node("vfs.generic", 0, "Non-specific vfs related information", owner=comp)
    add("vfs.generic.maxtypenum", INT, 30, 1, desc="Highest valid filesystem type number")
    add("vfs.generic.magiclinks", INT, 0, 4, writable=True, desc="Whether \"magic\" symlinks are expanded")
    add("vfs.generic.fstypes", STRING, getter=lambda: " ".join(reversed(list(vfs.fstypes))),
        desc="List of file systems present")
    s.node("vfs.generic.dirhash", desc="dirhash control", owner=comp)
    add("vfs.generic.dirhash.memused", INT, 0, desc="current dirhash memory usage")
    add("vfs.generic.dirhash.maxmem", INT, 1 << 20, writable=True, desc="maximum dirhash memory usage")
    s.node("vfs.sync", desc="syncer options", owner=comp)
    add("vfs.sync.delay", INT, 30, writable=True, desc="max time to delay syncing data")
    add("vfs.sync.filedelay", INT, 30, writable=True, desc="time to delay syncing files")
    add("vfs.sync.dirdelay", INT, 15, writable=True, desc="time to delay syncing directories")
    add("vfs.sync.metadelay", INT, 10, writable=True, desc="time to delay syncing metadata")
    s.node("vfs.wapbl", desc="WAPBL journaling options", owner=comp)
    add("vfs.wapbl.flush_disk_cache", INT, 1, writable=True, desc="flush disk cache")
    add("vfs.wapbl.verbose_commit", INT, 0, writable=True, desc="show time and size of wapbl log commits")
    s.node("hw.firmware", desc="Device firmware parameters", owner=comp)
    add("hw.firmware.path", STRING, FIRMWARE_PATH, writable=True, maxlen=1024, desc="Device firmware loading path list")
