/* diag_pairs_step.c — the thin C step of delay, loss and correlate (by id
 * or payload): what vnd_diag_pairs' SQL and the apps around it compute,
 * from one plain SELECT of each table.
 *
 * Without indexes (the tenant's connection cannot make any) SQLite builds
 * an automatic index on every run and probes it per row.  Here each table
 * is read once; its rows are grouped by key (id or payload hash) in a
 * hash table and sorted by time within a group, so every row finds the
 * other table's rows of its key within --window in one sweep, as the
 * SQL's join does: `po.k = pi.k AND po.ts BETWEEN pi.ts - w AND pi.ts + w`.
 * Per (key, ts) of each side the nearest row of the other (ties: earlier,
 * then the smaller tuples, as the SQL's ORDER BY); a pair is kept unless
 * its far end is nearer still to a row of another flow.  The tests
 * compare the rows with the SQL's through `vnd query`. */
#include "diag/step.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct side {
    uint32_t n, cap;
    double *ts;
    int64_t *k;
    unsigned char *has;             /* k not NULL */
    int32_t *flow;
    struct vnd_keyidx idx;
};

struct pair {
    uint32_t i, o;
    double d;                       /* o.ts - i.ts */
};

struct pairs_state {
    const struct vnd_diag_ctx *c;
    const char *app;
    struct vnd_flows flows;
    struct side s[2];               /* in, out */
    struct pair *p;
    size_t np, capp;
    uint32_t *rep[2], *best[2];     /* per row of in, out: see nearest() */
    /* late_prepare: per row of each side, whether it is no end of a pair
     * (free); per position of its key index, the next free one of its
     * group at or after it (NONE: none) */
    unsigned char *free_row[2];
    uint32_t *next_free[2];
    double t0;
};

#define NONE UINT32_MAX

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

/* Reads one table's rows as vnd_diag_pairs' vnd_pi / vnd_po select them.
 * Returns 0, -1 (*err) or VND_DIAG_USE_SQL. */
static int read_side(struct pairs_state *S, struct side *sd, const char *table, char **err)
{
    const struct vnd_diag_ctx *c = S->c;
    bool payload = c->o->by == VND_BY_PAYLOAD;
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "SELECT ts, %s, src_ip, src_port, dst_ip, dst_port FROM ",
                  payload ? "payload_hash" : "id");
    if (vnd_diag_source(c, &sb, table, true, err)) {
        vnd_sb_free(&sb);
        return -1;
    }
    vnd_sb_printf(&sb, " s WHERE %s", payload ? "payload_len > 0" : "id IS NOT NULL");
    sqlite3_stmt *st = NULL;
    int rc = vnd_step_prepare(c, S->app, sb.s, &st, err);
    vnd_sb_free(&sb);
    if (rc)
        return -1;
    int ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int tt = sqlite3_column_type(st, 0), tk = sqlite3_column_type(st, 1);
        int f = vnd_flows_row(&S->flows, st, 2);
        /* NULL or text times, non-integer keys: the SQL's comparisons */
        if ((tt != SQLITE_FLOAT && tt != SQLITE_INTEGER)
            || (tk != SQLITE_INTEGER && tk != SQLITE_NULL) || f < 0) {
            ret = VND_DIAG_USE_SQL;
            break;
        }
        if (sd->n == UINT32_MAX - 1) {
            *err = vnd_diag_errf("%s: more than 2^32 rows in %s", S->app, table);
            ret = -1;
            break;
        }
        if (sd->n == sd->cap) {
            sd->cap = sd->cap ? 2 * sd->cap : 65536;
            sd->ts = xrealloc(sd->ts, sd->cap * sizeof *sd->ts);
            sd->k = xrealloc(sd->k, sd->cap * sizeof *sd->k);
            sd->has = xrealloc(sd->has, sd->cap * sizeof *sd->has);
            sd->flow = xrealloc(sd->flow, sd->cap * sizeof *sd->flow);
        }
        uint32_t i = sd->n++;
        sd->ts[i] = sqlite3_column_double(st, 0);
        sd->has[i] = tk == SQLITE_INTEGER;
        sd->k[i] = sd->has[i] ? sqlite3_column_int64(st, 1) : 0;
        sd->flow[i] = f;
        if (isnan(sd->ts[i])) {
            ret = VND_DIAG_USE_SQL;
            break;
        }
    }
    if (!ret && rc != SQLITE_DONE) {
        *err = vnd_step_error(c, S->app, rc);
        ret = -1;
    }
    sqlite3_finalize(st);
    if (!ret)
        vnd_keyidx_build(&sd->idx, sd->k, sd->has, sd->ts, sd->n);
    return ret;
}

static void push_pair(struct pairs_state *S, uint32_t i, uint32_t o, double d)
{
    if (S->np == S->capp) {
        S->capp = S->capp ? 2 * S->capp : 65536;
        S->p = xrealloc(S->p, S->capp * sizeof *S->p);
    }
    S->p[S->np++] = (struct pair){i, o, d};
}

/* For every row of side `from` (a): rep, the row of smallest tuple among
 * a's rows of its key and time (they cannot be told apart), and best, the
 * row of the other side (b) its run would pair with: the nearest of b's
 * rows with its key within the window, ties to the earlier, then the
 * smaller tuple (NONE: none).  The same rule both ways: the SQL's two
 * row_number()s. */
static void nearest(struct pairs_state *S, int from)
{
    const struct side *a = &S->s[from], *b = &S->s[1 - from];
    double w = S->c->o->window;
    uint32_t *rep = S->rep[from] = xrealloc(NULL, (a->n + 1) * sizeof(uint32_t));
    uint32_t *best = S->best[from] = xrealloc(NULL, (a->n + 1) * sizeof(uint32_t));
    for (uint32_t r = 0; r < a->n; r++)
        rep[r] = best[r] = NONE;
    for (uint32_t g = 0; g < a->idx.ngroups; g++) {
        const uint32_t *ar = a->idx.rows + a->idx.start[g];
        uint32_t am = a->idx.start[g + 1] - a->idx.start[g];
        int64_t bg = vnd_keyidx_find(&b->idx, a->idx.keys[g]);
        const uint32_t *br = NULL;
        uint32_t bm = 0, lo = 0;
        if (bg >= 0) {
            br = b->idx.rows + b->idx.start[bg];
            bm = b->idx.start[bg + 1] - b->idx.start[bg];
        }
        for (uint32_t x = 0; x < am;) {
            double ts = a->ts[ar[x]];
            uint32_t y = x + 1, first = ar[x];
            while (y < am && a->ts[ar[y]] == ts) {
                if (vnd_flows_cmp_tuple(&S->flows, a->flow[ar[y]], a->flow[first]) < 0)
                    first = ar[y];
                y++;
            }
            /* the SQL's one test, po.ts BETWEEN pi.ts - w AND pi.ts + w,
             * both ways (rounded alike) */
            while (lo < bm && (from == 0 ? b->ts[br[lo]] < ts - w : b->ts[br[lo]] + w < ts))
                lo++;
            uint32_t pick = NONE;
            double pd = 0;
            for (uint32_t j = lo;
                 j < bm && (from == 0 ? b->ts[br[j]] <= ts + w : b->ts[br[j]] - w <= ts); j++) {
                uint32_t o = br[j];
                double ad = fabs(b->ts[o] - ts);
                if (pick != NONE) {
                    if (ad > pd)
                        continue;
                    if (ad == pd) {
                        if (b->ts[o] > b->ts[pick])
                            continue;
                        if (b->ts[o] == b->ts[pick]
                            && vnd_flows_cmp_tuple(&S->flows, b->flow[o], b->flow[pick]) >= 0)
                            continue;
                    }
                }
                pick = o;
                pd = ad;
            }
            for (uint32_t k = x; k < y; k++) {
                rep[ar[k]] = first;
                best[ar[k]] = pick;
            }
            x = y;
        }
    }
}

/* Whether row r of side `s` is an end of a pair: the row it picked is not
 * nearer still to a row of another flow on r's side, whose copy it is. */
static bool paired(const struct pairs_state *S, int s, uint32_t r)
{
    uint32_t o = S->best[s][r];
    if (o == NONE)
        return false;
    /* r's run is among o's candidates (both sweeps test one predicate):
     * checked all the same, so that no disagreement reads out of bounds */
    uint32_t back = S->best[1 - s][o];
    return back != NONE && S->s[s].flow[back] == S->s[s].flow[S->rep[s][r]];
}

/* vnd_pairs: per (key, ts) of --in, its nearest out-row, unless that is
 * nearer still to an in-row of another flow: a packet the hop dropped
 * cannot take the place of another flow's packet that left with the same
 * key (a UDP flow's 16-bit IP ID meets another's often enough).  Rows of
 * one flow with one key (pure ACKs whose IP ID is 0) are not told apart. */
static void make_pairs(struct pairs_state *S)
{
    const struct side *in = &S->s[0], *out = &S->s[1];
    nearest(S, 0);
    nearest(S, 1);
    for (uint32_t k = 0; k < in->idx.start[in->idx.ngroups]; k++) {
        uint32_t i = in->idx.rows[k];
        if (S->rep[0][i] == i && paired(S, 0, i)) {
            uint32_t o = S->best[0][i];
            push_pair(S, i, o, out->ts[o] - in->ts[i]);
        }
    }
}

static int load(struct pairs_state *S, const struct vnd_diag_ctx *c, const char *app,
                char **err)
{
    memset(S, 0, sizeof *S);
    S->c = c;
    S->app = app;
    const char *tables[] = {c->o->in, c->o->out, NULL};
    if (vnd_step_t0(c, tables, &S->t0, err))
        return -1;
    int rc = read_side(S, &S->s[0], c->o->in, err);
    if (!rc)
        rc = read_side(S, &S->s[1], c->o->out, err);
    if (!rc)
        make_pairs(S);
    return rc;
}

static void side_free(struct side *sd)
{
    free(sd->ts);
    free(sd->k);
    free(sd->has);
    free(sd->flow);
    vnd_keyidx_free(&sd->idx);
}

static void unload(struct pairs_state *S)
{
    side_free(&S->s[0]);
    side_free(&S->s[1]);
    free(S->p);
    for (int s = 0; s < 2; s++) {
        free(S->rep[s]);
        free(S->best[s]);
        free(S->free_row[s]);
        free(S->next_free[s]);
    }
    vnd_flows_free(&S->flows);
}

/* "IN>OUT" (dirn 0) and "OUT>IN" (1), and which sorts first. */
struct dirs {
    char *name[2];
    int first;
};

static void dirs_init(struct dirs *d, const struct vnd_diag_opts *o)
{
    struct vnd_sb a = {0}, b = {0};
    vnd_sb_printf(&a, "%s>%s", o->in, o->out);
    vnd_sb_printf(&b, "%s>%s", o->out, o->in);
    d->name[0] = vnd_sb_take(&a);
    d->name[1] = vnd_sb_take(&b);
    d->first = strcmp(d->name[0], d->name[1]) <= 0 ? 0 : 1;
}

static void dirs_free(struct dirs *d)
{
    free(d->name[0]);
    free(d->name[1]);
}

/* ---- delay ---- */

struct dgroup {
    int dir;
    const char *flow;               /* its label; NULL: NULL or not by flow */
    double t;
    uint32_t n, at;
    int64_t late;                   /* left later than --window: no delay */
};

static _Thread_local const struct dirs *sort_dirs;

static int cmp_dgroup(const void *x, const void *y)
{
    const struct dgroup *a = x, *b = y;
    if (a->dir != b->dir)
        return a->dir == sort_dirs->first ? -1 : 1;
    int c = vnd_cmp_text(a->flow, b->flow);
    if (c)
        return c;
    return a->t < b->t ? -1 : a->t > b->t;
}

/* What vnd_diag_late's SQL asks, for every row at once.  An in-row is free
 * when no pair starts at it (its key and time are no i_ts of vnd_pairs);
 * an out-row when no pair ends at its key and time (no o_ts): each pair
 * marks its out-row and the rows of its key beside it at the same time,
 * once.  Linear, where asking per row would scan a key's rows each time
 * (pure ACKs with IP ID 0 make a key of thousands). */
static void late_prepare(struct pairs_state *S)
{
    const struct side *in = &S->s[0], *out = &S->s[1];
    for (int s = 0; s < 2; s++)
        S->free_row[s] = xrealloc(NULL, S->s[s].n + 1);
    for (uint32_t i = 0; i < in->n; i++)
        S->free_row[0][i] = !paired(S, 0, i);
    memset(S->free_row[1], 1, out->n + 1);
    const struct vnd_keyidx *ox = &out->idx;
    uint32_t npos = ox->start[ox->ngroups];
    uint32_t *pos = xrealloc(NULL, (out->n + 1) * sizeof *pos);
    for (uint32_t p = 0; p < npos; p++)
        pos[ox->rows[p]] = p;
    /* the rows beside o of its key and time: positions are by (key, ts),
     * so the run ends where either changes */
#define SAME(q) (out->k[ox->rows[q]] == out->k[o] && out->ts[ox->rows[q]] == out->ts[o])
    for (uint32_t i = 0; i < in->n; i++) {
        if (!paired(S, 0, i))
            continue;
        uint32_t o = S->best[0][i];
        if (!S->free_row[1][o])
            continue;                   /* its time's rows are marked */
        uint32_t p = pos[o];
        for (uint32_t q = p; q > 0 && SAME(q - 1); q--)
            S->free_row[1][ox->rows[q - 1]] = 0;
        for (uint32_t q = p; q < npos && SAME(q); q++)
            S->free_row[1][ox->rows[q]] = 0;
    }
#undef SAME
    free(pos);
    for (int s = 0; s < 2; s++) {
        const struct vnd_keyidx *x = &S->s[s].idx;
        uint32_t n = x->start[x->ngroups];
        uint32_t *nf = S->next_free[s] = xrealloc(NULL, (n + 1) * sizeof *nf);
        for (uint32_t g = 0; g < x->ngroups; g++) {
            uint32_t next = NONE;
            for (uint32_t p = x->start[g + 1]; p-- > x->start[g];) {
                if (S->free_row[s][x->rows[p]])
                    next = p;
                nf[p] = next;
            }
        }
    }
}

/* vnd_diag_late's rule (late_prepare first): whether row r of side s,
 * entered there and no end of a pair, left all the same later than
 * --window: the other side has a free row of its key after that.  A
 * key's rows are in time order. */
static bool left_late(const struct pairs_state *S, int s, uint32_t r)
{
    const struct side *a = &S->s[s], *b = &S->s[1 - s];
    if (!a->has[r])
        return false;
    int64_t g = vnd_keyidx_find(&b->idx, a->k[r]);
    if (g < 0)
        return false;
    double after = a->ts[r] + S->c->o->window;
    uint32_t lo = b->idx.start[g], hi = b->idx.start[g + 1];
    while (lo < hi) {                   /* the first row past `after` */
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->ts[b->idx.rows[mid]] > after)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < b->idx.start[g + 1] && S->next_free[1 - s][lo] != NONE;
}

/* delay's groups (slot, flow, direction) as they are met */
struct dgroups {
    const struct pairs_state *S;
    double slot;
    bool by_flow;
    struct vnd_gmap m;
    struct dgroup *gs;
    size_t capg;
};

/* The group of the packet that entered at row `row` of side `dir`. */
static uint32_t dgroup_of(struct dgroups *G, int dir, uint32_t row)
{
    const struct pairs_state *S = G->S;
    double t = vnd_step_slot(S->s[dir].ts[row], S->t0, G->slot);
    int flow = G->by_flow ? S->s[dir].flow[row] : -1;
    /* NULL labels are one group, as in the SQL's GROUP BY flow */
    if (flow >= 0 && !S->flows.f[flow].label)
        flow = -1;
    uint32_t g = vnd_gmap_get(&G->m, vnd_dkey(t), flow, dir);
    if (g >= G->capg) {
        G->capg = G->capg ? 2 * G->capg : 256;
        G->gs = xrealloc(G->gs, G->capg * sizeof *G->gs);
    }
    return g;
}

int vnd_diag_delay_step(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows, char **err)
{
    struct pairs_state S;
    int rc = load(&S, c, "delay", err);
    if (rc) {
        unload(&S);
        return rc;
    }
    bool by_flow = c->o->by_flow;
    late_prepare(&S);
    struct dgroups G = {&S, c->o->slot, by_flow, {0}, NULL, 0};
    uint32_t *gof = xrealloc(NULL, (S.np + 1) * sizeof *gof);
    /* each pair under the side it entered from */
    for (size_t k = 0; k < S.np; k++) {
        int dir = S.p[k].d >= 0 ? 0 : 1;
        gof[k] = dgroup_of(&G, dir, dir == 0 ? S.p[k].i : S.p[k].o);
    }
    /* and each late packet, under the side it entered from */
    uint32_t *lof = NULL;
    size_t nl = 0, capl = 0;
    for (int dir = 0; dir < 2; dir++)
        for (uint32_t row = 0; row < S.s[dir].n; row++) {
            if (!S.free_row[dir][row] || !left_late(&S, dir, row))
                continue;
            if (nl == capl) {
                capl = capl ? 2 * capl : 64;
                lof = xrealloc(lof, capl * sizeof *lof);
            }
            lof[nl++] = dgroup_of(&G, dir, row);
        }
    struct vnd_gmap m = G.m;
    struct dgroup *gs = G.gs;
    for (uint32_t g = 0; g < m.n; g++) {
        const int64_t *key = &m.k[3 * (size_t)g];
        gs[g] = (struct dgroup){(int)key[2], key[1] >= 0 ? S.flows.f[key[1]].label : NULL,
                                vnd_keyd(key[0]), 0, 0, 0};
    }
    for (size_t k = 0; k < S.np; k++)
        gs[gof[k]].n++;
    for (size_t k = 0; k < nl; k++)
        gs[lof[k]].late++;
    free(lof);
    uint32_t at = 0;
    for (uint32_t g = 0; g < m.n; g++) {
        gs[g].at = at;
        at += gs[g].n;
        gs[g].n = 0;
    }
    double *v = xrealloc(NULL, (S.np + 1) * sizeof *v);
    for (size_t k = 0; k < S.np; k++) {
        struct dgroup *g = &gs[gof[k]];
        v[g->at + g->n++] = fabs(S.p[k].d);
    }
    struct dirs dn;
    dirs_init(&dn, c->o);
    sort_dirs = &dn;
    if (m.n)
        qsort(gs, m.n, sizeof *gs, cmp_dgroup);
    const char *cols[] = {"dir", "flow", "t", "packets", "mean_ms", "min_ms", "p50_ms",
                          "p99_ms", "max_ms", "late"};
    const char *cols_nf[] = {"dir", "t", "packets", "mean_ms", "min_ms", "p50_ms", "p99_ms",
                             "max_ms", "late"};
    if (by_flow)
        vnd_rows_columns(rows, 10, cols);
    else
        vnd_rows_columns(rows, 9, cols_nf);
    for (uint32_t k = 0; k < m.n; k++) {
        const struct dgroup *g = &gs[k];
        vnd_rows_text(rows, dn.name[g->dir]);
        if (by_flow)
            vnd_rows_text(rows, g->flow);
        vnd_rows_real(rows, g->t);
        vnd_rows_int(rows, g->n);
        if (g->n) {
            double st[5];
            vnd_step_stats(v + g->at, g->n, st);
            for (int i = 0; i < 5; i++)
                vnd_rows_real(rows, st[i]);
        } else {
            for (int i = 0; i < 5; i++)     /* late packets alone: NULL, as avg() */
                vnd_rows_text(rows, NULL);
        }
        vnd_rows_int(rows, g->late);
    }
    sort_dirs = NULL;
    dirs_free(&dn);
    free(v);
    free(gs);
    free(gof);
    vnd_gmap_free(&m);
    unload(&S);
    return 0;
}

/* ---- loss ---- */

struct lgroup {
    double t;
    int dir;
    int64_t packets, lost, late;
};

static int cmp_lgroup(const void *x, const void *y)
{
    const struct lgroup *a = x, *b = y;
    if (a->dir != b->dir)
        return a->dir == sort_dirs->first ? -1 : 1;
    return a->t < b->t ? -1 : a->t > b->t;
}

/* +1: the flow travels in→out by its pairs; -1 the other way; 0: no pairs */
static int orientation(struct pairs_state *S, const int64_t *sum, const unsigned char *has,
                       int f)
{
    if (has[f])
        return sum[f] >= 0 ? 1 : -1;
    int r = vnd_flows_rev(&S->flows, f);
    if (r >= 0 && has[r])
        return sum[r] >= 0 ? -1 : 1;
    return 1;
}

int vnd_diag_loss_step(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows, char **err)
{
    if (c->o->list)
        return VND_DIAG_USE_SQL;    /* the lost packets themselves: few rows, the SQL */
    struct pairs_state S;
    int rc = load(&S, c, "loss", err);
    if (rc) {
        unload(&S);
        return rc;
    }
    late_prepare(&S);
    size_t nf = (size_t)S.flows.n + 1;
    int64_t *sum[2] = {calloc(nf, sizeof(int64_t)), calloc(nf, sizeof(int64_t))};
    unsigned char *has[2] = {calloc(nf, 1), calloc(nf, 1)};
    if (!sum[0] || !sum[1] || !has[0] || !has[1])
        abort();
    for (size_t k = 0; k < S.np; k++) {
        int s = S.p[k].d >= 0 ? 1 : -1;
        int fi = S.s[0].flow[S.p[k].i], fo = S.s[1].flow[S.p[k].o];
        sum[0][fi] += s;
        has[0][fi] = 1;
        sum[1][fo] += s;
        has[1][fo] = 1;
    }
    /* per flow, memoised: does it enter on this side? */
    signed char *enters[2] = {calloc(nf, 1), calloc(nf, 1)};
    if (!enters[0] || !enters[1])
        abort();
    struct vnd_gmap m = {0};
    struct lgroup *gs = NULL;
    size_t capg = 0;
    /* judged: entered at least --window before the other side's rows were
     * last stored (NaN, unknown: every packet), as the SQL's x.ts + w <= until */
    double w = c->o->window;
    double until[2] = {vnd_diag_stored(c, 1), vnd_diag_stored(c, 0)};
    for (int side = 0; side < 2; side++) {
        const struct side *x = &S.s[side];
        int want = side == 0 ? 1 : -1;
        for (uint32_t i = 0; i < x->n; i++) {
            if (x->ts[i] + w > until[side])
                continue;
            int f = x->flow[i];
            if (!enters[side][f])
                enters[side][f] = orientation(&S, sum[side], has[side], f) == want ? 1 : -1;
            if (enters[side][f] < 0)
                continue;
            double t = vnd_step_slot(x->ts[i], S.t0, c->o->slot);
            uint32_t before = m.n;
            uint32_t g = vnd_gmap_get(&m, vnd_dkey(t), side, 0);
            if (g >= capg) {
                capg = capg ? 2 * capg : 256;
                gs = xrealloc(gs, capg * sizeof *gs);
            }
            if (m.n != before)
                gs[g] = (struct lgroup){t, side, 0, 0, 0};
            gs[g].packets++;
            if (!paired(&S, side, i)) {
                if (left_late(&S, side, i))
                    gs[g].late++;
                else
                    gs[g].lost++;
            }
        }
    }
    struct dirs dn;
    dirs_init(&dn, c->o);
    sort_dirs = &dn;
    if (m.n)
        qsort(gs, m.n, sizeof *gs, cmp_lgroup);
    sort_dirs = NULL;
    const char *cols[] = {"t", "dir", "packets", "lost", "late", "loss_rate"};
    vnd_rows_columns(rows, 6, cols);
    for (uint32_t k = 0; k < m.n; k++) {
        vnd_rows_real(rows, gs[k].t);
        vnd_rows_text(rows, dn.name[gs[k].dir]);
        vnd_rows_int(rows, gs[k].packets);
        vnd_rows_int(rows, gs[k].lost);
        vnd_rows_int(rows, gs[k].late);
        vnd_rows_real(rows, (double)gs[k].lost * 1.0 / (double)gs[k].packets);
    }
    dirs_free(&dn);
    free(gs);
    vnd_gmap_free(&m);
    for (int i = 0; i < 2; i++) {
        free(sum[i]);
        free(has[i]);
        free(enters[i]);
    }
    unload(&S);
    return 0;
}

/* ---- correlate ---- */

struct cgroup {
    int fi, fo;
    int64_t packets;
    double first, last, sum;
};

static _Thread_local const struct vnd_flows *sort_flows;
static _Thread_local double sort_t0;

static int cmp_cgroup(const void *x, const void *y)
{
    const struct cgroup *a = x, *b = y;
    double fa = a->first - sort_t0, fb = b->first - sort_t0;
    if (fa != fb)
        return fa < fb ? -1 : 1;
    int c = vnd_flows_cmp_label(sort_flows, a->fi, b->fi);
    return c ? c : vnd_flows_cmp_label(sort_flows, a->fo, b->fo);
}

int vnd_diag_correlate_step(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows,
                            char **err)
{
    if (c->o->by == VND_BY_ORDER)
        return VND_DIAG_USE_SQL;    /* connections, not packets: a small GROUP BY */
    struct pairs_state S;
    int rc = load(&S, c, "correlate", err);
    if (rc) {
        unload(&S);
        return rc;
    }
    struct vnd_gmap m = {0};
    struct cgroup *gs = NULL;
    size_t capg = 0;
    for (size_t k = 0; k < S.np; k++) {
        const struct pair *p = &S.p[k];
        int fi = S.s[0].flow[p->i], fo = S.s[1].flow[p->o];
        double its = S.s[0].ts[p->i];
        uint32_t before = m.n;
        uint32_t g = vnd_gmap_get(&m, fi, fo, 0);
        if (g >= capg) {
            capg = capg ? 2 * capg : 256;
            gs = xrealloc(gs, capg * sizeof *gs);
        }
        struct cgroup *cg = &gs[g];
        if (m.n != before)
            *cg = (struct cgroup){fi, fo, 0, its, its, 0};
        cg->packets++;
        cg->first = its < cg->first ? its : cg->first;
        cg->last = its > cg->last ? its : cg->last;
        cg->sum += fabs(p->d);
    }
    sort_flows = &S.flows;
    sort_t0 = S.t0;
    if (m.n)
        qsort(gs, m.n, sizeof *gs, cmp_cgroup);
    sort_flows = NULL;
    const char *cols[] = {"in_flow", "out_flow", "packets", "first_t", "last_t",
                          "mean_delay_ms"};
    vnd_rows_columns(rows, 6, cols);
    for (uint32_t k = 0; k < m.n; k++) {
        const struct cgroup *g = &gs[k];
        vnd_rows_text(rows, S.flows.f[g->fi].label);
        vnd_rows_text(rows, S.flows.f[g->fo].label);
        vnd_rows_int(rows, g->packets);
        vnd_rows_real(rows, g->first - S.t0);
        vnd_rows_real(rows, g->last - S.t0);
        vnd_rows_real(rows, g->sum / (double)g->packets * 1000);
    }
    free(gs);
    vnd_gmap_free(&m);
    unload(&S);
    return 0;
}
