/* flows.c — flows interned by their 4-tuple (NULLs included), and groups
 * keyed by three int64 (flows.h).  Nothing here allocates per row: flows
 * and groups are made once each, tables grow by doubling. */
#include "flow/flows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int vnd_cmp_text(const char *a, const char *b)
{
    if (!a || !b)
        return a ? 1 : b ? -1 : 0;
    return strcmp(a, b);
}

/* ---- flows ---- */

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

/* Eight bytes at a time: addresses are hashed on every row of a scan and
 * at ingest. */
static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
    uint64_t w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
    }
    w = n;
    for (size_t i = 0; i < n; i++)
        w = w << 8 | (unsigned char)s[i];
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    return h ^ h >> 32;
}

static uint64_t flow_hash(const char *src, size_t sl, int64_t sport, const char *dst,
                          size_t dl, int64_t dport, unsigned nulls)
{
    uint64_t h = 1469598103934665603ULL;
    h = src ? hash_bytes(h, src, sl) : mix(h, 1);
    h = mix(h, (uint64_t)sport);
    h = dst ? hash_bytes(h ^ 0xff, dst, dl) : mix(h, 2);
    h = mix(h, (uint64_t)dport);
    h = mix(h, nulls) * 0xc4ceb9fe1a85ec53ULL;
    return h ^ h >> 32;
}

static bool str_eq(const char *a, size_t al, const char *b, size_t bl)
{
    if (!a || !b)
        return !a && !b;
    if (al != bl)
        return false;
    /* addresses are short: inline, eight bytes at a time */
    uint64_t x, y;
    for (; al >= 8; a += 8, b += 8, al -= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return false;
    }
    for (; al; al--)
        if (*a++ != *b++)
            return false;
    return true;
}

static bool flow_eq(const struct vnd_flow *f, const char *src, size_t sl, int64_t sport,
                    const char *dst, size_t dl, int64_t dport, unsigned nulls)
{
    return f->nulls == nulls && f->sport == sport && f->dport == dport
           && str_eq(f->src, f->src_len, src, sl) && str_eq(f->dst, f->dst_len, dst, dl);
}

static int flow_find(struct vnd_flows *fl, uint64_t h, const char *src, size_t sl,
                     int64_t sport, const char *dst, size_t dl, int64_t dport,
                     unsigned nulls, size_t *slot)
{
    if (!fl->tabcap)
        return -1;
    size_t j = h & (fl->tabcap - 1);
    while (fl->tab[j]) {
        int i = fl->tab[j] - 1;
        if (flow_eq(&fl->f[i], src, sl, sport, dst, dl, dport, nulls))
            return i;
        j = (j + 1) & (fl->tabcap - 1);
    }
    if (slot)
        *slot = j;
    return -1;
}

static void flow_rehash(struct vnd_flows *fl)
{
    size_t cap = fl->tabcap ? 2 * fl->tabcap : 64;
    int *t = calloc(cap, sizeof *t);
    if (!t)
        abort();
    for (int i = 0; i < fl->n; i++) {
        const struct vnd_flow *f = &fl->f[i];
        uint64_t h = flow_hash(f->src, f->src_len, f->sport, f->dst, f->dst_len, f->dport,
                               f->nulls);
        size_t j = h & (cap - 1);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = i + 1;
    }
    free(fl->tab);
    fl->tab = t;
    fl->tabcap = cap;
}

int vnd_flows_get(struct vnd_flows *fl, const char *src, size_t sl, int64_t sport,
                  const char *dst, size_t dl, int64_t dport, unsigned nulls)
{
    /* the two directions of a connection alternate: remember two flows */
    if (fl->n && flow_eq(&fl->f[fl->last], src, sl, sport, dst, dl, dport, nulls))
        return fl->last;
    if (fl->n > 1 && flow_eq(&fl->f[fl->prev], src, sl, sport, dst, dl, dport, nulls)) {
        int t = fl->last;
        fl->last = fl->prev;
        fl->prev = t;
        return fl->last;
    }
    uint64_t h = flow_hash(src, sl, sport, dst, dl, dport, nulls);
    size_t slot = 0;
    int i = flow_find(fl, h, src, sl, sport, dst, dl, dport, nulls, &slot);
    fl->prev = fl->last;
    if (i >= 0)
        return fl->last = i;
    /* Text with a NUL inside does not compare as C strings do.  Checked
     * only here: a flow found above has the same bytes as one without. */
    if ((src && memchr(src, 0, sl)) || (dst && memchr(dst, 0, dl)))
        return -1;
    if (2 * ((size_t)fl->n + 1) > fl->tabcap) {
        flow_rehash(fl);
        flow_find(fl, h, src, sl, sport, dst, dl, dport, nulls, &slot);
    }
    if (fl->n == fl->cap) {
        fl->cap = fl->cap ? 2 * fl->cap : 64;
        fl->f = vnd_xrealloc(fl->f, (size_t)fl->cap * sizeof *fl->f);
    }
    struct vnd_flow *f = &fl->f[fl->n];
    memset(f, 0, sizeof *f);
    f->src = src ? vnd_xstrndup(src, sl) : NULL;
    f->dst = dst ? vnd_xstrndup(dst, dl) : NULL;
    f->src_len = src ? sl : 0;
    f->dst_len = dst ? dl : 0;
    f->sport = sport;
    f->dport = dport;
    f->nulls = nulls;
    f->rev = -2;
    if (src && dst && !nulls) {
        /* from the copies: src and dst need not end in a NUL (ingest's) */
        int n = snprintf(NULL, 0, "%s:%lld>%s:%lld", f->src, (long long)sport, f->dst,
                         (long long)dport);
        f->label = malloc((size_t)n + 1);
        if (!f->label)
            abort();
        snprintf(f->label, (size_t)n + 1, "%s:%lld>%s:%lld", f->src, (long long)sport, f->dst,
                 (long long)dport);
    }
    fl->tab[slot] = fl->n + 1;
    return fl->last = fl->n++;
}

int vnd_flows_rev(struct vnd_flows *fl, int i)
{
    struct vnd_flow *f = &fl->f[i];
    if (f->rev != -2)
        return f->rev;
    unsigned nulls = (f->nulls >> 1 & 1) | (f->nulls & 1) << 1;
    size_t sl = f->dst_len, dl = f->src_len;
    uint64_t h = flow_hash(f->dst, sl, f->dport, f->src, dl, f->sport, nulls);
    f->rev = flow_find(fl, h, f->dst, sl, f->dport, f->src, dl, f->sport, nulls, NULL);
    if (f->rev >= 0)
        fl->f[f->rev].rev = i;
    return f->rev;
}

static int cmp_port(int64_t a, bool an, int64_t b, bool bn)
{
    if (an || bn)
        return an ? (bn ? 0 : -1) : 1;
    return a < b ? -1 : a > b;
}

int vnd_flows_cmp_tuple(const struct vnd_flows *fl, int a, int b)
{
    if (a == b)
        return 0;
    const struct vnd_flow *x = &fl->f[a], *y = &fl->f[b];
    int c = vnd_cmp_text(x->src, y->src);
    if (!c)
        c = cmp_port(x->sport, x->nulls & 1, y->sport, y->nulls & 1);
    if (!c)
        c = vnd_cmp_text(x->dst, y->dst);
    if (!c)
        c = cmp_port(x->dport, x->nulls & 2, y->dport, y->nulls & 2);
    return c;
}

int vnd_flows_cmp_label(const struct vnd_flows *fl, int a, int b)
{
    return a == b ? 0 : vnd_cmp_text(fl->f[a].label, fl->f[b].label);
}

void vnd_flows_free(struct vnd_flows *fl)
{
    for (int i = 0; i < fl->n; i++) {
        free(fl->f[i].src);
        free(fl->f[i].dst);
        free(fl->f[i].label);
    }
    free(fl->f);
    free(fl->tab);
    memset(fl, 0, sizeof *fl);
}

/* ---- three-int64 groups ---- */

int64_t vnd_dkey(double v)
{
    v += 0.0;                       /* -0.0 → 0.0 */
    int64_t k;
    memcpy(&k, &v, sizeof k);
    return k;
}

double vnd_keyd(int64_t k)
{
    double v;
    memcpy(&v, &k, sizeof v);
    return v;
}

static uint64_t gkey_hash(int64_t a, int64_t b, int64_t c)
{
    uint64_t h = mix(mix(vnd_key_hash(a), (uint64_t)b * 0xff51afd7ed558ccdULL), (uint64_t)c);
    /* the table takes the low bits, which mix leaves much as c's were
     * (rtt's copy keys hold payload lengths there): a finalizer spreads
     * every bit over them (MurmurHash3's fmix64) */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

uint32_t vnd_gmap_get(struct vnd_gmap *m, int64_t a, int64_t b, int64_t c)
{
    if (m->n) {
        const int64_t *l = &m->k[3 * (size_t)m->last];
        if (l[0] == a && l[1] == b && l[2] == c)
            return m->last;
    }
    if (2 * ((size_t)m->n + 1) > m->tabcap) {
        size_t cap = m->tabcap ? 2 * m->tabcap : 256;
        uint32_t *t = calloc(cap, sizeof *t);
        if (!t)
            abort();
        for (uint32_t g = 0; g < m->n; g++) {
            const int64_t *k = &m->k[3 * (size_t)g];
            size_t j = gkey_hash(k[0], k[1], k[2]) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = g + 1;
        }
        free(m->tab);
        m->tab = t;
        m->tabcap = cap;
    }
    size_t j = gkey_hash(a, b, c) & (m->tabcap - 1);
    while (m->tab[j]) {
        uint32_t g = m->tab[j] - 1;
        const int64_t *k = &m->k[3 * (size_t)g];
        if (k[0] == a && k[1] == b && k[2] == c)
            return m->last = g;
        j = (j + 1) & (m->tabcap - 1);
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 256;
        m->k = vnd_xrealloc(m->k, 3 * (size_t)m->cap * sizeof *m->k);
    }
    int64_t *k = &m->k[3 * (size_t)m->n];
    k[0] = a;
    k[1] = b;
    k[2] = c;
    m->tab[j] = m->n + 1;
    return m->last = m->n++;
}

void vnd_gmap_free(struct vnd_gmap *m)
{
    free(m->k);
    free(m->tab);
    memset(m, 0, sizeof *m);
}
