/* buf.c — a growing byte buffer. */
#include "util/buf.h"

#include <string.h>

#include "util/util.h"

void vnd_buf_add(struct vnd_buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = vnd_xrealloc(b->s, b->cap);
    }
    if (n)
        memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void vnd_buf_puts(struct vnd_buf *b, const char *s)
{
    vnd_buf_add(b, s, strlen(s));
}
