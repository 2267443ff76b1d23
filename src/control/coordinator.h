/* coordinator.h — the distributed mode's coordinator: a PostgreSQL that
 * the control server keeps, through which tenants read trace tables that
 * stay on the PostgreSQL of the table server that captured them
 * (postgres_fdw; docs/distributed.md).
 *
 * In the coordinator database, made and dropped with each diagnosis d<N>
 * of tenant T:
 *   - per table server (NIB host H) a foreign server "vnd_ts_H" and a user
 *     mapping for the control server's own role only (the password from
 *     the NIB's password_file);
 *   - a private schema "vnd_remote_d<N>": one foreign table per (host,
 *     trace table) onto schema "T-d<N>" of that host's database, and one
 *     onto each such host's "T-d<N>".vnd_meta.  No tenant may use it;
 *   - the tenant's schema "d<N>": views named by the tenant's virtual
 *     names (ids_in, ...) over those foreign tables (UNION ALL when one
 *     table is on several hosts), selecting the parse rule's columns, and
 *     vnd_meta over the diagnosis's own vnd_meta rows;
 *   - a role "vnd_t_T" (NOLOGIN) per tenant, granted USAGE on its
 *     diagnoses' schemas and SELECT on their views, nothing else.
 * A view runs with its owner's (the control server's) rights, so the
 * tenant reads the foreign tables only through its views and never holds
 * a user mapping.  No view filters rows (every foreign table is wholly
 * the diagnosis's), so none needs security_barrier, which would stop the
 * planner from pushing WHERE and GROUP BY down to the table servers.
 *
 * Tenant SQL runs in a session: a connection of its own, one READ ONLY
 * transaction, SET LOCAL ROLE to the tenant's role, search_path its
 * diagnosis's schema, a statement_timeout; each statement through the
 * extended protocol (one statement, never a list).  The coordinator
 * database must have been prepared (scripts/vnd-pg-setup coordinator):
 * PUBLIC may not call set_config nor run DO blocks (either would let a
 * statement RESET ROLE to the control server's role mid-query), nor read
 * pg_foreign_server / pg_foreign_table (where the hosts are).
 *
 * Errors for tenants never name a host or port: a table server that does
 * not answer is named by the capture points it holds. */
#ifndef VND_CONTROL_COORDINATOR_H
#define VND_CONTROL_COORDINATOR_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "diag/diag.h"
#include "fields/registry.h"
#include "output/output.h"

struct vnd_coord;

/* Connects as the control server's role (`conninfo`, `password` may be
 * NULL), creates postgres_fdw if missing and checks that the database was
 * prepared.  `timeout`: seconds a tenant's statement may run.  Returns 0,
 * or -1 and a malloc'd *err saying what to do. */
int vnd_coord_open(const char *conninfo, const char *password, double timeout,
                   struct vnd_coord **out, char **err);
void vnd_coord_close(struct vnd_coord *c);
double vnd_coord_timeout(const struct vnd_coord *c);
/* The bound of a tenant statement's memory (vnd_coord_set_memory), bytes;
 * 0: none. */
uint64_t vnd_coord_memory(const struct vnd_coord *c);
/* A tenant statement's memory: each sort or hash node up to mb/4 MB
 * (work_mem), then temporary files up to 4 x mb MB (temp_file_limit,
 * where this role may set it; else a warning).  0: PostgreSQL's own. */
void vnd_coord_set_memory(struct vnd_coord *c, long mb);

/* Creates or updates host's foreign server from `conninfo` (libpq; its
 * "user" and `password` go into the user mapping) and the mapping.
 * Returns 0 or -1 and *err (for the operator). */
int vnd_coord_server(struct vnd_coord *c, const char *host, const char *conninfo,
                     const char *password, char **err);

/* One trace table of a diagnosis as it lies on one host. */
struct vnd_coord_table {
    const char *host;               /* NIB host: its foreign server */
    const char *table;              /* the tenant's name, on the host too */
    int ncols;
    const char *const *cols;
    const enum vnd_sql_type *types;
    bool records;                   /* flow records: its rollup is rollup_records.h's */
};

/* Creates (or completes: each step is idempotent) the foreign tables,
 * views, role and grants of diagnosis `num` of `tenant`, whose tables
 * live in schema `remote_schema` ("T-d<N>") of their hosts.  Returns 0 or
 * -1 and *err (for the operator). */
int vnd_coord_diagnosis_create(struct vnd_coord *c, const char *tenant, long long num,
                               const char *remote_schema, const struct vnd_coord_table *t,
                               int n, char **err);
/* Drops all of diagnosis `num` from the coordinator (a no-op when absent). */
int vnd_coord_diagnosis_drop(struct vnd_coord *c, long long num, char **err);
/* The diagnoses that have objects on the coordinator (schemas d<N> or
 * vnd_remote_d<N>): *nums malloc'd, *n of them.  Returns 0 or -1 and *err. */
int vnd_coord_diagnoses(struct vnd_coord *c, long long **nums, int *n, char **err);

/* ---- tenant sessions ---- */

/* A capture point of the diagnosis: where its tables are, for messages. */
struct vnd_coord_point {
    const char *host;
    const char *point;              /* the trace's virtual name */
    const char *const *tables;
    int ntables;
};

struct vnd_coord_session;

/* Opens a session of `tenant` on diagnosis `num`.  Returns 0, or an HTTP
 * status and a malloc'd *err for the tenant. */
int vnd_coord_session_open(struct vnd_coord *c, const char *tenant, long long num,
                           const struct vnd_coord_point *points, int npoints,
                           struct vnd_coord_session **out, char **err);
void vnd_coord_session_close(struct vnd_coord_session *s);
/* The coordinator a session is on (its time limit and memory bound). */
struct vnd_coord *vnd_coord_of(const struct vnd_coord_session *s);

/* Runs one statement up to its first row.  Returns 0 (columns known,
 * rows to fetch), or an HTTP status and *err for the tenant: 400 its SQL,
 * 403 what it may not do, 503 the time limit or a capture point whose
 * host does not answer, 502 another failure of a table server. */
int vnd_coord_exec(struct vnd_coord_session *s, const char *sql, char **err);
/* What vnd_coord_exec lets through: a statement whose first word (past
 * blanks, '(' and comments, nested ones too) is SELECT, WITH, VALUES,
 * TABLE or EXPLAIN.  SET ROLE, RESET, COMMIT and the like would change
 * the session the tenant runs in. */
bool vnd_coord_reading_statement(const char *sql);
int vnd_coord_ncols(const struct vnd_coord_session *s);
const char *vnd_coord_colname(const struct vnd_coord_session *s, int i);
/* The next row: 1, or 0 at the end, or an HTTP status and *err. */
int vnd_coord_fetch(struct vnd_coord_session *s, char **err);
/* Cells of the current row: as SQLite would type them (int8/int4/bool
 * INTEGER, float/numeric REAL, bytea BLOB, the rest TEXT). */
void vnd_coord_out_row(const struct vnd_coord_session *s, struct vnd_out *out);
/* Cell i as a diagnostic app's cell (bytea as its text form). */
void vnd_coord_cell(const struct vnd_coord_session *s, int i, struct vnd_cell *cell);

/* The statement vnd_coord_exec ran, as a read cursor (store/provider.h):
 * its columns and rows, cells as vnd_coord_out_row types them, a failed
 * fetch's HTTP status in *code.  Close it with vnd_cursor_close before
 * the next statement. */
struct vnd_cursor;
struct vnd_cursor *vnd_coord_cursor(struct vnd_coord_session *s);

/* The session's views and their columns as empty tables of an in-memory
 * SQLite database: what the diagnostic apps check their tables and
 * columns against before they write SQL.  Returns 0 and *out, or an HTTP
 * status and *err. */
int vnd_coord_schema(struct vnd_coord_session *s, sqlite3 **out, char **err);

#endif
