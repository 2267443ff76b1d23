/* coord_diag.c — diagnostic applications on the coordinator
 * (coord_diag.h).  The apps write their SQL after checking tables and
 * columns on an SQLite database; here that database is an empty copy of
 * the tenant's views (vnd_coord_schema), so the apps run unchanged and
 * their PostgreSQL form runs where the tables are. */
#include "control/coord_diag.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diag_sampling.h"
#include "diag/plot.h"
#include "ingest/rollup.h"
#include "lang/sqlfuncs.h"
#include "store/sqlmem.h"
#include "store/provider.h"
#include "util/util.h"

/* The first column of `sql`'s last row as a number (`dflt` when there is
 * none or it is NULL): 0, or the status of a failure. */
static int coord_number(struct vnd_coord_session *s, const char *sql, double dflt, double *v,
                        char **err)
{
    int st = vnd_coord_exec(s, sql, err);
    if (st)
        return st;
    *v = dflt;
    int rc;
    while ((rc = vnd_coord_fetch(s, err)) == 1) {
        struct vnd_cell cell;
        vnd_coord_cell(s, 0, &cell);
        if (cell.type == VND_CELL_REAL)
            *v = cell.r;
        else if (cell.type == VND_CELL_INT)
            *v = (double)cell.i;
        free(cell.s);
    }
    return rc;
}

/* The bottleneck app computes its time 0 before it writes its SQL (its
 * per-point parts must share it): here from the coordinator's rows. */
static int bottleneck_origin(struct vnd_coord_session *s, sqlite3 *schema,
                             struct vnd_diag_opts *o, char **err)
{
    struct vnd_diag_ctx c = {schema, o};
    /* the tables exist before their rows are asked for */
    char *probe = vnd_diag_sql(&vnd_diag_bottleneck, schema, o, err);
    if (!probe)
        return 400;
    free(probe);
    struct vnd_sb sb = {0};
    vnd_diag_origin(&c, &sb, o->path);
    /* every table empty: any origin will do */
    int st = coord_number(s, sb.s, 0, &o->origin, err);
    vnd_sb_free(&sb);
    return st;
}

/* ---- throughput, aggregated where the rows are ---- */

/* The parts of `table` (coordinator.c, build_parts): "<table>@1", ...;
 * their number, 0 when the coordinator made none. */
static int table_parts(sqlite3 *schema, const char *table, char ***out)
{
    char **parts = NULL;
    int n = 0;
    for (;;) {
        char *name = vnd_strdup_printf("%s@%d", table, n + 1);
        sqlite3_stmt *st = NULL;
        bool there = sqlite3_prepare_v2(schema, "SELECT 1 FROM sqlite_master WHERE type ="
                                        " 'table' AND name = ?", -1, &st, NULL) == SQLITE_OK
                     && sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK
                     && sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (!there) {
            free(name);
            break;
        }
        parts = vnd_xrealloc(parts, (size_t)(n + 2) * sizeof *parts);
        parts[n++] = name;
        parts[n] = NULL;
    }
    *out = parts;
    return n;
}

static void free_parts(char **parts, int n)
{
    for (int i = 0; i < n; i++)
        free(parts[i]);
    free(parts);
}

/* Time 0, min(ts) of the whole table, as one aggregate per part (FILTER
 * keeps PostgreSQL from turning min into an ORDER BY ts the table server
 * would sort and send). */
static int parts_origin(struct vnd_coord_session *s, char **parts, int n, double *origin,
                        char **err)
{
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "SELECT min(m) FROM (");
    for (int i = 0; i < n; i++) {
        vnd_sb_printf(&sb, "%sSELECT min(ts) FILTER (WHERE ts IS NOT NULL) AS m FROM ",
                      i ? " UNION ALL " : "");
        vnd_sb_ident(&sb, parts[i]);
    }
    vnd_sb_printf(&sb, ") o");
    /* every part empty: any origin will do */
    int st = coord_number(s, sb.s, 0, origin, err);
    vnd_sb_free(&sb);
    return st;
}

/* The throughput app's SQL for the coordinator, of a table of packets:
 * the embedded app's rows (t, [flow,] packets, bytes, bps), with time 0
 * asked first and written as a number and each part grouped by slot on
 * its table server, so only the slots' rows cross (docs/distributed.md).
 * *sql NULL when the coordinator has no parts of the table, or the app's
 * own SQL answers (sampled rows, flow records). */
static int coord_throughput_sql(struct vnd_coord_session *s, sqlite3 *schema,
                                struct vnd_diag_opts *o, char **sql, char **err)
{
    *sql = NULL;
    /* the app's own checks: tables, columns, filter */
    char *probe = vnd_diag_sql(&vnd_diag_throughput, schema, o, err);
    if (!probe)
        return 400;
    free(probe);
    /* sampled rows are scaled row by row (diag_sampling.h): the app's own
     * SQL does that */
    struct vnd_samp sp;
    vnd_samp_read(schema, o->table, &sp);
    bool scaled = vnd_samp_scaled(&sp);
    vnd_samp_free(&sp);
    /* flow records are spread over their seconds, not counted per row:
     * the app's own SQL does that too (docs/capture.md) */
    if (scaled || vnd_diag_flow_records(schema, o->table))
        return 0;
    char **parts;
    int n = table_parts(schema, o->table, &parts);
    if (!n)
        return 0;
    int st = 0;
    if (isnan(o->origin) && (st = parts_origin(s, parts, n, &o->origin, err))) {
        free_parts(parts, n);
        return st;
    }
    struct vnd_diag_ctx c = {schema, o};
    struct vnd_sb t0 = {0}, sb = {0};
    vnd_sb_printf(&t0, "(");
    vnd_sb_real(&t0, o->origin);
    vnd_sb_printf(&t0, ")");
    const char *keys = o->by_flow ? "1, 2" : "1";
    vnd_sb_printf(&sb, "SELECT t, %s", o->by_flow ? "flow, " : "");
    vnd_sb_printf(&sb, n > 1 ? "sum(packets) AS packets, sum(bytes) AS bytes,"
                               " sum(bytes) * 8.0 / " : "packets, bytes, bytes * 8.0 / ");
    vnd_sb_real(&sb, o->slot);
    vnd_sb_printf(&sb, " AS bps\nFROM (");
    for (int i = 0; i < n && !st; i++) {
        vnd_sb_printf(&sb, "%sSELECT ", i ? "\n      UNION ALL " : "");
        vnd_diag_slot_expr(&c, &sb, "s.ts", t0.s);
        vnd_sb_printf(&sb, " AS t, ");
        if (o->by_flow) {
            vnd_diag_flow_label(&sb, "s.");
            vnd_sb_printf(&sb, " AS flow, ");
        }
        vnd_sb_printf(&sb, "count(*) AS packets, coalesce(sum(s.payload_len), 0) AS bytes"
                           " FROM ");
        if (vnd_diag_source(&c, &sb, parts[i], true, err))
            st = 400;
        /* true of every group; it tells the planner that the grouped rows
         * are fewer than the rows, so it sends the GROUP BY however few
         * rows it expects of the window */
        vnd_sb_printf(&sb, " s GROUP BY %s HAVING count(*) > 0", keys);
    }
    if (n > 1)
        vnd_sb_printf(&sb, ") u\nGROUP BY %s\nORDER BY %s", keys, o->by_flow ? "2, 1" : "1");
    else
        vnd_sb_printf(&sb, ") u\nORDER BY %s", o->by_flow ? "2, 1" : "1");
    free_parts(parts, n);
    vnd_sb_free(&t0);
    if (st) {
        vnd_sb_free(&sb);
        return st;
    }
    *sql = sb.s;
    return 0;
}

static double cell_num(const struct vnd_cell *c)
{
    return c->type == VND_CELL_REAL ? c->r : c->type == VND_CELL_INT ? (double)c->i : NAN;
}

/* The bottleneck's rows (hop, span, t, rtt_from_ms, rtt_to_ms, proc_ms,
 * sent, lost, loss_rate, ordered by hop and t) to `out` and judged. */
static int bottleneck_rows(struct vnd_coord_session *s, const struct vnd_diag_opts *o,
                           const struct vnd_diag_view *v, struct vnd_out *out,
                           struct vnd_plot *pp, struct vnd_plot *lp,
                           struct vnd_bottleneck_verdict *verdict, char **err)
{
    int nh = o->npath - 1;
    struct vnd_hop_slot *series[VND_DIAG_PATH_MAX] = {0};
    int n[VND_DIAG_PATH_MAX] = {0}, cap[VND_DIAG_PATH_MAX] = {0};
    int ncols = vnd_coord_ncols(s);
    const char **names = vnd_xcalloc((size_t)ncols + 1, sizeof *names);
    for (int i = 0; i < ncols; i++)
        names[i] = vnd_coord_colname(s, i);
    vnd_out_columns(out, ncols, names);
    free(names);
    int rc;
    while ((rc = vnd_coord_fetch(s, err)) == 1) {
        struct vnd_cell c[9];
        for (int i = 0; i < 9; i++)
            vnd_coord_cell(s, i < ncols ? i : 0, &c[i]);
        int h = c[0].type == VND_CELL_INT ? (int)c[0].i : -1;
        double t = cell_num(&c[2]);
        if (h >= 0 && h < nh) {
            if (n[h] == cap[h]) {
                cap[h] = cap[h] ? 2 * cap[h] : 64;
                series[h] = vnd_xrealloc(series[h], (size_t)cap[h] * sizeof *series[h]);
            }
            struct vnd_hop_slot *slot = &series[h][n[h]++];
            slot->t = t;
            slot->proc_ms = cell_num(&c[5]);
            slot->sent = (long long)cell_num(&c[6]);
            slot->lost = (long long)cell_num(&c[7]);
            if (pp)
                vnd_plot_add(pp, c[1].s ? c[1].s : "?", t, slot->proc_ms);
            if (lp)
                vnd_plot_add(lp, c[1].s ? c[1].s : "?", t, (double)slot->lost);
        }
        if (!(t < v->min_t))
            vnd_coord_out_row(s, out);
        for (int i = 0; i < 9; i++)
            free(c[i].s);
    }
    if (rc == 0)
        vnd_bottleneck_judge(nh, series, n, verdict);
    for (int h = 0; h < nh; h++)
        free(series[h]);
    return rc;
}

/* ---- the coordinator's own SQLite (the schema copy, a rollup's rows) ----
 * bounded as a tenant's statement is on PostgreSQL: the session's time
 * limit (a progress handler) and memory bound (store/sqlmem.h) */

static int past_deadline(void *arg)
{
    return vnd_now() > *(const double *)arg;
}

/* The HTTP status of a failed step of the local SQLite. */
static int local_status(int rc)
{
    return rc == SQLITE_INTERRUPT || rc == SQLITE_NOMEM ? 503 : 500;
}

static const char *local_message(int status)
{
    return status == 503 ? "stopped at the time limit or the memory bound of a statement; "
                           "ask a shorter range or no_rollup"
                         : "the coordinator's copy failed";
}

/* The local cursor's failures, as the coordinator's statuses. */
static char *local_why(void *arg, int rc, int *code)
{
    sqlite3 *db = arg;
    *code = local_status(rc == SQLITE_ERROR ? sqlite3_errcode(db) : rc);
    return vnd_strdup_printf("%s: %s", local_message(*code), sqlite3_errmsg(db));
}

/* The rows of `cols` ("*": all) from the coordinator's `table` (those
 * `where` holds, NULL: all) into the schema's empty copy of it, when the
 * copy has those columns (a statement that fails would end the session's
 * transaction: none is tried). */
static int copy_rows(struct vnd_coord_session *s, sqlite3 *schema, const char *table,
                     const char *cols, const char *where, char **err)
{
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "SELECT %s FROM ", cols);
    vnd_sb_ident(&sb, table);
    if (where)
        vnd_sb_printf(&sb, " WHERE %s", where);
    sqlite3_stmt *probe = NULL;
    bool there = sqlite3_prepare_v2(schema, sb.s, -1, &probe, NULL) == SQLITE_OK;
    sqlite3_finalize(probe);
    int rc = there ? vnd_coord_exec(s, sb.s, err) : 0;
    vnd_sb_free(&sb);
    if (!there || rc)
        return rc;
    struct vnd_cursor *c = vnd_coord_cursor(s);
    vnd_sb_printf(&sb, "INSERT INTO ");
    vnd_sb_ident(&sb, table);
    for (int i = 0; i < c->ncols; i++) {
        vnd_sb_printf(&sb, i ? ", " : " (");
        vnd_sb_ident(&sb, c->cols[i]);
    }
    vnd_sb_printf(&sb, ") VALUES (");
    for (int i = 0; i < c->ncols; i++)
        vnd_sb_printf(&sb, i ? ", ?" : "?");
    vnd_sb_printf(&sb, ")");
    sqlite3_stmt *ins = NULL;
    if (sqlite3_prepare_v2(schema, sb.s, -1, &ins, NULL) != SQLITE_OK) {
        *err = vnd_strdup_printf("the diagnosis's copy of %s: %s", table, sqlite3_errmsg(schema));
        rc = 500;
    }
    vnd_sb_free(&sb);
    int code = 0, more;
    char *why = NULL;
    while ((more = vnd_cursor_next(c, &code, &why)) == 1) {
        for (int i = 0; i < c->ncols && ins; i++) {
            struct vnd_value v;
            vnd_cursor_cell(c, i, &v);
            if (v.type == VND_SQL_INTEGER)
                sqlite3_bind_int64(ins, i + 1, v.i);
            else if (v.type == VND_SQL_REAL)
                sqlite3_bind_double(ins, i + 1, v.d);
            else if (v.type == VND_SQL_TEXT)
                sqlite3_bind_text(ins, i + 1, v.s, (int)v.slen, SQLITE_TRANSIENT);
            else if (v.type == VND_SQL_BLOB)
                sqlite3_bind_blob(ins, i + 1, v.s, (int)v.slen, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(ins, i + 1);
        }
        if (ins && sqlite3_step(ins) != SQLITE_DONE && !rc) {
            /* past the statement's memory bound, or the time limit: the
             * rest still comes (drained), nothing more is kept */
            rc = local_status(sqlite3_errcode(schema));
            *err = vnd_strdup_printf("%s (copying %s here)", local_message(rc),
                                     table);
            sqlite3_finalize(ins);
            ins = NULL;
        }
        if (ins)
            sqlite3_reset(ins);
    }
    vnd_cursor_close(c);
    sqlite3_finalize(ins);
    if (more < 0 && !rc) {
        *err = why;
        return code ? code : 502;
    }
    free(why);
    return rc;
}

/* How the tables were sampled, for the apps to read as on a table server
 * (diag_sampling.h), and what rollups they have (diag_rollup.c): vnd_meta
 * (a view here), and vnd_sampling when the coordinator shows it (else
 * vnd_meta's one interval).  0, or the status of a host that did not
 * answer (the session's transaction is over). */
static int copy_meta(struct vnd_coord_session *s, sqlite3 *schema, char **err)
{
    /* updated: when each table's rows were last stored (loss judges the
     * packets before it; the drops, it says beside them); a view without
     * it still gives the rest */
    sqlite3_stmt *probe = NULL;
    bool updated = sqlite3_prepare_v2(schema, "SELECT updated FROM vnd_meta", -1, &probe,
                                      NULL) == SQLITE_OK;
    sqlite3_finalize(probe);
    char *cols = vnd_strdup_printf("trace, tbl, source, sampling, flow_sampling, snaplen, status,"
                                   " packets_stored, dropped_kernel, dropped_queue, rollup, rollup_status,"
                                   " rollup_packets%s",
                                   updated ? ", updated" : "");
    int rc = copy_rows(s, schema, "vnd_meta", cols, NULL, err);
    free(cols);
    /* snaplen came later: a diagnosis's foreign table from before lacks it */
    probe = NULL;
    bool snaplen = sqlite3_prepare_v2(schema, "SELECT snaplen FROM vnd_sampling", -1, &probe,
                                      NULL) == SQLITE_OK;
    sqlite3_finalize(probe);
    if (!rc)
        rc = copy_rows(s, schema, "vnd_sampling",
                       snaplen ? "trace, tbl, from_ts, sampling, method, flow_sampling, snaplen"
                               : "trace, tbl, from_ts, sampling, method, flow_sampling",
                       NULL, err);
    return rc;
}

/* A rollup's first slot and time 0 (its first row's ts: min(ts_min) of
 * that slot), each an aggregate the table server answers through the
 * rollup's slot index; NaN when it is empty.  Asked once per run: time 0
 * and a --since/--until range both need them. */
struct rollup_start {
    char *name;                     /* whose they are (NULL: none asked yet) */
    double first, t0;
};

static int rollup_t0(struct vnd_coord_session *s, const char *name, struct rollup_start *rs,
                     char **err)
{
    if (rs->name && !strcmp(rs->name, name))
        return 0;
    free(rs->name);
    rs->name = NULL;
    struct vnd_sb sb = {0}, q = {0};
    vnd_sb_ident(&q, name);
    rs->t0 = NAN;
    vnd_sb_printf(&sb, "SELECT min(slot) FROM %s", q.s);
    int st = coord_number(s, sb.s, NAN, &rs->first, err);
    vnd_sb_free(&sb);
    if (!st && !isnan(rs->first)) {
        vnd_sb_printf(&sb, "SELECT min(ts_min) FROM %s WHERE slot = %.0f", q.s, rs->first);
        st = coord_number(s, sb.s, NAN, &rs->t0, err);
        vnd_sb_free(&sb);
    }
    vnd_sb_free(&q);
    if (!st)
        rs->name = vnd_xstrdup(name);
    return st;
}

/* The apps' time 0, min(ts) over every table they read, from the tables'
 * rollups when each has one that holds its rows in time: two aggregates
 * on its slot index instead of a scan of the whole table on its table
 * server (the same number: a rollup's time 0 is its table's first row,
 * and a row before it would have stopped its slots).  o->origin stays
 * NaN when a table has no such rollup. */
static int rollup_origin(struct vnd_coord_session *s, sqlite3 *schema, struct vnd_diag_opts *o,
                         struct rollup_start *rs, char **err)
{
    const char *tabs[VND_DIAG_PATH_MAX + 4];
    int n = vnd_diag_tables(o, tabs);
    double t = INFINITY;
    for (int i = 0; i < n; i++) {
        char *name = vnd_diag_rollup_timed(schema, o, tabs[i]);
        int st = name ? rollup_t0(s, name, rs, err) : 0;
        bool known = name && !st && !isnan(rs->t0);
        free(name);
        if (st)
            return st;
        if (!known)
            return 0;
        t = fmin(t, rs->t0);
    }
    if (n && isfinite(t))
        o->origin = t;
    return 0;
}

/* The rollup's rows a --since/--until question reads, as a condition
 * the table server evaluates (*where, NULL: all rows): the slots of the
 * range (whole slots from the rollup's time 0, as diag_rollup.c takes
 * them) and the first slot, whose rows give time 0 here too.  Without a
 * range the whole rollup comes: a row per slot, flow and kind. */
static int rollup_window(struct vnd_coord_session *s, const char *name,
                         const struct vnd_diag_opts *o, struct rollup_start *rs, char **where,
                         char **err)
{
    *where = NULL;
    if (isnan(o->since) && isnan(o->until))
        return 0;
    int st = rollup_t0(s, name, rs, err);
    if (st || isnan(rs->t0))
        return st;
    double first = rs->first, t0 = rs->t0;
    struct vnd_sb sb = {0};
    /* kept inside bigint's range: a far --since is still a number there */
    const double far = 1e15;
    vnd_sb_printf(&sb, "slot = %.0f OR (true", first);
    if (!isnan(o->since))
        vnd_sb_printf(&sb, " AND slot >= %.0f",
                      fmax(-far, fmin(far, floor((o->since - t0) / VND_ROLLUP_SLOT))));
    if (!isnan(o->until))
        vnd_sb_printf(&sb, " AND slot < %.0f",
                      fmax(-far, fmin(far, ceil((o->until - t0) / VND_ROLLUP_SLOT))));
    vnd_sb_printf(&sb, ")");
    *where = vnd_sb_take(&sb);
    return 0;
}

/* Throughput, groups, distribution and rtt from the table's rollup, as in
 * embedded mode (diag_rollup.c), when vnd_meta says it holds the table's
 * rows: the rollup's rows (one per slot, flow and kind, however many
 * packets) come here into the schema's copy, and the app's SQL over them
 * runs in it with the sketch functions (SQLite's; PostgreSQL has none).
 * 1 and *sql when the question fits the rollup; 0 and *why (a comment
 * line, or NULL) when not; else a status and *err. */
static int coord_rollup_sql(struct vnd_coord_session *s, sqlite3 *schema,
                            const struct vnd_diag_app *app, const struct vnd_diag_opts *o,
                            struct rollup_start *rs, char **sql, char **why, char **err)
{
    *sql = *why = NULL;
    struct vnd_diag_opts lo = *o;
    lo.pg = false;              /* the rollup's SQL is SQLite's, run here */
    /* not wanted: asked all the same, for the comment saying why not */
    char *name = vnd_diag_rollup_wanted(schema, app, &lo);
    char *where = NULL;
    int st = name ? rollup_window(s, name, o, rs, &where, err) : 0;
    if (name && !st)
        st = copy_rows(s, schema, name, "*", where, err);
    free(where);
    if (name && !st && vnd_sql_register_functions(schema) != SQLITE_OK) {
        *err = vnd_xstrdup("out of memory");
        st = 500;
    }
    if (st) {
        free(name);
        return st;
    }
    free(name);
    struct vnd_diag_ctx c = {schema, &lo};
    int rc = vnd_diag_rollup_sql(&c, app, sql, why, err);
    return rc < 0 ? 400 : rc;
}

/* The view's "complete" (runner.h) here: the end of the complete slots,
 * as embedded mode's vnd_diag_complete_t, from the views: time 0 (set in
 * o->origin), the newest ts, and of a table of flow records its settle,
 * the rollup's when it has one that answers, else the records' longest
 * span (the views keep no arrival order to tell lateness by).  Packets
 * are read up to it by slot index (vnd_diag_bound_slots), records whole
 * with the rows past it left out (*max_t).  0, or a status and *err. */
static int coord_complete(struct vnd_coord_session *s, sqlite3 *schema,
                          const struct vnd_diag_app *app, struct vnd_diag_opts *o, double *max_t,
                          char **err)
{
    char *probe = vnd_diag_sql(app, schema, o, err);     /* the tables are there */
    if (!probe)
        return 400;
    free(probe);
    struct vnd_diag_ctx c = {schema, o};
    const char *tabs[VND_DIAG_PATH_MAX + 4];
    int n = vnd_diag_tables(o, tabs);
    struct vnd_sb sb = {0};
    int st = 0;
    if (isnan(o->origin)) {
        vnd_diag_origin(&c, &sb, tabs);
        st = coord_number(s, sb.s, NAN, &o->origin, err);
        vnd_sb_free(&sb);
    }
    /* one table's newest; of several, what all of them hold */
    double top = NAN;
    vnd_sb_printf(&sb, "SELECT %s(m) FROM (", o->table ? "max" : "min");
    for (int i = 0; i < n; i++) {
        vnd_sb_printf(&sb, "%sSELECT max(ts) AS m FROM ", i ? " UNION ALL " : "");
        vnd_sb_ident(&sb, tabs[i]);
    }
    vnd_sb_printf(&sb, ") n");
    if (!st)
        st = coord_number(s, sb.s, NAN, &top, err);
    vnd_sb_free(&sb);
    if (st || isnan(o->origin) || isnan(top)) {
        *max_t = -INFINITY;             /* empty: nothing complete */
        return st;
    }
    bool two = o->in || o->npath;
    bool records = !two && o->table && app == &vnd_diag_throughput
                   && vnd_diag_flow_records(schema, o->table);
    double behind = two ? o->window : 0;
    if (records) {
        struct vnd_diag_opts lo = *o;
        lo.pg = false;
        char *rollup = vnd_diag_rollup_wanted(schema, app, &lo);
        if (rollup) {
            vnd_sb_printf(&sb, "SELECT max(settle) FROM ");
            vnd_sb_ident(&sb, rollup);
        } else {
            vnd_sb_printf(&sb, "SELECT max(b1 - b0) FROM (SELECT ");
            vnd_diag_record_start(&sb, "");
            vnd_sb_printf(&sb, " AS b0, ");
            vnd_diag_record_end(&sb, "");
            vnd_sb_printf(&sb, " AS b1 FROM ");
            vnd_sb_ident(&sb, o->table);
            vnd_sb_printf(&sb, ") r");
        }
        free(rollup);
        st = coord_number(s, sb.s, 0, &behind, err);
        vnd_sb_free(&sb);
        if (st)
            return st;
    }
    double done = floor((top - o->origin - behind) / o->slot) * o->slot;
    if (records)
        *max_t = fmin(*max_t, done);
    else
        vnd_diag_bound_slots(o, NAN, done);  /* by slot index, as the slots are computed */
    return 0;
}

static int diag_run(struct vnd_coord_session *s, const struct vnd_diag_app *app,
                    const struct vnd_diag_opts *o0, const struct vnd_diag_view *v, char **sql,
                    char **err)
{
    sqlite3 *schema = NULL;
    int st = vnd_coord_schema(s, &schema, err);
    if (st)
        return st;
    double timeout = vnd_coord_timeout(vnd_coord_of(s));
    double deadline = timeout > 0 ? vnd_now() + timeout : INFINITY;
    sqlite3_progress_handler(schema, 10000, past_deadline, &deadline);
    if ((st = copy_meta(s, schema, err))) {
        sqlite3_close(schema);
        return st;
    }
    struct vnd_diag_opts o = *o0;
    o.pg = true;
    struct rollup_start rs = {0};
    if (isnan(o.origin) && (st = rollup_origin(s, schema, &o, &rs, err))) {
        free(rs.name);
        sqlite3_close(schema);
        return st;
    }
    bool bottleneck = app == &vnd_diag_bottleneck;
    if (bottleneck && isnan(o.origin) && !sql && (st = bottleneck_origin(s, schema, &o, err))) {
        sqlite3_close(schema);
        return st;
    }
    double max_t = v && v->upto ? v->max_t : INFINITY;
    if (v && v->complete && app->timed && !sql
        && (st = coord_complete(s, schema, app, &o, &max_t, err))) {
        sqlite3_close(schema);
        return st;
    }
    char *q = NULL, *why = NULL;
    /* sampled rows are scaled row by row (diag_sampling.h), which a
     * rollup's sums are not: the rows answer, as in embedded mode */
    int local = vnd_diag_sampling_no_rollup(&(struct vnd_diag_ctx){schema, &o}, app, &why)
                    ? 0 : coord_rollup_sql(s, schema, app, &o, &rs, &q, &why, err);
    free(rs.name);
    if (local > 1) {
        sqlite3_close(schema);
        return local;
    }
    if (!local && app == &vnd_diag_throughput
        && (st = coord_throughput_sql(s, schema, &o, &q, err))) {
        sqlite3_close(schema);
        free(why);
        return st;
    }
    if (!q)
        q = vnd_diag_sql(app, schema, &o, err);
    /* the schema stays open for the sampling notes after the rows */
    if (!q || sql) {
        sqlite3_close(schema);
        /* the rows' SQL under the comment saying why not the rollup */
        if (q && why) {
            *sql = vnd_strdup_printf("%s%s", why, q);
            free(q);
        } else if (q) {
            *sql = q;
        }
        free(why);
        return q ? 0 : 400;
    }
    free(why);
    sqlite3_stmt *lst = NULL;
    if (local && sqlite3_prepare_v2(schema, q, -1, &lst, NULL) != SQLITE_OK) {
        *err = vnd_strdup_printf("the rollup's SQL: %s", sqlite3_errmsg(schema));
        st = 500;
    } else if (!local) {
        st = vnd_coord_exec(s, q, err);
    }
    free(q);
    if (st) {
        sqlite3_close(schema);
        return st;
    }
    struct vnd_out *out = vnd_out_new(v->out, v->fmt);
    int rc;
    if (bottleneck) {
        struct vnd_plot *pp = v->plot ? vnd_plot_new("processing time per hop", "ms") : NULL;
        struct vnd_plot *lp = v->plot ? vnd_plot_new("packets lost per hop", "per slot") : NULL;
        struct vnd_bottleneck_verdict verdict;
        if (v->verdict)
            vnd_out_object(out);
        rc = bottleneck_rows(s, &o, v, out, pp, lp, &verdict, err);
        if (!rc && v->verdict && v->fmt != VND_FMT_TABLE)
            vnd_bottleneck_verdict_out(out, &o, &verdict);
        if (!rc && v->verdict) {
            vnd_diag_sampling_out(out, schema, app, &o);
            vnd_diag_drops_out(out, schema, app, &o);
        }
        vnd_out_finish(out);
        if (!rc && v->verdict && v->fmt == VND_FMT_TABLE) {
            vnd_diag_sampling_note(v->out, schema, app, &o);
            vnd_diag_drops_note(v->out, schema, app, &o);
        }
        if (!rc && pp) {
            vnd_plot_draw(pp, v->out, 64, 12);
            vnd_plot_draw(lp, v->out, 64, 8);
        }
        if (!rc && v->verdict && v->fmt == VND_FMT_TABLE) {
            char *text = vnd_bottleneck_verdict_text(&o, &verdict);
            fprintf(v->out, "\n%s\n", text);
            free(text);
        }
        vnd_plot_free(pp);
        vnd_plot_free(lp);
    } else {
        const char *ycol = NULL, *title = NULL, *unit = NULL;
        struct vnd_plot *plot = v->plot && vnd_diag_plot_spec(app->name, &ycol, &title, &unit)
                                    ? vnd_plot_new(title, unit) : NULL;
        vnd_out_object(out);
        struct vnd_cursor *rows = local ? vnd_cursor_sqlite(lst, local_why, schema)
                                        : vnd_coord_cursor(s);
        int code = 0;
        rc = vnd_diag_cursor_out(rows, out, v->min_t, max_t, ycol, plot, &code, err) ? code : 0;
        vnd_cursor_close(rows);
        /* loss: the rows it could not judge yet (counted where they are); every
         * app: what the captures dropped (diag_drops.c) */
        struct vnd_loss_side sides[2] = {0};
        if (!rc && app == &vnd_diag_loss) {
            struct vnd_diag_ctx c = {schema, &o};
            rc = vnd_diag_loss_sides(&c, sides, err) ? 400 : 0;
            for (int k = 0; k < 2 && !rc; k++) {
                double n = 0;
                if (sides[k].count_sql && !(rc = coord_number(s, sides[k].count_sql, 0, &n, err)))
                    sides[k].rows = (long long)n;
            }
        }
        if (!rc) {
            vnd_diag_sampling_out(out, schema, app, &o);
            vnd_diag_loss_sides_out(out, sides);
            vnd_diag_drops_out(out, schema, app, &o);
        }
        vnd_out_finish(out);
        if (!rc && v->fmt == VND_FMT_TABLE) {
            vnd_diag_sampling_note(v->out, schema, app, &o);
            vnd_diag_loss_sides_note(v->out, sides);
            vnd_diag_drops_note(v->out, schema, app, &o);
        }
        vnd_diag_loss_sides_free(sides);
        if (!rc && plot)
            vnd_plot_draw(plot, v->out, 64, 12);
        vnd_plot_free(plot);
    }
    sqlite3_close(schema);
    fflush(v->out);
    return rc;
}

int vnd_coord_diag(struct vnd_coord_session *s, const struct vnd_diag_app *app,
                   const struct vnd_diag_opts *o, const struct vnd_diag_view *v, char **sql,
                   char **err)
{
    uint64_t bound = vnd_coord_memory(vnd_coord_of(s));
    struct vnd_sqlmem_budget *mem = bound ? vnd_sqlmem_acquire(bound) : NULL;
    vnd_sqlmem_enter(mem);
    int st = diag_run(s, app, o, v, sql, err);
    vnd_sqlmem_enter(NULL);
    vnd_sqlmem_release(mem);
    return st;
}
