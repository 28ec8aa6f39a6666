"""Partitions: a window of a disk as a disk of its own, found through a NetBSD disklabel.

With no label on the disk, partitions a and d (RAW_PART) both cover the
whole disk, as the fictitious label NetBSD gives a fresh cgd.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from .disk import Disk

LABEL_BYTES = 8192


class Window(Disk):
    def __init__(self, under, name, start_sector, nsectors):
        super().__init__(name, nsectors, under.secsize)
        self.under = under
        self.start = start_sector

    def read_sectors(self, sector, count):
        return self.under.read_sectors(self.start + sector, count)

    def write_sectors(self, sector, data):
        self.under.write_sectors(self.start + sector, data)

    def flush_disk(self):
        self.under.flush_disk()


def partition_extent(disk, index):
    """(start sector, nsectors) of partition `index` (0 = a) of disk, or ENXIO."""
    from ...formats.disklabel import find_label
    if index in (0, 3):
        fallback = (0, disk.nsectors)
    else:
        fallback = None
    try:
        head = disk.read_sectors(0, min(LABEL_BYTES, disk.size) // disk.secsize)
    except RumpError:
        head = b""
    found = find_label(head) if head else None
    if found is None:
        if fallback is None:
            raise RumpError(errnos.ENXIO)
        return fallback
    label = found[1]
    if index >= label.npartitions or label.partitions[index].size == 0:
        raise RumpError(errnos.ENXIO)
    p = label.partitions[index]
    if p.offset + p.size > disk.nsectors:
        raise RumpError(errnos.ENXIO)       # runs past the disk: refused
    return p.offset, p.size
