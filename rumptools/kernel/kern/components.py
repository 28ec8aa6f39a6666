"""Every component name rump_server knows, what each requires, and where its code lives.

A component is a kernel module in NetBSD's sense: -l names it at boot,
rump.modload adds one to a running kernel. `impl` is the Python module
holding its Component object, or None while it is not available yet.
The list is NetBSD's (specs/rump_server.md §4); requirements are enforced.
"""
from collections import namedtuple

Entry = namedtuple("Entry", "name klass requires impl")

_K = "rumptools.kernel."
_E = Entry
REGISTRY = {e.name: e for e in (
    # kernel core and friends
    _E("rump", "misc", (), _K + "kern.base"),
    _E("rumpkern_sysproxy", "misc", (), _K + "kern.base_sysproxy"),
    _E("rumpkern_crypto", "misc", (), _K + "kern.crypto"),
    _E("rumpkern_z", "misc", (), _K + "kern.zlib"),
    _E("rumpkern_tty", "misc", (), None),
    _E("rumpkern_sljit", "misc", (), None),
    _E("rumpkern_solaris", "misc", (), None),
    _E("rumpkern_sys_linux", "exec", (), None),
    _E("rumpkern_sys_sunos", "exec", (), None),
    _E("rumpkern_sys_cygwin", "exec", (), None),
    # VFS and devices
    _E("rumpvfs", "misc", (), _K + "vfs.component"),
    _E("rumpdev", "misc", (), _K + "dev.autoconf"),
    _E("rumpdev_disk", "driver", ("rumpdev", "rumpvfs"), _K + "dev.disk_component"),
    _E("rumpdev_cgd", "driver", ("rumpkern_crypto", "rumpdev_disk", "rumpdev", "rumpvfs"), _K + "dev.cgd_component"),
    _E("rumpdev_opencrypto", "driver", ("rumpkern_crypto", "rumpkern_z", "rumpvfs"), None),
    _E("rumpdev_bpf", "driver", ("rumpnet_net", "rumpnet", "rumpdev", "rumpvfs"), _K + "net.bpf_component"),
    _E("rumpdev_audio", "driver", ("rumpdev", "rumpvfs"), None),
    _E("rumpdev_dm", "driver", ("rumpdev_disk", "rumpdev", "rumpvfs"), None),
    _E("rumpdev_drvctl", "driver", ("rumpdev", "rumpvfs"), None),
    _E("rumpdev_fss", "driver", ("rumpdev_disk", "rumpdev", "rumpvfs"), None),
    _E("rumpdev_md", "driver", ("rumpdev_disk", "rumpdev", "rumpvfs"), None),
    _E("rumpdev_netsmb", "driver", ("rumpdev", "rumpvfs"), None),
    _E("rumpdev_pad", "driver", ("rumpdev", "rumpvfs"), None),
    _E("rumpdev_pud", "driver", ("rumpdev", "rumpvfs"), None),
    _E("rumpdev_putter", "driver", ("rumpdev", "rumpvfs"), None),
    _E("rumpdev_raidframe", "driver", ("rumpdev_disk", "rumpdev", "rumpvfs"), None),
    _E("rumpdev_rnd", "driver", ("rumpdev", "rumpvfs"), None),
    _E("rumpdev_scsipi", "driver", ("rumpdev", "rumpvfs"), None),
    _E("rumpdev_sysmon", "driver", ("rumpdev", "rumpvfs"), None),
    _E("rumpdev_vnd", "driver", ("rumpdev_disk", "rumpdev", "rumpvfs"), None),
    _E("rumpdev_wscons", "driver", ("rumpdev", "rumpvfs"), None),
    # file systems
    _E("rumpfs_ffs", "vfs", ("rumpvfs",), _K + "fs.ffs.component"),
    _E("rumpfs_nfs", "vfs", ("rumpvfs", "rumpnet_netinet", "rumpnet_net", "rumpnet"), None),
    _E("rumpfs_nfsserver", "vfs", ("rumpfs_nfs", "rumpnet_local"), None),
) + tuple(_E("rumpfs_" + fs, "vfs", ("rumpvfs",), None) for fs in (
    "tmpfs", "msdos", "cd9660", "ext2fs", "efs", "fdesc", "hfs", "kernfs", "lfs", "mfs",
    "nilfs", "ntfs", "null", "ptyfs", "smbfs", "syspuffs", "sysvbfs", "udf", "umap",
    "union", "v7fs", "zfs", "vfs_fifofs", "vfs_layerfs", "vfs_aio")) + (
    # networking
    _E("rumpnet", "misc", (), _K + "net.component"),
    _E("rumpnet_net", "misc", ("rumpnet",), _K + "net.net_component"),
    _E("rumpnet_netinet", "misc", ("rumpnet_net", "rumpnet"), _K + "netinet.component"),
    _E("rumpnet_netinet6", "misc", ("rumpnet_net", "rumpnet"), None),
    _E("rumpnet_local", "misc", ("rumpnet", "rumpvfs"), _K + "net.local_component"),
    _E("rumpnet_shmif", "driver", ("rumpnet_net", "rumpnet"), _K + "net.shmif_component"),
    _E("rumpnet_virtif", "driver", ("rumpnet_net", "rumpnet"), _K + "net.virt_component"),
    _E("rumpnet_tap", "driver", ("rumpnet_net", "rumpnet"), None),
    _E("rumpnet_config", "misc", ("rumpnet_net",), None),
    _E("rumpnet_sockin", "misc", ("rumpnet",), None),
) + tuple(_E("rumpnet_" + n, "misc", ("rumpnet_net", "rumpnet"), None) for n in (
    "agr", "bridge", "net80211", "netbt", "gif", "netmpls", "npf", "pppoe", "bpfjit"))}

BUILTIN = ("rump", "rumpkern_sysproxy")


def available():
    """Names of the components that have code: what rump_allserver loads."""
    return [n for n, e in REGISTRY.items() if e.impl]


def canonical(name):
    """Map what -l or modload was given (rumpvfs, librumpvfs.so, a path, vfs) to a component name."""
    base = name.rsplit("/", 1)[-1]
    if base.startswith("lib"):
        base = base[3:]
    for suffix in (".so", ".a"):
        if suffix in base:
            base = base[:base.index(suffix)]
    if base in REGISTRY:
        return base
    for entry in REGISTRY.values():
        if module_name(entry.name) == base:
            return entry.name
    return None


def module_name(component):
    """The NetBSD-style module name modstat shows: rumpfs_ffs -> ffs, rumpvfs -> vfs."""
    if component == "rump":
        return "rump"
    if component == "rumpnet_net":
        return "netif"          # "net" is rumpnet
    short = component[4:]
    for prefix in ("kern_", "dev_", "fs_", "net_"):
        if short.startswith(prefix):
            return short[len(prefix):]
    return short


def closure(names):
    """Order names so that every component comes after what it requires.

    Returns (ordered, missing) where missing maps a component to the
    requirements that were not named.
    """
    chosen = set(names)
    missing = {}
    for n in names:
        lack = [r for r in REGISTRY[n].requires if r not in chosen]
        if lack:
            missing[n] = lack
    ordered, seen = [], set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for r in REGISTRY[n].requires:
            if r in chosen:
                visit(r)
        ordered.append(n)

    for n in names:
        visit(n)
    return ordered, missing
