"""The sysctl tree: named nodes, each a value, a getter/setter pair, or a subtree.

Every node has NetBSD's MIB number: the fixed ones of <sys/sysctl.h>, or
numbers from 1024 up in creation order for nodes created with CTL_CREATE.
Children are listed in number order, as NetBSD's sysctl(8) lists them.
The top-level nodes (kern, vm, vfs, ...) exist on every kernel, as NetBSD's
sysctl_basenode_init makes them; components add their nodes when attached
and lose them when detached, so `vfs.generic.*` exists only with rumpvfs.
Nodes flagged F_PROC are per process: their getter and setter take the
calling process first.  Kernel lock held by callers.
"""
from ...abi import errnos
from ...abi.errnos import RumpError

from ...abi.sysctl import BOOL, F_WRITABLE, INT, NODE, STRING, STRUCT

F_PROC = 8                  # kernel-internal: getter/setter take the calling process (masked out on the wire)
CREATE_BASE = 1024

# NetBSD's top-level nodes (sysctl_basenode_init): name, number, description.
TOP_LEVEL = (("kern", 1, "High kernel"), ("vm", 2, "Virtual memory"), ("vfs", 3, "Filesystem"),
             ("net", 4, "Networking"), ("debug", 5, "Debugging"), ("hw", 6, "Generic CPU, I/O"),
             ("machdep", 7, "Machine dependent"), ("user", 8, "User-level"),
             ("ddb", 9, "In-kernel debugger"), ("proc", 10, "Per-process"),
             ("vendor", 11, "Vendor specific"), ("emul", 12, "Emulation settings"),
             ("security", 13, "Security"))


class Node:
    __slots__ = ("name", "kind", "children", "value", "getter", "setter", "flags", "desc", "owner",
                 "maxlen", "num")

    def __init__(self, name, kind, owner, desc="", flags=0, num=0):
        self.name, self.kind, self.owner, self.desc, self.flags = name, kind, owner, desc, flags
        self.children = {} if kind == NODE else None
        self.value = self.getter = self.setter = None
        self.maxlen = 0
        self.num = num

    def get(self, proc=None):
        if self.kind == NODE:
            return tuple(c.name for c in self.ordered())
        if self.getter is None:
            return self.value
        return self.getter(proc) if self.flags & F_PROC else self.getter()

    def ordered(self):
        return sorted(self.children.values(), key=lambda c: c.num)

    def next_num(self):
        """The number CTL_CREATE gives a new child: 1024 and up, in creation order."""
        return max([CREATE_BASE - 1] + [c.num for c in self.children.values()]) + 1


class SysctlTree:
    def __init__(self):
        self.root = Node("", NODE, None)
        for name, num, desc in TOP_LEVEL:
            self.root.children[name] = Node(name, NODE, None, desc, num=num)

    def node(self, path, num=None, desc="", owner=None):
        """Make sure the subtree `path` exists; its last component gets `num`."""
        parts = path.split(".")
        node = self.root
        for i, comp in enumerate(parts):
            child = node.children.get(comp)
            if child is None:
                n = num if (num is not None and i == len(parts) - 1) else node.next_num()
                child = node.children[comp] = Node(comp, NODE, owner, desc if i == len(parts) - 1 else "",
                                                   num=n)
            node = child
        return node

    def add(self, path, kind, value=None, getter=None, setter=None, writable=False,
            desc="", owner=None, flags=0, maxlen=0, num=None):
        """Add a leaf; `num` is its NetBSD number, None for a CTL_CREATE one."""
        parent, _dot, name = path.rpartition(".")
        node = self.node(parent, owner=owner) if parent else self.root
        leaf = Node(name, kind, owner, desc, flags | (F_WRITABLE if writable else 0),
                    num=node.next_num() if num is None else num)
        leaf.value, leaf.getter, leaf.setter, leaf.maxlen = value, getter, setter, maxlen
        node.children[name] = leaf
        return leaf

    def remove_owner(self, owner):
        """Drop every node a component added (and subtrees it created)."""
        def prune(node):
            for name, child in list(node.children.items()):
                if child.kind == NODE:
                    prune(child)
                    if child.owner is owner and not child.children:
                        del node.children[name]
                elif child.owner is owner:
                    del node.children[name]
        prune(self.root)

    def lookup(self, name):
        """Find a node by dotted name: ENOENT if missing, ENOTDIR through a leaf."""
        node = self.root
        if name == "":
            return node
        for comp in name.split("."):
            if node.kind != NODE:
                raise RumpError(errnos.ENOTDIR)
            node = node.children.get(comp)
            if node is None:
                raise RumpError(errnos.ENOENT)
        return node

    def read(self, name, proc=None):
        node = self.lookup(name)
        return node.kind, node.get(proc), node.flags & ~F_PROC

    def describe(self, name):
        node = self.lookup(name)
        return node.kind, node.desc, node.flags & ~F_PROC

    def write(self, name, value, proc=None):
        node = self.lookup(name)
        if node.kind == NODE:
            raise RumpError(errnos.EISDIR)
        if not node.flags & F_WRITABLE:
            raise RumpError(errnos.EPERM)
        value = _coerce(node, value)
        old = node.get(proc)
        if node.setter is None:
            node.value = value
        elif node.flags & F_PROC:
            node.setter(proc, value)
        else:
            node.setter(value)
        return node.kind, old, node.flags & ~F_PROC

    def walk(self, node=None, prefix=""):
        """Yield (dotted name, node) for every leaf, depth first in number order."""
        node = node or self.root
        for child in node.ordered():
            full = prefix + child.name
            if child.kind == NODE:
                yield from self.walk(child, full + ".")
            else:
                yield full, child


def _coerce(node, value):
    """The value a node stores. Strings are bytes to NetBSD: bytes that are not
    UTF-8 are kept (as str with surrogateescape, the wire's form), and the
    length limit counts bytes."""
    kind = node.kind
    if kind == STRING:
        if type(value) is bytes:
            value = value.decode("utf-8", "surrogateescape")
        if type(value) is not str:
            raise RumpError(errnos.EINVAL)
        if node.maxlen and len(value.encode("utf-8", "surrogateescape")) >= node.maxlen:
            raise RumpError(errnos.EINVAL)
        return value
    if kind == STRUCT or type(value) is not int:
        raise RumpError(errnos.EINVAL)
    if kind == BOOL:
        return 1 if value else 0
    if kind == INT and not -(1 << 31) <= value < (1 << 32):
        raise RumpError(errnos.EINVAL)
    return value
