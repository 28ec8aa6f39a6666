/*
 * hijack_fs.c: the path calls of librumphijack: the stat family (with
 * statx and the old __xstat entry points), statvfs/statfs, access, the
 * namespace calls, times, the working directory.  A path under the prefix
 * (or a blanket), a relative path while the working directory is in the
 * kernel, or a rump directory descriptor goes to the kernel; the rest to
 * the host.  No state of its own.
 */
#include "hijack.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#define RUMP_DEV_FSMAGIC 0x01021994	/* what statfs reports as f_type (tmpfs's) */

/* ------------------------------------------------------------ stat */

static int
rump_statat(int rd, const char *rp, int flags, struct hj_stat *st)
{
	struct sp_buf b;
	sp_begin(&b);
	if (rd == RUMPSP_AT_FDCWD && !(flags & AT_SYMLINK_NOFOLLOW)) {
		sp_str(&b, rp);
		return hj_call_stat(RUMPSP_SYS___stat50, &b, st);
	}
	if (rd == RUMPSP_AT_FDCWD) {
		sp_str(&b, rp);
		return hj_call_stat(RUMPSP_SYS___lstat50, &b, st);
	}
	sp_int(&b, rd);
	sp_str(&b, rp);
	sp_int(&b, hj_atflags_to_rump(flags & AT_SYMLINK_NOFOLLOW));
	return hj_call_stat(RUMPSP_SYS_fstatat, &b, st);
}

static int
rump_fstat(int r, struct hj_stat *st)
{
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, r);
	return hj_call_stat(RUMPSP_SYS___fstat50, &b, st);
}

/* one routine for the whole family: 1 if it was a rump call (result in *ret) */
static int
statat(int dirfd, const char *path, struct stat *out, int flags, int *ret)
{
	struct hj_stat st;
	int rd;
	const char *rp;
	if ((flags & AT_EMPTY_PATH) && path && *path == '\0') {
		int r = hj_rumpfd(dirfd);
		if (r < 0)
			return 0;
		*ret = rump_fstat(r, &st);
	} else {
		if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
			return 0;
		*ret = rump_statat(rd, rp, flags, &st);
	}
	if (*ret == 0)
		hj_to_stat(&st, out);
	return 1;
}

static int
fstat_fd(int fd, struct stat *out, int *ret)
{
	struct hj_stat st;
	int r = hj_rumpfd(fd);
	if (r < 0)
		return 0;
	*ret = rump_fstat(r, &st);
	if (*ret == 0)
		hj_to_stat(&st, out);
	return 1;
}

HOSTFN(int, stat, (const char *, struct stat *))
HOSTFN(int, stat64, (const char *, struct stat *))
HOSTFN(int, lstat, (const char *, struct stat *))
HOSTFN(int, lstat64, (const char *, struct stat *))
HOSTFN(int, fstat, (int, struct stat *))
HOSTFN(int, fstat64, (int, struct stat *))
HOSTFN(int, fstatat, (int, const char *, struct stat *, int))
HOSTFN(int, fstatat64, (int, const char *, struct stat *, int))
HOSTFN(int, __xstat, (int, const char *, struct stat *))
HOSTFN(int, __xstat64, (int, const char *, struct stat *))
HOSTFN(int, __lxstat, (int, const char *, struct stat *))
HOSTFN(int, __lxstat64, (int, const char *, struct stat *))
HOSTFN(int, __fxstat, (int, int, struct stat *))
HOSTFN(int, __fxstat64, (int, int, struct stat *))
HOSTFN(int, __fxstatat, (int, int, const char *, struct stat *, int))
HOSTFN(int, __fxstatat64, (int, int, const char *, struct stat *, int))
HOSTFN(int, statx, (int, const char *, int, unsigned int, struct statx *))

/* struct stat and struct stat64 are one layout on x86-64 and the other LP64 ABIs */
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat64 layout");
#define STAT_PATH(name, st, flags) \
	int name(const char *path, struct st *sb) \
	{ \
		int ret; \
		return statat(AT_FDCWD, path, (struct stat *)sb, flags, &ret) ? ret : \
		    H(name)(path, (struct stat *)sb); \
	}
STAT_PATH(stat, stat, 0)
STAT_PATH(stat64, stat64, 0)
STAT_PATH(lstat, stat, AT_SYMLINK_NOFOLLOW)
STAT_PATH(lstat64, stat64, AT_SYMLINK_NOFOLLOW)

#define STAT_FD(name, st) \
	int name(int fd, struct st *sb) \
	{ \
		int ret; \
		return fstat_fd(fd, (struct stat *)sb, &ret) ? ret : H(name)(fd, (struct stat *)sb); \
	}
STAT_FD(fstat, stat)
STAT_FD(fstat64, stat64)

#define STAT_AT(name, st) \
	int name(int dirfd, const char *path, struct st *sb, int flags) \
	{ \
		int ret; \
		return statat(dirfd, path, (struct stat *)sb, flags, &ret) ? ret : \
		    H(name)(dirfd, path, (struct stat *)sb, flags); \
	}
STAT_AT(fstatat, stat)
STAT_AT(fstatat64, stat64)

#define XSTAT_PATH(name, flags) \
	int name(int ver, const char *path, struct stat *sb) \
	{ \
		int ret; \
		return statat(AT_FDCWD, path, sb, flags, &ret) ? ret : H(name)(ver, path, sb); \
	}
XSTAT_PATH(__xstat, 0)
XSTAT_PATH(__xstat64, 0)
XSTAT_PATH(__lxstat, AT_SYMLINK_NOFOLLOW)
XSTAT_PATH(__lxstat64, AT_SYMLINK_NOFOLLOW)

int
__fxstat(int ver, int fd, struct stat *sb)
{
	int ret;
	return fstat_fd(fd, sb, &ret) ? ret : H(__fxstat)(ver, fd, sb);
}

int
__fxstat64(int ver, int fd, struct stat *sb)
{
	int ret;
	return fstat_fd(fd, sb, &ret) ? ret : H(__fxstat64)(ver, fd, sb);
}

int
__fxstatat(int ver, int dirfd, const char *path, struct stat *sb, int flags)
{
	int ret;
	return statat(dirfd, path, sb, flags, &ret) ? ret : H(__fxstatat)(ver, dirfd, path, sb, flags);
}

int
__fxstatat64(int ver, int dirfd, const char *path, struct stat *sb, int flags)
{
	int ret;
	return statat(dirfd, path, sb, flags, &ret) ? ret : H(__fxstatat64)(ver, dirfd, path, sb, flags);
}

static void
ts_of(struct statx_timestamp *t, int64_t ns)
{
	t->tv_sec = ns / 1000000000;
	t->tv_nsec = ns % 1000000000;
}

int
statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *sx)
{
	struct hj_stat st;
	int rd, ret;
	const char *rp;
	if ((flags & AT_EMPTY_PATH) && path && *path == '\0') {
		int r = hj_rumpfd(dirfd);
		if (r < 0)
			return H(statx)(dirfd, path, flags, mask, sx);
		ret = rump_fstat(r, &st);
	} else {
		if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
			return H(statx)(dirfd, path, flags, mask, sx);
		ret = rump_statat(rd, rp, flags, &st);
	}
	if (ret)
		return ret;
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS | STATX_BTIME;
	sx->stx_blksize = st.blksize;
	sx->stx_nlink = st.nlink;
	sx->stx_uid = st.uid;
	sx->stx_gid = st.gid;
	sx->stx_mode = st.mode;
	sx->stx_ino = st.ino;
	sx->stx_size = st.size;
	sx->stx_blocks = st.blocks;
	ts_of(&sx->stx_atime, st.atime);
	ts_of(&sx->stx_mtime, st.mtime);
	ts_of(&sx->stx_ctime, st.ctime);
	ts_of(&sx->stx_btime, st.btime);
	sx->stx_rdev_major = major(st.rdev);
	sx->stx_rdev_minor = minor(st.rdev);
	sx->stx_dev_major = major(st.dev);
	sx->stx_dev_minor = minor(st.dev);
	return 0;
}

/* ------------------------------------------------------------ statvfs and statfs */

struct hj_vfs {
	int64_t bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid, flag, namemax;
};

static int
rump_statvfs(int number, struct sp_buf *b, struct hj_vfs *v)
{
	struct sp_reply r;
	uint32_t n, m;
	int e = hj_call(number, b, &r, &n);
	if (e)
		return hj_err(e);
	int64_t *f = &v->bsize;
	if (n < 1 || sp_get_list(&r, &m) || m < 11) {
		sp_reply_free(&r);
		return hj_err(EPROTO);
	}
	for (int i = 0; i < 11; i++)
		if (sp_get_int(&r, &f[i])) {
			sp_reply_free(&r);
			return hj_err(EPROTO);
		}
	sp_reply_free(&r);
	return 0;
}

/* 1 if routed to the kernel, with the result in *ret */
static int
vfs_of(const char *path, int fd, struct hj_vfs *v, int *ret)
{
	struct sp_buf b;
	const char *rp;
	if (path) {
		if (hj_path(path, &rp) == HJ_HOST)
			return 0;
		sp_begin(&b);
		sp_str(&b, rp);
		sp_int(&b, 0);
		*ret = rump_statvfs(RUMPSP_SYS_statvfs1, &b, v);
		return 1;
	}
	int r = hj_rumpfd(fd);
	if (r < 0)
		return 0;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, 0);
	*ret = rump_statvfs(RUMPSP_SYS_fstatvfs1, &b, v);
	return 1;
}

static void
to_statvfs(const struct hj_vfs *v, struct statvfs *o)
{
	memset(o, 0, sizeof(*o));
	o->f_bsize = v->bsize;
	o->f_frsize = v->frsize;
	o->f_blocks = v->blocks;
	o->f_bfree = v->bfree;
	o->f_bavail = v->bavail;
	o->f_files = v->files;
	o->f_ffree = v->ffree;
	o->f_favail = v->favail;
	o->f_fsid = v->fsid;
	o->f_flag = (v->flag & 1 ? ST_RDONLY : 0) | (v->flag & 8 ? ST_NOSUID : 0);
	o->f_namemax = v->namemax;
}

static void
to_statfs(const struct hj_vfs *v, struct statfs *o)
{
	memset(o, 0, sizeof(*o));
	o->f_type = RUMP_DEV_FSMAGIC;
	o->f_bsize = v->bsize;
	o->f_frsize = v->frsize;
	o->f_blocks = v->blocks;
	o->f_bfree = v->bfree;
	o->f_bavail = v->bavail;
	o->f_files = v->files;
	o->f_ffree = v->ffree;
	memcpy(&o->f_fsid, &v->fsid, sizeof(int));
	o->f_namelen = v->namemax;
	o->f_flags = (v->flag & 1 ? ST_RDONLY : 0);
}

HOSTFN(int, statvfs, (const char *, struct statvfs *))
HOSTFN(int, statvfs64, (const char *, struct statvfs *))
HOSTFN(int, fstatvfs, (int, struct statvfs *))
HOSTFN(int, fstatvfs64, (int, struct statvfs *))
HOSTFN(int, statfs, (const char *, struct statfs *))
HOSTFN(int, statfs64, (const char *, struct statfs *))
HOSTFN(int, fstatfs, (int, struct statfs *))
HOSTFN(int, fstatfs64, (int, struct statfs *))

_Static_assert(sizeof(struct statvfs) == sizeof(struct statvfs64), "statvfs64 layout");
_Static_assert(sizeof(struct statfs) == sizeof(struct statfs64), "statfs64 layout");
#define VFS_WRAP(name, argt, pathexpr, fdexpr, outt, base, conv) \
	int name(argt a, outt *o) \
	{ \
		struct hj_vfs v; \
		int ret; \
		if (!vfs_of(pathexpr, fdexpr, &v, &ret)) \
			return H(name)(a, (base *)o); \
		if (ret == 0) \
			conv(&v, (base *)o); \
		return ret; \
	}
VFS_WRAP(statvfs, const char *, a, -1, struct statvfs, struct statvfs, to_statvfs)
VFS_WRAP(statvfs64, const char *, a, -1, struct statvfs64, struct statvfs, to_statvfs)
VFS_WRAP(fstatvfs, int, NULL, a, struct statvfs, struct statvfs, to_statvfs)
VFS_WRAP(fstatvfs64, int, NULL, a, struct statvfs64, struct statvfs, to_statvfs)
VFS_WRAP(statfs, const char *, a, -1, struct statfs, struct statfs, to_statfs)
VFS_WRAP(statfs64, const char *, a, -1, struct statfs64, struct statfs, to_statfs)
VFS_WRAP(fstatfs, int, NULL, a, struct statfs, struct statfs, to_statfs)
VFS_WRAP(fstatfs64, int, NULL, a, struct statfs64, struct statfs, to_statfs)

/* ------------------------------------------------------------ access */

HOSTFN(int, access, (const char *, int))
HOSTFN(int, faccessat, (int, const char *, int, int))
HOSTFN(int, euidaccess, (const char *, int))
HOSTFN(int, eaccess, (const char *, int))

static int
rump_access(int rd, const char *rp, int mode, int flags)
{
	struct sp_buf b;
	sp_begin(&b);
	sp_int(&b, rd);
	sp_str(&b, rp);
	sp_int(&b, mode & 7);
	sp_int(&b, hj_atflags_to_rump(flags & AT_SYMLINK_NOFOLLOW));
	return hj_call_int(RUMPSP_SYS_faccessat, &b) < 0 ? -1 : 0;
}

int
faccessat(int dirfd, const char *path, int mode, int flags)
{
	int rd;
	const char *rp;
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(faccessat)(dirfd, path, mode, flags);
	return rump_access(rd, rp, mode, flags);
}

#define ACCESS_WRAP(name) \
	int name(const char *path, int mode) \
	{ \
		const char *rp; \
		if (hj_path(path, &rp) == HJ_HOST) \
			return H(name)(path, mode); \
		return rump_access(RUMPSP_AT_FDCWD, rp, mode, 0); \
	}
ACCESS_WRAP(access)
ACCESS_WRAP(euidaccess)
ACCESS_WRAP(eaccess)

/* ------------------------------------------------------------ the namespace */

HOSTFN(int, mkdir, (const char *, mode_t))
HOSTFN(int, mkdirat, (int, const char *, mode_t))
HOSTFN(int, rmdir, (const char *))
HOSTFN(int, unlink, (const char *))
HOSTFN(int, unlinkat, (int, const char *, int))
HOSTFN(int, remove, (const char *))
HOSTFN(int, rename, (const char *, const char *))
HOSTFN(int, renameat, (int, const char *, int, const char *))
HOSTFN(int, renameat2, (int, const char *, int, const char *, unsigned int))
HOSTFN(int, link, (const char *, const char *))
HOSTFN(int, linkat, (int, const char *, int, const char *, int))
HOSTFN(int, symlink, (const char *, const char *))
HOSTFN(int, symlinkat, (const char *, int, const char *))
HOSTFN(ssize_t, readlink, (const char *, char *, size_t))
HOSTFN(ssize_t, readlinkat, (int, const char *, char *, size_t))
HOSTFN(int, mknod, (const char *, mode_t, dev_t))
HOSTFN(int, mknodat, (int, const char *, mode_t, dev_t))
HOSTFN(int, mkfifo, (const char *, mode_t))

int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	int rd;
	const char *rp;
	struct sp_buf b;
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(mkdirat)(dirfd, path, mode);
	sp_begin(&b);
	sp_int(&b, rd);
	sp_str(&b, rp);
	sp_int(&b, mode);
	return hj_call0(RUMPSP_SYS_mkdirat, &b);
}

int
mkdir(const char *path, mode_t mode)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(mkdir)(path, mode);
	return mkdirat(AT_FDCWD, path, mode);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	int rd;
	const char *rp;
	struct sp_buf b;
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(unlinkat)(dirfd, path, flags);
	sp_begin(&b);
	sp_int(&b, rd);
	sp_str(&b, rp);
	sp_int(&b, flags & AT_REMOVEDIR ? RUMPSP_AT_REMOVEDIR : 0);
	return hj_call0(RUMPSP_SYS_unlinkat, &b);
}

int
unlink(const char *path)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(unlink)(path);
	return unlinkat(AT_FDCWD, path, 0);
}

int
rmdir(const char *path)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(rmdir)(path);
	return unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

int
remove(const char *path)
{
	const char *rp;
	struct stat sb;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(remove)(path);
	if (lstat(path, &sb) < 0)
		return -1;
	return unlinkat(AT_FDCWD, path, S_ISDIR(sb.st_mode) ? AT_REMOVEDIR : 0);
}

/* two paths: both in one kernel, or EXDEV; 1 if the kernel should do it */
static int
two(int fd1, const char *p1, int fd2, const char *p2, int *rd1, const char **rp1, int *rd2,
    const char **rp2, int *ret)
{
	int k1 = hj_atpath(fd1, p1, rd1, rp1), k2 = hj_atpath(fd2, p2, rd2, rp2);
	if (k1 == HJ_HOST && k2 == HJ_HOST)
		return 0;
	if (k1 != k2) {
		*ret = hj_err(EXDEV);
		return 2;
	}
	return 1;
}

int
renameat(int fd1, const char *p1, int fd2, const char *p2)
{
	int rd1, rd2, ret, k;
	const char *rp1, *rp2;
	struct sp_buf b;
	if ((k = two(fd1, p1, fd2, p2, &rd1, &rp1, &rd2, &rp2, &ret)) == 0)
		return H(renameat)(fd1, p1, fd2, p2);
	if (k == 2)
		return ret;
	sp_begin(&b);
	sp_int(&b, rd1);
	sp_str(&b, rp1);
	sp_int(&b, rd2);
	sp_str(&b, rp2);
	return hj_call0(RUMPSP_SYS_renameat, &b);
}

int
renameat2(int fd1, const char *p1, int fd2, const char *p2, unsigned int flags)
{
	int rd1, rd2, ret, k;
	const char *rp1, *rp2;
	if ((k = two(fd1, p1, fd2, p2, &rd1, &rp1, &rd2, &rp2, &ret)) == 0)
		return H(renameat2)(fd1, p1, fd2, p2, flags);
	if (k == 2)
		return ret;
	if (flags & RENAME_NOREPLACE) {
		struct stat sb;
		if (fstatat(fd2, p2, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			return hj_err(EEXIST);
		if (errno != ENOENT)
			return -1;
	} else if (flags)
		return hj_err(EINVAL);
	return renameat(fd1, p1, fd2, p2);
}

int
rename(const char *p1, const char *p2)
{
	int rd1, rd2, ret, k;
	const char *rp1, *rp2;
	if ((k = two(AT_FDCWD, p1, AT_FDCWD, p2, &rd1, &rp1, &rd2, &rp2, &ret)) == 0)
		return H(rename)(p1, p2);
	if (k == 2)
		return ret;
	return renameat(AT_FDCWD, p1, AT_FDCWD, p2);
}

int
linkat(int fd1, const char *p1, int fd2, const char *p2, int flags)
{
	int rd1, rd2, ret, k;
	const char *rp1, *rp2;
	struct sp_buf b;
	if ((k = two(fd1, p1, fd2, p2, &rd1, &rp1, &rd2, &rp2, &ret)) == 0)
		return H(linkat)(fd1, p1, fd2, p2, flags);
	if (k == 2)
		return ret;
	sp_begin(&b);
	sp_int(&b, rd1);
	sp_str(&b, rp1);
	sp_int(&b, rd2);
	sp_str(&b, rp2);
	sp_int(&b, hj_atflags_to_rump(flags & AT_SYMLINK_FOLLOW));
	return hj_call0(RUMPSP_SYS_linkat, &b);
}

int
link(const char *p1, const char *p2)
{
	int rd1, rd2, ret, k;
	const char *rp1, *rp2;
	if ((k = two(AT_FDCWD, p1, AT_FDCWD, p2, &rd1, &rp1, &rd2, &rp2, &ret)) == 0)
		return H(link)(p1, p2);
	if (k == 2)
		return ret;
	return linkat(AT_FDCWD, p1, AT_FDCWD, p2, 0);
}

/* decided by the new link's path; the target is text */
int
symlinkat(const char *target, int dirfd, const char *path)
{
	int rd;
	const char *rp;
	struct sp_buf b;
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(symlinkat)(target, dirfd, path);
	sp_begin(&b);
	sp_str(&b, target);
	sp_int(&b, rd);
	sp_str(&b, rp);
	return hj_call0(RUMPSP_SYS_symlinkat, &b);
}

int
symlink(const char *target, const char *path)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(symlink)(target, path);
	return symlinkat(target, AT_FDCWD, path);
}

ssize_t
readlinkat(int dirfd, const char *path, char *buf, size_t n)
{
	int rd;
	const char *rp, *p;
	struct sp_buf b;
	struct sp_reply r;
	uint32_t nres;
	size_t len;
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(readlinkat)(dirfd, path, buf, n);
	sp_begin(&b);
	sp_int(&b, rd);
	sp_str(&b, rp);
	sp_int(&b, (int64_t)(n ? n : 1));
	int e = hj_call(RUMPSP_SYS_readlinkat, &b, &r, &nres);
	if (e)
		return hj_err(e);
	if (nres < 1 || sp_get_bytes(&r, &p, &len)) {
		sp_reply_free(&r);
		return hj_err(EPROTO);
	}
	if (len > n)
		len = n;
	memcpy(buf, p, len);
	sp_reply_free(&r);
	return len;
}

ssize_t
readlink(const char *path, char *buf, size_t n)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(readlink)(path, buf, n);
	return readlinkat(AT_FDCWD, path, buf, n);
}

ssize_t
__readlink_chk(const char *path, char *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		abort();
	return readlink(path, buf, n);
}

ssize_t
__readlinkat_chk(int dirfd, const char *path, char *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		abort();
	return readlinkat(dirfd, path, buf, n);
}

int
mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	int rd;
	const char *rp;
	struct sp_buf b;
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(mknodat)(dirfd, path, mode, dev);
	if (rd != RUMPSP_AT_FDCWD)
		return hj_err(EOPNOTSUPP);	/* the kernel has mknod, not mknodat */
	sp_begin(&b);
	sp_str(&b, rp);
	sp_int(&b, mode);
	sp_int(&b, dev);
	return hj_call0(RUMPSP_SYS___mknod50, &b);
}

int
mknod(const char *path, mode_t mode, dev_t dev)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(mknod)(path, mode, dev);
	return mknodat(AT_FDCWD, path, mode, dev);
}

int
mkfifo(const char *path, mode_t mode)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(mkfifo)(path, mode);
	return mknodat(AT_FDCWD, path, S_IFIFO | (mode & 07777), 0);
}

/* ------------------------------------------------------------ owners, modes, sizes */

HOSTFN(int, chmod, (const char *, mode_t))
HOSTFN(int, fchmodat, (int, const char *, mode_t, int))
HOSTFN(int, lchmod, (const char *, mode_t))
HOSTFN(int, chown, (const char *, uid_t, gid_t))
HOSTFN(int, lchown, (const char *, uid_t, gid_t))
HOSTFN(int, fchownat, (int, const char *, uid_t, gid_t, int))
HOSTFN(int, truncate, (const char *, off_t))
HOSTFN(int, truncate64, (const char *, off_t))

int
fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	int rd;
	const char *rp;
	struct sp_buf b;
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(fchmodat)(dirfd, path, mode, flags);
	sp_begin(&b);
	sp_int(&b, rd);
	sp_str(&b, rp);
	sp_int(&b, mode);
	sp_int(&b, hj_atflags_to_rump(flags & AT_SYMLINK_NOFOLLOW));
	return hj_call0(RUMPSP_SYS_fchmodat, &b);
}

int
chmod(const char *path, mode_t mode)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(chmod)(path, mode);
	return fchmodat(AT_FDCWD, path, mode, 0);
}

int
lchmod(const char *path, mode_t mode)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(lchmod)(path, mode);
	return fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW);
}

static int
rump_chown(int number, const char *rp, uid_t uid, gid_t gid)
{
	struct sp_buf b;
	sp_begin(&b);
	sp_str(&b, rp);
	sp_int(&b, uid == (uid_t)-1 ? -1 : (int64_t)uid);
	sp_int(&b, gid == (gid_t)-1 ? -1 : (int64_t)gid);
	return hj_call0(number, &b);
}

int
chown(const char *path, uid_t uid, gid_t gid)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(chown)(path, uid, gid);
	return rump_chown(RUMPSP_SYS_chown, rp, uid, gid);
}

int
lchown(const char *path, uid_t uid, gid_t gid)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(lchown)(path, uid, gid);
	return rump_chown(RUMPSP_SYS_lchown, rp, uid, gid);
}

int
fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	int rd;
	const char *rp;
	if ((flags & AT_EMPTY_PATH) && path && *path == '\0' && hj_rumpfd(dirfd) >= 0)
		return fchown(dirfd, uid, gid);
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(fchownat)(dirfd, path, uid, gid, flags);
	if (rd == RUMPSP_AT_FDCWD)
		return rump_chown(flags & AT_SYMLINK_NOFOLLOW ? RUMPSP_SYS_lchown : RUMPSP_SYS_chown,
		    rp, uid, gid);
	/* relative to a rump directory: the kernel has no fchownat; open the name */
	int fd = openat(dirfd, path, O_RDONLY | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0));
	if (fd < 0) {
		if (errno == ELOOP || errno == EMLINK)
			return 0;	/* a symbolic link: its owner is not kept apart */
		return -1;
	}
	int ret = fchown(fd, uid, gid);
	int e = errno;
	close(fd);
	errno = e;
	return ret;
}

int
truncate(const char *path, off_t len)
{
	const char *rp;
	struct sp_buf b;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(truncate)(path, len);
	sp_begin(&b);
	sp_str(&b, rp);
	sp_int(&b, len);
	return hj_call0(RUMPSP_SYS_truncate, &b);
}

int
truncate64(const char *path, off_t len)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(truncate64)(path, len);
	return truncate(path, len);
}

/* ------------------------------------------------------------ times */

HOSTFN(int, utimensat, (int, const char *, const struct timespec *, int))
HOSTFN(int, futimens, (int, const struct timespec *))
HOSTFN(int, utimes, (const char *, const struct timeval *))
HOSTFN(int, lutimes, (const char *, const struct timeval *))
HOSTFN(int, futimes, (int, const struct timeval *))
HOSTFN(int, utime, (const char *, const struct utimbuf *))

/* one time: UTIME_NOW is None (now); UTIME_OMIT keeps the current value */
static int
put_times(struct sp_buf *b, const struct timespec *ts, const struct hj_stat *cur)
{
	for (int i = 0; i < 2; i++) {
		if (ts == NULL || ts[i].tv_nsec == UTIME_NOW)
			sp_none(b);
		else if (ts[i].tv_nsec == UTIME_OMIT)
			sp_int(b, i == 0 ? cur->atime : cur->mtime);
		else if (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000)
			return -1;
		else
			sp_int(b, (int64_t)ts[i].tv_sec * 1000000000 + ts[i].tv_nsec);
	}
	return 0;
}

static int
omits(const struct timespec *ts)
{
	return ts && (ts[0].tv_nsec == UTIME_OMIT || ts[1].tv_nsec == UTIME_OMIT);
}

static int
rump_futimens(int r, const struct timespec *ts)
{
	struct hj_stat cur;
	struct sp_buf b;
	if (omits(ts)) {
		if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
			return 0;
		sp_begin(&b);
		sp_int(&b, r);
		if (hj_call_stat(RUMPSP_SYS___fstat50, &b, &cur) < 0)
			return -1;
	}
	sp_begin(&b);
	sp_int(&b, r);
	if (put_times(&b, ts, &cur)) {
		sp_done(&b);
		return hj_err(EINVAL);
	}
	return hj_call0(RUMPSP_SYS_futimens, &b);
}

int
utimensat(int dirfd, const char *path, const struct timespec ts[2], int flags)
{
	int rd;
	const char *rp;
	struct hj_stat cur;
	struct sp_buf b;
	if (path == NULL || ((flags & AT_EMPTY_PATH) && *path == '\0')) {
		int r = hj_rumpfd(dirfd);
		if (r < 0)
			return H(utimensat)(dirfd, path, ts, flags);
		return rump_futimens(r, ts);
	}
	if (hj_atpath(dirfd, path, &rd, &rp) == HJ_HOST)
		return H(utimensat)(dirfd, path, ts, flags);
	if (omits(ts)) {
		if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
			return 0;
		if (rump_statat(rd, rp, flags, &cur) < 0)
			return -1;
	}
	sp_begin(&b);
	sp_int(&b, rd);
	sp_str(&b, rp);
	if (put_times(&b, ts, &cur)) {
		sp_done(&b);
		return hj_err(EINVAL);
	}
	sp_int(&b, hj_atflags_to_rump(flags & AT_SYMLINK_NOFOLLOW));
	return hj_call0(RUMPSP_SYS_utimensat, &b);
}

int
futimens(int fd, const struct timespec ts[2])
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(futimens)(fd, ts) : rump_futimens(r, ts);
}

static const struct timespec *
tv_to_ts(const struct timeval *tv, struct timespec ts[2])
{
	if (tv == NULL)
		return NULL;
	for (int i = 0; i < 2; i++) {
		ts[i].tv_sec = tv[i].tv_sec;
		ts[i].tv_nsec = tv[i].tv_usec * 1000;
	}
	return ts;
}

int
utimes(const char *path, const struct timeval tv[2])
{
	const char *rp;
	struct timespec ts[2];
	if (hj_path(path, &rp) == HJ_HOST)
		return H(utimes)(path, tv);
	return utimensat(AT_FDCWD, path, tv_to_ts(tv, ts), 0);
}

int
lutimes(const char *path, const struct timeval tv[2])
{
	const char *rp;
	struct timespec ts[2];
	if (hj_path(path, &rp) == HJ_HOST)
		return H(lutimes)(path, tv);
	return utimensat(AT_FDCWD, path, tv_to_ts(tv, ts), AT_SYMLINK_NOFOLLOW);
}

int
futimes(int fd, const struct timeval tv[2])
{
	struct timespec ts[2];
	int r = hj_rumpfd(fd);
	return r < 0 ? H(futimes)(fd, tv) : rump_futimens(r, tv_to_ts(tv, ts));
}

int
utime(const char *path, const struct utimbuf *ut)
{
	const char *rp;
	struct timespec ts[2];
	if (hj_path(path, &rp) == HJ_HOST)
		return H(utime)(path, ut);
	if (ut == NULL)
		return utimensat(AT_FDCWD, path, NULL, 0);
	ts[0].tv_sec = ut->actime;
	ts[0].tv_nsec = 0;
	ts[1].tv_sec = ut->modtime;
	ts[1].tv_nsec = 0;
	return utimensat(AT_FDCWD, path, ts, 0);
}

/* ------------------------------------------------------------ working directory */

HOSTFN(int, chdir, (const char *))
HOSTFN(char *, getcwd, (char *, size_t))
HOSTFN(char *, get_current_dir_name, (void))
HOSTFN(int, chroot, (const char *))

int
chdir(const char *path)
{
	const char *rp;
	struct sp_buf b;
	if (hj_path(path, &rp) == HJ_HOST) {
		int ok = H(chdir)(path);
		if (ok == 0 && hj_ready)
			hj_pwdinrump = 0;
		return ok;
	}
	sp_begin(&b);
	sp_str(&b, rp);
	if (hj_call0(RUMPSP_SYS_chdir, &b) < 0)
		return -1;
	hj_pwdinrump = 1;
	return 0;
}

int
chroot(const char *path)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(chroot)(path);
	return hj_err(EOPNOTSUPP);
}

/* the program's view of the kernel's cwd: the prefix joined to it */
static int
rump_getcwd(char *out, size_t size)
{
	struct sp_buf b;
	struct sp_reply r;
	uint32_t n;
	const char *p;
	size_t len;
	sp_begin(&b);
	int e = hj_call(RUMPSP_SYS___getcwd, &b, &r, &n);
	if (e)
		return hj_err(e);
	if (n < 1 || sp_get_bytes(&r, &p, &len)) {
		sp_reply_free(&r);
		return hj_err(EPROTO);
	}
	size_t pre = hj_cfg.prefixlen > 1 ? hj_cfg.prefixlen : 0;
	int root = len == 1 && p[0] == '/';
	size_t need = pre + (root && pre ? 0 : len) + 1;
	if (need > size) {
		sp_reply_free(&r);
		return hj_err(ERANGE);
	}
	memcpy(out, hj_cfg.prefix, pre);
	if (!(root && pre))
		memcpy(out + pre, p, len);
	out[need - 1] = '\0';
	sp_reply_free(&r);
	return 0;
}

char *
getcwd(char *buf, size_t size)
{
	if (!hj_ready || !hj_pwdinrump)
		return H(getcwd)(buf, size);
	if (buf == NULL) {
		size_t n = size ? size : PATH_MAX;
		char *m = malloc(n);
		if (m == NULL)
			return NULL;
		if (rump_getcwd(m, n) < 0) {
			free(m);
			return NULL;
		}
		return m;
	}
	if (size == 0) {
		errno = EINVAL;
		return NULL;
	}
	return rump_getcwd(buf, size) < 0 ? NULL : buf;
}

char *
__getcwd_chk(char *buf, size_t size, size_t buflen)
{
	if (size > buflen)
		abort();
	return getcwd(buf, size);
}

char *
get_current_dir_name(void)
{
	if (!hj_ready || !hj_pwdinrump)
		return H(get_current_dir_name)();
	return getcwd(NULL, 0);
}

char *
getwd(char *buf)
{
	return getcwd(buf, PATH_MAX);
}

/* ------------------------------------------------------------ realpath */

HOSTFN(char *, realpath, (const char *, char *))
HOSTFN(char *, canonicalize_file_name, (const char *))

/*
 * glibc's realpath reads links with calls no preload sees; for names in the
 * kernel it is done here: made absolute, "." and ".." removed, each
 * component looked up and its links followed (at most 40).
 */
static char *
rump_realpath(const char *path, char *resolved)
{
	char work[PATH_MAX * 2], out[PATH_MAX];
	int links = 0;
	if (path[0] == '/')
		snprintf(work, sizeof(work), "%s", path);
	else {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return NULL;
		snprintf(work, sizeof(work), "%s/%s", cwd, path);
	}
	size_t olen;
again:
	out[0] = '\0';
	olen = 0;
	for (char *p = work; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchr(p, '/');
		size_t clen = end ? (size_t)(end - p) : strlen(p);
		if (clen == 1 && p[0] == '.') {
		} else if (clen == 2 && p[0] == '.' && p[1] == '.') {
			while (olen && out[olen - 1] != '/')
				olen--;
			if (olen)
				olen--;
			out[olen] = '\0';
		} else {
			if (olen + clen + 2 > sizeof(out)) {
				errno = ENAMETOOLONG;
				return NULL;
			}
			out[olen++] = '/';
			memcpy(out + olen, p, clen);
			olen += clen;
			out[olen] = '\0';
			struct stat sb;
			if (lstat(out, &sb) < 0)
				return NULL;
			if (S_ISLNK(sb.st_mode)) {
				char target[PATH_MAX], rest[PATH_MAX * 2];
				ssize_t n = readlink(out, target, sizeof(target) - 1);
				if (n < 0)
					return NULL;
				target[n] = '\0';
				if (++links > 40) {
					errno = ELOOP;
					return NULL;
				}
				/* the link lives in the kernel's namespace: shown under the prefix */
				while (olen && out[olen - 1] != '/')
					olen--;
				if (olen)
					olen--;
				out[olen] = '\0';
				snprintf(rest, sizeof(rest), "%s", end ? end : "");
				if (target[0] == '/' && hj_cfg.prefixlen > 1)
					snprintf(work, sizeof(work), "%s%s%s", hj_cfg.prefix, target, rest);
				else if (target[0] == '/')
					snprintf(work, sizeof(work), "%s%s", target, rest);
				else
					snprintf(work, sizeof(work), "%s/%s%s", out, target, rest);
				goto again;
			} else if (end && !S_ISDIR(sb.st_mode)) {
				errno = ENOTDIR;
				return NULL;
			}
		}
		p = end ? end : p + clen;
	}
	if (olen == 0)
		strcpy(out, "/");
	if (resolved == NULL)
		return strdup(out);
	strcpy(resolved, out);
	return resolved;
}

char *
realpath(const char *path, char *resolved)
{
	const char *rp;
	if (path == NULL || hj_path(path, &rp) == HJ_HOST)
		return H(realpath)(path, resolved);
	return rump_realpath(path, resolved);
}

char *
__realpath_chk(const char *path, char *resolved, size_t buflen)
{
	if (resolved && buflen < PATH_MAX)
		abort();
	return realpath(path, resolved);
}

char *
canonicalize_file_name(const char *path)
{
	const char *rp;
	if (path == NULL || hj_path(path, &rp) == HJ_HOST)
		return H(canonicalize_file_name)(path);
	return rump_realpath(path, NULL);
}
