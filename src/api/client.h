/* client.h — the tenant's side of the control server's API (vnd-controld,
 * docs/api/controld.yaml), on libcurl: one request, JSON body in, status
 * and body out, or the body streamed to a FILE as it arrives (query rows,
 * diagnostic results, pcap).
 *
 * Every request carries `Authorization: Bearer <token>`.  The server and
 * the token come from the command line (--url, --token) or else the
 * environment (VND_URL, VND_TOKEN).
 *
 * Errors are sentences for the tenant:
 * - the server could not be reached: "cannot reach the control server at
 *   URL: <why>" (connection refused, name not resolved, timed out...);
 * - it answered 4xx/5xx: the "error" member of its {"error": "..."} body,
 *   as is (so "collect.conf:3:7: ..." reaches the tenant unchanged), or
 *   "the control server answered HTTP N" when the body has none. */
#ifndef VND_API_CLIENT_H
#define VND_API_CLIENT_H

#include <jansson.h>
#include <signal.h>
#include <stdio.h>

struct vnd_client {
    char *url;          /* base, without a trailing '/' */
    char *token;
    /* Optional: when it becomes non-zero (a signal handler sets it), a
     * request under way stops and fails with "interrupted". */
    volatile sig_atomic_t *cancel;
    long connect_timeout;   /* seconds to connect (0: libcurl's default) */
};

/* Fills *c from `url` and `token` (NULL: VND_URL and VND_TOKEN).  Returns
 * 0, or -1 and a malloc'd *err telling what to set.  A `url` must start
 * with http:// or https://. */
int vnd_client_init(struct vnd_client *c, const char *url, const char *token, char **err);

/* As vnd_client_init with the token read from a file (the operator's admin
 * secret; a trailing newline is dropped): `file` or else the variable
 * `env` (VND_ADMIN_SECRET_FILE). */
int vnd_client_init_secret(struct vnd_client *c, const char *url, const char *file,
                           const char *env, char **err);

void vnd_client_clear(struct vnd_client *c);

struct vnd_response {
    long status;        /* HTTP status; 0 when no answer came */
    char *body;         /* malloc'd, NUL-terminated (may hold NULs) */
    size_t len;
};

void vnd_response_clear(struct vnd_response *r);

/* METHOD base+`path` with `body` (NULL: none) as application/json.  Returns
 * 0 for a 2xx answer (*r filled), else -1 and a malloc'd *err (r->status
 * says which: 0 unreachable, else the server's status).  *r must be
 * cleared with vnd_response_clear either way. */
int vnd_client_request(const struct vnd_client *c, const char *method, const char *path,
                       const json_t *body, struct vnd_response *r, char **err);

/* The same with the answer parsed: a 2xx JSON body → new reference, else
 * NULL and *err (also when the body is not JSON).  *status (may be NULL)
 * gets the HTTP status. */
json_t *vnd_client_json(const struct vnd_client *c, const char *method, const char *path,
                        const json_t *body, long *status, char **err);

/* As vnd_client_request, but a 2xx body is written to `out` as it arrives
 * (nothing is held in memory).  A 4xx/5xx body is not written: it becomes
 * *err.  An answer cut off part way fails with "the answer from the
 * control server at URL was cut short: <why>" after what came was written.
 * Returns 0 or -1; *status (may be NULL) gets the HTTP status. */
int vnd_client_stream(const struct vnd_client *c, const char *method, const char *path,
                      const json_t *body, FILE *out, long *status, char **err);

#endif
