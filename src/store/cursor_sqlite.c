/* cursor_sqlite.c — a read cursor over one prepared SQLite statement
 * (provider.h): what output, the table server's query API and the apps'
 * SQL read their rows through, as they read PostgreSQL's (vnd_cursor_pg).
 * Tenant SQL gets its cursor from the guard (vnd_guard_cursor), which
 * words a failed step with its limits. */
#include "store/provider.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "util/util.h"

struct sqlite_cursor {
    struct vnd_cursor up;
    sqlite3_stmt *st;
    vnd_cursor_sqlite_why why;
    void *arg;
    bool done;
    bool nomem;             /* a cell could not be read: the next call fails */
};

static int sq_next(struct vnd_cursor *c, int *code, char **err)
{
    struct sqlite_cursor *q = (struct sqlite_cursor *)c;
    if (q->done)
        return 0;
    int rc = q->nomem ? SQLITE_NOMEM : sqlite3_step(q->st);
    if (rc == SQLITE_ROW)
        return 1;
    q->done = true;
    if (rc == SQLITE_DONE)
        return 0;
    int e = rc == SQLITE_INTERRUPT ? ETIMEDOUT : rc == SQLITE_NOMEM ? ENOMEM : EIO;
    if (q->why)
        *err = q->why(q->arg, rc, &e);
    else
        *err = vnd_xstrdup(q->nomem ? "out of memory reading a value"
                                    : sqlite3_errmsg(sqlite3_db_handle(q->st)));
    if (code)
        *code = e;
    return -1;
}

static void sq_cell(struct vnd_cursor *c, int i, struct vnd_value *v)
{
    struct sqlite_cursor *q = (struct sqlite_cursor *)c;
    *v = (struct vnd_value){.type = VND_SQL_NULL};
    switch (sqlite3_column_type(q->st, i)) {
    case SQLITE_NULL:
        return;
    case SQLITE_INTEGER:
        v->type = VND_SQL_INTEGER;
        v->i = sqlite3_column_int64(q->st, i);
        return;
    case SQLITE_FLOAT:
        v->type = VND_SQL_REAL;
        v->d = sqlite3_column_double(q->st, i);
        return;
    case SQLITE_BLOB:
        v->s = sqlite3_column_blob(q->st, i);
        v->slen = (size_t)sqlite3_column_bytes(q->st, i);
        v->type = VND_SQL_BLOB;
        break;
    default:
        v->s = (const char *)sqlite3_column_text(q->st, i);
        v->slen = (size_t)sqlite3_column_bytes(q->st, i);     /* after _text: its length */
        v->type = VND_SQL_TEXT;
        break;
    }
    /* text is never NULL but out of memory; an empty BLOB may be */
    if (!v->s && (v->type == VND_SQL_TEXT || v->slen > 0)) {
        q->nomem = true;
        *v = (struct vnd_value){.type = VND_SQL_NULL};
    }
}

static void sq_close(struct vnd_cursor *c)
{
    sqlite3_finalize(((struct sqlite_cursor *)c)->st);
}

static const struct vnd_cursor_class sqlite_cursor_class = {sq_next, sq_cell, sq_close};

struct vnd_cursor *vnd_cursor_sqlite(sqlite3_stmt *st, vnd_cursor_sqlite_why why, void *arg)
{
    struct sqlite_cursor *q = vnd_xcalloc(1, sizeof *q);
    q->up.cls = &sqlite_cursor_class;
    q->st = st;
    q->why = why;
    q->arg = arg;
    int n = sqlite3_column_count(st);
    const char **names = vnd_xcalloc((size_t)n + 1, sizeof *names);
    for (int i = 0; i < n; i++)
        names[i] = sqlite3_column_name(st, i);
    vnd_cursor_set_columns(&q->up, n, names);
    free(names);
    return &q->up;
}
