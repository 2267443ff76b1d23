/* traces.h — the trace registry: which traces this table server keeps,
 * persisted in the registry's `vnd_traces` table so a restart re-creates
 * them (appending to their tables, counters continued).  A trace's tables
 * and vnd_meta rows live in its tenant's database, never in the registry.
 *
 *   vnd_traces(id, tag, parse, snaplen, sampling, retain_mb, tenant,
 *              cap_point, direction, pattern, created, flow_sampling,
 *              sampling_method)
 *
 * Every function here is called with the tabled's lock held. */
#ifndef VND_TABLED_TRACES_H
#define VND_TABLED_TRACES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/request.h"
#include "capture/flowrec.h"
#include "lang/filter.h"
#include "lang/parseconf.h"
#include "store/retain.h"
#include "tabled/tabled.h"

struct vnd_tabled_trace {
    char *id;
    int tag;
    char *parse;                 /* the parse configuration as given */
    struct vnd_parse_conf *conf;
    uint32_t snaplen, sampling, retain_mb;
    bool sampling_hash;          /* sampling_method "hash" (ingest/sampling.h) */
    /* "mirror" (tagged copies on the mirror port), "sflow" (samples of
     * the port with `ifindex`, `match` applied here; see
     * capture/sflow_source.h), "ipfix" (flow records whose
     * observationPointId is the trace's tag: capture/ipfix_source.h) or
     * "tap" (the frames the interface with `ifindex` sends, direction
     * "in", or receives, "out": capture/pcap_live.h); kept in
     * vnd_trace_source */
    char *mode;
    uint32_t ifindex;
    char *match;
    struct vnd_filter *matchf;
    char *collector;             /* sflow, ipfix: where OVS is to send (the reply says) */
    char *filter;                /* tap: the kernel's filter (libpcap's language) */
    struct vnd_source *tap;      /* tap: its own capture source */
    double flow_sampling;        /* mirror: 1 flow in this many copied by the switch */
    /* counter samples of its port waiting for the next commit */
    bool cap_dir_out;            /* direction "out": samples whose input is the port */
    struct vnd_ifcounters *counters;
    int64_t *counters_ts;
    int ncounters;
    struct vnd_tabled_tenant *tenant;    /* whose database holds its tables */
    int index;                   /* in the tenant's trace parser */
    int slot;                    /* in the tag map and td->by_slot */
    char **tables;               /* tables its rules write, only it */
    int ntables;
    struct vnd_retain *retain;   /* NULL: no raw packets kept */
    bool retain_failed;
    /* Drop attribution (see docs/tabled.md): counters stored before this
     * run, and each collector's counters when the trace was registered. */
    uint64_t kdrop_base, qdrop_base;
    uint64_t *kdrop_at, *qdrop_at;
    /* Malformed datagrams: stored before this run, and its collector's
     * count when the trace was registered (sFlow and IPFIX traces). */
    uint64_t malformed_base, malformed_at;
};

/* Creates vnd_traces if needed and re-creates every stored trace.  A
 * trace that cannot be restored is logged and skipped (its rows stay). */
int vnd_traces_restore(struct vnd_tabled *td, char **err);

/* A new trace from a checked POST /v1/traces.  Returns 0 and *out, or an
 * HTTP status (400 bad parse configuration, 409 id, tag or table taken,
 * 500 store) and *err. */
int vnd_traces_create(struct vnd_tabled *td, const struct vnd_api_request *req,
                      struct vnd_tabled_trace **out, char **err);

/* Flushes every tenant's open batch.  Returns 0, or errno and *err (the
 * first failure; the other tenants are flushed still). */
int vnd_traces_flush(struct vnd_tabled *td, char **err);

/* True when some tenant's parser has a full batch. */
bool vnd_traces_batch_due(const struct vnd_tabled *td);

/* Removes the trace, its tables, its vnd_meta rows and raw files.
 * Returns 0, 404 or 500 and *err. */
int vnd_traces_delete(struct vnd_tabled *td, const char *id, char **err);

/* The switch's rates of trace `id` since `from_ts` (the control server's,
 * for a host budget, controld/host_budget.c): a mirror trace's flow
 * sampling and the bytes its rule copies, or the 1-in-N of an sflow
 * trace's agent (ingest.h's vnd_switch_rates).  Recorded
 * (vnd_ingest_switch_rates), the capture and the sFlow collector told,
 * kept for a restart.  Returns 0, 404 (no such trace), 409 (a rate of
 * another mode) or 400, and *err. */
int vnd_traces_switch_rates(struct vnd_tabled *td, const char *id,
                            const struct vnd_switch_rates *r, double from_ts, const char *reason,
                            char **err);

struct vnd_tabled_trace *vnd_traces_find(struct vnd_tabled *td, const char *id);

/* Pushes the capture's drop counts into the parser (before a flush). */
void vnd_traces_update_drops(struct vnd_tabled *td);

/* Counter samples of trace t's port (sFlow), kept for the next commit. */
void vnd_traces_add_counters(struct vnd_tabled_trace *t, int64_t ts_ns,
                             const struct vnd_ifcounters *k);

/* Writes the kept counter samples into each tenant's sflow_counters table
 * (after a flush: the parsers' transactions are closed). */
void vnd_traces_write_counters(struct vnd_tabled *td);

/* Records the collectors' counters in vnd_capture (after a flush). */
void vnd_traces_save_capture(struct vnd_tabled *td);

/* Sets the per-trace and per-interface metrics from the counters (the
 * ones GET /v1/traces shows); before a scrape. */
void vnd_traces_metrics(struct vnd_tabled *td);

/* {"id", "tag", ..., "seen", ...}: settings and counters of one trace. */
json_t *vnd_traces_json(const struct vnd_tabled_trace *t);

/* [{"interface", "received", ...}]: the collectors' counters. */
json_t *vnd_traces_capture_json(struct vnd_tabled *td);

void vnd_traces_free_all(struct vnd_tabled *td);

#endif
