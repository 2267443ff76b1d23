/* test_ipfix.c — the IPFIX / NetFlow v9 reader on messages built here:
 * templates, options templates, withdrawal, unknown and expired
 * templates, redefinition, variable-length and enterprise fields, caps,
 * and every truncation point of a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/ipfix.h"
#include "synth/ipfix.h"
#include "../tap.h"

#define MAXF 64
static struct vnd_ipfix_flow got[MAXF];
static int ngot;

static void on_flow(void *ctx, const struct vnd_ipfix_flow *f)
{
    (void)ctx;
    if (ngot < MAXF)
        got[ngot] = *f;
    ngot++;
}

static struct vnd_ipfix_counts cnt;
static const char *why;

static int parse(struct vnd_ipfix_cache *c, const char *session, double now,
                 const uint8_t *p, size_t n)
{
    ngot = 0;
    why = NULL;
    return vnd_ipfix_parse(c, session, strlen(session), now, p, n, on_flow, NULL, &cnt, &why);
}

static struct vnd_ipfix_flow sample_flow(uint32_t k)
{
    struct vnd_ipfix_flow f;
    memset(&f, 0, sizeof f);
    f.obs_point = 7;
    f.direction = 0;
    memcpy(f.src_mac, "\x02\0\0\0\0\x01", 6);
    memcpy(f.dst_mac, "\x02\0\0\0\0\x02", 6);
    f.in_if = 12;
    f.proto = 6;
    memcpy(f.src, "\x0a\0\0\x06", 4);
    memcpy(f.dst, "\x0a\0\0\x08", 4);
    f.sport = (uint16_t)(40000 + k);
    f.dport = 5201;
    f.packets = 10 + k;
    f.l2_octets = 15140 + k;
    f.octets = 15000 + k;
    f.octets_sq = 22500000 + k;
    f.end_reason = 2;
    f.tcp_flags = 0x18;
    return f;
}

/* A template and `nrec` records of it, one message. */
static size_t ovs_message(struct vnd_ipfixw *w, uint32_t domain, int nrec)
{
    vnd_ipfixw_begin(w, 1700000000, 1, domain);
    vnd_ipfixw_ovs_template(w, 256);
    vnd_ipfixw_set(w, 256);
    for (int i = 0; i < nrec; i++) {
        struct vnd_ipfix_flow f = sample_flow((uint32_t)i);
        vnd_ipfixw_ovs_record(w, &f, 2000000, 500000);
    }
    return vnd_ipfixw_end(w);
}

static void test_ovs_template(void)
{
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(0, 0);
    static struct vnd_ipfixw w;
    size_t n = ovs_message(&w, 5, 3);
    CHECK(parse(c, "a", 100, w.buf, n) == 0, "an OVS-like message reads (%s)", why ? why : "");
    CHECK_EQ_INT(cnt.templates, 1, "one template");
    CHECK_EQ_INT(ngot, 3, "three records");
    const struct vnd_ipfix_flow *f = &got[1];
    CHECK_EQ_INT(f->domain, 5, "domain");
    CHECK_EQ_INT(f->obs_point, 7, "observationPointId");
    CHECK_EQ_INT(f->in_if, 12, "ingressInterface");
    CHECK_EQ_INT(f->proto, 6, "protocolIdentifier");
    CHECK_EQ_INT(f->sport, 40001, "sourceTransportPort");
    CHECK_EQ_INT(f->dport, 5201, "destinationTransportPort");
    CHECK(f->ip_version == 4 && !memcmp(f->src, "\x0a\0\0\x06", 4)
          && !memcmp(f->dst, "\x0a\0\0\x08", 4), "IPv4 addresses");
    CHECK(!memcmp(f->src_mac, "\x02\0\0\0\0\x01", 6), "source MAC");
    CHECK_EQ_INT((long long)f->packets, 11, "packetDeltaCount");
    CHECK_EQ_INT((long long)f->octets, 15001, "octetDeltaCount");
    CHECK_EQ_INT((long long)f->l2_octets, 15141, "layer2OctetDeltaCount");
    CHECK((long long)f->octets_sq == 22500001 && f->has & VND_IPFIX_HAS_OCTETS_SQ,
          "octetDeltaSumOfSquares");
    CHECK_EQ_INT(f->tcp_flags, 0x18, "tcpControlBits");
    CHECK_EQ_INT(f->end_reason, 2, "flowEndReason");
    CHECK((f->has & (VND_IPFIX_HAS_START | VND_IPFIX_HAS_END))
          == (VND_IPFIX_HAS_START | VND_IPFIX_HAS_END), "start and end resolved");
    CHECK_EQ_INT(f->start_ns, 1700000000LL * 1000000000 - 2000000000LL,
                 "start = export time - flowStartDeltaMicroseconds");
    CHECK_EQ_INT(f->end_ns, 1700000000LL * 1000000000 - 500000000LL, "end likewise");
    CHECK_EQ_INT(f->unknown_fields, 2, "the enterprise and the variable-length field skipped");

    /* the template stays: the next message's data alone reads */
    vnd_ipfixw_begin(&w, 1700000001, 2, 5);
    vnd_ipfixw_set(&w, 256);
    struct vnd_ipfix_flow s = sample_flow(9);
    vnd_ipfixw_ovs_record(&w, &s, 0, 0);
    n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "a", 101, w.buf, n) == 0 && ngot == 1 && got[0].sport == 40009,
          "a later data set uses the cached template");
    CHECK(parse(c, "b", 101, w.buf, n) == 0 && ngot == 0 && cnt.unknown_template == 1,
          "another exporter's session does not");
    /* another domain of the same exporter neither */
    w.buf[12] = 0;
    w.buf[15] = 6;
    CHECK(parse(c, "a", 101, w.buf, n) == 0 && ngot == 0 && cnt.unknown_template == 1,
          "nor another observation domain");
    w.buf[15] = 5;
    CHECK(parse(c, "a", 100 + 1801, w.buf, n) == 0 && ngot == 0 && cnt.unknown_template == 1,
          "an expired template (not refreshed for the timeout) is unknown");
    CHECK_EQ_INT(vnd_ipfix_cache_size(c), 0, "and gone from the cache");
    vnd_ipfix_cache_free(c);
}

static void test_unknown_first(void)
{
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(0, 0);
    static struct vnd_ipfixw w;
    vnd_ipfixw_begin(&w, 1700000000, 1, 1);
    vnd_ipfixw_set(&w, 300);
    vnd_ipfixw_u32(&w, 1);
    vnd_ipfixw_set(&w, 2);
    vnd_ipfixw_u16(&w, 300);
    vnd_ipfixw_u16(&w, 1);
    vnd_ipfixw_field(&w, 2, 4, 0);
    vnd_ipfixw_set(&w, 300);
    vnd_ipfixw_u32(&w, 42);
    vnd_ipfixw_u32(&w, 43);
    size_t n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "x", 1, w.buf, n) == 0, "reads");
    CHECK_EQ_INT(cnt.unknown_template, 1, "the data set before its template is counted");
    CHECK(ngot == 2 && got[0].packets == 42 && got[1].packets == 43,
          "the one after it is decoded (4-byte packetDeltaCount: reduced size)");

    /* redefinition: id 300 now has an 8-byte octet count */
    vnd_ipfixw_begin(&w, 1700000000, 2, 1);
    vnd_ipfixw_set(&w, 2);
    vnd_ipfixw_u16(&w, 300);
    vnd_ipfixw_u16(&w, 1);
    vnd_ipfixw_field(&w, 1, 8, 0);
    vnd_ipfixw_set(&w, 300);
    vnd_ipfixw_u64(&w, 123456789012ULL);
    n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "x", 2, w.buf, n) == 0 && ngot == 1 && got[0].octets == 123456789012ULL
          && !(got[0].has & VND_IPFIX_HAS_PACKETS), "a redefined template replaces the old");

    /* withdrawal of one, then of all */
    vnd_ipfixw_begin(&w, 1700000000, 3, 1);
    vnd_ipfixw_set(&w, 2);
    vnd_ipfixw_u16(&w, 300);
    vnd_ipfixw_u16(&w, 0);
    vnd_ipfixw_set(&w, 300);
    vnd_ipfixw_u64(&w, 1);
    n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "x", 3, w.buf, n) == 0 && cnt.withdrawals == 1 && ngot == 0
          && cnt.unknown_template == 1, "a withdrawn template's data is unknown");

    vnd_ipfixw_begin(&w, 1700000000, 4, 1);
    vnd_ipfixw_set(&w, 2);
    for (uint16_t id = 400; id < 403; id++) {
        vnd_ipfixw_u16(&w, id);
        vnd_ipfixw_u16(&w, 1);
        vnd_ipfixw_field(&w, 2, 8, 0);
    }
    n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "x", 4, w.buf, n) == 0 && cnt.templates == 3
          && vnd_ipfix_cache_size(c) == 3, "three templates in one set");
    vnd_ipfixw_begin(&w, 1700000000, 5, 1);
    vnd_ipfixw_set(&w, 2);
    vnd_ipfixw_u16(&w, 2);
    vnd_ipfixw_u16(&w, 0);
    n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "x", 5, w.buf, n) == 0 && vnd_ipfix_cache_size(c) == 0,
          "template id 2 with no fields withdraws every template of the domain");
    vnd_ipfix_cache_free(c);
}

static void test_options_and_variable(void)
{
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(0, 0);
    static struct vnd_ipfixw w;
    vnd_ipfixw_begin(&w, 1700000000, 1, 1);
    vnd_ipfixw_set(&w, 3);              /* OVS's exporter statistics */
    vnd_ipfixw_u16(&w, 257);
    vnd_ipfixw_u16(&w, 2);
    vnd_ipfixw_u16(&w, 1);
    vnd_ipfixw_field(&w, 144, 4, 0);    /* exportingProcessId (scope) */
    vnd_ipfixw_field(&w, 167, 8, 0);    /* notSentPacketTotalCount */
    vnd_ipfixw_set(&w, 257);
    vnd_ipfixw_u32(&w, 1);
    vnd_ipfixw_u64(&w, 0);
    /* a template with variable-length and enterprise fields around the
     * ones read */
    vnd_ipfixw_set(&w, 2);
    vnd_ipfixw_u16(&w, 258);
    vnd_ipfixw_u16(&w, 5);
    vnd_ipfixw_field(&w, 82, 65535, 0);
    vnd_ipfixw_field(&w, 7, 2, 0);
    vnd_ipfixw_field(&w, 9999, 65535, 29305);
    vnd_ipfixw_field(&w, 11, 2, 0);
    vnd_ipfixw_field(&w, 27, 16, 0);
    vnd_ipfixw_set(&w, 258);
    static const uint8_t v6[16] = {0xfe, 0x80, [15] = 1};
    uint8_t big[300];
    memset(big, 'x', sizeof big);
    vnd_ipfixw_u8(&w, 3);               /* short form */
    vnd_ipfixw_bytes(&w, "eth", 3);
    vnd_ipfixw_u16(&w, 1111);
    vnd_ipfixw_u8(&w, 255);             /* long form: 255, then 2 bytes */
    vnd_ipfixw_u16(&w, sizeof big);
    vnd_ipfixw_bytes(&w, big, sizeof big);
    vnd_ipfixw_u16(&w, 2222);
    vnd_ipfixw_bytes(&w, v6, 16);
    vnd_ipfixw_u8(&w, 0);               /* empty variable field */
    vnd_ipfixw_u16(&w, 3333);
    vnd_ipfixw_u8(&w, 0);
    vnd_ipfixw_u16(&w, 4444);
    vnd_ipfixw_bytes(&w, v6, 16);
    vnd_ipfixw_u8(&w, 0);               /* padding (shorter than a record) */
    size_t n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "v", 1, w.buf, n) == 0, "reads (%s)", why ? why : "");
    CHECK_EQ_INT(cnt.options_templates, 1, "an options template");
    CHECK_EQ_INT(cnt.options_records, 1, "its record read, not handed over");
    CHECK_EQ_INT(ngot, 2, "two flow records");
    CHECK(got[0].sport == 1111 && got[0].dport == 2222 && got[0].ip_version == 6
          && !memcmp(got[0].src, v6, 16), "fields after 3- and 300-byte variable ones");
    CHECK(got[1].sport == 3333 && got[1].dport == 4444, "and after empty ones");
    CHECK_EQ_INT(got[0].unknown_fields, 2, "the variable and enterprise fields skipped");

    /* a variable-length field that claims more than the set has */
    vnd_ipfixw_begin(&w, 1700000000, 2, 1);
    vnd_ipfixw_set(&w, 258);
    vnd_ipfixw_u8(&w, 200);
    vnd_ipfixw_bytes(&w, big, 30);      /* longer than a record's least */
    n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "v", 2, w.buf, n) == -1 && ngot == 0, "a variable length that lies: "
          "malformed (%s)", why ? why : "");
    vnd_ipfix_cache_free(c);
}

static void test_refused_and_caps(void)
{
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(2, 0);
    static struct vnd_ipfixw w;
    vnd_ipfixw_begin(&w, 1700000000, 1, 1);
    vnd_ipfixw_set(&w, 2);
    vnd_ipfixw_u16(&w, 500);            /* too many fields */
    vnd_ipfixw_u16(&w, VND_IPFIX_FIELDS_MAX + 1);
    for (int i = 0; i <= VND_IPFIX_FIELDS_MAX; i++)
        vnd_ipfixw_field(&w, 2, 1, 0);
    vnd_ipfixw_u16(&w, 501);            /* a field of no bytes */
    vnd_ipfixw_u16(&w, 1);
    vnd_ipfixw_field(&w, 2, 0, 0);
    vnd_ipfixw_u16(&w, 100);            /* a data id below 256 */
    vnd_ipfixw_u16(&w, 1);
    vnd_ipfixw_field(&w, 2, 4, 0);
    vnd_ipfixw_set(&w, 3);              /* options: scope count 0 */
    vnd_ipfixw_u16(&w, 502);
    vnd_ipfixw_u16(&w, 1);
    vnd_ipfixw_u16(&w, 0);
    vnd_ipfixw_field(&w, 2, 4, 0);
    vnd_ipfixw_set(&w, 500);
    vnd_ipfixw_u32(&w, 0);
    vnd_ipfixw_set(&w, 77);             /* reserved set id */
    vnd_ipfixw_u32(&w, 0);
    size_t n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "r", 1, w.buf, n) == 0, "reads (%s)", why ? why : "");
    CHECK_EQ_INT(cnt.refused_templates, 4, "four unusable templates refused");
    CHECK_EQ_INT(cnt.unknown_template, 1, "the refused template's data is unknown");
    CHECK_EQ_INT(cnt.skipped_sets, 1, "a reserved set id skipped");
    CHECK_EQ_INT(vnd_ipfix_cache_size(c), 0, "nothing cached");

    for (uint16_t id = 256; id < 259; id++) {
        vnd_ipfixw_begin(&w, 1700000000, id, 1);
        vnd_ipfixw_set(&w, 2);
        vnd_ipfixw_u16(&w, id);
        vnd_ipfixw_u16(&w, 1);
        vnd_ipfixw_field(&w, 2, 4, 0);
        n = vnd_ipfixw_end(&w);
        parse(c, "r", id, w.buf, n);
    }
    CHECK_EQ_INT(vnd_ipfix_cache_size(c), 2, "the cache holds at most its cap");
    vnd_ipfixw_begin(&w, 1700000000, 9, 1);
    vnd_ipfixw_set(&w, 256);
    vnd_ipfixw_u32(&w, 5);
    vnd_ipfixw_set(&w, 258);
    vnd_ipfixw_u32(&w, 6);
    n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "r", 300, w.buf, n) == 0 && cnt.unknown_template == 1 && ngot == 1
          && got[0].packets == 6, "the least recently refreshed template went");

    /* sets: past the message, shorter than a header, too many */
    vnd_ipfixw_begin(&w, 1700000000, 1, 1);
    vnd_ipfixw_set(&w, 256);
    vnd_ipfixw_u32(&w, 1);
    n = vnd_ipfixw_end(&w);
    w.buf[19] = 200;
    CHECK(parse(c, "r", 1, w.buf, n) == -1, "a set longer than the message: %s", why);
    w.buf[19] = 2;
    CHECK(parse(c, "r", 1, w.buf, n) == -1, "a set shorter than its header: %s", why);
    vnd_ipfixw_begin(&w, 1700000000, 1, 1);
    for (int i = 0; i <= VND_IPFIX_SETS_MAX; i++)
        vnd_ipfixw_set(&w, 77);
    n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "r", 1, w.buf, n) == -1, "more than %d sets: %s", VND_IPFIX_SETS_MAX, why);
    w.buf[1] = 11;
    CHECK(parse(c, "r", 1, w.buf, n) == -1, "version 11: %s", why);
    CHECK(parse(c, "r", 1, NULL, 0) == -1, "nothing: %s", why);
    vnd_ipfix_cache_free(c);
}

static void test_truncation(void)
{
    /* every prefix of a message, with the header's length made to agree
     * (the deepest checks) and as it was (the header's) */
    static struct vnd_ipfixw w;
    size_t n = ovs_message(&w, 1, 2);
    static uint8_t cut[65535];
    int malformed = 0, fewer = 0, bad_len = 0;
    for (size_t k = 0; k < n; k++) {
        struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(0, 0);
        memcpy(cut, w.buf, k);
        if (k >= 4) {
            cut[2] = (uint8_t)(k >> 8);
            cut[3] = (uint8_t)k;
        }
        int rc = parse(c, "t", 1, cut, k);
        malformed += rc == -1;
        fewer += rc == 0 && ngot < 2;
        vnd_ipfix_cache_free(c);
        c = vnd_ipfix_cache_new(0, 0);
        bad_len += parse(c, "t", 1, w.buf, k) == -1;
        vnd_ipfix_cache_free(c);
    }
    CHECK_EQ_INT(malformed + fewer, (long long)n, "every cut of %zu bytes: malformed or fewer "
                 "records (%d malformed)", n, malformed);
    CHECK(malformed > (int)n / 2, "most cuts are malformed");
    CHECK_EQ_INT(bad_len, (long long)n, "every cut is shorter than its header says");
}

static void test_v9(void)
{
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(0, 0);
    static struct vnd_ipfixw w;
    vnd_ipfixw_begin_v9(&w, 100000, 1700000000, 1, 3);
    vnd_ipfixw_set(&w, 0);
    vnd_ipfixw_u16(&w, 260);
    vnd_ipfixw_u16(&w, 7);
    vnd_ipfixw_field(&w, 8, 4, 0);
    vnd_ipfixw_field(&w, 12, 4, 0);
    vnd_ipfixw_field(&w, 4, 1, 0);
    vnd_ipfixw_field(&w, 1, 4, 0);
    vnd_ipfixw_field(&w, 2, 4, 0);
    vnd_ipfixw_field(&w, 22, 4, 0);     /* FIRST_SWITCHED */
    vnd_ipfixw_field(&w, 21, 4, 0);     /* LAST_SWITCHED */
    vnd_ipfixw_u16(&w, 0);              /* padding */
    vnd_ipfixw_set(&w, 1);              /* options: sampling interval */
    vnd_ipfixw_u16(&w, 261);
    vnd_ipfixw_u16(&w, 4);
    vnd_ipfixw_u16(&w, 4);
    vnd_ipfixw_field(&w, 1, 2, 0);      /* scope: system */
    vnd_ipfixw_field(&w, 34, 4, 0);
    vnd_ipfixw_set(&w, 261);
    vnd_ipfixw_u16(&w, 0);
    vnd_ipfixw_u32(&w, 100);
    vnd_ipfixw_set(&w, 260);
    vnd_ipfixw_bytes(&w, "\x0a\0\0\x01\x0a\0\0\x02\x11", 9);
    vnd_ipfixw_u32(&w, 5000);
    vnd_ipfixw_u32(&w, 5);
    vnd_ipfixw_u32(&w, 90000);
    vnd_ipfixw_u32(&w, 99000);
    vnd_ipfixw_bytes(&w, "\0\0\0", 3);  /* padding */
    size_t n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "n", 1, w.buf, n) == 0, "a NetFlow v9 packet reads (%s)", why ? why : "");
    CHECK(cnt.templates == 1 && cnt.options_templates == 1 && cnt.options_records == 1,
          "template, options template and its record");
    CHECK(ngot == 1 && got[0].version == 9 && got[0].proto == 17 && got[0].octets == 5000
          && got[0].packets == 5 && got[0].domain == 3, "the flow record");
    CHECK_EQ_INT(got[0].start_ns, 1700000000LL * 1000000000 - 10000LL * 1000000,
                 "FIRST_SWITCHED: 10 s before the export (up time 100 s, switched at 90 s)");
    CHECK_EQ_INT(got[0].end_ns, 1700000000LL * 1000000000 - 1000LL * 1000000, "LAST_SWITCHED");
    vnd_ipfix_cache_free(c);
}

/* octetDeltaSumOfSquares (198) before octetTotalSumOfSquares (199), in
 * either order of the template; the total alone when no delta is sent. */
static void test_sum_of_squares(void)
{
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(0, 0);
    static struct vnd_ipfixw w;
    static const uint16_t orders[3][2] = {{198, 199}, {199, 198}, {199, 0}};
    for (int k = 0; k < 3; k++) {
        int nf = orders[k][1] ? 2 : 1;
        vnd_ipfixw_begin(&w, 1700000000, (uint32_t)k, 1);
        vnd_ipfixw_set(&w, 2);
        vnd_ipfixw_u16(&w, 410);
        vnd_ipfixw_u16(&w, (uint16_t)(nf + 1));
        vnd_ipfixw_field(&w, 138, 4, 0);
        for (int i = 0; i < nf; i++)
            vnd_ipfixw_field(&w, orders[k][i], 8, 0);
        vnd_ipfixw_set(&w, 410);
        vnd_ipfixw_u32(&w, 9);
        for (int i = 0; i < nf; i++)
            vnd_ipfixw_u64(&w, orders[k][i] == 198 ? 4500000 : 99000000);
        size_t n = vnd_ipfixw_end(&w);
        parse(c, "q", 1, w.buf, n);
        uint64_t want = k < 2 ? 4500000 : 99000000;
        CHECK(ngot == 1 && got[0].has & VND_IPFIX_HAS_OCTETS_SQ && got[0].octets_sq == want,
              "sum of squares, IEs %u then %u: %llu", orders[k][0], orders[k][1],
              (unsigned long long)want);
    }
    vnd_ipfix_cache_free(c);
}

/* An integer IE at each length RFC 7011's reduced-size encoding allows
 * for it, beside the parser's one-load cases (1/1, 2/2, 4/4, 8/8 and 4 in
 * 8 bytes): octetDeltaCount (8 bytes) in 1 to 8, sourceTransportPort (2)
 * in 1 and 2, ingressInterface (4) in 1 to 4, observationPointId (8) in
 * 4 and 8, protocolIdentifier (1) in 1: each value as its bytes say */
static void test_integer_widths(void)
{
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(0, 0);
    static struct vnd_ipfixw w;
    static const uint8_t bytes[8] = {0x81, 0x72, 0x63, 0x54, 0x45, 0x36, 0x27, 0x18};
    int wrong = 0, tried = 0;
    struct { uint16_t ie, len; } cases[] = {
        {1, 1}, {1, 2}, {1, 3}, {1, 4}, {1, 5}, {1, 6}, {1, 7}, {1, 8}, {7, 1}, {7, 2},
        {10, 1}, {10, 2}, {10, 3}, {10, 4}, {138, 4}, {138, 8}, {4, 1},
        {198, 3}, {198, 8}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint16_t ie = cases[k].ie, len = cases[k].len;
        vnd_ipfixw_begin(&w, 1700000000, (uint32_t)k, 1);
        vnd_ipfixw_set(&w, 2);
        vnd_ipfixw_u16(&w, 400);
        vnd_ipfixw_u16(&w, 2);
        vnd_ipfixw_field(&w, 138, 4, 0);       /* a record needs its point */
        vnd_ipfixw_field(&w, ie, len, 0);
        vnd_ipfixw_set(&w, 400);
        vnd_ipfixw_u32(&w, 9);
        vnd_ipfixw_bytes(&w, bytes, len);
        size_t n = vnd_ipfixw_end(&w);
        uint64_t want = 0;
        for (int i = 0; i < len; i++)
            want = want << 8 | bytes[i];
        parse(c, "w", 1, w.buf, n);
        uint64_t have = ngot != 1 ? ~0ULL
                        : ie == 1   ? got[0].octets
                        : ie == 7   ? got[0].sport
                        : ie == 10  ? got[0].in_if
                        : ie == 138 ? got[0].obs_point
                        : ie == 198 ? got[0].octets_sq
                                    : got[0].proto;
        tried++;
        if (have != want) {
            wrong++;
            printf("# IE %u in %u bytes: %llx, not %llx\n", ie, len, (unsigned long long)have,
                   (unsigned long long)want);
        }
    }
    CHECK_EQ_INT(wrong, 0, "%d integer fields of 1 to 8 bytes read as their bytes say", tried);
    vnd_ipfix_cache_free(c);
}

/* `count` one-field templates (packetDeltaCount, 4 bytes) from id `first`,
 * one message. */
static size_t template_message(struct vnd_ipfixw *w, uint16_t first, int count)
{
    vnd_ipfixw_begin(w, 1700000000, first, 1);
    vnd_ipfixw_set(w, 2);
    for (int i = 0; i < count; i++) {
        vnd_ipfixw_u16(w, (uint16_t)(first + i));
        vnd_ipfixw_u16(w, 1);
        vnd_ipfixw_field(w, 2, 4, 0);
    }
    return vnd_ipfixw_end(w);
}

/* A record of one-field template `id`, `packets` its value. */
static size_t record_message(struct vnd_ipfixw *w, uint16_t id, uint32_t packets)
{
    vnd_ipfixw_begin(w, 1700000000, 1, 1);
    vnd_ipfixw_set(w, id);
    vnd_ipfixw_u32(w, packets);
    return vnd_ipfixw_end(w);
}

/* The records a message of one record of template `id` from `session`
 * gave (-1: malformed). */
static int records_of(struct vnd_ipfix_cache *c, const char *session, double now, uint16_t id)
{
    static struct vnd_ipfixw w;
    size_t n = record_message(&w, id, 7);
    return parse(c, session, now, w.buf, n) == 0 ? ngot : -1;
}

/* 70 templates (ids 256..325) from each of 10 sessions PREFIX0..9, one
 * message each, at `now`, now + 1, ... */
static void ten_sessions(struct vnd_ipfix_cache *c, const char *prefix, double now)
{
    static struct vnd_ipfixw w;
    char name[16];
    for (int k = 0; k < 10; k++) {
        snprintf(name, sizeof name, "%s%d", prefix, k);
        size_t n = template_message(&w, 256, 70);
        parse(c, name, now + k, w.buf, n);
    }
}

/* An exporter sending ever new templates evicts its own, not another's:
 * each session holds at most its share (512 of the default 4,096), and a
 * full cache lets its least recently refreshed go. */
static void test_session_share(void)
{
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(0, 0);
    static struct vnd_ipfixw w;
    size_t n = ovs_message(&w, 1, 2);
    CHECK(parse(c, "ovs", 100, w.buf, n) == 0 && ngot == 2, "an exporter's template and records");
    uint32_t templates = 0;
    for (int m = 0; m < 50; m++) {
        n = template_message(&w, (uint16_t)(256 + 100 * m), 100);
        parse(c, "flood", 101 + m, w.buf, n);
        templates += cnt.templates;
    }
    CHECK_EQ_INT(templates, 5000, "another sends 5,000 templates");
    CHECK_EQ_INT(vnd_ipfix_cache_size(c), 1 + 512, "it holds its share, 512, the first its one");
    CHECK_EQ_INT(vnd_ipfix_cache_evicted(c), 5000 - 512, "the rest of its own were evicted");
    /* its records alone, the template not sent again */
    vnd_ipfixw_begin(&w, 1700000000, 2, 1);
    vnd_ipfixw_set(&w, 256);
    for (uint32_t i = 0; i < 3; i++) {
        struct vnd_ipfix_flow f = sample_flow(i);
        vnd_ipfixw_ovs_record(&w, &f, 2000000, 500000);
    }
    n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "ovs", 151, w.buf, n) == 0 && ngot == 3 && cnt.unknown_template == 0,
          "the first exporter's template is still there");
    n = record_message(&w, 256 + 4999, 42);
    CHECK(parse(c, "flood", 152, w.buf, n) == 0 && ngot == 1 && got[0].packets == 42,
          "the flood's newest template is kept");
    n = record_message(&w, 256 + 4999 - 512, 43);
    CHECK(parse(c, "flood", 152, w.buf, n) == 0 && ngot == 0 && cnt.unknown_template == 1,
          "its 513th newest went");
    /* withdrawing all of a session's templates: the other's stay */
    vnd_ipfixw_begin(&w, 1700000000, 2, 1);
    vnd_ipfixw_set(&w, 2);
    vnd_ipfixw_u16(&w, 2);
    vnd_ipfixw_u16(&w, 0);
    n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "flood", 153, w.buf, n) == 0 && cnt.withdrawals == 1
          && vnd_ipfix_cache_size(c) == 1, "the flood withdraws all of its own: one left");
    vnd_ipfix_cache_free(c);

    /* a full cache: 10 sessions of 70 templates in a cache of 600 (75 a
     * session); the 100 least recently refreshed went, the first
     * session's oldest first */
    c = vnd_ipfix_cache_new(600, 0);
    ten_sessions(c, "s", 200);
    CHECK_EQ_INT(vnd_ipfix_cache_size(c), 600, "a full cache holds its cap");
    CHECK_EQ_INT(vnd_ipfix_cache_evicted(c), 100, "and evicted the 100 more");
    CHECK(records_of(c, "s0", 300, 256 + 69) == 0, "the first session's templates went");
    CHECK(records_of(c, "s1", 300, 256 + 69) == 1, "the second's newest stayed");
    CHECK(records_of(c, "s1", 300, 256 + 29) == 0, "its 30 oldest went");
    CHECK(records_of(c, "s9", 300, 256) == 1, "the last session has all of its own");
    vnd_ipfix_cache_free(c);
}

/* A full cache evicts the templates no data set has used before those in
 * use: a flood from many ports, each within its share, does not take an
 * exporter's template whose records keep coming. */
static void test_used_go_last(void)
{
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(600, 0);
    static struct vnd_ipfixw w;
    size_t n = ovs_message(&w, 1, 2);
    CHECK(parse(c, "ovs", 100, w.buf, n) == 0 && ngot == 2, "an exporter's template, used");
    ten_sessions(c, "port", 101);
    CHECK_EQ_INT(vnd_ipfix_cache_size(c), 600, "10 ports' 700 templates fill the cache");
    vnd_ipfixw_begin(&w, 1700000000, 2, 1);
    vnd_ipfixw_set(&w, 256);
    struct vnd_ipfix_flow f = sample_flow(0);
    vnd_ipfixw_ovs_record(&w, &f, 2000000, 500000);
    n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "ovs", 120, w.buf, n) == 0 && ngot == 1 && cnt.unknown_template == 0,
          "the exporter's template, the oldest, stayed: it is in use");
    CHECK(records_of(c, "port1", 121, 256 + 100) == 0, "the unused oldest went instead");
    vnd_ipfix_cache_free(c);

    /* all in use: the oldest in use goes; a resend stays in use */
    c = vnd_ipfix_cache_new(64, 0);
    n = template_message(&w, 256, 64);
    parse(c, "a", 1, w.buf, n);
    int used = 0;
    for (int i = 0; i < 64; i++)
        used += records_of(c, "a", 2, (uint16_t)(256 + i));
    CHECK_EQ_INT(used, 64, "64 templates, each used");
    /* one template each from b, a (its next oldest, sent again), c, d */
    static const struct { const char *session; uint16_t id; } sent[] = {
        {"b", 400}, {"a", 257}, {"c", 500}, {"d", 600}};
    for (int i = 0; i < 4; i++) {
        n = template_message(&w, sent[i].id, 1);
        parse(c, sent[i].session, 3 + i, w.buf, n);
        if (i == 0)
            CHECK(records_of(c, "a", 4, 256) == 0, "a full cache of used ones: the oldest went");
    }
    CHECK(records_of(c, "a", 8, 257) == 1, "a template sent again stays in use");
    CHECK(records_of(c, "b", 8, 400) == 0, "the unused ones went first");
    vnd_ipfix_cache_free(c);
}

/* A total count beside its delta: the delta is the record's whatever
 * the order and whichever is of variable length; a total alone is read.
 * Fields around variable-length ones read at their places, and an
 * address of the other version than the record's first not read. */
static void test_totals_and_segments(void)
{
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(0, 0);
    static struct vnd_ipfixw w;
    /* IE 1 octetDeltaCount, 85 octetTotalCount; len 65535: variable */
    struct { uint16_t ie[2], len[2]; uint64_t want; const char *what; } cases[] = {
        {{85, 1}, {8, 8}, 111, "total, then delta: the delta"},
        {{1, 85}, {8, 8}, 111, "delta, then total: the delta"},
        {{85, 1}, {8, 65535}, 111, "total, then a variable delta: the delta"},
        {{1, 85}, {65535, 8}, 111, "a variable delta, then total: the delta"},
        {{85, 85}, {4, 8}, 222, "totals alone: the last"},
    };
    int wrong = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        vnd_ipfixw_begin(&w, 1700000000, (uint32_t)k, 1);
        vnd_ipfixw_set(&w, 2);
        vnd_ipfixw_u16(&w, (uint16_t)(300 + k));
        vnd_ipfixw_u16(&w, 3);
        vnd_ipfixw_field(&w, 138, 4, 0);
        for (int i = 0; i < 2; i++)
            vnd_ipfixw_field(&w, cases[k].ie[i], cases[k].len[i], 0);
        vnd_ipfixw_set(&w, (uint16_t)(300 + k));
        vnd_ipfixw_u32(&w, 9);
        for (int i = 0; i < 2; i++) {
            uint64_t v = cases[k].ie[i] == 1 ? 111 : 222;
            if (cases[k].len[i] == 65535) {
                vnd_ipfixw_u8(&w, 8);
                vnd_ipfixw_u64(&w, v);
            } else if (cases[k].len[i] == 4) {
                vnd_ipfixw_u32(&w, (uint32_t)v);
            } else {
                vnd_ipfixw_u64(&w, v);
            }
        }
        size_t n = vnd_ipfixw_end(&w);
        parse(c, "t", 1, w.buf, n);
        if (ngot != 1 || !(got[0].has & VND_IPFIX_HAS_OCTETS) || got[0].octets != cases[k].want) {
            wrong++;
            printf("# %s: %d records, octets %llu\n", cases[k].what, ngot,
                   ngot ? (unsigned long long)got[0].octets : 0ULL);
        }
    }
    CHECK_EQ_INT(wrong, 0, "totals beside deltas in %zu orders and lengths",
                 sizeof cases / sizeof cases[0]);

    /* point | IPv4 src | variable | IPv6 dst | enterprise | ports | variable | packets */
    vnd_ipfixw_begin(&w, 1700000000, 9, 1);
    vnd_ipfixw_set(&w, 2);
    static const struct { uint16_t ie, len; uint32_t pen; } fields[] = {
        {138, 4, 0}, {8, 4, 0}, {82, 65535, 0}, {28, 16, 0}, {100, 4, 32473}, {7, 2, 0},
        {11, 2, 0}, {83, 65535, 0}, {2, 8, 0}};
    vnd_ipfixw_u16(&w, 310);
    vnd_ipfixw_u16(&w, sizeof fields / sizeof *fields);
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        vnd_ipfixw_field(&w, fields[i].ie, fields[i].len, fields[i].pen);
    vnd_ipfixw_set(&w, 310);
    static const uint8_t v6[16] = {0xfe, 0x80, [15] = 1};
    for (uint32_t r = 0; r < 2; r++) {
        vnd_ipfixw_u32(&w, 5 + r);
        vnd_ipfixw_bytes(&w, "\x0a\0\0\x01", 4);
        vnd_ipfixw_u8(&w, (uint8_t)(r ? 0 : 4));
        if (!r)
            vnd_ipfixw_bytes(&w, "eth0", 4);
        vnd_ipfixw_bytes(&w, v6, 16);
        vnd_ipfixw_u32(&w, 0xdeadbeef);
        vnd_ipfixw_u16(&w, (uint16_t)(1000 + r));
        vnd_ipfixw_u16(&w, 80);
        vnd_ipfixw_u8(&w, (uint8_t)(r ? 2 : 0));
        if (r)
            vnd_ipfixw_bytes(&w, "ab", 2);
        vnd_ipfixw_u64(&w, 70 + r);
    }
    size_t n = vnd_ipfixw_end(&w);
    CHECK(parse(c, "t", 1, w.buf, n) == 0 && ngot == 2, "two records around variable fields "
          "(%d, %s)", ngot, why ? why : "");
    bool ok = ngot == 2;
    for (int r = 0; r < 2 && ok; r++)
        ok = got[r].obs_point == (uint64_t)(5 + r) && got[r].ip_version == 4
             && !memcmp(got[r].src, "\x0a\0\0\x01", 4) && !(got[r].has & VND_IPFIX_HAS_DST)
             && got[r].sport == 1000 + r && got[r].dport == 80 && got[r].packets == (uint64_t)(70 + r)
             && got[r].unknown_fields == 4;
    CHECK(ok, "each field at its place; the IPv6 address beside an IPv4 one not read; "
          "4 fields unknown");
    vnd_ipfix_cache_free(c);
}

int main(void)
{
    test_ovs_template();
    test_integer_widths();
    test_sum_of_squares();
    test_totals_and_segments();
    test_unknown_first();
    test_options_and_variable();
    test_refused_and_caps();
    test_session_share();
    test_used_go_last();
    test_truncation();
    test_v9();
    return tap_done();
}
