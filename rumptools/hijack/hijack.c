/*
 * hijack.c: librumphijack's start-up, descriptor bookkeeping, path routing,
 * open and close, dup, fcntl, ioctl and the other calls on a descriptor
 * (reading and writing are in hijack_io.c).
 *
 * Rump descriptors are shown to the program as the kernel's number plus
 * fdoff; a bitmap records which kernel numbers the program holds, so a host
 * descriptor at fdoff or above is never taken for a rump one.  Below fdoff,
 * a rump descriptor dup2'ed onto a host number is an alias: the host number
 * is kept busy by a placeholder (/dev/null) so the host never hands it out.
 * See hijack.h for the locking rule.
 */
#include "hijack.h"
#include "calls.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

struct hj_config hj_cfg;
int hj_ready;
int hj_pwdinrump;
pthread_mutex_t hj_fdlock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t rumpfds[HJ_MAXRUMPFD / 64];
static int aliases[HJ_NALIAS];		/* kernel fd + 1; 0: none */

/* the build embeds the hash of the header it was compiled from (tests compare) */
#ifndef RUMPHIJACK_HEADER_SHA256
#define RUMPHIJACK_HEADER_SHA256 "unknown"
#endif
__attribute__((used)) const char rumphijack_header_id[] = "rumphijack-header-sha256=" RUMPHIJACK_HEADER_SHA256;

/* ------------------------------------------------------------ start-up */

static void
die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

/* the exec closed the kernel's close-on-exec descriptors: keep only the others */
static int
still_open(int r)
{
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, RUMPSP_F_GETFD);
	sp_none(&b);
	return hj_call_int(RUMPSP_SYS_fcntl, &b) >= 0;
}

static void
restore_exec_state(void)
{
	const char *v;
	if ((v = getenv("RUMPHIJACK__PWDINRUMP")) != NULL) {
		hj_pwdinrump = 1;
		unsetenv("RUMPHIJACK__PWDINRUMP");
	}
	if ((v = getenv("RUMPHIJACK__RUMPFDS")) != NULL) {
		const char *p = v;
		while (*p) {
			char *end;
			long r = strtol(p, &end, 10);
			if (end == p)
				break;
			if (r >= 0 && r < HJ_MAXRUMPFD && still_open((int)r))
				rumpfds[r / 64] |= 1ULL << (r % 64);
			p = *end == ',' ? end + 1 : end;
		}
		unsetenv("RUMPHIJACK__RUMPFDS");
	}
	if ((v = getenv("RUMPHIJACK__DUP2INFO")) != NULL) {
		const char *p = v;
		while (*p) {
			char *end;
			long fd = strtol(p, &end, 10), r;
			if (*end != ':') {
				fprintf(stderr, "%s: invalid dup2mask: %s\n", program_invocation_short_name, v);
				memset(aliases, 0, sizeof(aliases));
				break;
			}
			r = strtol(end + 1, &end, 10);
			if (fd >= 0 && fd < HJ_NALIAS && r >= 0 && r < HJ_MAXRUMPFD)
				aliases[fd] = (int)r + 1;
			p = *end == ',' ? end + 1 : end;
		}
		unsetenv("RUMPHIJACK__DUP2INFO");
	}
}

__attribute__((constructor)) static void
hj_init(void)
{
	char err[512];
	const char *v;

	if (hj_check_calls(err, sizeof(err)) != 0)
		die("%s", err);
	if (hj_parse_config(getenv("RUMPHIJACK"), &hj_cfg, err, sizeof(err)) != 0)
		die("%s", err);
	if ((v = getenv("RUMPHIJACK_RETRYCONNECT")) != NULL && sp_set_retry(v) != 0) {
		fprintf(stderr, "RUMPHIJACK_RETRYCONNECT must be keyword or integer, got: %s\n", v);
		_exit(1);
	}
	int e = sp_init(program_invocation_short_name);
	if (e)
		die("rumpclient init: %s", strerror(e));
	restore_exec_state();
	for (int fd = 0; fd < 3; fd++)
		if (aliases[fd])
			hj_std_alias_changed(fd);
	hj_ready = 1;
}

/* ------------------------------------------------------------ calls */

int
hj_err(int e)
{
	errno = e;
	return -1;
}

int
hj_call(int number, struct sp_buf *b, struct sp_reply *r, uint32_t *n)
{
	int e = sp_syscall(number, b, r, n);
	sp_done(b);
	return e;
}

int
hj_call0(int number, struct sp_buf *b)
{
	struct sp_reply r;
	uint32_t n;
	int e = hj_call(number, b, &r, &n);
	if (e)
		return hj_err(e);
	sp_reply_free(&r);
	return 0;
}

int64_t
hj_call_int(int number, struct sp_buf *b)
{
	struct sp_reply r;
	uint32_t n;
	int64_t v;
	int e = hj_call(number, b, &r, &n);
	if (e)
		return hj_err(e);
	if (n < 1 || sp_get_int(&r, &v)) {
		sp_reply_free(&r);
		return hj_err(EPROTO);
	}
	sp_reply_free(&r);
	return v;
}

int
hj_call_stat(int number, struct sp_buf *b, struct hj_stat *st)
{
	struct sp_reply r;
	uint32_t n, m;
	int e = hj_call(number, b, &r, &n);
	if (e)
		return hj_err(e);
	int64_t *f = &st->mode;
	if (n < 1 || sp_get_list(&r, &m) || m < 14) {
		sp_reply_free(&r);
		return hj_err(EPROTO);
	}
	for (int i = 0; i < 14; i++)
		if (sp_get_int(&r, &f[i])) {
			sp_reply_free(&r);
			return hj_err(EPROTO);
		}
	sp_reply_free(&r);
	return 0;
}

void
hj_to_stat(const struct hj_stat *s, struct stat *o)
{
	memset(o, 0, sizeof(*o));
	o->st_mode = s->mode;
	o->st_ino = s->ino;
	o->st_dev = s->dev;
	o->st_nlink = s->nlink;
	o->st_uid = s->uid;
	o->st_gid = s->gid;
	o->st_rdev = s->rdev;
	o->st_size = s->size;
	o->st_blksize = s->blksize;
	o->st_blocks = s->blocks;
	o->st_atim.tv_sec = s->atime / 1000000000;
	o->st_atim.tv_nsec = s->atime % 1000000000;
	o->st_mtim.tv_sec = s->mtime / 1000000000;
	o->st_mtim.tv_nsec = s->mtime % 1000000000;
	o->st_ctim.tv_sec = s->ctime / 1000000000;
	o->st_ctim.tv_nsec = s->ctime % 1000000000;
}

/* ------------------------------------------------------------ flags */

static const struct { int linux_, rump; } oflags[] = {
	{O_NONBLOCK, RUMPSP_O_NONBLOCK}, {O_APPEND, RUMPSP_O_APPEND},
	{O_CREAT, RUMPSP_O_CREAT}, {O_TRUNC, RUMPSP_O_TRUNC}, {O_EXCL, RUMPSP_O_EXCL},
	{O_NOCTTY, RUMPSP_O_NOCTTY}, {O_DSYNC, RUMPSP_O_DSYNC}, {O_DIRECT, RUMPSP_O_DIRECT},
	{O_DIRECTORY, RUMPSP_O_DIRECTORY}, {O_NOFOLLOW, RUMPSP_O_NOFOLLOW},
	{O_CLOEXEC, RUMPSP_O_CLOEXEC}, {O_ASYNC, RUMPSP_O_ASYNC},
};

int
hj_oflags_to_rump(int f)
{
	int r = f & O_ACCMODE;
	if ((f & O_PATH) == O_PATH)
		r = RUMPSP_O_RDONLY;
	for (size_t i = 0; i < sizeof(oflags) / sizeof(oflags[0]); i++)
		if (f & oflags[i].linux_)
			r |= oflags[i].rump;
	if ((f & O_SYNC) == O_SYNC)
		r |= RUMPSP_O_SYNC;
	return r;
}

int
hj_oflags_from_rump(int f)
{
	int r = f & RUMPSP_O_ACCMODE;
	for (size_t i = 0; i < sizeof(oflags) / sizeof(oflags[0]); i++)
		if (f & oflags[i].rump)
			r |= oflags[i].linux_;
	if (f & RUMPSP_O_SYNC)
		r |= O_SYNC;
	return r | O_LARGEFILE;
}

int
hj_atflags_to_rump(int f)
{
	int r = 0;
	if (f & AT_SYMLINK_NOFOLLOW)
		r |= RUMPSP_AT_SYMLINK_NOFOLLOW;
	if (f & AT_SYMLINK_FOLLOW)
		r |= RUMPSP_AT_SYMLINK_FOLLOW;
	return r;
}

/* ------------------------------------------------------------ descriptors */

HOSTFN(int, fcntl, (int, int, ...))
HOSTFN(int, close, (int))
HOSTFN(int, dup2, (int, int))

static int
host_open_fd(int fd)
{
	return syscall(SYS_fcntl, fd, F_GETFD) >= 0;
}

static int
isrumpnum(int r)
{
	return r >= 0 && r < HJ_MAXRUMPFD && (rumpfds[r / 64] >> (r % 64)) & 1;
}

int
hj_rumpfd(int fd)
{
	if (!hj_ready || fd < 0)
		return -1;
	if (fd < hj_cfg.fdoff) {
		if (fd < HJ_NALIAS && aliases[fd])
			return aliases[fd] - 1;
		return -1;
	}
	int r = fd - hj_cfg.fdoff;
	return isrumpnum(r) ? r : -1;
}

int
hj_alias_of(int fd)
{
	return fd >= 0 && fd < HJ_NALIAS && aliases[fd] ? aliases[fd] - 1 : -1;
}

static void
mark(int r, int on)
{
	if (r < 0 || r >= HJ_MAXRUMPFD)
		return;
	pthread_mutex_lock(&hj_fdlock);
	if (on)
		rumpfds[r / 64] |= 1ULL << (r % 64);
	else
		rumpfds[r / 64] &= ~(1ULL << (r % 64));
	pthread_mutex_unlock(&hj_fdlock);
}

void
hj_forgetfd(int r)
{
	mark(r, 0);
}

/*
 * A new kernel descriptor r.  If the host has its shown number open (a
 * host descriptor at fdoff or above), move the kernel's up until the shown
 * number is free on the host too.
 */
int
hj_newfd(int r)
{
	int tries = 0;
	while (host_open_fd(r + hj_cfg.fdoff) && tries++ < 64) {
		struct sp_buf b;
		sp_begin(&b);
		sp_int(&b, r);
		sp_int(&b, RUMPSP_F_DUPFD);
		sp_int(&b, r + 1);
		int64_t n = hj_call_int(RUMPSP_SYS_fcntl, &b);
		if (n < 0)
			break;
		hj_rump_close(r);
		r = (int)n;
	}
	if (r >= HJ_MAXRUMPFD) {
		hj_rump_close(r);
		return hj_err(EMFILE);
	}
	mark(r, 1);
	return r + hj_cfg.fdoff;
}

int
hj_rump_close(int r)
{
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, r);
	return hj_call0(RUMPSP_SYS_close, &b);
}

/* the kernel's descriptor r is no longer aliased anywhere? */
static int
aliased(int r)
{
	for (int i = 0; i < HJ_NALIAS; i++)
		if (aliases[i] == r + 1)
			return 1;
	return 0;
}

/* end the alias at host number fd (its kernel descriptor closes, the number is free) */
static int
drop_alias(int fd, int keep_host)
{
	int r = aliases[fd] - 1;
	hj_std_alias_flush(fd);
	aliases[fd] = 0;
	hj_std_alias_changed(fd);
	if (!keep_host)
		H(close)(fd);		/* the placeholder */
	if (!isrumpnum(r) && !aliased(r))
		return hj_rump_close(r);
	return 0;
}

/* ------------------------------------------------------------ paths */

int
hj_path(const char *path, const char **rpath)
{
	if (!hj_ready || path == NULL)
		return HJ_HOST;
	if (path[0] != '/') {
		*rpath = path;
		return hj_pwdinrump ? HJ_RUMP : HJ_HOST;
	}
	size_t n = hj_cfg.prefixlen;
	if (n == 1) {			/* path=/: everything */
		*rpath = path;
		return HJ_RUMP;
	}
	if (n && strncmp(path, hj_cfg.prefix, n) == 0 && (path[n] == '\0' || path[n] == '/')) {
		*rpath = path[n] ? path + n : "/";
		return HJ_RUMP;
	}
	for (int i = 0; i < hj_cfg.nblankets; i++)
		if (strncmp(path, hj_cfg.blanket[i], strlen(hj_cfg.blanket[i])) == 0) {
			*rpath = path;
			return HJ_RUMP;
		}
	return HJ_HOST;
}

int
hj_atpath(int dirfd, const char *path, int *rdirfd, const char **rpath)
{
	if (!hj_ready || path == NULL)
		return HJ_HOST;
	if (path[0] == '/' || dirfd == AT_FDCWD) {
		*rdirfd = RUMPSP_AT_FDCWD;
		return hj_path(path, rpath);
	}
	int r = hj_rumpfd(dirfd);
	if (r < 0)
		return HJ_HOST;
	*rdirfd = r;
	*rpath = path;
	return HJ_RUMP;
}

/* ------------------------------------------------------------ open and close */

HOSTFN(int, open, (const char *, int, ...))
HOSTFN(int, open64, (const char *, int, ...))
HOSTFN(int, openat, (int, const char *, int, ...))
HOSTFN(int, openat64, (int, const char *, int, ...))

static int
rump_openat(int rdirfd, const char *rpath, int flags, mode_t mode)
{
	struct sp_buf b;
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return hj_err(EOPNOTSUPP);
	sp_begin(&b);
	if (rdirfd == RUMPSP_AT_FDCWD) {
		sp_str(&b, rpath);
		sp_int(&b, hj_oflags_to_rump(flags));
		sp_int(&b, mode);
		int64_t r = hj_call_int(RUMPSP_SYS_open, &b);
		return r < 0 ? -1 : hj_newfd((int)r);
	}
	sp_int(&b, rdirfd);
	sp_str(&b, rpath);
	sp_int(&b, hj_oflags_to_rump(flags));
	sp_int(&b, mode);
	int64_t r = hj_call_int(RUMPSP_SYS_openat, &b);
	return r < 0 ? -1 : hj_newfd((int)r);
}

/* a host open that landed on an aliased number is impossible (placeholders);
 * one at or above fdoff stays host: the bitmap keeps them apart */
#define OPEN_BODY(hostcall) \
	mode_t mode = 0; \
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) { \
		va_list ap; \
		va_start(ap, flags); \
		mode = va_arg(ap, mode_t); \
		va_end(ap); \
	}

int
open(const char *path, int flags, ...)
{
	const char *rp;
	OPEN_BODY()
	if (hj_path(path, &rp) == HJ_HOST)
		return H(open)(path, flags, mode);
	return rump_openat(RUMPSP_AT_FDCWD, rp, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	const char *rp;
	OPEN_BODY()
	if (hj_path(path, &rp) == HJ_HOST)
		return H(open64)(path, flags, mode);
	return rump_openat(RUMPSP_AT_FDCWD, rp, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	const char *rp;
	int rd;
	OPEN_BODY()
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(openat)(dirfd, path, flags, mode);
	return rump_openat(rd, rp, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	const char *rp;
	int rd;
	OPEN_BODY()
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(openat64)(dirfd, path, flags, mode);
	return rump_openat(rd, rp, flags, mode);
}

int
__open_2(const char *path, int flags)
{
	return open(path, flags);
}

int
__open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

int
__openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

int
__openat64_2(int dirfd, const char *path, int flags)
{
	return openat64(dirfd, path, flags);
}

int
creat(const char *path, mode_t mode)
{
	return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int
creat64(const char *path, mode_t mode)
{
	return open64(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int
close(int fd)
{
	if (!hj_ready)
		return H(close)(fd);
	if (fd == sp_sockfd())
		return hj_err(EBADF);		/* not the program's */
	hj_epoll_closed(fd);
	if (fd >= 0 && fd < hj_cfg.fdoff) {
		if (fd < HJ_NALIAS && aliases[fd])
			return drop_alias(fd, 0);
		return H(close)(fd);
	}
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(close)(fd);
	hj_forgetfd(r);
	if (aliased(r))
		return 0;		/* an alias still uses the kernel descriptor */
	return hj_rump_close(r);
}

/* ------------------------------------------------------------ dup, fcntl, ioctl */

HOSTFN(int, dup, (int))
HOSTFN(int, dup3, (int, int, int))
HOSTFN(int, fcntl64, (int, int, ...))
HOSTFN(int, ioctl, (int, unsigned long, ...))

static int
rump_dupfd(int r, int minr, int cloexec)
{
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, RUMPSP_F_DUPFD);
	sp_int(&b, minr);
	int64_t n = hj_call_int(RUMPSP_SYS_fcntl, &b);
	if (n < 0)
		return -1;
	if (cloexec) {
		sp_begin(&b);
		sp_int(&b, n);
		sp_int(&b, RUMPSP_F_SETFD);
		sp_int(&b, RUMPSP_FD_CLOEXEC);
		hj_call_int(RUMPSP_SYS_fcntl, &b);
	}
	return (int)n;
}

int
dup(int fd)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(dup)(fd);
	int n = rump_dupfd(r, 0, 0);
	return n < 0 ? -1 : hj_newfd(n);
}

/* dup2/dup3 of anything onto anything */
static int
do_dup3(int oldfd, int newfd, int flags)
{
	int r = hj_rumpfd(oldfd);
	if (!hj_ready)
		return flags ? H(dup3)(oldfd, newfd, flags) : H(dup2)(oldfd, newfd);
	if (newfd < 0)
		return hj_err(EBADF);
	if (newfd == sp_sockfd() && oldfd != newfd && sp_move_sock() != 0)
		return hj_err(EBUSY);
	if (r < 0) {
		/* a host descriptor onto newfd: end an alias or a rump fd there first */
		if (oldfd == sp_sockfd())
			return hj_err(EBADF);
		if (newfd < HJ_NALIAS && aliases[newfd]) {
			if (oldfd == newfd)
				return newfd;
			int ok = flags ? H(dup3)(oldfd, newfd, flags) : H(dup2)(oldfd, newfd);
			if (ok < 0)
				return -1;
			drop_alias(newfd, 1);
			return newfd;
		}
		return flags ? H(dup3)(oldfd, newfd, flags) : H(dup2)(oldfd, newfd);
	}
	if (oldfd == newfd)
		return flags ? hj_err(EINVAL) : newfd;
	if (newfd >= hj_cfg.fdoff) {
		struct sp_buf b;
		sp_begin(&b);
		sp_int(&b, r);
		sp_int(&b, newfd - hj_cfg.fdoff);
		int64_t n = hj_call_int(RUMPSP_SYS_dup2, &b);
		if (n < 0)
			return -1;
		return hj_newfd((int)n);
	}
	if (newfd >= HJ_NALIAS)
		return hj_err(EBADF);
	/* an alias below fdoff: a kernel copy, and a placeholder on the host */
	int n = rump_dupfd(r, 0, 0);
	if (n < 0)
		return -1;
	int ph = syscall(SYS_open, "/dev/null", O_RDWR | O_CLOEXEC);
	if (ph < 0) {
		int e = errno;
		hj_rump_close(n);
		return hj_err(e);
	}
	if (aliases[newfd])
		drop_alias(newfd, 1);
	if (ph == newfd)		/* newfd was free: the placeholder took it */
		syscall(SYS_fcntl, ph, F_SETFD, flags & O_CLOEXEC ? FD_CLOEXEC : 0);
	else if (syscall(SYS_dup3, ph, newfd, flags & O_CLOEXEC) < 0) {
		int e = errno;
		H(close)(ph);
		hj_rump_close(n);
		return hj_err(e);
	} else
		H(close)(ph);
	aliases[newfd] = n + 1;
	hj_std_alias_changed(newfd);
	return newfd;
}

int
dup2(int oldfd, int newfd)
{
	return do_dup3(oldfd, newfd, 0);
}

int
dup3(int oldfd, int newfd, int flags)
{
	return do_dup3(oldfd, newfd, flags);
}

static int
rump_fcntl(int fd, int r, int cmd, long arg)
{
	struct sp_buf b;
	int64_t v;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC: {
		int minr = arg >= hj_cfg.fdoff ? (int)(arg - hj_cfg.fdoff) : 0;
		int n = rump_dupfd(r, minr, cmd == F_DUPFD_CLOEXEC);
		return n < 0 ? -1 : hj_newfd(n);
	}
	case F_GETFD:
		if (fd < hj_cfg.fdoff)		/* an alias: its placeholder holds the flag */
			return syscall(SYS_fcntl, fd, F_GETFD);
		sp_begin(&b);
		sp_int(&b, r);
		sp_int(&b, RUMPSP_F_GETFD);
		sp_none(&b);
		v = hj_call_int(RUMPSP_SYS_fcntl, &b);
		return v < 0 ? -1 : (v & RUMPSP_FD_CLOEXEC ? FD_CLOEXEC : 0);
	case F_SETFD:
		if (fd < hj_cfg.fdoff)
			return syscall(SYS_fcntl, fd, F_SETFD, arg);
		sp_begin(&b);
		sp_int(&b, r);
		sp_int(&b, RUMPSP_F_SETFD);
		sp_int(&b, arg & FD_CLOEXEC ? RUMPSP_FD_CLOEXEC : 0);
		return hj_call_int(RUMPSP_SYS_fcntl, &b) < 0 ? -1 : 0;
	case F_GETFL:
		sp_begin(&b);
		sp_int(&b, r);
		sp_int(&b, RUMPSP_F_GETFL);
		sp_none(&b);
		v = hj_call_int(RUMPSP_SYS_fcntl, &b);
		return v < 0 ? -1 : hj_oflags_from_rump((int)v);
	case F_SETFL:
		sp_begin(&b);
		sp_int(&b, r);
		sp_int(&b, RUMPSP_F_SETFL);
		sp_int(&b, hj_oflags_to_rump((int)arg));
		return hj_call_int(RUMPSP_SYS_fcntl, &b) < 0 ? -1 : 0;
	case F_GETLK:
	case F_OFD_GETLK: {
		struct flock *fl = (struct flock *)arg;
		if (fl)
			fl->l_type = F_UNLCK;	/* the kernel keeps no locks: nothing conflicts */
		return 0;
	}
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return 0;
	default:
		return hj_err(EINVAL);
	}
}

int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;
	va_start(ap, cmd);
	arg = va_arg(ap, long);		/* read pointer-sized whatever the command */
	va_end(ap);
	int r = hj_rumpfd(fd);
	if (r < 0) {
		if (hj_ready && fd == sp_sockfd())
			return hj_err(EBADF);
		return H(fcntl)(fd, cmd, arg);
	}
	return rump_fcntl(fd, r, cmd, arg);
}

int
fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;
	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	int r = hj_rumpfd(fd);
	if (r < 0) {
		if (hj_ready && fd == sp_sockfd())
			return hj_err(EBADF);
		if (get_fcntl64() == NULL)
			return H(fcntl)(fd, cmd, arg);
		return H(fcntl64)(fd, cmd, arg);
	}
	return rump_fcntl(fd, r, cmd, arg);
}

int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(ioctl)(fd, req, arg);
	switch (req) {
	case FIOCLEX:
		return rump_fcntl(fd, r, F_SETFD, FD_CLOEXEC);
	case FIONCLEX:
		return rump_fcntl(fd, r, F_SETFD, 0);
	case FIONBIO: {
		int fl = rump_fcntl(fd, r, F_GETFL, 0);
		if (fl < 0)
			return -1;
		fl = *(int *)arg ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
		return rump_fcntl(fd, r, F_SETFL, fl);
	}
	case FIONREAD: {
		/* NetBSD's FIONREAD; the answer comes back as a value */
		struct sp_buf b;
		sp_begin(&b);
		sp_int(&b, r);
		sp_int(&b, (int32_t)0x4004667f);
		sp_none(&b);
		int64_t v = hj_call_int(RUMPSP_SYS_ioctl, &b);
		if (v < 0)
			return -1;
		*(int *)arg = (int)v;
		return 0;
	}
	default:
		/* Linux's numbers mean nothing to the kernel: terminals, FICLONE, ... */
		return hj_err(ENOTTY);
	}
}

int
isatty(int fd)
{
	if (hj_rumpfd(fd) >= 0) {
		errno = ENOTTY;
		return 0;
	}
	struct termios t;
	return syscall(SYS_ioctl, fd, TCGETS, &t) == 0;
}

/* ------------------------------------------------------------ the rest by descriptor */

HOSTFN(int, fsync, (int))
HOSTFN(int, fdatasync, (int))
HOSTFN(int, ftruncate, (int, off_t))
HOSTFN(int, ftruncate64, (int, off_t))
HOSTFN(int, fchmod, (int, mode_t))
HOSTFN(int, fchown, (int, uid_t, gid_t))
HOSTFN(int, fchdir, (int))

static int
fd_call(int number, int r)
{
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, r);
	return hj_call0(number, &b);
}

int
fsync(int fd)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(fsync)(fd) : fd_call(RUMPSP_SYS_fsync, r);
}

int
fdatasync(int fd)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(fdatasync)(fd) : fd_call(RUMPSP_SYS_fsync, r);
}

static int
rump_ftruncate(int r, off_t len)
{
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, len);
	return hj_call0(RUMPSP_SYS_ftruncate, &b);
}

int
ftruncate(int fd, off_t len)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(ftruncate)(fd, len) : rump_ftruncate(r, len);
}

int
ftruncate64(int fd, off_t len)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(ftruncate64)(fd, len) : rump_ftruncate(r, len);
}

int
fchmod(int fd, mode_t mode)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(fchmod)(fd, mode);
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, mode);
	return hj_call0(RUMPSP_SYS_fchmod, &b);
}

int
fchown(int fd, uid_t uid, gid_t gid)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(fchown)(fd, uid, gid);
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, uid == (uid_t)-1 ? -1 : (int64_t)uid);
	sp_int(&b, gid == (gid_t)-1 ? -1 : (int64_t)gid);
	return hj_call0(RUMPSP_SYS_fchown, &b);
}

int
fchdir(int fd)
{
	int r = hj_rumpfd(fd);
	if (r < 0) {
		int ok = H(fchdir)(fd);
		if (ok == 0 && hj_ready)
			hj_pwdinrump = 0;
		return ok;
	}
	if (fd_call(RUMPSP_SYS_fchdir, r) < 0)
		return -1;
	hj_pwdinrump = 1;
	return 0;
}

/* the exec hand-over of the descriptor state: "fd:r,..." and "r,..." */
int
hj_state_env(char *dup2info, size_t n1, char *rumpfdlist, size_t n2)
{
	size_t o = snprintf(dup2info, n1, "RUMPHIJACK__DUP2INFO=");
	for (int i = 0; i < HJ_NALIAS && o + 24 < n1; i++)
		/* a close-on-exec alias ends with the exec: its placeholder goes */
		if (aliases[i] && !(syscall(SYS_fcntl, i, F_GETFD) & FD_CLOEXEC))
			o += snprintf(dup2info + o, n1 - o, "%s%d:%d", o > 21 ? "," : "", i, aliases[i] - 1);
	o = snprintf(rumpfdlist, n2, "RUMPHIJACK__RUMPFDS=");
	int first = 1;
	for (int r = 0; r < HJ_MAXRUMPFD && o + 12 < n2; r++) {
		if (!rumpfds[r / 64]) {
			r += 63 - r % 64;
			continue;
		}
		if (isrumpnum(r)) {
			o += snprintf(rumpfdlist + o, n2 - o, "%s%d", first ? "" : ",", r);
			first = 0;
		}
	}
	return 0;
}

/* close_range over rump descriptors, sparing the library's own socket */
void
hj_close_rump_range(unsigned lo, unsigned hi)
{
	for (unsigned fd = lo; fd < HJ_NALIAS && fd <= hi; fd++)
		if (aliases[fd])
			drop_alias(fd, 0);
	unsigned off = hj_cfg.fdoff;
	for (unsigned r = 0; r < HJ_MAXRUMPFD; r++) {
		if (!rumpfds[r / 64]) {
			r += 63 - r % 64;
			continue;
		}
		if (isrumpnum(r) && r + off >= lo && r + off <= hi) {
			hj_forgetfd(r);
			if (!aliased(r))
				hj_rump_close(r);
		}
	}
}
