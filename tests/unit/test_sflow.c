/* test_sflow.c — the sFlow v5 reader on datagrams built here
 * (synth/sflow.h): flow samples compact and expanded with their header
 * bytes and padding, counter samples with every counter, IPv4 and IPv6
 * agents, samples and records of other formats skipped by their length,
 * and the malformed forms: another version, an unknown agent type,
 * lengths that lie, a sample count past the datagram, every truncation
 * point (the sanitizer build says no read goes past the end). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/sflow.h"
#include "synth/sflow.h"
#include "../tap.h"

#define MAXS 16
static struct vnd_sflow_flow flows[MAXS];
static uint8_t headers[MAXS][256];
static struct vnd_sflow_datagram dgrams[MAXS];
static struct vnd_ifcounters counters[MAXS];
static int nflows, ncounters;

static void on_flow(void *ctx, const struct vnd_sflow_datagram *d, const struct vnd_sflow_flow *f)
{
    (void)ctx;
    if (nflows < MAXS) {
        flows[nflows] = *f;
        dgrams[nflows] = *d;
        memcpy(headers[nflows], f->header, f->header_length < 256 ? f->header_length : 256);
    }
    nflows++;
}

static void on_counters(void *ctx, const struct vnd_sflow_datagram *d,
                        const struct vnd_ifcounters *c)
{
    (void)ctx;
    (void)d;
    if (ncounters < MAXS)
        counters[ncounters] = *c;
    ncounters++;
}

static const struct vnd_sflow_handler handler = {on_flow, on_counters, NULL};
static struct vnd_sflow_counts cnt;
static const char *why;

static int parse(const uint8_t *p, size_t n)
{
    nflows = ncounters = 0;
    why = NULL;
    return vnd_sflow_parse(p, n, &handler, &cnt, &why);
}

static uint8_t header65[65];

static struct vnd_sflow_flow sample(uint32_t k, uint32_t hlen)
{
    for (size_t i = 0; i < sizeof header65; i++)
        header65[i] = (uint8_t)(i * 7 + k);
    return (struct vnd_sflow_flow){
        .sequence = 1000 + k, .source_class = 0, .source_index = 0x123456 + k,
        .sampling_rate = 100 * (k + 1), .sample_pool = 5000000 + k, .drops = k,
        .in_format = VND_SFLOW_IF_INDEX, .in_value = 0x3ffffff0 + k,
        .out_format = k % 2 ? VND_SFLOW_IF_MULTIPLE : VND_SFLOW_IF_DROPPED, .out_value = 3 + k,
        .header_protocol = 1, .frame_length = 1518 + k, .stripped = 4,
        .header_length = hlen, .header = header65};
}

static struct vnd_ifcounters iface(uint32_t k)
{
    return (struct vnd_ifcounters){
        .if_index = 7 + k, .if_type = 6, .if_direction = 1, .if_status = 3,
        .if_speed = 10000000000ULL, .in_octets = 0x123456789abcULL + k,
        .out_octets = 0xfedcba987654ULL + k, .in_ucast = 11, .in_mcast = 12, .in_bcast = 13,
        .in_discards = 14, .in_errors = 15, .in_unknown = 16, .out_ucast = 21,
        .out_mcast = 22, .out_bcast = 23, .out_discards = 24, .out_errors = 25,
        .promiscuous = 1, .sequence = 900 + k};
}

static bool same_flow(const struct vnd_sflow_flow *a, const struct vnd_sflow_flow *b,
                      const uint8_t *bytes)
{
    return a->sequence == b->sequence && a->source_class == b->source_class
           && a->source_index == b->source_index && a->sampling_rate == b->sampling_rate
           && a->sample_pool == b->sample_pool && a->drops == b->drops
           && a->in_format == b->in_format && a->in_value == b->in_value
           && a->out_format == b->out_format && a->out_value == b->out_value
           && a->header_protocol == b->header_protocol && a->frame_length == b->frame_length
           && a->stripped == b->stripped && a->header_length == b->header_length
           && !memcmp(bytes, b->header, b->header_length);
}

static bool same_counters(const struct vnd_ifcounters *a, const struct vnd_ifcounters *b,
                          uint32_t uptime)
{
    struct vnd_ifcounters want = *b;
    want.agent_uptime_ms = uptime;
    return !memcmp(a, &want, sizeof want);
}

/* A datagram of every kind: agent af, compact and expanded flow samples
 * (one with 65 header bytes: padding), both counter samples, and samples
 * and records of formats the reader does not know between them. */
static size_t mixed(struct vnd_ipfixw *w, int af)
{
    struct vnd_sflow_datagram d = {.agent_af = (uint32_t)af, .sub_agent = 3, .sequence = 77,
                                   .uptime_ms = 123456, .nsamples = 6};
    for (int i = 0; i < 16; i++)
        d.agent[i] = (uint8_t)(0x20 + i);
    vnd_sflow_begin(w, &d);
    struct vnd_sflow_flow f0 = sample(0, 65), f1 = sample(1, 64);
    vnd_sflow_flow_sample(w, false, &f0);
    /* an enterprise's sample (enterprise 9, format 1): skipped whole */
    vnd_ipfixw_u32(w, 9 << 12 | 1);
    vnd_ipfixw_u32(w, 8);
    vnd_ipfixw_u64(w, 0xdeadbeefdeadbeefULL);
    vnd_sflow_flow_sample(w, true, &f1);
    struct vnd_ifcounters k0 = iface(0), k1 = iface(1);
    vnd_sflow_counter_sample(w, false, 0, 7, &k0);
    vnd_sflow_counter_sample(w, true, 0, 8, &k1);
    /* a flow sample whose one record is an extended switch record (1001):
     * the sample is read, its record skipped, no flow handed over */
    vnd_ipfixw_u32(w, 1);
    vnd_ipfixw_u32(w, 28 + 4 + 8 + 16);
    for (int i = 0; i < 7; i++)
        vnd_ipfixw_u32(w, (uint32_t)i);
    vnd_ipfixw_u32(w, 1);
    vnd_ipfixw_u32(w, 1001);
    vnd_ipfixw_u32(w, 16);
    vnd_ipfixw_u64(w, 1);
    vnd_ipfixw_u64(w, 2);
    return w->n;
}

static void test_mixed(void)
{
    static struct vnd_ipfixw w;
    for (int af = 4; af <= 6; af += 2) {
        size_t n = mixed(&w, af);
        CHECK(!w.overflow, "IPv%d agent: the datagram is built (%zu bytes)", af, n);
        CHECK_EQ_INT(parse(w.buf, n), 0, "IPv%d agent: the datagram reads whole (%s)", af,
                     why ? why : "");
        CHECK_EQ_INT(nflows, 2, "... two flow samples handed over");
        CHECK_EQ_INT(ncounters, 2, "... two counter samples handed over");
        CHECK_EQ_INT(cnt.flows * 100 + cnt.counters * 10 + cnt.skipped, 222,
                     "... counted: 2 flows, 2 counters, 2 skipped (a sample, a record)");
        struct vnd_sflow_flow f0 = sample(0, 65), f1 = sample(1, 64);
        CHECK(same_flow(&flows[0], &f0, headers[0]),
              "... a compact flow sample: every field, 65 header bytes (padded to 68)");
        CHECK(same_flow(&flows[1], &f1, headers[1]),
              "... an expanded one after it: every field, its header bytes");
        uint8_t agent[16];
        for (int i = 0; i < 16; i++)
            agent[i] = (uint8_t)(0x20 + i);
        CHECK(dgrams[0].agent_af == (uint32_t)af && !memcmp(dgrams[0].agent, agent, af == 4 ? 4 : 16)
                  && dgrams[0].sub_agent == 3 && dgrams[0].sequence == 77
                  && dgrams[0].uptime_ms == 123456 && dgrams[0].nsamples == 6,
              "... the datagram's header: agent, sub-agent, sequence, uptime, count");
        struct vnd_ifcounters k0 = iface(0), k1 = iface(1);
        CHECK(same_counters(&counters[0], &k0, 123456) && same_counters(&counters[1], &k1, 123456),
              "... both counter samples: every counter, 64-bit octets whole, the sample's sequence");
    }
}

/* Every cut of a datagram: read up to the cut, then malformed; never past
 * it.  The samples before the cut are handed over. */
static void test_cuts(void)
{
    static struct vnd_ipfixw w;
    size_t n = mixed(&w, 6);
    int clean = 0, partial = 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t *copy = malloc(k ? k : 1);
        memcpy(copy, w.buf, k);
        int rc = parse(k ? copy : NULL, k);
        clean += rc == -1 && why != NULL;
        partial += nflows + ncounters > 0;
        free(copy);
    }
    CHECK_EQ_INT(clean, (long long)n, "each of the %zu cuts is malformed, with a reason", n);
    CHECK(partial > 0, "the samples before a cut are handed over (%d cuts)", partial);
}

/* Lengths that count the bytes without their padding (65 header bytes:
 * a record of 81, a sample of 121): read as padded to 4, and the sample
 * after them read in its place */
static void test_unpadded_lengths(void)
{
    static struct vnd_ipfixw w;
    struct vnd_sflow_datagram d = {.agent_af = 4, .nsamples = 2};
    vnd_sflow_begin(&w, &d);
    struct vnd_sflow_flow f0 = sample(0, 65), f1 = sample(1, 64);
    vnd_sflow_flow_sample(&w, false, &f0);
    size_t second = w.n;
    vnd_sflow_flow_sample(&w, false, &f1);
    uint8_t b[1024];
    memcpy(b, w.buf, w.n);
    CHECK_EQ_INT(b[28 + 7], 124, "the built sample's length is padded (124)");
    CHECK_EQ_INT(b[28 + 8 + 28 + 4 + 7], 84, "... and its record's (84)");
    b[28 + 7] = 121;
    b[28 + 8 + 28 + 4 + 7] = 81;
    CHECK(parse(b, w.n) == 0 && nflows == 2 && same_flow(&flows[0], &f0, headers[0])
              && same_flow(&flows[1], &f1, headers[1]),
          "lengths of 121 and 81 are read as 124 and 84: both samples whole (%s)", why ? why : "");
    CHECK_EQ_INT(second, 28 + 8 + 124, "(the second sample starts at byte %zu)", second);
}

static void test_malformed(void)
{
    static struct vnd_ipfixw w;
    size_t n = mixed(&w, 4);
    uint8_t b[2048];
    memcpy(b, w.buf, n);
    b[3] = 4;
    CHECK(parse(b, n) == -1 && !strcmp(why, "not sFlow version 5"), "version 4: refused (%s)", why);
    b[3] = 5;
    b[7] = 3;
    CHECK(parse(b, n) == -1 && !strcmp(why, "unknown agent address type"),
          "agent address type 3: refused (%s)", why);
    b[7] = 1;
    /* the count says one sample more than there is */
    b[27] = 7;
    CHECK(parse(b, n) == -1 && nflows == 2 && ncounters == 2,
          "a sample count past the datagram: malformed after the samples there (%s)", why);
    b[27] = 6;
    /* the first sample's length runs past the datagram */
    b[32] = 0x7f;
    CHECK(parse(b, n) == -1 && nflows == 0 && !strcmp(why, "a sample's length runs past the datagram"),
          "a sample length past the datagram: malformed, nothing handed over (%s)", why);
    b[32] = 0;
    /* the first sample's header length says more than its record holds */
    struct vnd_sflow_datagram d = {.agent_af = 4, .nsamples = 1};
    vnd_sflow_begin(&w, &d);
    struct vnd_sflow_flow f = sample(0, 64);
    vnd_sflow_flow_sample(&w, false, &f);
    memcpy(b, w.buf, w.n);
    size_t hl_at = w.n - 64 - 4;      /* header_length, before the bytes */
    b[hl_at + 3] = 65;
    CHECK(parse(b, w.n) == -1 && nflows == 0 && !strcmp(why, "a sample's records do not fit in it"),
          "a header length past its record: malformed (%s)", why);
    b[hl_at + 3] = 64;
    CHECK(parse(b, w.n) == 0 && nflows == 1, "put back: it reads");
    CHECK(parse(NULL, 0) == -1 && !strcmp(why, "shorter than a header"), "an empty datagram: %s", why);
    /* a record length in a counter sample that is shorter than the counters */
    vnd_sflow_begin(&w, &d);
    struct vnd_ifcounters k = iface(0);
    vnd_sflow_counter_sample(&w, false, 0, 1, &k);
    memcpy(b, w.buf, w.n);
    b[w.n - 88 - 1] = 40;             /* the record's length: 40 of its 88 bytes */
    CHECK(parse(b, w.n) == -1 && ncounters == 0, "counters longer than their record: malformed (%s)", why);
}

int main(void)
{
    test_mixed();
    test_cuts();
    test_unpadded_lengths();
    test_malformed();
    return tap_done();
}
