/* request.h — the table server's control API on the wire: requests from
 * the control server (or curl) checked and turned into a struct.
 *
 *   POST   /v1/traces            {"id", "tag", "parse", "snaplen", "sampling", "retain_mb",
 *                                  "tenant", "cap_point", "direction", "pattern",
 *                                  "mode", "ifindex", "match", "filter", "flow_sampling",
 *                                  "sampling_method"}
 *   GET    /v1/traces            every trace with its counters
 *   GET    /v1/traces/{id}       one trace
 *   DELETE /v1/traces/{id}       the trace, its tables and raw files
 *   GET    /v1/traces/{id}/pcap  the retained raw packets
 *   POST   /v1/query             {"sql", "format": "json"|"csv"|"table", "tenant",
 *                                  "traces": [ids]}
 *   POST   /v1/diag              {"app", "options": {...}, "format": "json"|"csv"|"table",
 *                                  "tenant", "traces": [ids], "min_t", "complete",
 *                                  "plot"}
 *
 * Every trace belongs to a tenant ("tenant" when it is created, else the
 * tenant "default"), and a query or a diagnostic application reads the
 * database of one tenant only.  "app" is a name of vnd_diag_apps and
 * "options" its options as diag/opts_json.h reads them (the long options
 * of `vnd diag`); "min_t" leaves out rows with t below it, "complete":
 * true the slots that may still change (runner.h), "plot" draws the time
 * series under the rows (format table).
 *
 * Kept apart from the HTTP server (src/tabled/api.c) so that it can be
 * fuzzed on its own and the control server can share the limits.  Bodies
 * are strict: unknown keys and wrong types are refused, so a typo in a
 * field name never silently falls back to a default. */
#ifndef VND_API_REQUEST_H
#define VND_API_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag/diag.h"
#include "output/output.h"

struct json_t;

#define VND_API_TAG_MIN 1
#define VND_API_TAG_MAX 4094        /* 802.1Q VIDs 0 and 4095 are reserved */
#define VND_API_ID_MAX 63
#define VND_API_SNAPLEN_MAX 262144
#define VND_API_SAMPLING_MAX 1000000
#define VND_API_RETAIN_MB_MAX 1048576
#define VND_API_BODY_MAX (1024 * 1024)
#define VND_API_TRACES_MAX 1024     /* ids in one query's "traces" */

enum vnd_api_op {
    VND_API_CREATE, VND_API_LIST, VND_API_GET, VND_API_DELETE, VND_API_PCAP,
    VND_API_QUERY, VND_API_DIAG, VND_API_UPDATE,
};

struct vnd_api_request {
    enum vnd_api_op op;
    char *id;               /* CREATE, GET, DELETE, PCAP, UPDATE */
    /* CREATE */
    int tag;
    char *parse;            /* NULL: the standard columns */
    uint32_t snaplen;       /* 0: whole packets */
    uint32_t sampling;      /* 1: every packet */
    bool sampling_hash;     /* "sampling_method": "hash" (ingest/sampling.h); false: count */
    uint32_t retain_mb;     /* 0: no raw packets kept */
    /* CREATE, QUERY and DIAG: the tenant (an id; NULL: "default") */
    char *tenant;
    /* optional description for vnd_meta (virtual names only) */
    char *cap_point, *direction, *pattern;
    /* CREATE: "mirror" (NULL), "sflow", "ipfix" or "tap"; an sflow or tap
     * trace's port (ifIndex) and pattern as a filter expression
     * (lang/filter.h); an ipfix trace takes the records whose
     * observationPointId is its tag */
    char *mode, *match;
    char *filter;              /* mode tap: the kernel's filter, libpcap's language */
    uint32_t ifindex;
    /* CREATE, mirror: 1 flow in this many (a real: the switch's share,
     * control/ovs.h) is copied by the switch; 1: every flow.  Recorded in
     * vnd_meta, not applied here. */
    double flow_sampling;
    /* UPDATE (PATCH /v1/traces/{id}, the control server's): since from_ts
     * (Unix seconds, capture time) the switch copies 1 flow in
     * flow_sampling (a mirror trace; 0: as it was) or its sFlow agent
     * samples 1 in switch_sampling (an sflow trace; 0: as it was), and a
     * mirror trace's rule copies switch_snaplen bytes of each packet (0:
     * whole packets; -1: as it was), because of `reason` (NULL: none
     * given) */
    uint32_t switch_sampling;
    int64_t switch_snaplen;
    double from_ts;
    char *reason;
    /* QUERY and DIAG */
    char *sql;              /* QUERY */
    enum vnd_fmt fmt;       /* default VND_FMT_JSON */
    char **traces;          /* NULL: every trace; else ntraces ids */
    int ntraces;
    /* DIAG */
    const struct vnd_diag_app *app;
    struct vnd_diag_opts diag;      /* checked; its strings are diag_json's */
    struct json_t *diag_json;       /* the "options" object, held */
    double min_t;                   /* -INFINITY: every row */
    bool complete;                  /* only the slots that are complete */
    bool plot;
    bool show_sql;                  /* answer the app's SQL, not its rows */
};

/* True for a usable trace id: 1..63 bytes of letters, digits, '_', '-' (safe as a file name). */
bool vnd_api_valid_id(const char *id);

/* Checks one request (method, path without query string, body of `len`
 * bytes, may be NULL) and fills *req.  Returns 0, or the HTTP status to
 * answer (400 malformed, 404 no such resource, 405 method not allowed,
 * 413 body too large) with a malloc'd message in *err.  *req must be
 * released with vnd_api_request_clear either way. */
int vnd_api_parse_request(const char *method, const char *path, const char *body,
                          size_t len, struct vnd_api_request *req, char **err);

void vnd_api_request_clear(struct vnd_api_request *req);

/* A malloc'd JSON object {"error": msg} (the body of every 4xx/5xx). */
char *vnd_api_error_json(const char *msg);

#endif
