/* test_diag_sampling.c — how the apps account for sampling
 * (diag/diag_sampling.h): the Horvitz-Thompson estimator and its interval
 * on hand cases and by simulation (unbiased, 95% coverage), throughput's
 * SQL against the C estimator over a history of rates, reading
 * vnd_meta/vnd_sampling, the refusals of the pairing apps, and what the
 * output says. */
#include "../tap.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diag.h"
#include "diag/diag_sampling.h"
#include "output/output.h"
#include "util/util.h"

#define STD_COLS "ts REAL, id INTEGER, src_ip TEXT, dst_ip TEXT, proto INTEGER, " \
                 "src_port INTEGER, dst_port INTEGER, seq INTEGER, ack INTEGER, " \
                 "flags INTEGER, payload_len INTEGER"
#define SAMPLING_TABLE "CREATE TABLE vnd_sampling(trace TEXT NOT NULL, tbl TEXT NOT NULL," \
    " from_ts REAL NOT NULL, sampling INTEGER NOT NULL, method TEXT NOT NULL," \
    " flow_sampling REAL NOT NULL, reason TEXT, PRIMARY KEY (trace, tbl, from_ts))"

static sqlite3 *db;

static void exec(const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        printf("# setup failed: %s: %s\n", sql, err);
        exit(1);
    }
}

static void execf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void execf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vnd_strdup_vprintf(fmt, ap);
    va_end(ap);
    exec(s);
    free(s);
}

static void meta(const char *tbl, const char *source, int n, double m)
{
    execf("INSERT INTO vnd_meta (trace, tbl, source, sampling, flow_sampling) VALUES"
          " ('%s', '%s', '%s', %d, %g)", tbl, tbl, source, n, m);
}

/* xorshift: the same numbers on every run */
static uint64_t rng = 88172645463325252ull;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static bool near(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-9;
}

static void hand_cases(void)
{
    struct vnd_ht h = {0};
    double n[] = {10, 10}, x[] = {100, 200};
    vnd_ht_flow(&h, 1, n, x, 2);
    CHECK(h.est == 3000 && h.var == 90.0 * 50000 && h.seen == 300,
          "packet sampling 1-in-10: estimate 3000, variance (N^2-N) sum x^2 = 4.5e6 (got %g, %g)",
          h.est, h.var);
    double lo, hi;
    vnd_ht_interval(&h, &lo, &hi);
    CHECK(near(hi - 3000, 1.96 * sqrt(4.5e6), 1e-12) && lo == 300,
          "the interval: estimate + 1.96 sqrt(variance), the low end the bytes seen (%g..%g)",
          lo, hi);
    double n2[100], x2[100];
    for (int i = 0; i < 100; i++) {
        n2[i] = 2;
        x2[i] = 1000;
    }
    struct vnd_ht h2 = {0};
    vnd_ht_flow(&h2, 1, n2, x2, 100);
    vnd_ht_interval(&h2, &lo, &hi);
    CHECK(near(200000 - lo, 1.96 * sqrt(2e8), 1e-12) && near(hi - 200000, 1.96 * sqrt(2e8), 1e-12),
          "the interval: estimate +- 1.96 sqrt(variance) (%g..%g)", lo, hi);

    struct vnd_ht f = {0};
    double one[] = {1}, y1[] = {1000}, y2[] = {3000};
    vnd_ht_flow(&f, 4, one, y1, 1);
    vnd_ht_flow(&f, 4, one, y2, 1);
    CHECK(f.est == 16000 && f.var == 12.0 * (1e6 + 9e6),
          "flow sampling 1-in-4: estimate 16000, variance (M^2-M) sum Y^2 = 1.2e8 (got %g, %g)",
          f.est, f.var);

    struct vnd_ht b = {0};
    double n5[] = {5}, x100[] = {100};
    vnd_ht_flow(&b, 2, n5, x100, 1);
    CHECK(b.est == 1000 && b.var == 2.0 * 500 * 500 + 2.0 * 20 * 10000,
          "both: (M^2-M) Y^2 + M V = 9e5 (got %g)", b.var);

    struct vnd_ht e = {0};
    vnd_ht_flow(&e, 1, one, x100, 1);
    vnd_ht_interval(&e, &lo, &hi);
    CHECK(e.var == 0 && lo == 100 && hi == 100, "every packet: no width");
    struct vnd_ht w = {0};
    double n100[] = {100};
    vnd_ht_flow(&w, 1, n100, x100, 1);
    vnd_ht_interval(&w, &lo, &hi);
    CHECK(lo == 100 && hi > 10000, "the low end is never below the bytes seen (%g)", lo);
}

/* Many Bernoulli samples of one population: the estimate is unbiased, the
 * variance estimate matches the true variance, the interval covers the
 * truth about 95% of the time. */
static void simulation(double N, double M, int trials, const char *what)
{
    enum { FLOWS = 60, PER = 50 };
    double x[FLOWS][PER], truth = 0, truevar = 0;
    for (int f = 0; f < FLOWS; f++) {
        double yf = 0, vf = 0;
        for (int i = 0; i < PER; i++) {
            x[f][i] = 40 + floor(uniform() * 1460);
            truth += x[f][i];
            yf += x[f][i];
            vf += (N - 1) * x[f][i] * x[f][i];
        }
        truevar += (M - 1) * yf * yf + M * vf;
    }
    double sum = 0, sumvar = 0;
    int covered = 0;
    for (int t = 0; t < trials; t++) {
        struct vnd_ht h = {0};
        for (int f = 0; f < FLOWS; f++) {
            if (uniform() * M >= 1)
                continue;
            double n[PER], xs[PER];
            size_t k = 0;
            for (int i = 0; i < PER; i++)
                if (uniform() * N < 1) {
                    n[k] = N;
                    xs[k++] = x[f][i];
                }
            vnd_ht_flow(&h, M, n, xs, k);
        }
        double lo, hi;
        vnd_ht_interval(&h, &lo, &hi);
        sum += h.est;
        sumvar += h.var;
        covered += lo <= truth && truth <= hi;
    }
    double mean = sum / trials, cover = (double)covered / trials;
    double se = sqrt(truevar / trials);
    CHECK(fabs(mean - truth) < 4 * se, "%s: unbiased (mean %.0f, truth %.0f, 4 s.e. %.0f)",
          what, mean, truth, 4 * se);
    CHECK(near(sumvar / trials, truevar, 0.08), "%s: the variance estimate's mean %.3g is the "
          "true variance %.3g", what, sumvar / trials, truevar);
    CHECK(cover > 0.92 && cover < 0.975, "%s: the 95%% interval covers the truth %.1f%% of the "
          "time", what, 100 * cover);
}

/* throughput's SQL on `tbl` (slot 1 s), the rows read back. */
struct trow {
    double t, packets, bytes, bps, lo, hi;
};

static int throughput(const char *tbl, struct trow *rows, int max, char **sql_out)
{
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = tbl;
    char *err = NULL;
    char *sql = vnd_diag_sql(&vnd_diag_throughput, db, &o, &err);
    if (!sql) {
        printf("# %s\n", err);
        free(err);
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        printf("# %s\n", sqlite3_errmsg(db));
        free(sql);
        return -1;
    }
    while (sqlite3_step(st) == SQLITE_ROW && n < max) {
        struct trow *r = &rows[n++];
        r->t = sqlite3_column_double(st, 0);
        r->packets = sqlite3_column_double(st, 1);
        r->bytes = sqlite3_column_double(st, 2);
        r->bps = sqlite3_column_double(st, 3);
        r->lo = sqlite3_column_count(st) > 4 ? sqlite3_column_double(st, 4) : NAN;
        r->hi = sqlite3_column_count(st) > 5 ? sqlite3_column_double(st, 5) : NAN;
    }
    sqlite3_finalize(st);
    if (sql_out)
        *sql_out = sql;
    else
        free(sql);
    return n;
}

/* The C step against the SQL on o->table's flow records, at several
 * slots, whole and by flow: the same rows, the same t and flow, the sums
 * equal but for the order they were added in (1e-12). */
static void step_vs_sql(struct vnd_diag_opts *o)
{
    double slots[] = {1, 0.3, 2.5};
    for (size_t i = 0; i < 2 * sizeof slots / sizeof *slots; i++) {
        o->slot = slots[i / 2];
        o->by_flow = i % 2;
        struct vnd_diag_rows r = {0};
        char *err = NULL, *sql = vnd_diag_sql(&vnd_diag_throughput, db, o, &err);
        int rc = vnd_diag_run_step(&vnd_diag_throughput, db, o, &r, &err);
        sqlite3_stmt *st = NULL;
        bool same = rc == 0 && sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK
                    && sqlite3_column_count(st) == r.ncols;
        size_t n = 0, nrows = r.ncols ? r.n / (size_t)r.ncols : 0;
        while (same && sqlite3_step(st) == SQLITE_ROW) {
            for (int j = 0; same && j < r.ncols; j++) {
                const struct vnd_cell *cell = &r.c[n * (size_t)r.ncols + (size_t)j];
                int type = sqlite3_column_type(st, j);
                if (n >= nrows)
                    same = false;
                else if (type == SQLITE_TEXT || type == SQLITE_NULL)
                    same = type == SQLITE_NULL ? cell->type == VND_CELL_NULL
                                               : cell->type == VND_CELL_TEXT
                                                     && !strcmp(cell->s, (const char *)
                                                                sqlite3_column_text(st, j));
                else if (type == SQLITE_INTEGER)
                    same = cell->type == VND_CELL_INT && cell->i == sqlite3_column_int64(st, j);
                else
                    same = cell->type == VND_CELL_REAL
                           && near(cell->r, sqlite3_column_double(st, j), 1e-12);
            }
            n++;
        }
        same = same && n == nrows;
        sqlite3_finalize(st);
        CHECK(same && n > 2, "the C step's rows are the SQL's: slot %g s%s, %zu rows%s%s",
              o->slot, o->by_flow ? ", by flow" : "", n, err ? ": " : "", err ? err : "");
        vnd_rows_free(&r);
        free(sql);
        free(err);
    }
    o->by_flow = false;
    /* a slot a million times shorter than the records: the step gives the
     * question back to the SQL, which the query guard holds to its limits */
    o->slot = 1e-7;
    struct vnd_diag_rows r = {0};
    char *err = NULL;
    int rc = vnd_diag_run_step(&vnd_diag_throughput, db, o, &r, &err);
    CHECK(rc == VND_DIAG_USE_SQL && r.n == 0, "--slot 1e-7: the step leaves it to the SQL (%d)",
          rc);
    vnd_rows_free(&r);
    free(err);
    o->slot = 1;
}

/* groups of o->table's flow records by src_ip: group 'a''s packets,
 * bytes and their intervals in v[0..5] (NAN when not read). */
static void record_group_a(const char *table, double v[6])
{
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = table;
    o.fields[0] = "src_ip";
    o.nfields = 1;
    char *err = NULL, *sql = vnd_diag_sql(&vnd_diag_groups, db, &o, &err);
    char *q = sql ? vnd_strdup_printf("SELECT packets, bytes, packets_low, packets_high,"
                                      " bytes_low, bytes_high FROM (%s) WHERE src_ip = 'a'", sql)
                  : NULL;
    sqlite3_stmt *st = NULL;
    for (int i = 0; i < 6; i++)
        v[i] = NAN;
    if (q && sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        for (int i = 0; i < 6; i++)
            v[i] = sqlite3_column_double(st, i);
    if (err)
        printf("# %s\n", err);
    sqlite3_finalize(st);
    free(q);
    free(sql);
    free(err);
}

/* IPFIX records (the switch sampled 1-in-100 and scaled the counts):
 * each spread over its start to end, not scaled again, the interval from
 * each record's packets taken as equal in size: (N - 1) y^2 w / p. */
static void flow_records(struct trow *rows)
{
    exec("CREATE TABLE fx (ts REAL, src_ip TEXT, dst_ip TEXT, proto INTEGER, src_port INTEGER,"
         " dst_port INTEGER, start_ts REAL, end_ts REAL, packets INTEGER, bytes INTEGER)");
    meta("fx", "vnd-tabled ipfix", 100, 1);
    /* A over slots 0 and 1 by halves, B at an instant of slot 0, C a
     * third in slot 1 and two thirds in slot 2 */
    exec("INSERT INTO fx VALUES (102.0, 'a', 'b', 6, 1, 2, 100.0, 102.0, 400, 400000),"
         " (100.5, 'a', 'b', 17, 3, 4, 100.5, 100.5, 100, 50000),"
         " (103.0, 'c', 'd', 6, 5, 6, 101.5, 103.0, 300, 150000)");
    int n = throughput("fx", rows, 8, NULL);
    double var0 = 99.0 * 4e5 * 4e5 * 0.5 / 400 + 99.0 * 5e4 * 5e4 / 100;
    double seen0 = 0.5 * 4e5 / 100 + 5e4 / 100;
    double lo0 = 8 * fmax(250000 - 1.96 * sqrt(var0), seen0), hi0 = 8 * (250000 + 1.96 * sqrt(var0));
    CHECK(n == 3 && rows[0].t == 0 && near(rows[0].packets, 300, 1e-12)
              && near(rows[0].bytes, 250000, 1e-12) && near(rows[0].bps, 2e6, 1e-12)
              && near(rows[0].lo, lo0, 1e-9) && near(rows[0].hi, hi0, 1e-9),
          "ipfix slot 0: half of A and all of B, not scaled again (%g packets, %g bytes, "
          "%g..%g against %g..%g)", rows[0].packets, rows[0].bytes, rows[0].lo, rows[0].hi,
          lo0, hi0);
    CHECK(n == 3 && rows[1].t == 1 && near(rows[1].packets, 300, 1e-12)
              && near(rows[1].bytes, 250000, 1e-12) && rows[2].t == 2
              && near(rows[2].packets, 200, 1e-12) && near(rows[2].bytes, 100000, 1e-12),
          "ipfix slots 1 and 2: each record's share by its overlap (%g, %g bytes)",
          rows[1].bytes, rows[2].bytes);
    /* groups of the records: A and B make group a; each record adds
     * (N - 1) p to the packets' variance and (N - 1) y^2 / p to the bytes' */
    double g[6];
    record_group_a("fx", g);
    double php = 1.96 * sqrt(99.0 * 400 + 99.0 * 100);
    double bhw = 1.96 * sqrt(99.0 * 4e5 * 4e5 / 400 + 99.0 * 5e4 * 5e4 / 100);
    CHECK(g[0] == 500 && g[1] == 450000 && near(g[2], fmax(500 - php, 5), 1e-12)
              && near(g[3], 500 + php, 1e-12) && near(g[4], 450000 - bhw, 1e-12)
              && near(g[5], 450000 + bhw, 1e-12),
          "groups of 1-in-100 flow records: sums and 95%% intervals (%g %g..%g, %g %g..%g)",
          g[0], g[2], g[3], g[1], g[4], g[5]);
    /* the records each slot rests on, and every byte in some slot, at
     * any slot length */
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = "fx";
    for (int k = 0; k < 40; k++)
        execf("INSERT INTO fx VALUES (%f, 'e', 'f', 6, %d, 7, %f, %f, %d, %d)", 110 + k * 0.37,
              k, 110 + k * 0.37 - (k % 7) * 0.61, 110 + k * 0.37, 1 + k, 1000 * (k + 1));
    /* times an exporter got wrong: a start over a day before the end, a
     * start after the end, no start: each a point at its end (3 * 1000
     * bytes and 3 packets more in the sums below) */
    exec("INSERT INTO fx VALUES (111, 'g', 'h', 6, 1, 2, -100000, 111, 1, 1000),"
         " (112, 'g', 'h', 6, 1, 2, 113, 112, 1, 1000), (113, 'g', 'h', 6, 1, 2, NULL, NULL, 1, 1000)");
    double slots[] = {1, 0.3, 2.5, 7};
    for (size_t i = 0; i < sizeof slots / sizeof *slots; i++) {
        o.slot = slots[i];
        char *err = NULL, *sql = vnd_diag_sql(&vnd_diag_throughput, db, &o, &err);
        sqlite3_stmt *st = NULL;
        double bytes = -1, packets = -1, records = -1;
        char *q = sql ? vnd_strdup_printf("SELECT sum(bytes), sum(packets), max(records) FROM"
                                          " (%s)", sql) : NULL;
        if (q && sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK
            && sqlite3_step(st) == SQLITE_ROW) {
            bytes = sqlite3_column_double(st, 0);
            packets = sqlite3_column_double(st, 1);
            records = sqlite3_column_double(st, 2);
        }
        sqlite3_finalize(st);
        CHECK(near(bytes, 600000 + 820000 + 3000, 1e-12) && near(packets, 800 + 820 + 3, 1e-12)
                  && records >= 1, "slot %g s: the slots hold every byte and packet of the "
                  "records (%g bytes, %g packets)%s%s", slots[i], bytes, packets,
              err ? ": " : "", err ? err : "");
        if (i == 0) {
            /* time 0 the first good start, the bad records at their ends */
            char *q2 = sql ? vnd_strdup_printf("SELECT min(t), max(t), count(*) FROM (%s)", sql)
                           : NULL;
            double tmin = -1, tmax = -1;
            if (q2 && sqlite3_prepare_v2(db, q2, -1, &st, NULL) == SQLITE_OK
                && sqlite3_step(st) == SQLITE_ROW) {
                tmin = sqlite3_column_double(st, 0);
                tmax = sqlite3_column_double(st, 1);
            }
            sqlite3_finalize(st);
            st = NULL;
            CHECK(tmin == 0 && tmax == 24, "a start a day before its end moves neither time 0 "
                  "nor the slots: t from %g to %g", tmin, tmax);
            free(q2);
        }
        free(q);
        free(sql);
        free(err);
    }
    step_vs_sql(&o);
    exec("DELETE FROM fx WHERE ts >= 110");
}

/* The same with the records' sums of squared lengths (bytes_sq, OVS's
 * octetDeltaSumOfSquares): the interval is (N - 1) q w with q the record's
 * bytes_sq, or y^2 / p where that is missing or smaller (the least a
 * record of p packets and y bytes can have). */
static void flow_records_sq(struct trow *rows)
{
    exec("CREATE TABLE fq (ts REAL, src_ip TEXT, dst_ip TEXT, proto INTEGER, src_port INTEGER,"
         " dst_port INTEGER, start_ts REAL, end_ts REAL, packets INTEGER, bytes INTEGER,"
         " bytes_sq INTEGER)");
    meta("fq", "vnd-tabled ipfix", 100, 1);
    /* A's sum above its 4e8 of equal sizes, B's below its 2.5e7, C's
     * missing (7.5e7) */
    exec("INSERT INTO fq VALUES (102.0, 'a', 'b', 6, 1, 2, 100.0, 102.0, 400, 400000, 500000000),"
         " (100.5, 'a', 'b', 17, 3, 4, 100.5, 100.5, 100, 50000, 10000000),"
         " (103.0, 'c', 'd', 6, 5, 6, 101.5, 103.0, 300, 150000, NULL)");
    int n = throughput("fq", rows, 8, NULL);
    double var0 = 99.0 * 5e8 * 0.5 + 99.0 * 2.5e7;
    double seen0 = 0.5 * 4e5 / 100 + 5e4 / 100;
    double lo0 = 8 * fmax(250000 - 1.96 * sqrt(var0), seen0), hi0 = 8 * (250000 + 1.96 * sqrt(var0));
    double var1 = 99.0 * 5e8 * 0.5 + 99.0 * 7.5e7 / 3;
    double hi1 = 8 * (250000 + 1.96 * sqrt(var1));
    CHECK(n == 3 && near(rows[0].bytes, 250000, 1e-12) && near(rows[0].lo, lo0, 1e-9)
              && near(rows[0].hi, hi0, 1e-9),
          "bytes_sq: slot 0's interval from A's sum of squares and B's equal sizes (%g..%g "
          "against %g..%g)", rows[0].lo, rows[0].hi, lo0, hi0);
    CHECK(n == 3 && near(rows[1].bytes, 250000, 1e-12) && near(rows[1].hi, hi1, 1e-9),
          "bytes_sq: slot 1's from A's and C's, whose is missing (%g against %g)", rows[1].hi,
          hi1);
    double g[6];
    record_group_a("fq", g);
    double bhw = 1.96 * sqrt(99.0 * 5e8 + 99.0 * 2.5e7);
    CHECK(g[1] == 450000 && near(g[4], fmax(450000 - bhw, 4500), 1e-12)
              && near(g[5], 450000 + bhw, 1e-12),
          "bytes_sq: groups' bytes interval from A's sum of squares and B's equal sizes (%g..%g)",
          g[4], g[5]);
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = "fq";
    for (int k = 0; k < 40; k++)
        execf("INSERT INTO fq VALUES (%f, 'e', 'f', 6, %d, 7, %f, %f, %d, %d, %s)",
              110 + k * 0.37, k, 110 + k * 0.37 - (k % 7) * 0.61, 110 + k * 0.37, 1 + k,
              1000 * (k + 1), k % 3 == 0 ? "NULL" : k % 3 == 1 ? "1" : "900000000");
    step_vs_sql(&o);
    exec("DROP TABLE fq");
}

/* The SQL against the C estimator: a table sampled 1-in-4 from ts 0, then
 * 1-in-8 with flows 1-in-2 from ts 101.5 (a slot holds both). */
static void sql_vs_c(void)
{
    exec("CREATE TABLE h (" STD_COLS ")");
    meta("h", "vnd-tabled", 8, 2);
    exec(SAMPLING_TABLE);
    exec("INSERT INTO vnd_sampling VALUES ('h', 'h', 0, 4, 'count', 1, 'configured'),"
         " ('h', 'h', 101.5, 8, 'count', 2, 'budget: test')");
    /* 3 flows (ports 1..3), rows at 100.0 .. 102.9 */
    struct { double ts; int port, len; } r[90];
    for (int i = 0; i < 90; i++) {
        r[i].ts = 100 + i * (3.0 / 90);
        r[i].port = 1 + i % 3;
        r[i].len = 100 + (i * 37) % 1400;
        execf("INSERT INTO h VALUES (%.9f, %d, '10.0.0.1', '10.0.0.2', 6, %d, 80, 0, 0, 16, %d)",
              r[i].ts, i, r[i].port, r[i].len);
    }
    struct trow rows[8];
    char *sql = NULL;
    int n = throughput("h", rows, 8, &sql);
    CHECK(n == 3, "a sampled table: one row per slot (%d)", n);
    CHECK(sql && strstr(sql, "/* from the rows, not a rollup: table h is sampled")
              && strstr(sql, "CASE WHEN s.ts >= 101.5 THEN 8.0 ELSE 4.0 END"),
          "--show-sql says so and shows each row's factor");
    free(sql);
    for (int s = 0; s < n && s < 3; s++) {
        /* per slot, per (flow, M): the C estimator */
        struct vnd_ht h = {0};
        for (int port = 1; port <= 3; port++)
            for (int pass = 0; pass < 2; pass++) {
                double nn[90], xx[90], m = pass ? 2 : 1;
                size_t k = 0;
                for (int i = 0; i < 90; i++) {
                    bool late = r[i].ts >= 101.5;
                    if (floor(r[i].ts - 100) != s || r[i].port != port || late != pass)
                        continue;
                    nn[k] = late ? 8 : 4;
                    xx[k++] = r[i].len;
                }
                if (k)
                    vnd_ht_flow(&h, m, nn, xx, k);
            }
        double lo, hi;
        vnd_ht_interval(&h, &lo, &hi);
        CHECK(near(rows[s].bytes, h.est, 1e-12) && near(rows[s].bps, 8 * h.est, 1e-12)
                  && near(rows[s].lo, 8 * lo, 1e-9) && near(rows[s].hi, 8 * hi, 1e-9),
              "slot %d: the SQL's estimate and interval are the C estimator's (%g %g..%g vs "
              "%g %g..%g)", s, rows[s].bps, rows[s].lo, rows[s].hi, 8 * h.est, 8 * lo, 8 * hi);
    }
    /* groups by source port (a flow each): the same estimator over the
     * whole table, of packets (x = 1) and of bytes */
    struct vnd_diag_opts go;
    vnd_diag_opts_init(&go);
    go.table = "h";
    go.fields[0] = "src_port";
    go.nfields = 1;
    char *gerr = NULL, *gsql = vnd_diag_sql(&vnd_diag_groups, db, &go, &gerr);
    sqlite3_stmt *gst = NULL;
    int gn = 0;
    bool gsame = gsql && sqlite3_prepare_v2(db, gsql, -1, &gst, NULL) == SQLITE_OK
                 && sqlite3_column_count(gst) == 8
                 && !strcmp(sqlite3_column_name(gst, 3), "packets_low")
                 && !strcmp(sqlite3_column_name(gst, 7), "flows_sampled");
    while (gsame && sqlite3_step(gst) == SQLITE_ROW) {
        int port = sqlite3_column_int(gst, 0);
        struct vnd_ht hp = {0}, hb = {0};
        for (int pass = 0; pass < 2; pass++) {
            double nn[90], xx[90], ones[90], m = pass ? 2 : 1;
            size_t k = 0;
            for (int i = 0; i < 90; i++) {
                bool late = r[i].ts >= 101.5;
                if (r[i].port != port || late != pass)
                    continue;
                nn[k] = late ? 8 : 4;
                ones[k] = 1;
                xx[k++] = r[i].len;
            }
            if (k) {
                vnd_ht_flow(&hp, m, nn, ones, k);
                vnd_ht_flow(&hb, m, nn, xx, k);
            }
        }
        double plo, phi, blo, bhi;
        vnd_ht_interval(&hp, &plo, &phi);
        vnd_ht_interval(&hb, &blo, &bhi);
        gsame = near(sqlite3_column_double(gst, 1), hp.est, 1e-12)
                && near(sqlite3_column_double(gst, 2), hb.est, 1e-12)
                && near(sqlite3_column_double(gst, 3), plo, 1e-9)
                && near(sqlite3_column_double(gst, 4), phi, 1e-9)
                && near(sqlite3_column_double(gst, 5), blo, 1e-9)
                && near(sqlite3_column_double(gst, 6), bhi, 1e-9)
                && sqlite3_column_int(gst, 7) == 2;
        if (!gsame)
            printf("# port %d: %g %g %g..%g %g..%g against %g %g %g..%g %g..%g\n", port,
                   sqlite3_column_double(gst, 1), sqlite3_column_double(gst, 2),
                   sqlite3_column_double(gst, 3), sqlite3_column_double(gst, 4),
                   sqlite3_column_double(gst, 5), sqlite3_column_double(gst, 6), hp.est, hb.est,
                   plo, phi, blo, bhi);
        gn++;
    }
    sqlite3_finalize(gst);
    CHECK(gsame && gn == 3, "groups on a sampled table: each group's packets and bytes, and "
          "their intervals, are the C estimator's (%d groups)%s%s", gn, gerr ? ": " : "",
          gerr ? gerr : "");
    CHECK(gsql && strstr(gsql, "/* from the rows, not a rollup: table h is sampled"),
          "groups: --show-sql says why not the rollup");
    free(gsql);
    free(gerr);
    /* distribution of the source port: each value's count the same
     * estimate of packets as groups', its fraction of their sum */
    go.field = "src_port";
    gerr = NULL;
    gsql = vnd_diag_sql(&vnd_diag_distribution, db, &go, &gerr);
    char *gsql2 = gsql ? vnd_diag_sql(&vnd_diag_groups, db, &go, &gerr) : NULL;
    char *gq = gsql2 ? vnd_strdup_printf("SELECT d.src_port, d.count, d.fraction, d.count_low,"
                                         " d.count_high, g.packets, g.packets_low,"
                                         " g.packets_high, d.flows_sampled FROM (%s) d JOIN (%s)"
                                         " g ON g.src_port = d.src_port", gsql, gsql2)
                     : NULL;
    free(gsql2);
    gst = NULL;
    gn = 0;
    double fsum = 0;
    gsame = gq && sqlite3_prepare_v2(db, gq, -1, &gst, NULL) == SQLITE_OK;
    while (gsame && sqlite3_step(gst) == SQLITE_ROW) {
        gsame = near(sqlite3_column_double(gst, 1), sqlite3_column_double(gst, 5), 1e-12)
                && near(sqlite3_column_double(gst, 3), sqlite3_column_double(gst, 6), 1e-12)
                && near(sqlite3_column_double(gst, 4), sqlite3_column_double(gst, 7), 1e-12)
                && sqlite3_column_int(gst, 8) == 2;
        fsum += sqlite3_column_double(gst, 2);
        gn++;
    }
    sqlite3_finalize(gst);
    CHECK(gsame && gn == 3 && near(fsum, 1, 1e-12), "distribution on a sampled table: each "
          "value's count and interval are groups' packets, the fractions add up to 1 (%d, %g)%s%s",
          gn, fsum, gerr ? ": " : "", gerr ? gerr : "");
    free(gq);
    free(gsql);
    free(gerr);
    /* one rate throughout: no time column needed (a tenant's table of a
     * few fields) */
    exec("CREATE TABLE few (src_port INTEGER, payload_len INTEGER);"
         " INSERT INTO few VALUES (1, 100), (1, 300), (2, 50)");
    meta("few", "vnd-tabled", 4, 1);
    go.table = "few";
    go.field = "src_port";
    gerr = NULL;
    gsql = vnd_diag_sql(&vnd_diag_distribution, db, &go, &gerr);
    gq = gsql ? vnd_strdup_printf("SELECT count, count_high FROM (%s) WHERE src_port = 1", gsql)
              : NULL;
    gst = NULL;
    double fc = -1, fhi = -1;
    if (gq && sqlite3_prepare_v2(db, gq, -1, &gst, NULL) == SQLITE_OK
        && sqlite3_step(gst) == SQLITE_ROW) {
        fc = sqlite3_column_double(gst, 0);
        fhi = sqlite3_column_double(gst, 1);
    }
    sqlite3_finalize(gst);
    CHECK(fc == 8 && near(fhi, 8 + 1.96 * sqrt(2 * 12.0), 1e-12),
          "a sampled table without ts, one rate: distribution scales it (%g, to %g)%s%s", fc,
          fhi, gerr ? ": " : "", gerr ? gerr : "");
    free(gq);
    free(gsql);
    free(gerr);
    /* unsampled: the columns as before, no interval */
    exec("CREATE TABLE plain AS SELECT * FROM h");
    meta("plain", "plain.pcap", 1, 1);
    n = throughput("plain", rows, 8, NULL);
    CHECK(n == 3 && isnan(rows[0].lo) && rows[0].packets == 30,
          "every packet: the rows counted as they are, no bps_low/bps_high");
    flow_records(rows);
    flow_records_sq(rows);
    /* sFlow: the switch's N */
    exec("CREATE TABLE sf AS SELECT * FROM h");
    meta("sf", "vnd-tabled sflow", 50, 1);
    n = throughput("sf", rows, 8, NULL);
    CHECK(n == 3 && rows[0].packets == 1500 && rows[0].hi > rows[0].bps,
          "sflow: rows scaled by the switch's 1-in-50 (%g packets)", rows[0].packets);
}

static void reading(void)
{
    struct vnd_samp s;
    vnd_samp_read(db, "nothing", &s);
    CHECK(!s.known && !strcmp(s.mode, "unknown") && s.niv == 1 && s.iv[0].n == 1,
          "a table vnd_meta does not know: every packet");
    vnd_samp_free(&s);
    vnd_samp_read(db, "h", &s);
    CHECK(s.known && s.history && !strcmp(s.mode, "mirror") && s.niv == 2 && s.iv[1].n == 8
              && s.iv[1].m == 2 && s.iv[1].from_ts == 101.5 && !s.iv[0].hash,
          "vnd_sampling's history: two intervals, mirror");
    vnd_samp_free(&s);
    vnd_samp_read(db, "plain", &s);
    CHECK(!s.history && !strcmp(s.mode, "file") && s.niv == 1 && !vnd_samp_scaled(&s),
          "no history rows: vnd_meta's one interval, a file");
    vnd_samp_free(&s);
    vnd_samp_read(db, "fx", &s);
    CHECK(!strcmp(s.mode, "ipfix") && vnd_samp_packets(&s) && !vnd_samp_scaled(&s),
          "ipfix: sampled, not scaled");
    vnd_samp_free(&s);
    /* a table two traces write (one Table ID) */
    exec("CREATE TABLE two (" STD_COLS ")");
    exec("INSERT INTO vnd_meta VALUES ('t1', 'two', 'vnd-tabled', 10, 1),"
         " ('t2', 'two', 'vnd-tabled', 10, 1)");
    vnd_samp_read(db, "two", &s);
    CHECK(!s.mixed && s.niv == 1 && s.iv[0].n == 10, "two traces sampled alike: one history");
    vnd_samp_free(&s);
    exec("UPDATE vnd_meta SET sampling = 5 WHERE trace = 't2'");
    vnd_samp_read(db, "two", &s);
    CHECK(s.mixed, "two traces sampled differently: said");
    vnd_samp_free(&s);
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = "two";
    char *err = NULL;
    char *sql = vnd_diag_sql(&vnd_diag_throughput, db, &o, &err);
    CHECK(!sql && err && strstr(err, "table two is sampled") && strstr(err, "own table"),
          "throughput refuses a table whose traces were sampled differently: %s", err);
    free(sql);
    free(err);
    exec("CREATE TABLE z (" STD_COLS ")");
    meta("z", "z.pcap", 0, 0);
    vnd_samp_read(db, "z", &s);
    CHECK(s.iv[0].n == 1 && s.iv[0].m == 1, "sampling 0 (never set): every packet");
    vnd_samp_free(&s);
}

static char *check_app(const struct vnd_diag_app *app, const char *t, const char *in,
                       const char *out)
{
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = t;
    o.in = in;
    o.out = out;
    struct vnd_diag_ctx c = {db, &o};
    char *err = NULL;
    if (vnd_diag_sampling_check(&c, app, &err) == 0)
        return NULL;
    return err ? err : strdup("?");
}

static void refusals(void)
{
    const char *names[] = {"ci", "co", "hi", "ho", "h8", "fi", "fo", NULL};
    for (int i = 0; names[i]; i++)
        execf("CREATE TABLE %s (" STD_COLS ")", names[i]);
    meta("ci", "vnd-tabled", 10, 1);
    meta("co", "vnd-tabled", 10, 1);
    meta("hi", "vnd-tabled", 10, 1);
    meta("ho", "vnd-tabled", 10, 1);
    meta("h8", "vnd-tabled", 8, 1);
    meta("fi", "vnd-tabled", 1, 4);
    meta("fo", "vnd-tabled", 1, 4);
    exec("INSERT INTO vnd_sampling VALUES ('hi', 'hi', 0, 10, 'hash', 1, 'configured'),"
         " ('ho', 'ho', 0, 10, 'hash', 1, 'configured'), ('h8', 'h8', 0, 8, 'hash', 1, NULL)");
    char *e = check_app(&vnd_diag_delay, NULL, "ci", "co");
    CHECK(e && strstr(e, "table ci is sampled") && strstr(e, "1-in-10 packets")
              && strstr(e, "method count") && strstr(e, "Sampling 1") && strstr(e, "'hash'"),
          "delay refuses count sampling, naming the table, its sampling and what to do: %s", e);
    free(e);
    e = check_app(&vnd_diag_loss, NULL, "plain", "co");
    CHECK(e && strstr(e, "table co is sampled"), "loss: either table sampled: refused");
    free(e);
    e = check_app(&vnd_diag_loss, NULL, "hi", "ho");
    CHECK(!e, "loss on 'hash' 1-in-10 at both points: runs (%s)", e ? e : "");
    free(e);
    e = check_app(&vnd_diag_delay, NULL, "hi", "h8");
    CHECK(e && strstr(e, "hash"), "delay: 'hash' at different N: refused");
    free(e);
    e = check_app(&vnd_diag_correlate, NULL, "hi", "ci");
    CHECK(e != NULL, "correlate: 'hash' against 'count': refused");
    free(e);
    e = check_app(&vnd_diag_delay, NULL, "fi", "fo");
    CHECK(!e, "delay on flow sampling at one rate at both points: runs");
    free(e);
    e = check_app(&vnd_diag_rtt, "hi", NULL, NULL);
    CHECK(e && strstr(e, "ACK"), "rtt refuses packet sampling, hash too: %s", e);
    free(e);
    e = check_app(&vnd_diag_rtt, "fi", NULL, NULL);
    CHECK(!e, "rtt on flow sampling (whole connections): runs");
    free(e);
    e = check_app(&vnd_diag_throughput, "ci", NULL, NULL);
    CHECK(!e, "throughput on a sampled table: runs (scaled)");
    free(e);
    /* a history where 'hash' changed N: not the same packets throughout */
    exec("INSERT INTO vnd_sampling VALUES ('ho', 'ho', 50, 20, 'hash', 1, 'budget')");
    e = check_app(&vnd_diag_delay, NULL, "hi", "ho");
    CHECK(e && strstr(e, "varied"), "delay: a history whose N changed: refused (%s)", e);
    free(e);
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.npath = 2;
    o.path[0] = "fi";
    o.path[1] = "hi";
    struct vnd_diag_ctx c = {db, &o};
    e = NULL;
    CHECK(vnd_diag_sampling_check(&c, &vnd_diag_bottleneck, &e) == -1 && e
              && strstr(e, "table hi"), "bottleneck refuses packet sampling on a point");
    free(e);
}

static char *output(const struct vnd_diag_app *app, const char *t, const char *in,
                    const char *out, enum vnd_fmt fmt)
{
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = t;
    o.in = in;
    o.out = out;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    struct vnd_out *w = vnd_out_new(f, fmt);
    vnd_out_object(w);
    const char *cols[] = {"x"};
    vnd_out_columns(w, 1, cols);
    vnd_out_int(w, 1);
    vnd_out_end_row(w);
    vnd_diag_sampling_out(w, db, app, &o);
    vnd_out_finish(w);
    if (fmt == VND_FMT_TABLE)
        vnd_diag_sampling_note(f, db, app, &o);
    fclose(f);
    return buf;
}

static void saying(void)
{
    char *j = output(&vnd_diag_throughput, "h", NULL, NULL, VND_FMT_JSON);
    CHECK(strstr(j, "],\"sampling\":[{\"table\":\"h\",\"mode\":\"mirror\",\"sampling\":8,"
                    "\"method\":\"count\",\"flow_sampling\":2.0,\"varied\":true,\"history\":true,"
                    "\"intervals\":[{\"from_ts\":0.0,\"sampling\":4,")
              && strstr(j, "\"treatment\":\"scaled\""),
          "JSON: the sampling of the table after the rows");
    free(j);
    j = output(&vnd_diag_delay, NULL, "hi", "hi", VND_FMT_JSON);
    CHECK(strstr(j, "\"treatment\":\"consistent\"") && strstr(j, "consistent 1-in-10 samples")
              && !strstr(j, "{\"table\":\"hi\"},{"),
          "JSON: --in and --out the same table: one entry, measured on consistent samples");
    free(j);
    char *c = output(&vnd_diag_throughput, "plain", NULL, NULL, VND_FMT_CSV);
    CHECK(!strchr(c, '#'), "CSV of an unsampled table: the rows alone");
    free(c);
    c = output(&vnd_diag_throughput, "ci", NULL, NULL, VND_FMT_CSV);
    CHECK(strstr(c, "\n# sampling: [{\"table\":\"ci\""), "CSV of a sampled table: a # line");
    free(c);
    char *t = output(&vnd_diag_distribution, "ci", NULL, NULL, VND_FMT_TABLE);
    CHECK(strstr(t, "\nsampling: ci (mirror: 1-in-10 packets at the table server (method count))"
                    "; scaled by each row's rate, 95% interval in count_low..count_high"),
          "table: a note line per table");
    free(t);
    t = output(&vnd_diag_throughput, "h", NULL, NULL, VND_FMT_TABLE);
    CHECK(strstr(t, "1-in-4 to 1-in-8 packets") && strstr(t, "1-in-1 to 1-in-2 flows")
              && strstr(t, "varied over 2 intervals"), "table: a history that varied");
    free(t);
    /* flow-sampled 1-in-4 from 50 and 1-in-16 from 100: rows under the
     * first, none under the second (the switch picked no flow): said as
     * time missing from the estimate, and per interval in JSON */
    exec("CREATE TABLE gap (" STD_COLS ")");
    meta("gap", "vnd-tabled", 1, 16);
    exec("INSERT INTO vnd_sampling VALUES ('gap', 'gap', 0, 1, 'count', 1, 'configured'),"
         " ('gap', 'gap', 50, 1, 'count', 4, 'host budget'),"
         " ('gap', 'gap', 100, 1, 'count', 16, 'host budget')");
    exec("INSERT INTO gap (ts, src_ip, dst_ip, src_port, dst_port, payload_len) VALUES"
         " (10, 'a', 'b', 1, 2, 100), (60, 'a', 'b', 1, 2, 100), (99, 'a', 'b', 1, 2, 100)");
    t = output(&vnd_diag_throughput, "gap", NULL, NULL, VND_FMT_TABLE);
    CHECK(strstr(t, "; no row was kept under 1-in-16 flows from 100.000: "
                    "nothing was sampled then (or there was no traffic), so that time is "
                    "missing from the estimate, not zero\n")
              && !strstr(t, "of 1-in-4 flows from"), "table: a sampled interval without a row said");
    free(t);
    j = output(&vnd_diag_throughput, "gap", NULL, NULL, VND_FMT_JSON);
    CHECK(strstr(j, "\"flow_sampling\":1.0,\"snaplen\":0},{") && strstr(j, "\"kept_rows\":true}")
              && strstr(j, "\"flow_sampling\":16.0,\"snaplen\":0,\"kept_rows\":false}"),
          "JSON: kept_rows for the sampled intervals only");
    free(j);
    exec("INSERT INTO gap (ts, src_ip, dst_ip, src_port, dst_port, payload_len) VALUES"
         " (130, 'a', 'b', 1, 2, 100)");
    t = output(&vnd_diag_throughput, "gap", NULL, NULL, VND_FMT_TABLE);
    CHECK(!strstr(t, "no row was kept"), "a row under every sampled rate: nothing to say");
    free(t);
    /* IPFIX records whose rate a host budget raised: the range said, the
     * counts left as the switch scaled them */
    exec("INSERT INTO vnd_sampling VALUES ('fx', 'fx', 0, 1, 'count', 1, 'configured'),"
         " ('fx', 'fx', 100, 4, 'count', 1, 'host budget'),"
         " ('fx', 'fx', 130, 16, 'count', 1, 'host budget')");
    t = output(&vnd_diag_throughput, "fx", NULL, NULL, VND_FMT_TABLE);
    CHECK(strstr(t, "flow records; the switch sampled 1-in-1 to 1-in-16 packets and scaled the "
                    "counts"), "table: IPFIX at rates that varied, the range");
    free(t);
}

/* Copies cut to their headers (a host budget's first lever): no factor,
 * said in words and in the intervals; a history row from before the
 * snaplen column has vnd_meta's bytes. */
static void header_bytes(void)
{
    exec("ALTER TABLE vnd_meta ADD COLUMN snaplen INTEGER");
    exec("ALTER TABLE vnd_sampling ADD COLUMN snaplen INTEGER");
    exec("CREATE TABLE cut (" STD_COLS ")");
    exec("INSERT INTO vnd_meta (trace, tbl, source, sampling, flow_sampling, snaplen) VALUES"
         " ('cut', 'cut', 'vnd-tabled', 1, 1, 128), ('old', 'old', 'vnd-tabled', 1, 1, 200)");
    exec("INSERT INTO vnd_sampling VALUES ('cut', 'cut', 0, 1, 'count', 1, 'configured', 0),"
         " ('cut', 'cut', 50, 1, 'count', 1, 'host budget: test', 128),"
         " ('old', 'old', 0, 1, 'count', 1, 'configured', NULL)");
    struct vnd_samp s;
    vnd_samp_read(db, "cut", &s);
    CHECK(s.niv == 2 && s.iv[0].snaplen == 0 && s.iv[1].snaplen == 128 && !vnd_samp_scaled(&s),
          "vnd_sampling's bytes: whole packets, then 128 from ts 50; nothing to scale");
    vnd_samp_free(&s);
    vnd_samp_read(db, "old", &s);
    CHECK(s.niv == 1 && s.iv[0].snaplen == 200, "a row without snaplen: vnd_meta's (%lld)",
          (long long)s.iv[0].snaplen);
    vnd_samp_free(&s);
    exec("CREATE TABLE old (" STD_COLS ")");
    char *t = output(&vnd_diag_throughput, "cut", NULL, NULL, VND_FMT_TABLE);
    CHECK(strstr(t, "(mirror: every packet, at times the first 128 bytes of each packet; it "
                    "varied over 2 intervals (vnd_sampling))"), "table: the bytes cut, at times");
    free(t);
    t = output(&vnd_diag_throughput, "old", NULL, NULL, VND_FMT_TABLE);
    CHECK(strstr(t, "(mirror: every packet, the first 200 bytes of each packet)"),
          "table: the bytes cut, always");
    free(t);
    char *j = output(&vnd_diag_throughput, "cut", NULL, NULL, VND_FMT_JSON);
    CHECK(strstr(j, "\"from_ts\":50.0,\"sampling\":1,\"method\":\"count\",\"flow_sampling\":1.0,"
                    "\"snaplen\":128}") && strstr(j, "\"treatment\":\"exact\""),
          "JSON: each interval's bytes; the rows are exact");
    free(j);
    char *c = output(&vnd_diag_throughput, "cut", NULL, NULL, VND_FMT_CSV);
    CHECK(!strchr(c, '#'), "CSV: the rows alone (cutting changes no row's meaning)");
    free(c);
}

int main(void)
{
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return 1;
    exec("CREATE TABLE vnd_meta (trace TEXT, tbl TEXT, source TEXT, sampling INTEGER,"
         " flow_sampling REAL)");
    hand_cases();
    simulation(10, 1, 2000, "packets 1-in-10");
    simulation(1, 4, 2000, "flows 1-in-4");
    simulation(5, 3, 2000, "flows 1-in-3, packets 1-in-5");
    sql_vs_c();
    reading();
    refusals();
    saying();
    header_bytes();
    sqlite3_close(db);
    return tap_done();
}
