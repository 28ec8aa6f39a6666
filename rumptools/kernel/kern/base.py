"""The `rump` base component: identity sysctl nodes and the core syscalls
(descriptors, pipes, poll/select, sleep, sysctl, modules, reboot)."""
from . import sys_descrip, sys_kern, sys_select
from .kernel import KERNEL_IDENT, OSRELEASE, OSREVISION, OSTYPE
from .module import Component
from .sysctl import BOOL, INT, QUAD, STRING

MAXHOSTNAMELEN = 256


def _attach(kernel, comp):
    s = kernel.sysctl

    def hostname_set(v):
        kernel.hostname = v

    def domainname_set(v):
        kernel.domainname = v

    s.add("kern.ostype", STRING, OSTYPE, owner=comp, desc="Operating system type")
    s.add("kern.osrelease", STRING, OSRELEASE, owner=comp, desc="Operating system release")
    s.add("kern.osrevision", INT, OSREVISION, owner=comp, desc="Operating system revision")
    s.add("kern.version", STRING, "%s %s (%s)\n" % (OSTYPE, OSRELEASE, KERNEL_IDENT), owner=comp,
          desc="Kernel version")
    s.add("kern.hostname", STRING, getter=lambda: kernel.hostname, setter=hostname_set,
          writable=True, maxlen=MAXHOSTNAMELEN, owner=comp, desc="System hostname")
    s.add("kern.domainname", STRING, getter=lambda: kernel.domainname, setter=domainname_set,
          writable=True, maxlen=MAXHOSTNAMELEN, owner=comp, desc="YP domain name")
    s.add("kern.hostid", INT, 0, writable=True, owner=comp, desc="System host ID number")
    s.add("kern.maxproc", INT, 30000, owner=comp, desc="Maximum number of simultaneous processes")
    s.add("kern.maxfiles", INT, 1024, owner=comp, desc="Maximum number of open files")
    s.add("kern.nprocs", INT, getter=lambda: len(kernel.procs), owner=comp,
          desc="Number of processes in the rump kernel")
    s.add("kern.nfiles", INT, getter=lambda: kernel.nfiles, owner=comp,
          desc="Number of open files in the rump kernel")
    s.add("kern.nlwps", INT, getter=lambda: kernel.nlwps, owner=comp,
          desc="Number of LWPs running or sleeping in system calls")
    s.add("kern.boottime", QUAD, int(kernel.boottime), owner=comp, desc="System boot time (seconds)")
    s.add("kern.securelevel", INT, -1, owner=comp, desc="System security level")
    s.add("hw.machine", STRING, "amd64", owner=comp, desc="Machine class")
    s.add("hw.machine_arch", STRING, "x86_64", owner=comp, desc="Machine CPU class")
    s.add("hw.model", STRING, "rumpcore (virtual)", owner=comp, desc="Machine model")
    s.add("hw.ncpu", INT, kernel.ncpu, owner=comp, desc="Number of CPUs configured")
    s.add("hw.ncpuonline", INT, kernel.ncpu, owner=comp, desc="Number of CPUs online")
    mem = kernel.memlimit if kernel.memlimit else kernel.host.memory_bytes()
    s.add("hw.physmem", INT, min(mem, 0xFFFFFFFF), owner=comp, flags=4, desc="Bytes of physical memory")
    s.add("hw.physmem64", QUAD, mem, owner=comp, desc="Bytes of physical memory")
    s.add("hw.usermem", INT, min(mem, 0xFFFFFFFF), owner=comp, flags=4, desc="Bytes of non-kernel memory")
    s.add("hw.pagesize", INT, 4096, owner=comp, desc="Software page size")
    s.add("hw.byteorder", INT, 1234, owner=comp, desc="System byte order")
    s.add("kern.rump.verbose", BOOL, 1 if kernel.verbose else 0, owner=comp,
          desc="Boot messages on the console (-v)")
    s.add("kern.rump.callouts", INT, getter=kernel.callouts.pending, owner=comp,
          desc="Callouts armed on the kernel clock (stopped ones are removed at once)")
    for table in (sys_descrip.HANDLERS, sys_kern.HANDLERS, sys_select.HANDLERS):
        for nr, fn in table.items():
            kernel.add_syscall(nr, fn, comp)


component = Component("rump", _attach, unloadable=False, desc="kernel core")
