/* store.h — the trace store: trace tables and vnd_meta, in one SQLite
 * file (the embedded store) or a PostgreSQL database (provider.h).
 *
 * Writers (vnd parse, vnd-tabled) open it with vnd_store_open(): WAL
 * journal, so readers never block the writer and a killed writer leaves
 * only whole committed batches.  Each batch is one transaction that also
 * updates the counters in vnd_meta, so the counters always describe exactly
 * the rows that are there.
 *
 * Tenants read through vnd_guard_open() (guard.h), never through this. */
#ifndef VND_STORE_STORE_H
#define VND_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "lang/parseconf.h"

struct vnd_store;

/* Opens or creates the store at `location`: a SQLite file's path, or
 * "pg:CONNINFO" for a PostgreSQL database (provider.h).  Returns 0, or an
 * errno-style code and a malloc'd message in *err. */
int vnd_store_open(const char *location, struct vnd_store **out, char **err);
void vnd_store_close(struct vnd_store *st);
/* The SQLite connection of an embedded store; NULL for PostgreSQL. */
sqlite3 *vnd_store_db(struct vnd_store *st);


/* The longest table or column name VND makes or accepts. */
#define VND_STORE_NAME_MAX 63

/* Turns a trace id into a table name: letters, digits and '_' kept, every
 * other byte becomes '_', a leading digit gets a "t_" prefix.  A name
 * longer than VND_STORE_NAME_MAX is cut to its first 54 characters, '_'
 * and 8 hex digits of a hash of the whole id, and true is returned.
 * `out` holds at least min(strlen(id) + 3, VND_STORE_NAME_MAX + 1) bytes. */
bool vnd_store_table_name(const char *id, char *out, size_t outsz);

/* True when `name` is a plain SQL identifier we accept for tables
 * ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes, not sqlite_/vnd_, not a name
 * of SQLite's built-in tables such as pragma_*, json_each or dbstat). */
bool vnd_store_valid_identifier(const char *name);

/* Why `name` is not a valid table name (a sentence for a message), or
 * NULL when it is. */
const char *vnd_store_identifier_problem(const char *name);

/* Creates `table` with the rule's columns, or checks that an existing one
 * has exactly those columns.  `packed`: a new table keeps its rows in
 * blocks (store/packed.h), for flow records at collector rates, where the
 * store can (SQLite); an existing table stays as it is.  Returns 0, or
 * EEXIST/EINVAL and *err. */
int vnd_store_ensure_table(struct vnd_store *st, const char *table,
                           const struct vnd_parse_rule *rule, bool packed, char **err);

/* Rowid slots: which rows of a table are whose.
 *
 * Traces may share a table (one Table ID for several traces), and rows
 * carry no trace column: the standard columns stay what the diagnostic
 * applications and tenants read, and a column per row would cost space
 * for what a table of one trace never needs.  Instead every (trace, table)
 * owns a slot of rowids, [slot << 44, (slot + 1) << 44), kept in vnd_slots,
 * and the ingest gives each row its rowid from its slot.  Replacing or
 * dropping a trace deletes exactly its rowid range, a b-tree range, in
 * whatever order the traces' rows arrived (a table server interleaves
 * them: ranges recorded per batch would need an entry per run of rows).
 * The first trace of a table takes slot 0, so a table of one trace (the
 * usual case) keeps the rowids 1, 2, 3, ... it always had.  Rows written
 * before vnd_slots existed lie in slot 0 and belong to the one trace of
 * the table without a slot; when several such traces share a table their
 * rows cannot be told apart, and replacing, appending to or dropping one of
 * them is refused (EEXIST). */
#define VND_STORE_SLOT_BITS 44

struct vnd_store_rows {
    int64_t lo, hi;          /* the trace's rowids in the table */
    int64_t next;            /* the rowid of its next row */
};

/* The slot of (trace, table), assigned when it has none; `table` exists.
 * Returns 0, or an errno and *err. */
int vnd_store_trace_rows(struct vnd_store *st, const char *trace, const char *table,
                         struct vnd_store_rows *out, char **err);

/* Deletes the rows of `trace` from `table` and its vnd_meta and
 * vnd_sampling rows there (keeping its slot: new rows of the trace follow). */
int vnd_store_clear_trace(struct vnd_store *st, const char *trace, const char *table,
                          char **err);

/* Removes `trace` from `table`: its rows, slot, vnd_meta and vnd_sampling
 * rows; the table
 * itself when no other trace has rows in it.  `table` NULL: from every
 * table vnd_meta and vnd_slots list for it. */
int vnd_store_drop_trace(struct vnd_store *st, const char *trace,
                         const char *table, char **err);

/* True when no trace but `trace` has rows or a vnd_meta row in `table`. */
bool vnd_store_only_trace(struct vnd_store *st, const char *trace, const char *table);

/* The tables `trace` has rows or a vnd_meta row in: *n malloc'd names in a
 * malloc'd array. */
int vnd_store_trace_tables(struct vnd_store *st, const char *trace, char ***tables, int *n,
                           char **err);

/* True when vnd_meta already has a row for (trace, table). */
bool vnd_store_has_trace(struct vnd_store *st, const char *trace,
                         const char *table);

/* One vnd_meta row: per trace and table. Strings may be NULL. */
struct vnd_meta {
    const char *trace, *table;
    const char *tenant, *cap_point, *direction, *pattern;
    const char *source;          /* file name or interface */
    const char *parse_filter, *parse_fields;
    int linktype;
    uint64_t seen, matched, stored, sampled_out, dropped_kernel,
             dropped_queue, anomalies;
    /* rows of the table lost because the store was down longer than a
     * batch could be held (ingest.h); kept by PostgreSQL's store */
    uint64_t store_lost;
    uint32_t sampling, snaplen;  /* 0: none */
    int64_t first_ns, last_ns;   /* 0 when no packet yet */
    const char *status;          /* ingesting, complete, truncated, failed */
    const char *message;
    double flow_sampling;        /* 1 flow in N copied by the switch; 0: every flow */
    /* `updated`: every packet captured before it (Unix seconds) is in the
     * table; 0: the time of the write */
    double complete_through;
    /* The table's rollup (ingest/rollup.h): its table (NULL: none), what
     * it answers ("rollup", ... and after ": " why not more), and the
     * rows of the table it holds. */
    const char *rollup, *rollup_status;
    uint64_t rollup_packets;
    /* Datagrams the trace's collector (sFlow, IPFIX) could not read while
     * the trace ran: they may have held its records (0 for other modes). */
    uint64_t malformed;
};

/* Inserts or replaces the vnd_meta row of (meta->trace, meta->table). */
int vnd_store_put_meta(struct vnd_store *st, const struct vnd_meta *meta,
                       char **err);

/* One row of vnd_sampling: how the rows of (trace, table) with ts in
 * [from_ts, the next row's from_ts) were sampled (docs/cost.md).
 *   vnd_sampling(trace, tbl, from_ts, sampling, method, flow_sampling,
 *                reason, PRIMARY KEY (trace, tbl, from_ts))
 * from_ts 0: from the start.  vnd_meta.sampling keeps the current N. */
struct vnd_sampling_row {
    const char *trace, *table;
    double from_ts;              /* capture time, seconds, as the rows' ts */
    uint32_t sampling;           /* table server's 1-in-N; 0 or 1: every packet */
    const char *method;          /* "count" (every Nth) or "hash" (packet ID) */
    double flow_sampling;        /* switch's 1 flow in N; 0 or 1: every flow */
    uint32_t snaplen;            /* bytes of each packet copied; 0: whole packets */
    const char *reason;          /* "configured", "budget: ...", NULL */
};

/* Inserts or replaces the row of (trace, table, from_ts) in the open
 * batch.  A row from 0 starts the history again: the older rows of
 * (trace, table) go.  clear_trace and drop_trace remove them too. */
int vnd_store_put_sampling(struct vnd_store *st, const struct vnd_sampling_row *r,
                           char **err);

/* Transactions around a batch. */
int vnd_store_begin(struct vnd_store *st, char **err);
int vnd_store_commit(struct vnd_store *st, char **err);
int vnd_store_rollback(struct vnd_store *st);

/* How often the store's connection broke and was made again, and when it
 * last broke (a server store; 0 for a file).  A break healed within one
 * commit is seen only here: the commit itself succeeds. */
uint64_t vnd_store_reconnects(struct vnd_store *st, double *last_broke);

#endif
