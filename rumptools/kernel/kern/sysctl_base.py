"""The sysctl nodes of a bare NetBSD 7.99 rump kernel, with NetBSD's numbers.

What NetBSD's librump creates at boot (init_sysctl_base.c, kern_tc.c,
kern_module.c, kern_uidinfo.c, sys_pipe.c, subr_cprng.c, kern_resource.c,
secmodel_suser.c, the user node of <sys/sysctl.h>), with the values a rump
kernel on amd64 reports, and rumptools' own additions (kern.rump.*, the
counters kern.nprocs/nfiles/nlwps).  proc.curproc.* belongs to the calling
process: every client process has its own limits, core name and stop flags,
and a fork inherits them.  Kernel lock held by callers.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from .kernel import KERNEL_IDENT, OSRELEASE, OSREVISION, OSTYPE
from ...abi.sysctl import BOOL, INT, QUAD, STRING, STRUCT
from .sysctl import F_PROC

MAXHOSTNAMELEN = 256
MAXPATHLEN = 1024
HZ = 100
RAW_PART = 3                        # amd64: partition d is the whole disk
ALIGNBYTES = 7                      # amd64
DEFAULT_PHYSMEM = 256 << 20         # NetBSD's rump kernel without RUMP_MEMLIMIT (emul.c)
RLIM_INFINITY = (1 << 63) - 1
PROC_CURPROC = 0x7FFFFFFF           # ~(1 << 31)

# Limits of proc0 (kern_resource.c resource_init) with rump's MAXUSERS 32:
# maxfiles 1772, maxproc 532, maxuprc 160, OPEN_MAX 128, maxlwp 2048,
# and 4 GiB of "free" memory (rump's fixed uvmexp.free) for rss and memlock.
_MEM = 4 << 30
RLIMITS = (  # name, number, soft, hard
    ("cputime", 1, RLIM_INFINITY, RLIM_INFINITY),
    ("filesize", 2, RLIM_INFINITY, RLIM_INFINITY),
    ("datasize", 3, RLIM_INFINITY, RLIM_INFINITY),
    ("stacksize", 4, RLIM_INFINITY, RLIM_INFINITY),
    ("coredumpsize", 5, RLIM_INFINITY, RLIM_INFINITY),
    ("memoryuse", 6, RLIM_INFINITY, _MEM),
    ("memorylocked", 7, _MEM // 3, _MEM),
    ("maxproc", 8, 160, 532),
    ("descriptors", 9, 128, 1772),
    ("sbsize", 10, RLIM_INFINITY, RLIM_INFINITY),
    ("vmemoryuse", 11, RLIM_INFINITY, RLIM_INFINITY),
    ("maxlwp", 12, 160, 2048),
)
RLIMIT_DESC = {"cputime": "CPU time", "filesize": "File size", "datasize": "Data size",
               "stacksize": "Stack size", "coredumpsize": "Core file size",
               "memoryuse": "Resident set size", "memorylocked": "Locked memory",
               "maxproc": "Number of processes", "descriptors": "Number of descriptors",
               "sbsize": "Socket buffer size", "vmemoryuse": "Virtual memory size",
               "maxlwp": "Number of LWPs"}

# The user node (USER_CS_PATH ... USER_ATEXIT_MAX): POSIX values of NetBSD 7.
USER = (
    ("cs_path", 1, STRING, "/usr/bin:/bin:/usr/sbin:/sbin:/usr/pkg/bin:/usr/pkg/sbin:"
                           "/usr/local/bin:/usr/local/sbin", "PATH finding all of the standard utilities"),
    ("bc_base_max", 2, INT, 99, "Max ibase/obase values in bc(1)"),
    ("bc_dim_max", 3, INT, 2048, "Max array size in bc(1)"),
    ("bc_scale_max", 4, INT, 99, "Max scale value in bc(1)"),
    ("bc_string_max", 5, INT, 1000, "Max string length in bc(1)"),
    ("coll_weights_max", 6, INT, 2, "Max weights that can be assigned to any entry in the LC_COLLATE order keyword in the locale definition file"),
    ("expr_nest_max", 7, INT, 32, "Max number of nested expressions in expr(1)"),
    ("line_max", 8, INT, 2048, "Max length in bytes of a text-processing utility's input line"),
    ("re_dup_max", 9, INT, 255, "Number of repeated occurrences of a BRE permitted when using interval notation"),
    ("posix2_version", 10, INT, 200112, "Version of POSIX 1003.2 with which the system attempts to comply"),
    ("posix2_c_bind", 11, INT, 1, "Whether the system's C-language development facilities support the C-Language Bindings Option"),
    ("posix2_c_dev", 12, INT, 0, "Whether the system supports the C-Language Development Utilities Option"),
    ("posix2_char_term", 13, INT, 0, "Whether the system supports at least one terminal type capable of all operations described in POSIX 1003.2"),
    ("posix2_fort_dev", 14, INT, 0, "Whether the system supports the FORTRAN Development Utilities Option"),
    ("posix2_fort_run", 15, INT, 0, "Whether the system supports the FORTRAN Runtime Utilities Option"),
    ("posix2_localedef", 16, INT, 0, "Whether the system supports the creation of locales"),
    ("posix2_sw_dev", 17, INT, 0, "Whether the system supports the Software Development Utilities Option"),
    ("posix2_upe", 18, INT, 0, "Whether the system supports the User Portability Utilities Option"),
    ("stream_max", 19, INT, 20, "Min Maximum number of streams that one process can have open at any one time"),
    ("tzname_max", 20, INT, 6, "Min Maximum number of types supported for the name of a timezone"),
    ("atexit_max", 21, INT, 32, "Max number of functions that may be registered with atexit(3)"),
)


def physmem(kernel):
    """The kernel's memory: the -r limit, else the 256 MiB NetBSD's rump kernel reports."""
    return kernel.memlimit or DEFAULT_PHYSMEM


def proc_state(proc):
    """The per-process sysctl state of `proc` (proc0's values until it sets its own;
    a fork copies its parent's, see proc.ProcTable.fork)."""
    st = proc.sysctl_state
    if st is None:
        st = proc.sysctl_state = {"corename": "%n.core", "stopfork": 0, "stopexec": 0, "stopexit": 0}
        for name, _num, soft, hard in RLIMITS:
            st[name] = [soft, hard]
    return st


def attach(ctx):
    """Add the nodes through the base component's attach context."""
    kernel, comp = ctx.kernel, ctx.comp
    s = kernel.sysctl
    t0 = kernel.host.clock.now()

    def add(path, kind, value=None, num=None, **kw):
        return ctx.sysctl(path, kind, value, num=num, **kw)

    def hostname_set(v):
        kernel.hostname = v

    def domainname_set(v):
        kernel.domainname = v

    # kern: the fixed numbers of <sys/sysctl.h>, then CTL_CREATE ones from 1024
    add("kern.ostype", STRING, OSTYPE, 1, desc="Operating system type")
    add("kern.osrelease", STRING, OSRELEASE, 2, desc="Operating system release")
    add("kern.osrevision", INT, OSREVISION, 3, desc="Operating system revision")
    add("kern.version", STRING, "%s %s (%s)\n" % (OSTYPE, OSRELEASE, KERNEL_IDENT), 4, desc="Kernel version")
    add("kern.maxproc", INT, 30000, 6, desc="Maximum number of simultaneous processes")
    add("kern.maxfiles", INT, 1024, 7, desc="Maximum number of open files")
    add("kern.securelevel", INT, -1, 9, desc="System security level")
    add("kern.hostname", STRING, getter=lambda: kernel.hostname, setter=hostname_set, num=10,
        writable=True, maxlen=MAXHOSTNAMELEN, desc="System hostname")
    add("kern.hostid", INT, 0, 11, writable=True, desc="System host ID number")
    add("kern.clockrate", STRUCT, getter=lambda: (10000, 40, HZ, HZ, HZ), num=12,
        desc="Kernel clock rates")
    add("kern.domainname", STRING, getter=lambda: kernel.domainname, setter=domainname_set, num=22,
        writable=True, maxlen=MAXHOSTNAMELEN, desc="YP domain name")
    add("kern.rawpartition", INT, RAW_PART, 24, desc="Raw partition of a disk")
    add("kern.msgbufsize", INT, 16384, 31, desc="Size of the kernel message buffer")
    s.node("kern.pipe", 56, "Pipe settings", owner=comp)
    add("kern.pipe.maxkvasz", INT, 16 << 20, 1, writable=True,
        desc="Maximum amount of kernel memory to be used for pipes")
    add("kern.pipe.maxloankvasz", INT, 4 << 20, 2, writable=True,
        desc="Limit for direct transfers via page loan")
    add("kern.pipe.maxbigpipes", INT, 32, 3, writable=True, desc="Maximum number of \"big\" pipes")
    add("kern.pipe.nbigpipes", INT, 0, 4, desc="Number of \"big\" pipes")
    add("kern.pipe.kvasize", INT, 0, 5, desc="Amount of kernel memory consumed by pipe buffers")
    add("kern.urandom", INT, getter=lambda: int.from_bytes(kernel.host.random(4), "little", signed=True),
        num=61, desc="Random integer value")
    add("kern.hardclock_ticks", INT, getter=lambda: int((kernel.host.clock.now() - t0) * HZ) & 0x7FFFFFFF,
        num=80, desc="Number of hardclock ticks")
    add("kern.arandom", STRUCT, getter=lambda: kernel.host.random(16), num=81, desc="n bytes of random data")
    add("kern.file2", STRUCT, getter=lambda: file_rows(kernel), num=77,
        desc="System open file table (FILE2_FIELDS rows)")
    add("kern.boottime", STRUCT, getter=lambda: (int(kernel.boottime), int(kernel.boottime % 1 * 1e6)),
        num=83, desc="System boot time")
    s.node("kern.module", desc="Module options", owner=comp)
    add("kern.module.autoload", BOOL, 0, writable=True, desc="Enable automatic load of modules")
    add("kern.module.verbose", BOOL, 0, writable=True, desc="Enable verbose output")
    s.node("kern.timecounter", desc="time counter information", owner=comp)
    add("kern.timecounter.choice", STRING, "rumpclk(q=0, f=100 Hz) dummy(q=-1000000, f=1000000 Hz)",
        desc="available counters")
    add("kern.timecounter.hardware", STRING, "rumpclk", writable=True, maxlen=16,
        desc="currently active time counter")
    add("kern.timecounter.timestepwarnings", INT, 0, writable=True, desc="log time steps")
    s.node("kern.uidinfo", desc="Resource usage per uid", owner=comp)
    add("kern.uidinfo.proccnt", QUAD, getter=lambda: len(kernel.procs), desc="Number of processes for the current user")
    add("kern.uidinfo.lwpcnt", QUAD, getter=lambda: kernel.nlwps, desc="Number of lwps for the current user")
    add("kern.uidinfo.sbsize", QUAD, 0, desc="Socket buffers used for the current user")
    s.node("kern.posix", desc="POSIX options", owner=comp)
    add("kern.posix.semmax", INT, 128, writable=True, desc="Maximal number of semaphores")
    add("kern.direct_select", INT, 0, writable=True, desc="Enable/disable direct select (for testing)")
    add("kern.rump.verbose", BOOL, 1 if kernel.verbose else 0, desc="Boot messages on the console (-v)")
    add("kern.rump.callouts", INT, getter=kernel.callouts.pending,
        desc="Callouts armed on the kernel clock (stopped ones are removed at once)")
    add("kern.nprocs", INT, getter=lambda: len(kernel.procs), desc="Number of processes in the rump kernel")
    add("kern.nfiles", INT, getter=lambda: kernel.nfiles, desc="Number of open files in the rump kernel")
    add("kern.nlwps", INT, getter=lambda: kernel.nlwps,
        desc="Number of LWPs running or sleeping in system calls")

    # hw (init_sysctl_base.c's hw subtree)
    mem = physmem(kernel)
    add("hw.machine", STRING, "amd64", 1, desc="Machine class")
    add("hw.model", STRING, "rumpcore (virtual)", 2, desc="Machine model")
    add("hw.ncpu", INT, kernel.ncpu, 3, desc="Number of CPUs configured")
    add("hw.byteorder", INT, 1234, 4, desc="System byte order")
    clipped = min(mem, 0xFFFFFFFF)          # a u_int stored in an int node, as NetBSD does
    add("hw.physmem", INT, clipped - (1 << 32) if clipped >= 1 << 31 else clipped, 5,
        desc="Bytes of physical memory")
    add("hw.pagesize", INT, 4096, 7, desc="Software page size")
    add("hw.machine_arch", STRING, "x86_64", 10, desc="Machine CPU class")
    add("hw.alignbytes", INT, ALIGNBYTES, 11, desc="Alignment constraint for all possible data types")
    add("hw.physmem64", QUAD, mem, 13, desc="Bytes of physical memory")
    add("hw.ncpuonline", INT, kernel.ncpu, 16, desc="Number of CPUs online")

    # user
    for name, num, kind, value, desc in USER:
        add("user." + name, kind, value, num, desc=desc)

    # proc.curproc: the calling process's own
    s.node("proc.curproc", PROC_CURPROC, "Per-process settings", owner=comp)
    add("proc.curproc.corename", STRING, num=1, flags=F_PROC, writable=True, maxlen=MAXPATHLEN,
        getter=lambda p: proc_state(p)["corename"], setter=_corename_set, desc="Core file name")
    s.node("proc.curproc.rlimit", 2, "Process limits", owner=comp)
    for name, num, _soft, _hard in RLIMITS:
        s.node("proc.curproc.rlimit." + name, num, RLIMIT_DESC[name] + " limit", owner=comp)
        for which, wnum in (("soft", 1), ("hard", 2)):
            add("proc.curproc.rlimit.%s.%s" % (name, which), QUAD, num=wnum, flags=F_PROC, writable=True,
                getter=_limit_get(name, wnum - 1), setter=_limit_set(name, wnum - 1),
                desc="%s %s limit" % ("Current" if wnum == 1 else "Maximum", RLIMIT_DESC[name].lower()))
    for name, num, what in (("stopfork", 3, "fork"), ("stopexec", 4, "exec"), ("stopexit", 5, "exit")):
        add("proc.curproc." + name, INT, num=num, flags=F_PROC, writable=True,
            getter=_flag_get(name), setter=_flag_set(name), desc="Stop process at %s" % what)

    # security: the traditional superuser model is the one a rump kernel runs
    s.node("security.models", desc="Security models", owner=comp)
    s.node("security.models.suser", desc="Traditional NetBSD: Superuser", owner=comp)
    add("security.models.suser.name", STRING, "Traditional NetBSD: Superuser", desc="Name of this security model")


def _corename_set(proc, value):
    if not value:
        raise RumpError(errnos.EINVAL)
    proc_state(proc)["corename"] = value


def _limit_get(name, index):
    return lambda proc: proc_state(proc)[name][index]


def _limit_set(name, index):
    def setter(proc, value):
        if value < 0:
            raise RumpError(errnos.EINVAL)
        lim = proc_state(proc)[name]
        new = list(lim)
        new[index] = min(value, RLIM_INFINITY)
        if index == 1 and new[0] > new[1]:       # lowering the hard limit lowers the soft one
            new[0] = new[1]
        if new[0] > new[1]:
            raise RumpError(errnos.EINVAL)
        lim[:] = new
    return setter


def _flag_get(name):
    return lambda proc: proc_state(proc)[name]


def _flag_set(name):
    def setter(proc, value):
        proc_state(proc)[name] = value
    return setter


DTYPES = {"vnode": 1, "socket": 2, "pipe": 3}


def file_rows(kernel):
    """kern.file2: every descriptor of every process as FILE2_FIELDS (abi/sysctl.py), by pid and fd.

    data is an opaque id of the open file's object: for a socket the one its
    kinfo_pcb record has as ki_sockaddr."""
    rows = []
    for pid in sorted(kernel.procs.procs):
        proc = kernel.procs.procs[pid]
        for fd in sorted(proc.files.slots):
            fp = proc.files.slots[fd][0]
            rows.append((pid, fd, DTYPES.get(fp.kind, 0), id(fp), proc.uid, proc.comm))
    return tuple(rows)
