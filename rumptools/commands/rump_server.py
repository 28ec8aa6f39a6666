"""rump_server and rump_allserver: boot a rump kernel and serve it on a URL.

Parse, load components, detach (unless -s), boot, attach host files (-d),
listen, and tell the waiting parent that all went well; then wait for
SIGTERM, SIGINT or reboot(2) from a client.
"""
import importlib.util
import os
import signal
import struct
import sys
import threading

import click

from . import _cli
from ..formats import drivespec
from ..sp import url
from ..abi import errnos
from ..abi.syscalls import RB_DUMP, RB_HALT

USAGE = "usage: %s [-s] [-c ncpu] [-d drivespec] [-l libs] [-m modules] bindurl"
MAXCPUS = 256


class StartupError(Exception):
    """Startup failed: message as NetBSD prints it, errno as the parent's exit status."""

    def __init__(self, message, err):
        super().__init__(message)
        self.errno = err


def parse_memlimit(text):
    """RUMP_MEMLIMIT syntax: decimal with an optional k, m or g."""
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1:], 1)
    digits = text[:-1] if mult != 1 else text
    if not digits.isdigit():
        _cli.die("uvm_init: invalid RUMP_MEMLIMIT: %s" % text)
    value = int(digits) * mult
    if value >= 1 << 63:
        _cli.die("uvm_init: RUMP_MEMLIMIT overflow: %s" % text)
    if value == 0:
        _cli.die("uvm_init: no memory available")     # NetBSD panics likewise
    if value < 1 << 20:
        sys.stderr.write("uvm_init: WARNING: <1MB RAM limit, hope you know what you're doing\n")
    return value


def parse_ncpu(text):
    if text == "host":
        return os.cpu_count() or 1
    if not text.isdigit() or not 1 <= int(text) <= MAXCPUS:
        _cli.die("CPU count needs to be between 1 and %d" % MAXCPUS)
    return int(text)


def resolve_components(libs):
    from ..kernel.kern import components
    names = []
    for lib in libs:
        name = components.canonical(lib)
        if name is None:
            load_failed(lib, "%s: unknown component" % lib)
        entry = components.REGISTRY[name]
        if entry.impl is None or importlib.util.find_spec(entry.impl) is None:
            load_failed(lib, "%s: component not available yet" % name)
        if name not in names:
            names.append(name)
    return names


def load_failed(lib, why):
    sys.stderr.write('failed to load -libraries, last error from "%s":\n  %s\n' % (lib, why))
    sys.exit(1)


class Daemon:
    """NetBSD's rumpuser_daemonize: the parent waits for the child's word."""

    def __init__(self, detach):
        self.detach = detach
        self.wfd = None

    def begin(self):
        if not self.detach:
            return
        rfd, wfd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            os.close(wfd)
            data = b""
            while len(data) < 4:
                chunk = os.read(rfd, 4 - len(data))
                if not chunk:
                    os._exit(errnos.ESRCH)      # the child died before it could report
                data += chunk
            os._exit(struct.unpack("i", data)[0])
        os.close(rfd)
        os.setsid()
        self.wfd = wfd

    def done(self, err):
        if self.wfd is None:
            return
        if err == 0:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.close(null)
        os.write(self.wfd, struct.pack("i", err))
        os.close(self.wfd)
        self.wfd = None


def serve(opts, all_components=False):
    try:
        address = url.parse(opts["bindurl"], server=True)
    except url.URLError as e:
        # NetBSD parses the URL after detaching: the parent exits with the
        # error number (EINVAL, 22), as for any startup failure; -s exits 1
        sys.stderr.write(e.message + "\n")
        sys.stderr.write("rump server init failed: %s\n" % errnos.strerror(e.errno))
        sys.exit(1 if opts["foreground"] else e.errno)
    specs = []
    for text in opts["drives"]:
        try:
            specs.append(drivespec.parse(text))
        except drivespec.DriveSpecError as e:
            sys.stderr.write("%s\n" % e)
            if e.usage:
                sys.stderr.write(USAGE.replace("%s", _cli.progname()) + "\n")
            sys.exit(1)
    ncpu = parse_ncpu(opts["ncpu"]) if opts["ncpu"] is not None else 2
    memlimit = parse_memlimit(opts["memlimit"]) if opts["memlimit"] is not None else None
    if all_components:
        from ..kernel.kern import components
        names = components.available()
    else:
        names = resolve_components(opts["libs"])
    from ..kernel.kern.kernel import ComponentError, Kernel
    from ..kernel.rumpuser.host import Host
    from ..sp.server import Server, ServerError

    daemon = Daemon(not opts["foreground"])
    daemon.begin()
    halt = HaltRequest()        # SIGTERM/SIGINT count from here on: the socket may accept before boot ends

    from ..kernel.rumpuser.console import Console
    sys.stdout.flush()
    console = Console(sys.stdout.fileno())     # never blocks the kernel on a stuck stdout

    kernel = Kernel(Host(), ncpu=ncpu, memlimit=memlimit, verbose=opts["verbose"], console=console)
    server = None
    try:
        try:
            kernel.boot(names)
        except ComponentError as e:
            raise StartupError("rump init failed: %s" % e, e.errno)
        if opts["verbose"]:
            console("NetBSD %s (RUMP-ROAST)" % kernel.sysctl.read("kern.osrelease")[1])
            console("rump kernel booted: %s" % ", ".join(kernel.loaded))
        for mod in opts["modules"]:
            with kernel.lock:
                try:
                    kernel.modload(mod)
                except ComponentError as e:
                    raise StartupError("module load failed: %s" % e, e.errno)
        for spec in specs:
            attach_drive(kernel, spec)
        server = Server(kernel, address)
        try:
            server.bind()
        except ServerError as e:
            sys.stderr.write(e.message + "\n")
            raise StartupError("rump server init failed: %s" % errnos.strerror(e.errno), e.errno)
        if address.scheme == "tcp":
            sys.stderr.write(tcp_warning(_cli.progname(), address))
        server.start()
    except StartupError as e:
        sys.stderr.write("%s\n" % e)
        if server is not None:
            server.remove_socket()
        daemon.done(e.errno)
        sys.exit(1)
    run_until_halt(kernel, server, daemon, halt, console)


def tcp_warning(prog, address):
    """Every tcp:// listener is unauthenticated: say who can reach it."""
    if address.loopback:
        who = "every local user can connect to it"
    else:
        who = "it is reachable from the network"
    return ("%s: warning: %s has no authentication: %s, and every client gets root in this "
            "kernel (including the host files given with -d)\n" % (prog, address.describe(), who))


def attach_drive(kernel, spec):
    """Map a host file into the kernel's namespace (-d). Needs the storage components."""
    etfs = kernel.slot("etfs", None)
    if etfs is None:
        raise StartupError("etfs register: %s (-d needs -lrumpvfs)"
                           % errnos.strerror(errnos.ENOSYS), errnos.ENOSYS)
    try:
        etfs(spec)
    except OSError as e:
        what = getattr(e, "stage", "etfs register")
        raise StartupError("%s: %s" % (what, errnos.host_text(e)),
                           e.errno if isinstance(e, errnos.RumpError) else errnos.from_host(e.errno or 5))


class HaltRequest:
    """What ends the server: SIGTERM or SIGINT (a clean reboot), or reboot(2) with its flags."""

    def __init__(self):
        self.wake = threading.Event()
        self.howto = 0
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)

    def on_signal(self, signo, frame):
        self.wake.set()

    def on_reboot(self, howto):
        self.howto = howto
        self.wake.set()

    def wait(self):
        # short waits: a process-directed signal may be delivered to any thread, and
        # Python runs its handler only when the main thread next runs bytecode
        while not self.wake.wait(0.2):
            pass


def run_until_halt(kernel, server, daemon, halt, console):
    """Wait for SIGTERM, SIGINT or reboot(2), then go down in bounded time whatever
    clients do: queued replies get GRACE seconds, the console as long again."""
    kernel.on_reboot = halt.on_reboot
    daemon.done(0)
    halt.wait()
    howto = halt.howto
    if howto & RB_DUMP:
        # as NetBSD's cpu_reboot: a dump takes the dive at once, without syncing;
        # the socket stays behind as after a crash
        from ..kernel.kern.dump import write_dump
        path = write_dump(kernel)
        kernel.console("rump kernel dump written to %s" % path)
        server.shutdown(GRACE, remove=False)
        console.flush(GRACE)
        signal.signal(signal.SIGABRT, signal.SIG_DFL)
        os.abort()
    kernel.reboot(howto)
    server.shutdown(GRACE)
    if howto & RB_HALT:
        kernel.console("rump kernel halted (with RB_HALT, not exiting)")
        halt.wake.clear()
        halt.wait()
    kernel.console("halted")
    console.flush(GRACE)
    os._exit(0)


GRACE = 1.0


def _command(all_components):
    @click.command(cls=_cli.NetBSDCommand, usage_text=USAGE)
    @click.option("-c", "ncpu", metavar="ncpu")
    @click.option("-d", "drives", multiple=True, metavar="drivespec")
    @click.option("-l", "libs", multiple=True, metavar="libs")
    @click.option("-m", "modules", multiple=True, metavar="modules")
    @click.option("-r", "memlimit", metavar="size")
    @click.option("-s", "foreground", is_flag=True)
    @click.option("-v", "verbose", is_flag=True)
    @click.argument("bindurl")
    def cmd(**opts):
        serve(opts, all_components)
    return cmd


def main():
    _command(False).main()


def main_all():
    _command(True).main()


if __name__ == "__main__":
    main()
