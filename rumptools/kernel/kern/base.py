"""The `rump` base component: identity sysctl nodes and the core syscalls.

Provides no slot: the kernel object itself is the core."""
from . import sys_descrip, sys_kern
from .kernel import KERNEL_IDENT, OSRELEASE, OSREVISION, OSTYPE
from .module import Component
from ...abi.sysctl import BOOL, F_UNSIGNED, INT, QUAD, STRING

MAXHOSTNAMELEN = 256


def _attach(ctx):
    kernel = ctx.kernel
    add = ctx.sysctl

    def hostname_set(v):
        kernel.hostname = v

    def domainname_set(v):
        kernel.domainname = v

    add("kern.ostype", STRING, OSTYPE, desc="Operating system type")
    add("kern.osrelease", STRING, OSRELEASE, desc="Operating system release")
    add("kern.osrevision", INT, OSREVISION, desc="Operating system revision")
    add("kern.version", STRING, "%s %s (%s)\n" % (OSTYPE, OSRELEASE, KERNEL_IDENT),
        desc="Kernel version")
    add("kern.hostname", STRING, getter=lambda: kernel.hostname, setter=hostname_set,
          writable=True, maxlen=MAXHOSTNAMELEN, desc="System hostname")
    add("kern.domainname", STRING, getter=lambda: kernel.domainname, setter=domainname_set,
          writable=True, maxlen=MAXHOSTNAMELEN, desc="YP domain name")
    add("kern.hostid", INT, 0, writable=True, desc="System host ID number")
    add("kern.maxproc", INT, 30000, desc="Maximum number of simultaneous processes")
    add("kern.maxfiles", INT, 1024, desc="Maximum number of open files")
    add("kern.nprocs", INT, getter=lambda: len(kernel.procs),
        desc="Number of processes in the rump kernel")
    add("kern.nfiles", INT, getter=lambda: kernel.nfiles,
        desc="Number of open files in the rump kernel")
    add("kern.nlwps", INT, getter=lambda: kernel.nlwps,
        desc="Number of LWPs running or sleeping in system calls")
    add("kern.boottime", QUAD, int(kernel.boottime), desc="System boot time (seconds)")
    add("kern.securelevel", INT, -1, desc="System security level")
    add("hw.machine", STRING, "amd64", desc="Machine class")
    add("hw.machine_arch", STRING, "x86_64", desc="Machine CPU class")
    add("hw.model", STRING, "rumpcore (virtual)", desc="Machine model")
    add("hw.ncpu", INT, kernel.ncpu, desc="Number of CPUs configured")
    add("hw.ncpuonline", INT, kernel.ncpu, desc="Number of CPUs online")
    mem = kernel.memlimit if kernel.memlimit else kernel.host.memory_bytes()
    add("hw.physmem", INT, min(mem, 0xFFFFFFFF), flags=F_UNSIGNED, desc="Bytes of physical memory")
    add("hw.physmem64", QUAD, mem, desc="Bytes of physical memory")
    add("hw.usermem", INT, min(mem, 0xFFFFFFFF), flags=F_UNSIGNED, desc="Bytes of non-kernel memory")
    add("hw.pagesize", INT, 4096, desc="Software page size")
    add("hw.byteorder", INT, 1234, desc="System byte order")
    add("kern.rump.verbose", BOOL, 1 if kernel.verbose else 0,
        desc="Boot messages on the console (-v)")
    ctx.add_syscalls(sys_descrip.syscalls)
    ctx.add_syscalls(sys_kern.syscalls)


component = Component("rump", _attach, unloadable=False, desc="kernel core")
