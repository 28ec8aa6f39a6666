"""TCP's timers (NetBSD's tcp_timer.c), each a callout of the control block.

rexmt: retransmission timeout -- back off (x1, 2, 4 ... 64 of the RTO,
  clamped to 1..64 s), collapse the congestion window, forget the SACK
  scoreboard, go back to snd_una;
  after 12 back-offs the connection is dropped (ETIMEDOUT or the soft error
  an ICMP message left).
persist: probe a zero window with one byte; drop after the maximum back-off
  when the peer has been silent for keepidle or 511 RTOs.
keep: connection-establishment limit (keepinit, 75 s) before ESTABLISHED;
  afterwards keepalive probes with SO_KEEPALIVE after keepidle of silence,
  every keepintvl, dropping after keepcnt unanswered ones. The timer fires
  once per idle period and re-arms for what is left: nothing polls.
2msl: TIME_WAIT expiry; the FIN_WAIT_2 idle limit of a closed socket.
delack: the delayed ACK (200 ms) goes out.

Callouts run with the kernel lock held and must not sleep.
"""
from ...abi import errnos
from ...abi import net as N
from . import tcp_sack
from .tcp_output import respond, setpersist, tcp_output
from .tcp_var import (ACK, BACKOFF, CLOSE_WAIT, ESTABLISHED, F_ACKNOW, F_RCVD_TSTMP, F_REQ_TSTMP, FIN_WAIT_2,
                      MAXRXTSHIFT, RTT_SHIFT,
                      SYN_RECEIVED, TICK, TIME_WAIT, TOTBACKOFF, TV_REXMTMAX, rangeset, rexmtval)


def rexmt_timer(tp):
    stack = tp.stack
    st = stack.stats
    tp.rxtshift += 1
    if tp.rxtshift > MAXRXTSHIFT:
        tp.rxtshift = MAXRXTSHIFT
        st["timeoutdrop"] += 1
        stack.drop(tp, tp.softerror or errnos.ETIMEDOUT)
        return
    st["rexmttimeo"] += 1
    rexmt = rexmtval(tp) * BACKOFF[tp.rxtshift]
    tp.rxtcur = rangeset(rexmt, tp.rttmin, TV_REXMTMAX)
    if tp.rxtshift > MAXRXTSHIFT // 4:
        tp.rttvar += tp.srtt >> RTT_SHIFT
        tp.srtt = 0
    tp.snd_nxt = tp.snd_una
    if tp.snd_holes:
        tcp_sack.free(tp)               # go back N: what the peer SACKed may be renegotiated
    tp.rtttime = 0
    tp.dupacks = 0
    win = min(tp.snd_wnd, tp.snd_cwnd) // 2 // tp.maxseg
    if win < 2:
        win = 2
    tp.snd_ssthresh = win * tp.maxseg
    tp.snd_cwnd = tp.maxseg
    tp.snd_recover = tp.snd_max
    tcp_output(tp)


def persist_timer(tp):
    stack = tp.stack
    stack.stats["persisttimeo"] += 1
    if tp.rxtshift == MAXRXTSHIFT:
        idle = stack.now() - tp.rcvtime
        if idle >= stack.params["keepidle"] * TICK or idle >= rexmtval(tp) * TOTBACKOFF * TICK:
            stack.stats["persistdrops"] += 1
            stack.drop(tp, errnos.ETIMEDOUT)
            return
    setpersist(tp)
    tp.force = True
    try:
        tcp_output(tp)
    finally:
        tp.force = False


def keep_timer(tp):
    stack = tp.stack
    st = stack.stats
    st["keeptimeo"] += 1
    if tp.state < ESTABLISHED:
        stack.drop(tp, errnos.ETIMEDOUT)
        return
    now = stack.now()
    idle = now - tp.rcvtime
    if tp.so.options & N.SO_KEEPALIVE and tp.state <= CLOSE_WAIT:
        maxidle = tp.keepcnt * tp.keepintvl
        if idle >= tp.keepidle + maxidle - 1e-9:
            st["keepdrops"] += 1
            stack.drop(tp, errnos.ETIMEDOUT)
            return
        if idle >= tp.keepidle - 1e-9:
            st["keepprobe"] += 1
            # seq one below snd_una makes the peer answer with an ACK
            ts = None
            if tp.flags & F_RCVD_TSTMP and tp.flags & F_REQ_TSTMP:
                ts = (stack.ts_now(now), tp.ts_recent)
            respond(stack, tp.laddr, tp.faddr, tp.lport, tp.fport, (tp.snd_una - 1) & 0xffffffff,
                    tp.rcv_nxt, ACK, tp.ttl, ts, 0)
            tp.t_keep.schedule(tp.keepintvl)
            return
        tp.t_keep.schedule(tp.keepidle - idle)
        return
    tp.t_keep.schedule(tp.keepidle)


def twomsl_timer(tp):
    stack = tp.stack
    if tp.state == FIN_WAIT_2 and tp.so.closed:
        maxidle = tp.keepcnt * tp.keepintvl
        idle = stack.now() - tp.rcvtime
        if idle < maxidle - 1e-9:
            tp.t_2msl.schedule(maxidle - idle)
            return
    if tp.state in (TIME_WAIT, FIN_WAIT_2) or tp.so.closed:
        stack.close(tp)


def delack_timer(tp):
    tp.stack.stats["delack"] += 1
    tp.flags |= F_ACKNOW
    tcp_output(tp)


__all__ = ["rexmt_timer", "persist_timer", "keep_timer", "twomsl_timer", "delack_timer", "SYN_RECEIVED"]
