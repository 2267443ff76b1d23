/* sflow.h — sFlow version 5 datagrams (sflow.org/sflow_version_5.txt),
 * read without allocating and without trusting a length.
 *
 * What is read: flow samples (format 1) and expanded flow samples (3)
 * with their raw packet header records (flow record 1); counter samples
 * (2) and expanded counter samples (4) with their generic interface
 * counters (counter record 1).  Every other sample or record (other
 * enterprises, other formats) is skipped by its length.  A datagram whose
 * lengths do not add up, whose version is not 5 or that ends inside a
 * structure is malformed: the samples read before the fault have been
 * handed over, the rest is not. */
#ifndef VND_CAPTURE_SFLOW_H
#define VND_CAPTURE_SFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "capture/flowrec.h"

/* An interface field of a flow sample: format 0 = an ifIndex, 1 = the
 * packet was dropped (value: reason), 2 = several output ports (value:
 * how many, 0 unknown). */
enum { VND_SFLOW_IF_INDEX = 0, VND_SFLOW_IF_DROPPED = 1, VND_SFLOW_IF_MULTIPLE = 2 };

struct vnd_sflow_datagram {
    uint32_t agent_af;           /* 4 or 6 */
    uint8_t agent[16];
    uint32_t sub_agent, sequence, uptime_ms, nsamples;
};

/* One sampled packet: a flow sample's header record. */
struct vnd_sflow_flow {
    uint32_t sequence, source_class, source_index;
    uint32_t sampling_rate, sample_pool, drops;
    uint32_t in_format, in_value, out_format, out_value;
    uint32_t header_protocol;    /* 1: Ethernet */
    uint32_t frame_length;       /* on the wire, `stripped` bytes included */
    uint32_t stripped;
    uint32_t header_length;
    const uint8_t *header;       /* header_length bytes, in the datagram */
};

struct vnd_sflow_handler {
    void (*flow)(void *ctx, const struct vnd_sflow_datagram *d, const struct vnd_sflow_flow *f);
    void (*counters)(void *ctx, const struct vnd_sflow_datagram *d,
                     const struct vnd_ifcounters *c);
    void *ctx;
};

/* What one datagram held. */
struct vnd_sflow_counts {
    uint32_t flows, counters, skipped;   /* samples/records read or skipped */
};

/* Reads datagram `p` of `n` bytes, handing each sampled header and each
 * interface's counters to `h` (either callback may be NULL).  Returns 0,
 * or -1 with *why (a static string) when malformed. */
int vnd_sflow_parse(const uint8_t *p, size_t n, const struct vnd_sflow_handler *h,
                    struct vnd_sflow_counts *counts, const char **why);

#endif
