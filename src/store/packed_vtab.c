/* packed_vtab.c — the vnd_packed module: a packed table's blocks shown as
 * its rows (see packed.h).
 *
 *   CREATE VIRTUAL TABLE "T" USING vnd_packed("ts" REAL, "src" TEXT, ...)
 *
 * declares T with those columns; its rows are read from "T:packed" (the
 * name is T's own, never an argument, so a packed table shows only its
 * own blocks).  Read-only: rows go in as blocks (store_sqlite.c), and
 * dropping T drops its blocks. */
#include "store/packed.h"

/* Built twice: into libvnd, calling SQLite directly, and into the loadable
 * extension vnd_packed.so (src/ext/), calling it through the routines
 * table the loading connection hands over. */
#ifdef VND_SQLITE_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
#else
#include <sqlite3.h>
#endif
#include <stdlib.h>
#include <string.h>

struct pk_hook {
    void (*declaring)(void *arg, bool on);
    void *arg;
};

struct pk_vtab {
    sqlite3_vtab base;
    sqlite3 *db;
    char *name;             /* T */
    int ncols;
};

/* Rows are decoded lazily: the cursor moves by counting (row `pos` of the
 * block's `n`), and the reader walks up to it only when a value or the
 * rowid is asked for, so count(*) costs a block, not its rows' values. */
struct pk_cursor {
    sqlite3_vtab_cursor base;
    sqlite3_stmt *blocks;   /* last, first, ncols, rows, n in rowid order */
    struct vnd_packed_reader rd;
    const uint8_t **col;
    uint8_t *room;          /* the reader's room (packed.h) */
    int64_t block;          /* its last rowid, for an error message */
    int64_t n, pos;         /* the block's rows; the cursor's row in it */
    int64_t at;             /* the row the reader is on (-1: none yet) */
    int eof;
};

static const char *const types[] = {"INTEGER", "REAL", "TEXT", "BLOB"};

/* An argument `"name" TYPE`: the length of the quoted name, or 0. */
static size_t column_arg(const char *a)
{
    if (a[0] != '"')
        return 0;
    const char *q = strchr(a + 1, '"');
    if (!q || q == a + 1 || q[1] != ' ')
        return 0;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strcmp(q + 2, types[i]))
            return (size_t)(q + 1 - a);
    return 0;
}

static int pk_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                      sqlite3_vtab **out, char **err)
{
    const struct pk_hook *hook = aux;
    if (argc < 4) {
        *err = sqlite3_mprintf("vnd_packed: no columns");
        return SQLITE_ERROR;
    }
    sqlite3_str *decl = sqlite3_str_new(db);
    sqlite3_str_appendall(decl, "CREATE TABLE x(");
    for (int i = 3; i < argc; i++) {
        if (!column_arg(argv[i])) {
            sqlite3_free(sqlite3_str_finish(decl));
            *err = sqlite3_mprintf("vnd_packed: '%s' is not a column (\"name\" TYPE)", argv[i]);
            return SQLITE_ERROR;
        }
        sqlite3_str_appendf(decl, "%s%s", i > 3 ? ", " : "", argv[i]);
    }
    sqlite3_str_appendall(decl, ")");
    char *sql = sqlite3_str_finish(decl);
    if (sql && hook->declaring)
        hook->declaring(hook->arg, true);
    int rc = sql ? sqlite3_declare_vtab(db, sql) : SQLITE_NOMEM;
    if (sql && hook->declaring)
        hook->declaring(hook->arg, false);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        *err = sqlite3_mprintf("vnd_packed: %s", sqlite3_errmsg(db));
        return rc;
    }
    /* reading blocks of its own file is all it does: usable under
     * trusted_schema=OFF (the guard's connections) */
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    struct pk_vtab *v = sqlite3_malloc(sizeof *v);
    char *name = sqlite3_mprintf("%s", argv[2]);
    if (!v || !name) {
        sqlite3_free(v);
        sqlite3_free(name);
        return SQLITE_NOMEM;
    }
    memset(v, 0, sizeof *v);
    v->db = db;
    v->name = name;
    v->ncols = argc - 3;
    *out = &v->base;
    return SQLITE_OK;
}

static int pk_disconnect(sqlite3_vtab *vt)
{
    struct pk_vtab *v = (struct pk_vtab *)vt;
    sqlite3_free(v->name);
    sqlite3_free(v);
    return SQLITE_OK;
}

/* DROP TABLE T: its blocks go with it. */
static int pk_destroy(sqlite3_vtab *vt)
{
    struct pk_vtab *v = (struct pk_vtab *)vt;
    char *sql = sqlite3_mprintf("DROP TABLE IF EXISTS \"%w" VND_PACKED_SUFFIX "\"", v->name);
    int rc = sql ? sqlite3_exec(v->db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc == SQLITE_OK)
        pk_disconnect(vt);
    return rc;
}

static int pk_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    (void)vt;
    /* one plan: every block in rowid order, so ORDER BY rowid is free */
    if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == -1 && !info->aOrderBy[0].desc)
        info->orderByConsumed = 1;
    info->estimatedCost = 1e6;
    return SQLITE_OK;
}

static int pk_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    struct pk_vtab *v = (struct pk_vtab *)vt;
    struct pk_cursor *c = sqlite3_malloc(sizeof *c);
    const uint8_t **col = sqlite3_malloc64(sizeof *col * (size_t)v->ncols);
    uint8_t *room = sqlite3_malloc64(VND_PACKED_ROOM(v->ncols));
    char *sql = sqlite3_mprintf("SELECT last, first, ncols, rows, n FROM \"%w" VND_PACKED_SUFFIX
                                "\" ORDER BY last", v->name);
    if (!c || !col || !room || !sql) {
        sqlite3_free(c);
        sqlite3_free(col);
        sqlite3_free(room);
        sqlite3_free(sql);
        return SQLITE_NOMEM;
    }
    memset(c, 0, sizeof *c);
    c->col = col;
    c->room = room;
    c->eof = 1;
    int rc = sqlite3_prepare_v2(v->db, sql, -1, &c->blocks, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        sqlite3_free(vt->zErrMsg);
        vt->zErrMsg = sqlite3_mprintf("%s: its blocks cannot be read: %s", v->name,
                                      sqlite3_errmsg(v->db));
        sqlite3_free(col);
        sqlite3_free(room);
        sqlite3_free(c);
        return rc;
    }
    *out = &c->base;
    return SQLITE_OK;
}

static int pk_close(sqlite3_vtab_cursor *cur)
{
    struct pk_cursor *c = (struct pk_cursor *)cur;
    sqlite3_finalize(c->blocks);
    sqlite3_free(c->col);
    sqlite3_free(c->room);
    sqlite3_free(c);
    return SQLITE_OK;
}

static int damaged(struct pk_cursor *c)
{
    struct pk_vtab *v = (struct pk_vtab *)c->base.pVtab;
    sqlite3_free(v->base.zErrMsg);
    v->base.zErrMsg = sqlite3_mprintf("%s: the block of rows ending at rowid %lld is damaged",
                                      v->name, (long long)c->block);
    return SQLITE_CORRUPT_VTAB;
}

/* Walks the reader up to the cursor's row; at a block's last row, also
 * checks that the block ends there. */
static int reach(struct pk_cursor *c)
{
    struct pk_vtab *v = (struct pk_vtab *)c->base.pVtab;
    while (c->at < c->pos) {
        if (vnd_packed_next(&c->rd, c->col, v->ncols) <= 0)
            return damaged(c);          /* fewer rows than the block says */
        c->at++;
    }
    return SQLITE_OK;
}

/* The next row, from the next block when this one is done. */
static int pk_next(sqlite3_vtab_cursor *cur)
{
    struct pk_cursor *c = (struct pk_cursor *)cur;
    struct pk_vtab *v = (struct pk_vtab *)cur->pVtab;
    if (!c->eof && ++c->pos < c->n)
        return SQLITE_OK;
    if (!c->eof && c->at == c->n - 1 && vnd_packed_next(&c->rd, c->col, v->ncols) != 0)
        return damaged(c);              /* more rows than the block says */
    int rc = sqlite3_step(c->blocks);
    if (rc == SQLITE_DONE) {
        c->eof = 1;
        return SQLITE_OK;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_free(v->base.zErrMsg);
        v->base.zErrMsg = sqlite3_mprintf("%s: %s", v->name, sqlite3_errmsg(v->db));
        return rc;
    }
    c->block = sqlite3_column_int64(c->blocks, 0);
    const void *p = sqlite3_column_blob(c->blocks, 3);
    int n = sqlite3_column_bytes(c->blocks, 3);
    c->n = sqlite3_column_int64(c->blocks, 4);
    c->pos = 0;
    c->at = -1;
    if (sqlite3_column_int64(c->blocks, 2) != v->ncols || c->n < 1
        || vnd_packed_open(&c->rd, p, (size_t)n, sqlite3_column_int64(c->blocks, 1),
                           c->room))
        return damaged(c);
    c->eof = 0;
    return SQLITE_OK;
}

static int pk_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc,
                     sqlite3_value **argv)
{
    (void)idx;
    (void)idxstr;
    (void)argc;
    (void)argv;
    struct pk_cursor *c = (struct pk_cursor *)cur;
    sqlite3_reset(c->blocks);
    c->eof = 1;
    return pk_next(cur);
}

static int pk_eof(sqlite3_vtab_cursor *cur)
{
    return ((struct pk_cursor *)cur)->eof;
}

static int pk_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i)
{
    struct pk_cursor *c = (struct pk_cursor *)cur;
    int rc = reach(c);
    if (rc != SQLITE_OK)
        return rc;
    struct vnd_value v;
    vnd_packed_value(&c->rd, c->col, i, &v);
    switch (v.type) {
    case VND_SQL_INTEGER: sqlite3_result_int64(ctx, v.i); break;
    case VND_SQL_REAL: sqlite3_result_double(ctx, v.d); break;
    case VND_SQL_TEXT: sqlite3_result_text64(ctx, v.s, v.slen, SQLITE_TRANSIENT, SQLITE_UTF8); break;
    case VND_SQL_BLOB: sqlite3_result_blob64(ctx, v.s, v.slen, SQLITE_TRANSIENT); break;
    case VND_SQL_ADDR: {
        /* an address kept as its bytes: TEXT, as the column is declared */
        char text[46];
        size_t n = vnd_format_addr(&v, text);
        sqlite3_result_text64(ctx, text, n, SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
    }
    default: sqlite3_result_null(ctx); break;
    }
    return SQLITE_OK;
}

static int pk_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    struct pk_cursor *c = (struct pk_cursor *)cur;
    int rc = reach(c);
    *rowid = c->rd.rowid;
    return rc;
}

static const sqlite3_module packed_module = {
    .iVersion = 0,
    .xCreate = pk_connect,
    .xConnect = pk_connect,
    .xBestIndex = pk_best_index,
    .xDisconnect = pk_disconnect,
    .xDestroy = pk_destroy,
    .xOpen = pk_open,
    .xClose = pk_close,
    .xFilter = pk_filter,
    .xNext = pk_next,
    .xEof = pk_eof,
    .xColumn = pk_column,
    .xRowid = pk_rowid,
};

int vnd_packed_register(sqlite3 *db, void (*declaring)(void *arg, bool on), void *arg)
{
    struct pk_hook *hook = sqlite3_malloc(sizeof *hook);
    if (!hook)
        return SQLITE_NOMEM;
    hook->declaring = declaring;
    hook->arg = arg;
    return sqlite3_create_module_v2(db, "vnd_packed", &packed_module, hook, sqlite3_free);
}
