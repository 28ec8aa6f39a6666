/*
 * hijack_more.c: the less common file calls of glibc 2.36 that reach the
 * kernel by their own routes: pathconf/fpathconf, flock/lockf, syncfs,
 * getdents64, futimesat, the mkstemp family (glibc opens the file with an
 * internal call) and the old __xmknod entry points.  No state of its own.
 */
#include "hijack.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

/* what the kernel's file systems allow (rumpfs: NetBSD's limits) */
static long
rump_conf(int name)
{
	switch (name) {
	case _PC_LINK_MAX: return 32767;
	case _PC_NAME_MAX: return 511;
	case _PC_PATH_MAX: return 1024;
	case _PC_PIPE_BUF: return 512;
	case _PC_CHOWN_RESTRICTED: return 1;
	case _PC_NO_TRUNC: return 1;
	case _PC_FILESIZEBITS: return 64;
	case _PC_SYMLINK_MAX: return 1023;
	default: return -1;		/* no limit, errno unchanged */
	}
}

HOSTFN(long, pathconf, (const char *, int))
HOSTFN(long, fpathconf, (int, int))

long
pathconf(const char *path, int name)
{
	const char *rp;
	struct stat sb;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(pathconf)(path, name);
	if (stat(path, &sb) < 0)
		return -1;
	return rump_conf(name);
}

long
fpathconf(int fd, int name)
{
	struct stat sb;
	if (hj_rumpfd(fd) < 0)
		return H(fpathconf)(fd, name);
	if (fstat(fd, &sb) < 0)
		return -1;
	return rump_conf(name);
}

/* the kernel keeps no locks: a lock is granted at once */
HOSTFN(int, flock, (int, int))
HOSTFN(int, lockf, (int, int, off_t))
HOSTFN(int, lockf64, (int, int, off_t))
HOSTFN(int, syncfs, (int))

int
flock(int fd, int op)
{
	return hj_rumpfd(fd) >= 0 ? 0 : H(flock)(fd, op);
}

int
lockf(int fd, int cmd, off_t len)
{
	return hj_rumpfd(fd) >= 0 ? 0 : H(lockf)(fd, cmd, len);
}

int
lockf64(int fd, int cmd, off_t len)
{
	return hj_rumpfd(fd) >= 0 ? 0 : H(lockf64)(fd, cmd, len);
}

int
syncfs(int fd)
{
	if (hj_rumpfd(fd) < 0)
		return H(syncfs)(fd);
	struct sp_buf b;
	sp_begin(&b);
	return hj_call0(RUMPSP_SYS_sync, &b);
}

/* getdents64 of a kernel directory: struct linux_dirent64 records */
HOSTFN(ssize_t, getdents64, (int, void *, size_t))

ssize_t
getdents64(int fd, void *buf, size_t n)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(getdents64)(fd, buf, n);
	struct sp_buf b;
	struct sp_reply rep;
	uint32_t nres, count;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, (int64_t)(n < 16 ? 16 : n));
	int e = hj_call(RUMPSP_SYS___getdents30, &b, &rep, &nres);
	if (e)
		return hj_err(e);
	if (nres < 1 || sp_get_list(&rep, &count)) {
		sp_reply_free(&rep);
		return hj_err(EPROTO);
	}
	size_t used = 0;
	int64_t lastcookie = -1;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t m;
		int64_t cookie, ino, type;
		const char *name;
		size_t len;
		if (sp_get_list(&rep, &m) || m < 4 || sp_get_int(&rep, &cookie) || sp_get_int(&rep, &ino) ||
		    sp_get_int(&rep, &type) || sp_get_bytes(&rep, &name, &len) || len > 255) {
			sp_reply_free(&rep);
			return hj_err(EPROTO);
		}
		size_t reclen = (offsetof(struct dirent64, d_name) + len + 1 + 7) & ~(size_t)7;
		if (used + reclen > n) {
			/* no room: the kernel's offset goes back to the last entry given */
			if (used == 0) {
				sp_reply_free(&rep);
				return hj_err(EINVAL);
			}
			struct sp_buf s;
			sp_begin(&s);
			sp_int(&s, r);
			sp_int(&s, lastcookie);
			sp_int(&s, SEEK_SET);
			hj_call_int(RUMPSP_SYS_lseek, &s);
			break;
		}
		struct dirent64 *d = (struct dirent64 *)((char *)buf + used);
		d->d_ino = ino;
		d->d_off = cookie;
		d->d_reclen = reclen;
		d->d_type = type;
		memcpy(d->d_name, name, len);
		d->d_name[len] = '\0';
		used += reclen;
		lastcookie = cookie;
	}
	sp_reply_free(&rep);
	return used;
}

HOSTFN(int, futimesat, (int, const char *, const struct timeval *))

int
futimesat(int dirfd, const char *path, const struct timeval tv[2])
{
	int rd;
	const char *rp;
	struct timespec ts[2];
	if (path == NULL || hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(futimesat)(dirfd, path, tv);
	if (tv == NULL)
		return utimensat(dirfd, path, NULL, 0);
	for (int i = 0; i < 2; i++) {
		ts[i].tv_sec = tv[i].tv_sec;
		ts[i].tv_nsec = tv[i].tv_usec * 1000;
	}
	return utimensat(dirfd, path, ts, 0);
}

/* ------------------------------------------------------------ mkstemp */

static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

static void
fill_random(char *x, int n)
{
	unsigned char rnd[16];
	if (syscall(SYS_getrandom, rnd, sizeof(rnd), 0) != (long)sizeof(rnd))
		for (int i = 0; i < 16; i++)
			rnd[i] = (unsigned char)(rand() >> 3);
	for (int i = 0; i < n; i++)
		x[i] = letters[rnd[i % 16] % (sizeof(letters) - 1)];
}

/* 0 if the template ends in XXXXXX before suffixlen bytes; the X's found */
static char *
xs(char *tmpl, int suffixlen)
{
	size_t len = strlen(tmpl);
	if (suffixlen < 0 || len < 6 + (size_t)suffixlen)
		return NULL;
	char *x = tmpl + len - suffixlen - 6;
	return strncmp(x, "XXXXXX", 6) == 0 ? x : NULL;
}

static int
rump_mkstemp(char *tmpl, int suffixlen, int flags, int dir)
{
	char *x = xs(tmpl, suffixlen);
	if (x == NULL)
		return hj_err(EINVAL);
	for (int tries = 0; tries < 100; tries++) {
		fill_random(x, 6);
		if (dir) {
			if (mkdir(tmpl, 0700) == 0)
				return 0;
		} else {
			int fd = open(tmpl, (flags & ~O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL, 0600);
			if (fd >= 0)
				return fd;
		}
		if (errno != EEXIST)
			return -1;
	}
	return hj_err(EEXIST);
}

HOSTFN(int, mkstemp, (char *))
HOSTFN(int, mkstemp64, (char *))
HOSTFN(int, mkostemp, (char *, int))
HOSTFN(int, mkstemps, (char *, int))
HOSTFN(int, mkostemps, (char *, int, int))
HOSTFN(char *, mkdtemp, (char *))

#define ISRUMP(t) (hj_path((t), &rp) == HJ_RUMP)

int
mkstemp(char *t)
{
	const char *rp;
	return ISRUMP(t) ? rump_mkstemp(t, 0, 0, 0) : H(mkstemp)(t);
}

int
mkstemp64(char *t)
{
	const char *rp;
	return ISRUMP(t) ? rump_mkstemp(t, 0, 0, 0) : H(mkstemp64)(t);
}

int
mkostemp(char *t, int flags)
{
	const char *rp;
	return ISRUMP(t) ? rump_mkstemp(t, 0, flags, 0) : H(mkostemp)(t, flags);
}

int
mkstemps(char *t, int suffixlen)
{
	const char *rp;
	return ISRUMP(t) ? rump_mkstemp(t, suffixlen, 0, 0) : H(mkstemps)(t, suffixlen);
}

int
mkostemps(char *t, int suffixlen, int flags)
{
	const char *rp;
	return ISRUMP(t) ? rump_mkstemp(t, suffixlen, flags, 0) : H(mkostemps)(t, suffixlen, flags);
}

char *
mkdtemp(char *t)
{
	const char *rp;
	if (!ISRUMP(t))
		return H(mkdtemp)(t);
	return rump_mkstemp(t, 0, 0, 1) == 0 ? t : NULL;
}

/* ------------------------------------------------------------ the old mknod entry points */

HOSTFN(int, __xmknod, (int, const char *, mode_t, dev_t *))
HOSTFN(int, __xmknodat, (int, int, const char *, mode_t, dev_t *))

int
__xmknod(int ver, const char *path, mode_t mode, dev_t *dev)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(__xmknod)(ver, path, mode, dev);
	return mknod(path, mode, *dev);
}

int
__xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev)
{
	int rd;
	const char *rp;
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(__xmknodat)(ver, dirfd, path, mode, dev);
	return mknodat(dirfd, path, mode, *dev);
}
