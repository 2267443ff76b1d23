/* ipfix_source.h — the IPFIX collector as a capture source (source.h).
 *
 * A UDP socket (the table server's --ipfix-listen, loopback or the host's
 * management address) where the host's Open vSwitch exports its flow
 * records (also NetFlow v9 exporters: capture/ipfix.h reads both).  VND
 * samples per flow: the capture rule of a Mode ipfix trace runs OVS's
 * `sample` action with the trace's tag as obs_point_id, so each record
 * names its trace by its observationPointId (vnd_obsmap), as the mirror
 * port's copies name theirs by their VLAN tag.  Only records of VND's
 * observation domain (VND_IPFIX_OBS_DOMAIN, the sample actions') are
 * filed: another exporter's point numbers are not VND's tags.  A tenant gets only the
 * records of its own rule: the rule matches its port and pattern in the
 * switch, and OVS keys its flow cache by the observation point, so two
 * tenants with the same addresses have separate records.
 *
 * Each record becomes a flow record of its trace (VND_REC_FLOW: the
 * decoded struct vnd_ipfix_flow), timed by its flow end (the arrival
 * when the exporter sent no time).  The switch sampled already: OVS
 * scales packetDeltaCount and the octet counts by 1/probability itself.
 *
 * Counters (source.h): received = flow records; untagged = records with
 * no observation point; unknown_tag = an observation point no trace has,
 * or one of another observation domain;
 * malformed = messages; kernel_received = messages; kernel_dropped = the
 * socket's receive-buffer drops (SO_MEMINFO).  Data sets of a template
 * not (or no longer) known are counted apart (vnd_ipfix_source_counts). */
#ifndef VND_CAPTURE_IPFIX_SOURCE_H
#define VND_CAPTURE_IPFIX_SOURCE_H

#include <stdint.h>

#include "capture/ipfix.h"
#include "capture/source.h"
#include "decode/packet.h"

/* Which trace takes which observation point's records.  Written by the
 * API thread, read by the collector (a mutex; a handful of entries). */
struct vnd_obsmap;
struct vnd_obsmap *vnd_obsmap_new(void);
void vnd_obsmap_free(struct vnd_obsmap *m);
/* The trace in `slot` (tag `tag`) takes the records of `obs_point`. */
void vnd_obsmap_set(struct vnd_obsmap *m, int slot, int tag, uint64_t obs_point);
void vnd_obsmap_clear(struct vnd_obsmap *m, int slot);

/* Binds `addr` ("HOST:PORT", e.g. 127.0.0.1:4739).  Returns 0, or errno
 * and *err. */
int vnd_ipfix_source_open(const char *addr, struct vnd_obsmap *map, struct vnd_pktq *q,
                          struct vnd_source **out, char **err);

/* What the reader counted beyond source.h's counters, since start. */
struct vnd_ipfix_source_counts {
    uint64_t messages, templates, withdrawals, unknown_template, refused_templates;
    uint64_t templates_cached, templates_evicted;   /* vnd_ipfix_cache_size, _evicted */
};
void vnd_ipfix_source_counts(const struct vnd_source *s, struct vnd_ipfix_source_counts *c);

/* The record's fields as a decoded packet's (ip.*, tcp.* or udp.*,
 * eth.*, vlan.id, flow.*): what ingest stores (vnd_ingest_record).  The
 * byte fields point into `f`, which must outlive `p`'s use. */
void vnd_ipfix_flow_fields(const struct vnd_ipfix_flow *f, struct vnd_pkt *p);

#endif
