/* coord_routes.c — tenant SQL and apps on the coordinator (coord_routes.h).
 *
 * A query streams: its first row (or its error) comes before the status
 * line, the rest in 64 KiB pieces as the coordinator sends them (single-row
 * mode), so a large result never sits in memory.  An app's whole result
 * is made before the status line, as on a table server, so its error is a
 * 4xx/5xx and never a cut 200. */
#include "controld/coord_routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/request.h"
#include "control/coord_diag.h"
#include "controld/diagnoses.h"
#include "controld/state.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "output/output.h"
#include "util/util.h"

/* The most an app's result may take in memory. */
#define DIAG_RESULT_MAX (256u * 1024 * 1024)

static const char *content_type(enum vnd_fmt fmt)
{
    return fmt == VND_FMT_CSV ? "text/csv" : fmt == VND_FMT_JSON ? "application/json"
                                                                 : "text/plain; charset=utf-8";
}

/* A session of the tenant on diagnosis `id`: 0, or a status and *err. */
static int open_session(struct vnd_controld *cd, const char *tenant, const char *id,
                        struct vnd_coord_session **s, char **err)
{
    long long num;
    struct vnd_coord_point *points = NULL;
    int n = 0;
    int status = vnd_diagnosis_scope(cd, tenant, id, &num, &points, &n, err);
    if (!status)
        status = vnd_coord_session_open(cd->coord, tenant, num, points, n, s, err);
    vnd_diagnosis_scope_free(points, n);
    return status;
}

/* ---- a query's rows, streamed ---- */

struct cstream {
    struct vnd_coord_session *s;
    struct vnd_out *out;
    FILE *f;                    /* fopencookie into buf */
    char *buf;
    size_t len, cap, pos;
    bool finished, failed;
    struct vnd_metric *seconds;
    double t0;
};

static ssize_t cookie_write(void *c, const char *data, size_t n)
{
    struct cstream *q = c;
    if (q->len + n > q->cap) {
        q->cap = (q->len + n) * 2;
        q->buf = vnd_xrealloc(q->buf, q->cap);
    }
    memcpy(q->buf + q->len, data, n);
    q->len += n;
    return (ssize_t)n;
}

static ssize_t cstream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct cstream *q = cls;
    while (q->pos == q->len) {
        q->pos = q->len = 0;
        if (q->finished)
            return q->failed ? MHD_CONTENT_READER_END_WITH_ERROR
                             : MHD_CONTENT_READER_END_OF_STREAM;
        while (q->len < 65536 && !q->finished) {
            char *err = NULL;
            int rc = vnd_coord_fetch(q->s, &err);
            if (rc == 1) {
                vnd_coord_out_row(q->s, q->out);
                fflush(q->f);
                continue;
            }
            q->finished = true;
            if (rc == 0) {
                vnd_out_finish(q->out);
            } else {
                /* the status line is gone: an answer without its end */
                q->failed = true;
                vnd_warn("query stopped while streaming: %s", err);
                vnd_out_abandon(q->out);
            }
            q->out = NULL;
            fflush(q->f);
            free(err);
        }
    }
    size_t n = q->len - q->pos < max ? q->len - q->pos : max;
    memcpy(buf, q->buf + q->pos, n);
    q->pos += n;
    return (ssize_t)n;
}

static void cstream_free(void *cls)
{
    struct cstream *q = cls;
    vnd_metric_observe(q->seconds, vnd_now() - q->t0, "sql");
    vnd_out_finish(q->out);
    if (q->f)
        fclose(q->f);
    vnd_coord_session_close(q->s);
    free(q->buf);
    free(q);
}

enum MHD_Result vnd_coord_route_query(struct vnd_controld *cd, struct MHD_Connection *mc,
                                      const char *tenant, const char *id,
                                      const struct vnd_treq *q)
{
    enum vnd_fmt fmt = VND_FMT_JSON;
    const char *f = json_string_value(json_object_get(q->json, "format"));
    if (f)
        vnd_fmt_parse(f, &fmt);             /* checked by vnd_treq_parse */
    char *err = NULL;
    struct cstream *cs = vnd_xcalloc(1, sizeof *cs);
    cs->seconds = cd->m_query_seconds;
    cs->t0 = vnd_now();
    int status = open_session(cd, tenant, id, &cs->s, &err);
    if (!status)
        status = vnd_coord_exec(cs->s, q->sql, &err);
    vnd_state_audit(cd->db, tenant, "query", id, status ? status : 200, NULL);
    if (status) {
        enum MHD_Result r = vnd_http_send_error(mc, (unsigned)status, err);
        free(err);
        cstream_free(cs);
        return r;
    }
    static const cookie_io_functions_t io = {.write = cookie_write};
    cs->f = fopencookie(cs, "w", io);
    cs->out = vnd_out_new(cs->f, fmt);
    int ncol = vnd_coord_ncols(cs->s);
    const char **names = vnd_xcalloc((size_t)ncol + 1, sizeof *names);
    for (int i = 0; i < ncol; i++)
        names[i] = vnd_coord_colname(cs->s, i);
    vnd_out_columns(cs->out, ncol, names);
    free(names);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
                                                                  cstream_read, cs, cstream_free);
    if (!resp) {
        cstream_free(cs);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(fmt));
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result res = MHD_queue_response(mc, 200, resp);
    MHD_destroy_response(resp);
    return res;
}

/* ---- an app's result, whole ---- */

struct result {
    char *buf;
    size_t len, cap;
    bool over;
};

static ssize_t result_write(void *c, const char *data, size_t n)
{
    struct result *r = c;
    if (r->over || n > DIAG_RESULT_MAX - r->len) {
        r->over = true;
        return (ssize_t)n;
    }
    if (r->len + n > r->cap) {
        r->cap = (r->len + n) * 2;
        r->buf = vnd_xrealloc(r->buf, r->cap);
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    return (ssize_t)n;
}

enum MHD_Result vnd_coord_route_diag(struct vnd_controld *cd, struct MHD_Connection *mc,
                                     const char *tenant, const char *id,
                                     const struct vnd_treq *q)
{
    /* the body as a table server reads it: app, options, format, ... */
    char *body = json_dumps(q->json, JSON_COMPACT);
    struct vnd_api_request req;
    char *err = NULL;
    int status = vnd_api_parse_request("POST", "/v1/diag", body, strlen(body), &req, &err);
    free(body);
    struct vnd_coord_session *s = NULL;
    if (!status)
        status = open_session(cd, tenant, id, &s, &err);
    double t0 = vnd_now();
    struct result res = {0};
    const char *type = "application/json";
    if (!status && req.show_sql) {
        char *sql = NULL;
        status = vnd_coord_diag(s, req.app, &req.diag, NULL, &sql, &err);
        if (!status) {
            json_t *j = json_pack("{s:s, s:s}", "app", req.app->name, "sql", sql);
            res.buf = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
            res.len = strlen(res.buf);
            json_decref(j);
            free(sql);
        }
    } else if (!status) {
        static const cookie_io_functions_t io = {.write = result_write};
        FILE *f = fopencookie(&res, "w", io);
        struct vnd_diag_view view = {.out = f, .fmt = req.fmt, .min_t = req.min_t,
                                     .plot = req.plot, .verdict = true,
                                     .complete = req.complete};
        status = vnd_coord_diag(s, req.app, &req.diag, &view, NULL, &err);
        fclose(f);
        type = content_type(req.fmt);
        if (!status && res.over) {
            status = 400;
            err = vnd_strdup_printf("the result of %s is larger than %u MiB: narrow it with "
                                    "\"where\", \"since\"/\"until\" or \"min_t\"", req.app->name,
                                    DIAG_RESULT_MAX >> 20);
        }
    }
    vnd_coord_session_close(s);
    if (req.app)
        vnd_metric_observe(cd->m_query_seconds, vnd_now() - t0, req.app->name);
    vnd_state_audit(cd->db, tenant, "diag", id, status ? status : 200,
                    req.app ? req.app->name : NULL);
    vnd_api_request_clear(&req);
    enum MHD_Result r;
    if (status) {
        r = vnd_http_send_error(mc, (unsigned)status, err);
        free(res.buf);
    } else {
        struct MHD_Response *resp = MHD_create_response_from_buffer(res.len, res.buf,
                                                                    MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        r = MHD_queue_response(mc, 200, resp);
        MHD_destroy_response(resp);
    }
    free(err);
    return r;
}
