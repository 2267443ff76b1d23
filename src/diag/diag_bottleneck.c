/* diag_bottleneck.c — `bottleneck`: which middlebox of a chain is the
 * bottleneck, and since when (paper §5.1.1, Fig. 11).
 *
 * --path lists the capture points in the order packets pass them.  The
 * SQL computes, per slot: the mean RTT at every point (the rtt app), the
 * processing time of each hop as the RTT difference of its two points
 * (oriented so that the point nearer the data sender has the larger RTT),
 * and the packets that entered each hop and were lost there (the loss app,
 * both directions).  A thin C step then judges the series: a hop is
 * congested in a slot when it loses at least 0.1% of what enters it, or
 * its processing time is at least 1.5 times its quiet level (the first
 * quartile of its slots) plus
 * 0.2 ms; the bottleneck is the hop congested in the most slots, and it
 * became one at the first congested slot after which it stays congested in
 * at least two thirds of the slots. */
#include "diag/diag.h"
#include "diag/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The smallest ts of the path's tables: the shared time 0. */
static int path_origin(sqlite3 *db, const struct vnd_diag_opts *o, double *t0, char **err)
{
    struct vnd_sb sb = {0};
    struct vnd_diag_ctx c = {db, o};
    vnd_diag_origin(&c, &sb, o->path);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sb.s, -1, &st, NULL);
    vnd_sb_free(&sb);
    if (rc != SQLITE_OK) {
        *err = vnd_diag_errf("bottleneck: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    *t0 = NAN;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *t0 = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    if (isnan(*t0))
        *t0 = 0;        /* every table empty: any origin will do */
    return 0;
}

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    struct vnd_diag_opts sub = *c->o;
    if (isnan(sub.origin) && path_origin(c->db, c->o, &sub.origin, err))
        return -1;
    sub.by_flow = false;
    sub.list = false;
    sub.by = VND_BY_ID;
    int n = c->o->npath;
    vnd_sb_printf(sb, "WITH ");
    for (int i = 0; i < n; i++) {
        sub.table = c->o->path[i];
        char *q = vnd_diag_sql(&vnd_diag_rtt, c->db, &sub, err);
        if (!q)
            return -1;
        vnd_sb_printf(sb, "%svnd_r%d AS (SELECT t, mean_ms FROM (\n%s\n) x)", i ? ",\n" : "", i, q);
        free(q);
    }
    for (int i = 0; i + 1 < n; i++) {
        sub.in = c->o->path[i];
        sub.out = c->o->path[i + 1];
        char *q = vnd_diag_sql(&vnd_diag_loss, c->db, &sub, err);
        if (!q)
            return -1;
        vnd_sb_printf(sb, ",\nvnd_l%d AS (SELECT t, sum(packets) AS sent, sum(lost) AS lost FROM (\n"
                          "%s\n) x GROUP BY t)", i, q);
        free(q);
    }
    /* orientation: +1 when RTT grows along the path (data flows against it) */
    vnd_sb_printf(sb, ",\nvnd_orient AS (SELECT CASE WHEN (SELECT avg(mean_ms) FROM vnd_r%d) >="
                      " (SELECT avg(mean_ms) FROM vnd_r0) THEN 1 ELSE -1 END AS s),\nvnd_slots AS (",
                  n - 1);
    for (int i = 0; i < n; i++)
        vnd_sb_printf(sb, "%sSELECT t FROM vnd_r%d", i ? " UNION " : "", i);
    for (int i = 0; i + 1 < n; i++)
        vnd_sb_printf(sb, " UNION SELECT t FROM vnd_l%d", i);
    vnd_sb_printf(sb, ")\n");
    for (int i = 0; i + 1 < n; i++) {
        struct vnd_sb hop = {0};
        vnd_sb_printf(&hop, "%s>%s", c->o->path[i], c->o->path[i + 1]);
        vnd_sb_printf(sb, "%sSELECT %d AS hop, ", i ? "UNION ALL\n" : "", i);
        vnd_sb_str(sb, hop.s);
        vnd_sb_free(&hop);
        vnd_sb_printf(sb, " AS span, vnd_slots.t, a.mean_ms AS rtt_from_ms, b.mean_ms AS"
                          " rtt_to_ms,\n"
                          "       (b.mean_ms - a.mean_ms) * vnd_orient.s AS proc_ms,"
                          " coalesce(l.sent, 0) AS sent, coalesce(l.lost, 0) AS lost,\n"
                          "       coalesce(l.lost * 1.0 / l.sent, 0) AS loss_rate\n"
                          "FROM vnd_slots CROSS JOIN vnd_orient LEFT JOIN vnd_r%d a ON a.t = vnd_slots.t"
                          " LEFT JOIN vnd_r%d b ON b.t = vnd_slots.t\n"
                          "  LEFT JOIN vnd_l%d l ON l.t = vnd_slots.t\n",
                      i, i + 1, i);
    }
    vnd_sb_printf(sb, "ORDER BY 1, 3");
    return 0;
}

const struct vnd_diag_app vnd_diag_bottleneck = {
    .name = "bottleneck",
    .summary = "per-hop processing time and loss along a path; names the bottleneck",
    .usage = "--path T1,T2,T3 (capture points in path order) [--slot S] [--window S]",
    .need = VND_NEED_PATH,
    .timed = true,
    .build = build,
};

/* ---- the verdict ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int congested(const struct vnd_hop_slot *s, double base)
{
    if (s->sent > 0 && s->lost * 1000 >= s->sent)
        return 1;
    return !isnan(s->proc_ms) && !isnan(base) && s->proc_ms >= 1.5 * base + 0.2;
}

void vnd_bottleneck_judge(int nhops, struct vnd_hop_slot *const *series, const int *n,
                          struct vnd_bottleneck_verdict *v)
{
    v->hop = -1;
    v->since = NAN;
    v->base_ms = v->peak_ms = NAN;
    v->lost = 0;
    int best_score = 0;
    long long best_lost = 0;
    for (int h = 0; h < nhops; h++) {
        const struct vnd_hop_slot *s = series[h];
        double peak = NAN;
        long long lost = 0;
        double *vals = malloc(((size_t)n[h] + 1) * sizeof *vals);
        if (!vals)
            abort();
        int nv = 0;
        for (int i = 0; i < n[h]; i++) {
            lost += s[i].lost;
            if (isnan(s[i].proc_ms))
                continue;
            vals[nv++] = s[i].proc_ms;
            if (isnan(peak) || s[i].proc_ms > peak)
                peak = s[i].proc_ms;
        }
        /* the quiet level: the first quartile of the slots, so a few odd
         * slots (the last, half-empty one) do not set it */
        qsort(vals, (size_t)nv, sizeof *vals, cmp_double);
        double base = nv ? vals[(nv - 1) / 4] : NAN;
        free(vals);
        /* a negative floor is noise around zero processing time */
        if (!isnan(base) && base < 0)
            base = 0;
        int score = 0;
        for (int i = 0; i < n[h]; i++)
            score += congested(&s[i], base);
        if (score == 0 || score < best_score || (score == best_score && lost <= best_lost))
            continue;
        best_score = score;
        best_lost = lost;
        v->hop = h;
        v->base_ms = base;
        v->peak_ms = peak;
        v->lost = lost;
        /* onset: first congested slot that stays congested mostly */
        v->since = NAN;
        for (int i = 0; i < n[h] && isnan(v->since); i++) {
            if (!congested(&s[i], base))
                continue;
            int hot = 0;
            for (int j = i; j < n[h]; j++)
                hot += congested(&s[j], base);
            if (3 * hot >= 2 * (n[h] - i))
                v->since = s[i].t;
        }
    }
}

int vnd_bottleneck_run(sqlite3 *db, const struct vnd_diag_opts *o, struct vnd_out *out,
                       double min_t, const struct vnd_bottleneck_plots *plots, FILE *msg,
                       struct vnd_bottleneck_verdict *v, char **err)
{
    char *sql = vnd_diag_sql(&vnd_diag_bottleneck, db, o, err);
    if (!sql)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        *err = vnd_diag_errf("bottleneck: SQL does not prepare: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    int nh = o->npath - 1;
    struct vnd_hop_slot *series[VND_DIAG_PATH_MAX] = {0};
    int n[VND_DIAG_PATH_MAX] = {0}, cap[VND_DIAG_PATH_MAX] = {0};
    int ncol = sqlite3_column_count(st);
    const char *names[16];
    for (int i = 0; i < ncol && i < 16; i++)
        names[i] = sqlite3_column_name(st, i);
    if (out)
        vnd_out_columns(out, ncol, names);
    int ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int h = sqlite3_column_int(st, 0);
        if (h >= 0 && h < nh) {
            if (n[h] == cap[h]) {
                cap[h] = cap[h] ? 2 * cap[h] : 64;
                series[h] = realloc(series[h], (size_t)cap[h] * sizeof *series[h]);
                if (!series[h])
                    abort();
            }
            struct vnd_hop_slot *s = &series[h][n[h]++];
            s->t = sqlite3_column_double(st, 2);
            s->proc_ms = sqlite3_column_type(st, 5) == SQLITE_NULL
                             ? NAN : sqlite3_column_double(st, 5);
            s->sent = sqlite3_column_int64(st, 6);
            s->lost = sqlite3_column_int64(st, 7);
        }
        double t = sqlite3_column_double(st, 2);
        const char *span = (const char *)sqlite3_column_text(st, 1);
        if (plots && plots->proc && sqlite3_column_type(st, 5) != SQLITE_NULL)
            vnd_plot_add(plots->proc, span, t, sqlite3_column_double(st, 5));
        if (plots && plots->loss)
            vnd_plot_add(plots->loss, span, t, (double)sqlite3_column_int64(st, 7));
        if (plots && plots->rtt && h >= 0 && h < nh) {
            /* every hop carries both its points; draw each point once */
            if (h == 0 && sqlite3_column_type(st, 3) != SQLITE_NULL)
                vnd_plot_add(plots->rtt, o->path[0], t, sqlite3_column_double(st, 3));
            if (sqlite3_column_type(st, 4) != SQLITE_NULL)
                vnd_plot_add(plots->rtt, o->path[h + 1], t, sqlite3_column_double(st, 4));
        }
        if (!out || t < min_t)
            continue;
        for (int i = 0; i < ncol; i++)
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER: vnd_out_int(out, sqlite3_column_int64(st, i)); break;
            case SQLITE_FLOAT: vnd_out_real(out, sqlite3_column_double(st, i)); break;
            case SQLITE_NULL: vnd_out_null(out); break;
            default: vnd_out_text(out, (const char *)sqlite3_column_text(st, i)); break;
            }
        vnd_out_end_row(out);
    }
    if (rc != SQLITE_DONE) {
        *err = vnd_diag_errf("bottleneck: %s", rc == SQLITE_INTERRUPT
                                                   ? "interrupted (time limit?)"
                                                   : sqlite3_errmsg(db));
        ret = -1;
    }
    sqlite3_finalize(st);
    if (!ret) {
        vnd_bottleneck_judge(nh, series, n, v);
        if (msg && v->hop < 0)
            fprintf(msg, "no bottleneck: no hop lost packets or slowed down on this path\n");
        else if (msg)
            fprintf(msg,
                    "bottleneck: the hop between %s and %s, from t = %g s: processing time"
                    " %.2f ms when quiet, %.2f ms at its worst; %lld packets lost there\n",
                    o->path[v->hop], o->path[v->hop + 1], v->since, v->base_ms, v->peak_ms,
                    v->lost);
    }
    for (int h = 0; h < nh; h++)
        free(series[h]);
    return ret;
}
