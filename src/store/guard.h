/* guard.h — tenant SQL, read-only and contained.
 *
 * Every path that runs SQL a tenant wrote goes through a guarded
 * connection: opened read-only, defensive mode on, extension loading off,
 * no attached databases, and an authorizer that allows only reading
 * (SELECT, reads of permitted tables, ordinary functions, CTEs).  ATTACH,
 * PRAGMA, writes, schema changes, VACUUM and load_extension() are refused
 * with a message that says so.  One statement per call.  A time limit
 * interrupts long queries, and no string or blob may grow past
 * VND_GUARD_MAX_VALUE bytes.
 *
 * With a table list (a tenant on a shared file) there are two walls: the
 * authorizer refuses reads of tables not listed, on every statement
 * prepared on the guard's connection or a twin's, through
 * vnd_guard_prepare or sqlite3_prepare_v2 alike (the file's names are read
 * when the guard or twin opens); and vnd_guard_prepare checks the program
 * SQLite compiled to open no b-tree but theirs (the authorizer alone
 * misses tables a USING or NATURAL join reads).  So SQL a tenant wrote
 * must go through vnd_guard_prepare; only SQL VND builds from checked
 * names, with no USING or NATURAL join (the diag apps'), may be prepared
 * directly.  A table not listed is answered by vnd_guard_prepare as one
 * that does not exist; a direct prepare gets SQLITE_AUTH.  On a table
 * server the first wall is the file itself: each tenant's traces live in
 * a database of their own (see docs/isolation.md). */
#ifndef VND_STORE_GUARD_H
#define VND_STORE_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

struct vnd_guard;

#define VND_GUARD_MAX_VALUE (64 * 1024 * 1024)
/* What one query may allocate inside SQLite unless told (sqlmem.h). */
#define VND_GUARD_MEMORY_DEFAULT (256ull * 1024 * 1024)

/* Opens `path` read-only for tenant SQL.  When `tables` is non-NULL (a
 * NULL-terminated list), only those tables may be read (not the schema
 * either); CTEs, aliases and json_each/json_tree stay usable.  Returns 0,
 * or errno and *err. */
int vnd_guard_open(const char *path, const char *const *tables,
                   struct vnd_guard **out, char **err);
void vnd_guard_close(struct vnd_guard *g);
sqlite3 *vnd_guard_db(struct vnd_guard *g);

/* Another connection to the file of `db` for a reader on another thread:
 * read-only, and when `db` is a guard's, with that guard's permitted
 * tables (held by the twin's own authorizer, with the file's names read
 * as it opens) and its time limit (a twin stops at its parent's deadline,
 * and its stop marks the parent timed out).  An unguarded `db` gets a
 * plain read-only twin.  NULL when the file cannot be opened again (an
 * in-memory database).  Close it with vnd_guard_close() before the parent. */
struct vnd_guard *vnd_guard_twin(sqlite3 *db);

/* Limits what its statements may allocate inside SQLite (0: no limit). */
void vnd_guard_set_memory_limit(struct vnd_guard *g, uint64_t bytes);

/* Limits the next statements to `seconds` of run time (0: none). */
void vnd_guard_set_timeout(struct vnd_guard *g, double seconds);

/* Prepares exactly one read-only statement of tenant SQL.  Returns 0 and
 * *stmt, or EPERM (refused: *err says which construct), EINVAL (syntax or
 * unknown table/column: SQLite's message; a table not listed is "no such
 * table" too) with *err. */
int vnd_guard_prepare(struct vnd_guard *g, const char *sql,
                      sqlite3_stmt **stmt, char **err);

/* Starts the time limit for a statement about to be stepped; call before
 * the first sqlite3_step.  True once the limit has been hit. */
void vnd_guard_start(struct vnd_guard *g);
bool vnd_guard_timed_out(const struct vnd_guard *g);

/* Why a step that returned `rc` (not ROW or DONE) failed, in words a
 * tenant can act on: the time limit, a value over the size limit, out of
 * the query's memory, or SQLite's message.  Malloc'd. */
char *vnd_guard_step_error(struct vnd_guard *g, int rc);

/* A cursor over `stmt` (vnd_guard_prepare's; the cursor finalizes it)
 * whose failures are vnd_guard_step_error's words, ETIMEDOUT in the code
 * at the time limit.  Call vnd_guard_start before its first row. */
struct vnd_cursor *vnd_guard_cursor(struct vnd_guard *g, sqlite3_stmt *stmt);

#endif
