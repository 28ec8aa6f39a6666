"""Mounts: a file system's root attached over a directory, and the mount table."""
import itertools

from ...abi.mntflags import MNT_RDONLY

_fsids = itertools.count(0x500)


class Mount:
    def __init__(self, fstype, source="", flags=0, iosize=4096):
        self.fstype = fstype
        self.source = source
        self.flags = flags
        self.fsid = next(_fsids)
        self.iosize = iosize
        self.root = None          # set by the file system
        self.covered = None       # the vnode this mount sits on (None for /)
        self.path = "/"
        self.next_ino = itertools.count(2)

    @property
    def readonly(self):
        return bool(self.flags & MNT_RDONLY)

    def statvfs(self):
        """(bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid, flag, namemax,
        fstypename, mntonname, mntfromname)"""
        return (self.iosize, self.iosize, 0, 0, 0, 0, 0, 0, self.fsid, self.flags, 511,
                self.fstype, self.path, self.source)

    def sync(self):
        """Write everything this file system holds to its backing store."""

    def update(self, flags):
        """mount -u: change flags of a mounted file system (EOPNOTSUPP here)."""
        from ...abi import errnos
        from ...abi.errnos import RumpError
        raise RumpError(errnos.EOPNOTSUPP)

    def unmount(self, force):
        """Last chance to flush; raise EBUSY to refuse."""


class MountTable:
    def __init__(self):
        self.mounts = []          # in mount order; [0] is /

    def add(self, mnt):
        self.mounts.append(mnt)

    def remove(self, mnt):
        self.mounts.remove(mnt)

    def unmount(self, mnt, force, halting=False):
        """The one unmount sequence: flush, let the file system refuse (EBUSY),
        then take mnt off the vnode it covers and out of the table. At halt it
        comes off even if the file system refused (the error still rises).
        A cwd left inside (forced) has no path any more."""
        done = False
        try:
            mnt.sync()
            mnt.unmount(force)
            done = True
        finally:
            if done or halting:
                mnt.covered.mounted_here = None
                mnt.covered = None
                self.remove(mnt)

    def busy(self, mnt):
        """True if another mount sits inside mnt."""
        return any(m.covered is not None and m.covered.mount is mnt for m in self.mounts if m is not mnt)

    def find_root(self, vp):
        for m in self.mounts:
            if m.root is vp:
                return m
        return None
