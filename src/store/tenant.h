/* tenant.h — where a tenant's traces live, and a tenant's way in.
 *
 * A table server keeps its registry (vnd_traces, vnd_capture) in the file
 * given with --db and each tenant's trace tables and vnd_meta rows in a
 * database of its own, DB.tenants/TENANT.db.  A tenant's query opens that
 * file and nothing else, so no query can reach another tenant's rows even
 * if the guard (guard.h) had a hole: isolation by construction, the guard
 * being the second wall (docs/isolation.md). */
#ifndef VND_STORE_TENANT_H
#define VND_STORE_TENANT_H

#include "store/guard.h"

/* The tenant of traces created without one. */
#define VND_TENANT_DEFAULT "default"

/* True for a usable tenant name: 1..63 letters, digits, '_' or '-' (it
 * becomes a file name). */
bool vnd_tenant_valid(const char *tenant);

/* The folder of the tenants' databases of the store `db_path`. */
char *vnd_tenant_dir(const char *db_path);

/* The database of `tenant` in the store `db_path` (malloc'd). */
char *vnd_tenant_db_path(const char *db_path, const char *tenant);

/* Opens `tenant`'s database of the store `db_path` for its SQL (when
 * `tenant` is NULL, `db_path` itself is the trace database).  With
 * `traces` (ntraces ids), only their tables and vnd_meta may be read; a
 * trace the database does not hold gets ENOENT "no trace ID", whether it
 * exists for another tenant or not at all.  Returns 0, or errno and *err. */
int vnd_tenant_guard_open(const char *db_path, const char *tenant,
                          const char *const *traces, int ntraces,
                          struct vnd_guard **out, char **err);

#endif
