/* packed_bench.c — what a packed table (store/packed.h) saves in writing
 * and costs in reading, beside a plain SQLite table in the same run: N
 * flow records of the ipfix default columns (12: ts, addresses, ports,
 * flags, times, counts; 7 senders, 37 servers, 64 source ports: every
 * row differs from the one before more than OVS's records do, so the
 * repeat tag saves less here than in a table server) written through the
 * SQLite provider into each, in batches of 50,000 rows with a commit
 * each (a table server commits every 0.5 s); then the same queries over
 * both: count(*), a sum over one column, a GROUP BY the 5-tuple.  CPU
 * seconds of this process (user + system, the checkpointer's included),
 * best of REPS runs each.
 *
 *   build/bench/packed_bench [ROWS=2000000] [REPS=3] [DIR=/var/tmp] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lang/parseconf.h"
#include "store/provider.h"
#include "store/store.h"
#include "util/util.h"

#define NCOLS 12
#define BATCH 50000

static double cpu_now(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec
           + u.ru_stime.tv_usec / 1e6;
}

/* record r: of 7 senders, 37 servers, 64 source ports, times advancing */
static void record(long r, struct vnd_value *v, char *src, char *dst)
{
    double t = 1796408156.0 + (double)r * 1e-6;
    snprintf(src, 32, "10.0.0.%ld", 1 + r % 7);
    snprintf(dst, 32, "10.0.%ld.%ld", r % 3, 2 + r % 37);
    v[0] = (struct vnd_value){.type = VND_SQL_INTEGER, .i = r + 1};       /* rowid */
    v[1] = (struct vnd_value){.type = VND_SQL_REAL, .d = t};
    v[2] = (struct vnd_value){.type = VND_SQL_TEXT, .s = src, .slen = strlen(src)};
    v[3] = (struct vnd_value){.type = VND_SQL_TEXT, .s = dst, .slen = strlen(dst)};
    v[4] = (struct vnd_value){.type = VND_SQL_INTEGER, .i = 6};
    v[5] = (struct vnd_value){.type = VND_SQL_INTEGER, .i = 40000 + r % 64};
    v[6] = (struct vnd_value){.type = VND_SQL_INTEGER, .i = 5201};
    v[7] = (struct vnd_value){.type = VND_SQL_INTEGER, .i = 24};
    v[8] = (struct vnd_value){.type = VND_SQL_REAL, .d = t - 1.5 + (double)(r % 97) * 1e-3};
    v[9] = (struct vnd_value){.type = VND_SQL_REAL, .d = t};
    v[10] = (struct vnd_value){.type = VND_SQL_INTEGER, .i = 50 + r % 1000};
    v[11] = (struct vnd_value){.type = VND_SQL_INTEGER, .i = (50 + r % 1000) * 1500};
    v[12] = (struct vnd_value){.type = VND_SQL_INTEGER, .i = (50 + r % 1000) * 1514};
}

static const char *conf_text =
    "Trace ID all\nFields: timestamp as ts, ip.src as src_ip, ip.dst as dst_ip, ip.proto as proto,"
    " tcp.src as src_port, tcp.dst as dst_port, tcp.flags as flags, flow.start as start_ts,"
    " flow.end as end_ts, flow.packets as packets, flow.bytes as bytes,"
    " flow.l2_bytes as l2_bytes\n";

/* Writes ROWS records into a new table; returns CPU seconds, *bytes the
 * file's size after. */
static double write_table(const char *path, bool packed, long rows, long *bytes)
{
    char *err = NULL;
    struct vnd_store *st;
    struct vnd_parse_conf *conf;
    unlink(path);
    if (vnd_store_open(path, &st, &err) || vnd_parseconf_parse(conf_text, "bench", &conf, &err)) {
        fprintf(stderr, "packed_bench: %s\n", err);
        exit(1);
    }
    struct vnd_parse_rule *rule = &conf->rules[0];
    struct vnd_store_writer *w = NULL;
    if (vnd_store_ensure_table(st, "flows", rule, packed, &err)
        || !(w = vnd_store_writer_new(st, "flows", rule->columns, NCOLS, true, &err))) {
        fprintf(stderr, "packed_bench: %s\n", err);
        exit(1);
    }
    /* the records made before the clock starts: 4,096 of them, reused
     * with the next rowid (snprintf would cost more than a packed row) */
    enum { DISTINCT = 4096 };
    static struct vnd_value made[DISTINCT][NCOLS + 1];
    static char src[DISTINCT][32], dst[DISTINCT][32];
    static bool ready;
    if (!ready) {
        for (long i = 0; i < DISTINCT; i++)
            record(i, made[i], src[i], dst[i]);
        ready = true;
    }
    double c0 = cpu_now();
    struct vnd_value v[64 * (NCOLS + 1)];
    for (long r = 0; r < rows; ) {
        if (vnd_store_begin(st, &err)) {
            fprintf(stderr, "packed_bench: %s\n", err);
            exit(1);
        }
        for (long end = r + BATCH < rows ? r + BATCH : rows; r < end; ) {
            int n = 0;
            for (; n < 64 && r < end; n++, r++) {
                memcpy(v + n * (NCOLS + 1), made[r % DISTINCT], sizeof made[0]);
                v[n * (NCOLS + 1)].i = r + 1;
                v[n * (NCOLS + 1) + 1].d += (double)(r / DISTINCT) * 0.004096;
            }
            if (vnd_store_write_rows(w, v, n, &err)) {
                fprintf(stderr, "packed_bench: %s\n", err);
                exit(1);
            }
        }
        if (vnd_store_commit(st, &err)) {
            fprintf(stderr, "packed_bench: %s\n", err);
            exit(1);
        }
    }
    vnd_store_writer_free(w);
    vnd_store_close(st);      /* its last checkpoint is part of the cost */
    double c = cpu_now() - c0;
    vnd_parseconf_free(conf);
    FILE *f = fopen(path, "rb");
    *bytes = 0;
    if (f) {
        fseek(f, 0, SEEK_END);
        *bytes = ftell(f);
        fclose(f);
    }
    return c;
}

static const char *queries[] = {
    "SELECT count(*) FROM flows",
    "SELECT sum(bytes) FROM flows",
    "SELECT src_ip, dst_ip, src_port, dst_port, sum(bytes) FROM flows"
    " GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC LIMIT 5",
};

static double run_query(const char *path, const char *sql)
{
    struct vnd_store *st;
    char *err = NULL;
    if (vnd_store_open(path, &st, &err)) {
        fprintf(stderr, "packed_bench: %s\n", err);
        exit(1);
    }
    sqlite3 *db = vnd_store_db(st);
    sqlite3_stmt *s;
    double c0 = cpu_now();
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "packed_bench: %s: %s\n", sql, sqlite3_errmsg(db));
        exit(1);
    }
    while (sqlite3_step(s) == SQLITE_ROW) {}
    sqlite3_finalize(s);
    double c = cpu_now() - c0;
    vnd_store_close(st);
    return c;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 2000000;
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    const char *dir = argc > 3 ? argv[3] : "/var/tmp";
    char plain[512], packed[512];
    snprintf(plain, sizeof plain, "%s/vnd-packed-bench-plain.%d.db", dir, (int)getpid());
    snprintf(packed, sizeof packed, "%s/vnd-packed-bench-packed.%d.db", dir, (int)getpid());
    double wp = 1e9, wk = 1e9;
    long bp = 0, bk = 0;
    for (int i = 0; i < reps; i++) {
        double a = write_table(plain, false, rows, &bp), b = write_table(packed, true, rows, &bk);
        if (a < wp)
            wp = a;
        if (b < wk)
            wk = b;
    }
    printf("# packed_bench: %ld flow records of 12 columns, best of %d, CPU of this process\n",
           rows, reps);
    printf("%-44s %14s %14s %7s\n", "", "plain table", "packed table", "ratio");
    printf("%-44s %14.3f %14.3f %7.2f\n", "write: CPU us a row (commit every 50,000)",
           wp * 1e6 / (double)rows, wk * 1e6 / (double)rows, wp / wk);
    printf("%-44s %14.1f %14.1f %7.2f\n", "file: bytes a row", (double)bp / (double)rows,
           (double)bk / (double)rows, (double)bp / (double)bk);
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        double a = 1e9, b = 1e9;
        for (int i = 0; i < reps; i++) {
            double x = run_query(plain, queries[q]), y = run_query(packed, queries[q]);
            if (x < a)
                a = x;
            if (y < b)
                b = y;
        }
        char label[64];
        snprintf(label, sizeof label, "query %zu: CPU ns a row", q + 1);
        printf("%-44s %14.1f %14.1f %7.2f   %s\n", label, a * 1e9 / (double)rows,
               b * 1e9 / (double)rows, a / b, queries[q]);
    }
    for (int i = 0; i < 2; i++) {
        const char *p = i ? packed : plain;
        char side[600];
        unlink(p);
        snprintf(side, sizeof side, "%s-wal", p);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", p);
        unlink(side);
    }
    return 0;
}
