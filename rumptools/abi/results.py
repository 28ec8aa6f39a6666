"""Client-side shapes for structured results: stat and statvfs, with os-style field names."""
from collections import namedtuple

_STAT_FIELDS = ("st_mode st_ino st_dev st_nlink st_uid st_gid st_rdev st_size st_blksize "
                "st_blocks st_atime_ns st_mtime_ns st_ctime_ns st_birthtime_ns")


class StatResult(namedtuple("StatResult", _STAT_FIELDS)):
    """Like os.stat_result: st_* fields, times in ns and (as floats) in seconds."""

    __slots__ = ()

    @property
    def st_atime(self):
        return self.st_atime_ns / 1e9

    @property
    def st_mtime(self):
        return self.st_mtime_ns / 1e9

    @property
    def st_ctime(self):
        return self.st_ctime_ns / 1e9


StatVFS = namedtuple("StatVFS", "f_bsize f_frsize f_blocks f_bfree f_bavail f_files f_ffree f_favail "
                                "f_fsid f_flag f_namemax f_fstypename f_mntonname f_mntfromname")

CONVERT = {
    "stat": StatResult._make, "lstat": StatResult._make, "fstat": StatResult._make,
    "fstatat": StatResult._make, "statvfs": StatVFS._make, "fstatvfs": StatVFS._make,
}
