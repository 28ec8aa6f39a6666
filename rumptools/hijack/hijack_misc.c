/*
 * hijack_misc.c: the calls that a rump descriptor or path answers with a
 * refusal the program knows how to handle, and the waiting calls.
 *
 *  - extended attributes: ENOTSUP (ls -l and cp -a then go on quietly);
 *  - mmap of a rump descriptor: ENODEV;
 *  - copy_file_range, sendfile, splice, tee with a rump end: EXDEV/EINVAL,
 *    so cp and shutil fall back to read and write;
 *  - posix_fadvise: accepted (advice); fallocate: EOPNOTSUPP;
 *  - sockets: the syscall table has no socket calls yet, so socket() stays
 *    on the host (a family that socket= explicitly sends to the kernel is
 *    refused with EAFNOSUPPORT), and socket calls on a rump file are
 *    ENOTSOCK;
 *  - poll and select: rump files are always ready (the kernel's files never
 *    block); with host descriptors too, the host is asked without waiting
 *    when a rump one is ready, else with the caller's timeout; epoll_ctl
 *    refuses rump descriptors with EPERM, as Linux does for files.
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

/* ------------------------------------------------------------ sockets */

HOSTFN(int, socket, (int, int, int))

int
socket(int domain, int type, int proto)
{
	if (hj_ready && hj_cfg.socket_given && domain >= 0 && domain < HJ_NFAMILIES &&
	    hj_cfg.socket_rump[domain])
		return hj_err(EAFNOSUPPORT);	/* the kernel has no sockets yet */
	return H(socket)(domain, type, proto);
}

#define NOTSOCK(ret, name, params, args) \
	HOSTFN(ret, name, params) \
	ret name params \
	{ \
		if (hj_rumpfd(fd) >= 0) \
			return hj_err(ENOTSOCK); \
		return H(name) args; \
	}

NOTSOCK(int, connect, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l))
NOTSOCK(int, bind, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l))
NOTSOCK(int, listen, (int fd, int n), (fd, n))
NOTSOCK(int, accept, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
NOTSOCK(int, accept4, (int fd, struct sockaddr *a, socklen_t *l, int f), (fd, a, l, f))
NOTSOCK(int, getsockname, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
NOTSOCK(int, getpeername, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
NOTSOCK(int, getsockopt, (int fd, int lv, int o, void *v, socklen_t *l), (fd, lv, o, v, l))
NOTSOCK(int, setsockopt, (int fd, int lv, int o, const void *v, socklen_t l), (fd, lv, o, v, l))
NOTSOCK(int, shutdown, (int fd, int how), (fd, how))
NOTSOCK(ssize_t, send, (int fd, const void *b, size_t n, int f), (fd, b, n, f))
NOTSOCK(ssize_t, recv, (int fd, void *b, size_t n, int f), (fd, b, n, f))
NOTSOCK(ssize_t, sendto, (int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l),
    (fd, b, n, f, a, l))
NOTSOCK(ssize_t, recvfrom, (int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l),
    (fd, b, n, f, a, l))
NOTSOCK(ssize_t, sendmsg, (int fd, const struct msghdr *m, int f), (fd, m, f))
NOTSOCK(ssize_t, recvmsg, (int fd, struct msghdr *m, int f), (fd, m, f))

/* ------------------------------------------------------------ poll and select */

HOSTFN(int, poll, (struct pollfd *, nfds_t, int))
HOSTFN(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))
HOSTFN(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *))
HOSTFN(int, pselect, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *))

/* rump entries answered here; host ones asked of the host (at once if any rump one is ready) */
static int
mixed_poll(struct pollfd *fds, nfds_t n, int timeout_ms, const struct timespec *ts,
    const sigset_t *mask, int use_ppoll)
{
	int rump = 0, ready = 0;
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].fd >= 0 && hj_rumpfd(fds[i].fd) >= 0)
			rump++;
	if (rump == 0)
		return use_ppoll ? H(ppoll)(fds, n, ts, mask) : H(poll)(fds, n, timeout_ms);
	struct pollfd *host = alloca(sizeof(*host) * (n ? n : 1));
	for (nfds_t i = 0; i < n; i++) {
		host[i] = fds[i];
		if (fds[i].fd >= 0 && hj_rumpfd(fds[i].fd) >= 0) {
			host[i].fd = -1;	/* the host skips it */
			fds[i].revents = fds[i].events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
			if (fds[i].revents)
				ready++;
		}
	}
	if (rump == (int)n && ready)
		return ready;
	int hn;
	if (ready) {
		struct timespec zero = {0, 0};
		hn = use_ppoll ? H(ppoll)(host, n, &zero, mask) : H(poll)(host, n, 0);
	} else
		hn = use_ppoll ? H(ppoll)(host, n, ts, mask) : H(poll)(host, n, timeout_ms);
	if (hn < 0)
		return ready ? ready : -1;
	for (nfds_t i = 0; i < n; i++)
		if (host[i].fd >= 0)
			fds[i].revents = host[i].revents;
	return ready + hn;
}

int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!hj_ready)
		return H(poll)(fds, n, timeout);
	return mixed_poll(fds, n, timeout, NULL, NULL, 0);
}

int
__poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t len)
{
	if (len / sizeof(*fds) < n)
		abort();
	return poll(fds, n, timeout);
}

int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	if (!hj_ready)
		return H(ppoll)(fds, n, ts, mask);
	return mixed_poll(fds, n, 0, ts, mask, 1);
}

/* select over poll, as NetBSD's library does */
static int
select_via_poll(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts,
    const sigset_t *mask)
{
	struct pollfd *p = alloca(sizeof(*p) * (nfds > 0 ? nfds : 1));
	int n = 0;
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
		short ev = 0;
		if (r && FD_ISSET(fd, r))
			ev |= POLLIN;
		if (w && FD_ISSET(fd, w))
			ev |= POLLOUT;
		if (x && FD_ISSET(fd, x))
			ev |= POLLPRI;
		if (ev) {
			p[n].fd = fd;
			p[n].events = ev;
			p[n].revents = 0;
			n++;
		}
	}
	int got = mixed_poll(p, n, 0, ts, mask, 1);
	if (got < 0)
		return -1;
	if (r)
		FD_ZERO(r);
	if (w)
		FD_ZERO(w);
	if (x)
		FD_ZERO(x);
	int count = 0;
	for (int i = 0; i < n; i++) {
		if (p[i].revents & POLLNVAL)
			return hj_err(EBADF);
		if (r && p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
			FD_SET(p[i].fd, r);
			count++;
		}
		if (w && p[i].revents & (POLLOUT | POLLERR)) {
			FD_SET(p[i].fd, w);
			count++;
		}
		if (x && p[i].revents & POLLPRI) {
			FD_SET(p[i].fd, x);
			count++;
		}
	}
	return count;
}

static int
any_rump(int nfds, fd_set *r, fd_set *w, fd_set *x)
{
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x))) &&
		    hj_rumpfd(fd) >= 0)
			return 1;
	return 0;
}

int
select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	if (!hj_ready || !any_rump(nfds, r, w, x))
		return H(select)(nfds, r, w, x, tv);
	struct timespec ts, *tsp = NULL;
	if (tv) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000;
		tsp = &ts;
	}
	return select_via_poll(nfds, r, w, x, tsp, NULL);
}

int
pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts, const sigset_t *mask)
{
	if (!hj_ready || !any_rump(nfds, r, w, x))
		return H(pselect)(nfds, r, w, x, ts, mask);
	return select_via_poll(nfds, r, w, x, ts, mask);
}

/* ------------------------------------------------------------ epoll */

HOSTFN(int, epoll_ctl, (int, int, int, struct epoll_event *))

/*
 * A rump descriptor cannot join a host epoll set.  The kernel's descriptors
 * are files, which Linux's epoll refuses with EPERM too, and programs that
 * use epoll (Python's selectors among them) already handle that.
 */
int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (hj_rumpfd(fd) >= 0 || hj_rumpfd(epfd) >= 0)
		return hj_err(EPERM);
	return H(epoll_ctl)(epfd, op, fd, ev);
}
