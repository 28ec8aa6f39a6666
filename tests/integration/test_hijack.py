"""librumphijack: the build, the rumphijack command, start-up, the RUMPHIJACK grammar,
errno mapping and several threads over one connection."""
import os
import subprocess
import sys
import textwrap
import time

import pytest

from .hijackkit import LIB, compile_c, header_sha256, ok, require_library, run, sysctl


@pytest.fixture
def server(servers):
    """A server with file systems."""
    return servers("-lrumpvfs")


def test_library_is_built_from_the_current_header():
    """The header hash compiled into the library is the checked-in header's: a library
    left from an older syscall table (or a header edited by hand) fails here."""
    with open(require_library(), "rb") as f:
        data = f.read()
    assert b"rumphijack-header-sha256=" + header_sha256().encode() in data


def test_rumphijack_path(rumpenv):
    r = subprocess.run(["rumphijack", "--path"], env=rumpenv, capture_output=True, text=True)
    assert r.returncode == 0
    assert r.stdout.strip() == LIB and os.path.isabs(LIB)


@pytest.mark.parametrize("args", [[], ["--path", "ls"]])
def test_rumphijack_usage(rumpenv, args):
    r = subprocess.run(["rumphijack"] + args, env=rumpenv, capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith("Usage: rumphijack --path\n")


def test_rumphijack_runs_a_command(server):
    ok(server, ["mkdir", "/rump/viacmd"])
    env = dict(server.env)
    env.pop("LD_PRELOAD", None)
    r = subprocess.run(["rumphijack", "ls", "/rump"], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "viacmd" in r.stdout.split()
    r = subprocess.run(["rumphijack", "no-such-program-xyz"], env=env, capture_output=True, text=True)
    assert r.returncode == 127 and "no-such-program-xyz" in r.stderr


def test_unset_server_is_the_tutorials_message(rumpenv):
    env = dict(rumpenv, LD_PRELOAD=require_library())
    env.pop("RUMP_SERVER", None)
    r = subprocess.run(["python3", "-c", 'print("Hello, rump!")'], env=env, capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr == "python3: rumpclient init: No such file or directory\n"
    assert r.stdout == ""


def test_unreachable_server(rumpenv, tmp_path):
    env = dict(rumpenv, LD_PRELOAD=require_library(), RUMP_SERVER="unix://%s/none" % tmp_path)
    r = subprocess.run(["true"], env=env, capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr == "true: rumpclient init: No such file or directory\n"
    env["RUMP_SERVER"] = "bogus"
    r = subprocess.run(["true"], env=env, capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr == "rump_sp: invalid locator ``bogus''\ntrue: rumpclient init: Invalid argument\n"


@pytest.mark.parametrize("spec, message", [
    ("path=rump", "hijack path specifier must begin with ``/''"),
    ("path=/", "invalid hijack prefix: /"),
    ("path=//", None),                   # all slashes: the whole namespace
    ("path=/a/", "hijack prefix may end in slash only if pure slash, gave /a/"),
    ("blanket=/dev/:/x", "invalid blanket specifier /dev/"),
    ("blanket=/dev::/x", "invalid blanket specifier /dev::/x"),
    ("socket=inet:bogus", "invalid socket specifier bogus"),
    ("socket=all:noinet:nolocal", None),
    ("vfs=all:nofhcalls", None),
    ("vfs=nfs", "invalid vfscall specifier nfs"),
    ("sysctl=maybe", "sysctl value should be y(es)/n(o), gave: maybe"),
    ("sysctl", None),
    ("sysctl=Tottakai", None),
    ("modctl=no", None),
    ("modctl=perhaps", "modctl value should be y(es)/n(o), gave: perhaps"),
    ("fdoff=-1", "fdoff must not be negative"),
    ("fdoff=2", "fdoff out of range"),
    ("fdoff=12x", 'invalid fdoff specifier "12x"'),
    ("fdoff=300", None),
    ("bogus=1", "invalid hijack specifier name in bogus=1"),
    ("path", "invalid hijack specifier: path"),
    ("pa=/rump,sock=inet", None),       # names are prefixes, as in NetBSD
    ("", None),                          # set but empty: nothing hijacked
])
def test_grammar(server, spec, message):
    r = run(server, ["true"], RUMPHIJACK=spec)
    if message is None:
        assert r.returncode == 0, r.stderr
        assert r.stderr == b""
    else:
        assert r.returncode == 1
        assert r.stderr.decode() == "true: %s\n" % message


def test_empty_spec_hijacks_nothing_and_prefix_moves(server):
    ok(server, ["mkdir", "/rump/x"])
    r = run(server, ["ls", "/rump"], RUMPHIJACK="")
    assert r.returncode != 0 and b"No such file or directory" in r.stderr
    assert ok(server, ["ls", "/k"], RUMPHIJACK="path=/k").split() == [b"dev", b"x"]


def test_blanket_passes_the_path_unchanged(server):
    ok(server, ["mkdir", "/rump/bl", "/rump/bl/inner"])
    out = ok(server, ["ls", "/bl"], RUMPHIJACK="path=/rump,blanket=/bl")
    assert out.split() == [b"inner"]


def test_fdoff_moves_descriptors(server):
    script = "import os; fd = os.open('/rump/f', os.O_CREAT | os.O_WRONLY); print(fd)"
    assert int(ok(server, ["python3", "-c", script])) >= 128
    assert int(ok(server, ["python3", "-c", script], RUMPHIJACK="path=/rump,fdoff=300")) >= 300


@pytest.mark.parametrize("value, message", [
    ("sometimes", "RUMPHIJACK_RETRYCONNECT must be keyword or integer, got: sometimes\n"),
    ("0", "RUMPHIJACK_RETRYCONNECT must be keyword or integer, got: 0\n"),
    ("-5", "RUMPHIJACK_RETRYCONNECT must be keyword or integer, got: -5\n"),
])
def test_retryconnect_invalid(server, value, message):
    r = run(server, ["true"], RUMPHIJACK_RETRYCONNECT=value)
    assert r.returncode == 1 and r.stderr.decode() == message


@pytest.mark.parametrize("value", ["inftime", "once", "die", "30"])
def test_retryconnect_valid(server, value):
    r = run(server, ["true"], RUMPHIJACK_RETRYCONNECT=value)
    assert r.returncode == 0 and r.stderr == b""


ERRNOS = textwrap.dedent("""
    import errno, os
    def code(f, *a):
        try:
            f(*a)
        except OSError as e:
            return errno.errorcode[e.errno]
        return "ok"
    os.mkdir("/rump/d")
    os.mkdir("/rump/d/sub")
    print(code(os.stat, "/rump/nonexistent"), code(os.mkdir, "/rump/d"), code(os.rmdir, "/rump/d"),
          code(os.open, "/rump/d/sub/x/y", os.O_RDONLY), code(os.unlink, "/rump/d"),
          code(os.readlink, "/rump/d"), code(os.rename, "/rump/d", "/tmp/elsewhere"),
          code(os.getxattr, "/rump/d", "user.x"), code(os.read, 999, 1))
""")


def test_errors_are_linux_numbers(server):
    """NetBSD's ENOTEMPTY is 66, Linux's 39; EPERM on unlink of a directory; EXDEV across kernels."""
    words = ok(server, ["python3", "-c", ERRNOS]).decode().split()
    assert words == ["ENOENT", "EEXIST", "ENOTEMPTY", "ENOENT", "EPERM", "EINVAL", "EXDEV", "ENOTSUP", "EBADF"]


THREADS = textwrap.dedent("""
    import os, threading
    errors = []
    def work(n):
        try:
            for i in range(200):
                p = "/rump/t%d_%d" % (n, i % 5)
                fd = os.open(p, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)
                data = ("%d:%d" % (n, i)).encode() * 50
                os.write(fd, data)
                os.lseek(fd, 0, 0)
                assert os.read(fd, 100000) == data
                assert os.fstat(fd).st_size == len(data)
                os.close(fd)
        except Exception as e:
            errors.append(repr(e))
    ts = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in ts: t.start()
    for t in ts: t.join()
    print(errors or "ok", len(os.listdir("/rump")))
""")


def test_threads_share_one_connection(server):
    before = sysctl(server, "kern.nprocs")
    out = ok(server, ["python3", "-c", THREADS], timeout=120).decode().split()
    assert out == ["ok", str(8 * 5 + 1)]           # the files and dev
    assert sysctl(server, "kern.nprocs") == before


SLEEPER = textwrap.dedent("""
    import os, threading, time
    # one thread blocks in a kernel pipe read while others keep calling
    r, w = os.pipe()         # a host pipe to start with
    os.mkdir("/rump/busy")
    done = []
    def other():
        for i in range(100):
            os.stat("/rump/busy")
        done.append(1)
    t = threading.Thread(target=other)
    t.start(); t.join(20)
    print("others", len(done))
""")


def test_calls_go_on_beside_each_other(server):
    assert ok(server, ["python3", "-c", SLEEPER]).split() == [b"others", b"1"]


def test_tcp_server(servers):
    import socket as so
    s = so.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    h = servers("-lrumpvfs", name="tcp")
    # the unix server above is not used: a second one on TCP, stopped with the first's fixture
    r = subprocess.run([os.path.join(os.path.dirname(sys.executable), "rump_server"), "-lrumpvfs",
                        "tcp://127.0.0.1:%d/" % port], cwd=h.workdir, env=h.env, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = ok(h, ["sh", "-c", "mkdir /rump/overtcp && ls /rump"], RUMP_SERVER="tcp://127.0.0.1:%d/" % port)
    assert out.split() == [b"dev", b"overtcp"]
    assert b"overtcp" not in ok(h, ["ls", "/rump"])       # a different kernel from the unix one


DAEMON = textwrap.dedent("""
    import ctypes, os, sys, time
    os.mkdir("/rump/d")
    fd = os.open("/rump/d/log", os.O_CREAT | os.O_WRONLY, 0o644)
    libc = ctypes.CDLL(None)
    if libc.daemon(1, 0) != 0:
        sys.exit(5)
    # the daemon: parent gone, its kernel process claimed by cookie, the descriptor kept
    os.write(fd, b"daemon %d" % os.getpid())
    pid = os.fork()
    if pid == 0:
        os.write(fd, b" child")
        os._exit(0)
    os.waitpid(pid, 0)
    os.write(fd, b" done")
""")


def test_daemon_that_forks(server):
    ok(server, ["python3", "-c", DAEMON])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        out = run(server, ["cat", "/rump/d/log"]).stdout
        if out.endswith(b" done"):
            break
        time.sleep(0.1)
    assert out.startswith(b"daemon ") and out.endswith(b" child done")


MIXED = textwrap.dedent("""
    import os, select
    r, w = os.pipe()
    fd = os.open("/rump/sel", os.O_CREAT | os.O_RDWR, 0o644)
    got = select.select([r, fd], [], [], 5)[0]
    print(fd >= 128, got == [fd])
    os.write(w, b"x")
    print(sorted(select.select([r, fd], [], [], 5)[0]) == sorted([r, fd]))
    p = select.poll()
    p.register(r, select.POLLIN)
    p.register(fd, select.POLLIN)
    print(sorted(f for f, ev in p.poll(5000)) == sorted([r, fd]))
    os.read(r, 1)
    print([f for f, ev in p.poll(0)] == [fd])
""")


def test_select_and_poll_mix_host_and_rump(server):
    assert ok(server, ["python3", "-c", MIXED]).split() == [b"True"] * 5


def test_dash_vfork_and_posix_spawn_keep_the_kernel_process(server):
    out = ok(server, ["sh", "-c", "mkdir /rump/v && cd /rump/v && echo a > f && cat f && "
                                  "python3 -c 'import subprocess; "
                                  "print(subprocess.run([\"cat\", \"f\"], capture_output=True, close_fds=False).stdout)'"])
    assert out == b"a\nb'a\\n'\n"


def test_epoll_refuses_rump_files_as_linux_does_files(server):
    script = ("import os, select; e = select.epoll(); fd = os.open('/rump/ep', os.O_CREAT | os.O_RDWR)\n"
              "try:\n    e.register(fd, select.EPOLLIN)\nexcept OSError as x:\n    print(x.strerror)\n"
              "r, w = os.pipe(); e.register(r, select.EPOLLIN); os.write(w, b'x'); print(e.poll(5))")
    out = ok(server, ["python3", "-c", script]).decode().splitlines()
    assert out[0] == "Operation not permitted" and out[1].startswith("[(")


MORE = textwrap.dedent("""
    import ctypes, fcntl, os
    libc = ctypes.CDLL(None, use_errno=True)
    os.mkdir("/rump/more")
    print(os.pathconf("/rump/more", "PC_NAME_MAX"))
    t = ctypes.create_string_buffer(b"/rump/more/tmpXXXXXX")
    fd = libc.mkstemp(t)
    print(fd >= 128, os.path.basename(t.value.decode())[:3], len(t.value), os.stat(t.value).st_mode & 0o777 == 0o600)
    d = ctypes.create_string_buffer(b"/rump/more/dirXXXXXX")
    print(libc.mkdtemp(d) != 0, os.path.isdir(d.value))
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.lockf(fd, os.F_LOCK, 0)
    os.sync()
    # getdents64 straight from the C library, as programs that skip readdir do
    dfd = os.open("/rump/more", os.O_RDONLY | os.O_DIRECTORY)
    buf = ctypes.create_string_buffer(100)       # room for about two records at a time
    names, rounds = [], 0
    while rounds < 20:
        n = libc.getdents64(dfd, buf, 100)
        if n <= 0:
            break
        off = 0
        while off < n:
            reclen = int.from_bytes(buf.raw[off + 16:off + 18], "little")
            names.append(buf.raw[off + 19:off + reclen].split(b"\\0")[0].decode())
            off += reclen
        rounds += 1
    print(sorted(names) == sorted([".", ".."] + os.listdir("/rump/more")), rounds > 1)
""")


def test_pathconf_mkstemp_locks_getdents64(server):
    out = ok(server, ["python3", "-c", MORE]).decode().split()
    assert out == ["511", "True", "tmp", "20", "True", "True", "True", "True", "True"]


def test_system_and_popen_children_share_the_kernel_process(server):
    script = ("import os\nos.mkdir('/rump/sy'); os.chdir('/rump/sy')\n"
              "fd = os.open('held', os.O_CREAT | os.O_WRONLY, 0o644); os.write(fd, b'kept')\n"
              "os.system('pwd; ls')\nprint(os.popen('cat held; pwd').read(), end='')\n")
    assert ok(server, ["python3", "-c", script]).decode().splitlines() == \
        ["/rump/sy", "held", "kept/rump/sy"]


CTHREADS = r"""
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

static void *work(void *arg) {
    long n = (long)arg;
    char path[64], data[256], back[256];
    snprintf(path, sizeof(path), "/rump/c%ld", n);
    for (int i = 0; i < 300; i++) {
        int len = snprintf(data, sizeof(data), "thread %ld round %d", n, i);
        int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
        struct stat sb;
        if (fd < 0 || write(fd, data, len) != len || pread(fd, back, sizeof(back), 0) != len ||
            memcmp(data, back, len) != 0 || fstat(fd, &sb) != 0 || sb.st_size != len || close(fd) != 0)
            __sync_fetch_and_add(&failures, 1);
    }
    return NULL;
}

int main(void) {
    pthread_t t[16];
    for (long i = 0; i < 16; i++)
        pthread_create(&t[i], NULL, work, (void *)i);
    for (int i = 0; i < 16; i++)
        pthread_join(t[i], NULL);
    printf("%d\n", failures);
    return 0;
}
"""


def test_c_threads_share_one_connection(server, tmp_path):
    compile_c(tmp_path, "threads", CTHREADS, "-O2", "-pthread")
    before = sysctl(server, "kern.nprocs")
    assert ok(server, [str(tmp_path / "threads")], timeout=300) == b"0\n"
    assert sysctl(server, "kern.nprocs") == before
    assert ok(server, ["sh", "-c", "cat /rump/c7"]) == b"thread 7 round 299"


SOCKETS = textwrap.dedent("""
    import socket, threading
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    def serve():
        c, _ = srv.accept()
        c.sendall(c.recv(100).upper())
        c.close()
    t = threading.Thread(target=serve)
    t.start()
    cl = socket.create_connection(srv.getsockname())
    cl.sendall(b"over the host")
    print(cl.recv(100).decode())
    t.join()
    a, b = socket.socketpair()
    a.sendall(b"pair")
    print(b.recv(10).decode())
""")


def test_sockets_stay_on_the_host_without_socket_spec(server):
    """A RUMPHIJACK without socket= leaves every family on the host (NetBSD's parser starts so)."""
    out = ok(server, ["python3", "-c", SOCKETS], RUMPHIJACK="path=/rump").decode()
    assert out.split("\n")[:2] == ["OVER THE HOST", "pair"]


def test_default_sends_inet_to_a_kernel_without_networking(server):
    """The default socket=all:nolocal: AF_INET goes to the kernel, which has no networking
    here (EAFNOSUPPORT), while AF_UNIX stays on the host."""
    script = "import socket\ntry:\n    socket.socket()\nexcept OSError as e:\n    print(e.strerror)\n" \
             "a, b = socket.socketpair(); a.send(b'pair'); print(b.recv(9).decode())"
    out = ok(server, ["python3", "-c", script]).decode().splitlines()
    assert out == ["Address family not supported by protocol", "pair"]


def test_explicit_socket_families_are_refused(server):
    script = "import socket\ntry:\n    socket.socket()\nexcept OSError as e:\n    print(e.strerror)\n" \
             "print(int(socket.socket(socket.AF_UNIX).family))"
    out = ok(server, ["python3", "-c", script], RUMPHIJACK="path=/rump,socket=inet").decode().splitlines()
    assert out == ["Address family not supported by protocol", "1"]


CSIGNALS = r"""
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static int logfd;
static volatile sig_atomic_t wrote, refused, other;

static void tick(int sig) {
    int saved = errno;
    /* a rump call from a handler, often landing inside another rump call */
    if (write(logfd, "t", 1) == 1) wrote++;
    else if (errno == EINTR) refused++;
    else other++;
    errno = saved;
}

int main(void) {
    struct sigaction sa;
    struct itimerval it = {{0, 200}, {0, 200}};
    struct stat sb;
    int failed = 0;
    logfd = open("/rump/ticks", O_CREAT | O_WRONLY | O_APPEND, 0644);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = tick;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
    for (int i = 0; i < 5000; i++)
        if (stat("/rump/ticks", &sb) != 0 && errno != EINTR)
            failed++;
    it.it_value.tv_usec = it.it_interval.tv_usec = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    printf("%d %d %d\n", failed, wrote > 0, other);
    return 0;
}
"""


def test_rump_calls_from_signal_handlers_never_deadlock(server, tmp_path):
    compile_c(tmp_path, "sig", CSIGNALS, "-O2")
    assert ok(server, [str(tmp_path / "sig")], timeout=120) == b"0 1 0\n"


OLDSTAT = textwrap.dedent("""
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    os.mkdir("/rump/old")
    buf = ctypes.create_string_buffer(256)       # struct stat is 144 bytes on x86-64
    mode = lambda: int.from_bytes(buf.raw[24:28], "little")
    print(libc.__xstat(1, b"/rump/old", buf), oct(mode() & 0o170000))
    print(libc.__lxstat(1, b"/rump/nonexistent", buf), ctypes.get_errno() == 2)
    fd = os.open("/rump/old/f", os.O_CREAT | os.O_WRONLY, 0o600)
    print(libc.__fxstat(1, fd, buf), oct(mode() & 0o7777))
    print(libc.__fxstatat(1, -100, b"/rump/old/f", buf, 0), oct(mode() & 0o7777))
    fd2 = libc.__open_2(b"/rump/old", os.O_RDONLY | os.O_DIRECTORY)
    print(fd2 >= 128, libc.__openat_2(fd2, b"f", os.O_RDONLY) >= 128)
""")


def test_old_stat_entry_points_and_fortified_opens(server):
    assert ok(server, ["python3", "-c", OLDSTAT]).decode().splitlines() == \
        ["0 0o40000", "-1 True", "0 0o600", "0 0o600", "True True"]


EXEC_FDS = textwrap.dedent("""
    import os, sys
    if len(sys.argv) == 1:
        keep = os.open("/rump/keep", os.O_CREAT | os.O_RDWR, 0o644)
        gone = os.open("/rump/gone", os.O_CREAT | os.O_RDWR, 0o644)
        os.set_inheritable(keep, True)          # gone stays close-on-exec (Python's default)
        os.write(keep, b"kept")
        os.execv(sys.executable, [sys.executable, "-c", SCRIPT, str(keep), str(gone)])
    keep, gone = int(sys.argv[1]), int(sys.argv[2])
    print(os.pread(keep, 10, 0).decode())
    try:
        os.fstat(gone)
    except OSError as e:
        print(e.strerror)
    # a host descriptor on the number the closed one had is a host descriptor
    h = os.open("/etc/hostname", os.O_RDONLY)
    os.dup2(h, gone)
    with open("/etc/hostname", "rb") as f:
        print(os.pread(gone, 100, 0) == f.read())
""")


def test_exec_keeps_inheritable_rump_descriptors_only(server):
    script = EXEC_FDS.replace("SCRIPT", repr(EXEC_FDS))
    assert ok(server, ["python3", "-c", script]).decode().splitlines() == \
        ["kept", "Bad file descriptor", "True"]
