/* ipfix_pcap.c — IPFIX and NetFlow v9 messages in a capture, and VND's
 * reading of them: the two halves of the differential test against
 * tshark (tests/integration/ipfix_tshark.sh).
 *
 *   golden_ipfix_pcap OUT.pcap MESSAGES SEED
 *
 * Writes MESSAGES UDP datagrams to OUT.pcap: IPFIX to port 4739 (OVS's
 * template, an options template of exporter statistics, records with
 * variable-length and enterprise fields) and NetFlow v9 to port 2055, with
 * pseudo-random flows (SEED).  Then reads each datagram back through
 * vnd_ipfix_parse and prints, per datagram, a line
 *   FRAME<TAB>octets<TAB>packets<TAB>srcaddr<TAB>dstaddr<TAB>srcport<TAB>
 *   dstport<TAB>protocol<TAB>inputint
 * each field the records' values joined by ',' in record order (what
 * `tshark -T fields -E aggregator=,` prints). */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/ipfix.h"
#include "synth/frame.h"
#include "synth/ipfix.h"
#include "gen_capture.h"

static struct vnd_ipfix_flow random_flow(void)
{
    struct vnd_ipfix_flow f;
    memset(&f, 0, sizeof f);
    f.obs_point = next() % 4096;
    f.in_if = (uint32_t)(next() % 100000);
    f.proto = next() % 2 ? 6 : 17;
    uint32_t s = (uint32_t)next(), d = (uint32_t)next();
    memcpy(f.src, &s, 4);
    memcpy(f.dst, &d, 4);
    f.sport = (uint16_t)next();
    f.dport = (uint16_t)next();
    f.packets = next() % 1000000 + 1;
    f.octets = next() % (1ULL << 40);
    f.l2_octets = f.octets + f.packets * 14;
    f.octets_sq = next() % (1ULL << 60);
    f.end_reason = (uint8_t)(next() % 5 + 1);
    f.tcp_flags = (uint16_t)(next() & 0x3f);
    memcpy(f.src_mac, "\x02\0\0\0\0\x01", 6);
    memcpy(f.dst_mac, "\x02\0\0\0\0\x02", 6);
    return f;
}

static void ipfix_message(struct vnd_ipfixw *w, uint32_t seq)
{
    vnd_ipfixw_begin(w, 1700000000 + seq, seq, 1);
    if (seq % 10 == 0) {                 /* templates now and then, as OVS */
        vnd_ipfixw_ovs_template(w, 256);
        vnd_ipfixw_set(w, 3);            /* exporter statistics */
        vnd_ipfixw_u16(w, 257);
        vnd_ipfixw_u16(w, 2);
        vnd_ipfixw_u16(w, 1);
        vnd_ipfixw_field(w, 144, 4, 0);
        vnd_ipfixw_field(w, 167, 8, 0);
        vnd_ipfixw_set(w, 257);
        vnd_ipfixw_u32(w, 1);
        vnd_ipfixw_u64(w, next() % 100);
    }
    vnd_ipfixw_set(w, 256);
    int nrec = (int)(next() % 20) + 1;
    for (int i = 0; i < nrec; i++) {
        struct vnd_ipfix_flow f = random_flow();
        vnd_ipfixw_ovs_record(w, &f, (uint32_t)(next() % 10000000), (uint32_t)(next() % 1000));
    }
    vnd_ipfixw_end(w);
}

static void v9_message(struct vnd_ipfixw *w, uint32_t seq)
{
    vnd_ipfixw_begin_v9(w, 3600000, 1700000000 + seq, seq, 7);
    if (seq % 10 == 1) {
        vnd_ipfixw_set(w, 0);
        vnd_ipfixw_u16(w, 300);
        vnd_ipfixw_u16(w, 8);
        static const uint16_t t[][2] = {{1, 4}, {2, 4}, {4, 1}, {7, 2}, {8, 4}, {11, 2},
                                        {12, 4}, {10, 2}};
        for (size_t i = 0; i < 8; i++)
            vnd_ipfixw_field(w, t[i][0], t[i][1], 0);
    }
    vnd_ipfixw_set(w, 300);
    int nrec = (int)(next() % 20) + 1;
    for (int i = 0; i < nrec; i++) {
        struct vnd_ipfix_flow f = random_flow();
        vnd_ipfixw_u32(w, (uint32_t)f.octets);
        vnd_ipfixw_u32(w, (uint32_t)f.packets);
        vnd_ipfixw_u8(w, f.proto);
        vnd_ipfixw_u16(w, f.sport);
        vnd_ipfixw_bytes(w, f.src, 4);
        vnd_ipfixw_u16(w, f.dport);
        vnd_ipfixw_bytes(w, f.dst, 4);
        vnd_ipfixw_u16(w, (uint16_t)f.in_if);
    }
    vnd_ipfixw_v9_count(w, (uint16_t)(nrec + (seq % 10 == 1)));
    vnd_ipfixw_end(w);
}

/* Per datagram: the records' fields as lists. */
struct cols {
    char v[9][65536];
    size_t n[9];
};
static struct cols cols;

static void add(int c, const char *s)
{
    size_t room = sizeof cols.v[c] - cols.n[c];
    int k = snprintf(cols.v[c] + cols.n[c], room, "%s%s", cols.n[c] ? "," : "", s);
    if (k > 0 && (size_t)k < room)
        cols.n[c] += (size_t)k;
}

static void on_flow(void *ctx, const struct vnd_ipfix_flow *f)
{
    (void)ctx;
    char b[64];
    snprintf(b, sizeof b, "%llu", (unsigned long long)f->octets);
    add(0, b);
    snprintf(b, sizeof b, "%llu", (unsigned long long)f->packets);
    add(1, b);
    snprintf(b, sizeof b, "%u.%u.%u.%u", f->src[0], f->src[1], f->src[2], f->src[3]);
    add(2, b);
    snprintf(b, sizeof b, "%u.%u.%u.%u", f->dst[0], f->dst[1], f->dst[2], f->dst[3]);
    add(3, b);
    snprintf(b, sizeof b, "%u", f->sport);
    add(4, b);
    snprintf(b, sizeof b, "%u", f->dport);
    add(5, b);
    snprintf(b, sizeof b, "%u", f->proto);
    add(6, b);
    snprintf(b, sizeof b, "%u", f->in_if);
    add(7, b);
    if (f->has & VND_IPFIX_HAS_OCTETS_SQ) {     /* (NetFlow v9's records have none) */
        snprintf(b, sizeof b, "%llu", (unsigned long long)f->octets_sq);
        add(8, b);
    }
}

int main(int argc, char **argv)
{
    int nmsg;
    pcap_t *dead;
    pcap_dumper_t *d = gen_open(argc, argv, "golden_ipfix_pcap OUT.pcap MESSAGES SEED", &nmsg,
                                &dead);
    if (!d)
        return 2;
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(0, 0);
    static struct vnd_ipfixw w;
    static uint8_t frame[65535 + 64];
    for (int i = 0; i < nmsg; i++) {
        bool v9 = i % 3 == 2;
        if (v9)
            v9_message(&w, (uint32_t)i);
        else
            ipfix_message(&w, (uint32_t)i);
        if (w.overflow || w.n > 65000) {
            fprintf(stderr, "golden_ipfix_pcap: message %d does not fit\n", i);
            return 1;
        }
        uint32_t n = vnd_frame_udp(frame, w.buf, w.n, v9 ? 40001 : 40000, v9 ? 2055 : 4739);
        vnd_frame_dump(d, (1700000000LL + i) * 1000000000LL, frame, n, 0);
        memset(cols.n, 0, sizeof cols.n);
        const char *why = NULL;
        if (vnd_ipfix_parse(c, v9 ? "v9" : "ipfix", v9 ? 2 : 5, 1, w.buf, w.n, on_flow, NULL,
                            NULL, &why)) {
            fprintf(stderr, "golden_ipfix_pcap: message %d: %s\n", i, why);
            return 1;
        }
        printf("%d", i + 1);
        for (int k = 0; k < 9; k++)
            printf("\t%.*s", (int)cols.n[k], cols.v[k]);
        printf("\n");
    }
    pcap_dump_close(d);
    pcap_close(dead);
    vnd_ipfix_cache_free(c);
    return 0;
}
