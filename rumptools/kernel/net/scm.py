"""Socket control messages inside the kernel: descriptors in flight (SCM_RIGHTS) and credentials.

On the wire a control message is a (level, type, bytes) triple (sendmsg and
recvmsg in abi/syscalls.py); SCM_RIGHTS carries native-endian 32-bit
descriptor numbers. internalize() turns the descriptors a sender names into
the Files themselves (each held once while in flight, as NetBSD's
unp_internalize does); externalize() gives the receiving process new
descriptors for them, within the room recvmsg's controllen leaves
(CMSG_SPACE per message, the last one CMSG_LEN); what does not fit is
dropped and MSG_CTRUNC reported. dispose() releases Files that are never
delivered (read(2), a closed receiver, a truncated control buffer).

Locking rule: kernel lock held by every caller.
"""
import struct

from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError

SCM_RIGHTS, SCM_CREDS = 0x01, 0x10
CMSG_HDR = 16
MAX_RIGHTS = 253            # NetBSD's per-message limit is of this order (SCM_RIGHTS of one page)


def cmsg_len(n):
    return CMSG_HDR + n


def cmsg_space(n):
    return CMSG_HDR + (n + 7) // 8 * 8


class Rights:
    """Files in flight in one SCM_RIGHTS message; each holds one reference."""

    __slots__ = ("files",)

    def __init__(self, files):
        self.files = files

    def __len__(self):
        return 4 * len(self.files)


def internalize(proc, control):
    """The sender's control list (level, type, bytes) as the kernel keeps it.

    SCM_RIGHTS names descriptors of proc (EBADF if one is not open, EINVAL
    if the length is not a multiple of 4); other SOL_SOCKET types and other
    levels are EINVAL (AF_LOCAL takes nothing else).
    """
    out = []
    try:
        for item in control:
            if type(item) is not tuple or len(item) != 3 or type(item[2]) is not bytes:
                raise RumpError(errnos.EINVAL)
            level, typ, data = item
            if level != N.SOL_SOCKET or typ != SCM_RIGHTS or len(data) % 4 or len(data) > 4 * MAX_RIGHTS:
                raise RumpError(errnos.EINVAL)
            files = []
            out.append((level, typ, Rights(files)))
            for fd in struct.unpack("=%di" % (len(data) // 4), data):
                files.append(proc.files.get(fd).hold())
    except BaseException:
        dispose(out)
        raise
    return out


def dispose(control):
    """Release the Files of undelivered SCM_RIGHTS messages."""
    for item in control or ():
        if isinstance(item[2], Rights):
            files, item[2].files = item[2].files, []
            for fp in files:
                fp.drop()


def externalize(proc, control, controllen):
    """(wire control tuple, truncated): new descriptors in proc for SCM_RIGHTS."""
    out = []
    room = controllen
    truncated = False
    for i, (level, typ, data) in enumerate(control or ()):
        need = len(data)
        last = i == len(control) - 1
        if truncated or room < (cmsg_len(need) if last else cmsg_space(need)):
            truncated = True
            if isinstance(data, Rights):
                dispose([(level, typ, data)])
            continue
        room -= cmsg_space(need)
        if isinstance(data, Rights):
            fds = []
            files, data.files = data.files, []
            for k, fp in enumerate(files):
                try:
                    fds.append(proc.files.alloc(fp))
                except RumpError:               # EMFILE: the rest are lost, as NetBSD's are
                    for rest in files[k:]:
                        rest.drop()
                    truncated = True
                    break
                fp.drop()                       # the table holds it now
            data = struct.pack("=%di" % len(fds), *fds)
        out.append((level, typ, data))
    return tuple(out), truncated


def sockcred(proc):
    """SCM_CREDS payload: struct sockcred {pid, uid, euid, gid, egid, ngroups, groups[1]} (28 bytes)."""
    return struct.pack("=iIIIIiI", proc.pid, proc.uid, proc.uid, proc.gid, proc.gid, 0, 0)


def unpcbid(proc):
    """LOCAL_PEEREID's struct unpcbid {pid, euid, egid} (12 bytes)."""
    return struct.pack("=iII", proc.pid, proc.uid, proc.gid)
