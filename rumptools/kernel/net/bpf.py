"""/dev/bpf: the Berkeley packet filter device (NetBSD's bpf.c; specs/net.md §9).

Each open is its own descriptor (a cloning device): buffer size (32768 by
default, BIOCSBLEN before BIOCSETIF, clamped to 32..net.bpf.maxbufsize),
the interface it listens to, a filter program (classic BPF, interpreted by
formats/net/bpf.py; none = capture whole frames), immediate mode, see-sent,
header-complete and a read timeout. The interface's tap runs for every frame
in and out with the kernel lock held: the filter decides the capture length,
a record (bpf_hdr with wall-clock stamp, then the bytes) goes into the store
buffer; a full store buffer moves to the hold buffer if that is empty, else
the packet is dropped and counted. read() must ask for exactly the buffer
size and returns the hold buffer: when one is there, at once in immediate
mode with anything stored, or when the read timeout expires. write() sends
one whole link frame (source MAC filled unless header-complete).

Locking rule: kernel lock held; read sleeps on the descriptor's channel.
"""
from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from ...abi.poll import POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from ...abi.syscalls import O_NONBLOCK
from ...formats import net as fnet
from ...formats.net import bpf as fbpf
from ..kern.files import File
from ..kern.selinfo import SelInfo, selnotify, selrecord
from ..kern.sleepq import curlwp

BPF_MAJOR = 23


class BpfFile(File):
    kind = "bpf"

    def __init__(self, kernel, dev, flags):
        super().__init__(kernel, flags)
        self.dev = dev
        self.bufsize = N.BPF_DFLTBUFSIZE
        self.store, self.store_len = [], 0
        self.hbuf = None
        self.ifp = None
        self.prog = None
        self.immediate = False
        self.seesent = True
        self.hdrcmplt = False
        self.rtimeout = None
        self.n_recv = self.n_drop = self.n_capt = 0
        self.sel = SelInfo(kernel)
        self.chan = ("bpf", id(self))
        self.linkhdr = 14

    # -- capture (tap) ----------------------------------------------------------------
    def tap(self, frame, outgoing):
        if outgoing and not self.seesent:
            return
        self.n_recv += 1
        n = len(frame)
        if self.prog is not None:
            try:
                snap = fbpf.filter(self.prog, frame)
            except fnet.MalformedPacket:
                snap = 0
            if not snap:
                return
        else:
            snap = n
        t = self.kernel.host.wall_time()
        sec = int(t)
        rec = fbpf.record(sec, int((t - sec) * 1e6), frame[:min(snap, n)], n, self.linkhdr)
        if len(rec) > self.bufsize:
            rec = fbpf.record(sec, int((t - sec) * 1e6), frame[:self.bufsize - 64], n, self.linkhdr)
        if self.store_len + len(rec) > self.bufsize:
            if self.hbuf is not None:
                self.n_drop += 1
                return
            self._rotate()
        self.store.append(rec)
        self.store_len += len(rec)
        self.n_capt += 1
        if self.immediate or self.hbuf is not None:
            self._wakeup()

    def _rotate(self):
        self.hbuf = b"".join(self.store)
        self.store, self.store_len = [], 0
        self._wakeup()

    def _wakeup(self):
        self.kernel.sleepq.wakeup(self.chan)
        selnotify(self.sel, POLLIN)

    def _ready(self):
        return self.hbuf is not None or (self.immediate and self.store_len > 0)

    # -- file operations ------------------------------------------------------------------
    def read(self, n, offset=None):
        if n != self.bufsize:
            raise RumpError(errnos.EINVAL)
        if self.ifp is None:
            raise RumpError(errnos.ENXIO)
        for _ in range(1 << 30):
            if self.hbuf is None and self.immediate and self.store_len:
                self._rotate()
            if self.hbuf is not None:
                break
            if self.ifp is None:
                raise RumpError(errnos.ENXIO)
            if self.flags & O_NONBLOCK:
                raise RumpError(errnos.EAGAIN)
            try:
                self.kernel.sleepq.tsleep(self.chan, self.rtimeout)
            except RumpError as e:
                if e.errno != errnos.EAGAIN:
                    raise
                if self.hbuf is None:
                    self._rotate()          # timeout: whatever is stored, maybe nothing
                break
        data, self.hbuf = self.hbuf or b"", None
        return data

    def write(self, data, offset=None):
        ifp = self.ifp
        if ifp is None:
            raise RumpError(errnos.ENXIO)
        if len(data) == 0:
            return 0
        if len(data) - self.linkhdr > ifp.mtu:
            raise RumpError(errnos.EMSGSIZE)
        if ifp.dlt == 1:
            if len(data) < 14:
                raise RumpError(errnos.EINVAL)
            if not self.hdrcmplt:
                data = data[:6] + ifp.lladdr + data[12:]
            ifp.output_frame(bytes(data), bool(data[0] & 1))
        else:
            ifp.transmit(bytes(data))
        return len(data)

    def poll(self, events):
        rev = events & (POLLOUT | POLLWRNORM)
        if events & (POLLIN | POLLRDNORM):
            if self._ready():
                rev |= events & (POLLIN | POLLRDNORM)
            else:
                selrecord(curlwp(), self.sel)
        return rev

    def stat(self):
        from ..kern.stat import make_stat
        return make_stat(mode=0o020600, rdev=BPF_MAJOR << 8)

    def release(self):
        self._detach()
        self._wakeup()

    def _detach(self):
        if self.ifp is not None:
            try:
                self.ifp.bpf_taps.remove(self.tap)
            except ValueError:
                pass
            if getattr(self.ifp, "promisc", False):
                self.ifp.promisc = any(getattr(t, "__self__", None) and t.__self__.promisc_on
                                       for t in self.ifp.bpf_taps)
            self.ifp = None

    promisc_on = False

    def ioctl(self, cmd, arg):
        if cmd == N.FIONBIO:
            self.flags = self.flags | O_NONBLOCK if arg else self.flags & ~O_NONBLOCK
            return None
        if cmd == N.FIONREAD:
            return len(self.hbuf or b"") if self.hbuf is not None else self.store_len * self.immediate
        if cmd == N.BIOCGBLEN:
            return self.bufsize
        if cmd == N.BIOCSBLEN:
            if self.ifp is not None:
                raise RumpError(errnos.EINVAL)
            v = _int(arg)
            self.bufsize = max(N.BPF_MINBUFSIZE, min(v, self.dev.maxbufsize))
            return self.bufsize
        if cmd == N.BIOCSETF:
            self.prog = _program(arg)
            self.store, self.store_len, self.hbuf = [], 0, None
            return None
        if cmd == N.BIOCFLUSH:
            self.store, self.store_len, self.hbuf = [], 0, None
            self.n_recv = self.n_drop = 0
            return None
        if cmd == N.BIOCSETIF:
            if type(arg) is not str:
                raise RumpError(errnos.EINVAL)
            ifp = self.kernel.slot("net").ifunit(arg)
            self._detach()
            self.ifp = ifp
            self.linkhdr = 4 if ifp.dlt == 0 else ifp.hdrlen
            self.store, self.store_len, self.hbuf = [], 0, None
            ifp.bpf_taps.append(self.tap)
            return None
        if cmd == N.BIOCSRTIMEOUT:
            us = _int(arg)
            if us < 0:
                raise RumpError(errnos.EINVAL)
            self.rtimeout = us / 1e6 if us else None
            return None
        if cmd == N.BIOCGRTIMEOUT:
            return int(round((self.rtimeout or 0) * 1e6))
        if cmd == N.BIOCVERSION:
            return (1, 1)
        if cmd == N.BIOCIMMEDIATE:
            self.immediate = bool(_int(arg))
            return None
        if cmd in (N.BIOCSHDRCMPLT, N.BIOCSSEESENT):
            setattr(self, "hdrcmplt" if cmd == N.BIOCSHDRCMPLT else "seesent", bool(_int(arg)))
            return None
        if cmd == N.BIOCGHDRCMPLT:
            return int(self.hdrcmplt)
        if cmd == N.BIOCGSEESENT:
            return int(self.seesent)
        if self.ifp is None:
            if cmd in (N.BIOCGDLT, N.BIOCPROMISC, N.BIOCGETIF, N.BIOCGSTATS):
                raise RumpError(errnos.EINVAL)
            raise RumpError(errnos.ENOTTY)
        if cmd == N.BIOCGDLT:
            return self.ifp.dlt
        if cmd == N.BIOCGETIF:
            return self.ifp.name
        if cmd == N.BIOCGSTATS:
            return (self.n_recv, self.n_drop, self.n_capt)
        if cmd == N.BIOCPROMISC:
            self.promisc_on = True
            if hasattr(self.ifp, "promisc"):
                self.ifp.promisc = True
            return None
        raise RumpError(errnos.ENOTTY)


def _int(v):
    if type(v) is not int:
        raise RumpError(errnos.EINVAL)
    return v


def _program(arg):
    if arg is None:
        return None
    try:
        if type(arg) is bytes:
            prog = fbpf.unpack_program(arg)
        elif type(arg) is tuple:
            prog = [fbpf.Insn(*map(int, i)) for i in arg]
        else:
            raise RumpError(errnos.EINVAL)
    except (fnet.MalformedPacket, TypeError, ValueError):
        raise RumpError(errnos.EINVAL) from None
    if len(prog) > fbpf.MAXINSNS or not prog or not fbpf.validate(prog):
        raise RumpError(errnos.EINVAL)
    return prog


class BpfDriver:
    """The device switch entry: each open clones a BpfFile."""

    name = "bpf"

    def __init__(self, kernel):
        self.kernel = kernel
        self.maxbufsize = N.BPF_MAXBUFSIZE

    def open(self, minor, flags, raw):
        return BpfFile(self.kernel, self, flags & 0x3 | flags & O_NONBLOCK)

    def close(self, minor, flags, raw):
        pass

    def read(self, minor, offset, n, raw):
        raise RumpError(errnos.ENXIO)

    def write(self, minor, offset, data, raw):
        raise RumpError(errnos.ENXIO)

    def ioctl(self, minor, cmd, arg, raw):
        raise RumpError(errnos.ENOTTY)

    def fsync(self, minor):
        pass

    def size(self, minor):
        return 0
