"""The -r budget is the kernel's, end to end: mounts and names share it and RSS stays near it."""
from rumptools.abi.errnos import RumpError
from rumptools.abi import errnos
from rumptools.abi.syscalls import O_CREAT, O_WRONLY
from rumptools.kernel.kern.membudget import NODE_COST
from rumptools.sp import client as spclient, url as spurl

MiB = 1 << 20


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def connect(h):
    return spclient.Client(spurl.parse(h.url), "budget").connect()


def test_four_rumpfs_mounts_share_r(servers):
    h = servers("-r", "64m", "-lrumpvfs")
    pid = h.pids[0]
    c = connect(h)
    try:
        base = rss(pid)
        fds = []
        for i in range(4):
            c.mkdir("/m%d" % i, 0o755)
            c.mount("rumpfs", "/m%d" % i, 0, None)
            fds.append(c.open("/m%d/data" % i, O_WRONLY | O_CREAT, 0o644))
        chunk = bytes(4 * MiB)
        stored = [0] * 4
        for _ in range(40):                                  # round robin until every mount is full
            full = 0
            for i, fd in enumerate(fds):
                try:
                    stored[i] += c.write(fd, chunk)
                except RumpError as e:
                    assert e.errno == errnos.ENOSPC
                    full += 1
            if full == 4:
                break
        total = sum(stored)
        assert 56 * MiB <= total <= 64 * MiB, stored
        assert all(s >= 12 * MiB for s in stored)              # shared fairly by round robin
        sv = c.statvfs("/m3", 0)
        assert sv[2] * sv[0] == 64 * MiB and sv[3] * sv[0] < 4 * MiB
        assert rss(pid) - base < 2 * 64 * MiB                # before: 4 x 64 MiB stored
    finally:
        c.disconnect()


def test_symlinks_stop_with_enospc_and_rss_stays_bounded(servers):
    h = servers("-r", "2m", "-lrumpvfs")
    pid = h.pids[0]
    c = connect(h)
    try:
        c.mkdir("/d", 0o755)
        base = rss(pid)
        made = 0
        for i in range(50000):
            try:
                c.symlink("t" * 40, "/d/%06d" % i)
            except RumpError as e:
                assert e.errno == errnos.ENOSPC
                break
            made += 1
        assert 1000 < made < 50000
        sv = c.statvfs("/", 0)
        assert sv[3] == 0 and sv[5] == 2 * MiB // NODE_COST and sv[6] < 4
        assert rss(pid) - base < 16 * MiB
    finally:
        c.disconnect()


def test_sockets_stop_with_enobufs_and_the_server_stays_up(servers):
    from rumptools.abi import net as N
    h = servers("-r", "4m", "-lrumpvfs", "-lrumpnet", "-lrumpnet_net", "-lrumpnet_netinet")
    c = connect(h)
    try:
        fds = []
        for _ in range(1000):
            try:
                fds.append(c.socket(N.AF_INET, N.SOCK_DGRAM, 0))
            except RumpError as e:
                assert e.errno == errnos.ENOBUFS
                break
        else:
            raise AssertionError("4 MiB held 1,000 UDP sockets")
        assert len(fds) >= 10
        for fd in fds[: len(fds) // 2]:
            c.close(fd)
        again = [c.socket(N.AF_INET, N.SOCK_DGRAM, 0) for _ in range(len(fds) // 2)]   # their room is back
        assert len(again) == len(fds) // 2
        assert c.getpid() > 0
    finally:
        c.disconnect()
