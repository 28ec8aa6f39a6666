/*
 * check.c: the calls of calls.h against the generated syscall table: the
 * number is found, and the count and types of arguments and results are
 * the ones the library encodes and decodes.  Pure; run once at start-up.
 */
#include <stdio.h>
#include <string.h>

#include "calls.h"

struct use {
	int number;
	const char *name;
	int nargs, nres;
	unsigned char args[RUMPSP_MAXARGS > 0 ? RUMPSP_MAXARGS : 1];
	unsigned char res[RUMPSP_MAXRESULTS > 0 ? RUMPSP_MAXRESULTS : 1];
};

#define HJ_UNPAREN(...) __VA_ARGS__
#define HJ_USE(name, na, a, nr, r) {RUMPSP_SYS_##name, #name, na, nr, {HJ_UNPAREN a}, {HJ_UNPAREN r}},
static const struct use uses[] = {HJ_CALL_LIST(HJ_USE)};

int
hj_check_calls(char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		const struct use *u = &uses[i];
		const struct rumpsp_syscall *s = NULL;
		for (int j = 0; j < RUMPSP_NSYSCALLS; j++)
			if (rumpsp_syscalls[j].number == u->number) {
				s = &rumpsp_syscalls[j];
				break;
			}
		if (s == NULL || strcmp(s->name, u->name) != 0) {
			snprintf(err, errlen, "rumphijack error: syscall %s missing from the table", u->name);
			return -1;
		}
		int bad = s->nargs != u->nargs || s->nresults != u->nres;
		for (int k = 0; !bad && k < u->nargs; k++)
			bad = s->args[k].type != u->args[k];
		for (int k = 0; !bad && k < u->nres; k++)
			bad = s->results[k].type != u->res[k];
		if (bad) {
			snprintf(err, errlen, "rumphijack error: syscall %s does not have the arguments "
			    "or results the library sends (rebuild it from the current table)", u->name);
			return -1;
		}
	}
	return 0;
}
