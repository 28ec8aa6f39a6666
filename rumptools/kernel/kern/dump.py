"""rump.halt -d: a kernel dump, the Python analogue of a core file.

Every thread's stack (what `thread apply all bt` shows in gdb) and a summary
of kernel state, written to rump_server.<pid>.dump in the server's working
directory (or the temporary directory if that is not writable, or if a file
or symlink already has that name: it is created with O_EXCL|O_NOFOLLOW, mode 0600).
"""
import os
import sys
import tempfile
import threading
import time
import traceback


def write_dump(kernel):
    name = "rump_server.%d.dump" % os.getpid()
    for folder in (os.getcwd(), tempfile.gettempdir()):
        path = os.path.join(folder, name)
        try:
            # never through a planted symlink, never over an existing file
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError:
            continue
        os.fchmod(fd, 0o600)            # whatever the umask
        with os.fdopen(fd, "w") as f:
            f.write(render(kernel))
        return path
    return "(nowhere: no writable directory)"


def render(kernel):
    out = ["rump kernel dump of pid %d at %s" % (os.getpid(), time.strftime("%Y-%m-%d %H:%M:%S")), ""]
    out.append("== kernel ==")
    out.append("hostname: %s" % kernel.hostname)
    out.append("components: %s" % " ".join(kernel.loaded))
    out.append("processes: %d  lwps: %d  open files: %d  clients: %d"
               % (len(kernel.procs), kernel.nlwps, kernel.nfiles, kernel.nclients))
    for pid, proc in sorted(kernel.procs.procs.items()):
        out.append("  pid %5d  %-16s fds %-4d lwps %d" % (pid, proc.comm, len(proc.files), len(proc.lwps)))
    out.append("pending callouts: %d  fired: %d" % (kernel.callouts.pending(), kernel.callouts.fired))
    out.append("softints scheduled: %d" % len(kernel.softints.pending))
    budget = kernel.membudget
    out.append("memory budget: %d of %d bytes used (%s)" % (budget.used, budget.limit, ", ".join(
        "%s %d" % kv for kv in sorted(budget.by.items())) or "nothing charged"))
    out.append("")
    out.append("== threads ==")
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        out.append("Thread %s (%s):" % (ident, names.get(ident, "?")))
        out.extend(line.rstrip("\n") for line in traceback.format_stack(frame))
        out.append("")
    text = "\n".join(out) + "\n"
    # names a client set (kern.hostname, a process's comm) may hold bytes that are not UTF-8
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
