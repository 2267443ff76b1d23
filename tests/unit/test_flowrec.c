/* test_flowrec.c — ingest's entry point for records whose fields are
 * known (vnd_ingest_record) and the pattern a sampled source's trace
 * applies at the table server (vnd_trace_opts.match, presampled). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/ipfix.h"
#include "capture/ipfix_source.h"
#include "decode/packet.h"
#include "ingest/ingest.h"
#include "lang/filter.h"
#include "lang/parseconf.h"
#include "store/store.h"
#include "synth/frame.h"
#include "synth/ipfix.h"
#include "../tap.h"

static long long one(struct vnd_store *st, const char *sql)
{
    sqlite3_stmt *s;
    long long v = -1;
    if (sqlite3_prepare_v2(vnd_store_db(st), sql, -1, &s, NULL) == SQLITE_OK
        && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static struct vnd_ingest *rec_ing;
static struct vnd_parse_conf *fc;        /* outlives the ingest */
static int rec_trace;

static void ingest_flow(void *ctx, const struct vnd_ipfix_flow *f)
{
    (void)ctx;
    struct vnd_pkt p;
    vnd_ipfix_flow_fields(f, &p);
    vnd_ingest_record(rec_ing, rec_trace, f->end_ns, &p);
}

/* IPFIX records, decoded and stored with the flow-record columns. */
static void test_ipfix_records(struct vnd_ingest *ing, struct vnd_store *st)
{
    char *err = NULL;
    CHECK(vnd_parseconf_parse(vnd_parseconf_flow_default_text, "flow default", &fc, &err) == 0,
          "the flow-record default parses: %s", err ? err : "");
    struct vnd_trace_opts o = {.id = "x1", .linktype = VND_DLT_EN10MB, .sampling = 1,
                               .presampled = true, .conf = fc, .source = "test ipfix"};
    rec_ing = ing;
    rec_trace = vnd_ingest_add_trace(ing, &o, &err);
    CHECK(rec_trace >= 0, "a flow-record trace is added");
    static struct vnd_ipfixw w;
    vnd_ipfixw_begin(&w, 1700000000, 1, 1);
    vnd_ipfixw_ovs_template(&w, 256);
    vnd_ipfixw_set(&w, 256);
    for (uint32_t k = 0; k < 4; k++) {
        struct vnd_ipfix_flow f;
        memset(&f, 0, sizeof f);
        f.obs_point = 9;
        f.proto = k == 3 ? 17 : 6;
        memcpy(f.src, "\x0a\0\0\x06", 4);
        memcpy(f.dst, "\x0a\0\0\x08", 4);
        f.sport = (uint16_t)(1000 + k);
        f.dport = 5201;
        f.packets = 100;
        f.octets = 100000 + k;
        f.l2_octets = 101400 + k;
        f.tcp_flags = 0x1b;
        vnd_ipfixw_ovs_record(&w, &f, 4000000, 1000000);
    }
    size_t n = vnd_ipfixw_end(&w);
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(0, 0);
    const char *why = NULL;
    CHECK(vnd_ipfix_parse(c, "s", 1, 1, w.buf, n, ingest_flow, NULL, NULL, &why) == 0,
          "the message reads");
    vnd_ipfix_cache_free(c);
    CHECK(vnd_ingest_flush(ing, &err) == 0, "flush");
    CHECK_EQ_INT(one(st, "SELECT count(*) FROM x1"), 4, "four flow records stored");
    CHECK_EQ_INT(one(st, "SELECT sum(bytes) FROM x1"), 400006, "bytes (octetDeltaCount)");
    CHECK_EQ_INT(one(st, "SELECT sum(l2_bytes) FROM x1"), 405606, "l2_bytes");
    CHECK_EQ_INT(one(st, "SELECT sum(packets) FROM x1"), 400, "packets");
    CHECK_EQ_INT(one(st, "SELECT count(*) FROM x1 WHERE src_ip = '10.0.0.6' AND dst_port = 5201"
                         " AND proto IN (6, 17)"), 4, "5-tuple columns, TCP and UDP ports");
    CHECK_EQ_INT(one(st, "SELECT count(*) FROM x1 WHERE flags = 27"), 3,
                 "TCP flags of the TCP records only");
    CHECK_EQ_INT(one(st, "SELECT round((end_ts - start_ts) * 1000) FROM x1 LIMIT 1"), 3000,
                 "start_ts and end_ts from the delta microseconds");
    CHECK_EQ_INT(one(st, "SELECT ts = end_ts FROM x1 LIMIT 1"), 1, "ts is the flow's end");
    CHECK_EQ_INT(one(st, "SELECT count(*) FROM x1 WHERE ts = 1700000000 - 1"), 4,
                 "end = export time - flowEndDeltaMicroseconds");
}

int main(void)
{
    char path[] = "/tmp/vnd-test-flowrec.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    struct vnd_store *st = NULL;
    char *err = NULL;
    CHECK(vnd_store_open(path, &st, &err) == 0, "store opens");
    struct vnd_parse_conf *pc = NULL;
    CHECK(vnd_parseconf_parse(vnd_parseconf_default_text, "default", &pc, &err) == 0,
          "default parse configuration");
    struct vnd_ingest *ing = vnd_ingest_new(st, pc, 1000, 1.0);

    /* records: fields set by hand, no decoding */
    struct vnd_trace_opts o = {.id = "f1", .linktype = VND_DLT_EN10MB, .sampling = 10,
                               .presampled = true, .source = "test"};
    int t = vnd_ingest_add_trace(ing, &o, &err);
    CHECK(t >= 0, "a presampled trace is added");
    static const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
    for (int i = 0; i < 5; i++) {
        struct vnd_pkt p;
        memset(p.present, 0, sizeof p.present);
        vnd_pkt_set_b(&p, VND_F_IP_SRC, src, 4);
        vnd_pkt_set_b(&p, VND_F_IP_DST, dst, 4);
        vnd_pkt_set_u(&p, VND_F_IP_VERSION, 4);
        vnd_pkt_set_u(&p, VND_F_IP_PROTO, 6);
        vnd_pkt_set_u(&p, VND_F_TCP_SRC, 1000 + (unsigned)i);
        vnd_pkt_set_u(&p, VND_F_TCP_DST, 80);
        vnd_ingest_record(ing, t, 1000000000LL * (i + 1), &p);
    }
    CHECK(vnd_ingest_flush(ing, &err) == 0, "flush");
    CHECK_EQ_INT(one(st, "SELECT count(*) FROM f1"), 5, "every record stored (presampled: no "
                 "second sampling)");
    CHECK_EQ_INT(one(st, "SELECT count(*) FROM f1 WHERE src_ip = '10.0.0.1' AND dst_port = 80"
                         " AND ts >= 1"), 5, "the record's fields are the columns");
    CHECK_EQ_INT(one(st, "SELECT sum(src_port) FROM f1"), 5010, "ports");
    CHECK_EQ_INT(one(st, "SELECT sampling FROM vnd_meta WHERE trace = 'f1'"), 10,
                 "vnd_meta says 1 in 10");

    /* packets with a pattern applied at the table server */
    struct vnd_filter *m = vnd_filter_compile("tcp.dst = 80", "pattern", 1, 1, &err);
    CHECK(m != NULL, "pattern compiles");
    struct vnd_trace_opts o2 = {.id = "p1", .linktype = VND_DLT_EN10MB, .match = m,
                                .source = "test"};
    int t2 = vnd_ingest_add_trace(ing, &o2, &err);
    CHECK(t2 >= 0, "a trace with a pattern is added");
    uint8_t buf[VND_FRAME_MAX];
    for (int i = 0; i < 6; i++) {
        struct vnd_tcp_frame f = {.src = 0x0a000001, .dst = 0x0a000002, .sport = 5555,
                                  .dport = i % 2 ? 80 : 22, .seq = (uint32_t)i,
                                  .flags = VND_TCP_ACK, .ipid = (uint16_t)i};
        uint32_t n = vnd_frame_tcp(buf, &f);
        vnd_ingest_packet(ing, t2, 2000000000LL + i, buf, n, n);
    }
    CHECK(vnd_ingest_flush(ing, &err) == 0, "flush");
    CHECK_EQ_INT(one(st, "SELECT count(*) FROM p1"), 3, "only the pattern's packets stored");
    CHECK_EQ_INT(one(st, "SELECT packets_seen FROM vnd_meta WHERE trace = 'p1'"), 3,
                 "the others are not even seen");
    test_ipfix_records(ing, st);
    vnd_ingest_free(ing);
    vnd_parseconf_free(fc);
    vnd_filter_free(m);
    vnd_parseconf_free(pc);
    vnd_store_close(st);
    unlink(path);
    return tap_done();
}
