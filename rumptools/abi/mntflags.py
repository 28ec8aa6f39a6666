"""NetBSD's mount flags (sys/fstypes.h): values, and the words mount(8) prints
for them, in the order of its option table."""

MNT_RDONLY = 0x00000001
MNT_SYNCHRONOUS = 0x00000002
MNT_NOEXEC = 0x00000004
MNT_NOSUID = 0x00000008
MNT_NODEV = 0x00000010
MNT_UNION = 0x00000020
MNT_ASYNC = 0x00000040
MNT_NOCOREDUMP = 0x00008000
MNT_IGNORE = 0x00100000
MNT_NOATIME = 0x04000000
MNT_NODEVMTIME = 0x40000000
MNT_SOFTDEP = 0x80000000
MNT_LOG = 0x02000000
MNT_EXTATTR = 0x01000000
MNT_DISCARD = 0x00800000
MNT_LOCAL = 0x00001000
MNT_QUOTA = 0x00002000
MNT_ROOTFS = 0x00004000
MNT_UPDATE = 0x00010000
MNT_RELOAD = 0x00040000
MNT_FORCE = 0x00080000
MNT_GETARGS = 0x00400000

# (flag, word) in mount(8)'s order
NAMES = (
    (MNT_ASYNC, "asynchronous"), (MNT_DISCARD, "discard"), (MNT_EXTATTR, "extattr"),
    (MNT_IGNORE, "hidden"), (MNT_LOCAL, "local"), (MNT_LOG, "log"), (MNT_NOATIME, "noatime"),
    (MNT_NOCOREDUMP, "nocoredump"), (MNT_NODEV, "nodev"), (MNT_NODEVMTIME, "nodevmtime"),
    (MNT_NOEXEC, "noexec"), (MNT_NOSUID, "nosuid"), (MNT_QUOTA, "with quotas"),
    (MNT_RDONLY, "read-only"), (MNT_ROOTFS, "root file system"),
    (MNT_SOFTDEP, "soft dependencies"), (MNT_SYNCHRONOUS, "synchronous"), (MNT_UNION, "union"),
)

# mount -o words (getmntopts): word -> (flag, set?)
OPTIONS = {
    "ro": (MNT_RDONLY, True), "rdonly": (MNT_RDONLY, True), "rw": (MNT_RDONLY, False),
    "update": (MNT_UPDATE, True), "force": (MNT_FORCE, True), "reload": (MNT_RELOAD, True),
    "sync": (MNT_SYNCHRONOUS, True), "async": (MNT_ASYNC, True),
    "noatime": (MNT_NOATIME, True), "nodev": (MNT_NODEV, True), "noexec": (MNT_NOEXEC, True),
    "nosuid": (MNT_NOSUID, True), "nodevmtime": (MNT_NODEVMTIME, True),
    "nocoredump": (MNT_NOCOREDUMP, True), "union": (MNT_UNION, True),
    "softdep": (MNT_SOFTDEP, True), "log": (MNT_LOG, True), "extattr": (MNT_EXTATTR, True),
    "discard": (MNT_DISCARD, True), "getargs": (MNT_GETARGS, True), "hidden": (MNT_IGNORE, True),
}


def words(flags):
    return [w for f, w in NAMES if flags & f]


def parse_options(text, flags=0):
    """Apply a -o list ("ro,noatime"); unknown words raise ValueError."""
    for word in filter(None, text.split(",")):
        neg = word.startswith("no") and word not in OPTIONS and word[2:] in OPTIONS
        key = word[2:] if neg else word
        if key not in OPTIONS:
            raise ValueError(word)
        flag, on = OPTIONS[key]
        if neg:
            on = not on
        flags = flags | flag if on else flags & ~flag
    return flags
