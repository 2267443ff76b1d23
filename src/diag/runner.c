/* runner.c — one run of a diagnostic application, as the CLI and the
 * control server show it: its C step or its SQL, rows from a time on, the
 * plot series, the bottleneck verdict. */
#include "diag/runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diag_sampling.h"
#include "diag/plot.h"
#include "output/output.h"
#include "store/provider.h"
#include "util/util.h"

struct plot_spec {
    const char *app, *col, *title, *unit;
};

static const struct plot_spec plot_specs[] = {
    {"throughput", "bps", "throughput", "bit/s"},
    {"rtt", "mean_ms", "mean RTT", "ms"},
    {"delay", "mean_ms", "mean one-hop delay", "ms"},
    {"loss", "lost", "packets lost", "packets per slot"},
};

bool vnd_diag_plot_spec(const char *app, const char **col, const char **title,
                        const char **unit)
{
    for (size_t i = 0; i < sizeof plot_specs / sizeof *plot_specs; i++)
        if (!strcmp(plot_specs[i].app, app)) {
            *col = plot_specs[i].col;
            *title = plot_specs[i].title;
            *unit = plot_specs[i].unit;
            return true;
        }
    return false;
}

/* Column index by name, or -1. */
static int column(const struct vnd_cursor *c, const char *name)
{
    for (int i = 0; i < c->ncols; i++)
        if (!strcmp(c->cols[i], name))
            return i;
    return -1;
}

/* A cell as a number, as SQLite would read it. */
static double number(const struct vnd_value *v)
{
    return v->type == VND_SQL_INTEGER ? (double)v->i : v->type == VND_SQL_REAL ? v->d
           : v->type == VND_SQL_TEXT  ? strtod(v->s, NULL) : 0;
}

/* Appends a cell as text (a plot series' key) to key. */
static void append_text(char *key, size_t size, const struct vnd_value *v)
{
    size_t at = strlen(key);
    const char *sep = at ? " " : "";
    if (v->type == VND_SQL_INTEGER)
        snprintf(key + at, size - at, "%s%lld", sep, (long long)v->i);
    else if (v->type == VND_SQL_REAL)
        snprintf(key + at, size - at, "%s%g", sep, v->d);
    else if (v->type == VND_SQL_TEXT)
        snprintf(key + at, size - at, "%s%.*s", sep, (int)v->slen, v->s);
}

int vnd_diag_cursor_out(struct vnd_cursor *c, struct vnd_out *out, double min_t, double max_t,
                        const char *ycol, struct vnd_plot *plot, int *code, char **why)
{
    int n = c->ncols;
    vnd_out_columns(out, n, (const char *const *)c->cols);
    int tcol = column(c, "t"), y = ycol ? column(c, ycol) : -1;
    int keys[2] = {column(c, "dir"), column(c, "flow")};
    /* a sampled table's throughput: its 95% interval drawn around it (one
     * series only: per flow the chart would run out of marks) */
    int band[2] = {-1, -1};
    if (plot && keys[0] < 0 && keys[1] < 0) {
        band[0] = column(c, "bps_low");
        band[1] = column(c, "bps_high");
    }
    struct vnd_value *v = vnd_xcalloc((size_t)n + 1, sizeof *v);
    int rc;
    while ((rc = vnd_cursor_next(c, code, why)) == 1) {
        double t = 0;
        if (tcol >= 0) {            /* rows before min_t: nothing else read */
            vnd_cursor_cell(c, tcol, &v[tcol]);
            t = number(&v[tcol]);
            if (t < min_t || t >= max_t)
                continue;
        }
        for (int i = 0; i < n; i++) {
            vnd_cursor_cell(c, i, &v[i]);
            vnd_out_cell(out, &v[i]);
        }
        vnd_out_end_row(out);
        if (plot && y >= 0 && tcol >= 0 && v[y].type != VND_SQL_NULL) {
            char key[256] = "";
            for (int k = 0; k < 2; k++)
                if (keys[k] >= 0)
                    append_text(key, sizeof key, &v[keys[k]]);
            vnd_plot_add(plot, *key ? key : ycol, t, number(&v[y]));
            for (int b = 0; b < 2; b++)
                if (band[b] >= 0 && v[band[b]].type != VND_SQL_NULL)
                    vnd_plot_add(plot, b ? "95% high" : "95% low", t, number(&v[band[b]]));
        }
    }
    free(v);
    return rc < 0 ? -1 : 0;
}

/* Runs `sql`: rows with min_t <= t < max_t to out, values to plot.
 * Returns 0, or -1 and *err. */
static int run_sql(struct vnd_guard *g, const char *sql, struct vnd_out *out, double min_t,
                   double max_t, const struct plot_spec *ps, struct vnd_plot *plot, char **err)
{
    sqlite3_stmt *st = NULL;
    if (vnd_guard_prepare(g, sql, &st, err))
        return -1;
    struct vnd_cursor *c = vnd_guard_cursor(g, st);
    vnd_guard_start(g);
    char *why = NULL;
    int rc = vnd_diag_cursor_out(c, out, min_t, max_t, ps ? ps->col : NULL, plot, NULL, &why);
    if (rc) {
        *err = vnd_diag_errf("%s", why);
        free(why);
    }
    vnd_cursor_close(c);
    return rc;
}

/* The plot of rows a C step made, as run_sql draws a statement's. */
static void plot_rows(const struct vnd_diag_rows *r, double min_t, double max_t,
                      const struct plot_spec *ps, struct vnd_plot *plot)
{
    int tcol = vnd_rows_col(r, "t"), ycol = vnd_rows_col(r, ps->col);
    int keys[2] = {vnd_rows_col(r, "dir"), vnd_rows_col(r, "flow")};
    if (tcol < 0 || ycol < 0)
        return;
    for (size_t k = 0; k < vnd_rows_count(r); k++) {
        const struct vnd_cell *row = &r->c[k * (size_t)r->ncols];
        double t = row[tcol].type == VND_CELL_REAL ? row[tcol].r : (double)row[tcol].i;
        if (t < min_t || t >= max_t || row[ycol].type == VND_CELL_NULL)
            continue;
        char key[256] = "";
        for (int i = 0; i < 2; i++)
            if (keys[i] >= 0)
                snprintf(key + strlen(key), sizeof key - strlen(key), "%s%s", *key ? " " : "",
                         row[keys[i]].s ? row[keys[i]].s : "");
        double y = row[ycol].type == VND_CELL_REAL ? row[ycol].r : (double)row[ycol].i;
        vnd_plot_add(plot, *key ? key : ps->col, t, y);
    }
}

/* The first column of `sql`'s first row as a number; `dflt` when there
 * is none, it is NULL or the statement fails. */
static double sql_number(sqlite3 *db, const char *sql, double dflt)
{
    double v = dflt;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

double vnd_diag_newest(sqlite3 *db, const struct vnd_diag_opts *o)
{
    /* a rollup's newest slot: a cost that does not grow with the table */
    double r = vnd_diag_rollup_ts(db, o, true);
    if (!isnan(r))
        return r;
    const char *tabs[VND_DIAG_PATH_MAX + 4];
    int n = vnd_diag_tables(o, tabs);
    double m = NAN;
    for (int i = 0; i < n; i++) {
        struct vnd_sb sb = {0};
        vnd_sb_printf(&sb, "SELECT max(ts) FROM ");
        vnd_sb_ident(&sb, tabs[i]);
        double v = sql_number(db, sb.s, NAN);
        /* two tables: what the slower one has is what is complete */
        if (!isnan(v))
            m = isnan(m) ? v : (o->table ? fmax(m, v) : fmin(m, v));
        vnd_sb_free(&sb);
    }
    return m;
}

double vnd_diag_records_settle(sqlite3 *db, const struct vnd_diag_opts *o)
{
    double r = vnd_diag_rollup_settle(db, o);
    if (!isnan(r) || !o->table)
        return isnan(r) ? 0 : r;
    /* the rollup's settle from the records: each one's span, and how far
     * its ts lies behind the largest ts of the records stored before it */
    struct vnd_sb sb = {0}, x = {0};
    vnd_sb_printf(&x, "coalesce(ts, ");
    vnd_diag_record_end(&x, "");
    vnd_sb_printf(&x, ")");
    vnd_sb_printf(&sb, "SELECT max(b1 - b0 + CASE WHEN m > x THEN m - x ELSE 0 END) FROM"
                       " (SELECT ");
    vnd_diag_record_start(&sb, "");
    vnd_sb_printf(&sb, " AS b0, ");
    vnd_diag_record_end(&sb, "");
    vnd_sb_printf(&sb, " AS b1, %s AS x, max(%s) OVER (ORDER BY rowid ROWS BETWEEN UNBOUNDED"
                       " PRECEDING AND 1 PRECEDING) AS m FROM ", x.s, x.s);
    vnd_sb_ident(&sb, o->table);
    vnd_sb_printf(&sb, " WHERE ");
    vnd_diag_record_end(&sb, "");
    vnd_sb_printf(&sb, " IS NOT NULL)");
    double v = sql_number(db, sb.s, 0);
    vnd_sb_free(&sb);
    vnd_sb_free(&x);
    return v;
}

double vnd_diag_complete_t(sqlite3 *db, const struct vnd_diag_app *app,
                           struct vnd_diag_opts *o, bool *whole)
{
    bool two = o->in || o->npath;
    *whole = !two && o->table && app == &vnd_diag_throughput
             && vnd_diag_flow_records(db, o->table);
    if (isnan(o->origin))
        o->origin = vnd_diag_oldest(db, o);
    double top = vnd_diag_newest(db, o);
    if (isnan(o->origin) || isnan(top))
        return NAN;
    double behind = two ? o->window : *whole ? vnd_diag_records_settle(db, o) : 0;
    return floor((top - o->origin - behind) / o->slot) * o->slot;
}

void vnd_diag_bound_slots(struct vnd_diag_opts *o, double from_t, double to_t)
{
    /* a bound of the caller's before the edge stays a time bound */
    if (isnan(o->until) || o->until > o->origin + to_t) {
        o->until = o->origin + to_t;
        o->until_slot = nearbyint(to_t / o->slot);
    }
    if (!isnan(from_t)) {
        o->since_slot = nearbyint(from_t / o->slot);
        o->since = o->origin + from_t;
    }
}

double vnd_diag_oldest(sqlite3 *db, const struct vnd_diag_opts *o)
{
    double r = vnd_diag_rollup_ts(db, o, false);
    if (!isnan(r))
        return r;
    struct vnd_sb sb = {0};
    const char *tabs[VND_DIAG_PATH_MAX + 4];
    vnd_diag_tables(o, tabs);
    struct vnd_diag_ctx c = {db, o};
    vnd_diag_origin(&c, &sb, tabs);
    double v = sql_number(db, sb.s, NAN);
    vnd_sb_free(&sb);
    return v;
}

int vnd_diag_report(struct vnd_guard *g, const struct vnd_diag_app *app,
                    const struct vnd_diag_opts *o, const struct vnd_diag_view *r, char **errp)
{
    char *err = NULL;
    enum vnd_fmt fmt = r->fmt;
    double min_t = r->min_t, max_t = r->upto ? r->max_t : INFINITY;
    bool plot = r->plot, verdict = r->verdict;
    struct vnd_diag_opts co;
    if (r->complete && app->timed) {
        /* rows up to the complete slots' end: of packets, read up to it
         * (as --follow's --until); of flow records, all of them, each
         * spread over its span, and the rows past it left out */
        co = *o;
        bool whole;
        double done = vnd_diag_complete_t(vnd_guard_db(g), app, &co, &whole);
        if (isnan(done))
            max_t = -INFINITY;
        else if (whole)
            max_t = fmin(max_t, done);
        else
            vnd_diag_bound_slots(&co, NAN, done);
        o = &co;
    }
    FILE *f = r->out;
    struct vnd_out *out = vnd_out_new(f, fmt);
    int ret = 0;
    if (app == &vnd_diag_bottleneck) {
        struct vnd_plot *pp = plot ? vnd_plot_new("processing time per hop", "ms") : NULL;
        struct vnd_plot *lp = plot ? vnd_plot_new("packets lost per hop", "per slot") : NULL;
        struct vnd_bottleneck_verdict v;
        vnd_guard_start(g);
        struct vnd_bottleneck_plots bp = {NULL, pp, lp};
        /* JSON: {"rows":[...],"verdict":{...}}; CSV: "# verdict: {...}"
         * after the rows; the table: a sentence under the plots */
        if (verdict)
            vnd_out_object(out);
        if (vnd_bottleneck_run(vnd_guard_db(g), o, out, min_t, &bp, NULL, &v, &err))
            ret = -1;
        if (!ret && verdict && fmt != VND_FMT_TABLE)
            vnd_bottleneck_verdict_out(out, o, &v);
        if (!ret && verdict) {
            vnd_diag_sampling_out(out, vnd_guard_db(g), app, o);
            vnd_diag_drops_out(out, vnd_guard_db(g), app, o);
        }
        vnd_out_finish(out);
        if (!ret) {
            if (verdict && fmt == VND_FMT_TABLE) {
                vnd_diag_sampling_note(f, vnd_guard_db(g), app, o);
                vnd_diag_drops_note(f, vnd_guard_db(g), app, o);
            }
            if (pp) {
                vnd_plot_draw(pp, f, 64, 12);
                vnd_plot_draw(lp, f, 64, 8);
            }
            if (verdict && fmt == VND_FMT_TABLE) {
                char *text = vnd_bottleneck_verdict_text(o, &v);
                fprintf(f, "\n%s\n", text);
                free(text);
            }
        }
        vnd_plot_free(pp);
        vnd_plot_free(lp);
    } else {
        const struct plot_spec *ps = NULL;
        for (size_t i = 0; i < sizeof plot_specs / sizeof *plot_specs; i++)
            if (!strcmp(plot_specs[i].app, app->name))
                ps = &plot_specs[i];
        struct vnd_plot *pl = plot && ps ? vnd_plot_new(ps->title, ps->unit) : NULL;
        /* the app's C step when it has one; its SQL otherwise */
        struct vnd_diag_rows rows = {0};
        /* loss: one moment of the tables' last stores for its judging and
         * for its count of what waits */
        struct vnd_diag_opts lo;
        if (app == &vnd_diag_loss) {
            lo = *o;
            vnd_diag_pin_stored(vnd_guard_db(g), &lo);
            o = &lo;
        }
        /* JSON: {"rows":[...],"sampling":[...]} */
        vnd_out_object(out);
        vnd_guard_start(g);
        int rc = vnd_diag_run_step(app, vnd_guard_db(g), o, &rows, &err);
        if (rc == 0) {
            vnd_rows_write(&rows, out, min_t, max_t);
            if (pl)
                plot_rows(&rows, min_t, max_t, ps, pl);
        } else if (rc == VND_DIAG_USE_SQL) {
            free(err);
            err = NULL;
            char *sql = vnd_diag_sql(app, vnd_guard_db(g), o, &err);
            if (!sql || run_sql(g, sql, out, min_t, max_t, ps, pl, &err))
                ret = -1;
            free(sql);
        } else {
            ret = -1;
        }
        /* loss: the rows it could not judge yet; every
         * app: what the captures dropped (diag_drops.c) */
        struct vnd_loss_side sides[2] = {0};
        if (!ret && app == &vnd_diag_loss) {
            struct vnd_diag_ctx c = {vnd_guard_db(g), o};
            if (vnd_diag_loss_sides(&c, sides, &err) == 0)
                vnd_diag_loss_count_waits(vnd_guard_db(g), sides);
            else
                ret = -1;
        }
        if (!ret) {
            vnd_diag_sampling_out(out, vnd_guard_db(g), app, o);
            vnd_diag_loss_sides_out(out, sides);
            vnd_diag_drops_out(out, vnd_guard_db(g), app, o);
        }
        vnd_out_finish(out);
        if (!ret && fmt == VND_FMT_TABLE) {
            vnd_diag_sampling_note(f, vnd_guard_db(g), app, o);
            vnd_diag_loss_sides_note(f, sides);
            vnd_diag_drops_note(f, vnd_guard_db(g), app, o);
        }
        vnd_diag_loss_sides_free(sides);
        if (!ret && pl)
            vnd_plot_draw(pl, f, 64, 12);
        vnd_plot_free(pl);
        vnd_rows_free(&rows);
    }
    fflush(f);
    if (ret && vnd_guard_timed_out(g)) {    /* whichever piece or thread noticed */
        free(err);
        err = vnd_diag_errf("stopped at the time limit");
    }
    if (ret)
        *errp = err ? err : vnd_diag_errf("failed");
    else
        free(err);
    return ret;
}

