/* diag_rtt_step.c — the rtt app's thin C step: the pairing of diag_rtt.c
 * done in one pass over the table's TCP rows in time order, so RTT keeps
 * up with real time on SQLite (the pure SQL takes seven window passes).
 *
 * It computes exactly what the SQL `vnd diag rtt --show-sql` prints does
 * (tests/integration/diag_cli.sh compares the two): per direction, seq
 * unwrapped by signed 32-bit differences from its first segment, ACKs
 * unwrapped from their first ACK and anchored to the data direction's
 * first seq; a segment is a retransmission when it starts below the
 * highest end sent before it; each ACK that first covers some segments
 * gives one sample from the last of them, none when one of them is a
 * retransmission, and segments already covered when sent give none. */
#include "diag/diag.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct seg {
    int64_t e;
    double ts;
    int retx;
};

struct dir {
    char *key;               /* "src|sport|dst|dport" */
    char *label;             /* "src:sport>dst:dport" */
    int idx;                 /* in creation order */
    struct dir *rev;
    /* as a data direction */
    int have_s0;
    uint32_t s0, last_seq;
    int64_t us, max_e;
    int any_seg;
    struct seg *heap;        /* segments not yet covered, min-heap on e */
    int nheap, capheap;
    /* as the sender of ACKs for the reverse direction */
    int have_a0;
    uint32_t a0, last_ack;
    int64_t cum, max_cum;
};

struct sample {
    int flow;                /* index of the data direction (by_flow) */
    double t, v;
};

struct state {
    struct dir **tab;        /* open addressing on key */
    size_t cap, n;
    struct dir **dirs;       /* in creation order */
    struct sample *s;
    size_t ns, caps;
};

static int64_t seqdiff(int64_t x)
{
    int64_t m = ((x % 4294967296LL) + 4294967296LL + 2147483648LL) % 4294967296LL;
    return m - 2147483648LL;
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static struct dir *lookup(struct state *st, const char *key, bool create)
{
    if (create && 2 * (st->n + 1) > st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 64;
        struct dir **t = calloc(cap, sizeof *t);
        if (!t)
            abort();
        for (size_t i = 0; i < st->cap; i++)
            if (st->tab[i]) {
                size_t j = hash(st->tab[i]->key) & (cap - 1);
                while (t[j])
                    j = (j + 1) & (cap - 1);
                t[j] = st->tab[i];
            }
        free(st->tab);
        st->tab = t;
        st->cap = cap;
        st->dirs = realloc(st->dirs, cap * sizeof *st->dirs);
        if (!st->dirs)
            abort();
    }
    if (!st->cap)
        return NULL;
    size_t j = hash(key) & (st->cap - 1);
    while (st->tab[j]) {
        if (!strcmp(st->tab[j]->key, key))
            return st->tab[j];
        j = (j + 1) & (st->cap - 1);
    }
    if (!create)
        return NULL;
    struct dir *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    d->key = xstrdup(key);
    st->tab[j] = d;
    d->idx = (int)st->n;
    st->dirs[st->n++] = d;
    return d;
}

static void heap_push(struct dir *d, struct seg s)
{
    if (d->nheap == d->capheap) {
        d->capheap = d->capheap ? 2 * d->capheap : 64;
        d->heap = realloc(d->heap, (size_t)d->capheap * sizeof *d->heap);
        if (!d->heap)
            abort();
    }
    int i = d->nheap++;
    while (i > 0 && d->heap[(i - 1) / 2].e > s.e) {
        d->heap[i] = d->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    d->heap[i] = s;
}

static struct seg heap_pop(struct dir *d)
{
    struct seg top = d->heap[0], last = d->heap[--d->nheap];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, m = i;
        int64_t best = last.e;
        if (l < d->nheap && d->heap[l].e < best)
            m = l, best = d->heap[l].e;
        if (l + 1 < d->nheap && d->heap[l + 1].e < best)
            m = l + 1;
        if (m == i)
            break;
        d->heap[i] = d->heap[m];
        i = m;
    }
    if (d->nheap)
        d->heap[i] = last;
    return top;
}

/* The running maximum of the ACKs `a` sent for data direction `d`, in d's
 * unwrapped sequence space (valid when both have begun). */
static int64_t ack_ra(const struct dir *d, const struct dir *a)
{
    return seqdiff((int64_t)a->a0 - (int64_t)d->s0) + a->max_cum;
}

static int cmp_sample(const void *x, const void *y, void *ctx)
{
    const struct sample *a = x, *b = y;
    struct dir **dirs = ctx;
    if (a->flow != b->flow) {
        int c = strcmp(dirs[a->flow]->label, dirs[b->flow]->label);
        if (c)
            return c;
    }
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->v < b->v ? -1 : a->v > b->v;
}

static double origin_of(const struct vnd_diag_ctx *c, int *ok)
{
    *ok = 1;
    if (!isnan(c->o->origin))
        return c->o->origin;
    struct vnd_sb sb = {0};
    const char *tabs[] = {c->o->table, NULL};
    vnd_diag_origin(c, &sb, tabs);
    sqlite3_stmt *st = NULL;
    double t0 = NAN;
    if (sqlite3_prepare_v2(c->db, sb.s, -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        t0 = sqlite3_column_double(st, 0);
    else if (!st)
        *ok = 0;
    sqlite3_finalize(st);
    vnd_sb_free(&sb);
    return t0;
}

/* Sorted samples → one row per (flow,) slot, as the SQL's aggregation. */
static void aggregate(const struct vnd_diag_ctx *c, struct state *S, struct vnd_rtt_result *res)
{
    bool by_flow = c->o->by_flow;
    if (S->ns)
        qsort_r(S->s, S->ns, sizeof *S->s, cmp_sample, S->dirs);
    for (size_t i = 0; i < S->ns;) {
        size_t j = i;
        while (j < S->ns && S->s[j].t == S->s[i].t
               && (!by_flow || !strcmp(S->dirs[S->s[j].flow]->label,
                                       S->dirs[S->s[i].flow]->label)))
            j++;
        long long n = (long long)(j - i);
        double sum = 0;
        for (size_t k = i; k < j; k++)
            sum += S->s[k].v;
        /* nearest rank, as the SQL: the smallest rank >= p * n */
        size_t r50 = (size_t)ceil(0.5 * (double)n), r99 = (size_t)ceil(0.99 * (double)n);
        if (res->n == res->cap) {
            res->cap = res->cap ? 2 * res->cap : 64;
            res->rows = realloc(res->rows, res->cap * sizeof *res->rows);
            if (!res->rows)
                abort();
        }
        struct vnd_rtt_row *r = &res->rows[res->n++];
        r->flow = by_flow ? xstrdup(S->dirs[S->s[i].flow]->label) : NULL;
        r->t = S->s[i].t;
        r->packets = n;
        r->mean_ms = sum / (double)n * 1000;
        r->min_ms = S->s[i].v * 1000;
        r->p50_ms = S->s[i + (r50 ? r50 - 1 : 0)].v * 1000;
        r->p99_ms = S->s[i + (r99 ? r99 - 1 : 0)].v * 1000;
        r->max_ms = S->s[j - 1].v * 1000;
        i = j;
    }
}

void vnd_rtt_result_free(struct vnd_rtt_result *res)
{
    for (size_t i = 0; i < res->n; i++)
        free(res->rows[i].flow);
    free(res->rows);
    memset(res, 0, sizeof *res);
}

int vnd_diag_rtt_step(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows, char **err)
{
    struct vnd_rtt_result res = {0};
    if (vnd_rtt_compute(c, &res, err))
        return -1;
    bool by_flow = c->o->by_flow;
    const char *cols[] = {"flow", "t", "packets", "mean_ms", "min_ms", "p50_ms", "p99_ms",
                          "max_ms"};
    vnd_rows_columns(rows, by_flow ? 8 : 7, by_flow ? cols : cols + 1);
    for (size_t i = 0; i < res.n; i++) {
        const struct vnd_rtt_row *r = &res.rows[i];
        if (by_flow)
            vnd_rows_text(rows, r->flow ? r->flow : "");
        vnd_rows_real(rows, r->t);
        vnd_rows_int(rows, r->packets);
        vnd_rows_real(rows, r->mean_ms);
        vnd_rows_real(rows, r->min_ms);
        vnd_rows_real(rows, r->p50_ms);
        vnd_rows_real(rows, r->p99_ms);
        vnd_rows_real(rows, r->max_ms);
    }
    vnd_rtt_result_free(&res);
    return 0;
}

int vnd_rtt_compute(const struct vnd_diag_ctx *c, struct vnd_rtt_result *res, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    const char *need[] = {"ts", "src_ip", "dst_ip", "src_port", "dst_port", "proto",
                          "seq", "ack", "flags", "payload_len", NULL};
    if (vnd_diag_require(c, o->table, need, err))
        return -1;
    int ok;
    double t0 = origin_of(c, &ok);
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "SELECT ts, src_ip, src_port, dst_ip, dst_port, seq, ack, flags,"
                       " payload_len FROM ");
    struct vnd_diag_opts all = *o;
    all.since = all.until = (double)NAN;
    struct vnd_diag_ctx call = {c->db, &all};
    if (vnd_diag_source(&call, &sb, o->table, true, err)) {
        vnd_sb_free(&sb);
        return -1;
    }
    vnd_sb_printf(&sb, " s WHERE proto = 6 AND seq IS NOT NULL ORDER BY ts, seq, ack");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sb.s, -1, &st, NULL) != SQLITE_OK) {
        *err = vnd_diag_errf("rtt: %s", sqlite3_errmsg(c->db));
        vnd_sb_free(&sb);
        return -1;
    }
    vnd_sb_free(&sb);
    struct state S = {0};
    int rc;
    char key[400], rkey[400];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        double ts = sqlite3_column_double(st, 0);
        const char *src = (const char *)sqlite3_column_text(st, 1);
        long long sp = sqlite3_column_int64(st, 2);
        const char *dst = (const char *)sqlite3_column_text(st, 3);
        long long dp = sqlite3_column_int64(st, 4);
        uint32_t seq = (uint32_t)sqlite3_column_int64(st, 5);
        uint32_t ack = (uint32_t)sqlite3_column_int64(st, 6);
        int flags = sqlite3_column_int(st, 7);
        int64_t len = sqlite3_column_int64(st, 8) + (flags & 1) + ((flags >> 1) & 1);
        /* NULL ports and addresses join nothing in the SQL either */
        if (!src || !dst || sqlite3_column_type(st, 2) == SQLITE_NULL
            || sqlite3_column_type(st, 4) == SQLITE_NULL)
            continue;
        snprintf(key, sizeof key, "%s|%lld|%s|%lld", src, sp, dst, dp);
        struct dir *d = lookup(&S, key, true);
        if (!d->label) {
            snprintf(rkey, sizeof rkey, "%s:%lld>%s:%lld", src, sp, dst, dp);
            d->label = xstrdup(rkey);
            snprintf(rkey, sizeof rkey, "%s|%lld|%s|%lld", dst, dp, src, sp);
            if ((d->rev = lookup(&S, rkey, false)))
                d->rev->rev = d;
        }
        /* d as a data direction */
        if (!d->have_s0) {
            d->have_s0 = 1;
            d->s0 = d->last_seq = seq;
        } else {
            d->us += seqdiff((int64_t)seq - (int64_t)d->last_seq);
            d->last_seq = seq;
        }
        if (len > 0) {
            struct seg s = {d->us + len, ts, d->any_seg && d->us < d->max_e};
            if (!d->any_seg || s.e > d->max_e)
                d->max_e = s.e;
            d->any_seg = 1;
            /* first covered before it was sent: no ACK claims it */
            if (!(d->rev && d->rev->have_a0 && s.e <= ack_ra(d, d->rev)))
                heap_push(d, s);
        }
        /* d as the sender of ACKs for rev */
        if (!(flags & 16))
            continue;
        if (!d->have_a0) {
            d->have_a0 = 1;
            d->a0 = d->last_ack = ack;
        } else {
            d->cum += seqdiff((int64_t)ack - (int64_t)d->last_ack);
            d->last_ack = ack;
            if (d->cum > d->max_cum)
                d->max_cum = d->cum;
        }
        struct dir *r = d->rev;
        if (!r || !r->nheap)
            continue;
        int64_t ra = ack_ra(r, d);
        double last = -INFINITY;
        int retx = 0, n = 0;
        while (r->nheap && r->heap[0].e <= ra) {
            struct seg s = heap_pop(r);
            last = s.ts > last ? s.ts : last;
            retx |= s.retx;
            n++;
        }
        if (!n || retx)
            continue;
        if ((!isnan(o->since) && last < o->since) || (!isnan(o->until) && last >= o->until))
            continue;
        if (S.ns == S.caps) {
            S.caps = S.caps ? 2 * S.caps : 4096;
            S.s = realloc(S.s, S.caps * sizeof *S.s);
            if (!S.s)
                abort();
        }
        struct sample *sm = &S.s[S.ns++];
        sm->flow = o->by_flow ? r->idx : 0;
        sm->t = floor((last - t0) / o->slot) * o->slot;
        sm->v = ts - last;
    }
    int ret = 0;
    if (rc != SQLITE_DONE) {
        *err = vnd_diag_errf("rtt: %s", rc == SQLITE_INTERRUPT ? "interrupted (time limit?)"
                                                              : sqlite3_errmsg(c->db));
        ret = -1;
    } else {
        aggregate(c, &S, res);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < S.n; i++) {
        free(S.dirs[i]->key);
        free(S.dirs[i]->label);
        free(S.dirs[i]->heap);
        free(S.dirs[i]);
    }
    free(S.dirs);
    free(S.tab);
    free(S.s);
    (void)ok;
    return ret;
}
