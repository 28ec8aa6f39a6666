"""TCP output (NetBSD's tcp_output.c) and segments sent without a connection (tcp_respond).

tcp_output(tp) decides what the connection may send now -- data within
min(send window, congestion window), Nagle's rule unless TCP_NODELAY, SYN
and FIN by state, window updates, a pending ACK -- builds the segments
(options on SYN: MSS, window scale, SACK-permitted, timestamps; timestamps
on every segment once agreed, SACK blocks while out-of-order data is
queued) and hands them to ip_output. A large send buffer leaves as
many segments in one call. It arms the retransmit timer when data is in
flight and the persist timer when the peer's window is closed.

respond() sends a bare RST or ACK (no control block, or a challenge ACK),
RSTs limited to net.inet.tcp.rstppslimit per second.

Locking rule: kernel lock held.
"""
import struct

from ...abi.errnos import RumpError
from ...formats.net.cksum import partial
from . import tcp_sack
from .ip import ip_output
from .tcp_var import (ACK, BACKOFF, CLOSED, ESTABLISHED, F_ACKNOW, F_DELACK, F_NODELAY, F_RCVD_SCALE,
                      F_RCVD_TSTMP, F_REQ_SACK, F_REQ_SCALE, F_SACK_PERMIT, F_REQ_TSTMP, F_SENTFIN, FIN, LISTEN, MAXRXTSHIFT, MAXWIN,
                      OUTFLAGS, PSH, RST, RTT_SHIFT, SYN, SYN_RECEIVED, SYN_SENT, TICK, TV_PERSMAX,
                      TV_PERSMIN, rangeset)

M32 = 0xffffffff
HALF = 0x80000000
_hdr = struct.Struct("!HHIIBBHHH")
_ts_opt = struct.Struct("!BBBBII")          # NOP NOP TS 10 tsval tsecr
IPPROTO_TCP = 6


def _cksum(src, dst, seg):
    """The TCP checksum of seg (checksum field zero) with the pseudo-header (ints)."""
    n = len(seg)
    s = partial(seg) + (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + IPPROTO_TCP + n
    s = s % 0xffff or 0xffff
    return ~s & 0xffff


def build(sport, dport, seq, ack, flags, win, opts, payload, src, dst):
    hl = 20 + len(opts)
    hdr = _hdr.pack(sport, dport, seq & M32, ack & M32, (hl >> 2) << 4, flags, win, 0, 0)
    seg = hdr + opts + payload if opts or payload else hdr
    c = _cksum(src, dst, seg)
    return seg[:16] + bytes((c >> 8, c & 0xff)) + seg[18:]


def _send(tp, seg):
    st = tp.stack
    ip_output(st.inet, tp.faddr, IPPROTO_TCP, seg, src=tp.laddr, ttl=tp.ttl, tos=tp.tos)


def syn_options(stack, mss, wscale, ts, sackok=False):
    """MSS, window scale, SACK-permitted and timestamps options as tcp_output lays them out
    (24 bytes at most)."""
    out = struct.pack("!BBH", 2, 4, mss)
    if wscale is not None:
        out += bytes((1, 3, 3, wscale))
    if sackok:
        out += b"\x01\x01\x04\x02"
    if ts is not None:
        out += _ts_opt.pack(1, 1, 8, 10, ts[0], ts[1])
    return out


def setpersist(tp):
    """tcp_setpersist: arm the persist timer with the backed-off interval."""
    t = ((tp.srtt >> 2) + tp.rttvar) >> (1 + 2)      # srtt and rttvar keep NetBSD's extra bits
    if t < tp.rttmin:
        t = tp.rttmin
    tp.t_rexmt.stop()
    ticks = rangeset(t * BACKOFF[tp.rxtshift], TV_PERSMIN, TV_PERSMAX)
    tp.t_persist.schedule(ticks * TICK)
    if tp.rxtshift < MAXRXTSHIFT:
        tp.rxtshift += 1


def tcp_output(tp):
    stack = tp.stack
    stats = stack.stats
    while True:
        state = tp.state
        if state == CLOSED and tp.dead:
            return
        snd_una = tp.snd_una
        off = (tp.snd_nxt - snd_una) & M32
        if off >= HALF:
            off = 0
            tp.snd_nxt = snd_una
        win = tp.snd_wnd if tp.snd_wnd < tp.snd_cwnd else tp.snd_cwnd
        flags = OUTFLAGS[state]
        sb = tp.snd_buf
        sblen = len(sb)
        if tp.force:
            if win == 0:
                if off < sblen:
                    flags &= ~FIN
                win = 1
            else:
                tp.t_persist.stop()
                tp.rxtshift = 0
        if flags & SYN:
            length = 0
        else:
            length = (sblen if sblen < win else win) - off
        sendalot = False
        if length < 0:
            length = 0
            if win == 0:
                tp.t_rexmt.stop()
                tp.rxtshift = 0
                tp.snd_nxt = snd_una
                off = 0
        maxseg = tp.maxseg
        if length > maxseg:
            length = maxseg
            sendalot = True
        if flags & FIN and off + length < sblen:
            flags &= ~FIN
        so = tp.so
        rspace = so.rcv_hiwat - len(tp.rcv_buf)
        if rspace < 0:
            rspace = 0
        send = False
        if length:
            if length == maxseg:
                send = True
            elif (tp.snd_max == snd_una or tp.flags & F_NODELAY) and off + length >= sblen:
                send = True
            elif tp.force:
                send = True
            elif tp.max_sndwnd and length >= tp.max_sndwnd // 2:
                send = True
            elif (tp.snd_nxt - tp.snd_max) & M32 >= HALF:
                send = True
        if not send and rspace > 0 and state >= ESTABLISHED:
            cap = MAXWIN << tp.rcv_scale
            adv = (rspace if rspace < cap else cap) - ((tp.rcv_adv - tp.rcv_nxt) & M32)
            if adv >= 2 * maxseg or 2 * adv >= so.rcv_hiwat:
                send = True
        if not send and tp.flags & F_ACKNOW:
            send = True
        if not send and flags & (SYN | RST):
            send = True
        if not send and flags & FIN and (not tp.flags & F_SENTFIN or tp.snd_nxt == snd_una):
            send = True
        if not send:
            if sblen and not tp.t_rexmt.pending() and not tp.t_persist.pending():
                tp.rxtshift = 0
                setpersist(tp)
            return
        # -- send -------------------------------------------------------------------
        now = stack.now()
        opts = b""
        if flags & SYN:
            tp.snd_nxt = tp.iss
            tsopt = None
            if tp.flags & F_REQ_TSTMP and (not flags & ACK or tp.flags & F_RCVD_TSTMP):
                tsopt = (stack.ts_now(now), tp.ts_recent)
            ws = None
            if tp.flags & F_REQ_SCALE and (not flags & ACK or tp.flags & F_RCVD_SCALE):
                ws = tp.request_r_scale
            if not flags & ACK:
                if stack.params["sack.enable"]:
                    tp.flags |= F_REQ_SACK
                else:
                    tp.flags &= ~F_REQ_SACK
                sackok = tp.flags & F_REQ_SACK
            else:
                sackok = tp.flags & F_SACK_PERMIT
            opts = syn_options(stack, tp.ourmss, ws, tsopt, sackok)
        else:
            if tp.flags & F_REQ_TSTMP and tp.flags & F_RCVD_TSTMP and not flags & RST:
                opts = _ts_opt.pack(1, 1, 8, 10, stack.ts_now(now), tp.ts_recent)
            if tp.reass and tp.flags & F_SACK_PERMIT and not flags & RST:
                opts += tcp_sack.option(tp, len(opts))
        if length:
            if tp.force and length == 1:
                stats["sndprobe"] += 1
            elif (tp.snd_nxt - tp.snd_max) & M32 >= HALF:
                stats["sndrexmitpack"] += 1
                stats["sndrexmitbyte"] += length
            else:
                stats["sndpack"] += 1
                stats["sndbyte"] += length
            payload = sb.peek(off, length)
            if off + length == sblen:
                flags |= PSH
        else:
            payload = b""
            if tp.flags & F_ACKNOW:
                stats["sndacks"] += 1
            elif flags & (SYN | FIN | RST):
                stats["sndctrl"] += 1
            else:
                stats["sndwinup"] += 1
        if flags & FIN and tp.flags & F_SENTFIN and tp.snd_nxt == tp.snd_max:
            tp.snd_nxt = (tp.snd_nxt - 1) & M32
        if length or flags & (SYN | FIN) or tp.t_persist.pending():
            seq = tp.snd_nxt
        else:
            seq = tp.snd_max
        if rspace < so.rcv_hiwat // 4 and rspace < maxseg:
            rspace = 0
        cap = MAXWIN << tp.rcv_scale
        if rspace > cap:
            rspace = cap
        inwin = (tp.rcv_adv - tp.rcv_nxt) & M32
        if inwin < HALF and rspace < inwin:
            rspace = inwin
        if flags & SYN:
            th_win = rspace if rspace < MAXWIN else MAXWIN
        else:
            th_win = rspace >> tp.rcv_scale
        if not flags & ACK:
            ack = 0
        else:
            ack = tp.rcv_nxt
        # advance the send state before the packet leaves (a loopback reply comes later anyway)
        if not tp.force or not tp.t_persist.pending():
            startseq = tp.snd_nxt
            nxt = tp.snd_nxt
            if flags & SYN:
                nxt += 1
            if flags & FIN:
                nxt += 1
                tp.flags |= F_SENTFIN
            nxt = (nxt + length) & M32
            tp.snd_nxt = nxt
            if (tp.snd_max - nxt) & M32 >= HALF and tp.snd_max != nxt:
                tp.snd_max = nxt
                if not tp.rtttime:
                    tp.rtttime = now
                    tp.rtseq = startseq
                    stats["segstimed"] += 1
            if not tp.t_rexmt.pending() and nxt != snd_una:
                if tp.t_persist.pending():
                    tp.t_persist.stop()
                    tp.rxtshift = 0
                tp.t_rexmt.schedule(tp.rxtcur * TICK)
        else:
            end = (tp.snd_nxt + length) & M32
            if (tp.snd_max - end) & M32 >= HALF:
                tp.snd_max = end
        if rspace > 0:
            edge = (tp.rcv_nxt + rspace) & M32
            if (tp.rcv_adv - edge) & M32 >= HALF:
                tp.rcv_adv = edge
        tp.last_ack_sent = tp.rcv_nxt
        tp.flags &= ~(F_ACKNOW | F_DELACK)
        if tp.t_delack.pending():
            tp.t_delack.stop()
        stats["sndtotal"] += 1
        seg = build(tp.lport, tp.fport, seq, ack, flags, th_win, opts, payload, tp.laddr, tp.faddr)
        try:
            _send(tp, seg)
        except RumpError as e:
            if e.errno == 55:           # ENOBUFS: quench
                stats["selfquench"] += 1
                tp.snd_cwnd = tp.maxseg
                return
            if state >= SYN_RECEIVED or state == SYN_SENT:
                tp.softerror = e.errno
                return
            raise
        if not sendalot:
            return


def respond(stack, src, dst, sport, dport, seq, ack, flags, ttl=None, tsopt=None, win=0):
    """A segment without a connection: RST (rate limited) or ACK. src/dst are ints (ours first)."""
    if flags & RST and not stack.rst_allowed():
        return
    opts = b""
    if tsopt is not None:
        opts = _ts_opt.pack(1, 1, 8, 10, tsopt[0], tsopt[1])
    seg = build(sport, dport, seq, ack, flags, win, opts, b"", src, dst)
    stack.stats["sndtotal"] += 1
    stack.stats["sndctrl" if flags & RST else "sndacks"] += 1
    try:
        ip_output(stack.inet, dst, IPPROTO_TCP, seg, src=src, ttl=ttl)
    except RumpError:
        pass


__all__ = ["tcp_output", "respond", "setpersist", "build", "syn_options", "LISTEN", "RTT_SHIFT"]
