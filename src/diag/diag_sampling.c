/* diag_sampling.c — how a table's rows were sampled (vnd_sampling, else
 * vnd_meta), what that allows each app, and how outputs say it. */
#include "diag/diag_sampling.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- reading ---- */

static const char *mode_of(const char *source)
{
    if (!source)
        return "unknown";
    if (!strcmp(source, "vnd-tabled sflow"))
        return "sflow";
    if (!strcmp(source, "vnd-tabled ipfix"))
        return "ipfix";
    if (!strcmp(source, "vnd-tabled tap"))
        return "tap";
    if (!strncmp(source, "vnd-tabled", 10))
        return "mirror";
    return "file";                  /* vnd parse: the capture file's path */
}

/* One trace's intervals. */
struct hist {
    char *trace;
    const char *mode;
    int n;
    struct vnd_samp_iv *iv;
};

static void add_iv(struct hist *h, double from, int64_t n, bool hash, double m,
                   int64_t snaplen)
{
    h->iv = realloc(h->iv, (size_t)(h->n + 1) * sizeof *h->iv);
    if (!h->iv)
        abort();
    /* a rate below 1 (0: never set, as `vnd parse` without --sampling
     * writes) is every packet */
    h->iv[h->n++] = (struct vnd_samp_iv){isfinite(from) ? from : 0, n > 1 ? n : 1, hash,
                                         m > 1 ? m : 1, snaplen > 0 ? snaplen : 0};
}

static bool same_iv(const struct vnd_samp_iv *a, const struct vnd_samp_iv *b)
{
    return a->n == b->n && a->hash == b->hash && a->m == b->m;
}

static bool same_hist(const struct hist *a, const struct hist *b)
{
    if (a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++)
        if (a->iv[i].from_ts != b->iv[i].from_ts || !same_iv(&a->iv[i], &b->iv[i]))
            return false;
    return true;
}

void vnd_samp_read(sqlite3 *db, const char *table, struct vnd_samp *s)
{
    memset(s, 0, sizeof *s);
    s->table = strdup(table ? table : "");
    if (!s->table)
        abort();
    s->mode = "unknown";
    struct hist *h = NULL;
    int nh = 0;
    sqlite3_stmt *st = NULL;
    /* vnd_meta: one row per trace of the table; flow_sampling came later,
     * and a coordinator's copy may lack snaplen */
    static const char *const meta_sql[] = {
        "SELECT trace, source, sampling, flow_sampling, snaplen FROM vnd_meta"
        " WHERE tbl = ?1 COLLATE NOCASE ORDER BY trace",
        "SELECT trace, source, sampling, flow_sampling, 0 FROM vnd_meta"
        " WHERE tbl = ?1 COLLATE NOCASE ORDER BY trace",
        "SELECT trace, source, sampling, 1, 0 FROM vnd_meta"
        " WHERE tbl = ?1 COLLATE NOCASE ORDER BY trace",
    };
    for (size_t q = 0; q < sizeof meta_sql / sizeof *meta_sql && !st; q++)
        if (sqlite3_prepare_v2(db, meta_sql[q], -1, &st, NULL) != SQLITE_OK) {
            sqlite3_finalize(st);
            st = NULL;
        }
    if (st) {
        sqlite3_bind_text(st, 1, s->table, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            h = realloc(h, (size_t)(nh + 1) * sizeof *h);
            if (!h)
                abort();
            const unsigned char *tr = sqlite3_column_text(st, 0);
            h[nh] = (struct hist){strdup(tr ? (const char *)tr : ""),
                                  mode_of((const char *)sqlite3_column_text(st, 1)), 0, NULL};
            if (!h[nh].trace)
                abort();
            add_iv(&h[nh], 0, sqlite3_column_int64(st, 2), false,
                   sqlite3_column_type(st, 3) == SQLITE_NULL ? 1 : sqlite3_column_double(st, 3),
                   sqlite3_column_int64(st, 4));
            nh++;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    s->known = nh > 0;
    /* vnd_sampling: the history, when this database has it (older files,
     * and views that do not show it, do not: one interval then) */
    /* (snaplen came later: a row without it has vnd_meta's, which did
     * not change then) */
    if (nh && (sqlite3_prepare_v2(db, "SELECT from_ts, sampling, method, flow_sampling, snaplen"
                                      " FROM vnd_sampling WHERE trace = ?1 AND tbl = ?2"
                                      " COLLATE NOCASE ORDER BY from_ts", -1, &st, NULL)
                   == SQLITE_OK
               || (sqlite3_finalize(st),
                   sqlite3_prepare_v2(db, "SELECT from_ts, sampling, method, flow_sampling,"
                                          " NULL FROM vnd_sampling WHERE trace = ?1 AND tbl = ?2"
                                          " COLLATE NOCASE ORDER BY from_ts", -1, &st, NULL)
                       == SQLITE_OK))) {
        for (int i = 0; i < nh; i++) {
            struct hist got = {0};
            sqlite3_bind_text(st, 1, h[i].trace, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, s->table, -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW) {
                const unsigned char *method = sqlite3_column_text(st, 2);
                add_iv(&got, sqlite3_column_double(st, 0), sqlite3_column_int64(st, 1),
                       method && !strcmp((const char *)method, "hash"),
                       sqlite3_column_double(st, 3),
                       sqlite3_column_type(st, 4) == SQLITE_NULL
                           ? h[i].iv[0].snaplen : sqlite3_column_int64(st, 4));
            }
            sqlite3_reset(st);
            if (got.n) {
                free(h[i].iv);
                h[i].iv = got.iv;
                h[i].n = got.n;
                s->history = true;
            }
        }
    }
    sqlite3_finalize(st);
    if (nh) {
        for (int i = 1; i < nh; i++)
            if (!same_hist(&h[0], &h[i]))
                s->mixed = true;
        s->mode = h[0].mode;
        s->niv = h[0].n;
        s->iv = h[0].iv;
        h[0].iv = NULL;
    } else {
        struct hist one = {0};
        add_iv(&one, 0, 1, false, 1, 0);
        s->niv = 1;
        s->iv = one.iv;
    }
    for (int i = 0; i < nh; i++) {
        free(h[i].trace);
        free(h[i].iv);
    }
    free(h);
}

void vnd_samp_free(struct vnd_samp *s)
{
    free(s->table);
    free(s->iv);
    memset(s, 0, sizeof *s);
}

bool vnd_samp_packets(const struct vnd_samp *s)
{
    for (int i = 0; i < s->niv; i++)
        if (s->iv[i].n > 1)
            return true;
    return false;
}

bool vnd_samp_flows(const struct vnd_samp *s)
{
    for (int i = 0; i < s->niv; i++)
        if (s->iv[i].m > 1)
            return true;
    return false;
}

bool vnd_samp_scaled(const struct vnd_samp *s)
{
    return strcmp(s->mode, "ipfix") && (vnd_samp_packets(s) || vnd_samp_flows(s));
}

/* One value of every interval: true and *iv when the rate never changed. */
static bool constant(const struct vnd_samp *s, struct vnd_samp_iv *iv)
{
    for (int i = 1; i < s->niv; i++)
        if (!same_iv(&s->iv[0], &s->iv[i]))
            return false;
    *iv = s->iv[0];
    return true;
}

static void factor_sql(struct vnd_sb *sb, const struct vnd_samp *s, const char *ts, bool flows,
                       bool switch_scaled)
{
    /* sFlow's N is the switch's, and flow sampling is Mode mirror's only;
     * IPFIX counts are scaled already (but for their variance) */
    bool ipfix = !switch_scaled && !strcmp(s->mode, "ipfix");
    struct vnd_samp_iv one;
    if (ipfix || constant(s, &one)) {
        double v = ipfix ? 1 : flows ? one.m : (double)one.n;
        vnd_sb_real(sb, v);
        return;
    }
    vnd_sb_printf(sb, "CASE");
    for (int i = s->niv - 1; i >= 1; i--) {
        vnd_sb_printf(sb, " WHEN %s >= ", ts);
        vnd_sb_real(sb, s->iv[i].from_ts);
        vnd_sb_printf(sb, " THEN ");
        vnd_sb_real(sb, flows ? s->iv[i].m : (double)s->iv[i].n);
    }
    vnd_sb_printf(sb, " ELSE ");
    vnd_sb_real(sb, flows ? s->iv[0].m : (double)s->iv[0].n);
    vnd_sb_printf(sb, " END");
}

bool vnd_samp_varies(const struct vnd_samp *s)
{
    struct vnd_samp_iv one;
    return !constant(s, &one);
}

void vnd_samp_n_sql(struct vnd_sb *sb, const struct vnd_samp *s, const char *ts)
{
    factor_sql(sb, s, ts, false, false);
}

void vnd_samp_m_sql(struct vnd_sb *sb, const struct vnd_samp *s, const char *ts)
{
    factor_sql(sb, s, ts, true, false);
}

void vnd_samp_row_factors_sql(struct vnd_sb *sb, const struct vnd_samp *s, bool flows)
{
    if (flows)
        vnd_sb_printf(sb, "s.src_ip AS f1, s.src_port AS f2, s.dst_ip AS f3, s.dst_port AS f4, ");
    vnd_samp_n_sql(sb, s, "s.ts");
    vnd_sb_printf(sb, " AS n, ");
    vnd_samp_m_sql(sb, s, "s.ts");
    vnd_sb_printf(sb, " AS m");
}

void vnd_samp_switch_n_sql(struct vnd_sb *sb, const struct vnd_samp *s, const char *ts)
{
    factor_sql(sb, s, ts, false, true);
}

void vnd_samp_interval_sql(struct vnd_sb *sb, const char *name, const char *est, const char *hw,
                           const char *seen, const char *unit)
{
    vnd_sb_printf(sb, ",\n       CASE WHEN %s - %s > %s THEN %s - %s ELSE %s END%s AS %s_low,"
                      "\n       (%s + %s)%s AS %s_high", est, hw, seen, est, hw, seen, unit, name,
                  est, hw, unit, name);
}

void vnd_samp_record_q_sql(struct vnd_sb *sb, bool has_sq)
{
    /* in doubles: y * y passes 2^63 at 3 GB, and PostgreSQL's bigint
     * would refuse it */
    const char *y2p = "CAST(coalesce(s.bytes, 0) AS DOUBLE PRECISION)"
                      " * CAST(coalesce(s.bytes, 0) AS DOUBLE PRECISION) / s.packets";
    if (has_sq)
        vnd_sb_printf(sb, "CASE WHEN coalesce(s.packets, 0) <= 0 THEN 0.0"
                          " WHEN CAST(coalesce(s.bytes_sq, 0) AS DOUBLE PRECISION) > %s"
                          " THEN CAST(s.bytes_sq AS DOUBLE PRECISION) ELSE %s END", y2p, y2p);
    else
        vnd_sb_printf(sb, "CASE WHEN coalesce(s.packets, 0) <= 0 THEN 0.0 ELSE %s END", y2p);
}

/* ---- words ---- */

/* "mirror: 1-in-10 packets at the table server (method count), ..." */
static void describe(struct vnd_sb *sb, const struct vnd_samp *s)
{
    if (!s->known) {
        vnd_sb_printf(sb, "no vnd_meta row: taken as every packet");
        return;
    }
    int64_t nlo = INT64_MAX, nhi = 0;
    double mlo = INFINITY, mhi = 0;
    bool hash = false, count = false;
    for (int i = 0; i < s->niv; i++) {
        const struct vnd_samp_iv *v = &s->iv[i];
        nlo = v->n < nlo ? v->n : nlo;
        nhi = v->n > nhi ? v->n : nhi;
        mlo = fmin(mlo, v->m);
        mhi = fmax(mhi, v->m);
        if (v->n > 1)
            *(v->hash ? &hash : &count) = true;
    }
    vnd_sb_printf(sb, "%s: ", s->mode);
    if (!strcmp(s->mode, "ipfix") && nlo == nhi)
        vnd_sb_printf(sb, "flow records; the switch sampled 1-in-%lld packets and scaled the "
                          "counts", (long long)nhi);
    else if (!strcmp(s->mode, "ipfix"))
        vnd_sb_printf(sb, "flow records; the switch sampled 1-in-%lld to 1-in-%lld packets and "
                          "scaled the counts", (long long)nlo, (long long)nhi);
    else if (!strcmp(s->mode, "sflow") && nlo == nhi)
        vnd_sb_printf(sb, "1-in-%lld packets sampled by the switch (sFlow)", (long long)nhi);
    else if (!strcmp(s->mode, "sflow"))
        vnd_sb_printf(sb, "1-in-%lld to 1-in-%lld packets sampled by the switch (sFlow)",
                      (long long)nlo, (long long)nhi);
    else if (nhi <= 1)
        vnd_sb_printf(sb, "every packet");
    else if (nlo == nhi)
        vnd_sb_printf(sb, "1-in-%lld packets at the table server (method %s)", (long long)nhi,
                      hash && count ? "count and hash" : hash ? "hash" : "count");
    else
        vnd_sb_printf(sb, "1-in-%lld to 1-in-%lld packets at the table server (method %s)",
                      (long long)nlo, (long long)nhi,
                      hash && count ? "count and hash" : hash ? "hash" : "count");
    if (mhi > 1 && mlo == mhi)
        vnd_sb_printf(sb, ", 1-in-%g flows in the switch", mhi);
    else if (mhi > 1)
        vnd_sb_printf(sb, ", 1-in-%g to 1-in-%g flows in the switch", mlo, mhi);
    /* bytes kept: the apps read lengths from the headers, so no factor */
    int64_t slo = INT64_MAX, shi = 0;
    for (int i = 0; i < s->niv; i++)
        if (s->iv[i].snaplen) {
            slo = s->iv[i].snaplen < slo ? s->iv[i].snaplen : slo;
            shi = s->iv[i].snaplen > shi ? s->iv[i].snaplen : shi;
        }
    bool all_cut = true, snap_varied = false;
    for (int i = 0; i < s->niv; i++) {
        all_cut = all_cut && s->iv[i].snaplen;
        snap_varied = snap_varied || s->iv[i].snaplen != s->iv[0].snaplen;
    }
    const char *when = all_cut ? "" : "at times ";
    if (shi && slo == shi)
        vnd_sb_printf(sb, ", %sthe first %lld bytes of each packet", when, (long long)shi);
    else if (shi)
        vnd_sb_printf(sb, ", %sthe first %lld to %lld bytes of each packet", when,
                      (long long)slo, (long long)shi);
    if (s->niv > 1) {
        struct vnd_samp_iv one;
        if (!constant(s, &one) || snap_varied)
            vnd_sb_printf(sb, "; it varied over %d intervals (vnd_sampling)", s->niv);
    }
    if (s->mixed)
        vnd_sb_printf(sb, "; the table's traces were sampled differently (vnd_meta)");
}

/* ---- what each app may do ---- */

int vnd_diag_tables(const struct vnd_diag_opts *o, const char *tabs[VND_DIAG_PATH_MAX + 4])
{
    const char *all[VND_DIAG_PATH_MAX + 4];
    int k = 0, n = 0;
    all[k++] = o->table;
    all[k++] = o->in;
    all[k++] = o->out;
    for (int i = 0; i < o->npath; i++)
        all[k++] = o->path[i];
    for (int i = 0; i < k; i++) {
        if (!all[i])
            continue;
        bool dup = false;
        for (int j = 0; j < n; j++)
            dup = dup || !strcasecmp(tabs[j], all[i]);
        if (!dup)
            tabs[n++] = all[i];
    }
    tabs[n] = NULL;
    return n;
}

enum treat { T_EXACT, T_SCALED, T_CONSISTENT, T_FLOWS, T_ROWS, T_SWITCH };
static const char *const treat_name[] = {"exact", "scaled", "consistent", "whole_flows",
                                         "sampled_rows", "scaled_by_switch"};

/* The apps that scale a sampled table's rows (the rest count them or
 * refuse). */
static bool scales(const struct vnd_diag_app *app)
{
    return app == &vnd_diag_throughput || app == &vnd_diag_groups
           || app == &vnd_diag_distribution;
}

static bool pairs_packets(const struct vnd_diag_app *app)
{
    return app == &vnd_diag_delay || app == &vnd_diag_loss || app == &vnd_diag_correlate;
}

/* Both tables sampled alike over their whole history, so the same packets
 * (or flows) were kept at both: one (N, M) throughout, N > 1 only with
 * method hash, in mirror or file mode (sFlow samples at random). */
static bool consistent(const struct vnd_samp *a, const struct vnd_samp *b)
{
    struct vnd_samp_iv x, y;
    if (a->mixed || b->mixed || !constant(a, &x) || !constant(b, &y) || !same_iv(&x, &y))
        return false;
    if (!strcmp(a->mode, "sflow") || !strcmp(b->mode, "sflow") || !strcmp(a->mode, "ipfix")
        || !strcmp(b->mode, "ipfix"))
        return false;
    return x.n == 1 || x.hash;
}

/* How `app` treats table i of n (all read). */
static enum treat treatment(const struct vnd_diag_app *app, const struct vnd_samp *s, int n)
{
    if (!strcmp(s->mode, "ipfix"))
        return T_SWITCH;
    bool pk = vnd_samp_packets(&s[0]), fl = vnd_samp_flows(&s[0]);
    (void)n;
    if (!pk && !fl)
        return T_EXACT;
    if (scales(app))
        return T_SCALED;
    if (pairs_packets(app) || app == &vnd_diag_bottleneck)
        return pk ? T_CONSISTENT : T_FLOWS;
    if (app == &vnd_diag_rtt && !pk)
        return T_FLOWS;
    return T_ROWS;
}

static char *refusal(const struct vnd_diag_app *app, const struct vnd_samp *s, const char *why,
                     const char *todo)
{
    struct vnd_sb d = {0};
    describe(&d, s);
    (void)app;                      /* the caller names the app */
    char *e = vnd_diag_errf("table %s is sampled (%s): %s.  %s (docs/capture.md, \"How "
                            "results account for sampling\")", s->table, d.s, why, todo);
    vnd_sb_free(&d);
    return e;
}

#define TODO_PAIRS "Capture with Sampling 1, or sample consistently: method 'hash' at the " \
                   "same 1-in-N on both capture points keeps the same packets at both"

int vnd_diag_sampling_check(const struct vnd_diag_ctx *c, const struct vnd_diag_app *app,
                            char **err)
{
    const char *tabs[VND_DIAG_PATH_MAX + 4];
    int n = vnd_diag_tables(c->o, tabs);
    struct vnd_samp s[VND_DIAG_PATH_MAX + 4];
    for (int i = 0; i < n; i++)
        vnd_samp_read(c->db, tabs[i], &s[i]);
    int rc = 0;
    if (scales(app) && n == 1 && s[0].mixed && vnd_samp_scaled(&s[0])) {
        *err = refusal(app, &s[0], "its rows have no single factor per time, and rows do not "
                       "say their trace", "Give each trace its own table (Table ID)");
        rc = -1;
    } else if (app == &vnd_diag_rtt && n == 1 && vnd_samp_packets(&s[0])) {
        *err = refusal(app, &s[0], "rtt pairs each segment with the ACK that answers it, and "
                       "packet sampling keeps few such pairs (hash sampling too: a segment and "
                       "its ACK are different packets)", "Capture with Sampling 1 (flow "
                       "sampling in the switch keeps whole connections: rtt accepts it)");
        rc = -1;
    } else if (pairs_packets(app) && c->o->in && c->o->out) {
        struct vnd_samp *a = &s[0], *b = n > 1 ? &s[1] : &s[0];
        bool sa = vnd_samp_packets(a) || vnd_samp_flows(a);
        bool sb = vnd_samp_packets(b) || vnd_samp_flows(b);
        if ((sa || sb) && !consistent(a, b)) {
            char *why = vnd_diag_errf("%s pairs each packet at both capture points, and the "
                                      "other point did not keep the same packets (only 'hash' "
                                      "sampling at one 1-in-N throughout, or flow sampling at "
                                      "one rate, does)", app->name);
            /* name the table that breaks it: one whose rate changed, else a sampled one */
            struct vnd_samp_iv x;
            struct vnd_samp *bad = !constant(a, &x) ? a : !constant(b, &x) ? b : sa ? a : b;
            *err = refusal(app, bad, why, TODO_PAIRS);
            free(why);
            rc = -1;
        }
    } else if (app == &vnd_diag_bottleneck) {
        for (int i = 0; i < n && !rc; i++) {
            if (vnd_samp_packets(&s[i])) {
                *err = refusal(app, &s[i], "the bottleneck locator pairs packets between "
                               "points and each segment with its ACK (RTT), which no packet "
                               "sampling keeps together", "Capture with Sampling 1 (flow "
                               "sampling at one rate on every point keeps whole connections)");
                rc = -1;
            } else if (i > 0 && !consistent(&s[0], &s[i])) {
                *err = refusal(app, vnd_samp_flows(&s[i]) ? &s[i] : &s[0], "the points did "
                               "not keep the same flows (flow sampling at different rates)",
                               "Capture with the same Flow Sampling on every point, or none");
                rc = -1;
            }
        }
    }
    for (int i = 0; i < n; i++)
        vnd_samp_free(&s[i]);
    return rc;
}

bool vnd_diag_sampling_no_rollup(const struct vnd_diag_ctx *c, const struct vnd_diag_app *app,
                                 char **why)
{
    *why = NULL;
    if (!scales(app) || !c->o->table)
        return false;
    struct vnd_samp s;
    vnd_samp_read(c->db, c->o->table, &s);
    bool no = vnd_samp_scaled(&s);
    if (no) {
        struct vnd_sb d = {0};
        describe(&d, &s);
        *why = vnd_diag_errf("/* from the rows, not a rollup: table %s is sampled (%s); each "
                             "row is scaled by its interval's rate, with a 95%% interval "
                             "(docs/capture.md) */\n", s.table, d.s);
        vnd_sb_free(&d);
    }
    vnd_samp_free(&s);
    return no;
}

/* ---- saying it ---- */

/* Per interval of a scaled table's history: 1 when a row of it falls in
 * the interval, 0 when none does, -1 when not asked (an interval that
 * kept everything, or one under a second long) or the table has no ts.
 * A sampled interval without a row is time the estimate knows nothing of
 * (nothing was sampled: the switch picked none of the flows, say; or there
 * was no traffic): its slots are missing, not zero.  NULL unless scaled. */
static int *kept_rows(sqlite3 *db, const struct vnd_samp *s, enum treat t)
{
    if (t != T_SCALED || !db)
        return NULL;
    sqlite3_stmt *st = NULL;
    char *sql = sqlite3_mprintf("SELECT EXISTS (SELECT 1 FROM \"%w\" WHERE ts >= ?1"
                                " AND (?2 IS NULL OR ts < ?2))", s->table);
    int rc = sql ? sqlite3_prepare_v2(db, sql, -1, &st, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    int *kept = calloc((size_t)s->niv, sizeof *kept);
    for (int k = 0; kept && k < s->niv; k++) {
        const struct vnd_samp_iv *v = &s->iv[k];
        bool last = k == s->niv - 1;
        kept[k] = -1;
        if ((v->n <= 1 && v->m <= 1) || (!last && s->iv[k + 1].from_ts - v->from_ts < 1))
            continue;
        sqlite3_bind_double(st, 1, v->from_ts);
        if (last)
            sqlite3_bind_null(st, 2);
        else
            sqlite3_bind_double(st, 2, s->iv[k + 1].from_ts);
        if (sqlite3_step(st) == SQLITE_ROW)
            kept[k] = sqlite3_column_int(st, 0);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return kept;
}

/* The sentence for table i: the description and what the app did
 * (`kept`: kept_rows's, or NULL). */
static char *sentence(const struct vnd_diag_app *app, const struct vnd_samp *s, enum treat t,
                      const int *kept)
{
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "%s (", s->table);
    describe(&sb, s);
    vnd_sb_printf(&sb, ")");
    struct vnd_samp_iv one = s->iv[0];
    switch (t) {
    case T_EXACT: case T_SWITCH: break;
    case T_SCALED:
        vnd_sb_printf(&sb, "; scaled by each row's rate, 95%% interval in %s",
                      app == &vnd_diag_groups ? "packets_low..packets_high and "
                                                "bytes_low..bytes_high"
                      : app == &vnd_diag_distribution ? "count_low..count_high"
                                                      : "bps_low..bps_high");
        for (int k = 0; kept && k < s->niv; k++)
            if (kept[k] == 0) {
                const struct vnd_samp_iv *v = &s->iv[k];
                vnd_sb_printf(&sb, "; no row was kept under ");
                if (v->n > 1)
                    vnd_sb_printf(&sb, "1-in-%lld packets%s", (long long)v->n,
                                  v->m > 1 ? " of " : "");
                if (v->m > 1)
                    vnd_sb_printf(&sb, "1-in-%g flows", v->m);
                vnd_sb_printf(&sb, " from %.3f", v->from_ts);
                if (k < s->niv - 1)
                    vnd_sb_printf(&sb, " to %.3f", s->iv[k + 1].from_ts);
                vnd_sb_printf(&sb, ": nothing was sampled then (or there was no traffic), so "
                                   "that time is missing from the estimate, not zero");
            }
        break;
    case T_CONSISTENT:
        vnd_sb_printf(&sb, "; measured on consistent 1-in-%lld samples (%s)",
                      (long long)one.n, app == &vnd_diag_loss ? "the loss rate is an "
                      "estimate, counts are of the samples" : app == &vnd_diag_delay
                      ? "delays exact for the sampled packets" : "the sampled packets");
        break;
    case T_FLOWS:
        vnd_sb_printf(&sb, "; measured on whole sampled flows, 1-in-%g", one.m);
        break;
    case T_ROWS:
        vnd_sb_printf(&sb, "; counts are of the sampled rows, not scaled");
        break;
    }
    return vnd_sb_take(&sb);
}

void vnd_diag_sampling_out(struct vnd_out *out, sqlite3 *db, const struct vnd_diag_app *app,
                           const struct vnd_diag_opts *o)
{
    const char *tabs[VND_DIAG_PATH_MAX + 4];
    int n = vnd_diag_tables(o, tabs);
    json_t *arr = json_array();
    bool sampled = false;
    for (int i = 0; i < n; i++) {
        struct vnd_samp s;
        vnd_samp_read(db, tabs[i], &s);
        enum treat t = treatment(app, &s, n);
        const struct vnd_samp_iv *cur = &s.iv[s.niv - 1];
        int *kept = kept_rows(db, &s, t);
        json_t *ivs = json_array();
        for (int k = 0; k < s.niv; k++) {
            json_t *iv = json_pack("{s:f, s:I, s:s, s:f, s:I}", "from_ts", s.iv[k].from_ts,
                                   "sampling", (json_int_t)s.iv[k].n, "method",
                                   s.iv[k].hash ? "hash" : "count", "flow_sampling",
                                   s.iv[k].m, "snaplen", (json_int_t)s.iv[k].snaplen);
            if (kept && kept[k] >= 0)
                json_object_set_new(iv, "kept_rows", json_boolean(kept[k]));
            json_array_append_new(ivs, iv);
        }
        struct vnd_samp_iv one;
        char *text = sentence(app, &s, t, kept);
        free(kept);
        sampled = sampled || t != T_EXACT;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:s, s:f, s:b, s:b, s:o, s:s, "
                                             "s:s}", "table", s.table, "mode", s.mode,
                                             "sampling", (json_int_t)cur->n, "method",
                                             cur->hash ? "hash" : "count", "flow_sampling",
                                             cur->m, "varied", !constant(&s, &one) || s.mixed,
                                             "history", s.history, "intervals", ivs,
                                             "treatment", treat_name[t], "text", text));
        free(text);
        vnd_samp_free(&s);
    }
    /* CSV stays the rows alone when every row is a packet: the line is
     * there when it changes what the rows mean */
    if (vnd_out_format(out) == VND_FMT_CSV && !sampled)
        json_decref(arr);
    else
        vnd_out_record_json(out, "sampling", arr);
}

void vnd_diag_sampling_note(FILE *f, sqlite3 *db, const struct vnd_diag_app *app,
                            const struct vnd_diag_opts *o)
{
    const char *tabs[VND_DIAG_PATH_MAX + 4];
    int n = vnd_diag_tables(o, tabs);
    for (int i = 0; i < n; i++) {
        struct vnd_samp s;
        vnd_samp_read(db, tabs[i], &s);
        enum treat t = treatment(app, &s, n);
        int *kept = kept_rows(db, &s, t);
        char *text = sentence(app, &s, t, kept);
        fprintf(f, "sampling: %s\n", text);
        free(text);
        free(kept);
        vnd_samp_free(&s);
    }
}

/* ---- the estimator ---- */

void vnd_ht_flow(struct vnd_ht *h, double m, const double *n, const double *x, size_t k)
{
    double y = 0, v = 0, seen = 0;
    for (size_t i = 0; i < k; i++) {
        y += n[i] * x[i];
        v += (n[i] * n[i] - n[i]) * x[i] * x[i];
        seen += x[i];
    }
    h->est += m * y;
    h->var += (m * m - m) * y * y + m * v;
    h->seen += seen;
}

void vnd_ht_interval(const struct vnd_ht *h, double *lo, double *hi)
{
    double hw = 1.96 * sqrt(h->var > 0 ? h->var : 0);
    *lo = fmax(h->seen, h->est - hw);
    *hi = h->est + hw;
}
