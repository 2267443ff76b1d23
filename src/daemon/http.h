/* http.h — a daemon's HTTP server on libmicrohttpd: listening on
 * HOST:PORT, bounded connections, whole request bodies, the shared-secret
 * Bearer check, JSON answers and {"error": "..."} bodies.  The program
 * routes each authenticated request (vnd-tabled's api.c; the control
 * server's).
 *
 * A thread per connection, not a pool: a streamed answer (query rows) is
 * made by its content reader, seconds at a time, and libmicrohttpd's pool
 * threads and epoll loop run every callback of their connections on one
 * thread, so one slow answer would stall every client sharing it (manual,
 * "Flow control").  Slow and half-open clients are bounded instead: an
 * idle timeout, raised once a request is authenticated; a cap per client
 * address; a global cap (docs/tabled.md, Hardening). */
#ifndef VND_DAEMON_HTTP_H
#define VND_DAEMON_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct vnd_http;

struct vnd_http_limits {
    unsigned timeout;           /* s idle before an authenticated request */
    unsigned authed_timeout;    /* s idle after one (0: none) */
    unsigned max_connections;   /* more wait in the kernel's queue */
    unsigned per_address;       /* more are closed at once (0: no cap) */
    size_t body_max;            /* bytes of a request body (more: too_large) */
};

/* One whole, authenticated request.  `body` (len bytes, NUL-terminated)
 * may be NULL; `too_large` when it passed body_max (and was dropped). */
struct vnd_http_request {
    const char *method, *url;
    const char *body;
    size_t len;
    bool too_large;
    const char *token;      /* the Bearer credentials, or NULL */
};

typedef enum MHD_Result (*vnd_http_handler)(void *ctx, struct MHD_Connection *mc,
                                            const struct vnd_http_request *req);

/* Listens on `listen` ("HOST:PORT", "[v6]:PORT" or ":PORT" for every
 * address); every request must carry `Authorization: Bearer <secret>`
 * (the scheme in any case, RFC 9110), else 401.  With `secret` NULL the
 * handler checks req->token itself (the control server: a token per
 * tenant).  Returns 0, or errno and
 * *err. */
int vnd_http_start(const char *listen, const struct vnd_http_limits *lim, const char *secret,
                   vnd_http_handler handler, void *ctx, struct vnd_http **out, char **err);
/* Prometheus metrics on the same listener (docs/metrics.md): every
 * request is counted by route template, method and status, and timed, in
 * `reg`; GET /metrics answers reg's exposition text to the bearer of
 * `secret` only (its own: neither the API's secret nor a tenant's token
 * opens it, 401), and 404 when `secret` is NULL.  `route` names a request
 * by its template ("/v1/traces/{id}"), never by its raw path; NULL, or a
 * NULL answer, counts it as "other". */
struct vnd_metrics;
struct vnd_http_metrics {
    struct vnd_metrics *reg;
    const char *secret;
    const char *(*route)(const char *method, const char *url);
};
int vnd_http_start_metrics(const char *listen, const struct vnd_http_limits *lim,
                           const char *secret, vnd_http_handler handler, void *ctx,
                           const struct vnd_http_metrics *mx, struct vnd_http **out, char **err);
void vnd_http_stop(struct vnd_http *h);

/* Answers: `text` is taken (freed by libmicrohttpd); `j` is taken. */
enum MHD_Result vnd_http_send_text(struct MHD_Connection *mc, unsigned status, char *text,
                                   const char *type);
enum MHD_Result vnd_http_send_json(struct MHD_Connection *mc, unsigned status, json_t *j);
enum MHD_Result vnd_http_send_error(struct MHD_Connection *mc, unsigned status,
                                    const char *msg);

/* The credentials of `Authorization: Bearer <token>`, or NULL. */
const char *vnd_http_bearer_token(const char *auth);

#endif
