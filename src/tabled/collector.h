/* collector.h — the trace collector: live capture from a mirror port.
 *
 * One collector per mirror interface, each on its own thread: libpcap
 * (TPACKET_V3 ring of --buffer-mb, immediate mode off, 100 ms timeout)
 * hands over whole blocks; every frame's outer 802.1Q tag names the trace
 * (the capture rule pushed it), the tag is stripped and the untagged frame,
 * cut to the trace's snap length, is copied into a batch of the packet
 * queue.  The trace parser (main thread) drains the queue.  Frames without
 * a tag or with a tag no trace has are counted, never stored; a frame that
 * finds the queue full is counted as a queue drop of its trace.
 *
 * Copying out of the ring lets the kernel reuse its blocks at once, so a
 * slow batch commit or a long API request stalls the queue, not the
 * ring. */
#ifndef VND_TABLED_COLLECTOR_H
#define VND_TABLED_COLLECTOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VND_TAGS 4096

/* Which trace each VLAN id feeds: 0 = none, else (snaplen << 32) | (index
 * + 1), index being the trace's vnd_ingest index.  Written by the API
 * thread, read by every collector without a lock. */
struct vnd_tagmap {
    _Atomic uint64_t ent[VND_TAGS];
};

void vnd_tagmap_set(struct vnd_tagmap *m, int tag, int index, uint32_t snaplen);
void vnd_tagmap_clear(struct vnd_tagmap *m, int tag);

/* One packet in a batch; `data` (caplen bytes, untagged) follows. */
struct vnd_pktrec {
    int64_t ts_ns;
    int32_t index;           /* the trace's vnd_ingest index */
    uint32_t caplen, len;    /* after the tag was removed */
    uint16_t tag;
    uint16_t pad;
};

struct vnd_batch {
    struct vnd_batch *next;
    size_t used, cap;
    uint32_t n;
    _Alignas(8) unsigned char data[];
};

/* Walks a batch: `off` starts at 0; returns NULL at the end. */
const struct vnd_pktrec *vnd_batch_next(const struct vnd_batch *b, size_t *off,
                                        const uint8_t **data);

/* The bounded queue between the collectors and the parser: `nbatches`
 * buffers of `batch_bytes`. */
struct vnd_pktq;
struct vnd_pktq *vnd_pktq_new(int nbatches, size_t batch_bytes);
void vnd_pktq_free(struct vnd_pktq *q);
/* Next full batch, waiting up to `seconds`; NULL if none. */
struct vnd_batch *vnd_pktq_take(struct vnd_pktq *q, double seconds);
void vnd_pktq_release(struct vnd_pktq *q, struct vnd_batch *b);
/* Full batches waiting for the parser; *capacity: batches in all. */
int vnd_pktq_depth(struct vnd_pktq *q, int *capacity);

/* What a collector counted since it started.  All packets the kernel
 * passed us: received = untagged + unknown_tag + queued + queue_dropped. */
struct vnd_collector_stats {
    uint64_t received, untagged, unknown_tag, queued, queue_dropped;
    uint64_t kernel_received, kernel_dropped, if_dropped;   /* pcap_stats */
};

struct vnd_collector_opts {
    int buffer_mb;           /* kernel ring */
    int snaplen;             /* bytes libpcap keeps per frame, tag included */
};

struct vnd_collector;

/* Opens `ifname` for capture (not started).  Returns 0, or errno and *err
 * (naming the interface and what to do). */
int vnd_collector_open(const char *ifname, const struct vnd_collector_opts *o,
                       struct vnd_tagmap *map, struct vnd_pktq *q,
                       struct vnd_collector **out, char **err);
int vnd_collector_start(struct vnd_collector *c);
/* Stops the thread (within the 100 ms timeout) and joins it. */
void vnd_collector_stop(struct vnd_collector *c);
void vnd_collector_free(struct vnd_collector *c);

const char *vnd_collector_name(const struct vnd_collector *c);
void vnd_collector_stats(const struct vnd_collector *c, struct vnd_collector_stats *s);
/* Frames of `tag` dropped because the queue was full, since start. */
uint64_t vnd_collector_tag_drops(const struct vnd_collector *c, int tag);
/* Set when the capture failed (interface gone): a message, else NULL. */
const char *vnd_collector_error(const struct vnd_collector *c);

#endif
