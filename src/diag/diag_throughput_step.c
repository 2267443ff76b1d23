/* diag_throughput_step.c — throughput of flow records as a thin C step:
 * the rows of diag_throughput.c's SQL for a table of flow records from
 * one scan of the records, each spread over its slots here instead of
 * through SQLite's recursion and a sort of every (record, slot) (3.7 s for
 * a million records, 0.18 s of it reading them).  Each share is the
 * SQL's expression, operation for operation; the sums may add them in
 * another order (the last bits of a slot's sum). */
#include "diag/diag_sampling.h"
#include "diag/step.h"
#include "util/util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A slot far shorter than the records (a tenant's --slot 1e-6 over 5-s
 * records: five million shares each) would hold this loop and its memory
 * without bound; past these the step leaves the question to the SQL,
 * which the query guard holds to its time and memory limits. */
#define SHARES_MAX (64u << 20)          /* (record, slot) shares */
#define GROUPS_MAX (1u << 20)           /* (flow,) slots */

/* A (flow,) slot's sums, as the SQL's aggregates over its shares. */
struct acc {
    double packets, bytes, var, seen;
    int64_t records;
};

struct orow {
    const char *label;              /* by flow; NULL otherwise */
    double k;
    uint32_t g;
};

static int cmp_orow(const void *x, const void *y)
{
    const struct orow *a = x, *b = y;
    int c = vnd_cmp_text(a->label, b->label);
    if (c)
        return c;
    return a->k < b->k ? -1 : a->k > b->k;
}

static bool numeric(int type)
{
    return type == SQLITE_INTEGER || type == SQLITE_FLOAT;
}

/* The records of the options' range, as the SQL's vnd_r reads them. */
static char *scan_sql(const struct vnd_diag_ctx *c, const struct vnd_samp *sp, bool has_sq,
                      char **err)
{
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "SELECT ");
    vnd_diag_record_start(&sb, "s.");
    vnd_sb_printf(&sb, ", ");
    vnd_diag_record_end(&sb, "s.");
    vnd_sb_printf(&sb, ", coalesce(s.packets, 0), coalesce(s.bytes, 0), ");
    vnd_samp_switch_n_sql(&sb, sp, "s.ts");
    vnd_sb_printf(&sb, has_sq ? ", s.bytes_sq" : ", NULL");
    if (c->o->by_flow)
        vnd_sb_printf(&sb, ", s.src_ip, s.src_port, s.dst_ip, s.dst_port");
    vnd_sb_printf(&sb, " FROM ");
    if (vnd_diag_source(c, &sb, c->o->table, true, err)) {
        vnd_sb_free(&sb);
        return NULL;
    }
    vnd_sb_printf(&sb, " s WHERE ");
    vnd_diag_record_end(&sb, "s.");
    vnd_sb_printf(&sb, " IS NOT NULL");
    return vnd_sb_take(&sb);
}

int vnd_diag_throughput_step(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows,
                             char **err)
{
    const struct vnd_diag_opts *o = c->o;
    if (!vnd_diag_flow_records(c->db, o->table))
        return VND_DIAG_USE_SQL;         /* packets: the SQL, or the rollup's */
    const char *tables[] = {o->table, NULL};
    double t0, slot = o->slot;
    if (vnd_step_t0(c, tables, &t0, err))
        return -1;
    struct vnd_samp sp;
    vnd_samp_read(c->db, o->table, &sp);
    bool sampled = vnd_samp_packets(&sp);
    /* the sums of squares only for an interval */
    char *sql = scan_sql(c, &sp, sampled && vnd_diag_has_column(c, o->table, "bytes_sq"), err);
    vnd_samp_free(&sp);
    sqlite3_stmt *st = NULL;
    if (!sql || vnd_step_prepare(c, "throughput", sql, &st, err)) {
        free(sql);
        return -1;
    }
    free(sql);
    struct vnd_flows fl = {0};
    struct vnd_gmap m = {0};
    struct acc *a = NULL;
    size_t acap = 0;
    int rc, ret = 0;
    uint64_t shares = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < 5; i++)
            if (!numeric(sqlite3_column_type(st, i))) {
                ret = VND_DIAG_USE_SQL;      /* a value the SQL would convert */
                goto out;
            }
        double b0 = sqlite3_column_double(st, 0), b1 = sqlite3_column_double(st, 1);
        double p = sqlite3_column_double(st, 2), y = sqlite3_column_double(st, 3);
        double n = sqlite3_column_double(st, 4);
        int sqt = sqlite3_column_type(st, 5);
        if (sqt != SQLITE_NULL && !numeric(sqt)) {
            ret = VND_DIAG_USE_SQL;
            goto out;
        }
        /* the SQL's q (vnd_samp_record_q_sql) */
        double sq = sqt == SQLITE_NULL ? 0 : sqlite3_column_double(st, 5);
        double q = !(p > 0) ? 0.0 : sq > y * y / p ? sq : y * y / p;
        int flow = 0;
        if (o->by_flow && (flow = vnd_flows_row(&fl, st, 6)) < 0) {
            ret = VND_DIAG_USE_SQL;
            goto out;
        }
        double k = floor((b0 - t0) / slot), kn = floor((b1 - t0) / slot);
        /* k + 1 must be the next slot (a double counts by ones below
         * 2^52; a slot that numbers them past it is the SQL's to end) */
        if (!(fabs(k) < 0x1p52 && fabs(kn) < 0x1p52) || !(kn - k < SHARES_MAX)
            || (shares += (uint64_t)(kn - k) + 1) > SHARES_MAX) {
            ret = VND_DIAG_USE_SQL;
            goto out;
        }
        for (; k <= kn; k++) {
            double lo = t0 + k * slot, hi = t0 + (k + 1) * slot;
            double w = b1 > b0 ? ((b1 < hi ? b1 : hi) - (b0 > lo ? b0 : lo)) / (b1 - b0) : 1.0;
            if (!(w > 0))
                continue;
            uint32_t g = vnd_gmap_get(&m, vnd_dkey(k), flow, 0);
            if (g >= GROUPS_MAX) {
                ret = VND_DIAG_USE_SQL;
                goto out;
            }
            if (g >= acap) {
                size_t cap = acap ? 2 * acap : 256;
                a = vnd_xrealloc(a, cap * sizeof *a);
                memset(a + acap, 0, (cap - acap) * sizeof *a);
                acap = cap;
            }
            struct acc *s = &a[g];
            s->packets += w * p;
            s->bytes += w * y;
            s->var += (n - 1) * q * w;
            s->seen += w * y / n;
            s->records++;
        }
    }
    if (rc != SQLITE_DONE) {
        *err = vnd_step_error(c, "throughput", rc);
        ret = -1;
        goto out;
    }
    struct orow *or = vnd_xcalloc((size_t)m.n + 1, sizeof *or);
    for (uint32_t g = 0; g < m.n; g++) {
        int f = (int)m.k[3 * (size_t)g + 1];
        or[g] = (struct orow){o->by_flow ? fl.f[f].label : NULL, vnd_keyd(m.k[3 * (size_t)g]), g};
    }
    qsort(or, m.n, sizeof *or, cmp_orow);
    /* the SQL's columns: t, flow when by flow, the interval when sampled */
    const char *names[8] = {"t"};
    int nc = 1;
    if (o->by_flow)
        names[nc++] = "flow";
    names[nc++] = "packets";
    names[nc++] = "bytes";
    names[nc++] = "bps";
    if (sampled) {
        names[nc++] = "bps_low";
        names[nc++] = "bps_high";
    }
    names[nc++] = "records";
    vnd_rows_columns(rows, nc, names);
    for (uint32_t i = 0; i < m.n; i++) {
        const struct acc *s = &a[or[i].g];
        vnd_rows_real(rows, or[i].k * slot);
        if (o->by_flow)
            vnd_rows_text(rows, or[i].label);
        vnd_rows_real(rows, s->packets);
        vnd_rows_real(rows, s->bytes);
        vnd_rows_real(rows, s->bytes * 8.0 / slot);
        if (sampled) {
            double hw = 1.96 * sqrt(s->var);
            vnd_rows_real(rows, (s->bytes - hw > s->seen ? s->bytes - hw : s->seen) * 8.0 / slot);
            vnd_rows_real(rows, (s->bytes + hw) * 8.0 / slot);
        }
        vnd_rows_int(rows, s->records);
    }
    free(or);
out:
    sqlite3_finalize(st);
    free(a);
    vnd_gmap_free(&m);
    vnd_flows_free(&fl);
    return ret;
}
