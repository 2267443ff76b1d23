/* sb.c — a growing SQL string (sb.h). */
#include "util/sb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sb_grow(struct vnd_sb *sb, size_t more)
{
    if (sb->n + more + 1 <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->n + more + 1)
        cap *= 2;
    char *s = realloc(sb->s, cap);
    if (!s)
        abort();
    sb->s = s;
    sb->cap = cap;
}

void vnd_sb_printf(struct vnd_sb *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    sb_grow(sb, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(sb->s + sb->n, sb->cap - sb->n, fmt, ap);
    va_end(ap);
    sb->n += (size_t)n;
}

void vnd_sb_ident(struct vnd_sb *sb, const char *name)
{
    sb_grow(sb, 2 * strlen(name) + 2);
    sb->s[sb->n++] = '"';
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            sb->s[sb->n++] = '"';
        sb->s[sb->n++] = *p;
    }
    sb->s[sb->n++] = '"';
    sb->s[sb->n] = 0;
}

void vnd_sb_str(struct vnd_sb *sb, const char *str)
{
    sb_grow(sb, 2 * strlen(str) + 2);
    sb->s[sb->n++] = '\'';
    for (const char *p = str; *p; p++) {
        if (*p == '\'')
            sb->s[sb->n++] = '\'';
        sb->s[sb->n++] = *p;
    }
    sb->s[sb->n++] = '\'';
    sb->s[sb->n] = 0;
}

void vnd_sb_real(struct vnd_sb *sb, double v)
{
    size_t at = sb->n;
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)     /* shortest of the two that reads back */
        snprintf(buf, sizeof buf, "%.17g", v);
    vnd_sb_printf(sb, "%s", buf);
    /* keep it a REAL in both dialects (integer division otherwise) */
    if (!strpbrk(sb->s + at, ".eEni"))
        vnd_sb_printf(sb, ".0");
}

void vnd_sb_free(struct vnd_sb *sb)
{
    free(sb->s);
    sb->s = NULL;
    sb->n = sb->cap = 0;
}

char *vnd_sb_take(struct vnd_sb *sb)
{
    char *s = sb->s ? sb->s : strdup("");
    if (!s)
        abort();
    sb->s = NULL;
    sb->n = sb->cap = 0;
    return s;
}
