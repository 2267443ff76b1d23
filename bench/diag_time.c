/* diag_time.c — what one answer of a diagnostic app costs inside the
 * process, without a program's start (about 60-90 ms of dynamic linking
 * on the bench machine, which would hide what a rollup saves).
 *
 *   diag_time DB RUNS APP TABLE [by-flow] [no-rollup] [fields=a,b,...] [field=c]
 *             [since=TS] [until=TS] [slot=S]
 *
 * Runs the app RUNS times on one connection (as vnd diag does: the C step
 * when it has one, else the SQL) and prints the best time in seconds. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag/diag.h"
#include "lang/sqlfuncs.h"
#include "output/output.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: diag_time DB RUNS APP TABLE [by-flow] [no-rollup] "
                        "[fields=a,b] [field=c] [since=TS] [until=TS] [slot=S]\n");
        return 2;
    }
    const struct vnd_diag_app *app = vnd_diag_find(argv[3]);
    if (!app) {
        fprintf(stderr, "diag_time: no app %s\n", argv[3]);
        return 2;
    }
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = argv[4];
    char *fields = NULL;
    for (int i = 5; i < argc; i++) {
        if (!strcmp(argv[i], "by-flow"))
            o.by_flow = true;
        else if (!strcmp(argv[i], "no-rollup"))
            o.no_rollup = true;
        else if (!strncmp(argv[i], "fields=", 7)) {
            fields = strdup(argv[i] + 7);
            for (char *t = strtok(fields, ","); t && o.nfields < VND_DIAG_FIELDS_MAX;
                 t = strtok(NULL, ","))
                o.fields[o.nfields++] = t;
        } else if (!strncmp(argv[i], "field=", 6))
            o.field = argv[i] + 6;
        else if (!strncmp(argv[i], "since=", 6))
            o.since = strtod(argv[i] + 6, NULL);
        else if (!strncmp(argv[i], "until=", 6))
            o.until = strtod(argv[i] + 6, NULL);
        else if (!strncmp(argv[i], "slot=", 5))
            o.slot = strtod(argv[i] + 5, NULL);
        else {
            fprintf(stderr, "diag_time: what is '%s'?\n", argv[i]);
            return 2;
        }
    }
    sqlite3 *db;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
        || vnd_sql_register_functions(db) != SQLITE_OK) {
        fprintf(stderr, "diag_time: %s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    FILE *null = fopen("/dev/null", "w");
    int runs = atoi(argv[2]);
    double best = INFINITY;
    for (int r = 0; r < (runs > 0 ? runs : 1); r++) {
        struct vnd_out *out = vnd_out_new(null, VND_FMT_CSV);
        char *err = NULL;
        double a = now();
        int rc = vnd_diag_run(app, db, &o, out, &err);
        vnd_out_finish(out);
        double e = now() - a;
        if (rc) {
            fprintf(stderr, "diag_time: %s\n", err);
            return 1;
        }
        best = e < best ? e : best;
    }
    printf("%.6f\n", best);
    fclose(null);
    free(fields);
    sqlite3_close(db);
    return 0;
}
