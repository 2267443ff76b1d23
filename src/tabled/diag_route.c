/* diag_route.c — POST /v1/diag: a diagnostic application on a tenant's
 * database, opened exactly as a query's (api.c, do_query), its whole
 * result in memory before the status line, so an app error is a 400 and
 * never a cut 200. */
#include "tabled/diag_route.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/http.h"
#include "daemon/log.h"
#include "diag/runner.h"
#include "store/guard.h"
#include "store/tenant.h"
#include "util/util.h"

/* The result, held up to `max` bytes: past it the rest is dropped and
 * `over` set.  (open_memstream with a bound: a filter over a large trace
 * must not take the server's memory.) */
struct result {
    char *buf;
    size_t len, cap, max;
    bool over;
};

static ssize_t result_write(void *c, const char *data, size_t n)
{
    struct result *r = c;
    if (r->over || n > r->max - r->len) {
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

/* Each table the options name, prepared through the guard before the app
 * runs, for the answer, not as a wall: the guard's authorizer keeps its
 * table list on every statement of its connection and its twins (the
 * apps' own prepares included), but an app refused a table says so in its
 * own words ("no table 'T' in the database (tables: none)", or SQLite's
 * "access to T.ts is prohibited" where a step reads before it checks),
 * and those differ from a missing table's.  Here a table that does not
 * exist, one outside the list and another tenant's all get the guard's
 * "no such table: T", as in /v1/query.  Returns 0, or EINVAL/EPERM/EIO
 * and *err. */
static int tables_readable(struct vnd_guard *g, const struct vnd_diag_opts *o, char **err)
{
    const char *tabs[VND_DIAG_PATH_MAX + 3];
    int n = 0;
    if (o->table)
        tabs[n++] = o->table;
    if (o->in)
        tabs[n++] = o->in;
    if (o->out)
        tabs[n++] = o->out;
    for (int i = 0; i < o->npath; i++)
        tabs[n++] = o->path[i];
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        struct vnd_sb sb = {0};
        vnd_sb_printf(&sb, "SELECT * FROM ");
        vnd_sb_ident(&sb, tabs[i]);
        vnd_sb_printf(&sb, " LIMIT 0");
        sqlite3_stmt *st = NULL;
        rc = vnd_guard_prepare(g, sb.s, &st, err);
        sqlite3_finalize(st);
        vnd_sb_free(&sb);
    }
    return rc;
}

static const char *content_type(enum vnd_fmt fmt)
{
    return fmt == VND_FMT_CSV ? "text/csv" : fmt == VND_FMT_JSON ? "application/json"
                                                                 : "text/plain; charset=utf-8";
}

enum MHD_Result vnd_tabled_diag(struct vnd_tabled *td, struct MHD_Connection *mc,
                                const struct vnd_api_request *req)
{
    /* The tenant's database and nothing else; with "traces", only their
     * tables and vnd_meta: a table outside is as missing as one that
     * never was, and a trace of another tenant is as unknown. */
    struct vnd_guard *g = NULL;
    char *err = NULL;
    unsigned status = MHD_HTTP_OK;
    struct result res = {.max = td->query_memory ? td->query_memory : SIZE_MAX};
    if (td->trace_store)
        return vnd_http_send_error(mc, MHD_HTTP_CONFLICT, DISTRIBUTED_QUERY);
    int rc = vnd_tenant_guard_open(td->db_path, req->tenant ? req->tenant : VND_TENANT_DEFAULT,
                                   (const char *const *)req->traces, req->ntraces, &g, &err);
    if (rc) {
        status = rc == ENOENT ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR;
        goto out;
    }
    vnd_guard_set_timeout(g, td->query_timeout);
    vnd_guard_set_memory_limit(g, td->query_memory);
    if ((rc = tables_readable(g, &req->diag, &err))) {
        status = rc == EIO ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_BAD_REQUEST;
        goto out;
    }
    if (req->show_sql) {
        /* the SQL `vnd diag --show-sql` prints, checked against the tables */
        char *sql = vnd_diag_sql(req->app, vnd_guard_db(g), &req->diag, &err);
        if (!sql) {
            status = MHD_HTTP_BAD_REQUEST;
            goto out;
        }
        json_t *j = json_pack("{s:s, s:s}", "app", req->app->name, "sql", sql);
        char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        free(sql);
        res.len = strlen(text);
        res.buf = text;
        goto out;
    }
    static const cookie_io_functions_t io = {.write = result_write};
    FILE *f = fopencookie(&res, "w", io);
    if (!f) {
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        err = vnd_strdup_printf("no memory for the result");
        goto out;
    }
    struct vnd_diag_view view = {.out = f, .fmt = req->fmt, .min_t = req->min_t,
                                 .plot = req->plot, .verdict = true,
                                 .complete = req->complete};
    rc = vnd_diag_report(g, req->app, &req->diag, &view, &err);
    fclose(f);
    if (rc) {
        status = vnd_guard_timed_out(g) ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_BAD_REQUEST;
    } else if (res.over) {
        status = MHD_HTTP_BAD_REQUEST;
        err = vnd_strdup_printf("the result of %s is larger than %zu MiB (the query memory "
                                "limit): narrow it with \"where\", \"since\"/\"until\" or "
                                "\"min_t\"", req->app->name, res.max >> 20);
    }

out:
    vnd_guard_close(g);
    enum MHD_Result ret;
    if (status != MHD_HTTP_OK) {
        vnd_debug("diag %s: %u %s", req->app->name, status, err ? err : "");
        ret = vnd_http_send_error(mc, status, err);
    } else {
        struct MHD_Response *r = MHD_create_response_from_buffer(res.len, res.buf,
                                                                 MHD_RESPMEM_MUST_FREE);
        res.buf = NULL;     /* the response's now */
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                req->show_sql ? "application/json" : content_type(req->fmt));
        ret = MHD_queue_response(mc, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
    }
    free(err);
    free(res.buf);
    return ret;
}
