/* filter_bench.c — what a compiled filter costs per packet.
 *
 * Runs a typical three-clause filter over 1024 decoded packets (a mix of
 * TCP to port 80/443/other, UDP, v4 and v6, inside and outside the
 * prefix), many times, and prints nanoseconds per packet beside an empty
 * loop over the same packets.  Usage: filter_bench [ITERATIONS] [FILTER] */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lang/filter.h"

#define NPKTS 1024

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 20000;
    const char *text = argc > 2 ? argv[2]
                                : "ip.proto = tcp and tcp.dst in {80, 443} and ip.src = 10.0.0.0/24";
    static struct vnd_pkt pkts[NPKTS];
    static uint8_t addrs[NPKTS][16];
    unsigned seed = 1;
    for (int i = 0; i < NPKTS; i++) {
        struct vnd_pkt *p = &pkts[i];
        seed = seed * 1103515245 + 12345;
        unsigned r = seed >> 8;
        bool v6 = r % 8 == 0, udp = r % 5 == 0;
        vnd_pkt_set_u(p, VND_F_IP_VERSION, v6 ? 6 : 4);
        addrs[i][0] = 10;
        addrs[i][2] = (uint8_t)(r % 3 == 0);      /* 10.0.1.x: outside the /24 */
        addrs[i][3] = (uint8_t)r;
        if (v6)
            addrs[i][0] = 0xfe, addrs[i][1] = 0x80;
        vnd_pkt_set_b(p, VND_F_IP_SRC, addrs[i], v6 ? 16 : 4);
        vnd_pkt_set_u(p, VND_F_IP_PROTO, udp ? 17 : 6);
        static const unsigned ports[] = {80, 443, 22, 8080};
        if (udp) {
            vnd_pkt_set_u(p, VND_F_UDP_SRC, 53);
            vnd_pkt_set_u(p, VND_F_UDP_DST, 5353);
        } else {
            vnd_pkt_set_u(p, VND_F_TCP_SRC, 40000 + r % 1000);
            vnd_pkt_set_u(p, VND_F_TCP_DST, ports[r % 4]);
        }
    }

    char *err = NULL;
    struct vnd_filter *f = vnd_filter_compile(text, "filter_bench", 1, 1, &err);
    if (!f) {
        fprintf(stderr, "%s\n", err);
        free(err);
        return 1;
    }

    /* the empty loop reads one word of each packet, as the filter must */
    volatile uint64_t sink = 0;
    double t0 = now_ns();
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < NPKTS; i++) {
            sink += pkts[i].present[0];
            __asm__ volatile("" ::: "memory");
        }
    double t1 = now_ns();
    long matched = 0;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < NPKTS; i++)
            matched += vnd_filter_match(f, &pkts[i]);
    double t2 = now_ns();

    double n = (double)iters * NPKTS;
    printf("filter: %s\n", text);
    printf("packets: %.0f, matched %.1f%%\n", n, 100.0 * (double)matched / n);
    printf("empty loop:   %6.2f ns/packet\n", (t1 - t0) / n);
    printf("filter match: %6.2f ns/packet\n", (t2 - t1) / n);
    vnd_filter_free(f);
    return sink == 42;
}
