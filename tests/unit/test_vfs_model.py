"""A thousand random syscall sequences against a model of the namespace.

The model is a tree of plain objects with its own path resolution, written
from NetBSD's rules (namei: '.', '..', symlinks followed in the middle and,
as each call says, at the end, a trailing '/' wanting a directory, ELOOP;
then each call's checks in NetBSD's order). Every rule runs one operation
on the kernel and on the model and compares the errno (or success); after
every step a full walk of the kernel's tree with getdents+lstat must equal
the model's {path: kind/content/link target}, hard links must share an
inode, link counts and '.'/'..' entries must be right, and getcwd must
agree with the model's cwd.
"""
import itertools
from collections import namedtuple

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from rumptools.abi.sctypes import STAT_FIELDS as FIELDS
from rumptools.kernel.kern.stat import S_IFDIR, S_IFLNK, S_IFMT, S_IFREG
from rumptools.abi import errnos as E
from rumptools.abi.errnos import RumpError
from rumptools.abi.syscalls import O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_TRUNC, O_WRONLY

from .kernelkit import boot, call, spawn

Stat = namedtuple("Stat", FIELDS)
DT_DIR, DT_REG, DT_LNK = 4, 8, 10
RUNS = [0]


# -- the model ------------------------------------------------------------------------
class MDir:
    def __init__(self, parent=None):
        self.entries = {}
        self.parent = parent if parent is not None else self
        self.removed = False


class MFile:
    def __init__(self):
        self.data = bytearray()
        self.nlink = 1


class MLink:
    def __init__(self, target):
        self.target = target


class Fail(Exception):
    def __init__(self, errno):
        super().__init__(errno)
        self.errno = errno


class Model:
    def __init__(self):
        self.root = MDir()
        self.cwd = self.root

    # namei
    def resolve(self, path, follow, parent=False):
        """(dir, last name, node or None, trailing slash); node None only with parent."""
        if path == "":
            raise Fail(E.ENOENT)
        cur = self.root if path.startswith("/") else self.cwd
        comps = [c for c in path.split("/") if c]
        trailing = path.endswith("/")
        links = i = 0
        while True:
            if not comps:
                return None, "", cur, False
            comp, last = comps[i], i == len(comps) - 1
            if not isinstance(cur, MDir):
                raise Fail(E.ENOTDIR)
            if cur.removed:
                raise Fail(E.ENOENT)
            if comp == ".":
                node = cur
            elif comp == "..":
                node = cur.parent
            else:
                node = cur.entries.get(comp)
                if node is None:
                    if last and parent:
                        return cur, comp, None, trailing
                    raise Fail(E.ENOENT)
            if isinstance(node, MLink) and (follow or trailing or not last):
                links += 1
                if links > 32:
                    raise Fail(E.ELOOP)
                if not node.target:
                    raise Fail(E.ENOENT)
                if last and node.target.endswith("/"):
                    trailing = True
                comps, i = [c for c in node.target.split("/") if c] + comps[i + 1:], 0
                if node.target.startswith("/"):
                    cur = self.root
                continue
            if last:
                if trailing and not isinstance(node, MDir):
                    raise Fail(E.ENOTDIR)
                return cur, comp, node, trailing
            cur, i = node, i + 1

    def new_name(self, path, createdir=False):
        d, name, node, trailing = self.resolve(path, False, parent=True)
        if d is None or node is not None:
            raise Fail(E.EEXIST)
        if trailing and not createdir:
            raise Fail(E.ENOENT)
        return d, name

    # operations
    def mkdir(self, path):
        d, name = self.new_name(path, createdir=True)
        d.entries[name] = MDir(d)

    def symlink(self, target, path):
        d, name = self.new_name(path)
        d.entries[name] = MLink(target)

    def link(self, src, dst):
        node = self.resolve(src, True)[2]
        d, name = self.new_name(dst)
        if isinstance(node, MDir):
            raise Fail(E.EPERM)
        d.entries[name] = node
        node.nlink += 1

    def create(self, path, data, excl):
        d, name, node, trailing = self.resolve(path, not excl, parent=True)
        if node is None:
            if trailing:
                raise Fail(E.ENOENT)
            node = d.entries[name] = MFile()
        elif d is None or excl:
            raise Fail(E.EEXIST)
        elif isinstance(node, MDir):
            raise Fail(E.EISDIR)
        else:
            del node.data[:]
        node.data += data

    def append(self, path, data):
        node = self.resolve(path, True)[2]
        if isinstance(node, MDir):
            raise Fail(E.EISDIR)
        node.data += data

    def truncate(self, path, size):
        node = self.resolve(path, True)[2]
        if isinstance(node, MDir):
            raise Fail(E.EISDIR)
        node.data[:] = bytes(node.data[:size]).ljust(size, b"\0")

    def remove(self, path, want_dir):
        d, name, node, _ = self.resolve(path, False)
        if d is None or node is self.root:
            raise Fail(E.EBUSY)
        if node is d:
            raise Fail(E.EINVAL)
        if isinstance(node, MDir):
            if not want_dir:
                raise Fail(E.EPERM)
            if name == ".." or node.entries:
                raise Fail(E.ENOTEMPTY)
            node.removed = True
        elif want_dir:
            raise Fail(E.ENOTDIR)
        elif isinstance(node, MFile):
            node.nlink -= 1
        del d.entries[name]

    def rename(self, src, dst):
        fd, fname, fnode, _ = self.resolve(src, False)
        if fd is None:
            raise Fail(E.EBUSY)
        if fname in (".", ".."):
            raise Fail(E.EINVAL)
        td, tname, tnode, ttrail = self.resolve(dst, False, parent=True)
        if td is None:
            raise Fail(E.EBUSY)
        isdir = isinstance(fnode, MDir)
        if tnode is None and ttrail and not isdir:
            raise Fail(E.ENOENT)
        if tname == ".":
            raise Fail(E.EISDIR)
        if tname == "..":
            raise Fail(E.EINVAL)
        if tnode is not None and isdir != isinstance(tnode, MDir):
            raise Fail(E.ENOTDIR if isdir else E.EISDIR)
        if fnode is td:
            raise Fail(E.EINVAL)
        if td is not fd:                      # a directory may not go below itself
            chain = [td]
            while chain[-1].parent is not chain[-1]:
                chain.append(chain[-1].parent)
            if fd in chain:
                if fnode is chain[chain.index(fd) - 1]:
                    raise Fail(E.EINVAL)
            elif tnode is fd:
                raise Fail(E.ENOTEMPTY)
        if tnode is fnode:                    # two links of one file: the source name goes
            if td is not fd or tname != fname:
                del fd.entries[fname]
                fnode.nlink -= 1
            return
        if tnode is not None:
            if isinstance(tnode, MDir):
                if tnode.entries:
                    raise Fail(E.ENOTEMPTY)
                tnode.removed = True
            elif isinstance(tnode, MFile):
                tnode.nlink -= 1
            del td.entries[tname]
        del fd.entries[fname]
        td.entries[tname] = fnode
        if isdir:
            fnode.parent = td

    def chdir(self, path):
        node = self.resolve(path, True)[2]
        if not isinstance(node, MDir):
            raise Fail(E.ENOTDIR)
        self.cwd = node

    def getcwd(self):
        if self.cwd.removed:
            raise Fail(E.ENOENT)
        names, d = [], self.cwd
        while d is not self.root:
            names.append(next(n for n, v in d.parent.entries.items() if v is d))
            d = d.parent
        return "/" + "/".join(reversed(names))

    def stat(self, path, follow):
        node = self.resolve(path, follow)[2]
        if isinstance(node, MDir):
            return S_IFDIR, None
        if isinstance(node, MLink):
            return S_IFLNK, len(node.target.encode())
        return S_IFREG, len(node.data)

    def tree(self):
        """{path: entry} and the groups of paths naming one file."""
        out, groups = {}, {}

        def walk(d, prefix):
            for name, node in d.entries.items():
                path = prefix + name
                if isinstance(node, MDir):
                    out[path] = ("dir", 2 + sum(isinstance(v, MDir) for v in node.entries.values()))
                    walk(node, path + "/")
                elif isinstance(node, MLink):
                    out[path] = ("link", node.target)
                else:
                    out[path] = ("file", bytes(node.data), node.nlink)
                    groups.setdefault(id(node), set()).add(path)
        walk(self.root, "/")
        return out, {frozenset(g) for g in groups.values()}


# -- generated arguments ------------------------------------------------------------------
# A small alphabet keeps random paths dense; most arguments are drawn from
# the paths that exist (sometimes with a name, '.', '..' or '/' added), so
# renames, links and removals mostly get past the lookup. Few draws per
# step: hypothesis's own bookkeeping is most of this test's time.
component = st.sampled_from(["a"] * 4 + ["b"] * 4 + ["c", ".", ".."])
# Random paths: 1 to 3 components (2 most often), absolute or relative, one in
# ten with a trailing '/'; precomputed, so that one draw picks one.
_RANDOM = [("/" if absolute else "") + "/".join(c)
           for n in (1, 2, 2, 3) for absolute in (False, True)
           for c in itertools.product(["a", "b", "c", ".", ".."], repeat=n)]
random_path = st.sampled_from(tuple(p + tail for p in _RANDOM for tail in [""] * 9 + ["/"]))
data = st.sampled_from([b"", b"x", b"hello", b"\0\1\2", b"abcdef", b"0123456789"])
HOW = st.integers(0, 19)           # how % 10: which kind of path; how >= 10: relative where it can be
NEW_NAME = st.sampled_from("abcde")
SUFFIX = st.sampled_from(["/", "/.", "/..", ""])
OPS = (["mkdir"] * 3 + ["create"] * 3 + ["rename"] * 3 + ["link"] * 2 + ["symlink"] * 2 + ["unlink"] * 2
       + ["rmdir"] * 2 + ["create_excl", "append", "truncate", "chdir", "stat"])


# -- the machine ----------------------------------------------------------------------------
class NamespaceMachine(RuleBasedStateMachine):
    @initialize()
    def boot(self):
        RUNS[0] += 1
        self.k = boot("rumpvfs")
        self.proc = spawn(self.k)
        self.model = Model()

    def teardown(self):
        if hasattr(self, "k"):
            self.k.callouts.stop()

    def path(self, draw, fresh=False):
        """A path argument: mostly an existing path, varied; else a random one.
        A fresh path is more often a new name in an existing directory."""
        tree = self.model.tree()[0]
        existing = sorted(tree)
        how = draw(HOW)
        relative, how = how >= 10, how % 10
        if how >= 7:
            return draw(random_path)
        if fresh and how < 5:
            dirs = ["/"] + [p for p in existing if tree[p][0] == "dir"]
            path = dirs[draw(st.integers(0, len(dirs) - 1))].rstrip("/") + "/" + draw(NEW_NAME)
        elif not existing:
            return draw(random_path)
        else:
            path = existing[draw(st.integers(0, len(existing) - 1))]
        if how == 0:
            path += "/" + draw(component)
        elif how == 1:
            path += draw(SUFFIX) or "/../" + path.rpartition("/")[2]
        if relative:
            try:
                cwd = self.model.getcwd().rstrip("/") + "/"
            except Fail:
                cwd = None
            if cwd and path.startswith(cwd):
                path = path[len(cwd):] or "."
        return path

    def sys(self, method, *args):
        try:
            return 0, call(self.k, self.proc, method, *args)
        except RumpError as e:
            return e.errno, None

    def same(self, what, kernel_errno, fn, *args):
        try:
            fn(*args)
            expect = 0
        except Fail as f:
            expect = f.errno
        assert kernel_errno == expect, "%s: kernel errno %d, model %d" % (what, kernel_errno, expect)

    def op_mkdir(self, d):
        path = self.path(d.draw, fresh=True)
        self.same("mkdir %r" % path, self.sys("mkdir", path, 0o755)[0], self.model.mkdir, path)

    def op_rmdir(self, d):
        path = self.path(d.draw)
        self.same("rmdir %r" % path, self.sys("rmdir", path)[0], self.model.remove, path, True)

    def op_unlink(self, d):
        path = self.path(d.draw)
        self.same("unlink %r" % path, self.sys("unlink", path)[0], self.model.remove, path, False)

    def _write_file(self, what, path, flags, body, model_fn, *margs):
        err, fd = self.sys("open", path, flags, 0o644)
        if not err:
            assert self.sys("write", fd, body) == (0, len(body))
            assert self.sys("close", fd) == (0, None)
        self.same(what, err, model_fn, *margs)

    def op_create(self, d):
        path, body = self.path(d.draw, fresh=True), d.draw(data)
        self._write_file("create %r" % path, path, O_WRONLY | O_CREAT | O_TRUNC, body,
                         self.model.create, path, body, False)

    def op_create_excl(self, d):
        path, body = self.path(d.draw, fresh=True), d.draw(data)
        self._write_file("create excl %r" % path, path, O_WRONLY | O_CREAT | O_EXCL, body,
                         self.model.create, path, body, True)

    def op_append(self, d):
        path, body = self.path(d.draw), d.draw(data)
        self._write_file("append %r" % path, path, O_WRONLY | O_APPEND, body, self.model.append, path, body)

    def op_truncate(self, d):
        path, size = self.path(d.draw), d.draw(st.integers(0, 9))
        self.same("truncate %r" % path, self.sys("truncate", path, size)[0], self.model.truncate, path, size)

    def op_rename(self, d):
        src, dst = self.path(d.draw), self.path(d.draw, fresh=d.draw(st.booleans()))
        self.same("rename %r %r" % (src, dst), self.sys("rename", src, dst)[0], self.model.rename, src, dst)

    def op_link(self, d):
        src, dst = self.path(d.draw), self.path(d.draw, fresh=True)
        self.same("link %r %r" % (src, dst), self.sys("link", src, dst)[0], self.model.link, src, dst)

    def op_symlink(self, d):
        link_to = self.path(d.draw) if d.draw(st.integers(0, 9)) else ""    # empty: NetBSD allows it
        path = self.path(d.draw, fresh=True)
        self.same("symlink %r %r" % (link_to, path), self.sys("symlink", link_to, path)[0],
                  self.model.symlink, link_to, path)

    def op_chdir(self, d):
        path = self.path(d.draw)
        self.same("chdir %r" % path, self.sys("chdir", path)[0], self.model.chdir, path)

    def op_stat(self, d):
        path, follow = self.path(d.draw), d.draw(st.booleans())
        err, res = self.sys("stat" if follow else "lstat", path)
        try:
            expect = self.model.stat(path, follow)
        except Fail as f:
            assert err == f.errno, "stat %r: kernel errno %d, model %d" % (path, err, f.errno)
            return
        assert err == 0, "stat %r: kernel errno %d, model success" % (path, err)
        s = Stat(*res)
        assert s.mode & S_IFMT == expect[0]
        if expect[1] is not None:
            assert s.size == expect[1]

    @rule(d=st.data())
    def step(self, d):
        """One operation, drawn with weights that let the tree grow (one rule, so
        that hypothesis's swarm testing does not leave runs with a single call)."""
        getattr(self, "op_" + d.draw(st.sampled_from(OPS)))(d)

    # -- after every step: the whole tree ------------------------------------------------
    def _ok(self, method, *args):
        err, res = self.sys(method, *args)
        assert err == 0, "%s%r failed with errno %d" % (method, args, err)
        return res

    def _kernel_tree(self):
        out, by_ino, stats = {}, {}, {}

        def walk(dirpath, dst):
            fd = self._ok("open", dirpath, O_RDONLY | O_DIRECTORY, 0)
            ents = []
            while True:
                chunk = self._ok("getdents", fd, 16 * 3)         # a few at a time: resumed offsets
                if not chunk:
                    break
                ents += chunk
            self._ok("close", fd)
            names = [e[3] for e in ents]
            assert len(names) == len(set(names)), "duplicate entries in %s: %r" % (dirpath, names)
            dots = {e[3]: e[1] for e in ents if e[3] in (".", "..")}
            parent = dirpath.rpartition("/")[0] or "/"
            assert dots == {".": dst.ino, "..": stats[parent].ino}, dirpath
            prefix = dirpath.rstrip("/") + "/"
            for _ck, ino, dtype, name in ents:
                path = prefix + name
                if name in (".", "..") or path == "/dev":
                    continue
                s = stats[path] = Stat(*self._ok("lstat", path))
                assert s.ino == ino, path
                kind = s.mode & S_IFMT
                if kind == S_IFDIR:
                    assert dtype == DT_DIR
                    out[path] = ("dir", s.nlink)
                    walk(path, s)
                elif kind == S_IFLNK:
                    assert dtype == DT_LNK
                    out[path] = ("link", self._ok("readlink", path, 1024))
                else:
                    assert kind == S_IFREG and dtype == DT_REG, path
                    rfd = self._ok("open", path, O_RDONLY, 0)
                    body = self._ok("read", rfd, 1 << 16)
                    self._ok("close", rfd)
                    assert len(body) == s.size
                    out[path] = ("file", body, s.nlink)
                    by_ino.setdefault(s.ino, set()).add(path)

        stats["/"] = root = Stat(*self._ok("lstat", "/"))
        walk("/", root)
        return out, {frozenset(g) for g in by_ino.values()}, root

    @invariant()
    def namespace_equals_model(self):
        tree, groups, root = self._kernel_tree()
        mtree, mgroups = self.model.tree()
        assert tree == mtree
        assert groups == mgroups                      # hard links share one inode
        subdirs = sum(isinstance(v, MDir) for v in self.model.root.entries.values())
        assert root.nlink == 2 + subdirs + 1          # and /dev
        err, cwd = self.sys("getcwd")
        try:
            assert (err, cwd) == (0, self.model.getcwd())
        except Fail as f:
            assert err == f.errno


def test_thousand_random_sequences():
    """At least 1000 sequences (each up to 25 steps), every step checked against the model."""
    RUNS[0] = 0
    run_state_machine_as_test(NamespaceMachine, settings=settings(
        max_examples=1000, stateful_step_count=25, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
    assert RUNS[0] >= 1000
