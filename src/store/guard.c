/* guard.c — the authorizer and time limit around tenant SQL. */
#include "store/guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

struct vnd_guard {
    sqlite3 *db;
    char **tables;         /* NULL: every table */
    double timeout, deadline;
    atomic_bool timed_out;
    const char *refused;   /* what the authorizer refused last, static text */
    char refused_name[128];
    struct vnd_guard *parent;   /* a twin's: whose deadline it keeps */
    struct vnd_guard *next;     /* in the list of open guards */
};

/* Open guards, so that a C step holding only a connection can open a twin
 * with the same protections for another thread. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vnd_guard *open_guards;

static void listed(struct vnd_guard *g, bool add)
{
    pthread_mutex_lock(&open_lock);
    if (add) {
        g->next = open_guards;
        open_guards = g;
    } else {
        for (struct vnd_guard **p = &open_guards; *p; p = &(*p)->next)
            if (*p == g) {
                *p = g->next;
                break;
            }
    }
    pthread_mutex_unlock(&open_lock);
}

/* Single-tenant files (vnd parse output) may read everything; a table
 * server's file holds many tenants, so there only the listed tables may be
 * read (not vnd_meta, not the schema: both would name other tenants'
 * traces). */
static bool table_allowed(const struct vnd_guard *g, const char *table)
{
    if (!g->tables || !table)
        return true;
    for (char **t = g->tables; *t; t++)
        if (!strcmp(*t, table))
            return true;
    return false;
}

/* Keeps the first refusal: it names what the tenant wrote (CREATE TABLE
 * is refused before the write to sqlite_schema it implies). */
static int deny(struct vnd_guard *g, const char *what, const char *name)
{
    if (!g->refused) {
        /* Schema statements show up first as writes to sqlite_schema. */
        g->refused = name && !strncmp(name, "sqlite_", 7) ? "changing the schema" : what;
        if (name && !strncmp(name, "sqlite_", 7))
            name = NULL;
        snprintf(g->refused_name, sizeof g->refused_name, "%s", name ? name : "");
    }
    return SQLITE_DENY;
}

static int authorize(void *ctx, int action, const char *a, const char *b,
                     const char *dbname, const char *trigger)
{
    struct vnd_guard *g = ctx;
    (void)trigger;
    if (dbname && strcmp(dbname, "main") && strcmp(dbname, "temp"))
        return deny(g, "another database", dbname);
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_READ:
        if (!table_allowed(g, a))
            return deny(g, "a table that is not yours", a);
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        if (b && (!strcasecmp(b, "load_extension") || !strcasecmp(b, "readfile")
                  || !strcasecmp(b, "writefile") || !strcasecmp(b, "fts3_tokenizer")
                  || !strcasecmp(b, "edit")))
            return deny(g, "the function", b);
        return SQLITE_OK;
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        return deny(g, "ATTACH", a);
    case SQLITE_PRAGMA:
        return deny(g, "PRAGMA", a);
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
        return deny(g, "writing", a);
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return deny(g, "a transaction", a);
    default:
        return deny(g, "changing the schema", a);
    }
}

static int progress(void *ctx)
{
    struct vnd_guard *g = ctx;
    /* a twin stops at its parent's deadline, and a twin's stop is the
     * parent's (the run it belongs to has hit the limit) */
    struct vnd_guard *root = g->parent ? g->parent : g;
    if (atomic_load(&root->timed_out)) {
        atomic_store(&g->timed_out, true);
        return 1;
    }
    if (root->deadline > 0 && vnd_now() > root->deadline) {
        atomic_store(&g->timed_out, true);
        atomic_store(&root->timed_out, true);
        return 1;
    }
    return 0;
}

static int open_guarded(struct vnd_guard *g, const char *path, const char *const *tables,
                        char **err)
{
    /* Read-only, no URI filenames (so the path cannot carry options), no
     * shared cache.  NOMUTEX: a guarded connection is used by one thread
     * at a time, and the serialized mode's mutex on every sqlite3_column_*
     * call halves the speed of the diag apps' C steps. */
    if (sqlite3_open_v2(path, &g->db,
                        SQLITE_OPEN_READONLY | SQLITE_OPEN_PRIVATECACHE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        *err = vnd_strdup_printf("%s: cannot open: %s", path,
                                 g->db ? sqlite3_errmsg(g->db) : "out of memory");
        goto out_close;
    }
    sqlite3_db_config(g->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(g->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
    sqlite3_db_config(g->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_limit(g->db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(g->db, SQLITE_LIMIT_SQL_LENGTH, 1 << 20);
    sqlite3_busy_timeout(g->db, 5000);
    /* Reads through a mapping, not a copy per page: the apps' scans are
     * bound by how fast rows come out of SQLite.  Only the database file
     * is mapped (not the WAL), and it never shrinks under a reader here. */
    sqlite3_exec(g->db, "PRAGMA mmap_size=2147418112", NULL, NULL, NULL);
    /* The file must be a database now, not at the first query. */
    if (sqlite3_exec(g->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL)
        != SQLITE_OK) {
        *err = vnd_strdup_printf("%s: not a trace database: %s", path, sqlite3_errmsg(g->db));
        goto out_close;
    }
    if (tables) {
        size_t n = 0;
        while (tables[n])
            n++;
        g->tables = vnd_xcalloc(n + 1, sizeof *g->tables);
        for (size_t i = 0; i < n; i++)
            g->tables[i] = vnd_xstrdup(tables[i]);
    }
    sqlite3_set_authorizer(g->db, authorize, g);
    sqlite3_progress_handler(g->db, 2000, progress, g);
    return 0;

out_close:
    sqlite3_close(g->db);
    g->db = NULL;
    return EIO;
}

int vnd_guard_open(const char *path, const char *const *tables,
                   struct vnd_guard **out, char **err)
{
    struct vnd_guard *g = vnd_xcalloc(1, sizeof *g);
    if (open_guarded(g, path, tables, err)) {
        free(g);
        return EIO;
    }
    listed(g, true);
    *out = g;
    return 0;
}

struct vnd_guard *vnd_guard_twin(sqlite3 *db)
{
    const char *path = sqlite3_db_filename(db, "main");
    if (!path || !*path)
        return NULL;            /* in memory: nothing to open again */
    pthread_mutex_lock(&open_lock);
    struct vnd_guard *parent = open_guards;
    while (parent && parent->db != db)
        parent = parent->next;
    pthread_mutex_unlock(&open_lock);
    struct vnd_guard *g = vnd_xcalloc(1, sizeof *g);
    char *err = NULL;
    if (open_guarded(g, path, parent ? (const char *const *)parent->tables : NULL, &err)) {
        free(err);
        free(g);
        return NULL;
    }
    g->parent = parent;
    return g;
}

void vnd_guard_close(struct vnd_guard *g)
{
    if (!g)
        return;
    if (!g->parent)
        listed(g, false);
    sqlite3_close(g->db);
    if (g->tables)
        for (char **t = g->tables; *t; t++)
            free(*t);
    free(g->tables);
    free(g);
}

sqlite3 *vnd_guard_db(struct vnd_guard *g)
{
    return g->db;
}

void vnd_guard_set_timeout(struct vnd_guard *g, double seconds)
{
    g->timeout = seconds;
}

void vnd_guard_start(struct vnd_guard *g)
{
    atomic_store(&g->timed_out, false);
    g->deadline = g->timeout > 0 ? vnd_now() + g->timeout : 0;
}

bool vnd_guard_timed_out(const struct vnd_guard *g)
{
    return atomic_load(&g->timed_out);
}

int vnd_guard_prepare(struct vnd_guard *g, const char *sql, sqlite3_stmt **stmt,
                      char **err)
{
    const char *tail = NULL;
    g->refused = NULL;
    vnd_guard_start(g);   /* preparing can be slow too (huge SQL) */
    int rc = sqlite3_prepare_v2(g->db, sql, -1, stmt, &tail);
    if (rc != SQLITE_OK) {
        if (g->refused)
            *err = vnd_strdup_printf("refused: %s%s%s%s is not allowed in tenant queries "
                                     "(they are read-only)", g->refused,
                                     g->refused_name[0] ? " (" : "", g->refused_name,
                                     g->refused_name[0] ? ")" : "");
        else
            *err = vnd_strdup_printf("%s", sqlite3_errmsg(g->db));
        *stmt = NULL;
        return g->refused ? EPERM : EINVAL;
    }
    if (!*stmt) {
        *err = vnd_strdup_printf("no SQL statement given");
        return EINVAL;
    }
    while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == '\r' || *tail == ';'))
        tail++;
    if (tail && *tail) {
        sqlite3_finalize(*stmt);
        *stmt = NULL;
        *err = vnd_strdup_printf("refused: one statement per query (extra text from "
                                 "'%.20s')", tail);
        return EPERM;
    }
    /* Belt and braces: VACUUM INTO and anything else that writes. */
    if (!sqlite3_stmt_readonly(*stmt)) {
        sqlite3_finalize(*stmt);
        *stmt = NULL;
        *err = vnd_strdup_printf("refused: only read-only statements are allowed");
        return EPERM;
    }
    return 0;
}
