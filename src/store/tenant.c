/* tenant.c — tenants' databases and their guarded connections. */
#include "store/tenant.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/util.h"

bool vnd_tenant_valid(const char *tenant)
{
    return vnd_plain_name(tenant);
}

char *vnd_tenant_dir(const char *db_path)
{
    return vnd_strdup_printf("%s.tenants", db_path);
}

char *vnd_tenant_db_path(const char *db_path, const char *tenant)
{
    return vnd_strdup_printf("%s.tenants/%s.db", db_path, tenant);
}

/* The tables the traces write, from the database's own vnd_meta, plus
 * vnd_meta and vnd_sampling; NULL and *err when a trace is not there. */
static char **tables_of(const char *path, const char *const *traces, int ntraces, char **err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    char **tables = vnd_xcalloc(4, sizeof *tables);
    int n = 0;
    /* The tenant's own tables beside its traces': vnd_meta and the
     * sampling history (vnd_sampling), and the
     * interface counters of its ports that sFlow agents send
     * (sflow_counters, docs/capture.md). */
    tables[n++] = vnd_xstrdup("vnd_meta");
    tables[n++] = vnd_xstrdup("vnd_sampling");
    tables[n++] = vnd_xstrdup("sflow_counters");
    /* a table's rollup (ingest/rollup.h) is the trace's too; a file made
     * before rollups has no column for them */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
        || (sqlite3_prepare_v2(db, "SELECT tbl FROM vnd_meta WHERE trace = ?1 UNION"
                                   " SELECT rollup FROM vnd_meta WHERE trace = ?1 AND rollup"
                                   " IS NOT NULL", -1, &s, NULL) != SQLITE_OK
            && sqlite3_prepare_v2(db, "SELECT DISTINCT tbl FROM vnd_meta WHERE trace = ?", -1,
                                  &s, NULL) != SQLITE_OK)) {
        *err = vnd_strdup_printf("%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        goto out_fail;
    }
    for (int i = 0; i < ntraces; i++) {
        sqlite3_bind_text(s, 1, traces[i], -1, SQLITE_STATIC);
        bool found = false;
        while (sqlite3_step(s) == SQLITE_ROW) {
            found = true;
            tables = vnd_xrealloc(tables, (size_t)(n + 2) * sizeof *tables);
            tables[n++] = vnd_xstrdup((const char *)sqlite3_column_text(s, 0));
        }
        sqlite3_reset(s);
        if (!found) {
            *err = vnd_strdup_printf("no trace %s", traces[i]);
            goto out_fail;
        }
    }
    tables[n] = NULL;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return tables;

out_fail:
    sqlite3_finalize(s);
    sqlite3_close(db);
    for (int i = 0; i < n; i++)
        free(tables[i]);
    free(tables);
    return NULL;
}

int vnd_tenant_guard_open(const char *db_path, const char *tenant,
                          const char *const *traces, int ntraces,
                          struct vnd_guard **out, char **err)
{
    if (tenant && !vnd_tenant_valid(tenant)) {
        *err = vnd_strdup_printf("'%s' is not a tenant name (1 to 63 letters, digits, '_' "
                                 "or '-')", tenant);
        return EINVAL;
    }
    char *path = tenant ? vnd_tenant_db_path(db_path, tenant) : vnd_xstrdup(db_path);
    struct stat sb;
    int rc;
    if (stat(path, &sb)) {
        /* A tenant without traces here: the same answer as for a trace
         * of its that is not here. */
        *err = tenant && ntraces ? vnd_strdup_printf("no trace %s", traces[0])
               : tenant ? vnd_strdup_printf("tenant %s has no traces here", tenant)
                        : vnd_strdup_printf("%s: %s", db_path, strerror(errno));
        rc = ENOENT;
        goto out_free;
    }
    char **tables = NULL;
    if (traces && !(tables = tables_of(path, traces, ntraces, err))) {
        rc = ENOENT;
        goto out_free;
    }
    rc = vnd_guard_open(path, (const char *const *)tables, out, err);
    if (tables)
        for (char **t = tables; *t; t++)
            free(*t);
    free(tables);

out_free:
    free(path);
    return rc;
}
