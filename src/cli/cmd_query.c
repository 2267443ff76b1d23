/* cmd_query.c — `vnd query`: tenant SQL on a trace database. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cli/commands.h"
#include "cli/remote.h"
#include "output/output.h"
#include "store/guard.h"
#include "store/provider.h"
#include "store/tenant.h"
#include "util/util.h"

static const char usage_text[] =
    "usage: vnd query -d TRACES.db [--tenant T] [--trace ID]... [-f table|csv|json]\n"
    "                 [--timeout S] 'SQL'\n"
    "       vnd query --diagnosis ID [-f table|csv|json] [--url URL] [--token T] 'SQL'\n"
    "\n"
    "Runs one read-only SQL statement on a trace database made by `vnd parse`\n"
    "(SQLite dialect).  Tables: one per trace (see `SELECT * FROM vnd_meta`).\n"
    "ATTACH, PRAGMA, writes, schema changes and extension loading are refused;\n"
    "no string or blob may exceed 64 MiB.\n"
    "The SQL function vnd_in_prefix(addr, 'a.b.c.d/len') tests prefix membership.\n"
    "\n"
    "On a table server's store (vnd-tabled --db FILE), each tenant's traces are\n"
    "in a database of their own: --tenant T opens T's and nothing else.\n"
    "\n"
    "-d pg:CONNINFO reads a PostgreSQL store (vnd parse --pg, vnd-tabled\n"
    "--trace-store) in PostgreSQL's dialect, for operators: a read-only\n"
    "transaction in schema vnd, or the table server tenant's schema with\n"
    "--tenant T (tenants read it through the control server instead).\n"
    "\n"
    "options:\n"
    "  -d, --db FILE        the trace database, or a table server's store\n"
    "                       (pg:CONNINFO: a PostgreSQL one)\n"
    "      --diagnosis ID   instead of -d: on the control server, the tables of\n"
    "                       diagnosis ID (its limits apply; --url, --token or\n"
    "                       VND_URL, VND_TOKEN)\n"
    "      --tenant T       the tenant whose traces to read (a table server's store)\n"
    "      --trace ID       only this trace's tables and vnd_meta may be read\n"
    "                       (repeatable; as the table server's \"traces\" list)\n"
    "  -f, --format FMT     table (default), csv, or json (an array of objects)\n"
    "  -t, --timeout S      stop the query after S seconds (default 60; 0: none;\n"
    "                       at most 86400)\n"
    "  -h, --help           this text\n"
    "\n"
    "exit status: 0 done; 1 the query failed or timed out; 2 usage or refused SQL.\n";

/* An operator's read of a PostgreSQL store: one statement in a read-only
 * transaction, in the tenant's schema (default vnd), under a time limit;
 * rows through the PostgreSQL cursor (provider.h). */
static int query_pg(const char *conninfo, const char *tenant, const char *sql, double timeout,
                    enum vnd_fmt fmt)
{
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "vnd query: PostgreSQL: cannot connect: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    const char *schema = tenant ? tenant : "vnd";
    char *ident = PQescapeIdentifier(conn, schema, strlen(schema));
    char *setup = vnd_strdup_printf("SET client_min_messages = warning;"
                                    " SET default_transaction_read_only = on;"
                                    " SET statement_timeout = %lld; SET search_path = %s",
                                    (long long)(timeout * 1000), ident ? ident : "vnd");
    PQfreemem(ident);
    PGresult *r = PQexec(conn, setup);
    free(setup);
    int status = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "vnd query: PostgreSQL: %s", PQresultErrorMessage(r));
        status = 1;
    }
    PQclear(r);
    char *err = NULL;
    struct vnd_cursor *c = status ? NULL : vnd_cursor_pg(conn, sql, &err);
    if (!status && !c) {
        fprintf(stderr, "vnd query: %s\n", err);
        status = 1;
    }
    if (c) {
        struct vnd_out *o = vnd_out_new(stdout, fmt);
        int code = 0;
        if (vnd_out_cursor(o, c, &code, &err) == 0) {
            vnd_out_finish(o);
        } else {
            vnd_out_abandon(o);
            fprintf(stderr, "vnd query: %s%s\n", err,
                    code == ETIMEDOUT ? " (raise the time limit with --timeout)" : "");
            status = 1;
        }
        vnd_cursor_close(c);
    }
    free(err);
    PQfinish(conn);
    return status;
}

int cmd_query(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"timeout", required_argument, NULL, 't'},
        {"tenant", required_argument, NULL, 1001},
        {"trace", required_argument, NULL, 1002},
        {"diagnosis", required_argument, NULL, VND_REMOTE_OPT_DIAGNOSIS},
        {"url", required_argument, NULL, VND_REMOTE_OPT_URL},
        {"token", required_argument, NULL, VND_REMOTE_OPT_TOKEN},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *db = NULL, *tenant = NULL;
    const char *diagnosis = NULL, *url = NULL, *token = NULL;
    const char **traces = NULL;
    int ntraces = 0;
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
            /* nan, inf and 1e10 would mean no limit at all */
            timeout = strtod(optarg, &end);
            if (*end || end == optarg || !(timeout >= 0 && timeout <= 86400)) {
                fprintf(stderr, "vnd query: --timeout takes seconds from 0 to 86400 "
                                "(0: none), not '%s'\n", optarg);
                free(traces);
                return 2;
            }
            break;
        case 1001: tenant = optarg; break;
        case 1002:
            traces = vnd_xrealloc(traces, (size_t)(ntraces + 1) * sizeof *traces);
            traces[ntraces++] = optarg;
            break;
        case VND_REMOTE_OPT_DIAGNOSIS: diagnosis = optarg; break;
        case VND_REMOTE_OPT_URL: url = optarg; break;
        case VND_REMOTE_OPT_TOKEN: token = optarg; break;
        case 'h': fputs(usage_text, stdout); free(traces); return 0;
        default: fputs("try `vnd query --help`\n", stderr); free(traces); return 2;
        }
    }
    if (!db == !diagnosis || optind != argc - 1) {
        free(traces);
        fprintf(stderr, "vnd query: %s\n%s",
                db && diagnosis ? "give -d TRACES.db or --diagnosis ID, not both"
                : !db && !diagnosis ? "-d TRACES.db or --diagnosis ID is required"
                                    : "give exactly one SQL statement (quoted)",
                usage_text);
        return 2;
    }
    if (diagnosis) {
        free(traces);
        if (tenant || ntraces) {
            fprintf(stderr, "vnd query: --tenant and --trace read a table server's store (-d)\n");
            return 2;
        }
        return vnd_remote_query(url, token, diagnosis, argv[optind], fmt);
    }

    if (!strncmp(db, "pg:", 3)) {
        free(traces);
        if (ntraces) {
            fprintf(stderr, "vnd query: --trace reads a SQLite store; on PostgreSQL name the "
                            "tables in the SQL\n");
            return 2;
        }
        return query_pg(db + 3, tenant, argv[optind], timeout, fmt);
    }
    struct vnd_guard *g = NULL;
    char *err = NULL;
    sqlite3_stmt *stmt = NULL;
    int status = 0;
    int rc = vnd_tenant_guard_open(db, tenant, traces, ntraces, &g, &err);
    free(traces);
    if (rc) {
        fprintf(stderr, "vnd query: %s\n", err);
        free(err);
        return 1;
    }
    vnd_guard_set_timeout(g, timeout);
    rc = vnd_guard_prepare(g, argv[optind], &stmt, &err);
    if (rc) {
        fprintf(stderr, "vnd query: %s\n", err);
        free(err);
        vnd_guard_close(g);
        return rc == EPERM ? 2 : 1;
    }
    struct vnd_out *o = vnd_out_new(stdout, fmt);
    struct vnd_cursor *rows = vnd_guard_cursor(g, stmt);
    vnd_guard_start(g);
    int code = 0;
    rc = vnd_out_cursor(o, rows, &code, &err);
    if (rc == 0)
        vnd_out_finish(o);
    else
        vnd_out_abandon(o);
    if (rc) {
        fprintf(stderr, "vnd query: %s%s\n", err,
                code == ETIMEDOUT ? " (raise it with --timeout)" : "");
        free(err);
        status = 1;
    }
    vnd_cursor_close(rows);
    vnd_guard_close(g);
    return status;
}
