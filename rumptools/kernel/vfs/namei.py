"""namei: turn a path into a vnode, as seen by a process.

Absolute paths start at the root, relative ones at the process's cwd (or a
directory descriptor for the *at calls). '..' leaves a mounted file system
through the vnode it covers; a directory with a mount on it is entered at
the mount's root. Symbolic links are followed up to MAXSYMLINKS (ELOOP).
Host files registered with -d (etfs keys) are matched on the whole path.
"""
from ...sp import errnos
from ...sp.errnos import RumpError
from .vnode import NAME_MAX, PATH_MAX, VDIR, VLNK

MAXSYMLINKS = 32


class VFS:
    """The namespace: root vnode, mount table, etfs keys."""

    def __init__(self, kernel, root_mount, mounts):
        self.kernel = kernel
        self.root_mount = root_mount
        self.mounts = mounts
        self.etfs = {}             # "/dk" -> vnode

    @property
    def root(self):
        return self.root_mount.root

    def _enter(self, vp):
        while vp.vtype == VDIR and vp.mounted_here is not None:
            vp = vp.mounted_here.root
        return vp

    def _up(self, vp):
        while True:
            m = vp.mount
            if m is not None and m.root is vp and m.covered is not None:
                vp = m.covered
                continue
            return vp.parent() if vp is not self.root else vp

    def _check(self, path):
        if type(path) is not str:
            raise RumpError(errnos.EINVAL)
        if "\0" in path:
            raise RumpError(errnos.EINVAL)
        if len(path.encode("utf-8", "surrogateescape")) >= PATH_MAX:
            raise RumpError(errnos.ENAMETOOLONG)
        if path == "":
            raise RumpError(errnos.ENOENT)

    def etfs_key(self, path):
        if path.startswith("/"):
            return self.etfs.get("/" + path.lstrip("/"))
        return None

    def lookup(self, proc, path, follow=True, start=None):
        """The vnode path names (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG as a kernel would)."""
        self._check(path)
        vp = self.etfs_key(path)
        if vp is not None:
            return vp
        return self._walk(proc, path, follow, start, 0)

    def lookup_parent(self, proc, path, start=None):
        """(directory vnode, last name) for calls that create or remove a name.

        The last name is "" for paths like "/" and "."/".." are refused later
        by the callers as EINVAL/EEXIST like a kernel does.
        """
        self._check(path)
        stripped = path.rstrip("/")
        if stripped == "":
            return self.root, ""
        head, _, last = stripped.rpartition("/")
        if len(last.encode("utf-8", "surrogateescape")) > NAME_MAX:
            raise RumpError(errnos.ENAMETOOLONG)
        if "/" not in stripped:
            dvp = self._start(proc, path, start)
        else:
            dvp = self._walk(proc, head or "/", True, start, 0)
        if dvp.vtype != VDIR:
            raise RumpError(errnos.ENOTDIR)
        return dvp, last

    def _start(self, proc, path, start):
        if path.startswith("/"):
            return self._enter(self.root)
        if start is not None:
            return start
        cwd = proc.cwd if proc is not None and proc.cwd is not None else self.root
        return self._enter(cwd)

    def _walk(self, proc, path, follow, start, depth):
        vp = self._start(proc, path, start)
        parts = path.split("/")
        trailing = path.endswith("/") and path.strip("/") != ""
        # drop empty components (//, trailing /) but remember the trailing slash
        comps = [c for c in parts if c]
        for i, comp in enumerate(comps):
            if vp.vtype != VDIR:
                raise RumpError(errnos.ENOTDIR)
            if len(comp.encode("utf-8", "surrogateescape")) > NAME_MAX:
                raise RumpError(errnos.ENAMETOOLONG)
            if comp == ".":
                continue
            if comp == "..":
                vp = self._enter(self._up(vp))
                continue
            nxt = vp.lookup(comp)
            last = i == len(comps) - 1
            if nxt.vtype == VLNK and (not last or follow or trailing):
                if depth >= MAXSYMLINKS:
                    raise RumpError(errnos.ELOOP)
                target = nxt.readlink()
                rest = "/".join(comps[i + 1:])
                newpath = target + ("/" + rest if rest else "") + ("/" if trailing and rest else "")
                if not target:
                    raise RumpError(errnos.ENOENT)
                start_dir = None if target.startswith("/") else vp
                return self._walk(proc, newpath, follow, start_dir, depth + 1)
            vp = self._enter(nxt)
        if trailing and vp.vtype != VDIR:
            raise RumpError(errnos.ENOTDIR)
        return vp

    def path_of(self, vp):
        """getcwd: the absolute path of a directory vnode."""
        names = []
        guard = 0
        while vp is not self.root:
            guard += 1
            if guard > 4096:
                raise RumpError(errnos.ENOENT)
            m = vp.mount
            if m is not None and m.root is vp and m.covered is not None:
                vp = m.covered
                continue
            parent = vp.parent()
            if parent is vp:
                break
            names.append(parent.name_of(vp))
            vp = parent
        return "/" + "/".join(reversed(names))
