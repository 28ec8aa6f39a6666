"""rump.pcap: capture the frames of a rump kernel's interface through its /dev/bpf to a pcap file.

    rump.pcap [-p] [-c count] [-s snaplen] [-w file] interface
The genuine toolset has no capture tool that reaches into a rump kernel;
this one opens /dev/bpf in the kernel (rumpdev_bpf), attaches it to the
interface (immediate mode, a 200 ms read timeout so interrupts are seen
promptly) and writes what it reads as a libpcap savefile (DLT_EN10MB, or
DLT_NULL for lo0) to a host file or, with `-w -`, standard output. Ends
after -c frames or on SIGINT/SIGTERM, then says on standard error how many
frames it captured, as tcpdump does.
"""
import signal
import sys

import click

from . import _cli
from ..abi import net as N
from ..abi.syscalls import O_RDWR
from ..formats import pcap
from ..formats.net import bpf as fbpf

USAGE = "usage: %s [-p] [-c count] [-s snaplen] [-w file] interface"
BUFSIZE = 65536


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
@click.option("-c", "count")
@click.option("-s", "snaplen")
@click.option("-w", "outfile")
@click.option("-p", "promisc", is_flag=True)
@click.argument("interface", required=False)
def cmd(count, snaplen, outfile, promisc, interface):
    if interface is None:
        _cli.NetBSDCommand.usage(cmd)
    try:
        limit = int(count) if count is not None else 0
        snap = int(snaplen) if snaplen is not None else 65535
        if limit < 0 or not 1 <= snap <= 65535:
            raise ValueError
    except ValueError:
        _cli.die("invalid number: %s" % (count if count is not None and not str(count).isdigit() else snaplen))
    if outfile is None:
        if sys.stdout.isatty():
            _cli.die("will not write a capture to a terminal (use -w file, or -w - with a pipe)")
        outfile = "-"
    client = _cli.connect()
    try:
        fd = client.open("/dev/bpf", O_RDWR, 0)
    except OSError as e:
        _cli.die(_cli.syscall_error("/dev/bpf", e))
    try:
        bufsize = client.ioctl(fd, N.BIOCSBLEN, BUFSIZE)
        client.ioctl(fd, N.BIOCSETIF, interface)
        client.ioctl(fd, N.BIOCIMMEDIATE, 1)
        client.ioctl(fd, N.BIOCSRTIMEOUT, 200000)
        dlt = client.ioctl(fd, N.BIOCGDLT, None)
        if snap < 65535:
            client.ioctl(fd, N.BIOCSETF, fbpf.pack_program([fbpf.stmt(0x06, snap)]))
        if promisc:
            client.ioctl(fd, N.BIOCPROMISC, None)
    except OSError as e:
        _cli.die(_cli.syscall_error(interface, e))
    try:
        out = sys.stdout.buffer if outfile == "-" else open(outfile, "wb")
    except OSError as e:
        _cli.die(_cli.syscall_error(outfile, e))
    stop = []

    def on_signal(signo, frame):
        stop.append(signo)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    out.write(pcap.file_header(dlt, snap))
    out.flush()
    got = 0
    try:
        while not stop and (not limit or got < limit):
            try:
                buf = client.read(fd, bufsize)
            except OSError as e:
                if stop:
                    break
                _cli.die(_cli.syscall_error("read", e))
            for sec, usec, datalen, data in fbpf.records(buf):
                out.write(pcap.record(sec, usec, data, datalen, snap))
                got += 1
                if limit and got >= limit:
                    break
            out.flush()
    except BrokenPipeError:
        pass
    try:
        _recv, drop, _capt = client.ioctl(fd, N.BIOCGSTATS, None)
    except OSError:
        drop = 0
    if outfile != "-":
        out.close()
    sys.stderr.write("%d packet%s captured\n%d packet%s dropped by kernel\n"
                     % (got, "" if got == 1 else "s", drop, "" if drop == 1 else "s"))


def main():
    cmd.main()


if __name__ == "__main__":
    main()
