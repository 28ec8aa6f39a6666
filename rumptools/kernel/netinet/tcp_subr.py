"""The TCP stack of one kernel (NetBSD's tcp_subr.c): parameters, statistics, the
connection tables, ports, and closing and dropping connections.

TcpStack hangs off the `inet` slot as inet.tcp; inet.tcp_pcbs is its list of
every TCP control block, newest first -- listening, connecting, connected
and those that outlived their socket (FIN_WAIT_2, TIME_WAIT, LAST_ACK).
Demultiplexing uses two dicts: `conns` keyed (laddr, lport, faddr, fport)
and `listeners` keyed lport -> [TcpCb].

Locking rule: kernel lock held.
"""
from ...abi import errnos
from ...abi import net as N
from ...abi.errnos import RumpError
from .udp_raw import anon_port
from .tcp_var import (CLOSED, ESTABLISHED, F_RCVD_SCALE, F_RCVD_TSTMP, F_REQ_SCALE, F_REQ_TSTMP,
                      LISTEN, MAX_WINSHIFT, MAXWIN, SYN_RECEIVED, TICK, TIME_WAIT)

PARAMS = {
    "rfc1323": 1, "sendspace": 32768, "recvspace": 32768, "mssdflt": 536, "syn_cache_limit": 10255,
    "syn_bucket_limit": 105, "init_win": 4, "mss_ifmtu": 0, "sack.enable": 1, "sack.maxholes": 32,
    "sack.globalmaxholes": 1024, "sack.globalholes": 0, "win_scale": 1, "timestamps": 1, "compat_42": 0,
    "cwm": 0, "cwm_burstsize": 4, "ack_on_push": 0, "keepidle": 14400, "keepintvl": 150, "keepcnt": 8,
    "slowhz": 2, "log_refused": 0, "rstppslimit": 100, "delack_ticks": 20, "init_win_local": 4,
    "do_loopback_cksum": 0, "msl": 30, "minmss": 216, "congctl.available": "reno newreno cubic",
    "congctl.selected": "newreno", "keepinit": 150, "recvbuf_auto": 1, "recvbuf_inc": 16384,
    "recvbuf_max": 262144, "sendbuf_auto": 1, "sendbuf_inc": 8192, "sendbuf_max": 262144,
    "ecn.enable": 0, "ecn.maxretries": 1, "local_by_rtt": 0, "iss_hash": 0, "abc.enable": 1,
    "abc.aggressive": 1, "mslt.enable": 1, "mslt.loopback": 2, "mslt.local": 10, "mslt.remote": 60,
    "mslt.remote_threshold": 6, "vtw.enable": 0, "vtw.entries": 16,
}


class TcpStack:
    def __init__(self, inet):
        self.inet = inet
        self.kernel = inet.kernel
        self.clock = inet.kernel.callouts.clock
        self.params = dict(PARAMS)
        self.stats = dict.fromkeys(N.TCPSTAT_FIELDS, 0)
        self.pcbs = []                  # every TcpCb, newest first
        self.conns = {}                 # (laddr, lport, faddr, fport) -> TcpCb
        self.listeners = {}             # lport -> [TcpCb]
        self.rst_second = -1
        self.rst_count = 0
        self.syncache = None            # tcp_syncache.SynCache
        self.ts_base = self.clock.now()

    def now(self):
        return self.clock.now()

    def ts_now(self, now=None):
        """The timestamp option clock: milliseconds, modulo 2**32."""
        return int(((self.now() if now is None else now) - self.ts_base) * 1000 + 1) & 0xffffffff

    def stat_values(self):
        st = self.stats
        return tuple(st[k] for k in N.TCPSTAT_FIELDS)

    def rst_allowed(self):
        """ppsratecheck for RSTs: at most rstppslimit per second (negative: no limit)."""
        limit = self.params["rstppslimit"]
        if limit < 0:
            return True
        sec = int(self.now())
        if sec != self.rst_second:
            self.rst_second, self.rst_count = sec, 0
        self.rst_count += 1
        return self.rst_count <= limit

    def new_iss(self):
        return int.from_bytes(self.kernel.host.random(4), "big")

    # -- tables ---------------------------------------------------------------------------
    def add_pcb(self, tp):
        self.pcbs.insert(0, tp)

    def set_conn(self, tp):
        self.conns[(tp.laddr, tp.lport, tp.faddr, tp.fport)] = tp

    def unhash(self, tp):
        key = (tp.laddr, tp.lport, tp.faddr, tp.fport)
        if self.conns.get(key) is tp:
            del self.conns[key]
        lst = self.listeners.get(tp.lport)
        if lst and tp in lst:
            lst.remove(tp)
            if not lst:
                del self.listeners[tp.lport]

    def lookup_listener(self, laddr, lport):
        lst = self.listeners.get(lport)
        if not lst:
            return None
        wild = None
        for tp in lst:
            if tp.laddr == laddr:
                return tp
            if tp.laddr == 0:
                wild = tp
        return wild

    def port_in_use(self, laddr, lport, reuse):
        for tp in self.pcbs:
            if tp.lport != lport:
                continue
            if tp.laddr == laddr or tp.laddr == 0 or laddr == 0:
                if reuse and tp.state != LISTEN:
                    continue
                if reuse and tp.state == LISTEN and tp.laddr != laddr:
                    continue
                return True
        return False

    def anon_port(self, tp):
        return anon_port(self.inet, tp.portrange, self.pcbs)

    # -- per connection -----------------------------------------------------------------
    def twomsl(self, tp):
        """2 * MSL for this connection in seconds: net.inet.tcp.mslt.* by where the peer is."""
        p = self.params
        if not p["mslt.enable"]:
            return 2 * p["msl"]
        inet = self.inet
        if tp.faddr >> 24 == 127 or tp.faddr in inet.local:
            ticks = p["mslt.loopback"]
        else:
            rt = inet.routes.lookup(tp.faddr)
            if rt is not None and not rt.flags & N.RTF_GATEWAY:
                ticks = p["mslt.local"]
            else:
                ticks = p["mslt.remote"]
        return 2 * ticks * TICK

    def mss_for(self, faddr):
        """What we advertise: the outgoing interface's MTU - 40 (mssdflt without a route)."""
        inet = self.inet
        if faddr in inet.local:
            ifp = inet.net.loif
        else:
            rt = inet.routes.lookup(faddr)
            ifp = rt.ifp if rt is not None else None
        if ifp is None:
            return self.params["mssdflt"]
        return max(ifp.mtu - 40, self.params["minmss"])

    def rcv_scale_for(self, space):
        s = 0
        limit = max(space, self.params["recvbuf_max"])
        while s < MAX_WINSHIFT and (MAXWIN << s) < limit:
            s += 1
        return s

    def mss_from_peer(self, tp, offer):
        """tcp_mss_from_peer + the segment size we send: min(peer MSS, ours) less option bytes."""
        p = self.params
        if offer is None or offer == 0:
            offer = p["mssdflt"]
        offer = max(offer, p["minmss"])
        tp.peermss = offer
        mss = min(offer, tp.ourmss)
        if tp.flags & F_REQ_TSTMP and tp.flags & F_RCVD_TSTMP:
            mss -= 12
        tp.maxseg = max(mss, 64)

    def established(self, tp):
        """The connection reached ESTABLISHED: windows, initial cwnd, keepalive timer."""
        tp.state = ESTABLISHED
        if tp.flags & (F_REQ_SCALE | F_RCVD_SCALE) == (F_REQ_SCALE | F_RCVD_SCALE):
            tp.snd_scale = tp.requested_s_scale
            tp.rcv_scale = tp.request_r_scale
        else:
            tp.snd_scale = tp.rcv_scale = 0
        iw = self.params["init_win_local" if tp.faddr in self.inet.local else "init_win"]
        tp.snd_cwnd = min(4 * tp.maxseg, max(2 * tp.maxseg, 4380)) if iw > 10 else iw * tp.maxseg
        tp.t_keep.schedule(tp.keepidle)
        self.stats["connects"] += 1

    def close(self, tp):
        """tcp_close: forget the connection; the socket (if any) sees it disconnected."""
        for t in (tp.t_rexmt, tp.t_persist, tp.t_keep, tp.t_2msl, tp.t_delack):
            t.stop()
        self.unhash(tp)
        if self.syncache is not None and tp.state == LISTEN:
            self.syncache.drop_listener(tp)
        try:
            self.pcbs.remove(tp)
        except ValueError:
            pass
        tp.state = CLOSED
        tp.dead = True
        tp.reass = []
        tp.reass_bytes = 0
        tp.rcv_sacks = []
        if tp.snd_holes:
            from . import tcp_sack
            tcp_sack.free(tp)
        so = tp.so
        from ..net.socket import CANTRCVMORE, CANTSENDMORE, ISCONNECTED
        so.state = (so.state & ~ISCONNECTED) | CANTRCVMORE | CANTSENDMORE
        so.rwakeup()
        so.wwakeup()
        if tp.acceptq:
            for child in list(tp.acceptq):
                self.drop(child.pcb, errnos.ECONNABORTED)
            tp.acceptq.clear()
        head = tp.head
        if head is not None and head.acceptq is not None and tp.so in head.acceptq:
            head.acceptq.remove(tp.so)
        self.stats["closed"] += 1

    def reset(self, tp, err):
        """The peer reset the connection: the error goes to the socket, nothing is sent."""
        if tp.dead:
            return
        self.stats["drops"] += 1
        tp.so.error = err
        self.close(tp)

    def drop(self, tp, err):
        """tcp_drop: a synchronized connection is reset (RST sent); the error goes to the socket."""
        from .tcp_output import tcp_output
        if tp.dead:
            return
        if tp.state >= SYN_RECEIVED and tp.state != TIME_WAIT:
            tp.state = CLOSED
            tp.snd_buf.clear()
            try:
                tcp_output(tp)
            except RumpError:
                pass
            self.stats["drops"] += 1
        else:
            self.stats["conndrops"] += 1
        if err == errnos.ETIMEDOUT and tp.softerror:
            err = tp.softerror
        if err:
            tp.so.error = err
        self.close(tp)


def tcp_ctlinput(stack, qip, qdata, err):
    """An ICMP unreachable about a segment we sent (NetBSD's tcp_notify): the quoted sequence
    number must be in flight; a connection being set up keeps the error as its soft error (the
    connect timeout then reports it) and fails at once after a few retransmissions; an
    established one ignores host and network unreachables."""
    import struct
    sport, dport, seq = struct.unpack_from("!HHI", qdata)
    src, dst = int.from_bytes(qip.src, "big"), int.from_bytes(qip.dst, "big")
    tp = stack.conns.get((src, sport, dst, dport))
    if tp is None or tp.dead:
        return
    if (seq - tp.snd_una) & 0xffffffff > (tp.snd_max - tp.snd_una) & 0xffffffff:
        return
    if tp.state == ESTABLISHED and err in (errnos.EHOSTUNREACH, errnos.ENETUNREACH, errnos.EHOSTDOWN):
        return
    if tp.state < ESTABLISHED and tp.rxtshift > 3 and tp.softerror:
        stack.drop(tp, err)
        return
    tp.softerror = err
