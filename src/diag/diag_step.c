/* diag_step.c — helpers of the apps' C steps (step.h): flow interning,
 * key groups, time 0, statistics.  Nothing here allocates per row: flows
 * and groups are made once each, tables grow by doubling. */
#include "diag/step.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        abort();
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

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

int vnd_flows_row(struct vnd_flows *fl, sqlite3_stmt *st, int col)
{
    /* one API call per column: each sqlite3_column_* call costs as much as
     * the work done here */
    sqlite3_value *vs = sqlite3_column_value(st, col), *vsp = sqlite3_column_value(st, col + 1);
    sqlite3_value *vd = sqlite3_column_value(st, col + 2), *vdp = sqlite3_column_value(st, col + 3);
    int ts = sqlite3_value_type(vs), tsp = sqlite3_value_type(vsp);
    int td = sqlite3_value_type(vd), tdp = sqlite3_value_type(vdp);
    if ((ts != SQLITE_TEXT && ts != SQLITE_NULL) || (td != SQLITE_TEXT && td != SQLITE_NULL)
        || (tsp != SQLITE_INTEGER && tsp != SQLITE_NULL)
        || (tdp != SQLITE_INTEGER && tdp != SQLITE_NULL))
        return -1;
    const char *src = ts == SQLITE_TEXT ? (const char *)sqlite3_value_text(vs) : NULL;
    size_t sl = src ? (size_t)sqlite3_value_bytes(vs) : 0;
    const char *dst = td == SQLITE_TEXT ? (const char *)sqlite3_value_text(vd) : NULL;
    size_t dl = dst ? (size_t)sqlite3_value_bytes(vd) : 0;
    unsigned nulls = (tsp == SQLITE_NULL) | (tdp == SQLITE_NULL) << 1;
    int64_t sport = tsp == SQLITE_NULL ? 0 : sqlite3_value_int64(vsp);
    int64_t dport = tdp == SQLITE_NULL ? 0 : sqlite3_value_int64(vdp);
    return vnd_flows_get(fl, src, sl, sport, dst, dl, dport, nulls);
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
        fl->f = xrealloc(fl->f, (size_t)fl->cap * sizeof *fl->f);
    }
    struct vnd_flow *f = &fl->f[fl->n];
    memset(f, 0, sizeof *f);
    f->src = src ? xstrndup(src, sl) : NULL;
    f->dst = dst ? xstrndup(dst, dl) : NULL;
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

/* ---- key groups ---- */

static uint64_t key_hash(int64_t k)
{
    uint64_t h = (uint64_t)k * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

int64_t vnd_keyidx_find(const struct vnd_keyidx *x, int64_t key)
{
    if (!x->tabcap)
        return -1;
    size_t j = key_hash(key) & (x->tabcap - 1);
    while (x->tab[j]) {
        uint32_t g = x->tab[j] - 1;
        if (x->keys[g] == key)
            return g;
        j = (j + 1) & (x->tabcap - 1);
    }
    return -1;
}

static _Thread_local const double *sort_ts;

static int cmp_row_ts(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (sort_ts[x] != sort_ts[y])
        return sort_ts[x] < sort_ts[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

void vnd_keyidx_build(struct vnd_keyidx *x, const int64_t *key, const unsigned char *has,
                      const double *ts, uint32_t n)
{
    memset(x, 0, sizeof *x);
    size_t cap = 64;
    while (cap < 2 * (size_t)n)
        cap *= 2;
    x->tab = calloc(cap, sizeof *x->tab);
    x->tabcap = cap;
    uint32_t *grp = malloc(((size_t)n + 1) * sizeof *grp);
    uint32_t *count = NULL;
    size_t capg = 0;
    if (!x->tab || !grp)
        abort();
    for (uint32_t i = 0; i < n; i++) {
        if (!has[i])
            continue;
        size_t j = key_hash(key[i]) & (cap - 1);
        uint32_t g;
        for (;;) {
            if (!x->tab[j]) {
                if (x->ngroups == capg) {
                    capg = capg ? 2 * capg : 1024;
                    x->keys = xrealloc(x->keys, capg * sizeof *x->keys);
                    count = xrealloc(count, capg * sizeof *count);
                }
                g = x->ngroups++;
                x->keys[g] = key[i];
                count[g] = 0;
                x->tab[j] = g + 1;
                break;
            }
            g = x->tab[j] - 1;
            if (x->keys[g] == key[i])
                break;
            j = (j + 1) & (cap - 1);
        }
        grp[i] = g;
        count[g]++;
    }
    x->start = xrealloc(NULL, ((size_t)x->ngroups + 1) * sizeof *x->start);
    uint32_t at = 0;
    for (uint32_t g = 0; g < x->ngroups; g++) {
        x->start[g] = at;
        at += count[g];
        count[g] = x->start[g];     /* now: the next free place */
    }
    x->start[x->ngroups] = at;
    x->rows = xrealloc(NULL, ((size_t)at + 1) * sizeof *x->rows);
    for (uint32_t i = 0; i < n; i++)
        if (has[i])
            x->rows[count[grp[i]]++] = i;
    /* rows of a group are in table order, nearly always time order too */
    sort_ts = ts;
    for (uint32_t g = 0; g < x->ngroups; g++) {
        uint32_t *r = x->rows + x->start[g], m = x->start[g + 1] - x->start[g];
        bool sorted = true;
        for (uint32_t k = 1; k < m && sorted; k++)
            sorted = ts[r[k - 1]] <= ts[r[k]];
        if (!sorted)
            qsort(r, m, sizeof *r, cmp_row_ts);
    }
    sort_ts = NULL;
    free(grp);
    free(count);
}

void vnd_keyidx_free(struct vnd_keyidx *x)
{
    free(x->keys);
    free(x->start);
    free(x->rows);
    free(x->tab);
    memset(x, 0, sizeof *x);
}

/* ---- time, statistics, statements ---- */

int vnd_step_t0(const struct vnd_diag_ctx *c, const char *const *tables, double *t0,
                char **err)
{
    *t0 = NAN;
    if (!isnan(c->o->origin)) {
        *t0 = c->o->origin;
        return 0;
    }
    struct vnd_sb sb = {0};
    vnd_diag_origin(c, &sb, tables);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sb.s, -1, &st, NULL);
    vnd_sb_free(&sb);
    if (rc != SQLITE_OK) {
        *err = vnd_diag_errf("time 0: %s", sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
        return -1;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *t0 = sqlite3_column_double(st, 0);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        *err = vnd_step_error(c, "time 0", rc);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

double vnd_step_slot(double ts, double t0, double slot)
{
    return floor((ts - t0) / slot) * slot;
}

/* A double's bits as an unsigned number in the same order (no NaN here). */
static uint64_t sortable(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u >> 63 ? ~u : u | 0x8000000000000000ULL;
}

/* Sorts doubles ascending: insertion sort when few, else a radix sort on
 * their bits (four 16-bit passes, linear in n). */
static void sort_doubles(double *v, size_t n)
{
    if (n < 64) {
        for (size_t i = 1; i < n; i++) {
            double x = v[i];
            size_t j = i;
            while (j > 0 && v[j - 1] > x) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
        return;
    }
    uint64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    size_t *count = malloc(65536 * sizeof *count);
    if (!a || !b || !count)
        abort();
    for (size_t i = 0; i < n; i++)
        a[i] = sortable(v[i]);
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, 65536 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(a[i] >> shift) & 0xffff]++;
        size_t at = 0;
        for (size_t k = 0; k < 65536; k++) {
            size_t c = count[k];
            count[k] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            b[count[(a[i] >> shift) & 0xffff]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t u = a[i] >> 63 ? a[i] & 0x7fffffffffffffffULL : ~a[i];
        memcpy(&v[i], &u, sizeof u);
    }
    free(a);
    free(b);
    free(count);
}

void vnd_step_stats(double *v, size_t n, double out[5])
{
    sort_doubles(v, n);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    /* nearest rank, as the SQL: the smallest rank >= p * n */
    size_t r50 = (size_t)ceil(0.5 * (double)n), r99 = (size_t)ceil(0.99 * (double)n);
    out[0] = sum / (double)n * 1000;
    out[1] = v[0] * 1000;
    out[2] = v[r50 ? r50 - 1 : 0] * 1000;
    out[3] = v[r99 ? r99 - 1 : 0] * 1000;
    out[4] = v[n - 1] * 1000;
}

int vnd_step_prepare(const struct vnd_diag_ctx *c, const char *app, const char *sql,
                     sqlite3_stmt **st, char **err)
{
    if (sqlite3_prepare_v2(c->db, sql, -1, st, NULL) != SQLITE_OK) {
        *err = vnd_diag_errf("%s: %s", app, sqlite3_errmsg(c->db));
        sqlite3_finalize(*st);
        *st = NULL;
        return -1;
    }
    return 0;
}

char *vnd_step_error(const struct vnd_diag_ctx *c, const char *app, int rc)
{
    return vnd_diag_errf("%s: %s", app, rc == SQLITE_INTERRUPT ? "interrupted (time limit?)"
                                                              : sqlite3_errmsg(c->db));
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
    uint64_t h = mix(mix(key_hash(a), (uint64_t)b * 0xff51afd7ed558ccdULL), (uint64_t)c);
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
        m->k = xrealloc(m->k, 3 * (size_t)m->cap * sizeof *m->k);
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
