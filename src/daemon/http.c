/* http.c — listening, bounds, bodies, the Bearer check, JSON answers. */
#include "daemon/http.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "api/request.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "util/util.h"

struct vnd_http {
    struct MHD_Daemon *mhd;
    struct vnd_http_limits lim;
    char *secret;
    vnd_http_handler handler;
    void *ctx;
    /* metrics (NULL: none, /metrics goes to the handler like any path) */
    bool metrics;                        /* /metrics is ours (even without reg) */
    struct vnd_metrics *reg;
    char *metrics_secret;                /* NULL: /metrics answers 404 */
    const char *(*route)(const char *method, const char *url);
    struct vnd_metric *requests, *seconds;
};

/* One request's body as it arrives. */
struct conn {
    char *body;
    size_t len;
    bool too_large;
    const char *route, *method;          /* metric labels (static strings) */
    double t0;
};

enum MHD_Result vnd_http_send_text(struct MHD_Connection *mc, unsigned status, char *text,
                                   const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
                                                             MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result ret = MHD_queue_response(mc, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* `s` (malloc'd, taken) with a newline after it, as a JSON answer. */
static enum MHD_Result send_json_text(struct MHD_Connection *mc, unsigned status, char *s)
{
    size_t n = strlen(s);
    char *t = vnd_xmalloc(n + 2);
    memcpy(t, s, n);
    t[n] = '\n';
    t[n + 1] = '\0';
    free(s);
    return vnd_http_send_text(mc, status, t, "application/json");
}

enum MHD_Result vnd_http_send_json(struct MHD_Connection *mc, unsigned status, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!s)
        return send_json_text(mc, 500, vnd_api_error_json("out of memory"));
    return send_json_text(mc, status, s);
}

enum MHD_Result vnd_http_send_error(struct MHD_Connection *mc, unsigned status,
                                    const char *msg)
{
    return send_json_text(mc, status, vnd_api_error_json(msg));
}

/* The scheme name is case-insensitive and one or more spaces follow it
 * (RFC 9110 11.4, RFC 6750 2.1). */
const char *vnd_http_bearer_token(const char *auth)
{
    if (!auth || strncasecmp(auth, "Bearer", 6) || (auth[6] != ' ' && auth[6] != '\t'))
        return NULL;
    auth += 6;
    while (*auth == ' ' || *auth == '\t')
        auth++;
    return *auth ? auth : NULL;
}

/* Compares in time independent of where the strings differ. */
static bool secret_equal(const char *given, const char *secret)
{
    size_t a = strlen(given), b = strlen(secret);
    unsigned char diff = (unsigned char)(a != b);
    for (size_t i = 0; i < b; i++)
        diff |= (unsigned char)(secret[i] ^ (i < a ? given[i] : 0));
    return diff == 0;
}

/* GET /metrics: the operator's own secret, nothing else. */
static enum MHD_Result serve_metrics(struct vnd_http *h, struct MHD_Connection *mc,
                                     const char *method, const char *token)
{
    if (!h->metrics_secret || !h->reg)
        return vnd_http_send_error(mc, MHD_HTTP_NOT_FOUND,
                                   "no metrics here (the server was started without "
                                   "--metrics-secret-file)");
    if (!token)
        return vnd_http_send_error(mc, MHD_HTTP_UNAUTHORIZED,
                                   "missing \"Authorization: Bearer <metrics secret>\" header");
    if (!secret_equal(token, h->metrics_secret)) {
        vnd_warn("%s /metrics: refused, not the metrics secret", method);
        return vnd_http_send_error(mc, MHD_HTTP_UNAUTHORIZED, "not the metrics secret");
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return vnd_http_send_error(mc, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET on /metrics");
    return vnd_http_send_text(mc, MHD_HTTP_OK, vnd_metrics_render(h->reg),
                              VND_METRICS_CONTENT_TYPE);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    struct vnd_http *h = cls;
    struct conn *c = *con_cls;
    (void)version;
    if (!c) {
        *con_cls = c = vnd_xcalloc(1, sizeof *c);
        if (h->reg) {
            static const char *const methods[] = {"GET", "POST", "DELETE", "PUT", "HEAD",
                                                  "PATCH", "OPTIONS"};
            c->method = "other";
            for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
                if (!strcmp(method, methods[i]))
                    c->method = methods[i];
            c->route = !strcmp(url, "/metrics") ? "/metrics"
                       : h->route ? h->route(method, url) : NULL;
            if (!c->route)
                c->route = "other";
            c->t0 = vnd_now();
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (c->len + *upload_size > h->lim.body_max) {
            c->too_large = true;
        } else {
            c->body = vnd_xrealloc(c->body, c->len + *upload_size + 1);
            memcpy(c->body + c->len, upload, *upload_size);
            c->len += *upload_size;
            c->body[c->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }

    const char *auth = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_AUTHORIZATION);
    const char *token = vnd_http_bearer_token(auth);
    if (h->metrics && !strcmp(url, "/metrics"))
        return serve_metrics(h, mc, method, token);
    if (h->secret) {
        if (!token) {
            vnd_debug("%s %s: refused, no bearer token", method, url);
            return vnd_http_send_error(mc, MHD_HTTP_UNAUTHORIZED,
                                       "missing \"Authorization: Bearer <secret>\" header");
        }
        if (!secret_equal(token, h->secret)) {
            vnd_warn("%s %s: refused, wrong secret", method, url);
            return vnd_http_send_error(mc, MHD_HTTP_UNAUTHORIZED, "wrong secret");
        }
    }
    /* The short timeout is for clients that have not proven anything.
     * This one may now run a query, which sends nothing until its next
     * rows are ready.  (Without a shared secret the handler checks the
     * token; a client that shows one is given the longer time.) */
    if (token)
        MHD_set_connection_option(mc, MHD_CONNECTION_OPTION_TIMEOUT, h->lim.authed_timeout);
    struct vnd_http_request req = {method, url, c->body, c->len, c->too_large, token};
    return h->handler(h->ctx, mc, &req);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct vnd_http *h = cls;
    (void)toe;
    struct conn *c = *con_cls;
    if (c && c->route) {
        /* A request that got no answer (the client left first) has no
         * status and is not counted. */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_HTTP_STATUS);
        if (ci && ci->http_status) {
            char code[16];
            snprintf(code, sizeof code, "%u", ci->http_status);
            vnd_metric_add(h->requests, 1, c->route, c->method, code);
            vnd_metric_observe(h->seconds, vnd_now() - c->t0, c->route, c->method);
        }
    }
    if (c) {
        free(c->body);
        free(c);
    }
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    vnd_warn("http: %s", buf);
}

/* HOST:PORT, [V6]:PORT, :PORT → an address to listen on. */
static int resolve_listen(const char *listen, struct addrinfo **ai, char **err)
{
    char host[256] = "", port[16] = "";
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1] || strlen(colon + 1) >= sizeof port
        || (size_t)(colon - listen) >= sizeof host) {
        *err = vnd_strdup_printf("--listen %s: expected HOST:PORT (e.g. 127.0.0.1:7410)", listen);
        return EINVAL;
    }
    const char *h = listen;
    size_t hl = (size_t)(colon - listen);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    snprintf(port, sizeof port, "%s", colon + 1);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, ai);
    if (gai) {
        *err = vnd_strdup_printf("--listen %s: %s", listen, gai_strerror(gai));
        return EINVAL;
    }
    return 0;
}

int vnd_http_start(const char *listen, const struct vnd_http_limits *lim, const char *secret,
                   vnd_http_handler handler, void *ctx, struct vnd_http **out, char **err)
{
    return vnd_http_start_metrics(listen, lim, secret, handler, ctx, NULL, out, err);
}

int vnd_http_start_metrics(const char *listen, const struct vnd_http_limits *lim,
                           const char *secret, vnd_http_handler handler, void *ctx,
                           const struct vnd_http_metrics *mx, struct vnd_http **out, char **err)
{
    struct addrinfo *ai = NULL;
    int rc = resolve_listen(listen, &ai, err);
    if (rc)
        return rc;
    struct vnd_http *h = vnd_xcalloc(1, sizeof *h);
    h->lim = *lim;
    h->secret = secret ? vnd_xstrdup(secret) : NULL;
    h->handler = handler;
    h->ctx = ctx;
    h->metrics = mx != NULL;
    if (mx && mx->reg) {
        h->reg = mx->reg;
        h->metrics_secret = mx->secret ? vnd_xstrdup(mx->secret) : NULL;
        h->route = mx->route;
        h->requests = vnd_metrics_counter(h->reg, "vnd_http_requests_total",
                                          "HTTP requests answered, by route template, method "
                                          "and status code", "route,method,code");
        h->seconds = vnd_metrics_histogram(h->reg, "vnd_http_request_duration_seconds",
                                           "Time from a request's first byte to the end of "
                                           "its answer (streamed answers included)",
                                           "route,method", NULL, 0);
    }
    /* AUTO picks poll() for the connection threads: select() fails on
     * descriptors past FD_SETSIZE (1024), which a thousand connections
     * reach. */
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION
                     | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                              MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                              MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                              MHD_OPTION_CONNECTION_LIMIT, lim->max_connections,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->per_address,
                              MHD_OPTION_CONNECTION_TIMEOUT, lim->timeout,
                              MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->mhd) {
        *err = vnd_strdup_printf("--listen %s: cannot listen (address in use, or not "
                                 "an address of this host?)", listen);
        free(h->secret);
        free(h->metrics_secret);
        free(h);
        return EADDRINUSE;
    }
    *out = h;
    return 0;
}

void vnd_http_stop(struct vnd_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->mhd);
    free(h->secret);
    free(h->metrics_secret);
    free(h);
}
