/* store.c — the trace store's front: picks the provider a location names
 * and hands each operation to it (provider.h); table names. */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/lexer.h"
#include "store/provider.h"
#include "util/util.h"

const struct vnd_store_provider *vnd_store_provider_for(const char *location,
                                                        const char **where)
{
    static const char *const pg_prefixes[] = {"pg:", "postgresql:"};
    for (size_t i = 0; i < sizeof pg_prefixes / sizeof *pg_prefixes; i++) {
        size_t n = strlen(pg_prefixes[i]);
        if (!strncmp(location, pg_prefixes[i], n)) {
            *where = location + n;
            return &vnd_store_postgresql;
        }
    }
    *where = location;
    return &vnd_store_sqlite;
}

int vnd_store_open(const char *location, struct vnd_store **out, char **err)
{
    const char *where;
    const struct vnd_store_provider *p = vnd_store_provider_for(location, &where);
    return p->open(where, out, err);
}

void vnd_store_close(struct vnd_store *st)
{
    if (st)
        st->cls->close(st);
}

sqlite3 *vnd_store_db(struct vnd_store *st)
{
    return st->cls->sqlite ? st->cls->sqlite(st) : NULL;
}

int vnd_store_ensure_table(struct vnd_store *st, const char *table,
                           const struct vnd_parse_rule *rule, bool packed, char **err)
{
    return st->cls->ensure_table(st, table, rule, packed, err);
}

int vnd_store_trace_rows(struct vnd_store *st, const char *trace, const char *table,
                         struct vnd_store_rows *out, char **err)
{
    return st->cls->trace_rows(st, trace, table, out, err);
}

int vnd_store_clear_trace(struct vnd_store *st, const char *trace, const char *table,
                          char **err)
{
    return st->cls->clear_trace(st, trace, table, err);
}

int vnd_store_drop_trace(struct vnd_store *st, const char *trace, const char *table,
                         char **err)
{
    return st->cls->drop_trace(st, trace, table, err);
}

bool vnd_store_only_trace(struct vnd_store *st, const char *trace, const char *table)
{
    return st->cls->only_trace(st, trace, table);
}

int vnd_store_trace_tables(struct vnd_store *st, const char *trace, char ***tables, int *n,
                           char **err)
{
    return st->cls->trace_tables(st, trace, tables, n, err);
}

bool vnd_store_has_trace(struct vnd_store *st, const char *trace, const char *table)
{
    return st->cls->has_trace(st, trace, table);
}

int vnd_store_put_meta(struct vnd_store *st, const struct vnd_meta *meta, char **err)
{
    return st->cls->put_meta(st, meta, err);
}

int vnd_store_get_meta(struct vnd_store *st, const char *trace, const char *table,
                       struct vnd_meta *out)
{
    return st->cls->get_meta(st, trace, table, out);
}

int vnd_store_put_sampling(struct vnd_store *st, const struct vnd_sampling_row *r, char **err)
{
    return st->cls->put_sampling(st, r, err);
}

int vnd_store_begin(struct vnd_store *st, char **err)
{
    return st->cls->begin(st, err);
}

int vnd_store_commit(struct vnd_store *st, char **err)
{
    return st->cls->commit(st, err);
}

int vnd_store_rollback(struct vnd_store *st)
{
    return st->cls->rollback(st);
}

uint64_t vnd_store_reconnects(struct vnd_store *st, double *last_broke)
{
    if (last_broke)
        *last_broke = 0;
    return st->cls->reconnects ? st->cls->reconnects(st, last_broke) : 0;
}

struct vnd_store_writer *vnd_store_writer_new(struct vnd_store *st, const char *table,
                                              char *const *columns, int ncols, bool rowid,
                                              char **err)
{
    return st->cls->writer_new(st, table, columns, ncols, rowid, err);
}

int vnd_store_write_rows(struct vnd_store_writer *w, const struct vnd_value *values, int nrows,
                         char **err)
{
    return w->cls->write_rows(w, values, nrows, err);
}

void vnd_store_writer_free(struct vnd_store_writer *w)
{
    if (w)
        w->cls->writer_free(w);
}

char *vnd_store_canonical_table(struct vnd_store *st, const char *table)
{
    return st->cls->canonical_table(st, table);
}

int64_t vnd_store_max_rowid(struct vnd_store *st, const char *table)
{
    return st->cls->max_rowid(st, table);
}

int vnd_store_make_table(struct vnd_store *st, const char *table,
                         const struct vnd_store_col *cols, int ncols,
                         const struct vnd_store_index *idx, int nidx, char **err)
{
    return st->cls->make_table(st, table, cols, ncols, idx, nidx, err);
}

int vnd_store_delete_rowids(struct vnd_store *st, const char *table,
                            const int64_t (*ranges)[2], size_t n, char **err)
{
    return n ? st->cls->delete_rowids(st, table, ranges, n, err) : 0;
}

int vnd_store_drop_table(struct vnd_store *st, const char *table, char **err)
{
    return st->cls->drop_table(st, table, err);
}

bool vnd_store_trace_table(struct vnd_store *st, const char *table)
{
    return st->cls->trace_table(st, table);
}

/* ---- cursors ---- */

void vnd_cursor_set_columns(struct vnd_cursor *c, int n, const char *const *names)
{
    c->ncols = n;
    c->cols = vnd_xcalloc((size_t)n + 1, sizeof *c->cols);
    for (int i = 0; i < n; i++)
        c->cols[i] = vnd_xstrdup(names[i]);
}

void vnd_cursor_close(struct vnd_cursor *c)
{
    if (!c)
        return;
    c->cls->close(c);
    for (int i = 0; i < c->ncols; i++)
        free(c->cols[i]);
    free(c->cols);
    free(c);
}

/* ---- names ---- */
/* FNV-1a: a short, stable tag of a long id. */
static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

bool vnd_store_table_name(const char *id, char *out, size_t outsz)
{
    size_t o = 0, full = strlen(id);
    if ((id[0] >= '0' && id[0] <= '9') || id[0] == '\0') {
        out[o++] = 't';
        out[o++] = '_';
        full += 2;
    }
    for (const char *p = id; *p && o + 1 < outsz; p++) {
        char c = *p;
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                   || (c >= '0' && c <= '9') || c == '_';
        out[o++] = keep ? c : '_';
    }
    out[o] = '\0';
    if (full <= VND_STORE_NAME_MAX)
        return false;
    /* Too long for an identifier: the first 54 characters stay readable,
     * a hash of the whole id keeps two long ids that share them apart. */
    snprintf(out + VND_STORE_NAME_MAX - 9, 10, "_%08x", fnv1a(id));
    return true;
}

bool vnd_store_valid_identifier(const char *name)
{
    return vnd_store_identifier_problem(name) == NULL;
}

const char *vnd_store_identifier_problem(const char *name)
{
    size_t n = strlen(name);
    if (!vnd_is_sql_identifier(name, n))
        return "use letters, digits and _, not starting with a digit, at most 63 characters";
    return vnd_sql_reserved_table(name, n);
}

