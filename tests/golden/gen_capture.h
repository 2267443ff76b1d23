/* gen_capture.h — what the generators of the tshark differential tests
 * (ipfix_pcap.c, sflow_pcap.c) share: their command line, OUT.pcap COUNT
 * SEED, the pseudo-random numbers SEED starts, and the capture. */
#ifndef VND_TESTS_GEN_CAPTURE_H
#define VND_TESTS_GEN_CAPTURE_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "synth/frame.h"

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The capture OUT.pcap (nanosecond Ethernet) opened, *count and the
 * numbers seeded from argv; NULL after saying why (usage: `usage`). */
static pcap_dumper_t *gen_open(int argc, char **argv, const char *usage, int *count,
                               pcap_t **dead)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s\n", usage);
        return NULL;
    }
    *count = atoi(argv[2]);
    rng = strtoull(argv[3], NULL, 10) * 2654435761u + 1;
    *dead = vnd_frame_dead();
    pcap_dumper_t *d = pcap_dump_open(*dead, argv[1]);
    if (!d)
        fprintf(stderr, "%s: %s\n", argv[1], pcap_geterr(*dead));
    return d;
}

#endif
