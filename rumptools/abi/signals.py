"""NetBSD signal numbers and their host (Linux) equivalents, for RAISE frames."""
import signal as _host

NAMES = ("HUP INT QUIT ILL TRAP ABRT EMT FPE KILL BUS SEGV SYS PIPE ALRM TERM URG STOP TSTP CONT "
         "CHLD TTIN TTOU IO XCPU XFSZ VTALRM PROF WINCH INFO USR1 USR2 PWR").split()
NETBSD = {name: num for num, name in enumerate(NAMES, 1)}


def to_host(netbsd_signo):
    """The host signal number for a NetBSD one, or None if the host has no such signal."""
    if not 1 <= netbsd_signo <= len(NAMES):
        return None
    sig = getattr(_host, "SIG" + NAMES[netbsd_signo - 1], None)
    return int(sig) if sig is not None else None
