/* sflow_source.h — the sFlow v5 collector as a capture source (source.h).
 *
 * A UDP socket (the table server's --sflow-listen, loopback or the host's
 * management address) where the host's Open vSwitch sends its sFlow
 * datagrams.  OVS samples per bridge, not per flow: a datagram carries
 * samples of every port and every tenant of the bridge.  So each sample
 * is keyed to a trace by its port (vnd_portmap): a trace out of a node
 * through port P takes the samples whose input ifIndex is P's, a trace
 * into a node through P those whose output ifIndex is P's (OVS reports
 * the ifIndex of the port's netdev, Interface:ifindex in its database).
 * The trace's flow pattern is applied by the parser on the decoded header
 * (vnd_trace_opts.match), so a tenant only ever gets samples of its own
 * ports that match its own pattern.  A sample sent to several ports (a
 * flood, or a packet a mirror rule also copies) names no port and goes to
 * no trace that captures into a node.
 *
 * Sampling: the bridge samples 1 in R (the smallest N of its sFlow
 * traces); a trace that asked for 1 in N > R keeps every (N/R)-th of its
 * samples.  Each kept sample becomes a packet record of its trace: the
 * header bytes, the frame length, the time it arrived (sFlow samples carry
 * no time of their own; OVS sends a datagram when it is full or once a
 * second).  Counter samples of a trace's port become counters records.
 *
 * Counters (source.h): received = flow samples; untagged = samples of no
 * trace's port; malformed = datagrams; kernel_dropped = the socket's
 * receive-buffer drops (SO_MEMINFO). */
#ifndef VND_CAPTURE_SFLOW_SOURCE_H
#define VND_CAPTURE_SFLOW_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/source.h"

/* Which traces take which port's samples.  Written by the API thread,
 * read by the collector (a mutex; a handful of entries). */
struct vnd_portmap;
struct vnd_portmap *vnd_portmap_new(void);
void vnd_portmap_free(struct vnd_portmap *m);
/* Trace in `slot` (tag `tag`) takes samples whose input (from_port: out
 * of the node) or output (into the node) ifIndex is `ifindex`, kept 1 in
 * `sampling` (0, 1: every sample).  Set again, it replaces what the slot
 * had (a change of the agent's rate). */
void vnd_portmap_set(struct vnd_portmap *m, int slot, int tag, uint32_t ifindex,
                     bool from_port, uint32_t sampling);
void vnd_portmap_clear(struct vnd_portmap *m, int slot);

/* Binds `addr` ("HOST:PORT", e.g. 127.0.0.1:6343).  Returns 0, or errno
 * and *err. */
int vnd_sflow_source_open(const char *addr, struct vnd_portmap *map, struct vnd_pktq *q,
                          struct vnd_source **out, char **err);

#endif
