/*
 * hijack.h: what the parts of librumphijack share.
 *
 * Locking: the descriptor bookkeeping (rump descriptor bitmap, alias table,
 * directory streams) is changed under hj_fdlock, which is never held across
 * a remote call; the configuration is read-only after the constructor.
 */
#ifndef RUMPHIJACK_HIJACK_H
#define RUMPHIJACK_HIJACK_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "config.h"
#include "spclient.h"

extern struct hj_config hj_cfg;
extern int hj_ready;		/* the constructor has connected */
extern int hj_pwdinrump;	/* the working directory is in the rump kernel */
extern pthread_mutex_t hj_fdlock;

/* a host function, found on first use (calls before the constructor run single-threaded) */
#define HOSTFN(ret, name, params) \
	static ret (*host_##name) params; \
	static ret (*get_##name(void)) params \
	{ \
		if (host_##name == NULL) \
			host_##name = (ret (*) params)dlsym(RTLD_NEXT, #name); \
		return host_##name; \
	}
#define H(name) (get_##name())

/* path classes */
enum { HJ_HOST, HJ_RUMP };

/* where a path goes: HJ_HOST, or HJ_RUMP with the kernel's path in *rpath */
int hj_path(const char *path, const char **rpath);
/* for *at calls: the kernel's dirfd in *rdirfd (RUMPSP_AT_FDCWD or a rump fd) */
int hj_atpath(int dirfd, const char *path, int *rdirfd, const char **rpath);

/* descriptors */
#define HJ_MAXRUMPFD 65536
#define HJ_NALIAS 1024
int hj_rumpfd(int fd);		/* the kernel's number of fd, or -1 for a host fd */
int hj_newfd(int r);		/* record a new kernel descriptor; the program's number */
void hj_forgetfd(int r);
int hj_alias_of(int fd);	/* kernel fd aliased at host number fd, or -1 */
int hj_rump_close(int r);

/* calls: 0/-1 with errno; results decoded by the helpers */
int hj_err(int e);		/* errno = e; return -1 */
int hj_call0(int number, struct sp_buf *b);
int64_t hj_call_int(int number, struct sp_buf *b);
int hj_call(int number, struct sp_buf *b, struct sp_reply *r, uint32_t *n);

/* NetBSD <-> Linux flags */
int hj_oflags_to_rump(int flags);
int hj_oflags_from_rump(int flags);
int hj_atflags_to_rump(int flags);

/* struct stat from the kernel's 14 integers */
struct hj_stat {
	int64_t mode, ino, dev, nlink, uid, gid, rdev, size, blksize, blocks;
	int64_t atime, mtime, ctime, btime;
};
int hj_call_stat(int number, struct sp_buf *b, struct hj_stat *st);
void hj_to_stat(const struct hj_stat *s, struct stat *out);

/* directory streams (hijack_dir.c) */
int hj_dir_owns(void *dirp);

/* epoll sets with kernel members (hijack_poll.c): fd was closed */
void hj_epoll_closed(int fd);
void hj_poll_after_fork(void);	/* in a forked child: the table's lock may be held by a thread that is gone */

/* stdio (hijack_stdio.c) */
void hj_std_alias_changed(int fd);
void hj_std_alias_flush(int fd);

/* hijack.c: exec state and ranges */
int hj_state_env(char *dup2info, size_t n1, char *rumpfdlist, size_t n2);
void hj_close_rump_range(unsigned lo, unsigned hi);
ssize_t hj_rump_read(int r, void *buf, size_t n, int64_t off);
ssize_t hj_rump_write(int r, const void *buf, size_t n, int64_t off);

#endif
