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
#include "cli/remote.h"
#include "diag/diag.h"
#include "diag/opts_json.h"
#include "diag/runner.h"
#include "output/output.h"
#include "store/guard.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vnd diag APP -d TRACES.db [options] [-f table|csv|json]\n"
            "                [--show-sql [--pg]] [--plot] [--follow [--interval S]]\n"
            "       vnd diag APP --diagnosis ID [options] [-f FMT] [--plot] [--follow]\n"
            "\n"
            "Diagnostic applications on trace tables with the standard columns of\n"
            "`vnd parse` (ts, id, src_ip, dst_ip, proto, src_port, dst_port, seq, ack,\n"
            "flags, payload_len).  Each is one SQL statement: --show-sql prints it\n"
            "(SQLite dialect, or PostgreSQL's with --pg) instead of running it, and\n"
            "`vnd query` runs it unchanged.  Times `t` are slot starts in seconds since\n"
            "the first packet of the tables an app reads.\n"
            "\n"
            "Every result says how each table it read was sampled (a line under the\n"
            "table, \"sampling\" in JSON, a last line \"# sampling:\" in CSV when one\n"
            "was).  throughput scales a sampled table's rows and adds bps_low and\n"
            "bps_high, a 95%% interval; groups its groups' packets and bytes with\n"
            "packets_low..packets_high and bytes_low..bytes_high, distribution each\n"
            "value's count with count_low..count_high.  Of flow records (Mode ipfix)\n"
            "throughput spreads each record's packets and IP bytes over its start to\n"
            "end.  delay, loss, correlate, bottleneck and rtt refuse sampled tables\n"
            "unless the sampling is consistent (method hash at one 1-in-N on both\n"
            "points, or flow sampling alike).\n\napplications:\n");
    for (int i = 0; vnd_diag_apps[i]; i++)
        fprintf(f, "  %-12s %s\n  %-12s   %s\n", vnd_diag_apps[i]->name,
                vnd_diag_apps[i]->summary, "", vnd_diag_apps[i]->usage);
    fprintf(f,
            "\noptions:\n"
            "  -d, --db FILE       the trace database\n"
            "      --diagnosis ID  run on the control server, on diagnosis ID's\n"
            "                      traces (--url, --token or VND_URL, VND_TOKEN);\n"
            "                      --follow asks every --interval S (default 1) for\n"
            "                      the complete slots past the last t received\n"
            "  -t, --table T       the table (one-table apps)\n"
            "      --in T --out T  a hop's input and output tables\n"
            "      --path A,B,C    capture points in the order packets pass them\n"
            "      --field C       --fields C1,C2   columns (distribution, groups)\n"
            "      --where EXPR    a filter in the parse-configuration language\n"
            "      --slot S        time slot in seconds, 1e-9 or more (default 1)\n"
            "      --by id|payload|order   how input packets are found in the output\n"
            "      --by-flow       one series per flow\n"
            "      --kind K        rtt: the samples of handshake (SYN to SYN/ACK, SYN/ACK\n"
            "                      to ACK), data or fin segments, or all (default, as\n"
            "                      tshark's tcp.analysis.ack_rtt)\n"
            "      --list          loss: the lost packets themselves, and the late ones\n"
            "                      with left_after, the seconds they took (every app\n"
            "                      says what each table's capture dropped: loss counts\n"
            "                      a packet whose copy it missed as lost)\n"
            "      --window S      an ID seen again further than S apart is another\n"
            "                      packet (default 1); a packet that left later than S\n"
            "                      is late: loss does not count it lost, delay counts it\n"
            "                      apart from its figures; loss judges one once the\n"
            "                      other table was stored S past it (its last store\n"
            "                      in vnd_meta) and says how many rows wait\n"
            "      --since TS --until TS   only rows with TS <= ts < TS (as the API's\n"
            "                      \"since\", \"until\"; --follow asks for each new slot so)\n"
            "      --no-rollup     throughput, groups, distribution, rtt: from the rows,\n"
            "                      not the table's rollup (which answers when the question\n"
            "                      fits it, here or on the coordinator with --diagnosis:\n"
            "                      --show-sql says which)\n"
            "  -f, --format FMT    table (default), csv, json\n"
            "      --plot          draw the time series in the terminal\n"
            "      --follow        run each slot as rows arrive, until interrupted (flow\n"
            "                      records: once no record still to come can reach it)\n"
            "      --interval S    --follow: seconds between runs (default: the slot)\n"
            "      --timeout S     stop a run after S seconds (default 300; 0: none)\n"
            "\nenvironment:\n"
            "  VND_ROLLUP=0        as --no-rollup\n"
            "  VND_THREADS=N       threads for the apps' C steps (default: one per CPU);\n"
            "                      large tables are read in parts side by side\n");
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* An option refused by a check of diag/opts_json.h: said, and -1. */
static int said(char *err)
{
    fprintf(stderr, "vnd diag: %s\n", err);
    free(err);
    return -1;
}

/* A comma-separated list onto `list`, each name checked as the JSON's. */
static int split_list(char *s, const char **list, int *n, int max, const char *opt)
{
    char *err = NULL;
    *n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        while (*tok == ' ')
            tok++;
        if (vnd_diag_opt_add(opt, tok, list, n, max, &err))
            return said(err);
    }
    return 0;
}

/* What --plot draws for an app: one chart per value column. */
/* One run to stdout, its failure said on stderr.  Returns 0 or -1. */
static int diag_run(struct vnd_guard *g, const struct vnd_diag_app *app,
                    const struct vnd_diag_opts *o, enum vnd_fmt fmt, double min_t,
                    double max_t, bool plot, bool verdict)
{
    struct vnd_diag_view r = {.out = stdout, .fmt = fmt, .min_t = min_t, .plot = plot,
                             .verdict = verdict, .upto = isfinite(max_t), .max_t = max_t};
    char *err = NULL;
    if (vnd_diag_report(g, app, o, &r, &err) == 0)
        return 0;
    fprintf(stderr, "vnd diag %s: %s%s\n", app->name, err ? err : "failed",
            vnd_guard_timed_out(g) ? " (raise it with --timeout)" : "");
    free(err);
    return -1;
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
           O_LIST, O_WINDOW, O_KIND, O_NOROLLUP, O_SINCE, O_UNTIL, O_SHOWSQL, O_PG, O_PLOT, O_FOLLOW, O_INTERVAL, O_TIMEOUT };
    const char *diagnosis = NULL, *url = NULL, *token = NULL;
    static const struct option lopts[] = {
        {"db", required_argument, NULL, 'd'},   {"table", required_argument, NULL, 't'},
        {"format", required_argument, NULL, 'f'}, {"in", required_argument, NULL, O_IN},
        {"out", required_argument, NULL, O_OUT}, {"path", required_argument, NULL, O_PATH},
        {"field", required_argument, NULL, O_FIELD},
        {"fields", required_argument, NULL, O_FIELDS},
        {"where", required_argument, NULL, O_WHERE}, {"slot", required_argument, NULL, O_SLOT},
        {"by", required_argument, NULL, O_BY},  {"by-flow", no_argument, NULL, O_BYFLOW},
        {"list", no_argument, NULL, O_LIST},    {"window", required_argument, NULL, O_WINDOW},
        {"kind", required_argument, NULL, O_KIND},
        {"no-rollup", no_argument, NULL, O_NOROLLUP},
        {"since", required_argument, NULL, O_SINCE}, {"until", required_argument, NULL, O_UNTIL},
        {"show-sql", no_argument, NULL, O_SHOWSQL}, {"pg", no_argument, NULL, O_PG},
        {"plot", no_argument, NULL, O_PLOT},    {"follow", no_argument, NULL, O_FOLLOW},
        {"interval", required_argument, NULL, O_INTERVAL},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"diagnosis", required_argument, NULL, VND_REMOTE_OPT_DIAGNOSIS},
        {"url", required_argument, NULL, VND_REMOTE_OPT_URL},
        {"token", required_argument, NULL, VND_REMOTE_OPT_TOKEN},
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
    char *err = NULL;
    while ((c = getopt_long(argc, argv, "d:t:f:h", lopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'd': db = optarg; break;
        case 't': bad = vnd_diag_opt_name("-t", optarg, &o.table, &err); break;
        case 'f':
            if (vnd_fmt_parse(optarg, &fmt)) {
                fprintf(stderr, "vnd diag: -f takes table, csv or json, not '%s'\n", optarg);
                return 2;
            }
            break;
        case O_IN: bad = vnd_diag_opt_name("--in", optarg, &o.in, &err); break;
        case O_OUT: bad = vnd_diag_opt_name("--out", optarg, &o.out, &err); break;
        case O_PATH:
            if (split_list(optarg, o.path, &o.npath, VND_DIAG_PATH_MAX, "--path"))
                return 2;
            break;
        case O_FIELD: bad = vnd_diag_opt_name("--field", optarg, &o.field, &err); break;
        case O_FIELDS:
            if (split_list(optarg, o.fields, &o.nfields, VND_DIAG_FIELDS_MAX, "--fields"))
                return 2;
            break;
        case O_WHERE: o.where = optarg; break;
        case O_SLOT: bad = vnd_diag_opt_seconds_text("--slot", optarg, true, &o.slot, &err); break;
        case O_BY: bad = vnd_diag_opt_by("--by", optarg, &o.by, &err); break;
        case O_BYFLOW: o.by_flow = true; break;
        case O_LIST: o.list = true; break;
        case O_NOROLLUP: o.no_rollup = true; break;
        case O_SINCE:
        case O_UNTIL: {
            char *end;
            double v = strtod(optarg, &end);
            if (end == optarg || *end || !isfinite(v)) {
                fprintf(stderr, "vnd diag: --%s takes a ts (seconds), not '%s'\n",
                        c == O_SINCE ? "since" : "until", optarg);
                return 2;
            }
            *(c == O_SINCE ? &o.since : &o.until) = v;
            break;
        }
        case O_KIND: bad = vnd_diag_opt_rtt_kind("--kind", optarg, &o.rtt_kind, &err); break;
        case O_WINDOW:
            bad = vnd_diag_opt_seconds_text("--window", optarg, false, &o.window, &err);
            break;
        case O_SHOWSQL: show_sql = true; break;
        case O_PG: o.pg = true; break;
        case O_PLOT: plot = true; break;
        case O_FOLLOW: follow = true; break;
        case O_INTERVAL:
            bad = vnd_diag_opt_seconds_text("--interval", optarg, false, &interval, &err);
            break;
        case O_TIMEOUT:
            bad = vnd_diag_opt_seconds_text("--timeout", optarg, false, &timeout, &err);
            break;
        case VND_REMOTE_OPT_DIAGNOSIS: diagnosis = optarg; break;
        case VND_REMOTE_OPT_URL: url = optarg; break;
        case VND_REMOTE_OPT_TOKEN: token = optarg; break;
        case 'h': usage(stdout); return 0;
        default: fprintf(stderr, "try `vnd diag --help`\n"); return 2;
        }
        if (bad) {
            said(err);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "vnd diag: unexpected '%s' (try `vnd diag --help`)\n", argv[optind]);
        return 2;
    }
    if (!db == !diagnosis) {
        fprintf(stderr, "vnd diag: %s\n", db ? "give -d TRACES.db or --diagnosis ID, not both"
                                             : "-d TRACES.db or --diagnosis ID is required");
        return 2;
    }
    if (follow && !app->timed) {
        fprintf(stderr, "vnd diag: --follow needs an app with time slots"
                        " (throughput, rtt, delay, loss, bottleneck)\n");
        return 2;
    }
    if (diagnosis) {
        if (show_sql || o.pg) {
            fprintf(stderr, "vnd diag: --show-sql and --pg read a local database (-d)\n");
            return 2;
        }
        return vnd_remote_diag(url, token, diagnosis, app, &o, fmt, plot, follow,
                               isnan(interval) ? 1 : interval);
    }
    struct vnd_guard *g = NULL;
    if (vnd_guard_open(db, NULL, &g, &err)) {
        fprintf(stderr, "vnd diag: %s\n", err);
        free(err);
        return 1;
    }
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
        status = diag_run(g, app, &o, fmt, -INFINITY, INFINITY, plot, true) ? 1 : 0;
    } else {
        /* the periodic proxy: each complete slot once, as rows arrive */
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        if (isnan(interval))
            interval = o.slot;
        double next_t = 0;
        while (!stop) {
            /* flow records come when they end and spread back over their
             * spans: read whole, their rows past `done` left out */
            bool whole;
            double done = vnd_diag_complete_t(vnd_guard_db(g), app, &o, &whole);
            if (!isnan(done) && done > next_t) {
                struct vnd_diag_opts w = o;
                if (!whole)
                    vnd_diag_bound_slots(&w, app != &vnd_diag_bottleneck ? next_t : NAN, done);
                if (diag_run(g, app, &w, fmt, next_t, whole ? done : INFINITY, plot,
                             app == &vnd_diag_bottleneck)) {
                    status = 1;
                    break;
                }
                next_t = done;
            }
            struct timespec ts = {(time_t)interval,
                                  (long)((interval - floor(interval)) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    vnd_guard_close(g);
    return status;
}
