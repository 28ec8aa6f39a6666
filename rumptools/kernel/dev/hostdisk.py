"""Host-file disks: a window [offset, offset+size) of a host file as a Disk."""
from ...abi import errnos
from ...abi.errnos import RumpError
from .disk import Disk


class HostDisk(Disk):
    def __init__(self, name, hostfile, offset, size, secsize=512):
        super().__init__(name, size // secsize, secsize)
        self.hostfile = hostfile
        self.offset = offset
        self.bytesize = size

    @property
    def size(self):
        return self.bytesize

    def read_sectors(self, sector, count):
        start = sector * self.secsize
        n = min(count * self.secsize, self.bytesize - start)
        data = self.hostfile.pread(n, self.offset + start)
        if len(data) < n:            # the host file is shorter than the window: zeros
            data += bytes(n - len(data))
        return data

    def write_sectors(self, sector, data):
        start = sector * self.secsize
        if start + len(data) > self.bytesize:
            raise RumpError(errnos.ENOSPC)
        if self.hostfile.pwrite(data, self.offset + start) != len(data):
            raise RumpError(errnos.EIO)

    def flush_disk(self):
        self.hostfile.fsync()
