"""Syscall registration by name, and the kernel's dispatch entries (sysent).

Registration rule: a module that implements system calls makes one
`Syscalls()` set and decorates each handler with the NAME of its entry in
the syscall table (abi/syscalls.py):

    syscalls = Syscalls()

    @syscalls("read")
    def sys_read(lwp, fd, nbyte): ...

A name that is not in the table fails at import. The component that owns
the module adds the whole set through its attach context
(ctx.add_syscalls(syscalls)); unloading the component removes it again.
A handler takes the calling LWP and the arguments in table order, and
returns a tuple of results in table order.

Dispatch: the kernel keeps one Sysent per number: the table entry, the
handler, its owner, the compiled argument check and a result encoder slot
the transport fills (the kernel itself never encodes). Unloading marks
the entry dead, so a call that found it just before still gets ENOSYS.
"""
from ...abi.syscalls import BY_NAME, checker


class Syscalls:
    """A named set of handlers: {table entry: handler}."""

    def __init__(self):
        self.handlers = {}

    def __call__(self, name):
        sc = BY_NAME.get(name)
        if sc is None:
            raise KeyError("syscall %r is not in the syscall table (abi/syscalls.py)" % name)

        def register(fn):
            if sc in self.handlers:
                raise KeyError("syscall %r registered twice" % name)
            self.handlers[sc] = fn
            return fn
        return register

    def __iter__(self):
        return iter(self.handlers.items())

    def __len__(self):
        return len(self.handlers)


class Sysent:
    """One dispatch entry: everything the hot path needs, found with one lookup."""

    __slots__ = ("sc", "number", "handler", "owner", "check", "encode", "live")

    def __init__(self, sc, handler, owner, encode=None):
        self.sc = sc
        self.number = sc.number
        self.handler = handler
        self.owner = owner
        self.check = checker(sc)
        self.encode = encode        # set by the transport (rumptools.sp.server)
        self.live = True
