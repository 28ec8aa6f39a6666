"""The kernel object: boot, components, slots, syscall switch, reboot.

Locking rule: Kernel.lock guards everything reachable from here. Syscall
handlers, component attach/detach, callouts, softint handlers and sync hooks
run with it held. Threads of the kernel: the callout thread (callout.py)
and the softint thread (softint.py), both started at boot and stopped at
reboot. A host thread (a receive loop, a disk completion) never takes the
lock to change state: it hands work to a softint or a PktQueue.
Components reach each other through slots (kernel.slot("vfs")); each one's
additions are recorded by its attach context (kern/module.py). Syscall
handlers register by name (kern/syscall.py) into self.sysent.
"""
import importlib
import threading
import traceback

from ...abi import errnos
from ...abi.errnos import RumpError
from . import components as registry
from .callout import Callouts
from .module import AttachError
from .membudget import MemBudget
from .proc import ProcTable
from .sleepq import SleepQueues, curlwp_slot
from .softint import Softints
from .sysctl import SysctlTree

OSTYPE = "NetBSD"
OSRELEASE = "7.99.34"
OSREVISION = 799003400
KERNEL_IDENT = "RUMP-ROAST"
# What a handler raises when a client's value has the wrong type or range.
BAD_VALUE = (TypeError, ValueError, OverflowError)      # UnicodeError is a ValueError


class ComponentError(Exception):
    """A component could not be loaded: .name says which, str() says why."""

    def __init__(self, name, why, err=errnos.ENOENT):
        super().__init__(why)
        self.name = name
        self.errno = err


class Loaded:
    __slots__ = ("name", "component", "source", "ctx")

    def __init__(self, name, component, source, ctx):
        self.name, self.component, self.source, self.ctx = name, component, source, ctx


_MISSING = object()


class Kernel:
    def __init__(self, host, ncpu=2, memlimit=None, verbose=False, console=None):
        self.host = host
        self.ncpu = ncpu
        self.memlimit = memlimit
        # one budget for all a client can make the kernel keep (rumpfs, pipes, sockets)
        self.membudget = MemBudget(memlimit if memlimit and memlimit > 0 else host.memory_bytes() // 2)
        self.verbose = verbose
        self._console = console
        self.lock = threading.Lock()
        self.callouts = Callouts(self.lock, host.clock)
        self.callouts.report = self.console
        self.softints = Softints(self.lock, self.console)
        self.sleepq = SleepQueues(self.lock, self.callouts)
        self.sysctl = SysctlTree()
        self.sysent = {}            # number -> Sysent (kern/syscall.py)
        self.result_encoder = None  # set by the transport: table entry -> encoder of its results
        self.slots = {}             # subsystem name -> object, provided by components
        self.loaded = {}            # component name -> Loaded, in load order
        self.sync_hooks = []        # (owner, fn) run on sync: flush caches
        self.shutdown_hooks = []    # (owner, fn) run at halt, newest first
        self.nlwps = 0
        self.nfiles = 0
        self.nclients = 0
        self.sysproxy = None        # the sysproxy server, set by it: stats() for kern.sysproxy.*
        self.fork_grace = 30
        self.procs = ProcTable(self)
        self.halting = False
        self.boottime = host.wall_time()
        self.hostname = "rump-%05d.%s.rumpdomain" % (host.pid(), host.hostname()) \
            if host.hostname() else "rump-%05d.rumpdomain" % host.pid()
        self.domainname = ""
        self.devsw = {}             # major -> driver (see vfs/specfs.py)
        self.on_reboot = None       # set by the server: called with howto after reboot(2) replies

    # -- console -------------------------------------------------------------
    def console(self, text):
        if self._console is not None:
            self._console(text)

    # -- components ----------------------------------------------------------
    def boot(self, names=()):
        """Load the base and the named components (dependency order) and start threads."""
        wanted = list(registry.BUILTIN)
        for n in names:
            if n not in wanted:
                wanted.append(n)
        ordered, missing = registry.closure(wanted)
        if missing:
            name, lack = next(iter(missing.items()))
            raise ComponentError(name, "%s requires %s, which %s not loaded (add -l%s)"
                                 % (name, " and ".join(lack), "was" if len(lack) == 1 else "were",
                                    " -l".join(lack)))
        comps = [(n, self._import(n)) for n in ordered]
        with self.lock:
            for n, comp in comps:
                self._attach(n, comp, "builtin")
        self.callouts.running = True
        self.host.start_thread(self.callouts.thread_main, "callout")
        self.softints.start(self.host)

    def _import(self, name):
        entry = registry.REGISTRY.get(name)
        if entry is None:
            raise ComponentError(name, "%s: unknown component" % name)
        if entry.impl is None:
            raise ComponentError(name, "%s: component not available yet" % name, errnos.ENOSYS)
        try:
            mod = importlib.import_module(entry.impl)
        except ModuleNotFoundError as e:
            if e.name is None or not entry.impl.startswith(e.name):
                # a module it imports is missing: say which, do not pass it off as absence
                raise ComponentError(name, "%s: %s" % (name, e), errnos.ENOENT) from None
            raise ComponentError(name, "%s: component not available yet" % name, errnos.ENOSYS) from None
        return mod.component

    def _attach(self, name, comp, source):
        try:
            ctx = comp.attach(self)
        except AttachError as e:
            raise ComponentError(name, "%s: %s" % (name, e), errnos.ENOENT) from None
        self.loaded[name] = Loaded(name, comp, source, ctx)

    def slot(self, name, default=_MISSING):
        """The object a component provides under name (vfs, devfs, bufcache, cgd, ...).

        Without a default, a missing slot is ENOSYS: the component is not loaded."""
        obj = self.slots.get(name)
        if obj is None:
            if default is _MISSING:
                raise RumpError(errnos.ENOSYS)
            return default
        return obj

    def modload(self, request):
        """Load a component into the running kernel (modload). Lock held."""
        name = registry.canonical(request)
        if name is None:
            raise ComponentError(request, "%s: unknown component" % request)
        if name in self.loaded:
            raise ComponentError(name, "%s: already loaded" % name, errnos.EEXIST)
        comp = self._import(name)
        lack = [r for r in registry.REGISTRY[name].requires if r not in self.loaded]
        if lack:
            raise ComponentError(name, "%s requires %s" % (name, " and ".join(lack)), errnos.ENOENT)
        self._attach(name, comp, "filesys")
        return name

    def modunload(self, request):
        name = registry.canonical(request)
        if name is None or name not in self.loaded:
            raise ComponentError(request, "%s: not loaded" % request, errnos.ENOENT)
        if self.refs(name) or name in registry.BUILTIN or not self.loaded[name].component.unloadable:
            raise ComponentError(name, "%s: in use" % name, errnos.EBUSY)
        ld = self.loaded[name]
        ld.component.detach(ld.ctx)
        del self.loaded[name]
        return name

    def refs(self, name):
        return sum(1 for n in self.loaded if name in registry.REGISTRY[n].requires)

    def modstat(self):
        rows = []
        for n, ld in self.loaded.items():
            entry = registry.REGISTRY[n]
            rows.append((registry.module_name(n), entry.klass, ld.source, self.refs(n),
                         ",".join(registry.module_name(r) for r in entry.requires), n))
        return tuple(rows)

    # -- syscall switch ------------------------------------------------------
    def set_result_encoder(self, factory):
        """The transport's factory: table entry -> function encoding its results.
        Applied to the entries there are and to those added later."""
        self.result_encoder = factory
        for ent in self.sysent.values():
            ent.encode = factory(ent.sc)

    def syscall(self, proc, number, args, before_sleep=None):
        """Run one system call by number (ENOSYS if nothing handles it)."""
        ent = self.sysent.get(number)
        if ent is None:
            return errnos.ENOSYS, (), None, None
        return self.run(proc, ent, args, before_sleep)

    def run(self, proc, ent, args, before_sleep=None, tag=None):
        """Run one system call as a new LWP of proc. Takes the kernel lock.

        tag marks the LWP for interrupt() (sysproxy: the request number).
        Returns (errno, results, after_reply, detail). A handler that trips
        over a client's value of the wrong type or range (TypeError,
        ValueError, OverflowError, UnicodeError: wire values are typed, so
        these come from arguments) answers EINVAL with no traceback, noted
        on the console with -v. A kernel bug (any other exception) is
        reported on the console and answered with EIO: a bad call never
        takes the kernel down.
        """
        with self.lock:
            if not ent.live:                # its component was unloaded meanwhile
                return errnos.ENOSYS, (), None, None
            if proc.exiting:            # its connection is gone: a call still queued does not run
                return errnos.EINTR, (), None, None
            lwp = proc.new_lwp(before_sleep)
            lwp.tag = tag
            curlwp_slot.lwp = lwp
            try:
                return 0, ent.handler(lwp, *args), lwp.after_reply, None
            except RumpError as e:
                return e.errno, (), None, e.detail
            except BAD_VALUE as exc:
                if self.verbose:
                    self.console("kernel: syscall %d: bad argument: %s: %s"
                                 % (ent.number, type(exc).__name__, str(exc)[:200]))
                return errnos.EINVAL, (), None, None
            except Exception:
                self.console("kernel: syscall %d failed:\n%s" % (ent.number, traceback.format_exc()))
                return errnos.EIO, (), None, None
            finally:
                proc.lwp_exit(lwp)
                curlwp_slot.lwp = None
                if self.softints.deferred:   # what the call scheduled runs before it returns
                    self.softints.run_deferred()
                if proc.exiting and not proc.lwps:
                    proc.files.close_all()  # what calls finishing after exit() opened

    def interrupt(self, proc, tag):
        """Interrupt proc's call tagged tag (a signal in the client): an interruptible
        sleep it is in, or the next one it starts, fails with EINTR. A call that has
        finished is not affected. Returns True if the call was found."""
        with self.lock:
            for lwp in proc.lwps:
                if lwp.tag == tag:
                    lwp.interrupted = True
                    self.sleepq.interrupt(lwp)
                    return True
        return False

    # -- sync and reboot -----------------------------------------------------
    def sync(self):
        """Flush every cache to the host (lock held). Returns True if all went well."""
        ok = True
        for _owner, fn in list(self.sync_hooks):
            try:
                fn()
            except Exception as exc:            # a failing flush must not stop the others
                self.console("sync: %s" % exc)
                ok = False
        return ok

    def reboot(self, howto):
        """The kernel half of reboot(2): sync unless RB_NOSYNC, run shutdown hooks."""
        from ...abi.syscalls import RB_NOSYNC
        with self.lock:
            if self.halting:
                return
            self.halting = True
            self.console("rump kernel halting...")
            if not howto & RB_NOSYNC:
                ok = self.sync()
                self.console("syncing disks... %s" % ("done" if ok else "giving up"))
            for _owner, fn in reversed(self.shutdown_hooks):
                try:
                    fn()
                except Exception as exc:
                    self.console("shutdown: %s" % exc)
            for proc in list(self.procs.procs.values()):
                if proc.pid != 1:
                    self.procs.exit(proc)
        self.callouts.stop()
        self.softints.stop()
