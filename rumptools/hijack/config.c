/*
 * config.c: the RUMPHIJACK grammar of rumphijack(3).
 *
 * Comma-separated items, each `name=value` (sysctl and modctl may stand
 * alone).  A name is matched as a prefix of socket, path, blanket, vfs,
 * sysctl, fdoff, modctl, in that order, as NetBSD's library does.  Pure:
 * no I/O, no globals; the messages are NetBSD's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"

struct family {
	const char *name;
	int af;
};

static const struct family families[] = {
	{"local", AF_LOCAL},
	{"inet", AF_INET},
	{"route", AF_ROUTE},
	{"inet6", AF_INET6},
#ifdef AF_MPLS
	{"mpls", AF_MPLS},
#endif
	{NULL, 0},
};

static const char *const vfsnames[] = {"nfssvc", "getvfsstat", "fhcalls", NULL};

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* a colon list with `all` first and `no` prefixes, into a table of flags */
static int
parse_list(const char *value, const char *what, int (*lookup)(const char *), unsigned char *table,
    int n, char *err, size_t errlen)
{
	char buf[1024];
	char *save, *tok;
	int first = 1;

	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save), first = 0) {
		if (first && strcmp(tok, "all") == 0) {
			memset(table, 1, n);
			continue;
		}
		int on = 1;
		const char *name = tok;
		if (strncmp(name, "no", 2) == 0 && lookup(name) < 0) {
			on = 0;
			name += 2;
		}
		int idx = lookup(name);
		if (idx < 0 || idx >= n)
			FAIL("invalid %s specifier %s", what, tok);
		table[idx] = on;
	}
	return 0;
}

static int
family_of(const char *name)
{
	for (const struct family *f = families; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f->af;
	return -1;
}

static int
vfs_of(const char *name)
{
	for (int i = 0; vfsnames[i]; i++)
		if (strcmp(vfsnames[i], name) == 0)
			return i;
	return -1;
}

static int
yesno(const char *v, const char *what, int *out, char *err, size_t errlen)
{
	static const char *const yes[] = {"y", "yes", "yep", "tottakai", NULL};
	static const char *const no[] = {"n", "no", NULL};
	if (v == NULL) {
		*out = 1;
		return 0;
	}
	for (int i = 0; yes[i]; i++)
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
	for (int i = 0; no[i]; i++)
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	FAIL("%s value should be y(es)/n(o), gave: %s", what, v);
}

static int
set_path(struct hj_config *c, const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);
	if (*v != '/')
		FAIL("hijack path specifier must begin with ``/''");
	if (n < 2 || n >= sizeof(c->prefix))
		FAIL("invalid hijack prefix: %s", v);
	if (v[n - 1] == '/') {
		if (strspn(v, "/") != n)
			FAIL("hijack prefix may end in slash only if pure slash, gave %s", v);
		n = 1;		/* all slashes: the whole namespace */
	}
	memcpy(c->prefix, v, n);
	c->prefix[n] = '\0';
	c->prefixlen = n;
	return 0;
}

static int
set_blanket(struct hj_config *c, const char *v, char *err, size_t errlen)
{
	char buf[1024];
	char *save, *tok;
	snprintf(buf, sizeof(buf), "%s", v);
	c->nblankets = 0;
	/* strtok_r skips empty items; check them on the raw text */
	if (*v == '\0' || *v == ':' || strstr(v, "::") || v[strlen(v) - 1] == ':')
		FAIL("invalid blanket specifier %s", v);
	for (tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		size_t n = strlen(tok);
		if (*tok != '/' || tok[n - 1] == '/' || n >= sizeof(c->blanket[0]) ||
		    c->nblankets == HJ_MAXBLANKETS)
			FAIL("invalid blanket specifier %s", tok);
		strcpy(c->blanket[c->nblankets++], tok);
	}
	return 0;
}

static int
set_fdoff(struct hj_config *c, const char *v, char *err, size_t errlen)
{
	char *end;
	long n;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno)
		FAIL("invalid fdoff specifier \"%s\"", v);
	if (n < 0)
		FAIL("fdoff must not be negative");
	if (n < 3 || n >= INT_MAX / 2)
		FAIL("fdoff out of range");
	c->fdoff = (int)n;
	return 0;
}

enum { K_SOCKET, K_PATH, K_BLANKET, K_VFS, K_SYSCTL, K_FDOFF, K_MODCTL, K_NKEYS };
static const char *const keys[K_NKEYS] = {"socket", "path", "blanket", "vfs", "sysctl", "fdoff", "modctl"};

int
hj_parse_config(const char *spec, struct hj_config *c, char *err, size_t errlen)
{
	char buf[1024];
	char *save, *item;

	memset(c, 0, sizeof(*c));
	c->fdoff = HJ_DEFAULT_FDOFF;
	int is_default = spec == NULL || strlen(spec) >= sizeof(buf);
	if (is_default)
		spec = HJ_DEFAULT_SPEC;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *value = strchr(item, '=');
		size_t nlen = value ? (size_t)(value - item) : strlen(item);
		int key = -1;
		if (value)
			value++;
		for (int k = 0; k < K_NKEYS; k++)
			if (strncmp(keys[k], item, nlen) == 0) {
				key = k;
				break;
			}
		if (key < 0)
			FAIL("invalid hijack specifier name in %s", item);
		if (value == NULL && key != K_SYSCTL && key != K_MODCTL)
			FAIL("invalid hijack specifier: %s", spec);
		unsigned char vt[3] = {0};
		switch (key) {
		case K_SOCKET:
			memset(c->socket_rump, 0, sizeof(c->socket_rump));
			if (parse_list(value, "socket", family_of, c->socket_rump, HJ_NFAMILIES, err, errlen))
				return -1;
			break;
		case K_PATH:
			if (set_path(c, value, err, errlen))
				return -1;
			break;
		case K_BLANKET:
			if (set_blanket(c, value, err, errlen))
				return -1;
			break;
		case K_VFS:
			if (parse_list(value, "vfscall", vfs_of, vt, 3, err, errlen))
				return -1;
			c->vfs = (vt[0] ? HJ_VFS_NFSSVC : 0) | (vt[1] ? HJ_VFS_GETVFSSTAT : 0) |
			    (vt[2] ? HJ_VFS_FHCALLS : 0);
			break;
		case K_SYSCTL:
			if (yesno(value, "sysctl", &c->sysctl_rump, err, errlen))
				return -1;
			break;
		case K_MODCTL:
			if (yesno(value, "modctl", &c->modctl_rump, err, errlen))
				return -1;
			break;
		case K_FDOFF:
			if (set_fdoff(c, value, err, errlen))
				return -1;
			break;
		}
	}
	return 0;
}
