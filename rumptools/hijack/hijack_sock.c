/*
 * hijack_sock.c: sockets in the rump kernel (rumphijack(3), socket=).
 *
 * socket() and socketpair() of a family that RUMPHIJACK's socket= sends to
 * the kernel make kernel sockets; every other socket call follows its
 * descriptor.  The kernel speaks NetBSD: its family numbers (AF_INET6 24),
 * type flags (SOCK_NONBLOCK 0x20000000), option levels and names
 * (SOL_SOCKET 0xffff), MSG_ flags and errnos differ from Linux's, and are
 * converted here.  Addresses and control messages travel as values
 * (rump_sp(7)): an address is a list (family, address string, port) or
 * (AF_LOCAL, path), so NetBSD's sa_len never crosses the wire, and control
 * data is a list of (level, type, bytes) that this file lays out with
 * Linux's CMSG macros, whose alignment differs from NetBSD's.
 *
 * Name resolution stays on the host: glibc's resolver opens its sockets
 * with internal calls no preload sees (hijack-linux.md).  No state of its
 * own.
 */
#include "hijack.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

/* NetBSD's numbers (sys/socket.h, netinet/in.h, netinet/tcp.h) */
#define NB_AF_UNSPEC 0
#define NB_AF_LOCAL 1
#define NB_AF_INET 2
#define NB_AF_INET6 24
#define NB_SOCK_CLOEXEC 0x10000000
#define NB_SOCK_NONBLOCK 0x20000000
#define NB_SOL_SOCKET 0xffff
#define NB_SCM_RIGHTS 0x01
#define NB_SCM_TIMESTAMP 0x08
#define NB_SCM_CREDS 0x10
#define NB_IP_RECVTTL 23
#define NB_O_NONBLOCK 4
#define NB_F_SETFD 2
#define NB_F_SETFL 4

/* ------------------------------------------------------------ which sockets */

static int
af_to_rump(int af)
{
	switch (af) {
	case AF_UNSPEC: return NB_AF_UNSPEC;
	case AF_UNIX: return NB_AF_LOCAL;
	case AF_INET: return NB_AF_INET;
	case AF_INET6: return NB_AF_INET6;
	}
	return -1;
}

static int
af_from_rump(int af)
{
	switch (af) {
	case NB_AF_LOCAL: return AF_UNIX;
	case NB_AF_INET: return AF_INET;
	case NB_AF_INET6: return AF_INET6;
	}
	return AF_UNSPEC;
}

static int
rump_family(int domain)
{
	return hj_ready && domain >= 0 && domain < HJ_NFAMILIES && hj_cfg.socket_rump[domain];
}

static int
type_to_rump(int type)
{
	int t = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (type & SOCK_NONBLOCK)
		t |= NB_SOCK_NONBLOCK;
	if (type & SOCK_CLOEXEC)
		t |= NB_SOCK_CLOEXEC;
	return t;
}

/* ------------------------------------------------------------ flags */

static const struct { int lx, nb; } msgflags[] = {
	{MSG_OOB, 0x1}, {MSG_PEEK, 0x2}, {MSG_DONTROUTE, 0x4}, {MSG_EOR, 0x8},
	{MSG_TRUNC, 0x10}, {MSG_CTRUNC, 0x20}, {MSG_WAITALL, 0x40}, {MSG_DONTWAIT, 0x80},
	{MSG_NOSIGNAL, 0x400},
};

static int
msg_to_rump(int f)
{
	int o = 0;
	for (size_t i = 0; i < sizeof(msgflags) / sizeof(msgflags[0]); i++)
		if (f & msgflags[i].lx)
			o |= msgflags[i].nb;
	return o;	/* Linux-only flags (MSG_MORE, MSG_CMSG_CLOEXEC, ...) are dropped */
}

static int
msg_from_rump(int f)
{
	int o = 0;
	for (size_t i = 0; i < sizeof(msgflags) / sizeof(msgflags[0]); i++)
		if (f & msgflags[i].nb)
			o |= msgflags[i].lx;
	return o;
}

/* ------------------------------------------------------------ addresses */

/* a Linux sockaddr as a value; 0 or an errno */
static int
put_sockaddr(struct sp_buf *b, const struct sockaddr *sa, socklen_t len)
{
	char text[INET6_ADDRSTRLEN];
	if (sa == NULL) {
		sp_none(b);
		return 0;
	}
	if (len < sizeof(sa_family_t))
		return EINVAL;
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		if (len < sizeof(*in))
			return EINVAL;
		inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
		sp_list(b, 3);
		sp_int(b, NB_AF_INET);
		sp_str(b, text);
		sp_int(b, ntohs(in->sin_port));
		return 0;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		if (len < sizeof(*in6))
			return EINVAL;
		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
		sp_list(b, 3);
		sp_int(b, NB_AF_INET6);
		sp_str(b, text);
		sp_int(b, ntohs(in6->sin6_port));
		return 0;
	}
	case AF_UNIX: {
		const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
		size_t n = len - offsetof(struct sockaddr_un, sun_path);
		char path[sizeof(un->sun_path) + 1];
		if (len > sizeof(*un))
			return EINVAL;
		if (n > 0 && un->sun_path[0] == '\0')
			return EINVAL;	/* Linux's abstract names: NetBSD has none */
		memcpy(path, un->sun_path, n);
		path[n] = '\0';
		sp_list(b, 2);
		sp_int(b, NB_AF_LOCAL);
		sp_str(b, path);
		return 0;
	}
	case AF_UNSPEC:
		sp_list(b, 1);
		sp_int(b, NB_AF_UNSPEC);
		return 0;
	}
	return EAFNOSUPPORT;
}

static int
peek_none(struct sp_reply *r)
{
	if (r->pos < r->len && r->body[r->pos] == RUMPSP_TAG_NONE) {
		r->pos++;
		return 1;
	}
	return 0;
}

/* a sockaddr value (or None: *len 0) as a Linux sockaddr; 0 or -1 */
static int
get_sockaddr(struct sp_reply *r, struct sockaddr_storage *ss, socklen_t *len)
{
	uint32_t n;
	int64_t fam, port = 0;
	const char *p;
	size_t plen;
	char text[128];

	memset(ss, 0, sizeof(*ss));
	*len = 0;
	if (peek_none(r))
		return 0;
	if (sp_get_list(r, &n) || n < 1 || sp_get_int(r, &fam))
		return -1;
	int af = af_from_rump((int)fam);
	if ((af == AF_INET || af == AF_INET6) && n >= 3) {
		if (sp_get_bytes(r, &p, &plen) || sp_get_int(r, &port) || plen >= sizeof(text))
			return -1;
		memcpy(text, p, plen);
		text[plen] = '\0';
		for (uint32_t i = 3; i < n; i++)
			if (sp_skip(r))
				return -1;
		if (af == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)ss;
			in->sin_family = AF_INET;
			in->sin_port = htons((uint16_t)port);
			inet_pton(AF_INET, text, &in->sin_addr);
			*len = sizeof(*in);
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			inet_pton(AF_INET6, text, &in6->sin6_addr);
			*len = sizeof(*in6);
		}
		return 0;
	}
	if (af == AF_UNIX && n >= 2) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;
		if (sp_get_bytes(r, &p, &plen))
			return -1;
		for (uint32_t i = 2; i < n; i++)
			if (sp_skip(r))
				return -1;
		if (plen >= sizeof(un->sun_path))
			plen = sizeof(un->sun_path) - 1;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, p, plen);
		*len = offsetof(struct sockaddr_un, sun_path) + plen + (plen ? 1 : 0);
		return 0;
	}
	for (uint32_t i = 1; i < n; i++)
		if (sp_skip(r))
			return -1;
	ss->ss_family = af;
	*len = sizeof(sa_family_t);
	return 0;
}

/* hand an address to the program as accept(2) and friends do: truncated, full length in *l */
static void
addr_out(const struct sockaddr_storage *ss, socklen_t sl, struct sockaddr *a, socklen_t *l)
{
	if (a == NULL || l == NULL)
		return;
	memcpy(a, ss, *l < sl ? *l : sl);
	*l = sl;
}

/* ------------------------------------------------------------ making sockets */

HOSTFN(int, socket, (int, int, int))
HOSTFN(int, socketpair, (int, int, int, int *))

static int
no_net(void)
{
	/* a kernel without networking components has no socket calls at all */
	if (errno == ENOSYS)
		errno = EAFNOSUPPORT;
	return -1;
}

int
socket(int domain, int type, int proto)
{
	if (!rump_family(domain))
		return H(socket)(domain, type, proto);
	int af = af_to_rump(domain);
	if (af < 0)
		return hj_err(EAFNOSUPPORT);
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, af);
	sp_int(&b, type_to_rump(type));
	sp_int(&b, proto);
	int64_t r = hj_call_int(RUMPSP_SYS___socket30, &b);
	if (r < 0)
		return no_net();
	return hj_newfd((int)r);
}

int
socketpair(int domain, int type, int proto, int sv[2])
{
	if (!rump_family(domain))
		return H(socketpair)(domain, type, proto, sv);
	int af = af_to_rump(domain);
	if (af < 0)
		return hj_err(EAFNOSUPPORT);
	struct sp_buf b;
	struct sp_reply rep;
	uint32_t n;
	int64_t a, c;
	sp_begin(&b);
	sp_int(&b, af);
	sp_int(&b, type_to_rump(type));
	sp_int(&b, proto);
	int e = hj_call(RUMPSP_SYS_socketpair, &b, &rep, &n);
	if (e) {
		errno = e;
		return no_net();
	}
	e = n < 2 || sp_get_int(&rep, &a) || sp_get_int(&rep, &c);
	sp_reply_free(&rep);
	if (e)
		return hj_err(EPROTO);
	sv[0] = hj_newfd((int)a);
	sv[1] = hj_newfd((int)c);
	return 0;
}

/* ------------------------------------------------------------ addresses in, nothing out */

HOSTFN(int, bind, (int, const struct sockaddr *, socklen_t))
HOSTFN(int, connect, (int, const struct sockaddr *, socklen_t))
HOSTFN(int, listen, (int, int))
HOSTFN(int, shutdown, (int, int))

static int
addr_call(int number, int r, const struct sockaddr *a, socklen_t l)
{
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, r);
	int e = put_sockaddr(&b, a, l);
	if (e == 0 && a == NULL)
		e = EFAULT;
	if (e) {
		sp_done(&b);
		return hj_err(e);
	}
	return hj_call0(number, &b);
}

int
bind(int fd, const struct sockaddr *a, socklen_t l)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(bind)(fd, a, l) : addr_call(RUMPSP_SYS_bind, r, a, l);
}

int
connect(int fd, const struct sockaddr *a, socklen_t l)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(connect)(fd, a, l) : addr_call(RUMPSP_SYS_connect, r, a, l);
}

static int
two_ints(int number, int r, int v)
{
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, v);
	return hj_call0(number, &b);
}

int
listen(int fd, int backlog)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(listen)(fd, backlog) : two_ints(RUMPSP_SYS_listen, r, backlog);
}

int
shutdown(int fd, int how)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(shutdown)(fd, how) : two_ints(RUMPSP_SYS_shutdown, r, how);
}

/* ------------------------------------------------------------ addresses out */

HOSTFN(int, accept, (int, struct sockaddr *, socklen_t *))
HOSTFN(int, accept4, (int, struct sockaddr *, socklen_t *, int))
HOSTFN(int, getsockname, (int, struct sockaddr *, socklen_t *))
HOSTFN(int, getpeername, (int, struct sockaddr *, socklen_t *))

static int
fcntl3(int r, int cmd, int v)
{
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, cmd);
	sp_int(&b, v);
	return hj_call0(RUMPSP_SYS_fcntl, &b);
}

static int
rump_accept(int r, struct sockaddr *a, socklen_t *l, int flags)
{
	struct sp_buf b;
	struct sp_reply rep;
	uint32_t n;
	int64_t nr;
	struct sockaddr_storage ss;
	socklen_t sl;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return hj_err(EINVAL);
	sp_begin(&b);
	sp_int(&b, r);
	int e = hj_call(RUMPSP_SYS_accept, &b, &rep, &n);
	if (e)
		return hj_err(e);
	e = n < 2 || sp_get_int(&rep, &nr) || get_sockaddr(&rep, &ss, &sl);
	sp_reply_free(&rep);
	if (e)
		return hj_err(EPROTO);
	/* Linux's accept does not pass O_NONBLOCK on from the listener; NetBSD's does */
	if (fcntl3((int)nr, NB_F_SETFL, flags & SOCK_NONBLOCK ? NB_O_NONBLOCK : 0) < 0 ||
	    ((flags & SOCK_CLOEXEC) && fcntl3((int)nr, NB_F_SETFD, 1) < 0)) {
		int saved = errno;
		hj_rump_close((int)nr);
		return hj_err(saved);
	}
	addr_out(&ss, sl, a, l);
	return hj_newfd((int)nr);
}

int
accept(int fd, struct sockaddr *a, socklen_t *l)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(accept)(fd, a, l) : rump_accept(r, a, l, 0);
}

int
accept4(int fd, struct sockaddr *a, socklen_t *l, int flags)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(accept4)(fd, a, l, flags) : rump_accept(r, a, l, flags);
}

static int
name_call(int number, int r, struct sockaddr *a, socklen_t *l)
{
	struct sp_buf b;
	struct sp_reply rep;
	uint32_t n;
	struct sockaddr_storage ss;
	socklen_t sl;
	if (a == NULL || l == NULL)
		return hj_err(EFAULT);
	sp_begin(&b);
	sp_int(&b, r);
	int e = hj_call(number, &b, &rep, &n);
	if (e)
		return hj_err(e);
	e = n < 1 || get_sockaddr(&rep, &ss, &sl);
	sp_reply_free(&rep);
	if (e)
		return hj_err(EPROTO);
	if (sl == 0) {		/* nothing bound: the family alone */
		ss.ss_family = AF_UNSPEC;
		sl = sizeof(sa_family_t);
	}
	addr_out(&ss, sl, a, l);
	return 0;
}

int
getsockname(int fd, struct sockaddr *a, socklen_t *l)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(getsockname)(fd, a, l) : name_call(RUMPSP_SYS_getsockname, r, a, l);
}

int
getpeername(int fd, struct sockaddr *a, socklen_t *l)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(getpeername)(fd, a, l) : name_call(RUMPSP_SYS_getpeername, r, a, l);
}

/* ------------------------------------------------------------ options */

HOSTFN(int, getsockopt, (int, int, int, void *, socklen_t *))
HOSTFN(int, setsockopt, (int, int, int, const void *, socklen_t))

enum { OPT_INT, OPT_BOOL, OPT_TIMEVAL, OPT_LINGER, OPT_ERRNO, OPT_BYTES };

struct opt {
	int lxlevel, lxname, nblevel, nbname, kind;
};

static const struct opt opts[] = {
	{SOL_SOCKET, SO_DEBUG, NB_SOL_SOCKET, 0x1, OPT_BOOL},
	{SOL_SOCKET, SO_ACCEPTCONN, NB_SOL_SOCKET, 0x2, OPT_BOOL},
	{SOL_SOCKET, SO_REUSEADDR, NB_SOL_SOCKET, 0x4, OPT_BOOL},
	{SOL_SOCKET, SO_KEEPALIVE, NB_SOL_SOCKET, 0x8, OPT_BOOL},
	{SOL_SOCKET, SO_DONTROUTE, NB_SOL_SOCKET, 0x10, OPT_BOOL},
	{SOL_SOCKET, SO_BROADCAST, NB_SOL_SOCKET, 0x20, OPT_BOOL},
	{SOL_SOCKET, SO_LINGER, NB_SOL_SOCKET, 0x80, OPT_LINGER},
	{SOL_SOCKET, SO_OOBINLINE, NB_SOL_SOCKET, 0x100, OPT_BOOL},
	{SOL_SOCKET, SO_REUSEPORT, NB_SOL_SOCKET, 0x200, OPT_BOOL},
	{SOL_SOCKET, SO_TIMESTAMP, NB_SOL_SOCKET, 0x2000, OPT_BOOL},
	{SOL_SOCKET, SO_SNDBUF, NB_SOL_SOCKET, 0x1001, OPT_INT},
	{SOL_SOCKET, SO_RCVBUF, NB_SOL_SOCKET, 0x1002, OPT_INT},
	{SOL_SOCKET, SO_SNDLOWAT, NB_SOL_SOCKET, 0x1003, OPT_INT},
	{SOL_SOCKET, SO_RCVLOWAT, NB_SOL_SOCKET, 0x1004, OPT_INT},
	{SOL_SOCKET, SO_ERROR, NB_SOL_SOCKET, 0x1007, OPT_ERRNO},
	{SOL_SOCKET, SO_TYPE, NB_SOL_SOCKET, 0x1008, OPT_INT},
	{SOL_SOCKET, SO_SNDTIMEO, NB_SOL_SOCKET, 0x100b, OPT_TIMEVAL},
	{SOL_SOCKET, SO_RCVTIMEO, NB_SOL_SOCKET, 0x100c, OPT_TIMEVAL},
	/* local sockets: NetBSD's LOCAL_PEEREID (struct unpcbid {pid, euid, egid}, the
	 * layout of Linux's struct ucred) and LOCAL_CREDS, at level 0 */
	{SOL_SOCKET, SO_PEERCRED, 0, 3, OPT_BYTES},
	{SOL_SOCKET, SO_PASSCRED, 0, 4, OPT_BOOL},
	{IPPROTO_IP, IP_HDRINCL, IPPROTO_IP, 2, OPT_BOOL},
	{IPPROTO_IP, IP_TOS, IPPROTO_IP, 3, OPT_INT},
	{IPPROTO_IP, IP_TTL, IPPROTO_IP, 4, OPT_INT},
	{IPPROTO_IP, IP_MULTICAST_IF, IPPROTO_IP, 9, OPT_INT},
	{IPPROTO_IP, IP_MULTICAST_TTL, IPPROTO_IP, 10, OPT_INT},
	{IPPROTO_IP, IP_MULTICAST_LOOP, IPPROTO_IP, 11, OPT_INT},
	{IPPROTO_IP, IP_RECVTTL, IPPROTO_IP, NB_IP_RECVTTL, OPT_BOOL},
	{IPPROTO_IP, IP_MINTTL, IPPROTO_IP, 24, OPT_INT},
	{IPPROTO_TCP, TCP_NODELAY, IPPROTO_TCP, 1, OPT_BOOL},
	{IPPROTO_TCP, TCP_MAXSEG, IPPROTO_TCP, 2, OPT_INT},
	{IPPROTO_TCP, TCP_KEEPIDLE, IPPROTO_TCP, 3, OPT_INT},
	{IPPROTO_TCP, TCP_KEEPINTVL, IPPROTO_TCP, 5, OPT_INT},
	{IPPROTO_TCP, TCP_KEEPCNT, IPPROTO_TCP, 6, OPT_INT},
};

static const struct opt *
find_opt(int level, int name)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (opts[i].lxlevel == level && opts[i].lxname == name)
			return &opts[i];
	return NULL;
}

static int
rump_setsockopt(int r, int level, int name, const void *v, socklen_t l)
{
	const struct opt *o = find_opt(level, name);
	struct sp_buf b;
	if (o == NULL || o->kind == OPT_BYTES)
		return hj_err(ENOPROTOOPT);
	if (v == NULL)
		return hj_err(EFAULT);
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, o->nblevel);
	sp_int(&b, o->nbname);
	switch (o->kind) {
	case OPT_TIMEVAL: {
		struct timeval tv;
		if (l < sizeof(tv)) {
			sp_done(&b);
			return hj_err(EINVAL);
		}
		memcpy(&tv, v, sizeof(tv));
		if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
			sp_done(&b);
			return hj_err(EDOM);
		}
		sp_int(&b, (int64_t)tv.tv_sec * 1000000 + tv.tv_usec);
		break;
	}
	case OPT_LINGER: {
		struct linger lg;
		if (l < sizeof(lg)) {
			sp_done(&b);
			return hj_err(EINVAL);
		}
		memcpy(&lg, v, sizeof(lg));
		sp_list(&b, 2);
		sp_int(&b, lg.l_onoff);
		sp_int(&b, lg.l_linger);
		break;
	}
	default: {
		int iv;
		if (l >= sizeof(int))
			memcpy(&iv, v, sizeof(int));
		else if (l == 1)
			iv = *(const unsigned char *)v;	/* Linux takes a byte for some IP options */
		else {
			sp_done(&b);
			return hj_err(EINVAL);
		}
		sp_int(&b, iv);
	}
	}
	return hj_call0(RUMPSP_SYS_setsockopt, &b);
}

static int
rump_getsockopt(int r, int level, int name, void *v, socklen_t *l)
{
	struct sp_buf b;
	struct sp_reply rep;
	uint32_t n;
	int64_t val = 0;
	if (v == NULL || l == NULL)
		return hj_err(EFAULT);
	if (level == SOL_SOCKET && name == SO_DOMAIN) {
		/* the kernel does not say; the family of the socket's name does */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (name_call(RUMPSP_SYS_getsockname, r, (struct sockaddr *)&ss, &sl) < 0)
			return -1;
		int fam = ss.ss_family;
		if (*l > sizeof(fam))
			*l = sizeof(fam);
		memcpy(v, &fam, *l);
		return 0;
	}
	const struct opt *o = find_opt(level, name);
	if (o == NULL)
		return hj_err(ENOPROTOOPT);
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, o->nblevel);
	sp_int(&b, o->nbname);
	int e = hj_call(RUMPSP_SYS_getsockopt, &b, &rep, &n);
	if (e)
		return hj_err(e);
	if (o->kind == OPT_BYTES) {
		const char *p;
		size_t len;
		if (n < 1 || sp_get_bytes(&rep, &p, &len)) {
			sp_reply_free(&rep);
			return hj_err(EPROTO);
		}
		if (*l > len)
			*l = len;
		memcpy(v, p, *l);
		sp_reply_free(&rep);
		return 0;
	}
	if (n >= 1 && !peek_none(&rep) && sp_get_int(&rep, &val)) {
		/* a list (a linger pair, say): its first integer */
		uint32_t m;
		if (sp_get_list(&rep, &m) || m < 1 || sp_get_int(&rep, &val))
			val = 0;
	}
	sp_reply_free(&rep);
	switch (o->kind) {
	case OPT_TIMEVAL: {
		struct timeval tv = {val / 1000000, val % 1000000};
		if (*l > sizeof(tv))
			*l = sizeof(tv);
		memcpy(v, &tv, *l);
		return 0;
	}
	case OPT_LINGER: {
		struct linger lg = {val != 0, 0};
		if (*l > sizeof(lg))
			*l = sizeof(lg);
		memcpy(v, &lg, *l);
		return 0;
	}
	case OPT_BOOL:
		val = val != 0;
		break;
	case OPT_ERRNO:
		val = val ? sp_errno_to_host((int)val) : 0;
		break;
	}
	int iv = (int)val;
	if (*l > sizeof(iv))
		*l = sizeof(iv);
	memcpy(v, &iv, *l);
	return 0;
}

int
setsockopt(int fd, int level, int name, const void *v, socklen_t l)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(setsockopt)(fd, level, name, v, l) : rump_setsockopt(r, level, name, v, l);
}

int
getsockopt(int fd, int level, int name, void *v, socklen_t *l)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(getsockopt)(fd, level, name, v, l) : rump_getsockopt(r, level, name, v, l);
}

/* ------------------------------------------------------------ data */

HOSTFN(ssize_t, send, (int, const void *, size_t, int))
HOSTFN(ssize_t, recv, (int, void *, size_t, int))
HOSTFN(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t))
HOSTFN(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *))
HOSTFN(ssize_t, sendmsg, (int, const struct msghdr *, int))
HOSTFN(ssize_t, recvmsg, (int, struct msghdr *, int))
HOSTFN(int, sendmmsg, (int, struct mmsghdr *, unsigned int, int))
HOSTFN(int, recvmmsg, (int, struct mmsghdr *, unsigned int, int, struct timespec *))

static ssize_t
rump_sendto(int r, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t l)
{
	struct sp_buf b;
	if (n > RUMPSP_MAX_IO)
		n = RUMPSP_MAX_IO;
	sp_begin(&b);
	sp_int(&b, r);
	sp_bytes(&b, buf, n);
	sp_int(&b, msg_to_rump(flags));
	int e = put_sockaddr(&b, a, l);
	if (e) {
		sp_done(&b);
		return hj_err(e);
	}
	return hj_call_int(RUMPSP_SYS_sendto, &b);
}

static ssize_t
rump_recvfrom(int r, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *l)
{
	struct sp_buf b;
	struct sp_reply rep;
	uint32_t nres;
	const char *p;
	size_t len;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	if (n > RUMPSP_MAX_IO)
		n = RUMPSP_MAX_IO;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, (int64_t)n);
	sp_int(&b, msg_to_rump(flags));
	int e = hj_call(RUMPSP_SYS_recvfrom, &b, &rep, &nres);
	if (e)
		return hj_err(e);
	e = nres < 1 || sp_get_bytes(&rep, &p, &len) || len > n ||
	    (nres >= 2 && get_sockaddr(&rep, &ss, &sl));
	if (e) {
		sp_reply_free(&rep);
		return hj_err(EPROTO);
	}
	memcpy(buf, p, len);
	sp_reply_free(&rep);
	if (a && l) {
		if (sl)
			addr_out(&ss, sl, a, l);
		else
			*l = 0;
	}
	return len;
}

ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(send)(fd, buf, n, flags) : rump_sendto(r, buf, n, flags, NULL, 0);
}

ssize_t
sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t l)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(sendto)(fd, buf, n, flags, a, l) : rump_sendto(r, buf, n, flags, a, l);
}

ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(recv)(fd, buf, n, flags) : rump_recvfrom(r, buf, n, flags, NULL, NULL);
}

ssize_t
__recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	if (n > buflen)
		abort();
	return recv(fd, buf, n, flags);
}

ssize_t
recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *l)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(recvfrom)(fd, buf, n, flags, a, l) : rump_recvfrom(r, buf, n, flags, a, l);
}

ssize_t
__recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *a, socklen_t *l)
{
	if (n > buflen)
		abort();
	return recvfrom(fd, buf, n, flags, a, l);
}

/* the program's control messages as the kernel's list; 0 or an errno */
static int
put_control(struct sp_buf *b, const struct msghdr *m)
{
	struct cmsghdr *c;
	uint32_t count = 0;
	if (m->msg_control == NULL || m->msg_controllen == 0) {
		sp_none(b);
		return 0;
	}
	for (c = CMSG_FIRSTHDR((struct msghdr *)m); c; c = CMSG_NXTHDR((struct msghdr *)m, c))
		count++;
	sp_list(b, count);
	for (c = CMSG_FIRSTHDR((struct msghdr *)m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_len < CMSG_LEN(0) ||
		    (char *)c + c->cmsg_len > (char *)m->msg_control + m->msg_controllen)
			return EINVAL;
		size_t dlen = c->cmsg_len - CMSG_LEN(0);
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			if (dlen / sizeof(int) > 1024)
				return EINVAL;
			int nfd = dlen / sizeof(int);
			int *fds = (int *)CMSG_DATA(c);
			int *rfds = alloca(sizeof(int) * (nfd ? nfd : 1));
			for (int i = 0; i < nfd; i++) {
				rfds[i] = hj_rumpfd(fds[i]);
				if (rfds[i] < 0)
					return EOPNOTSUPP;	/* a host descriptor cannot enter the kernel */
			}
			sp_list(b, 3);
			sp_int(b, NB_SOL_SOCKET);
			sp_int(b, NB_SCM_RIGHTS);
			sp_bytes(b, rfds, sizeof(int) * nfd);
		} else
			return EOPNOTSUPP;
	}
	return 0;
}

static ssize_t
rump_sendmsg(int r, const struct msghdr *m, int flags)
{
	struct sp_buf b;
	if (m->msg_iovlen > 1024)
		return hj_err(EMSGSIZE);	/* Linux's UIO_MAXIOV */
	/* at most one request's worth: a stream socket reports the part it sent */
	size_t niov = 0, total = 0;
	while (niov < m->msg_iovlen && total < RUMPSP_MAX_IO)
		total += m->msg_iov[niov++].iov_len;
	sp_begin(&b);
	sp_int(&b, r);
	sp_list(&b, niov);
	total = 0;
	for (size_t i = 0; i < niov; i++) {
		size_t len = m->msg_iov[i].iov_len;
		if (len > RUMPSP_MAX_IO - total)
			len = RUMPSP_MAX_IO - total;
		sp_bytes(&b, m->msg_iov[i].iov_base, len);
		total += len;
	}
	int e = put_control(&b, m);
	if (e == 0) {
		sp_int(&b, msg_to_rump(flags));
		e = put_sockaddr(&b, m->msg_name, m->msg_namelen);
	}
	if (e) {
		sp_done(&b);
		return hj_err(e);
	}
	return hj_call_int(RUMPSP_SYS_sendmsg, &b);
}

/* one control message laid out at *used in m's buffer; 0, or -1 if it does not fit */
static int
put_cmsg(struct msghdr *m, size_t *used, size_t cap, int level, int type, const void *data, size_t n)
{
	if (*used + CMSG_LEN(n) > cap)		/* the last one needs no padding after it */
		return -1;
	struct cmsghdr *c = (struct cmsghdr *)((char *)m->msg_control + *used);
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(n);
	memcpy(CMSG_DATA(c), data, n);
	*used += CMSG_SPACE(n) < cap - *used ? CMSG_SPACE(n) : cap - *used;
	return 0;
}

/* the kernel's control list into m's buffer; MSG_CTRUNC in *mflags for what does not fit */
static int
get_control(struct sp_reply *rep, struct msghdr *m, int *mflags)
{
	uint32_t count;
	size_t used = 0, cap = m->msg_control ? m->msg_controllen : 0;
	if (peek_none(rep)) {
		m->msg_controllen = 0;
		return 0;
	}
	if (sp_get_list(rep, &count))
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t k;
		int64_t level, type;
		const char *p;
		size_t n;
		if (sp_get_list(rep, &k) || k < 3 || sp_get_int(rep, &level) || sp_get_int(rep, &type) ||
		    sp_get_bytes(rep, &p, &n))
			return -1;
		for (uint32_t j = 3; j < k; j++)
			if (sp_skip(rep))
				return -1;
		int full = 0;
		if (level == NB_SOL_SOCKET && type == NB_SCM_RIGHTS) {
			/* as many as fit, as Linux does; the rest are closed */
			if (n / sizeof(int) > 4096)
				return -1;	/* more than any kernel message holds */
			int nfd = n / sizeof(int), nfit = 0;
			if (cap >= used + CMSG_LEN(0))
				nfit = (cap - used - CMSG_LEN(0)) / sizeof(int);
			if (nfit > nfd)
				nfit = nfd;
			int *fds = alloca(sizeof(int) * (nfd ? nfd : 1));
			for (int j = 0; j < nfd; j++) {
				int rf;
				memcpy(&rf, p + j * sizeof(int), sizeof(int));
				if (j < nfit)
					fds[j] = hj_newfd(rf);
				else
					hj_rump_close(rf);
			}
			if (nfit)
				put_cmsg(m, &used, cap, SOL_SOCKET, SCM_RIGHTS, fds, sizeof(int) * nfit);
			full = nfit < nfd;
		} else if (level == NB_SOL_SOCKET && type == NB_SCM_TIMESTAMP && n >= 12) {
			int64_t sec;
			int32_t usec;
			memcpy(&sec, p, 8);
			memcpy(&usec, p + 8, 4);
			struct timeval tv = {sec, usec};
			full = put_cmsg(m, &used, cap, SOL_SOCKET, SCM_TIMESTAMP, &tv, sizeof(tv));
		} else if (level == NB_SOL_SOCKET && type == NB_SCM_CREDS && n >= 20) {
			/* NetBSD's sockcred {pid, uid, euid, gid, egid, ...}: Linux's ucred */
			int32_t f[5];
			memcpy(f, p, sizeof(f));
			struct ucred uc = {f[0], (uid_t)f[1], (gid_t)f[3]};
			full = put_cmsg(m, &used, cap, SOL_SOCKET, SCM_CREDENTIALS, &uc, sizeof(uc));
		} else if (level == IPPROTO_IP && type == NB_IP_RECVTTL && n >= 1) {
			int ttl = (unsigned char)p[0];
			full = put_cmsg(m, &used, cap, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
		}
		/* others have no Linux form and are left out */
		if (full)
			*mflags |= MSG_CTRUNC;
	}
	m->msg_controllen = used;
	return 0;
}

static ssize_t
rump_recvmsg(int r, struct msghdr *m, int flags)
{
	struct sp_buf b;
	struct sp_reply rep;
	uint32_t nres;
	const char *p;
	size_t len, want = 0;
	int64_t mf = 0;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	if (m->msg_iovlen > 1024)
		return hj_err(EMSGSIZE);
	for (size_t i = 0; i < m->msg_iovlen; i++)
		want += m->msg_iov[i].iov_len;
	if (want > RUMPSP_MAX_IO)
		want = RUMPSP_MAX_IO;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, (int64_t)want);
	/* room in the kernel's sizes: NetBSD's sockcred is larger than Linux's ucred; what
	 * does not fit the program's buffer in Linux's layout is dropped (MSG_CTRUNC) below */
	sp_int(&b, m->msg_control && m->msg_controllen ? (int64_t)m->msg_controllen * 2 + 64 : 0);
	sp_int(&b, msg_to_rump(flags));
	int e = hj_call(RUMPSP_SYS_recvmsg, &b, &rep, &nres);
	if (e)
		return hj_err(e);
	if (nres < 4 || sp_get_bytes(&rep, &p, &len) || len > want || get_sockaddr(&rep, &ss, &sl)) {
		sp_reply_free(&rep);
		return hj_err(EPROTO);
	}
	size_t done = 0;
	for (size_t i = 0; i < m->msg_iovlen && done < len; i++) {
		size_t take = len - done < m->msg_iov[i].iov_len ? len - done : m->msg_iov[i].iov_len;
		memcpy(m->msg_iov[i].iov_base, p + done, take);
		done += take;
	}
	int lxflags = 0;
	if (get_control(&rep, m, &lxflags) || sp_get_int(&rep, &mf)) {
		sp_reply_free(&rep);
		return hj_err(EPROTO);
	}
	sp_reply_free(&rep);
	m->msg_flags = msg_from_rump((int)mf) | lxflags;
	if (m->msg_name) {
		if (sl) {
			socklen_t l = m->msg_namelen;
			addr_out(&ss, sl, m->msg_name, &l);
			m->msg_namelen = l;
		} else
			m->msg_namelen = 0;
	}
	return len;
}

ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(sendmsg)(fd, m, flags) : rump_sendmsg(r, m, flags);
}

ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(recvmsg)(fd, m, flags) : rump_recvmsg(r, m, flags);
}

/* the batch calls: one message at a time, stopping at the first error after one went */
int
sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(sendmmsg)(fd, v, n, flags);
	unsigned int i;
	for (i = 0; i < n && i < 1024; i++) {
		ssize_t got = rump_sendmsg(r, &v[i].msg_hdr, flags);
		if (got < 0)
			return i ? (int)i : -1;
		v[i].msg_len = got;
	}
	return i;
}

int
recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *timeout)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(recvmmsg)(fd, v, n, flags, timeout);
	unsigned int i;
	int waitone = flags & MSG_WAITFORONE;
	flags &= ~MSG_WAITFORONE;
	for (i = 0; i < n && i < 1024; i++) {
		ssize_t got = rump_recvmsg(r, &v[i].msg_hdr, i && waitone ? flags | MSG_DONTWAIT : flags);
		if (got < 0)
			return i ? (int)i : -1;
		v[i].msg_len = got;
	}
	return i;
}
