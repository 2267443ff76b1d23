/* tabled.h — the table server's shared state: the registry's store, a
 * store and a trace parser per tenant, the trace registry, the collectors.
 *
 * Threads: one per collector (capture → packet queue), libmicrohttpd's
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
#include "tabled/collector.h"

struct vnd_tabled_trace;

/* A tenant's database (DB.tenants/NAME.db, see store/tenant.h) and the
 * trace parser writing into it; opened with its first trace. */
struct vnd_tabled_tenant {
    char *name;
    struct vnd_store *st;
    struct vnd_ingest *ing;
};

struct vnd_tabled {
    /* settings, fixed after start */
    char *db_path;
    char *raw_dir;               /* retained pcap rings: RAW_DIR/<trace id>/ */
    double query_timeout;
    uint64_t query_memory;       /* bytes one query may allocate in SQLite */
    char *secret;

    pthread_mutex_t lock;
    struct vnd_store *st;                /* the registry: vnd_traces, vnd_capture */
    struct vnd_tabled_tenant **tenants;
    int ntenants;
    struct vnd_tabled_trace **traces;    /* the registry, creation order */
    int ntraces;
    struct vnd_tabled_trace **by_slot;   /* by the slot the tag map names; NULL: deleted */
    int nslots;
    struct vnd_collector **coll;
    int ncoll;

    struct vnd_tagmap tagmap;            /* lock-free, see collector.h */
};

#endif
