/* suggest.c — closest known name by edit distance. */
#include "lang/suggest.h"

#include <stdio.h>
#include <string.h>

#include "fields/registry.h"

/* Edit distance counting a swap of neighbours as one edit (optimal string
 * alignment), ASCII case folded; names are short. */
static int edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    int rows[3][65];
    int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    if (na > 64 || nb > 64)
        return 1000;
    for (size_t j = 0; j <= nb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int ca = a[i - 1] | 0x20, cb = b[j - 1] | 0x20;
            int best = prev[j - 1] + (ca != cb);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && ca == (b[j - 2] | 0x20) && (a[i - 2] | 0x20) == cb
                && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        int *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[nb];
}

struct best {
    const char *s;
    size_t n;
    int d;
};

static void consider(struct best *b, const char *cand, size_t nc, const char *name, size_t n)
{
    int d = edit_distance(name, n, cand, nc);
    if (d < b->d) {
        b->d = d;
        b->s = cand;
        b->n = nc;
    }
}

void vnd_suggest_field(const char *name, size_t n, const char *const *extra,
                       char *buf, size_t size)
{
    struct best b = {NULL, 0, 1000};
    for (int f = 0; f < VND_F_COUNT; f++) {
        const struct vnd_field_info *fi = vnd_field_info((enum vnd_field)f);
        consider(&b, fi->name, strlen(fi->name), name, n);
        for (const char *p = fi->aliases; p && *p;) {
            const char *e = strchr(p, ' ');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            consider(&b, p, len, name, n);
            p = e ? e + 1 : NULL;
        }
    }
    for (; extra && *extra; extra++)
        consider(&b, *extra, strlen(*extra), name, n);
    /* close enough to be a typo, not just another short name */
    int limit = n < 4 ? 1 : n < 8 ? 2 : 3;
    if (b.s && b.d <= limit)
        snprintf(buf, size, " (did you mean %.*s?)", (int)b.n, b.s);
    else if (size)
        buf[0] = '\0';
}
