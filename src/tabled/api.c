/* api.c — control API handlers on libmicrohttpd. */
#include "tabled/api.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/request.h"
#include "lang/sqlfuncs.h"
#include "output/output.h"
#include "store/guard.h"
#include "store/tenant.h"
#include "daemon/log.h"
#include "tabled/traces.h"
#include "util/util.h"

struct vnd_api {
    struct MHD_Daemon *mhd;
    struct vnd_tabled *td;
    unsigned timeout;        /* s idle before a request is authenticated */
};

/* One request's body as it arrives. */
struct conn {
    char *body;
    size_t len;
    bool too_large;
};

static enum MHD_Result send_text(struct MHD_Connection *mc, unsigned status, char *text,
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

/* Sends `j` (reference taken). */
static enum MHD_Result send_json(struct MHD_Connection *mc, unsigned status, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!s)
        return send_text(mc, 500, vnd_api_error_json("out of memory"), "application/json");
    size_t n = strlen(s);
    char *t = vnd_xmalloc(n + 2);
    memcpy(t, s, n);
    t[n] = '\n';
    t[n + 1] = '\0';
    free(s);
    return send_text(mc, status, t, "application/json");
}

static enum MHD_Result send_error(struct MHD_Connection *mc, unsigned status, const char *msg)
{
    size_t n;
    char *j = vnd_api_error_json(msg);
    n = strlen(j);
    char *t = vnd_xmalloc(n + 2);
    memcpy(t, j, n);
    t[n] = '\n';
    t[n + 1] = '\0';
    free(j);
    return send_text(mc, status, t, "application/json");
}

/* The credentials of `Authorization: Bearer <token>`, or NULL.  The
 * scheme name is case-insensitive and one or more spaces follow it
 * (RFC 9110 11.4, RFC 6750 2.1). */
static const char *bearer_token(const char *auth)
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

/* ---- query results, streamed ---- */

struct qstream {
    struct vnd_guard *g;
    sqlite3_stmt *stmt;
    struct vnd_out *out;
    FILE *f;                 /* fopencookie into buf */
    char *buf;
    size_t len, cap, pos;
    int rc;                  /* last sqlite3_step result */
    bool finished, failed;
    bool too_big;            /* a row's text would pass ROW_TEXT_MAX */
    double timeout;
};

/* The most one row may take as JSON or CSV in memory: a row within the
 * query's SQLite budget can still grow six-fold when escaped. */
#define ROW_TEXT_MAX (128u * 1024 * 1024)

static ssize_t cookie_write(void *c, const char *data, size_t n)
{
    struct qstream *q = c;
    if (q->too_big || q->len + n > ROW_TEXT_MAX) {
        q->too_big = true;
        return (ssize_t)n;   /* dropped: the stream ends as failed */
    }
    if (q->len + n > q->cap) {
        q->cap = (q->len + n) * 2;
        q->buf = vnd_xrealloc(q->buf, q->cap);
    }
    memcpy(q->buf + q->len, data, n);
    q->len += n;
    return (ssize_t)n;
}

static void write_row(struct qstream *q)
{
    /* vnd_out_value, as `vnd query`: text with its length, BLOBs in hex */
    int n = sqlite3_column_count(q->stmt);
    for (int i = 0; i < n; i++)
        if (vnd_out_value(q->out, q->stmt, i) != SQLITE_OK) {
            /* out of memory: not a NULL; the next step fails the stream */
            vnd_warn("query: a value of row %lld could not be read (out of memory)",
                     (long long)vnd_out_rows(q->out) + 1);
            sqlite3_interrupt(vnd_guard_db(q->g));
        }
    vnd_out_end_row(q->out);
}

static ssize_t query_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct qstream *q = cls;
    (void)pos;
    while (q->pos == q->len) {
        q->pos = q->len = 0;
        if (q->finished)
            return q->failed ? MHD_CONTENT_READER_END_WITH_ERROR
                             : MHD_CONTENT_READER_END_OF_STREAM;
        /* Rows until 64 KiB are ready or the statement ends. */
        while (q->rc == SQLITE_ROW && q->len < 65536 && !q->too_big) {
            write_row(q);
            fflush(q->f);
            q->rc = sqlite3_step(q->stmt);
        }
        if (q->too_big) {
            q->finished = q->failed = true;
            q->pos = q->len = 0;
            vnd_warn("query stopped while streaming: a row is longer than %u MiB as %s",
                     ROW_TEXT_MAX >> 20, "text");
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (q->rc != SQLITE_ROW) {
            q->finished = true;
            if (q->rc != SQLITE_DONE) {
                /* The status line is gone: end the stream without its
                 * closing so the client sees an incomplete answer. */
                q->failed = true;
                char *why = vnd_guard_step_error(q->g, q->rc);
                vnd_warn("query stopped while streaming: %s", why);
                free(why);
            } else {
                vnd_out_finish(q->out);
                q->out = NULL;
            }
            fflush(q->f);
        }
    }
    size_t n = q->len - q->pos < max ? q->len - q->pos : max;
    memcpy(buf, q->buf + q->pos, n);
    q->pos += n;
    return (ssize_t)n;
}

static void qstream_free(void *cls)
{
    struct qstream *q = cls;
    if (!q)
        return;
    /* A stream cut short still frees its writer; what it appends then
     * goes nowhere, the response is over. */
    vnd_out_finish(q->out);
    if (q->f)
        fclose(q->f);
    sqlite3_finalize(q->stmt);
    vnd_guard_close(q->g);
    free(q->buf);
    free(q);
}

static enum MHD_Result do_query(struct vnd_api *a, struct MHD_Connection *mc,
                                const struct vnd_api_request *req)
{
    struct vnd_tabled *td = a->td;
    /* The query opens its tenant's database and nothing else; with a
     * trace list, only those traces' tables and vnd_meta may be read in
     * it.  A trace of another tenant is as missing as one that never
     * was.  No lock: the database is read through its own connection. */
    enum MHD_Result ret;
    struct qstream *q = vnd_xcalloc(1, sizeof *q);
    char *err = NULL;
    int rc = vnd_tenant_guard_open(td->db_path, req->tenant ? req->tenant : VND_TENANT_DEFAULT,
                                   (const char *const *)req->traces, req->ntraces, &q->g, &err);
    if (rc) {
        ret = send_error(mc, rc == ENOENT ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
                         err);
        goto out_free;
    }
    vnd_guard_set_timeout(q->g, td->query_timeout);
    vnd_guard_set_memory_limit(q->g, td->query_memory);
    rc = vnd_guard_prepare(q->g, req->sql, &q->stmt, &err);
    if (rc) {
        ret = send_error(mc, rc == EPERM ? MHD_HTTP_FORBIDDEN : MHD_HTTP_BAD_REQUEST, err);
        goto out_free;
    }
    vnd_guard_start(q->g);
    q->rc = sqlite3_step(q->stmt);
    if (q->rc != SQLITE_ROW && q->rc != SQLITE_DONE) {
        err = vnd_guard_step_error(q->g, q->rc);
        ret = send_error(mc, vnd_guard_timed_out(q->g) ? MHD_HTTP_SERVICE_UNAVAILABLE
                                                       : MHD_HTTP_BAD_REQUEST, err);
        goto out_free;
    }
    static const cookie_io_functions_t io = {.write = cookie_write};
    q->f = fopencookie(q, "w", io);
    q->out = vnd_out_new(q->f, req->fmt);
    int ncol = sqlite3_column_count(q->stmt);
    const char **names = vnd_xcalloc((size_t)ncol + 1, sizeof *names);
    for (int i = 0; i < ncol; i++)
        names[i] = sqlite3_column_name(q->stmt, i);
    vnd_out_columns(q->out, ncol, names);
    free(names);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
                                                               query_reader, q, qstream_free);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            req->fmt == VND_FMT_CSV ? "text/csv" : "application/json");
    ret = MHD_queue_response(mc, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    q = NULL;                /* the response owns it */

out_free:
    free(err);
    qstream_free(q);
    return ret;
}

/* ---- pcap downloads ---- */

static ssize_t pcap_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    ssize_t n = vnd_retain_view_read(cls, buf, max);
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : n;
}

static void pcap_free(void *cls)
{
    vnd_retain_view_free(cls);
}

static enum MHD_Result do_pcap(struct vnd_api *a, struct MHD_Connection *mc, const char *id)
{
    struct vnd_tabled *td = a->td;
    struct vnd_retain_view *v = NULL;
    char *err = NULL;
    unsigned status = 0;
    pthread_mutex_lock(&td->lock);
    struct vnd_tabled_trace *t = vnd_traces_find(td, id);
    if (!t) {
        status = MHD_HTTP_NOT_FOUND;
        err = vnd_strdup_printf("no trace %s", id);
    } else if (!t->retain) {
        status = MHD_HTTP_NOT_FOUND;
        err = vnd_strdup_printf("trace %s keeps no raw packets%s", id,
                                t->retain_failed ? " (keeping them failed: see the log)"
                                                 : " (create it with \"retain_mb\")");
    } else {
        vnd_retain_snapshot(t->retain, &v);
    }
    pthread_mutex_unlock(&td->lock);
    if (status) {
        enum MHD_Result ret = send_error(mc, status, err);
        free(err);
        return ret;
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
                                                               pcap_reader, v, pcap_free);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/vnd.tcpdump.pcap");
    char *disp = vnd_strdup_printf("attachment; filename=\"%s.pcap\"", id);
    MHD_add_response_header(r, "Content-Disposition", disp);
    free(disp);
    enum MHD_Result ret = MHD_queue_response(mc, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- routing ---- */

static enum MHD_Result dispatch(struct vnd_api *a, struct MHD_Connection *mc,
                                const struct vnd_api_request *req)
{
    struct vnd_tabled *td = a->td;
    char *err = NULL;
    json_t *j = NULL;
    unsigned status = MHD_HTTP_OK;
    struct vnd_tabled_trace *t;

    switch (req->op) {
    case VND_API_QUERY:
        return do_query(a, mc, req);
    case VND_API_PCAP:
        return do_pcap(a, mc, req->id);
    case VND_API_CREATE:
        pthread_mutex_lock(&td->lock);
        status = (unsigned)vnd_traces_create(td, req, &t, &err);
        if (!status) {
            status = MHD_HTTP_CREATED;
            j = vnd_traces_json(td, t);
        }
        pthread_mutex_unlock(&td->lock);
        break;
    case VND_API_LIST:
        pthread_mutex_lock(&td->lock);
        j = json_array();
        for (int i = 0; i < td->ntraces; i++)
            json_array_append_new(j, vnd_traces_json(td, td->traces[i]));
        j = json_pack("{s:o, s:o}", "traces", j, "capture", vnd_traces_capture_json(td));
        pthread_mutex_unlock(&td->lock);
        break;
    case VND_API_GET:
        pthread_mutex_lock(&td->lock);
        if ((t = vnd_traces_find(td, req->id)))
            j = vnd_traces_json(td, t);
        else {
            status = MHD_HTTP_NOT_FOUND;
            err = vnd_strdup_printf("no trace %s", req->id);
        }
        pthread_mutex_unlock(&td->lock);
        break;
    case VND_API_DELETE:
        pthread_mutex_lock(&td->lock);
        status = (unsigned)vnd_traces_delete(td, req->id, &err);
        pthread_mutex_unlock(&td->lock);
        if (!status)
            j = json_pack("{s:s}", "deleted", req->id);
        if (!status)
            status = MHD_HTTP_OK;
        break;
    }
    if (err) {
        enum MHD_Result ret = send_error(mc, status, err);
        free(err);
        return ret;
    }
    return send_json(mc, status, j);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    struct vnd_api *a = cls;
    struct conn *c = *con_cls;
    (void)version;
    if (!c) {
        *con_cls = vnd_xcalloc(1, sizeof *c);
        return MHD_YES;
    }
    if (*upload_size) {
        if (c->len + *upload_size > VND_API_BODY_MAX) {
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
    const char *token = bearer_token(auth);
    if (!token) {
        vnd_debug("%s %s: refused, no bearer token", method, url);
        return send_error(mc, MHD_HTTP_UNAUTHORIZED,
                          "missing \"Authorization: Bearer <secret>\" header");
    }
    if (!secret_equal(token, a->td->secret)) {
        vnd_warn("%s %s: refused, wrong secret", method, url);
        return send_error(mc, MHD_HTTP_UNAUTHORIZED, "wrong secret");
    }
    /* The short timeout is for clients that have not proven anything.
     * This one may now run a query, which sends nothing until its next
     * rows are ready: the query's own limit bounds it (0: none). */
    MHD_set_connection_option(mc, MHD_CONNECTION_OPTION_TIMEOUT,
                              a->td->query_timeout > 0
                                  ? a->timeout + (unsigned)ceil(a->td->query_timeout) : 0u);

    struct vnd_api_request req;
    char *err = NULL;
    int status = vnd_api_parse_request(method, url, c->body,
                                       c->too_large ? VND_API_BODY_MAX + 1 : c->len, &req, &err);
    enum MHD_Result ret;
    if (status) {
        vnd_debug("%s %s: %d %s", method, url, status, err);
        ret = send_error(mc, (unsigned)status, err);
    } else {
        vnd_debug("%s %s", method, url);
        ret = dispatch(a, mc, &req);
    }
    free(err);
    vnd_api_request_clear(&req);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls; (void)mc; (void)toe;
    struct conn *c = *con_cls;
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

int vnd_api_start(struct vnd_tabled *td, const char *listen, const struct vnd_api_limits *lim,
                  struct vnd_api **out, char **err)
{
    static const struct vnd_api_limits defaults = {VND_API_TIMEOUT, VND_API_MAX_CONNECTIONS,
                                                   VND_API_PER_ADDRESS};
    if (!lim)
        lim = &defaults;
    /* HOST:PORT, [V6]:PORT, :PORT */
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
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gai) {
        *err = vnd_strdup_printf("--listen %s: %s", listen, gai_strerror(gai));
        return EINVAL;
    }
    struct vnd_api *a = vnd_xcalloc(1, sizeof *a);
    a->td = td;
    a->timeout = lim->timeout;
    /* A thread per connection, not a pool: a query's rows are made by
     * its content reader (query_reader steps SQLite, seconds at a time),
     * and libmicrohttpd's pool threads and epoll loop run every callback
     * of their connections on one thread, so one slow query would stall
     * every client sharing it (manual, "Flow control"); suspending the
     * connection while another thread steps the query is the way out of
     * that, a larger change.  Slow and half-open clients are bounded
     * instead: the idle timeout (raised once a request is authenticated,
     * see on_request), a cap per address, a global cap.  AUTO picks poll()
     * for the connection threads: select() fails on descriptors past
     * FD_SETSIZE (1024), which a thousand connections reach. */
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION
                     | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    a->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, a,
                              MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, a,
                              MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
                              MHD_OPTION_CONNECTION_LIMIT, lim->max_connections,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->per_address,
                              MHD_OPTION_CONNECTION_TIMEOUT, lim->timeout,
                              MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!a->mhd) {
        *err = vnd_strdup_printf("--listen %s: cannot listen (address in use, or not "
                                 "an address of this host?)", listen);
        free(a);
        return EADDRINUSE;
    }
    *out = a;
    return 0;
}

void vnd_api_stop(struct vnd_api *a)
{
    if (!a)
        return;
    MHD_stop_daemon(a->mhd);
    free(a);
}
