/* diag_rollup.c — throughput, groups, distribution and rtt answered from
 * a table's rollup (ingest/rollup.h, docs/rollups.md) when the question
 * fits it:
 *
 *  - SQLite (the sketch functions are lang/sqlfuncs.h's), no --no-rollup;
 *  - the rollup agrees with the table: it holds as many rows as every
 *    trace of the table has stored (another trace's rows, which it did
 *    not see, make it disagree), and its status covers the question (rtt also needs the trace complete: the
 *    samples of its last timestamp wait for the next rows until then);
 *  - time: the slot a whole number of rollup slots, time 0 the table's
 *    first row, --since/--until on slot boundaries;
 *  - --where on flow columns only (src_ip, dst_ip, src_port, dst_port,
 *    proto), none for rtt (the pairing needs both directions whole);
 *    groups: --fields among the flow columns, distribution: --field.
 *
 * A table of flow records' rollup (ingest/rollup_records.h) answers
 * throughput of the whole table in whole seconds (fit_records).
 *
 * The answer is SQL over the rollup, with a first comment line (a C-style
 * one: `vnd query` would take a leading "--" for an option) saying
 * why it was chosen; when the table has a rollup that does not fit, the
 * rows' SQL gets a comment saying why not.  Counts, sums, min and max are
 * the rows' exactly (means to the rounding of a sum taken in another
 * order); p50 and p99 are the sketch's, within its alpha of the rows'. */
#include "diag/diag.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag/diag_sampling.h"
#include "ingest/rollup.h"
#include "ingest/rollup_records.h"
#include "util/ddsketch.h"

static const char *const flow_cols[] = {"src_ip", "dst_ip", "src_port", "dst_port", "proto"};

static bool is_flow_col(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof flow_cols / sizeof *flow_cols; i++)
        if (strlen(flow_cols[i]) == n && !strncasecmp(flow_cols[i], s, n))
            return true;
    return false;
}

/* True when every identifier of the filter's SQL (double-quoted by
 * vnd_filter_to_sql) is a flow column; literals ('...') are skipped. */
static bool flow_only(const char *sql)
{
    for (const char *p = sql; *p; p++) {
        if (*p == '\'') {
            for (p++; *p; p++) {
                if (*p != '\'')
                    continue;
                if (p[1] != '\'')
                    break;
                p++;                 /* '' inside a literal */
            }
            if (!*p)
                return false;
        } else if (*p == '"') {
            const char *e = strchr(p + 1, '"');
            if (!e || !is_flow_col(p + 1, (size_t)(e - p - 1)))
                return false;
            p = e;
        }
    }
    return true;
}

static bool disabled(const struct vnd_diag_opts *o)
{
    const char *e = getenv("VND_ROLLUP");
    return o->no_rollup || (e && !strcmp(e, "0"));
}

/* What vnd_meta says of table's rollup. */
struct rinfo {
    char *name;                     /* the rollup table */
    char *status, *trace_status;
    bool agree;                     /* one trace, as many packets */
    bool records;                   /* a table of flow records' (rollup_records.h) */
};

static void rinfo_free(struct rinfo *r)
{
    free(r->name);
    free(r->status);
    free(r->trace_status);
}

static char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? strdup((const char *)t) : NULL;
}

/* 1: table has a rollup (*r filled), 0: none. */
static int lookup(sqlite3 *db, const char *table, struct rinfo *r)
{
    memset(r, 0, sizeof *r);
    sqlite3_stmt *s = NULL;
    /* a file made before rollups has no rollup column: no rollup */
    if (sqlite3_prepare_v2(db,
            "SELECT rollup, rollup_status, status, rollup_packets ="
            " (SELECT sum(packets_stored) FROM vnd_meta WHERE tbl = ?1 COLLATE NOCASE)"
            " FROM vnd_meta WHERE tbl = ?1 COLLATE NOCASE AND rollup IS NOT NULL", -1, &s,
            NULL) != SQLITE_OK) {
        sqlite3_finalize(s);
        return 0;
    }
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    int found = 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        found = 1;
        r->name = col_text(s, 0);
        r->status = col_text(s, 1);
        r->trace_status = col_text(s, 2);
        r->agree = sqlite3_column_int(s, 3) == 1;
        /* the status without its reason */
        char *colon = r->status ? strchr(r->status, ':') : NULL;
        if (colon)
            *colon = 0;
        if (!r->name || !r->status) {
            rinfo_free(r);
            found = 0;
        }
    }
    sqlite3_finalize(s);
    /* the table is there with its columns, and this connection may read it
     * (a tenant's guard hides sqlite_schema, so it is asked this way) */
    if (found) {
        struct vnd_sb sb = {0};
        r->records = !strcmp(r->status, VND_ROLLUP_STATUS_RECORDS)
                     || vnd_diag_flow_records(db, table);
        vnd_sb_printf(&sb, r->records ? "SELECT slot, packets, bytes, sq, records, firsts FROM "
                                      : "SELECT slot, kind, packets, bytes, rtt_n, rtt_sketch,"
                                        " flow FROM ");
        vnd_sb_ident(&sb, r->name);
        vnd_sb_printf(&sb, " LIMIT 0");
        if (sqlite3_prepare_v2(db, sb.s, -1, &s, NULL) != SQLITE_OK) {
            rinfo_free(r);
            found = 0;
        }
        sqlite3_finalize(s);
        vnd_sb_free(&sb);
    }
    return found;
}

/* One number from `sql` over the rollup table (quoted into %s). */
static double rollup_number(sqlite3 *db, const char *fmt, const char *name)
{
    struct vnd_sb sb = {0};
    struct vnd_sb q = {0};
    vnd_sb_ident(&q, name);
    vnd_sb_printf(&sb, fmt, q.s, q.s);
    double v = NAN;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sb.s, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW
        && sqlite3_column_type(s, 0) != SQLITE_NULL)
        v = sqlite3_column_double(s, 0);
    sqlite3_finalize(s);
    vnd_sb_free(&sb);
    vnd_sb_free(&q);
    return v;
}

/* Through the slot index: the first slot's and the last slot's rows. */
#define T0_SQL "SELECT min(ts_min) FROM %s WHERE slot = (SELECT min(slot) FROM %s)"
#define TMAX_SQL "SELECT max(ts_max) FROM %s WHERE slot = (SELECT max(slot) FROM %s)"

char *vnd_diag_rollup_timed(sqlite3 *db, const struct vnd_diag_opts *o, const char *table)
{
    struct rinfo r;
    if (disabled(o) || !lookup(db, table, &r))
        return NULL;
    char *name = NULL;
    if (r.agree && (!strcmp(r.status, VND_ROLLUP_STATUS_ALL)
                    || !strcmp(r.status, VND_ROLLUP_STATUS_NO_RTT))) {
        name = r.name;
        r.name = NULL;
    }
    rinfo_free(&r);
    return name;
}

/* o->table's rollup when it is a records rollup that holds the table's
 * rows (malloc'd), else NULL. */
static char *records_rollup(sqlite3 *db, const struct vnd_diag_opts *o)
{
    struct rinfo r;
    if (!o->table || o->pg || disabled(o) || !lookup(db, o->table, &r))
        return NULL;
    char *name = NULL;
    if (r.records && r.agree && !strcmp(r.status, VND_ROLLUP_STATUS_RECORDS)) {
        name = r.name;
        r.name = NULL;
    }
    rinfo_free(&r);
    return name;
}

double vnd_diag_rollup_ts(sqlite3 *db, const struct vnd_diag_opts *o, bool newest)
{
    char *name = o->table && !o->pg ? vnd_diag_rollup_timed(db, o, o->table) : NULL;
    double v = NAN;
    if (name)
        v = rollup_number(db, newest ? TMAX_SQL : T0_SQL, name);
    else if ((name = records_rollup(db, o)))  /* the newest ts; time 0, the first second */
        v = rollup_number(db, newest ? "SELECT max(newest) FROM %s" : "SELECT min(slot) FROM %s",
                          name);
    free(name);
    return v;
}

double vnd_diag_rollup_settle(sqlite3 *db, const struct vnd_diag_opts *o)
{
    char *name = records_rollup(db, o);
    double v = name ? rollup_number(db, "SELECT max(settle) FROM %s", name) : NAN;
    free(name);
    return v;
}

/* The slot bound of a --since/--until x: *k = (x - t0) / slot, when whole. */
static bool slot_bound(double x, double t0, double *k)
{
    *k = (x - t0) / VND_ROLLUP_SLOT;
    return isfinite(*k) && *k == floor(*k);
}

/* Why the question does not fit a table of flow records' rollup (its
 * seconds' sums of all records; rollup_records.h), or NULL. */
static const char *fit_records(const struct vnd_diag_ctx *c, const struct vnd_diag_app *app)
{
    const struct vnd_diag_opts *o = c->o;
    if (app != &vnd_diag_throughput)
        return "the rollup of flow records answers throughput only (it holds the seconds' "
               "totals)";
    if (o->by_flow)
        return "the rollup of flow records holds the seconds' totals, not flows";
    if ((o->where && *o->where) || !isnan(o->since) || !isnan(o->until))
        return "--where, --since and --until pick records, which the rollup's seconds do not "
               "keep";
    double m = o->slot / VND_ROLLUP_SLOT;
    if (m < 1 || m != floor(m))
        return "the slot is not a whole number of the rollup's 1 s slots";
    if (!isnan(o->origin) && o->origin != floor(o->origin))
        return "time 0 is not a whole second";
    struct vnd_samp sp;
    vnd_samp_read(c->db, o->table, &sp);
    bool varies = vnd_samp_packets(&sp) && vnd_samp_varies(&sp);
    vnd_samp_free(&sp);
    if (varies)
        return "the switch's rate changed over the table's history (each record's is read "
               "with it)";
    return NULL;
}

/* Why the question does not fit the rollup r (a static string), or NULL
 * when it does; the filter's SQL in *cond (malloc'd, NULL: none), the
 * slot range in *lo, *hi (NaN: open). */
static const char *fit(const struct vnd_diag_ctx *c, const struct vnd_diag_app *app,
                       const struct rinfo *r, char **cond, double *lo, double *hi, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    bool rtt = app == &vnd_diag_rtt, timed = app->timed;
    *cond = NULL;
    *lo = *hi = NAN;
    if (!r->agree)
        return "the rollup does not hold the table's rows (another trace, or rows it did not see)";
    if (r->records && strcmp(r->status, VND_ROLLUP_STATUS_NONE))
        return fit_records(c, app);
    if (!strcmp(r->status, VND_ROLLUP_STATUS_NONE))
        return "the rollup answers nothing (vnd_meta's rollup_status says why)";
    if (timed && !strcmp(r->status, VND_ROLLUP_STATUS_TOTALS))
        return "the rollup has no time slots (vnd_meta's rollup_status says why)";
    if (rtt && strcmp(r->status, VND_ROLLUP_STATUS_ALL))
        return "the rollup has no RTT samples (vnd_meta's rollup_status says why)";
    if (rtt && (!r->trace_status || strcmp(r->trace_status, "complete")))
        return "the trace is still being written (its last RTT samples are pending)";
    bool ranged = !isnan(o->since) || !isnan(o->until);
    if (!timed && ranged && !strcmp(r->status, VND_ROLLUP_STATUS_TOTALS))
        return "the rollup has no time slots (vnd_meta's rollup_status says why)";
    if (timed) {
        double m = o->slot / VND_ROLLUP_SLOT;
        if (m < 1 || m != floor(m))
            return "the slot is not a whole number of the rollup's 1 s slots";
    }
    if (ranged || (timed && !isnan(o->origin))) {
        double t0 = rollup_number(c->db, T0_SQL, r->name);
        if (timed && !isnan(o->origin) && o->origin != t0)
            return "time 0 is not the table's first row";
        if (!isnan(o->since) && !slot_bound(o->since, t0, lo))
            return "--since falls inside a slot of the rollup";
        if (!isnan(o->until) && !slot_bound(o->until, t0, hi))
            return "--until falls inside a slot of the rollup";
    }
    if (app == &vnd_diag_groups)
        for (int i = 0; i < o->nfields; i++)
            if (!is_flow_col(o->fields[i], strlen(o->fields[i])))
                return "a field is not a flow column (src_ip, dst_ip, src_port, dst_port, proto)";
    if (app == &vnd_diag_distribution && !is_flow_col(o->field, strlen(o->field)))
        return "the field is not a flow column (src_ip, dst_ip, src_port, dst_port, proto)";
    if (o->where && *o->where) {
        if (rtt)
            return "rtt with --where reads the rows (the pairing needs both directions whole)";
        char *sql = vnd_diag_where_sql(c, o->table, o->where, err);
        if (!sql)
            return NULL;             /* the rows' SQL says it the same way */
        if (!flow_only(sql)) {
            free(sql);
            return "the filter reads more than the flow columns";
        }
        *cond = sql;
    }
    return NULL;
}

static void slot_t(struct vnd_sb *sb, double slot)
{
    vnd_sb_printf(sb, "floor((slot * 1.0) / ");
    vnd_sb_real(sb, slot);
    vnd_sb_printf(sb, ") * ");
    vnd_sb_real(sb, slot);
}

static void where(struct vnd_sb *sb, const char *kind, const char *cond, double lo, double hi)
{
    vnd_sb_printf(sb, "\nWHERE %s", kind);
    if (!isnan(lo)) {
        vnd_sb_printf(sb, " AND slot >= ");
        vnd_sb_real(sb, lo);
    }
    if (!isnan(hi)) {
        vnd_sb_printf(sb, " AND slot < ");
        vnd_sb_real(sb, hi);
    }
    if (cond)
        vnd_sb_printf(sb, " AND (%s)", cond);
}

static void build(const struct vnd_diag_ctx *c, const struct vnd_diag_app *app,
                  const char *name, const char *cond, double lo, double hi, struct vnd_sb *sb)
{
    const struct vnd_diag_opts *o = c->o;
    vnd_sb_printf(sb, "/* answered from the rollup %s: per 1 s slot and flow, it holds the"
                      " table's rows whole, and the question fits it (docs/rollups.md) */\n"
                      "SELECT ", name);
    if (app == &vnd_diag_groups || app == &vnd_diag_distribution) {
        /* distribution: one field, its packets and their share of all */
        bool dist = app == &vnd_diag_distribution;
        const char *const *fields = dist ? (const char *const *)&o->field
                                         : (const char *const *)o->fields;
        int n = dist ? 1 : o->nfields;
        for (int i = 0; i < n; i++) {
            vnd_sb_ident(sb, fields[i]);
            vnd_sb_printf(sb, ", ");
        }
        /* per 5-tuple first, in the order of its index (no sorting),
         * then the few tuples by the fields */
        vnd_sb_printf(sb, dist ? "sum(p) AS count, sum(p) * 1.0 / sum(sum(p)) OVER () AS fraction"
                               : "sum(p) AS packets, sum(b) AS bytes");
        vnd_sb_printf(sb, "\nFROM (SELECT src_ip, src_port, dst_ip, dst_port, proto,"
                          " sum(packets) AS p, sum(bytes) AS b FROM ");
        vnd_sb_ident(sb, name);
        where(sb, "kind IS NULL", cond, lo, hi);
        vnd_sb_printf(sb, "\nGROUP BY src_ip, src_port, dst_ip, dst_port, proto) r\nGROUP BY ");
        for (int i = 0; i < n; i++) {
            vnd_sb_printf(sb, i ? ", " : "");
            vnd_sb_ident(sb, fields[i]);
        }
        vnd_sb_printf(sb, "\nORDER BY %s DESC", dist ? "count" : "packets");
        for (int i = 0; i < n; i++) {
            vnd_sb_printf(sb, ", ");
            vnd_sb_ident(sb, fields[i]);
        }
        return;
    }
    /* One GROUP BY (sums of integers, whatever rows a cell spans); at the
     * rollup's own slot, by flow, in the order of its (flow, slot)
     * indexes: nothing to sort.  rtt's columns: (flow,) t; throughput's:
     * t(, flow). */
    bool rtt = app == &vnd_diag_rtt, own = o->slot == VND_ROLLUP_SLOT;
    const char *by = !o->by_flow ? "t" : own ? "flow, slot" : "flow, t";
    const char *kind = "kind IS NULL";
    char kbuf[64];
    if (rtt && o->rtt_kind != VND_RTT_ALL) {
        snprintf(kbuf, sizeof kbuf, "kind = %d", vnd_rtt_kind_code(o->rtt_kind));
        kind = kbuf;
    } else if (rtt) {
        kind = "kind IS NOT NULL";
    }
    if (rtt) {
        /* each group's sketches merged once, its quantiles read from it
         * (kept within the group's min and max: the sketch's answer for
         * the extreme bins may fall just outside) */
        vnd_sb_printf(sb, "%st, n AS packets, s / n * 1000 AS mean_ms, mn * 1000 AS min_ms,\n"
                          "       max(mn, min(mx, vnd_dds_quantile(sk, 0.5))) * 1000 AS p50_ms,\n"
                          "       max(mn, min(mx, vnd_dds_quantile(sk, 0.99))) * 1000 AS p99_ms,"
                          " mx * 1000 AS max_ms\nFROM (SELECT ", o->by_flow ? "flow, " : "");
    }
    if (rtt && o->by_flow)
        vnd_sb_printf(sb, "flow, ");
    slot_t(sb, o->slot);
    vnd_sb_printf(sb, " AS t,\n       ");
    if (!rtt && o->by_flow)
        vnd_sb_printf(sb, "flow,\n       ");
    if (rtt)
        vnd_sb_printf(sb, "sum(rtt_n) AS n, sum(rtt_sum) AS s, min(rtt_min) AS mn,"
                          " max(rtt_max) AS mx, vnd_dds_merge(rtt_sketch) AS sk\nFROM ");
    if (!rtt) {
        vnd_sb_printf(sb, "sum(packets) AS packets, sum(bytes) AS bytes, sum(bytes) * 8.0 / ");
        vnd_sb_real(sb, o->slot);
        vnd_sb_printf(sb, " AS bps\nFROM ");
    }
    vnd_sb_ident(sb, name);
    /* the whole rollup but by flow: in table order (through the slot
     * index, every row would be a lookup); a range of slots: through the
     * index */
    if (!o->by_flow && isnan(lo) && isnan(hi))
        vnd_sb_printf(sb, " NOT INDEXED");
    where(sb, kind, cond, lo, hi);
    vnd_sb_printf(sb, "\nGROUP BY %s", by);
    if (rtt)
        vnd_sb_printf(sb, " HAVING sum(rtt_n) > 0) r");
    vnd_sb_printf(sb, "\nORDER BY %s", rtt && o->by_flow ? "flow, t" : by);
}

/* Throughput from a table of flow records' rollup: the columns of the
 * rows' SQL (diag_throughput.c), each slot of m seconds from the whole
 * second time 0 the sum of its seconds, and the records it rests on its
 * seconds' firsts and the records of its first second that began before
 * it.  When the switch sampled (at one rate: fit_records), the interval
 * of the rows' SQL: (N - 1) sum w q, the bytes seen sum w y / N. */
static void build_records(const struct vnd_diag_ctx *c, const char *name, struct vnd_sb *sb)
{
    const struct vnd_diag_opts *o = c->o;
    struct vnd_samp sp;
    vnd_samp_read(c->db, o->table, &sp);
    vnd_sb_printf(sb, "/* answered from the rollup %s: per second of the clock it holds the"
                      " records' shares of it, and the question fits it (docs/rollups.md) */\n"
                      "WITH vnd_o AS (SELECT ", name);
    if (isnan(o->origin)) {
        vnd_sb_printf(sb, "min(slot) AS t0 FROM ");
        vnd_sb_ident(sb, name);
    } else {
        vnd_sb_real(sb, o->origin);
        vnd_sb_printf(sb, " AS t0");
    }
    vnd_sb_printf(sb, ")\nSELECT floor((slot - t0) / ");
    vnd_sb_real(sb, o->slot);
    vnd_sb_printf(sb, ") * ");
    vnd_sb_real(sb, o->slot);
    vnd_sb_printf(sb, " AS t, sum(packets) AS packets, sum(bytes) AS bytes,"
                      " sum(bytes) * 8.0 / ");
    vnd_sb_real(sb, o->slot);
    vnd_sb_printf(sb, " AS bps");
    if (vnd_samp_packets(&sp)) {
        struct vnd_sb n = {0}, hw = {0}, seen = {0}, unit = {0};
        vnd_samp_switch_n_sql(&n, &sp, "ts");
        vnd_sb_printf(&hw, "1.96 * sqrt((%s - 1) * sum(sq))", n.s);
        vnd_sb_printf(&seen, "sum(bytes) / %s", n.s);
        vnd_sb_printf(&unit, " * 8.0 / ");
        vnd_sb_real(&unit, o->slot);
        vnd_samp_interval_sql(sb, "bps", "sum(bytes)", hw.s, seen.s, unit.s);
        vnd_sb_free(&n);
        vnd_sb_free(&hw);
        vnd_sb_free(&seen);
        vnd_sb_free(&unit);
    }
    vnd_sb_printf(sb, ",\n       sum(firsts) + sum(CASE WHEN slot - t0 = floor((slot - t0) / ");
    vnd_sb_real(sb, o->slot);
    vnd_sb_printf(sb, ") * ");
    vnd_sb_real(sb, o->slot);
    vnd_sb_printf(sb, " THEN records - firsts ELSE 0 END) AS records\nFROM ");
    vnd_sb_ident(sb, name);
    vnd_sb_printf(sb, " CROSS JOIN vnd_o\nGROUP BY 1\nORDER BY 1");
    vnd_samp_free(&sp);
}

static bool answers(const struct vnd_diag_app *app)
{
    return app == &vnd_diag_throughput || app == &vnd_diag_groups || app == &vnd_diag_rtt
           || app == &vnd_diag_distribution;
}

char *vnd_diag_rollup_wanted(sqlite3 *db, const struct vnd_diag_app *app,
                             const struct vnd_diag_opts *o)
{
    struct rinfo r;
    if (!answers(app) || !o->table || disabled(o) || !lookup(db, o->table, &r))
        return NULL;
    char *name = NULL;
    /* a records rollup's rows are of no use to a question it cannot
     * answer (a --since of it has no ts_min to find its window by) */
    struct vnd_diag_ctx c = {db, o};
    if (r.agree && strcmp(r.status, VND_ROLLUP_STATUS_NONE)
        && !(r.records && fit_records(&c, app))) {
        name = r.name;
        r.name = NULL;
    }
    rinfo_free(&r);
    return name;
}

int vnd_diag_rollup_sql(const struct vnd_diag_ctx *c, const struct vnd_diag_app *app, char **sql,
                        char **why, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    *sql = *why = NULL;
    if (!answers(app) || !o->table || o->pg || disabled(o))
        return 0;
    struct rinfo r;
    if (!lookup(c->db, o->table, &r))
        return 0;
    char *cond = NULL;
    double lo, hi;
    *err = NULL;
    const char *no = fit(c, app, &r, &cond, &lo, &hi, err);
    if (*err) {
        rinfo_free(&r);
        return -1;
    }
    if (no) {
        *why = vnd_diag_errf("/* from the rows, not the rollup %s: %s */\n", r.name, no);
        rinfo_free(&r);
        return 0;
    }
    struct vnd_sb sb = {0};
    if (r.records)
        build_records(c, r.name, &sb);
    else
        build(c, app, r.name, cond, lo, hi, &sb);
    free(cond);
    rinfo_free(&r);
    *sql = vnd_sb_take(&sb);
    return 1;
}
