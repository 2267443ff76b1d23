/* udp_collector.h — what the UDP collector sources (sFlow, IPFIX) share.
 *
 * The socket: "HOST:PORT" (IPv6 in brackets), an 8 MB receive buffer
 * (beyond net.core.rmem_max when the process may: SO_RCVBUFFORCE), and the
 * kernel's count of datagrams dropped on a full buffer (sk_drops, read
 * with SO_MEMINFO when the counters are asked).
 *
 * The thread: it reads datagrams in bursts (recvmmsg, 32 a call), hands
 * each to the kind's reader, and hands the batch of records they made to
 * the packet queue (capture/pktq.h) at the latest 50 ms after the last
 * one.
 *
 * The counters of source.h, kept here; the reader bumps received,
 * untagged and unknown_tag, and puts records with vnd_udp_collector_put,
 * which counts queued and queue_dropped.  A kind's source struct starts
 * with struct vnd_udp_collector and names the functions below in its
 * vnd_source_class (its own destroy closes with vnd_udp_collector_close). */
#ifndef VND_CAPTURE_UDP_COLLECTOR_H
#define VND_CAPTURE_UDP_COLLECTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "capture/source.h"

struct vnd_udp_collector;

/* One datagram from `from`, which arrived at c->now_ns.  Returns NULL, or
 * why it is malformed (the thread counts and logs it; records put before
 * the fault stay). */
typedef const char *vnd_udp_reader(struct vnd_udp_collector *c, const uint8_t *buf, size_t n,
                                   const struct sockaddr_storage *from);

struct vnd_udp_collector {
    struct vnd_source up;
    int fd;
    vnd_udp_reader *read;
    struct vnd_pktq_writer w;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    int64_t now_ns;              /* arrival of the datagram being read */
    _Atomic uint64_t received, untagged, unknown_tag, queued, queue_dropped, malformed;
    _Atomic uint64_t datagrams;
    _Atomic uint64_t tag_drops[VND_TAGS];
};

/* Binds `addr` for a source of class `cls` named "KIND:ADDR"; `flag`
 * names the option in errors ("--ipfix-listen").  Returns 0, or errno's
 * value and *err. */
int vnd_udp_collector_open(struct vnd_udp_collector *c, const struct vnd_source_class *cls,
                           const char *addr, const char *flag, struct vnd_pktq *q,
                           vnd_udp_reader *read, char **err);
/* Closes the socket (after stop); the kind frees its struct. */
void vnd_udp_collector_close(struct vnd_udp_collector *c);

/* Appends record `r` to the batch being filled: where its caplen bytes
 * go, or NULL when the queue is full (counted for r->tag). */
unsigned char *vnd_udp_collector_put(struct vnd_udp_collector *c, const struct vnd_pktrec *r);

/* A counter of the collector thread (the only writer): relaxed. */
static inline void vnd_udp_count(_Atomic uint64_t *v, uint64_t n)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* vnd_source_class operations every UDP collector shares. */
int vnd_udp_collector_start(struct vnd_source *s);
void vnd_udp_collector_stop(struct vnd_source *s);
void vnd_udp_collector_stats(const struct vnd_source *s, struct vnd_source_stats *st);
uint64_t vnd_udp_collector_tag_drops(const struct vnd_source *s, int tag);

#endif
