"""Helpers for in-process kernel tests: a booted kernel on a fake host, and calls as a process."""
import threading

from rumptools.kernel.kern.kernel import Kernel
from rumptools.kernel.kern.module import Component
from rumptools.kernel.rumpuser.fake import FakeHost
from rumptools.abi.errnos import RumpError
from rumptools.abi.syscalls import BY_METHOD, check_results


def boot(*components, **kw):
    lines = []
    k = Kernel(FakeHost(), console=lines.append, **kw)
    k.boot(list(components))
    k.console_lines = lines
    return k


def spawn(kernel, comm="test"):
    with kernel.lock:
        return kernel.procs.spawn(comm)


def call(kernel, proc, method, *args):
    """Run a syscall the way sysproxy would; return results like the client does."""
    sc = BY_METHOD[method]
    err, res, after, detail = kernel.syscall(proc, sc.number, args)
    if err:
        raise RumpError(err, detail=detail)
    assert check_results(sc, res), "%s returned %r, not the table's results %r" % (sc.name, res, sc.results)
    if after:
        after()
    return res[0] if len(res) == 1 else (res or None)


def attach(kernel, fn, name="test", provides=()):
    """Attach a test component whose attach function is fn(ctx); returns its context."""
    with kernel.lock:
        return Component(name, fn, provides=provides).attach(kernel)


def errno_of(kernel, proc, method, *args):
    """The errno a call fails with; a call that succeeds fails the test."""
    try:
        call(kernel, proc, method, *args)
    except RumpError as e:
        return e.errno
    raise AssertionError("%s succeeded where it should fail" % method)


def call_in_thread(kernel, proc, method, *args):
    """Start a call that may sleep; returns (thread, box) where box gets 'result' or 'error'."""
    box = {}

    def run():
        try:
            box["result"] = call(kernel, proc, method, *args)
        except RumpError as e:
            box["error"] = e.errno

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def wait_until(pred, timeout=5.0):
    import time
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.005)
    return False
