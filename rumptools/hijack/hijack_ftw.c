/*
 * hijack_ftw.c: nftw(), ftw() and glob() over kernel trees.  glibc walks
 * with its internal opendir and stat, which no preload sees, so for a path
 * in the kernel the walk is done here with the library's own calls (glob:
 * through GLOB_ALTDIRFUNC).  Supported
 * flags: FTW_PHYS, FTW_DEPTH, FTW_MOUNT (one file system) and
 * FTW_ACTIONRETVAL; FTW_CHDIR is ignored (the callback gets whole paths).
 * No state of its own; the walk allocates its path buffer on the heap.
 */
#include "hijack.h"

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef int (*nftw_fn)(const char *, const struct stat *, int, struct FTW *);

struct walk {
	nftw_fn fn;
	int flags;
	dev_t dev;
	char path[PATH_MAX];
};

/* the callback's answer: 0 go on, else stop with it (FTW_ACTIONRETVAL: its meanings) */
static int
visit(struct walk *w, size_t len, int level)
{
	struct stat sb;
	struct FTW ftw;
	const char *slash = strrchr(w->path, '/');
	int type, ret;
	int st = (w->flags & FTW_PHYS) ? lstat(w->path, &sb) : stat(w->path, &sb);

	ftw.base = slash && slash[1] ? (int)(slash - w->path + 1) : 0;
	ftw.level = level;
	if (st < 0) {
		if (!(w->flags & FTW_PHYS) && lstat(w->path, &sb) == 0 && S_ISLNK(sb.st_mode))
			return w->fn(w->path, &sb, FTW_SLN, &ftw);
		return w->fn(w->path, &sb, FTW_NS, &ftw);
	}
	if (level == 0)
		w->dev = sb.st_dev;
	else if ((w->flags & FTW_MOUNT) && sb.st_dev != w->dev)
		return 0;
	if (S_ISLNK(sb.st_mode))
		return w->fn(w->path, &sb, FTW_SL, &ftw);
	if (!S_ISDIR(sb.st_mode))
		return w->fn(w->path, &sb, FTW_F, &ftw);

	DIR *d = opendir(w->path);
	type = d ? ((w->flags & FTW_DEPTH) ? FTW_DP : FTW_D) : FTW_DNR;
	if (!(w->flags & FTW_DEPTH) || d == NULL) {
		ret = w->fn(w->path, &sb, type, &ftw);
		if (d == NULL || ret != 0) {
			if (d)
				closedir(d);
			if ((w->flags & FTW_ACTIONRETVAL) && ret == FTW_SKIP_SUBTREE)
				return 0;
			return ret;
		}
	}
	struct dirent *e;
	ret = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t n = strlen(e->d_name);
		int sep = len > 0 && w->path[len - 1] != '/';
		if (len + sep + n + 1 > sizeof(w->path)) {
			ret = -1;
			errno = ENAMETOOLONG;
			break;
		}
		if (sep)
			w->path[len] = '/';
		memcpy(w->path + len + sep, e->d_name, n + 1);
		ret = visit(w, len + sep + n, level + 1);
		w->path[len] = '\0';
		if (ret != 0) {
			if ((w->flags & FTW_ACTIONRETVAL) && ret == FTW_SKIP_SIBLINGS)
				ret = 0;
			break;
		}
	}
	closedir(d);
	if (ret == 0 && (w->flags & FTW_DEPTH)) {
		ret = w->fn(w->path, &sb, FTW_DP, &ftw);
		if ((w->flags & FTW_ACTIONRETVAL) && (ret == FTW_SKIP_SUBTREE || ret == FTW_SKIP_SIBLINGS))
			ret = 0;
	}
	return ret;
}

static int
rump_nftw(const char *path, nftw_fn fn, int flags)
{
	struct walk *w = malloc(sizeof(*w));
	if (w == NULL)
		return -1;
	size_t len = strlen(path);
	if (len >= sizeof(w->path)) {
		free(w);
		return hj_err(ENAMETOOLONG);
	}
	memcpy(w->path, path, len + 1);
	w->fn = fn;
	w->flags = flags;
	int ret = visit(w, len, 0);
	free(w);
	if ((flags & FTW_ACTIONRETVAL) && ret == FTW_STOP)
		return FTW_STOP;
	return ret;
}

HOSTFN(int, nftw, (const char *, nftw_fn, int, int))
typedef int (*nftw64_fn)(const char *, const struct stat64 *, int, struct FTW *);
typedef int (*ftw64_fn)(const char *, const struct stat64 *, int);
HOSTFN(int, nftw64, (const char *, nftw64_fn, int, int))
HOSTFN(int, ftw, (const char *, int (*)(const char *, const struct stat *, int), int))
HOSTFN(int, ftw64, (const char *, ftw64_fn, int))

int
nftw(const char *path, nftw_fn fn, int nopenfd, int flags)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(nftw)(path, fn, nopenfd, flags);
	return rump_nftw(path, fn, flags & ~FTW_CHDIR);
}

/* struct stat64 is struct stat on LP64 (checked in hijack_fs.c) */
int
nftw64(const char *path, nftw64_fn fn, int nopenfd, int flags)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(nftw64)(path, fn, nopenfd, flags);
	return rump_nftw(path, (nftw_fn)fn, flags & ~FTW_CHDIR);
}

/* ftw: nftw without the FTW argument; the callback is called through a thread's slot */
static __thread int (*ftw_cb)(const char *, const struct stat *, int);

static int
ftw_adapter(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	return ftw_cb(p, sb, type == FTW_SLN ? FTW_NS : type);
}

int
ftw(const char *path, int (*fn)(const char *, const struct stat *, int), int nopenfd)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(ftw)(path, fn, nopenfd);
	int (*saved)(const char *, const struct stat *, int) = ftw_cb;
	ftw_cb = fn;
	int ret = rump_nftw(path, ftw_adapter, 0);
	ftw_cb = saved;
	return ret;
}

int
ftw64(const char *path, ftw64_fn fn, int nopenfd)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(ftw64)(path, fn, nopenfd);
	return ftw(path, (int (*)(const char *, const struct stat *, int))fn, nopenfd);
}

/* ------------------------------------------------------------ glob */

/*
 * glob() reads directories with internal calls too; for a pattern in the
 * kernel it is given the library's own directory and stat functions
 * through GLOB_ALTDIRFUNC, glibc's way of walking other name spaces.
 */
#include <glob.h>

HOSTFN(int, glob, (const char *, int, int (*)(const char *, int), glob_t *))
HOSTFN(int, glob64, (const char *, int, int (*)(const char *, int), glob64_t *))

static void *
g_opendir(const char *p)
{
	return opendir(p);
}

static void
g_closedir(void *d)
{
	closedir(d);
}

static void *
g_readdir(void *d)
{
	return readdir(d);
}

static int
g_stat(const char *p, void *sb)
{
	return stat(p, sb);
}

static int
g_lstat(const char *p, void *sb)
{
	return lstat(p, sb);
}

int
glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
	const char *rp;
	if (pattern == NULL || hj_path(pattern, &rp) == HJ_HOST || (flags & GLOB_ALTDIRFUNC))
		return H(glob)(pattern, flags, errfunc, g);
	g->gl_opendir = g_opendir;
	g->gl_closedir = g_closedir;
	g->gl_readdir = (struct dirent *(*)(void *))g_readdir;
	g->gl_stat = (int (*)(const char *, struct stat *))g_stat;
	g->gl_lstat = (int (*)(const char *, struct stat *))g_lstat;
	return H(glob)(pattern, flags | GLOB_ALTDIRFUNC, errfunc, g);
}

int
glob64(const char *pattern, int flags, int (*errfunc)(const char *, int), glob64_t *g)
{
	const char *rp;
	if (pattern == NULL || hj_path(pattern, &rp) == HJ_HOST || (flags & GLOB_ALTDIRFUNC))
		return H(glob64)(pattern, flags, errfunc, g);
	g->gl_opendir = g_opendir;
	g->gl_closedir = g_closedir;
	g->gl_readdir = (struct dirent64 *(*)(void *))g_readdir;
	g->gl_stat = (int (*)(const char *, struct stat64 *))g_stat;
	g->gl_lstat = (int (*)(const char *, struct stat64 *))g_lstat;
	return H(glob64)(pattern, flags | GLOB_ALTDIRFUNC, errfunc, g);
}
