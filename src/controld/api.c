/* api.c — routes of the control server's API.
 *
 * Answers to tenants never name a host, bridge, port, table server or
 * another tenant: the diagnoses module words its errors so, and what the
 * table servers answer is passed on only for 4xx (the tenant's own SQL or
 * options at fault), never their 5xx or transport errors. */
#include "controld/api.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/tenant_request.h"
#include "control/nib.h"
#include "control/tsclient.h"
#include "controld/coord_routes.h"
#include "controld/diagnoses.h"
#include "controld/host_budget.h"
#include "controld/state.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/static.h"
#include "diag/diag.h"
#include "util/util.h"

#define STREAM_TIMEOUT 3600.0      /* s: the table server's query limit ends it first */

struct who {
    bool admin;
    char tenant[VND_NIB_TENANT_ID_MAX + 1];
};

static bool secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < lb; i++)
        d |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
    return d == 0;
}

/* Who holds `token`: the operator, a tenant, or nobody (false). */
static bool authenticate(struct vnd_controld *cd, const char *token, struct who *w)
{
    memset(w, 0, sizeof *w);
    if (!token)
        return false;
    bool admin = secret_equal(token, cd->admin_secret);
    pthread_rwlock_rdlock(&cd->nib_lock);
    const struct vnd_nib_tenant *t = vnd_nib_tenant_by_token(cd->nib, token);
    if (t)
        snprintf(w->tenant, sizeof w->tenant, "%s", t->id);
    pthread_rwlock_unlock(&cd->nib_lock);
    w->admin = admin;
    return admin || t;
}

static enum MHD_Result answer(struct MHD_Connection *mc, int status, json_t *reply, char *err)
{
    if (status >= 200 && status < 300) {
        free(err);
        return vnd_http_send_json(mc, (unsigned)status, reply);
    }
    json_decref(reply);
    enum MHD_Result r = vnd_http_send_error(mc, (unsigned)status, err ? err : "failed");
    free(err);
    return r;
}

/* ---- streams from a table server ---- */

/* A query's or app's time, to the end of its answer: vnd_query_seconds. */
struct timing {
    struct vnd_metric *hist;     /* NULL: not timed (pcap) */
    char app[32];
    double t0;
};

static void timing_done(const struct timing *t)
{
    if (t)
        vnd_metric_observe(t->hist, vnd_now() - t->t0, t->app);
}

struct pstream {
    struct vnd_ts_stream *s;
    struct timing t;
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct pstream *p = cls;
    ssize_t n = vnd_ts_stream_read(p->s, buf, max);
    return n > 0 ? n : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM
                              : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    struct pstream *p = cls;
    vnd_ts_stream_close(p->s);
    timing_done(&p->t);
    free(p);
}

/* METHOD path on the routed table server, its answer streamed through;
 * `t` (may be NULL) is observed when the answer ends. */
static enum MHD_Result proxy(struct MHD_Connection *mc, const struct vnd_route *r,
                             const char *method, const char *path, json_t *body,
                             const struct timing *t)
{
    char *why = NULL;
    struct vnd_ts_stream *s = vnd_ts_stream_open(r->url, r->secret, method, path, body,
                                                 STREAM_TIMEOUT, &why);
    if (!s) {
        vnd_err("%s %s: %s", method, path, why);
        free(why);
        timing_done(t);
        return vnd_http_send_error(mc, 503, "the capture host of this trace did not answer; "
                                   "try again later");
    }
    long status = vnd_ts_stream_status(s);
    if (status != 200) {
        char *text = vnd_ts_stream_slurp(s, 64 * 1024);
        vnd_ts_stream_close(s);
        json_t *j = json_loads(text, 0, NULL);
        const char *msg = json_string_value(json_object_get(j, "error"));
        enum MHD_Result res;
        /* 4xx: the tenant's SQL or options; 503: its time limit. */
        if (((status >= 400 && status < 500) || status == 503) && msg) {
            res = vnd_http_send_error(mc, (unsigned)status, msg);
        } else {
            vnd_err("%s %s: table server answered %ld: %s", method, path, status, text);
            res = vnd_http_send_error(mc, 502, "the capture host of this trace failed to "
                                      "answer; try again later");
        }
        json_decref(j);
        free(text);
        timing_done(t);
        return res;
    }
    struct pstream *p = vnd_xcalloc(1, sizeof *p);
    p->s = s;
    if (t)
        p->t = *t;
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
                                                                  stream_reader, p, stream_free);
    if (!resp) {
        stream_free(p);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, vnd_ts_stream_type(s));
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result res = MHD_queue_response(mc, 200, resp);
    MHD_destroy_response(resp);
    return res;
}

static enum MHD_Result do_query(struct vnd_controld *cd, struct MHD_Connection *mc,
                                const struct who *w, const char *id,
                                const struct vnd_http_request *req)
{
    char *err = NULL;
    struct vnd_treq q;
    int status = vnd_treq_parse(VND_TREQ_QUERY, req->body, req->len, req->too_large, &q, &err);
    if (!status && cd->coord) {         /* the distributed mode */
        enum MHD_Result res = vnd_coord_route_query(cd, mc, w->tenant, id, &q);
        vnd_treq_clear(&q);
        return res;
    }
    struct vnd_route r;
    if (!status)
        status = vnd_diagnosis_route(cd, w->tenant, id, q.sql, NULL, 0, &r, &err);
    if (status) {
        vnd_treq_clear(&q);
        return answer(mc, status, NULL, err);
    }
    json_object_set_new(q.json, "tenant", json_string(r.ts_tenant));
    json_object_set(q.json, "traces", r.traces);
    struct timing t = {cd->m_query_seconds, "sql", vnd_now()};
    enum MHD_Result res = proxy(mc, &r, "POST", "/v1/query", q.json, &t);
    vnd_state_audit(cd->db, w->tenant, "query", id, 200, NULL);
    vnd_treq_clear(&q);
    vnd_route_clear(&r);
    return res;
}

static enum MHD_Result do_diag(struct vnd_controld *cd, struct MHD_Connection *mc,
                               const struct who *w, const char *id,
                               const struct vnd_http_request *req)
{
    char *err = NULL;
    struct vnd_treq q;
    int status = vnd_treq_parse(VND_TREQ_DIAG, req->body, req->len, req->too_large, &q, &err);
    if (!status && cd->coord) {         /* the distributed mode */
        enum MHD_Result res = vnd_coord_route_diag(cd, mc, w->tenant, id, &q);
        vnd_treq_clear(&q);
        return res;
    }
    struct vnd_route r;
    /* The tables the app reads decide where it runs. */
    if (!status)
        status = vnd_diagnosis_route(cd, w->tenant, id, NULL, q.tables, q.ntables, &r, &err);
    if (status) {
        vnd_treq_clear(&q);
        return answer(mc, status, NULL, err);
    }
    json_object_set_new(q.json, "tenant", json_string(r.ts_tenant));
    json_object_set(q.json, "traces", r.traces);
    /* only names of real apps become label values */
    const struct vnd_diag_app *app = vnd_diag_find(q.app);
    struct timing t = {cd->m_query_seconds, "", vnd_now()};
    snprintf(t.app, sizeof t.app, "%s", app ? app->name : "other");
    enum MHD_Result res = proxy(mc, &r, "POST", "/v1/diag", q.json, &t);
    vnd_state_audit(cd->db, w->tenant, "diag", id, 200, q.app);
    vnd_treq_clear(&q);
    vnd_route_clear(&r);
    return res;
}

static enum MHD_Result do_pcap(struct vnd_controld *cd, struct MHD_Connection *mc,
                               const struct who *w, const char *id, const char *name)
{
    struct vnd_route r;
    char *err = NULL, *ts_id = NULL;
    int status = vnd_diagnosis_route_trace(cd, w->tenant, id, name, &r, &ts_id, &err);
    if (status)
        return answer(mc, status, NULL, err);
    char *path = vnd_strdup_printf("/v1/traces/%s/pcap?tenant=%s", ts_id, r.ts_tenant);
    enum MHD_Result res = proxy(mc, &r, "GET", path, NULL, NULL);
    vnd_state_audit(cd->db, w->tenant, "pcap", id, 200, name);
    free(path);
    free(ts_id);
    vnd_route_clear(&r);
    return res;
}

/* GET /v1/topology: the tenant's own virtual network, as it drew it in
 * the NIB: nodes (kind, ports with the addresses it gave them, an
 * appliance's input and output) and links.  Never a host, bridge,
 * OpenFlow port, MAC or iface-id. */
static json_t *topology(struct vnd_controld *cd, const char *tenant)
{
    json_t *nodes = json_array(), *links = json_array();
    pthread_rwlock_rdlock(&cd->nib_lock);
    const struct vnd_nib_tenant *t = vnd_nib_tenant_by_id(cd->nib, tenant);
    for (int i = 0; t && i < t->nnodes; i++) {
        const struct vnd_nib_node *n = &t->nodes[i];
        json_t *ports = json_array();
        for (int p = 0; p < n->nports; p++) {
            json_t *port = json_pack("{s:s}", "name", n->ports[p].name);
            json_object_set_new(port, "ip", n->ports[p].ip ? json_string(n->ports[p].ip)
                                                           : json_null());
            json_array_append_new(ports, port);
        }
        json_t *node = json_pack("{s:s, s:s, s:o}", "name", n->name, "kind",
                                 n->kind == VND_NIB_VM ? "vm" : "appliance", "ports", ports);
        json_object_set_new(node, "input", n->input >= 0 && n->input < n->nports
                            ? json_string(n->ports[n->input].name) : json_null());
        json_object_set_new(node, "output", n->output >= 0 && n->output < n->nports
                            ? json_string(n->ports[n->output].name) : json_null());
        json_array_append_new(nodes, node);
    }
    for (int i = 0; t && i < t->nlinks; i++) {
        const struct vnd_nib_link *l = &t->links[i];
        json_t *ends = json_array();
        for (int e = 0; e < 2; e++) {
            const struct vnd_nib_node *n = &t->nodes[l->node[e]];
            json_array_append_new(ends, json_pack("{s:s, s:s}", "node", n->name, "port",
                                                  n->ports[l->port[e]].name));
        }
        json_array_append_new(links, json_pack("{s:s, s:o}", "name", l->name, "ends", ends));
    }
    pthread_rwlock_unlock(&cd->nib_lock);
    return json_pack("{s:o, s:o}", "nodes", nodes, "links", links);
}

/* Splits "/v1/diagnoses/ID[/REST]" (a copy in buf). */
static bool split_id(const char *url, const char *prefix, char *buf, size_t size,
                     const char **id, const char **rest)
{
    size_t pl = strlen(prefix);
    if (strncmp(url, prefix, pl) != 0 || !url[pl] || strlen(url + pl) >= size)
        return false;
    snprintf(buf, size, "%s", url + pl);
    char *slash = strchr(buf, '/');
    *rest = "";
    if (slash) {
        *slash = 0;
        *rest = slash + 1;
    }
    *id = buf;
    return **id != 0;
}

static enum MHD_Result tenant_routes(struct vnd_controld *cd, struct MHD_Connection *mc,
                                     const struct who *w, const struct vnd_http_request *req)
{
    const char *m = req->method, *url = req->url;
    json_t *reply = NULL;
    char *err = NULL;
    if (strcmp(url, "/v1/topology") == 0) {
        if (strcmp(m, "GET") != 0)
            return vnd_http_send_error(mc, 405, "use GET on /v1/topology");
        return vnd_http_send_json(mc, 200, topology(cd, w->tenant));
    }
    if (strcmp(url, "/v1/diagnoses") == 0) {
        if (strcmp(m, "GET") == 0) {
            int status = vnd_diagnosis_list(cd, w->tenant, &reply);
            return answer(mc, status, reply, NULL);
        }
        if (strcmp(m, "POST") != 0)
            return vnd_http_send_error(mc, 405, "use GET or POST on /v1/diagnoses");
        struct vnd_treq q;
        int status = vnd_treq_parse(VND_TREQ_CREATE, req->body, req->len, req->too_large, &q,
                                    &err);
        if (!status)
            status = vnd_diagnosis_create(cd, w->tenant, &q, &reply, &err);
        vnd_treq_clear(&q);
        return answer(mc, status, reply, err);
    }
    char buf[512];
    const char *id, *rest;
    if (!split_id(url, "/v1/diagnoses/", buf, sizeof buf, &id, &rest))
        return vnd_http_send_error(mc, 404, "no such resource (see docs/api/controld.yaml)");
    if (!*rest) {
        int status;
        if (strcmp(m, "GET") == 0)
            status = vnd_diagnosis_show(cd, w->tenant, id, &reply, &err);
        else if (strcmp(m, "DELETE") == 0)
            status = vnd_diagnosis_delete(cd, w->tenant, id, &reply, &err);
        else
            return vnd_http_send_error(mc, 405, "use GET or DELETE on a diagnosis");
        return answer(mc, status, reply, err);
    }
    if (strcmp(rest, "query") == 0 || strcmp(rest, "diag") == 0) {
        if (strcmp(m, "POST") != 0)
            return vnd_http_send_error(mc, 405, "use POST");
        return rest[0] == 'q' ? do_query(cd, mc, w, id, req) : do_diag(cd, mc, w, id, req);
    }
    if (strncmp(rest, "traces/", 7) == 0) {
        char *name = vnd_xstrdup(rest + 7);
        char *p = strstr(name, "/pcap");
        enum MHD_Result res;
        if (!p || p[5] || p == name)
            res = vnd_http_send_error(mc, 404, "no such resource (see docs/api/controld.yaml)");
        else if (strcmp(m, "GET") != 0)
            res = vnd_http_send_error(mc, 405, "use GET");
        else {
            *p = 0;
            res = do_pcap(cd, mc, w, id, name);
        }
        free(name);
        return res;
    }
    return vnd_http_send_error(mc, 404, "no such resource (see docs/api/controld.yaml)");
}

static enum MHD_Result admin_routes(struct vnd_controld *cd, struct MHD_Connection *mc,
                                    const struct vnd_http_request *req)
{
    const char *m = req->method, *url = req->url;
    json_t *reply = NULL;
    char *err = NULL;
    if (strcmp(url, "/v1/admin/diagnoses") == 0 && strcmp(m, "GET") == 0) {
        int status = vnd_diagnosis_list(cd, NULL, &reply);
        return answer(mc, status, reply, NULL);
    }
    if (strcmp(url, "/v1/admin/budget") == 0 && strcmp(m, "GET") == 0)
        return vnd_http_send_json(mc, 200, vnd_host_budgets_json(cd->budgets));
    if (strcmp(url, "/v1/admin/reconcile") == 0 && strcmp(m, "POST") == 0) {
        int fixes = vnd_diagnosis_reconcile(cd);
        return vnd_http_send_json(mc, 200, json_pack("{s:i}", "fixes", fixes));
    }
    char buf[512];
    const char *id, *rest;
    if (split_id(url, "/v1/admin/diagnoses/", buf, sizeof buf, &id, &rest)
        && strcmp(rest, "policy") == 0 && strcmp(m, "GET") == 0) {
        char *text = NULL;
        int status = vnd_diagnosis_policy(cd, id, &text, &err);
        if (status != 200)
            return answer(mc, status, NULL, err);
        return vnd_http_send_text(mc, 200, text, "text/plain; charset=utf-8");
    }
    return vnd_http_send_error(mc, 404, "no such admin resource (see docs/api/controld.yaml)");
}

static enum MHD_Result handle(void *ctx, struct MHD_Connection *mc,
                              const struct vnd_http_request *req)
{
    struct vnd_controld *cd = ctx;
    struct who w;
    /* the console's files hold no data: no token (docs/console.md) */
    if (vnd_static_is_console(req->url))
        return vnd_static_serve(mc, cd->www_dir, req->method, req->url);
    if (!authenticate(cd, req->token, &w)) {
        if (req->token)
            vnd_warn("%s %s: refused, unknown token", req->method, req->url);
        return vnd_http_send_error(mc, 401, req->token ? "unknown token"
                                   : "missing \"Authorization: Bearer <token>\" header");
    }
    if (strncmp(req->url, "/v1/admin/", 10) == 0) {
        if (!w.admin)
            return vnd_http_send_error(mc, 404, "no such resource (see docs/api/controld.yaml)");
        return admin_routes(cd, mc, req);
    }
    if (!w.tenant[0])
        return vnd_http_send_error(mc, 403, "the operator's secret is for /v1/admin/ only");
    return tenant_routes(cd, mc, &w, req);
}

/* The route template of a request, for vnd_http_requests_total: ids and
 * trace names never become label values. */
static const char *route_of(const char *method, const char *url)
{
    (void)method;
    static const char *const fixed[] = {"/v1/diagnoses", "/v1/admin/diagnoses",
                                        "/v1/admin/reconcile", "/v1/admin/budget",
                                        "/v1/topology"};
    if (vnd_static_is_console(url))
        return "/console";
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (!strcmp(url, fixed[i]))
            return fixed[i];
    const char *prefix = !strncmp(url, "/v1/diagnoses/", 14) ? "/v1/diagnoses/"
                         : !strncmp(url, "/v1/admin/diagnoses/", 20) ? "/v1/admin/diagnoses/"
                                                                     : NULL;
    if (!prefix || !url[strlen(prefix)])
        return NULL;
    const char *rest = strchr(url + strlen(prefix), '/');
    if (prefix[4] == 'a')
        return rest && !strcmp(rest, "/policy") ? "/v1/admin/diagnoses/{id}/policy" : NULL;
    if (!rest)
        return "/v1/diagnoses/{id}";
    if (!strcmp(rest, "/query"))
        return "/v1/diagnoses/{id}/query";
    if (!strcmp(rest, "/diag"))
        return "/v1/diagnoses/{id}/diag";
    size_t n = strlen(rest);
    if (!strncmp(rest, "/traces/", 8) && n > 13 && !strcmp(rest + n - 5, "/pcap"))
        return "/v1/diagnoses/{id}/traces/{name}/pcap";
    return NULL;
}

int vnd_controld_api_start(struct vnd_controld *cd, const char *listen,
                           const struct vnd_http_limits *lim, struct vnd_http **out, char **err)
{
    struct vnd_http_metrics mx = {cd->metrics, cd->metrics_secret, route_of};
    return vnd_http_start_metrics(listen, lim, NULL, handle, cd, &mx, out, err);
}
