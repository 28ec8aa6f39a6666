"""rump.dd: NetBSD's dd(1), with the files named by if= and of= inside a rump kernel.

This module is the command: operands, signals, the host pipes, the kernel
client. The copying itself is dd_engine's.
"""
import os
import signal
import sys

from rumptools.formats.dd_args import DDArgs, DDArgsError, parse_operands

from .dd_engine import DD, PROGNAME, USAGE, _Fatal, _say, _text


def run(args, sysmod=os, *, stdin_fd=0, stdout_fd=1, stderr_fd=2, signals=False):
    """Run dd with parsed args (or a list of operand words); return the exit status.

    sysmod opens and moves the data of files named by if=/of=; stdin_fd and
    stdout_fd stand for the host's standard input and output.  With signals,
    SIGUSR1 (and SIGINFO where the host has it) prints the running summary
    and SIGINT prints it and ends the process by that signal, as NetBSD's dd.
    """
    def say(text):
        _say(stderr_fd, text)

    if not isinstance(args, DDArgs):
        try:
            args = parse_operands(list(args))
        except DDArgsError as exc:
            say("%s: %s\n" % (PROGNAME, exc))
            return 1
        for warning in args.warnings:
            say("%s: %s\n" % (PROGNAME, warning))

    dd = DD(args, sysmod, stdin_fd, stdout_fd, stderr_fd, signals)
    if args.files == 0:
        dd.summary()
        return 0
    try:
        dd.setup()
    except _Fatal as exc:
        dd.stop_progress()
        dd.close_quietly()
        say("%s: %s\n" % (PROGNAME, exc))
        return 1
    except MemoryError:
        dd.close_quietly()
        say("%s: Cannot allocate memory\n" % PROGNAME)
        return 1

    saved = _install_signals(dd) if signals else {}
    status = 0
    try:
        dd.copy()
        dd.finish()
    except _Fatal as exc:
        dd.stop_progress()
        say("%s: %s\n" % (PROGNAME, exc))
        status = 1
    except MemoryError:
        dd.stop_progress()
        say("%s: Cannot allocate memory\n" % PROGNAME)
        status = 1
    finally:
        dd.stop_progress()
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    dd.close_quietly()
    dd.summary()
    return status


def _install_signals(dd):
    saved = {}

    def info(signum, frame):
        dd.summary()

    def interrupt(signum, frame):
        dd.stop_progress()
        dd.summary()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        os._exit(127)

    for name in ("SIGINFO", "SIGUSR1"):
        signum = getattr(signal, name, None)
        if signum is not None:
            saved[signum] = signal.signal(signum, info)
    saved[signal.SIGINT] = signal.signal(signal.SIGINT, interrupt)
    return saved


def _widen_pipes(args):
    """Let a host pipe on stdin/stdout carry a whole block per read (Linux F_SETPIPE_SZ).

    With bs=1m, a default 64 KiB pipe hands dd pieces of a block, each a
    partial record and a remote call of its own; a wider pipe keeps records
    whole. Best effort: the system's pipe-max-size may refuse.
    """
    import fcntl
    import stat as _stat
    setsz = getattr(fcntl, "F_SETPIPE_SZ", 1031)
    for fd, used, size in ((0, args.if_name is None, args.ibs), (1, args.of_name is None, args.obs)):
        if not used or size <= 65536:
            continue
        try:
            if _stat.S_ISFIFO(os.fstat(fd).st_mode):
                fcntl.fcntl(fd, setsz, min(size, 1 << 20))
        except OSError:
            pass


def main(argv=None):
    """Console entry point of rump.dd."""
    if os.environ.get("_RUMP_DD_COMPLETE"):           # shell completion (see README)
        from ._cli import dd_completion
        from ..formats.dd_args import OPERANDS
        dd_completion(PROGNAME, OPERANDS)
    if argv is None:
        argv = sys.argv[1:]
        # Until the copy starts, ^C simply ends the process (no traceback).
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    argv = list(argv)

    def die(text):
        _say(2, "%s: %s\n" % (PROGNAME, text))
        sys.exit(1)

    # dd takes no options (getopt with an empty option string).
    if argv and argv[0] == "--":
        argv.pop(0)
    elif argv and argv[0].startswith("-") and argv[0] != "-":
        _say(2, "%s: unknown option -- %s\n" % (PROGNAME, argv[0][1]))
        die(USAGE)

    try:
        args = parse_operands(argv)
    except DDArgsError as exc:
        die(str(exc))
    for warning in args.warnings:
        _say(2, "%s: %s\n" % (PROGNAME, warning))

    _widen_pipes(args)
    sysmod = os
    if args.files != 0 and (args.if_name is not None or args.of_name is not None):
        from rumptools.sp.bigio import SplitIO
        from rumptools.sp.client import init
        try:
            sysmod = SplitIO(init(PROGNAME))     # bs above one frame: split into pieces
        except OSError as exc:
            die("init failed: %s" % _text(exc))
    sys.exit(run(args, sysmod, signals=True))


if __name__ == "__main__":
    main()
