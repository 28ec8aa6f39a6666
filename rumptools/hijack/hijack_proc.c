/*
 * hijack_proc.c: processes.  fork keeps a kernel process for the child
 * (PREFORK on our connection, FORK handshake with the cookie on a new one,
 * rump_sp(7)); vfork is served as fork, since its child must not share the
 * library's state with the parent; execve keeps the connection and the
 * kernel process (RUMPCLIENT__EXECFD) and hands over the library's own
 * state in RUMPHIJACK__* variables; posix_spawn gives its child a parked
 * copy of our process through RUMPHIJACK__FORKCOOKIE.  close_range and
 * closefrom spare the library's socket and close rump descriptors in
 * range.  The environment for an exec is built on the stack.
 */
#include "hijack.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

HOSTFN(pid_t, fork, (void))
HOSTFN(pid_t, _Fork, (void))
HOSTFN(int, execve, (const char *, char *const[], char *const[]))
HOSTFN(int, execvpe, (const char *, char *const[], char *const[]))
HOSTFN(int, fexecve, (int, char *const[], char *const[]))
HOSTFN(int, posix_spawn, (pid_t *, const char *, const posix_spawn_file_actions_t *,
    const posix_spawnattr_t *, char *const[], char *const[]))
HOSTFN(int, posix_spawnp, (pid_t *, const char *, const posix_spawn_file_actions_t *,
    const posix_spawnattr_t *, char *const[], char *const[]))
HOSTFN(int, close_range, (unsigned int, unsigned int, int))
HOSTFN(int, setsid, (void))

static pid_t
rump_fork(pid_t (*hostfork)(void))
{
	char cookie[16];
	if (!hj_ready || !sp_connected())
		return hostfork();
	int e = sp_prefork(cookie);
	if (e) {
		errno = e;
		return -1;
	}
	pid_t pid = hostfork();
	if (pid == 0) {
		pthread_mutex_init(&hj_fdlock, NULL);
		hj_poll_after_fork();
		sp_fork_child(cookie);
	}
	return pid;
}

pid_t
fork(void)
{
	return rump_fork(get_fork());
}

pid_t
vfork(void)
{
	return rump_fork(get_fork());
}

pid_t
_Fork(void)
{
	return rump_fork(get__Fork());
}

int
daemon(int nochdir, int noclose)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (H(setsid)() < 0)
		return -1;
	if (!nochdir)
		chdir("/");
	if (!noclose) {
		int fd = syscall(SYS_open, "/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ exec */

static int
ours(const char *entry)
{
	static const char *const names[] = {
		"RUMPCLIENT__EXECFD=", "RUMP__PARSEDSERVER=", "RUMPHIJACK__DUP2INFO=",
		"RUMPHIJACK__PWDINRUMP=", "RUMPHIJACK__RUMPFDS=", "RUMPHIJACK__FORKCOOKIE=", NULL,
	};
	for (int i = 0; names[i]; i++)
		if (strncmp(entry, names[i], strlen(names[i])) == 0)
			return 1;
	return 0;
}

struct xenv {
	char execfd[64];
	char parsed[256];
	char dup2info[4096];
	char rumpfds[16384];
	char cookie[64];
};

/* the new environment: envp without our variables, then ours */
static void
build_env(char *const envp[], char **out, size_t n, struct xenv *x, int with_conn, const char *cookiehex)
{
	size_t o = 0;
	for (size_t i = 0; envp && envp[i] && o + 8 < n; i++)
		if (!ours(envp[i]))
			out[o++] = envp[i];
	if (with_conn && sp_exec_env(x->execfd, sizeof(x->execfd), x->parsed, sizeof(x->parsed)) == 2) {
		out[o++] = x->execfd;
		out[o++] = x->parsed;
	}
	if (cookiehex) {
		snprintf(x->cookie, sizeof(x->cookie), "RUMPHIJACK__FORKCOOKIE=%s", cookiehex);
		out[o++] = x->cookie;
		/* the server's absolute URL, for a child that runs elsewhere */
		char dummy[64];
		if (sp_exec_env(dummy, sizeof(dummy), x->parsed, sizeof(x->parsed)) == 2) {
			sp_exec_failed();	/* only the URL was wanted: the socket stays ours */
			out[o++] = x->parsed;
		}
	}
	hj_state_env(x->dup2info, sizeof(x->dup2info), x->rumpfds, sizeof(x->rumpfds));
	out[o++] = x->dup2info;
	out[o++] = x->rumpfds;
	if (hj_pwdinrump)
		out[o++] = "RUMPHIJACK__PWDINRUMP=true";
	out[o] = NULL;
}

static size_t
count(char *const v[])
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

enum exec_kind { EXEC_PATH, EXEC_SEARCH, EXEC_FD };

/* the host's exec with our variables in the environment; if it comes back, it
   failed, and the connection that was handed over for it is ours again */
static int
exec_with_env(enum exec_kind kind, const char *path, int fd, char *const argv[], char *const envp[])
{
	size_t n = count(envp) + 8;
	char *nenv[n];
	struct xenv *x = alloca(sizeof(*x));
	build_env(envp, nenv, n, x, 1, NULL);
	int ret = kind == EXEC_FD ? H(fexecve)(fd, argv, nenv) :
	    kind == EXEC_SEARCH ? H(execvpe)(path, argv, nenv) : H(execve)(path, argv, nenv);
	int e = errno;
	sp_exec_failed();
	errno = e;
	return ret;
}

int
execve(const char *path, char *const argv[], char *const envp[])
{
	if (!hj_ready || !sp_connected())
		return H(execve)(path, argv, envp);
	return exec_with_env(EXEC_PATH, path, -1, argv, envp);
}

int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (!hj_ready || !sp_connected())
		return H(execvpe)(file, argv, envp);
	return exec_with_env(EXEC_SEARCH, file, -1, argv, envp);
}

int
fexecve(int fd, char *const argv[], char *const envp[])
{
	if (!hj_ready || !sp_connected())
		return H(fexecve)(fd, argv, envp);
	if (hj_rumpfd(fd) >= 0) {
		errno = ENOEXEC;		/* the host cannot run a file of the kernel */
		return -1;
	}
	return exec_with_env(EXEC_FD, NULL, fd, argv, envp);
}

int
execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

int
execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

#define VARARGS_TO_ARGV(first, ap, argv) \
	size_t argc_ = 1; \
	va_start(ap, first); \
	while (va_arg(ap, char *) != NULL) \
		argc_++; \
	va_end(ap); \
	char *argv[argc_ + 1]; \
	argv[0] = (char *)first; \
	va_start(ap, first); \
	for (size_t i_ = 1; i_ <= argc_; i_++) \
		argv[i_] = va_arg(ap, char *);

int
execl(const char *path, const char *arg, ...)
{
	va_list ap;
	VARARGS_TO_ARGV(arg, ap, argv)
	va_end(ap);
	return execve(path, argv, environ);
}

int
execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	VARARGS_TO_ARGV(arg, ap, argv)
	va_end(ap);
	return execvpe(file, argv, environ);
}

int
execle(const char *path, const char *arg, ...)
{
	va_list ap;
	VARARGS_TO_ARGV(arg, ap, argv)
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

/* ------------------------------------------------------------ posix_spawn */

static int
hijacked_env(char *const envp[])
{
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], "LD_PRELOAD=", 11) == 0 && strstr(envp[i], "rumphijack"))
			return 1;
	return 0;
}

static int
spawn(int p, pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	char cookie[16], hex[40];
	if (!hj_ready || !sp_connected() || !hijacked_env(envp))
		return p ? H(posix_spawnp)(pid, path, fa, attr, argv, envp) :
		    H(posix_spawn)(pid, path, fa, attr, argv, envp);
	int e = sp_prefork(cookie);
	if (e)
		return e;
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)cookie[i]);
	size_t n = count(envp) + 10;
	char *nenv[n];
	struct xenv *x = alloca(sizeof(*x));
	build_env(envp, nenv, n, x, 0, hex);
	return p ? H(posix_spawnp)(pid, path, fa, attr, argv, nenv) :
	    H(posix_spawn)(pid, path, fa, attr, argv, nenv);
}

int
posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn(0, pid, path, fa, attr, argv, envp);
}

int
posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn(1, pid, file, fa, attr, argv, envp);
}

/* ------------------------------------------------------------ closing ranges */

int
close_range(unsigned int lo, unsigned int hi, int flags)
{
	if (!hj_ready)
		return H(close_range)(lo, hi, flags);
	if (lo > hi) {
		errno = EINVAL;
		return -1;
	}
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		hj_close_rump_range(lo, hi);
	unsigned s = (unsigned)sp_sockfd();
	if (sp_sockfd() >= 0 && s >= lo && s <= hi) {
		int ret = 0;
		if (s > lo)
			ret = H(close_range)(lo, s - 1, flags);
		if (ret == 0 && s < hi)
			ret = H(close_range)(s + 1, hi, flags);
		return ret;
	}
	return H(close_range)(lo, hi, flags);
}

void
closefrom(int lo)
{
	close_range(lo < 0 ? 0 : lo, ~0U, 0);
}

/* ------------------------------------------------------------ system and popen */

/*
 * glibc's system() and popen() spawn /bin/sh with internal calls; the shell
 * claims a copy of our kernel process through the variables put in the
 * environment for the duration of the call (so it sees our working
 * directory and descriptors).  The environment is the process's own, so a
 * thread that reads it at the same moment sees them too; that thread's
 * children would be handed the same cookie, which works once.
 */
HOSTFN(int, system, (const char *))
HOSTFN(FILE *, popen, (const char *, const char *))

static const char *const spawn_vars[] = {
	"RUMPHIJACK__FORKCOOKIE", "RUMP__PARSEDSERVER", "RUMPHIJACK__DUP2INFO",
	"RUMPHIJACK__RUMPFDS", "RUMPHIJACK__PWDINRUMP", NULL,
};

static int
set_spawn_env(void)
{
	char cookie[16], hex[40];
	struct xenv *x = alloca(sizeof(*x));
	if (!hj_ready || !sp_connected() || !hijacked_env(environ))
		return 0;
	if (sp_prefork(cookie) != 0)
		return 0;
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)cookie[i]);
	char *one[1] = {NULL};
	char *nenv[12];
	build_env(one, nenv, 12, x, 0, hex);
	for (int i = 0; nenv[i]; i++)
		putenv(strdup(nenv[i]));
	return 1;
}

static void
clear_spawn_env(int set)
{
	if (set)
		for (int i = 0; spawn_vars[i]; i++)
			unsetenv(spawn_vars[i]);
}

int
system(const char *command)
{
	int set = command ? set_spawn_env() : 0;
	int ret = H(system)(command);
	int e = errno;
	clear_spawn_env(set);
	errno = e;
	return ret;
}

FILE *
popen(const char *command, const char *mode)
{
	int set = set_spawn_env();
	FILE *fp = H(popen)(command, mode);
	int e = errno;
	clear_spawn_env(set);
	errno = e;
	return fp;
}
