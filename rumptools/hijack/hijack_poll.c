/*
 * hijack_poll.c: poll, ppoll, select, pselect and epoll over any mix of
 * host and rump descriptors.
 *
 * All host: the host's call.  Otherwise, first one look at each side
 * without waiting; if nothing is ready and the caller is to wait (NetBSD's
 * scheme, rumphijack.md section 5, used for kernel descriptors alone too,
 * so that a signal ends the wait with EINTR whatever its SA_RESTART, as
 * Linux's poll does) a helper thread
 * makes the kernel's poll while the caller waits in the host's ppoll with
 * an eventfd added; the helper writes the eventfd when the kernel answers,
 * and when the host answers first (or its timeout passes, or a signal
 * interrupts it) the caller interrupts the kernel's poll (rump_sp(7),
 * INTERRUPT) and collects what it had.  The signal mask of ppoll and
 * pselect applies to the host half, which runs in the caller.
 *
 * epoll: the host's epoll cannot hold a kernel descriptor, so the library
 * keeps the rump members of each epoll set (epfd, fd, events, data) in a
 * table.  epoll_wait on a set with rump members polls them together with
 * the host epoll descriptor (readable when a host member is ready) as one
 * mixed poll, then asks the host set without waiting.  Rump members are
 * level-triggered (EPOLLET is taken as level: every wait reports a ready
 * member again); EPOLLONESHOT disables a member after it fires until
 * EPOLL_CTL_MOD.  A member leaves its sets when its descriptor is closed
 * through the library.
 *
 * Locking: the epoll table is guarded by ep_lock, never held across a
 * remote call.
 */
#include "hijack.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>

HOSTFN(int, poll, (struct pollfd *, nfds_t, int))
HOSTFN(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))
HOSTFN(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *))
HOSTFN(int, pselect, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *))

/* poll bits: Linux's POLLWRNORM 0x100 and POLLWRBAND 0x200 are NetBSD's 0x4 and 0x100 */
static int
ev_to_rump(int e)
{
	return (e & 0xff) | (e & 0x100 ? 0x4 : 0) | (e & 0x200 ? 0x100 : 0);
}

static int
ev_from_rump(int v, int asked)
{
	int o = v & 0xff;
	if (v & 0x100)
		o |= 0x200;
	if ((v & 0x4) && (asked & 0x100))
		o |= 0x100;
	if (!(asked & POLLOUT) && (asked & 0x100))
		o &= ~POLLOUT;
	return o;
}

/*
 * The kernel half: entries idx[0..n) of fds (rump descriptors), timeout in
 * nanoseconds (-1: for ever).  Fills their revents; returns the count or -1.
 */
static int
rump_poll(struct pollfd *fds, const int *idx, int n, int64_t tns)
{
	struct sp_buf b;
	struct sp_reply rep;
	uint32_t nres, m;
	sp_begin(&b);
	sp_list(&b, n);
	for (int i = 0; i < n; i++) {
		sp_list(&b, 2);
		sp_int(&b, hj_rumpfd(fds[idx[i]].fd));
		sp_int(&b, ev_to_rump(fds[idx[i]].events));
	}
	if (tns < 0)
		sp_none(&b);
	else
		sp_int(&b, tns);
	int e = hj_call(RUMPSP_SYS___pollts50, &b, &rep, &nres);
	if (e)
		return hj_err(e);
	if (nres < 1 || sp_get_list(&rep, &m) || m != (uint32_t)n) {
		sp_reply_free(&rep);
		return hj_err(EPROTO);
	}
	int count = 0;
	for (int i = 0; i < n; i++) {
		int64_t v;
		if (sp_get_int(&rep, &v)) {
			sp_reply_free(&rep);
			return hj_err(EPROTO);
		}
		fds[idx[i]].revents = ev_from_rump((int)v, fds[idx[i]].events);
		if (fds[idx[i]].revents)
			count++;
	}
	sp_reply_free(&rep);
	return count;
}

struct rhalf {
	struct pollfd *fds;
	const int *idx;
	int n;
	int64_t tns;
	int result, err;
	int efd;
	struct sp_cancel cancel;
	int armed;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *
rhalf_run(void *arg)
{
	struct rhalf *h = arg;
	sp_cancel_arm(&h->cancel);
	pthread_mutex_lock(&h->lock);
	h->armed = 1;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	h->result = rump_poll(h->fds, h->idx, h->n, h->tns);
	h->err = errno;
	sp_cancel_disarm();
	uint64_t one = 1;
	syscall(SYS_write, h->efd, &one, sizeof(one));
	return NULL;
}

static int64_t
ts_ns(const struct timespec *ts)
{
	if (ts == NULL)
		return -1;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0)
		return 0;
	if (ts->tv_sec > INT64_MAX / 1000000000 - 1)
		return -1;
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* the host half: ppoll of fds[0..n) */
static int
host_ppoll_(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	return H(ppoll)(fds, n, ts, mask);
}

/* any mix: fds as the program gave them; ts NULL waits for ever */
static int
mixed_poll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	int *ridx = alloca(sizeof(int) * (n ? n : 1));
	int nr = 0, nh = 0;
	for (nfds_t i = 0; i < n; i++) {
		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;
		if (hj_rumpfd(fds[i].fd) >= 0)
			ridx[nr++] = i;
		else
			nh++;
	}
	if (nr == 0)
		return host_ppoll_(fds, n, ts, mask);
	int64_t tns = ts_ns(ts);

	/* the host's entries, and the eventfd last */
	struct pollfd *host = alloca(sizeof(*host) * (n + 1));
	int *hidx = alloca(sizeof(int) * (n ? n : 1));
	int k = 0;
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].fd >= 0 && hj_rumpfd(fds[i].fd) < 0) {
			host[k] = fds[i];
			host[k].revents = 0;
			hidx[k++] = i;
		}
	{
		/* one look at each side without waiting; only if nothing is ready does it wait */
		struct timespec zero = {0, 0};
		int rn = rump_poll(fds, ridx, nr, 0);
		int hn = k ? host_ppoll_(host, k, &zero, mask) : 0;
		if ((hn < 0 && rn <= 0) || (rn < 0 && hn <= 0))
			return -1;
		if (rn > 0 || hn > 0 || tns == 0) {
			for (int i = 0; i < k; i++)
				fds[hidx[i]].revents = hn > 0 ? host[i].revents : 0;
			return (rn > 0 ? rn : 0) + (hn > 0 ? hn : 0);
		}
	}
	struct rhalf h;
	memset(&h, 0, sizeof(h));
	h.fds = fds;
	h.idx = ridx;
	h.n = nr;
	h.tns = tns;
	h.efd = syscall(SYS_eventfd2, 0, EFD_CLOEXEC);
	if (h.efd < 0)
		return -1;
	pthread_mutex_init(&h.lock, NULL);
	pthread_cond_init(&h.cond, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, rhalf_run, &h) != 0) {
		syscall(SYS_close, h.efd);
		return hj_err(EAGAIN);
	}
	/* the helper's handle is armed before anyone may cancel through it */
	pthread_mutex_lock(&h.lock);
	while (!h.armed)
		pthread_cond_wait(&h.cond, &h.lock);
	pthread_mutex_unlock(&h.lock);
	host[k].fd = h.efd;
	host[k].events = POLLIN;
	host[k].revents = 0;
	int hn = host_ppoll_(host, k + 1, ts, mask);
	int herr = errno;
	if (!(hn > 0 && host[k].revents))
		sp_cancel(&h.cancel);	/* the host answered first: stop the kernel's wait */
	pthread_join(t, NULL);
	syscall(SYS_close, h.efd);
	pthread_mutex_destroy(&h.lock);
	pthread_cond_destroy(&h.cond);
	int count = 0;
	if (h.result > 0)
		count += h.result;
	else
		for (int i = 0; i < nr; i++)
			fds[ridx[i]].revents = 0;
	if (hn > 0) {
		for (int i = 0; i < k; i++) {
			fds[hidx[i]].revents = host[i].revents;
			if (host[i].revents)
				count++;
		}
	}
	if (count == 0) {
		if (hn < 0)
			return hj_err(herr);
		if (h.result < 0 && h.err != EINTR)
			return hj_err(h.err);
	}
	return count;
}

int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!hj_ready)
		return H(poll)(fds, n, timeout);
	struct timespec ts = {timeout / 1000, (timeout % 1000) * 1000000L};
	return mixed_poll(fds, n, timeout < 0 ? NULL : &ts, NULL);
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
	return mixed_poll(fds, n, ts, mask);
}

int
__ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask, size_t len)
{
	if (len / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, ts, mask);
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
	int got = mixed_poll(p, n, ts, mask);
	if (got < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (p[i].revents & POLLNVAL)
			return hj_err(EBADF);
	if (r)
		FD_ZERO(r);
	if (w)
		FD_ZERO(w);
	if (x)
		FD_ZERO(x);
	int count = 0;
	for (int i = 0; i < n; i++) {
		if (r && p[i].events & POLLIN && p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
			FD_SET(p[i].fd, r);
			count++;
		}
		if (w && p[i].events & POLLOUT && p[i].revents & (POLLOUT | POLLERR)) {
			FD_SET(p[i].fd, w);
			count++;
		}
		if (x && p[i].events & POLLPRI && p[i].revents & POLLPRI) {
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
		if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)
			return hj_err(EINVAL);
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
HOSTFN(int, epoll_wait, (int, struct epoll_event *, int, int))
HOSTFN(int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *))
HOSTFN(int, epoll_pwait2, (int, struct epoll_event *, int, const struct timespec *, const sigset_t *))

#define EP_MAX 4096

struct ep_member {
	int epfd, fd;		/* 0 fd: a free entry is marked by epfd -1 */
	uint32_t events;
	epoll_data_t data;
	int disabled;		/* EPOLLONESHOT fired */
};

static pthread_mutex_t ep_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ep_member *ep;
static int ep_n;		/* entries in use are ep[0..ep_n) */

static int
ep_find(int epfd, int fd)
{
	for (int i = 0; i < ep_n; i++)
		if (ep[i].epfd == epfd && ep[i].fd == fd)
			return i;
	return -1;
}

static int
ep_has(int epfd)
{
	for (int i = 0; i < ep_n; i++)
		if (ep[i].epfd == epfd)
			return 1;
	return 0;
}

/* close() of fd through the library: it leaves every set, and a set it was goes */
void
hj_epoll_closed(int fd)
{
	if (ep_n == 0)
		return;
	pthread_mutex_lock(&ep_lock);
	for (int i = 0; i < ep_n;)
		if (ep[i].fd == fd || ep[i].epfd == fd)
			ep[i] = ep[--ep_n];
		else
			i++;
	pthread_mutex_unlock(&ep_lock);
}

void
hj_poll_after_fork(void)
{
	pthread_mutex_init(&ep_lock, NULL);
}

static int
regular_file(int r)
{
	struct sp_buf b;
	struct hj_stat st;
	sp_begin(&b);
	sp_int(&b, r);
	if (hj_call_stat(RUMPSP_SYS___fstat50, &b, &st) < 0)
		return -1;
	return S_ISREG(st.mode) || S_ISDIR(st.mode);
}

int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int r = hj_rumpfd(fd);
	if (hj_rumpfd(epfd) >= 0)
		return hj_err(EINVAL);		/* a kernel descriptor is no epoll set */
	if (r < 0)
		return H(epoll_ctl)(epfd, op, fd, ev);
	if (syscall(SYS_fcntl, epfd, F_GETFD) < 0)
		return -1;			/* EBADF */
	if (epfd == fd)
		return hj_err(EINVAL);
	if (op != EPOLL_CTL_DEL && ev == NULL)
		return hj_err(EFAULT);
	if (op == EPOLL_CTL_ADD) {
		int reg = regular_file(r);
		if (reg < 0)
			return -1;
		if (reg)
			return hj_err(EPERM);	/* as Linux answers for files */
	}
	int e = 0;
	pthread_mutex_lock(&ep_lock);
	int i = ep_find(epfd, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (i >= 0)
			e = EEXIST;
		else if (ep_n >= EP_MAX)
			e = ENOSPC;
		else {
			if (ep == NULL)
				ep = malloc(sizeof(*ep) * EP_MAX);
			if (ep == NULL)
				e = ENOMEM;
			else {
				ep[ep_n].epfd = epfd;
				ep[ep_n].fd = fd;
				ep[ep_n].events = ev->events;
				ep[ep_n].data = ev->data;
				ep[ep_n].disabled = 0;
				ep_n++;
			}
		}
		break;
	case EPOLL_CTL_MOD:
		if (i < 0)
			e = ENOENT;
		else {
			ep[i].events = ev->events;
			ep[i].data = ev->data;
			ep[i].disabled = 0;
		}
		break;
	case EPOLL_CTL_DEL:
		if (i < 0)
			e = ENOENT;
		else
			ep[i] = ep[--ep_n];
		break;
	default:
		e = EINVAL;
	}
	pthread_mutex_unlock(&ep_lock);
	return e ? hj_err(e) : 0;
}

static int
rump_epoll_wait(int epfd, struct epoll_event *out, int max, const struct timespec *ts,
    const sigset_t *mask)
{
	if (max <= 0)
		return hj_err(EINVAL);
	pthread_mutex_lock(&ep_lock);
	int n = 0;
	for (int i = 0; i < ep_n; i++)
		if (ep[i].epfd == epfd && !ep[i].disabled)
			n++;
	struct pollfd *p = malloc(sizeof(*p) * (n + 1));
	struct ep_member *m = malloc(sizeof(*m) * (n + 1));
	if (p == NULL || m == NULL) {
		pthread_mutex_unlock(&ep_lock);
		free(p);
		free(m);
		return hj_err(ENOMEM);
	}
	int k = 0;
	for (int i = 0; i < ep_n; i++)
		if (ep[i].epfd == epfd && !ep[i].disabled) {
			m[k] = ep[i];
			p[k].fd = ep[i].fd;
			p[k].events = ep[i].events & (EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDNORM |
			    EPOLLWRNORM | EPOLLRDBAND | EPOLLWRBAND);
			p[k].revents = 0;
			k++;
		}
	pthread_mutex_unlock(&ep_lock);
	p[k].fd = epfd;			/* the host members: readable when one is ready */
	p[k].events = POLLIN;
	p[k].revents = 0;
	int got = mixed_poll(p, k + 1, ts, mask);
	int count = 0;
	if (got > 0) {
		for (int i = 0; i < k && count < max; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].revents & POLLNVAL) {
				hj_epoll_closed(p[i].fd);	/* closed behind the library's back */
				continue;
			}
			out[count].events = p[i].revents & (m[i].events | EPOLLERR | EPOLLHUP);
			out[count].data = m[i].data;
			if (out[count].events == 0)
				continue;
			count++;
			if (m[i].events & EPOLLONESHOT) {
				pthread_mutex_lock(&ep_lock);
				int j = ep_find(epfd, m[i].fd);
				if (j >= 0)
					ep[j].disabled = 1;
				pthread_mutex_unlock(&ep_lock);
			}
		}
		if (p[k].revents && count < max) {
			int hn = H(epoll_wait)(epfd, out + count, max - count, 0);
			if (hn > 0)
				count += hn;
		}
	}
	free(p);
	free(m);
	if (got < 0 && count == 0)
		return -1;
	return count;
}

static int
rump_members(int epfd)
{
	if (!hj_ready || ep_n == 0)
		return 0;
	pthread_mutex_lock(&ep_lock);
	int has = ep_has(epfd);
	pthread_mutex_unlock(&ep_lock);
	return has;
}

int
epoll_wait(int epfd, struct epoll_event *out, int max, int timeout)
{
	if (!rump_members(epfd))
		return H(epoll_wait)(epfd, out, max, timeout);
	struct timespec ts = {timeout / 1000, (timeout % 1000) * 1000000L};
	return rump_epoll_wait(epfd, out, max, timeout < 0 ? NULL : &ts, NULL);
}

int
epoll_pwait(int epfd, struct epoll_event *out, int max, int timeout, const sigset_t *mask)
{
	if (!rump_members(epfd))
		return H(epoll_pwait)(epfd, out, max, timeout, mask);
	struct timespec ts = {timeout / 1000, (timeout % 1000) * 1000000L};
	return rump_epoll_wait(epfd, out, max, timeout < 0 ? NULL : &ts, mask);
}

int
epoll_pwait2(int epfd, struct epoll_event *out, int max, const struct timespec *ts, const sigset_t *mask)
{
	if (!rump_members(epfd))
		return H(epoll_pwait2)(epfd, out, max, ts, mask);
	return rump_epoll_wait(epfd, out, max, ts, mask);
}
