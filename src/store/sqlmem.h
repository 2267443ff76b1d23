/* sqlmem.h — a memory budget for each tenant query.
 *
 * SQLite's limits cap one value (SQLITE_LIMIT_LENGTH) but not a query:
 * a row of a hundred 60 MB strings, or a window over a large partition,
 * can take gigabytes and the daemon with it.  SQLite has only a process-
 * wide heap limit, which would fail the table server's writers too.  So
 * every SQLite allocation goes through this allocator, which charges it
 * to the budget of the query running on the calling thread (set by
 * vnd_guard_start); past the budget the allocation fails, the query gets
 * SQLITE_NOMEM and says so, and every other connection is untouched.
 * Threads running no query (the writers) have no budget. */
#ifndef VND_STORE_SQLMEM_H
#define VND_STORE_SQLMEM_H

#include <stdbool.h>
#include <stdint.h>

struct vnd_sqlmem_budget;

/* Routes SQLite's allocations through the budgets.  Call before SQLite is
 * used; false when it was too late (SQLite already initialised): budgets
 * are then not enforced. */
bool vnd_sqlmem_install(void);

/* A budget of `limit` bytes (0: unlimited), or NULL when all are in use
 * (the query then runs without one). */
struct vnd_sqlmem_budget *vnd_sqlmem_acquire(uint64_t limit);
void vnd_sqlmem_release(struct vnd_sqlmem_budget *b);

/* Charges this thread's SQLite allocations to `b` (NULL: to none). */
void vnd_sqlmem_enter(struct vnd_sqlmem_budget *b);

#endif
