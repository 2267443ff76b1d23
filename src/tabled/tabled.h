/* tabled.h — the table server's shared state: one store, one trace
 * parser, the trace registry, the collectors.
 *
 * Threads: one per collector (capture → packet queue), libmicrohttpd's
 * (control API, a thread per connection), and the main thread (packet
 * queue → trace parser → store, once a second the counters).  `lock`
 * guards the store's writing connection, the parser and the registry;
 * queries read through their own read-only connections (WAL) and never
 * take it. */
#ifndef VND_TABLED_TABLED_H
#define VND_TABLED_TABLED_H

#include <pthread.h>

#include "ingest/ingest.h"
#include "store/store.h"
#include "tabled/collector.h"

struct vnd_tabled_trace;

struct vnd_tabled {
    /* settings, fixed after start */
    char *db_path;
    char *raw_dir;               /* retained pcap rings: RAW_DIR/<trace id>/ */
    double query_timeout;
    char *secret;

    pthread_mutex_t lock;
    struct vnd_store *st;
    struct vnd_ingest *ing;
    struct vnd_tabled_trace **traces;    /* the registry, creation order */
    int ntraces;
    struct vnd_tabled_trace **by_index;  /* by vnd_ingest index; NULL: deleted */
    int nindex;
    struct vnd_collector **coll;
    int ncoll;

    struct vnd_tagmap tagmap;            /* lock-free, see collector.h */
};

#endif
