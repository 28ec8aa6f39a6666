"""Networking ABI both ends share: NetBSD's socket, interface, ioctl and route constants,
and how their arguments travel as values (specs/net.md §1-§4).

A socket address travels as a tuple whose first item is the family:
    (AF_INET, "10.1.1.1", port)      (AF_LOCAL, "/path")      (AF_LINK, ifindex, "name", "b2:a0:..")
Interface ioctls take and return values (not struct ifreq):
    SIOCIFCREATE / SIOCIFDESTROY      arg "shmif0"
    SIOCGIFFLAGS / SIOCGIFMTU         arg "shmif0" -> int
    SIOCSIFFLAGS / SIOCSIFMTU         arg ("shmif0", int)
    SIOCAIFADDR                       arg (name, addr, broadaddr|None, mask|None)
    SIOCDIFADDR                       arg (name, addr)
    SIOCGIFADDR                       arg name -> addr (first IPv4 address)
    SIOCSLINKSTR                      arg (name, str|None)  (None: -linkstr)
    SIOCGLINKSTR                      arg name -> str (ENOENT if none)
    SIOCGIFCONF                       arg None -> rows (name, family, addr, mask, broadaddr, addrflags);
                                      AF_LINK rows carry the MAC (or "") as addr
    SIOCGIFDATA                       arg name -> IFDATA_FIELDS values
    SIOCZIFDATA                       arg name -> the same, then zeroes the counters
    SIOCGIFINDEX                      arg name -> index
    SIOCIFGCLONERS                    arg None -> names of the cloners
    FIONBIO                           arg int (non-zero: non-blocking)
    FIONREAD                          arg None -> bytes waiting
A routing socket (socket(AF_ROUTE, SOCK_RAW, 0)) takes route messages as values
through ioctl(fd, RTM_MSG, msg) with msg = RTMSG_FIELDS values; the answer is
the message filled in (RTF_DONE set) or the errno; RTM_DUMP and RTM_DUMPLL
give the routing table and the ARP table as tuples of RTROW_FIELDS values.
"""
# address and protocol families, socket types
AF_UNSPEC, AF_LOCAL, AF_INET, AF_LINK, AF_INET6, AF_ROUTE = 0, 1, 2, 18, 24, 34
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET = 1, 2, 3, 5
SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_NOSIGPIPE = 0x10000000, 0x20000000, 0x40000000
SOCK_FLAGS = SOCK_CLOEXEC | SOCK_NONBLOCK | SOCK_NOSIGPIPE
IPPROTO_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_RAW = 0, 1, 6, 17, 255

# socket options
SOL_SOCKET = 0xffff
SO_DEBUG, SO_ACCEPTCONN, SO_REUSEADDR, SO_KEEPALIVE = 0x1, 0x2, 0x4, 0x8
SO_DONTROUTE, SO_BROADCAST, SO_USELOOPBACK, SO_LINGER = 0x10, 0x20, 0x40, 0x80
SO_OOBINLINE, SO_REUSEPORT, SO_NOSIGPIPE, SO_TIMESTAMP = 0x100, 0x200, 0x800, 0x2000
SO_SNDBUF, SO_RCVBUF, SO_SNDLOWAT, SO_RCVLOWAT = 0x1001, 0x1002, 0x1003, 0x1004
SO_ERROR, SO_TYPE, SO_SNDTIMEO, SO_RCVTIMEO = 0x1007, 0x1008, 0x100b, 0x100c
SO_BOOL_OPTIONS = (SO_DEBUG, SO_REUSEADDR, SO_KEEPALIVE, SO_DONTROUTE, SO_BROADCAST, SO_USELOOPBACK,
                   SO_OOBINLINE, SO_REUSEPORT, SO_NOSIGPIPE, SO_TIMESTAMP)
IP_OPTIONS, IP_HDRINCL, IP_TOS, IP_TTL, IP_RECVDSTADDR = 1, 2, 3, 4, 7
IP_MULTICAST_IF, IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_PORTRANGE = 9, 10, 11, 19
IP_RECVIF, IP_RECVTTL, IP_MINTTL = 20, 23, 24
MSG_OOB, MSG_PEEK, MSG_DONTROUTE, MSG_EOR, MSG_TRUNC = 0x1, 0x2, 0x4, 0x8, 0x10
MSG_CTRUNC, MSG_WAITALL, MSG_DONTWAIT, MSG_NOSIGNAL = 0x20, 0x40, 0x80, 0x400
SHUT_RD, SHUT_WR, SHUT_RDWR = 0, 1, 2
# TCP options (level IPPROTO_TCP) and states (tcp_fsm.h; netstat -A names)
TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_KEEPINIT = 1, 2, 3, 5, 6, 7
TCP_STATES = ("CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1",
              "CLOSING", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT")

# interface flags (if.h) and their names in bit order (ifconfig's snprintb)
IFF_UP, IFF_BROADCAST, IFF_DEBUG, IFF_LOOPBACK = 0x1, 0x2, 0x4, 0x8
IFF_POINTOPOINT, IFF_NOTRAILERS, IFF_RUNNING, IFF_NOARP = 0x10, 0x20, 0x40, 0x80
IFF_PROMISC, IFF_ALLMULTI, IFF_OACTIVE, IFF_SIMPLEX = 0x100, 0x200, 0x400, 0x800
IFF_LINK0, IFF_LINK1, IFF_LINK2, IFF_MULTICAST = 0x1000, 0x2000, 0x4000, 0x8000
IFF_NAMES = ("UP", "BROADCAST", "DEBUG", "LOOPBACK", "POINTOPOINT", "NOTRAILERS", "RUNNING", "NOARP",
             "PROMISC", "ALLMULTI", "OACTIVE", "SIMPLEX", "LINK0", "LINK1", "LINK2", "MULTICAST")
IFF_CANTCHANGE = IFF_BROADCAST | IFF_POINTOPOINT | IFF_RUNNING | IFF_OACTIVE | IFF_SIMPLEX | \
    IFF_MULTICAST | IFF_ALLMULTI | IFF_PROMISC | IFF_LOOPBACK
IFT_ETHER, IFT_LOOP = 6, 24
IN_IFF_TENTATIVE, IN_IFF_DUPLICATED, IN_IFF_DETACHED = 0x1, 0x2, 0x4
LOMTU = 33624
IFNAMSIZ = 16

# interface counters (struct if_data), in SIOCGIFDATA's order
IFDATA_FIELDS = ("type", "addrlen", "hdrlen", "link_state", "mtu", "metric", "baudrate",
                 "ipackets", "ierrors", "opackets", "oerrors", "collisions", "ibytes", "obytes",
                 "imcasts", "omcasts", "iqdrops", "noproto")
IFDATA_COUNTERS = IFDATA_FIELDS[7:]

# ioctl numbers (NetBSD's, sys/sockio.h)
SIOCSIFADDR, SIOCGIFADDR = 0x8090690c, 0xc0906921
SIOCSIFFLAGS, SIOCGIFFLAGS = 0x80906910, 0xc0906911
SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFCONF = 0xc0906923, 0xc0906925, 0xc0106926
SIOCDIFADDR, SIOCAIFADDR = 0x80906919, 0x8040691a
SIOCGIFMTU, SIOCSIFMTU = 0xc090697e, 0x8090697f
SIOCIFCREATE, SIOCIFDESTROY, SIOCIFGCLONERS = 0x8090697a, 0x80906979, 0xc0106978
SIOCGIFDATA, SIOCZIFDATA = 0xc0986985, 0xc0986986
SIOCGLINKSTR, SIOCSLINKSTR = 0xc0286987, 0x80286988
SIOCGIFINDEX = 0xc090698c
FIONREAD, FIONBIO = 0x4004667f, 0x8004667e
IOCTL_NAMES = {v: k for k, v in dict(globals()).items() if k.startswith(("SIOC", "FION"))}

# routing messages (route.h)
RTM_VERSION = 4
RTM_ADD, RTM_DELETE, RTM_CHANGE, RTM_GET = 1, 2, 3, 4
RTM_MSG = 0xc0787200            # ioctl on a routing socket: one route message as a value
RTM_DUMP, RTM_DUMPLL = 0x40087201, 0x40087202   # ioctls: the routing table, the ARP table
RTF_UP, RTF_GATEWAY, RTF_HOST, RTF_REJECT = 0x1, 0x2, 0x4, 0x8
RTF_DYNAMIC, RTF_MODIFIED, RTF_DONE, RTF_MASK = 0x10, 0x20, 0x40, 0x80
RTF_CONNECTED, RTF_LLDATA, RTF_STATIC, RTF_BLACKHOLE = 0x100, 0x400, 0x800, 0x1000
RTF_PROTO2, RTF_PROTO1, RTF_SRC, RTF_ANNOUNCE = 0x4000, 0x8000, 0x10000, 0x20000
RTF_LOCAL, RTF_BROADCAST = 0x40000, 0x80000
# a route message: dst/mask/gateway are dotted strings ("link#2" or a MAC for link gateways)
RTMSG_FIELDS = ("type", "flags", "dst", "mask", "gateway", "ifname")
# a row of RTM_DUMP (routes) and RTM_DUMPLL (ARP: gateway = MAC or "" when unresolved;
# expire = seconds left, 0 = permanent)
RTROW_FIELDS = ("dst", "mask", "gateway", "flags", "ifname", "ifaddr", "use", "mtu", "expire", "refs")


def sockaddr_in(addr, port=0):
    return (AF_INET, addr, port)


# statistics (net.inet.<proto>.stats), in NetBSD's counter order (ip_var.h, icmp_var.h, udp_var.h, if_inarp.h)
IPSTAT_FIELDS = ("total", "badsum", "tooshort", "toosmall", "badhlen", "badlen", "fragments", "fragdropped",
                 "fragtimeout", "forward", "fastforward", "cantforward", "redirectsent", "noproto",
                 "delivered", "localout", "odropped", "reassembled", "fragmented", "ofragments", "cantfrag",
                 "badoptions", "noroute", "badvers", "rawout", "toolong", "notmember", "nogif", "badaddr")
ICMPSTAT_FIELDS = ("error", "oldshort", "oldicmp") + tuple("outhist%d" % i for i in range(19)) + (
    "badcode", "tooshort", "checksum", "badlen", "reflect") + tuple("inhist%d" % i for i in range(19)) + (
    "bmcastecho", "protounreach", "redirectrx")
UDPSTAT_FIELDS = ("ipackets", "hdrops", "badsum", "badlen", "noport", "noportbcast", "fullsock",
                  "pcbhashmiss", "opackets")
TCPSTAT_FIELDS = ("connattempt", "accepts", "connects", "drops", "conndrops", "closed", "segstimed",
                  "rttupdated", "delack", "timeoutdrop", "rexmttimeo", "persisttimeo", "keeptimeo", "keepprobe",
                  "keepdrops", "persistdrops", "connsdrained", "pmtublackhole", "sndtotal", "sndpack", "sndbyte",
                  "sndrexmitpack", "sndrexmitbyte", "sndacks", "sndprobe", "sndurg", "sndwinup", "sndctrl",
                  "rcvtotal", "rcvpack", "rcvbyte", "rcvbadsum", "rcvbadoff", "rcvmemdrop", "rcvshort",
                  "rcvduppack", "rcvdupbyte", "rcvpartduppack", "rcvpartdupbyte", "rcvoopack", "rcvoobyte",
                  "rcvpackafterwin", "rcvbyteafterwin", "rcvafterclose", "rcvwinprobe", "rcvdupack",
                  "rcvacktoomuch", "rcvackpack", "rcvackbyte", "rcvwinupd", "pawsdrop", "predack", "preddat",
                  "pcbhashmiss", "noport", "badsyn", "delayed_free", "sc_added", "sc_completed", "sc_timed_out",
                  "sc_overflowed", "sc_reset", "sc_unreach", "sc_bucketoverflow", "sc_aborted", "sc_dupesyn",
                  "sc_dropped", "sc_collisions", "sc_retransmitted", "sc_delayed_free", "selfquench", "badsig",
                  "goodsig", "ecn_shs", "ecn_ce", "ecn_ect")
ARPSTAT_FIELDS = ("sndtotal", "sndreply", "sndrequest", "rcvtotal", "rcvrequest", "rcvreply", "rcvmcast",
                  "rcvbadproto", "rcvbadlen", "rcvzerotpa", "rcvzerospa", "rcvnoint", "rcvlocalsha",
                  "rcvbcastsha", "rcvlocalspa", "rcvoverperm", "rcvoverint", "rcvover", "rcvlenchg",
                  "dfrtotal", "dfrsent", "dfrdropped", "allocfail")

# bpf(4) ioctls; arguments and results are integers except: BIOCSETF takes the program as
# bytes (8 bytes per instruction) or a list of (code, jt, jf, k); BIOCSETIF/BIOCGETIF an
# interface name; BIOCGSTATS gives (recv, drop, capt); BIOCVERSION (major, minor);
# BIOCSRTIMEOUT/BIOCGRTIMEOUT microseconds (0: none)
BIOCGBLEN, BIOCSBLEN, BIOCSETF, BIOCFLUSH = 0x40044266, 0xc0044266, 0x80104267, 0x20004268
BIOCPROMISC, BIOCGDLT, BIOCGETIF, BIOCSETIF = 0x20004269, 0x4004426a, 0x4090426b, 0x8090426c
BIOCGSTATS, BIOCIMMEDIATE, BIOCVERSION = 0x4080426f, 0x80044270, 0x40044271
BIOCGHDRCMPLT, BIOCSHDRCMPLT, BIOCGSEESENT, BIOCSSEESENT = 0x40044274, 0x80044275, 0x40044278, 0x80044279
BIOCSRTIMEOUT, BIOCGRTIMEOUT = 0x8010427a, 0x4010427b
BPF_MAXBUFSIZE, BPF_MINBUFSIZE, BPF_DFLTBUFSIZE = 1048576, 32, 32768
# a row of net.inet.{udp,raw}.pcblist (a struct sysctl node: sysctl -a does not print it)
PCB_FIELDS = ("type", "protocol", "laddr", "lport", "faddr", "fport", "rcvq", "sndq", "anonport")
