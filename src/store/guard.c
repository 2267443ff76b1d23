/* guard.c — the authorizer and time limit around tenant SQL. */
#include "store/guard.h"
#include "store/packed.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lang/sqlfuncs.h"
#include "store/provider.h"
#include "store/sqlmem.h"
#include "util/util.h"

/* Each root page (b-tree) of the file a statement may open: the allowed
 * tables' and their indexes'.  Filled when the guard (or a twin) opens
 * and again just before each vnd_guard_prepare. */
struct root_set {
    int *pages;
    char **names;          /* the table each page belongs to (messages) */
    int n;
};

struct vnd_guard {
    sqlite3 *db;
    char **tables;         /* NULL: every table */
    /* With a table list: every table and view name of the file, to tell
     * "not yours" (answered as "no such table") from a CTE or alias. */
    char **schema_names;
    int nschema_names;
    struct root_set roots;
    bool internal;         /* our own statements: the authorizer lets them be */
    bool declaring;        /* a packed table declaring its columns (packed.h) */
    const char *sql;       /* the statement being prepared (messages) */
    double timeout, deadline;
    atomic_bool timed_out;
    const char *refused;   /* what the authorizer refused last, static text */
    bool refused_unknown;  /* answer as SQLite does for a missing table */
    char refused_name[128];
    struct vnd_sqlmem_budget *mem;   /* what its queries may allocate */
    uint64_t mem_limit;
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
    /* a packed table's blocks (packed.h) are as readable as the table:
     * its module reads them on this connection */
    size_t n = strlen(table), sn = strlen(VND_PACKED_SUFFIX);
    if (n > sn && !strcmp(table + n - sn, VND_PACKED_SUFFIX))
        n -= sn;
    for (char **t = g->tables; *t; t++)
        if (strlen(*t) == n && !strncasecmp(*t, table, n))
            return true;
    return false;
}

/* True when `name` is a table or view of the file (or SQLite's own schema
 * table): a name the tenant may not read unless it is listed.  Any other
 * name read is a CTE, a subquery's alias or json_each/json_tree, which
 * hold nothing but what the query computes from readable tables. */
static bool schema_name(const struct vnd_guard *g, const char *name)
{
    if (!strncasecmp(name, "sqlite_", 7))
        return true;
    for (int i = 0; i < g->nschema_names; i++)
        if (!strcasecmp(g->schema_names[i], name))
            return true;
    return false;
}

/* json_each and json_tree: read as tables of "main", holding only what
 * the query gives them. */
static bool json_table(const char *name)
{
    return !strcasecmp(name, "json_each") || !strcasecmp(name, "json_tree");
}

/* Refuses a table the tenant may not read with the answer SQLite gives
 * for a table that does not exist, so a caller cannot learn which names
 * exist by trying them. */
static int deny_unknown(struct vnd_guard *g, const char *name)
{
    if (!g->refused) {
        g->refused = "no such table";
        g->refused_unknown = true;
        snprintf(g->refused_name, sizeof g->refused_name, "%s", name);
    }
    return SQLITE_DENY;
}

/* Keeps the first refusal: it names what the tenant wrote (CREATE TABLE
 * is refused before the write to sqlite_schema it implies). */
static int deny(struct vnd_guard *g, const char *what, const char *name)
{
    if (!g->refused) {
        /* Schema statements show up first as writes to sqlite_schema;
         * pragma_table_info() and its kin first register themselves there:
         * name what the tenant wrote */
        bool schema = name && !strncmp(name, "sqlite_", 7);
        g->refused = !schema ? what
                     : g->sql && strcasestr(g->sql, "pragma_") ? "a PRAGMA function (pragma_...)"
                                                               : "changing the schema";
        if (schema)
            name = NULL;
        snprintf(g->refused_name, sizeof g->refused_name, "%s", name ? name : "");
    }
    return SQLITE_DENY;
}

/* A packed table declares its columns (sqlite3_declare_vtab parses a
 * CREATE TABLE, which the authorizer sees as a write to the schema): the
 * module's own statement, not the tenant's. */
static void declaring(void *ctx, bool on)
{
    ((struct vnd_guard *)ctx)->declaring = on;
}

static int authorize(void *ctx, int action, const char *a, const char *b,
                     const char *dbname, const char *trigger)
{
    struct vnd_guard *g = ctx;
    (void)trigger;
    if (g->internal || g->declaring)
        return SQLITE_OK;
    if (dbname && strcmp(dbname, "main") && strcmp(dbname, "temp"))
        return deny(g, "another database", dbname);
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_READ:
        /* Every statement on the connection comes here, however it was
         * prepared (vnd_guard_prepare, or the diag apps' own prepares on
         * this connection and its twins), so this is where the table list
         * holds.  A column (b not empty) is reported only for a table of
         * the file (SQLite does not call for a subquery's or a CTE's), so
         * there a name not listed is refused even if the file gained it
         * after the schema was read; json_each and json_tree are the one
         * exception (eponymous tables of the main schema).  An empty
         * column (a table no column of which is read: count(*)) may be a
         * CTE's name, so there only the file's names are refused. */
        if (table_allowed(g, a))
            return SQLITE_OK;
        if (schema_name(g, a) || (b && *b && !json_table(a)))
            return deny_unknown(g, a);
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

static void free_schema(struct vnd_guard *g);
static int load_schema(struct vnd_guard *g);

static void free_tables(struct vnd_guard *g)
{
    if (g->tables)
        for (char **t = g->tables; *t; t++)
            free(*t);
    free(g->tables);
    g->tables = NULL;
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
    /* No string or blob larger than this: one expression cannot allocate
     * gigabytes or run for a minute where the time limit cannot reach
     * (printf and format fail past it, see lang/sqlfuncs.c). */
    sqlite3_limit(g->db, SQLITE_LIMIT_LENGTH, VND_GUARD_MAX_VALUE);
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
    /* Table-valued functions: json_each and json_tree only.  Their first
     * use registers them in the schema, which the authorizer would see as
     * a schema change, so they are registered now; every other virtual
     * table module (dbstat, fts, rtree, sqlite_stmt) is removed, so it
     * does not exist for the tenant. */
    static const char *keep_modules[] = {"json_each", "json_tree", NULL};
    sqlite3_exec(g->db, "SELECT 1 FROM json_each('[]'), json_tree('[]')", NULL, NULL, NULL);
    sqlite3_drop_modules(g->db, keep_modules);
    /* and the trace tables' own module, which reads only the blocks of
     * the table it is */
    vnd_packed_register(g->db, declaring, g);
    vnd_sql_register_functions(g->db);
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
    /* The file's names and the listed tables' root pages, now: the
     * authorizer refuses the tables not listed from the first statement
     * on, whoever prepares it (vnd_guard_prepare reads them again before
     * each of its statements, for the program check). */
    if (g->tables && load_schema(g) != SQLITE_OK) {
        *err = vnd_strdup_printf("%s: cannot read the schema: %s", path, sqlite3_errmsg(g->db));
        free_schema(g);
        free_tables(g);
        goto out_close;
    }
    return 0;

out_close:
    sqlite3_close(g->db);
    g->db = NULL;
    return EIO;
}

int vnd_guard_open(const char *path, const char *const *tables,
                   struct vnd_guard **out, char **err)
{
    vnd_sqlmem_install();   /* no-op when the program did it, as it should */
    struct vnd_guard *g = vnd_xcalloc(1, sizeof *g);
    g->mem_limit = VND_GUARD_MEMORY_DEFAULT;
    g->mem = vnd_sqlmem_acquire(g->mem_limit);
    vnd_sqlmem_enter(g->mem);
    if (open_guarded(g, path, tables, err)) {
        vnd_sqlmem_release(g->mem);
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
    /* a twin's allocations are its parent's query's */
    if (parent)
        vnd_sqlmem_enter(parent->mem);
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
    free_schema(g);
    if (!g->parent)
        vnd_sqlmem_release(g->mem);
    free_tables(g);
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

void vnd_guard_set_memory_limit(struct vnd_guard *g, uint64_t bytes)
{
    if (g->mem) {
        vnd_sqlmem_release(g->mem);
        g->mem = vnd_sqlmem_acquire(bytes);
        g->mem_limit = bytes;
    }
}

void vnd_guard_start(struct vnd_guard *g)
{
    struct vnd_guard *root = g->parent ? g->parent : g;
    vnd_sqlmem_enter(root->mem);
    atomic_store(&g->timed_out, false);
    g->deadline = g->timeout > 0 ? vnd_now() + g->timeout : 0;
}

bool vnd_guard_timed_out(const struct vnd_guard *g)
{
    return atomic_load(&g->timed_out);
}

static void free_schema(struct vnd_guard *g)
{
    for (int i = 0; i < g->nschema_names; i++)
        free(g->schema_names[i]);
    free(g->schema_names);
    for (int i = 0; i < g->roots.n; i++)
        free(g->roots.names[i]);
    free(g->roots.names);
    free(g->roots.pages);
    g->schema_names = NULL;
    g->nschema_names = 0;
    g->roots = (struct root_set){0};
}

/* Reads the file's table names and the root pages of the allowed tables
 * (and of their indexes) as the schema is now: at open, and just before
 * each vnd_guard_prepare. */
static int load_schema(struct vnd_guard *g)
{
    free_schema(g);
    sqlite3_stmt *s;
    g->internal = true;
    int rc = sqlite3_prepare_v2(g->db, "SELECT type, name, tbl_name, rootpage FROM "
                                       "main.sqlite_schema", -1, &s, NULL);
    g->internal = false;
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(s, 0);
        const char *name = (const char *)sqlite3_column_text(s, 1);
        const char *tbl = (const char *)sqlite3_column_text(s, 2);
        int root = sqlite3_column_int(s, 3);
        if (!type || !name || !tbl)
            continue;
        if (!strcmp(type, "table") || !strcmp(type, "view")) {
            g->schema_names = vnd_xrealloc(g->schema_names, (size_t)(g->nschema_names + 1)
                                                            * sizeof *g->schema_names);
            g->schema_names[g->nschema_names++] = vnd_xstrdup(name);
        }
        if (root > 0) {
            struct root_set *r = &g->roots;
            r->pages = vnd_xrealloc(r->pages, (size_t)(r->n + 1) * sizeof *r->pages);
            r->names = vnd_xrealloc(r->names, (size_t)(r->n + 1) * sizeof *r->names);
            /* a negative page marks a b-tree of a table the tenant may
             * not open; kept to name it in the refusal */
            r->pages[r->n] = table_allowed(g, tbl) ? root : -root;
            r->names[r->n++] = vnd_xstrdup(tbl);
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The part of `sql` after a leading EXPLAIN [QUERY PLAN], or NULL when
 * it does not start with one in plain words. */
static const char *after_explain(const char *sql)
{
    static const char *const words[] = {"explain", "query", "plan"};
    const char *p = sql, *after = NULL;
    for (int w = 0; w < 3; w++) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        size_t n = strlen(words[w]);
        if (strncasecmp(p, words[w], n) || (p[n] && !strchr(" \t\n\r", p[n])))
            break;
        p += n;
        if (w == 0 || w == 2)
            after = p;
    }
    return after;
}

/* The second wall: whatever the authorizer missed (it is never told of
 * the tables a USING or NATURAL join reads for count(*)), the program
 * SQLite compiled must open no b-tree but those of the allowed tables.
 * EXPLAIN lists that program; OpenRead/OpenWrite/ReopenIdx name the root
 * page (p2) of the b-tree and the database (p3: 0 main, 1 temp). */
static int check_program(struct vnd_guard *g, const char *sql, bool is_explain, char **err)
{
    const char *body = sql;
    if (is_explain && !(body = after_explain(sql))) {
        *err = vnd_strdup_printf("refused: EXPLAIN is allowed only as the first word of a "
                                 "query on a shared table server");
        return EPERM;
    }
    char *text = vnd_strdup_printf("EXPLAIN %s", body);
    sqlite3_stmt *e = NULL;
    g->internal = true;
    int rc = sqlite3_prepare_v2(g->db, text, -1, &e, NULL);
    g->internal = false;
    free(text);
    if (rc != SQLITE_OK) {
        *err = vnd_strdup_printf("refused: the query could not be checked (%s)",
                                 sqlite3_errmsg(g->db));
        return EPERM;
    }
    int status = 0;
    while (!status && sqlite3_step(e) == SQLITE_ROW) {
        const char *op = (const char *)sqlite3_column_text(e, 1);
        if (!op || (strcmp(op, "OpenRead") && strcmp(op, "OpenWrite")
                    && strcmp(op, "ReopenIdx")))
            continue;
        int page = sqlite3_column_int(e, 3), dbi = sqlite3_column_int(e, 4);
        const char *name = NULL;
        bool allowed = false;
        /* p5 flag 0x02 (OPFLAG_P2ISREG): p2 is a register, not a page;
         * only statements that create b-trees have it */
        bool p2_is_register = sqlite3_column_int(e, 6) & 0x02;
        for (int i = 0; i < g->roots.n && !p2_is_register; i++)
            if (g->roots.pages[i] == page || g->roots.pages[i] == -page) {
                allowed = dbi == 0 && g->roots.pages[i] == page;
                name = g->roots.names[i];
                break;
            }
        if (!allowed) {
            *err = vnd_strdup_printf("no such table: %s", name ? name : "?");
            status = EINVAL;
        }
    }
    sqlite3_finalize(e);
    return status;
}

int vnd_guard_prepare(struct vnd_guard *g, const char *sql, sqlite3_stmt **stmt,
                      char **err)
{
    const char *tail = NULL;
    g->refused = NULL;
    g->refused_unknown = false;
    vnd_guard_start(g);   /* preparing can be slow too (huge SQL) */
    if (g->tables && load_schema(g) != SQLITE_OK) {
        *err = vnd_strdup_printf("cannot read the schema: %s", sqlite3_errmsg(g->db));
        *stmt = NULL;
        return EIO;
    }
    g->sql = sql;
    int rc = sqlite3_prepare_v2(g->db, sql, -1, stmt, &tail);
    g->sql = NULL;
    if (rc != SQLITE_OK) {
        if (g->refused_unknown)
            *err = vnd_strdup_printf("no such table: %s", g->refused_name);
        else if (g->refused)
            *err = vnd_strdup_printf("refused: %s%s%s%s is not allowed in tenant queries "
                                     "(they are read-only)", g->refused,
                                     g->refused_name[0] ? " (" : "", g->refused_name,
                                     g->refused_name[0] ? ")" : "");
        else
            *err = vnd_strdup_printf("%s", sqlite3_errmsg(g->db));
        *stmt = NULL;
        return g->refused && !g->refused_unknown ? EPERM : EINVAL;
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
    if (g->tables) {
        int status = check_program(g, sql, sqlite3_stmt_isexplain(*stmt) != 0, err);
        if (status) {
            sqlite3_finalize(*stmt);
            *stmt = NULL;
            return status;
        }
    }
    return 0;
}

char *vnd_guard_step_error(struct vnd_guard *g, int rc)
{
    struct vnd_guard *root = g->parent ? g->parent : g;
    if (vnd_guard_timed_out(g))
        return vnd_strdup_printf("stopped at the time limit of %g s", root->timeout);
    switch (rc & 0xff) {
    case SQLITE_TOOBIG:
        return vnd_strdup_printf("a string or blob would be longer than %d MiB, the most "
                                 "one value may hold", VND_GUARD_MAX_VALUE >> 20);
    case SQLITE_NOMEM:
        if (root->mem && root->mem_limit)
            return vnd_strdup_printf("the query needs more memory than one query may use "
                                     "(%llu MiB)", (unsigned long long)(root->mem_limit >> 20));
        return vnd_strdup_printf("out of memory");
    default:
        return vnd_strdup_printf("%s", sqlite3_errmsg(g->db));
    }
}

static char *guard_why(void *arg, int rc, int *code)
{
    struct vnd_guard *g = arg;
    if (vnd_guard_timed_out(g))
        *code = ETIMEDOUT;
    else if (*code == ETIMEDOUT)
        *code = EIO;        /* interrupted, but not by the time limit */
    return vnd_guard_step_error(g, rc);
}

struct vnd_cursor *vnd_guard_cursor(struct vnd_guard *g, sqlite3_stmt *stmt)
{
    return vnd_cursor_sqlite(stmt, guard_why, g);
}
