"""Component objects: what a kernel module attaches when loaded and removes when unloaded."""


class Component:
    """attach(kernel) and detach(kernel) run with the kernel lock held.

    `owner` tags everything the component adds (sysctl nodes, syscalls,
    device nodes), so detaching can remove exactly that.
    """

    def __init__(self, name, attach=None, detach=None, unloadable=True, desc=""):
        self.name = name
        self._attach = attach
        self._detach = detach
        self.unloadable = unloadable
        self.desc = desc

    def attach(self, kernel):
        if self._attach:
            self._attach(kernel, self)

    def detach(self, kernel):
        if self._detach:
            self._detach(kernel, self)
        kernel.sysctl.remove_owner(self)
        kernel.remove_syscalls(self)
        kernel.sync_hooks = [(o, f) for o, f in kernel.sync_hooks if o is not self]
