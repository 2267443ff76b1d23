/* cmd_diag.c — `vnd diag APP`: the diagnostic applications on a trace
 * database, their SQL (--show-sql), their time series (--plot), and the
 * periodic proxy of paper §3.3.1 (--follow). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "diag/diag.h"
#include "diag/plot.h"
#include "lang/sqlfuncs.h"
#include "output/output.h"
#include "store/guard.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vnd diag APP -d TRACES.db [options] [-f table|csv|json]\n"
            "                [--show-sql [--pg]] [--plot] [--follow [--interval S]]\n"
            "\n"
            "Diagnostic applications on trace tables with the standard columns of\n"
            "`vnd parse` (ts, id, src_ip, dst_ip, proto, src_port, dst_port, seq, ack,\n"
            "flags, payload_len).  Each is one SQL statement: --show-sql prints it\n"
            "(SQLite dialect, or PostgreSQL's with --pg) instead of running it, and\n"
            "`vnd query` runs it unchanged.  Times `t` are slot starts in seconds since\n"
            "the first packet of the tables an app reads.\n\napplications:\n");
    for (int i = 0; vnd_diag_apps[i]; i++)
        fprintf(f, "  %-12s %s\n  %-12s   %s\n", vnd_diag_apps[i]->name,
                vnd_diag_apps[i]->summary, "", vnd_diag_apps[i]->usage);
    fprintf(f,
            "\noptions:\n"
            "  -d, --db FILE       the trace database\n"
            "  -t, --table T       the table (one-table apps)\n"
            "      --in T --out T  a hop's input and output tables\n"
            "      --path A,B,C    capture points in the order packets pass them\n"
            "      --field C       --fields C1,C2   columns (distribution, groups)\n"
            "      --where EXPR    a filter in the parse-configuration language\n"
            "      --slot S        time slot in seconds (default 1)\n"
            "      --by id|payload|order   how input packets are found in the output\n"
            "      --by-flow       one series per flow\n"
            "      --list          loss: the lost packets themselves\n"
            "      --window S      an ID seen again further than S apart is another\n"
            "                      packet (default 1)\n"
            "  -f, --format FMT    table (default), csv, json\n"
            "      --plot          draw the time series in the terminal\n"
            "      --follow        run each slot as rows arrive, until interrupted\n"
            "      --interval S    --follow: seconds between runs (default: the slot)\n"
            "      --timeout S     stop a run after S seconds (default 300; 0: none)\n"
            "\nenvironment:\n"
            "  VND_THREADS=N       threads for the apps' C steps (default: one per CPU);\n"
            "                      large tables are read in parts side by side\n");
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int split_list(char *s, const char **out, int max, const char *what)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        while (*tok == ' ')
            tok++;
        if (n == max) {
            fprintf(stderr, "vnd diag: at most %d %s\n", max, what);
            return -1;
        }
        out[n++] = tok;
    }
    return n;
}

static int parse_seconds(const char *s, const char *opt, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s || !(v >= 0) || !isfinite(v)) {
        fprintf(stderr, "vnd diag: %s takes seconds, not '%s'\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* What --plot draws for an app: one chart per value column. */
struct plot_spec {
    const char *app, *col, *title, *unit;
};

static const struct plot_spec plot_specs[] = {
    {"throughput", "bps", "throughput", "bit/s"},
    {"rtt", "mean_ms", "mean RTT", "ms"},
    {"delay", "mean_ms", "mean one-hop delay", "ms"},
    {"loss", "lost", "packets lost", "packets per slot"},
};

/* Column index by name, or -1. */
static int column(sqlite3_stmt *st, const char *name)
{
    for (int i = 0; i < sqlite3_column_count(st); i++)
        if (!strcmp(sqlite3_column_name(st, i), name))
            return i;
    return -1;
}

/* Runs `sql`: rows with t >= min_t to out, values to plot.  Returns the
 * SQLite code of the last step. */
static int run_sql(struct vnd_guard *g, const char *sql, struct vnd_out *out, double min_t,
                   const struct plot_spec *ps, struct vnd_plot *plot, char **err)
{
    sqlite3_stmt *st = NULL;
    int rc = vnd_guard_prepare(g, sql, &st, err);
    if (rc)
        return SQLITE_ERROR;
    int n = sqlite3_column_count(st);
    const char **names = calloc((size_t)n, sizeof *names);
    if (!names)
        abort();
    for (int i = 0; i < n; i++)
        names[i] = sqlite3_column_name(st, i);
    vnd_out_columns(out, n, names);
    free(names);
    int tcol = column(st, "t"), ycol = ps ? column(st, ps->col) : -1;
    int keys[2] = {column(st, "dir"), column(st, "flow")};
    vnd_guard_start(g);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        double t = tcol >= 0 ? sqlite3_column_double(st, tcol) : 0;
        if (tcol >= 0 && t < min_t)
            continue;
        for (int i = 0; i < n && rc == SQLITE_ROW; i++)
            if (vnd_out_value(out, st, i) != SQLITE_OK)
                rc = SQLITE_NOMEM;
        if (rc != SQLITE_ROW)
            break;
        vnd_out_end_row(out);
        if (plot && ycol >= 0 && tcol >= 0 && sqlite3_column_type(st, ycol) != SQLITE_NULL) {
            char key[256] = "";
            for (int k = 0; k < 2; k++)
                if (keys[k] >= 0)
                    snprintf(key + strlen(key), sizeof key - strlen(key), "%s%s",
                             *key ? " " : "", (const char *)sqlite3_column_text(st, keys[k]));
            vnd_plot_add(plot, *key ? key : ps->col, t, sqlite3_column_double(st, ycol));
        }
    }
    if (rc != SQLITE_DONE)
        *err = vnd_diag_errf("%s", vnd_guard_timed_out(g) ? "stopped at the time limit"
                                                           " (raise it with --timeout)"
                                   : rc == SQLITE_NOMEM ? "out of memory reading a value"
                                                        : sqlite3_errmsg(vnd_guard_db(g)));
    sqlite3_finalize(st);
    return rc;
}

/* The plot of rows a C step made, as run_sql draws a statement's. */
static void plot_rows(const struct vnd_diag_rows *r, double min_t, const struct plot_spec *ps,
                      struct vnd_plot *plot)
{
    int tcol = vnd_rows_col(r, "t"), ycol = vnd_rows_col(r, ps->col);
    int keys[2] = {vnd_rows_col(r, "dir"), vnd_rows_col(r, "flow")};
    if (tcol < 0 || ycol < 0)
        return;
    for (size_t k = 0; k < vnd_rows_count(r); k++) {
        const struct vnd_cell *row = &r->c[k * (size_t)r->ncols];
        double t = row[tcol].type == VND_CELL_REAL ? row[tcol].r : (double)row[tcol].i;
        if (t < min_t || row[ycol].type == VND_CELL_NULL)
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

/* The tables an app reads, NULL-terminated; returns how many. */
static int app_tables(const struct vnd_diag_opts *o, const char *tabs[VND_DIAG_PATH_MAX + 4])
{
    int n = 0;
    if (o->table)
        tabs[n++] = o->table;
    if (o->in)
        tabs[n++] = o->in;
    if (o->out)
        tabs[n++] = o->out;
    for (int i = 0; i < o->npath; i++)
        tabs[n++] = o->path[i];
    tabs[n] = NULL;
    return n;
}

/* Largest ts of the app's tables (NaN when empty). */
static double newest(sqlite3 *db, const struct vnd_diag_opts *o)
{
    const char *tabs[VND_DIAG_PATH_MAX + 4];
    int n = app_tables(o, tabs);
    double m = NAN;
    for (int i = 0; i < n; i++) {
        struct vnd_sb sb = {0};
        vnd_sb_printf(&sb, "SELECT max(ts) FROM ");
        vnd_sb_ident(&sb, tabs[i]);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sb.s, -1, &st, NULL) == SQLITE_OK
            && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            double v = sqlite3_column_double(st, 0);
            /* two tables: what the slower one has is what is complete */
            m = isnan(m) ? v : (o->table ? fmax(m, v) : fmin(m, v));
        }
        sqlite3_finalize(st);
        vnd_sb_free(&sb);
    }
    return m;
}

static double oldest(sqlite3 *db, const struct vnd_diag_opts *o)
{
    struct vnd_sb sb = {0};
    const char *tabs[VND_DIAG_PATH_MAX + 4];
    app_tables(o, tabs);
    struct vnd_diag_ctx c = {db, o};
    vnd_diag_origin(&c, &sb, tabs);
    double v = NAN;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sb.s, -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    vnd_sb_free(&sb);
    return v;
}

/* One run of the app: rows with t >= min_t.  Returns 0 or -1 (message
 * printed). */
static int run_once(struct vnd_guard *g, const struct vnd_diag_app *app,
                    const struct vnd_diag_opts *o, enum vnd_fmt fmt, double min_t,
                    bool plot, bool verdict)
{
    char *err = NULL;
    struct vnd_out *out = vnd_out_new(stdout, fmt);
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
        vnd_out_finish(out);
        if (!ret) {
            if (pp) {
                vnd_plot_draw(pp, stdout, 64, 12);
                vnd_plot_draw(lp, stdout, 64, 8);
            }
            if (verdict && fmt == VND_FMT_TABLE) {
                char *text = vnd_bottleneck_verdict_text(o, &v);
                printf("\n%s\n", text);
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
        vnd_guard_start(g);
        int rc = vnd_diag_run_step(app, vnd_guard_db(g), o, &rows, &err);
        if (rc == 0) {
            vnd_rows_write(&rows, out, min_t);
            if (pl)
                plot_rows(&rows, min_t, ps, pl);
        } else if (rc == VND_DIAG_USE_SQL) {
            free(err);
            err = NULL;
            char *sql = vnd_diag_sql(app, vnd_guard_db(g), o, &err);
            if (!sql || run_sql(g, sql, out, min_t, ps, pl, &err) != SQLITE_DONE)
                ret = -1;
            free(sql);
        } else {
            ret = -1;
        }
        vnd_out_finish(out);
        if (!ret && pl)
            vnd_plot_draw(pl, stdout, 64, 12);
        vnd_plot_free(pl);
        vnd_rows_free(&rows);
    }
    fflush(stdout);
    if (ret && vnd_guard_timed_out(g)) {    /* whichever piece or thread noticed */
        free(err);
        err = vnd_diag_errf("stopped at the time limit (raise it with --timeout)");
    }
    if (ret) {
        fprintf(stderr, "vnd diag %s: %s\n", app->name, err ? err : "failed");
        free(err);
    }
    return ret;
}

int cmd_diag(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const struct vnd_diag_app *app = vnd_diag_find(argv[1]);
    if (!app) {
        fprintf(stderr, "vnd diag: no application '%s' (try `vnd diag --help`)\n", argv[1]);
        return 2;
    }
    enum { O_IN = 256, O_OUT, O_PATH, O_FIELD, O_FIELDS, O_WHERE, O_SLOT, O_BY, O_BYFLOW,
           O_LIST, O_WINDOW, O_SHOWSQL, O_PG, O_PLOT, O_FOLLOW, O_INTERVAL, O_TIMEOUT };
    static const struct option lopts[] = {
        {"db", required_argument, NULL, 'd'},   {"table", required_argument, NULL, 't'},
        {"format", required_argument, NULL, 'f'}, {"in", required_argument, NULL, O_IN},
        {"out", required_argument, NULL, O_OUT}, {"path", required_argument, NULL, O_PATH},
        {"field", required_argument, NULL, O_FIELD},
        {"fields", required_argument, NULL, O_FIELDS},
        {"where", required_argument, NULL, O_WHERE}, {"slot", required_argument, NULL, O_SLOT},
        {"by", required_argument, NULL, O_BY},  {"by-flow", no_argument, NULL, O_BYFLOW},
        {"list", no_argument, NULL, O_LIST},    {"window", required_argument, NULL, O_WINDOW},
        {"show-sql", no_argument, NULL, O_SHOWSQL}, {"pg", no_argument, NULL, O_PG},
        {"plot", no_argument, NULL, O_PLOT},    {"follow", no_argument, NULL, O_FOLLOW},
        {"interval", required_argument, NULL, O_INTERVAL},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"help", no_argument, NULL, 'h'},       {0, 0, 0, 0},
    };
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    const char *db = NULL;
    enum vnd_fmt fmt = VND_FMT_TABLE;
    bool show_sql = false, plot = false, follow = false;
    double interval = NAN, timeout = 300;
    int c;
    optind = 1;
    argv++;
    argc--;
    while ((c = getopt_long(argc, argv, "d:t:f:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 't': o.table = optarg; break;
        case 'f':
            if (vnd_fmt_parse(optarg, &fmt)) {
                fprintf(stderr, "vnd diag: -f takes table, csv or json, not '%s'\n", optarg);
                return 2;
            }
            break;
        case O_IN: o.in = optarg; break;
        case O_OUT: o.out = optarg; break;
        case O_PATH:
            if ((o.npath = split_list(optarg, o.path, VND_DIAG_PATH_MAX, "tables in --path")) < 0)
                return 2;
            break;
        case O_FIELD: o.field = optarg; break;
        case O_FIELDS:
            if ((o.nfields = split_list(optarg, o.fields, VND_DIAG_FIELDS_MAX, "fields")) < 0)
                return 2;
            break;
        case O_WHERE: o.where = optarg; break;
        case O_SLOT:
            if (parse_seconds(optarg, "--slot", &o.slot))
                return 2;
            break;
        case O_BY:
            if (!strcmp(optarg, "id"))
                o.by = VND_BY_ID;
            else if (!strcmp(optarg, "payload"))
                o.by = VND_BY_PAYLOAD;
            else if (!strcmp(optarg, "order"))
                o.by = VND_BY_ORDER;
            else {
                fprintf(stderr, "vnd diag: --by takes id, payload or order, not '%s'\n", optarg);
                return 2;
            }
            break;
        case O_BYFLOW: o.by_flow = true; break;
        case O_LIST: o.list = true; break;
        case O_WINDOW:
            if (parse_seconds(optarg, "--window", &o.window))
                return 2;
            break;
        case O_SHOWSQL: show_sql = true; break;
        case O_PG: o.pg = true; break;
        case O_PLOT: plot = true; break;
        case O_FOLLOW: follow = true; break;
        case O_INTERVAL:
            if (parse_seconds(optarg, "--interval", &interval))
                return 2;
            break;
        case O_TIMEOUT:
            if (parse_seconds(optarg, "--timeout", &timeout))
                return 2;
            break;
        case 'h': usage(stdout); return 0;
        default: fprintf(stderr, "try `vnd diag --help`\n"); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "vnd diag: unexpected '%s' (try `vnd diag --help`)\n", argv[optind]);
        return 2;
    }
    if (!db) {
        fprintf(stderr, "vnd diag: -d TRACES.db is required\n");
        return 2;
    }
    if (follow && !app->timed) {
        fprintf(stderr, "vnd diag: --follow needs an app with time slots"
                        " (throughput, rtt, delay, loss, bottleneck)\n");
        return 2;
    }
    struct vnd_guard *g = NULL;
    char *err = NULL;
    if (vnd_guard_open(db, NULL, &g, &err)) {
        fprintf(stderr, "vnd diag: %s\n", err);
        free(err);
        return 1;
    }
    vnd_sql_register_functions(vnd_guard_db(g));
    vnd_guard_set_timeout(g, timeout);
    int status = 0;
    if (show_sql) {
        char *sql = vnd_diag_sql(app, vnd_guard_db(g), &o, &err);
        if (!sql) {
            fprintf(stderr, "vnd diag %s: %s\n", app->name, err);
            free(err);
            status = 1;
        } else {
            printf("%s;\n", sql);
            free(sql);
        }
    } else if (!follow) {
        status = run_once(g, app, &o, fmt, -INFINITY, plot, true) ? 1 : 0;
    } else {
        /* the periodic proxy: each complete slot once, as rows arrive */
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        if (isnan(interval))
            interval = o.slot;
        double next_t = 0;
        while (!stop) {
            if (isnan(o.origin))
                o.origin = oldest(vnd_guard_db(g), &o);
            double top = newest(vnd_guard_db(g), &o);
            if (!isnan(o.origin) && !isnan(top)) {
                bool two = o.in || o.npath;
                double done = floor((top - o.origin - (two ? o.window : 0)) / o.slot) * o.slot;
                if (done > next_t) {
                    struct vnd_diag_opts w = o;
                    w.until = o.origin + done;
                    if (app != &vnd_diag_bottleneck)
                        w.since = o.origin + next_t;
                    if (run_once(g, app, &w, fmt, next_t, plot, app == &vnd_diag_bottleneck)) {
                        status = 1;
                        break;
                    }
                    next_t = done;
                }
            }
            struct timespec ts = {(time_t)interval,
                                  (long)((interval - floor(interval)) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    vnd_guard_close(g);
    return status;
}
