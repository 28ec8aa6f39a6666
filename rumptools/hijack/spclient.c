/*
 * spclient.c: the sysproxy client of librumphijack (see spclient.h for the
 * locking rule and man/rump_sp.7 for the protocol).
 *
 * Every host call made here is a raw syscall(2), never a libc function the
 * hijack library interposes, so the library's own traffic cannot loop back
 * into its wrappers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <linux/futex.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "spclient.h"

/* NetBSD errnos Linux lacks: the nearest Linux meaning */
#ifndef EFTYPE
#define EFTYPE EINVAL
#endif
#ifndef EAUTH
#define EAUTH EACCES
#endif
#ifndef ENEEDAUTH
#define ENEEDAUTH EACCES
#endif
#ifndef EBADRPC
#define EBADRPC EPROTO
#endif
#ifndef ERPCMISMATCH
#define ERPCMISMATCH EPROTO
#endif
#ifndef EPROGUNAVAIL
#define EPROGUNAVAIL EPROTO
#endif
#ifndef EPROGMISMATCH
#define EPROGMISMATCH EPROTO
#endif
#ifndef EPROCUNAVAIL
#define EPROCUNAVAIL EPROTO
#endif
#ifndef EPROCLIM
#define EPROCLIM EAGAIN
#endif
#ifndef ENOATTR
#define ENOATTR ENODATA
#endif

int
sp_errno_to_host(int e)
{
	switch (e) {
#define SP_MAPERR(num, name) case num: return name;
	RUMPSP_ERRNO_LIST(SP_MAPERR)
#undef SP_MAPERR
	default:
		return EIO;
	}
}

/* ---------------------------------------------------------------- values */

static void
buf_need(struct sp_buf *b, size_t more)
{
	size_t want = b->len + more;
	char *np;

	if (want <= b->cap)
		return;
	size_t cap = b->cap * 2;
	while (cap < want)
		cap *= 2;
	if (b->p == b->small) {
		np = malloc(cap);
		if (np)
			memcpy(np, b->p, b->len);
	} else
		np = realloc(b->p, cap);
	if (np == NULL)
		abort();	/* out of memory in the middle of a call */
	b->p = np;
	b->cap = cap;
}

static void
put_u32(char *p, uint32_t v)
{
	p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static void
put_u64(char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint32_t
get_u32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return u[0] | u[1] << 8 | u[2] << 16 | (uint32_t)u[3] << 24;
}

static uint64_t
get_u64(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | u[i];
	return v;
}

/* the body starts after room for a frame header, so a call sends one buffer */
void
sp_begin(struct sp_buf *b)
{
	b->p = b->small;
	b->cap = sizeof(b->small);
	b->len = RUMPSP_HEADER_SIZE;
	b->p[b->len++] = RUMPSP_TAG_LIST;
	b->count_at = b->len;
	b->len += 4;
	b->count = 0;
}

void
sp_int(struct sp_buf *b, int64_t v)
{
	buf_need(b, 9);
	b->p[b->len] = RUMPSP_TAG_INT;
	put_u64(b->p + b->len + 1, (uint64_t)v);
	b->len += 9;
	b->count++;
}

void
sp_none(struct sp_buf *b)
{
	buf_need(b, 1);
	b->p[b->len++] = RUMPSP_TAG_NONE;
	b->count++;
}

static void
put_blob(struct sp_buf *b, char tag, const void *data, size_t n)
{
	buf_need(b, 5 + n);
	b->p[b->len] = tag;
	put_u32(b->p + b->len + 1, (uint32_t)n);
	if (n)
		memcpy(b->p + b->len + 5, data, n);
	b->len += 5 + n;
	b->count++;
}

void
sp_bytes(struct sp_buf *b, const void *data, size_t n)
{
	put_blob(b, RUMPSP_TAG_BYTES, data, n);
}

void
sp_str(struct sp_buf *b, const char *s)
{
	put_blob(b, RUMPSP_TAG_STR, s, strlen(s));
}

/* a nested list: its items are counted in it, not in the outer list */
void
sp_list(struct sp_buf *b, uint32_t n)
{
	buf_need(b, 5);
	b->p[b->len] = RUMPSP_TAG_LIST;
	put_u32(b->p + b->len + 1, n);
	b->len += 5;
	b->count++;
	b->count -= n;		/* the caller's n values are not the outer list's */
}

void
sp_done(struct sp_buf *b)
{
	if (b->p != b->small)
		free(b->p);
	b->p = NULL;
}

int
sp_get_list(struct sp_reply *r, uint32_t *n)
{
	if (r->pos + 5 > r->len || r->body[r->pos] != RUMPSP_TAG_LIST)
		return -1;
	*n = get_u32(r->body + r->pos + 1);
	r->pos += 5;
	return 0;
}

int
sp_get_int(struct sp_reply *r, int64_t *v)
{
	if (r->pos + 9 > r->len || r->body[r->pos] != RUMPSP_TAG_INT)
		return -1;
	*v = (int64_t)get_u64(r->body + r->pos + 1);
	r->pos += 9;
	return 0;
}

int
sp_get_bytes(struct sp_reply *r, const char **p, size_t *n)
{
	if (r->pos + 5 > r->len)
		return -1;
	char tag = r->body[r->pos];
	if (tag != RUMPSP_TAG_BYTES && tag != RUMPSP_TAG_STR)
		return -1;
	uint32_t len = get_u32(r->body + r->pos + 1);
	if (len > r->len - r->pos - 5)
		return -1;
	*p = r->body + r->pos + 5;
	*n = len;
	r->pos += 5 + len;
	return 0;
}

/* Lists nest at most this deep in any reply the table describes (dirents: 2);
 * a deeper one is malformed, and refusing it keeps a hostile server from
 * running the program's stack out through the recursion. */
#define SP_MAX_DEPTH 32

static int
sp_skip_depth(struct sp_reply *r, int depth)
{
	if (r->pos >= r->len || depth > SP_MAX_DEPTH)
		return -1;
	switch (r->body[r->pos]) {
	case RUMPSP_TAG_NONE:
		r->pos++;
		return 0;
	case RUMPSP_TAG_INT: {
		int64_t v;
		return sp_get_int(r, &v);
	}
	case RUMPSP_TAG_BYTES:
	case RUMPSP_TAG_STR: {
		const char *p;
		size_t n;
		return sp_get_bytes(r, &p, &n);
	}
	case RUMPSP_TAG_LIST: {
		uint32_t n;
		if (sp_get_list(r, &n))
			return -1;
		while (n--)
			if (sp_skip_depth(r, depth + 1))
				return -1;
		return 0;
	}
	}
	return -1;
}

int
sp_skip(struct sp_reply *r)
{
	return sp_skip_depth(r, 0);
}

void
sp_reply_free(struct sp_reply *r)
{
	free(r->body);
	r->body = NULL;
}

/* ------------------------------------------------------------ raw host I/O */

static ssize_t
raw_write(int fd, const void *p, size_t n)
{
	return syscall(SYS_sendto, fd, p, n, MSG_NOSIGNAL, NULL, 0);
}

static ssize_t
raw_read(int fd, void *p, size_t n)
{
	return syscall(SYS_read, fd, p, n);
}

static void
raw_close(int fd)
{
	syscall(SYS_close, fd);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = raw_write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		n -= w;
	}
	return 0;
}

static void reader_interrupted(void);

static int
read_all(int fd, char *p, size_t n)
{
	while (n) {
		ssize_t got = raw_read(fd, p, n);
		if (got == 0)
			return ECONNRESET;
		if (got < 0) {
			if (errno == EINTR) {
				reader_interrupted();
				continue;
			}
			return errno;
		}
		p += got;
		n -= got;
	}
	return 0;
}

/* ------------------------------------------------------------ the address */

static struct {
	int family;
	struct sockaddr_storage sa;
	socklen_t salen;
	char url[200];		/* absolute form, for RUMP__PARSEDSERVER */
} addr;

static int
parse_url(const char *text)
{
	const char *sep = strstr(text, "://");
	if (sep == NULL) {
		fprintf(stderr, "rump_sp: invalid locator ``%s''\n", text);
		return EINVAL;
	}
	size_t idlen = sep - text;
	if (idlen > 15) {
		fprintf(stderr, "rump_sp: identifier too long in ``%s''\n", text);
		return EINVAL;
	}
	const char *rest = sep + 3;
	if (idlen == 4 && strncmp(text, "unix", 4) == 0) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&addr.sa;
		char path[4200];
		if (*rest == '\0') {
			fprintf(stderr, "rump_sp: empty unix path in ``%s''\n", text);
			return EINVAL;
		}
		if (*rest == '/')
			snprintf(path, sizeof(path), "%s", rest);
		else {
			char cwd[4096];
			if (syscall(SYS_getcwd, cwd, sizeof(cwd)) < 0)
				return errno;
			snprintf(path, sizeof(path), "%s/%s", cwd, rest);
		}
		if (strlen(path) >= sizeof(sun->sun_path)) {
			fprintf(stderr, "rump_sp: socket path too long: %s\n", path);
			return ENAMETOOLONG;
		}
		memset(sun, 0, sizeof(*sun));
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, path);
		addr.family = AF_UNIX;
		addr.salen = sizeof(*sun);
		snprintf(addr.url, sizeof(addr.url), "unix://%s", path);
		return 0;
	}
	if (idlen == 4 && strncmp(text, "tcp6", 4) == 0) {
		fprintf(stderr, "rump_sp: support not yet implemented\n");
		return EOPNOTSUPP;
	}
	if (!(idlen == 3 && strncmp(text, "tcp", 3) == 0)) {
		fprintf(stderr, "rump_sp: invalid identifier ``%s''\n", text);
		return EINVAL;
	}
	char host[64];
	const char *portp;
	int v6 = 0;
	if (*rest == '[') {
		const char *end = strchr(rest, ']');
		if (end == NULL || end[1] != ':') {
			fprintf(stderr, "rump_sp_tcp: missing port specifier\n");
			return EINVAL;
		}
		if ((size_t)(end - rest - 1) >= sizeof(host)) {
			fprintf(stderr, "rump_sp_tcp: address too long\n");
			return EINVAL;
		}
		memcpy(host, rest + 1, end - rest - 1);
		host[end - rest - 1] = '\0';
		portp = end + 2;
		v6 = 1;
	} else {
		const char *colon = strchr(rest, ':');
		if (colon == NULL) {
			fprintf(stderr, "rump_sp_tcp: missing port specifier\n");
			return EINVAL;
		}
		if ((size_t)(colon - rest) >= sizeof(host)) {
			fprintf(stderr, "rump_sp_tcp: address too long\n");
			return EINVAL;
		}
		memcpy(host, rest, colon - rest);
		host[colon - rest] = '\0';
		portp = colon + 1;
	}
	if (*portp < '0' || *portp > '9') {
		fprintf(stderr, "rump_sp_tcp: port now found: %s\n", portp);
		return EINVAL;
	}
	char *end;
	long port = strtol(portp, &end, 10);
	if (*end != '\0' && strcmp(end, "/") != 0) {
		fprintf(stderr, "rump_sp_tcp: junk at end of port: %s\n", end);
		return EINVAL;
	}
	if (port < 0 || port > 65535) {
		fprintf(stderr, "rump_sp_tcp: port %ld out of range\n", port);
		return ERANGE;
	}
	memset(&addr.sa, 0, sizeof(addr.sa));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&addr.sa;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
			fprintf(stderr, "rump_sp_tcp: cannot parse address\n");
			return EINVAL;
		}
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr)) {
			fprintf(stderr, "rump_sp_tcp: client needs !INADDR_ANY\n");
			return EINVAL;
		}
		addr.family = AF_INET6;
		addr.salen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&addr.sa;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
			fprintf(stderr, "rump_sp_tcp: cannot parse address\n");
			return EINVAL;
		}
		if (s4->sin_addr.s_addr == INADDR_ANY) {
			fprintf(stderr, "rump_sp_tcp: client needs !INADDR_ANY\n");
			return EINVAL;
		}
		addr.family = AF_INET;
		addr.salen = sizeof(*s4);
	}
	snprintf(addr.url, sizeof(addr.url), "%s", text);
	return 0;
}

/* ------------------------------------------------------------ connection */

#define NSLOTS 128

struct slot {
	uint64_t reqno;		/* 0: free */
	int done;		/* 1: reply in; -1: connection lost */
	int cls, arg;
	char *body;
	size_t len;
};

static pthread_mutex_t sp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sp_sendlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sp_reconnlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sp_cond = PTHREAD_COND_INITIALIZER;
static struct slot slots[NSLOTS];
static int sock = -1;
static int reading;
static uint64_t next_reqno;
static unsigned generation;
static char comm[32] = "???";
static int retry_policy;	/* 0 none, >0 seconds, -1 inftime, -2 once, -3 die */

#define RETRY_NONE 0
#define RETRY_INFTIME (-1)
#define RETRY_ONCE (-2)
#define RETRY_DIE (-3)

static int park_high_avoiding(int fd, int avoid);

int
sp_connected(void)
{
	return sock >= 0;
}

int
sp_sockfd(void)
{
	return sock;
}

/*
 * The program wants our descriptor's number (dup2 onto it): the connection
 * moves to another free high number first.  Only between calls of the
 * program's other threads is this safe; a program that dup2s onto a
 * descriptor it never opened is racing with itself anyway.
 */
int
sp_move_sock(void)
{
	pthread_mutex_lock(&sp_sendlock);
	pthread_mutex_lock(&sp_lock);
	int old = sock, e = 0;
	if (old >= 0) {
		int nfd = syscall(SYS_fcntl, old, F_DUPFD_CLOEXEC, 3);
		if (nfd < 0)
			e = errno;
		else {
			int moved = park_high_avoiding(nfd, old);
			sock = moved;
			raw_close(old);
		}
	}
	pthread_mutex_unlock(&sp_lock);
	pthread_mutex_unlock(&sp_sendlock);
	return e;
}

int
sp_set_retry(const char *text)
{
	if (strcmp(text, "inftime") == 0)
		retry_policy = RETRY_INFTIME;
	else if (strcmp(text, "once") == 0)
		retry_policy = RETRY_ONCE;
	else if (strcmp(text, "die") == 0)
		retry_policy = RETRY_DIE;
	else {
		char *end;
		long v;
		if (*text < '0' || *text > '9')
			return -1;
		errno = 0;
		v = strtol(text, &end, 10);
		if (*end || v <= 0 || errno)
			return -1;
		retry_policy = (int)(v > 1000000000 ? 1000000000 : v);
	}
	return 0;
}

/*
 * Keep the connection on a high descriptor, out of the way of programs
 * that count up from 0 (dup2 onto 0-2, shells' 10 and up): the highest free
 * one below the descriptor limit (at most 65535), close-on-exec.
 */
static int
park_high(int fd)
{
	return park_high_avoiding(fd, -1);
}

static int
park_high_avoiding(int fd, int avoid)
{
	struct rlimit rl;
	int top = 1024;
	if (syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 16)
		top = rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur;
	for (int cand = top - 1, tries = 0; cand > 2 && tries < 64; cand--, tries++) {
		if (cand == fd)
			return fd;
		if (cand == avoid || syscall(SYS_fcntl, cand, F_GETFD) >= 0)
			continue;
		if (syscall(SYS_dup3, fd, cand, O_CLOEXEC) == cand) {
			raw_close(fd);
			return cand;
		}
	}
	return fd;
}

static int
open_socket(int *out)
{
	int s = syscall(SYS_socket, addr.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errno;
	while (syscall(SYS_connect, s, &addr.sa, addr.salen) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		raw_close(s);
		return e;
	}
	if (addr.family != AF_UNIX) {
		int one = 1;
		syscall(SYS_setsockopt, s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	/* the banner */
	char line[RUMPSP_BANNER_MAX + 1];
	size_t n = 0;
	while (n < RUMPSP_BANNER_MAX) {
		ssize_t got = raw_read(s, line + n, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			raw_close(s);
			return ECONNRESET;
		}
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	if (n == 0 || line[n - 1] != '\n' || strncmp(line, "RUMPSP-", 7) != 0 ||
	    atoi(line + 7) != RUMPSP_PROTOCOL_MAJOR) {
		raw_close(s);
		return EPROTO;
	}
	*out = park_high(s);
	return 0;
}

static void
fill_header(char *p, size_t len, uint64_t reqno, int cls, int type, int32_t arg)
{
	put_u64(p, len);
	put_u64(p + 8, reqno);
	p[16] = cls; p[17] = cls >> 8;
	p[18] = type; p[19] = type >> 8;
	put_u32(p + 20, (uint32_t)arg);
}

/* reply bodies of requests nobody waits for are dropped; RAISE is acted on */
static void
server_request(int type, int arg)
{
	static const int netbsd_to_linux[33] = {
		0, SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, 0 /* EMT */, SIGFPE,
		SIGKILL, SIGBUS, SIGSEGV, SIGSYS, SIGPIPE, SIGALRM, SIGTERM, SIGURG,
		SIGSTOP, SIGTSTP, SIGCONT, SIGCHLD, SIGTTIN, SIGTTOU, SIGIO, SIGXCPU,
		SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, 0 /* INFO */, SIGUSR1, SIGUSR2, SIGPWR,
	};
	if (type == RUMPSP_TYPE_RAISE && arg > 0 && arg <= 32 && netbsd_to_linux[arg])
		syscall(SYS_kill, syscall(SYS_getpid), netbsd_to_linux[arg]);
}

/*
 * The reader's buffer: one recv usually brings a whole reply (header and
 * body), so a call costs one send and one receive.  Only the thread in the
 * reader role touches it; a new connection empties it.
 */
static char rbuf[65536];
static size_t rpos, rlen;

static int
buffered_read(int fd, char *p, size_t n)
{
	size_t take = rlen - rpos < n ? rlen - rpos : n;
	memcpy(p, rbuf + rpos, take);
	rpos += take;
	p += take;
	n -= take;
	if (n >= sizeof(rbuf))
		return read_all(fd, p, n);	/* big bodies go straight to their buffer */
	while (n) {
		ssize_t got = raw_read(fd, rbuf, sizeof(rbuf));
		if (got == 0)
			return ECONNRESET;
		if (got < 0) {
			if (errno == EINTR) {
				reader_interrupted();
				continue;
			}
			return errno;
		}
		rpos = 0;
		rlen = got;
		take = rlen < n ? rlen : n;
		memcpy(p, rbuf, take);
		rpos = take;
		p += take;
		n -= take;
	}
	return 0;
}

/* read one frame; 0 or an errno (the connection is then unusable) */
static int
read_frame(int fd, uint64_t *reqno, int *cls, int *type, int *arg, char **body, size_t *len)
{
	char h[RUMPSP_HEADER_SIZE];
	int e = buffered_read(fd, h, sizeof(h));
	if (e)
		return e;
	uint64_t flen = get_u64(h);
	if (flen < RUMPSP_HEADER_SIZE || flen > RUMPSP_MAX_FRAME)
		return EPROTO;
	*reqno = get_u64(h + 8);
	*cls = (unsigned char)h[16] | (unsigned char)h[17] << 8;
	*type = (unsigned char)h[18] | (unsigned char)h[19] << 8;
	*arg = (int32_t)get_u32(h + 20);
	*len = flen - RUMPSP_HEADER_SIZE;
	*body = NULL;
	if (*len) {
		*body = malloc(*len);
		if (*body == NULL)
			return ENOMEM;
		e = buffered_read(fd, *body, *len);
		if (e) {
			free(*body);
			*body = NULL;
			return e;
		}
	}
	return 0;
}

/*
 * Waking waiters.  Threads that wait for their reply while another thread
 * reads sleep on the futex word sp_seq, not on a condition variable, so
 * that a signal handler run in them interrupts the wait as it would the
 * host's own system call: with SA_RESTART the kernel restarts the futex
 * wait (and our read of the socket) by itself, without it the wait fails
 * with EINTR, and the thread asks the server to interrupt its call
 * (rump_sp(7), INTERRUPT).  With sp_lock held.
 */
static unsigned int sp_seq;
static int sp_futex_waiters;

static void
wake_all(void)
{
	sp_seq++;
	pthread_cond_broadcast(&sp_cond);
	if (sp_futex_waiters)
		syscall(SYS_futex, &sp_seq, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

/* with sp_lock held: every waiter of this generation learns the connection is gone */
static void
fail_all(void)
{
	for (int i = 0; i < NSLOTS; i++)
		if (slots[i].reqno && !slots[i].done)
			slots[i].done = -1;
	wake_all();
}

/* ask the server to interrupt request reqno on connection fd; no response comes */
static void
send_interrupt(int fd, uint64_t reqno)
{
	char h[RUMPSP_HEADER_SIZE];
	fill_header(h, sizeof(h), reqno, RUMPSP_CLASS_REQ, RUMPSP_TYPE_INTERRUPT, 0);
	pthread_mutex_lock(&sp_sendlock);
	write_all(fd, h, sizeof(h));
	pthread_mutex_unlock(&sp_sendlock);
}

/* the calling thread's call in progress, for a signal that interrupts it */
static __thread struct {
	uint64_t reqno;		/* 0: none */
	int fd;
	int interrupted;	/* INTERRUPT sent for it */
} cur;

/* the thread's cancellation handle, if it made one (sp_cancel_arm) */
static __thread struct sp_cancel *cur_cancel;

/* the reader's read of the socket failed with EINTR: a handler ran without SA_RESTART */
static void
reader_interrupted(void)
{
	if (cur.reqno && !cur.interrupted) {
		cur.interrupted = 1;
		send_interrupt(cur.fd, cur.reqno);
	}
}

void
sp_cancel_arm(struct sp_cancel *c)
{
	c->reqno = 0;
	c->fd = -1;
	c->want = 0;
	cur_cancel = c;
}

void
sp_cancel_disarm(void)
{
	pthread_mutex_lock(&sp_lock);
	cur_cancel = NULL;
	pthread_mutex_unlock(&sp_lock);
}

/* another thread: interrupt the call c's thread makes now or next */
void
sp_cancel(struct sp_cancel *c)
{
	pthread_mutex_lock(&sp_lock);
	c->want = 1;
	uint64_t reqno = c->reqno;
	int fd = c->fd;
	pthread_mutex_unlock(&sp_lock);
	if (reqno)
		send_interrupt(fd, reqno);
}

/*
 * Send a prepared frame (header room at b->p) and wait for its reply.
 * Returns 0 with cls/arg/body filled, or ENOTCONN-like errno when the
 * connection is gone (then *lostgen tells which connection).
 */
static int
roundtrip(char *frame, size_t flen, int type, int32_t arg, int *cls, int *rarg,
    char **body, size_t *blen, unsigned *lostgen)
{
	struct slot *me = NULL;
	int fd;

	pthread_mutex_lock(&sp_lock);
	*lostgen = generation;
	fd = sock;
	if (fd < 0) {
		pthread_mutex_unlock(&sp_lock);
		return ENOTCONN;
	}
	while (me == NULL) {
		for (int i = 0; i < NSLOTS; i++)
			if (slots[i].reqno == 0) {
				me = &slots[i];
				break;
			}
		if (me == NULL)
			pthread_cond_wait(&sp_cond, &sp_lock);
	}
	me->reqno = ++next_reqno;
	me->done = 0;
	me->body = NULL;
	struct sp_cancel *cc = type == RUMPSP_TYPE_SYSCALL ? cur_cancel : NULL;
	if (cc) {
		cc->reqno = me->reqno;
		cc->fd = fd;
	}
	pthread_mutex_unlock(&sp_lock);

	fill_header(frame, flen, me->reqno, RUMPSP_CLASS_REQ, type, arg);
	pthread_mutex_lock(&sp_sendlock);
	int e = write_all(fd, frame, flen);
	pthread_mutex_unlock(&sp_sendlock);

	pthread_mutex_lock(&sp_lock);
	if (e) {
		if (generation == *lostgen)
			fail_all();
		me->reqno = 0;
		if (cc)
			cc->reqno = 0;
		wake_all();
		pthread_mutex_unlock(&sp_lock);
		return ENOTCONN;
	}
	if (cc && cc->want) {
		pthread_mutex_unlock(&sp_lock);
		send_interrupt(fd, me->reqno);
		pthread_mutex_lock(&sp_lock);
	}
	if (type == RUMPSP_TYPE_SYSCALL) {
		cur.reqno = me->reqno;
		cur.fd = fd;
		cur.interrupted = 0;
	}
	while (!me->done) {
		if (reading) {
			unsigned int seq = sp_seq;
			sp_futex_waiters++;
			pthread_mutex_unlock(&sp_lock);
			long rc = syscall(SYS_futex, &sp_seq, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
			int werr = rc < 0 ? errno : 0;
			if (werr == EINTR)
				reader_interrupted();	/* the same: this thread's call is interrupted */
			pthread_mutex_lock(&sp_lock);
			sp_futex_waiters--;
			continue;
		}
		/* become the reader until our reply is in */
		reading = 1;
		pthread_mutex_unlock(&sp_lock);
		for (;;) {
			uint64_t rno;
			int c, t, a;
			char *bd;
			size_t bl;
			int re = read_frame(fd, &rno, &c, &t, &a, &bd, &bl);
			if (re) {
				pthread_mutex_lock(&sp_lock);
				if (generation == *lostgen)
					fail_all();
				break;
			}
			if (c == RUMPSP_CLASS_REQ) {
				free(bd);
				server_request(t, a);
				continue;
			}
			pthread_mutex_lock(&sp_lock);
			struct slot *s = NULL;
			for (int i = 0; i < NSLOTS; i++)
				if (slots[i].reqno == rno && !slots[i].done) {
					s = &slots[i];
					break;
				}
			if (s) {
				s->cls = c;
				s->arg = a;
				s->body = bd;
				s->len = bl;
				s->done = 1;
				if (s != me)
					wake_all();
			} else
				free(bd);
			if (me->done)
				break;
			pthread_mutex_unlock(&sp_lock);
		}
		reading = 0;
		wake_all();	/* someone else reads now */
	}
	cur.reqno = 0;
	if (cc)
		cc->reqno = 0;
	int ok = me->done == 1;
	*cls = me->cls;
	*rarg = me->arg;
	*body = me->body;
	*blen = me->len;
	me->reqno = 0;
	wake_all();
	pthread_mutex_unlock(&sp_lock);
	return ok ? 0 : ENOTCONN;
}

static int
handshake(int kind, struct sp_buf *b, int64_t *pid)
{
	int cls, arg;
	char *body;
	size_t blen;
	unsigned gen;
	int e = roundtrip(b->p, b->len, RUMPSP_TYPE_HANDSHAKE, kind, &cls, &arg, &body, &blen, &gen);
	if (e)
		return e;
	if (cls == RUMPSP_CLASS_ERROR) {
		free(body);
		static const int map[8] = {EINVAL, EAGAIN, EPERM, ESRCH, EIO, EBUSY, ENOMEM, EINVAL};
		return arg > 0 && arg < 8 ? map[arg] : EINVAL;
	}
	struct sp_reply r = {body, blen, 0, 0};
	uint32_t n;
	if (sp_get_list(&r, &n) || n < 1 || sp_get_int(&r, pid)) {
		free(body);
		return EPROTO;
	}
	free(body);
	return 0;
}

static int
guest_handshake(void)
{
	struct sp_buf b;
	int64_t pid;
	sp_begin(&b);
	sp_str(&b, comm);
	put_u32(b.p + b.count_at, b.count);
	int e = handshake(RUMPSP_HS_GUEST, &b, &pid);
	sp_done(&b);
	return e;
}

static void
set_sock(int fd)
{
	pthread_mutex_lock(&sp_lock);
	rpos = rlen = 0;
	sock = fd;
	generation++;
	pthread_mutex_unlock(&sp_lock);
}

int
sp_init(const char *name)
{
	const char *text = getenv("RUMP__PARSEDSERVER");
	if (text == NULL || *text == '\0')
		text = getenv("RUMP_SERVER");
	if (name && *name)
		snprintf(comm, sizeof(comm), "%.16s", name);
	if (text == NULL || *text == '\0')
		return ENOENT;
	int e = parse_url(text);
	if (e)
		return e;
	const char *execfd = getenv("RUMPCLIENT__EXECFD");
	if (execfd && *execfd) {
		int fd = atoi(execfd);
		unsetenv("RUMPCLIENT__EXECFD");
		unsetenv("RUMP__PARSEDSERVER");
		if (syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC) == 0) {
			struct sp_buf b;
			int64_t pid;
			set_sock(fd);
			sp_begin(&b);
			sp_str(&b, comm);
			put_u32(b.p + b.count_at, b.count);
			e = handshake(RUMPSP_HS_EXEC, &b, &pid);
			sp_done(&b);
			if (e == 0)
				return 0;
			set_sock(-1);
			raw_close(fd);
		}
		/* an unusable inherited connection: start afresh */
	}
	const char *hex = getenv("RUMPHIJACK__FORKCOOKIE");
	if (hex && strlen(hex) == 32) {
		/* spawned by a hijacked parent: claim the copy of its process */
		char cookie[16];
		for (int i = 0; i < 16; i++) {
			unsigned v;
			sscanf(hex + 2 * i, "%2x", &v);
			cookie[i] = (char)v;
		}
		unsetenv("RUMPHIJACK__FORKCOOKIE");
		unsetenv("RUMP__PARSEDSERVER");
		sp_fork_child(cookie);
		if (sock >= 0)
			return 0;
	}
	int fd;
	e = open_socket(&fd);
	if (e)
		return e;
	set_sock(fd);
	e = guest_handshake();
	if (e) {
		set_sock(-1);
		raw_close(fd);
	}
	return e;
}

static void
note(const char *msg)
{
	syscall(SYS_write, 2, msg, strlen(msg));
}

static void
pause_ds(int tenths)
{
	struct timespec ts = {tenths / 10, (tenths % 10) * 100000000L};
	while (syscall(SYS_nanosleep, &ts, &ts) < 0 && errno == EINTR)
		;
}

/* the connection of generation gen broke: reconnect by the policy; 0 if we may resend */
static int
lost(unsigned gen)
{
	pthread_mutex_lock(&sp_reconnlock);
	pthread_mutex_lock(&sp_lock);
	if (gen != generation) {		/* someone reconnected already */
		int ok = sock >= 0;
		pthread_mutex_unlock(&sp_lock);
		pthread_mutex_unlock(&sp_reconnlock);
		return ok ? 0 : ENOTCONN;
	}
	int old = sock;
	sock = -1;
	generation++;
	fail_all();
	pthread_mutex_unlock(&sp_lock);
	if (old >= 0) {
		syscall(SYS_shutdown, old, SHUT_RDWR);
		raw_close(old);
	}
	int policy = retry_policy, e = ENOTCONN;
	if (policy == RETRY_DIE)
		_exit(1);
	if (policy == RETRY_NONE) {
		pthread_mutex_unlock(&sp_reconnlock);
		return ENOTCONN;
	}
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	time_t last_note = start.tv_sec;
	for (int attempt = 0;; attempt++) {
		if (attempt == 1) {
			if (policy == RETRY_ONCE)
				break;
			note("rump_sp: connection to kernel lost, trying to reconnect ...\n");
		}
		if (attempt)
			pause_ds(attempt < 10 ? attempt : 10 * (attempt - 9 < 10 ? attempt - 9 : 10));
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (policy > 0 && now.tv_sec - start.tv_sec > policy) {
			char msg[96];
			snprintf(msg, sizeof(msg), "rump_sp: reconnect failed, %d second timeout\n", policy);
			note(msg);
			break;
		}
		if (now.tv_sec - last_note > 120) {
			note("rump_sp: still trying to reconnect ...\n");
			last_note = now.tv_sec;
		}
		int fd;
		if (open_socket(&fd) != 0)
			continue;
		set_sock(fd);
		if (guest_handshake() == 0) {
			if (attempt)
				note("rump_sp: reconnected!\n");
			e = 0;
			break;
		}
		pthread_mutex_lock(&sp_lock);
		sock = -1;
		generation++;
		pthread_mutex_unlock(&sp_lock);
		raw_close(fd);
	}
	pthread_mutex_unlock(&sp_reconnlock);
	return e;
}

/*
 * A signal handler that makes a rump call while its thread is inside one
 * (perhaps as the reader, whose reply only it can read) would wait for
 * itself: such a nested call fails with EINTR instead.
 */
static __thread int in_call;

int
sp_syscall(int number, struct sp_buf *b, struct sp_reply *r, uint32_t *nres)
{
	int cls, arg;
	char *body;
	size_t blen;
	unsigned gen;

	if (in_call)
		return EINTR;
	in_call = 1;
	put_u32(b->p + b->count_at, b->count);
	for (int tries = 0;; tries++) {
		int e = roundtrip(b->p, b->len, RUMPSP_TYPE_SYSCALL, number, &cls, &arg, &body, &blen, &gen);
		if (e == 0)
			break;
		if (tries > 1000 || lost(gen) != 0) {
			in_call = 0;
			return ENOTCONN;
		}
	}
	in_call = 0;
	if (cls == RUMPSP_CLASS_ERROR) {
		free(body);
		static const int map[8] = {EINVAL, EAGAIN, EPERM, ESRCH, EIO, EBUSY, ENOMEM, EINVAL};
		return arg > 0 && arg < 8 ? map[arg] : EINVAL;
	}
	if (arg) {
		free(body);
		return sp_errno_to_host(arg);
	}
	r->body = body;
	r->len = blen;
	r->pos = 0;
	r->depth = 0;
	*nres = 0;
	if (blen && sp_get_list(r, nres)) {
		sp_reply_free(r);
		return EPROTO;
	}
	return 0;
}

/* ------------------------------------------------------------ fork and exec */

int
sp_prefork(char cookie[16])
{
	struct sp_buf b;
	int cls, arg;
	char *body;
	size_t blen;
	unsigned gen;
	sp_begin(&b);
	/* PREFORK has no body; a lost connection is reconnected by the policy, as for calls */
	int e;
	for (int tries = 0;; tries++) {
		e = roundtrip(b.p, RUMPSP_HEADER_SIZE, RUMPSP_TYPE_PREFORK, 0, &cls, &arg, &body, &blen, &gen);
		if (e == 0 || tries > 1000 || lost(gen) != 0)
			break;
	}
	sp_done(&b);
	if (e)
		return e;
	if (cls != RUMPSP_CLASS_RESP) {
		free(body);
		return EIO;
	}
	struct sp_reply r = {body, blen, 0, 0};
	uint32_t n;
	const char *p;
	size_t len;
	if (sp_get_list(&r, &n) || n < 1 || sp_get_bytes(&r, &p, &len) || len != 16) {
		free(body);
		return EPROTO;
	}
	memcpy(cookie, p, 16);
	free(body);
	return 0;
}

/* in a forked child: the locks may have been held by threads that are gone */
void
sp_after_fork_reset(void)
{
	pthread_mutex_init(&sp_lock, NULL);
	pthread_mutex_init(&sp_sendlock, NULL);
	pthread_mutex_init(&sp_reconnlock, NULL);
	pthread_cond_init(&sp_cond, NULL);
	for (int i = 0; i < NSLOTS; i++) {
		slots[i].reqno = 0;
		slots[i].done = 0;
	}
	reading = 0;
	sp_futex_waiters = 0;
	cur.reqno = 0;
	cur_cancel = NULL;
	rpos = rlen = 0;
}

void
sp_fork_child(const char cookie[16])
{
	int old = sock;
	sp_after_fork_reset();
	sock = -1;
	generation++;
	if (old >= 0)
		raw_close(old);
	int fd;
	if (open_socket(&fd) != 0)
		return;		/* calls fail with ENOTCONN (or reconnect by the policy) */
	set_sock(fd);
	struct sp_buf b;
	int64_t pid;
	sp_begin(&b);
	sp_bytes(&b, cookie, 16);
	sp_int(&b, 0);
	put_u32(b.p + b.count_at, b.count);
	int e = handshake(RUMPSP_HS_FORK, &b, &pid);
	sp_done(&b);
	if (e) {
		set_sock(-1);
		raw_close(fd);
	}
}

int
sp_exec_env(char *execfd, size_t n1, char *parsed, size_t n2)
{
	if (sock < 0)
		return 0;
	syscall(SYS_fcntl, sock, F_SETFD, 0);
	snprintf(execfd, n1, "RUMPCLIENT__EXECFD=%d,-1", sock);
	snprintf(parsed, n2, "RUMP__PARSEDSERVER=%s", addr.url);
	return 2;
}

void
sp_exec_failed(void)
{
	if (sock >= 0)
		syscall(SYS_fcntl, sock, F_SETFD, FD_CLOEXEC);
}
