/* request.c — routing and strict JSON checks of control API requests. */
#include "api/request.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/opts_json.h"
#include "util/util.h"

bool vnd_api_valid_id(const char *id)
{
    return vnd_plain_name(id);
}

static int refuse(char **err, int status, const char *fmt, const char *arg)
{
    *err = vnd_strdup_printf(fmt, arg);
    return status;
}

/* An integer member in [lo, hi]; absent leaves *out alone. */
static int get_uint(json_t *obj, const char *key, long long lo, long long hi, uint32_t *out,
                    char **err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        *err = vnd_strdup_printf("\"%s\" must be an integer from %lld to %lld", key, lo, hi);
        return 400;
    }
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* Refuses members not in `known` (NULL-terminated). */
static int only_keys(json_t *obj, const char *const *known, char **err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        const char *const *k = known;
        while (*k && strcmp(*k, key))
            k++;
        if (!*k)
            return refuse(err, 400, "unknown member \"%s\" in the request body", key);
    }
    return 0;
}

/* "flow_sampling": 1 flow in N copied by the switch, 1 to 256 (a real:
 * control/ovs.h's effective share of the hash values). */
static int get_flow_sampling(json_t *obj, bool required, double *out, char **err)
{
    json_t *fs = json_object_get(obj, "flow_sampling");
    if (!fs && !required)
        return 0;
    if (!json_is_number(fs) || !(json_number_value(fs) >= 1) || json_number_value(fs) > 256)
        return refuse(err, 400, "%s", "\"flow_sampling\" must be a number from 1 to 256 "
                                      "(1 flow in N copied by the switch)");
    *out = json_number_value(fs);
    return 0;
}

/* PATCH /v1/traces/{id}: {"flow_sampling", "snaplen" or "sampling",
 * "from_ts", "reason"}. */
static int parse_update(json_t *obj, struct vnd_api_request *r, char **err)
{
    static const char *const known[] = {"flow_sampling", "sampling", "snaplen", "from_ts",
                                         "reason", NULL};
    r->flow_sampling = 0;           /* 0: as it was */
    r->switch_snaplen = -1;         /* as it was */
    uint32_t snaplen = 0;
    int rc = only_keys(obj, known, err);
    if (rc || (rc = get_flow_sampling(obj, false, &r->flow_sampling, err))
        || (rc = get_uint(obj, "sampling", 1, VND_API_SAMPLING_MAX, &r->switch_sampling, err))
        || (rc = get_uint(obj, "snaplen", 0, VND_API_SNAPLEN_MAX, &snaplen, err)))
        return rc;
    if (json_object_get(obj, "snaplen")) {
        if (snaplen && snaplen < 14)
            return refuse(err, 400, "%s", "\"snaplen\" below 14 would not keep an Ethernet "
                                          "header (0: whole packets)");
        r->switch_snaplen = snaplen;
    }
    if (!r->flow_sampling && !r->switch_sampling && r->switch_snaplen < 0)
        return refuse(err, 400, "%s", "give \"flow_sampling\" or \"snaplen\" (a mirror "
                                      "trace's) or \"sampling\" (an sflow trace's agent)");
    json_t *from = json_object_get(obj, "from_ts");
    if (!json_is_number(from) || !(json_number_value(from) > 0)
        || json_number_value(from) > 1e11)
        return refuse(err, 400, "%s", "\"from_ts\" (Unix seconds: when the switch changed) "
                                      "is required");
    r->from_ts = json_number_value(from);
    json_t *why = json_object_get(obj, "reason");
    if (why && !json_is_null(why)) {
        if (!json_is_string(why) || json_string_length(why) > 1024
            || strlen(json_string_value(why)) != json_string_length(why))
            return refuse(err, 400, "%s", "\"reason\" must be a string of at most 1024 bytes");
        r->reason = vnd_xstrdup(json_string_value(why));
    }
    return 0;
}

static int parse_create(json_t *obj, struct vnd_api_request *r, char **err)
{
    static const char *const known[] = {"id", "tag", "parse", "snaplen", "sampling",
                                        "retain_mb", "tenant", "cap_point", "direction",
                                        "pattern", "mode", "ifindex", "match",
                                        "flow_sampling", "sampling_method", "filter", NULL};
    int rc = only_keys(obj, known, err);
    if (rc)
        return rc;
    json_t *id = json_object_get(obj, "id");
    if (!json_is_string(id))
        return refuse(err, 400, "%s", "\"id\" (a string) is required");
    if (!vnd_api_valid_id(json_string_value(id)))
        return refuse(err, 400, "\"id\" must be 1 to 63 letters, digits, '_' or '-'; "
                                "got \"%.80s\"", json_string_value(id));
    r->id = vnd_xstrdup(json_string_value(id));
    json_t *tag = json_object_get(obj, "tag");
    if (!tag)
        return refuse(err, 400, "%s", "\"tag\" (the VLAN id the capture rules push) is required");
    uint32_t t = 0;
    if ((rc = get_uint(obj, "tag", VND_API_TAG_MIN, VND_API_TAG_MAX, &t, err)))
        return rc;
    r->tag = (int)t;
    json_t *parse = json_object_get(obj, "parse");
    if (parse && !json_is_null(parse)) {
        if (!json_is_string(parse))
            return refuse(err, 400, "%s", "\"parse\" must be the parse configuration as a string");
        /* The configuration language is text: embedded NULs would cut it. */
        if (strlen(json_string_value(parse)) != json_string_length(parse))
            return refuse(err, 400, "%s", "\"parse\" contains a NUL character");
        r->parse = vnd_xstrdup(json_string_value(parse));
    }
    if ((rc = get_uint(obj, "snaplen", 0, VND_API_SNAPLEN_MAX, &r->snaplen, err))
        || (rc = get_uint(obj, "sampling", 1, VND_API_SAMPLING_MAX, &r->sampling, err))
        || (rc = get_uint(obj, "retain_mb", 0, VND_API_RETAIN_MB_MAX, &r->retain_mb, err)))
        return rc;
    struct { const char *key; char **dst; } desc[] = {
        {"tenant", &r->tenant}, {"cap_point", &r->cap_point},
        {"direction", &r->direction}, {"pattern", &r->pattern},
        {"mode", &r->mode}, {"match", &r->match}, {"filter", &r->filter},
    };
    for (size_t i = 0; i < sizeof desc / sizeof *desc; i++) {
        json_t *v = json_object_get(obj, desc[i].key);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_string(v) || json_string_length(v) > 1024
            || strlen(json_string_value(v)) != json_string_length(v))
            return refuse(err, 400, "\"%s\" must be a string of at most 1024 bytes",
                          desc[i].key);
        *desc[i].dst = vnd_xstrdup(json_string_value(v));
    }
    /* The tenant names the database its traces live in. */
    if (r->tenant && !vnd_api_valid_id(r->tenant))
        return refuse(err, 400, "\"tenant\" must be 1 to 63 letters, digits, '_' or '-'; "
                                "got \"%.80s\"", r->tenant);
    if (r->snaplen && r->snaplen < 14)
        return refuse(err, 400, "%s", "\"snaplen\" below 14 would not keep an Ethernet header "
                                      "(0 keeps whole packets)");
    /* sFlow: the samples of the tenant's port (its ifIndex) matching the
     * trace's pattern ("match", a filter) */
    if (r->mode && strcmp(r->mode, "mirror") && strcmp(r->mode, "sflow")
        && strcmp(r->mode, "ipfix") && strcmp(r->mode, "tap"))
        return refuse(err, 400, "\"mode\" must be \"mirror\", \"sflow\", \"ipfix\" or \"tap\", "
                      "not \"%.20s\"", r->mode);
    bool tap = r->mode && !strcmp(r->mode, "tap");
    if (r->filter && !tap)
        return refuse(err, 400, "%s", "\"filter\" (the kernel's, libpcap's language) goes with "
                                      "mode tap only");
    if ((rc = get_uint(obj, "ifindex", 1, 0x3fffffff, &r->ifindex, err)))
        return rc;
    if ((rc = get_flow_sampling(obj, false, &r->flow_sampling, err)))
        return rc;
    if (r->flow_sampling > 1 && r->mode && strcmp(r->mode, "mirror"))
        return refuse(err, 400, "%s", "\"flow_sampling\" goes with mode mirror only");
    json_t *sm = json_object_get(obj, "sampling_method");
    if (sm && !json_is_null(sm)) {
        if (!json_is_string(sm)
            || (strcmp(json_string_value(sm), "count") && strcmp(json_string_value(sm), "hash")))
            return refuse(err, 400, "%s", "\"sampling_method\" must be \"count\" (every Nth "
                                          "packet) or \"hash\" (packets whose ID hashes to 0 "
                                          "mod N: the same at every capture point)");
        r->sampling_hash = !strcmp(json_string_value(sm), "hash");
        if (r->sampling_hash && r->mode && strcmp(r->mode, "mirror") && !tap)
            return refuse(err, 400, "\"sampling_method\" \"hash\" goes with mode mirror only "
                                    "(%s traces are sampled by the switch)", r->mode);
    }
    if (r->mode && (!strcmp(r->mode, "sflow") || tap)
        && (!r->ifindex || !r->direction
            || (strcmp(r->direction, "in") && strcmp(r->direction, "out"))))
        return refuse(err, 400, "an %s trace needs \"ifindex\" (its port's) and "
                                "\"direction\" (\"in\" or \"out\")", r->mode);
    return 0;
}

/* "format", "tenant" and "traces": what queries and diagnostic
 * applications share. */
static int parse_reader(json_t *obj, struct vnd_api_request *r, char **err)
{
    r->fmt = VND_FMT_JSON;
    json_t *fmt = json_object_get(obj, "format");
    if (fmt && (!json_is_string(fmt) || vnd_fmt_parse(json_string_value(fmt), &r->fmt)))
        return refuse(err, 400, "%s", "\"format\" must be \"json\", \"csv\" or \"table\"");
    json_t *tenant = json_object_get(obj, "tenant");
    if (tenant && !json_is_null(tenant)) {
        if (!json_is_string(tenant) || !vnd_api_valid_id(json_string_value(tenant)))
            return refuse(err, 400, "%s", "\"tenant\" must be 1 to 63 letters, digits, "
                                          "'_' or '-'");
        r->tenant = vnd_xstrdup(json_string_value(tenant));
    }
    json_t *traces = json_object_get(obj, "traces");
    if (traces) {
        if (!json_is_array(traces) || json_array_size(traces) > VND_API_TRACES_MAX)
            return refuse(err, 400, "%s", "\"traces\" must be an array of at most 1024 trace ids");
        r->traces = vnd_xcalloc(json_array_size(traces) + 1, sizeof *r->traces);
        size_t i;
        json_t *v;
        json_array_foreach(traces, i, v) {
            if (!json_is_string(v) || !vnd_api_valid_id(json_string_value(v)))
                return refuse(err, 400, "%s", "\"traces\" holds something that is not a trace id");
            r->traces[r->ntraces++] = vnd_xstrdup(json_string_value(v));
        }
    }
    return 0;
}

static int parse_query(json_t *obj, struct vnd_api_request *r, char **err)
{
    static const char *const known[] = {"sql", "format", "traces", "tenant", NULL};
    int rc = only_keys(obj, known, err);
    if (rc)
        return rc;
    json_t *sql = json_object_get(obj, "sql");
    if (!json_is_string(sql) || json_string_length(sql) == 0)
        return refuse(err, 400, "%s", "\"sql\" (a non-empty string) is required");
    if (strlen(json_string_value(sql)) != json_string_length(sql))
        return refuse(err, 400, "%s", "\"sql\" contains a NUL character");
    r->sql = vnd_xstrdup(json_string_value(sql));
    return parse_reader(obj, r, err);
}

static int parse_diag(json_t *obj, struct vnd_api_request *r, char **err)
{
    static const char *const known[] = {"app", "options", "format", "traces", "tenant",
                                        "min_t", "complete", "plot", "show_sql", NULL};
    int rc = only_keys(obj, known, err);
    if (rc)
        return rc;
    json_t *app = json_object_get(obj, "app");
    if (!json_is_string(app))
        return refuse(err, 400, "%s", "\"app\" (the name of a diagnostic application) "
                                      "is required");
    if (!(r->app = vnd_diag_find(json_string_value(app)))) {
        char names[256] = "";
        for (int i = 0; vnd_diag_apps[i]; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     i ? ", " : "", vnd_diag_apps[i]->name);
        *err = vnd_strdup_printf("no application \"%.80s\" (applications: %s)",
                                 json_string_value(app), names);
        return 400;
    }
    /* The options' strings stay in their object, which the request holds. */
    json_t *opts = json_object_get(obj, "options");
    r->diag_json = opts ? json_incref(opts) : json_object();
    char *why = NULL;
    if (vnd_diag_opts_from_json(r->diag_json, &r->diag, &why)) {
        *err = vnd_strdup_printf("\"options\": %s", why);
        free(why);
        return 400;
    }
    r->min_t = -INFINITY;
    json_t *min_t = json_object_get(obj, "min_t");
    if (min_t) {
        if (!json_is_number(min_t) || !isfinite(json_number_value(min_t)))
            return refuse(err, 400, "%s", "\"min_t\" must be a number (seconds, as t)");
        r->min_t = json_number_value(min_t);
    }
    json_t *complete = json_object_get(obj, "complete");
    if (complete) {
        if (!json_is_boolean(complete))
            return refuse(err, 400, "%s", "\"complete\" must be true or false");
        r->complete = json_is_true(complete);
    }
    json_t *plot = json_object_get(obj, "plot");
    if (plot) {
        if (!json_is_boolean(plot))
            return refuse(err, 400, "%s", "\"plot\" must be true or false");
        r->plot = json_is_true(plot);
    }
    json_t *show = json_object_get(obj, "show_sql");
    if (show) {
        if (!json_is_boolean(show))
            return refuse(err, 400, "%s", "\"show_sql\" must be true or false");
        r->show_sql = json_is_true(show);
    }
    if ((rc = parse_reader(obj, r, err)))
        return rc;
    /* the plot is text: under a table, not inside JSON or CSV */
    if (r->plot && r->fmt != VND_FMT_TABLE)
        return refuse(err, 400, "%s", "\"plot\" needs \"format\": \"table\"");
    return 0;
}

static json_t *load_object(const char *body, size_t len, int *status, char **err)
{
    if (!body || len == 0) {
        *status = refuse(err, 400, "%s", "this request needs a JSON object as its body");
        return NULL;
    }
    json_error_t je;
    json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!obj) {
        *err = vnd_strdup_printf("body:%d:%d: malformed JSON: %s", je.line, je.column, je.text);
        *status = 400;
        return NULL;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        *status = refuse(err, 400, "%s", "the body must be a JSON object");
        return NULL;
    }
    return obj;
}

int vnd_api_parse_request(const char *method, const char *path, const char *body,
                          size_t len, struct vnd_api_request *r, char **err)
{
    memset(r, 0, sizeof *r);
    r->sampling = 1;
    r->flow_sampling = 1;
    if (len > VND_API_BODY_MAX)
        return refuse(err, 413, "%s", "the request body is larger than 1 MiB");

    bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST"),
         del = !strcmp(method, "DELETE"), patch = !strcmp(method, "PATCH");
    const char *rest;
    if (!strcmp(path, "/v1/query")) {
        if (!post)
            return refuse(err, 405, "%s", "/v1/query takes POST");
        r->op = VND_API_QUERY;
    } else if (!strcmp(path, "/v1/diag")) {
        if (!post)
            return refuse(err, 405, "%s", "/v1/diag takes POST");
        r->op = VND_API_DIAG;
    } else if (!strcmp(path, "/v1/traces") || !strcmp(path, "/v1/traces/")) {
        if (get)
            r->op = VND_API_LIST;
        else if (post)
            r->op = VND_API_CREATE;
        else
            return refuse(err, 405, "%s", "/v1/traces takes GET or POST");
    } else if (!strncmp(path, "/v1/traces/", 11)) {
        rest = path + 11;
        const char *slash = strchr(rest, '/');
        size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
        r->id = vnd_xstrndup(rest, n);
        if (!vnd_api_valid_id(r->id))
            return refuse(err, 404, "%s", "no such trace (not a valid trace id)");
        if (slash && !strcmp(slash, "/pcap")) {
            if (!get)
                return refuse(err, 405, "%s", "/v1/traces/{id}/pcap takes GET");
            r->op = VND_API_PCAP;
        } else if (slash) {
            return refuse(err, 404, "%s", "no such resource (try /v1/traces/{id} or "
                                          "/v1/traces/{id}/pcap)");
        } else if (get) {
            r->op = VND_API_GET;
        } else if (del) {
            r->op = VND_API_DELETE;
        } else if (patch) {
            r->op = VND_API_UPDATE;
        } else {
            return refuse(err, 405, "%s", "/v1/traces/{id} takes GET, PATCH or DELETE");
        }
    } else {
        return refuse(err, 404, "%s", "no such resource (the API lives under /v1/traces, "
                                      "/v1/query and /v1/diag)");
    }

    if (r->op != VND_API_CREATE && r->op != VND_API_QUERY && r->op != VND_API_DIAG
        && r->op != VND_API_UPDATE)
        return 0;
    int status = 0;
    json_t *obj = load_object(body, len, &status, err);
    if (!obj)
        return status;
    status = r->op == VND_API_CREATE ? parse_create(obj, r, err)
             : r->op == VND_API_UPDATE ? parse_update(obj, r, err)
             : r->op == VND_API_QUERY ? parse_query(obj, r, err)
                                      : parse_diag(obj, r, err);
    json_decref(obj);
    return status;
}

void vnd_api_request_clear(struct vnd_api_request *r)
{
    free(r->id);
    free(r->parse);
    free(r->tenant);
    free(r->cap_point);
    free(r->direction);
    free(r->pattern);
    free(r->mode);
    free(r->filter);
    free(r->match);
    free(r->sql);
    free(r->reason);
    for (int i = 0; i < r->ntraces; i++)
        free(r->traces[i]);
    free(r->traces);
    json_decref(r->diag_json);
    memset(r, 0, sizeof *r);
}

char *vnd_api_error_json(const char *msg)
{
    /* Messages may echo bytes a client sent: keep them valid UTF-8. */
    char *clean = vnd_xstrdup(msg ? msg : "error");
    for (unsigned char *p = (unsigned char *)clean; *p; p++)
        if (*p >= 0x80 || *p < 0x20)
            *p = '?';
    json_t *o = json_pack("{s:s}", "error", clean);
    free(clean);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        return vnd_xstrdup("{\"error\":\"error\"}");
    char *copy = vnd_xstrdup(s);   /* callers free() with libc; jansson may use its own */
    free(s);
    return copy;
}
