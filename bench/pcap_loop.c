/* pcap_loop.c — the floor for `vnd parse`: a plain libpcap read loop over
 * the same file that touches every packet (sums the bytes' first word so
 * the read cannot be optimised away) and does nothing else.
 *
 *   pcap_loop FILE   → prints "packets seconds" */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pcap_loop FILE\n");
        return 2;
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO,
                                                        errbuf);
    if (!p) {
        fprintf(stderr, "pcap_loop: %s\n", errbuf);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t n = 0, sum = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        uint32_t w = 0;
        memcpy(&w, d, h->caplen < 4 ? h->caplen : 4);
        sum += w + h->caplen;
        n++;
    }
    pcap_close(p);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%llu %.4f %llu\n", (unsigned long long)n, s, (unsigned long long)(sum & 1));
    return 0;
}
