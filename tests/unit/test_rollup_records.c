/* test_rollup_records.c — the rollup of a table of flow records
 * (ingest/rollup_records.h) against the records themselves: flow records
 * go through ingest as the IPFIX collector hands them over (out of
 * order, points, wrong starts, missing times, spans of hours, batches
 * that touch a second again), and throughput answered from the rollup
 * must give the rows' answer, slot by slot: the same t and records, the
 * sums to their rounding. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/ipfix.h"
#include "capture/ipfix_source.h"
#include "decode/packet.h"
#include "diag/diag.h"
#include "diag/runner.h"
#include "ingest/ingest.h"
#include "ingest/rollup_records.h"
#include "lang/parseconf.h"
#include "store/store.h"
#include "../sqlone.h"
#include "../tap.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* A result: its cells as numbers (NAN: NULL), and its first line. */
struct result {
    int nrows, ncols;
    double *v;
    bool rollup;                    /* answered from the rollup */
    char *why;                      /* the SQL's first comment */
};

static void result_free(struct result *r)
{
    free(r->v);
    free(r->why);
    memset(r, 0, sizeof *r);
}

static bool run(sqlite3 *db, struct vnd_diag_opts *o, struct result *r)
{
    memset(r, 0, sizeof *r);
    char *err = NULL, *sql = vnd_diag_sql(&vnd_diag_throughput, db, o, &err);
    if (!sql) {
        printf("# %s\n", err);
        free(err);
        return false;
    }
    r->rollup = !strncmp(sql, "/* answered from the rollup", 27);
    if (!strncmp(sql, "/*", 2))
        r->why = strndup(sql, (size_t)(strstr(sql, "*/") - sql) + 2);
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
    if (!ok)
        printf("# %s\n", sqlite3_errmsg(db));
    r->ncols = ok ? sqlite3_column_count(st) : 0;
    size_t cap = 0;
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        if ((size_t)(r->nrows + 1) * (size_t)r->ncols > cap) {
            cap = cap ? 2 * cap : 64 * (size_t)r->ncols;
            r->v = realloc(r->v, cap * sizeof *r->v);
        }
        for (int j = 0; j < r->ncols; j++)
            r->v[(size_t)r->nrows * (size_t)r->ncols + (size_t)j] =
                sqlite3_column_type(st, j) == SQLITE_NULL ? NAN : sqlite3_column_double(st, j);
        r->nrows++;
    }
    sqlite3_finalize(st);
    free(sql);
    return ok;
}

static bool near(double a, double b, double rel)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= rel * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* The rollup's answer at o's slot against the rows': every row alike
 * (column 0 t and the last, records, exactly; the sums within 1e-9). */
static void same_answer(sqlite3 *db, const char *table, double slot, double origin,
                        const char *what)
{
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = table;
    o.slot = slot;
    o.origin = origin;
    struct result a, b;
    bool ran = run(db, &o, &a);
    o.no_rollup = true;
    ran = run(db, &o, &b) && ran;
    bool same = ran && a.ncols == b.ncols && a.nrows == b.nrows && a.nrows > 0;
    int bad = -1;
    for (int i = 0; same && i < a.nrows; i++)
        for (int j = 0; same && j < a.ncols; j++) {
            double x = a.v[i * a.ncols + j], y = b.v[i * b.ncols + j];
            same = j == 0 || j == a.ncols - 1 ? x == y : near(x, y, 1e-9);
            if (!same) {
                bad = i;
                printf("# row %d column %d: rollup %.17g, rows %.17g\n", i, j, x, y);
            }
        }
    CHECK(a.rollup && same, "%s, slot %g s: the rollup's %d rows are the records' %d (%d columns,"
          " t from %g)%s", what, slot, a.nrows, b.nrows, a.ncols, a.nrows ? a.v[0] : NAN,
          bad >= 0 ? " — see above" : "");
    result_free(&a);
    result_free(&b);
}

/* The SQL of o on table, its first comment: whether from the rollup, and
 * whether the comment says `why`. */
static void not_from_rollup(sqlite3 *db, struct vnd_diag_opts *o, const char *why,
                            const char *what)
{
    struct result r;
    bool ran = run(db, o, &r);
    CHECK(ran && !r.rollup && r.why && strstr(r.why, why), "%s: from the rows, saying why (%s)",
          what, r.why ? r.why : "no comment");
    result_free(&r);
}

/* A record of flow `f` from start to end (NAN: not sent), arriving at
 * `arrival`. */
static void record(struct vnd_ingest *ing, int t, int f, double start, double end, double arrival,
                   uint64_t packets, uint64_t octets, int64_t sq)
{
    struct vnd_ipfix_flow fl = {.version = 10, .ip_version = 4, .proto = 6};
    fl.has = VND_IPFIX_HAS_SRC | VND_IPFIX_HAS_DST | VND_IPFIX_HAS_PROTO | VND_IPFIX_HAS_SPORT
             | VND_IPFIX_HAS_DPORT | VND_IPFIX_HAS_PACKETS | VND_IPFIX_HAS_OCTETS;
    uint8_t src[4] = {10, 0, 0, (uint8_t)(1 + f % 7)}, dst[4] = {10, 0, 1, 1};
    memcpy(fl.src, src, 4);
    memcpy(fl.dst, dst, 4);
    fl.sport = (uint16_t)(40000 + f);
    fl.dport = 5201;
    fl.packets = packets;
    fl.octets = octets;
    if (sq >= 0) {
        fl.has |= VND_IPFIX_HAS_OCTETS_SQ;
        fl.octets_sq = (uint64_t)sq;
    }
    if (!isnan(start)) {
        fl.has |= VND_IPFIX_HAS_START;
        fl.start_ns = (int64_t)llround(start * 1e9);
    }
    if (!isnan(end)) {
        fl.has |= VND_IPFIX_HAS_END;
        fl.end_ns = (int64_t)llround(end * 1e9);
    }
    struct vnd_pkt p;
    vnd_ipfix_flow_fields(&fl, &p);
    vnd_ingest_record(ing, t, (int64_t)llround(arrival * 1e9), &p);
}

/* Records of one trace as an exporter sends them: in the order they end
 * (so a later one may start earlier), with the odd ones the SQL takes
 * apart; batches flushed now and then so a second is written, then
 * touched again. */
static void feed(struct vnd_ingest *ing, int t, double base, int n, bool sampled, bool hours)
{
    char *err = NULL;
    double now = base;
    for (int i = 0; i < n; i++) {
        now += uniform() * 0.2;
        double dur = uniform() < 0.1 ? 0 : uniform() * 7;
        double end = now, start = end - dur;
        double arrival = end + uniform() * 0.5;
        uint64_t packets = uniform() < 0.05 ? 0 : 1 + (uint64_t)(uniform() * 500);
        uint64_t octets = packets * (uint64_t)(60 + uniform() * 1400);
        int64_t sq = -1;
        if (sampled && uniform() < 0.8)   /* some below y^2/p: the bound is taken */
            sq = (int64_t)((double)octets * (double)octets / (double)(packets ? packets : 1)
                           * (0.9 + uniform() * 0.5));
        double r = uniform();
        if (r < 0.03)
            start = NAN;                     /* no start: a point at its end */
        else if (r < 0.05)
            start = end + 3;                 /* after its end: a point */
        else if (r < 0.06)
            start = end - 2 * VND_RECORD_SPAN_MAX;   /* wrong by days: a point */
        else if (r < 0.07)
            end = NAN;                       /* no end: its arrival is */
        else if (hours && r < 0.075) {
            end -= 4097.5;                   /* hours late: its seconds' cells are those
                                                of seconds just past, which go and come
                                                again (4,096 apart meet) */
            start = end - uniform() * 7;
        }
        record(ing, t, i % 23, start, end, arrival, packets, octets, sq);
        if (i % 97 == 96)
            CHECK(vnd_ingest_flush(ing, &err) == 0, "flush %d", i);
    }
    /* a late record of seconds written long ago */
    record(ing, t, 1, base + 1.25, base + 3.5, now + 1, 40, 40000, -1);
    CHECK(vnd_ingest_finish_trace(ing, t, "complete", NULL, &err) == 0, "finish");
    free(err);
}

int main(void)
{
    char dir[] = "/tmp/vnd-test-rollup-records.XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return tap_done();
    }
    char path[96];
    snprintf(path, sizeof path, "%s/r.db", dir);
    struct vnd_store *st = NULL;
    char *err = NULL;
    struct vnd_parse_conf *conf = NULL;
    CHECK(vnd_parseconf_parse(vnd_parseconf_flow_default_text, "flow default", &conf, &err) == 0,
          "the flow-record default parses");
    CHECK(vnd_store_open(path, &st, &err) == 0, "store opens");
    struct vnd_ingest *ing = vnd_ingest_new(st, conf, 100000, 60);
    struct vnd_trace_opts o = {.id = "rec", .sampling = 1, .presampled = true, .packed = true,
                               .source = "vnd-tabled ipfix"};
    int t = vnd_ingest_add_trace(ing, &o, &err);
    struct vnd_trace_opts os = o;
    os.id = "samp";
    os.sampling = 10;
    int ts = vnd_ingest_add_trace(ing, &os, &err);
    struct vnd_trace_opts ov = o;
    ov.id = "varies";
    ov.sampling = 4;
    int tv = vnd_ingest_add_trace(ing, &ov, &err);
    CHECK(t >= 0 && ts >= 0 && tv >= 0, "three ipfix traces");
    const double base = 1764000000.37;   /* a time 0 that is not a whole second */
    feed(ing, t, base, 2000, false, true);
    feed(ing, ts, base + 0.5, 600, true, false);
    feed(ing, tv, base, 100, true, false);
    sqlite3 *db = vnd_store_db(st);

    CHECK(sql_one(db, "SELECT count(*) FROM vnd_meta WHERE tbl = 'rec' AND rollup = "
                  "'rec__rollup' AND rollup_status = '" VND_ROLLUP_STATUS_RECORDS
                  "' AND rollup_packets = 2001", -1) == 1,
          "vnd_meta names the rollup, its status and the 2,001 records it holds");
    int64_t secs = sql_one(db, "SELECT count(DISTINCT slot) FROM samp__rollup", -1);
    int64_t rows = sql_one(db, "SELECT count(*) FROM samp__rollup", -1);
    CHECK(secs > 50 && rows == secs,
          "records of seconds ago: a row per second, rewritten by each batch that touches it"
          " (%lld seconds, %lld rows)", (long long)secs, (long long)rows);
    CHECK(sql_one(db, "SELECT count(*) FROM (SELECT slot FROM rec__rollup GROUP BY slot "
                  "HAVING count(*) > 1)", -1) > 0,
          "records of hours, 4,096 seconds and more apart: seconds let go and touched again"
          " have another row, which readers add");

    /* what --follow asks of the table: from the rollup, as from the records */
    for (int k = 0; k < 2; k++) {
        struct vnd_diag_opts fo;
        vnd_diag_opts_init(&fo);
        fo.table = k ? "samp" : "rec";
        double a[3] = {vnd_diag_newest(db, &fo), vnd_diag_oldest(db, &fo),
                       vnd_diag_records_settle(db, &fo)};
        fo.no_rollup = true;
        double b[3] = {vnd_diag_newest(db, &fo), vnd_diag_oldest(db, &fo),
                       vnd_diag_records_settle(db, &fo)};
        CHECK(a[0] == b[0] && a[1] == b[1] && near(a[2], b[2], 1e-12) && b[2] > 0,
              "%s: newest %.3f, time 0 %.0f, settle %.3f s from the rollup; %.3f, %.0f, %.3f"
              " from the records", fo.table, a[0], a[1], a[2], b[0], b[1], b[2]);
    }
    double slots[] = {1, 2, 5, 60, 3600};
    for (size_t i = 0; i < sizeof slots / sizeof *slots; i++) {
        same_answer(db, "rec", slots[i], NAN, "every record");
        same_answer(db, "samp", slots[i], NAN, "sampled 1 in 10, with its interval");
    }
    same_answer(db, "samp", 2, floor(base) - 11, "time 0 a whole second given");
    struct vnd_diag_opts q;
    vnd_diag_opts_init(&q);
    q.table = "samp";
    struct result r;
    run(db, &q, &r);
    CHECK(r.ncols == 7 && r.rollup, "sampled: t, packets, bytes, bps, bps_low, bps_high, records");
    result_free(&r);
    q.table = "rec";

    /* what it cannot answer: the rows do, and the SQL says why */
    q.origin = base;
    not_from_rollup(db, &q, "not a whole second", "time 0 inside a second");
    q.origin = NAN;
    q.slot = 0.5;
    not_from_rollup(db, &q, "whole number", "a half-second slot");
    q.slot = 1;
    q.by_flow = true;
    not_from_rollup(db, &q, "not flows", "--by-flow");
    q.by_flow = false;
    q.where = "tcp.dst = 5201";
    not_from_rollup(db, &q, "pick records", "--where");
    q.where = NULL;
    q.since = base + 10;
    not_from_rollup(db, &q, "pick records", "--since");
    q.since = NAN;

    /* the switch's rate changed: each record's N is read with it */
    sqlite3_exec(db, "INSERT INTO vnd_sampling (trace, tbl, from_ts, sampling, method,"
                     " flow_sampling) VALUES ('varies', 'varies', 1764000010, 8, 'count', 1)",
                 NULL, NULL, NULL);
    q.table = "varies";
    not_from_rollup(db, &q, "rate changed", "a rate that changed");

    vnd_ingest_free(ing);
    vnd_store_close(st);
    vnd_parseconf_free(conf);

    /* a parse configuration that makes start_ts an address: no rollup answers */
    snprintf(path, sizeof path, "%s/bad.db", dir);
    CHECK(vnd_parseconf_parse("Trace ID all\nFields: timestamp as ts, ip.src as start_ts,"
                              " flow.end as end_ts, flow.packets as packets,"
                              " flow.bytes as bytes\n", "bad", &conf, &err) == 0,
          "a configuration with an address for start_ts parses");
    CHECK(vnd_store_open(path, &st, &err) == 0, "store opens");
    ing = vnd_ingest_new(st, conf, 100000, 60);
    t = vnd_ingest_add_trace(ing, &o, &err);
    record(ing, t, 1, base, base + 2, base + 2.1, 10, 1000, -1);
    CHECK(vnd_ingest_finish_trace(ing, t, "complete", NULL, &err) == 0, "finish");
    db = vnd_store_db(st);
    CHECK(sql_one(db, "SELECT count(*) FROM vnd_meta WHERE rollup_status LIKE "
                  "'rollup-none: %not a number'", -1) == 1,
          "rollup-none, saying why");
    vnd_diag_opts_init(&q);
    q.table = "rec";
    not_from_rollup(db, &q, "answers nothing", "a rollup that answers nothing");
    vnd_ingest_free(ing);
    vnd_store_close(st);
    vnd_parseconf_free(conf);

    /* what would make the rollup's work grow with a record's span, or with
     * the seconds one batch reaches, stops it instead, saying why */
    CHECK(vnd_parseconf_parse(vnd_parseconf_flow_default_text, "flow default", &conf, &err) == 0,
          "the flow-record default parses again");
    const char *const why_span = "'rollup-none: a record spans 3700 s, more than the 3660 s%'";
    const char *const why_gone = "'rollup-none: the records of one batch reached more than "
                                 "69632 seconds%'";
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/guard%d.db", dir, k);
        CHECK(vnd_store_open(path, &st, &err) == 0, "store opens");
        ing = vnd_ingest_new(st, conf, 100000, 60);
        t = vnd_ingest_add_trace(ing, &o, &err);
        db = vnd_store_db(st);
        char sql[256];
        if (k == 0) {
            record(ing, t, 1, base, base + VND_REC_ROLLUP_SPAN_MAX, base + 3700, 10, 1000, -1);
            CHECK(vnd_ingest_flush(ing, &err) == 0, "flush");
            CHECK(sql_one(db, "SELECT count(*) FROM vnd_meta WHERE rollup_status = "
                          "'rollup-records'", -1) == 1
                  && sql_one(db, "SELECT count(*) FROM rec__rollup", -1) == 3661,
                  "a record of the longest span the rollup spreads: 3,661 seconds' rows");
            record(ing, t, 2, base, base + 3700, base + 3701, 10, 1000, -1);
        } else {
            /* 70,000 points 4,096 s apart: each lets the one before go */
            for (int i = 0; i < 70000; i++)
                record(ing, t, 1, base + 4096.0 * i, base + 4096.0 * i, base + 4096.0 * i, 1,
                       100, -1);
        }
        CHECK(vnd_ingest_finish_trace(ing, t, "complete", NULL, &err) == 0, "finish");
        snprintf(sql, sizeof sql, "SELECT count(*) FROM vnd_meta WHERE rollup_status LIKE %s",
                 k ? why_gone : why_span);
        CHECK(sql_one(db, sql, -1) == 1, "%s", k ? "records reaching 70,000 seconds in one "
              "batch: rollup-none, saying why" : "a record of 3,700 s: rollup-none, saying why");
        vnd_diag_opts_init(&q);
        q.table = "rec";
        not_from_rollup(db, &q, "answers nothing", k ? "seconds past the cap" : "a span past it");
        vnd_ingest_free(ing);
        vnd_store_close(st);
    }
    vnd_parseconf_free(conf);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return tap_done();
}
