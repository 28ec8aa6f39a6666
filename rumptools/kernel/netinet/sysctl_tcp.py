"""NetBSD's net.inet.tcp.* sysctl nodes (specs/net.md section 14) and net.inet.tcp.stats,
mirrored under net.inet6.tcp6 as NetBSD does.

Values are NetBSD 7.99's and live in the stack's params (tcp_subr.PARAMS);
the writable ones change what new connections use (buffers, MSS default,
window scaling and timestamps, keepalive times, delayed-ACK ticks, the
TIME_WAIT lengths mslt.*, the SYN cache limits, the RST rate limit).
Units are NetBSD's: keep* and mslt.* in slow ticks (1/2 s), delack_ticks
in hz ticks (1/100 s), msl in seconds. The stats node is a struct (a tuple
of u64 counters in abi/net.py TCPSTAT_FIELDS order) that sysctl -a does not
print.
"""
from ...abi import errnos
from ...abi.errnos import RumpError
from ...abi.sysctl import INT, STRING, STRUCT

# (name, NetBSD number or None for a CTL_CREATE node, writable, minimum)
NODES = (
    ("rfc1323", 1, True, 0), ("sendspace", 2, True, 1), ("recvspace", 3, True, 1), ("mssdflt", 4, True, 1),
    ("syn_cache_limit", 5, True, 1), ("syn_bucket_limit", 6, True, 1), ("init_win", 8, True, 0),
    ("mss_ifmtu", 9, True, 0), ("sack.enable", None, True, 0), ("sack.maxholes", None, True, 0),
    ("sack.globalmaxholes", None, True, 0), ("sack.globalholes", None, False, 0), ("win_scale", 11, True, 0),
    ("timestamps", 12, True, 0), ("compat_42", 13, True, 0), ("cwm", 14, True, 0), ("cwm_burstsize", 15, True, 1),
    ("ack_on_push", 16, True, 0), ("keepidle", 17, True, 1), ("keepintvl", 18, True, 1), ("keepcnt", 19, True, 1),
    ("slowhz", 20, False, 0), ("log_refused", 22, True, 0), ("rstppslimit", 24, True, -1),
    ("delack_ticks", 25, True, 0), ("init_win_local", 26, True, 0), ("do_loopback_cksum", 29, True, 0),
    ("msl", 34, True, 0), ("minmss", None, True, 1), ("congctl.available", None, False, None),
    ("congctl.selected", None, False, None), ("keepinit", None, True, 1), ("recvbuf_auto", None, True, 0),
    ("recvbuf_inc", None, True, 1), ("recvbuf_max", None, True, 1), ("sendbuf_auto", None, True, 0),
    ("sendbuf_inc", None, True, 1), ("sendbuf_max", None, True, 1), ("ecn.enable", None, True, 0),
    ("ecn.maxretries", None, True, 0), ("local_by_rtt", None, True, 0), ("iss_hash", None, True, 0),
    ("abc.enable", None, True, 0), ("abc.aggressive", None, True, 0), ("mslt.enable", None, True, 0),
    ("mslt.loopback", None, True, 0), ("mslt.local", None, True, 0), ("mslt.remote", None, True, 0),
    ("mslt.remote_threshold", None, True, 0), ("vtw.enable", None, True, 0), ("vtw.entries", None, False, 0),
)


def attach(ctx, stack):
    """net.inet.tcp, and net.inet6.tcp6 as NetBSD's tcp_usrreq.c makes it beside (the same
    variables, so the same values and the same statistics)."""
    tree = ctx.kernel.sysctl
    tree.node("net.inet6", num=24, owner=ctx.comp)
    for base in ("net.inet.tcp", "net.inet6.tcp6"):
        tree.node(base, num=6, owner=ctx.comp)
        tree.node(base + ".sack", num=10, owner=ctx.comp)
        _nodes(ctx, stack, base)


def _nodes(ctx, stack, base):
    params = stack.params

    def make_setter(key, lo):
        def setter(v):
            if lo is not None and v < lo:
                raise RumpError(errnos.EINVAL)
            params[key] = v
        return setter

    for name, num, writable, lo in NODES:
        kind = STRING if isinstance(params[name], str) else INT
        ctx.sysctl(base + "." + name, kind, getter=lambda k=name: params[k],
                   setter=make_setter(name, lo) if writable else None, writable=writable, num=num)
    ctx.sysctl(base + ".stats", STRUCT, getter=stack.stat_values, num=30)
