/* util.h — small helpers every module uses: allocation that aborts on
 * failure (a daemon cannot do anything sensible out of memory), printf
 * into a fresh string, monotonic time. */
#ifndef VND_UTIL_UTIL_H
#define VND_UTIL_UTIL_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *vnd_xmalloc(size_t n);
void *vnd_xcalloc(size_t n, size_t size);
void *vnd_xrealloc(void *p, size_t n);
char *vnd_xstrdup(const char *s);
char *vnd_xstrndup(const char *s, size_t n);

/* A malloc'd formatted string (never NULL). */
char *vnd_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *vnd_strdup_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* True for 1 to 63 letters, digits, '_' or '-': a name safe as a file
 * name and in a URL path (trace ids, tenant names). */
bool vnd_plain_name(const char *s);

/* Seconds on the monotonic clock. */
double vnd_now(void);
/* Wall-clock time, Unix seconds (timestamps people and rows read). */
double vnd_wall_now(void);

/* Reads a whole file into a malloc'd NUL-terminated buffer.  Returns 0 or
 * errno; *len (if given) gets the size. */
int vnd_read_file(const char *path, char **out, size_t *len);

#endif
