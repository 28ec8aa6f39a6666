"""The SYN cache (NetBSD's syn_cache_* in tcp_input.c): half-open connections of listeners.

A SYN to a listening socket makes a small entry -- addresses, the peer's
sequence number and options (SACK-permitted answered while
net.inet.tcp.sack.enable is set), our ISS -- and a SYN-ACK; no socket exists
until the handshake's ACK arrives (syn_cache_get), so a SYN flood costs
entries, never sockets or accept-queue slots. The SYN-ACK is resent 3, 9,
21 and 45 s after the first and the entry dropped at 93 s. Bounded by
net.inet.tcp.syn_cache_limit entries in all (the oldest goes) and
syn_bucket_limit per hash bucket (that bucket's oldest goes).

Locking rule: kernel lock held.
"""
from ...abi import net as N
from .tcp_output import build, respond, syn_options
from .tcp_var import (ACK, F_RCVD_SCALE, F_RCVD_TSTMP, F_REQ_SACK, F_REQ_SCALE, F_REQ_TSTMP, F_SACK_PERMIT, MAXWIN, RST, SYN, TICK,
                      TV_SRTTDFLT)

NBUCKETS = 1024
MAXREXMTS = 4
M32 = 0xffffffff


class SynEntry:
    __slots__ = ("key", "bucket", "listener", "irs", "iss", "peermss", "wscale", "ts", "ts_recent", "sack",
                 "shift", "timer", "ourmss", "rscale", "win")


class SynCache:
    def __init__(self, stack):
        self.stack = stack
        self.entries = {}               # key -> SynEntry, oldest first
        self.buckets = [dict() for _ in range(NBUCKETS)]
        self.seed = int.from_bytes(stack.kernel.host.random(4), "big")

    def __len__(self):
        return len(self.entries)

    def _bucket(self, key):
        return hash((key, self.seed)) % NBUCKETS

    def _remove(self, sc):
        self.entries.pop(sc.key, None)
        self.buckets[sc.bucket].pop(sc.key, None)
        sc.timer.stop()

    def drop_listener(self, tp):
        for sc in [sc for sc in self.entries.values() if sc.listener is tp]:
            self._remove(sc)

    def lookup(self, key):
        return self.entries.get(key)

    # -- SYN ----------------------------------------------------------------------------
    def add(self, listener, key, seq, opts, ttl=None):
        """A SYN for listener; opts = (mss, wscale, ts) parsed from it."""
        stack = self.stack
        st = stack.stats
        p = stack.params
        sc = self.entries.get(key)
        if sc is not None:
            st["sc_dupesyn"] += 1
            if opts[2] is not None:
                sc.ts_recent = opts[2][0]
            self.send_synack(sc)
            return
        b = self._bucket(key)
        bucket = self.buckets[b]
        if len(bucket) >= p["syn_bucket_limit"]:
            st["sc_bucketoverflow"] += 1
            self._remove(bucket[next(iter(bucket))])
        elif len(self.entries) >= p["syn_cache_limit"]:
            st["sc_overflowed"] += 1
            self._remove(self.entries[next(iter(self.entries))])
        elif bucket:
            st["sc_collisions"] += 1
        sc = SynEntry()
        sc.key, sc.bucket, sc.listener = key, b, listener
        sc.irs = seq
        sc.iss = stack.new_iss()
        mss, wscale, ts, sackok = opts[:4]
        sc.sack = bool(sackok and p["sack.enable"])
        sc.peermss = mss
        sc.wscale = wscale if listener.flags & F_REQ_SCALE else None
        sc.ts = ts is not None and bool(listener.flags & F_REQ_TSTMP)
        sc.ts_recent = ts[0] if ts is not None else 0
        sc.shift = 0
        sc.ourmss = stack.mss_for(key[2])
        sc.rscale = stack.rcv_scale_for(listener.so.rcv_hiwat) if sc.wscale is not None else 0
        sc.win = min(listener.so.rcv_hiwat, MAXWIN)
        sc.timer = stack.kernel.callouts.callout(self._timer, sc)
        self.entries[key] = sc
        bucket[key] = sc
        st["sc_added"] += 1
        self.send_synack(sc)
        sc.timer.schedule(TV_SRTTDFLT * TICK)

    def send_synack(self, sc):
        stack = self.stack
        laddr, lport, faddr, fport = sc.key
        tsopt = (stack.ts_now(), sc.ts_recent) if sc.ts else None
        opts = syn_options(stack, sc.ourmss, sc.rscale if sc.wscale is not None else None, tsopt, sc.sack)
        seg = build(lport, fport, sc.iss, (sc.irs + 1) & M32, SYN | ACK, sc.win, opts, b"", laddr, faddr)
        stack.stats["sndtotal"] += 1
        stack.stats["sndctrl"] += 1
        from .tcp_output import IPPROTO_TCP
        from .ip import ip_output
        from ...abi.errnos import RumpError
        try:
            ip_output(stack.inet, faddr, IPPROTO_TCP, seg, src=laddr, ttl=sc.listener.ttl)
        except RumpError:
            stack.stats["sc_dropped"] += 1

    def _timer(self, sc):
        if sc.shift >= MAXREXMTS:
            self.stack.stats["sc_timed_out"] += 1
            self._remove(sc)
            return
        sc.shift += 1
        self.stack.stats["sc_retransmitted"] += 1
        self.send_synack(sc)
        sc.timer.schedule(TV_SRTTDFLT * TICK * (1 << sc.shift))

    # -- RST / ACK ----------------------------------------------------------------------
    def reset(self, key, seq):
        sc = self.entries.get(key)
        if sc is None:
            return
        if (seq - sc.irs - 1) & M32 <= sc.win:
            self.stack.stats["sc_reset"] += 1
            self._remove(sc)

    def get(self, key, seq, ack, tiwin, tsval):
        """The handshake's ACK: a new connected socket's TcpCb, None (no entry), or False (reset sent)."""
        stack = self.stack
        st = stack.stats
        sc = self.entries.get(key)
        if sc is None:
            return None
        if ack != (sc.iss + 1) & M32 or (seq - sc.irs - 1) & M32 > sc.win:
            return None
        listener = sc.listener
        lso = listener.so
        laddr, lport, faddr, fport = key
        if len(listener.acceptq) > 3 * listener.qlimit // 2 or lso.closed:
            # the accept queue is full: NetBSD's sonewconn fails and the peer is reset
            self._remove(sc)
            st["sc_aborted"] += 1
            respond(stack, laddr, faddr, lport, fport, ack, 0, RST)
            return False
        self._remove(sc)
        from ..net.socket import Socket
        so = Socket(stack.kernel, N.AF_INET, N.SOCK_STREAM, N.IPPROTO_TCP, lso.pr)
        so.options = lso.options & ~N.SO_ACCEPTCONN
        so.sbreserve(lso.rcv_hiwat, lso.snd_hiwat)
        so.rcv_lowat, so.snd_lowat = lso.rcv_lowat, lso.snd_lowat
        tp = so.pcb
        tp.head = listener
        tp.laddr, tp.lport, tp.faddr, tp.fport = key
        tp.ttl, tp.tos = listener.ttl, listener.tos
        tp.flags = listener.flags & ~(F_RCVD_SCALE | F_RCVD_TSTMP | F_REQ_SCALE | F_REQ_TSTMP |
                                      F_REQ_SACK | F_SACK_PERMIT)
        if sc.sack:
            tp.flags |= F_REQ_SACK | F_SACK_PERMIT
        if sc.wscale is not None:
            tp.flags |= F_REQ_SCALE | F_RCVD_SCALE
            tp.requested_s_scale = min(sc.wscale, 14)
            tp.request_r_scale = sc.rscale
        if sc.ts:
            tp.flags |= F_REQ_TSTMP | F_RCVD_TSTMP
            tp.ts_recent = sc.ts_recent
            tp.ts_recent_age = stack.now()
        tp.iss = sc.iss
        tp.irs = sc.irs
        tp.snd_una = tp.snd_nxt = tp.snd_max = tp.snd_up = tp.snd_recover = (sc.iss + 1) & M32
        tp.rcv_nxt = tp.rcv_up = (sc.irs + 1) & M32
        tp.rcv_adv = (tp.rcv_nxt + sc.win) & M32
        tp.last_ack_sent = tp.rcv_nxt
        tp.ourmss = sc.ourmss
        tp.keepidle, tp.keepintvl = listener.keepidle, listener.keepintvl
        tp.keepcnt, tp.keepinit = listener.keepcnt, listener.keepinit
        stack.mss_from_peer(tp, sc.peermss)
        tp.snd_wl1 = sc.irs
        tp.snd_wl2 = ack
        tp.rcvtime = stack.now()
        stack.established(tp)
        tp.snd_wnd = tiwin << tp.snd_scale
        tp.max_sndwnd = tp.snd_wnd
        stack.set_conn(tp)
        from ..net.socket import ISCONNECTED
        so.state |= ISCONNECTED
        listener.acceptq.append(so)
        lso.rwakeup()
        st["sc_completed"] += 1
        st["accepts"] += 1
        return tp
