"""File systems that mount on the VFS: ffs/ (the Berkeley Fast File System)."""
