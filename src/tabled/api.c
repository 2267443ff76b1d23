/* api.c — control API handlers on libmicrohttpd. */
#include "tabled/api.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/request.h"
#include "lang/sqlfuncs.h"
#include "output/output.h"
#include "store/guard.h"
#include "store/provider.h"
#include "store/tenant.h"
#include "daemon/http.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "tabled/diag_route.h"
#include "tabled/budget.h"
#include "tabled/traces.h"
#include "util/util.h"

struct vnd_api {
    struct vnd_http *http;
    struct vnd_tabled *td;
};

/* ---- query results, streamed ---- */

struct qstream {
    struct vnd_guard *g;
    struct vnd_cursor *rows; /* the guard's cursor over the statement */
    struct vnd_out *out;
    FILE *f;                 /* fopencookie into buf */
    char *buf;
    size_t len, cap, pos;
    int rc;                  /* the cursor's last: 1 a row, 0 done, -1 failed */
    char *why;               /* ... and why it failed */
    bool finished, failed;
    bool too_big;            /* a row's text would pass ROW_TEXT_MAX */
    struct vnd_metric *seconds;  /* vnd_query_seconds{app="sql"}: observed when freed */
    double t0;
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
    for (int i = 0; i < q->rows->ncols; i++) {
        struct vnd_value v;
        vnd_cursor_cell(q->rows, i, &v);
        vnd_out_cell(q->out, &v);
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
        while (q->rc == 1 && q->len < 65536 && !q->too_big) {
            write_row(q);
            fflush(q->f);
            q->rc = vnd_cursor_next(q->rows, NULL, &q->why);
        }
        if (q->too_big) {
            q->finished = q->failed = true;
            q->pos = q->len = 0;
            vnd_warn("query stopped while streaming: a row is longer than %u MiB as %s",
                     ROW_TEXT_MAX >> 20, "text");
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (q->rc != 1) {
            q->finished = true;
            if (q->rc < 0) {
                /* The status line is gone: end the stream without its
                 * closing so the client sees an incomplete answer. */
                q->failed = true;
                vnd_warn("query stopped while streaming: %s", q->why);
            } else {
                vnd_out_finish(q->out);
                q->out = NULL;
            }
            fflush(q->f);
            /* the table format writes all its rows here, at the end */
            if (q->too_big) {
                q->failed = true;
                q->pos = q->len = 0;
                vnd_warn("query stopped: its table is longer than %u MiB", ROW_TEXT_MAX >> 20);
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
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
    vnd_metric_observe(q->seconds, vnd_now() - q->t0, "sql");
    /* A stream cut short still frees its writer; what it appends then
     * goes nowhere, the response is over. */
    vnd_out_finish(q->out);
    if (q->f)
        fclose(q->f);
    vnd_cursor_close(q->rows);
    free(q->why);
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
    q->seconds = td->mx.query_seconds;
    q->t0 = vnd_now();
    char *err = NULL;
    if (td->trace_store) {
        free(q);
        return vnd_http_send_error(mc, MHD_HTTP_CONFLICT, DISTRIBUTED_QUERY);
    }
    int rc = vnd_tenant_guard_open(td->db_path, req->tenant ? req->tenant : VND_TENANT_DEFAULT,
                                   (const char *const *)req->traces, req->ntraces, &q->g, &err);
    if (rc) {
        ret = vnd_http_send_error(mc, rc == ENOENT ? MHD_HTTP_NOT_FOUND
                                                   : MHD_HTTP_INTERNAL_SERVER_ERROR, err);
        goto out_free;
    }
    vnd_guard_set_timeout(q->g, td->query_timeout);
    vnd_guard_set_memory_limit(q->g, td->query_memory);
    sqlite3_stmt *stmt = NULL;
    rc = vnd_guard_prepare(q->g, req->sql, &stmt, &err);
    if (rc) {
        ret = vnd_http_send_error(mc, rc == EPERM ? MHD_HTTP_FORBIDDEN : MHD_HTTP_BAD_REQUEST,
                                  err);
        goto out_free;
    }
    q->rows = vnd_guard_cursor(q->g, stmt);
    vnd_guard_start(q->g);
    int code = 0;
    q->rc = vnd_cursor_next(q->rows, &code, &err);
    if (q->rc < 0) {
        ret = vnd_http_send_error(mc, code == ETIMEDOUT ? MHD_HTTP_SERVICE_UNAVAILABLE
                                                        : MHD_HTTP_BAD_REQUEST, err);
        goto out_free;
    }
    static const cookie_io_functions_t io = {.write = cookie_write};
    q->f = fopencookie(q, "w", io);
    q->out = vnd_out_new(q->f, req->fmt);
    vnd_out_columns(q->out, q->rows->ncols, (const char *const *)q->rows->cols);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
                                                               query_reader, q, qstream_free);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            req->fmt == VND_FMT_CSV    ? "text/csv"
                            : req->fmt == VND_FMT_JSON ? "application/json"
                                                       : "text/plain; charset=utf-8");
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

/* The trace `id`, or NULL; with `?tenant=T` on the request, only when it
 * is T's: another tenant's trace is as missing as one that never was. */
static struct vnd_tabled_trace *find_trace(struct vnd_tabled *td, struct MHD_Connection *mc,
                                           const char *id)
{
    struct vnd_tabled_trace *t = vnd_traces_find(td, id);
    const char *tenant = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "tenant");
    return t && tenant && strcmp(t->tenant->name, tenant) ? NULL : t;
}

static enum MHD_Result do_pcap(struct vnd_api *a, struct MHD_Connection *mc, const char *id)
{
    struct vnd_tabled *td = a->td;
    struct vnd_retain_view *v = NULL;
    char *err = NULL;
    unsigned status = 0;
    pthread_mutex_lock(&td->lock);
    struct vnd_tabled_trace *t = find_trace(td, mc, id);
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
        enum MHD_Result ret = vnd_http_send_error(mc, status, err);
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
    case VND_API_DIAG: {
        double t0 = vnd_now();
        enum MHD_Result ret = vnd_tabled_diag(td, mc, req);
        vnd_metric_observe(td->mx.query_seconds, vnd_now() - t0, req->app->name);
        return ret;
    }
    case VND_API_PCAP:
        return do_pcap(a, mc, req->id);
    case VND_API_CREATE:
        pthread_mutex_lock(&td->lock);
        status = (unsigned)vnd_traces_create(td, req, &t, &err);
        if (!status) {
            status = MHD_HTTP_CREATED;
            j = vnd_traces_json(t);
        }
        pthread_mutex_unlock(&td->lock);
        break;
    case VND_API_LIST:
        pthread_mutex_lock(&td->lock);
        j = json_array();
        for (int i = 0; i < td->ntraces; i++)
            json_array_append_new(j, vnd_traces_json(td->traces[i]));
        j = json_pack("{s:o, s:o}", "traces", j, "capture", vnd_traces_capture_json(td));
        if (td->budget)
            json_object_set_new(j, "budget", vnd_budget_json(td->budget));
        pthread_mutex_unlock(&td->lock);
        break;
    case VND_API_GET:
        pthread_mutex_lock(&td->lock);
        if ((t = find_trace(td, mc, req->id)))
            j = vnd_traces_json(t);
        else {
            status = MHD_HTTP_NOT_FOUND;
            err = vnd_strdup_printf("no trace %s", req->id);
        }
        pthread_mutex_unlock(&td->lock);
        break;
    case VND_API_UPDATE:
        pthread_mutex_lock(&td->lock);
        status = (unsigned)vnd_traces_switch_rates(td, req->id, &(struct vnd_switch_rates){
                                                       req->switch_sampling, req->flow_sampling,
                                                       req->switch_snaplen},
                                                   req->from_ts, req->reason, &err);
        if (!status && (t = vnd_traces_find(td, req->id)))
            j = vnd_traces_json(t);
        pthread_mutex_unlock(&td->lock);
        if (!status)
            status = MHD_HTTP_OK;
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
        enum MHD_Result ret = vnd_http_send_error(mc, status, err);
        free(err);
        return ret;
    }
    return vnd_http_send_json(mc, status, j);
}

/* An authenticated request (daemon/http.c checked the secret). */
static enum MHD_Result on_request(void *ctx, struct MHD_Connection *mc,
                                  const struct vnd_http_request *hr)
{
    struct vnd_api *a = ctx;
    struct vnd_api_request req;
    char *err = NULL;
    /* a query's or an app's CPU is not capture work (budget.h) */
    vnd_budget_api_thread();
    int status = vnd_api_parse_request(hr->method, hr->url, hr->body,
                                       hr->too_large ? VND_API_BODY_MAX + 1 : hr->len, &req,
                                       &err);
    enum MHD_Result ret;
    if (status) {
        vnd_debug("%s %s: %d %s", hr->method, hr->url, status, err);
        ret = vnd_http_send_error(mc, (unsigned)status, err);
    } else {
        vnd_debug("%s %s", hr->method, hr->url);
        ret = dispatch(a, mc, &req);
    }
    free(err);
    vnd_api_request_clear(&req);
    return ret;
}

/* The route template of a request, for vnd_http_requests_total. */
static const char *route_of(const char *method, const char *url)
{
    (void)method;
    if (!strcmp(url, "/v1/traces") || !strcmp(url, "/v1/query") || !strcmp(url, "/v1/diag"))
        return !strcmp(url, "/v1/traces") ? "/v1/traces"
               : !strcmp(url, "/v1/query") ? "/v1/query" : "/v1/diag";
    if (strncmp(url, "/v1/traces/", 11) || !url[11])
        return NULL;
    const char *slash = strchr(url + 11, '/');
    if (!slash)
        return "/v1/traces/{id}";
    return !strcmp(slash, "/pcap") ? "/v1/traces/{id}/pcap" : NULL;
}

int vnd_api_start(struct vnd_tabled *td, const char *listen, const struct vnd_api_limits *lim,
                  struct vnd_api **out, char **err)
{
    static const struct vnd_api_limits defaults = {VND_API_TIMEOUT, VND_API_MAX_CONNECTIONS,
                                                   VND_API_PER_ADDRESS};
    if (!lim)
        lim = &defaults;
    /* Once a request is authenticated it may run a query, which sends
     * nothing until its next rows are ready: the query's own time limit
     * bounds it (0: no limit, no timeout). */
    struct vnd_http_limits hl = {
        .timeout = lim->timeout,
        .authed_timeout = td->query_timeout > 0
                              ? lim->timeout + (unsigned)ceil(td->query_timeout) : 0u,
        .max_connections = lim->max_connections, .per_address = lim->per_address,
        .body_max = VND_API_BODY_MAX,
    };
    struct vnd_api *a = vnd_xcalloc(1, sizeof *a);
    a->td = td;
    struct vnd_http_metrics mx = {td->mx.reg, td->metrics_secret, route_of};
    int rc = vnd_http_start_metrics(listen, &hl, td->secret, on_request, a, &mx, &a->http, err);
    if (rc) {
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void vnd_api_stop(struct vnd_api *a)
{
    if (!a)
        return;
    vnd_http_stop(a->http);
    free(a);
}
