/* test_sampling.c — the table server's sampling: the hash key (the same
 * packets kept whatever a middlebox rewrites), rate changes at a batch
 * boundary recorded in vnd_sampling from the first packet under the new
 * rate, and the estimate that joins rows to their interval's rate. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/packet.h"
#include "ingest/ingest.h"
#include "ingest/sampling.h"
#include "lang/parseconf.h"
#include "store/store.h"
#include "../sqlone.h"
#include "../tap.h"

#define T0 INT64_C(1700000000000000000)

/* Ethernet + IPv4 + UDP + `plen` bytes of payload (0: none) */
static uint32_t frame(uint8_t *f, uint32_t ip_id, const uint8_t dst[4], uint32_t seqno,
                      uint32_t plen)
{
    memset(f, 0, 64);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((28 + plen) >> 8);
    ip[3] = (uint8_t)(28 + plen);
    ip[4] = (uint8_t)(ip_id >> 8);
    ip[5] = (uint8_t)ip_id;
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, (uint8_t[]){10, 0, 0, 1}, 4);
    memcpy(ip + 16, dst, 4);
    uint8_t *udp = ip + 20;
    udp[0] = 0x03, udp[1] = 0xe8, udp[2] = 0x07, udp[3] = 0xd0;
    udp[5] = (uint8_t)(8 + plen);
    for (uint32_t i = 0; i < plen; i++)
        udp[8 + i] = (uint8_t)(seqno >> (8 * (i % 4)));
    return 14 + 28 + plen;
}

static void key(void)
{
    uint8_t a[64], b[64];
    struct vnd_pkt pa, pb;
    const uint8_t d1[4] = {10, 0, 0, 2}, d2[4] = {192, 168, 7, 7};
    int same = 0, differ = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        /* a NAT's output: another destination, another ip.id; same payload */
        uint32_t na = frame(a, i, d1, i, 8), nb = frame(b, i + 17, d2, i, 8);
        vnd_decode(&pa, VND_DLT_EN10MB, a, na, na, T0);
        vnd_decode(&pb, VND_DLT_EN10MB, b, nb, nb, T0);
        same += vnd_sample_key(&pa, a, na) == vnd_sample_key(&pb, b, nb);
        /* no payload: the key is (ip.id, seq, ack), which the NAT kept or not */
        na = frame(a, i, d1, 0, 0);
        nb = frame(b, i, d2, 0, 0);
        vnd_decode(&pa, VND_DLT_EN10MB, a, na, na, T0);
        vnd_decode(&pb, VND_DLT_EN10MB, b, nb, nb, T0);
        same += vnd_sample_key(&pa, a, na) == vnd_sample_key(&pb, b, nb);
        nb = frame(b, i + 1, d2, 0, 0);
        vnd_decode(&pb, VND_DLT_EN10MB, b, nb, nb, T0);
        differ += vnd_sample_key(&pa, a, na) != vnd_sample_key(&pb, b, nb);
    }
    CHECK_EQ_INT(same, 2000, "the key ignores addresses: same payload, or same ip.id without");
    CHECK_EQ_INT(differ, 1000, "another ip.id, another key");
    /* spread: 1 in 8 of 80000 distinct payloads, within 5 sigma */
    int kept = 0;
    for (uint32_t i = 0; i < 80000; i++) {
        uint32_t n = frame(a, 0, d1, i * 2654435761u, 8);
        vnd_decode(&pa, VND_DLT_EN10MB, a, n, n, T0);
        kept += vnd_sample_key(&pa, a, n) % 8 == 0;
    }
    CHECK(kept > 10000 - 500 && kept < 10000 + 500, "hash 1-in-8 keeps %d of 80000", kept);
    enum vnd_sample_method m;
    CHECK(vnd_sample_method_parse("HASH", &m) && m == VND_SAMPLE_HASH
          && vnd_sample_method_parse("count", &m) && m == VND_SAMPLE_COUNT
          && !vnd_sample_method_parse("often", &m), "method names");
}

static int64_t one(sqlite3 *db, const char *sql)
{
    return sql_one(db, sql, -1);
}

static void feed(struct vnd_ingest *ing, int t, int from, int to)
{
    uint8_t f[64];
    const uint8_t d[4] = {10, 0, 0, 2};
    for (int i = from; i < to; i++) {
        uint32_t n = frame(f, (uint32_t)i, d, (uint32_t)i * 2654435761u, 8);
        vnd_ingest_packet(ing, t, T0 + (int64_t)i * 1000000, f, n, n);
    }
}

static void changes(void)
{
    char dir[] = "/tmp/vnd-test-sampling.XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "%s/s.db", dir);
    struct vnd_store *st = NULL;
    char *err = NULL;
    struct vnd_parse_conf *conf = vnd_parseconf_default();
    CHECK(vnd_store_open(path, &st, &err) == 0, "store opens");
    struct vnd_ingest *ing = vnd_ingest_new(st, conf, 100000, 60);
    struct vnd_trace_opts o = {.id = "t", .linktype = VND_DLT_EN10MB, .sampling = 1};
    int t = vnd_ingest_add_trace(ing, &o, &err);
    struct vnd_trace_opts p = {.id = "sf", .linktype = VND_DLT_EN10MB, .sampling = 16,
                               .presampled = true};
    int tsf = vnd_ingest_add_trace(ing, &p, &err);
    CHECK(t >= 0 && tsf >= 0, "traces registered");
    CHECK_EQ_INT(vnd_ingest_set_sampling(ing, tsf, 2, VND_SAMPLE_COUNT, "x"), EINVAL,
                 "a presampled trace's rate is the switch's: refused");

    /* 1:1 for 0..39; a change asked for mid-batch waits for its end */
    feed(ing, t, 0, 40);
    vnd_ingest_set_sampling(ing, t, 4, VND_SAMPLE_COUNT, "test: up to 4");
    CHECK_EQ_INT(vnd_ingest_sampling(ing, t, NULL), 4, "the rate asked for is reported");
    feed(ing, t, 40, 50);
    CHECK(vnd_ingest_flush(ing, &err) == 0, "flush");
    feed(ing, t, 50, 100);      /* 1 in 4 from packet 50 on */
    /* two changes before a packet: the last one counts */
    CHECK(vnd_ingest_flush(ing, &err) == 0, "flush");
    vnd_ingest_set_sampling(ing, t, 2, VND_SAMPLE_COUNT, "not this one");
    vnd_ingest_set_sampling(ing, t, 8, VND_SAMPLE_HASH, "test: hash 8");
    feed(ing, t, 100, 900);
    vnd_ingest_set_sampling(ing, t, 8, VND_SAMPLE_HASH, "no change");
    feed(ing, t, 900, 1000);
    CHECK(vnd_ingest_finish_trace(ing, t, "complete", NULL, &err) == 0, "finish");

    sqlite3 *db = vnd_store_db(st);
    CHECK_EQ_INT(one(db, "select count(*) from vnd_sampling where trace = 't'"), 3,
                 "three intervals: configured, 1-in-4, hash 1-in-8 (no row for no change)");
    CHECK_EQ_INT(one(db, "select count(*) from vnd_sampling where trace = 't' and ("
                         "(from_ts = 0 and sampling = 1 and method = 'count' and reason = 'configured')"
                         " or (from_ts = 1700000000.05 and sampling = 4 and method = 'count'"
                         " and reason = 'test: up to 4')"
                         " or (from_ts = 1700000000.1 and sampling = 8 and method = 'hash'"
                         " and reason = 'test: hash 8'))"), 3,
                 "each from the first packet under it (50 and 100), with its reason");
    CHECK_EQ_INT(one(db, "select count(*) from t where ts = (select from_ts from vnd_sampling"
                         " where sampling = 4)"), 1,
                 "from_ts is exactly the stored ts of that packet (count keeps it)");
    CHECK_EQ_INT(one(db, "select count(*) from t where ts < 1700000000.05"), 50,
                 "1:1 before: every packet, the batch that asked included");
    CHECK_EQ_INT(one(db, "select count(*) from t where ts >= 1700000000.05 and ts < 1700000000.1"),
                 13, "1-in-4 of 50 packets: 13 (the 1st, 5th, ...)");
    int64_t h = one(db, "select count(*) from t where ts >= 1700000000.1");
    CHECK(h > 60 && h < 175, "hash 1-in-8 of 900 packets: %lld", (long long)h);
    /* the estimate every result is to make: rows x their interval's rate */
    int64_t est = one(db, "select sum((select sampling from vnd_sampling s where s.trace = 't'"
                          " and s.from_ts <= t.ts order by s.from_ts desc limit 1)) from t");
    CHECK_EQ_INT(est, 50 + 13 * 4 + h * 8, "estimate by SQL join on vnd_sampling");
    CHECK_EQ_INT(one(db, "select sampling from vnd_meta where trace = 't'"), 8,
                 "vnd_meta.sampling is the current rate");
    CHECK_EQ_INT(one(db, "select count(*) from vnd_sampling where trace = 'sf' and sampling = 16"),
                 1, "a presampled trace's row: the switch's rate");
    /* sampling separates segments from their ACKs: the rollups keep no
     * RTT samples from the first sampled packet on, and say why */
    CHECK_EQ_INT(one(db, "select count(*) from vnd_meta where trace = 't' and rollup_status ="
                         " 'rollup-no-rtt: packets sampled 1 in 4 (few segments keep their ACK)'"),
                 1, "the rollup of a trace sampled from 1:1 to 1-in-4 stops its RTT samples");
    CHECK_EQ_INT(one(db, "select count(*) from vnd_meta where trace = 'sf' and rollup_status"
                         " like 'rollup-no-rtt: packets sampled 1 in 16 %'"),
                 1, "a trace the switch samples 1 in 16 keeps none from the start");

    /* the switch changes a mirror trace's levers and no packet follows
     * (its flow sample holds none of the flows): on record at the flush
     * all the same, from when the switch changed */
    struct vnd_trace_opts q = {.id = "m", .linktype = VND_DLT_EN10MB, .sampling = 1};
    int tm = vnd_ingest_add_trace(ing, &q, &err);
    feed(ing, tm, 0, 10);
    CHECK(vnd_ingest_flush(ing, &err) == 0, "flush");
    struct vnd_switch_rates quiet = {.flow_sampling = 32, .snaplen = -1};
    CHECK(vnd_ingest_switch_rates(ing, tm, &quiet, T0 + INT64_C(500000000), "test: 1 in 32") == 0,
          "the switch's flow sampling told");
    CHECK(vnd_ingest_flush(ing, &err) == 0, "flush with no packet since");
    CHECK_EQ_INT(one(db, "select count(*) from vnd_sampling where trace = 'm' and"
                         " flow_sampling = 32 and from_ts = 1700000000.5 and reason = 'test: 1 in 32'"),
                 1, "a change no packet followed is recorded at the flush, from the switch's time");
    CHECK_EQ_INT(one(db, "select count(*) from vnd_sampling where trace = 'm'"), 2,
                 "... once (configured, 1 in 32)");
    feed(ing, tm, 600, 610);
    CHECK(vnd_ingest_flush(ing, &err) == 0, "flush");
    CHECK_EQ_INT(one(db, "select count(*) from vnd_sampling where trace = 'm'"), 2,
                 "... and not again when packets come");
    CHECK_EQ_INT(one(db, "select count(*) from vnd_meta where trace = 'm' and rollup_status = 'rollup'"),
                 1, "flow sampling keeps whole connections: the rollup keeps its RTT samples");

    /* --replace starts the history again; drop removes it */
    vnd_ingest_free(ing);
    ing = vnd_ingest_new(st, conf, 100000, 60);
    o.replace = true;
    o.sampling = 2;
    t = vnd_ingest_add_trace(ing, &o, &err);
    feed(ing, t, 0, 10);
    CHECK(t >= 0 && vnd_ingest_finish_trace(ing, t, "complete", NULL, &err) == 0, "replaced");
    CHECK_EQ_INT(one(db, "select count(*) from vnd_sampling where trace = 't' and sampling = 2"
                         " and from_ts = 0") * 10 + one(db, "select count(*) from vnd_sampling"
                                                             " where trace = 't'"), 11,
                 "--replace: one row from the start, the old history gone");
    CHECK(vnd_ingest_drop_trace(ing, t, &err) == 0, "drop");
    CHECK_EQ_INT(one(db, "select count(*) from vnd_sampling where trace = 't'"), 0,
                 "a dropped trace's history goes");
    vnd_ingest_free(ing);
    vnd_store_close(st);
    vnd_parseconf_free(conf);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd))
        CHECK(0, "cleanup");
    free(err);
}

int main(void)
{
    key();
    changes();
    return tap_done();
}
