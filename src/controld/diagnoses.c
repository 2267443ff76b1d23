/* diagnoses.c — create, show, stop and reconcile diagnoses.
 *
 * A diagnosis d<N> of tenant T lives in three places, always changed
 * together under cd->lock:
 *   - the state database (controld/state.h);
 *   - the table servers of its capture hosts: one trace per capture point
 *     and direction, id "d<N>_<i>", in the table server's tenant "T-d<N>"
 *     (a database of its own, so the tenant's own virtual names can be its
 *     table names: `select ... from ids_in`);
 *   - the bridges: one table-0 rule per trace, cookie VND_COOKIE(N, i).
 * Creation goes table servers first, rules second (no copy ever arrives
 * for a trace that does not exist yet); stopping goes the other way. */
#include "controld/diagnoses.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/tenant_request.h"
#include "control/header_ladder.h"
#include "control/ovs.h"
#include "control/policy.h"
#include "control/tsclient.h"
#include "controld/distributed.h"
#include "controld/state.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "lang/collectconf.h"
#include "lang/parseconf.h"
#include "util/util.h"

#define TAG_MAX 4094

/* ---- small helpers ---- */

static int fail(char **err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **err, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    *err = vnd_xstrdup(msg);
    return status;
}

static json_t *iso_time(double t)
{
    if (!(t > 0))
        return json_null();
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

/* "d12" → 12; anything else → 0 (no diagnosis has number 0). */
static long long diag_num(const char *id)
{
    if (!id || id[0] != 'd' || !isdigit((unsigned char)id[1]) || strlen(id) > 12)
        return 0;
    char *end;
    long long n = strtoll(id + 1, &end, 10);
    return *end || n <= 0 ? 0 : n;
}

static const struct vnd_nib_host *host_by_name(const struct vnd_nib *nib, const char *name)
{
    for (int i = 0; i < nib->nhosts; i++)
        if (strcmp(nib->hosts[i].name, name) == 0)
            return &nib->hosts[i];
    return NULL;
}

/* A copy of what talking to one host takes, so the NIB may be swapped
 * while we talk. */
struct host {
    char *name, *bridge, *ofctl, *url, *secret, *ovsdb;
    int mirror;
};

static bool host_get(struct vnd_controld *cd, const char *name, struct host *h)
{
    pthread_rwlock_rdlock(&cd->nib_lock);
    const struct vnd_nib_host *n = host_by_name(cd->nib, name);
    if (n) {
        h->name = vnd_xstrdup(n->name);
        h->bridge = vnd_xstrdup(n->bridge);
        h->ofctl = vnd_xstrdup(n->ofctl);
        h->url = vnd_xstrdup(n->tabled_url);
        h->secret = vnd_xstrdup(n->tabled_secret ? n->tabled_secret : "");
        h->mirror = n->mirror_port;
        h->ovsdb = n->ovsdb ? vnd_xstrdup(n->ovsdb) : NULL;
    }
    pthread_rwlock_unlock(&cd->nib_lock);
    return n != NULL;
}

static void host_clear(struct host *h)
{
    free(h->name);
    free(h->bridge);
    free(h->ofctl);
    free(h->url);
    free(h->secret);
    free(h->ovsdb);
    memset(h, 0, sizeof *h);
}

/* ---- traces as stored ---- */

struct trow {
    long long diag;
    int idx;
    char *name, *node, *point, *direction, *pattern, *tables, *host, *port, *match;
    int ofport, tag, bit, sampling, snaplen, flow_sampling;
    /* the tenant's; flow_sampling and an sflow trace's sampling may be
     * above them (a host budget) */
    int flow_sampling_asked, sampling_asked;
    /* the tenant's Snaplen; the bytes a host budget may cut the copies to
     * (policy.h's vnd_policy_header_bytes; 0: not this trace's lever) */
    int snaplen_asked, header_bytes;
    char *parse_text;
    long long stored, bytes;
    struct vnd_capture_match m;
    char *tenant, *state;
    char *mode;                     /* "mirror", "sflow", "ipfix" or "tap" */
    int ipfix_timeout, ipfix_flows;
    int sflow_polling;              /* at creation only (sflow_wanted reads the state) */
    bool sampling_hash;             /* sampling_method "hash" (ingest/sampling.h) */
};

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return vnd_xstrdup(t ? (const char *)t : "");
}

#define TROW_COLS "t.diag, t.idx, t.name, t.node, t.point, t.direction, t.pattern, t.tables," \
    " t.host, t.port, t.match, t.ofport, t.tag, t.bit, t.sampling, t.snaplen, t.parse_text," \
    " t.stored, t.bytes, t.match_blob, d.tenant, d.state, t.mode, t.ipfix_timeout," \
    " t.ipfix_flows, t.flow_sampling, t.sampling_method, t.flow_sampling_asked," \
    " t.sampling_asked, t.snaplen_asked, t.header_bytes"

static void trow_read(sqlite3_stmt *st, struct trow *r)
{
    memset(r, 0, sizeof *r);
    r->diag = sqlite3_column_int64(st, 0);
    r->idx = sqlite3_column_int(st, 1);
    r->name = col_dup(st, 2);
    r->node = col_dup(st, 3);
    r->point = col_dup(st, 4);
    r->direction = col_dup(st, 5);
    r->pattern = col_dup(st, 6);
    r->tables = col_dup(st, 7);
    r->host = col_dup(st, 8);
    r->port = col_dup(st, 9);
    r->match = col_dup(st, 10);
    r->ofport = sqlite3_column_int(st, 11);
    r->tag = sqlite3_column_int(st, 12);
    r->bit = sqlite3_column_int(st, 13);
    r->sampling = sqlite3_column_int(st, 14);
    r->snaplen = sqlite3_column_int(st, 15);
    r->parse_text = col_dup(st, 16);
    r->stored = sqlite3_column_int64(st, 17);
    r->bytes = sqlite3_column_int64(st, 18);
    if (sqlite3_column_bytes(st, 19) == (int)sizeof r->m)
        memcpy(&r->m, sqlite3_column_blob(st, 19), sizeof r->m);
    r->tenant = col_dup(st, 20);
    r->state = col_dup(st, 21);
    r->mode = col_dup(st, 22);
    r->ipfix_timeout = sqlite3_column_int(st, 23);
    r->ipfix_flows = sqlite3_column_int(st, 24);
    r->flow_sampling = sqlite3_column_int(st, 25);
    r->sampling_hash = sqlite3_column_text(st, 26)
                       && !strcmp((const char *)sqlite3_column_text(st, 26), "hash");
    r->flow_sampling_asked = sqlite3_column_int(st, 27);
    r->sampling_asked = sqlite3_column_int(st, 28);
    r->snaplen_asked = sqlite3_column_int(st, 29);
    r->header_bytes = sqlite3_column_int(st, 30);
}

static void trow_clear(struct trow *r)
{
    free(r->name); free(r->node); free(r->point); free(r->direction); free(r->pattern);
    free(r->tables); free(r->host); free(r->port); free(r->match); free(r->parse_text);
    free(r->tenant); free(r->state); free(r->mode);
}

/* The traces of a query with TROW_COLS (malloc'd array). */
static struct trow *trows_load(sqlite3_stmt *st, int *n)
{
    struct trow *v = NULL;
    *n = 0;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        v = vnd_xrealloc(v, (size_t)(*n + 1) * sizeof *v);
        trow_read(st, &v[(*n)++]);
    }
    sqlite3_finalize(st);
    return v;
}

static void trows_free(struct trow *v, int n)
{
    for (int i = 0; i < n; i++)
        trow_clear(&v[i]);
    free(v);
}

static struct trow *diag_traces(struct vnd_controld *cd, long long num, int *n)
{
    return trows_load(vnd_state_query(cd->db, "SELECT " TROW_COLS " FROM trace t JOIN diagnosis d"
                                      " ON d.num = t.diag WHERE t.diag = ? ORDER BY t.idx",
                                      "I", num), n);
}

/* The tenant's diagnosis `id`: 0 and its state, or 404. */
static int diag_find(struct vnd_controld *cd, const char *tenant, const char *id,
                     long long *num, char **state, char **err)
{
    long long n = diag_num(id);
    sqlite3_stmt *st = vnd_state_query(cd->db, "SELECT state FROM diagnosis WHERE num = ?"
                                       " AND (? IS NULL OR tenant = ?)", "Iss", n, tenant, tenant);
    int found = st && sqlite3_step(st) == SQLITE_ROW;
    if (found && state)
        *state = col_dup(st, 0);
    sqlite3_finalize(st);
    if (!found)
        return fail(err, 404, "no diagnosis %.40s", id ? id : "");
    *num = n;
    return 0;
}

static char *ts_tenant(const char *tenant, long long num)
{
    return vnd_strdup_printf("%s-d%lld", tenant, num);
}

static char *ts_trace_id(long long num, int idx)
{
    return vnd_strdup_printf("d%lld_%d", num, idx);
}

/* ---- table servers ---- */

/* An sFlow trace has no rule (and no reg7 bit): its host's bridge samples. */
/* A tap: the table server reads the port's interface, the switch has no
 * rule of it. */
#define TROW_TAP(r) (strcmp((r)->mode, "tap") == 0)
/* No capture rule in the switch: sflow (the bridge's agent) and tap. */
#define TROW_RULELESS(r) ((r)->bit < 0)
/* (by the bit, as before the mode was kept: a state of then says mirror) */
#define TROW_SFLOW(r) (TROW_RULELESS(r) && !TROW_TAP(r))
/* An IPFIX trace's rule samples into the bridge's VND collector set. */
#define TROW_IPFIX(r) (strcmp((r)->mode, "ipfix") == 0)

/* Where `host`'s table server collects `kind` ("sflow", "ipfix"), e.g.
 * "127.0.0.1:6343", as its answers said: kept in the state, so a restarted
 * control server can set the bridge's agent or exporter again (cd->lock
 * held). */
static void collector_target_note(struct vnd_controld *cd, const char *kind, const char *host,
                                  const char *target)
{
    vnd_state_exec(cd->db, "INSERT OR REPLACE INTO collector_target (host, kind, target)"
                   " VALUES (?, ?, ?)", "sss", host, kind, target);
}

/* malloc'd, or NULL when the host's table server never said. */
static char *collector_target(struct vnd_controld *cd, const char *kind, const char *host)
{
    sqlite3_stmt *st = vnd_state_query(cd->db, "SELECT target FROM collector_target"
                                       " WHERE host = ? AND kind = ?", "ss", host, kind);
    char *t = st && sqlite3_step(st) == SQLITE_ROW ? col_dup(st, 0) : NULL;
    sqlite3_finalize(st);
    return t;
}

static int ts_create(struct vnd_controld *cd, const struct host *h, const char *tenant,
                     const struct trow *r, char **why)
{
    char *id = ts_trace_id(r->diag, r->idx), *tt = ts_tenant(tenant, r->diag);
    char *cap = vnd_strdup_printf("%s %s", r->node, r->point);
    json_t *body = json_pack("{s:s, s:i, s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s}",
                             "id", id, "tag", r->tag, "tenant", tt, "parse", r->parse_text,
                             "sampling", r->sampling, "snaplen", r->snaplen,
                             "retain_mb", cd->retain_mb, "cap_point", cap,
                             "direction", r->direction, "pattern", r->pattern);
    long status = 0;
    json_t *reply = NULL;
    int rc = 0;
    if (r->flow_sampling > 1)   /* the share the switch really copies: vnd_meta's */
        json_object_set_new(body, "flow_sampling",
                            json_real(vnd_flow_sampling_effective(r->flow_sampling)));
    if (r->sampling_hash)
        json_object_set_new(body, "sampling_method", json_string("hash"));
    if (TROW_SFLOW(r) || TROW_TAP(r)) {
        /* sflow: the samples of the port's ifIndex, the pattern applied
         * there; tap: that interface read by the table server, the pattern
         * its kernel's filter too */
        uint32_t ifindex = 0;
        if (vnd_ovs_ifindex(h->ovsdb, h->bridge, r->ofport, &ifindex, why)) {
            json_decref(body);
            free(id);
            free(tt);
            free(cap);
            return -1;
        }
        char *match = vnd_capture_filter_text(&r->m);
        /* (by TROW_TAP: a state of before the mode column says mirror) */
        json_object_set_new(body, "mode", json_string(TROW_TAP(r) ? "tap" : "sflow"));
        json_object_set_new(body, "ifindex", json_integer(ifindex));
        if (*match)
            json_object_set_new(body, "match", json_string(match));
        free(match);
        char *bpf = TROW_TAP(r) ? vnd_capture_bpf_text(&r->m) : NULL;
        if (bpf && *bpf)
            json_object_set_new(body, "filter", json_string(bpf));
        free(bpf);
    } else if (TROW_IPFIX(r)) {
        /* the records whose observation point is the trace's tag */
        json_object_set_new(body, "mode", json_string("ipfix"));
    }
    rc = vnd_ts_call(h->url, h->secret, "POST", "/v1/traces", body, &status, &reply, why);
    if (rc == 0 && status != 201) {
        const char *e = json_string_value(json_object_get(reply, "error"));
        *why = vnd_strdup_printf("table server %s: %ld %s", h->url, status, e ? e : "");
        rc = -1;
    }
    const char *coll = json_string_value(json_object_get(reply, "collector"));
    if (rc == 0 && coll && TROW_IPFIX(r))
        collector_target_note(cd, "ipfix", h->name, coll);
    else if (rc == 0 && coll)
        collector_target_note(cd, "sflow", h->name, coll);
    json_decref(body);
    json_decref(reply);
    free(id);
    free(tt);
    free(cap);
    return rc;
}

static int ts_delete(const struct host *h, const char *tenant, long long num, int idx, char **why)
{
    char *id = ts_trace_id(num, idx), *tt = ts_tenant(tenant, num);
    char *path = vnd_strdup_printf("/v1/traces/%s?tenant=%s", id, tt);
    long status = 0;
    json_t *reply = NULL;
    int rc = vnd_ts_call(h->url, h->secret, "DELETE", path, NULL, &status, &reply, why);
    if (rc == 0 && status != 200 && status != 204 && status != 404) {
        *why = vnd_strdup_printf("table server %s: DELETE %s: %ld", h->url, id, status);
        rc = -1;
    }
    json_decref(reply);
    free(path);
    free(id);
    free(tt);
    return rc;
}

/* ---- rules ---- */

static struct vnd_capture_rule rule_of(const struct trow *r, int mirror)
{
    /* a group's bucket cannot truncate (collect.md): the table server
     * cuts the copies of a flow-sampled trace */
    return (struct vnd_capture_rule){VND_COOKIE(r->diag, r->idx), r->match, r->tag, r->bit,
                                     mirror,
                                     TROW_IPFIX(r) || r->flow_sampling > 1 ? 0 : r->snaplen,
                                     TROW_IPFIX(r) ? r->sampling : 0, r->flow_sampling};
}

/* What the sFlow agent of `host`'s bridge should be, from the sFlow traces
 * of diagnoses starting or running there: 1 in the smallest N they ask
 * (the table server keeps 1 in N of each trace's), the largest header,
 * the shortest counter polling.  OVS samples per bridge, so this is the
 * one setting of the bridge.
 * Returns how many traces want it; c->target is malloc'd (NULL when the
 * host's table server never said where it collects).  cd->lock held. */
#define SFLOW_HEADER 128
static int sflow_wanted(struct vnd_controld *cd, const char *host, struct vnd_sflow_conf *c)
{
    sqlite3_stmt *st = vnd_state_query(cd->db, "SELECT count(*), min(t.sampling),"
                                       " max(t.snaplen), min(nullif(t.sflow_polling, 0))"
                                       " FROM trace t JOIN diagnosis d"
                                       " ON d.num = t.diag WHERE t.host = ? AND t.bit < 0"
                                       " AND t.mode <> 'tap'"
                                       " AND d.state IN ('starting', 'running')", "s", host);
    int count = 0, sampling = 1, header = 0, polling = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        count = sqlite3_column_int(st, 0);
        sampling = sqlite3_column_int(st, 1);
        header = sqlite3_column_int(st, 2);
        polling = sqlite3_column_int(st, 3);
    }
    sqlite3_finalize(st);
    *c = (struct vnd_sflow_conf){collector_target(cd, "sflow", host), sampling > 0 ? sampling : 1,
                                 header > 0 ? header : SFLOW_HEADER,
                                 polling > 0 ? polling : VND_SFLOW_POLLING_DEFAULT, NULL};
    return count;
}

/* Sets the sFlow agent of `host`'s bridge as sflow_wanted says; none
 * wanted: sFlow off (cd->lock held). */
static int sflow_apply(struct vnd_controld *cd, const char *host, char **why)
{
    struct vnd_sflow_conf c;
    int count = sflow_wanted(cd, host, &c);
    struct host h;
    if (!host_get(cd, host, &h)) {
        free((char *)c.target);
        return 0;
    }
    char *e = NULL;
    int rc = 0;
    if (!count || c.target)
        rc = vnd_ovs_sflow_set(h.ovsdb, h.bridge, count ? &c : NULL, &e);
    if (rc) {
        if (why)
            *why = e;
        else {
            vnd_warn("sflow on %s: %s", host, e);
            free(e);
        }
    } else if (count) {
        vnd_info("sflow on %s/%s: 1 in %d, %d header bytes, to %s", host, h.bridge, c.sampling,
                 c.header, c.target);
    }
    host_clear(&h);
    free((char *)c.target);
    return rc;
}

/* Sets the IPFIX exporter of `host`'s bridge (VND's flow sample collector
 * set, which the ipfix rules' sample actions name) from the IPFIX traces
 * of diagnoses starting or running there: the shortest active timeout
 * and the largest cache they ask; none left: the set goes (OVS flushes
 * its cache to the collector first).  Sampling is each rule's own
 * (cd->lock held). */
static int ipfix_apply(struct vnd_controld *cd, const char *host, char **why)
{
    sqlite3_stmt *st = vnd_state_query(cd->db, "SELECT count(*), min(t.ipfix_timeout),"
                                       " max(t.ipfix_flows) FROM trace t JOIN diagnosis d"
                                       " ON d.num = t.diag WHERE t.host = ? AND t.mode = 'ipfix'"
                                       " AND d.state IN ('starting', 'running')", "s", host);
    int count = 0, timeout = 0, flows = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        count = sqlite3_column_int(st, 0);
        timeout = sqlite3_column_int(st, 1);
        flows = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    struct host h;
    if (!host_get(cd, host, &h))
        return 0;
    char *target = collector_target(cd, "ipfix", host);
    struct vnd_ipfix_conf c = {target, timeout, flows};
    char *e = NULL;
    int rc = 0;
    if (!count || target)
        rc = vnd_ovs_ipfix_set(h.ovsdb, h.bridge, count ? &c : NULL, &e);
    if (rc) {
        if (why)
            *why = e;
        else {
            vnd_warn("ipfix on %s: %s", host, e);
            free(e);
        }
    } else if (count) {
        vnd_info("ipfix on %s/%s: cache %d s, %d flows, to %s", host, h.bridge, c.active_timeout,
                 c.max_flows, target);
    }
    free(target);
    host_clear(&h);
    return rc;
}

/* ipfix_apply on every host of `v` that has an IPFIX trace there. */
static int ipfix_apply_all(struct vnd_controld *cd, const struct trow *v, int n, char **why)
{
    for (int i = 0; i < n; i++) {
        if (!TROW_IPFIX(&v[i]))
            continue;
        bool first = true;
        for (int j = 0; j < i; j++)
            first &= !(TROW_IPFIX(&v[j]) && strcmp(v[j].host, v[i].host) == 0);
        if (first && ipfix_apply(cd, v[i].host, why))
            return -1;
    }
    return 0;
}

/* sflow_apply on every host of `v` that has an sFlow trace there. */
static int sflow_apply_all(struct vnd_controld *cd, const struct trow *v, int n, char **why)
{
    for (int i = 0; i < n; i++) {
        if (!TROW_SFLOW(&v[i]))
            continue;
        bool first = true;
        for (int j = 0; j < i; j++)
            first &= !(TROW_SFLOW(&v[j]) && strcmp(v[j].host, v[i].host) == 0);
        if (first && sflow_apply(cd, v[i].host, why))
            return -1;
    }
    return 0;
}

/* The tags of the flow-sampled traces of `v` on `host`: their groups'
 * ids (malloc'd, *k of them). */
static int *group_tags(const struct trow *v, int n, const char *host, int *k)
{
    int *tags = vnd_xcalloc((size_t)n + 1, sizeof *tags);
    *k = 0;
    for (int i = 0; i < n; i++)
        if (v[i].flow_sampling > 1 && !TROW_RULELESS(&v[i]) && strcmp(v[i].host, host) == 0)
            tags[(*k)++] = v[i].tag;
    return tags;
}

/* Removes the rules of diagnosis `num` from host `h`, then their groups. */
static int rules_remove_host(const struct host *h, long long num, const struct trow *v, int n,
                             char **why)
{
    if (vnd_ovs_delete(h->ofctl, VND_COOKIE(num, 0), VND_COOKIE_DIAG_MASK, why))
        return -1;
    int k;
    int *tags = group_tags(v, n, h->name, &k);
    int rc = vnd_ovs_delete_groups(h->ofctl, tags, k, why);
    free(tags);
    return rc;
}

/* Installs the rules of `v` (n traces) host by host, a bundle each; on a
 * failure removes what it installed. */
static int rules_install(struct vnd_controld *cd, long long num, struct trow *v, int n,
                         char **why)
{
    bool *done = vnd_xcalloc((size_t)n, sizeof *done);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        if (done[i] || TROW_RULELESS(&v[i]))
            continue;
        struct host h;
        if (!host_get(cd, v[i].host, &h)) {
            *why = vnd_strdup_printf("host %s is no longer in the NIB", v[i].host);
            rc = -1;
            break;
        }
        struct vnd_capture_rule *rules = vnd_xcalloc((size_t)n, sizeof *rules);
        int k = 0;
        for (int j = i; j < n; j++)
            if (!done[j] && !TROW_RULELESS(&v[j]) && strcmp(v[j].host, v[i].host) == 0) {
                rules[k++] = rule_of(&v[j], h.mirror);
                done[j] = true;
            }
        rc = vnd_ovs_add(h.ofctl, rules, k, why);
        free(rules);
        host_clear(&h);
    }
    if (rc) {
        char *e2 = NULL;
        for (int i = 0; i < n; i++) {
            struct host h;
            if (done[i] && host_get(cd, v[i].host, &h)) {
                if (rules_remove_host(&h, num, v, n, &e2)) {
                    vnd_warn("d%lld: removing its rules again: %s", num, e2);
                    free(e2);
                    e2 = NULL;
                }
                host_clear(&h);
            }
        }
    }
    free(done);
    return rc;
}

/* Removes the diagnosis's rules from every host it has traces on. */
static int rules_remove(struct vnd_controld *cd, long long num, struct trow *v, int n)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        bool first = true;
        for (int j = 0; j < i; j++)
            first &= strcmp(v[j].host, v[i].host) != 0;
        struct host h;
        if (!first || !host_get(cd, v[i].host, &h))
            continue;
        char *why = NULL;
        if (rules_remove_host(&h, num, v, n, &why)) {
            vnd_err("d%lld: removing its rules on %s: %s", num, h.name, why);
            free(why);
            rc = -1;
        }
        host_clear(&h);
    }
    return rc;
}

/* ---- creating ---- */

/* The lowest tag free on `host` and the lowest reg7 bit that no live rule
 * overlapping `m` on it uses (also among the traces of `v` given before). */
static int pick_tag_bit(struct vnd_controld *cd, const char *host, const struct vnd_capture_match *m,
                        struct trow *v, int n, int *tag, int *bit)
{
    static unsigned char used_tag[TAG_MAX + 1];
    memset(used_tag, 0, sizeof used_tag);
    uint32_t used_bits = 0;
    sqlite3_stmt *st = vnd_state_query(cd->db, "SELECT " TROW_COLS " FROM trace t JOIN diagnosis d"
                                       " ON d.num = t.diag WHERE t.host = ?", "s", host);
    int nl = 0;
    struct trow *live = trows_load(st, &nl);
    for (int i = 0; i < nl; i++) {
        if (live[i].tag >= 1 && live[i].tag <= TAG_MAX)
            used_tag[live[i].tag] = 1;
        if (live[i].bit >= 0 && strcmp(live[i].state, "running") == 0
            && vnd_capture_match_overlap(&live[i].m, m))
            used_bits |= 1u << live[i].bit;
    }
    trows_free(live, nl);
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].host, host) == 0) {
            used_tag[v[i].tag] = 1;
            if (v[i].bit >= 0 && vnd_capture_match_overlap(&v[i].m, m))
                used_bits |= 1u << v[i].bit;
        }
    *tag = *bit = -1;
    for (int t = 1; t <= TAG_MAX && *tag < 0; t++)
        if (!used_tag[t])
            *tag = t;
    for (int b = 0; b < VND_CAPTURE_BITS && *bit < 0; b++)
        if (!(used_bits & (1u << b)))
            *bit = b;
    return *tag < 0 ? -1 : *bit < 0 ? -2 : 0;
}

static json_t *trace_json(const struct trow *r)
{
    json_t *tables = json_loads(r->tables, 0, NULL);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:s, s:i, s:s, s:i}", "name", r->name,
                     "node", r->node, "point", r->point, "direction", r->direction,
                     "pattern", r->pattern, "tables", tables ? tables : json_array(),
                     "sampling", r->sampling,
                     "sampling_method", r->sampling_hash ? "hash" : "count",
                     "snaplen", r->snaplen,
                     "mode", TROW_SFLOW(r) ? "sflow" : r->mode,
                     "flow_sampling", r->flow_sampling > 1 ? r->flow_sampling : 1);
}

static json_t *summary_json(sqlite3_stmt *st, bool with_tenant)
{
    /* num, tenant, state, created, ends, stopped, reason, ntraces */
    json_t *o = json_object();
    json_object_set_new(o, "id", json_sprintf("d%lld", sqlite3_column_int64(st, 0)));
    if (with_tenant)
        json_object_set_new(o, "tenant", json_string((const char *)sqlite3_column_text(st, 1)));
    json_object_set_new(o, "state", json_string((const char *)sqlite3_column_text(st, 2)));
    json_object_set_new(o, "created", iso_time(sqlite3_column_double(st, 3)));
    json_object_set_new(o, "ends", iso_time(sqlite3_column_double(st, 4)));
    json_object_set_new(o, "stopped", iso_time(sqlite3_column_double(st, 5)));
    const unsigned char *why = sqlite3_column_text(st, 6);
    json_object_set_new(o, "reason", why ? json_string((const char *)why) : json_null());
    json_object_set_new(o, "traces", json_integer(sqlite3_column_int(st, 7)));
    return o;
}

#define SUMMARY_SQL "SELECT d.num, d.tenant, d.state, d.created, d.ends, d.stopped, d.reason," \
    " (SELECT count(*) FROM trace t WHERE t.diag = d.num) FROM diagnosis d"

/* Deletes the table server traces of `v` (n of diagnosis num) and the
 * diagnosis from the state.  A trace a table server could not delete now
 * is an orphan that reconcile removes once it answers. */
static void forget(struct vnd_controld *cd, const char *tenant, long long num,
                   struct trow *v, int n)
{
    for (int i = 0; i < n; i++) {
        struct host h;
        char *why = NULL;
        if (host_get(cd, v[i].host, &h)) {
            if (ts_delete(&h, tenant, num, v[i].idx, &why)) {
                vnd_warn("d%lld: trace %s: %s", num, v[i].name, why);
                free(why);
            }
            host_clear(&h);
        }
    }
    vnd_distributed_drop(cd, num);
    vnd_state_exec(cd->db, "DELETE FROM trace WHERE diag = ?", "I", num);
    vnd_state_exec(cd->db, "DELETE FROM diagnosis WHERE num = ?", "I", num);
}

/* The diagnosis's foreign tables and views on the coordinator (none in
 * the embedded mode).  Returns 0 or -1 and *why. */
static int coord_create(struct vnd_controld *cd, const char *tenant, long long num,
                        const struct trow *v, int n, char **why)
{
    if (!cd->coord)
        return 0;
    struct vnd_dtrace *t = vnd_xcalloc((size_t)n + 1, sizeof *t);
    for (int i = 0; i < n; i++)
        t[i] = (struct vnd_dtrace){v[i].host, v[i].name, v[i].parse_text,
                                   v[i].mode && !strcmp(v[i].mode, "ipfix")};
    int rc = vnd_distributed_create(cd, tenant, num, t, n, why);
    free(t);
    return rc;
}

int vnd_diagnosis_create(struct vnd_controld *cd, const char *tenant,
                         const struct vnd_treq *req, json_t **reply, char **err)
{
    const struct vnd_treq q = *req;
    int status = 0;
    struct vnd_collect_conf *cc = NULL;
    struct vnd_parse_conf *pc = NULL, *fpc = NULL;
    struct vnd_policy *pol = NULL;
    struct trow *v = NULL;
    int n = 0, created = 0;
    long long num = 0;
    char *why = NULL;
    if (vnd_collectconf_parse(q.collect, q.collect_name, &cc, err))
        return 400;
    const char *parse_text = q.parse ? q.parse : vnd_parseconf_default_text;
    if (vnd_parseconf_parse(parse_text, q.parse_name, &pc, err)
        || vnd_parseconf_parse(vnd_parseconf_flow_default_text, "flow default", &fpc, err)) {
        status = 400;
        goto out;
    }

    /* The policy, and the hosts' names it lands on, from the NIB as it is now. */
    struct vnd_nib_quota quota = {0};
    char **hostnames = NULL;
    pthread_rwlock_rdlock(&cd->nib_lock);
    const struct vnd_nib_tenant *t = vnd_nib_tenant_by_id(cd->nib, tenant);
    if (!t) {
        status = fail(err, 401, "unknown tenant");
    } else if (vnd_policy_compile(cd->nib, t, cc, q.collect_name, &pol, err)) {
        status = 400;
    } else {
        quota = t->quota;
        hostnames = vnd_xcalloc((size_t)pol->ntraces + 1, sizeof *hostnames);
        for (int i = 0; i < pol->ntraces; i++)
            hostnames[i] = vnd_xstrdup(cd->nib->hosts[pol->traces[i].host].name);
    }
    pthread_rwlock_unlock(&cd->nib_lock);
    if (status)
        goto out;
    if (pol->ntraces == 0) {
        status = fail(err, 400, "%s: no capture point", q.collect_name);
        goto out_hosts;
    }
    if (vnd_policy_check_parse(pol, pc, q.parse_name, err)) {
        status = 400;
        goto out_hosts;
    }

    pthread_mutex_lock(&cd->lock);
    /* Quotas, counted from the state. */
    sqlite3_stmt *st = vnd_state_query(cd->db, "SELECT count(*) FROM diagnosis WHERE tenant = ?",
                                       "s", tenant);
    long long live = 0, rows = 0, bytes = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        live = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = vnd_state_query(cd->db, "SELECT coalesce(sum(stored),0), coalesce(sum(bytes),0) FROM"
                         " trace t JOIN diagnosis d ON d.num = t.diag WHERE d.tenant = ?", "s",
                         tenant);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        rows = sqlite3_column_int64(st, 0);
        bytes = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (quota.live_diagnoses && live >= quota.live_diagnoses) {
        status = fail(err, 403, "quota: %lld of %d diagnoses already exist; stop one first "
                      "(vnd stop ID)", live, quota.live_diagnoses);
        goto out_unlock;
    }
    if ((quota.rows && rows >= quota.rows) || (quota.bytes && bytes >= quota.bytes)) {
        status = fail(err, 403, "quota: your diagnoses already store %lld rows (%lld bytes of "
                      "raw packets), the most your cloud allows; stop one first", rows, bytes);
        goto out_unlock;
    }

    double now = vnd_wall_now();
    if (vnd_state_exec(cd->db, "INSERT INTO diagnosis (tenant, state, created, ends, collect,"
                       " parse, collect_name, parse_name) VALUES (?, 'starting', ?, ?, ?, ?, ?, ?)",
                       "sddssss", tenant, now, now, q.collect, parse_text,
                       q.collect_name, q.parse_name)) {
        status = fail(err, 500, "the control server could not record the diagnosis");
        goto out_unlock;
    }
    num = sqlite3_last_insert_rowid(cd->db);
    if (q.duration > 0)
        vnd_state_exec(cd->db, "UPDATE diagnosis SET ends = ? WHERE num = ?", "dI",
                       now + q.duration, num);
    else
        vnd_state_exec(cd->db, "UPDATE diagnosis SET ends = NULL WHERE num = ?", "I", num);

    /* Traces: tag and bit, the table server's parse configuration. */
    v = vnd_xcalloc((size_t)pol->ntraces, sizeof *v);
    for (int i = 0; i < pol->ntraces; i++) {
        const struct vnd_policy_trace *pt = &pol->traces[i];
        struct trow *r = &v[n];
        r->diag = num;
        r->idx = i + 1;
        r->m = pt->match;
        r->host = vnd_xstrdup(hostnames[i]);
        int rc = pick_tag_bit(cd, r->host, &r->m, v, n, &r->tag, &r->bit);
        if (rc) {
            free(r->host);
            status = rc == -1
                ? fail(err, 503, "no capture tag is left for %s (a capture host carries at most "
                       "%d live traces): stop a diagnosis, or ask your cloud's operator",
                       pt->name, TAG_MAX)
                : fail(err, 503, "%s overlaps %d capture rules already live on its capture host;"
                       " stop a diagnosis that captures the same packets", pt->name,
                       VND_CAPTURE_BITS);
            goto out_undo;
        }
        n++;
        if (pt->mode == VND_CC_SFLOW || pt->mode == VND_CC_TAP)
            r->bit = -1;                /* no rule in the switch */
        r->name = vnd_xstrdup(pt->name);
        r->node = vnd_xstrdup(pt->node);
        r->point = vnd_xstrdup(pt->point);
        r->direction = vnd_xstrdup(pt->into ? "in" : "out");
        r->pattern = vnd_cc_pattern_text(&pt->match.pattern, false);
        r->port = vnd_xstrdup(pt->port_name);
        r->ofport = pt->ofport;
        r->match = vnd_capture_match_text(&pt->match);
        r->sampling = pt->sampling;
        r->sampling_hash = pt->sampling_hash;
        r->snaplen = pt->snaplen;
        r->flow_sampling = pt->flow_sampling;
        r->mode = vnd_xstrdup(vnd_cc_mode_name(pt->mode));
        /* the header lever: a mirror trace whose fields are all in the
         * headers, copied whole or longer, of every flow, sampled by count
         * (a hash sampler keys on the payload) */
        if (pt->mode == VND_CC_MIRROR && !r->sampling_hash && r->flow_sampling <= 1
            && (r->snaplen == 0 || r->snaplen > VND_HEADER_SNAPLEN))
            r->header_bytes = vnd_policy_header_bytes(pc, pt->name);
        r->ipfix_timeout = pt->active_timeout;
        r->ipfix_flows = pt->max_flows;
        r->sflow_polling = pt->polling;
        char **tables = NULL;
        int ntables = 0;
        /* flow records get the flow columns unless the tenant chose */
        r->parse_text = vnd_policy_parse_for(pt->mode == VND_CC_IPFIX && !q.parse ? fpc : pc,
                                             pt->name, &tables, &ntables);
        json_t *ta = json_array();
        for (int k = 0; k < ntables; k++) {
            json_array_append_new(ta, json_string(tables[k]));
            free(tables[k]);
        }
        free(tables);
        r->tables = json_dumps(ta, JSON_COMPACT);
        json_decref(ta);
        r->tenant = vnd_xstrdup(tenant);
        r->state = vnd_xstrdup("starting");
        sqlite3_stmt *ins = vnd_state_query(cd->db,
            "INSERT INTO trace (diag, idx, name, node, point, direction, pattern, tables, host,"
            " port, ofport, tag, bit, match, sampling, snaplen, parse_text, match_blob, mode,"
            " ipfix_timeout, ipfix_flows, flow_sampling, sampling_method, flow_sampling_asked,"
            " sampling_asked, snaplen_asked, header_bytes, sflow_polling)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            "Iissssssssiiisiisssiiisiiiii",
            num, r->idx, r->name, r->node, r->point, r->direction, r->pattern, r->tables,
            r->host, r->port, r->ofport, r->tag, r->bit, r->match, r->sampling, r->snaplen,
            r->parse_text, "", r->mode, r->ipfix_timeout, r->ipfix_flows, r->flow_sampling,
            r->sampling_hash ? "hash" : "count", r->flow_sampling > 1 ? r->flow_sampling : 1,
            r->sampling, r->snaplen, r->header_bytes, r->sflow_polling);
        if (ins) {
            sqlite3_bind_blob(ins, 18, &r->m, (int)sizeof r->m, SQLITE_TRANSIENT);
            if (sqlite3_step(ins) != SQLITE_DONE)
                vnd_err("state: %s", sqlite3_errmsg(cd->db));
        }
        sqlite3_finalize(ins);
    }

    /* The table servers first: a copy never arrives for a trace they lack. */
    for (; created < n; created++) {
        struct host h;
        if (!host_get(cd, v[created].host, &h)) {
            why = vnd_strdup_printf("host %s is no longer in the NIB", v[created].host);
        } else {
            int rc = ts_create(cd, &h, tenant, &v[created], &why);
            host_clear(&h);
            if (!rc)
                continue;
        }
        vnd_err("d%lld: creating trace %s: %s", num, v[created].name, why);
        status = fail(err, 502, "a capture host of this diagnosis did not take its trace %s; "
                      "try again later (the operator's log has the details)", v[created].name);
        goto out_undo;
    }
    if (coord_create(cd, tenant, num, v, n, &why)) {
        vnd_err("d%lld: its tables on the coordinator: %s", num, why);
        status = fail(err, 502, "the query service could not take the tables of this "
                      "diagnosis; try again later (the operator's log has the details)");
        goto out_undo;
    }
    /* the collector set before the rules that sample into it */
    if (ipfix_apply_all(cd, v, n, &why) || rules_install(cd, num, v, n, &why)
        || sflow_apply_all(cd, v, n, &why)) {
        vnd_err("d%lld: installing its capture rules: %s", num, why);
        status = fail(err, 502, "the capture rules of this diagnosis could not be installed; "
                      "try again later (the operator's log has the details)");
        goto out_undo;
    }
    vnd_state_exec(cd->db, "UPDATE diagnosis SET state = 'running' WHERE num = ?", "I", num);
    char id[32];
    snprintf(id, sizeof id, "d%lld", num);
    vnd_state_audit(cd->db, tenant, "create", id, 201, NULL);
    st = vnd_state_query(cd->db, SUMMARY_SQL " WHERE d.num = ?", "I", num);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        *reply = summary_json(st, false);
        json_t *ta = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(ta, trace_json(&v[i]));
        json_object_set_new(*reply, "traces", ta);
    }
    sqlite3_finalize(st);
    status = *reply ? 201 : fail(err, 500, "the diagnosis was created but cannot be read back");
    goto out_unlock;

out_undo:
    forget(cd, tenant, num, v, created);
    ipfix_apply_all(cd, v, n, NULL);         /* without this diagnosis's traces */
    vnd_state_audit(cd->db, tenant, "create", NULL, status, *err);
out_unlock:
    pthread_mutex_unlock(&cd->lock);
out_hosts:
    for (int i = 0; hostnames && hostnames[i]; i++)
        free(hostnames[i]);
    free(hostnames);
out:
    free(why);
    trows_free(v, n);
    vnd_policy_free(pol);
    vnd_parseconf_free(pc);
    vnd_parseconf_free(fpc);
    vnd_collectconf_free(cc);
    if (status >= 400 && status != 401 && num == 0)
        vnd_state_audit(cd->db, tenant, "create", NULL, status, *err);
    return status;
}

/* ---- reading ---- */

int vnd_diagnosis_list(struct vnd_controld *cd, const char *tenant, json_t **reply)
{
    sqlite3_stmt *st = vnd_state_query(cd->db, SUMMARY_SQL " WHERE (? IS NULL OR d.tenant = ?)"
                                       " ORDER BY d.num", "ss", tenant, tenant);
    json_t *a = json_array();
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(a, summary_json(st, tenant == NULL));
    sqlite3_finalize(st);
    *reply = json_pack("{s:o}", "diagnoses", a);
    return 200;
}

/* Completeness counters of one trace, from its table server. */
static void add_counters(struct vnd_controld *cd, const struct trow *r, json_t *o)
{
    /* sampling_now: the table server's 1 in N now, above the trace's
     * sampling when its CPU budget raised it (null: an older one) */
    static const char *const keys[] = {"seen", "matched", "stored", "sampled_out",
                                       "sampling_now", "dropped_kernel", "dropped_queue",
                                       "first_ts", "last_ts", "retained_bytes"};
    struct host h;
    json_t *reply = NULL;
    long status = 0;
    char *why = NULL;
    if (host_get(cd, r->host, &h)) {
        char *id = ts_trace_id(r->diag, r->idx), *tt = ts_tenant(r->tenant, r->diag);
        char *path = vnd_strdup_printf("/v1/traces/%s?tenant=%s", id, tt);
        if (vnd_ts_call(h.url, h.secret, "GET", path, NULL, &status, &reply, &why)) {
            vnd_warn("d%lld: counters of %s: %s", r->diag, r->name, why);
            free(why);
        }
        free(path);
        free(id);
        free(tt);
        host_clear(&h);
    }
    if (status != 200 || !json_is_object(reply)) {
        json_object_set_new(o, "counters", json_string("unavailable: its capture host did not "
                                                       "answer"));
        json_decref(reply);
        return;
    }
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        json_t *x = json_object_get(reply, keys[i]);
        json_object_set(o, keys[i], x ? x : json_null());
    }
    json_decref(reply);
}

int vnd_diagnosis_show(struct vnd_controld *cd, const char *tenant, const char *id,
                       json_t **reply, char **err)
{
    long long num;
    int status = diag_find(cd, tenant, id, &num, NULL, err);
    if (status)
        return status;
    sqlite3_stmt *st = vnd_state_query(cd->db, SUMMARY_SQL " WHERE d.num = ?", "I", num);
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return fail(err, 404, "no diagnosis %.40s", id);
    }
    *reply = summary_json(st, tenant == NULL);
    sqlite3_finalize(st);
    int n;
    struct trow *v = diag_traces(cd, num, &n);
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = trace_json(&v[i]);
        add_counters(cd, &v[i], o);
        json_array_append_new(a, o);
    }
    json_object_set_new(*reply, "traces", a);
    trows_free(v, n);
    return 200;
}

/* ---- stopping ---- */

/* Removes everything of diagnosis `num` (cd->lock held). */
static void remove_all(struct vnd_controld *cd, long long num, const char *tenant)
{
    int n;
    struct trow *v = diag_traces(cd, num, &n);
    rules_remove(cd, num, v, n);
    forget(cd, tenant, num, v, n);
    sflow_apply_all(cd, v, n, NULL);
    ipfix_apply_all(cd, v, n, NULL);
    trows_free(v, n);
}

int vnd_diagnosis_delete(struct vnd_controld *cd, const char *tenant, const char *id,
                         json_t **reply, char **err)
{
    long long num;
    pthread_mutex_lock(&cd->lock);
    int status = diag_find(cd, tenant, id, &num, NULL, err);
    if (!status) {
        remove_all(cd, num, tenant);
        *reply = json_pack("{s:s, s:s}", "id", id, "state", "deleted");
        status = 200;
    }
    vnd_state_audit(cd->db, tenant, "delete", id, status, NULL);
    pthread_mutex_unlock(&cd->lock);
    return status;
}

/* Ends capture (rules go, tables stay). */
static void finish(struct vnd_controld *cd, long long num, const char *tenant, const char *reason)
{
    int n;
    struct trow *v = diag_traces(cd, num, &n);
    rules_remove(cd, num, v, n);
    vnd_state_exec(cd->db, "UPDATE diagnosis SET state = 'done', stopped = ?, reason = ?"
                   " WHERE num = ?", "dsI", vnd_wall_now(), reason, num);
    sflow_apply_all(cd, v, n, NULL);
    ipfix_apply_all(cd, v, n, NULL);
    trows_free(v, n);
    char id[32];
    snprintf(id, sizeof id, "d%lld", num);
    vnd_state_audit(cd->db, tenant, "finish", id, 200, reason);
}

/* ---- the operator's view ---- */

int vnd_diagnosis_policy(struct vnd_controld *cd, const char *id, char **text, char **err)
{
    long long num;
    char *state = NULL;
    int status = diag_find(cd, NULL, id, &num, &state, err);
    if (status)
        return status;
    int n;
    struct trow *v = diag_traces(cd, num, &n);
    size_t len = 0;
    char *s = NULL;
    FILE *f = open_memstream(&s, &len);
    fprintf(f, "# collection policy of diagnosis %s of tenant %s (%s)\n", id,
            n ? v[0].tenant : "?", state);
    for (int i = 0; i < n; i++) {
        struct trow *r = &v[i];
        struct host h;
        bool known = host_get(cd, r->host, &h);
        fprintf(f, "Trace ID d%lld_%d (%s, table server tenant %s-d%lld)\n", num, r->idx,
                r->name, r->tenant, num);
        fprintf(f, "Pattern %s\n", r->pattern);
        fprintf(f, "Physical Cap Point %s/%s port %d (%s %s %s, port %s)\n", r->host,
                known ? h.bridge : "?", r->ofport, r->direction, strcmp(r->direction, "in")
                ? "of" : "to", r->node, r->port);
        fprintf(f, "Collector table server at %s (%s)\n", r->host, known ? h.url : "not in the NIB");
        if (TROW_SFLOW(r)) {
            /* no rule: the bridge's own agent samples, the table server
             * keeps this port's samples that match the pattern */
            struct vnd_sflow_conf c;
            int users = sflow_wanted(cd, r->host, &c);
            char *filter = vnd_capture_filter_text(&r->m);
            fprintf(f, "Mode sflow: no capture rule; the table server keeps the samples of "
                    "port %d that match%s%s, 1 in %d\n", r->ofport, *filter ? ": " : "",
                    filter, r->sampling);
            fprintf(f, "sFlow agent %s/%s: sampling 1 in %d, header %d bytes, polling %d s, "
                    "target %s (%d live sFlow trace%s on this host)\n", r->host,
                    known ? h.bridge : "?", c.sampling, c.header, c.polling,
                    c.target ? c.target : "not known yet", users, users == 1 ? "" : "s");
            free(filter);
            free((char *)c.target);
        } else if (TROW_TAP(r)) {
            /* no rule: the table server reads the port's own interface */
            char *filter = vnd_capture_filter_text(&r->m), *bpf = vnd_capture_bpf_text(&r->m);
            fprintf(f, "Mode tap: no capture rule; the table server reads the interface of "
                    "port %d, what it %s%s%s (kernel filter: %s), tag %d for its counters\n",
                    r->ofport, strcmp(r->direction, "in") ? "receives" : "sends",
                    *filter ? " that matches " : "", filter, *bpf ? bpf : "none", r->tag);
            free(filter);
            free(bpf);
        } else {
            /* (an sflow or tap trace has no reg7 bit: no rule text for it) */
            struct vnd_capture_rule rule = rule_of(r, known ? h.mirror : 0);
            char *rt = vnd_capture_rule_text(&rule);
            fprintf(f, "Path %s/%s (%s), mirror port %d with VLAN tag %d, %s\n", r->host,
                    known ? h.bridge : "?", known ? h.ofctl : "?", known ? h.mirror : 0, r->tag,
                    known ? h.url : "?");
            fprintf(f, "Rule %s\n", rt);
            char *gt = vnd_capture_group_text(&rule);
            if (gt) {
                fprintf(f, "Flow sampling 1 flow in %d: %d of %d hash values copy (1 in %.3g)\n",
                        r->flow_sampling, vnd_flow_sampling_share(r->flow_sampling),
                        VND_FLOW_HASH_VALUES, vnd_flow_sampling_effective(r->flow_sampling));
                fprintf(f, "Group %s\n", gt);
            }
            free(gt);
            free(rt);
        }
        if (known)
            host_clear(&h);
    }
    fclose(f);
    trows_free(v, n);
    free(state);
    *text = s;
    return 200;
}

/* ---- routing a tenant's SQL ---- */

/* True when `sql` names `table` as an identifier (outside strings and
 * comments; quoted or not).  Over-approximates: a column of the same name
 * counts too, which only ever sends a query to the table server that has
 * the table. */
static bool sql_names(const char *sql, const char *table)
{
    size_t tl = strlen(table);
    for (const char *p = sql; *p;) {
        if (*p == '\'') {
            for (p++; *p && !(*p == '\'' && p[1] != '\''); p += *p == '\'' ? 2 : 1)
                ;
            if (*p)
                p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else if (*p == '"' || *p == '`' || *p == '[') {
            char close = *p == '[' ? ']' : *p;
            const char *start = ++p;
            while (*p && *p != close)
                p++;
            if ((size_t)(p - start) == tl && strncasecmp(start, table, tl) == 0)
                return true;
            if (*p)
                p++;
        } else if (isalpha((unsigned char)*p) || *p == '_') {
            const char *start = p;
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '$')
                p++;
            if ((size_t)(p - start) == tl && strncasecmp(start, table, tl) == 0)
                return true;
        } else {
            p++;
        }
    }
    return false;
}

void vnd_route_clear(struct vnd_route *r)
{
    free(r->url);
    free(r->secret);
    free(r->ts_tenant);
    json_decref(r->traces);
    memset(r, 0, sizeof *r);
}

static int route_to(struct vnd_controld *cd, const char *host, long long num, const char *tenant,
                    struct trow *v, int n, struct vnd_route *r, char **err)
{
    struct host h;
    if (!host_get(cd, host, &h))
        return fail(err, 503, "a capture host of this diagnosis is out of service; ask your "
                    "cloud's operator");
    r->url = h.url;
    r->secret = h.secret;
    h.url = h.secret = NULL;
    host_clear(&h);
    r->ts_tenant = ts_tenant(tenant, num);
    r->traces = json_array();
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].host, host) == 0)
            json_array_append_new(r->traces, json_sprintf("d%lld_%d", num, v[i].idx));
    return 0;
}

int vnd_diagnosis_route(struct vnd_controld *cd, const char *tenant, const char *id,
                        const char *sql, const char *const *tables, int ntables,
                        struct vnd_route *r, char **err)
{
    memset(r, 0, sizeof *r);
    long long num;
    int status = diag_find(cd, tenant, id, &num, NULL, err);
    if (status)
        return status;
    int n;
    struct trow *v = diag_traces(cd, num, &n);
    /* Which hosts hold a table the request names. */
    const char *host = NULL, *t_here = NULL, *t_there = NULL;
    bool spans = false;
    for (int i = 0; i < n && !spans; i++) {
        json_t *ta = json_loads(v[i].tables, 0, NULL);
        size_t k;
        json_t *x;
        json_array_foreach(ta, k, x) {
            const char *tn = json_string_value(x);
            bool named = sql && sql_names(sql, tn);
            for (int j = 0; j < ntables && !named; j++)
                named = tables[j] && strcasecmp(tables[j], tn) == 0;
            if (!named)
                continue;
            if (!host) {
                host = v[i].host;
                t_here = v[i].name;
            } else if (strcmp(host, v[i].host) != 0) {
                spans = true;
                t_there = v[i].name;
            }
        }
        json_decref(ta);
    }
    if (spans)
        status = fail(err, 400, "this query reads traces captured on different hosts (%s and "
                      "%s); joining them needs VND's distributed mode, which this cloud does not "
                      "run yet: query each trace on its own", t_here, t_there);
    else if (n == 0)
        status = fail(err, 404, "diagnosis %.40s has no traces", id);
    else
        status = route_to(cd, host ? host : v[0].host, num, tenant, v, n, r, err);
    trows_free(v, n);
    return status;
}

int vnd_diagnosis_scope(struct vnd_controld *cd, const char *tenant, const char *id,
                        long long *num, struct vnd_coord_point **points, int *npoints,
                        char **err)
{
    *points = NULL;
    *npoints = 0;
    pthread_mutex_lock(&cd->lock);
    int status = diag_find(cd, tenant, id, num, NULL, err);
    int n = 0;
    struct trow *v = status ? NULL : diag_traces(cd, *num, &n);
    pthread_mutex_unlock(&cd->lock);
    if (status)
        return status;
    if (n == 0) {
        trows_free(v, n);
        return fail(err, 404, "diagnosis %.40s has no traces", id);
    }
    struct vnd_coord_point *p = vnd_xcalloc((size_t)n, sizeof *p);
    for (int i = 0; i < n; i++) {
        json_t *ta = json_loads(v[i].tables, 0, NULL);
        size_t nt = json_array_size(ta);
        char **tabs = vnd_xcalloc(nt + 1, sizeof *tabs);
        for (size_t k = 0; k < nt; k++)
            tabs[k] = vnd_xstrdup(json_string_value(json_array_get(ta, k))
                                  ? json_string_value(json_array_get(ta, k)) : "");
        json_decref(ta);
        p[i] = (struct vnd_coord_point){vnd_xstrdup(v[i].host), vnd_xstrdup(v[i].name),
                                        (const char *const *)tabs, (int)nt};
    }
    trows_free(v, n);
    *points = p;
    *npoints = n;
    return 0;
}

void vnd_diagnosis_scope_free(struct vnd_coord_point *points, int n)
{
    for (int i = 0; i < n; i++) {
        free((char *)points[i].host);
        free((char *)points[i].point);
        for (int k = 0; k < points[i].ntables; k++)
            free((char *)points[i].tables[k]);
        free((char **)points[i].tables);
    }
    free(points);
}

int vnd_diagnosis_route_trace(struct vnd_controld *cd, const char *tenant, const char *id,
                              const char *name, struct vnd_route *r, char **ts_id, char **err)
{
    memset(r, 0, sizeof *r);
    long long num;
    int status = diag_find(cd, tenant, id, &num, NULL, err);
    if (status)
        return status;
    int n;
    struct trow *v = diag_traces(cd, num, &n);
    status = fail(err, 404, "no trace %.64s in diagnosis %.40s", name, id);
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0) {
            free(*err);
            *err = NULL;
            status = route_to(cd, v[i].host, num, tenant, &v[i], 1, r, err);
            if (!status)
                *ts_id = ts_trace_id(num, v[i].idx);
            break;
        }
    trows_free(v, n);
    return status;
}

/* ---- upkeep ---- */

/* The last counters of every trace, for quotas (outside cd->lock: one
 * call per trace to its table server). */
static void poll_counters(struct vnd_controld *cd)
{
    pthread_mutex_lock(&cd->lock);
    int n;
    struct trow *v = trows_load(vnd_state_query(cd->db, "SELECT " TROW_COLS " FROM trace t JOIN"
                                                " diagnosis d ON d.num = t.diag", ""), &n);
    pthread_mutex_unlock(&cd->lock);
    for (int i = 0; i < n; i++) {
        struct host h;
        if (!host_get(cd, v[i].host, &h))
            continue;
        char *id = ts_trace_id(v[i].diag, v[i].idx), *tt = ts_tenant(v[i].tenant, v[i].diag);
        char *path = vnd_strdup_printf("/v1/traces/%s?tenant=%s", id, tt), *why = NULL;
        json_t *reply = NULL;
        long status = 0;
        if (vnd_ts_call(h.url, h.secret, "GET", path, NULL, &status, &reply, &why) == 0
            && status == 200)
            vnd_state_exec(cd->db, "UPDATE trace SET stored = ?, bytes = ? WHERE diag = ? AND"
                           " idx = ?", "IIIi",
                           (long long)json_integer_value(json_object_get(reply, "stored")),
                           (long long)json_integer_value(json_object_get(reply, "retained_bytes")),
                           v[i].diag, v[i].idx);
        free(why);
        json_decref(reply);
        free(path);
        free(id);
        free(tt);
        host_clear(&h);
    }
    trows_free(v, n);
}

/* 1-in-`cur` times 2^shift (shift -1: halved), between `floor` and `cap`. */
static int scaled(int cur, int shift, int floor, int cap)
{
    long long to = cur;
    if (shift > 0)
        for (int k = 0; k < shift && to < cap; k++)
            to *= 2;
    else
        to = cur / 2;
    return (int)(to > cap ? cap : to < floor ? floor : to);
}

/* Tells trace r's table server the switch's new rates since `from`
 * (sampling and fs 0, snaplen -1: as it was). */
static void tell_rates(const struct host *h, const struct trow *r, int sampling, int fs,
                       int snaplen, double from, const char *reason)
{
    char *id = ts_trace_id(r->diag, r->idx), *tt = ts_tenant(r->tenant, r->diag), *why = NULL;
    char *path = vnd_strdup_printf("/v1/traces/%s?tenant=%s", id, tt);
    json_t *body = json_pack("{s:f, s:s}", "from_ts", from, "reason", reason), *reply = NULL;
    if (fs)
        json_object_set_new(body, "flow_sampling", json_real(vnd_flow_sampling_effective(fs)));
    if (sampling)
        json_object_set_new(body, "sampling", json_integer(sampling));
    if (snaplen >= 0)
        json_object_set_new(body, "snaplen", json_integer(snaplen));
    long status = 0;
    if (vnd_ts_call(h->url, h->secret, "PATCH", path, body, &status, &reply, &why)
        || status != 200)
        vnd_err("budget %s: d%lld %s: telling the table server its new rate: %s", h->name,
                r->diag, r->name, why ? why : "refused");
    free(why);
    json_decref(body);
    json_decref(reply);
    free(path);
    free(tt);
    free(id);
}

static bool on_header_ladder(const struct trow *r)
{
    return r->header_bytes > 0 && !TROW_RULELESS(r);
}

/* Moves trace r of host h up or down its header ladder by `shift` levels
 * (-1: one down): the switch's rule first, then the state and the table
 * server.  Returns 1 when it changed; *at_limit false when it could go
 * further; kept[] += its share of the copies before and after. */
static int climb_header_ladder(struct vnd_controld *cd, const struct host *h, struct trow *r,
                               int shift, const char *reason, bool *at_limit, double kept[2])
{
    const struct vnd_ladder l = {r->snaplen_asked, r->header_bytes};
    const struct vnd_levers was = {r->snaplen, r->flow_sampling > 1 ? r->flow_sampling : 1};
    int level = vnd_ladder_level(&l, was), to = vnd_ladder_step(level, shift);
    if (shift > 0 ? to < VND_LADDER_TOP : to > 0)
        *at_limit = false;
    kept[0] += vnd_ladder_kept(level);
    kept[1] += vnd_ladder_kept(to);
    if (to == level)
        return 0;
    const struct vnd_levers now = vnd_ladder_at(&l, to);
    r->snaplen = now.snaplen;
    r->flow_sampling = now.flow_sampling;
    struct vnd_capture_rule rule = rule_of(r, h->mirror);
    char *why = NULL;
    if (vnd_ovs_add(h->ofctl, &rule, 1, &why)) {
        vnd_err("budget %s: d%lld %s: %s: %s", h->name, r->diag, r->name,
                now.flow_sampling > 1 ? "flow sampling" : "cutting the copies", why);
        free(why);
        r->snaplen = was.snaplen;
        r->flow_sampling = was.flow_sampling;
        return 0;
    }
    double from = vnd_wall_now();
    vnd_state_exec(cd->db, "UPDATE trace SET snaplen = ?, flow_sampling = ? WHERE diag = ? AND"
                   " idx = ?", "iiIi", now.snaplen, now.flow_sampling, r->diag, r->idx);
    char *before = vnd_levers_text(was), *after = vnd_levers_text(now);
    vnd_info("budget %s: d%lld %s: %s -> %s (%s)", h->name, r->diag, r->name, before, after,
             reason);
    free(before);
    free(after);
    tell_rates(h, r, 0, now.flow_sampling != was.flow_sampling ? now.flow_sampling : 0,
               now.snaplen != was.snaplen ? now.snaplen : -1, from, reason);
    return 1;
}

int vnd_diagnosis_scale_switch_sampling(struct vnd_controld *cd, const char *host, int shift,
                                        const char *reason, bool *at_limit, double kept[2])
{
    *at_limit = true;
    kept[0] = kept[1] = 1;
    struct host h;
    if (!host_get(cd, host, &h))
        return 0;
    pthread_mutex_lock(&cd->lock);
    int n, changed = 0, nsflow = 0, nswitch = 0;
    struct trow *v = trows_load(vnd_state_query(cd->db, "SELECT " TROW_COLS " FROM trace t"
                                                " JOIN diagnosis d ON d.num = t.diag WHERE"
                                                " t.host = ? AND d.state = 'running'",
                                                "s", host), &n);
    int *was = vnd_xcalloc((size_t)n + 1, sizeof *was);
    double sum_before = 0, sum_after = 0;
    for (int i = 0; i < n; i++) {
        struct trow *r = &v[i];
        /* the switch samples packets for sflow and ipfix traces, and
         * flows (or cuts the copies) for mirror ones */
        bool sflow = TROW_SFLOW(r), ipfix = TROW_IPFIX(r), packets = sflow || ipfix;
        /* the switch copies nothing of a tap: no lever of its here (the
         * table server's own budget samples it, tabled --cpu-budget) */
        if (TROW_TAP(r))
            continue;
        nswitch++;
        if (on_header_ladder(r)) {
            double k[2] = {0, 0};
            changed += climb_header_ladder(cd, &h, r, shift, reason, at_limit, k);
            sum_before += k[0];
            sum_after += k[1];
            continue;
        }
        int cap = sflow ? VND_SFLOW_SAMPLING_MAX
                  : ipfix ? VND_IPFIX_SAMPLING_MAX : VND_FLOW_HASH_VALUES;
        int asked = packets ? r->sampling_asked : r->flow_sampling_asked;
        int cur = packets ? r->sampling : r->flow_sampling;
        asked = asked > 1 ? asked : 1;
        cur = cur > 1 ? cur : 1;
        int to = scaled(cur, shift, asked, cap);
        if (ipfix)
            to = vnd_ipfix_sampling_effective(to);
        if (shift > 0 ? to < cap : to > asked)
            *at_limit = false;
        /* what is kept of what the tenant asked for: the mean over traces */
        sum_before += (double)asked / cur;
        sum_after += (double)asked / to;
        if (to == cur)
            continue;
        if (sflow) {
            /* the agent is the bridge's: set once below, for them all */
            vnd_state_exec(cd->db, "UPDATE trace SET sampling = ? WHERE diag = ? AND idx = ?",
                           "iIi", to, r->diag, r->idx);
            was[i] = cur;
            r->sampling = to;
            nsflow++;
            continue;
        }
        /* the switch first: the table server's interval starts when the
         * switch copies (or samples) under the new rate (within this
         * call's time); an ipfix trace's rule carries its own rate */
        *(ipfix ? &r->sampling : &r->flow_sampling) = to;
        const char *lever = ipfix ? "IPFIX sampling" : "flow sampling";
        struct vnd_capture_rule rule = rule_of(r, h.mirror);
        char *why = NULL;
        if (vnd_ovs_add(h.ofctl, &rule, 1, &why)) {
            vnd_err("budget %s: d%lld %s: %s 1/%d -> 1/%d: %s", host, r->diag, r->name, lever,
                    cur, to, why);
            free(why);
            continue;
        }
        double from = vnd_wall_now();
        vnd_state_exec(cd->db, ipfix ? "UPDATE trace SET sampling = ? WHERE diag = ? AND idx = ?"
                                     : "UPDATE trace SET flow_sampling = ? WHERE diag = ? AND"
                                       " idx = ?", "iIi", to, r->diag, r->idx);
        changed++;
        vnd_info("budget %s: d%lld %s: %s 1/%d -> 1/%d (%s)", host, r->diag, r->name, lever,
                 cur, to, reason);
        tell_rates(&h, r, ipfix ? to : 0, ipfix ? 0 : to, -1, from, reason);
    }
    if (nsflow) {
        /* the agent samples 1 in the smallest N of the bridge's traces; a
         * trace's rate changes when the agent's does (raising) or when its
         * table server keeps more of the agent's samples (lowering) */
        char *why = NULL;
        if (sflow_apply(cd, host, &why)) {
            vnd_err("budget %s: the sFlow agent: %s", host, why);
            free(why);
        }
        double from = vnd_wall_now();
        for (int i = 0; i < n; i++)
            if (was[i]) {
                vnd_info("budget %s: d%lld %s: sFlow sampling 1/%d -> 1/%d (%s)", host,
                         v[i].diag, v[i].name, was[i], v[i].sampling, reason);
                tell_rates(&h, &v[i], v[i].sampling, 0, -1, from, reason);
                changed++;
            }
    }
    pthread_mutex_unlock(&cd->lock);
    if (nswitch) {
        kept[0] = sum_before / nswitch;
        kept[1] = sum_after / nswitch;
    }
    free(was);
    trows_free(v, n);
    host_clear(&h);
    return changed;
}

void vnd_diagnosis_maintain(struct vnd_controld *cd)
{
    static double last_poll;
    double mono = vnd_now();
    if (mono - last_poll >= 5) {
        last_poll = mono;
        poll_counters(cd);
    }
    double now = vnd_wall_now();
    pthread_mutex_lock(&cd->lock);
    /* Durations that ended. */
    sqlite3_stmt *st = vnd_state_query(cd->db, "SELECT num, tenant FROM diagnosis WHERE state ="
                                       " 'running' AND ends IS NOT NULL AND ends <= ?", "d", now);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        char *tenant = col_dup(st, 1);
        finish(cd, sqlite3_column_int64(st, 0), tenant, "its duration ended");
        free(tenant);
    }
    sqlite3_finalize(st);
    /* Quotas and retention, per tenant of the NIB. */
    pthread_rwlock_rdlock(&cd->nib_lock);
    for (int i = 0; i < cd->nib->ntenants; i++) {
        const struct vnd_nib_tenant *t = &cd->nib->tenants[i];
        const struct vnd_nib_quota *q = &t->quota;
        if (q->rows || q->bytes) {
            st = vnd_state_query(cd->db, "SELECT coalesce(sum(stored),0), coalesce(sum(bytes),0)"
                                 " FROM trace t JOIN diagnosis d ON d.num = t.diag WHERE"
                                 " d.tenant = ?", "s", t->id);
            long long rows = 0, bytes = 0;
            if (st && sqlite3_step(st) == SQLITE_ROW) {
                rows = sqlite3_column_int64(st, 0);
                bytes = sqlite3_column_int64(st, 1);
            }
            sqlite3_finalize(st);
            if ((q->rows && rows >= q->rows) || (q->bytes && bytes >= q->bytes)) {
                st = vnd_state_query(cd->db, "SELECT num FROM diagnosis WHERE tenant = ? AND"
                                     " state = 'running'", "s", t->id);
                while (st && sqlite3_step(st) == SQLITE_ROW)
                    finish(cd, sqlite3_column_int64(st, 0), t->id,
                           q->rows && rows >= q->rows ? "quota: rows stored"
                                                      : "quota: bytes of raw packets");
                sqlite3_finalize(st);
            }
        }
        if (q->retention_s) {
            st = vnd_state_query(cd->db, "SELECT num FROM diagnosis WHERE tenant = ? AND"
                                 " created < ?", "sd", t->id, now - (double)q->retention_s);
            while (st && sqlite3_step(st) == SQLITE_ROW) {
                long long num = sqlite3_column_int64(st, 0);
                char id[32];
                snprintf(id, sizeof id, "d%lld", num);
                remove_all(cd, num, t->id);
                vnd_state_audit(cd->db, t->id, "expire", id, 200, "retention");
            }
            sqlite3_finalize(st);
        }
    }
    pthread_rwlock_unlock(&cd->nib_lock);
    pthread_mutex_unlock(&cd->lock);
}

/* The bridge's sFlow agent as the live sFlow traces want it (a restarted
 * OVS or an operator's ovs-vsctl may have lost or changed it); when none
 * is left, off, but only where it still sends to this host's table server
 * (an agent sending elsewhere is not VND's).  Returns the fixes made. */
static int reconcile_sflow(struct vnd_controld *cd, const struct host *h)
{
    struct vnd_sflow_conf c;
    int count = sflow_wanted(cd, h->name, &c), fixes = 0;
    struct vnd_sflow_state now;
    char *why = NULL;
    bool ours = false, same = false;
    if (vnd_ovs_sflow_get(h->ovsdb, h->bridge, &now, &why)) {
        vnd_err("reconcile %s: reading the sFlow agent of %s: %s", h->name, h->bridge, why);
        goto out;
    }
    ours = now.set && c.target && now.ntargets == 1 && strcmp(now.target, c.target) == 0;
    same = ours && now.sampling == c.sampling && now.header == c.header
           && now.polling == c.polling;
    if (count && !c.target) {
        vnd_err("reconcile %s: %d sFlow trace%s, but its table server has not said where it "
                "collects sFlow (is it running with --sflow-listen?)", h->name, count,
                count == 1 ? "" : "s");
    } else if (count && !same) {
        if (vnd_ovs_sflow_set(h->ovsdb, h->bridge, &c, &why) == 0) {
            vnd_warn("reconcile %s: the sFlow agent of %s was %s; set it again: 1 in %d, %d "
                     "header bytes, polling %d s, to %s", h->name, h->bridge,
                     !now.set ? "gone" : ours ? "changed" : "sending elsewhere", c.sampling,
                     c.header, c.polling, c.target);
            fixes++;
        } else {
            vnd_err("reconcile %s: setting the sFlow agent of %s: %s", h->name, h->bridge, why);
        }
    } else if (!count && ours) {
        if (vnd_ovs_sflow_set(h->ovsdb, h->bridge, NULL, &why) == 0) {
            vnd_warn("reconcile %s: no sFlow trace is live; removed the sFlow agent of %s",
                     h->name, h->bridge);
            fixes++;
        } else {
            vnd_err("reconcile %s: removing the sFlow agent of %s: %s", h->name, h->bridge, why);
        }
    }
out:
    free(why);
    free((char *)c.target);
    return fixes;
}

/* One host: rules of running diagnoses present and nothing else of VND's;
 * traces on its table server exactly those of the state. */
static int reconcile_host(struct vnd_controld *cd, const struct host *h)
{
    int fixes = 0, added = 0;
    char *why = NULL;
    int n;
    struct trow *v = trows_load(vnd_state_query(cd->db, "SELECT " TROW_COLS " FROM trace t JOIN"
                                                " diagnosis d ON d.num = t.diag WHERE t.host = ?",
                                                "s", h->name), &n);
    if (vnd_ovs_ensure_layout(h->ofctl, &added, &why)) {
        vnd_err("reconcile %s: %s", h->name, why);
        free(why);
        trows_free(v, n);
        return 0;
    }
    if (added) {
        vnd_warn("reconcile %s: table 0 had no goto_table:1 rule; added it", h->name);
        fixes++;
    }
    /* VND's groups (flow sampling): those of no running trace go; a
     * running trace whose group is gone gets its rule and group again. */
    int *gtags = NULL, ng = 0;
    bool groups_known = vnd_ovs_group_tags(h->ofctl, &gtags, &ng, &why) == 0;
    if (!groups_known) {
        vnd_err("reconcile %s: %s", h->name, why);
        free(why);
        why = NULL;
    }
    for (int g = 0; g < ng; g++) {
        bool wanted = false;
        for (int i = 0; i < n && !wanted; i++)
            wanted = strcmp(v[i].state, "running") == 0 && !TROW_RULELESS(&v[i])
                     && v[i].flow_sampling > 1 && v[i].tag == gtags[g];
        if (wanted)
            continue;
        if (vnd_ovs_delete_groups(h->ofctl, &gtags[g], 1, &why) == 0) {
            vnd_warn("reconcile %s: removed orphan group %u", h->name,
                     (unsigned)VND_GROUP_ID(gtags[g]));
            fixes++;
        } else {
            vnd_err("reconcile %s: %s", h->name, why);
            free(why);
            why = NULL;
        }
    }
    uint64_t *cookies = NULL;
    int nc = 0;
    if (vnd_ovs_cookies(h->ofctl, &cookies, &nc, &why) == 0) {
        for (int c = 0; c < nc; c++) {
            bool wanted = false;
            for (int i = 0; i < n && !wanted; i++)
                wanted = strcmp(v[i].state, "running") == 0 && !TROW_RULELESS(&v[i])
                         && VND_COOKIE(v[i].diag, v[i].idx) == cookies[c];
            if (wanted)
                continue;
            if (vnd_ovs_delete(h->ofctl, cookies[c], UINT64_MAX, &why) == 0) {
                vnd_warn("reconcile %s: removed orphan rule cookie=0x%llx", h->name,
                         (unsigned long long)cookies[c]);
                fixes++;
            }
        }
        struct vnd_capture_rule *missing = vnd_xcalloc((size_t)n + 1, sizeof *missing);
        int nm = 0;
        for (int i = 0; i < n; i++) {
            if (strcmp(v[i].state, "running") != 0 || TROW_RULELESS(&v[i]))
                continue;
            bool present = false;
            for (int c = 0; c < nc && !present; c++)
                present = cookies[c] == VND_COOKIE(v[i].diag, v[i].idx);
            bool group_there = v[i].flow_sampling <= 1 || !groups_known;
            for (int g = 0; g < ng && !group_there; g++)
                group_there = gtags[g] == v[i].tag;
            if (!present || !group_there)
                missing[nm++] = rule_of(&v[i], h->mirror);
        }
        if (nm && vnd_ovs_add(h->ofctl, missing, nm, &why) == 0) {
            vnd_warn("reconcile %s: reinstalled %d missing rule%s", h->name, nm, nm == 1 ? "" : "s");
            fixes += nm;
        }
        free(missing);
    }
    if (why) {
        vnd_err("reconcile %s: %s", h->name, why);
        free(why);
        why = NULL;
    }
    free(cookies);
    free(gtags);

    /* The table server: our traces are "d<N>_<i>". */
    json_t *reply = NULL;
    long status = 0;
    if (vnd_ts_call(h->url, h->secret, "GET", "/v1/traces", NULL, &status, &reply, &why) == 0
        && status == 200) {
        json_t *list = json_is_array(reply) ? reply : json_object_get(reply, "traces");
        size_t k;
        json_t *x;
        json_array_foreach(list, k, x) {
            const char *id = json_string_value(json_object_get(x, "id"));
            long long num;
            int idx;
            char tail;
            if (!id || sscanf(id, "d%lld_%d%c", &num, &idx, &tail) != 2)
                continue;
            bool known = false;
            for (int i = 0; i < n && !known; i++)
                known = v[i].diag == num && v[i].idx == idx;
            const char *coll = json_string_value(json_object_get(x, "collector"));
            const char *xmode = json_string_value(json_object_get(x, "mode"));
            if (known && coll && xmode && (!strcmp(xmode, "sflow") || !strcmp(xmode, "ipfix")))
                collector_target_note(cd, xmode, h->name, coll);
            if (known)
                continue;
            char *path = vnd_strdup_printf("/v1/traces/%s", id);
            json_t *r2 = NULL;
            long s2 = 0;
            if (vnd_ts_call(h->url, h->secret, "DELETE", path, NULL, &s2, &r2, &why) == 0) {
                vnd_warn("reconcile %s: removed orphan trace %s from its table server",
                         h->name, id);
                fixes++;
            }
            free(why);
            why = NULL;
            json_decref(r2);
            free(path);
        }
        for (int i = 0; i < n; i++) {
            char *id = ts_trace_id(v[i].diag, v[i].idx);
            bool there = false;
            json_array_foreach(list, k, x) {
                const char *tid = json_string_value(json_object_get(x, "id"));
                there |= tid && strcmp(tid, id) == 0;
            }
            if (!there) {
                if (ts_create(cd, h, v[i].tenant, &v[i], &why) == 0) {
                    vnd_warn("reconcile %s: its table server had lost trace %s (d%lld %s); "
                             "created it again", h->name, id, v[i].diag, v[i].name);
                    fixes++;
                } else {
                    vnd_err("reconcile %s: creating trace %s again: %s", h->name, id, why);
                }
                free(why);
                why = NULL;
            }
            free(id);
        }
    } else {
        vnd_err("reconcile %s: table server: %s", h->name, why ? why : "no answer");
    }
    free(why);
    json_decref(reply);
    trows_free(v, n);
    return fixes + reconcile_sflow(cd, h);
}

int vnd_diagnosis_recover(struct vnd_controld *cd)
{
    pthread_mutex_lock(&cd->lock);
    sqlite3_stmt *st = vnd_state_query(cd->db, "SELECT num, tenant FROM diagnosis WHERE state ="
                                       " 'starting'", "");
    int n = 0;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        long long num = sqlite3_column_int64(st, 0);
        char *tenant = col_dup(st, 1), id[32];
        snprintf(id, sizeof id, "d%lld", num);
        remove_all(cd, num, tenant);
        vnd_state_audit(cd->db, tenant, "abandon", id, 500,
                        "the control server stopped while creating it");
        free(tenant);
        n++;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&cd->lock);
    return n;
}

int vnd_diagnosis_coord_restore(struct vnd_controld *cd)
{
    if (!cd->coord)
        return 0;
    pthread_mutex_lock(&cd->lock);
    sqlite3_stmt *st = vnd_state_query(cd->db, "SELECT num, tenant FROM diagnosis ORDER BY num",
                                       "");
    int failed = 0;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        long long num = sqlite3_column_int64(st, 0);
        char *tenant = col_dup(st, 1), *why = NULL;
        int n;
        struct trow *v = diag_traces(cd, num, &n);
        if (coord_create(cd, tenant, num, v, n, &why)) {
            vnd_err("d%lld: its tables on the coordinator: %s", num, why);
            free(why);
            failed++;
        }
        trows_free(v, n);
        free(tenant);
    }
    sqlite3_finalize(st);
    /* what a diagnosis removed while the coordinator did not answer left */
    long long *nums = NULL;
    int nn = 0;
    char *why = NULL;
    if (vnd_coord_diagnoses(cd->coord, &nums, &nn, &why)) {
        vnd_err("coordinator: %s", why);
        free(why);
    }
    for (int i = 0; i < nn; i++) {
        sqlite3_stmt *q = vnd_state_query(cd->db, "SELECT 1 FROM diagnosis WHERE num = ?", "I",
                                          nums[i]);
        bool known = q && sqlite3_step(q) == SQLITE_ROW;
        sqlite3_finalize(q);
        if (!known) {
            vnd_warn("coordinator: d%lld is in no state; its views and foreign tables go",
                     nums[i]);
            vnd_distributed_drop(cd, nums[i]);
        }
    }
    free(nums);
    pthread_mutex_unlock(&cd->lock);
    return failed;
}

int vnd_diagnosis_reconcile(struct vnd_controld *cd)
{
    double t0 = vnd_now();
    pthread_mutex_lock(&cd->lock);
    pthread_rwlock_rdlock(&cd->nib_lock);
    int nh = cd->nib->nhosts;
    char **names = vnd_xcalloc((size_t)nh + 1, sizeof *names);
    for (int i = 0; i < nh; i++)
        names[i] = vnd_xstrdup(cd->nib->hosts[i].name);
    pthread_rwlock_unlock(&cd->nib_lock);
    int fixes = 0;
    for (int i = 0; i < nh; i++) {
        struct host h;
        if (host_get(cd, names[i], &h)) {
            fixes += reconcile_host(cd, &h);
            host_clear(&h);
        }
        free(names[i]);
    }
    free(names);
    /* Traces on hosts the NIB no longer has cannot be reached. */
    sqlite3_stmt *st = vnd_state_query(cd->db, "SELECT DISTINCT host FROM trace", "");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        struct host h;
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (host_get(cd, name, &h))
            host_clear(&h);
        else
            vnd_err("reconcile: diagnoses have traces on host %s, which the NIB no longer "
                    "lists; they cannot be captured or queried until it is back", name);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&cd->lock);
    vnd_metric_add(cd->m_reconcile_runs, 1);
    vnd_metric_add(cd->m_reconcile_fixes, fixes);
    vnd_metric_observe(cd->m_reconcile_seconds, vnd_now() - t0);
    return fixes;
}
