"""TCP input (NetBSD's tcp_input.c, RFC 9293 section 3.10.7 with RFC 5961 and RFC 7323).

tcp_input(inet, ifp, ip, data) runs from ip_input (a softint, kernel lock
held). It checks the segment (length, checksum, header offset), finds the
connection (exact 4-tuple, else a listener), and then:

* LISTEN: RST ignored (it may cancel a SYN cache entry); an ACK completes a
  SYN cache entry (a new socket on the accept queue) or is answered by RST;
  a SYN makes a SYN cache entry; anything else is dropped.
* SYN_SENT: an ACK outside (iss, snd_max] is answered by RST; a RST with an
  acceptable ACK refuses the connection (ECONNREFUSED); a SYN (+ACK)
  synchronizes -- ESTABLISHED, or SYN_RECEIVED for a simultaneous open.
* synchronized states: PAWS (timestamps), RFC 5961 RST handling (exactly
  rcv_nxt resets, elsewhere in the window earns a challenge ACK), a SYN
  earns a challenge ACK, trimming to the window, RFC 5961 ACK acceptance,
  new ACKs (RTT, congestion window, NewReno fast retransmit and recovery
  on three duplicate ACKs, SACK scoreboard), window updates, in-order data into the receive
  buffer with delayed ACKs (every second segment at once), out-of-order
  segments into the bounded reassembly queue (reported in SACK blocks), FIN and the closing states,
  TIME_WAIT re-use by a new SYN.

RSTs are never answered, never sent for broadcasts or multicasts, and go
through the rate limit; challenge ACKs are limited in the same way.
"""
import struct

from ...abi import errnos
from ...formats.net.cksum import partial
from ..net.socket import CANTRCVMORE, ISCONNECTED
from . import tcp_sack
from .tcp_output import respond, tcp_output
from .tcp_seq import seq_diff, seq_gt, seq_leq, seq_lt
from .tcp_var import (ACK, CLOSE_WAIT, CLOSED, CLOSING, ESTABLISHED, F_ACKNOW, F_DELACK, F_RCVD_SCALE,
                      F_RCVD_TSTMP, F_REQ_SACK, F_REQ_SCALE, F_SACK_PERMIT, F_REQ_TSTMP, FIN, FIN_WAIT_1, FIN_WAIT_2, LAST_ACK, LISTEN,
                      MAX_WINSHIFT, MAXWIN, REASS_MAX, RST, RTT_SHIFT, RTTVAR_SHIFT, SYN, SYN_RECEIVED,
                      SYN_SENT, TICK, TIME_WAIT, TV_REXMTMAX, URG, rangeset, rexmtval)

M32 = 0xffffffff
HALF = 0x80000000
_hdr = struct.Struct("!HHIIBBHHH")
_u32 = struct.Struct("!I")
TS_FAST = b"\x01\x01\x08\x0a"
PAWS_IDLE = 24 * 24 * 60 * 60
HAVERCVDFIN = (CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT)


def parse_options(raw, syn):
    """(mss, wscale, (tsval, tsecr) or None, sack_permitted, [(left, right)] or None) --
    NetBSD's tcp_dooptions rules: a bad length byte ends the list, an option of the wrong
    size for its kind is ignored; MSS, window scale and SACK-permitted only count on a SYN,
    SACK blocks only off one."""
    mss = wscale = ts = sack = None
    sackok = False
    if len(raw) == 12 and raw[:4] == TS_FAST:
        return None, None, (_u32.unpack_from(raw, 4)[0], _u32.unpack_from(raw, 8)[0]), False, None
    i, n = 0, len(raw)
    while i < n:
        kind = raw[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= n:
            break
        olen = raw[i + 1]
        if olen < 2 or i + olen > n:
            break
        if kind == 2 and olen == 4 and syn:
            mss = (raw[i + 2] << 8) | raw[i + 3]
        elif kind == 3 and olen == 3 and syn:
            wscale = min(raw[i + 2], MAX_WINSHIFT)
        elif kind == 8 and olen == 10:
            ts = (_u32.unpack_from(raw, i + 2)[0], _u32.unpack_from(raw, i + 6)[0])
        elif kind == 4 and olen == 2 and syn:
            sackok = True
        elif kind == 5 and olen > 2 and (olen - 2) & 7 == 0 and not syn:
            if sack is None:
                sack = []
            for j in range(i + 2, i + olen, 8):
                sack.append((_u32.unpack_from(raw, j)[0], _u32.unpack_from(raw, j + 4)[0]))
        i += olen
    return mss, wscale, ts, sackok, sack


def xmit_timer(tp, rtt):
    """tcp_xmit_timer: one RTT sample (in slow ticks, at least 1) into srtt/rttvar and the RTO."""
    tp.stack.stats["rttupdated"] += 1
    if tp.srtt != 0:
        delta = (rtt << 2) - (tp.srtt >> RTT_SHIFT)
        tp.srtt += delta
        if tp.srtt <= 0:
            tp.srtt = 1 << 2
        if delta < 0:
            delta = -delta
        delta -= tp.rttvar >> RTTVAR_SHIFT
        tp.rttvar += delta
        if tp.rttvar <= 0:
            tp.rttvar = 1 << 2
    else:
        tp.srtt = rtt << (RTT_SHIFT + 2)
        tp.rttvar = rtt << (RTTVAR_SHIFT + 2 - 1)
    tp.rtttime = 0
    tp.rxtshift = 0
    tp.rxtcur = rangeset(rexmtval(tp), max(tp.rttmin, rtt + 2), TV_REXMTMAX)


def _ticks(seconds):
    return int(seconds / TICK) + 1


def challenge_ack(tp):
    """RFC 5961: answer a suspicious RST or SYN with an ACK, at most rstppslimit a second."""
    stack = tp.stack
    if not stack.rst_allowed():
        return
    tp.flags |= F_ACKNOW
    tcp_output(tp)


def drop_with_reset(stack, ip_src, ip_dst, sport, dport, seq, ack, flags, tlen):
    """RST for a segment no connection wants (never for a RST)."""
    if flags & RST:
        return
    inet = stack.inet
    if ip_src == 0xffffffff or ip_src >> 28 == 0xe or ip_dst >> 28 == 0xe or inet.is_broadcast(ip_dst) \
            or inet.is_broadcast(ip_src):
        return
    if flags & ACK:
        respond(stack, ip_dst, ip_src, dport, sport, ack, 0, RST)
    else:
        if flags & SYN:
            tlen += 1
        if flags & FIN:
            tlen += 1
        respond(stack, ip_dst, ip_src, dport, sport, 0, (seq + tlen) & M32, RST | ACK)


def tcp_input(inet, ifp, ip, data):
    stack = inet.tcp
    st = stack.stats
    st["rcvtotal"] += 1
    seg = ip.payload
    n = len(seg)
    if n < 20:
        st["rcvshort"] += 1
        return
    src = int.from_bytes(ip.src, "big")
    dst = int.from_bytes(ip.dst, "big")
    s = partial(seg) + (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + n
    if s % 0xffff != 0:
        st["rcvbadsum"] += 1
        return
    sport, dport, seq, ack, off, flags, win, _ck, urp = _hdr.unpack_from(seg)
    hl = (off >> 4) << 2
    if hl < 20 or hl > n:
        st["rcvbadoff"] += 1
        return
    tlen = n - hl
    if dst >> 28 == 0xe or inet.is_broadcast(dst):
        return
    tp = stack.conns.get((dst, dport, src, sport))
    if tp is None:
        tp = stack.lookup_listener(dst, dport)
        if tp is None:
            st["noport"] += 1
            drop_with_reset(stack, src, dst, sport, dport, seq, ack, flags, tlen)
            return
    if tp.state == LISTEN:
        tp = listen_input(stack, tp, ip, seg, hl, src, dst, sport, dport, seq, ack, flags, win, tlen)
        if tp is None:
            return
        # a completed handshake: the ACK may carry data, go on with the new connection
    process(stack, tp, seg, hl, tlen, src, dst, sport, dport, seq, ack, flags, win, urp)


def listen_input(stack, tp, ip, seg, hl, src, dst, sport, dport, seq, ack, flags, win, tlen):
    sc = stack.syncache
    key = (dst, dport, src, sport)
    if flags & RST:
        sc.reset(key, seq)
        return None
    if flags & ACK:
        if flags & SYN:
            drop_with_reset(stack, src, dst, sport, dport, seq, ack, flags, tlen)
            return None
        ntp = sc.get(key, seq, ack, win, None)
        if ntp is None:
            stack.stats["badsyn"] += 1
            drop_with_reset(stack, src, dst, sport, dport, seq, ack, flags, tlen)
            return None
        if ntp is False:
            return None
        return ntp
    if not flags & SYN:
        return None
    if src == dst and sport == dport:
        return None                     # a SYN from ourselves to ourselves: LAND attack
    if src >> 28 == 0xe or src == 0xffffffff or stack.inet.is_broadcast(src):
        return None
    opts = parse_options(seg[20:hl], True) if hl > 20 else (None, None, None, False, None)
    sc.add(tp, key, seq, opts)
    return None


def process(stack, tp, seg, hl, tlen, src, dst, sport, dport, seq, ack, flags, win, urp):
    st = stack.stats
    so = tp.so
    now = stack.now()
    state = tp.state
    if hl > 20:
        mss, wscale, ts, sackok, sack = parse_options(seg[20:hl], bool(flags & SYN))
    else:
        mss = wscale = ts = sack = None
        sackok = False
    tp.rcvtime = now
    tiwin = win if flags & SYN else win << tp.snd_scale

    if state == SYN_SENT:
        if flags & ACK and ((ack - tp.iss) & M32 == 0 or (ack - tp.iss) & M32 >= HALF
                            or (tp.snd_max - ack) & M32 >= HALF):
            if not flags & RST:
                drop_with_reset(stack, src, dst, sport, dport, seq, ack, flags, tlen)
            return
        if flags & RST:
            if flags & ACK:
                stack.drop(tp, errnos.ECONNREFUSED)
            return
        if not flags & SYN:
            return
        tp.irs = seq
        tp.rcv_nxt = tp.rcv_adv = tp.rcv_up = (seq + 1) & M32
        if wscale is not None and tp.flags & F_REQ_SCALE:
            tp.flags |= F_RCVD_SCALE
            tp.requested_s_scale = wscale
        if ts is not None and tp.flags & F_REQ_TSTMP:
            tp.flags |= F_RCVD_TSTMP
            tp.ts_recent = ts[0]
            tp.ts_recent_age = now
        if sackok and tp.flags & F_REQ_SACK:
            tp.flags |= F_SACK_PERMIT
        stack.mss_from_peer(tp, mss)
        tp.flags |= F_ACKNOW
        if flags & ACK:
            tp.snd_una = ack
            if (tp.snd_nxt - tp.snd_una) & M32 >= HALF:
                tp.snd_nxt = tp.snd_una
            tp.t_rexmt.stop()
            stack.established(tp)
            so.state |= ISCONNECTED
            so.rwakeup()
            so.wwakeup()
            if ts is not None and ts[1]:
                xmit_timer(tp, _ts_ticks(stack, now, ts[1]))
            elif tp.rtttime:
                xmit_timer(tp, _ticks(now - tp.rtttime))
            tp.flags |= F_ACKNOW
        else:
            tp.state = SYN_RECEIVED         # simultaneous open
            tp.t_rexmt.stop()
            tp.rxtshift = 0
        seq = (seq + 1) & M32
        if tlen > rcv_window(tp):
            tlen = 0                        # data beyond the window on the SYN: drop it
            flags &= ~FIN
        tp.snd_wl1 = (seq - 1) & M32        # step6 takes this segment's window
        flags &= ~SYN
        return step6(stack, tp, seg, hl, tlen, seq, ack, flags, tiwin, False, now)

    # -- synchronized states -------------------------------------------------------------
    # header prediction (NetBSD's fast path): an in-order pure ACK for new data, or in-order
    # data acknowledging nothing new, on an ESTABLISHED connection with nothing unusual
    if state == ESTABLISHED and flags & 0x37 == ACK and seq == tp.rcv_nxt and tiwin and \
            tiwin == tp.snd_wnd and tp.snd_nxt == tp.snd_max and \
            (ts is None or not tp.ts_recent or (ts[0] - tp.ts_recent) & M32 < HALF):
        if ts is not None and (tp.last_ack_sent - seq) & M32 < HALF:
            tp.ts_recent = ts[0]
            tp.ts_recent_age = now
        if tlen == 0:
            d = (ack - tp.snd_una) & M32
            if d and d < HALF and (tp.snd_max - ack) & M32 < HALF and tp.snd_cwnd >= tp.snd_wnd \
                    and tp.dupacks < 3 and tp.snd_una != tp.iss and sack is None and not tp.snd_holes:
                st["predack"] += 1
                st["rcvackpack"] += 1
                st["rcvackbyte"] += d
                _rtt_sample(tp, stack, now, ts, ack)
                sb = tp.snd_buf
                sb.drop(d)
                tp.snd_una = ack
                tp.snd_wl2 = ack                # the window's right edge moved with the ACK
                tp.dupacks = 0
                if ack == tp.snd_max:
                    tp.t_rexmt.stop()
                elif not tp.t_persist.pending():
                    tp.t_rexmt.schedule(tp.rxtcur * TICK)
                so.wwakeup()
                if sb:
                    tcp_output(tp)
                return
        elif ack == tp.snd_una and not tp.reass and tlen <= so.rcv_hiwat - len(tp.rcv_buf) \
                and not so.state & CANTRCVMORE:
            st["preddat"] += 1
            tp.rcv_nxt = (seq + tlen) & M32
            tp.snd_wl1 = seq
            st["rcvpack"] += 1
            st["rcvbyte"] += tlen
            tp.rcv_buf.append(seg[hl:hl + tlen])
            so.rcv_cc = len(tp.rcv_buf)
            if tp.rcv_auto is not None:
                autorcvbuf(stack, tp, so, tlen, now)
            so.rwakeup()
            if tp.flags & F_DELACK:
                tp.flags |= F_ACKNOW
                tcp_output(tp)
            else:
                tp.flags |= F_DELACK
                tp.t_delack.schedule(stack.params["delack_ticks"] * 0.01)
            return
    # PAWS (RFC 7323)
    if ts is not None and tp.flags & F_RCVD_TSTMP and not flags & RST and tp.ts_recent and \
            (ts[0] - tp.ts_recent) & M32 >= HALF:
        if now - tp.ts_recent_age > PAWS_IDLE:
            tp.ts_recent = 0
        else:
            st["rcvduppack"] += 1
            st["rcvdupbyte"] += tlen
            st["pawsdrop"] += 1
            if tlen or flags & (SYN | FIN):
                tp.flags |= F_ACKNOW
                tcp_output(tp)
            return
    rcv_wnd = rcv_window(tp)
    # RST (RFC 5961 section 3)
    if flags & RST:
        inwin = (seq - tp.rcv_nxt) & M32 < max(rcv_wnd, 1)
        if seq == tp.rcv_nxt or (state == SYN_RECEIVED and inwin):
            # never a RST in reply: the connection just ends (tcp_close, not tcp_drop)
            if state == SYN_RECEIVED:
                stack.reset(tp, errnos.ECONNREFUSED)
            elif state in (ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT):
                stack.reset(tp, errnos.ECONNRESET)
            else:
                stack.close(tp)
        elif inwin:
            challenge_ack(tp)
        return
    # SYN in a synchronized state (RFC 5961 section 4); TIME_WAIT may be re-used
    if flags & SYN:
        if state == TIME_WAIT and (seq_gt(seq, tp.rcv_nxt) or (
                ts is not None and tp.ts_recent and seq_gt(ts[0], tp.ts_recent))):
            stack.close(tp)
            lst = stack.lookup_listener(dst, dport)
            if lst is not None:
                listen_input(stack, lst, None, seg, hl, src, dst, sport, dport, seq, ack, flags, win, tlen)
            else:
                drop_with_reset(stack, src, dst, sport, dport, seq, ack, flags, tlen)
            return
        if state == SYN_RECEIVED and seq == tp.irs:
            if not flags & ACK:             # the SYN again: our SYN-ACK was lost, resend it
                tp.snd_nxt = tp.snd_una
                tcp_output(tp)
                return
            flags &= ~SYN                   # simultaneous open: the peer's SYN-ACK
            seq = (seq + 1) & M32
        else:
            challenge_ack(tp)
            return
    if not flags & ACK:
        return
    # trim to the window
    todrop = (tp.rcv_nxt - seq) & M32
    if todrop and todrop < HALF:
        if todrop > tlen or (todrop == tlen and not flags & FIN):
            st["rcvduppack"] += 1
            st["rcvdupbyte"] += tlen
            flags &= ~FIN
            tp.flags |= F_ACKNOW
            todrop = tlen
        else:
            st["rcvpartduppack"] += 1
            st["rcvpartdupbyte"] += todrop
        hl += todrop
        seq = (seq + todrop) & M32
        tlen -= todrop
    if so.closed and state > CLOSE_WAIT and tlen:
        stack.close(tp)
        st["rcvafterclose"] += 1
        drop_with_reset(stack, src, dst, sport, dport, seq, ack, flags, tlen)
        return
    todrop = ((seq + tlen) - (tp.rcv_nxt + rcv_wnd)) & M32
    if todrop and todrop < HALF:
        st["rcvpackafterwin"] += 1
        if todrop >= tlen:
            st["rcvbyteafterwin"] += tlen
            if rcv_wnd == 0 and seq == tp.rcv_nxt:
                tp.flags |= F_ACKNOW
                st["rcvwinprobe"] += 1
            else:
                tp.flags |= F_ACKNOW
                tcp_output(tp)
                return
        else:
            st["rcvbyteafterwin"] += todrop
        tlen -= todrop
        if tlen < 0:
            tlen = 0
        flags &= ~(FIN | 0x08)
    # timestamps: remember the newest for the echo (RFC 7323 section 4.3)
    if ts is not None and seq_leq(seq, tp.last_ack_sent) and \
            seq_lt(tp.last_ack_sent, seq + tlen + (1 if flags & (SYN | FIN) else 0)):
        tp.ts_recent = ts[0]
        tp.ts_recent_age = now
    # -- ACK processing ------------------------------------------------------------------
    if state == SYN_RECEIVED:
        if (ack - tp.snd_una) & M32 == 0 or (ack - tp.snd_una) & M32 >= HALF or \
                (tp.snd_max - ack) & M32 >= HALF:
            drop_with_reset(stack, src, dst, sport, dport, seq, ack, flags, tlen)
            return
        stack.established(tp)
        so.state |= ISCONNECTED
        so.rwakeup()
        so.wwakeup()
        tp.snd_scale = tp.requested_s_scale if tp.flags & F_RCVD_SCALE and tp.flags & F_REQ_SCALE else 0
        tiwin = win << tp.snd_scale
        tp.snd_wl1 = (seq - 1) & M32
        state = tp.state
    # RFC 5961 section 5: ACK acceptability
    d_una = (ack - tp.snd_una) & M32
    if d_una >= HALF:
        if (tp.snd_una - ack) & M32 > tp.max_sndwnd:
            challenge_ack(tp)
            return
    elif d_una and (ack - tp.snd_max) & M32 and (ack - tp.snd_max) & M32 < HALF:
        st["rcvacktoomuch"] += 1
        challenge_ack(tp)
        return
    if tp.flags & F_SACK_PERMIT and (sack or tp.snd_holes) and d_una < HALF:
        tcp_sack.update(tp, ack, sack)
    needoutput = False
    ourfinisacked = False
    if d_una == 0 or d_una >= HALF:
        # not new: perhaps a duplicate ACK
        if tlen == 0 and tiwin == tp.snd_wnd and not flags & FIN and tp.snd_una != tp.snd_max \
                and d_una == 0:
            st["rcvdupack"] += 1
            if not tp.t_rexmt.pending():
                tp.dupacks = 0
            else:
                tp.dupacks += 1
                from .tcp_congestion import dupack
                dupack(tp, ack)
        else:
            tp.dupacks = 0
    else:
        from .tcp_congestion import newack
        acked = d_una
        st["rcvackpack"] += 1
        st["rcvackbyte"] += acked
        _rtt_sample(tp, stack, now, ts, ack)
        if ack == tp.snd_max:
            tp.t_rexmt.stop()
            needoutput = True
        elif not tp.t_persist.pending():
            tp.t_rexmt.schedule(tp.rxtcur * TICK)
        sb = tp.snd_buf
        if tp.snd_una == tp.iss:
            acked -= 1                      # our SYN, not a byte of the buffer
        if acked > len(sb):
            tp.snd_wnd -= len(sb)
            sb.drop(len(sb))
            ourfinisacked = True
        else:
            sb.drop(acked)
            tp.snd_wnd -= acked
        so.wwakeup()
        tp.snd_una = ack
        if (tp.snd_nxt - ack) & M32 >= HALF:
            tp.snd_nxt = ack
        newack(tp, ack, d_una)
        if state == FIN_WAIT_1:
            if ourfinisacked:
                tp.state = state = FIN_WAIT_2
                if so.state & CANTRCVMORE or so.closed:
                    from ..net.socket import CANTSENDMORE
                    so.state = (so.state & ~ISCONNECTED) | CANTSENDMORE    # soisdisconnected
                    so.rwakeup()
                    so.wwakeup()
                    tp.t_2msl.schedule(tp.keepcnt * tp.keepintvl)
        elif state == CLOSING:
            if ourfinisacked:
                enter_time_wait(stack, tp)
                state = TIME_WAIT
        elif state == LAST_ACK:
            if ourfinisacked:
                stack.close(tp)
                return
        elif state == TIME_WAIT:
            tp.t_2msl.schedule(tp.msl2)
            tp.flags |= F_ACKNOW
            tcp_output(tp)
            return
    return step6(stack, tp, seg, hl, tlen, seq, ack, flags, tiwin, needoutput, now)


def step6(stack, tp, seg, hl, tlen, seq, ack, flags, tiwin, needoutput, now):
    st = stack.stats
    so = tp.so
    # window update
    if flags & ACK and ((tp.snd_wl1 - seq) & M32 >= HALF and tp.snd_wl1 != seq or
                        (tp.snd_wl1 == seq and (((tp.snd_wl2 - ack) & M32 >= HALF and tp.snd_wl2 != ack) or
                                                (tp.snd_wl2 == ack and tiwin > tp.snd_wnd)))):
        if tlen == 0 and tp.snd_wl2 == ack and tiwin > tp.snd_wnd:
            st["rcvwinupd"] += 1
        tp.snd_wnd = tiwin
        tp.snd_wl1 = seq
        tp.snd_wl2 = ack
        if tiwin > tp.max_sndwnd:
            tp.max_sndwnd = tiwin
        needoutput = True
    state = tp.state
    if (tlen or flags & FIN) and state not in HAVERCVDFIN:
        if seq == tp.rcv_nxt and not tp.reass and state >= ESTABLISHED:
            if tlen:
                if tp.flags & F_DELACK:
                    tp.flags |= F_ACKNOW
                else:
                    tp.flags |= F_DELACK
                    tp.t_delack.schedule(stack.params["delack_ticks"] * 0.01)
                tp.rcv_nxt = (tp.rcv_nxt + tlen) & M32
                st["rcvpack"] += 1
                st["rcvbyte"] += tlen
                if tp.rcv_auto is not None:
                    autorcvbuf(stack, tp, so, tlen, now)
                if not so.state & CANTRCVMORE:
                    tp.rcv_buf.append(seg[hl:hl + tlen])
                    so.rcv_cc = len(tp.rcv_buf)
                    so.rwakeup()
        elif tlen or flags & FIN:
            flags = reass(tp, seq, seg[hl:hl + tlen], flags)
            tp.flags |= F_ACKNOW
    else:
        flags &= ~FIN
    if flags & FIN:
        state = tp.state
        if state not in (CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT):
            so.state |= CANTRCVMORE
            so.rwakeup()
            tp.flags |= F_ACKNOW
            tp.rcv_nxt = (tp.rcv_nxt + 1) & M32
        if state in (SYN_RECEIVED, ESTABLISHED):
            tp.state = CLOSE_WAIT
        elif state == FIN_WAIT_1:
            tp.state = CLOSING
        elif state == FIN_WAIT_2:
            enter_time_wait(stack, tp)
        elif state == TIME_WAIT:
            tp.t_2msl.schedule(tp.msl2)
    if needoutput or tp.flags & F_ACKNOW or (tp.snd_buf and tp.snd_nxt == tp.snd_max):
        if not tp.dead:
            tcp_output(tp)


def enter_time_wait(stack, tp):
    from ..net.socket import CANTSENDMORE
    tp.state = TIME_WAIT
    for t in (tp.t_rexmt, tp.t_persist, tp.t_keep, tp.t_delack):
        t.stop()
    tp.msl2 = stack.twomsl(tp)
    tp.t_2msl.schedule(tp.msl2)
    so = tp.so
    so.state = (so.state & ~ISCONNECTED) | CANTRCVMORE | CANTSENDMORE
    so.rwakeup()
    so.wwakeup()


def reass(tp, seq, data, flags):
    """Queue an out-of-order segment, then move what became in-order into the receive
    buffer; returns FIN if the FIN is now in order. Bounded: REASS_MAX segments and twice
    the receive buffer in bytes (the window trimming keeps each segment inside the window)."""
    st = tp.stack.stats
    so = tp.so
    q = tp.reass
    base = tp.rcv_nxt
    if data or flags & FIN:
        if seq != base:
            st["rcvoopack"] += 1
            st["rcvoobyte"] += len(data)
        if len(q) >= REASS_MAX or tp.reass_bytes + len(data) > 2 * so.rcv_hiwat:
            st["rcvmemdrop"] += 1
            return 0
        off = (seq - base) & M32
        i = len(q)
        while i > 0 and ((q[i - 1][0] - base) & M32) > off:
            i -= 1
        q.insert(i, (seq, bytes(data), bool(flags & FIN)))
        tp.reass_bytes += len(data)
        if off and data and tp.flags & F_SACK_PERMIT:
            tcp_sack.reass_note(tp, i)
    fin = 0
    got = False
    while q:
        s, d, f = q[0]
        start = seq_diff(s, base)
        if start > 0:
            break
        del q[0]
        tp.reass_bytes -= len(d)
        if start < 0:
            if -start > len(d):
                continue
            d = d[-start:]
        if d:
            if not so.state & CANTRCVMORE:
                tp.rcv_buf.append(d)
            base = (base + len(d)) & M32
            st["rcvpack"] += 1
            st["rcvbyte"] += len(d)
            got = True
        if f:
            fin = FIN
            q.clear()
            tp.reass_bytes = 0
            break
    tp.rcv_nxt = base
    if tp.rcv_sacks:
        tcp_sack.reass_drained(tp)
    if got:
        so.rcv_cc = len(tp.rcv_buf)
        so.rwakeup()
    return fin


def autorcvbuf(stack, tp, so, tlen, now):
    """Receive buffer auto-sizing (net.inet.tcp.recvbuf_*): when more than 7/8 of the buffer
    arrives within one measuring period (the smoothed RTT, at least 10 ms, at most 1 s) the
    buffer grows by recvbuf_inc, up to recvbuf_max. A user's SO_RCVBUF ends it."""
    if so.rcv_hiwat != tp.rcv_auto:
        tp.rcv_auto = None
        return
    if not tp.rfbuf_ts:
        tp.rfbuf_ts = now
        tp.rfbuf_cnt = 0
    period = (tp.srtt >> RTT_SHIFT) * TICK / 4
    period = 0.01 if period < 0.01 else 1.0 if period > 1.0 else period
    tp.rfbuf_cnt += tlen
    if now - tp.rfbuf_ts <= period:
        if tp.rfbuf_cnt > so.rcv_hiwat // 8 * 7:
            p = stack.params
            if so.rcv_hiwat < p["recvbuf_max"]:
                tp.rcv_auto = min(so.rcv_hiwat + p["recvbuf_inc"], p["recvbuf_max"])
                so.sbreserve(tp.rcv_auto, so.snd_hiwat)     # input: outside a syscall, never refused
            tp.rfbuf_ts = now
            tp.rfbuf_cnt = 0
    else:
        tp.rfbuf_ts = now
        tp.rfbuf_cnt = tlen


def rcv_window(tp):
    """The receive window: buffer space, never less than what was already advertised."""
    space = tp.so.rcv_hiwat - len(tp.rcv_buf)
    adv = (tp.rcv_adv - tp.rcv_nxt) & M32
    if adv >= HALF:
        adv = 0
    return space if space > adv else adv


def _rtt_sample(tp, stack, now, ts, ack):
    """An ACK of new data feeds the RTT estimator: from the echoed timestamp when there is
    one, else from the timed segment if this ACK covers it."""
    if ts is not None and ts[1]:
        xmit_timer(tp, _ts_ticks(stack, now, ts[1]))
    elif tp.rtttime and (ack - tp.rtseq) & M32 and (ack - tp.rtseq) & M32 < HALF:
        xmit_timer(tp, _ticks(now - tp.rtttime))


def _ts_ticks(stack, now, tsecr):
    ms = (stack.ts_now(now) - tsecr) & M32
    if ms >= HALF:
        return 1
    return ms // 500 + 1


__all__ = ["tcp_input", "parse_options", "xmit_timer", "URG", "CLOSED", "MAXWIN", "F_RCVD_SCALE"]
