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
 * 0.2 ms.  The bottleneck is a congested hop: one that lost at least 1 in
 * 10,000 of the packets that entered it over the capture (a queue that
 * overflowed) before one that only got slower, then the one whose packets
 * waited longest beyond its quiet level (the sum over slots of its
 * processing time above it), then the one that lost more.  It became
 * one at the congested slot that best splits its series into quiet before
 * and congested after (the most quiet slots before it plus congested ones
 * from it on, each minus the other kind), provided it is congested in at
 * least half of the slots from there and in two of them at least: a lone
 * early spike does not move the onset, nor does the queue draining before
 * the capture ends.  A lossy hop became one where it first lost 0.1%
 * when that is earlier (or there is no such slot).
 *
 * On SQLite the per-point RTT comes from the rtt app's C step and the
 * table is put together in C; --show-sql prints the one statement that
 * yields the same rows (the tests compare them). */
#include "diag/diag.h"
#include "diag/plot.h"
#include "diag/step.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Each table's smallest ts, read side by side. */
struct mins {
    const struct vnd_diag_opts *o;
    double m[VND_DIAG_PATH_MAX];
    int type[VND_DIAG_PATH_MAX];            /* SQLite's type of min(ts); 0: failed */
};

static int table_min(sqlite3 *db, int i, void *vm)
{
    struct mins *M = vm;
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "SELECT min(ts) FROM ");
    vnd_sb_ident(&sb, M->o->path[i]);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sb.s, -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW) {
        M->type[i] = sqlite3_column_type(st, 0);
        M->m[i] = sqlite3_column_double(st, 0);
    }
    sqlite3_finalize(st);
    vnd_sb_free(&sb);
    return 0;
}

/* The smallest ts of the path's tables: the shared time 0.  The tables'
 * minima come side by side; when one is not a number (or its query
 * failed) the one statement of vnd_diag_origin decides, as the SQL does. */
static int path_origin(sqlite3 *db, const struct vnd_diag_opts *o, double *t0, char **err)
{
    struct mins M = {.o = o};
    vnd_diag_parallel(db, o->npath, vnd_diag_threads(), table_min, &M);
    bool numbers = true;
    *t0 = NAN;
    for (int i = 0; i < o->npath; i++) {
        if (M.type[i] == SQLITE_INTEGER || M.type[i] == SQLITE_FLOAT)
            *t0 = isnan(*t0) || M.m[i] < *t0 ? M.m[i] : *t0;
        else if (M.type[i] != SQLITE_NULL)
            numbers = false;
    }
    if (numbers) {
        if (isnan(*t0))
            *t0 = 0;    /* every table empty: any origin will do */
        return 0;
    }
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

/* A slot in which the hop lost at least 0.1% of what entered it. */
static bool slot_lossy(const struct vnd_hop_slot *s)
{
    return s->sent > 0 && s->lost * 1000 >= s->sent;
}

static int congested(const struct vnd_hop_slot *s, double base)
{
    if (slot_lossy(s))
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
    double best_excess = 0;
    long long best_lost = 0;
    bool best_lossy = false;
    for (int h = 0; h < nhops; h++) {
        const struct vnd_hop_slot *s = series[h];
        double peak = NAN;
        long long lost = 0, sent = 0;
        double *vals = malloc(((size_t)n[h] + 1) * sizeof *vals);
        if (!vals)
            abort();
        int nv = 0;
        for (int i = 0; i < n[h]; i++) {
            lost += s[i].lost;
            sent += s[i].sent;
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
        double excess = 0;
        for (int i = 0; i < n[h]; i++) {
            score += congested(&s[i], base);
            if (!isnan(s[i].proc_ms) && s[i].proc_ms > base)
                excess += s[i].proc_ms - base;
        }
        /* Delay alone also grows where a middlebox waits for a CPU (seen on
         * a loaded two-CPU bed: the re got 2.6 times slower with the
         * traffic while the ids, 40 Mbit/s for 50 asked, dropped 19 of
         * 44,903 packets): a hop whose queue overflowed comes first, and
         * among the others the longest wait, not the largest ratio. */
        bool lossy = lost > 0 && lost * 10000 >= sent;
        if (score == 0 || (best_lossy && !lossy)
            || (lossy == best_lossy
                && (excess < best_excess || (excess == best_excess && lost <= best_lost))))
            continue;
        best_excess = excess;
        best_lost = lost;
        best_lossy = lossy;
        v->hop = h;
        v->base_ms = base;
        v->peak_ms = peak;
        v->lost = lost;
        /* onset: the split into quiet before and congested after */
        v->since = NAN;
        int before = 0, after = 0, best = 0;  /* (quiet - hot) before i, (hot - quiet) from i */
        int hot_after = 0;                     /* congested slots from i on */
        for (int i = 0; i < n[h]; i++) {
            after += congested(&s[i], base) ? 1 : -1;
            hot_after += congested(&s[i], base);
        }
        for (int i = 0; i < n[h]; i++) {
            int hot = congested(&s[i], base);
            /* one congested slot left is no "from here on" (seen: the
             * last, half-empty slot of a run slower as its queue drains) */
            if (hot && after >= 0 && hot_after >= 2
                && (isnan(v->since) || before + after > best)) {
                best = before + after;
                v->since = s[i].t;
            }
            before += hot ? -1 : 1;
            after -= hot ? 1 : -1;
            hot_after -= hot;
        }
        /* A queue that overflowed once and then carried the traffic at a
         * level it already had (TCP backed off: seen on the live bed when
         * the second client joined an ids already busy with the first)
         * is never congested in half the slots after; nor is one that
         * filled again slowly to stay full only later (72 packets lost
         * when the second client joined at 6 s, the processing time at
         * its quiet level for 4 s, above it from 10 s on).  A hop ranked
         * for what it lost became the bottleneck when it first lost. */
        for (int i = 0; lossy && i < n[h]; i++)
            if (slot_lossy(&s[i])) {
                if (isnan(v->since) || s[i].t < v->since)
                    v->since = s[i].t;
                break;
            }
    }
}

/* One row of the app's result. */
struct brow {
    int hop;
    double t, rtt_from, rtt_to, proc;   /* NaN: NULL */
    long long sent, lost;
};

static double rtt_at(const struct vnd_rtt_result *r, double t)
{
    size_t lo = 0, hi = r->n;            /* rows sorted by t */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->rows[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n && r->rows[lo].t == t ? r->rows[lo].mean_ms : NAN;
}

static int cmp_t(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct lossrow {
    double t;
    long long sent, lost;
};

static int cmp_lossrow(const void *a, const void *b)
{
    const struct lossrow *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static void add_lossrow(struct lossrow **l, size_t *n, size_t *cap, double t, long long sent,
                        long long lost)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *l = realloc(*l, *cap * sizeof **l);
        if (!*l)
            abort();
    }
    (*l)[(*n)++] = (struct lossrow){t, sent, lost};
}

/* The hop's loss per slot, both directions summed (vnd_l<i> of the SQL):
 * from the loss app's C step, or its SQL when the step hands it back.
 * Sorted by t.  Returns 0 or -1 and *err. */
static int hop_loss(sqlite3 *db, const struct vnd_diag_opts *sub, struct lossrow **out,
                    size_t *nout, char **err)
{
    struct lossrow *l = NULL;
    size_t n = 0, cap = 0;
    struct vnd_diag_rows rows = {0};
    int rc = vnd_diag_run_step(&vnd_diag_loss, db, sub, &rows, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        int ct = vnd_rows_col(&rows, "t"), cp = vnd_rows_col(&rows, "packets"),
            cl = vnd_rows_col(&rows, "lost");
        for (size_t k = 0; k < vnd_rows_count(&rows); k++) {
            const struct vnd_cell *r = &rows.c[k * (size_t)rows.ncols];
            add_lossrow(&l, &n, &cap, r[ct].r, r[cp].i, r[cl].i);
        }
        vnd_rows_free(&rows);
        if (n)
            qsort(l, n, sizeof *l, cmp_lossrow);
        size_t u = 0;               /* GROUP BY t: the two directions */
        for (size_t k = 0; k < n; k++) {
            if (u && l[u - 1].t == l[k].t) {
                l[u - 1].sent += l[k].sent;
                l[u - 1].lost += l[k].lost;
            } else {
                l[u++] = l[k];
            }
        }
        *out = l;
        *nout = u;
        return 0;
    }
    char *q = vnd_diag_sql(&vnd_diag_loss, db, sub, err);
    if (!q)
        return -1;
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "SELECT t, sum(packets), sum(lost) FROM (\n%s\n) x GROUP BY t"
                       " ORDER BY t", q);
    free(q);
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, sb.s, -1, &st, NULL);
    vnd_sb_free(&sb);
    if (rc != SQLITE_OK) {
        *err = vnd_diag_errf("bottleneck: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        add_lossrow(&l, &n, &cap, sqlite3_column_double(st, 0), sqlite3_column_int64(st, 1),
                    sqlite3_column_int64(st, 2));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        *err = vnd_diag_errf("bottleneck: %s", rc == SQLITE_INTERRUPT
                                                   ? "interrupted (time limit?)"
                                                   : sqlite3_errmsg(db));
        free(l);
        return -1;
    }
    *out = l;
    *nout = n;
    return 0;
}

static void push_slot(double **slots, size_t *n, size_t *cap, double t)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        *slots = realloc(*slots, *cap * sizeof **slots);
        if (!*slots)
            abort();
    }
    (*slots)[(*n)++] = t;
}

/* The path's pieces, independent of each other: the RTT at every point and
 * the loss of every hop, computed on as many threads as there are CPUs. */
struct pieces {
    const struct vnd_diag_opts *o, *sub;
    int n;                                  /* points */
    struct vnd_rtt_result rtt[VND_DIAG_PATH_MAX];
    struct lossrow *loss[VND_DIAG_PATH_MAX];
    size_t nloss[VND_DIAG_PATH_MAX];
    char *err[2 * VND_DIAG_PATH_MAX];       /* by piece: points, then hops */
};

/* Task i: the hops first (each reads two tables), then the points. */
static int piece(sqlite3 *db, int i, void *vp)
{
    struct pieces *P = vp;
    struct vnd_diag_opts sub = *P->sub;
    if (i < P->n - 1) {
        sub.in = P->o->path[i];
        sub.out = P->o->path[i + 1];
        return hop_loss(db, &sub, &P->loss[i], &P->nloss[i], &P->err[P->n + i]);
    }
    int k = i - (P->n - 1);
    sub.table = P->o->path[k];
    struct vnd_diag_ctx c = {db, &sub};
    char *q = vnd_diag_sql(&vnd_diag_rtt, db, &sub, &P->err[k]);   /* checks columns */
    if (!q)
        return -1;
    free(q);
    return vnd_rtt_compute(&c, &P->rtt[k], &P->err[k]) ? -1 : 0;
}

/* The result table the SQL of build() yields, computed from the rtt C step
 * per point and the loss step (or SQL) per hop.  Returns 0 or -1 and *err. */
static int compute(sqlite3 *db, const struct vnd_diag_opts *o, struct brow **rows_out,
                   size_t *nrows, char **err)
{
    struct vnd_diag_opts sub = *o;
    if (isnan(sub.origin) && path_origin(db, o, &sub.origin, err))
        return -1;
    sub.by_flow = false;
    sub.list = false;
    sub.by = VND_BY_ID;
    int n = o->npath, ret = -1;
    struct pieces *P = calloc(1, sizeof *P);
    if (!P)
        abort();
    P->o = o;
    P->sub = &sub;
    P->n = n;
    struct vnd_rtt_result *rtt = P->rtt;
    struct lossrow **loss = P->loss;
    size_t *nloss = P->nloss;
    double *slots = NULL;
    size_t nslots = 0, capslots = 0;
    struct brow *rows = NULL;
    size_t nr = 0;
    if (vnd_diag_parallel(db, 2 * n - 1, vnd_diag_threads(), piece, P)) {
        for (int i = 0; i < 2 * n - 1 && !*err; i++)
            if (P->err[i]) {
                *err = P->err[i];
                P->err[i] = NULL;
            }
        if (!*err)
            *err = vnd_diag_errf("bottleneck: failed");
        goto out_free;
    }
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < rtt[i].n; k++)
            push_slot(&slots, &nslots, &capslots, rtt[i].rows[k].t);
    for (int i = 0; i + 1 < n; i++)
        for (size_t k = 0; k < nloss[i]; k++)
            push_slot(&slots, &nslots, &capslots, loss[i][k].t);
    if (nslots)
        qsort(slots, nslots, sizeof *slots, cmp_t);
    size_t u = 0;
    for (size_t k = 0; k < nslots; k++)
        if (!u || slots[k] != slots[u - 1])
            slots[u++] = slots[k];
    nslots = u;
    /* orientation, as the SQL: RTT growing along the path means +1 */
    double first = 0, last = 0;
    for (size_t k = 0; k < rtt[0].n; k++)
        first += rtt[0].rows[k].mean_ms;
    for (size_t k = 0; k < rtt[n - 1].n; k++)
        last += rtt[n - 1].rows[k].mean_ms;
    int s = rtt[0].n && rtt[n - 1].n
                && last / (double)rtt[n - 1].n >= first / (double)rtt[0].n ? 1 : -1;
    rows = calloc((size_t)(n - 1) * nslots + 1, sizeof *rows);
    if (!rows)
        abort();
    for (int i = 0; i + 1 < n; i++) {
        size_t li = 0;
        for (size_t k = 0; k < nslots; k++) {
            struct brow *r = &rows[nr++];
            r->hop = i;
            r->t = slots[k];
            r->rtt_from = rtt_at(&rtt[i], slots[k]);
            r->rtt_to = rtt_at(&rtt[i + 1], slots[k]);
            r->proc = isnan(r->rtt_from) || isnan(r->rtt_to)
                          ? NAN : (r->rtt_to - r->rtt_from) * s;
            while (li < nloss[i] && loss[i][li].t < slots[k])
                li++;
            if (li < nloss[i] && loss[i][li].t == slots[k]) {
                r->sent = loss[i][li].sent;
                r->lost = loss[i][li].lost;
            }
        }
    }
    *rows_out = rows;
    *nrows = nr;
    rows = NULL;
    ret = 0;
out_free:
    for (int i = 0; i < n; i++) {
        vnd_rtt_result_free(&rtt[i]);
        free(loss[i]);
    }
    for (int i = 0; i < 2 * n - 1; i++)
        free(P->err[i]);
    free(P);
    free(slots);
    free(rows);
    return ret;
}

int vnd_bottleneck_run(sqlite3 *db, const struct vnd_diag_opts *o, struct vnd_out *out,
                       double min_t, const struct vnd_bottleneck_plots *plots, FILE *msg,
                       struct vnd_bottleneck_verdict *v, char **err)
{
    char *sql = vnd_diag_sql(&vnd_diag_bottleneck, db, o, err);   /* checks options */
    if (!sql)
        return -1;
    free(sql);
    struct brow *rows = NULL;
    size_t nr = 0;
    if (compute(db, o, &rows, &nr, err))
        return -1;
    int nh = o->npath - 1;
    struct vnd_hop_slot *series[VND_DIAG_PATH_MAX] = {0};
    int n[VND_DIAG_PATH_MAX] = {0};
    for (int h = 0; h < nh; h++) {
        series[h] = calloc(nr / (size_t)nh + 1, sizeof *series[h]);
        if (!series[h])
            abort();
    }
    const char *names[] = {"hop", "span", "t", "rtt_from_ms", "rtt_to_ms", "proc_ms", "sent",
                           "lost", "loss_rate"};
    if (out)
        vnd_out_columns(out, 9, names);
    for (size_t k = 0; k < nr; k++) {
        const struct brow *r = &rows[k];
        int h = r->hop;
        char span[300];
        snprintf(span, sizeof span, "%s>%s", o->path[h], o->path[h + 1]);
        struct vnd_hop_slot *s = &series[h][n[h]++];
        s->t = r->t;
        s->proc_ms = r->proc;
        s->sent = r->sent;
        s->lost = r->lost;
        if (plots && plots->proc)
            vnd_plot_add(plots->proc, span, r->t, r->proc);
        if (plots && plots->loss)
            vnd_plot_add(plots->loss, span, r->t, (double)r->lost);
        if (plots && plots->rtt) {
            /* every hop carries both its points; draw each point once */
            if (h == 0)
                vnd_plot_add(plots->rtt, o->path[0], r->t, r->rtt_from);
            vnd_plot_add(plots->rtt, o->path[h + 1], r->t, r->rtt_to);
        }
        if (!out || r->t < min_t)
            continue;
        vnd_out_int(out, h);
        vnd_out_text(out, span);
        vnd_out_real(out, r->t);
        const double reals[] = {r->rtt_from, r->rtt_to, r->proc};
        for (int i = 0; i < 3; i++)
            if (isnan(reals[i]))
                vnd_out_null(out);
            else
                vnd_out_real(out, reals[i]);
        vnd_out_int(out, r->sent);
        vnd_out_int(out, r->lost);
        if (r->sent)
            vnd_out_real(out, (double)r->lost / (double)r->sent);
        else
            vnd_out_int(out, 0);
        vnd_out_end_row(out);
    }
    free(rows);
    vnd_bottleneck_judge(nh, series, n, v);
    if (msg) {
        char *text = vnd_bottleneck_verdict_text(o, v);
        fprintf(msg, "%s\n", text);
        free(text);
    }
    for (int h = 0; h < nh; h++)
        free(series[h]);
    return 0;
}

/* ms to two places, a tiny negative (a hop as fast as the clocks can
 * tell) as 0.00, not -0.00 */
static double ms2(double ms)
{
    return round(ms * 100) / 100 + 0.0;
}

char *vnd_bottleneck_verdict_text(const struct vnd_diag_opts *o,
                                  const struct vnd_bottleneck_verdict *v)
{
    if (v->hop < 0)
        return vnd_xstrdup("no bottleneck: no hop lost packets or slowed down on this path");
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "bottleneck: the hop between %s and %s", o->path[v->hop],
                  o->path[v->hop + 1]);
    if (!isnan(v->since))       /* no onset when it never stays congested */
        vnd_sb_printf(&sb, ", from t = %g s", v->since);
    const char *packets = v->lost == 1 ? "packet" : "packets";
    if (isnan(v->base_ms))      /* loss alone, no RTT samples */
        vnd_sb_printf(&sb, " (%lld %s lost there)", v->lost, packets);
    else
        vnd_sb_printf(&sb, " (processing time %.2f ms when quiet, %.2f ms at its worst;"
                      " %lld %s lost there)", ms2(v->base_ms), ms2(v->peak_ms), v->lost,
                      packets);
    return vnd_sb_take(&sb);
}

static void out_real_or_null(struct vnd_out *out, double v)
{
    if (isnan(v))
        vnd_out_null(out);
    else
        vnd_out_real(out, v);
}

void vnd_bottleneck_verdict_out(struct vnd_out *out, const struct vnd_diag_opts *o,
                                const struct vnd_bottleneck_verdict *v)
{
    static const char *const fields[] = {"hop", "span", "from", "to", "since_s", "base_ms",
                                         "peak_ms", "lost", "text"};
    vnd_out_record(out, "verdict", 9, fields);
    if (v->hop < 0) {
        for (int i = 0; i < 8; i++)
            vnd_out_null(out);
    } else {
        char span[300];         /* as the rows' span column */
        snprintf(span, sizeof span, "%s>%s", o->path[v->hop], o->path[v->hop + 1]);
        vnd_out_int(out, v->hop);
        vnd_out_text(out, span);
        vnd_out_text(out, o->path[v->hop]);
        vnd_out_text(out, o->path[v->hop + 1]);
        out_real_or_null(out, v->since);
        out_real_or_null(out, v->base_ms);
        out_real_or_null(out, v->peak_ms);
        vnd_out_int(out, v->lost);
    }
    char *text = vnd_bottleneck_verdict_text(o, v);
    vnd_out_text(out, text);
    free(text);
    vnd_out_end_row(out);
}
