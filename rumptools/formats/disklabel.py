"""NetBSD disklabel: the on-disk structure, its checksum and the label scanner.

Pure: bytes in, objects out, no I/O and no kernel state.  Used by the
rump.disklabel command, by rump_server's `-d ...,disklabel=X` option and by
cgdconfig's label check.

Format (x86, little-endian, no padding; a label written on a big-endian
host has every field byte-swapped and is accepted too):

     0 u32 d_magic        DISKMAGIC       92 u32[5] d_drivedata
     4 u16 d_type                        112 u32[5] d_spare
     6 u16 d_subtype                     132 u32 d_magic2  DISKMAGIC again
     8 char[16] d_typename               136 u16 d_checksum
    24 char[16] d_packname               138 u16 d_npartitions
    40 u32 d_secsize, d_nsectors,        140 u32 d_bbsize
       d_ntracks, d_ncylinders,          144 u32 d_sbsize
       d_secpercyl, d_secperunit         148 partition[d_npartitions]
    64 u16 d_sparespertrack, d_sparespercyl
    68 u32 d_acylinders
    72 u16 d_rpm, d_interleave, d_trackskew, d_cylskew
    80 u32 d_headswitch, d_trkseek, d_flags

A partition is 16 bytes: u32 size, u32 offset (both in sectors, offset
absolute), u32 fsize, u8 fstype, u8 frag, u16 cpg.  The checksum makes the
XOR of all 16-bit words of header plus partitions equal to zero.
"""
import struct
from dataclasses import dataclass, field, fields

DISKMAGIC = 0x82564557
DISKMAGIC_SWAPPED = 0x57455682          # DISKMAGIC as read on the other byte order
DISKMAGIC_DELETED = DISKMAGIC ^ 0xFFFFFFFF
MAXPARTITIONS = 16                      # partitions disklabel(8) handles on x86
MAXMAXPARTITIONS = 22                   # size of the structure's array
RAW_PART = 3                            # 'd': the whole disk on x86
LABELSECTOR = 1                         # label sits in this sector ...
LABELOFFSET = 0                         # ... at this byte offset
DEV_BSIZE = 512
BBSIZE = 8192                           # boot area that may hold a label
SBLOCKSIZE = 8192
NDDATA = 5
NSPARE = 5
HEADER_SIZE = 148
PARTITION_SIZE = 16
MBR_PTYPE_NETBSD = 0xA9

# d_flags bits
D_REMOVABLE = 0x01
D_ECC = 0x02
D_BADSECT = 0x04
D_RAMDISK = 0x08
D_CHAIN = 0x10
D_SCSI_MMC = 0x20

DKTYPENAMES = (
    "unknown", "SMD", "MSCP", "old DEC", "SCSI", "ESDI", "ST506", "HP-IB",
    "HP-FL", "type 9", "floppy", "ccd", "vnd", "ATAPI", "RAID", "ld", "jfs",
    "cgd", "vinum", "flash", "dm", "rumpd", "md",
)
DKTYPE_UNKNOWN = 0
DKTYPE_CGD = 17

FSTYPENAMES = (
    "unused", "swap", "Version 6", "Version 7", "System V", "4.1BSD",
    "Eighth Edition", "4.2BSD", "MSDOS", "4.4LFS", "unknown", "HPFS",
    "ISO9660", "boot", "ADOS", "HFS", "FILECORE", "Linux Ext2", "NTFS",
    "RAID", "ccd", "jfs", "Apple UFS", "vinum", "UDF", "SysVBFS", "EFS",
    "NiLFS", "cgd", "MINIX FSv3", "VMware vmkcore", "VMware VMFS",
    "VMware Reserved", "ZFS",
)
FS_UNUSED = 0
FS_SWAP = 1
FS_BSDFFS = 7
FS_MSDOS = 8
FS_BSDLFS = 9
FS_OTHER = 10                           # printed as "unknown"
FS_ISO9660 = 12
FS_ADOS = 14
FS_EX2FS = 17
FS_APPLEUFS = 22
FS_CGD = 28

_HEADER = struct.Struct("<IHH16s16s6IHHI4H3I5I5IIHHII")
_PART = struct.Struct("<3IBBH")
assert _HEADER.size == HEADER_SIZE and _PART.size == PARTITION_SIZE


class DisklabelError(ValueError):
    """A buffer does not hold a usable disklabel, or a label cannot be encoded."""


@dataclass
class Partition:
    size: int = 0            # sectors
    offset: int = 0          # first sector, counted from the start of the disk
    fsize: int = 0           # fragment size (ISO9660: cd session)
    fstype: int = FS_UNUSED
    frag: int = 0            # fragments per block
    cpg: int = 0             # cylinders per group (LFS: segment shift)

    @property
    def bsize(self):
        return self.fsize * self.frag

    @property
    def end(self):
        return self.offset + self.size


def label_size(npartitions):
    """Bytes a label with this many partitions occupies on disk."""
    return HEADER_SIZE + PARTITION_SIZE * npartitions


@dataclass
class Label:
    type: int = DKTYPE_UNKNOWN
    subtype: int = 0
    typename: bytes = b""    # "disk:" line, at most 16 bytes
    packname: bytes = b""    # "label:" line, at most 16 bytes
    secsize: int = 0
    nsectors: int = 0        # sectors per track
    ntracks: int = 0         # tracks per cylinder
    ncylinders: int = 0
    secpercyl: int = 0
    secperunit: int = 0      # total sectors
    sparespertrack: int = 0
    sparespercyl: int = 0
    acylinders: int = 0
    rpm: int = 0
    interleave: int = 0
    trackskew: int = 0
    cylskew: int = 0
    headswitch: int = 0
    trkseek: int = 0
    flags: int = 0
    drivedata: tuple = (0,) * NDDATA
    spare: tuple = (0,) * NSPARE
    bbsize: int = 0
    sbsize: int = 0
    partitions: list = field(default_factory=list)
    swapped: bool = False    # stored in the opposite (big-endian) byte order

    @property
    def npartitions(self):
        return len(self.partitions)

    def copy(self):
        new = Label(**{f.name: getattr(self, f.name) for f in fields(self)})
        new.partitions = [Partition(**vars(p)) for p in self.partitions]
        return new


def checksum(data, swapped=False):
    """XOR of the 16-bit words of data (an even number of bytes)."""
    if len(data) % 2:
        raise DisklabelError("checksum over an odd number of bytes")
    words = struct.unpack("%s%dH" % (">" if swapped else "<", len(data) // 2), data)
    total = 0
    for w in words:
        total ^= w
    return total


def _order(swapped):
    return ">" if swapped else "<"


def pack(label):
    """Encode label with both magics and a correct checksum."""
    n = label.npartitions
    if n > MAXMAXPARTITIONS:
        raise DisklabelError("too many partitions: %d (at most %d)" % (n, MAXMAXPARTITIONS))
    if len(label.typename) > 16 or len(label.packname) > 16:
        raise DisklabelError("disk type name and label name hold at most 16 bytes")
    if len(label.drivedata) != NDDATA or len(label.spare) != NSPARE:
        raise DisklabelError("drivedata and spare hold exactly 5 values each")
    bo = _order(label.swapped)
    try:
        head = struct.pack(
            bo + _HEADER.format[1:],
            DISKMAGIC, label.type, label.subtype, label.typename, label.packname,
            label.secsize, label.nsectors, label.ntracks, label.ncylinders,
            label.secpercyl, label.secperunit, label.sparespertrack,
            label.sparespercyl, label.acylinders, label.rpm, label.interleave,
            label.trackskew, label.cylskew, label.headswitch, label.trkseek,
            label.flags, *label.drivedata, *label.spare, DISKMAGIC, 0, n,
            label.bbsize, label.sbsize)
        parts = b"".join(
            struct.pack(bo + _PART.format[1:], p.size, p.offset, p.fsize,
                        p.fstype, p.frag, p.cpg)
            for p in label.partitions)
    except struct.error as e:
        raise DisklabelError("label field out of range: %s" % e) from None
    buf = bytearray(head + parts)
    struct.pack_into(bo + "H", buf, 136, checksum(buf, label.swapped))
    return bytes(buf)


def unpack(buf, offset=0, *, verify=True):
    """Decode the label at buf[offset:].

    Raises DisklabelError for a bad magic, more than MAXMAXPARTITIONS
    partitions, a truncated buffer or (when verify is true) a bad checksum.
    """
    buf = memoryview(buf)
    if len(buf) < offset + HEADER_SIZE:
        raise DisklabelError("truncated label: %d bytes at offset %d"
                             % (max(0, len(buf) - offset), offset))
    magic, = struct.unpack_from("<I", buf, offset)
    magic2, = struct.unpack_from("<I", buf, offset + 132)
    if magic == magic2 == DISKMAGIC:
        swapped = False
    elif magic == magic2 == DISKMAGIC_SWAPPED:
        swapped = True
    else:
        raise DisklabelError("bad magic number (0x%08x, 0x%08x)" % (magic, magic2))
    bo = _order(swapped)
    v = struct.unpack_from(bo + _HEADER.format[1:], buf, offset)
    n = v[-3]
    if n > MAXMAXPARTITIONS:
        raise DisklabelError("bad number of partitions: %d (at most %d)" % (n, MAXMAXPARTITIONS))
    size = label_size(n)
    if len(buf) < offset + size:
        raise DisklabelError("truncated label: %d partitions need %d bytes" % (n, size))
    if verify and checksum(buf[offset:offset + size], swapped) != 0:
        raise DisklabelError("bad checksum")
    parts = []
    for i in range(n):
        psize, poff, fsize, fstype, frag, cpg = struct.unpack_from(
            bo + _PART.format[1:], buf, offset + HEADER_SIZE + PARTITION_SIZE * i)
        parts.append(Partition(psize, poff, fsize, fstype, frag, cpg))
    return Label(
        type=v[1], subtype=v[2], typename=v[3].rstrip(b"\0"), packname=v[4].rstrip(b"\0"),
        secsize=v[5], nsectors=v[6], ntracks=v[7], ncylinders=v[8],
        secpercyl=v[9], secperunit=v[10], sparespertrack=v[11],
        sparespercyl=v[12], acylinders=v[13], rpm=v[14], interleave=v[15],
        trackskew=v[16], cylskew=v[17], headswitch=v[18], trkseek=v[19],
        flags=v[20], drivedata=tuple(v[21:26]), spare=tuple(v[26:31]),
        bbsize=v[-2], sbsize=v[-1], partitions=parts, swapped=swapped)


_MAGIC_LE = struct.pack("<I", DISKMAGIC)
_MAGIC_BE = struct.pack(">I", DISKMAGIC)


def candidates(buf, maxscan=None):
    """Yield (offset, Label or DisklabelError) for every 4-byte aligned
    offset of buf[:maxscan] where d_magic and d_magic2 both hold DISKMAGIC
    in the same byte order, in increasing offset order."""
    data = bytes(buf) if maxscan is None else bytes(memoryview(buf)[:maxscan])
    last = len(data) - HEADER_SIZE
    pos = 0
    while pos <= last:
        hits = [h for h in (data.find(_MAGIC_LE, pos), data.find(_MAGIC_BE, pos)) if h >= 0]
        if not hits:
            return
        off = min(hits)
        if off > last:
            return
        pos = off + 1
        if off % 4 or data[off + 132:off + 136] != data[off:off + 4]:
            continue
        try:
            yield off, unpack(data, off)
        except DisklabelError as e:
            yield off, e


def find_label(buf, maxscan=None):
    """Scan buf (only its first maxscan bytes, if given) in 4-byte steps for
    the first valid label, as NetBSD's disklabel_scan() does.

    Returns (offset, Label) or None.  A candidate needs both magics equal
    (either byte order), at most MAXMAXPARTITIONS partitions and a checksum
    of zero; others are skipped.
    """
    for off, found in candidates(buf, maxscan):
        if isinstance(found, Label):
            return off, found
    return None


def mbr_netbsd_partition(sector0):
    """(start, size) in sectors of the first NetBSD (0xA9) partition of the
    MBR in sector0, or None when there is no MBR or no such partition.

    MBR: four 16-byte entries at byte 446 (type at +4, u32 LBA start at +8,
    u32 size at +12), signature 0x55 0xAA at byte 510.
    """
    if len(sector0) < 512 or sector0[510:512] != b"\x55\xaa":
        return None
    for i in range(4):
        entry = sector0[446 + 16 * i:462 + 16 * i]
        start, size = struct.unpack_from("<II", entry, 8)
        if entry[4] == MBR_PTYPE_NETBSD and size != 0:
            return start, size
    return None


def default_label(total_sectors, typename=b"image"):
    """A label for an unlabelled disk of total_sectors sectors (disklabel -I):
    a made-up geometry of 32 sectors x 64 tracks and the raw partition 'd'
    covering the whole disk."""
    spc = 32 * 64
    parts = [Partition() for _ in range(RAW_PART + 1)]
    parts[RAW_PART] = Partition(size=total_sectors, offset=0)
    return Label(type=DKTYPE_UNKNOWN, typename=typename, packname=b"fictitious",
                 secsize=DEV_BSIZE, nsectors=32, ntracks=64,
                 ncylinders=max(1, total_sectors // spc), secpercyl=spc,
                 secperunit=total_sectors, rpm=3600, interleave=1,
                 bbsize=BBSIZE, sbsize=SBLOCKSIZE, partitions=parts)
