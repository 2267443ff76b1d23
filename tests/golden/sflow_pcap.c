/* sflow_pcap.c — sFlow v5 datagrams in a capture, and VND's reading of
 * them: the two halves of the differential test against tshark
 * (tests/integration/sflow_tshark.sh).
 *
 *   golden_sflow_pcap OUT.pcap DATAGRAMS SEED
 *
 * Writes DATAGRAMS UDP datagrams to port 6343 of OUT.pcap, each of 1 to 8
 * samples drawn from SEED: flow samples, compact and expanded, of TCP
 * frames cut to 14 to 200 bytes (padding when not a multiple of 4),
 * counter samples, compact and expanded; agents IPv4 and IPv6 in turn.
 * (No enterprise's samples: tshark's dissector calls the datagram
 * malformed there and reads no further; test_sflow has them.)  Then
 * reads each back through vnd_sflow_parse and prints, per datagram,
 *   FRAME, sequence, samples, then per flow sample its sequence, sampling
 *   rate, pool, drops, frame length, header length, stripped bytes, then
 *   per counter sample its ifIndex, in and out octets, sequence
 * tab-separated, a field's values joined by ',' in sample order (what
 * `tshark -T fields -E aggregator=,` prints). */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/sflow.h"
#include "synth/frame.h"
#include "synth/sflow.h"
#include "util/sb.h"
#include "gen_capture.h"

enum { NCOLS = 11 };
static struct vnd_sb col[NCOLS];
static struct vnd_sflow_datagram header;   /* as VND read it */

static void put(int c, unsigned long long v)
{
    vnd_sb_printf(&col[c], "%s%llu", col[c].n ? "," : "", v);
}

static void on_flow(void *ctx, const struct vnd_sflow_datagram *d, const struct vnd_sflow_flow *f)
{
    (void)ctx;
    header = *d;
    put(0, f->sequence);
    put(1, f->sampling_rate);
    put(2, f->sample_pool);
    put(3, f->drops);
    put(4, f->frame_length);
    put(5, f->header_length);
    put(6, f->stripped);
}

static void on_counters(void *ctx, const struct vnd_sflow_datagram *d,
                        const struct vnd_ifcounters *k)
{
    (void)ctx;
    header = *d;
    put(7, k->if_index);
    put(8, k->in_octets);
    put(9, k->out_octets);
    put(10, k->sequence);
}

/* Datagram `seq`: its samples into w. */
static void datagram(struct vnd_ipfixw *w, uint32_t seq)
{
    static uint8_t frame[VND_FRAME_MAX], payload[VND_FRAME_MSS];
    struct vnd_sflow_datagram d = {.agent_af = seq % 2 ? 6 : 4, .sub_agent = seq % 3,
                                   .sequence = seq, .uptime_ms = seq * 1000,
                                   .nsamples = (uint32_t)(next() % 8 + 1)};
    for (int i = 0; i < 16; i++)
        d.agent[i] = (uint8_t)next();
    vnd_sflow_begin(w, &d);
    for (uint32_t s = 0; s < d.nsamples; s++) {
        uint32_t kind = (uint32_t)(next() % 9);
        bool expanded = next() % 2;
        if (kind < 6) {
            struct vnd_tcp_frame t = {.src = (uint32_t)next(), .dst = (uint32_t)next(),
                                      .sport = (uint16_t)next(), .dport = 5201,
                                      .seq = (uint32_t)next(), .ack = (uint32_t)next(),
                                      .flags = VND_TCP_ACK, .ipid = (uint16_t)next(),
                                      .payload = payload,
                                      .len = (uint32_t)(next() % VND_FRAME_MSS)};
            uint32_t flen = vnd_frame_tcp(frame, &t);
            uint32_t hlen = (uint32_t)(14 + next() % 187);
            struct vnd_sflow_flow f = {
                .sequence = (uint32_t)next(), .source_index = (uint32_t)(next() % 0xffffff),
                .sampling_rate = (uint32_t)(next() % 10000 + 1),
                .sample_pool = (uint32_t)next(), .drops = (uint32_t)(next() % 100),
                .in_value = (uint32_t)(next() % 0x3fffffff),
                .out_value = (uint32_t)(next() % 0x3fffffff), .header_protocol = 1,
                .frame_length = flen + 4, .stripped = 4,
                .header_length = hlen < flen ? hlen : flen, .header = frame};
            vnd_sflow_flow_sample(w, expanded, &f);
        } else {
            struct vnd_ifcounters k = {
                .if_index = (uint32_t)(next() % 100000), .if_type = 6, .if_speed = 10000000000ULL,
                .if_direction = 1, .if_status = 3, .in_octets = next() >> 8,
                .out_octets = next() >> 8, .in_ucast = (uint32_t)next(),
                .out_ucast = (uint32_t)next(), .sequence = (uint32_t)next()};
            vnd_sflow_counter_sample(w, expanded, 0, k.if_index, &k);
        }
    }
}

int main(int argc, char **argv)
{
    int n;
    pcap_t *dead;
    pcap_dumper_t *dump = gen_open(argc, argv, "golden_sflow_pcap OUT.pcap DATAGRAMS SEED", &n,
                                   &dead);
    if (!dump)
        return 2;
    static struct vnd_ipfixw w;
    static uint8_t frame[65535 + 64];
    const struct vnd_sflow_handler h = {on_flow, on_counters, NULL};
    for (int i = 0; i < n; i++) {
        datagram(&w, (uint32_t)i + 1);
        if (w.overflow || w.n > 65000) {
            fprintf(stderr, "golden_sflow_pcap: datagram %d does not fit\n", i);
            return 1;
        }
        uint32_t len = vnd_frame_udp(frame, w.buf, w.n, 40000, 6343);
        vnd_frame_dump(dump, (1700000000LL + i) * 1000000000LL, frame, len, 0);
        for (int c = 0; c < NCOLS; c++)
            col[c].n = 0;
        const char *why = NULL;
        if (vnd_sflow_parse(w.buf, w.n, &h, NULL, &why)) {
            fprintf(stderr, "golden_sflow_pcap: datagram %d: %s\n", i, why);
            return 1;
        }
        printf("%d\t%u\t%u", i + 1, header.sequence, header.nsamples);
        for (int c = 0; c < NCOLS; c++)
            printf("\t%s", col[c].n ? col[c].s : "");
        printf("\n");
    }
    pcap_dump_close(dump);
    pcap_close(dead);
    for (int c = 0; c < NCOLS; c++)
        vnd_sb_free(&col[c]);
    return 0;
}
