/*
 * config.h: what RUMPHIJACK says the library hijacks (rumphijack(3)).
 * Parsed once, at start-up, before any thread exists; read-only after.
 */
#ifndef RUMPHIJACK_CONFIG_H
#define RUMPHIJACK_CONFIG_H

#include <stddef.h>

#define HJ_MAXBLANKETS 16
#define HJ_NFAMILIES 64
#define HJ_DEFAULT_SPEC "path=/rump,socket=all:nolocal"
#define HJ_DEFAULT_FDOFF 128

#define HJ_VFS_NFSSVC 1
#define HJ_VFS_GETVFSSTAT 2
#define HJ_VFS_FHCALLS 4

struct hj_config {
	char prefix[256];		/* "" when no path= */
	size_t prefixlen;
	char blanket[HJ_MAXBLANKETS][256];
	int nblankets;
	unsigned char socket_rump[HJ_NFAMILIES];	/* by host AF_* number */
	int vfs;			/* HJ_VFS_* */
	int sysctl_rump;
	int modctl_rump;
	int fdoff;
};

/*
 * Parse spec (NULL: unset, the default applies) into *c.  0 on success;
 * -1 with the message for the user in err.
 */
int hj_parse_config(const char *spec, struct hj_config *c, char *err, size_t errlen);

#endif
