"""Socket rows for the pcblist sysctl nodes: kinfo_pcb records (abi/kinfo_pcb.py).

sostate() gives a Socket's state as NetBSD's SS_* bits; inet_records() the
records of AF_INET sockets (UDP, raw IP and TCP pcbs all carry laddr,
lport, faddr, fport, anon and so). Kernel addresses are Python object ids:
ki_sockaddr is the socket's, which kern.file2 rows give as their data
pointer, so rump.sockstat can match descriptors to sockets.
Kernel lock held by callers.
"""
from ...abi import kinfo_pcb as K
from ...abi import net as N
from .socket import CANTRCVMORE, CANTSENDMORE, ISCONNECTED


def sostate(so):
    st = K.SS_ISCONNECTED if so.state & ISCONNECTED else 0
    if so.state & CANTSENDMORE:
        st |= K.SS_CANTSENDMORE
    if so.state & CANTRCVMORE:
        st |= K.SS_CANTRCVMORE
    return st


def _ntoa(a):
    return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)


def inet_record(pcb, stype, protocol, tstate=0, rcvq=0, sndq=0):
    so = pcb.so
    prstate = K.INP_CONNECTED if pcb.faddr else (K.INP_BOUND if pcb.lport or pcb.laddr else K.INP_ATTACHED)
    return K.pack(pcbaddr=id(pcb), ppcbaddr=id(pcb), sockaddr=id(so) if so is not None else 0,
                  family=N.AF_INET, type=stype, protocol=protocol,
                  pflags=K.INP_ANONPORT if pcb.anon else 0,
                  sostate=sostate(so) if so is not None else 0, prstate=prstate, tstate=tstate,
                  rcvq=rcvq, sndq=sndq,
                  src=(N.AF_INET, _ntoa(pcb.laddr), pcb.lport), dst=(N.AF_INET, _ntoa(pcb.faddr), pcb.fport))


def inet_records(pcbs, stype, protocol=None):
    """Records of datagram/raw pcbs in list order (newest first); protocol None: the socket's."""
    out = []
    for pcb in pcbs:
        so = pcb.so
        out.append(inet_record(pcb, stype, so.protocol if protocol is None else protocol, rcvq=so.rcv_cc))
    return b"".join(out)


def tcp_records(pcbs):
    """Records of TCP control blocks (inet.tcp_pcbs, newest first; netinet/tcp_var.TcpCb).

    A control block outlives its socket until the connection is over
    (TIME_WAIT, or FIN_WAIT_2 after close): its own state and stream
    buffers give tstate, rcvq and sndq.
    """
    return b"".join(inet_record(tp, N.SOCK_STREAM, N.IPPROTO_TCP, tp.state, len(tp.rcv_buf), len(tp.snd_buf))
                    for tp in pcbs)
