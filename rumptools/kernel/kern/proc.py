"""Processes and LWPs of the rump kernel.

Every sysproxy client connection is a process: pid, root credentials, cwd,
umask and a descriptor table. Each call in progress is an LWP. pid 1 is
`rumplocal`, the kernel's own init; clients are forked from it with an empty
descriptor table (or from a parked process, for fork).
"""
from .files import FileTable

class Lwp:
    __slots__ = ("proc", "lid", "cond", "wchan", "woken", "wokenby", "timer", "selrecs",
                 "before_sleep_hook", "after_reply")

    def __init__(self, proc, lid, before_sleep=None):
        self.proc = proc
        self.lid = lid
        self.cond = None
        self.wchan = None           # the channels slept on (a tuple) while asleep
        self.woken = None
        self.wokenby = None         # the channel whose wakeup ended the last sleep
        self.timer = None           # this LWP's sleep timeout (a Callout, made on first use)
        self.selrecs = None         # poll/select: selinfo records noted during a scan
        self.before_sleep_hook = before_sleep     # sysproxy: called once before the LWP first sleeps
        self.after_reply = None     # run by sysproxy once the reply is on the wire

    def before_sleep(self):
        hook = self.before_sleep_hook
        if hook is not None:
            self.before_sleep_hook = None
            hook()


class Proc:
    def __init__(self, kernel, pid, comm, files, parent=None):
        self.kernel = kernel
        self.pid = pid
        self.comm = comm
        self.ppid = parent.pid if parent else 0
        self.uid = self.gid = 0
        self.umask = parent.umask if parent else 0o022
        self.cwd = parent.cwd if parent else None
        self.files = files
        self.lwps = set()
        self.next_lid = 1
        self.exiting = False
        self.signal_sink = None     # sysproxy: callable(signo) that raises on the client
        self.sysctl_state = None    # proc.curproc.* (sysctl_base.proc_state), copied by fork

    def new_lwp(self, before_sleep=None):
        lwp = Lwp(self, self.next_lid, before_sleep)
        self.next_lid += 1
        self.lwps.add(lwp)
        self.kernel.nlwps += 1
        return lwp

    def lwp_exit(self, lwp):
        if lwp in self.lwps:
            self.lwps.discard(lwp)
            self.kernel.nlwps -= 1

    def psignal(self, signo):
        """Raise a signal in the client (NetBSD numbering)."""
        if self.signal_sink is not None:
            self.signal_sink(signo)


class ProcTable:
    def __init__(self, kernel):
        self.kernel = kernel
        self.procs = {}
        self.next_pid = 2
        self.init = Proc(kernel, 1, "rumplocal", FileTable(kernel))
        self.procs[1] = self.init

    def _pid(self):
        while self.next_pid in self.procs:
            self.next_pid += 1
            if self.next_pid > 30000:
                self.next_pid = 2
        pid = self.next_pid
        self.next_pid += 1
        return pid

    def spawn(self, comm):
        """A new process forked from init with an empty descriptor table."""
        p = Proc(self.kernel, self._pid(), comm, FileTable(self.kernel), self.init)
        self.procs[p.pid] = p
        return p

    def fork(self, parent, comm=None):
        """A child with a copy of the parent's descriptor table."""
        p = Proc(self.kernel, self._pid(), comm or parent.comm, parent.files.copy(), parent)
        if parent.sysctl_state is not None:
            p.sysctl_state = {k: (list(v) if type(v) is list else v) for k, v in parent.sysctl_state.items()}
        self.procs[p.pid] = p
        return p

    def exit(self, proc):
        """Process exit: interrupt its sleeping LWPs and release its descriptors.

        LWPs still running finish their call and find proc.exiting set.
        """
        proc.exiting = True
        for lwp in list(proc.lwps):
            self.kernel.sleepq.interrupt(lwp)
        proc.files.close_all()
        self.procs.pop(proc.pid, None)

    def __len__(self):
        return len(self.procs)
