/* gen_capture.c — writes a synthetic capture of N TCP packets for the
 * benchmarks: F interleaved flows between 10.0.x.y hosts, full-size and
 * small segments, ACKs in the reverse direction, Ethernet framing,
 * nanosecond pcap.  Deterministic for a seed.
 *
 *   gen_capture OUT.pcap [PACKETS=1000000] [FLOWS=64] [SNAPLEN=0: whole]
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

struct flow { uint8_t a[4], b[4]; uint16_t pa, pb; uint32_t seq_a, seq_b; uint16_t ipid_a, ipid_b; };

/* One Ethernet/IPv4/TCP frame into buf; returns its length. */
static uint32_t frame(uint8_t *buf, const uint8_t *src, const uint8_t *dst, uint16_t sp,
                      uint16_t dp, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t ipid,
                      uint32_t payload)
{
    memset(buf, 0, 54);
    memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
    uint8_t *ip = buf + 14;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + 20 + payload));
    put16(ip + 4, ipid);
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    uint8_t *tcp = ip + 20;
    put16(tcp, sp);
    put16(tcp + 2, dp);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    for (uint32_t i = 0; i < payload; i++)
        tcp[20 + i] = (uint8_t)(seq + i);
    return 54 + payload;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_capture OUT.pcap [PACKETS] [FLOWS] [SNAPLEN]\n");
        return 2;
    }
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    int nf = argc > 3 ? atoi(argv[3]) : 64;
    uint32_t snap = argc > 4 ? (uint32_t)atol(argv[4]) : 0;
    if (nf < 1)
        nf = 1;
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
                                                         PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t *d = pcap_dump_open(dead, argv[1]);
    if (!d) {
        fprintf(stderr, "gen_capture: %s\n", pcap_geterr(dead));
        return 1;
    }
    struct flow *fl = calloc((size_t)nf, sizeof *fl);
    for (int i = 0; i < nf; i++) {
        uint8_t a[4] = {10, 0, (uint8_t)(i >> 8), (uint8_t)(i + 1)}, b[4] = {10, 1, 0, 1};
        memcpy(fl[i].a, a, 4);
        memcpy(fl[i].b, b, 4);
        fl[i].pa = (uint16_t)(40000 + i);
        fl[i].pb = 80;
        fl[i].seq_a = next_rand();
        fl[i].seq_b = next_rand();
    }
    static uint8_t buf[2048];
    int64_t t_ns = 1700000000LL * 1000000000LL;
    for (long k = 0; k < n; k++) {
        struct flow *f = &fl[next_rand() % (uint32_t)nf];
        uint32_t len;
        /* Two data segments from b (server) to a, then one ACK back. */
        if (k % 3 != 2) {
            uint32_t pl = next_rand() % 8 ? 1448 : 1 + next_rand() % 600;
            len = frame(buf, f->b, f->a, f->pb, f->pa, f->seq_b, f->seq_a, 0x18, f->ipid_b++, pl);
            f->seq_b += pl;
        } else {
            len = frame(buf, f->a, f->b, f->pa, f->pb, f->seq_a, f->seq_b, 0x10, f->ipid_a++, 0);
        }
        t_ns += 1000 + next_rand() % 20000;
        struct pcap_pkthdr h;
        h.ts.tv_sec = t_ns / 1000000000;
        h.ts.tv_usec = t_ns % 1000000000;   /* nanoseconds: nano-precision dumper */
        h.len = len;
        h.caplen = snap && len > snap ? snap : len;
        pcap_dump((u_char *)d, &h, buf);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    free(fl);
    return 0;
}
