/* cmd_query.c — `vnd query`: tenant SQL on a trace database. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "lang/sqlfuncs.h"
#include "output/output.h"
#include "store/guard.h"
#include "util/util.h"

static const char usage_text[] =
    "usage: vnd query -d TRACES.db [-f table|csv|json] [--timeout S] 'SQL'\n"
    "\n"
    "Runs one read-only SQL statement on a trace database made by `vnd parse`\n"
    "(SQLite dialect).  Tables: one per trace (see `SELECT * FROM vnd_meta`).\n"
    "ATTACH, PRAGMA, writes, schema changes and extension loading are refused.\n"
    "The SQL function vnd_in_prefix(addr, 'a.b.c.d/len') tests prefix membership.\n"
    "\n"
    "options:\n"
    "  -d, --db FILE        the trace database (required)\n"
    "  -f, --format FMT     table (default), csv, or json (an array of objects)\n"
    "  -t, --timeout S      stop the query after S seconds (default 60; 0: none)\n"
    "  -h, --help           this text\n"
    "\n"
    "exit status: 0 done; 1 the query failed or timed out; 2 usage or refused SQL.\n";

int cmd_query(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *db = NULL;
    enum vnd_fmt fmt = VND_FMT_TABLE;
    double timeout = 60;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:f:t:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'd': db = optarg; break;
        case 'f':
            if (vnd_fmt_parse(optarg, &fmt)) {
                fprintf(stderr, "vnd query: -f takes table, csv or json, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 't':
            timeout = strtod(optarg, &end);
            if (*end || end == optarg || timeout < 0) {
                fprintf(stderr, "vnd query: --timeout takes seconds, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs("try `vnd query --help`\n", stderr); return 2;
        }
    }
    if (!db || optind != argc - 1) {
        fprintf(stderr, "vnd query: %s\n%s",
                !db ? "-d TRACES.db is required" : "give exactly one SQL statement (quoted)",
                usage_text);
        return 2;
    }

    struct vnd_guard *g = NULL;
    char *err = NULL;
    sqlite3_stmt *stmt = NULL;
    int status = 0;
    if (vnd_guard_open(db, NULL, &g, &err)) {
        fprintf(stderr, "vnd query: %s\n", err);
        free(err);
        return 1;
    }
    vnd_sql_register_functions(vnd_guard_db(g));
    vnd_guard_set_timeout(g, timeout);
    int rc = vnd_guard_prepare(g, argv[optind], &stmt, &err);
    if (rc) {
        fprintf(stderr, "vnd query: %s\n", err);
        free(err);
        vnd_guard_close(g);
        return rc == EPERM ? 2 : 1;
    }
    struct vnd_out *o = vnd_out_new(stdout, fmt);
    vnd_guard_start(g);
    rc = vnd_out_stmt(o, stmt);
    vnd_out_finish(o);
    if (rc != SQLITE_DONE) {
        if (vnd_guard_timed_out(g))
            fprintf(stderr, "vnd query: stopped after the time limit of %g s "
                            "(raise it with --timeout)\n", timeout);
        else
            fprintf(stderr, "vnd query: %s\n", sqlite3_errmsg(vnd_guard_db(g)));
        status = 1;
    }
    sqlite3_finalize(stmt);
    vnd_guard_close(g);
    return status;
}
