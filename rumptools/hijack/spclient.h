/*
 * spclient.h: the sysproxy client of librumphijack, in C.
 *
 * Speaks rumptools' protocol as man/rump_sp.7 documents it (the Python
 * reference is rumptools/sp/client.py and rumptools/sp/wire.py): a banner,
 * a GUEST, FORK or EXEC handshake, then frames carrying values.  Numbers
 * and type codes come from the generated rumpsp_syscalls.h.
 *
 * Locking: one mutex (sp_lock) guards the waiter table and the reader role;
 * a second (sp_sendlock) serialises writes to the socket.  Any thread may
 * call; the first thread to wait becomes the reader and hands each reply
 * to the waiter with its request number.  No lock is held while a thread
 * sleeps in the socket except by the reader, which holds none.
 */
#ifndef RUMPHIJACK_SPCLIENT_H
#define RUMPHIJACK_SPCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "rumpsp_syscalls.h"

/* a request body under construction: a list of values */
struct sp_buf {
	char *p;
	size_t len, cap;
	size_t count_at;	/* where the list's count goes */
	uint32_t count;
	char small[512];
};

/* a reply body being read */
struct sp_reply {
	char *body;
	size_t len, pos;
	int depth;
};

void sp_begin(struct sp_buf *);
void sp_int(struct sp_buf *, int64_t);
void sp_none(struct sp_buf *);
void sp_bytes(struct sp_buf *, const void *, size_t);
void sp_str(struct sp_buf *, const char *);
void sp_list(struct sp_buf *, uint32_t);	/* the caller adds n values after it */
void sp_done(struct sp_buf *);

/* reply readers: 0 on success, -1 if the value is not there or of another type */
int sp_get_list(struct sp_reply *, uint32_t *n);
int sp_get_int(struct sp_reply *, int64_t *);
int sp_get_bytes(struct sp_reply *, const char **, size_t *);	/* b or s */
int sp_skip(struct sp_reply *);
void sp_reply_free(struct sp_reply *);

/*
 * Make one system call.  Returns 0 with the results in *r (positioned
 * inside the results list, whose length is in *nres), or a Linux errno
 * (the kernel's NetBSD number translated, or the client's own failure).
 */
int sp_syscall(int number, struct sp_buf *args, struct sp_reply *r, uint32_t *nres);

/*
 * Interrupting a call from another thread (a mixed poll's kernel half):
 * the thread that will make the call arms a handle first; sp_cancel from
 * any thread then asks the server to interrupt that call (it fails with
 * EINTR unless it has finished), even if it has not been sent yet.
 */
struct sp_cancel {
	uint64_t reqno;
	int fd;
	int want;
};
void sp_cancel_arm(struct sp_cancel *);	/* by the calling thread, before its call */
void sp_cancel_disarm(void);			/* by the calling thread, after it */
void sp_cancel(struct sp_cancel *);

/* connection life */
int sp_init(const char *comm);		/* 0 or a Linux errno; prints nothing */
int sp_connected(void);
int sp_sockfd(void);
int sp_move_sock(void);		/* off its number, which the program wants */
int sp_prefork(char cookie[16]);	/* 0 or errno */
void sp_fork_child(const char cookie[16]);	/* in the child: new connection, FORK handshake */
void sp_after_fork_reset(void);
/* exec: the environment entries to add; returns the number written (0..2) */
int sp_exec_env(char *execfd, size_t n1, char *parsed, size_t n2);
void sp_exec_failed(void);

int sp_set_retry(const char *text);	/* 0, or -1 if the value is invalid */
int sp_errno_to_host(int netbsd);

#endif
