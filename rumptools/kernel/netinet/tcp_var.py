"""TCP's constants and its control block (NetBSD's tcp_var.h, tcp_fsm.h, tcp_timer.h).

A TcpCb is both the Internet pcb of a TCP socket (addresses and ports, as
udp_raw.InPcb) and its TCP state: sequence variables, windows, congestion
state, RTT estimator, the five timers (callouts) and the stream buffers.
The send buffer `snd_buf` holds the bytes from snd_una on; the receive
buffer `rcv_buf` (also the socket's `sb`) the in-order bytes not yet read;
both are kernel/net/sockbuf.py SockBufs, as AF_LOCAL's; `reass` the out-of-order
segments [(seq, bytes)] in sequence order, bounded by the receive window
and REASS_MAX segments. With SACK (tcp_sack.py) `rcv_sacks` are the blocks
of `reass` we report, `snd_holes` and `snd_fack` the sender's scoreboard.

Times: the RTT estimator and the retransmit/persist/keepalive values are in
NetBSD's slow ticks (PR_SLOWHZ = 2 per second) and fixed point as NetBSD
keeps them; callouts are armed in seconds (ticks * 0.5).

Locking rule: kernel lock held for everything.
"""
from ..net.sockbuf import SockBuf
from .udp_raw import InPcb

# states (tcp_fsm.h)
CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED, CLOSE_WAIT = 0, 1, 2, 3, 4, 5
FIN_WAIT_1, CLOSING, LAST_ACK, FIN_WAIT_2, TIME_WAIT = 6, 7, 8, 9, 10

# header flags
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20

# what tcp_output sends in each state (tcp_outflags)
OUTFLAGS = (RST | ACK, 0, SYN, SYN | ACK, ACK, ACK, FIN | ACK, FIN | ACK, FIN | ACK, ACK, ACK)

# t_flags
F_ACKNOW, F_DELACK, F_NODELAY, F_SENTFIN = 0x1, 0x2, 0x4, 0x10
F_REQ_SCALE, F_RCVD_SCALE, F_REQ_TSTMP, F_RCVD_TSTMP = 0x20, 0x40, 0x80, 0x100
F_WILL_SCALE = 0x200             # SYN we received carried a window scale (syncache path)
F_REQ_SACK = 0x400               # our SYN offered SACK-permitted
F_SACK_PERMIT = 0x800            # SACK agreed both ways (RFC 2018)

SLOWHZ = 2
TICK = 1.0 / SLOWHZ
MAXRXTSHIFT = 12
BACKOFF = (1, 2, 4, 8, 16, 32, 64, 64, 64, 64, 64, 64, 64)
TOTBACKOFF = 511
RTT_SHIFT, RTTVAR_SHIFT = 3, 2
TV_MIN = 2                       # 1 s (ticks)
TV_REXMTMAX = 128                # 64 s
TV_PERSMIN, TV_PERSMAX = 10, 120  # 5 s, 60 s
TV_SRTTDFLT = 6                  # 3 s: the initial RTO is 2 * 3 s
RTTDFLT_VAR = TV_SRTTDFLT << (RTTVAR_SHIFT + 2 - 1)
MAXWIN = 65535
MAX_WINSHIFT = 14
REASS_MAX = 256                  # out-of-order segments kept per connection
SOMAXCONN = 128


def rexmtval(tp):
    """NetBSD's TCP_REXMTVAL: srtt + 4 * rttvar, in ticks."""
    return ((tp.srtt >> RTT_SHIFT) + tp.rttvar) >> 2


def rangeset(value, lo, hi):
    return lo if value < lo else hi if value > hi else value


class TcpCb(InPcb):
    __slots__ = (
        "stack", "state", "flags", "maxseg", "peermss", "ourmss",
        "iss", "irs", "snd_una", "snd_nxt", "snd_max", "snd_wnd", "snd_wl1", "snd_wl2", "snd_up",
        "max_sndwnd", "rcv_nxt", "rcv_wnd", "rcv_adv", "rcv_up",
        "snd_cwnd", "snd_ssthresh", "snd_recover", "dupacks",
        "snd_scale", "rcv_scale", "request_r_scale", "requested_s_scale",
        "ts_recent", "ts_recent_age", "last_ack_sent",
        "srtt", "rttvar", "rttmin", "rxtcur", "rxtshift", "rtttime", "rtseq",
        "t_rexmt", "t_persist", "t_keep", "t_2msl", "t_delack", "force",
        "rcvtime", "softerror", "snd_buf", "rcv_buf", "reass", "reass_bytes",
        "rcv_sacks", "snd_holes", "snd_fack",
        "rcv_auto", "rfbuf_ts", "rfbuf_cnt", "snd_auto",
        "qlimit", "acceptq", "head", "msl2", "linger", "dead", "rcvd_fin_seq",
        "keepidle", "keepintvl", "keepcnt", "keepinit")

    def __init__(self, so, stack):
        super().__init__(so)
        self.stack = stack
        p = stack.params
        self.state = CLOSED
        self.flags = 0
        if p["rfc1323"]:
            if p["win_scale"]:
                self.flags |= F_REQ_SCALE
            if p["timestamps"]:
                self.flags |= F_REQ_TSTMP
        self.maxseg = p["mssdflt"]
        self.peermss = p["mssdflt"]
        self.ourmss = p["mssdflt"]
        self.iss = self.irs = 0
        self.snd_una = self.snd_nxt = self.snd_max = self.snd_wl1 = self.snd_wl2 = self.snd_up = 0
        self.snd_wnd = self.max_sndwnd = 0
        self.rcv_nxt = self.rcv_wnd = self.rcv_adv = self.rcv_up = 0
        self.snd_cwnd = MAXWIN << MAX_WINSHIFT
        self.snd_ssthresh = MAXWIN << MAX_WINSHIFT
        self.snd_recover = 0
        self.dupacks = 0
        self.snd_scale = self.rcv_scale = 0
        self.request_r_scale = self.requested_s_scale = 0
        self.ts_recent = self.ts_recent_age = 0
        self.last_ack_sent = 0
        self.srtt = 0
        self.rttvar = RTTDFLT_VAR
        self.rttmin = TV_MIN
        self.rxtcur = rangeset(rexmtval(self), TV_MIN, TV_REXMTMAX)
        self.rxtshift = 0
        self.rtttime = 0.0
        self.rtseq = 0
        co = stack.kernel.callouts.callout
        from . import tcp_timer
        self.t_rexmt = co(tcp_timer.rexmt_timer, self)
        self.t_persist = co(tcp_timer.persist_timer, self)
        self.t_keep = co(tcp_timer.keep_timer, self)
        self.t_2msl = co(tcp_timer.twomsl_timer, self)
        self.t_delack = co(tcp_timer.delack_timer, self)
        self.force = False
        self.rcvtime = stack.now()
        self.softerror = 0
        self.snd_buf = SockBuf(0)        # limits are the socket's snd_hiwat/rcv_hiwat
        self.rcv_buf = so.sb = SockBuf(0)
        self.reass = []
        self.reass_bytes = 0
        self.rcv_sacks = []              # tcp_sack: blocks we report, most recent first
        self.snd_holes = []              # tcp_sack: the scoreboard [start, end, rxmit]
        self.snd_fack = 0
        self.qlimit = 0
        self.acceptq = None
        self.head = None
        self.msl2 = 2 * p["msl"]
        self.linger = None
        self.dead = False
        self.rcvd_fin_seq = None
        self.keepidle = p["keepidle"] * TICK
        self.keepintvl = p["keepintvl"] * TICK
        self.keepcnt = p["keepcnt"]
        self.keepinit = p["keepinit"] * TICK
        # buffer auto-sizing: the size we last set (a user's SO_RCVBUF/SO_SNDBUF ends it)
        self.rcv_auto = so.rcv_hiwat if p["recvbuf_auto"] else None
        self.snd_auto = so.snd_hiwat if p["sendbuf_auto"] else None
        self.rfbuf_ts = 0.0
        self.rfbuf_cnt = 0

    def __repr__(self):
        return "<TcpCb %s %d->%d>" % (self.state, self.lport, self.fport)
