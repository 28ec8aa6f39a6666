/*
 * hijack_dir.c: directory streams on rump directories.
 *
 * glibc reads directories with getdents64, which no preload sees, so the
 * library serves DIR streams of kernel directories itself.  Its DIR objects
 * are its own structures; a registry (under hj_fdlock) tells them from the
 * host's, which pass through.  telldir gives the kernel's cookie of the
 * position, which seekdir gives back to lseek.
 */
#include "hijack.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 8192		/* the count asked of __getdents30: about 512 entries */

struct rdir {
	int fd;			/* the program's number */
	int r;			/* the kernel's */
	char *body;		/* the last reply */
	struct sp_reply rep;
	uint32_t left;		/* entries of it not yet returned */
	long pos;		/* cookie after the last returned entry */
	int eof;
	struct dirent ent;
};

#define MAXDIRS 256
static struct rdir *dirs[MAXDIRS];

int
hj_dir_owns(void *p)
{
	if (p == NULL)
		return 0;
	pthread_mutex_lock(&hj_fdlock);
	for (int i = 0; i < MAXDIRS; i++)
		if (dirs[i] == p) {
			pthread_mutex_unlock(&hj_fdlock);
			return 1;
		}
	pthread_mutex_unlock(&hj_fdlock);
	return 0;
}

static DIR *
make(int fd, int r)
{
	struct rdir *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->fd = fd;
	d->r = r;
	pthread_mutex_lock(&hj_fdlock);
	for (int i = 0; i < MAXDIRS; i++)
		if (dirs[i] == NULL) {
			dirs[i] = d;
			pthread_mutex_unlock(&hj_fdlock);
			return (DIR *)d;
		}
	pthread_mutex_unlock(&hj_fdlock);
	free(d);
	errno = EMFILE;
	return NULL;
}

static void
drop_batch(struct rdir *d)
{
	if (d->rep.body)
		sp_reply_free(&d->rep);
	d->left = 0;
}

HOSTFN(DIR *, opendir, (const char *))
HOSTFN(DIR *, fdopendir, (int))
HOSTFN(struct dirent *, readdir, (DIR *))
HOSTFN(struct dirent64 *, readdir64, (DIR *))
HOSTFN(int, readdir_r, (DIR *, struct dirent *, struct dirent **))
HOSTFN(int, readdir64_r, (DIR *, struct dirent64 *, struct dirent64 **))
HOSTFN(int, closedir, (DIR *))
HOSTFN(int, dirfd, (DIR *))
HOSTFN(void, rewinddir, (DIR *))
HOSTFN(void, seekdir, (DIR *, long))
HOSTFN(long, telldir, (DIR *))

DIR *
opendir(const char *path)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(opendir)(path);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = make(fd, hj_rumpfd(fd));
	if (d == NULL) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

DIR *
fdopendir(int fd)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(fdopendir)(fd);
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return NULL;
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return NULL;
	}
	return make(fd, r);
}

/* the next entry, or NULL at the end (errno unchanged) or on error (errno set) */
static struct dirent *
next(struct rdir *d)
{
	while (d->left == 0) {
		struct sp_buf b;
		uint32_t n;
		drop_batch(d);
		if (d->eof)
			return NULL;
		sp_begin(&b);
		sp_int(&b, d->r);
		sp_int(&b, BATCH);
		int e = hj_call(RUMPSP_SYS___getdents30, &b, &d->rep, &n);
		if (e) {
			d->rep.body = NULL;
			errno = e;
			return NULL;
		}
		if (n < 1 || sp_get_list(&d->rep, &d->left)) {
			drop_batch(d);
			errno = EPROTO;
			return NULL;
		}
		if (d->left == 0) {
			d->eof = 1;
			drop_batch(d);
			return NULL;
		}
	}
	uint32_t m;
	int64_t cookie, ino, type;
	const char *name;
	size_t len;
	if (sp_get_list(&d->rep, &m) || m < 4 || sp_get_int(&d->rep, &cookie) ||
	    sp_get_int(&d->rep, &ino) || sp_get_int(&d->rep, &type) ||
	    sp_get_bytes(&d->rep, &name, &len)) {
		drop_batch(d);
		errno = EPROTO;
		return NULL;
	}
	d->left--;
	if (len >= sizeof(d->ent.d_name))
		len = sizeof(d->ent.d_name) - 1;
	d->ent.d_ino = ino;
	d->ent.d_off = cookie;
	d->ent.d_reclen = sizeof(d->ent);
	d->ent.d_type = type;		/* DT_* are the same numbers */
	memcpy(d->ent.d_name, name, len);
	d->ent.d_name[len] = '\0';
	d->pos = cookie;
	return &d->ent;
}

struct dirent *
readdir(DIR *dp)
{
	if (!hj_dir_owns(dp))
		return H(readdir)(dp);
	return next((struct rdir *)dp);
}

struct dirent64 *
readdir64(DIR *dp)
{
	if (!hj_dir_owns(dp))
		return H(readdir64)(dp);
	return (struct dirent64 *)next((struct rdir *)dp);	/* the same layout on LP64 */
}

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
int
readdir_r(DIR *dp, struct dirent *ent, struct dirent **res)
{
	if (!hj_dir_owns(dp))
		return H(readdir_r)(dp, ent, res);
	int saved = errno;
	errno = 0;
	struct dirent *e = next((struct rdir *)dp);
	if (e == NULL) {
		int err = errno;
		errno = saved;
		*res = NULL;
		return err;
	}
	errno = saved;
	memcpy(ent, e, sizeof(*ent));
	*res = ent;
	return 0;
}

int
readdir64_r(DIR *dp, struct dirent64 *ent, struct dirent64 **res)
{
	if (!hj_dir_owns(dp))
		return H(readdir64_r)(dp, ent, res);
	return readdir_r(dp, (struct dirent *)ent, (struct dirent **)res);
}

int
closedir(DIR *dp)
{
	if (!hj_dir_owns(dp))
		return H(closedir)(dp);
	struct rdir *d = (struct rdir *)dp;
	pthread_mutex_lock(&hj_fdlock);
	for (int i = 0; i < MAXDIRS; i++)
		if (dirs[i] == d)
			dirs[i] = NULL;
	pthread_mutex_unlock(&hj_fdlock);
	drop_batch(d);
	int ret = close(d->fd);
	free(d);
	return ret;
}

int
dirfd(DIR *dp)
{
	if (!hj_dir_owns(dp))
		return H(dirfd)(dp);
	return ((struct rdir *)dp)->fd;
}

static void
seek_to(struct rdir *d, long pos)
{
	drop_batch(d);
	d->eof = 0;
	d->pos = pos;
	lseek(d->fd, pos, SEEK_SET);
}

void
rewinddir(DIR *dp)
{
	if (!hj_dir_owns(dp)) {
		H(rewinddir)(dp);
		return;
	}
	seek_to((struct rdir *)dp, 0);
}

void
seekdir(DIR *dp, long pos)
{
	if (!hj_dir_owns(dp)) {
		H(seekdir)(dp, pos);
		return;
	}
	seek_to((struct rdir *)dp, pos);
}

long
telldir(DIR *dp)
{
	if (!hj_dir_owns(dp))
		return H(telldir)(dp);
	return ((struct rdir *)dp)->pos;
}

/* scandir: glibc's reads with its internal opendir, so on a rump path it is done here */
HOSTFN(int, scandir, (const char *, struct dirent ***, int (*)(const struct dirent *),
    int (*)(const struct dirent **, const struct dirent **)))

int
scandir(const char *path, struct dirent ***list, int (*sel)(const struct dirent *),
    int (*cmp)(const struct dirent **, const struct dirent **))
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(scandir)(path, list, sel, cmp);
	DIR *dp = opendir(path);
	if (dp == NULL)
		return -1;
	struct dirent **v = NULL, *e;
	size_t n = 0, cap = 0;
	errno = 0;
	while ((e = readdir(dp)) != NULL) {
		if (sel && !sel(e))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct dirent **nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL)
				goto fail;
			v = nv;
		}
		if ((v[n] = malloc(sizeof(*e))) == NULL)
			goto fail;
		memcpy(v[n++], e, sizeof(*e));
	}
	if (errno)
		goto fail;
	closedir(dp);
	if (cmp)
		qsort(v, n, sizeof(*v), (int (*)(const void *, const void *))cmp);
	*list = v;
	return (int)n;
fail: {
	int err = errno ? errno : ENOMEM;
	while (n)
		free(v[--n]);
	free(v);
	closedir(dp);
	errno = err;
	return -1;
}
}

int
scandir64(const char *path, struct dirent64 ***list, int (*sel)(const struct dirent64 *),
    int (*cmp)(const struct dirent64 **, const struct dirent64 **))
{
	return scandir(path, (struct dirent ***)list, (int (*)(const struct dirent *))sel,
	    (int (*)(const struct dirent **, const struct dirent **))cmp);
}
