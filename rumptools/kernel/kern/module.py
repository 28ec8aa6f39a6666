"""Component objects and their attach context: what a kernel module adds, and its removal.

A component declares its name (as in kern/components.py), the kernel slots
it requires and the slots it provides. (Which components must be loaded
before it is in the catalogue of kern/components.py, which is read before
any component's code is imported.) Attaching runs attach(ctx) with an
AttachContext that records everything the component adds to the kernel:
syscalls, sysctl nodes, device switch entries and /dev nodes, file system
types, sync and shutdown hooks, slots (later interface cloners and protocol
switch entries, through ctx.add_entry). Detaching runs the component's own
detach(ctx) first (it may refuse with EBUSY), then undoes the records,
newest first, so unloading removes exactly what loading added.

Subsystems find each other through slots: kernel.slot("vfs"), never through
ad-hoc attributes. Kernel lock held throughout attach and detach.
"""
from .syscall import Sysent


class AttachError(Exception):
    """A component cannot attach: a slot it needs is missing, one it provides is
    not filled, or something it adds is taken already. str() says which."""


class Component:
    """attach(ctx) and detach(ctx) run with the kernel lock held."""

    def __init__(self, name, attach=None, detach=None, unloadable=True, desc="",
                 requires=(), provides=()):
        self.name = name
        self._attach = attach
        self._detach = detach
        self.unloadable = unloadable
        self.desc = desc
        self.requires = tuple(requires)     # kernel slots that must exist before attach
        self.provides = tuple(provides)     # kernel slots attach must fill

    def attach(self, kernel):
        """Attach with a fresh context; returns it (the kernel keeps it for detach)."""
        ctx = AttachContext(kernel, self)
        lack = [s for s in self.requires if s not in kernel.slots]
        if lack:
            raise AttachError("%s needs %s" % (self.name, ", ".join(lack)))
        try:
            if self._attach:
                self._attach(ctx)
            missing = [s for s in self.provides if kernel.slots.get(s) is None]
            if missing:
                raise AttachError("%s did not provide %s" % (self.name, ", ".join(missing)))
        except BaseException:
            ctx.undo()
            raise
        return ctx

    def detach(self, ctx):
        if self._detach:
            self._detach(ctx)
        ctx.undo()


class AttachContext:
    """Records what one component adds to the kernel; undo() removes all of it."""

    def __init__(self, kernel, comp):
        self.kernel = kernel
        self.comp = comp
        self._undo = []         # callables, run newest first
        self._sysctl = False

    def record(self, undo):
        """Register how to remove something added by hand."""
        self._undo.append(undo)

    def add_entry(self, table, key, value, what="entry"):
        """Add key -> value to a kernel switch table (a dict), refusing a taken key;
        unloading removes it. Device and file system switches use it, and so
        will interface cloners (if_clone) and protocol switch entries (protosw)."""
        if key in table:
            raise AttachError("%s %s is taken" % (what, key))
        table[key] = value
        self.record(lambda: table.pop(key, None))

    def undo(self):
        while self._undo:
            fn = self._undo.pop()
            fn()

    # -- slots ------------------------------------------------------------------
    def provide(self, name, obj):
        """Fill the kernel slot `name`, which the component declares in `provides`."""
        if name not in self.comp.provides:
            raise AttachError("%s provides slot %s without declaring it" % (self.comp.name, name))
        self.add_entry(self.kernel.slots, name, obj, "slot")
        return obj

    # -- syscalls ---------------------------------------------------------------
    def add_syscalls(self, syscalls):
        """Register a Syscalls set (kern/syscall.py) under this component."""
        k = self.kernel
        added = []
        for sc, fn in syscalls:
            if sc.number in k.sysent:
                raise AttachError("syscall %s already has a handler" % sc.name)
            ent = Sysent(sc, fn, self.comp, k.result_encoder(sc) if k.result_encoder else None)
            k.sysent[sc.number] = ent
            added.append(ent)

        def remove():
            for ent in added:
                ent.live = False
                if k.sysent.get(ent.number) is ent:
                    del k.sysent[ent.number]
        self.record(remove)

    # -- sysctl -----------------------------------------------------------------
    def sysctl(self, path, kind, value=None, **kw):
        """Add a sysctl node owned by this component."""
        tree = self.kernel.sysctl
        if not self._sysctl:
            self._sysctl = True
            self.record(lambda: tree.remove_owner(self.comp))
        return tree.add(path, kind, value, owner=self.comp, **kw)

    # -- devices ----------------------------------------------------------------
    def add_devsw(self, major, driver):
        self.add_entry(self.kernel.devsw, major, driver, "device major")

    def add_devnode(self, name, vtype, major, minor, mode=0o640):
        """Create /dev/<name> (needs the devfs slot of rumpvfs)."""
        devfs = self.kernel.slot("devfs")
        if devfs.create(name, vtype, major, minor, mode):
            self.record(lambda: devfs.remove(name))

    def add_fstype(self, name, factory):
        self.add_entry(self.kernel.slot("vfs").fstypes, name, factory, "file system type")

    # -- hooks ------------------------------------------------------------------
    def add_sync_hook(self, fn):
        hooks = self.kernel.sync_hooks
        entry = (self.comp, fn)
        hooks.append(entry)
        self.record(lambda: _discard(hooks, entry))

    def add_shutdown_hook(self, fn, last=False):
        """fn runs at halt; hooks run newest first, a `last` one after all others."""
        hooks = self.kernel.shutdown_hooks
        entry = (self.comp, fn)
        if last:
            hooks.insert(0, entry)
        else:
            hooks.append(entry)
        self.record(lambda: _discard(hooks, entry))


def _discard(lst, entry):
    for i, e in enumerate(lst):
        if e is entry:
            del lst[i]
            return
