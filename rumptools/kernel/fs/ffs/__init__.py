"""rumpfs_ffs: FFS (UFS1 and UFS2, either byte order) read-write in the kernel.

vfsops.py  the mount: superblock, clean flag, statvfs, sync, the vnode cache
cgalloc.py cylinder groups in memory and the allocators (blocks, fragments,
           inodes) following NetBSD's policies in simplified form
inode.py   vnodes: attributes over the dinode, block map, read, write, truncate
dirops.py  directory entries on disk: lookup, add, remove, rename helpers
component.py  the -lrumpfs_ffs component: registers fstype "ffs"

Locking: all of it runs under the kernel lock, like the rest of the VFS.
"""
