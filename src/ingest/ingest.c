/* ingest.c — decode, filter, extract, batch into the store. */
#include "ingest/ingest.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "decode/packet.h"
#include "fields/registry.h"
#include "ingest/rollup.h"
#include "ingest/rowpipe.h"
#include "store/provider.h"
#include "util/util.h"

/* One rule applied to one trace: where its rows go. */
struct sink {
    const struct vnd_parse_rule *rule;
    char *table;
    struct vnd_rowpipe_target insert;   /* one row, and MANY rows */
    struct column *cols;     /* the rule's columns, as store_row reads them */
    enum vnd_field *col_fields;
    uint64_t matched, stored;
    uint64_t lost;           /* rows of batches given up (store down too long) */
    uint64_t stored_at;      /* `stored` and rows.next as the last batch committed */
    int64_t next_at;
    struct vnd_store_rows rows;  /* rowids of this trace's rows (store.h) */
    /* The first sink of the trace that writes the same table (maybe this
     * one): rules with one Table ID share its rowids and vnd_meta row. */
    struct sink *owner;
    bool own_table;          /* a table named after the trace */
    bool replacing;          /* its old rows are still there: no vnd_meta yet */
    /* Rows take SQLite's own rowid (the table's largest + 1) instead of
     * rows.next: a third cheaper to insert, and the same rowids while the
     * trace is alone in its table with slot 0.  Checked at every commit
     * (check_auto); off once another trace writes the table. */
    bool auto_rowid;
    /* The table's rollup (rollup.h; owners only, NULL: none). */
    struct vnd_rollup *rollup;
};

struct trace {
    struct vnd_trace_opts o; /* strings owned */
    struct vnd_trace_stats s;
    /* the counters as the last batch committed: a batch given up goes
     * back to them, and they say what the store holds for sure */
    uint64_t seen_at, stored_at, matched_at;
    uint32_t id_len;         /* strlen(o.id), for the per-packet trace field */
    uint32_t cut_max;        /* the largest snaplen the switch has cut to */
    uint64_t sample_count;
    int nsinks;
    struct sink *sinks;
    const char *status;
    char *message;
    /* --replace: the tables whose rows of this trace go in the transaction
     * of its first new rows (see start_replacing) */
    struct vnd_ingest *ing;
    char **old;
    int nold;
    bool replace_due;        /* start_replacing has not run yet */
    /* Sampling: a change asked for (vnd_ingest_set_sampling), applied at
     * the next batch boundary; then a vnd_sampling row due from the first
     * packet under it (row_from_ns once seen). */
    bool change_due;
    uint32_t next_sampling;
    enum vnd_sample_method next_method;
    char *next_reason;
    bool row_due, row_from_set;
    int64_t row_from_ns;
    char *row_reason;
};

struct vnd_ingest {
    struct vnd_store *st;
    const struct vnd_parse_conf *conf;
    double complete_through;    /* vnd_ingest_set_complete's; 0: unknown */
    uint32_t batch_packets;
    double batch_seconds;
    int ntraces;
    struct trace **traces;
    /* the open batch */
    bool in_txn;
    uint32_t pending;
    double batch_start;
    int store_error;
    char *store_errmsg;
    /* The store does not answer (its provider holds the open batch,
     * store.h): since when (wall clock; 0: it answers), why, and how many
     * packets a batch may reach before it is given up. */
    double down_since;
    char *down_msg;
    uint32_t hold_packets;
    uint64_t lost_packets;   /* of batches given up, since last asked */
    /* connections the store made again within a commit (never seen down
     * here), since last asked, and when the last one broke */
    uint64_t reconnects_seen, healed;
    double healed_broke;
    /* an asynchronous commit did not get through (set by the writer
     * thread; the store did not answer, or failed): flushes are
     * synchronous until one does */
    atomic_bool sync_due;
    struct vnd_pkt pkt;      /* reused: decoding never allocates */
    struct vnd_rowpipe *pipe;   /* rows to the writer thread */
    bool rollups;            /* keep them (rollup.h); VND_ROLLUP=0: not */
};

struct vnd_ingest *vnd_ingest_new(struct vnd_store *st, const struct vnd_parse_conf *conf,
                                  uint32_t batch_packets, double batch_seconds)
{
    struct vnd_ingest *ing = vnd_xcalloc(1, sizeof *ing);
    ing->st = st;
    ing->conf = conf;
    ing->batch_packets = batch_packets ? batch_packets : 65536;
    ing->batch_seconds = batch_seconds > 0 ? batch_seconds : 1.0;
    ing->pipe = vnd_rowpipe_new();
    atomic_init(&ing->sync_due, false);
    const char *ru = getenv("VND_ROLLUP");
    ing->rollups = !ru || strcmp(ru, "0") != 0;
    /* a store down holds up to 4 batches (VND_STORE_HOLD: packets, for tests) */
    const char *hold = getenv("VND_STORE_HOLD");
    long h = hold ? strtol(hold, NULL, 10) : 0;
    ing->hold_packets = h > 0 && h < (1L << 30) ? (uint32_t)h : 4 * ing->batch_packets;
    return ing;
}

static char *dup_or_null(const char *s)
{
    return s ? vnd_xstrdup(s) : NULL;
}

static void sink_free(struct sink *k)
{
    vnd_store_writer_free(k->insert.writer);
    vnd_rollup_free(k->rollup);
    free(k->table);
    free(k->cols);
    free(k->col_fields);
}

static void trace_free(struct trace *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->nsinks; i++)
        sink_free(&t->sinks[i]);
    free(t->sinks);
    free((char *)t->o.id);
    free((char *)t->o.source);
    free((char *)t->o.tenant);
    free((char *)t->o.cap_point);
    free((char *)t->o.direction);
    free((char *)t->o.pattern);
    free(t->message);
    free(t->next_reason);
    free(t->row_reason);
    for (int i = 0; i < t->nold; i++)
        free(t->old[i]);
    free(t->old);
    free(t);
}

/* How a column's value is read: a column of integer fields (the first
 * present: tcp.src or udp.src), of addresses, or of one timestamp in
 * nanoseconds shown as seconds, straight from the packet
 * (vnd_field_value's call and type switch per column were a third of an
 * IPFIX collector's parsing thread); any other through the registry. */
enum col_how { COL_GENERIC, COL_UINT, COL_IP, COL_NS_SECONDS, COL_TIMESTAMP };

/* A column: its fields (the first present is its value) and how it is
 * read, side by side (store_row's loads per column were a tenth of its
 * instructions) */
struct column {
    const enum vnd_field *fields;       /* into the sink's col_fields */
    int nfields;
    enum col_how how;
};

/* The type all n fields have, or -1. */
static int common_type(const enum vnd_field *f, int n)
{
    int type = n > 0 ? (int)vnd_field_info(f[0])->type : -1;
    for (int i = 0; i < n; i++)
        /* (the payload's hash is computed from the payload, not kept) */
        if (f[i] == VND_F_PAYLOAD_HASH || (int)vnd_field_info(f[i])->type != type)
            return -1;
    return type;
}

static enum col_how col_how_of(const enum vnd_field *f, int n)
{
    if (n == 1 && (f[0] == VND_F_FLOW_START || f[0] == VND_F_FLOW_END))
        return COL_NS_SECONDS;
    if (n == 1 && f[0] == VND_F_TIMESTAMP)
        return COL_TIMESTAMP;
    int type = common_type(f, n);
    return type == VND_FT_UINT ? COL_UINT : type == VND_FT_IP ? COL_IP : COL_GENERIC;
}

/* Groups the rule's fields by column, in the order written, so binding a
 * row walks each column's candidates and takes the first present. */
static void sink_layout(struct sink *k)
{
    const struct vnd_parse_rule *r = k->rule;
    k->cols = vnd_xcalloc((size_t)r->ncolumns + 1, sizeof *k->cols);
    k->col_fields = vnd_xcalloc((size_t)r->nfields + 1, sizeof *k->col_fields);
    int o = 0;
    for (int c = 0; c < r->ncolumns; c++) {
        struct column *col = &k->cols[c];
        col->fields = &k->col_fields[o];
        for (int i = 0; i < r->nfields; i++)
            if (r->field_col[i] == c)
                k->col_fields[o++] = r->fields[i];
        col->nfields = (int)(&k->col_fields[o] - col->fields);
        col->how = col_how_of(col->fields, col->nfields);
    }
}

/* The sink's writer, with the rowid or without (auto_rowid of its
 * owner); again when that changes (no rows of it may be in the pipe). */
static int prepare_insert(struct vnd_ingest *ing, struct sink *k, char **err)
{
    bool rowid = !k->owner->auto_rowid;
    vnd_store_writer_free(k->insert.writer);
    k->insert.ncols = k->rule->ncolumns + rowid;
    k->insert.writer = vnd_store_writer_new(ing->st, k->table, k->rule->columns,
                                            k->rule->ncolumns, rowid, err);
    return k->insert.writer ? 0 : EIO;
}

/* Counters of an earlier run of the same trace and table, for --append and
 * for a table server that restarts. */
static void load_counters(struct vnd_ingest *ing, struct trace *t, struct sink *k)
{
    struct vnd_meta m;
    if (vnd_store_get_meta(ing->st, t->o.id, k->table, &m) != 1)
        return;
    t->s.seen = m.seen;
    k->matched = m.matched;
    k->stored = m.stored;
    k->lost = m.store_lost;
    /* The trace's own counters go on from its tables': stored is their
     * sum; matched (packets matching any rule) is exact for one table and
     * at least the largest table's for several. */
    t->s.stored += k->stored;
    if (k->matched > t->s.matched)
        t->s.matched = k->matched;
    t->s.sampled_out = m.sampled_out;
    t->s.dropped_kernel = m.dropped_kernel;
    t->s.malformed = m.malformed;
    t->s.dropped_queue = m.dropped_queue;
    t->s.anomalies = m.anomalies;
    if (m.first_ns || m.last_ns) {
        t->s.first_ns = m.first_ns;
        t->s.last_ns = m.last_ns;
    }
}

/* Whether sink k (an owner) may let the store number its rows: slot 0, no
 * other trace in the table (nor in this ingest), every row of the table
 * in slot 0.  A trace of this ingest already writing the table without
 * rowids starts writing them (the pipe is empty: add_trace flushed). */
static int choose_rowids(struct vnd_ingest *ing, struct trace *t, struct sink *k, char **err)
{
    bool shared = false;
    for (int i = 0; i < ing->ntraces; i++) {
        struct trace *u = ing->traces[i];
        for (int j = 0; u && u != t && j < u->nsinks; j++) {
            struct sink *o = &u->sinks[j];
            if (strcasecmp(o->table, k->table))
                continue;
            shared = true;
            if (o->owner->auto_rowid) {
                o->owner->auto_rowid = false;
                for (int m = 0; m < u->nsinks; m++)
                    if (u->sinks[m].owner == o->owner && prepare_insert(ing, &u->sinks[m], err))
                        return EIO;
            }
        }
    }
    k->auto_rowid = false;
    if (shared || k->rows.lo != 0 || !vnd_store_only_trace(ing->st, t->o.id, k->table))
        return 0;
    int64_t top = vnd_store_max_rowid(ing->st, k->table);
    k->auto_rowid = top >= 0 && top < k->rows.hi;
    return 0;
}

/* A table written with SQLite's rowids must still be the trace's alone
 * when its rows commit: another writer's trace there (whose slot the next
 * rowids would fall into) fails the batch rather than mix their rows. */
static int check_auto(struct vnd_store *st, const char *trace, const char *table, char **err)
{
    if (vnd_store_only_trace(st, trace, table))
        return 0;
    *err = vnd_strdup_printf("table %s: another program added a trace to it while trace %s "
                             "was written into it; the last batch of %s is not stored (parse "
                             "it again)", table, trace, trace);
    return EBUSY;
}

/* Table names are case-insensitive: an existing table keeps the spelling
 * it was made with, so vnd_meta has one row per trace and table. */
static void canonical_table(struct vnd_store *st, char **table)
{
    char *name = vnd_store_canonical_table(st, *table);
    if (name) {
        free(*table);
        *table = name;
    }
}

/* True when sink k writes its table's vnd_meta row now. */
static bool writes_meta(const struct sink *k)
{
    return k->owner == k && !k->replacing;
}

/* The vnd_meta row of a trace's table (k its owner) as of now: the
 * counts of every sink of the trace that writes the table. */
static struct vnd_meta meta_of(const struct vnd_ingest *ing, const struct trace *t,
                               const struct sink *k)
{
    uint64_t matched = 0, stored = 0, lost = 0;
    for (int i = 0; i < t->nsinks; i++)
        if (t->sinks[i].owner == k) {
            matched += t->sinks[i].matched;
            stored += t->sinks[i].stored;
            lost += t->sinks[i].lost;
        }
    struct vnd_meta m = {
        .trace = t->o.id, .table = k->table, .tenant = t->o.tenant,
        .cap_point = t->o.cap_point, .direction = t->o.direction,
        .pattern = t->o.pattern, .source = t->o.source,
        .parse_filter = k->rule->filter_text, .parse_fields = k->rule->fields_text,
        .linktype = t->o.linktype, .seen = t->s.seen, .matched = matched,
        .stored = stored, .store_lost = lost, .sampled_out = t->s.sampled_out,
        .dropped_kernel = t->s.dropped_kernel, .dropped_queue = t->s.dropped_queue,
        .malformed = t->s.malformed,
        .anomalies = t->s.anomalies, .sampling = t->o.sampling, .snaplen = t->o.snaplen,
        .first_ns = t->s.first_ns, .last_ns = t->s.last_ns,
        .flow_sampling = t->o.flow_sampling, .complete_through = ing->complete_through,
        .status = t->status, .message = t->message,
        .rollup = k->rollup ? vnd_rollup_table(k->rollup) : NULL,
        .rollup_status = k->rollup ? vnd_rollup_status(k->rollup) : NULL,
        .rollup_packets = k->rollup ? vnd_rollup_packets(k->rollup) : 0,
    };
    return m;
}

static int put_meta(struct vnd_ingest *ing, struct trace *t, struct sink *k, char **err)
{
    struct vnd_meta m = meta_of(ing, t, k);
    return vnd_store_put_meta(ing->st, &m, err);
}

/* Trace t's vnd_sampling row of table k (its owner) from `from_ts`. */
static struct vnd_sampling_row sampling_of(const struct trace *t, const struct sink *k,
                                           double from_ts, const char *reason)
{
    struct vnd_sampling_row r = {
        .trace = t->o.id, .table = k->table, .from_ts = from_ts,
        .sampling = t->o.sampling ? t->o.sampling : 1,
        .method = vnd_sample_method_name(t->o.presampled ? VND_SAMPLE_COUNT
                                                         : t->o.sampling_method),
        .flow_sampling = t->o.flow_sampling, .snaplen = t->o.snaplen, .reason = reason,
    };
    return r;
}

/* The rows from the start ("configured") of every table trace t writes
 * the vnd_meta row of, in the open batch (caller's or writer thread). */
static int put_configured(struct vnd_store *st, struct trace *t, char **err)
{
    int rc = 0;
    for (int k = 0; !rc && k < t->nsinks; k++)
        if (t->sinks[k].owner == &t->sinks[k]) {
            struct vnd_sampling_row r = sampling_of(t, &t->sinks[k], 0, "configured");
            rc = vnd_store_put_sampling(st, &r, err);
        }
    return rc;
}

/* A rate change's rows, on the writer thread after the rows before it. */
struct sampling_job {
    struct vnd_store *st;
    int n;
    struct vnd_sampling_row *r;
    char **strings;          /* owned: each row's table; trace, reason once */
    int nstrings;
};

static int sampling_op(void *arg, char **msg)
{
    struct sampling_job *j = arg;
    int rc = 0;
    for (int i = 0; !rc && i < j->n; i++)
        rc = vnd_store_put_sampling(j->st, &j->r[i], msg);
    for (int i = 0; i < j->nstrings; i++)
        free(j->strings[i]);
    free(j->strings);
    free(j->r);
    free(j);
    return rc;
}

/* In an open batch, before trace t's first row under a new rate: its
 * vnd_sampling rows.  Copies: the trace may change again before the
 * writer runs the job. */
static void queue_sampling_rows(struct vnd_ingest *ing, struct trace *t)
{
    struct sampling_job *j = vnd_xcalloc(1, sizeof *j);
    j->st = ing->st;
    j->r = vnd_xcalloc((size_t)t->nsinks, sizeof *j->r);
    j->strings = vnd_xcalloc((size_t)t->nsinks + 2, sizeof *j->strings);
    char *id = j->strings[j->nstrings++] = vnd_xstrdup(t->o.id);
    char *reason = t->row_reason ? (j->strings[j->nstrings++] = vnd_xstrdup(t->row_reason))
                                 : NULL;
    /* the very double the rows' ts get (fields/registry.c) */
    double from = (double)t->row_from_ns / 1e9;
    for (int k = 0; k < t->nsinks; k++)
        if (writes_meta(&t->sinks[k])) {
            j->r[j->n] = sampling_of(t, &t->sinks[k], from, reason);
            j->r[j->n].trace = id;
            j->r[j->n++].table = j->strings[j->nstrings++] = vnd_xstrdup(t->sinks[k].table);
        }
    vnd_rowpipe_run(ing->pipe, sampling_op, j);
    t->row_due = false;
}

/* A change the switch made (its time known) with no packet of trace t
 * since: its vnd_sampling rows now, in the open batch with the pipe
 * drained, so that it is on record as vnd_meta is (a flow sample may
 * hold none of the flows, a cut trace may have gone quiet). */
static int put_switch_change(struct vnd_ingest *ing, struct trace *t, char **err)
{
    int rc = 0;
    for (int k = 0; !rc && k < t->nsinks; k++)
        if (writes_meta(&t->sinks[k])) {
            struct vnd_sampling_row r = sampling_of(t, &t->sinks[k],
                                                    (double)t->row_from_ns / 1e9, t->row_reason);
            rc = vnd_store_put_sampling(ing->st, &r, err);
        }
    if (!rc)
        t->row_due = false;
    return rc;
}

/* Trace t's rows are flow records (an IPFIX collector's), as the apps
 * tell them by vnd_meta's source (diag_common.c). */
static bool flow_records(const struct trace *t)
{
    const char *s = t->o.source;
    size_t n = s ? strlen(s) : 0;
    return n > 6 && !strcmp(s + n - 6, " ipfix");
}

/* Trace t's packet sampling, as its rollups' RTT samples need to know
 * (rollup.h: none under sampling). */
static void rollups_sampled(struct trace *t)
{
    for (int k = 0; k < t->nsinks; k++)
        if (t->sinks[k].owner == &t->sinks[k] && t->sinks[k].rollup)
            vnd_rollup_sampled(t->sinks[k].rollup, t->o.sampling);
}

/* A batch boundary: the rate changes asked for take effect. */
static void apply_changes(struct vnd_ingest *ing)
{
    for (int i = 0; i < ing->ntraces; i++) {
        struct trace *t = ing->traces[i];
        if (!t || !t->change_due)
            continue;
        t->change_due = false;
        if (t->next_sampling == t->o.sampling && t->next_method == t->o.sampling_method)
            continue;
        t->o.sampling = t->next_sampling;
        t->o.sampling_method = t->next_method;
        t->sample_count = 0;
        rollups_sampled(t);
        t->row_due = true;
        t->row_from_set = false;
        free(t->row_reason);
        t->row_reason = t->next_reason;
        t->next_reason = NULL;
    }
}

/* Every rollup's rows of the batch, into the pipe ahead of its commit. */
static void emit_rollups(struct vnd_ingest *ing)
{
    for (int i = 0; i < ing->ntraces; i++)
        for (int k = 0; ing->traces[i] && k < ing->traces[i]->nsinks; k++)
            if (ing->traces[i]->sinks[k].rollup)
                vnd_rollup_emit(ing->traces[i]->sinks[k].rollup, ing->pipe);
}

/* Where trace t's counters stand as a batch commits: a batch given up
 * takes them back there. */
static void mark_trace(struct trace *t)
{
    t->seen_at = t->s.seen;
    t->stored_at = t->s.stored;
    t->matched_at = t->s.matched;
    for (int k = 0; k < t->nsinks; k++) {
        t->sinks[k].stored_at = t->sinks[k].stored;
        t->sinks[k].next_at = t->sinks[k].rows.next;
    }
}

static int begin_batch(struct vnd_ingest *ing, char **err)
{
    if (ing->in_txn)
        return 0;
    int rc = vnd_store_begin(ing->st, err);
    if (rc == 0) {
        ing->in_txn = true;
        ing->pending = 0;
        ing->batch_start = vnd_now();
        for (int i = 0; i < ing->ntraces; i++)
            if (ing->traces[i])
                mark_trace(ing->traces[i]);
    }
    return rc;
}

/* The open batch is gone (rolled back): its rows were never stored.
 * Every trace's stored counts go back to the batch's start, what it
 * held goes to store_lost (rows per table, packets per trace), its
 * rowids are free again. */
static void lose_batch(struct vnd_ingest *ing)
{
    for (int i = 0; i < ing->ntraces; i++) {
        struct trace *t = ing->traces[i];
        if (!t)
            continue;
        uint64_t packets = t->s.matched - t->matched_at;
        t->s.store_lost += packets;
        ing->lost_packets += packets;
        t->s.stored = t->stored_at;
        for (int k = 0; k < t->nsinks; k++) {
            struct sink *sk = &t->sinks[k];
            sk->lost += sk->stored - sk->stored_at;
            sk->stored = sk->stored_at;
            sk->rows.next = sk->next_at;
        }
    }
    ing->in_txn = false;
    ing->pending = 0;
}

int vnd_ingest_add_trace(struct vnd_ingest *ing, const struct vnd_trace_opts *o, char **err)
{
    if (!o->id || !o->id[0]) {
        *err = vnd_strdup_printf("a trace needs an id");
        return -1;
    }
    for (int i = 0; i < ing->ntraces; i++)
        if (ing->traces[i] && !strcmp(ing->traces[i]->o.id, o->id)) {
            *err = vnd_strdup_printf("trace %s is given twice", o->id);
            return -1;
        }

    struct trace *t = vnd_xcalloc(1, sizeof *t);
    t->o = *o;
    t->cut_max = o->snaplen;
    t->o.id = vnd_xstrdup(o->id);
    t->id_len = (uint32_t)strlen(o->id);
    t->o.source = dup_or_null(o->source);
    t->o.tenant = dup_or_null(o->tenant);
    t->o.cap_point = dup_or_null(o->cap_point);
    t->o.direction = dup_or_null(o->direction);
    t->o.pattern = dup_or_null(o->pattern);
    t->status = "ingesting";
    const struct vnd_parse_conf *conf = o->conf ? o->conf : ing->conf;
    if (!conf) {
        *err = vnd_strdup_printf("trace %s has no parse configuration", o->id);
        goto out_free;
    }
    t->sinks = vnd_xcalloc((size_t)conf->nrules, sizeof *t->sinks);

    for (int r = 0; r < conf->nrules; r++) {
        const struct vnd_parse_rule *rule = &conf->rules[r];
        if (!vnd_parse_rule_covers(rule, o->id))
            continue;
        struct sink *k = &t->sinks[t->nsinks++];
        k->rule = rule;
        if (rule->table) {
            k->table = vnd_xstrdup(rule->table);
        } else {
            size_t n = strlen(o->id) + 3;
            k->table = vnd_xmalloc(n);
            vnd_store_table_name(o->id, k->table, n);
            k->own_table = true;
        }
        sink_layout(k);
        k->owner = k;
        for (int j = 0; j + 1 < t->nsinks; j++)
            if (t->sinks[j].owner == &t->sinks[j] && !strcasecmp(t->sinks[j].table, k->table)) {
                k->owner = &t->sinks[j];
                break;
            }
    }
    if (t->nsinks == 0) {
        *err = vnd_strdup_printf("no rule of the parse configuration covers trace %s "
                                 "(add it to a `Trace ID` line, or use `Trace ID all`)", o->id);
        goto out_free;
    }

    /* Tables, slots and meta rows are made in one transaction.  With
     * --replace the trace's old rows stay until its first new ones: they go
     * in the same transaction (start_replacing), so a crash leaves either
     * the old rows or the first batch of new ones, never a trace without
     * both; until then its vnd_meta rows still describe the old rows. */
    if (ing->in_txn && vnd_ingest_flush(ing, err))
        goto out_free;
    if (begin_batch(ing, err))
        goto out_free;
    t->ing = ing;
    if (o->replace && vnd_store_trace_tables(ing->st, o->id, &t->old, &t->nold, err))
        goto out_rollback;
    bool keep_open = false;
    for (int i = 0; i < t->nsinks; i++) {
        struct sink *k = &t->sinks[i];
        int old = -1;
        for (int j = 0; j < t->nold; j++)
            if (!strcasecmp(t->old[j], k->table))
                old = j;
        if (k->owner != k) {
            /* another rule's table: as its owner is */
            free(k->table);
            k->table = vnd_xstrdup(k->owner->table);
            k->replacing = k->owner->replacing;
            if (vnd_store_ensure_table(ing->st, k->table, k->rule, t->o.packed, err) || prepare_insert(ing, k, err))
                goto out_rollback;
            continue;
        }
        if (old < 0 && vnd_store_has_trace(ing->st, o->id, k->table) && !o->append) {
            *err = vnd_strdup_printf("trace %s is already stored (table %s); use "
                                     "--replace to parse it again or --append to add "
                                     "to it", o->id, k->table);
            goto out_rollback;
        }
        /* a table named after the trace that no trace claims: a leftover */
        if (old < 0 && o->replace && k->own_table
            && vnd_store_only_trace(ing->st, o->id, k->table)
            && vnd_store_drop_trace(ing->st, o->id, k->table, err))
            goto out_rollback;
        k->replacing = old >= 0;
        canonical_table(ing->st, &k->table);
        int rc = vnd_store_ensure_table(ing->st, k->table, k->rule, t->o.packed, err);
        if (rc == EEXIST && k->replacing && vnd_store_only_trace(ing->st, o->id, k->table)) {
            /* New columns for a table of this trace alone: the old rows
             * cannot stay in it, so they go now, in a transaction that
             * stays open for the first batch (which may be another
             * trace's when several are registered before parsing). */
            free(*err);
            *err = NULL;
            if (vnd_store_drop_trace(ing->st, o->id, k->table, err))
                goto out_rollback;
            free(t->old[old]);
            t->old[old] = t->old[--t->nold];
            k->replacing = false;
            keep_open = true;
            rc = vnd_store_ensure_table(ing->st, k->table, k->rule, t->o.packed, err);
        }
        if (rc || vnd_store_trace_rows(ing->st, o->id, k->table, &k->rows, err)
            || choose_rowids(ing, t, k, err) || prepare_insert(ing, k, err))
            goto out_rollback;
        /* a rollup for a new trace alone in its table (rollup.h); one
         * made before no longer holds the rows of a trace parsed again */
        if (vnd_store_only_trace(ing->st, o->id, k->table)) {
            if (ing->rollups && !o->replace && !o->append)
                k->rollup = vnd_rollup_new(ing->st, k->table, k->rule, flow_records(t), err);
            else if (vnd_rollup_drop(ing->st, k->table, err))
                goto out_rollback;
            if (!k->rollup && *err)
                goto out_rollback;
        }
        if (k->replacing)
            k->rows.next = k->rows.lo ? k->rows.lo : 1;   /* the old rows will be gone */
        if (o->append)
            load_counters(ing, t, k);
        if (writes_meta(k) && put_meta(ing, t, k, err))
            goto out_rollback;
    }
    /* The sampling history: from the start for a new trace (a replaced
     * one's comes with its first rows, replace_op); an appended run's
     * from its first packet, as a rate change. */
    if (o->append) {
        t->row_due = true;
        t->row_reason = vnd_xstrdup("configured");
    } else {
        for (int i = 0; i < t->nsinks; i++) {
            struct sink *k = &t->sinks[i];
            struct vnd_sampling_row r = sampling_of(t, k, 0, "configured");
            if (writes_meta(k) && vnd_store_put_sampling(ing->st, &r, err))
                goto out_rollback;
        }
    }
    rollups_sampled(t);
    t->replace_due = t->nold > 0;
    ing->traces = vnd_xrealloc(ing->traces, (size_t)(ing->ntraces + 1) * sizeof *ing->traces);
    ing->traces[ing->ntraces] = t;
    mark_trace(t);
    if (!keep_open && vnd_ingest_flush(ing, err)) {
        ing->traces[ing->ntraces] = NULL;
        trace_free(t);
        return -1;
    }
    return ing->ntraces++;

out_rollback:
    vnd_store_rollback(ing->st);
    ing->in_txn = false;
out_free:
    trace_free(t);
    return -1;
}

/* A replaced trace's old rows and vnd_meta rows go, on the writer thread,
 * before its first new row and in the same transaction; its sinks' meta
 * rows are written again by the commit. */
static int replace_op(void *arg, char **msg)
{
    struct trace *t = arg;
    int rc = 0;
    for (int i = 0; !rc && i < t->nold; i++) {
        bool kept = false;
        for (int k = 0; k < t->nsinks; k++)
            kept |= !strcasecmp(t->sinks[k].table, t->old[i]);
        /* a table the trace no longer writes loses the trace entirely */
        rc = kept ? vnd_store_clear_trace(t->ing->st, t->o.id, t->old[i], msg)
                  : vnd_store_drop_trace(t->ing->st, t->o.id, t->old[i], msg);
    }
    return rc ? rc : put_configured(t->ing->st, t, msg);
}

/* In an open batch: queues the deletion of trace t's old rows ahead of
 * anything it writes from now on. */
static void start_replacing(struct vnd_ingest *ing, struct trace *t)
{
    vnd_rowpipe_run(ing->pipe, replace_op, t);
    for (int k = 0; k < t->nsinks; k++)
        t->sinks[k].replacing = false;
    t->replace_due = false;
}

/* Extracts the sink's columns from the packet into the row pipe: for each
 * column the first of its fields that the packet has. */
static void store_row(struct vnd_rowpipe *pipe, struct sink *k, const struct vnd_pkt *pkt)
{
    const struct vnd_parse_rule *r = k->rule;
    vnd_rowpipe_begin_row(pipe, &k->insert);
    struct vnd_value *cell = vnd_rowpipe_cells(pipe);
    uint32_t ncells = 0;
    if (!k->owner->auto_rowid)
        cell[ncells++] = (struct vnd_value){.type = VND_SQL_INTEGER, .i = k->owner->rows.next++};
    struct vnd_value *vals = cell + ncells;
    const struct column *col = k->cols;
    int64_t last_ns = INT64_MIN;
    double last_s = (double)INT64_MIN / 1e9;     /* last_ns's, from the start */
    int ncolumns = r->ncolumns;
    for (int c = 0; c < ncolumns; c++) {
        struct vnd_value *v = &vals[c];
        bool found = false;
        const enum vnd_field *f = col[c].fields;
        int nf = col[c].nfields;
        switch (col[c].how) {
        case COL_UINT:
            for (int i = 0; i < nf && !found; i++)
                if ((found = vnd_pkt_has(pkt, f[i]))) {
                    v->type = VND_SQL_INTEGER;
                    v->i = (int64_t)pkt->v[f[i]].u;
                }
            break;
        case COL_IP:
            /* its bytes: the store makes the text, or a packed table
             * keeps them and its reader does (a tenth of the collector's
             * instructions went to text no query had asked for yet) */
            for (int i = 0; i < nf && !found; i++)
                if (vnd_pkt_has(pkt, f[i])
                    && (pkt->v[f[i]].b.n == 4 || pkt->v[f[i]].b.n == 16)) {
                    char *buf = vnd_rowpipe_text_buf(pipe);
                    if (pkt->v[f[i]].b.n == 4)     /* constant sizes: no call */
                        memcpy(buf, pkt->v[f[i]].b.p, 4);
                    else
                        memcpy(buf, pkt->v[f[i]].b.p, 16);
                    v->type = VND_SQL_ADDR;
                    v->s = buf;
                    v->slen = pkt->v[f[i]].b.n;
                    vnd_rowpipe_text_taken(pipe, v->slen);
                    found = true;
                }
            break;
        case COL_NS_SECONDS:
        case COL_TIMESTAMP: {
            /* the packet's time is kept in nanoseconds, as a flow's are */
            enum vnd_field ns = col[c].how == COL_TIMESTAMP ? VND_F_TIMESTAMP_NS : f[0];
            if ((found = vnd_pkt_has(pkt, ns))) {
                /* a record's time is its end: one division for both */
                int64_t t = (int64_t)pkt->v[ns].u;
                if (t != last_ns) {
                    last_ns = t;
                    last_s = (double)t / 1e9;
                }
                v->type = VND_SQL_REAL;
                v->d = last_s;
            }
            break;
        }
        default:
            for (int i = 0; i < nf && !found; i++)
                found = vnd_field_value(pkt, f[i], vnd_rowpipe_text_buf(pipe), v);
            if (found && (v->type == VND_SQL_TEXT || v->type == VND_SQL_BLOB))
                vnd_rowpipe_text_taken(pipe, v->slen);
        }
        if (!found)
            v->type = VND_SQL_NULL;
    }
    vnd_rowpipe_end_cells(pipe, ncells + (uint32_t)ncolumns);
    /* the row's values where they lie (valid until the next row begins) */
    struct vnd_rollup *rollup = k->owner->rollup;
    if (rollup)
        vnd_rollup_row(rollup, vals);
}

/* True when hash sampling needs the packet decoded before admit(). */
static bool hashes(const struct trace *t)
{
    return t->o.sampling_method == VND_SAMPLE_HASH && t->o.sampling > 1 && !t->o.presampled;
}

/* The start of a packet or record of trace t: counts it, samples (`pkt`
 * decoded when hashes(t)).  False when it goes no further. */
static bool admit(struct vnd_ingest *ing, struct trace *t, int64_t ts_ns,
                  const struct vnd_pkt *pkt, const uint8_t *frame, uint32_t caplen)
{
    t->s.seen++;
    if (!t->s.first_ns)
        t->s.first_ns = ts_ns;
    t->s.last_ns = ts_ns;
    if (t->row_due && !t->row_from_set) {
        /* the first packet under a new rate: its interval starts here */
        t->row_from_ns = ts_ns;
        t->row_from_set = true;
    }
    if (!t->o.presampled && t->o.sampling > 1
        && (hashes(t) ? vnd_sample_key(pkt, frame, caplen) % t->o.sampling != 0
                      : t->sample_count++ % t->o.sampling != 0)) {
        t->s.sampled_out++;
        return false;
    }
    if (ing->store_error)
        return false;
    if (!ing->in_txn) {
        /* this packet opens the batch: the marks a batch given up goes
         * back to are taken before it */
        char *err = NULL;
        t->s.seen--;
        int rc = begin_batch(ing, &err);
        t->s.seen++;
        if (rc) {
            ing->store_error = EIO;
            ing->store_errmsg = err;
            return false;
        }
    }
    if (t->replace_due)
        start_replacing(ing, t);
    if (t->row_due)
        queue_sampling_rows(ing, t);
    ing->pending++;
    return true;
}

/* The rules of trace t on a packet or record whose fields are known. */
static void store_rules(struct vnd_ingest *ing, struct trace *t, const struct vnd_pkt *pkt)
{
    bool matched = false;
    for (int i = 0; i < t->nsinks; i++) {
        struct sink *k = &t->sinks[i];
        if (k->rule->filter && !vnd_filter_match(k->rule->filter, pkt))
            continue;
        if (k->owner->rows.next > k->owner->rows.hi) {
            /* 2^44 rows of one trace in one table: the next would be
             * another trace's (see store.h) */
            ing->store_error = ENOSPC;
            ing->store_errmsg = vnd_strdup_printf("trace %s: table %s holds as many rows of "
                                                  "it as it can", t->o.id, k->table);
            return;
        }
        matched = true;
        k->matched++;
        store_row(ing->pipe, k, pkt);
        k->stored++;
        t->s.stored++;
    }
    if (matched)
        t->s.matched++;
}

/* Decodes a frame of trace t (caplen already cut to its snaplen): one
 * no longer than what the switch cut to was perhaps cut there. */
static uint32_t decode_frame(const struct trace *t, struct vnd_pkt *pkt, const uint8_t *data,
                             uint32_t caplen, uint32_t len, int64_t ts_ns)
{
    if (t->o.cut_in_switch && len == caplen && len <= t->cut_max)
        return vnd_decode_cut(pkt, t->o.linktype, data, caplen, ts_ns);
    return vnd_decode(pkt, t->o.linktype, data, caplen, len, ts_ns);
}

void vnd_ingest_packet(struct vnd_ingest *ing, int ti, int64_t ts_ns, const uint8_t *data,
                       uint32_t caplen, uint32_t len)
{
    struct trace *t = ing->traces[ti];
    struct vnd_pkt *pkt = &ing->pkt;
    uint32_t anomalies = 0;
    if (t->o.match || hashes(t)) {
        /* the pattern first: a packet outside it is not the trace's; a
         * hash sampler needs the packet's ID */
        if (t->o.snaplen && caplen > t->o.snaplen)
            caplen = t->o.snaplen;
        anomalies = decode_frame(t, pkt, data, caplen, len, ts_ns);
        if (t->o.match && !vnd_filter_match(t->o.match, pkt))
            return;
        if (!admit(ing, t, ts_ns, pkt, data, caplen))
            return;
    } else {
        if (!admit(ing, t, ts_ns, NULL, NULL, 0))
            return;
        if (t->o.snaplen && caplen > t->o.snaplen)
            caplen = t->o.snaplen;
        anomalies = decode_frame(t, pkt, data, caplen, len, ts_ns);
    }
    if (anomalies)
        t->s.anomalies++;
    vnd_pkt_set_b(pkt, VND_F_TRACE, (const uint8_t *)t->o.id, t->id_len);
    store_rules(ing, t, pkt);
}

void vnd_ingest_record(struct vnd_ingest *ing, int ti, int64_t ts_ns, struct vnd_pkt *pkt)
{
    struct trace *t = ing->traces[ti];
    vnd_pkt_set_u(pkt, VND_F_TIMESTAMP_NS, (uint64_t)ts_ns);
    vnd_pkt_set_b(pkt, VND_F_TRACE, (const uint8_t *)t->o.id, t->id_len);
    if (t->o.match && !vnd_filter_match(t->o.match, pkt))
        return;
    if (!admit(ing, t, ts_ns, pkt, NULL, 0))
        return;
    store_rules(ing, t, pkt);
}

int vnd_ingest_set_sampling(struct vnd_ingest *ing, int ti, uint32_t n,
                            enum vnd_sample_method method, const char *reason)
{
    struct trace *t = ing->traces[ti];
    if (t->o.presampled)
        return EINVAL;
    t->next_sampling = n ? n : 1;
    t->next_method = method;
    free(t->next_reason);
    t->next_reason = dup_or_null(reason);
    t->change_due = true;
    if (!ing->in_txn)
        apply_changes(ing);
    return 0;
}

int vnd_ingest_switch_rates(struct vnd_ingest *ing, int ti, const struct vnd_switch_rates *r,
                            int64_t from_ns, const char *reason)
{
    struct trace *t = ing->traces[ti];
    /* the switch samples packets only for a presampled trace (sFlow's
     * agent), and flows only for a mirror one, and cuts a mirror trace's
     * copies */
    if ((r->sampling && !t->o.presampled)
        || (r->flow_sampling && (t->o.presampled || !(r->flow_sampling >= 1)))
        || (r->snaplen >= 0 && (t->o.presampled || r->snaplen > UINT32_MAX)))
        return EINVAL;
    /* The interval starts when the switch changed, not at the next packet
     * in (packets already queued were copied under the old rate); a row
     * not yet written for an earlier change is replaced: no row was kept
     * under it. */
    if (r->sampling) {
        t->o.sampling = r->sampling;
        rollups_sampled(t);
    }
    if (r->flow_sampling)
        t->o.flow_sampling = r->flow_sampling;
    if (r->snaplen >= 0) {
        t->o.snaplen = (uint32_t)r->snaplen;
        /* copies cut under the old length may still be queued */
        if (t->o.snaplen > t->cut_max)
            t->cut_max = t->o.snaplen;
    }
    t->row_due = true;
    t->row_from_set = true;
    t->row_from_ns = from_ns;
    free(t->row_reason);
    t->row_reason = dup_or_null(reason);
    return 0;
}

uint32_t vnd_ingest_sampling(const struct vnd_ingest *ing, int ti,
                             enum vnd_sample_method *method)
{
    const struct trace *t = ing->traces[ti];
    if (method)
        *method = t->change_due ? t->next_method : t->o.sampling_method;
    uint32_t n = t->change_due ? t->next_sampling : t->o.sampling;
    return n ? n : 1;
}

void vnd_ingest_set_drops(struct vnd_ingest *ing, int t, uint64_t kernel, uint64_t queue)
{
    ing->traces[t]->s.dropped_kernel = kernel;
    ing->traces[t]->s.dropped_queue = queue;
}

void vnd_ingest_set_malformed(struct vnd_ingest *ing, int t, uint64_t malformed)
{
    ing->traces[t]->s.malformed = malformed;
}

bool vnd_ingest_batch_due(const struct vnd_ingest *ing)
{
    if (!ing->in_txn)
        return false;
    if (ing->down_since)      /* held: the caller's own pace tries again */
        return ing->pending >= ing->hold_packets;
    if (ing->pending >= ing->batch_packets)
        return true;
    /* The clock is read every 256 packets: cheap per packet, and still
     * well within the batch time at any rate that matters.  A live
     * capture that goes quiet asks vnd_ingest_batch_expired() instead. */
    return (ing->pending & 255) == 0 && vnd_now() - ing->batch_start >= ing->batch_seconds;
}

bool vnd_ingest_batch_expired(const struct vnd_ingest *ing)
{
    return ing->in_txn && vnd_now() - ing->batch_start >= ing->batch_seconds;
}

void vnd_ingest_set_complete(struct vnd_ingest *ing, double wall)
{
    ing->complete_through = wall;
}

int vnd_ingest_flush(struct vnd_ingest *ing, char **err)
{
    char *msg = NULL;
    if (!ing->store_error)
        emit_rollups(ing);
    if (vnd_rowpipe_drain(ing->pipe, &msg) && !ing->store_error) {
        ing->store_error = EIO;
        ing->store_errmsg = vnd_strdup_printf("writing rows: %s", msg);
    }
    free(msg);
    if (ing->store_error) {
        if (ing->in_txn)
            vnd_store_rollback(ing->st);
        ing->in_txn = false;
        *err = vnd_xstrdup(ing->store_errmsg ? ing->store_errmsg : "store error");
        return ing->store_error;
    }
    /* A store whose traces are all gone (a stopped diagnosis, kept for its
     * queries) has nothing to write: no empty transaction every flush.  A
     * table server with 76 of them spent 1% of a core on those. */
    bool live = ing->in_txn;
    for (int i = 0; !live && i < ing->ntraces; i++)
        live = ing->traces[i] != NULL;
    if (!live)
        return 0;
    int rc = begin_batch(ing, err);
    for (int i = 0; !rc && i < ing->ntraces; i++) {
        struct trace *t = ing->traces[i];
        if (t && t->row_due && t->row_from_set)
            rc = put_switch_change(ing, t, err);
        for (int k = 0; t && !rc && k < t->nsinks; k++)
            if (writes_meta(&t->sinks[k])) {
                rc = put_meta(ing, t, &t->sinks[k], err);
                if (!rc && t->sinks[k].auto_rowid)
                    rc = check_auto(ing->st, t->o.id, t->sinks[k].table, err);
            }
    }
    if (!rc)
        rc = vnd_store_commit(ing->st, err);
    if (rc == ENOTCONN || rc == ECONNABORTED) {
        /* The store does not answer: the batch stays open, held, and
         * takes more packets until a commit gets through — or until it
         * holds too many (or could not be held whole): then it is given
         * up, counted, and the next one starts. */
        if (!ing->down_since)
            ing->down_since = vnd_wall_now();
        free(ing->down_msg);
        ing->down_msg = vnd_xstrdup(*err);
        if (rc == ECONNABORTED || ing->pending >= ing->hold_packets) {
            vnd_store_rollback(ing->st);
            lose_batch(ing);
        }
        return rc;
    }
    if (rc) {
        vnd_store_rollback(ing->st);
        ing->store_error = rc;
        ing->store_errmsg = vnd_xstrdup(*err);
    } else {
        double broke;
        uint64_t n = vnd_store_reconnects(ing->st, &broke);
        if (n > ing->reconnects_seen && !ing->down_since) {
            ing->healed += n - ing->reconnects_seen;
            ing->healed_broke = broke;
        }
        ing->reconnects_seen = n;
        for (int i = 0; i < ing->ntraces; i++)
            if (ing->traces[i])
                mark_trace(ing->traces[i]);
        atomic_store(&ing->sync_due, false);
    }
    if (!rc && ing->down_since) {
        ing->down_since = 0;
        free(ing->down_msg);
        ing->down_msg = NULL;
    }
    ing->in_txn = false;
    ing->pending = 0;
    apply_changes(ing);
    return rc;
}

double vnd_ingest_store_down(const struct vnd_ingest *ing, const char **msg)
{
    if (msg)
        *msg = ing->down_msg;
    return ing->down_since;
}

uint32_t vnd_ingest_pending(const struct vnd_ingest *ing)
{
    return ing->in_txn ? ing->pending : 0;
}

uint64_t vnd_ingest_take_healed(struct vnd_ingest *ing, double *broke_at)
{
    uint64_t n = ing->healed;
    *broke_at = ing->healed_broke;
    ing->healed = 0;
    return n;
}

uint64_t vnd_ingest_take_lost(struct vnd_ingest *ing)
{
    uint64_t n = ing->lost_packets;
    ing->lost_packets = 0;
    return n;
}

/* Every trace's counters in one array (mark_trace's, in the order of
 * traces and sinks): taken as a batch closes, set once it commits.  No
 * trace comes or goes while a commit is in flight (add_trace and
 * drop_trace flush synchronously first). */
static size_t marks_size(const struct vnd_ingest *ing)
{
    size_t n = 0;
    for (int i = 0; i < ing->ntraces; i++)
        if (ing->traces[i])
            n += 3 + 2 * (size_t)ing->traces[i]->nsinks;
    return n;
}

static void marks_take(const struct vnd_ingest *ing, uint64_t *v)
{
    for (int i = 0; i < ing->ntraces; i++) {
        const struct trace *t = ing->traces[i];
        if (!t)
            continue;
        *v++ = t->s.seen;
        *v++ = t->s.stored;
        *v++ = t->s.matched;
        for (int k = 0; k < t->nsinks; k++) {
            *v++ = t->sinks[k].stored;
            *v++ = (uint64_t)t->sinks[k].rows.next;
        }
    }
}

static void marks_set(struct vnd_ingest *ing, const uint64_t *v)
{
    for (int i = 0; i < ing->ntraces; i++) {
        struct trace *t = ing->traces[i];
        if (!t)
            continue;
        t->seen_at = *v++;
        t->stored_at = *v++;
        t->matched_at = *v++;
        for (int k = 0; k < t->nsinks; k++) {
            t->sinks[k].stored_at = *v++;
            t->sinks[k].next_at = (int64_t)*v++;
        }
    }
}

/* A batch's end, as the writer thread carries it out: the counters as
 * they were when the batch was closed, the commit, and the next batch's
 * BEGIN.  The strings in `m` belong to traces, which live until a
 * synchronous flush (drop_trace drains first). */
struct commit_job {
    struct vnd_ingest *ing;
    uint64_t *marks;        /* marks_take's, when the batch closed */
    int n;
    struct {
        struct vnd_meta m;
        bool check;         /* check_auto */
    } e[];
};

static int commit_op(void *arg, char **msg)
{
    struct commit_job *j = arg;
    struct vnd_ingest *ing = j->ing;
    int rc = 0;
    /* rows of the batch failed: it must not commit without them (the
     * next synchronous flush reports the failure and rolls back) */
    if (vnd_rowpipe_failed(ing->pipe))
        goto out;
    for (int i = 0; !rc && i < j->n; i++) {
        rc = vnd_store_put_meta(ing->st, &j->e[i].m, msg);
        if (!rc && j->e[i].check)
            rc = check_auto(ing->st, j->e[i].m.trace, j->e[i].m.table, msg);
    }
    if (!rc)
        rc = vnd_store_commit(ing->st, msg);
    if (rc == ENOTCONN) {
        /* The store does not answer: its provider holds the batch, and
         * the rows handed in since join it; the parsing thread, told,
         * flushes synchronously (and so waits) until a commit gets
         * through. */
        atomic_store(&ing->sync_due, true);
        free(*msg);
        *msg = NULL;
        rc = 0;
        goto out;
    }
    if (rc) {
        /* failed, or the batch is gone (ECONNABORTED): nothing may commit
         * after it; the next flush, synchronous, says why */
        vnd_store_rollback(ing->st);
        atomic_store(&ing->sync_due, true);
    } else {
        marks_set(ing, j->marks);
        atomic_store(&ing->sync_due, false);
        rc = vnd_store_begin(ing->st, msg);
    }
out:
    free(j->marks);
    free(j);
    return rc;
}

int vnd_ingest_flush_async(struct vnd_ingest *ing, char **err)
{
    if (atomic_load(&ing->sync_due))
        return vnd_ingest_flush(ing, err);
    if (!ing->in_txn || ing->store_error)
        return 0;
    emit_rollups(ing);
    int n = 0;
    for (int i = 0; i < ing->ntraces; i++)
        for (int k = 0; ing->traces[i] && k < ing->traces[i]->nsinks; k++)
            n += writes_meta(&ing->traces[i]->sinks[k]);
    struct commit_job *j = vnd_xmalloc(sizeof *j + (size_t)n * sizeof j->e[0]);
    j->ing = ing;
    j->marks = vnd_xcalloc(marks_size(ing) + 1, sizeof *j->marks);
    marks_take(ing, j->marks);
    j->n = 0;
    for (int i = 0; i < ing->ntraces; i++) {
        struct trace *t = ing->traces[i];
        for (int k = 0; t && k < t->nsinks; k++)
            if (writes_meta(&t->sinks[k])) {
                j->e[j->n].m = meta_of(ing, t, &t->sinks[k]);
                j->e[j->n++].check = t->sinks[k].auto_rowid;
            }
    }
    vnd_rowpipe_run(ing->pipe, commit_op, j);
    ing->pending = 0;
    ing->batch_start = vnd_now();
    apply_changes(ing);
    return 0;
}

void vnd_ingest_committed(const struct vnd_ingest *ing, int ti, uint64_t *seen,
                          uint64_t *stored)
{
    const struct trace *t = ing->traces[ti];
    *seen = t->seen_at;
    *stored = t->stored_at;
}

int vnd_ingest_finish_trace(struct vnd_ingest *ing, int ti, const char *status,
                            const char *message, char **err)
{
    struct trace *t = ing->traces[ti];
    /* the last RTT samples: rollup rows, in the batch that commits them */
    for (int k = 0; k < t->nsinks; k++)
        if (t->sinks[k].rollup) {
            if (!ing->in_txn && !ing->store_error && begin_batch(ing, err))
                return EIO;
            vnd_rollup_finish(t->sinks[k].rollup);
        }
    t->status = status;
    free(t->message);
    t->message = dup_or_null(message);
    /* no packet came: the old rows go with this commit */
    if (t->replace_due && !ing->store_error) {
        if (!ing->in_txn && begin_batch(ing, err))
            return EIO;
        start_replacing(ing, t);
    }
    return vnd_ingest_flush(ing, err);
}

int vnd_ingest_drop_trace(struct vnd_ingest *ing, int ti, char **err)
{
    int rc = vnd_ingest_flush(ing, err);
    if (rc)
        return rc;
    struct trace *t = ing->traces[ti];
    if ((rc = vnd_store_begin(ing->st, err)))
        return rc;
    /* every table it has rows in, those of a --replace not yet begun too */
    rc = vnd_store_drop_trace(ing->st, t->o.id, NULL, err);
    /* and the rollups it kept: they hold its rows only */
    for (int k = 0; k < t->nsinks && !rc; k++)
        if (t->sinks[k].rollup)
            rc = vnd_rollup_drop(ing->st, t->sinks[k].table, err);
    if (!rc)
        rc = vnd_store_commit(ing->st, err);
    if (rc) {
        vnd_store_rollback(ing->st);
        return rc;
    }
    trace_free(t);
    ing->traces[ti] = NULL;
    return 0;
}

const struct vnd_trace_stats *vnd_ingest_stats(const struct vnd_ingest *ing, int t)
{
    if (t < 0 || t >= ing->ntraces || !ing->traces[t])
        return NULL;
    return &ing->traces[t]->s;
}

int vnd_ingest_ntraces(const struct vnd_ingest *ing)
{
    return ing->ntraces;
}

void vnd_ingest_free(struct vnd_ingest *ing)
{
    if (!ing)
        return;
    vnd_rowpipe_free(ing->pipe);
    if (ing->in_txn)
        vnd_store_rollback(ing->st);
    for (int i = 0; i < ing->ntraces; i++)
        trace_free(ing->traces[i]);
    free(ing->traces);
    free(ing->store_errmsg);
    free(ing->down_msg);
    free(ing);
}
