/* test_diag.c — the diagnostic applications' SQL on small hand-made trace
 * tables whose answers are known: edge cases the chain model does not
 * produce on purpose (empty tables, one-packet flows, everything lost,
 * sequence wrap-around, retransmissions, interleaved flows, missing
 * columns, odd table names) and the bottleneck judge on its own. */
#include "../tap.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diag.h"
#include "diag/opts_json.h"
#include "flow/tcp_rtt.h"
#include "lang/sqlfuncs.h"
#include "output/output.h"
#include "store/provider.h"

#define STD_COLS "ts REAL, id INTEGER, src_ip TEXT, dst_ip TEXT, proto INTEGER, " \
                 "src_port INTEGER, dst_port INTEGER, seq INTEGER, ack INTEGER, " \
                 "flags INTEGER, payload_len INTEGER"

static sqlite3 *db;

static void exec(const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        printf("# setup failed: %s: %s\n", sql, err);
        exit(1);
    }
}

static void table(const char *name)
{
    char sql[512], q[128];
    size_t n = 0;
    for (const char *p = name; *p && n + 2 < sizeof q; p++) {   /* " doubled */
        if (*p == '"')
            q[n++] = '"';
        q[n++] = *p;
    }
    q[n] = 0;
    snprintf(sql, sizeof sql, "CREATE TABLE \"%s\" (" STD_COLS ")", q);
    exec(sql);
}

/* One TCP row.  a = 10.0.0.1:1000, b = 10.0.0.2:80; dir 0 is a→b. */
static void row(const char *tab, double ts, long long id, int dir, long long seq, long long ack,
                int flags, int len)
{
    char sql[512], t[128];
    size_t n = 0;
    for (const char *p = tab; *p && n + 2 < sizeof t; p++) {
        if (*p == '"')
            t[n++] = '"';
        t[n++] = *p;
    }
    t[n] = 0;
    snprintf(sql, sizeof sql,
             "INSERT INTO \"%s\" VALUES (%.9f, %lld, '%s', '%s', 6, %d, %d, %lld, %lld, %d, %d)",
             t, ts, id, dir ? "10.0.0.2" : "10.0.0.1", dir ? "10.0.0.1" : "10.0.0.2",
             dir ? 80 : 1000, dir ? 1000 : 80, seq, ack, flags, len);
    exec(sql);
}

/* Runs app, returns its rows as CSV (malloc'd) or "ERROR: message". */
static char *run(const struct vnd_diag_app *app, const struct vnd_diag_opts *o)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    struct vnd_out *out = vnd_out_new(f, VND_FMT_CSV);
    char *err = NULL;
    int rc = vnd_diag_run(app, db, o, out, &err);
    vnd_out_finish(out);
    fclose(f);
    if (rc) {
        free(buf);
        char *m = NULL;
        if (asprintf(&m, "ERROR: %s", err) < 0)
            abort();
        free(err);
        return m;
    }
    return buf;
}

/* The app's CSV is `want`. */
static void expect_rows(const struct vnd_diag_app *app, const struct vnd_diag_opts *o,
                        const char *want, const char *what)
{
    char *r = run(app, o);
    CHECK_EQ_STR(r, want, "%s", what);
    free(r);
}

/* The value of column `col` in data row `r` (0-based) of CSV `csv`. */
static double cell(const char *csv, int r, int col)
{
    const char *p = strchr(csv, '\n');
    for (int i = 0; p && i < r; i++)
        p = strchr(p + 1, '\n');
    if (!p || !p[1])
        return NAN;
    p++;
    for (int c = 0; c < col; c++) {
        p = strpbrk(p, ",\n");
        if (!p || *p == '\n')
            return NAN;
        p++;
    }
    return strtod(p, NULL);
}

static int rows(const char *csv)
{
    int n = -1;
    for (const char *p = csv; *p; p++)
        n += *p == '\n';
    return n;
}

static void test_missing_and_quoting(void)
{
    exec("CREATE TABLE noseq (ts REAL, src_ip TEXT, dst_ip TEXT, proto INTEGER,"
         " src_port INTEGER, dst_port INTEGER, ack INTEGER, flags INTEGER,"
         " payload_len INTEGER)");
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = "noseq";
    char *r = run(&vnd_diag_rtt, &o);
    CHECK_EQ_STR(r, "ERROR: table noseq has no column 'seq' (parse field tcp.seq provides it;"
                    " add `tcp.seq as seq` to the Fields: line)",
                 "missing column names the column and the parse field");
    free(r);
    o.table = "nope";
    r = run(&vnd_diag_throughput, &o);
    CHECK(!strncmp(r, "ERROR: no table 'nope' in the database (tables: ", 48),
          "unknown table is an error listing the tables: %s", r);
    free(r);
    o.table = NULL;
    o.in = "noseq";
    o.out = "noseq";
    o.by = VND_BY_PAYLOAD;
    r = run(&vnd_diag_delay, &o);
    CHECK(strstr(r, "no column 'payload_hash' (parse field payload.hash") != NULL,
          "--by payload needs payload_hash: %s", r);
    free(r);

    table("we\"ird; drop");
    row("we\"ird; drop", 100.5, 1, 0, 1, 0, 0x18, 100);
    vnd_diag_opts_init(&o);
    o.table = "we\"ird; drop";
    r = run(&vnd_diag_throughput, &o);
    CHECK_EQ_STR(r, "t,packets,bytes,bps\n0.0,1,100,800.0\n", "odd table names are quoted");
    free(r);
}

static void test_empty(void)
{
    table("empty");
    table("empty2");
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = "empty";
    const struct vnd_diag_app *apps[] = {&vnd_diag_rtt, &vnd_diag_throughput};
    for (int i = 0; i < 2; i++) {
        char *r = run(apps[i], &o);
        CHECK(rows(r) == 0 && strncmp(r, "ERROR", 5), "%s on an empty table: no rows, no error",
              apps[i]->name);
        free(r);
    }
    o.field = "src_ip";
    char *r = run(&vnd_diag_distribution, &o);
    CHECK(rows(r) == 0 && strncmp(r, "ERROR", 5), "distribution on an empty table");
    free(r);
    vnd_diag_opts_init(&o);
    o.in = "empty";
    o.out = "empty2";
    r = run(&vnd_diag_loss, &o);
    CHECK(rows(r) == 0 && strncmp(r, "ERROR", 5), "loss between empty tables");
    free(r);
    o.npath = 2;
    o.path[0] = "empty";
    o.path[1] = "empty2";
    struct vnd_bottleneck_verdict v;
    char *err = NULL;
    CHECK(vnd_bottleneck_run(db, &o, NULL, 0, NULL, NULL, &v, &err) == 0 && v.hop == -1,
          "bottleneck on empty tables: no bottleneck");
    free(err);
}

static void test_rtt(void)
{
    /* a→b data of 100 bytes, b→a ACKs.  Segment k at ts 10 + k*0.010.
     * seq starts near 2^32 so the stream wraps after the second segment. */
    table("r");
    long long isn = 4294967296LL - 150;
    row("r", 9.990, 1, 0, isn - 1, 0, 0x02, 0);          /* SYN */
    row("r", 9.995, 2, 1, 5000, isn, 0x12, 0);           /* SYN-ACK: 5 ms */
    row("r", 9.996, 3, 0, isn, 5001, 0x10, 0);           /* ACK */
    for (int k = 0; k < 6; k++) {
        long long s = (isn + 100LL * k) % 4294967296LL;
        row("r", 10 + k * 0.010, 10 + k, 0, s, 5001, 0x18, 100);
    }
    /* delayed ACK covering segments 0 and 1: one sample, from segment 1:
     * 10.012 - 10.010 = 2 ms */
    row("r", 10.012, 30, 1, 5001, (isn + 200) % 4294967296LL, 0x10, 0);
    /* segment 2 retransmitted at 10.025; the ACK covering 2..3 at 10.034
     * covers a retransmission: no sample (Karn) */
    row("r", 10.025, 40, 0, (isn + 200) % 4294967296LL, 5001, 0x18, 100);
    row("r", 10.034, 31, 1, 5001, (isn + 400) % 4294967296LL, 0x10, 0);
    /* segment 4: ACK at 10.043 (3 ms); duplicate of that ACK at 10.044:
     * not a sample; segment 5: ACK at 10.054 (4 ms) */
    row("r", 10.043, 32, 1, 5001, (isn + 500) % 4294967296LL, 0x10, 0);
    row("r", 10.044, 33, 1, 5001, (isn + 500) % 4294967296LL, 0x10, 0);
    row("r", 10.054, 34, 1, 5001, (isn + 600) % 4294967296LL, 0x10, 0);
    /* a one-packet flow from elsewhere: no sample, no error */
    exec("INSERT INTO r VALUES (10.1, 99, '10.9.9.9', '10.0.0.2', 6, 5555, 80, 7, 0, 2, 0)");

    /* a→b samples: SYN→SYN-ACK 5 ms, segment 1 2 ms, segment 4 3 ms,
     * segment 5 4 ms; b→a: SYN-ACK→ACK 1 ms */
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = "r";
    o.slot = 100;
    o.by_flow = true;
    char *r = run(&vnd_diag_rtt, &o);
    CHECK_EQ_INT(rows(r), 2, "two directions give samples; the one-packet flow none");
    CHECK_EQ_INT((long long)cell(r, 0, 2), 4, "a→b: 4 samples (one per advancing ACK, Karn)");
    CHECK(fabs(cell(r, 0, 3) - 3.5) < 1e-6, "a→b mean 3.5 ms across the wrap (got %g)",
          cell(r, 0, 3));
    CHECK(fabs(cell(r, 0, 4) - 2.0) < 1e-6, "smallest: the delayed ACK, from the last"
                                            " segment it covers (got %g)", cell(r, 0, 4));
    CHECK(fabs(cell(r, 0, 7) - 5.0) < 1e-6, "largest: the handshake (got %g)", cell(r, 0, 7));
    CHECK(fabs(cell(r, 1, 3) - 1.0) < 1e-6 && cell(r, 1, 2) == 1, "b→a: the SYN-ACK's 1 ms");
    free(r);
    o.by_flow = false;
    o.slot = 0.035;
    r = run(&vnd_diag_rtt, &o);
    /* time 0 is the SYN at 9.990; samples are filed by the data segment:
     * SYN 9.990, SYN-ACK 9.995, segment 1 10.010 in [0, .035); segments 4
     * and 5 (10.040, 10.050) in [.035, .07) */
    CHECK_EQ_INT(rows(r), 2, "per slot");
    CHECK_EQ_INT((long long)cell(r, 0, 1), 3, "first slot: 3 samples");
    CHECK(fabs(cell(r, 1, 1) - 2) < 1e-9 && fabs(cell(r, 1, 5) - 4.0) < 1e-6,
          "second slot: 2 samples, p99 4 ms");
    free(r);
}

static void same(const struct vnd_diag_app *app, const struct vnd_diag_opts *o, const char *what);

/* --kind: a whole connection, SYN to the last ACK of the close.
 * handshake: SYN→SYN/ACK 4 ms (a→b), SYN/ACK→ACK 1 ms (b→a); data:
 * 100 bytes → ACK 2 ms (a→b); fin: FIN→FIN/ACK 3 ms (a→b), FIN/ACK→ACK
 * 6 ms (b→a). */
static void test_rtt_kind(void)
{
    table("rk");
    row("rk", 1.000, 1, 0, 100, 0, 0x02, 0);
    row("rk", 1.004, 2, 1, 500, 101, 0x12, 0);
    row("rk", 1.005, 3, 0, 101, 501, 0x10, 0);
    row("rk", 1.010, 4, 0, 101, 501, 0x18, 100);
    row("rk", 1.012, 5, 1, 501, 201, 0x10, 0);
    row("rk", 1.020, 6, 0, 201, 501, 0x11, 0);
    row("rk", 1.023, 7, 1, 501, 202, 0x11, 0);
    row("rk", 1.029, 8, 0, 202, 502, 0x10, 0);
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = "rk";
    o.slot = 100;
    o.by_flow = true;
    const struct {
        enum vnd_rtt_kind k;
        int rows;
        double ab_n, ab_mean, ba_n, ba_mean;     /* a→b row first */
    } want[] = {
        {VND_RTT_ALL, 2, 3, 3.0, 2, 3.5},
        {VND_RTT_HANDSHAKE, 2, 1, 4.0, 1, 1.0},
        {VND_RTT_DATA, 1, 1, 2.0, 0, 0},
        {VND_RTT_FIN, 2, 1, 3.0, 1, 6.0},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        o.rtt_kind = want[i].k;
        char *r = run(&vnd_diag_rtt, &o);
        const char *name = vnd_diag_rtt_kind_name(want[i].k);
        CHECK_EQ_INT(rows(r), want[i].rows, "--kind %s: rows", name);
        CHECK(cell(r, 0, 2) == want[i].ab_n && fabs(cell(r, 0, 3) - want[i].ab_mean) < 1e-6,
              "--kind %s: a→b %g samples of mean %g ms (got %g, %g)", name, want[i].ab_n,
              want[i].ab_mean, cell(r, 0, 2), cell(r, 0, 3));
        if (want[i].rows == 2)
            CHECK(cell(r, 1, 2) == want[i].ba_n && fabs(cell(r, 1, 3) - want[i].ba_mean) < 1e-6,
                  "--kind %s: b→a %g samples of mean %g ms (got %g, %g)", name, want[i].ba_n,
                  want[i].ba_mean, cell(r, 1, 2), cell(r, 1, 3));
        free(r);
        same(&vnd_diag_rtt, &o, name);
    }
}

/* Options of a hop app: --in, --out, one 100 s slot. */
static void hop_opts(struct vnd_diag_opts *o, const char *in, const char *out)
{
    vnd_diag_opts_init(o);
    o->in = in;
    o->out = out;
    o->slot = 100;
}

static void test_loss_delay(void)
{
    table("li");
    table("lo");
    /* a→b packets 1..5 enter li; 1, 2, 4 leave lo 2 ms later; b→a packets
     * 100, 101 enter lo and leave li 1 ms later; 102 lost on the way back */
    for (int k = 1; k <= 5; k++) {
        row("li", 20 + k * 0.1, k, 0, 1000 + k, 1, 0x18, 10);
        if (k != 3 && k != 5)
            row("lo", 20 + k * 0.1 + 0.002, k, 0, 1000 + k, 1, 0x18, 10);
    }
    for (int k = 0; k < 3; k++) {
        row("lo", 20.05 + k * 0.1, 100 + k, 1, 1, 1000, 0x10, 0);
        if (k != 2)
            row("li", 20.05 + k * 0.1 + 0.001, 100 + k, 1, 1, 1000, 0x10, 0);
    }
    struct vnd_diag_opts o;
    hop_opts(&o, "li", "lo");
    char *r = run(&vnd_diag_loss, &o);
    CHECK_EQ_STR(r, "t,dir,packets,lost,late,loss_rate\n0.0,li>lo,5,2,0,0.4\n0.0,lo>li,3,1,0,"
                    "0.3333333333333333\n",
                 "loss per direction: 2 of 5 one way, 1 of 3 the other");
    free(r);
    o.list = true;
    r = run(&vnd_diag_loss, &o);
    CHECK_EQ_INT(rows(r), 3, "--list gives the three lost packets");
    CHECK(strstr(r, ",lo>li,102,") != NULL, "--list names the lost ACK by its id");
    free(r);
    o.list = false;
    r = run(&vnd_diag_delay, &o);
    CHECK(fabs(cell(r, 0, 3) - 2.0) < 1e-6 && fabs(cell(r, 1, 3) - 1.0) < 1e-6
              && cell(r, 0, 2) == 3 && cell(r, 1, 2) == 2,
          "delay: 3 packets at 2 ms one way, 2 at 1 ms the other");
    free(r);

    /* everything lost */
    table("gone");
    hop_opts(&o, "li", "gone");
    expect_rows(&vnd_diag_loss, &o, "t,dir,packets,lost,late,loss_rate\n0.0,li>gone,7,7,0,1.0\n",
                "all packets lost: every packet of --in counted");

    /* The tables' rows as stored so far (vnd_meta.updated): lo's up to
     * 21.35, li's up to 21.2.  With the 1-s window a packet is judged when
     * it entered by 20.35 (li>lo: 20.1, 20.2, 20.3, of which 20.3 lost) or
     * by 20.2 (lo>li: 20.05, 20.15); the lost ACK at 20.25 and li's
     * 20.4 and 20.5 may yet show up: not judged, neither lost nor sent */
    exec("CREATE TABLE vnd_meta (trace TEXT, tbl TEXT, updated REAL)");
    exec("INSERT INTO vnd_meta VALUES ('t1', 'LO', 21.35), ('t1', 'li', 21.1),"
         " ('t2', 'li', 21.2), ('t3', 'gone', NULL)");
    hop_opts(&o, "li", "lo");
    expect_rows(&vnd_diag_loss, &o, "t,dir,packets,lost,late,loss_rate\n0.0,li>lo,3,1,0,"
                "0.3333333333333333\n0.0,lo>li,2,0,0,0.0\n",
                "loss judges only packets a window before the other side's last store");
    same(&vnd_diag_loss, &o, "li→lo, stored until 21.35 and 21.2");
    o.list = true;
    r = run(&vnd_diag_loss, &o);
    CHECK(rows(r) == 1 && strstr(r, ",li>lo,3,") != NULL,
          "--list: packet 3 alone; 5 and the ACK 102 are not judged yet");
    free(r);
    /* unknown (NULL): every packet judged */
    hop_opts(&o, "li", "gone");
    expect_rows(&vnd_diag_loss, &o, "t,dir,packets,lost,late,loss_rate\n0.0,li>gone,7,7,0,1.0\n",
                "a table whose last store is unknown: every packet judged");
    exec("DROP TABLE vnd_meta");
}

/* Keys meet: a dropped packet of one flow and a packet of another flow
 * that left with the same ID (a UDP reply's 16-bit IP ID inside the data
 * flow's run), and a run of one flow's rows with one key (pure ACKs with
 * IP ID 0) whose delays jitter past their spacing. */
static void test_key_collisions(void)
{
    table("ci");
    table("co");
    row("ci", 30.0, 77, 1, 1, 1, 0x10, 0);          /* b→a, crosses in 0.1 ms */
    row("co", 30.0001, 77, 1, 1, 1, 0x10, 0);
    row("ci", 30.5, 77, 0, 1, 1, 0x18, 10);         /* a→b, dropped */
    const double in[3] = {31.0, 31.0003, 31.0006}, out[3] = {31.0004, 31.0005, 31.0009};
    for (int k = 0; k < 3; k++) {
        row("ci", in[k], 88, 0, 2, 1, 0x10, 0);
        row("co", out[k], 88, 0, 2, 1, 0x10, 0);
    }
    struct vnd_diag_opts o;
    hop_opts(&o, "ci", "co");
    char *r = run(&vnd_diag_correlate, &o);
    CHECK_EQ_INT(rows(r), 2, "correlate: two flow pairs, none across flows");
    CHECK(strstr(r, "10.0.0.1:1000>10.0.0.2:80,10.0.0.1:1000>10.0.0.2:80,3,") != NULL,
          "correlate: the dropped packet is not paired with the other flow's copy");
    CHECK(strstr(r, "10.0.0.2:80>10.0.0.1:1000,10.0.0.2:80>10.0.0.1:1000,1,") != NULL,
          "correlate: the other flow keeps its own pair");
    free(r);
    r = run(&vnd_diag_loss, &o);
    CHECK_EQ_STR(r, "t,dir,packets,lost,late,loss_rate\n0.0,ci>co,5,1,0,0.2\n",
                 "loss: the dropped packet alone is lost; the run of one key is not");
    free(r);
    o.list = true;
    r = run(&vnd_diag_loss, &o);
    CHECK(rows(r) == 1 && strstr(r, ",30.5,") != NULL, "loss --list names the dropped packet");
    free(r);
}

/* A hop that stalls: packets it held longer than --window (1 s) left all
 * the same, and count late, not lost; a key seen again later, paired with
 * another packet that entered then, does not make a lost packet late. */
static void test_loss_late(void)
{
    table("si");
    table("so");
    for (int k = 1; k <= 6; k++)
        row("si", 40 + k * 0.1, k, 0, 1000 + k, 1, 0x18, 10);
    row("so", 40.102, 1, 0, 1001, 1, 0x18, 10);
    row("so", 40.202, 2, 0, 1002, 1, 0x18, 10);
    row("so", 41.7, 3, 0, 1003, 1, 0x18, 10);       /* held 1.4 s */
    /* 4 dropped; 5 dropped, its ID back 3 s later on another packet */
    row("si", 43.5, 5, 0, 9005, 1, 0x18, 10);
    row("so", 43.502, 5, 0, 9005, 1, 0x18, 10);
    row("so", 41.5, 6, 0, 1006, 1, 0x18, 10);       /* held 0.9 s: paired */
    row("so", 40.05, 200, 1, 1, 1003, 0x10, 0);     /* an ACK held 1.2 s */
    row("si", 41.25, 200, 1, 1, 1003, 0x10, 0);
    struct vnd_diag_opts o;
    hop_opts(&o, "si", "so");
    expect_rows(&vnd_diag_loss, &o,
                "t,dir,packets,lost,late,loss_rate\n0.0,si>so,7,2,1,0.2857142857142857\n"
                "0.0,so>si,1,0,1,0.0\n",
                "loss: held past the window is late, not lost; a key paired again is lost");
    same(&vnd_diag_loss, &o, "late packets");
    o.list = true;
    char *r = run(&vnd_diag_loss, &o);
    CHECK_EQ_INT(rows(r), 4, "--list: the two lost and the two late");
    CHECK(strstr(r, ",si>so,4,10.0.0.1,1000,10.0.0.2,80,\n") != NULL
              && strstr(r, ",si>so,5,10.0.0.1,1000,10.0.0.2,80,\n") != NULL,
          "--list: lost packets have no left_after");
    CHECK(strstr(r, ",si>so,3,10.0.0.1,1000,10.0.0.2,80,1.4") != NULL
              && strstr(r, ",so>si,200,10.0.0.2,80,10.0.0.1,1000,1.2") != NULL,
          "--list: late packets say how long after they left");
    if (rows(r) != 4 || !strstr(r, ",1.4"))
        printf("# %s", r);
    free(r);
    o.list = false;
    o.window = 2;
    expect_rows(&vnd_diag_loss, &o,
                "t,dir,packets,lost,late,loss_rate\n0.0,si>so,7,2,0,0.2857142857142857\n"
                "0.0,so>si,1,0,0,0.0\n",
                "--window 2 pairs what was late");
    same(&vnd_diag_loss, &o, "--window 2");
    /* delay: the late packets have no delay, and say so */
    o.window = 1;
    r = run(&vnd_diag_delay, &o);
    CHECK(strstr(r, ",late\n") && strstr(r, "\nsi>so,0.0,4,") && strstr(r, ",1\nso>si,0.0,0,,,,,,1\n"),
          "delay: 4 delays and 1 late one way, 1 late alone the other (NULL figures)");
    if (!strstr(r, "so>si,0.0,0,,,,,,1"))
        printf("# %s", r);
    free(r);
    same(&vnd_diag_delay, &o, "late packets");
    o.by_flow = true;
    same(&vnd_diag_delay, &o, "late packets, by flow");
}

static void test_correlate_order(void)
{
    /* clients c1, c2 connect to a balancer 10.0.0.100; it opens server
     * connections in the same order */
    exec("CREATE TABLE fe (" STD_COLS ")");
    exec("CREATE TABLE be (" STD_COLS ")");
    exec("INSERT INTO fe VALUES (1.000, 1, '10.1.0.1', '10.0.0.100', 6, 4001, 80, 10, 0, 2, 0),"
         "(1.001, 2, '10.0.0.100', '10.1.0.1', 6, 80, 4001, 50, 11, 18, 0),"
         "(1.002, 3, '10.1.0.1', '10.0.0.100', 6, 4001, 80, 11, 51, 16, 0),"
         "(1.0005, 4, '10.1.0.2', '10.0.0.100', 6, 4002, 80, 20, 0, 2, 0),"
         "(1.0015, 5, '10.0.0.100', '10.1.0.2', 6, 80, 4002, 60, 21, 18, 0),"
         "(1.004, 6, '10.1.0.2', '10.0.0.100', 6, 4002, 80, 21, 61, 16, 0)");
    exec("INSERT INTO be VALUES (1.003, 7, '10.0.0.100', '10.2.0.9', 6, 7001, 80, 5, 0, 2, 0),"
         "(1.0031, 8, '10.2.0.9', '10.0.0.100', 6, 80, 7001, 9, 6, 18, 0),"
         "(1.005, 9, '10.0.0.100', '10.2.0.8', 6, 7002, 80, 5, 0, 2, 0)");
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.in = "fe";
    o.out = "be";
    o.by = VND_BY_ORDER;
    char *r = run(&vnd_diag_correlate, &o);
    CHECK(strstr(r, "1,10.1.0.1:4001>10.0.0.100:80,") && strstr(r, ",10.0.0.100:7001>10.2.0.9:80,")
              && strstr(r, "2,10.1.0.2:4002>10.0.0.100:80,")
              && strstr(r, ",10.0.0.100:7002>10.2.0.8:80,"),
          "connection order pairs the first client ACK with the first balancer SYN");
    free(r);
}

static void test_correlate_order_reuse(void)
{
    /* one client port twice (ISNs 100 and 900), the first SYN sent twice;
     * the balancer also uses one source port twice */
    exec("CREATE TABLE fe2 (" STD_COLS ")");
    exec("CREATE TABLE be2 (" STD_COLS ")");
    exec("INSERT INTO fe2 VALUES (1.0, 1, '10.1.0.1', '10.0.0.100', 6, 4001, 80, 100, 0, 2, 0),"
         "(2.0, 2, '10.1.0.1', '10.0.0.100', 6, 4001, 80, 100, 0, 2, 0),"
         "(2.001, 3, '10.0.0.100', '10.1.0.1', 6, 80, 4001, 50, 101, 18, 0),"
         "(2.002, 4, '10.1.0.1', '10.0.0.100', 6, 4001, 80, 101, 51, 16, 0),"
         "(2.5, 5, '10.1.0.1', '10.0.0.100', 6, 4001, 80, 101, 51, 17, 0),"
         "(3.0, 6, '10.1.0.1', '10.0.0.100', 6, 4001, 80, 900, 0, 2, 0),"
         "(3.001, 7, '10.0.0.100', '10.1.0.1', 6, 80, 4001, 70, 901, 18, 0),"
         "(3.002, 8, '10.1.0.1', '10.0.0.100', 6, 4001, 80, 901, 71, 16, 0)");
    exec("INSERT INTO be2 VALUES (2.003, 9, '10.0.1.100', '10.0.2.11', 6, 7001, 8080, 5, 0, 2, 0),"
         "(3.003, 10, '10.0.1.100', '10.0.2.11', 6, 7001, 8080, 77, 0, 2, 0)");
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.in = "fe2";
    o.out = "be2";
    o.by = VND_BY_ORDER;
    char *r = run(&vnd_diag_correlate, &o);
    CHECK(r && strstr(r, "\n1,10.1.0.1:4001>10.0.0.100:80,1.00") && strstr(r, "\n2,10.1.0.1:4001>10.0.0.100:80,2.002")
              && !strstr(r, "\n3,"),
          "a 4-tuple used again is a second connection; a resent SYN is not");
    free(r);
}

static void test_distribution_groups(void)
{
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = "li";
    o.field = "src_ip";
    char *r = run(&vnd_diag_distribution, &o);
    CHECK_EQ_STR(r, "src_ip,count,fraction\n10.0.0.1,5,0.7142857142857143\n10.0.0.2,2,0.2857142857142857\n",
                 "distribution: count and fraction per value");
    free(r);
    o.nfields = 2;
    o.fields[0] = "src_ip";
    o.fields[1] = "dst_port";
    r = run(&vnd_diag_groups, &o);
    CHECK_EQ_STR(r, "src_ip,dst_port,packets,bytes\n10.0.0.1,80,5,50\n10.0.0.2,1000,2,0\n",
                 "groups: distinct tuples with packets and bytes");
    free(r);
}

static void test_pg_dialect(void)
{
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.in = "li";
    o.out = "lo";
    o.pg = true;
    char *err = NULL;
    char *sql = vnd_diag_sql(&vnd_diag_loss, db, &o, &err);
    CHECK(sql && strstr(sql, "IS NOT DISTINCT FROM") && !strstr(sql, " IS f."),
          "PostgreSQL dialect uses IS NOT DISTINCT FROM");
    free(sql);
    free(err);
}

/* A table of flow records (vnd_meta: an IPFIX collector wrote it): a
 * packet app refuses it, saying why and what reads it; throughput spreads
 * its records over their durations; one whose columns it has runs. */
static void test_flow_records(void)
{
    sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS vnd_meta (trace TEXT, tbl TEXT, source TEXT);"
                     "INSERT INTO vnd_meta VALUES ('d1_1', 'fr', 'vnd-tabled ipfix');"
                     "CREATE TABLE fr (ts REAL, src_ip TEXT, dst_ip TEXT, proto INTEGER,"
                     " src_port INTEGER, dst_port INTEGER, start_ts REAL, end_ts REAL,"
                     " packets INTEGER, bytes INTEGER);"
                     "INSERT INTO fr VALUES (2, '10.0.0.1', '10.0.0.2', 6, 1, 2, 1, 2, 10, 1000)",
                 NULL, NULL, NULL);
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = "fr";
    char *err = NULL;
    char *sql = vnd_diag_sql(&vnd_diag_rtt, db, &o, &err);
    CHECK(!sql && err && strstr(err, "holds flow records") && strstr(err, "'seq'")
          && strstr(err, "throughput, groups and distribution read flow records (e.g. "
                    "`vnd diag throughput -t fr`)"),
          "rtt refuses flow records, saying what reads them: %s", err ? err : "(none)");
    free(sql);
    free(err);
    err = NULL;
    /* the record's 1000 bytes from 1 s to 2 s: all in the first slot (it
     * ends where the second starts) */
    char *text = run(&vnd_diag_throughput, &o);
    bool as_said = strstr(text, "t,packets,bytes,bps,records\n0.0,10.0,1000.0,8000.0,1\n")
                   && !strstr(text, "\n1.0,");
    CHECK(as_said, "throughput reads flow records%s%s", as_said ? "" : ": ",
          as_said ? "" : text);
    free(text);
    /* groups and distribution weigh each record by its packets */
    sqlite3_exec(db, "INSERT INTO fr VALUES (3, '10.0.0.1', '10.0.0.3', 17, 5, 53, 2, 3, 30,"
                     " 4000), (4, '10.0.0.1', '10.0.0.2', 6, 7, 2, 3, 4, 20, 2000)",
                 NULL, NULL, NULL);
    o.fields[0] = "src_ip";
    o.fields[1] = "dst_port";
    o.nfields = 2;
    text = run(&vnd_diag_groups, &o);
    as_said = !strcmp(text, "src_ip,dst_port,packets,bytes,records\n10.0.0.1,2,30,3000,2\n"
                            "10.0.0.1,53,30,4000,1\n");
    CHECK(as_said, "groups of flow records: their packets and bytes summed%s%s",
          as_said ? "" : ": ", as_said ? "" : text);
    free(text);
    o.field = "proto";
    text = run(&vnd_diag_distribution, &o);
    as_said = !strcmp(text, "proto,packets,fraction,bytes,records\n6,30,0.5,3000,2\n"
                            "17,30,0.5,4000,1\n");
    CHECK(as_said, "distribution of flow records: by their packets%s%s", as_said ? "" : ": ",
          as_said ? "" : text);
    free(text);
    sqlite3_exec(db, "DELETE FROM fr WHERE ts > 2", NULL, NULL, NULL);
}

/* The app's SQL run by SQLite, as CSV (what `vnd query` gives). */
static char *run_sql(const struct vnd_diag_app *app, const struct vnd_diag_opts *o)
{
    char *err = NULL;
    char *sql = vnd_diag_sql(app, db, o, &err);
    if (!sql) {
        char *m = NULL;
        if (asprintf(&m, "ERROR: %s", err) < 0)
            abort();
        free(err);
        return m;
    }
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    struct vnd_out *out = vnd_out_new(f, VND_FMT_CSV);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        struct vnd_cursor *c = vnd_cursor_sqlite(st, NULL, NULL);
        char *e = NULL;
        vnd_out_cursor(out, c, NULL, &e);
        free(e);
        vnd_cursor_close(c);
    } else {
        fprintf(f, "PREPARE: %s", sqlite3_errmsg(db));
    }
    vnd_out_finish(out);
    fclose(f);
    free(sql);
    return buf;
}

/* The C step (through vnd_diag_run) gives the SQL's rows. */
static void same(const struct vnd_diag_app *app, const struct vnd_diag_opts *o, const char *what)
{
    char *a = run(app, o), *b = run_sql(app, o);
    bool eq = !strcmp(a, b) && strncmp(a, "ERROR", 5);
    CHECK(eq, "%s %s: C step = SQL", app->name, what);
    if (!eq)
        printf("# step:\n%s\n# SQL:\n%s\n", a, b);
    free(a);
    free(b);
}

/* Every app with a C step, on tables the chain model never writes. */
static void test_steps_equal_sql(void)
{
    /* duplicates of ids: id 1 twice in --in within the window, id 2 in
     * --out twice at the same distance (before and after), id 3 in --out
     * twice at the same ts with different tuples, id 4 again 5 s later
     * (another packet: the window), NULL ids on both sides, an id that
     * wraps around (seen again 100 s later), NULL ports and addresses */
    exec("CREATE TABLE di (" STD_COLS ")");
    exec("CREATE TABLE do_ (" STD_COLS ")");
    exec("INSERT INTO di VALUES"
         " (1.000, 1, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 1, 0, 24, 100),"
         " (1.001, 1, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 1, 0, 24, 100),"
         " (1.010, 2, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 101, 0, 24, 100),"
         " (1.020, 3, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 201, 0, 24, 100),"
         " (1.020, 3, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 201, 0, 24, 100),"
         " (1.030, 4, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 301, 0, 24, 100),"
         " (6.030, 4, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 401, 0, 24, 100),"
         " (1.040, NULL, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 501, 0, 24, 100),"
         " (1.050, 5, '10.0.0.2', '10.0.0.1', 6, 80, 1000, 9, 101, 16, 0),"
         " (1.060, 6, NULL, '10.0.0.1', 6, NULL, 1000, 9, 201, 16, 0),"
         " (2.000, 7, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 601, 0, 24, 100),"
         " (102.000, 7, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 601, 0, 24, 100)");
    exec("INSERT INTO do_ VALUES"
         " (1.0015, 1, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 1, 0, 24, 100),"
         " (1.008, 2, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 101, 0, 24, 100),"
         " (1.012, 2, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 101, 0, 24, 100),"
         " (1.022, 3, '10.0.0.9', '10.0.0.2', 6, 1000, 80, 201, 0, 24, 100),"
         " (1.022, 3, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 201, 0, 24, 100),"
         " (1.031, 4, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 301, 0, 24, 100),"
         " (1.049, 5, '10.0.0.2', '10.0.0.1', 6, 80, 1000, 9, 101, 16, 0),"
         " (1.058, 6, NULL, '10.0.0.1', 6, NULL, 1000, 9, 201, 16, 0),"
         " (1.070, NULL, '10.0.0.2', '10.0.0.1', 6, 80, 1000, 9, 301, 16, 0),"
         " (102.0005, 7, '10.0.0.1', '10.0.0.2', 6, 1000, 80, 601, 0, 24, 100)");
    /* rows out of time order: the rtt step must sort */
    exec("CREATE TABLE shuf AS SELECT * FROM r ORDER BY id DESC");
    struct vnd_diag_opts o;
    const char *pairs[][2] = {{"di", "do_"}, {"do_", "di"}, {"li", "lo"}, {"empty", "empty2"},
                              {"li", "empty"}, {"ci", "co"}, {"co", "ci"}};
    for (size_t k = 0; k < sizeof pairs / sizeof *pairs; k++) {
        char what[64];
        snprintf(what, sizeof what, "%s→%s", pairs[k][0], pairs[k][1]);
        for (int v = 0; v < 4; v++) {
            vnd_diag_opts_init(&o);
            o.in = pairs[k][0];
            o.out = pairs[k][1];
            o.slot = v == 1 ? 0.01 : 1;
            o.by_flow = v == 2;
            if (v == 3)
                o.window = 0.0015;
            same(&vnd_diag_delay, &o, what);
            same(&vnd_diag_loss, &o, what);
            same(&vnd_diag_correlate, &o, what);
        }
    }
    const char *tabs[] = {"di", "do_", "r", "shuf", "li", "empty"};
    for (size_t k = 0; k < sizeof tabs / sizeof *tabs; k++) {
        vnd_diag_opts_init(&o);
        o.table = tabs[k];
        same(&vnd_diag_throughput, &o, tabs[k]);
        same(&vnd_diag_rtt, &o, tabs[k]);
        o.slot = 0.005;
        o.by_flow = true;
        same(&vnd_diag_throughput, &o, tabs[k]);
        same(&vnd_diag_rtt, &o, tabs[k]);
        o.where = "ip.src = 10.0.0.1";
        same(&vnd_diag_throughput, &o, tabs[k]);
        o.where = NULL;
        const char *fields[] = {"id", "src_ip", "src_port", "ts", "payload_len"};
        for (int f = 0; f < 5; f++) {
            o.field = fields[f];
            same(&vnd_diag_distribution, &o, fields[f]);
        }
        o.nfields = 3;
        o.fields[0] = "src_ip";
        o.fields[1] = "id";
        o.fields[2] = "dst_port";
        same(&vnd_diag_groups, &o, tabs[k]);
    }
    vnd_diag_opts_init(&o);
    o.table = "shuf";
    o.slot = 100;
    o.by_flow = true;
    char *a = run(&vnd_diag_rtt, &o);
    o.table = "r";
    char *b = run(&vnd_diag_rtt, &o);
    CHECK_EQ_STR(a, b, "rtt: a table out of time order gives the rows of the ordered one");
    free(a);
    free(b);
}

/* ---- rtt with a sack column ---- */

/* One TCP row of a table with STD_COLS and sack; dir as row(). */
static void srow(const char *tab, double ts, int dir, long long seq, long long ack, int flags,
                 int len, const char *sack)
{
    char sql[1024];
    char q[512] = "NULL";
    if (sack)
        snprintf(q, sizeof q, "'%s'", sack);
    snprintf(sql, sizeof sql,
             "INSERT INTO %s VALUES (%.9f, 0, '%s', '%s', 6, %d, %d, %lld, %lld, %d, %d, %s)", tab,
             ts, dir ? "10.0.0.2" : "10.0.0.1", dir ? "10.0.0.1" : "10.0.0.2", dir ? 80 : 1000,
             dir ? 1000 : 80, seq % 4294967296LL, ack % 4294967296LL, flags, len, q);
    exec(sql);
}

/* The SACK story, a→b data of 100 bytes, seq from isn (near 2^32: the
 * blocks straddle the wrap).  Segment 1 is lost: three duplicate ACKs
 * SACK segments 2, 3, 4 (3, 4, 5 ms after each), the repair's ACK covers
 * the copy (Karn), a spurious copy of segment 3 draws a D-SACK below the
 * cumulative ACK, which the next ACK repeats; segment 5 then takes 2 ms.
 * fmt(valid, out) writes each SACK text (NULL: as is); with_col false: no
 * sack column. */
static void sack_story(const char *tab, long long isn, bool with_col,
                       void (*fmt)(const char *valid, char *out, size_t n))
{
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE TABLE %s (" STD_COLS "%s)", tab, with_col ? ", sack TEXT" : "");
    exec(sql);
#define S(k) ((isn + 100LL * (k)) % 4294967296LL)
    char blk[5][64], txt[5][400];
    snprintf(blk[0], sizeof blk[0], "%lld-%lld", S(2), S(3));
    snprintf(blk[1], sizeof blk[1], "%lld-%lld", S(2), S(4));
    snprintf(blk[2], sizeof blk[2], "%lld-%lld", S(2), S(5));
    snprintf(blk[3], sizeof blk[3], "%lld-%lld", S(3), S(4));
    snprintf(blk[4], sizeof blk[4], "%lld-%lld", S(3), S(4));
    for (int i = 0; i < 5; i++) {
        if (fmt)
            fmt(blk[i], txt[i], sizeof txt[i]);
        else
            snprintf(txt[i], sizeof txt[i], "%s", blk[i]);
    }
    /* a row with or without the column */
#define R(ts, dir, seq, ack, fl, len, sk)                                                         \
    do {                                                                                          \
        if (with_col)                                                                             \
            srow(tab, ts, dir, seq, ack, fl, len, sk);                                            \
        else                                                                                      \
            row(tab, ts, 0, dir, (seq) % 4294967296LL, (ack) % 4294967296LL, fl, len);           \
    } while (0)
    for (int k = 0; k < 5; k++)
        R(10 + 0.010 * k, 0, S(k), 5001, 0x18, 100, NULL);
    R(10.005, 1, 5001, S(1), 0x10, 0, NULL);
    R(10.023, 1, 5001, S(1), 0x10, 0, txt[0]);
    R(10.034, 1, 5001, S(1), 0x10, 0, txt[1]);
    R(10.045, 1, 5001, S(1), 0x10, 0, txt[2]);
    R(10.050, 0, S(1), 5001, 0x18, 100, NULL);          /* the repair */
    R(10.056, 1, 5001, S(5), 0x10, 0, NULL);
    R(10.060, 0, S(3), 5001, 0x18, 100, NULL);          /* spurious copy */
    R(10.065, 1, 5001, S(5), 0x10, 0, txt[3]);          /* D-SACK */
    R(10.070, 0, S(5), 5001, 0x18, 100, NULL);
    R(10.072, 1, 5001, S(6), 0x10, 0, txt[4]);          /* the D-SACK again */
#undef R
#undef S
}

static void fmt_empty(const char *v, char *o, size_t n) { (void)v; snprintf(o, n, "%s", ""); }
static void fmt_comma(const char *v, char *o, size_t n) { snprintf(o, n, "%s,", v); }
static void fmt_space(const char *v, char *o, size_t n) { snprintf(o, n, " %s", v); }
static void fmt_five(const char *v, char *o, size_t n) { snprintf(o, n, "%s,1-2,3-4,5-6,7-8", v); }
static void fmt_range(const char *v, char *o, size_t n)
{
    snprintf(o, n, "%s,4294967296-4294967297", v);
}
static void fmt_long(const char *v, char *o, size_t n) { snprintf(o, n, "0000000000%s", v); }
static void fmt_dash(const char *v, char *o, size_t n) { snprintf(o, n, "%s-7", v); }
static void fmt_junk(const char *v, char *o, size_t n) { (void)v; snprintf(o, n, "%s", "left-right"); }

static void test_rtt_sack(void)
{
    uint32_t e[8];
    CHECK_EQ_INT(vnd_rtt_sack_parse("1-2,4294967295-0", e), 2, "parse: two blocks");
    CHECK(e[0] == 1 && e[1] == 2 && e[2] == 4294967295u && e[3] == 0, "parse: the raw edges");
    CHECK_EQ_INT(vnd_rtt_sack_parse("1-2,3-4,5-6,7-8", e), 4, "parse: four blocks");
    const char *bad[] = {"", "1-2,", ",1-2", "1-2,3-4,5-6,7-8,9-10", "1-", "-2", "1--2", "1-2 ",
                         "12345678901-1", "4294967296-1", "1-2;3-4", "a-b", "1-2-3", "1,2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_EQ_INT(vnd_rtt_sack_parse(bad[i], e), 0, "parse: '%s' is no SACK", bad[i]);
    CHECK_EQ_INT(vnd_rtt_sack_parse(NULL, e), 0, "parse: NULL is no SACK");

    long long isn = 4294967296LL - 250;     /* segment 2 starts 50 below 2^32 */
    sack_story("sk", isn, true, NULL);
    sack_story("nosk", isn, false, NULL);
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.slot = 100;
    o.table = "sk";
    char *r = run(&vnd_diag_rtt, &o);
    CHECK_EQ_INT((long long)cell(r, 0, 1), 5,
                 "SACK: the three SACKed segments before the cumulative ACK give samples;"
                 " the repair and the D-SACKs none");
    CHECK(fabs(cell(r, 0, 2) - 3.8) < 1e-6 && fabs(cell(r, 0, 3) - 2.0) < 1e-6
              && fabs(cell(r, 0, 6) - 5.0) < 1e-6,
          "SACK: 5, 3, 4, 5 and 2 ms across the wrap (mean %g, min %g, max %g)", cell(r, 0, 2),
          cell(r, 0, 3), cell(r, 0, 6));
    free(r);
    same(&vnd_diag_rtt, &o, "sack");
    o.table = "nosk";
    char *want = run(&vnd_diag_rtt, &o);
    CHECK_EQ_INT((long long)cell(want, 0, 1), 2,
                 "no sack column: segments behind the hole are Karn's (5 and 2 ms only)");

    /* malformed texts: as if there were no SACK */
    void (*fmts[])(const char *, char *, size_t) = {fmt_empty, fmt_comma, fmt_space, fmt_five,
                                                    fmt_range, fmt_long, fmt_dash, fmt_junk};
    for (size_t i = 0; i < sizeof fmts / sizeof *fmts; i++) {
        char tab[16];
        snprintf(tab, sizeof tab, "skbad%zu", i);
        sack_story(tab, isn, true, fmts[i]);
        o.table = tab;
        r = run(&vnd_diag_rtt, &o);
        CHECK_EQ_STR(r, want, "malformed SACK text %zu is no SACK", i);
        free(r);
        same(&vnd_diag_rtt, &o, tab);
    }
    free(want);

    /* two ACKs at one ts with one ack number are one ACK: one sample */
    exec("CREATE TABLE skm (" STD_COLS ", sack TEXT)");
    for (int k = 0; k < 4; k++)
        srow("skm", 10 + 0.010 * k, 0, 1000 + 100 * k, 1, 0x18, 100, NULL);
    srow("skm", 10.035, 1, 1, 1000, 0x10, 0, "1100-1200");
    srow("skm", 10.035, 1, 1, 1000, 0x10, 0, "1100-1300");
    vnd_diag_opts_init(&o);
    o.table = "skm";
    o.slot = 100;
    r = run(&vnd_diag_rtt, &o);
    CHECK(cell(r, 0, 1) == 1 && fabs(cell(r, 0, 2) - 15.0) < 1e-6,
          "ACKs sharing ts and ack number: one sample from the last segment they SACK");
    free(r);
    same(&vnd_diag_rtt, &o, "one ACK");

    /* a long recovery: 600 segments SACKed one by one behind a hole
     * (the step drops covered segments from its heap on the way) */
    exec("CREATE TABLE skl (" STD_COLS ", sack TEXT)");
    exec("BEGIN");
    for (int k = 0; k < 600; k++) {
        char t[64];
        srow("skl", 1 + 1e-4 * k, 0, 1000 + 100LL * k, 1, 0x18, 100, NULL);
        snprintf(t, sizeof t, "1100-%d", 1100 + 100 * k);
        if (k)
            srow("skl", 1 + 1e-4 * k + 5e-5, 1, 1, 1000, 0x10, 0, t);
    }
    srow("skl", 1.1, 0, 1000, 1, 0x18, 100, NULL);
    srow("skl", 1.101, 1, 1, 1000 + 100 * 600, 0x10, 0, NULL);
    exec("COMMIT");
    o.table = "skl";
    r = run(&vnd_diag_rtt, &o);
    CHECK(cell(r, 0, 1) == 599 && fabs(cell(r, 0, 6) - 0.05) < 1e-6,
          "long recovery: 599 SACK samples of 0.05 ms, the repair none");
    free(r);
    same(&vnd_diag_rtt, &o, "long recovery");
    o.by_flow = true;
    o.slot = 0.01;
    same(&vnd_diag_rtt, &o, "long recovery by flow");
}

static void test_judge(void)
{
    /* hop 0 steady at 2 ms; hop 1 at 3 ms, then from t=5 at 9 ms with loss */
    struct vnd_hop_slot a[10], b[10];
    for (int i = 0; i < 10; i++) {
        a[i] = (struct vnd_hop_slot){i, 2.0 + 0.05 * (i % 2), 1000, 0};
        b[i] = (struct vnd_hop_slot){i, i < 5 ? 3.0 : 9.0, 1000, i < 5 ? 0 : 20};
    }
    b[9].proc_ms = -1;      /* a half-empty last slot */
    b[9].lost = 0;
    struct vnd_hop_slot *series[2] = {a, b};
    int n[2] = {10, 10};
    struct vnd_bottleneck_verdict v;
    vnd_bottleneck_judge(2, series, n, &v);
    CHECK_EQ_INT(v.hop, 1, "the slowing, losing hop is the bottleneck");
    CHECK(v.since == 5, "from the slot it started (got %g)", v.since);
    CHECK_EQ_INT(v.lost, 80, "its losses are summed");
    /* hop 0 slower from t=3 (a CPU it waits for), hop 1 slower only from
     * t=6 but dropping packets: the queue that overflowed is the bottleneck */
    for (int i = 0; i < 10; i++) {
        a[i] = (struct vnd_hop_slot){i, i < 3 ? 2.0 : 8.0, 1000, 0};
        b[i] = (struct vnd_hop_slot){i, i < 6 ? 10.0 : 20.0, 1000, i < 6 ? 0 : 5};
    }
    vnd_bottleneck_judge(2, series, n, &v);
    CHECK_EQ_INT(v.hop, 1, "a hop that loses packets before a hop that only got slower");
    CHECK(v.since == 6, "from its first lossy slot (got %g)", v.since);
    for (int i = 0; i < 10; i++)
        b[i].lost = 0;
    vnd_bottleneck_judge(2, series, n, &v);
    CHECK_EQ_INT(v.hop, 0, "without loss, the longest wait beyond the quiet level (7 slots 6 ms"
                           " over against 4 slots 10 ms over)");
    /* one hop over 16 slots: a lone spike at t=1, congested 6..11, the
     * queue drained 12..15: the onset is 6 */
    struct vnd_hop_slot c[16];
    for (int i = 0; i < 16; i++)
        c[i] = (struct vnd_hop_slot){i, i == 1 || (i >= 6 && i < 12) ? 20.0 : 10.0, 1000,
                                     i >= 7 && i < 11 ? 10 : 0};
    struct vnd_hop_slot *one[1] = {c};
    int n16[1] = {16};
    vnd_bottleneck_judge(1, one, n16, &v);
    CHECK_EQ_INT(v.hop, 0, "the congested hop");
    CHECK(v.since == 6, "its onset past a lone spike and before the queue drained (got %g)",
          v.since);
    /* busy from the start (8 ms), one overflow at t=6 (TCP backs off),
     * then as before: congested in one slot of the ten */
    for (int i = 0; i < 10; i++) {
        a[i] = (struct vnd_hop_slot){i, 2.0, 1000, 0};
        b[i] = (struct vnd_hop_slot){i, i == 6 ? 14.0 : 8.0, 4000, i == 6 ? 18 : 0};
    }
    vnd_bottleneck_judge(2, series, n, &v);
    CHECK_EQ_INT(v.hop, 1, "one overflow makes the busy hop the bottleneck");
    CHECK(v.since == 6, "from the slot its queue overflowed (got %g)", v.since);
    /* ... and the last slot slow as the queue drains (seen on the live
     * bed: 12.4 ms against 7.8 quiet in the last, half-empty slot): one
     * slot is no "congested from here on" */
    b[9].proc_ms = 14.0;
    vnd_bottleneck_judge(2, series, n, &v);
    CHECK(v.hop == 1 && v.since == 6,
          "a slow last slot does not move the onset from the overflow (got hop %d, %g)", v.hop,
          v.since);
    /* the live bed's: an overflow at t=6 as the second client joins, TCP
     * backs off, the queue at its quiet level until it fills again and
     * stays full from t=10: the onset is the overflow */
    for (int i = 0; i < 16; i++)
        c[i] = (struct vnd_hop_slot){i, i >= 10 ? 14.8 : 8.7, 4000, i == 6 ? 72 : 0};
    c[6].proc_ms = NAN;
    vnd_bottleneck_judge(1, one, n16, &v);
    CHECK(v.hop == 0 && v.since == 6,
          "an overflow before the queue stayed full: from the overflow (got hop %d, %g)", v.hop,
          v.since);
    b[9].proc_ms = 8.0;
    for (int i = 0; i < 10; i++)
        b[i].lost = 0;
    vnd_bottleneck_judge(2, series, n, &v);
    CHECK(v.hop != 1 || isnan(v.since), "without the loss, one slow slot names no onset");
    for (int i = 0; i < 10; i++) {
        a[i] = (struct vnd_hop_slot){i, 2.0, 1000, 0};
        b[i] = (struct vnd_hop_slot){i, 3.0, 1000, 0};
    }
    vnd_bottleneck_judge(2, series, n, &v);
    CHECK_EQ_INT(v.hop, -1, "steady hops: no bottleneck");
}

static void test_rtt_ties(void);
static void test_rtt_open_bound(void);

int main(void)
{
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return 1;
    vnd_sql_register_functions(db);
    test_missing_and_quoting();
    test_empty();
    test_rtt();
    test_rtt_kind();
    test_loss_delay();
    test_key_collisions();
    test_loss_late();
    test_correlate_order();
    test_correlate_order_reuse();
    test_distribution_groups();
    test_pg_dialect();
    test_flow_records();
    test_steps_equal_sql();
    test_rtt_sack();
    test_rtt_ties();
    test_rtt_open_bound();
    test_judge();
    sqlite3_close(db);
    return tap_done();
}

/* ---- rtt: rows that share a timestamp ---- */

/* Their capture order is unknown, so the rule must not depend on the
 * order rows of one ts come in (the step sorts them by (seq, ack), which
 * across the two directions means nothing): segments count as sent before
 * the ACKs of their ts, and the ACKs of one direction at one ts are one
 * ACK.  A data direction a→b of 100-byte segments from seq 1000; b's ACKs
 * carry seq 1 or 2 (before a's rows at their ts) or 9000 (after). */
static void test_rtt_ties(void)
{
    table("tie");
    row("tie", 1.000, 1, 0, 1000, 1, 0x18, 100);
    row("tie", 1.003, 2, 1, 1, 1100, 0x10, 0);        /* 3 ms */
    /* an ACK of the segment's own ts covers it: 0 ms (it must have followed
     * the new data it covers), whichever of the two sorts first */
    row("tie", 1.010, 3, 0, 1100, 1, 0x18, 100);
    row("tie", 1.010, 4, 1, 1, 1200, 0x10, 0);
    row("tie", 1.015, 5, 0, 1200, 1, 0x18, 100);
    row("tie", 1.015, 6, 1, 9000, 1300, 0x10, 0);
    /* two ACKs at one ts, the higher first in (seq, ack): one ACK, one
     * sample from the later segment, 4 ms */
    row("tie", 1.020, 7, 0, 1300, 1, 0x18, 100);
    row("tie", 1.021, 8, 0, 1400, 1, 0x18, 100);
    row("tie", 1.025, 9, 1, 1, 1500, 0x10, 0);
    row("tie", 1.025, 10, 1, 2, 1400, 0x10, 0);
    /* a retransmission at the ts of the ACK covering its original: the
     * ACK may answer either (Karn), no sample */
    row("tie", 1.030, 11, 0, 1500, 1, 0x18, 100);
    row("tie", 1.040, 12, 1, 1, 1600, 0x10, 0);
    row("tie", 1.040, 13, 0, 1500, 1, 0x18, 100);
    /* then as usual: 2 ms */
    row("tie", 1.050, 14, 0, 1600, 1, 0x18, 100);
    row("tie", 1.052, 15, 1, 1, 1700, 0x10, 0);
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = "tie";
    o.slot = 100;
    char *r = run(&vnd_diag_rtt, &o);
    CHECK_EQ_INT((long long)cell(r, 0, 1), 5, "ties: 5 samples (3, 0, 0, 4, 2 ms) (got %s)", r);
    CHECK(cell(r, 0, 3) == 0 && fabs(cell(r, 0, 6) - 4.0) < 1e-6,
          "ties: smallest 0 ms (same-ts ACK), largest 4 ms (one ACK of two)");
    CHECK(fabs(cell(r, 0, 2) - 1.8) < 1e-6, "ties: mean 1.8 ms (got %g)", cell(r, 0, 2));
    free(r);
    same(&vnd_diag_rtt, &o, "ties");
    o.by_flow = true;
    o.slot = 0.01;
    same(&vnd_diag_rtt, &o, "ties by flow");
    /* the same rows in reverse table order: the step sorts them */
    exec("CREATE TABLE tier AS SELECT * FROM tie ORDER BY id DESC");
    o.table = "tier";
    same(&vnd_diag_rtt, &o, "ties reversed");

    /* with SACK: a block of an ACK of the segment's own ts covers it too */
    exec("CREATE TABLE tis (" STD_COLS ", sack TEXT)");
    srow("tis", 2.000, 0, 1000, 1, 0x18, 100, NULL);         /* lost further on */
    srow("tis", 2.010, 0, 1100, 1, 0x18, 100, NULL);
    srow("tis", 2.010, 1, 1, 1000, 0x10, 0, "1100-1200");    /* 0 ms */
    srow("tis", 2.011, 0, 1200, 1, 0x18, 100, NULL);
    srow("tis", 2.014, 1, 1, 1000, 0x10, 0, "1100-1300");    /* 3 ms */
    srow("tis", 2.020, 0, 1000, 1, 0x18, 100, NULL);         /* the repair */
    srow("tis", 2.025, 1, 1, 1300, 0x10, 0, NULL);           /* Karn */
    srow("tis", 2.030, 0, 1300, 1, 0x18, 100, NULL);
    srow("tis", 2.032, 1, 9000, 1400, 0x10, 0, NULL);        /* 2 ms, */
    srow("tis", 2.032, 1, 1, 1350, 0x10, 0, "1350-1400");    /* one ACK */
    vnd_diag_opts_init(&o);
    o.table = "tis";
    o.slot = 100;
    r = run(&vnd_diag_rtt, &o);
    CHECK(cell(r, 0, 1) == 3 && cell(r, 0, 3) == 0 && fabs(cell(r, 0, 6) - 3.0) < 1e-6,
          "ties with SACK: 3 samples, 0 to 3 ms (got %s)", r);
    free(r);
    same(&vnd_diag_rtt, &o, "ties with SACK");
    o.by_flow = true;
    o.slot = 0.01;
    same(&vnd_diag_rtt, &o, "ties with SACK by flow");
}

/* ---- rtt: segments waiting for ACKs are bounded ---- */

static void count_sample(void *arg, int flow, double seg_ts, double ack_ts, int kind)
{
    (void)flow, (void)kind;
    int *n = arg;
    if (fabs(ack_ts - seg_ts - 1.0) < 1e-9)     /* each ACK follows its segment by 1 s */
        n[0]++;
    n[1]++;
}

static void rtt_in(struct vnd_rtt_machine *m, double ts, int flow, uint32_t seq, uint32_t ack,
                   int flags, int64_t len)
{
    struct vnd_rtt_in in = {.ts = ts, .flow = flow, .seq = seq, .ack = ack, .flags = flags,
                            .len = len, .id_null = 1};
    vnd_rtt_machine_row(m, &in);
}

/* A data direction a→b sends N > VND_RTT_OPEN_MAX segments before any
 * ACK.  When the bound is reached the lower half is let go at once: of
 * segments 1..N, those above N - (what the halvings kept) still wait.  b's
 * ACKs then cover them one by one, each a second after its segment: every
 * one still waiting gives its sample (the heap is whole after halving),
 * the ones let go none.  Then the same with the segments' sequence numbers
 * in a scrambled order (no ACKs, many retransmissions by Karn's rule), as
 * the synthetic one-direction capture that showed the table server's
 * growth had: no sample, and (under ASan) the halving of an unsorted heap
 * stays within it. */
static void test_rtt_open_bound(void)
{
    const int N = VND_RTT_OPEN_MAX * 2 + 1000, LEN = 100;
    int n[2] = {0, 0};
    struct vnd_rtt_machine *m = vnd_rtt_machine_new(false, false, count_sample, n);
    struct vnd_flows *fl = vnd_rtt_machine_flows(m);
    int ab = vnd_flows_get(fl, "10.0.0.1", 8, 1000, "10.0.0.2", 8, 80, 0);
    int ba = vnd_flows_get(fl, "10.0.0.2", 8, 80, "10.0.0.1", 8, 1000, 0);
    rtt_in(m, 0.5, ba, 5000, 1000, 16, 0);           /* b's first ACK: nothing sent yet */
    for (int i = 0; i < N; i++)
        rtt_in(m, 1.0 + i * 1e-5, ab, 1000 + (uint32_t)(i * LEN), 5000, 16, LEN);
    /* what the halvings kept: 16,384 fill it; each next one halves to
     * 8,192 and adds itself, so after N the last (N - 16,384) % 8,192 +
     * 8,192 wait */
    int waiting = (N - VND_RTT_OPEN_MAX) % (VND_RTT_OPEN_MAX / 2) + VND_RTT_OPEN_MAX / 2;
    for (int i = 0; i < N; i++)
        rtt_in(m, 2.0 + i * 1e-5, ba, 5000, 1000 + (uint32_t)((i + 1) * LEN), 16, 0);
    vnd_rtt_machine_end(m);
    CHECK(n[1] == waiting && n[0] == waiting,
           "rtt: %d segments before any ACK: the %d still waiting give their samples (%d, "
           "%d of them 1 s), the ones let go none", N, waiting, n[1], n[0]);
    vnd_rtt_machine_free(m);

    n[0] = n[1] = 0;
    m = vnd_rtt_machine_new(false, false, count_sample, n);
    fl = vnd_rtt_machine_flows(m);
    ab = vnd_flows_get(fl, "10.0.0.1", 8, 1000, "10.0.0.2", 8, 80, 0);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 4 * VND_RTT_OPEN_MAX; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        rtt_in(m, 1.0 + i * 1e-3, ab, (uint32_t)x, 0, 16, LEN);
    }
    vnd_rtt_machine_end(m);
    CHECK(n[1] == 0, "rtt: %d scrambled segments of one direction, no ACK: no sample (%d)",
           4 * VND_RTT_OPEN_MAX, n[1]);
    vnd_rtt_machine_free(m);
}
