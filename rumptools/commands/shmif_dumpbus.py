"""shmif_dumpbus [-h] [-p pcapfile] buspath: show a shmif bus, or turn it
into a pcap file.

A host tool, as in NetBSD: it reads the bus file directly (a snapshot, no
locking) and needs no rump kernel.  Reads our buses and NetBSD's, of either
byte order, bus versions 3 and 2.
"""
import os
import sys

import click

from . import _cli
from ..formats import pcap, shmif

USAGE = "usage: %s [-h] [-p pcapfile] buspath"


def _oserr(what, exc):
    from ..abi import errnos
    _cli.die("%s: %s" % (what, errnos.host_text(exc)))


def load_bus(path):
    """The bus file's bytes, at least a whole bus long (zero-filled)."""
    try:
        with open(path, "rb") as f:
            data = f.read(shmif.BUSMEM_SIZE)
    except OSError as e:
        _oserr("open bus", e)
    if len(data) < shmif.HDRSIZE:
        _cli.die("%s not a shmif bus" % path)
    return bytearray(data.ljust(shmif.BUSMEM_SIZE, b"\0"))


def dump(path, header_only, pcapfile, out, binout):
    data = load_bus(path)
    h = shmif.Header.parse(data)
    if h.magic != shmif.MAGIC:
        _cli.die("%s not a shmif bus" % path)
    if h.version == shmif.VERSION:
        hdrsize = shmif.PKTHDR_SIZE
    elif h.version == 2:
        hdrsize = shmif.PKTHDR2_SIZE
    else:
        _cli.die("bus version %d, program %d" % (h.version, shmif.VERSION))
    text = sys.stderr if pcapfile == "-" else out
    text.write("bus version %d, lock: %d, generation: %d, firstoff: 0x%04x, lastoff: 0x%04x\n"
               % (h.version, h.lock, h.gen, h.first, h.last))
    if header_only:
        return
    pf = None
    if pcapfile is not None:
        if pcapfile == "-":
            pf = binout
        else:
            try:
                pf = open(pcapfile, "wb")
            except OSError as e:
                _oserr("cannot open pcap dump file", e)
        pf.write(pcap.file_header(pcap.DLT_EN10MB, 1518))
    ring = shmif.Ring(data, swapped=h.swapped, pkthdr_size=hdrsize)
    try:
        for i, (at, length, sec, usec, _sender, frame) in enumerate(shmif.walk(ring)):
            text.write("packet %d, offset 0x%04x, length 0x%04x, ts %d/%06d\n" % (i, at, length, sec, usec))
            if pf is not None:
                pf.write(pcap.record(sec, usec, frame))
    except shmif.BusCorrupt as e:
        text.flush()
        _cli.die("%s: damaged bus: %s" % (path, e))
    finally:
        if pf is not None:
            pf.flush()
            if pf is not binout:
                pf.close()


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-h", "header_only", is_flag=True)
@click.option("-p", "pcapfile")
@click.argument("buspath", nargs=-1)
def cmd(header_only, pcapfile, buspath):
    if len(buspath) != 1:
        _cli.NetBSDCommand.usage(cmd)
    try:
        dump(buspath[0], header_only, pcapfile, sys.stdout, sys.stdout.buffer)
        sys.stdout.flush()
    except BrokenPipeError:
        # a reader that stopped early (| head): quiet, like a C tool killed by SIGPIPE
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def main():
    cmd.main()


if __name__ == "__main__":
    main()
