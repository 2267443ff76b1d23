/* run.h — running a tool (ovs-ofctl, ovs-vsctl) the safe way: an argv,
 * never a shell, stdin from a string, stdout and stderr captured, a time
 * limit. */
#ifndef VND_UTIL_RUN_H
#define VND_UTIL_RUN_H

/* Runs argv[0] (looked up in PATH) with `input` on its stdin (NULL: none)
 * and waits at most `timeout` seconds.  Returns its exit status (0..255),
 * or -1 when it could not run or was killed for its time (*out says why).
 * *out gets stdout, *errout stderr (malloc'd, NUL-terminated; either
 * pointer may be NULL when not wanted). */
int vnd_run(char *const argv[], const char *input, double timeout, char **out, char **errout);

#endif
