/* diag_step.c — helpers of the apps' C steps (step.h): a row's flow, key
 * groups, time 0, statistics.  Nothing here allocates per row: groups are
 * made once each, tables grow by doubling. */
#include "diag/step.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

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

/* ---- key groups ---- */

int64_t vnd_keyidx_find(const struct vnd_keyidx *x, int64_t key)
{
    if (!x->tabcap)
        return -1;
    size_t j = vnd_key_hash(key) & (x->tabcap - 1);
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
        size_t j = vnd_key_hash(key[i]) & (cap - 1);
        uint32_t g;
        for (;;) {
            if (!x->tab[j]) {
                if (x->ngroups == capg) {
                    capg = capg ? 2 * capg : 1024;
                    x->keys = vnd_xrealloc(x->keys, capg * sizeof *x->keys);
                    count = vnd_xrealloc(count, capg * sizeof *count);
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
    x->start = vnd_xrealloc(NULL, ((size_t)x->ngroups + 1) * sizeof *x->start);
    uint32_t at = 0;
    for (uint32_t g = 0; g < x->ngroups; g++) {
        x->start[g] = at;
        at += count[g];
        count[g] = x->start[g];     /* now: the next free place */
    }
    x->start[x->ngroups] = at;
    x->rows = vnd_xrealloc(NULL, ((size_t)at + 1) * sizeof *x->rows);
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
