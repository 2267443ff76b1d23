/* tabled.h — the table server's shared state: the registry's store, a
 * store and a trace parser per tenant, the trace registry, the capture sources (capture/source.h).
 *
 * Threads: one per capture source (capture → packet queue), libmicrohttpd's
 * (control API), each tenant's parser's writer, and the main thread
 * (packet queue → trace parsers → stores, twice a second the counters).
 * `lock` guards the stores' writing connections, the parsers and the
 * registry; queries read through their own read-only connections (WAL)
 * and never take it. */
#ifndef VND_TABLED_TABLED_H
#define VND_TABLED_TABLED_H

#include <pthread.h>

#include "ingest/ingest.h"
#include "store/store.h"
#include "capture/pcap_live.h"
#include "capture/ipfix_source.h"
#include "capture/sflow_source.h"

struct vnd_tabled_trace;
struct vnd_budget;
struct vnd_metrics;
struct vnd_metric;

/* Prometheus metrics (docs/metrics.md).  The registry and the families
 * updated as things happen; the per-trace and per-interface ones are set
 * at each scrape from the counters they describe (vnd_traces_metrics).
 * Without --metrics-secret-file all are NULL and every update is a no-op. */
struct vnd_tabled_metrics {
    struct vnd_metrics *reg;
    struct vnd_metric *batch_seconds, *commit_seconds, *query_seconds, *store_failed;
    struct vnd_metric *store_down_since;
    struct vnd_metric *traces, *seen, *sampled_out, *matched, *stored, *dropped,
                      *anomalies, *retained, *store_lost;
    struct vnd_metric *cap_received, *cap_untagged, *cap_unknown, *cap_kernel_dropped,
                      *cap_if_dropped, *cap_up;
    struct vnd_metric *queue_batches, *queue_capacity;
};

/* A tenant's database (DB.tenants/NAME.db, see store/tenant.h) and the
 * trace parser writing into it; opened with its first trace. */
/* What a query to a table server whose traces are in PostgreSQL gets:
 * tenants read them through the control server's coordinator, under
 * their own role (docs/distributed.md). */
#define DISTRIBUTED_QUERY "this table server keeps its traces in PostgreSQL: query them " \
    "through the control server (distributed mode), not here"

struct vnd_tabled_tenant {
    char *name;
    struct vnd_store *st;
    struct vnd_ingest *ing;
};

struct vnd_tabled {
    /* settings, fixed after start */
    char *db_path;
    /* "pg:CONNINFO": tenants' traces in PostgreSQL, a schema each; NULL:
     * SQLite files beside db_path (tenant.h) */
    char *trace_store;
    char *raw_dir;               /* retained pcap rings: RAW_DIR/<trace id>/ */
    double query_timeout;
    uint64_t query_memory;       /* bytes one query may allocate in SQLite */
    char *secret;
    char *metrics_secret;        /* GET /metrics's own; NULL: /metrics answers 404 */

    pthread_mutex_t lock;
    struct vnd_store *st;                /* the registry: vnd_traces, vnd_capture */
    struct vnd_tabled_tenant **tenants;
    int ntenants;
    struct vnd_tabled_trace **traces;    /* the registry, creation order */
    int ntraces;
    struct vnd_tabled_trace **by_slot;   /* by the slot the tag map names; NULL: deleted */
    int nslots;
    struct vnd_source **coll;
    int ncoll;
    struct vnd_pktq *queue;              /* what every source feeds */
    int tap_buffer_mb;                   /* a tap trace's kernel ring (Mode tap) */
    struct vnd_source_stats *coll_saved; /* each source's counters as vnd_capture has them */

    struct vnd_portmap *portmap;         /* sFlow samples by port; NULL: no collector */
    struct vnd_obsmap *obsmap;           /* IPFIX records by observation point; NULL: none */
    struct vnd_pkt flow_pkt;             /* a flow record's fields (the parser's thread) */
    struct vnd_tagmap tagmap;            /* lock-free, see capture/pcap_live.h */
    struct vnd_tabled_metrics mx;
    struct vnd_budget *budget;           /* the CPU budget (budget.h); NULL: none */
};

#endif
