"""Host side of virt(4): a Linux tap interface opened through /dev/net/tun.

TapDevice(name) attaches to an existing tap (IFF_TAP | IFF_NO_PI): one that
the administrator made and gave to this user (`ip tuntap add dev tap0 mode
tap user $USER`), so no privilege is needed. A tap that does not exist is
refused before /dev/net/tun is touched (opening it with TUNSETIFF would
otherwise create one when the process may); one that is not ours fails
with the kernel's EPERM. read(timeout) returns one frame or None;
read_many(timeout, limit) waits as read() does, then takes every frame
already queued (at most limit) without waiting again: [] on timeout;
write(frame) sends one. Only this module touches the tap.
"""
import errno
import fcntl
import os
import select
import socket
import struct

TUNSETIFF = 0x400454ca
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


class TapError(OSError):
    pass


def exists(name):
    """An interface of this name in the process's network namespace (sysfs may show another's)."""
    try:
        socket.if_nametoindex(name)
        return True
    except OSError:
        return False


class TapDevice:
    def __init__(self, name):
        self.name = name
        self.fd = -1
        if not exists(name):
            raise TapError(errno.ENXIO, "host tap %s does not exist (make it with: ip tuntap add dev %s mode tap "
                           "user $USER)" % (name, name))
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TAP | IFF_NO_PI))
        except OSError as e:
            os.close(fd)
            raise TapError(e.errno, "cannot attach to host tap %s: %s (it must be a tap owned by this user)"
                           % (name, os.strerror(e.errno))) from None
        os.set_blocking(fd, False)
        self.fd = fd

    def read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return None
        try:
            return os.read(self.fd, 65536)
        except (BlockingIOError, InterruptedError):
            return None

    def read_many(self, timeout, limit=64):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return []
        out = []
        fd, read = self.fd, os.read
        try:
            for _ in range(limit):
                out.append(read(fd, 65536))
        except (BlockingIOError, InterruptedError):
            pass
        return out

    def write(self, frame):
        os.write(self.fd, frame)

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
