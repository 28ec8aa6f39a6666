"""TCP selective acknowledgements (RFC 2018; NetBSD's tcp_sack.c, net.inet.tcp.sack.*).

Receiver: reass_note() keeps `rcv_sacks`, the blocks of out-of-order data
held in the reassembly queue, the one holding the most recently received
segment first (RFC 2018 section 4); option() lays them out for an ACK, as
many as fit beside the other options (3 with timestamps, 4 without).

Sender: update() folds the SACK blocks of an incoming ACK into the
scoreboard `snd_holes` -- [start, end, rxmit] ranges between snd_una and
snd_fack (the highest SACKed sequence) the peer has not reported, in
sequence order; rxmit is how far each hole has been retransmitted. Blocks
outside (snd_una, snd_max] or empty are ignored. A connection keeps at most
net.inet.tcp.sack.maxholes holes and all connections together
sack.globalmaxholes (sack.globalholes counts them): a block that would need
a hole beyond the bound is not recorded, so the scoreboard can only
under-report what the peer holds (more is retransmitted, never less).
rexmit() sends the next not yet retransmitted piece of a hole (fast
recovery: holes before new data); free() forgets the scoreboard (RTO,
close). Nothing here runs for a connection without SACK or while the
reassembly queue and the scoreboard are empty.

Locking rule: kernel lock held.
"""
import struct

M32 = 0xffffffff
HALF = 0x80000000
_block = struct.Struct("!II")


def _lt(a, b):
    return (a - b) & M32 >= HALF


def _leq(a, b):
    return (b - a) & M32 < HALF


# -- receiver ---------------------------------------------------------------------------
def reass_note(tp, i):
    """Segment q[i] of the reassembly queue just arrived out of order: its block goes first."""
    q = tp.reass
    s, d, _f = q[i]
    left, right = s, (s + len(d)) & M32
    sacks = tp.rcv_sacks
    if sacks and i == len(q) - 1 and sacks[0][1] == s:
        sacks[0] = (sacks[0][0], right)     # the usual case: the newest block grows at its end
        return
    j = i - 1
    while j >= 0:
        qs, qd, _ = q[j]
        qe = (qs + len(qd)) & M32
        if _lt(qe, left):
            break
        if _lt(qs, left):
            left = qs
        if _lt(right, qe):
            right = qe
        j -= 1
    k = i + 1
    n = len(q)
    while k < n:
        qs, qd, _ = q[k]
        if _lt(right, qs):
            break
        qe = (qs + len(qd)) & M32
        if _lt(right, qe):
            right = qe
        k += 1
    if left == right:
        return
    out = [(left, right)]
    for b in tp.rcv_sacks:
        if not (_leq(left, b[0]) and _leq(b[1], right)) and len(out) < 4:
            out.append(b)
    tp.rcv_sacks = out


def reass_drained(tp):
    """rcv_nxt moved: blocks now below it go (all of them when the queue is empty)."""
    if not tp.reass:
        tp.rcv_sacks = []
    elif tp.rcv_sacks:
        nxt = tp.rcv_nxt
        tp.rcv_sacks = [b for b in tp.rcv_sacks if _lt(nxt, b[1])]


def option(tp, used):
    """NOP NOP SACK with the blocks that fit in the 40 option bytes beside `used` ones."""
    room = (40 - used - 4) // 8
    blocks = tp.rcv_sacks[:room] if room > 0 else ()
    if not blocks:
        return b""
    out = bytearray((1, 1, 5, 2 + 8 * len(blocks)))
    for left, right in blocks:
        out += _block.pack(left, right)
    return bytes(out)


# -- sender -----------------------------------------------------------------------------
def _room(tp, params):
    return len(tp.snd_holes) < params["sack.maxholes"] and \
        params["sack.globalholes"] < params["sack.globalmaxholes"]


def update(tp, ack, blocks):
    """An acceptable ACK (snd_una <= ack <= snd_max) with blocks [(left, right)] or None."""
    params = tp.stack.params
    holes = tp.snd_holes
    if holes:
        gone = 0
        while gone < len(holes) and _leq(holes[gone][1], ack):
            gone += 1
        if gone:
            del holes[:gone]
            params["sack.globalholes"] -= gone
        if holes and _lt(holes[0][0], ack):
            h = holes[0]
            h[0] = ack
            if _lt(h[2], ack):
                h[2] = ack
    if not holes or _lt(tp.snd_fack, ack):
        tp.snd_fack = ack               # nothing reported above a cumulative ACK without a hole
    if not blocks:
        return
    snd_max = tp.snd_max
    for left, right in blocks:
        if not _lt(left, right) or not _lt(ack, right) or _lt(snd_max, right) or \
                (right - left) & M32 > (snd_max - ack) & M32:
            continue
        if _lt(left, ack):
            left = ack
        fack = tp.snd_fack
        if _lt(fack, left):
            if not _room(tp, params):
                continue                    # not recorded: the gap stays unreported
            holes.append([fack, left, fack])
            params["sack.globalholes"] += 1
            tp.snd_fack = right
            continue
        if _lt(fack, right):
            tp.snd_fack = right
            right = fack
        _carve(tp, params, left, right)


def _carve(tp, params, left, right):
    """[left, right) below snd_fack was SACKed: take it out of the holes."""
    holes = tp.snd_holes
    i = 0
    while i < len(holes):
        h = holes[i]
        hs, he = h[0], h[1]
        if _leq(he, left):
            i += 1
            continue
        if _leq(right, hs):
            break
        if _leq(left, hs) and _leq(he, right):
            del holes[i]
            params["sack.globalholes"] -= 1
            continue
        if _leq(left, hs):                  # the hole's front was SACKed
            h[0] = right
            if _lt(h[2], right):
                h[2] = right
        elif _leq(he, right):               # its back
            h[1] = left
            if _lt(left, h[2]):
                h[2] = left
        elif _room(tp, params):             # its middle: split
            rx = h[2] if _lt(right, h[2]) else right
            holes.insert(i + 1, [right, he, rx])
            params["sack.globalholes"] += 1
            h[1] = left
            if _lt(left, h[2]):
                h[2] = left
            i += 1
        i += 1


def free(tp):
    if tp.snd_holes:
        tp.stack.params["sack.globalholes"] -= len(tp.snd_holes)
        tp.snd_holes = []
    tp.snd_fack = tp.snd_una


def rexmit(tp):
    """Retransmit one segment of the first hole not yet retransmitted; False if there is none."""
    from .tcp_output import tcp_output
    for h in tp.snd_holes:
        if _lt(h[2], h[1]):
            break
    else:
        return False
    start = h[2]
    onxt, ocwnd = tp.snd_nxt, tp.snd_cwnd
    n = (h[1] - start) & M32
    if n > tp.maxseg:
        n = tp.maxseg
    tp.snd_nxt = start
    tp.snd_cwnd = ((start - tp.snd_una) & M32) + n
    tcp_output(tp)
    sent = (tp.snd_nxt - start) & M32
    if sent and sent < HALF and h in tp.snd_holes:
        h[2] = (start + sent) & M32
    tp.snd_cwnd = ocwnd
    if _lt(tp.snd_nxt, onxt):
        tp.snd_nxt = onxt
    return True
