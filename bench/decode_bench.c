/* decode_bench.c — decoder throughput next to libpcap's own reading.
 *
 *   decode_bench FILE.pcap [MIN_PACKETS=2000000]
 *
 * Prints packets/s for
 *   pcap_next_ex          reading the file, nothing else
 *   pcap_next_ex+decode   reading and vnd_decode (what `vnd parse` pays
 *                         before filtering and storing)
 *   vnd_decode, all       the decoder over frames already in memory,
 *                         repeated until MIN_PACKETS were decoded (bound
 *                         by memory when the file exceeds the caches)
 *   vnd_decode, in cache  the same over the first 1024 frames only: the
 *                         decoder's own CPU cost
 *   decode+all fields     vnd_decode plus formatting every present field
 *                         through the registry (text addresses etc.)
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/packet.h"
#include "fields/registry.h"

#define HOT_FRAMES 1024

struct frame { const uint8_t *data; uint32_t caplen, len; int64_t ts; };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static pcap_t *open_file(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p)
        fprintf(stderr, "decode_bench: %s\n", err);
    return p;
}

static void row(const char *what, uint64_t n, double secs)
{
    printf("%-22s %10llu pkts %8.3f s %12.0f pkts/s %8.1f ns/pkt\n", what,
           (unsigned long long)n, secs, n / secs, secs * 1e9 / (double)n);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: decode_bench FILE.pcap [MIN_PACKETS]\n");
        return 2;
    }
    uint64_t min_packets = argc > 2 ? strtoull(argv[2], NULL, 10) : 2000000;
    struct pcap_pkthdr *h;
    const u_char *d;
    struct vnd_pkt pkt;
    uint64_t sink = 0, n = 0;

    /* 0. an untimed pass, so both timed passes find the file in the page cache */
    pcap_t *p = open_file(argv[1]);
    if (!p)
        return 1;
    while (pcap_next_ex(p, &h, &d) == 1)
        sink += h->caplen;
    pcap_close(p);

    /* 1. libpcap alone */
    p = open_file(argv[1]);
    int link = pcap_datalink(p);
    double t0 = now();
    while (pcap_next_ex(p, &h, &d) == 1) {
        sink += h->caplen;
        n++;
    }
    double t_read = now() - t0;
    pcap_close(p);
    if (n == 0) {
        fprintf(stderr, "decode_bench: %s has no packets\n", argv[1]);
        return 1;
    }
    printf("%s: %llu packets, link type %d\n", argv[1], (unsigned long long)n, link);
    row("pcap_next_ex", n, t_read);

    /* 2. libpcap + decode */
    p = open_file(argv[1]);
    n = 0;
    t0 = now();
    while (pcap_next_ex(p, &h, &d) == 1) {
        vnd_decode(&pkt, link, d, h->caplen, h->len,
                   (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec);
        sink += pkt.present[0];
        n++;
    }
    row("pcap_next_ex+decode", n, now() - t0);
    pcap_close(p);

    /* 3. decode alone, frames in memory */
    struct frame *fr = calloc(n, sizeof *fr);
    p = open_file(argv[1]);
    uint64_t nf = 0;
    while (nf < n && pcap_next_ex(p, &h, &d) == 1) {
        uint8_t *copy = malloc(h->caplen ? h->caplen : 1);
        memcpy(copy, d, h->caplen);
        fr[nf++] = (struct frame){copy, h->caplen, h->len, (int64_t)h->ts.tv_sec};
    }
    pcap_close(p);
    uint64_t rounds = (min_packets + nf - 1) / nf, total = 0;
    t0 = now();
    for (uint64_t r = 0; r < rounds; r++)
        for (uint64_t i = 0; i < nf; i++) {
            vnd_decode(&pkt, link, fr[i].data, fr[i].caplen, fr[i].len, fr[i].ts);
            sink += pkt.present[0];
            total++;
        }
    row("vnd_decode, all frames", total, now() - t0);

    /* the same on a few frames that stay in cache: the decoder's own cost */
    uint64_t hot = nf < HOT_FRAMES ? nf : HOT_FRAMES;
    total = 0;
    t0 = now();
    while (total < min_packets)
        for (uint64_t i = 0; i < hot; i++) {
            vnd_decode(&pkt, link, fr[i].data, fr[i].caplen, fr[i].len, fr[i].ts);
            sink += pkt.present[0];
            total++;
        }
    row("vnd_decode, in cache", total, now() - t0);

    /* 4. decode + every present field formatted */
    total = 0;
    t0 = now();
    for (uint64_t r = 0; r < rounds; r++)
        for (uint64_t i = 0; i < nf; i++) {
            vnd_decode(&pkt, link, fr[i].data, fr[i].caplen, fr[i].len, fr[i].ts);
            char buf[VND_VALUE_TEXT_MAX];
            struct vnd_value v;
            for (int f = 0; f < VND_F_COUNT; f++)
                if (f != VND_F_PAYLOAD_HASH && vnd_field_value(&pkt, (enum vnd_field)f, buf, &v))
                    sink += (uint64_t)v.i + v.slen;
            total++;
        }
    row("decode+all fields", total, now() - t0);

    for (uint64_t i = 0; i < nf; i++)
        free((void *)fr[i].data);
    free(fr);
    fprintf(stderr, "(checksum %llu)\n", (unsigned long long)sink);
    return 0;
}
