/*
 * hijack_stdio.c: stdio streams on rump descriptors.
 *
 * glibc's streams do their I/O with internal calls no preload sees, so a
 * stream on a rump file is a fopencookie() stream whose callbacks call the
 * library's read, write, lseek and close.  While descriptor 0, 1 or 2 is an
 * alias of a rump descriptor, stdin/stdout/stderr are such streams too
 * (the old stream is flushed and kept, and comes back when the alias ends).
 * fileno() maps a cookie stream back to its descriptor.  The stream table
 * is guarded by hj_fdlock.
 */
#include "hijack.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cstream {
	FILE *fp;
	int fd;
	int owns;		/* closing the stream closes the descriptor */
};

#define MAXSTREAMS 256
static struct cstream streams[MAXSTREAMS];
static FILE *saved_std[3];

static ssize_t
c_read(void *c, char *buf, size_t n)
{
	return read((int)(intptr_t)((struct cstream *)c)->fd, buf, n);
}

static ssize_t
c_write(void *c, const char *buf, size_t n)
{
	ssize_t w = write(((struct cstream *)c)->fd, buf, n);
	return w < 0 ? 0 : w;	/* fopencookie: 0 means error */
}

static int
c_seek(void *c, off64_t *off, int whence)
{
	off_t r = lseek(((struct cstream *)c)->fd, *off, whence);
	if (r < 0)
		return -1;
	*off = r;
	return 0;
}

static int
c_close(void *c)
{
	struct cstream *s = c;
	int ret = 0;
	if (s->owns)
		ret = close(s->fd);
	pthread_mutex_lock(&hj_fdlock);
	s->fp = NULL;
	s->fd = -1;
	pthread_mutex_unlock(&hj_fdlock);
	return ret;
}

static FILE *
cookie_stream(int fd, const char *mode, int owns)
{
	static const cookie_io_functions_t io = {c_read, c_write, c_seek, c_close};
	struct cstream *s = NULL;
	pthread_mutex_lock(&hj_fdlock);
	for (int i = 0; i < MAXSTREAMS; i++)
		if (streams[i].fp == NULL && streams[i].fd <= 0) {
			s = &streams[i];
			s->fd = fd;
			s->owns = owns;
			s->fp = (FILE *)1;	/* taken */
			break;
		}
	pthread_mutex_unlock(&hj_fdlock);
	if (s == NULL) {
		errno = EMFILE;
		return NULL;
	}
	FILE *fp = fopencookie(s, mode, io);
	pthread_mutex_lock(&hj_fdlock);
	s->fp = fp;
	if (fp == NULL)
		s->fd = -1;
	pthread_mutex_unlock(&hj_fdlock);
	return fp;
}

static int
mode_flags(const char *mode)
{
	int f;
	switch (mode[0]) {
	case 'r': f = O_RDONLY; break;
	case 'w': f = O_WRONLY | O_CREAT | O_TRUNC; break;
	case 'a': f = O_WRONLY | O_CREAT | O_APPEND; break;
	default: return -1;
	}
	for (const char *p = mode + 1; *p && *p != ','; p++) {
		if (*p == '+')
			f = (f & ~O_ACCMODE) | O_RDWR;
		else if (*p == 'x')
			f |= O_EXCL;
		else if (*p == 'e')
			f |= O_CLOEXEC;
	}
	return f;
}

HOSTFN(FILE *, fopen, (const char *, const char *))
HOSTFN(FILE *, fopen64, (const char *, const char *))
HOSTFN(FILE *, fdopen, (int, const char *))
HOSTFN(FILE *, freopen, (const char *, const char *, FILE *))
HOSTFN(FILE *, freopen64, (const char *, const char *, FILE *))
HOSTFN(int, fileno, (FILE *))
HOSTFN(int, fileno_unlocked, (FILE *))

static FILE *
rump_fopen(const char *path, const char *mode)
{
	int flags = mode_flags(mode);
	if (flags < 0) {
		errno = EINVAL;
		return NULL;
	}
	int fd = open(path, flags, 0666);
	if (fd < 0)
		return NULL;
	FILE *fp = cookie_stream(fd, mode, 1);
	if (fp == NULL) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	if (flags & O_APPEND)
		fseeko(fp, 0, SEEK_END);
	return fp;
}

FILE *
fopen(const char *path, const char *mode)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(fopen)(path, mode);
	return rump_fopen(path, mode);
}

FILE *
fopen64(const char *path, const char *mode)
{
	const char *rp;
	if (hj_path(path, &rp) == HJ_HOST)
		return H(fopen64)(path, mode);
	return rump_fopen(path, mode);
}

FILE *
fdopen(int fd, const char *mode)
{
	if (hj_rumpfd(fd) < 0)
		return H(fdopen)(fd, mode);
	return cookie_stream(fd, mode, 1);
}

static FILE *
do_freopen(const char *path, const char *mode, FILE *fp, int is64)
{
	const char *rp;
	if (path == NULL || hj_path(path, &rp) == HJ_HOST)
		return is64 ? H(freopen64)(path, mode, fp) : H(freopen)(path, mode, fp);
	/* a rump file in place of fp: the stream variable cannot change, so only
	 * the standard streams, whose variables the library may assign, are served;
	 * another stream is left as it was */
	if (fp != stdin && fp != stdout && fp != stderr) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	FILE *nf = rump_fopen(path, mode);
	if (nf == NULL)
		return NULL;
	fclose(fp);
	if (fp == stdin)
		stdin = nf;
	else if (fp == stdout)
		stdout = nf;
	else if (fp == stderr)
		stderr = nf;
	return nf;
}

FILE *
freopen(const char *path, const char *mode, FILE *fp)
{
	return do_freopen(path, mode, fp, 0);
}

FILE *
freopen64(const char *path, const char *mode, FILE *fp)
{
	return do_freopen(path, mode, fp, 1);
}

static int
cookie_fd(FILE *fp)
{
	int fd = -1;
	pthread_mutex_lock(&hj_fdlock);
	for (int i = 0; i < MAXSTREAMS; i++)
		if (streams[i].fp == fp && fp) {
			fd = streams[i].fd;
			break;
		}
	pthread_mutex_unlock(&hj_fdlock);
	return fd;
}

int
fileno(FILE *fp)
{
	int fd = hj_ready ? cookie_fd(fp) : -1;
	return fd >= 0 ? fd : H(fileno)(fp);
}

int
fileno_unlocked(FILE *fp)
{
	int fd = hj_ready ? cookie_fd(fp) : -1;
	return fd >= 0 ? fd : H(fileno_unlocked)(fp);
}

/* an alias of 0-2 is about to end: what its stream holds goes to the kernel first */
void
hj_std_alias_flush(int fd)
{
	if (fd >= 0 && fd <= 2 && saved_std[fd] != NULL)
		fflush(fd == 0 ? stdin : fd == 1 ? stdout : stderr);
}

/* descriptor fd (0-2) became, or stopped being, an alias of a rump descriptor */
void
hj_std_alias_changed(int fd)
{
	FILE **var;
	static const char *const modes[3] = {"r", "w", "w"};
	if (fd < 0 || fd > 2)
		return;
	var = fd == 0 ? &stdin : fd == 1 ? &stdout : &stderr;
	int isalias = hj_alias_of(fd) >= 0;
	if (isalias && saved_std[fd] == NULL) {
		fflush(*var);
		FILE *fp = cookie_stream(fd, modes[fd], 0);
		if (fp == NULL)
			return;
		if (fd == 2)
			setvbuf(fp, NULL, _IONBF, 0);
		else if (fd == 1)
			setvbuf(fp, NULL, _IOLBF, 0);
		saved_std[fd] = *var;
		*var = fp;
	} else if (!isalias && saved_std[fd] != NULL) {
		FILE *fp = *var;
		*var = saved_std[fd];
		saved_std[fd] = NULL;
		fclose(fp);	/* flushes into the kernel; the descriptor stays */
	} else if (isalias && saved_std[fd] != NULL)
		fflush(*var);
}
