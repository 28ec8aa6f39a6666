/*
 * calls.h: every system call librumphijack makes, with the argument and
 * result types it encodes and decodes them as.  check.c compares this list
 * with rumpsp_syscalls[] of the generated header when the library starts, so
 * a table that changes a call's shape stops hijacked programs with a clear
 * message instead of sending the kernel arguments it would misread.
 *
 * X(name, nargs, (argument types), nresults, (result types))
 */
#ifndef RUMPHIJACK_CALLS_H
#define RUMPHIJACK_CALLS_H

#include "rumpsp_syscalls.h"

#define HJ_T(x) RUMPSP_T_##x
#define HJ_CALL_LIST(X) \
	X(read, 2, (HJ_T(FD), HJ_T(SIZE)), 1, (HJ_T(OUTBUF))) \
	X(write, 2, (HJ_T(FD), HJ_T(INBUF)), 1, (HJ_T(SSIZE))) \
	X(open, 3, (HJ_T(PATH), HJ_T(FLAGS), HJ_T(MODE)), 1, (HJ_T(FD))) \
	X(close, 1, (HJ_T(FD)), 0, (0)) \
	X(chdir, 1, (HJ_T(PATH)), 0, (0)) \
	X(fchdir, 1, (HJ_T(FD)), 0, (0)) \
	X(chown, 3, (HJ_T(PATH), HJ_T(UID), HJ_T(GID)), 0, (0)) \
	X(sync, 0, (0), 0, (0)) \
	X(dup2, 2, (HJ_T(FD), HJ_T(FD)), 1, (HJ_T(FD))) \
	X(fcntl, 3, (HJ_T(FD), HJ_T(INT), HJ_T(VALUE)), 1, (HJ_T(VALUE))) \
	X(fsync, 1, (HJ_T(FD)), 0, (0)) \
	X(writev, 2, (HJ_T(FD), HJ_T(INBUFS)), 1, (HJ_T(SSIZE))) \
	X(fchown, 3, (HJ_T(FD), HJ_T(UID), HJ_T(GID)), 0, (0)) \
	X(fchmod, 2, (HJ_T(FD), HJ_T(MODE)), 0, (0)) \
	X(pread, 3, (HJ_T(FD), HJ_T(SIZE), HJ_T(OFF)), 1, (HJ_T(OUTBUF))) \
	X(pwrite, 3, (HJ_T(FD), HJ_T(INBUF), HJ_T(OFF)), 1, (HJ_T(SSIZE))) \
	X(lseek, 3, (HJ_T(FD), HJ_T(OFF), HJ_T(INT)), 1, (HJ_T(OFF))) \
	X(truncate, 2, (HJ_T(PATH), HJ_T(OFF)), 0, (0)) \
	X(ftruncate, 2, (HJ_T(FD), HJ_T(OFF)), 0, (0)) \
	X(lchown, 3, (HJ_T(PATH), HJ_T(UID), HJ_T(GID)), 0, (0)) \
	X(__getcwd, 0, (0), 1, (HJ_T(PATH))) \
	X(statvfs1, 2, (HJ_T(PATH), HJ_T(FLAGS)), 1, (HJ_T(STATVFS))) \
	X(fstatvfs1, 2, (HJ_T(FD), HJ_T(FLAGS)), 1, (HJ_T(STATVFS))) \
	X(__getdents30, 2, (HJ_T(FD), HJ_T(SIZE)), 1, (HJ_T(DIRENTS))) \
	X(__stat50, 1, (HJ_T(PATH)), 1, (HJ_T(STAT))) \
	X(__fstat50, 1, (HJ_T(FD)), 1, (HJ_T(STAT))) \
	X(__lstat50, 1, (HJ_T(PATH)), 1, (HJ_T(STAT))) \
	X(__mknod50, 3, (HJ_T(PATH), HJ_T(MODE), HJ_T(DEV)), 0, (0)) \
	X(linkat, 5, (HJ_T(FD), HJ_T(PATH), HJ_T(FD), HJ_T(PATH), HJ_T(FLAGS)), 0, (0)) \
	X(renameat, 4, (HJ_T(FD), HJ_T(PATH), HJ_T(FD), HJ_T(PATH)), 0, (0)) \
	X(mkdirat, 3, (HJ_T(FD), HJ_T(PATH), HJ_T(MODE)), 0, (0)) \
	X(faccessat, 4, (HJ_T(FD), HJ_T(PATH), HJ_T(INT), HJ_T(FLAGS)), 1, (HJ_T(INT))) \
	X(fchmodat, 4, (HJ_T(FD), HJ_T(PATH), HJ_T(MODE), HJ_T(FLAGS)), 0, (0)) \
	X(fstatat, 3, (HJ_T(FD), HJ_T(PATH), HJ_T(FLAGS)), 1, (HJ_T(STAT))) \
	X(utimensat, 5, (HJ_T(FD), HJ_T(PATH), HJ_T(INT64), HJ_T(INT64), HJ_T(FLAGS)), 0, (0)) \
	X(openat, 4, (HJ_T(FD), HJ_T(PATH), HJ_T(FLAGS), HJ_T(MODE)), 1, (HJ_T(FD))) \
	X(readlinkat, 3, (HJ_T(FD), HJ_T(PATH), HJ_T(SIZE)), 1, (HJ_T(PATH))) \
	X(symlinkat, 3, (HJ_T(PATH), HJ_T(FD), HJ_T(PATH)), 0, (0)) \
	X(unlinkat, 3, (HJ_T(FD), HJ_T(PATH), HJ_T(FLAGS)), 0, (0)) \
	X(futimens, 3, (HJ_T(FD), HJ_T(INT64), HJ_T(INT64)), 0, (0)) \
	X(ioctl, 3, (HJ_T(FD), HJ_T(INT), HJ_T(VALUE)), 1, (HJ_T(VALUE))) \
	X(__pollts50, 2, (HJ_T(POLLFDS), HJ_T(INT64)), 1, (HJ_T(REVENTS))) \
	X(__socket30, 3, (HJ_T(INT), HJ_T(INT), HJ_T(INT)), 1, (HJ_T(FD))) \
	X(socketpair, 3, (HJ_T(INT), HJ_T(INT), HJ_T(INT)), 2, (HJ_T(FD), HJ_T(FD))) \
	X(bind, 2, (HJ_T(FD), HJ_T(SOCKADDR)), 0, (0)) \
	X(connect, 2, (HJ_T(FD), HJ_T(SOCKADDR)), 0, (0)) \
	X(listen, 2, (HJ_T(FD), HJ_T(INT)), 0, (0)) \
	X(accept, 1, (HJ_T(FD)), 2, (HJ_T(FD), HJ_T(SOCKADDR))) \
	X(sendto, 4, (HJ_T(FD), HJ_T(INBUF), HJ_T(FLAGS), HJ_T(SOCKADDR)), 1, (HJ_T(SSIZE))) \
	X(recvfrom, 3, (HJ_T(FD), HJ_T(SIZE), HJ_T(FLAGS)), 2, (HJ_T(OUTBUF), HJ_T(SOCKADDR))) \
	X(sendmsg, 5, (HJ_T(FD), HJ_T(INBUFS), HJ_T(VALUE), HJ_T(FLAGS), HJ_T(SOCKADDR)), 1, (HJ_T(SSIZE))) \
	X(recvmsg, 4, (HJ_T(FD), HJ_T(SIZE), HJ_T(SIZE), HJ_T(FLAGS)), 4, \
	    (HJ_T(OUTBUF), HJ_T(SOCKADDR), HJ_T(VALUE), HJ_T(FLAGS))) \
	X(getsockname, 1, (HJ_T(FD)), 1, (HJ_T(SOCKADDR))) \
	X(getpeername, 1, (HJ_T(FD)), 1, (HJ_T(SOCKADDR))) \
	X(setsockopt, 4, (HJ_T(FD), HJ_T(INT), HJ_T(INT), HJ_T(VALUE)), 0, (0)) \
	X(getsockopt, 3, (HJ_T(FD), HJ_T(INT), HJ_T(INT)), 1, (HJ_T(VALUE))) \
	X(shutdown, 2, (HJ_T(FD), HJ_T(INT)), 0, (0))

/* 0 if every call above matches the generated table; else -1 and a message */
int hj_check_calls(char *err, size_t errlen);

#endif
