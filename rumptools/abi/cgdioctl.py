"""The cgd ioctls as they cross the wire (values, not structs). Shared by rump.cgdconfig and the driver.

Numbers are NetBSD's on amd64 (group 'F', 64-byte argument structs):
CGDIOCSET  0xC0404612  arg (disk path, algorithm, ivmethod, keylen bits, key bytes, blocksize bits or -1)
CGDIOCCLR  0x80404613  arg None
CGDIOCGET  0xC0404614  arg unit number -> (unit, disk path or "", algorithm, blocksize bytes,
                       mode, keylen bits); mode 1 = encblkno8, 2 = encblkno1, 0 = not in use
Issue them on a raw cgd device descriptor (/dev/rcgd0d).
"""
CGDIOCSET = 0xC0404612
CGDIOCCLR = 0x80404613
CGDIOCGET = 0xC0404614
MODE_ENCBLKNO8, MODE_ENCBLKNO1 = 1, 2
NCGD = 4                      # units cgd0..cgd3
PARTITIONS = "abcdefg"
RAW_PART = "d"


def raw_device(unit, part=RAW_PART):
    return "/dev/rcgd%d%s" % (unit, part)


def parse_cgd_name(name):
    """'cgd0', 'rcgd0d', '/dev/rcgd0d' -> unit number, or None."""
    base = name.rsplit("/", 1)[-1]
    if base.startswith("r"):
        base = base[1:]
    if not base.startswith("cgd"):
        return None
    digits = base[3:].rstrip(PARTITIONS)
    if not digits.isdigit():
        return None
    return int(digits)
