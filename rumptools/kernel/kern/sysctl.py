"""The sysctl tree: named nodes, each a value, a getter/setter pair, or a subtree.

Components add their nodes when attached and lose them when detached, so
`vfs.*` exists only with rumpvfs, `net.*` only with the network stack.
Kernel lock held by callers.
"""
from ...abi import errnos
from ...abi.errnos import RumpError

NODE, INT, QUAD, STRING, BOOL = "node", "int", "quad", "string", "bool"
F_WRITABLE, F_HEX, F_UNSIGNED = 1, 2, 4


class Node:
    __slots__ = ("name", "kind", "children", "value", "getter", "setter", "flags", "desc", "owner", "maxlen")

    def __init__(self, name, kind, owner, desc="", flags=0):
        self.name, self.kind, self.owner, self.desc, self.flags = name, kind, owner, desc, flags
        self.children = {} if kind == NODE else None
        self.value = self.getter = self.setter = None
        self.maxlen = 0

    def get(self):
        if self.kind == NODE:
            return tuple(self.children)
        return self.getter() if self.getter else self.value


class SysctlTree:
    def __init__(self):
        self.root = Node("", NODE, None)

    def add(self, path, kind, value=None, getter=None, setter=None, writable=False,
            desc="", owner=None, flags=0, maxlen=0):
        parts = path.split(".")
        node = self.root
        for comp in parts[:-1]:
            child = node.children.get(comp)
            if child is None:
                child = node.children[comp] = Node(comp, NODE, owner)
            node = child
        leaf = Node(parts[-1], kind, owner, desc, flags | (F_WRITABLE if writable else 0))
        leaf.value, leaf.getter, leaf.setter, leaf.maxlen = value, getter, setter, maxlen
        node.children[parts[-1]] = leaf
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

    def read(self, name):
        node = self.lookup(name)
        return node.kind, node.get(), node.flags

    def describe(self, name):
        node = self.lookup(name)
        return node.kind, node.desc, node.flags

    def write(self, name, value):
        node = self.lookup(name)
        if node.kind == NODE:
            raise RumpError(errnos.EISDIR)
        if not node.flags & F_WRITABLE:
            raise RumpError(errnos.EPERM)
        value = _coerce(node, value)
        old = node.get()
        if node.setter is not None:
            node.setter(value)
        else:
            node.value = value
        return node.kind, old, node.flags

    def walk(self, node=None, prefix=""):
        """Yield (dotted name, node) for every leaf, depth first in insertion order."""
        node = node or self.root
        for name, child in node.children.items():
            full = prefix + name
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
    if type(value) is not int:
        raise RumpError(errnos.EINVAL)
    if kind == BOOL:
        return 1 if value else 0
    if kind == INT and not -(1 << 31) <= value < (1 << 32):
        raise RumpError(errnos.EINVAL)
    return value
