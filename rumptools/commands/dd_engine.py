"""The copy engine of rump.dd: NetBSD's dd(1) over any os-like module.

It follows bin/dd (dd.c, conv.c, position.c): input blocks of
ibs bytes are read, optionally padded (sync), byte-swapped (swab) and
converted (character tables, block/unblock), gathered into output blocks of
obs bytes and written; with bs= and no conversion each block read is written
as it is.  Counters and the summary are dd_summary's, operands dd_args's.

Files named by if=/of= are opened through ``sysmod``, an object with the os
module's open/read/write/lseek/fstat/ftruncate/close (the rump kernel client
in the command, ``os`` itself in tests).  Standard input and output, used
when if=/of= are absent, are always the host's descriptors through ``os``.

The plain path (no conversion) does no per-byte Python work: blocks move as
bytes/memoryview objects from read() to write().
"""
import errno
import os
import signal
import stat
import time

from rumptools.formats import dd_summary
from rumptools.formats.dd_args import NETBSD_OPEN_FLAGS
from rumptools.formats.dd_summary import Stats
from rumptools.abi import errnos

PROGNAME = "rump.dd"
USAGE = "usage: dd [operand ...]"
DEFFILEMODE = 0o666


def _say(fd, text):
    """Write text to a host descriptor (stderr); never fails."""
    try:
        os.write(fd, text.encode("utf-8", "surrogateescape"))
    except OSError:
        pass


class _Fatal(Exception):
    """Give up: the message is printed with the program name, exit status 1."""


def _text(exc):
    """NetBSD's strerror text for an OSError from the host or the kernel."""
    return errnos.host_text(exc)


def _failure(name, exc):
    """The message for a failed operation on file `name`."""
    if getattr(exc, "lost", False):
        return "connection to the kernel was lost"
    return "%s: %s" % (name, _text(exc))


def _is_errno(exc, name):
    """True if exc carries errno `name`, in host or NetBSD numbering."""
    if exc.errno is None:
        return False
    if isinstance(exc, errnos.RumpError):
        return exc.errno == getattr(errnos, name, None)
    return exc.errno == getattr(errno, name, None)


def _open_flag(ops, name):
    """open(2) bit for flag `name` (e.g. "creat") as ops numbers it.

    ops' own O_* constant if it has one; otherwise NetBSD's value for a
    kernel client, or None when the host (os) lacks the flag.
    """
    value = getattr(ops, "O_" + name.upper(), None)
    if value is None and ops is not os:
        value = NETBSD_OPEN_FLAGS[name]
    return value


class _Stream:
    """One end of the copy: a descriptor and the os-like object that owns it."""

    def __init__(self, name, fd, ops, opened):
        self.name = name
        self.fd = fd
        self.ops = ops
        self.opened = opened        # we opened it, so we close it
        self.host = ops is os
        self.pipe = False           # cannot seek: position by reading
        self.chr = False            # character device: warn on short writes
        self.mode = 0
        self.size = 0

    def write(self, data):
        if self.host:
            return os.write(self.fd, data)
        return self.ops.write(self.fd, data if type(data) is bytes else bytes(data))


class DD:
    """One dd run: setup() opens and positions, copy() moves data, finish() flushes."""

    def __init__(self, args, sysmod=os, stdin_fd=0, stdout_fd=1, stderr_fd=2,
                 signals=False):
        self.a = args
        self.sysmod = sysmod
        self.stdin_fd = stdin_fd
        self.stdout_fd = stdout_fd
        self.errfd = stderr_fd
        self.signals = signals
        self.st = Stats()
        self.start_ns = time.monotonic_ns()
        self.inp = None
        self.out = None
        f = args.flags
        self.bs_mode = "bs" in f
        self.sync = "sync" in f
        self.noerror = "noerror" in f
        self.sparse = "sparse" in f
        self.swab = "swab" in f
        self.mode = args.mode
        self.pad = b" " if self.mode != "def" else b"\0"
        self.table = None           # 256-byte translation table or None
        self.obuf = bytearray()     # output not yet written (out.dbcnt bytes)
        self.ibuf = b""             # block/unblock: input not yet converted
        self.intrunc = False        # block: tossing the rest of a long record
        self.pending = 0            # sparse: bytes to seek over before next write
        self.warned_short = False
        self.dots = False
        self.bar = None

    # -- messages ------------------------------------------------------

    def warnx(self, msg):
        _say(self.errfd, "%s: %s\n" % (PROGNAME, msg))

    def summary(self):
        ms = dd_summary.elapsed_ms(self.start_ns, time.monotonic_ns())
        _say(self.errfd, dd_summary.render(self.a.msgfmt, self.st, ms, progress=self.dots))

    # -- setup ---------------------------------------------------------

    def _flag_bits(self, ops, names, which):
        bits = 0
        for name in names:
            value = _open_flag(ops, name)
            if value is None:
                raise _Fatal("%s %s is not supported on this system" % (which, name))
            bits |= value
        return bits

    def setup(self):
        a = self.a
        flags = a.flags
        sysmod = self.sysmod
        if a.if_name is None:
            self.inp = _Stream("stdin", self.stdin_fd, os, opened=False)
        else:
            bits = self._flag_bits(sysmod, a.iflag, "iflag")
            try:
                fd = sysmod.open(a.if_name, bits, 0)
            except OSError as exc:
                raise _Fatal(_failure(a.if_name, exc))
            self.inp = _Stream(a.if_name, fd, sysmod, opened=True)
        self._fdtype(self.inp)

        if a.files > 1:             # only tapes have several files; we have no tapes
            raise _Fatal("files is not supported for non-tape devices")

        if a.of_name is None:
            self.out = _Stream("stdout", self.stdout_fd, os, opened=False)
        else:
            if "trunc" in a.oflag and "seek" in flags:
                raise _Fatal("oflag=trunc is incompatible with seek or oseek operands, giving up.")
            if "trunc" in a.oflag and "notrunc" in flags:
                raise _Fatal("oflag=trunc is incompatible with conv=notrunc operand, giving up.")
            bits = self._flag_bits(sysmod, a.oflag, "oflag")
            if not flags & {"seek", "notrunc"}:
                bits |= _open_flag(sysmod, "trunc")
            try:
                fd = sysmod.open(a.of_name, _open_flag(sysmod, "rdwr") | bits, DEFFILEMODE)
            except OSError:
                # Maybe no read permission: try write only.
                try:
                    fd = sysmod.open(a.of_name, _open_flag(sysmod, "wronly") | bits,
                                     DEFFILEMODE)
                except OSError as exc:
                    raise _Fatal(_failure(a.of_name, exc))
            self.out = _Stream(a.of_name, fd, sysmod, opened=True)
        self._fdtype(self.out)

        if a.skip:
            self._position_input()
        if a.seek:
            self._position_output()
        if a.of_name is not None and "seek" in flags and "notrunc" not in flags:
            try:
                self.out.ops.ftruncate(self.out.fd, a.seek * a.obs)
            except OSError:
                pass                # fails on some outputs (devices); NetBSD ignores it

        if a.table is not None or flags & {"lcase", "ucase"}:
            from rumptools.formats import dd_tables
            table = dd_tables.BY_CONV[a.table] if a.table else None
            for case in ("lcase", "ucase"):
                if case in flags:
                    table = dd_tables.with_case(table, case)
            self.table = table

        if a.progress:
            self._start_progress()
        self.start_ns = time.monotonic_ns()

    def _fdtype(self, io):
        try:
            sb = io.ops.fstat(io.fd)
        except OSError as exc:
            raise _Fatal(_failure(io.name, exc))
        io.mode = sb.st_mode
        io.size = getattr(sb, "st_size", 0) or 0
        if stat.S_ISCHR(sb.st_mode):
            io.chr = True
            return
        try:
            io.ops.lseek(io.fd, 0, os.SEEK_CUR)
        except OSError as exc:
            if _is_errno(exc, "ESPIPE"):
                io.pipe = True

    def _position_input(self):
        """skip=: seek where possible, else read and throw away (pipes: exact bytes)."""
        a, inp = self.a, self.inp
        if not inp.pipe:
            try:
                inp.ops.lseek(inp.fd, a.skip * a.ibs, os.SEEK_CUR)
            except OSError as exc:
                raise _Fatal(_failure(inp.name, exc))
            return
        want = a.ibs
        left = a.skip
        warned = False
        while left:
            try:
                data = inp.ops.read(inp.fd, want)
            except OSError as exc:
                if not self.noerror:
                    raise _Fatal(_failure(inp.name, exc))
                if not warned:
                    self.warnx(_failure(inp.name, exc))
                    warned = True
                    self.summary()
                continue
            if not data:
                raise _Fatal("skip reached end of input")
            want -= len(data)
            if want == 0:
                want = a.ibs
                left -= 1

    def _position_output(self):
        a, out = self.a, self.out
        try:
            out.ops.lseek(out.fd, a.seek * a.obs, os.SEEK_SET)
        except OSError as exc:
            raise _Fatal(_failure(out.name, exc))

    # -- progress --------------------------------------------------------

    def _start_progress(self):
        try:
            tty = os.isatty(self.errfd)
        except OSError:
            tty = False
        if not tty:
            self.dots = True
            return
        from rich.console import Console
        from rich.markup import escape
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                   TimeRemainingColumn, TransferSpeedColumn)
        a, inp = self.a, self.inp
        total = None
        if stat.S_ISREG(inp.mode):
            total = max(0, inp.size - a.skip * a.ibs)
            if a.count is not None:
                total = min(total, a.count * a.ibs)
        console = Console(file=os.fdopen(os.dup(self.errfd), "w"), stderr=True)
        self.bar = Progress(TextColumn("[bold]%s[/bold]" % escape(inp.name)), BarColumn(),
                            DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                            console=console, transient=True)
        self.bar_task = self.bar.add_task("copy", total=total)
        self.bar.start()

    def stop_progress(self):
        if self.bar is not None:
            bar, self.bar = self.bar, None
            try:
                bar.stop()
                bar.console.file.close()
            except Exception:       # the bar is decoration; never fail the copy for it
                pass

    def _tick(self):
        if not self.a.progress:
            return
        st = self.st
        if (st.out_full + st.out_part) % self.a.progress:
            return
        if self.bar is not None:
            self.bar.update(self.bar_task, completed=st.bytes)
        elif self.dots:
            try:
                os.write(self.errfd, b".")
            except OSError:
                pass

    # -- output ----------------------------------------------------------

    def _write(self, buf, off, n, force):
        """Write one output block buf[off:off+n] (NetBSD's dd_out inner loop)."""
        out, st, obs = self.out, self.st, self.a.obs
        cnt = n
        pos = off
        while True:
            if not force and self.sparse and buf.count(0, pos, pos + cnt) == cnt:
                self.pending += cnt
                return
            if self.pending:
                try:
                    out.ops.lseek(out.fd, self.pending, os.SEEK_CUR)
                except OSError as exc:
                    raise _Fatal("%s: seek error creating sparse file: %s"
                                 % (out.name, _text(exc)))
            if pos == 0 and cnt == len(buf) and type(buf) is bytes:
                chunk = buf
            else:
                chunk = memoryview(buf)[pos:pos + cnt]
            try:
                nw = out.write(chunk)
            except OSError as exc:
                self._write_failed(exc)
            finally:
                if type(chunk) is memoryview:
                    chunk.release()
            if nw == 0:
                raise _Fatal("%s: end of device" % out.name)
            if self.pending:
                holes = self.pending // obs
                st.bytes += self.pending
                st.sparse += holes
                st.out_full += holes
                self.pending = 0
            pos += nw
            st.bytes += nw
            if nw == n:
                if n != obs:
                    st.out_part += 1
                else:
                    st.out_full += 1
                return
            st.out_part += 1
            if nw == cnt:
                return
            if out.chr and not self.warned_short:
                self.warned_short = True
                self.warnx("%s: short write on character device" % out.name)
            cnt -= nw

    def _write_failed(self, exc):
        if self.signals and self.out.host and _is_errno(exc, "EPIPE"):
            # NetBSD's dd dies of SIGPIPE here, silently (the reader went away).
            self.stop_progress()
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGPIPE)
        raise _Fatal(_failure(self.out.name, exc))

    def _flush_full(self):
        """Write every whole obs block gathered in obuf; keep the rest."""
        obuf, obs = self.obuf, self.a.obs
        nblocks = len(obuf) // obs
        if not nblocks:
            return
        for i in range(nblocks):
            self._write(obuf, i * obs, obs, False)
        del obuf[:nblocks * obs]
        self._tick()

    def _gather(self, data):
        """Conversion "def": add converted input to the output, write whole blocks."""
        obs = self.a.obs
        if self.obuf:
            self.obuf += data
            if len(self.obuf) >= obs:
                self._flush_full()
            return
        # Nothing pending: write whole blocks straight from the input block.
        nblocks = len(data) // obs
        if nblocks:
            for i in range(nblocks):
                self._write(data, i * obs, obs, False)
            self._tick()
            data = data[nblocks * obs:]
        if data:
            self.obuf += data

    # -- record conversions ------------------------------------------------

    def _block(self, data):
        """conv=block: newline-terminated records to fixed cbs-byte records."""
        cbs, obs, st = self.a.cbs, self.a.obs, self.st
        table = self.table
        fill = bytes((table[32] if table else 32,))
        if self.intrunc:
            nl = data.find(b"\n")
            if nl < 0:
                return
            self.intrunc = False
            data = data[nl + 1:]
        buf = self.ibuf + data if self.ibuf else data
        obuf = self.obuf
        pos, end = 0, len(buf)
        while pos < end:
            avail = end - pos
            nl = buf.find(b"\n", pos, pos + min(cbs, avail))
            if nl >= 0:
                rec = buf[pos:nl]
                pos = nl + 1
            elif avail < cbs:
                break               # a short record without its newline yet
            else:
                rec = buf[pos:pos + cbs]
                pos += cbs
                if pos >= end or buf[pos] != 0x0A:
                    st.trunc += 1
                nl = buf.find(b"\n", pos)
                if nl < 0:
                    pos = end
                    self.intrunc = True
                else:
                    pos = nl + 1
            obuf += rec.translate(table) if table else rec
            if len(rec) < cbs:
                obuf += fill * (cbs - len(rec))
            if len(obuf) >= obs:
                self._flush_full()
        self.ibuf = bytes(buf[pos:])

    def _block_close(self):
        if self.ibuf:
            self.st.trunc += 1
            rec = self.ibuf
            table = self.table
            # NetBSD copies this last record untranslated; we translate it
            # like every other record.
            self.obuf += rec.translate(table) if table else rec
            fill = table[32] if table else 32
            self.obuf += bytes((fill,)) * (self.a.cbs - len(rec))
            self.ibuf = b""

    def _unblock(self, data):
        """conv=unblock: fixed cbs-byte records to lines without trailing spaces."""
        cbs, obs = self.a.cbs, self.a.obs
        if self.table:
            data = data.translate(self.table)
        buf = self.ibuf + data if self.ibuf else data
        obuf = self.obuf
        pos, end = 0, len(buf)
        while end - pos >= cbs:
            obuf += buf[pos:pos + cbs].rstrip(b" ")
            obuf += b"\n"
            pos += cbs
            if len(obuf) >= obs:
                self._flush_full()
        self.ibuf = bytes(buf[pos:])

    def _unblock_close(self):
        if self.ibuf:
            self.warnx("%s: short input record" % self.inp.name)
            self.obuf += self.ibuf.rstrip(b" ") + b"\n"
            self.ibuf = b""

    # -- the copy loop ---------------------------------------------------------

    def copy(self):
        """Read input blocks until end of input or count= blocks (NetBSD's dd_in)."""
        a, st, inp = self.a, self.st, self.inp
        read, fd, ibs = inp.ops.read, inp.fd, a.ibs
        count = a.count
        sync, bs_mode, swab = self.sync, self.bs_mode, self.swab
        convert = {"def": self._gather, "block": self._block,
                   "unblock": self._unblock}[self.mode]
        table = self.table if self.mode == "def" else None
        while True:
            if count is not None and st.in_full + st.in_part >= count:
                return
            try:
                data = read(fd, ibs)
            except OSError as exc:
                data = self._read_failed(exc)
                if data is None:
                    continue
                st.in_full += 1
            else:
                n = len(data)
                if n == ibs:
                    st.in_full += 1
                elif n == 0:
                    return
                else:
                    st.in_part += 1
                    if sync:
                        data = data + self.pad * (ibs - n)
            if bs_mode:
                # bs= without conversions: each block read is written as it is.
                self._write(data, 0, len(data), True)
                self._tick()
                continue
            if swab:
                data = self._swab(data)
            if table is not None:
                data = data.translate(table)
            convert(data)

    def _read_failed(self, exc):
        """A read error: die, or (noerror) warn, and skip or zero-fill the block."""
        inp = self.inp
        message = _failure(inp.name, exc)
        if not self.noerror or getattr(exc, "lost", False):
            raise _Fatal(message)
        self.warnx(message)
        self.summary()
        if not inp.pipe:
            # Step over the bad block.  NetBSD warns again whenever this
            # lseek returns non-zero, which is nearly always; so do we.
            try:
                where = inp.ops.lseek(inp.fd, self.a.ibs, os.SEEK_CUR)
            except OSError as exc2:
                self.warnx(_failure(inp.name, exc2))
            else:
                if where:
                    self.warnx(message)
        if not self.sync:
            return None
        return self.pad * self.a.ibs

    def _swab(self, data):
        n = len(data)
        if n & 1:
            self.st.swab += 1
            n -= 1
        from array import array
        pairs = array("H")
        pairs.frombytes(memoryview(data)[:n])
        pairs.byteswap()
        return pairs.tobytes() + data[n:] if n != len(data) else pairs.tobytes()

    def finish(self):
        """Flush what is left (NetBSD's dd_close) and close the output."""
        a, out = self.a, self.out
        if self.mode == "block":
            self._block_close()
        elif self.mode == "unblock":
            self._unblock_close()
        obuf = self.obuf
        # NetBSD pads even an empty buffer here, adding a block of zeros
        # when the data ended on a block boundary; like FreeBSD we do not.
        if "osync" in a.flags and 0 < len(obuf) < a.obs:
            obuf += bytes(a.obs - len(obuf))
        if not obuf and self.pending:
            # Pending sparse blocks: write the last one so the file gets its length.
            obuf += bytes(a.obs)
            self.pending -= a.obs
        if obuf:
            self._write(obuf, 0, len(obuf), True)
            del obuf[:]
            self._tick()
        if out.host and out.fd == self.stdout_fd:
            try:
                os.fsync(out.fd)
            except OSError as exc:
                if not _is_errno(exc, "EINVAL"):
                    raise _Fatal("fsync stdout: %s" % _text(exc))
        if out.opened:
            out.opened = False
            try:
                out.ops.close(out.fd)
            except OSError as exc:
                raise _Fatal("close: %s" % _text(exc))

    def close_quietly(self):
        """Close what we opened, ignoring errors (after a failure, or the input at the end)."""
        for io in (self.inp, self.out):
            if io is not None and io.opened:
                io.opened = False
                try:
                    io.ops.close(io.fd)
                except OSError:
                    pass
