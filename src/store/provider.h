/* provider.h — the trace store behind one small table of operations.
 *
 * In the manner of Open vSwitch's netdev-provider.h and libpcap's
 * pcap-int.h: ingest, output, the table server and the apps talk to a
 * `struct vnd_store_provider`, and each store (SQLite, PostgreSQL) fills
 * the table.  The SQL dialect is the provider's: a provider runs SQL it
 * is given, it never translates it.
 *
 *   sqlite      the embedded store (store.c): one file, WAL, rowid slots,
 *               the guard (guard.c) for tenant SQL.  The default.
 *   postgresql  a PostgreSQL on the table server's host (store_pg.c), via
 *               libpq; rows go in with COPY in binary form.  Tenants reach
 *               it only through the control server's coordinator (its
 *               postgres_fdw foreign tables), never directly.
 *
 * Writing (ingest): open, ensure a table from a list of columns, begin a
 * batch, write rows into a table's writer, write vnd_meta (and a
 * vnd_sampling row when the rate changes), commit.  Only
 * one batch is open at a time, on one thread.
 *
 * Reading: a cursor over one statement (columns, next row, cells) that
 * output prints whatever its source (vnd_out_cursor): PostgreSQL's is
 * vnd_cursor_pg, SQLite's vnd_cursor_sqlite (tenant SQL there goes
 * through the guard, guard.h, whose vnd_guard_cursor words its limits). */
#ifndef VND_STORE_PROVIDER_H
#define VND_STORE_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields/registry.h"

struct vnd_store;
struct vnd_meta;
struct vnd_sampling_row;
struct vnd_parse_rule;
struct vnd_store_rows;

/* A column of a table the store keeps beside the traces' (make_table). */
struct vnd_store_col {
    const char *name;
    enum vnd_sql_type type;
    bool not_null;
};

/* An index of such a table: named table + suffix, on `cols` (column
 * names, comma-separated), of the rows `where` holds for (NULL: all).
 * Both are SQL that SQLite and PostgreSQL read alike. */
struct vnd_store_index {
    const char *suffix, *cols, *where;
};

/* Where a batch's rows for one table go: made by the provider for a
 * (table, columns) pair; `rowid` says each row starts with its rowid
 * (store.h's slots).  Written on the ingest's writer thread.  A
 * provider's own writer struct starts with this. */
struct vnd_store_writer {
    const struct vnd_store_provider *cls;
};

/* A read cursor over the rows of one statement. */
struct vnd_cursor;

struct vnd_cursor_class {
    /* 1: a row is ready; 0: no more rows; -1: failed, *err set
     * (malloc'd).  A query stopped by its time limit fails with ETIMEDOUT
     * in *code when code is non-NULL. */
    int (*next)(struct vnd_cursor *, int *code, char **err);
    /* Cell i of the current row: its value (text points into the
     * cursor's memory, valid until the next call). */
    void (*cell)(struct vnd_cursor *, int i, struct vnd_value *out);
    void (*close)(struct vnd_cursor *);
};

struct vnd_cursor {
    const struct vnd_cursor_class *cls;
    int ncols;
    char **cols;                    /* column names, ncols of them */
};

static inline int vnd_cursor_next(struct vnd_cursor *c, int *code, char **err)
{
    return c->cls->next(c, code, err);
}
static inline void vnd_cursor_cell(struct vnd_cursor *c, int i, struct vnd_value *out)
{
    c->cls->cell(c, i, out);
}
/* Closes and frees (NULL is fine). */
void vnd_cursor_close(struct vnd_cursor *c);
/* For providers: sets the column names (copied). */
void vnd_cursor_set_columns(struct vnd_cursor *c, int n, const char *const *names);

struct vnd_store_provider {
    const char *name;               /* "sqlite", "postgresql" */

    /* Opens or creates the store `where` (a file path; a libpq conninfo).
     * 0, or an errno and a malloc'd *err. */
    int (*open)(const char *where, struct vnd_store **out, char **err);
    void (*close)(struct vnd_store *);

    /* Creates `table` with the rule's columns, or checks that an existing
     * one has exactly those columns: 0, EEXIST or another errno, *err.
     * `packed`: a new table's rows are kept in blocks (packed.h), where
     * the provider does that (SQLite); a hint, not a requirement. */
    int (*ensure_table)(struct vnd_store *, const char *table,
                        const struct vnd_parse_rule *rule, bool packed, char **err);

    int (*begin)(struct vnd_store *, char **err);
    int (*commit)(struct vnd_store *, char **err);
    int (*rollback)(struct vnd_store *);

    /* A writer for `table` with `ncols` values per row (rowid first when
     * `rowid`); freed with writer_free.  NULL and *err when the table
     * cannot take rows. */
    struct vnd_store_writer *(*writer_new)(struct vnd_store *, const char *table,
                                           char *const *columns, int ncols, bool rowid,
                                           char **err);
    /* Writes `nrows` rows of `ncols` values each (NULL type: SQL NULL), in
     * the open batch.  0, or an errno and *err. */
    int (*write_rows)(struct vnd_store_writer *, const struct vnd_value *values, int nrows,
                      char **err);
    void (*writer_free)(struct vnd_store_writer *);

    /* vnd_meta: one row per (trace, table). */
    int (*put_meta)(struct vnd_store *, const struct vnd_meta *, char **err);
    /* The stored counters of (trace, table) into *out (strings NULL):
     * 1 found, 0 not there. */
    int (*get_meta)(struct vnd_store *, const char *trace, const char *table,
                    struct vnd_meta *out);

    /* vnd_sampling: the sampling history of (trace, table) (store.h's
     * vnd_store_put_sampling), in the open batch. */
    int (*put_sampling)(struct vnd_store *, const struct vnd_sampling_row *, char **err);

    /* Rowid slots and traces (store.h). */
    int (*trace_rows)(struct vnd_store *, const char *trace, const char *table,
                      struct vnd_store_rows *out, char **err);
    int (*clear_trace)(struct vnd_store *, const char *trace, const char *table, char **err);
    int (*drop_trace)(struct vnd_store *, const char *trace, const char *table, char **err);
    bool (*only_trace)(struct vnd_store *, const char *trace, const char *table);
    bool (*has_trace)(struct vnd_store *, const char *trace, const char *table);
    int (*trace_tables)(struct vnd_store *, const char *trace, char ***tables, int *n,
                        char **err);
    /* The stored spelling of `table` when it exists under another case
     * (SQL names fold case), or NULL. */
    char *(*canonical_table)(struct vnd_store *, const char *table);
    /* The largest rowid of `table` (0 when empty); -1 when the store
     * numbers no rows itself (every row is written with its rowid). */
    int64_t (*max_rowid)(struct vnd_store *, const char *table);

    /* Tables kept beside the traces' (a table's rollup, ingest/rollup.h):
     * make_table makes `table` anew (a leftover of that name goes) with
     * `cols` after the rowid, and its indexes; delete_rowids deletes, in
     * the open batch, the rows whose rowid lies in one of the n ranges
     * [lo, hi); drop_table drops it if it is there.  0, or an errno and
     * *err. */
    int (*make_table)(struct vnd_store *, const char *table, const struct vnd_store_col *cols,
                      int ncols, const struct vnd_store_index *idx, int nidx, char **err);
    int (*delete_rowids)(struct vnd_store *, const char *table, const int64_t (*ranges)[2],
                         size_t n, char **err);
    int (*drop_table)(struct vnd_store *, const char *table, char **err);
    /* True when a trace's vnd_meta row names `table` (in any case): it
     * holds a trace's rows, not a table kept beside them. */
    bool (*trace_table)(struct vnd_store *, const char *table);

    /* The SQLite connection of an embedded store, for what runs inside
     * SQLite (the guard, the apps' C steps); NULL for other providers. */
    struct sqlite3 *(*sqlite)(struct vnd_store *);

    /* How often the store's connection broke and was made again (0 for
     * a store without one; NULL: never), and when it last broke. */
    uint64_t (*reconnects)(struct vnd_store *, double *last_broke);
};

/* The part every store shares; a provider's own struct starts with it. */
struct vnd_store {
    const struct vnd_store_provider *cls;
};

extern const struct vnd_store_provider vnd_store_sqlite;
extern const struct vnd_store_provider vnd_store_postgresql;


/* The provider a store location names: "pg:CONNINFO" or "postgresql:..."
 * is PostgreSQL (*where then points at the conninfo), anything else a
 * SQLite file. */
const struct vnd_store_provider *vnd_store_provider_for(const char *location,
                                                        const char **where);

/* A cursor over `sql` on a libpq connection (PGconn), in single-row
 * mode: rows reach the reader as PostgreSQL sends them.  The connection
 * is busy until the cursor is closed (closing early cancels the rest).
 * NULL and *err when the statement fails before its first row. */
struct pg_conn;
struct vnd_cursor *vnd_cursor_pg(struct pg_conn *conn, const char *sql, char **err);

/* A cursor over a prepared SQLite statement, which it finalizes when
 * closed.  A failed step's message is why(arg, rc, &code) when `why` is
 * given (code preset: ETIMEDOUT for an interrupt, ENOMEM, else EIO), else
 * SQLite's. */
struct sqlite3_stmt;
typedef char *(*vnd_cursor_sqlite_why)(void *arg, int rc, int *code);
struct vnd_cursor *vnd_cursor_sqlite(struct sqlite3_stmt *st, vnd_cursor_sqlite_why why,
                                     void *arg);

/* Cell (row, i) of a libpq result (PGresult) as a value: integers,
 * booleans and integral numerics (PostgreSQL's sum and count of bigints)
 * as INTEGER, other numbers REAL, bytea a BLOB (unescaped into *freeme,
 * which the caller PQfreemem()s after use), the rest TEXT. */
struct pg_result;
void vnd_pg_value(const struct pg_result *r, int row, int i, struct vnd_value *v, void **freeme);


/* Writers and queries of an open store (the provider's operations). */
struct vnd_store_writer *vnd_store_writer_new(struct vnd_store *st, const char *table,
                                              char *const *columns, int ncols, bool rowid,
                                              char **err);
int vnd_store_write_rows(struct vnd_store_writer *w, const struct vnd_value *values, int nrows,
                         char **err);
void vnd_store_writer_free(struct vnd_store_writer *w);
int vnd_store_get_meta(struct vnd_store *st, const char *trace, const char *table,
                       struct vnd_meta *out);
char *vnd_store_canonical_table(struct vnd_store *st, const char *table);
int64_t vnd_store_max_rowid(struct vnd_store *st, const char *table);
int vnd_store_make_table(struct vnd_store *st, const char *table,
                         const struct vnd_store_col *cols, int ncols,
                         const struct vnd_store_index *idx, int nidx, char **err);
int vnd_store_delete_rowids(struct vnd_store *st, const char *table,
                            const int64_t (*ranges)[2], size_t n, char **err);
int vnd_store_drop_table(struct vnd_store *st, const char *table, char **err);
bool vnd_store_trace_table(struct vnd_store *st, const char *table);

#endif
