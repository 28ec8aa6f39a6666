"""Client-side shapes for structured results: stat and statvfs, with os-style field names.

The field order is the wire's (sctypes.STAT_FIELDS, sctypes.STATVFS_FIELDS)."""
from collections import namedtuple

from .sctypes import STAT_FIELDS, STATVFS_FIELDS

_STAT_FIELDS = tuple("st_" + f for f in STAT_FIELDS)


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


StatVFS = namedtuple("StatVFS", tuple("f_" + f for f in STATVFS_FIELDS))

# result type (sctypes) -> what the client turns it into
CONVERT = {"stat": StatResult._make, "statvfs": StatVFS._make}
