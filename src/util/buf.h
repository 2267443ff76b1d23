/* buf.h — a growing byte buffer, always NUL-terminated once written to:
 * what a child's output, an HTTP answer or a rendered page is collected
 * into. */
#ifndef VND_UTIL_BUF_H
#define VND_UTIL_BUF_H

#include <stddef.h>

struct vnd_buf {
    char *s;            /* NULL until the first add */
    size_t len, cap;
};

/* Appends n bytes (aborts when out of memory, like vnd_xmalloc). */
void vnd_buf_add(struct vnd_buf *b, const void *data, size_t n);
/* Appends a C string. */
void vnd_buf_puts(struct vnd_buf *b, const char *s);

#endif
