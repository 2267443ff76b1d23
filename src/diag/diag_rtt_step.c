/* diag_rtt_step.c — the rtt app's thin C step: the pairing of diag_rtt.c
 * (flow/tcp_rtt.c) driven over the table's TCP rows in time order, so RTT
 * keeps up with real time on SQLite (the pure SQL sorts them four times),
 * and its samples aggregated per (flow,) slot as the SQL does. */
#include "diag/step.h"
#include "flow/tcp_rtt.h"
#include "util/util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The samples the step keeps: those of the options' range and kind, in
 * their slots. */
struct sample {
    int flow;                /* index of the data direction (by_flow) */
    double t, v;
};

struct samples {
    const struct vnd_diag_opts *o;
    double t0;
    struct sample *s;
    size_t ns, caps;
};

struct sgroup {
    const char *label;       /* by flow; NULL otherwise */
    double t;
    size_t at, n;
};

static int cmp_sgroup(const void *x, const void *y)
{
    const struct sgroup *a = x, *b = y;
    int c = vnd_cmp_text(a->label, b->label);
    if (c)
        return c;
    return a->t < b->t ? -1 : a->t > b->t;
}

/* Samples → one row per (flow,) slot, as the SQL's aggregation: grouped
 * in a hash table, each group's values sorted. */
static void aggregate(const struct vnd_diag_ctx *c, const struct vnd_flows *fl,
                      const struct samples *S, struct vnd_rtt_result *res)
{
    bool by_flow = c->o->by_flow;
    struct vnd_gmap m = {0};
    uint32_t *gof = malloc((S->ns + 1) * sizeof *gof);
    if (!gof)
        abort();
    for (size_t i = 0; i < S->ns; i++)
        gof[i] = vnd_gmap_get(&m, vnd_dkey(S->s[i].t), by_flow ? S->s[i].flow : 0, 0);
    struct sgroup *gs = calloc((size_t)m.n + 1, sizeof *gs);
    double *v = malloc((S->ns + 1) * sizeof *v);
    if (!gs || !v)
        abort();
    for (size_t i = 0; i < S->ns; i++)
        gs[gof[i]].n++;
    size_t at = 0;
    for (uint32_t g = 0; g < m.n; g++) {
        gs[g].at = at;
        at += gs[g].n;
        gs[g].n = 0;
        gs[g].t = vnd_keyd(m.k[3 * (size_t)g]);
        gs[g].label = by_flow ? fl->f[m.k[3 * (size_t)g + 1]].label : NULL;
    }
    for (size_t i = 0; i < S->ns; i++) {
        struct sgroup *g = &gs[gof[i]];
        v[g->at + g->n++] = S->s[i].v;
    }
    if (m.n)
        qsort(gs, m.n, sizeof *gs, cmp_sgroup);
    res->rows = calloc((size_t)m.n + 1, sizeof *res->rows);
    if (!res->rows)
        abort();
    res->cap = (size_t)m.n + 1;
    for (uint32_t g = 0; g < m.n; g++) {
        double st[5];
        vnd_step_stats(v + gs[g].at, gs[g].n, st);
        struct vnd_rtt_row *r = &res->rows[res->n++];
        r->flow = gs[g].label ? vnd_xstrdup(gs[g].label) : NULL;
        r->t = gs[g].t;
        r->packets = (long long)gs[g].n;
        r->mean_ms = st[0];
        r->min_ms = st[1];
        r->p50_ms = st[2];
        r->p99_ms = st[3];
        r->max_ms = st[4];
    }
    free(v);
    free(gs);
    free(gof);
    vnd_gmap_free(&m);
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


static void keep_sample(void *arg, int flow, double last, double ts, int kind)
{
    struct samples *K = arg;
    const struct vnd_diag_opts *o = K->o;
    /* its slot bounds as its slot is computed (runner.h), else its time's */
    double k = floor((last - K->t0) / o->slot);
    if (!isnan(o->since_slot) ? k < o->since_slot : !isnan(o->since) && last < o->since)
        return;
    if (!isnan(o->until_slot) ? k >= o->until_slot : !isnan(o->until) && last >= o->until)
        return;
    if (o->rtt_kind != VND_RTT_ALL && kind != vnd_rtt_kind_code(o->rtt_kind))
        return;
    if (K->ns == K->caps) {
        K->caps = K->caps ? 2 * K->caps : 4096;
        K->s = realloc(K->s, K->caps * sizeof *K->s);
        if (!K->s)
            abort();
    }
    struct sample *sm = &K->s[K->ns++];
    sm->flow = o->by_flow ? flow : 0;
    sm->t = k * o->slot;
    sm->v = ts - last;
}

/* One pass over the TCP rows.  Unordered: in table order (the order the
 * capture wrote them), which is time order for tables `vnd parse` made;
 * returns VND_DIAG_USE_SQL at the first row earlier than the one before
 * (the caller then asks SQLite to sort).  Returns 0 or -1 and *err. */
static int pass(const struct vnd_diag_ctx *c, struct vnd_rtt_machine *m, bool ids, bool sack,
                bool ordered, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "SELECT ts, src_ip, src_port, dst_ip, dst_port, seq, ack, flags,"
                       " payload_len, %s%s FROM ", ids ? VND_RTT_ID_COL : "NULL",
                  sack ? ", " VND_RTT_SACK_COL : "");
    struct vnd_diag_opts all = *o;
    vnd_diag_unbound(&all);
    struct vnd_diag_ctx call = {c->db, &all};
    if (vnd_diag_source(&call, &sb, o->table, true, err)) {
        vnd_sb_free(&sb);
        return -1;
    }
    vnd_sb_printf(&sb, " s WHERE proto = 6 AND seq IS NOT NULL%s",
                  ordered ? " ORDER BY ts, seq, ack" : "");
    sqlite3_stmt *st = NULL;
    int rc = vnd_step_prepare(c, "rtt", sb.s, &st, err);
    vnd_sb_free(&sb);
    if (rc)
        return -1;
    int ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int tt = sqlite3_column_type(st, 0);
        if (!ordered && tt != SQLITE_FLOAT && tt != SQLITE_INTEGER) {
            ret = VND_DIAG_USE_SQL;
            break;
        }
        struct vnd_rtt_in rw;
        rw.ts = sqlite3_column_double(st, 0);
        rw.flow = vnd_flows_row(vnd_rtt_machine_flows(m), st, 1);
        if (rw.flow < 0) {
            *err = vnd_diag_errf("rtt: addresses must be text and ports integers"
                                 " (columns src_ip, src_port, dst_ip, dst_port)");
            ret = -1;
            break;
        }
        rw.seq = (uint32_t)sqlite3_column_int64(st, 5);
        rw.ack_null = sqlite3_column_type(st, 6) == SQLITE_NULL;
        rw.ack = (uint32_t)sqlite3_column_int64(st, 6);
        rw.flags = sqlite3_column_int(st, 7);
        /* NULL flags or payload: the SQL's length is NULL, no segment */
        if (sqlite3_column_type(st, 7) == SQLITE_NULL
            || sqlite3_column_type(st, 8) == SQLITE_NULL)
            rw.len = 0;
        else
            rw.len = sqlite3_column_int64(st, 8) + (rw.flags & 1) + ((rw.flags >> 1) & 1);
        rw.sack = sack ? (const char *)sqlite3_column_text(st, 10) : NULL;
        rw.id_null = sqlite3_column_type(st, 9) == SQLITE_NULL;
        rw.id = sqlite3_column_int64(st, 9);
        if (vnd_rtt_machine_row(m, &rw)) {
            if (ordered) {
                *err = vnd_diag_errf("rtt: the rows are not in time order after sorting");
                ret = -1;
            } else {
                ret = VND_DIAG_USE_SQL;
            }
            break;
        }
    }
    if (!ret && rc != SQLITE_DONE) {
        *err = vnd_step_error(c, "rtt", rc);
        ret = -1;
    }
    if (!ret)
        vnd_rtt_machine_end(m);
    sqlite3_finalize(st);
    return ret;
}

int vnd_rtt_compute(const struct vnd_diag_ctx *c, struct vnd_rtt_result *res, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    const char *need[] = {"ts", "src_ip", "dst_ip", "src_port", "dst_port", "proto",
                          "seq", "ack", "flags", "payload_len", NULL};
    if (vnd_diag_require(c, o->table, need, err))
        return -1;
    const char *tables[] = {o->table, NULL};
    struct samples K = {.o = o};
    if (vnd_step_t0(c, tables, &K.t0, err))
        return -1;
    bool sack = vnd_diag_has_column(c, o->table, VND_RTT_SACK_COL);
    bool ids = vnd_diag_has_column(c, o->table, VND_RTT_ID_COL);
    struct vnd_rtt_machine *m = vnd_rtt_machine_new(ids, sack, keep_sample, &K);
    int rc = pass(c, m, ids, sack, false, err);
    if (rc == VND_DIAG_USE_SQL) {
        vnd_rtt_machine_free(m);
        K.ns = 0;
        m = vnd_rtt_machine_new(ids, sack, keep_sample, &K);
        rc = pass(c, m, ids, sack, true, err);
    }
    if (!rc)
        aggregate(c, vnd_rtt_machine_flows(m), &K, res);
    vnd_rtt_machine_free(m);
    free(K.s);
    return rc ? -1 : 0;
}
