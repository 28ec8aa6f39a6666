"""NewReno congestion control (RFC 5681, RFC 6582; NetBSD's tcp_congctl.c newreno).

newack(tp, ack, acked): a new cumulative ACK -- in fast recovery a partial
ACK retransmits the next hole and deflates the window, a full ACK ends
recovery with cwnd = ssthresh; otherwise slow start (cwnd += min(acked,
2 * SMSS), RFC 3465 with L = 2) below ssthresh and congestion avoidance
(about one SMSS per round trip) above.
dupack(tp, ack): the third duplicate ACK starts fast retransmit (unless it
is still about data sent before the last recovery began, RFC 6582 section
3.2 step 1); further ones inflate the window by one SMSS each.
With a SACK scoreboard (tcp_sack.py) the retransmissions go to its holes
first: the start of recovery, each further duplicate ACK (in place of the
window inflation) and a partial ACK send the next segment of a hole not yet
retransmitted; SACKed data is not sent again.

Kernel lock held.
"""
from . import tcp_sack
from .tcp_output import tcp_output
from .tcp_var import MAX_WINSHIFT, MAXWIN, TICK

M32 = 0xffffffff
HALF = 0x80000000
REXMTTHRESH = 3


def _seq_lt(a, b):
    return (a - b) & M32 >= HALF


def enter_recovery(tp, ack):
    maxseg = tp.maxseg
    win = min(tp.snd_wnd, tp.snd_cwnd) // 2 // maxseg
    if win < 2:
        win = 2
    tp.snd_ssthresh = win * maxseg
    tp.snd_recover = tp.snd_max
    tp.t_rexmt.stop()
    tp.rtttime = 0
    if tp.snd_holes and tcp_sack.rexmit(tp):
        tp.snd_cwnd = tp.snd_ssthresh + maxseg * tp.dupacks
        return
    onxt = tp.snd_nxt
    tp.snd_nxt = ack
    tp.snd_cwnd = maxseg
    tcp_output(tp)
    tp.snd_cwnd = tp.snd_ssthresh + maxseg * tp.dupacks
    if _seq_lt(tp.snd_nxt, onxt):
        tp.snd_nxt = onxt


def dupack(tp, ack):
    if tp.dupacks == REXMTTHRESH:
        if _seq_lt(ack, tp.snd_recover):
            tp.dupacks = 0          # still ACKs for data of the last recovery: no new one
            return
        enter_recovery(tp, ack)
    elif tp.dupacks > REXMTTHRESH:
        if tp.snd_holes and tcp_sack.rexmit(tp):
            return                  # a hole's segment takes the place of a new one
        tp.snd_cwnd += tp.maxseg
        tcp_output(tp)


def newack(tp, ack, acked):
    """Called once the acknowledged bytes are gone from the send buffer (snd_una == ack)."""
    maxseg = tp.maxseg
    if tp.dupacks >= REXMTTHRESH:
        if _seq_lt(ack, tp.snd_recover):
            # partial ACK: retransmit the next unacknowledged segment, deflate the window
            tp.t_rexmt.stop()
            onxt = tp.snd_nxt
            ocwnd = tp.snd_cwnd
            tp.rtttime = 0
            if tp.snd_holes:
                # SACK: the next hole not yet retransmitted (tcp_sack_output), not blindly snd_una
                tcp_sack.rexmit(tp)
                if not tp.t_rexmt.pending() and tp.snd_una != tp.snd_max:
                    tp.t_rexmt.schedule(tp.rxtcur * TICK)
                tp.snd_cwnd = ocwnd - acked + maxseg if ocwnd > acked else maxseg
                return
            tp.snd_nxt = ack
            tp.snd_cwnd = maxseg
            tcp_output(tp)
            tp.snd_cwnd = ocwnd - acked + maxseg if ocwnd > acked else maxseg
            if _seq_lt(tp.snd_nxt, onxt):
                tp.snd_nxt = onxt
            return
        tp.dupacks = 0
        flight = (tp.snd_max - ack) & M32
        tp.snd_cwnd = min(tp.snd_ssthresh, max(flight, maxseg) + maxseg)
        return
    tp.dupacks = 0
    cw = tp.snd_cwnd
    if cw <= tp.snd_ssthresh:
        incr = acked if acked < 2 * maxseg else 2 * maxseg
    else:
        incr = maxseg * maxseg // cw
        if incr == 0:
            incr = 1
    cap = MAXWIN << MAX_WINSHIFT
    tp.snd_cwnd = cw + incr if cw + incr < cap else cap
