/* pktq.h — the packet queue between capture sources and the trace parser.
 *
 * Every capture source (src/capture/source.h: the live mirror port, the
 * sFlow and IPFIX collectors) runs on its own thread and appends records
 * to batches; a full batch (or one the source hands over at the end of a
 * burst) goes to the parser (the table server's main thread), which walks
 * it and gives each record back to the trace its `index` names.  The
 * queue is bounded: `nbatches` buffers of `batch_bytes`; a source that
 * finds no free buffer drops the record and counts it (a queue drop of
 * its trace), it never waits.
 *
 * A record is a packet (its bytes, decoded by the parser), a flow record
 * (struct vnd_flowrec, capture/flowrec.h: fields already known, no
 * decoding) or an interface's counters (struct vnd_ifcounters). */
#ifndef VND_CAPTURE_PKTQ_H
#define VND_CAPTURE_PKTQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vnd_rec_type {
    VND_REC_PACKET = 0,      /* caplen bytes of an Ethernet frame */
    VND_REC_FLOW = 1,        /* a struct vnd_flowrec */
    VND_REC_COUNTERS = 2,    /* a struct vnd_ifcounters */
};

/* One record in a batch; `data` (caplen bytes) follows. */
struct vnd_pktrec {
    int64_t ts_ns;
    int32_t index;           /* the trace's slot (the table server's by_slot) */
    uint32_t caplen, len;    /* a packet: bytes here, bytes on the wire */
    uint16_t tag;            /* the trace's tag (queue drops are counted by it) */
    uint16_t type;           /* enum vnd_rec_type */
};

struct vnd_batch {
    struct vnd_batch *next;
    size_t used, cap;
    uint32_t n;
    _Alignas(8) unsigned char data[];
};

/* Walks a batch: `off` starts at 0; returns NULL at the end.  *data is
 * 8-aligned (a record read in place, tabled/main.c). */
const struct vnd_pktrec *vnd_batch_next(const struct vnd_batch *b, size_t *off,
                                        const uint8_t **data);

struct vnd_pktq;
struct vnd_pktq *vnd_pktq_new(int nbatches, size_t batch_bytes);
void vnd_pktq_free(struct vnd_pktq *q);
/* Next full batch, waiting up to `seconds`; NULL if none. */
struct vnd_batch *vnd_pktq_take(struct vnd_pktq *q, double seconds);
void vnd_pktq_release(struct vnd_pktq *q, struct vnd_batch *b);
/* Full batches waiting for the parser; *capacity: batches in all. */
int vnd_pktq_depth(struct vnd_pktq *q, int *capacity);

/* A source's end of the queue: the batch it is filling.  One writer per
 * vnd_pktq_writer (each source thread has its own). */
struct vnd_pktq_writer {
    struct vnd_pktq *q;
    struct vnd_batch *cur;
    /* a live capture's (vnd_pktq_watch): every frame that reached its
     * interface before this (ns, capture clock) is handed over */
    _Atomic int64_t complete_ns;
    struct vnd_pktq_writer *next_watched;
    bool watched;
};

/* How far the capture is complete, for `loss` (vnd_meta.updated): a
 * packet that left one hop is judged lost only when the other hop's table
 * holds everything captured until a window after it.  A live capture
 * registers its writer (watch) and, after each pass over its ring, says up
 * to when every frame has been handed over (vnd_pktq_complete_to, with the
 * writer's own thread).  vnd_pktq_complete: up to when every watched
 * writer's frames have reached the parser, as of the last time the parser
 * found the queue empty; 0 when none is watched.  Only the parser calls it
 * (the thread that takes batches, between batches). */
void vnd_pktq_watch(struct vnd_pktq_writer *w, int64_t now_ns);
void vnd_pktq_unwatch(struct vnd_pktq_writer *w);
void vnd_pktq_complete_to(struct vnd_pktq_writer *w, int64_t ns);
double vnd_pktq_complete(struct vnd_pktq *q);

/* Appends a record with header `h` (h->caplen bytes of data to follow)
 * and returns where its data goes, or NULL when the queue is full (the
 * caller counts the drop).  Hands the current batch over when the record
 * does not fit in it. */
unsigned char *vnd_pktq_append(struct vnd_pktq_writer *w, const struct vnd_pktrec *h);

/* Hands the batch being filled to the parser (nothing when empty). */
void vnd_pktq_hand_over(struct vnd_pktq_writer *w);

#endif
