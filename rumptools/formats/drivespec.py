"""rump_server's -d drivespec: key=/path,hostpath=file[,size=N|host][,offset=N][,disklabel=P][,type=blk|chr|reg].

Pure: parsing and validation only. Sizes take dd's suffixes (size=8m is
8 MiB; NetBSD's Linux build silently ignored suffixes). Errors carry NetBSD's
wording; `usage` says whether the usage line should follow.
"""
from dataclasses import dataclass

from .sizes import SizeError, parse_size

TYPES = ("blk", "chr", "reg")


class DriveSpecError(ValueError):
    def __init__(self, message, usage=True):
        super().__init__(message)
        self.usage = usage


@dataclass
class DriveSpec:
    key: str
    hostpath: str
    size: object = None        # int bytes, "host", or None (disklabel / type=reg)
    offset: int = 0
    part: str = None           # disklabel partition letter
    type: str = "blk"


def parse(text):
    got = {}
    order = []
    for token in text.split(","):
        name, eq, value = token.partition("=")
        if name not in ("key", "hostpath", "size", "offset", "disklabel", "type"):
            raise DriveSpecError("invalid dtoken")
        if not eq:
            raise DriveSpecError("%s needs a value" % name)
        if name in got:
            if name == "type":
                raise DriveSpecError("type already specified")
            if name == "disklabel":
                raise DriveSpecError("disklabel already given")
            raise DriveSpecError("%s already given" % name)
        if name == "disklabel" and ("size" in got or "offset" in got):
            raise DriveSpecError("disklabel needs to be used alone", usage=False)
        got[name] = value
        order.append(name)
    spec = DriveSpec(key=got.get("key", ""), hostpath=got.get("hostpath", ""))
    if "type" in got:
        if got["type"] not in TYPES:
            raise DriveSpecError("invalid type %s" % got["type"], usage=False)
        spec.type = got["type"]
    if "disklabel" in got:
        part = got["disklabel"]
        if len(part) != 1 or not "a" <= part <= "z":
            raise DriveSpecError("invalid label part", usage=False)
        spec.part = part
    if "size" in got:
        if got["size"] == "host":
            if "offset" in got:
                raise DriveSpecError("cannot specify offset with size=host", usage=False)
            spec.size = "host"
        else:
            spec.size = _size(got["size"], "-d size")
    if "offset" in got:
        spec.offset = _size(got["offset"], "-d offset")
    if not spec.key or not spec.hostpath or (spec.size is None and spec.part is None
                                               and spec.type != "reg"):
        raise DriveSpecError("incomplete drivespec")
    if not spec.key.startswith("/"):
        raise DriveSpecError("key %s: must be an absolute path" % spec.key, usage=False)
    if spec.size is not None and spec.size != "host" and spec.size <= 0:
        raise DriveSpecError("-d size: must be greater than zero", usage=False)
    return spec


def _size(text, what):
    try:
        return parse_size(text, what, minimum=0)
    except SizeError as e:
        raise DriveSpecError(str(e), usage=False) from None
