/* pcap_live.h — the live mirror port, and a port's own interface (a
 * tap), as capture sources (source.h).
 *
 * One source per mirror interface, each on its own thread: libpcap
 * (TPACKET_V3 ring of buffer_mb, immediate mode off, 100 ms timeout)
 * hands over whole blocks; every frame's outer 802.1Q tag names the trace
 * (the capture rule pushed it), the tag is stripped and the untagged frame,
 * cut to the trace's snap length, is copied into a batch of the packet
 * queue.  Frames without a tag or with a tag no trace has are counted,
 * never stored; a frame that finds the queue full is counted as a queue
 * drop of its trace.
 *
 * Copying out of the ring lets the kernel reuse its blocks at once, so a
 * slow batch commit or a long API request stalls the queue, not the
 * ring. */
#ifndef VND_CAPTURE_PCAP_LIVE_H
#define VND_CAPTURE_PCAP_LIVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture/source.h"

/* Which trace each VLAN id feeds: 0 = none, else (snaplen << 32) | (slot
 * + 1).  Written by the API thread, read by every source without a lock. */
struct vnd_tagmap {
    _Atomic uint64_t ent[VND_TAGS];
};

void vnd_tagmap_set(struct vnd_tagmap *m, int tag, int slot, uint32_t snaplen);
void vnd_tagmap_clear(struct vnd_tagmap *m, int tag);

struct vnd_pcap_live_opts {
    int buffer_mb;           /* kernel ring */
    int snaplen;             /* bytes libpcap keeps per frame, tag included */
};

/* Opens `ifname` for capture (not started).  Returns 0, or errno and *err
 * (naming the interface and what to do). */
int vnd_pcap_live_open(const char *ifname, const struct vnd_pcap_live_opts *o,
                       struct vnd_tagmap *map, struct vnd_pktq *q,
                       struct vnd_source **out, char **err);

/* A tap: the frames a port's own interface receives or sends (a
 * packet socket on it, the kernel's copy of each frame: the switch copies
 * nothing), those `filter` (a libpcap expression; NULL: all) passes, cut
 * to `snaplen` by the kernel, every one the trace's in `slot` (its tag for
 * the queue-drop counts).  For Mode tap (docs/capture.md). */
struct vnd_pcap_tap_opts {
    int buffer_mb;           /* kernel ring */
    uint32_t snaplen;        /* 0: whole frames */
    bool sent;               /* the frames the interface sends (else receives) */
    const char *filter;
    int slot, tag;
};

/* Opens `ifname` as a tap (not started).  Returns 0, or errno and *err. */
int vnd_pcap_tap_open(const char *ifname, const struct vnd_pcap_tap_opts *o, struct vnd_pktq *q,
                      struct vnd_source **out, char **err);

#endif
