/*
 * hijack_misc.c: the calls that a rump descriptor or path answers with a
 * refusal the program knows how to handle (sockets: hijack_sock.c;
 * the waiting calls: hijack_poll.c).
 *
 *  - extended attributes: ENOTSUP (ls -l and cp -a then go on quietly);
 *  - mmap of a rump descriptor: ENODEV;
 *  - copy_file_range, sendfile, splice, tee with a rump end: EXDEV/EINVAL,
 *    so cp and shutil fall back to read and write;
 *  - posix_fadvise: accepted (advice); fallocate: EOPNOTSUPP;
 * No state of its own.
 */
#include "hijack.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/xattr.h>
#include <unistd.h>

/* ------------------------------------------------------------ xattr */

#define XATTR_PATH(ret, name, params, args, pathv) \
	HOSTFN(ret, name, params) \
	ret name params \
	{ \
		const char *rp; \
		if (hj_path(pathv, &rp) == HJ_RUMP) \
			return hj_err(ENOTSUP); \
		return H(name) args; \
	}
#define XATTR_FD(ret, name, params, args) \
	HOSTFN(ret, name, params) \
	ret name params \
	{ \
		if (hj_rumpfd(fd) >= 0) \
			return hj_err(ENOTSUP); \
		return H(name) args; \
	}

XATTR_PATH(ssize_t, getxattr, (const char *p, const char *n, void *v, size_t s), (p, n, v, s), p)
XATTR_PATH(ssize_t, lgetxattr, (const char *p, const char *n, void *v, size_t s), (p, n, v, s), p)
XATTR_FD(ssize_t, fgetxattr, (int fd, const char *n, void *v, size_t s), (fd, n, v, s))
XATTR_PATH(int, setxattr, (const char *p, const char *n, const void *v, size_t s, int f), (p, n, v, s, f), p)
XATTR_PATH(int, lsetxattr, (const char *p, const char *n, const void *v, size_t s, int f), (p, n, v, s, f), p)
XATTR_FD(int, fsetxattr, (int fd, const char *n, const void *v, size_t s, int f), (fd, n, v, s, f))
XATTR_PATH(ssize_t, listxattr, (const char *p, char *l, size_t s), (p, l, s), p)
XATTR_PATH(ssize_t, llistxattr, (const char *p, char *l, size_t s), (p, l, s), p)
XATTR_FD(ssize_t, flistxattr, (int fd, char *l, size_t s), (fd, l, s))
XATTR_PATH(int, removexattr, (const char *p, const char *n), (p, n), p)
XATTR_PATH(int, lremovexattr, (const char *p, const char *n), (p, n), p)
XATTR_FD(int, fremovexattr, (int fd, const char *n), (fd, n))

/* ------------------------------------------------------------ mmap */

HOSTFN(void *, mmap, (void *, size_t, int, int, int, off_t))
HOSTFN(void *, mmap64, (void *, size_t, int, int, int, off_t))

void *
mmap(void *a, size_t n, int prot, int flags, int fd, off_t off)
{
	if (!(flags & MAP_ANONYMOUS) && hj_rumpfd(fd) >= 0) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	return H(mmap)(a, n, prot, flags, fd, off);
}

void *
mmap64(void *a, size_t n, int prot, int flags, int fd, off_t off)
{
	if (!(flags & MAP_ANONYMOUS) && hj_rumpfd(fd) >= 0) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	return H(mmap64)(a, n, prot, flags, fd, off);
}

/* ------------------------------------------------------------ copies */

HOSTFN(ssize_t, copy_file_range, (int, off_t *, int, off_t *, size_t, unsigned int))
HOSTFN(ssize_t, sendfile, (int, int, off_t *, size_t))
HOSTFN(ssize_t, sendfile64, (int, int, off_t *, size_t))
HOSTFN(ssize_t, splice, (int, off_t *, int, off_t *, size_t, unsigned int))
HOSTFN(ssize_t, tee, (int, int, size_t, unsigned int))
HOSTFN(int, posix_fadvise, (int, off_t, off_t, int))
HOSTFN(int, posix_fadvise64, (int, off_t, off_t, int))
HOSTFN(int, fallocate, (int, int, off_t, off_t))
HOSTFN(int, posix_fallocate, (int, off_t, off_t))

static int
either(int a, int b)
{
	return hj_rumpfd(a) >= 0 || hj_rumpfd(b) >= 0;
}

ssize_t
copy_file_range(int in, off_t *ino, int out, off_t *outo, size_t n, unsigned int fl)
{
	if (either(in, out))
		return hj_err(EXDEV);
	return H(copy_file_range)(in, ino, out, outo, n, fl);
}

ssize_t
sendfile(int out, int in, off_t *off, size_t n)
{
	if (either(in, out))
		return hj_err(EINVAL);
	return H(sendfile)(out, in, off, n);
}

ssize_t
sendfile64(int out, int in, off_t *off, size_t n)
{
	if (either(in, out))
		return hj_err(EINVAL);
	return H(sendfile64)(out, in, off, n);
}

ssize_t
splice(int in, off_t *ino, int out, off_t *outo, size_t n, unsigned int fl)
{
	if (either(in, out))
		return hj_err(EINVAL);
	return H(splice)(in, ino, out, outo, n, fl);
}

ssize_t
tee(int in, int out, size_t n, unsigned int fl)
{
	if (either(in, out))
		return hj_err(EINVAL);
	return H(tee)(in, out, n, fl);
}

int
posix_fadvise(int fd, off_t off, off_t len, int advice)
{
	return hj_rumpfd(fd) >= 0 ? 0 : H(posix_fadvise)(fd, off, len, advice);
}

int
posix_fadvise64(int fd, off_t off, off_t len, int advice)
{
	return hj_rumpfd(fd) >= 0 ? 0 : H(posix_fadvise64)(fd, off, len, advice);
}

int
fallocate(int fd, int mode, off_t off, off_t len)
{
	return hj_rumpfd(fd) >= 0 ? hj_err(EOPNOTSUPP) : H(fallocate)(fd, mode, off, len);
}

int
posix_fallocate(int fd, off_t off, off_t len)
{
	return hj_rumpfd(fd) >= 0 ? EOPNOTSUPP : H(posix_fallocate)(fd, off, len);
}
