/* diag_scan_step.c — the thin C step of distribution: one plain SELECT of
 * the column the SQL reads, aggregated in a hash table instead of
 * SQLite's sorter, then the few groups sorted as the SQL's ORDER BY sorts
 * them.  (throughput and groups had steps here too: the table's rollup
 * answers them now, diag_rollup.c, and their SQL the rest.)
 *
 * Values are compared as SQLite compares them for the types these tables
 * hold (INTEGER, TEXT with the BINARY collation, NULL); a REAL or BLOB
 * value where the step expects a key (SQLite would compare 1 and 1.0 as
 * one value) hands the work back to the SQL. */
#include "diag/step.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

/* ---- texts interned to small integers ---- */
struct texts {
    char **s;
    size_t *len;
    uint32_t n, cap;
    uint32_t *tab;                  /* index + 1 */
    size_t tabcap;
};

static uint64_t text_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

#define NO_TEXT UINT32_MAX

/* The number of text s[0..n-1], new when not seen; NO_TEXT for text with a
 * NUL inside, which the step leaves to the SQL. */
static uint32_t text_id(struct texts *t, const char *s, size_t n)
{
    if (2 * ((size_t)t->n + 1) > t->tabcap) {
        size_t cap = t->tabcap ? 2 * t->tabcap : 256;
        uint32_t *tab = calloc(cap, sizeof *tab);
        if (!tab)
            abort();
        for (uint32_t i = 0; i < t->n; i++) {
            size_t j = text_hash(t->s[i], t->len[i]) & (cap - 1);
            while (tab[j])
                j = (j + 1) & (cap - 1);
            tab[j] = i + 1;
        }
        free(t->tab);
        t->tab = tab;
        t->tabcap = cap;
    }
    size_t j = text_hash(s, n) & (t->tabcap - 1);
    while (t->tab[j]) {
        uint32_t i = t->tab[j] - 1;
        if (t->len[i] == n && !memcmp(t->s[i], s, n))
            return i;
        j = (j + 1) & (t->tabcap - 1);
    }
    /* Text with a NUL inside does not compare as C strings do: checked
     * only for new texts (one found above has the same bytes). */
    if (memchr(s, 0, n))
        return NO_TEXT;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->s = xrealloc(t->s, t->cap * sizeof *t->s);
        t->len = xrealloc(t->len, t->cap * sizeof *t->len);
    }
    char *d = malloc(n + 1);
    if (!d)
        abort();
    memcpy(d, s, n);
    d[n] = 0;
    t->s[t->n] = d;
    t->len[t->n] = n;
    t->tab[j] = t->n + 1;
    return t->n++;
}

static void texts_free(struct texts *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->len);
    free(t->tab);
    memset(t, 0, sizeof *t);
}

/* ---- groups keyed by W int64 ---- */
struct tmap {
    int w;
    int64_t *k;                     /* w per group */
    int64_t *packets;
    uint32_t n, cap;
    uint32_t *tab;
    size_t tabcap;
    uint32_t last, prev;            /* the groups of the last two lookups */
};

static uint64_t keys_hash(const int64_t *k, int w)
{
    uint64_t h = 0x84222325cbf29ce4ULL;
    for (int i = 0; i < w; i++) {
        h ^= (uint64_t)k[i] + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        h *= 0xff51afd7ed558ccdULL;
    }
    return h ^ (h >> 31);
}

static inline bool keys_eq(const int64_t *a, const int64_t *b, int w)
{
    for (int i = 0; i < w; i++)     /* a loop: memcmp's call costs more for 2-8 words */
        if (a[i] != b[i])
            return false;
    return true;
}

static uint32_t tmap_get(struct tmap *m, const int64_t *key)
{
    size_t ks = (size_t)m->w * sizeof *key;
    /* rows come in runs, and a connection's two directions alternate */
    if (m->n && keys_eq(&m->k[(size_t)m->last * (size_t)m->w], key, m->w))
        return m->last;
    if (m->n && keys_eq(&m->k[(size_t)m->prev * (size_t)m->w], key, m->w)) {
        uint32_t g = m->prev;
        m->prev = m->last;
        return m->last = g;
    }
    m->prev = m->last;
    if (2 * ((size_t)m->n + 1) > m->tabcap) {
        size_t cap = m->tabcap ? 2 * m->tabcap : 256;
        uint32_t *tab = calloc(cap, sizeof *tab);
        if (!tab)
            abort();
        for (uint32_t g = 0; g < m->n; g++) {
            size_t j = keys_hash(&m->k[(size_t)g * (size_t)m->w], m->w) & (cap - 1);
            while (tab[j])
                j = (j + 1) & (cap - 1);
            tab[j] = g + 1;
        }
        free(m->tab);
        m->tab = tab;
        m->tabcap = cap;
    }
    size_t j = keys_hash(key, m->w) & (m->tabcap - 1);
    while (m->tab[j]) {
        uint32_t g = m->tab[j] - 1;
        if (keys_eq(&m->k[(size_t)g * (size_t)m->w], key, m->w))
            return m->last = g;
        j = (j + 1) & (m->tabcap - 1);
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 256;
        m->k = xrealloc(m->k, m->cap * ks);
        m->packets = xrealloc(m->packets, m->cap * sizeof *m->packets);
    }
    memcpy(&m->k[(size_t)m->n * (size_t)m->w], key, ks);
    m->packets[m->n] = 0;
    m->tab[j] = m->n + 1;
    return m->last = m->n++;
}

static void tmap_free(struct tmap *m)
{
    free(m->k);
    free(m->packets);
    free(m->tab);
    memset(m, 0, sizeof *m);
}

/* A value as a key: (class, value); classes in SQLite's order. */
enum { V_NULL = 0, V_INT = 1, V_TEXT = 2 };

/* Returns -1 for a type the step leaves to the SQL.  `last` remembers the
 * column's previous text: values repeat in runs, and hashing is the cost. */
static int value_key(sqlite3_stmt *st, int col, struct texts *tx, int64_t *last, int64_t *cls,
                     int64_t *v)
{
    sqlite3_value *x = sqlite3_column_value(st, col);
    switch (sqlite3_value_type(x)) {
    case SQLITE_NULL: *cls = V_NULL; *v = 0; return 0;
    case SQLITE_INTEGER: *cls = V_INT; *v = sqlite3_value_int64(x); return 0;
    case SQLITE_TEXT: {
        const char *s = (const char *)sqlite3_value_text(x);
        size_t n = (size_t)sqlite3_value_bytes(x);
        *cls = V_TEXT;
        if (*last >= 0 && tx->len[*last] == n && !memcmp(tx->s[*last], s, n)) {
            *v = *last;
            return 0;
        }
        uint32_t id = text_id(tx, s, n);
        if (id == NO_TEXT)
            return -1;
        *v = *last = id;
        return 0;
    }
    default: return -1;
    }
}

static int cmp_value(const struct texts *tx, int64_t ca, int64_t va, int64_t cb, int64_t vb)
{
    if (ca != cb)
        return ca < cb ? -1 : 1;
    if (ca == V_INT)
        return va < vb ? -1 : va > vb;
    if (ca == V_TEXT)
        return va == vb ? 0 : strcmp(tx->s[va], tx->s[vb]);
    return 0;
}

static void put_value(struct vnd_diag_rows *rows, const struct texts *tx, int64_t c, int64_t v)
{
    if (c == V_INT)
        vnd_rows_int(rows, v);
    else if (c == V_TEXT)
        vnd_rows_text(rows, tx->s[v]);
    else
        vnd_rows_null(rows);
}

/* ---- the scan ----
 *
 * On a big table the rowid range is cut in parts, one per thread, each
 * aggregated on its own and merged at the end (sums of integers: the
 * result does not depend on the cut).  Rows appended while the parts run
 * lie beyond the range and are left out by all of them alike. */

#define SCAN_PART_ROWS 65536    /* a thread and a connection pay from here up */

struct cut {
    int n;                          /* parts */
    int64_t lo;                     /* part i: lo + i * step ... (at most lo + span) */
    uint64_t step, span;
};

struct scan {
    const struct vnd_diag_ctx *c;
    const char *app;
    char *sql;                      /* with ?1, ?2 (rowid range) when cut.n > 1 */
    struct cut cut;
    int (*row)(sqlite3_stmt *st, void *ctx);
    void **ctx;                     /* per part */
    char *err[VND_DIAG_THREADS_MAX];
};

/* How many parts: one per thread, each of at least SCAN_PART_ROWS rows
 * (any size when VND_THREADS asks for threads: the tests' small tables). */
static void scan_cut(const struct vnd_diag_ctx *c, struct cut *cut)
{
    cut->n = 1;
    int n = vnd_diag_threads();
    if (n < 2)
        return;
    struct vnd_sb sb = {0};
    /* two sub-selects: SQLite looks up a lone min() or max() of the rowid
     * in the b-tree, but scans the table for both in one SELECT */
    vnd_sb_printf(&sb, "SELECT (SELECT min(_rowid_) FROM ");
    vnd_sb_ident(&sb, c->o->table);
    vnd_sb_printf(&sb, "), (SELECT max(_rowid_) FROM ");
    vnd_sb_ident(&sb, c->o->table);
    vnd_sb_printf(&sb, ")");
    sqlite3_stmt *st = NULL;
    int have = sqlite3_prepare_v2(c->db, sb.s, -1, &st, NULL) == SQLITE_OK
               && sqlite3_step(st) == SQLITE_ROW
               && sqlite3_column_type(st, 0) == SQLITE_INTEGER;
    int64_t a = have ? sqlite3_column_int64(st, 0) : 0, b = have ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_finalize(st);
    vnd_sb_free(&sb);
    if (!have)                      /* a view, or empty: one plain scan */
        return;
    uint64_t span = (uint64_t)b - (uint64_t)a;   /* rows - 1 at most */
    uint64_t min_rows = getenv("VND_THREADS") ? 1 : SCAN_PART_ROWS;
    if (span > UINT64_MAX - 2 * VND_DIAG_THREADS_MAX)
        return;
    while (n > 1 && (span + 1) / (uint64_t)n < min_rows)
        n--;
    *cut = (struct cut){n, a, span / (uint64_t)n + 1, span};
}

static int scan_part(sqlite3 *db, int i, void *vs)
{
    struct scan *S = vs;
    struct vnd_diag_ctx c = {db, S->c->o};
    sqlite3_stmt *st = NULL;
    if (vnd_step_prepare(&c, S->app, S->sql, &st, &S->err[i]))
        return -1;
    const struct cut *cut = &S->cut;
    if (cut->n > 1) {
        uint64_t off = (uint64_t)i * cut->step, end = off + cut->step - 1;
        if (end > cut->span)
            end = cut->span;        /* lo + end must not wrap past the top */
        sqlite3_bind_int64(st, 1, (int64_t)((uint64_t)cut->lo + off));
        sqlite3_bind_int64(st, 2, (int64_t)((uint64_t)cut->lo + end));
    }
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((ret = S->row(st, S->ctx[i])))
            break;
    if (!ret && rc != SQLITE_DONE) {
        S->err[i] = vnd_step_error(&c, S->app, rc);
        ret = -1;
    }
    sqlite3_finalize(st);
    return ret;
}

/* Reads `cols` of the app's rows into the parts' contexts ctx[0..cut->n-1]
 * (the cut from scan_cut).  row() returns 0, or VND_DIAG_USE_SQL to stop. */
static int scan(const struct vnd_diag_ctx *c, const char *app, const char *cols,
                const struct cut *cut, int (*row)(sqlite3_stmt *st, void *ctx), void **ctx,
                char **err)
{
    int nparts = cut->n;
    struct scan S = {.c = c, .app = app, .cut = *cut, .row = row, .ctx = ctx};
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "SELECT %s FROM ", cols);
    if (vnd_diag_source_if(c, &sb, c->o->table, true,
                           nparts > 1 ? "_rowid_ BETWEEN ?1 AND ?2" : NULL, err)) {
        vnd_sb_free(&sb);
        return -1;
    }
    vnd_sb_printf(&sb, " s");
    S.sql = sb.s;
    int ret = vnd_diag_parallel(c->db, nparts, nparts, scan_part, &S);
    for (int i = 0; i < nparts; i++) {
        if (ret == -1 && S.err[i] && !*err) {
            *err = S.err[i];
            S.err[i] = NULL;
        }
        free(S.err[i]);
    }
    vnd_sb_free(&sb);
    return ret;
}

static uint32_t *order(uint32_t n, int (*cmp)(const void *, const void *))
{
    uint32_t *ix = xrealloc(NULL, ((size_t)n + 1) * sizeof *ix);
    for (uint32_t i = 0; i < n; i++)
        ix[i] = i;
    if (n)
        qsort(ix, n, sizeof *ix, cmp);
    return ix;
}

/* ---- distribution: tuples of values ---- */

struct gp {
    int nf;
    int64_t last[VND_DIAG_FIELDS_MAX];      /* per column: its last text */
    struct texts tx;
    struct tmap m;
    int64_t total;
};

static int gp_row(sqlite3_stmt *st, void *ctx)
{
    struct gp *G = ctx;
    int64_t key[2 * VND_DIAG_FIELDS_MAX];
    for (int i = 0; i < G->nf; i++)
        if (value_key(st, i, &G->tx, &G->last[i], &key[2 * i], &key[2 * i + 1]))
            return VND_DIAG_USE_SQL;
    uint32_t g = tmap_get(&G->m, key);
    G->m.packets[g]++;
    G->total++;
    return 0;
}

static _Thread_local const struct gp *sort_gp;

/* count DESC, then the values */
static int cmp_gp(const void *x, const void *y)
{
    uint32_t ga = *(const uint32_t *)x, gb = *(const uint32_t *)y;
    const struct gp *G = sort_gp;
    if (G->m.packets[ga] != G->m.packets[gb])
        return G->m.packets[ga] > G->m.packets[gb] ? -1 : 1;
    const int64_t *a = &G->m.k[(size_t)ga * (size_t)G->m.w];
    const int64_t *b = &G->m.k[(size_t)gb * (size_t)G->m.w];
    for (int i = 0; i < G->nf; i++) {
        int c = cmp_value(&G->tx, a[2 * i], a[2 * i + 1], b[2 * i], b[2 * i + 1]);
        if (c)
            return c;
    }
    return 0;
}

static void gp_free(struct gp *G);

/* Adds part `from`'s groups to `into`'s (texts looked up by their bytes). */
static void gp_merge(struct gp *into, const struct gp *from)
{
    int64_t key[2 * VND_DIAG_FIELDS_MAX];
    for (uint32_t g = 0; g < from->m.n; g++) {
        memcpy(key, &from->m.k[(size_t)g * (size_t)from->m.w], (size_t)from->m.w * sizeof *key);
        for (int i = 0; i < from->nf; i++)
            if (key[2 * i] == V_TEXT)
                key[2 * i + 1] = text_id(&into->tx, from->tx.s[key[2 * i + 1]],
                                         from->tx.len[key[2 * i + 1]]);
        uint32_t h = tmap_get(&into->m, key);
        into->m.packets[h] += from->m.packets[g];
    }
    into->total += from->total;
}

static int gp_run(const struct vnd_diag_ctx *c, const char *app, const char *const *fields,
                  int nf, struct gp *G, uint32_t **ix, char **err)
{
    struct cut cut;
    scan_cut(c, &cut);
    struct gp parts[VND_DIAG_THREADS_MAX];
    void *ctx[VND_DIAG_THREADS_MAX];
    for (int k = 0; k < cut.n; k++) {
        struct gp *P = &parts[k];
        memset(P, 0, sizeof *P);
        P->nf = nf;
        P->m.w = 2 * nf;
        for (int i = 0; i < nf; i++)
            P->last[i] = -1;
        ctx[k] = P;
    }
    struct vnd_sb cols = {0};
    for (int i = 0; i < nf; i++) {
        if (i)
            vnd_sb_printf(&cols, ", ");
        vnd_sb_ident(&cols, fields[i]);
    }
    int rc = scan(c, app, cols.s, &cut, gp_row, ctx, err);
    vnd_sb_free(&cols);
    for (int k = 1; k < cut.n; k++) {
        if (!rc)
            gp_merge(&parts[0], &parts[k]);
        gp_free(&parts[k]);
    }
    *G = parts[0];
    if (!rc) {
        sort_gp = G;
        *ix = order(G->m.n, cmp_gp);
        sort_gp = NULL;
    }
    return rc;
}

static void gp_free(struct gp *G)
{
    texts_free(&G->tx);
    tmap_free(&G->m);
}

int vnd_diag_distribution_step(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows,
                               char **err)
{
    struct gp G;
    uint32_t *ix = NULL;
    const char *fields[] = {c->o->field};
    int rc = gp_run(c, "distribution", fields, 1, &G, &ix, err);
    if (!rc) {
        const char *cols[] = {c->o->field, "count", "fraction"};
        vnd_rows_columns(rows, 3, cols);
        for (uint32_t k = 0; k < G.m.n; k++) {
            uint32_t g = ix[k];
            put_value(rows, &G.tx, G.m.k[2 * (size_t)g], G.m.k[2 * (size_t)g + 1]);
            vnd_rows_int(rows, G.m.packets[g]);
            vnd_rows_real(rows, (double)G.m.packets[g] * 1.0 / (double)G.total);
        }
    }
    free(ix);
    gp_free(&G);
    return rc;
}
