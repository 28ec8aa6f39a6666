"""Processes and LWPs of the rump kernel.

Every sysproxy client connection is a process: pid, root credentials, cwd,
umask and a descriptor table. Each call in progress is an LWP. pid 1 is
`rumplocal`, the kernel's own init; clients are forked from it with an empty
descriptor table (or from a parked process, for fork).

The sysproxy server drives processes only through ProcTable's API: spawn
(a new client), fork + park (prefork: a child kept aside under a random
cookie until a new connection claims it), claim, orphan (the parent's
connection went away: its parked children expire after fork_grace
seconds), exec and exit. Kernel lock held for all of them.
"""
from .files import FileTable

class Lwp:
    __slots__ = ("proc", "lid", "cond", "wchan", "woken", "wokenby", "timer", "selrecs",
                 "before_sleep_hook", "after_reply", "tag", "interrupted")

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
        self.tag = None             # sysproxy: the request number of the call it runs
        self.interrupted = False    # its client interrupted the call: sleeps fail with EINTR

    def before_sleep(self):
        softints = self.proc.kernel.softints
        if softints.deferred:           # what this call scheduled must not wait for its sleep
            softints.kick()
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


MAX_PARKED = 64


class ProcTable:
    def __init__(self, kernel):
        self.kernel = kernel
        self.procs = {}
        self.parked = {}            # cookie -> (proc, owner token or None once orphaned)
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

    def park(self, parent, owner):
        """prefork: fork parent and keep the child aside (not running); return its cookie."""
        child = self.fork(parent)
        del self.procs[child.pid]
        cookie = self.kernel.host.random(16)
        self.parked[cookie] = (child, owner)
        while len(self.parked) > MAX_PARKED:
            old, _owner = self.parked.pop(next(iter(self.parked)))
            self.exit(old)
        return cookie

    def claim(self, cookie):
        """A fork handshake: the parked child runs again, or None for an unknown cookie."""
        proc, _owner = self.parked.pop(cookie, (None, None))
        if proc is not None:
            self.procs[proc.pid] = proc
        return proc

    def cancel(self, cookie):
        """The forking client gave up: the parked child exits. True if there was one."""
        proc, _owner = self.parked.pop(cookie, (None, None))
        if proc is None:
            return False
        self.exit(proc)
        return True

    def orphan(self, owner):
        """The owner of parked children went away: its children may still be claimed
        (daemon(3) exits the parent first), but only for kernel.fork_grace seconds."""
        k = self.kernel
        for cookie, (proc, who) in list(self.parked.items()):
            if who is owner:
                self.parked[cookie] = (proc, None)
                k.callouts.schedule(k.fork_grace, self._expire_parked, cookie)

    def _expire_parked(self, cookie):
        entry = self.parked.get(cookie)
        if entry is not None and entry[1] is None:
            del self.parked[cookie]
            self.exit(entry[0])

    def exec(self, proc, comm):
        """The client exec'd: same process, close-on-exec descriptors closed. Calls the
        old image left sleeping have no caller any more: they are interrupted, as a
        kernel ends the other LWPs of an exec'ing process."""
        for lwp in list(proc.lwps):
            self.kernel.sleepq.interrupt(lwp)
        proc.files.exec_close()
        proc.comm = comm

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
