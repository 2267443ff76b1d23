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
#include "store/provider.h"
#include "util/util.h"

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
    int st = vnd_coord_exec(s, sb.s, err);
    vnd_sb_free(&sb);
    if (st)
        return st;
    o->origin = 0;              /* every table empty: any origin will do */
    int rc;
    while ((rc = vnd_coord_fetch(s, err)) == 1) {
        struct vnd_cell cell;
        vnd_coord_cell(s, 0, &cell);
        if (cell.type == VND_CELL_REAL)
            o->origin = cell.r;
        else if (cell.type == VND_CELL_INT)
            o->origin = (double)cell.i;
        free(cell.s);
    }
    return rc;
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
    int st = vnd_coord_exec(s, sb.s, err);
    vnd_sb_free(&sb);
    if (st)
        return st;
    *origin = 0;                /* every part empty: any origin will do */
    int rc;
    while ((rc = vnd_coord_fetch(s, err)) == 1) {
        struct vnd_cell cell;
        vnd_coord_cell(s, 0, &cell);
        if (cell.type == VND_CELL_REAL)
            *origin = cell.r;
        else if (cell.type == VND_CELL_INT)
            *origin = (double)cell.i;
        free(cell.s);
    }
    return rc;
}

/* The throughput app's SQL for the coordinator: the embedded app's rows
 * (t, [flow,] packets, bytes, bps), with time 0 asked first and written
 * as a number and each part grouped by slot on its table server, so only
 * the slots' rows cross (docs/distributed.md).  *sql NULL when the
 * coordinator has no parts of the table (the app's own SQL then). */
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
    if (scaled)
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

/* The rows of `cols` from the coordinator's `table` into the schema's
 * empty copy of it, when the copy has those columns (a statement that
 * fails would end the session's transaction: none is tried). */
static int copy_rows(struct vnd_coord_session *s, sqlite3 *schema, const char *table,
                     const char *cols, int ncols, char **err)
{
    char *sql = vnd_strdup_printf("SELECT %s FROM %s", cols, table);
    char *ins = vnd_strdup_printf("INSERT INTO %s (%s) VALUES (?, ?, ?, ?, ?%s)", table, cols,
                                  ncols > 5 ? ", ?" : "");
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(schema, ins, -1, &st, NULL) == SQLITE_OK
        && (rc = vnd_coord_exec(s, sql, err)) == 0) {
        while ((rc = vnd_coord_fetch(s, err)) == 1) {
            for (int i = 0; i < ncols; i++) {
                struct vnd_cell c;
                vnd_coord_cell(s, i, &c);
                if (c.type == VND_CELL_INT)
                    sqlite3_bind_int64(st, i + 1, c.i);
                else if (c.type == VND_CELL_REAL)
                    sqlite3_bind_double(st, i + 1, c.r);
                else if (c.type == VND_CELL_TEXT)
                    sqlite3_bind_text(st, i + 1, c.s, -1, SQLITE_TRANSIENT);
                else
                    sqlite3_bind_null(st, i + 1);
                free(c.s);
            }
            sqlite3_step(st);
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    free(sql);
    free(ins);
    return rc;
}

/* How the tables were sampled, for the apps to read as on a table server
 * (diag_sampling.h): vnd_meta (a view here), and vnd_sampling when the
 * coordinator shows it (else vnd_meta's one interval).  0, or the status
 * of a host that did not answer (the session's transaction is over). */
static int copy_sampling(struct vnd_coord_session *s, sqlite3 *schema, char **err)
{
    int rc = copy_rows(s, schema, "vnd_meta", "trace, tbl, source, sampling, flow_sampling", 5,
                       err);
    if (!rc)
        rc = copy_rows(s, schema, "vnd_sampling",
                       "trace, tbl, from_ts, sampling, method, flow_sampling", 6, err);
    return rc;
}

int vnd_coord_diag(struct vnd_coord_session *s, const struct vnd_diag_app *app,
                   const struct vnd_diag_opts *o0, const struct vnd_diag_view *v, char **sql,
                   char **err)
{
    sqlite3 *schema = NULL;
    int st = vnd_coord_schema(s, &schema, err);
    if (st)
        return st;
    if ((st = copy_sampling(s, schema, err))) {
        sqlite3_close(schema);
        return st;
    }
    struct vnd_diag_opts o = *o0;
    o.pg = true;
    bool bottleneck = app == &vnd_diag_bottleneck;
    if (bottleneck && isnan(o.origin) && !sql && (st = bottleneck_origin(s, schema, &o, err))) {
        sqlite3_close(schema);
        return st;
    }
    char *q = NULL;
    if (app == &vnd_diag_throughput && (st = coord_throughput_sql(s, schema, &o, &q, err))) {
        sqlite3_close(schema);
        return st;
    }
    if (!q)
        q = vnd_diag_sql(app, schema, &o, err);
    /* the schema stays open for the sampling notes after the rows */
    if (!q || sql) {
        sqlite3_close(schema);
        if (q)
            *sql = q;
        return q ? 0 : 400;
    }
    st = vnd_coord_exec(s, q, err);
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
        if (!rc && v->verdict)
            vnd_diag_sampling_out(out, schema, app, &o);
        vnd_out_finish(out);
        if (!rc && v->verdict && v->fmt == VND_FMT_TABLE)
            vnd_diag_sampling_note(v->out, schema, app, &o);
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
        struct vnd_cursor *rows = vnd_coord_cursor(s);
        int code = 0;
        rc = vnd_diag_cursor_out(rows, out, v->min_t, ycol, plot, &code, err) ? code : 0;
        vnd_cursor_close(rows);
        if (!rc)
            vnd_diag_sampling_out(out, schema, app, &o);
        vnd_out_finish(out);
        if (!rc && v->fmt == VND_FMT_TABLE)
            vnd_diag_sampling_note(v->out, schema, app, &o);
        if (!rc && plot)
            vnd_plot_draw(plot, v->out, 64, 12);
        vnd_plot_free(plot);
    }
    sqlite3_close(schema);
    fflush(v->out);
    return rc;
}
