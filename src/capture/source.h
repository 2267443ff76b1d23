/* source.h — capture sources: where the table server's records come from.
 *
 * A small table of operations in the manner of libpcap's pcap-int.h or
 * Open vSwitch's netdev-provider.h.  Each source runs its own thread and
 * feeds the one packet queue (capture/pktq.h), each record keyed to its
 * trace (the slot of the table server's trace registry):
 *
 *   pcap   a live mirror port (pcap_live.h): the outer 802.1Q tag the
 *          capture rule pushed names the trace (vnd_tagmap); or a tap,
 *          a port's own interface read for one trace (Mode tap: the
 *          kernel's copy of each frame, the switch copies nothing);
 *   sflow  an sFlow v5 collector on UDP (sflow_source.h): a flow sample's
 *          input or output ifIndex names the tenant's port, the trace's
 *          pattern is applied by the parser (vnd_keymap);
 *   file   capture files are read by `vnd parse` directly (pcap_file.h),
 *          not through a queue.
 *
 * Counters every source keeps (what the table server shows in
 * GET /v1/traces's "capture" and vnd_capture; per source, since start):
 *   received       frames / samples the source got
 *   untagged       not keyed: a frame without a tag, a sample without a
 *                  port of any trace
 *   unknown_tag    keyed to nothing live: a tag or port no trace has now
 *   queued         handed to the parser
 *   queue_dropped  found the queue full
 *   malformed      datagrams that could not be read (sFlow, IPFIX)
 *   kernel_*       what the kernel dropped (pcap_stats; a UDP socket's
 *                  receive-buffer drops for the collectors)
 * received = untagged + unknown_tag + queued + queue_dropped (+ records
 * left out by the source's own sampling, see sflow_source.h). */
#ifndef VND_CAPTURE_SOURCE_H
#define VND_CAPTURE_SOURCE_H

#include <stdint.h>

#include "capture/pktq.h"

#define VND_TAGS 4096

struct vnd_source_stats {
    uint64_t received, untagged, unknown_tag, queued, queue_dropped, malformed;
    uint64_t kernel_received, kernel_dropped, if_dropped;
};

struct vnd_source;

struct vnd_source_class {
    const char *kind;                        /* "pcap", "sflow", "ipfix" */
    /* Starts the source's thread: 0 or an errno. */
    int (*start)(struct vnd_source *);
    /* Stops the thread (promptly: within ~100 ms) and joins it; hands the
     * last batch to the queue. */
    void (*stop)(struct vnd_source *);
    /* Frees everything (after stop). */
    void (*destroy)(struct vnd_source *);
    void (*stats)(const struct vnd_source *, struct vnd_source_stats *);
    /* Records of the trace with `tag` dropped on a full queue. */
    uint64_t (*tag_drops)(const struct vnd_source *, int tag);
    /* A message once the source failed for good (interface gone), else NULL. */
    const char *(*error)(const struct vnd_source *);
};

/* The part every source shares; a source's own struct starts with it. */
struct vnd_source {
    const struct vnd_source_class *cls;
    char *name;                              /* interface or listening address */
};

int vnd_source_start(struct vnd_source *s);
void vnd_source_stop(struct vnd_source *s);
void vnd_source_free(struct vnd_source *s);
const char *vnd_source_name(const struct vnd_source *s);
const char *vnd_source_kind(const struct vnd_source *s);
void vnd_source_stats(const struct vnd_source *s, struct vnd_source_stats *st);
uint64_t vnd_source_tag_drops(const struct vnd_source *s, int tag);
const char *vnd_source_error(const struct vnd_source *s);

#endif
