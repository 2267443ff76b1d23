/* api.h — the table server's control API: its routes over the daemon's
 * HTTP server (daemon/http.h: listening, bounds, the Bearer secret, JSON
 * answers).  Routes and bodies are checked by api/request.h.  Answers are
 * JSON (errors: {"error": "..."} with a 4xx/5xx status); query results and
 * pcap downloads stream. */
#ifndef VND_TABLED_API_H
#define VND_TABLED_API_H

#include "tabled/tabled.h"

struct vnd_api;

/* What a client may hold (docs/tabled.md, Hardening).  A connection that
 * has not yet sent a complete, authenticated request is closed after
 * `timeout` s without traffic; an authenticated request gets the query
 * time limit on top.  At `max_connections` new clients wait in the
 * kernel's queue; past `per_address` from one address they are closed at
 * once. */
struct vnd_api_limits {
    unsigned timeout, max_connections, per_address;
};
#define VND_API_TIMEOUT 10
#define VND_API_MAX_CONNECTIONS 1024
#define VND_API_PER_ADDRESS 64

/* Listens on `listen` ("HOST:PORT", "[v6]:PORT" or ":PORT" for every
 * address); `lim` NULL: the defaults above.  Returns 0, or errno and
 * *err. */
int vnd_api_start(struct vnd_tabled *td, const char *listen, const struct vnd_api_limits *lim,
                  struct vnd_api **out, char **err);
void vnd_api_stop(struct vnd_api *a);

#endif
