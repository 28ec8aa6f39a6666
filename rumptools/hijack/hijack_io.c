/*
 * hijack_io.c: reading, writing and seeking on descriptors: read, write,
 * the p*, *v and *v2 forms with their *64 twins, the fortified __read_chk
 * and __pread_chk, lseek.  A rump descriptor's call is one request (a
 * vector is sent as a list of buffers, or read buffer by buffer); a host
 * descriptor's goes to the host.  No state of its own.
 */
#include "hijack.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

/* ------------------------------------------------------------ I/O */

HOSTFN(ssize_t, read, (int, void *, size_t))
HOSTFN(ssize_t, write, (int, const void *, size_t))
HOSTFN(ssize_t, pread, (int, void *, size_t, off_t))
HOSTFN(ssize_t, pread64, (int, void *, size_t, off_t))
HOSTFN(ssize_t, pwrite, (int, const void *, size_t, off_t))
HOSTFN(ssize_t, pwrite64, (int, const void *, size_t, off_t))
HOSTFN(ssize_t, readv, (int, const struct iovec *, int))
HOSTFN(ssize_t, writev, (int, const struct iovec *, int))
HOSTFN(ssize_t, preadv, (int, const struct iovec *, int, off_t))
HOSTFN(ssize_t, preadv64, (int, const struct iovec *, int, off_t))
HOSTFN(ssize_t, pwritev, (int, const struct iovec *, int, off_t))
HOSTFN(ssize_t, pwritev64, (int, const struct iovec *, int, off_t))
HOSTFN(off_t, lseek, (int, off_t, int))
HOSTFN(off_t, lseek64, (int, off_t, int))

/* read up to n bytes (at off unless off < 0) of kernel descriptor r */
ssize_t
hj_rump_read(int r, void *buf, size_t n, int64_t off)
{
	struct sp_buf b;
	struct sp_reply rep;
	uint32_t nres;
	const char *p;
	size_t len;
	if (n > RUMPSP_MAX_IO)
		n = RUMPSP_MAX_IO;
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, (int64_t)n);
	if (off >= 0)
		sp_int(&b, off);
	int e = hj_call(off >= 0 ? RUMPSP_SYS_pread : RUMPSP_SYS_read, &b, &rep, &nres);
	if (e)
		return hj_err(e);
	if (nres < 1 || sp_get_bytes(&rep, &p, &len) || len > n) {
		sp_reply_free(&rep);
		return hj_err(EPROTO);
	}
	memcpy(buf, p, len);
	sp_reply_free(&rep);
	return len;
}

ssize_t
hj_rump_write(int r, const void *buf, size_t n, int64_t off)
{
	struct sp_buf b;
	if (n > RUMPSP_MAX_IO)
		n = RUMPSP_MAX_IO;
	sp_begin(&b);
	sp_int(&b, r);
	sp_bytes(&b, buf, n);
	if (off >= 0)
		sp_int(&b, off);
	return hj_call_int(off >= 0 ? RUMPSP_SYS_pwrite : RUMPSP_SYS_write, &b);
}

ssize_t
read(int fd, void *buf, size_t n)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(read)(fd, buf, n);
	return hj_rump_read(r, buf, n, -1);
}

ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		abort();
	return read(fd, buf, n);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(write)(fd, buf, n);
	return hj_rump_write(r, buf, n, -1);
}

ssize_t
pread(int fd, void *buf, size_t n, off_t off)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(pread)(fd, buf, n, off);
	if (off < 0)
		return hj_err(EINVAL);
	return hj_rump_read(r, buf, n, off);
}

ssize_t
pread64(int fd, void *buf, size_t n, off_t off)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(pread64)(fd, buf, n, off);
	if (off < 0)
		return hj_err(EINVAL);
	return hj_rump_read(r, buf, n, off);
}

ssize_t
__pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (n > buflen)
		abort();
	return pread(fd, buf, n, off);
}

ssize_t
__pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (n > buflen)
		abort();
	return pread64(fd, buf, n, off);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(pwrite)(fd, buf, n, off);
	if (off < 0)
		return hj_err(EINVAL);
	return hj_rump_write(r, buf, n, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	int r = hj_rumpfd(fd);
	if (r < 0)
		return H(pwrite64)(fd, buf, n, off);
	if (off < 0)
		return hj_err(EINVAL);
	return hj_rump_write(r, buf, n, off);
}

/* vectors as a sequence of plain calls, stopping at the first short one */
static ssize_t
rump_readv(int r, const struct iovec *iov, int cnt, int64_t off)
{
	ssize_t total = 0;
	if (cnt < 0 || cnt > IOV_MAX)
		return hj_err(EINVAL);
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		ssize_t got = hj_rump_read(r, iov[i].iov_base, iov[i].iov_len, off < 0 ? -1 : off + total);
		if (got < 0)
			return total ? total : -1;
		total += got;
		if ((size_t)got < iov[i].iov_len)
			break;
	}
	return total;
}

static ssize_t
rump_writev(int r, const struct iovec *iov, int cnt, int64_t off)
{
	struct sp_buf b;
	if (cnt < 0 || cnt > IOV_MAX)
		return hj_err(EINVAL);
	if (off >= 0) {
		ssize_t total = 0;
		for (int i = 0; i < cnt; i++) {
			ssize_t w = hj_rump_write(r, iov[i].iov_base, iov[i].iov_len, off + total);
			if (w < 0)
				return total ? total : -1;
			total += w;
			if ((size_t)w < iov[i].iov_len)
				break;
		}
		return total;
	}
	sp_begin(&b);
	sp_int(&b, r);
	sp_list(&b, cnt);
	for (int i = 0; i < cnt; i++)
		sp_bytes(&b, iov[i].iov_base, iov[i].iov_len);
	return hj_call_int(RUMPSP_SYS_writev, &b);
}

ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(readv)(fd, iov, cnt) : rump_readv(r, iov, cnt, -1);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(writev)(fd, iov, cnt) : rump_writev(r, iov, cnt, -1);
}

ssize_t
preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(preadv)(fd, iov, cnt, off) : off < 0 ? hj_err(EINVAL) : rump_readv(r, iov, cnt, off);
}

ssize_t
preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(preadv64)(fd, iov, cnt, off) : off < 0 ? hj_err(EINVAL) : rump_readv(r, iov, cnt, off);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(pwritev)(fd, iov, cnt, off) : off < 0 ? hj_err(EINVAL) : rump_writev(r, iov, cnt, off);
}

ssize_t
pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(pwritev64)(fd, iov, cnt, off) : off < 0 ? hj_err(EINVAL) : rump_writev(r, iov, cnt, off);
}

HOSTFN(ssize_t, preadv2, (int, const struct iovec *, int, off_t, int))
HOSTFN(ssize_t, pwritev2, (int, const struct iovec *, int, off_t, int))
HOSTFN(ssize_t, preadv64v2, (int, const struct iovec *, int, off_t, int))
HOSTFN(ssize_t, pwritev64v2, (int, const struct iovec *, int, off_t, int))

ssize_t
preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(preadv2)(fd, iov, cnt, off, flags) : rump_readv(r, iov, cnt, off < 0 ? -1 : off);
}

ssize_t
preadv64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(preadv64v2)(fd, iov, cnt, off, flags) : rump_readv(r, iov, cnt, off < 0 ? -1 : off);
}

ssize_t
pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(pwritev2)(fd, iov, cnt, off, flags) : rump_writev(r, iov, cnt, off < 0 ? -1 : off);
}

ssize_t
pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(pwritev64v2)(fd, iov, cnt, off, flags) : rump_writev(r, iov, cnt, off < 0 ? -1 : off);
}

static off_t
rump_lseek(int r, off_t off, int whence)
{
	struct sp_buf b;
	if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
		return hj_err(EINVAL);
	sp_begin(&b);
	sp_int(&b, r);
	sp_int(&b, off);
	sp_int(&b, whence);
	return hj_call_int(RUMPSP_SYS_lseek, &b);
}

off_t
lseek(int fd, off_t off, int whence)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(lseek)(fd, off, whence) : rump_lseek(r, off, whence);
}

off_t
lseek64(int fd, off_t off, int whence)
{
	int r = hj_rumpfd(fd);
	return r < 0 ? H(lseek64)(fd, off, whence) : rump_lseek(r, off, whence);
}

