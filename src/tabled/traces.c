/* traces.c — the trace registry, persisted in vnd_traces. */
#include "tabled/traces.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/metrics.h"
#include "decode/packet.h"
#include "store/tenant.h"
#include "daemon/log.h"
#include "util/util.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS vnd_traces ("
    " id TEXT PRIMARY KEY, tag INTEGER NOT NULL UNIQUE, parse TEXT NOT NULL,"
    " snaplen INTEGER NOT NULL, sampling INTEGER NOT NULL, retain_mb INTEGER NOT NULL,"
    " tenant TEXT, cap_point TEXT, direction TEXT, pattern TEXT, created REAL);"
    "CREATE TABLE IF NOT EXISTS vnd_capture ("
    " interface TEXT PRIMARY KEY, received INTEGER, untagged INTEGER,"
    " unknown_tag INTEGER, queue_dropped INTEGER, kernel_received INTEGER,"
    " kernel_dropped INTEGER, if_dropped INTEGER, updated REAL);"  /* updated: when they changed */
    "CREATE TABLE IF NOT EXISTS vnd_trace_source ("
    " id TEXT PRIMARY KEY, mode TEXT NOT NULL, ifindex INTEGER, match TEXT)";

/* Columns added since: appended to older registries (the error of a
 * column already there is no error). */
static const char *const schema_added[] = {
    "ALTER TABLE vnd_traces ADD COLUMN flow_sampling REAL",
    "ALTER TABLE vnd_traces ADD COLUMN sampling_method TEXT",
    "ALTER TABLE vnd_trace_source ADD COLUMN filter TEXT",
};

static const char counters_schema[] =
    "CREATE TABLE IF NOT EXISTS sflow_counters ("
    " ts REAL, trace TEXT, if_index INTEGER, if_speed INTEGER, if_status INTEGER,"
    " in_octets INTEGER, in_ucast INTEGER, in_mcast INTEGER, in_bcast INTEGER,"
    " in_discards INTEGER, in_errors INTEGER, out_octets INTEGER, out_ucast INTEGER,"
    " out_mcast INTEGER, out_bcast INTEGER, out_discards INTEGER, out_errors INTEGER)";

/* Runs `sql` on the store `st` (the registry's or a tenant's). */
static int exec_sql(struct vnd_store *st, const char *sql, char **err)
{
    char *msg = NULL;
    sqlite3 *db = vnd_store_db(st);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        *err = vnd_strdup_printf("store: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return 500;
    }
    return 0;
}

static void trace_free(struct vnd_tabled_trace *t)
{
    if (!t)
        return;
    free(t->id);
    free(t->parse);
    vnd_parseconf_free(t->conf);
    for (int i = 0; i < t->ntables; i++)
        free(t->tables[i]);
    free(t->tables);
    vnd_retain_close(t->retain, 0);
    free(t->kdrop_at);
    free(t->qdrop_at);
    free(t->mode);
    free(t->match);
    free(t->collector);
    free(t->filter);
    vnd_source_free(t->tap);    /* stops it first */
    vnd_filter_free(t->matchf);
    free(t->counters);
    free(t->counters_ts);
    free(t);
}

static bool is_sflow(const struct vnd_tabled_trace *t)
{
    return t->mode && !strcmp(t->mode, "sflow");
}

static bool is_ipfix(const struct vnd_tabled_trace *t)
{
    return t->mode && !strcmp(t->mode, "ipfix");
}

/* A trace whose port's interface this table server reads itself. */
static bool is_tap(const struct vnd_tabled_trace *t)
{
    return t->mode && !strcmp(t->mode, "tap");
}

/* Opens trace t's tap on the interface with its ifindex, to feed `slot`
 * (not started: its slot is not enlisted yet).  0, or an HTTP status and
 * *err. */
static int open_tap(struct vnd_tabled *td, struct vnd_tabled_trace *t, int slot, char **err)
{
    char ifname[IF_NAMESIZE];
    if (!if_indextoname(t->ifindex, ifname)) {
        *err = vnd_strdup_printf("no interface has ifindex %u on this host: %s", t->ifindex,
                                 strerror(errno));
        return 400;
    }
    /* "in": what goes into the tenant's node, which the switch sends on
     * the port's interface; "out": what the node sends, which the
     * interface receives */
    struct vnd_pcap_tap_opts o = {.buffer_mb = td->tap_buffer_mb, .snaplen = t->snaplen,
                                  .sent = !t->cap_dir_out, .filter = t->filter,
                                  .slot = slot, .tag = t->tag};
    int e = vnd_pcap_tap_open(ifname, &o, td->queue, &t->tap, err);
    return e == EINVAL ? 400 : e ? 409 : 0;
}

/* A trace fed by a collector (sampled in the switch), not the mirror port. */
static bool is_collected(const struct vnd_tabled_trace *t)
{
    return is_sflow(t) || is_ipfix(t);
}

/* The address of this table server's collector of `kind` ("sflow:ADDR",
 * "ipfix:ADDR"). */
static char *collector_of(const struct vnd_tabled *td, const char *kind)
{
    for (int c = 0; c < td->ncoll; c++)
        if (!strcmp(vnd_source_kind(td->coll[c]), kind))
            return vnd_xstrdup(vnd_source_name(td->coll[c]) + strlen(kind) + 1);
    return NULL;
}

/* The tables the conf's rules make for trace `id`, without repeats. */
static void collect_tables(struct vnd_tabled_trace *t)
{
    for (int r = 0; r < t->conf->nrules; r++) {
        const struct vnd_parse_rule *rule = &t->conf->rules[r];
        if (!vnd_parse_rule_covers(rule, t->id))
            continue;
        char buf[VND_API_ID_MAX + 4];
        const char *name = rule->table;
        if (!name) {
            vnd_store_table_name(t->id, buf, sizeof buf);
            name = buf;
        }
        bool seen = false;
        for (int i = 0; i < t->ntables; i++)
            seen |= !strcmp(t->tables[i], name);
        if (seen)
            continue;
        t->tables = vnd_xrealloc(t->tables, (size_t)(t->ntables + 1) * sizeof *t->tables);
        t->tables[t->ntables++] = vnd_xstrdup(name);
    }
}

static int open_retain(struct vnd_tabled *td, struct vnd_tabled_trace *t, char **err)
{
    if (!t->retain_mb)
        return 0;
    char *dir = vnd_strdup_printf("%s/%s", td->raw_dir, t->id);
    int rc = vnd_retain_open(dir, (uint64_t)t->retain_mb * 1024 * 1024, t->snaplen,
                             &t->retain, err);
    free(dir);
    return rc;
}

/* The tenant called `name`, its database opened (and created) when it
 * is new here.  NULL and *err when the database cannot be opened. */
static struct vnd_tabled_tenant *tenant_get(struct vnd_tabled *td, const char *name, char **err)
{
    if (!name)
        name = VND_TENANT_DEFAULT;
    for (int i = 0; i < td->ntenants; i++)
        if (!strcmp(td->tenants[i]->name, name))
            return td->tenants[i];
    char *dir = td->trace_store ? NULL : vnd_tenant_dir(td->db_path);
    char *path = td->trace_store ? vnd_strdup_printf("%s#%s", td->trace_store, name)
                                 : vnd_tenant_db_path(td->db_path, name);
    struct vnd_tabled_tenant *tn = NULL;
    struct vnd_store *st = NULL;
    if (dir && mkdir(dir, 0750) && errno != EEXIST)
        *err = vnd_strdup_printf("%s: cannot create: %s", dir, strerror(errno));
    else if (!vnd_store_open(path, &st, err)) {
        tn = vnd_xcalloc(1, sizeof *tn);
        tn->name = vnd_xstrdup(name);
        tn->st = st;
        tn->ing = vnd_ingest_new(st, NULL, 65536, 0.5);
        td->tenants = vnd_xrealloc(td->tenants, (size_t)(td->ntenants + 1) * sizeof *td->tenants);
        td->tenants[td->ntenants++] = tn;
    }
    free(dir);
    free(path);
    return tn;
}

/* Stops a tenant's parser (its writer thread) and closes its store. */
static void tenant_free(struct vnd_tabled_tenant *tn)
{
    vnd_ingest_free(tn->ing);
    vnd_store_close(tn->st);
    free(tn->name);
    free(tn);
}

/* Closes a tenant whose last trace was deleted: its parser's writer and
 * checkpoint threads end, and its database goes (nothing of it is left
 * in it).  A tenant is a diagnosis's store when the control server
 * places it ("alice-d7"): kept open, every deleted diagnosis left two
 * threads and a file behind, and the table server's idle CPU grew with
 * them (0.2% to 1% of a core over 200 of bench/cost.sh's runs). */
static void tenant_close_if_unused(struct vnd_tabled *td, struct vnd_tabled_tenant *tn)
{
    for (int i = 0; i < td->ntraces; i++)
        if (td->traces[i]->tenant == tn)
            return;
    int at = 0;
    while (at < td->ntenants && td->tenants[at] != tn)
        at++;
    if (at == td->ntenants)
        return;
    td->tenants[at] = td->tenants[--td->ntenants];
    vnd_info("tenant %s: no traces left, its store closed", tn->name);
    char *path = td->trace_store ? NULL : vnd_tenant_db_path(td->db_path, tn->name);
    tenant_free(tn);
    if (path) {
        /* (a query that has the file open reads on; the next trace of
         * this tenant makes a new one) */
        static const char *const suffix[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            char *f = vnd_strdup_printf("%s%s", path, suffix[i]);
            if (unlink(f) && errno != ENOENT)
                vnd_warn("cannot remove %s: %s", f, strerror(errno));
            free(f);
        }
        free(path);
    }
}

/* Links a trace the parser knows into the registry and the tag map. */
static void enlist(struct vnd_tabled *td, struct vnd_tabled_trace *t)
{
    const struct vnd_trace_stats *s = vnd_ingest_stats(t->tenant->ing, t->index);
    t->kdrop_base = s->dropped_kernel;
    t->qdrop_base = s->dropped_queue;
    t->malformed_base = s->malformed;
    t->kdrop_at = vnd_xcalloc((size_t)td->ncoll + 1, sizeof *t->kdrop_at);
    t->qdrop_at = vnd_xcalloc((size_t)td->ncoll + 1, sizeof *t->qdrop_at);
    for (int c = 0; c < td->ncoll; c++) {
        struct vnd_source_stats cs;
        vnd_source_stats(td->coll[c], &cs);
        t->kdrop_at[c] = cs.kernel_dropped;
        t->qdrop_at[c] = vnd_source_tag_drops(td->coll[c], t->tag);
        if (t->mode && !strcmp(vnd_source_kind(td->coll[c]), t->mode))
            t->malformed_at = cs.malformed;
    }
    td->traces = vnd_xrealloc(td->traces, (size_t)(td->ntraces + 1) * sizeof *td->traces);
    td->traces[td->ntraces++] = t;
    /* Slots are never reused: a packet queued for a deleted trace finds
     * NULL, not a newer trace. */
    t->slot = td->nslots;
    td->by_slot = vnd_xrealloc(td->by_slot, (size_t)(td->nslots + 1) * sizeof *td->by_slot);
    td->by_slot[td->nslots++] = t;
    if (is_collected(t) && !t->collector)
        t->collector = collector_of(td, t->mode);
    if (is_sflow(t))
        vnd_portmap_set(td->portmap, t->slot, t->tag, t->ifindex,
                        t->cap_dir_out, t->sampling);
    else if (is_ipfix(t))
        vnd_obsmap_set(td->obsmap, t->slot, t->tag, (uint64_t)t->tag);
    else if (!t->tap)
        vnd_tagmap_set(&td->tagmap, t->tag, t->slot, t->snaplen);
    else if (vnd_source_start(t->tap))
        vnd_err("trace %s: cannot start the capture thread of %s", t->id,
                vnd_source_name(t->tap));
}

static int add_to_parser(struct vnd_tabled_trace *t, bool append,
                         const char *cap_point, const char *direction,
                         const char *pattern, char **err)
{
    t->cap_dir_out = direction && !strcmp(direction, "out");
    struct vnd_trace_opts o = {
        .id = t->id, .linktype = VND_DLT_EN10MB, .sampling = t->sampling,
        .sampling_method = t->sampling_hash ? VND_SAMPLE_HASH : VND_SAMPLE_COUNT,
        .snaplen = t->snaplen, .append = append, .conf = t->conf,
        .match = t->matchf, .presampled = is_collected(t),
        .source = is_sflow(t) ? "vnd-tabled sflow" : is_ipfix(t) ? "vnd-tabled ipfix"
                  : is_tap(t) ? "vnd-tabled tap" : "vnd-tabled",
        .tenant = t->tenant->name, .cap_point = cap_point,
        .direction = direction, .pattern = pattern, .flow_sampling = t->flow_sampling,
        /* a mirror trace's Snaplen is the switch's output max_len (a
         * tap's is the kernel's, which keeps the frame's length) */
        .cut_in_switch = !is_collected(t) && !is_tap(t),
        /* IPFIX records and sFlow samples come at a million a second
         * and more (docs/benchmarks.md); a mirror or tap trace's table,
         * which the per-packet apps join, stays plain */
        .packed = is_collected(t),
    };
    t->index = vnd_ingest_add_trace(t->tenant->ing, &o, err);
    return t->index < 0 ? 400 : 0;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

int vnd_traces_restore(struct vnd_tabled *td, char **err)
{
    if (exec_sql(td->st, schema, err))
        return EIO;
    for (size_t i = 0; i < sizeof schema_added / sizeof *schema_added; i++)
        sqlite3_exec(vnd_store_db(td->st), schema_added[i], NULL, NULL, NULL);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(vnd_store_db(td->st),
            "SELECT t.id, t.tag, t.parse, t.snaplen, t.sampling, t.retain_mb, t.tenant,"
            " t.cap_point, t.direction, t.pattern, s.mode, s.ifindex, s.match,"
            " t.flow_sampling, t.sampling_method, s.filter"
            " FROM vnd_traces t LEFT JOIN vnd_trace_source s ON s.id = t.id"
            " ORDER BY t.created, t.id", -1, &s, NULL)
        != SQLITE_OK) {
        *err = vnd_strdup_printf("vnd_traces: %s", sqlite3_errmsg(vnd_store_db(td->st)));
        return EIO;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct vnd_tabled_trace *t = vnd_xcalloc(1, sizeof *t);
        t->id = vnd_xstrdup(col_text(s, 0));
        t->tag = sqlite3_column_int(s, 1);
        t->parse = vnd_xstrdup(col_text(s, 2) ? col_text(s, 2) : "");
        t->snaplen = (uint32_t)sqlite3_column_int64(s, 3);
        t->sampling = (uint32_t)sqlite3_column_int64(s, 4);
        t->retain_mb = (uint32_t)sqlite3_column_int64(s, 5);
        t->mode = col_text(s, 10) ? vnd_xstrdup(col_text(s, 10)) : NULL;
        t->ifindex = (uint32_t)sqlite3_column_int64(s, 11);
        t->match = col_text(s, 12) ? vnd_xstrdup(col_text(s, 12)) : NULL;
        t->flow_sampling = sqlite3_column_double(s, 13) > 1 ? sqlite3_column_double(s, 13) : 1;
        t->sampling_hash = col_text(s, 14) && !strcmp(col_text(s, 14), "hash");
        t->filter = col_text(s, 15) ? vnd_xstrdup(col_text(s, 15)) : NULL;
        t->cap_dir_out = col_text(s, 8) && !strcmp(col_text(s, 8), "out");
        char *msg = NULL;
        if ((is_sflow(t) && !td->portmap) || (is_ipfix(t) && !td->obsmap)) {
            vnd_err("trace %s: an %s trace, but no --%s-listen: not restored", t->id, t->mode,
                    t->mode);
            trace_free(t);
            continue;
        }
        if ((t->match && !(t->matchf = vnd_filter_compile(t->match, "match", 1, 1, &msg)))
            || vnd_parseconf_parse(t->parse, t->id, &t->conf, &msg)
            || (is_tap(t) && open_tap(td, t, td->nslots, &msg))
            || !(t->tenant = tenant_get(td, col_text(s, 6), &msg))
            || add_to_parser(t, true, col_text(s, 7), col_text(s, 8), col_text(s, 9), &msg)) {
            vnd_err("trace %s: cannot restore, its rows stay but nothing is added: %s",
                    t->id, msg);
            free(msg);
            trace_free(t);
            continue;
        }
        collect_tables(t);
        if (open_retain(td, t, &msg)) {
            vnd_err("trace %s: raw packets are not kept: %s", t->id, msg);
            free(msg);
            t->retain_failed = true;
        }
        enlist(td, t);
        vnd_info("trace %s restored (tag %d, %d table%s)", t->id, t->tag, t->ntables,
                 t->ntables == 1 ? "" : "s");
    }
    sqlite3_finalize(s);
    return 0;
}

struct vnd_tabled_trace *vnd_traces_find(struct vnd_tabled *td, const char *id)
{
    for (int i = 0; i < td->ntraces; i++)
        if (!strcmp(td->traces[i]->id, id))
            return td->traces[i];
    return NULL;
}

/* Runs one statement on the store `st` with text/integer/real parameters
 * ('s', 'i' or 'd' in `types`). */
static int run(struct vnd_store *st, const char *sql, const char *types, const void *const *args,
               char **err)
{
    sqlite3 *db = vnd_store_db(st);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        goto out_fail;
    for (int i = 0; types[i]; i++) {
        if (types[i] == 's')
            sqlite3_bind_text(s, i + 1, args[i], -1, SQLITE_STATIC);
        else if (types[i] == 'd')
            sqlite3_bind_double(s, i + 1, *(const double *)args[i]);
        else
            sqlite3_bind_int64(s, i + 1, *(const int64_t *)args[i]);
    }
    if (sqlite3_step(s) != SQLITE_DONE) {
        sqlite3_finalize(s);
        goto out_fail;
    }
    sqlite3_finalize(s);
    return 0;
out_fail:
    *err = vnd_strdup_printf("store: %s", sqlite3_errmsg(db));
    return 500;
}

static bool table_exists(struct vnd_store *st, const char *table)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(vnd_store_db(st), "SELECT 1 FROM sqlite_master WHERE type = 'table'"
                           " AND name = ? COLLATE NOCASE", -1, &s, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    bool yes = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return yes;
}

/* True when a registered trace of t's tenant other than t writes `table`. */
static bool table_shared(const struct vnd_tabled *td, const struct vnd_tabled_trace *t,
                         const char *table)
{
    for (int j = 0; j < td->ntraces; j++) {
        const struct vnd_tabled_trace *o = td->traces[j];
        if (o == t || o->tenant != t->tenant)
            continue;
        for (int k = 0; k < o->ntables; k++)
            if (!strcasecmp(o->tables[k], table))
                return true;
    }
    return false;
}

/* Removes from the tenant's database what an earlier, unregistered trace
 * of the same id or a crash between steps left: its rows and vnd_meta
 * rows, and its tables unless another trace of the tenant writes them
 * too.  The tenant's parser must have been flushed. */
static int clear_leftovers(struct vnd_tabled *td, struct vnd_tabled_trace *t, char **err)
{
    struct vnd_store *st = t->tenant->st;
    if (!vnd_store_db(st)) {
        /* another provider: its own way of removing a trace */
        int rc = vnd_store_begin(st, err) ? 500 : 0;
        if (!rc && vnd_store_drop_trace(st, t->id, NULL, err))
            rc = 500;
        if (!rc && vnd_store_commit(st, err))
            rc = 500;
        if (rc)
            vnd_store_rollback(st);
        return rc;
    }
    int rc = exec_sql(st, "BEGIN", err);
    for (int i = 0; !rc && i < t->ntables; i++) {
        if (table_shared(td, t, t->tables[i])) {
            /* the other trace's table stays, even while it has no rows */
            if (table_exists(st, t->tables[i]))
                rc = vnd_store_clear_trace(st, t->id, t->tables[i], err) ? 500 : 0;
            continue;
        }
        char *sql = vnd_strdup_printf("DROP TABLE IF EXISTS \"%s\"", t->tables[i]);
        rc = exec_sql(st, sql, err);
        free(sql);
    }
    const void *args[] = {t->id};
    if (rc || (rc = run(st, "DELETE FROM vnd_meta WHERE trace = ?", "s", args, err))
        || (rc = run(st, "DELETE FROM vnd_sampling WHERE trace = ?", "s", args, err))
        || (rc = exec_sql(st, "COMMIT", err)))
        exec_sql(st, "ROLLBACK", &(char *){NULL});
    return rc;
}

int vnd_traces_create(struct vnd_tabled *td, const struct vnd_api_request *req,
                      struct vnd_tabled_trace **out, char **err)
{
    if (vnd_traces_find(td, req->id)) {
        *err = vnd_strdup_printf("trace %s exists (DELETE it first to change it)", req->id);
        return 409;
    }
    for (int i = 0; i < td->ntraces; i++)
        if (td->traces[i]->tag == req->tag) {
            *err = vnd_strdup_printf("tag %d is in use by another trace", req->tag);
            return 409;
        }
    struct vnd_tabled_trace *t = vnd_xcalloc(1, sizeof *t);
    t->id = vnd_xstrdup(req->id);
    t->tag = req->tag;
    t->parse = vnd_xstrdup(req->parse ? req->parse
                           : req->mode && !strcmp(req->mode, "ipfix")
                               ? vnd_parseconf_flow_default_text
                               : vnd_parseconf_default_text);
    t->snaplen = req->snaplen;
    t->sampling = req->sampling ? req->sampling : 1;
    t->retain_mb = req->retain_mb;
    t->mode = req->mode ? vnd_xstrdup(req->mode) : NULL;
    t->ifindex = req->ifindex;
    t->match = req->match ? vnd_xstrdup(req->match) : NULL;
    t->flow_sampling = req->flow_sampling > 1 ? req->flow_sampling : 1;
    t->sampling_hash = req->sampling_hash;
    t->filter = req->filter ? vnd_xstrdup(req->filter) : NULL;
    t->cap_dir_out = req->direction && !strcmp(req->direction, "out");
    int status = 400;
    if (is_sflow(t) && !td->portmap) {
        *err = vnd_strdup_printf("this table server has no sFlow collector (start it with "
                                 "--sflow-listen)");
        status = 409;
        goto out_free;
    }
    if (is_ipfix(t) && !td->obsmap) {
        *err = vnd_strdup_printf("this table server has no IPFIX collector (start it with "
                                 "--ipfix-listen)");
        status = 409;
        goto out_free;
    }
    if (t->match && !(t->matchf = vnd_filter_compile(t->match, "match", 1, 1, err)))
        goto out_free;
    if (vnd_parseconf_parse(t->parse, "parse", &t->conf, err))
        goto out_free;
    collect_tables(t);
    if (t->ntables == 0) {
        *err = vnd_strdup_printf("no rule of the parse configuration covers trace %s "
                                 "(name it on a `Trace ID` line, or use `Trace ID all`)", t->id);
        goto out_free;
    }
    for (int i = 0; i < t->ntables; i++) {
        const char *problem = vnd_store_identifier_problem(t->tables[i]);
        if (problem) {
            *err = vnd_strdup_printf("table %s: %s", t->tables[i], problem);
            goto out_free;
        }
        /* Tables of other tenants are in other files: names may repeat.
         * A table the tenant's other traces write is shared (a Table ID
         * of several traces, paper Fig. 7): the store checks its columns
         * agree and keeps each trace's rows apart (vnd_slots). */
    }

    /* the next slot is its: enlist() below takes it (under td->lock) */
    if (is_tap(t) && (status = open_tap(td, t, td->nslots, err)))
        goto out_free;
    status = 500;
    if (!(t->tenant = tenant_get(td, req->tenant, err)))
        goto out_free;
    /* Leftovers first, then registered: a crash after the registration
     * re-creates the trace on restart; a crash before leaves nothing. */
    int64_t tag = t->tag, snap = t->snaplen, samp = t->sampling, ret = t->retain_mb;
    const void *args[] = {t->id, &tag, t->parse, &snap, &samp, &ret, t->tenant->name,
                          req->cap_point, req->direction, req->pattern};
    if ((status = vnd_ingest_flush(t->tenant->ing, err) ? 500 : 0)
        || (status = clear_leftovers(td, t, err))
        || (status = run(td->st, "INSERT INTO vnd_traces (id, tag, parse, snaplen,"
                                 " sampling, retain_mb, tenant, cap_point, direction, pattern,"
                                 " created) VALUES (?,?,?,?,?,?,?,?,?,?, julianday('now'))", "sisiiissss", args, err)))
        goto out_free;
    /* flow_sampling and sampling_method are later columns: set apart from
     * the positional insert */
    sqlite3_stmt *fs = NULL;
    if (sqlite3_prepare_v2(vnd_store_db(td->st), "UPDATE vnd_traces SET flow_sampling = ?,"
                           " sampling_method = ? WHERE id = ?", -1, &fs, NULL) == SQLITE_OK) {
        sqlite3_bind_double(fs, 1, t->flow_sampling);
        sqlite3_bind_text(fs, 2, t->sampling_hash ? "hash" : "count", -1, SQLITE_STATIC);
        sqlite3_bind_text(fs, 3, t->id, -1, SQLITE_STATIC);
        if (sqlite3_step(fs) != SQLITE_DONE)
            vnd_warn("trace %s: flow_sampling, sampling_method not kept in vnd_traces: %s", t->id,
                     sqlite3_errmsg(vnd_store_db(td->st)));
    }
    sqlite3_finalize(fs);
    int64_t ifx = t->ifindex;
    const void *sargs[] = {t->id, t->mode ? t->mode : "mirror", &ifx, t->match, t->filter};
    if ((status = run(td->st, "INSERT OR REPLACE INTO vnd_trace_source (id, mode, ifindex,"
                              " match, filter) VALUES (?,?,?,?,?)", "ssiss", sargs, err)))
        goto out_free;
    if ((status = open_retain(td, t, err) ? 500 : 0)
        || (status = add_to_parser(t, false, req->cap_point, req->direction, req->pattern,
                                   err))) {
        char *ignored = NULL;
        const void *idarg[] = {t->id};
        run(td->st, "DELETE FROM vnd_traces WHERE id = ?", "s", idarg, &ignored);
        free(ignored);
        if (t->retain) {
            vnd_retain_close(t->retain, 1);
            t->retain = NULL;
        }
        goto out_free;
    }
    enlist(td, t);
    vnd_info("trace %s created: tag %d, snaplen %u, sampling 1/%u (%s), retain %u MB, tables %d",
             t->id, t->tag, t->snaplen, t->sampling, t->sampling_hash ? "hash" : "count",
             t->retain_mb, t->ntables);
    *out = t;
    return 0;

out_free:
    trace_free(t);
    return status;
}

int vnd_traces_delete(struct vnd_tabled *td, const char *id, char **err)
{
    int at = -1;
    for (int i = 0; i < td->ntraces; i++)
        if (!strcmp(td->traces[i]->id, id))
            at = i;
    if (at < 0) {
        *err = vnd_strdup_printf("no trace %s", id);
        return 404;
    }
    struct vnd_tabled_trace *t = td->traces[at];
    /* No new packets for it; queued ones find by_slot NULL. */
    if (is_sflow(t))
        vnd_portmap_clear(td->portmap, t->slot);
    else if (is_ipfix(t))
        vnd_obsmap_clear(td->obsmap, t->slot);
    else if (t->tap)
        vnd_source_stop(t->tap);
    else
        vnd_tagmap_clear(&td->tagmap, t->tag);
    const void *args[] = {t->id};
    if (vnd_ingest_flush(t->tenant->ing, err)
        || run(td->st, "DELETE FROM vnd_traces WHERE id = ?", "s", args, err))
        return 500;
    char *ignored = NULL;
    run(td->st, "DELETE FROM vnd_trace_source WHERE id = ?", "s", args, &ignored);
    free(ignored);
    td->by_slot[t->slot] = NULL;
    memmove(td->traces + at, td->traces + at + 1,
            (size_t)(td->ntraces - at - 1) * sizeof *td->traces);
    td->ntraces--;
    /* From here the trace is gone for a restart; what remains is
     * cleaning up, and a leftover table is removed by the next create of
     * the same id. */
    int status = 0;
    if (vnd_ingest_drop_trace(t->tenant->ing, t->index, err) || clear_leftovers(td, t, err))
        status = 500;
    if (t->retain) {
        vnd_retain_close(t->retain, 1);
        t->retain = NULL;
    }
    vnd_info("trace %s deleted%s", t->id, status ? " (some tables remain, see above)" : "");
    if (status)
        vnd_err("trace %s: %s", t->id, *err);
    struct vnd_tabled_tenant *tn = t->tenant;
    trace_free(t);
    if (!status)          /* tables left over are dropped by the next create */
        tenant_close_if_unused(td, tn);
    return status;
}

/* A rate of trace t in vnd_traces, for a restart. */
static void keep_rate(struct vnd_tabled *td, const struct vnd_tabled_trace *t,
                      const char *column, double value)
{
    char *sql = vnd_strdup_printf("UPDATE vnd_traces SET %s = ? WHERE id = ?", column);
    char *ignored = NULL;
    const void *args[] = {&value, t->id};
    if (run(td->st, sql, "ds", args, &ignored))
        vnd_warn("trace %s: %s not kept in vnd_traces: %s", t->id, column, ignored);
    free(ignored);
    free(sql);
}

int vnd_traces_switch_rates(struct vnd_tabled *td, const char *id,
                            const struct vnd_switch_rates *r, double from_ts, const char *reason,
                            char **err)
{
    struct vnd_tabled_trace *t = vnd_traces_find(td, id);
    if (!t) {
        *err = vnd_strdup_printf("no trace %s", id);
        return 404;
    }
    bool mirror = !t->mode || !strcmp(t->mode, "mirror");
    if (((r->flow_sampling || r->snaplen >= 0) && !mirror) || (r->sampling && !is_collected(t))) {
        *err = vnd_strdup_printf("trace %s is a %s trace: %s", id, mirror ? "mirror" : t->mode,
                                 r->sampling ? "the switch samples packets for an sflow or ipfix "
                                               "trace only"
                                             : "flow sampling and snaplen are a mirror trace's");
        return 409;
    }
    if (vnd_ingest_switch_rates(t->tenant->ing, t->index, r, (int64_t)(from_ts * 1e9), reason)) {
        *err = vnd_strdup_printf("trace %s: the rates refused", id);
        return 400;
    }
    const char *why = reason ? reason : "no reason given";
    /* a restart records vnd_meta with the rates the switch applies now */
    if (r->flow_sampling) {
        vnd_info("trace %s: flow sampling 1/%g -> 1/%g from %.6f (%s)", t->id, t->flow_sampling,
                 r->flow_sampling, from_ts, why);
        t->flow_sampling = r->flow_sampling;
        keep_rate(td, t, "flow_sampling", r->flow_sampling);
    }
    if (r->snaplen >= 0) {
        vnd_info("trace %s: snaplen %u -> %lld bytes (0: whole packets) from %.6f (%s)", t->id,
                 t->snaplen, (long long)r->snaplen, from_ts, why);
        t->snaplen = (uint32_t)r->snaplen;
        vnd_tagmap_set(&td->tagmap, t->tag, t->slot, t->snaplen);
        keep_rate(td, t, "snaplen", (double)t->snaplen);
    }
    if (r->sampling && is_sflow(t)) {
        vnd_info("trace %s: the sFlow agent's 1/%u -> 1/%u from %.6f (%s)", t->id, t->sampling,
                 r->sampling, from_ts, why);
        /* the collector keeps 1 in sampling/(the agent's rate) of the port's samples */
        vnd_portmap_set(td->portmap, t->slot, t->tag, t->ifindex, t->cap_dir_out, r->sampling);
    } else if (r->sampling) {
        /* the trace's own sample action: its records' counts come scaled
         * by the switch, so only vnd_meta and vnd_sampling change */
        vnd_info("trace %s: the switch's IPFIX sampling 1/%u -> 1/%u from %.6f (%s)", t->id,
                 t->sampling, r->sampling, from_ts, why);
    }
    if (r->sampling) {
        t->sampling = r->sampling;
        keep_rate(td, t, "sampling", r->sampling);
    }
    return 0;
}

void vnd_traces_update_drops(struct vnd_tabled *td)
{
    for (int i = 0; i < td->ntraces; i++) {
        struct vnd_tabled_trace *t = td->traces[i];
        uint64_t k = t->kdrop_base, q = t->qdrop_base, bad = t->malformed_base;
        /* a tap's frames come through no shared source: its own counts */
        for (int c = 0; c < td->ncoll && !t->tap; c++) {
            struct vnd_source_stats cs;
            vnd_source_stats(td->coll[c], &cs);
            k += cs.kernel_dropped - t->kdrop_at[c];
            q += vnd_source_tag_drops(td->coll[c], t->tag) - t->qdrop_at[c];
            /* a datagram that could not be read may have held its records */
            if (t->mode && !strcmp(vnd_source_kind(td->coll[c]), t->mode))
                bad += cs.malformed - t->malformed_at;
        }
        if (t->tap) {           /* its own, since it opened */
            struct vnd_source_stats cs;
            vnd_source_stats(t->tap, &cs);
            k += cs.kernel_dropped;
            q += cs.queue_dropped;
        }
        vnd_ingest_set_drops(t->tenant->ing, t->index, k, q);
        vnd_ingest_set_malformed(t->tenant->ing, t->index, bad);
    }
}

void vnd_traces_save_capture(struct vnd_tabled *td)
{
    if (!td->coll_saved) {      /* none saved yet: every source differs */
        td->coll_saved = vnd_xmalloc(((size_t)td->ncoll + 1) * sizeof *td->coll_saved);
        memset(td->coll_saved, 0xff, ((size_t)td->ncoll + 1) * sizeof *td->coll_saved);
    }
    for (int c = 0; c < td->ncoll; c++) {
        struct vnd_source_stats cs;
        vnd_source_stats(td->coll[c], &cs);
        /* unchanged: no write (each is a commit of its own, a WAL frame) */
        if (!memcmp(&cs, &td->coll_saved[c], sizeof cs))
            continue;
        int64_t v[] = {(int64_t)cs.received, (int64_t)cs.untagged, (int64_t)cs.unknown_tag,
                       (int64_t)cs.queue_dropped, (int64_t)cs.kernel_received,
                       (int64_t)cs.kernel_dropped, (int64_t)cs.if_dropped};
        const void *args[] = {vnd_source_name(td->coll[c]), &v[0], &v[1], &v[2], &v[3],
                              &v[4], &v[5], &v[6]};
        char *err = NULL;
        if (run(td->st, "INSERT OR REPLACE INTO vnd_capture VALUES (?,?,?,?,?,?,?,?,"
                    " julianday('now'))", "siiiiiii", args, &err)) {
            vnd_warn("vnd_capture: %s", err);
            free(err);
        } else {
            td->coll_saved[c] = cs;
        }
    }
}

void vnd_traces_metrics(struct vnd_tabled *td)
{
    const struct vnd_tabled_metrics *m = &td->mx;
    if (!m->reg)
        return;
    /* Rebuilt whole: a deleted trace's series go with it. */
    struct vnd_metric *per_trace[] = {m->seen, m->sampled_out, m->matched, m->stored,
                                      m->dropped, m->anomalies, m->retained, m->store_lost};
    for (size_t i = 0; i < sizeof per_trace / sizeof *per_trace; i++)
        vnd_metric_clear(per_trace[i]);
    vnd_metric_set(m->traces, td->ntraces);
    for (int i = 0; i < td->ntraces; i++) {
        const struct vnd_tabled_trace *t = td->traces[i];
        const struct vnd_trace_stats *s = vnd_ingest_stats(t->tenant->ing, t->index);
        vnd_metric_set(m->seen, (double)s->seen, t->id);
        vnd_metric_set(m->sampled_out, (double)s->sampled_out, t->id);
        vnd_metric_set(m->matched, (double)s->matched, t->id);
        vnd_metric_set(m->stored, (double)s->stored, t->id);
        vnd_metric_set(m->dropped, (double)s->dropped_kernel, t->id, "kernel");
        vnd_metric_set(m->dropped, (double)s->dropped_queue, t->id, "queue");
        vnd_metric_set(m->anomalies, (double)s->anomalies, t->id);
        vnd_metric_set(m->retained, (double)vnd_retain_bytes(t->retain), t->id);
        vnd_metric_set(m->store_lost, (double)s->store_lost, t->id);
    }
    /* one series: tenant names stay out of the metrics */
    double down = 0;
    for (int i = 0; i < td->ntenants; i++) {
        double d = vnd_ingest_store_down(td->tenants[i]->ing, NULL);
        if (d && (!down || d < down))
            down = d;
    }
    vnd_metric_set(m->store_down_since, down);
    for (int c = 0; c < td->ncoll; c++) {
        struct vnd_source_stats cs;
        vnd_source_stats(td->coll[c], &cs);
        const char *ifn = vnd_source_name(td->coll[c]);
        vnd_metric_set(m->cap_received, (double)cs.received, ifn);
        vnd_metric_set(m->cap_untagged, (double)cs.untagged, ifn);
        vnd_metric_set(m->cap_unknown, (double)cs.unknown_tag, ifn);
        vnd_metric_set(m->cap_kernel_dropped, (double)cs.kernel_dropped, ifn);
        vnd_metric_set(m->cap_if_dropped, (double)cs.if_dropped, ifn);
        vnd_metric_set(m->cap_up, vnd_source_error(td->coll[c]) ? 0 : 1, ifn);
    }
}

/* "2026-12-01T10:22:59Z" */
static void utc_text(double t, char *buf, size_t n)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *ts_json(int64_t ns)
{
    return ns ? json_real((double)ns / 1e9) : json_null();
}

json_t *vnd_traces_json(const struct vnd_tabled_trace *t)
{
    const struct vnd_trace_stats *s = vnd_ingest_stats(t->tenant->ing, t->index);
    json_t *tables = json_array();
    for (int i = 0; i < t->ntables; i++)
        json_array_append_new(tables, json_string(t->tables[i]));
    json_t *o = json_pack("{s:s, s:i, s:s, s:I, s:I, s:I, s:o}",
                          "id", t->id, "tag", t->tag, "parse", t->parse,
                          "snaplen", (json_int_t)t->snaplen, "sampling", (json_int_t)t->sampling,
                          "retain_mb", (json_int_t)t->retain_mb, "tables", tables);
    if (!o)
        return NULL;
    json_object_set_new(o, "tenant", json_string(t->tenant->name));
    json_object_set_new(o, "mode", json_string(t->mode ? t->mode : "mirror"));
    json_object_set_new(o, "sampling_method", json_string(t->sampling_hash ? "hash" : "count"));
    /* what the table server samples now: above "sampling" when the CPU
     * budget raised it (budget.h) */
    json_object_set_new(o, "sampling_now",
                        json_integer((json_int_t)vnd_ingest_sampling(t->tenant->ing, t->index,
                                                                     NULL)));
    if (t->flow_sampling > 1)
        json_object_set_new(o, "flow_sampling", json_real(t->flow_sampling));
    if (is_sflow(t) || is_tap(t))
        json_object_set_new(o, "ifindex", json_integer((json_int_t)t->ifindex));
    if (t->tap) {
        json_object_set_new(o, "interface", json_string(vnd_source_name(t->tap)));
        if (t->filter)
            json_object_set_new(o, "filter", json_string(t->filter));
        if (vnd_source_error(t->tap))
            json_object_set_new(o, "capture_error", json_string(vnd_source_error(t->tap)));
    }
    if (t->collector)
        json_object_set_new(o, "collector", json_string(t->collector));
    json_object_set_new(o, "seen", json_integer((json_int_t)s->seen));
    json_object_set_new(o, "matched", json_integer((json_int_t)s->matched));
    json_object_set_new(o, "stored", json_integer((json_int_t)s->stored));
    json_object_set_new(o, "store_lost", json_integer((json_int_t)s->store_lost));
    const char *why = NULL;
    double down = vnd_ingest_store_down(t->tenant->ing, &why);
    json_object_set_new(o, "store", json_string(down ? "down" : "up"));
    if (down) {
        char when[32];
        utc_text(down, when, sizeof when);
        json_object_set_new(o, "store_down_since", json_string(when));
        json_object_set_new(o, "store_error", json_string(why ? why : ""));
    }
    json_object_set_new(o, "sampled_out", json_integer((json_int_t)s->sampled_out));
    json_object_set_new(o, "dropped_kernel", json_integer((json_int_t)s->dropped_kernel));
    json_object_set_new(o, "dropped_queue", json_integer((json_int_t)s->dropped_queue));
    if (is_collected(t))
        json_object_set_new(o, "malformed", json_integer((json_int_t)s->malformed));
    json_object_set_new(o, "anomalies", json_integer((json_int_t)s->anomalies));
    json_object_set_new(o, "first_ts", ts_json(s->first_ns));
    json_object_set_new(o, "last_ts", ts_json(s->last_ns));
    json_object_set_new(o, "retained_bytes", json_integer((json_int_t)vnd_retain_bytes(t->retain)));
    if (t->retain_failed)
        json_object_set_new(o, "retain_error", json_string("raw packets could not be kept "
                                                           "(see the table server's log)"));
    return o;
}

void vnd_traces_add_counters(struct vnd_tabled_trace *t, int64_t ts_ns,
                             const struct vnd_ifcounters *k)
{
    if (t->ncounters >= 4096)       /* a commit is at most 0.5 s away */
        return;
    t->counters = vnd_xrealloc(t->counters, (size_t)(t->ncounters + 1) * sizeof *t->counters);
    t->counters_ts = vnd_xrealloc(t->counters_ts,
                                  (size_t)(t->ncounters + 1) * sizeof *t->counters_ts);
    t->counters[t->ncounters] = *k;
    t->counters_ts[t->ncounters++] = ts_ns;
}

void vnd_traces_write_counters(struct vnd_tabled *td)
{
    for (int i = 0; i < td->ntraces; i++) {
        struct vnd_tabled_trace *t = td->traces[i];
        if (!t->ncounters)
            continue;
        struct vnd_store *st = t->tenant->st;
        sqlite3 *db = vnd_store_db(st);
        char *err = NULL;
        if (!db) {
            vnd_warn("trace %s: sflow_counters are kept in SQLite stores only (%d samples "
                     "not stored)", t->id, t->ncounters);
            t->ncounters = 0;
            continue;
        }
        sqlite3_stmt *s = NULL;
        /* the tenant knows the trace by its table's name */
        const char *name = t->ntables ? t->tables[0] : t->id;
        if (exec_sql(st, counters_schema, &err) || exec_sql(st, "BEGIN", &err)
            || sqlite3_prepare_v2(db, "INSERT INTO sflow_counters VALUES (?,?,?,?,?,?,?,?,?,"
                                  "?,?,?,?,?,?,?,?)", -1, &s, NULL) != SQLITE_OK) {
            vnd_warn("trace %s: sflow_counters: %s", t->id, err ? err : sqlite3_errmsg(db));
            free(err);
            t->ncounters = 0;
            continue;
        }
        for (int j = 0; j < t->ncounters; j++) {
            const struct vnd_ifcounters *k = &t->counters[j];
            int64_t v[] = {k->if_index, (int64_t)k->if_speed, k->if_status,
                           (int64_t)k->in_octets, k->in_ucast, k->in_mcast, k->in_bcast,
                           k->in_discards, k->in_errors, (int64_t)k->out_octets, k->out_ucast,
                           k->out_mcast, k->out_bcast, k->out_discards, k->out_errors};
            sqlite3_bind_double(s, 1, (double)t->counters_ts[j] / 1e9);
            sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
            for (size_t c = 0; c < sizeof v / sizeof *v; c++)
                sqlite3_bind_int64(s, (int)c + 3, v[c]);
            sqlite3_step(s);
            sqlite3_reset(s);
        }
        sqlite3_finalize(s);
        if (exec_sql(st, "COMMIT", &err)) {
            vnd_warn("trace %s: sflow_counters: %s", t->id, err);
            free(err);
            exec_sql(st, "ROLLBACK", &(char *){NULL});
        }
        t->ncounters = 0;
    }
}

json_t *vnd_traces_capture_json(struct vnd_tabled *td)
{
    json_t *a = json_array();
    for (int c = 0; c < td->ncoll; c++) {
        struct vnd_source_stats cs;
        vnd_source_stats(td->coll[c], &cs);
        json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                              "interface", vnd_source_name(td->coll[c]),
                              "received", (json_int_t)cs.received,
                              "untagged", (json_int_t)cs.untagged,
                              "unknown_tag", (json_int_t)cs.unknown_tag,
                              "queue_dropped", (json_int_t)cs.queue_dropped,
                              "kernel_received", (json_int_t)cs.kernel_received,
                              "kernel_dropped", (json_int_t)cs.kernel_dropped,
                              "if_dropped", (json_int_t)cs.if_dropped);
        json_object_set_new(o, "kind", json_string(vnd_source_kind(td->coll[c])));
        if (cs.malformed)
            json_object_set_new(o, "malformed", json_integer((json_int_t)cs.malformed));
        if (!strcmp(vnd_source_kind(td->coll[c]), "ipfix")) {
            struct vnd_ipfix_source_counts ic;
            vnd_ipfix_source_counts(td->coll[c], &ic);
            json_object_set_new(o, "templates", json_integer((json_int_t)ic.templates));
            json_object_set_new(o, "withdrawals", json_integer((json_int_t)ic.withdrawals));
            json_object_set_new(o, "unknown_template",
                                json_integer((json_int_t)ic.unknown_template));
            json_object_set_new(o, "refused_templates",
                                json_integer((json_int_t)ic.refused_templates));
            json_object_set_new(o, "templates_cached",
                                json_integer((json_int_t)ic.templates_cached));
            json_object_set_new(o, "templates_evicted",
                                json_integer((json_int_t)ic.templates_evicted));
        }
        if (vnd_source_error(td->coll[c]))
            json_object_set_new(o, "error", json_string(vnd_source_error(td->coll[c])));
        json_array_append_new(a, o);
    }
    return a;
}

/* Commits every tenant's batch.  A store that does not answer (its rows
 * held, ingest.h) is logged when it goes and when it comes back, and each
 * batch given up; only other failures are returned (they stick). */
int vnd_traces_flush(struct vnd_tabled *td, char **err)
{
    int status = 0;
    for (int i = 0; i < td->ntenants; i++) {
        struct vnd_tabled_tenant *tn = td->tenants[i];
        double was = vnd_ingest_store_down(tn->ing, NULL);
        char *e = NULL;
        vnd_ingest_set_complete(tn->ing, vnd_pktq_complete(td->queue));
        int rc = vnd_ingest_flush(tn->ing, &e);
        const char *why = NULL;
        double since = vnd_ingest_store_down(tn->ing, &why);
        uint64_t lost = vnd_ingest_take_lost(tn->ing);
        double broke;
        uint64_t healed = vnd_ingest_take_healed(tn->ing, &broke);
        char when[32];
        utc_text(since ? since : was, when, sizeof when);
        if (since && !was)
            vnd_err("tenant %s: the store does not answer since %s (%s); its rows are held "
                    "and stored once it answers", tn->name, when, why);
        if (healed) {
            char at[32];
            utc_text(broke, at, sizeof at);
            vnd_info("tenant %s: the store's connection broke at %s and the store answers "
                     "again (%llu reconnect%s within a batch; the batch was sent again whole, "
                     "nothing lost)", tn->name, at, (unsigned long long)healed,
                     healed == 1 ? "" : "s");
        }
        if (lost)
            vnd_err("tenant %s: the store has not answered since %s: a batch of %llu "
                    "packets is not stored (counted as store_lost)", tn->name, when,
                    (unsigned long long)lost);
        if (was && !since)
            vnd_info("tenant %s: the store answers again (down since %s, %.1f s); the held "
                     "rows are stored", tn->name, when, vnd_wall_now() - was);
        if (rc && rc != ENOTCONN && rc != ECONNABORTED && !status) {
            *err = vnd_strdup_printf("tenant %s: %s", tn->name, e);
            status = EIO;
        }
        free(e);
    }
    return status;
}

bool vnd_traces_batch_due(const struct vnd_tabled *td)
{
    for (int i = 0; i < td->ntenants; i++)
        if (vnd_ingest_batch_due(td->tenants[i]->ing))
            return true;
    return false;
}

void vnd_traces_free_all(struct vnd_tabled *td)
{
    for (int i = 0; i < td->ntraces; i++)
        trace_free(td->traces[i]);
    free(td->traces);
    free(td->by_slot);
    td->traces = NULL;
    td->by_slot = NULL;
    td->ntraces = td->nslots = 0;
    for (int i = 0; i < td->ntenants; i++)
        tenant_free(td->tenants[i]);
    free(td->tenants);
    td->tenants = NULL;
    td->ntenants = 0;
}
