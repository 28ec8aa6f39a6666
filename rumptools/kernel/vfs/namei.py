"""namei: turn a path into a vnode, as seen by a process (NetBSD's namei/lookup).

Absolute paths start at the root, relative ones at the process's cwd (or a
directory descriptor for the *at calls). Each component is looked up in
its directory with VOP_LOOKUP (the file system answers "." and "..");
before a "..", namei leaves a mounted file system's root for the vnode it
covers, and after every component it enters the root of a mount sitting on
a directory. A symbolic link is expanded in the middle of a path always, at
the end when the caller follows links or the path ends in '/'; after
MAXSYMLINKS expansions the answer is ELOOP. A trailing '/' demands a
directory (ENOTDIR). Nothing is found in a removed directory (ENOENT). Host files registered with -d (etfs keys) are matched
on the whole path. Kernel lock held.
"""
from collections import namedtuple

from ...abi import errnos
from ...abi.errnos import RumpError
from .vnode import NAME_MAX, PATH_MAX, VDIR, VLNK

MAXSYMLINKS = 32

# dvp: the directory holding the last component (None for "/"), name: that
# component, vp: its vnode (None: missing, only when asked for with parent=True),
# trailing: the path ended in '/'.
Nameidata = namedtuple("Nameidata", "dvp name vp trailing")


def _blen(s):
    return len(s.encode("utf-8", "surrogateescape"))


_NAME_SHORT = NAME_MAX // 4     # a name this long or shorter is at most NAME_MAX bytes (UTF-8)


class VFS:
    """The namespace: root vnode, mount table, etfs keys."""

    def __init__(self, kernel, root_mount, mounts):
        self.kernel = kernel
        self.root_mount = root_mount
        self.mounts = mounts
        self.etfs = {}             # "/dk" -> vnode
        self.fstypes = {}          # name -> mount factory (AttachContext.add_fstype)

    @property
    def root(self):
        return self.root_mount.root

    def _enter(self, vp):
        """Cross into whatever is mounted on vp."""
        while vp.vtype == VDIR and vp.mounted_here is not None:
            vp = vp.mounted_here.root
        return vp

    def _leave(self, vp):
        """Before '..': from a mounted root back to the vnode it covers."""
        while vp is not self.root and vp.mount is not None and vp.mount.root is vp \
                and vp.mount.covered is not None:
            vp = vp.mount.covered
        return vp

    @staticmethod
    def _check(path):
        if type(path) is not str or "\0" in path:
            raise RumpError(errnos.EINVAL)
        # an ASCII path's length is its byte count; others are encoded (UnicodeError: EINVAL)
        if (len(path) if path.isascii() else _blen(path)) >= PATH_MAX:
            raise RumpError(errnos.ENAMETOOLONG)
        if path == "":
            raise RumpError(errnos.ENOENT)

    def etfs_key(self, path):
        if self.etfs and path.startswith("/"):
            return self.etfs.get("/" + path.lstrip("/"))
        return None

    def _start(self, proc, path, start):
        if path.startswith("/"):
            return self._enter(self.root)
        if start is not None:
            return start
        if proc is not None and proc.cwd is not None:
            return proc.cwd             # as is: a mount made over the cwd later is not entered
        return self._enter(self.root)

    def lookup(self, proc, path, follow=True, start=None):
        """The vnode path names (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG as a kernel would)."""
        return self.namei(proc, path, follow, start).vp

    def namei(self, proc, path, follow=True, start=None, parent=False):
        """Resolve path; a Nameidata. With parent, a missing last name is no error."""
        self._check(path)
        vp = self.etfs_key(path)
        if vp is not None:
            return Nameidata(self.root, path.strip("/"), vp, False)
        vp = self._start(proc, path, start)
        comps = [c for c in path.split("/") if c]
        trailing = path.endswith("/")
        links = i = 0
        while True:
            if not comps:                      # "/", or a link to "/" at the end
                return Nameidata(None, "", vp, False)
            comp, last = comps[i], i == len(comps) - 1
            if vp.vtype != VDIR:
                raise RumpError(errnos.ENOTDIR)
            if len(comp) > _NAME_SHORT and _blen(comp) > NAME_MAX:
                raise RumpError(errnos.ENAMETOOLONG)
            dvp = self._leave(vp) if comp == ".." else vp
            if dvp.nlink == 0:
                raise RumpError(errnos.ENOENT)     # a removed directory: empty, not even . or ..
            try:
                nxt = self._enter(dvp.lookup(comp))
            except RumpError as e:
                if e.errno == errnos.ENOENT and last and parent:
                    return Nameidata(dvp, comp, None, trailing)
                raise
            if nxt.vtype == VLNK and (follow or trailing or not last):
                links += 1
                if links > MAXSYMLINKS:
                    raise RumpError(errnos.ELOOP)
                target = nxt.readlink()
                if not target:
                    raise RumpError(errnos.ENOENT)
                rest = comps[i + 1:]
                left = (1 + _blen("/".join(rest))) if rest else int(trailing)
                if _blen(target) + left + 1 >= PATH_MAX:
                    raise RumpError(errnos.ENAMETOOLONG)
                if last and target.endswith("/"):
                    trailing = True
                comps, i = [c for c in target.split("/") if c] + rest, 0
                vp = self._enter(self.root) if target.startswith("/") else dvp
                continue
            if last:
                if trailing and nxt.vtype != VDIR:
                    raise RumpError(errnos.ENOTDIR)
                return Nameidata(dvp, comp, nxt, trailing)
            vp, i = nxt, i + 1

    def path_of(self, vp):
        """getcwd: the absolute path of a directory vnode (ENOENT once removed)."""
        names = []
        for _guard in range(4096):
            vp = self._leave(vp)
            if vp is self.root:
                return "/" + "/".join(reversed(names))
            parent = vp.parent()
            if parent is vp:
                break
            names.append(parent.name_of(vp))
            vp = parent
        raise RumpError(errnos.ENOENT)
