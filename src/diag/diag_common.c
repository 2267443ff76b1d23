/* diag_common.c — what the applications share: SQL text, identifier
 * checks, the row source, time slots, running an app. */
#include "diag/diag.h"
#include "diag/diag_sampling.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields/registry.h"
#include "lang/filter.h"
#include "store/provider.h"
#include "util/util.h"


char *vnd_diag_errf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vnd_strdup_vprintf(fmt, ap);
    va_end(ap);
    return s;
}

/* ---- options ---- */

void vnd_diag_opts_init(struct vnd_diag_opts *o)
{
    memset(o, 0, sizeof *o);
    o->slot = 1.0;
    o->by = VND_BY_ID;
    o->window = 1.0;
    o->origin = NAN;
    o->since = NAN;
    o->until = NAN;
    o->since_slot = NAN;
    o->until_slot = NAN;
    o->stored_in = NAN;
    o->stored_out = NAN;
}

void vnd_diag_unbound(struct vnd_diag_opts *o)
{
    o->since = o->until = NAN;
    o->since_slot = o->until_slot = NAN;
}

/* ---- tables and columns ---- */

/* Standard column → the parse field that fills it. */
static const struct {
    const char *col, *field;
} std_cols[] = {
    {"ts", "timestamp"},     {"id", "pkt.id"},        {"src_ip", "ip.src"},
    {"dst_ip", "ip.dst"},    {"proto", "ip.proto"},   {"src_port", "tcp.src"},
    {"dst_port", "tcp.dst"}, {"seq", "tcp.seq"},      {"ack", "tcp.ack"},
    {"flags", "tcp.flags"},  {"payload_len", "payload.len"},
    {"payload_hash", "payload.hash"}, {"sack", "tcp.sack"},
};

const char *vnd_diag_field_of(const char *col)
{
    for (size_t i = 0; i < sizeof std_cols / sizeof *std_cols; i++)
        if (!strcmp(std_cols[i].col, col))
            return std_cols[i].field;
    return NULL;
}

/* The columns of `table` (NULL-terminated, malloc'd), or NULL when there
 * is no such table. */
static char **table_columns(sqlite3 *db, const char *table)
{
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "SELECT * FROM ");
    vnd_sb_ident(&sb, table);
    vnd_sb_printf(&sb, " LIMIT 0");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sb.s, -1, &st, NULL);
    vnd_sb_free(&sb);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    int n = sqlite3_column_count(st);
    char **cols = calloc((size_t)n + 1, sizeof *cols);
    if (!cols)
        abort();
    for (int i = 0; i < n; i++) {
        cols[i] = strdup(sqlite3_column_name(st, i));
        if (!cols[i])
            abort();
    }
    sqlite3_finalize(st);
    return cols;
}

static void free_columns(char **cols)
{
    if (!cols)
        return;
    for (char **p = cols; *p; p++)
        free(*p);
    free(cols);
}

/* "a, b, c": the database's tables, for an error message. */
static char *table_list(sqlite3 *db)
{
    struct vnd_sb sb = {0};
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type IN ('table','view')"
                           " AND name NOT LIKE 'sqlite_%' AND name <> 'vnd_meta' ORDER BY name",
                           -1, &st, NULL) == SQLITE_OK)
        while (sqlite3_step(st) == SQLITE_ROW)
            vnd_sb_printf(&sb, "%s%s", sb.n ? ", " : "",
                          (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (!sb.n)
        vnd_sb_printf(&sb, "none");
    return vnd_sb_take(&sb);
}

/* vnd_meta's answer to `sql` of ?1 = table, stepped onto its first row;
 * NULL (finalized) when there is none, or no vnd_meta */
static sqlite3_stmt *meta_row(sqlite3 *db, const char *sql, const char *table)
{
    sqlite3_stmt *st = NULL;
    if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        return st;
    sqlite3_finalize(st);
    return NULL;
}

static double stored_until(sqlite3 *db, const char *table)
{
    sqlite3_stmt *st = meta_row(db, "SELECT max(updated) FROM vnd_meta WHERE tbl = ?1"
                                    " COLLATE NOCASE", table);
    double v = st && sqlite3_column_type(st, 0) != SQLITE_NULL ? sqlite3_column_double(st, 0)
                                                               : NAN;
    sqlite3_finalize(st);
    return v;
}

void vnd_diag_capture_drops(sqlite3 *db, const char *table, long long *kernel, long long *queue)
{
    sqlite3_stmt *st = meta_row(db, "SELECT sum(dropped_kernel), sum(dropped_queue) FROM vnd_meta"
                                    " WHERE tbl = ?1 COLLATE NOCASE", table);
    *kernel = st ? sqlite3_column_int64(st, 0) : 0;
    *queue = st ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_finalize(st);
}

double vnd_diag_stored(const struct vnd_diag_ctx *c, int side)
{
    double pinned = side ? c->o->stored_out : c->o->stored_in;
    return isnan(pinned) ? stored_until(c->db, side ? c->o->out : c->o->in) : pinned;
}

void vnd_diag_pin_stored(sqlite3 *db, struct vnd_diag_opts *o)
{
    o->stored_in = o->in ? stored_until(db, o->in) : NAN;
    o->stored_out = o->out ? stored_until(db, o->out) : NAN;
}

bool vnd_diag_has_column(const struct vnd_diag_ctx *c, const char *table,
                         const char *col)
{
    char **cols = table_columns(c->db, table);
    bool found = false;
    for (char **p = cols; p && *p; p++)
        if (!strcasecmp(*p, col))
            found = true;
    free_columns(cols);
    return found;
}

bool vnd_diag_flow_records(sqlite3 *db, const char *table)
{
    sqlite3_stmt *st = meta_row(db, "SELECT 1 FROM vnd_meta WHERE tbl = ?1 AND source LIKE"
                                    " '% ipfix' LIMIT 1", table);
    bool yes = st != NULL;
    sqlite3_finalize(st);
    return yes;
}

int vnd_diag_require(const struct vnd_diag_ctx *c, const char *table,
                     const char *const *need, char **err)
{
    if (!table || !*table) {
        *err = vnd_diag_errf("empty table name");
        return -1;
    }
    char **cols = table_columns(c->db, table);
    if (!cols) {
        char *list = table_list(c->db);
        *err = vnd_diag_errf("no table '%s' in the database (tables: %s)", table, list);
        free(list);
        return -1;
    }
    int rc = 0;
    for (const char *const *n = need; *n && !rc; n++) {
        bool found = false;
        for (char **p = cols; *p; p++)
            if (!strcasecmp(*p, *n))
                found = true;
        if (found)
            continue;
        const char *f = vnd_diag_field_of(*n);
        if (vnd_diag_flow_records(c->db, table))
            *err = vnd_diag_errf("table %s holds flow records (Mode ipfix: a row per flow, not "
                                 "per packet), so it has no column '%s': this application "
                                 "needs packets (Mode mirror or sflow).  Of the applications, "
                                 "throughput, groups and distribution read flow records "
                                 "(e.g. `vnd diag throughput -t %s`); ask them anything else "
                                 "with SQL (docs/capture.md)",
                                 table, *n, table);
        else if (f)
            *err = vnd_diag_errf("table %s has no column '%s' (parse field %s provides it;"
                                 " add `%s as %s` to the Fields: line)",
                                 table, *n, f, f, *n);
        else
            *err = vnd_diag_errf("table %s has no column '%s'", table, *n);
        rc = -1;
    }
    free_columns(cols);
    return rc;
}

/* ---- --where ---- */

struct where_ctx {
    const struct vnd_diag_ctx *c;
    const char *table;
};

/* The column of `table` that holds registry field `f`: the standard
 * column the default parse configuration fills with it. */
static const char *column_of(enum vnd_field f, void *vctx)
{
    struct where_ctx *w = vctx;
    const char *name = vnd_field_info(f)->name;
    /* udp ports share the tcp port columns, as in the paper's example */
    if (!strcmp(name, "udp.src"))
        name = "tcp.src";
    else if (!strcmp(name, "udp.dst"))
        name = "tcp.dst";
    for (size_t i = 0; i < sizeof std_cols / sizeof *std_cols; i++)
        if (!strcmp(std_cols[i].field, name)
            && vnd_diag_has_column(w->c, w->table, std_cols[i].col))
            return std_cols[i].col;
    return NULL;
}

char *vnd_diag_where_sql(const struct vnd_diag_ctx *c, const char *table,
                         const char *where, char **err)
{
    struct vnd_filter *f = vnd_filter_compile_where(where, "--where", 1, 1, err);
    if (!f)
        return NULL;
    struct where_ctx w = {c, table};
    char *sql = vnd_filter_to_sql(f, column_of, &w, c->o->pg, err);
    vnd_filter_free(f);
    return sql;
}

/* ---- row sources, time ---- */

bool vnd_diag_source_plain(const struct vnd_diag_ctx *c, bool with_where)
{
    const struct vnd_diag_opts *o = c->o;
    return !(with_where && o->where && *o->where) && isnan(o->since) && isnan(o->until)
           && isnan(o->since_slot) && isnan(o->until_slot);
}

int vnd_diag_source(const struct vnd_diag_ctx *c, struct vnd_sb *sb,
                    const char *table, bool with_where, char **err)
{
    return vnd_diag_source_if(c, sb, table, with_where, NULL, err);
}

int vnd_diag_source_if(const struct vnd_diag_ctx *c, struct vnd_sb *sb,
                       const char *table, bool with_where, const char *extra, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    bool w = with_where && o->where && *o->where;
    if (!extra && vnd_diag_source_plain(c, with_where)) {
        vnd_sb_ident(sb, table);
        return 0;
    }
    char *cond = NULL;
    if (w && !(cond = vnd_diag_where_sql(c, table, o->where, err)))
        return -1;
    vnd_sb_printf(sb, "(SELECT * FROM ");
    vnd_sb_ident(sb, table);
    const char *and = " WHERE ";
    if (extra) {
        vnd_sb_printf(sb, "%s%s", and, extra);
        and = " AND ";
    }
    /* beside a slot bound a time bound is a slot wider: the slot bound
     * decides, the time bound lets the ts index skip the rest */
    if (!isnan(o->since)) {
        vnd_sb_printf(sb, "%sts >= ", and);
        vnd_sb_real(sb, isnan(o->since_slot) ? o->since : o->since - o->slot);
        and = " AND ";
    }
    if (!isnan(o->until)) {
        vnd_sb_printf(sb, "%sts < ", and);
        vnd_sb_real(sb, isnan(o->until_slot) ? o->until : o->until + o->slot);
        and = " AND ";
    }
    /* as vnd_diag_slot_expr computes a row's slot, to the bit */
    for (int i = 0; i < 2; i++) {
        double b = i ? o->until_slot : o->since_slot;
        if (isnan(b))
            continue;
        struct vnd_sb origin = {0};
        vnd_sb_real(&origin, o->origin);
        vnd_sb_printf(sb, "%s", and);
        vnd_diag_slot_index(c, sb, "ts", origin.s);
        vnd_sb_free(&origin);
        vnd_sb_printf(sb, " %s ", i ? "<" : ">=");
        vnd_sb_real(sb, b);
        and = " AND ";
    }
    if (cond)
        vnd_sb_printf(sb, "%s(%s)", and, cond);
    vnd_sb_printf(sb, ")");
    free(cond);
    return 0;
}

void vnd_diag_origin(const struct vnd_diag_ctx *c, struct vnd_sb *sb,
                     const char *const *tables)
{
    if (!isnan(c->o->origin)) {
        vnd_sb_printf(sb, "SELECT ");
        vnd_sb_real(sb, c->o->origin);
        vnd_sb_printf(sb, " AS t0");
        return;
    }
    vnd_sb_printf(sb, "SELECT min(m) AS t0 FROM (");
    for (int i = 0; tables[i]; i++) {
        /* a flow record's first packet is at its start (ts is its end);
         * records start the second the first of them starts in, so that
         * their slots are the clock's seconds, which the records' rollup
         * holds whatever order they come in (ingest/rollup_records.h) */
        bool records = vnd_diag_flow_records(c->db, tables[i])
                       && vnd_diag_has_column(c, tables[i], "start_ts")
                       && vnd_diag_has_column(c, tables[i], "end_ts");
        vnd_sb_printf(sb, "%sSELECT %smin(", i ? " UNION ALL " : "", records ? "floor(" : "");
        if (records)
            vnd_diag_record_start(sb, "");
        else
            vnd_sb_printf(sb, "ts");
        vnd_sb_printf(sb, ")%s AS m FROM ", records ? ")" : "");
        vnd_sb_ident(sb, tables[i]);
    }
    vnd_sb_printf(sb, ") om");
}

void vnd_diag_record_end(struct vnd_sb *sb, const char *p)
{
    vnd_sb_printf(sb, "coalesce(%send_ts, %sts)", p, p);
}

void vnd_diag_record_start(struct vnd_sb *sb, const char *p)
{
    vnd_sb_printf(sb, "CASE WHEN %sstart_ts <= %send_ts AND %send_ts - %sstart_ts <= ", p, p, p, p);
    vnd_sb_real(sb, VND_DIAG_RECORD_SPAN_MAX);
    vnd_sb_printf(sb, " THEN %sstart_ts ELSE ", p);
    vnd_diag_record_end(sb, p);
    vnd_sb_printf(sb, " END");
}

void vnd_diag_slot_index(const struct vnd_diag_ctx *c, struct vnd_sb *sb,
                         const char *expr, const char *origin_expr)
{
    vnd_sb_printf(sb, "floor((%s - %s) / ", expr, origin_expr);
    vnd_sb_real(sb, c->o->slot);
    vnd_sb_printf(sb, ")");
}

void vnd_diag_slot_expr(const struct vnd_diag_ctx *c, struct vnd_sb *sb,
                        const char *expr, const char *origin_expr)
{
    vnd_diag_slot_index(c, sb, expr, origin_expr);
    vnd_sb_printf(sb, " * ");
    vnd_sb_real(sb, c->o->slot);
}

void vnd_diag_flow_label(struct vnd_sb *sb, const char *p)
{
    vnd_sb_printf(sb,
                  "%ssrc_ip || ':' || CAST(%ssrc_port AS TEXT) || '>' || %sdst_ip"
                  " || ':' || CAST(%sdst_port AS TEXT)",
                  p, p, p, p);
}

/* ---- applications ---- */

const struct vnd_diag_app *vnd_diag_find(const char *name)
{
    for (int i = 0; vnd_diag_apps[i]; i++)
        if (!strcmp(vnd_diag_apps[i]->name, name))
            return vnd_diag_apps[i];
    return NULL;
}

char *vnd_diag_sql(const struct vnd_diag_app *app, sqlite3 *db,
                   const struct vnd_diag_opts *o, char **err)
{
    *err = NULL;
    if ((app->need & VND_NEED_TABLE) && !o->table) {
        *err = vnd_diag_errf("%s needs -t TABLE", app->name);
        return NULL;
    }
    if ((app->need & VND_NEED_INOUT) && (!o->in || !o->out)) {
        *err = vnd_diag_errf("%s needs --in TABLE and --out TABLE", app->name);
        return NULL;
    }
    if ((app->need & VND_NEED_PATH) && o->npath < 2) {
        *err = vnd_diag_errf("%s needs --path with at least two tables (A,B[,C...])",
                             app->name);
        return NULL;
    }
    if ((app->need & VND_NEED_FIELD) && !o->field) {
        *err = vnd_diag_errf("%s needs --field COLUMN", app->name);
        return NULL;
    }
    if ((app->need & VND_NEED_FIELDS) && o->nfields < 1) {
        *err = vnd_diag_errf("%s needs --fields C1,C2,...", app->name);
        return NULL;
    }
    if ((app->need & VND_NEED_WHERE) && !o->where) {
        *err = vnd_diag_errf("%s needs --where 'EXPR'", app->name);
        return NULL;
    }
    if (!(o->slot > 0) || !isfinite(o->slot)) {
        *err = vnd_diag_errf("--slot must be a positive number of seconds");
        return NULL;
    }
    struct vnd_diag_ctx c = {db, o};
    /* throughput scales a sampled table's rows, which a rollup's plain
     * sums cannot (diag_sampling.h) */
    char *rsql = NULL, *why = NULL;
    int r = vnd_diag_sampling_no_rollup(&c, app, &why) ? 0
                                                      : vnd_diag_rollup_sql(&c, app, &rsql, &why, err);
    if (r < 0)
        return NULL;
    struct vnd_sb sb = {0};
    if (r > 0) {
        vnd_sb_printf(&sb, "%s", rsql);
        free(rsql);
    } else {
        if (why)
            vnd_sb_printf(&sb, "%s", why);
        free(why);
        if (app->build(&c, &sb, err)) {
            vnd_sb_free(&sb);
            return NULL;
        }
    }
    /* sampled input, refused by the apps that pair packets: after the
     * checks of tables and columns, which say what cannot run at all */
    if (vnd_diag_sampling_check(&c, app, err)) {
        vnd_sb_free(&sb);
        return NULL;
    }
    return vnd_sb_take(&sb);
}

int vnd_diag_run_step(const struct vnd_diag_app *app, sqlite3 *db,
                      const struct vnd_diag_opts *o, struct vnd_diag_rows *rows, char **err)
{
    if (!app->run || o->pg)
        return VND_DIAG_USE_SQL;
    /* the options are checked by building the SQL, which the step matches */
    char *sql = vnd_diag_sql(app, db, o, err);
    if (!sql)
        return -1;
    /* the rollup's SQL is the quick way: no step */
    bool rollup = !strncmp(sql, "/* answered from the rollup", 27);
    free(sql);
    if (rollup)
        return VND_DIAG_USE_SQL;
    struct vnd_diag_ctx c = {db, o};
    int rc = app->run(&c, rows, err);
    if (rc)
        vnd_rows_free(rows);
    return rc;
}

int vnd_diag_run(const struct vnd_diag_app *app, sqlite3 *db,
                 const struct vnd_diag_opts *o, struct vnd_out *out, char **err)
{
    struct vnd_diag_rows rows = {0};
    int rc = vnd_diag_run_step(app, db, o, &rows, err);
    if (rc == 0) {
        vnd_rows_write(&rows, out, -INFINITY, INFINITY);
        vnd_rows_free(&rows);
        return 0;
    }
    if (rc < 0)
        return -1;
    char *sql = vnd_diag_sql(app, db, o, err);
    if (!sql)
        return -1;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        *err = vnd_diag_errf("%s: SQL does not prepare: %s", app->name, sqlite3_errmsg(db));
        free(sql);
        return -1;
    }
    free(sql);
    struct vnd_cursor *c = vnd_cursor_sqlite(st, NULL, NULL);
    int code = 0;
    char *why = NULL;
    int ret = 0;
    if (vnd_out_cursor(out, c, &code, &why)) {
        *err = vnd_diag_errf("%s: %s", app->name,
                             code == ETIMEDOUT ? "interrupted (time limit?)" : why);
        free(why);
        ret = -1;
    }
    vnd_cursor_close(c);
    return ret;
}

/* ---- shared SQL pieces ---- */

void vnd_diag_stats(struct vnd_sb *sb, const char *from, const char *g,
                    const char *order, bool late)
{
    bool grouped = g && *g;
    /* with late rows (v NULL): counted apart, ranked after the others
     * (NULLS LAST), so the others' ranks and count stay theirs */
    const char *n = late ? "count(v)" : "count(*)";
    vnd_sb_printf(sb,
                  "SELECT %s%s%s AS packets, avg(v) * 1000 AS mean_ms,"
                  " min(v) * 1000 AS min_ms,\n"
                  "       min(CASE WHEN rn >= 0.5 * cnt THEN v END) * 1000 AS p50_ms,\n"
                  "       min(CASE WHEN rn >= 0.99 * cnt THEN v END) * 1000 AS p99_ms,"
                  " max(v) * 1000 AS max_ms%s\n"
                  "FROM (SELECT %s%sv, row_number() OVER (%s%s ORDER BY v%s) AS rn,\n"
                  "             %s OVER (%s%s) AS cnt FROM %s) st\n",
                  grouped ? g : "", grouped ? ", " : "", n,
                  late ? ",\n       count(*) - count(v) AS late" : "",
                  grouped ? g : "", grouped ? ", " : "",
                  grouped ? "PARTITION BY " : "", grouped ? g : "", late ? " NULLS LAST" : "",
                  n, grouped ? "PARTITION BY " : "", grouped ? g : "", from);
    if (grouped)
        vnd_sb_printf(sb, "GROUP BY %s ORDER BY %s", g, order ? order : g);
}

void vnd_diag_late_free(struct vnd_sb *sb)
{
    /* over the whole tables, materialized: PostgreSQL hashes the anti-join
     * (asked per lost packet, its planner guessed a few and looped) */
    for (int k = 0; k < 2; k++)
        vnd_sb_printf(sb, ",\nvnd_free_%c AS MATERIALIZED (SELECT x.ts, x.k, x.src_ip, x.src_port,"
                          " x.dst_ip, x.dst_port FROM %s x\n    WHERE NOT EXISTS (SELECT 1 FROM"
                          " vnd_pairs y WHERE y.i_k = x.k AND y.%c_ts = x.ts))",
                      k ? 'o' : 'i', k ? "vnd_po" : "vnd_pi", k ? 'o' : 'i');
}

void vnd_diag_late(const struct vnd_diag_ctx *c, struct vnd_sb *sb, const char *cand)
{
    vnd_sb_printf(sb, "vnd_late AS (");
    for (int k = 0; k < 2; k++) {
        bool back = k == 1;     /* entered from --out: left through --in */
        vnd_sb_printf(sb, "%sSELECT e.dirn, e.ts, e.k, min(x.ts) - e.ts AS after\n"
                          "    FROM %s e JOIN vnd_free_%c x ON x.k = e.k AND x.ts > e.ts + ",
                      k ? "\n  UNION ALL " : "", cand, back ? 'i' : 'o');
        vnd_sb_real(sb, c->o->window);
        vnd_sb_printf(sb, "\n    WHERE e.dirn = %d GROUP BY e.dirn, e.ts, e.k", back ? -1 : 1);
    }
    vnd_sb_printf(sb, ")");
}

void vnd_diag_seqdiff(struct vnd_sb *sb, const char *x)
{
    vnd_sb_printf(sb, "((((%s) %% 4294967296 + 4294967296 + 2147483648) %% 4294967296)"
                      " - 2147483648)", x);
}

const char *vnd_diag_is(const struct vnd_diag_ctx *c)
{
    return c->o->pg ? "IS NOT DISTINCT FROM" : "IS";
}

void vnd_diag_same(const struct vnd_diag_ctx *c, struct vnd_sb *sb, const char *a, const char *b)
{
    if (!c->o->pg) {
        vnd_sb_printf(sb, "%s IS %s", a, b);
        return;
    }
    /* IS NOT DISTINCT FROM alone is no hash key: PostgreSQL would compare
     * every pair of rows.  Equal values have equal text, so the text (''
     * for NULL) is one, and IS NOT DISTINCT FROM keeps the result exact. */
    vnd_sb_printf(sb, "coalesce(CAST(%s AS TEXT), '') = coalesce(CAST(%s AS TEXT), '')"
                      " AND %s IS NOT DISTINCT FROM %s", a, b, a, b);
}

int vnd_diag_hop_prologue(const struct vnd_diag_ctx *c, struct vnd_sb *sb, bool back,
                          char **err)
{
    const char *tables[] = {c->o->in, c->o->out, NULL};
    /* materialized: a planner that misjudges how few pairs there are
     * (PostgreSQL guesses one) must not read both tables again per pair */
    vnd_sb_printf(sb, "WITH vnd_origin AS MATERIALIZED (");
    vnd_diag_origin(c, sb, tables);
    vnd_sb_printf(sb, ")");
    return vnd_diag_pairs(c, sb, back, err);
}

static const char *const tuple_col[4] = {"src_ip", "src_port", "dst_ip", "dst_port"};

/* " AND " and the null-safe equality of the 4-tuples `a`_* and `b`_* */
static void same_tuple(const struct vnd_diag_ctx *c, struct vnd_sb *sb, const char *a,
                       const char *b)
{
    char x[16], y[16];
    for (int i = 0; i < 4; i++) {
        snprintf(x, sizeof x, "%s_%s", a, tuple_col[i]);
        snprintf(y, sizeof y, "%s_%s", b, tuple_col[i]);
        vnd_sb_printf(sb, " AND ");
        vnd_diag_same(c, sb, x, y);
    }
}

int vnd_diag_pairs(const struct vnd_diag_ctx *c, struct vnd_sb *sb, bool back, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    bool payload = o->by == VND_BY_PAYLOAD;
    const char *need_id[] = {"ts", "id", "src_ip", "dst_ip", "src_port", "dst_port",
                             "proto", NULL};
    const char *need_pl[] = {"ts", "payload_hash", "payload_len", "src_ip", "dst_ip",
                             "src_port", "dst_port", "proto", NULL};
    if (vnd_diag_require(c, o->in, payload ? need_pl : need_id, err)
        || vnd_diag_require(c, o->out, payload ? need_pl : need_id, err))
        return -1;
    const char *tab[2] = {o->in, o->out};
    const char *nm[2] = {"vnd_pi", "vnd_po"};
    for (int k = 0; k < 2; k++) {
        vnd_sb_printf(sb, ",\n%s AS (SELECT ts, %s AS k, src_ip, src_port, dst_ip, dst_port,"
                          " proto FROM ", nm[k], payload ? "payload_hash" : "id");
        if (vnd_diag_source(c, sb, tab[k], true, err))
            return -1;
        /* empty payloads all hash alike: they cannot be told apart */
        vnd_sb_printf(sb, " s WHERE %s)", payload ? "payload_len > 0" : "id IS NOT NULL");
    }
    vnd_sb_printf(sb, ",\nvnd_match AS (SELECT vnd_pi.ts AS i_ts, vnd_pi.k AS i_k, vnd_pi.src_ip AS i_src_ip,"
                      " vnd_pi.src_port AS i_src_port,\n"
                      "       vnd_pi.dst_ip AS i_dst_ip, vnd_pi.dst_port AS i_dst_port,"
                      " vnd_pi.proto AS i_proto, vnd_po.ts AS o_ts,\n"
                      "       vnd_po.src_ip AS o_src_ip, vnd_po.src_port AS o_src_port,"
                      " vnd_po.dst_ip AS o_dst_ip, vnd_po.dst_port AS o_dst_port,\n"
                      "       vnd_po.ts - vnd_pi.ts AS d, row_number() OVER vnd_wi AS vnd_r");
    /* f_ (for vnd_back): the out-row nearest to this in-row; b_: the
     * in-row nearest to this out-row.  Each window's functions together:
     * SQLite sorts again where the window changes */
    for (int i = 0; back && i < 4; i++)
        vnd_sb_printf(sb, ",\n       first_value(vnd_po.%s) OVER vnd_wi AS f_%s", tuple_col[i],
                      tuple_col[i]);
    vnd_sb_printf(sb, ",\n       row_number() OVER vnd_wo AS vnd_rb");
    for (int i = 0; i < 4; i++)
        vnd_sb_printf(sb, ",\n       first_value(vnd_pi.%s) OVER vnd_wo AS b_%s", tuple_col[i],
                      tuple_col[i]);
    vnd_sb_printf(sb, "\n  FROM vnd_pi JOIN vnd_po ON vnd_po.k = vnd_pi.k AND vnd_po.ts BETWEEN vnd_pi.ts - ");
    vnd_sb_real(sb, o->window);
    vnd_sb_printf(sb, " AND vnd_pi.ts + ");
    vnd_sb_real(sb, o->window);
    /* the nearest each way; ties by time, then by the tuples, so the
     * choice does not depend on how the rows are stored */
    vnd_sb_printf(sb, "\n  WINDOW vnd_wi AS (PARTITION BY vnd_pi.k, vnd_pi.ts"
                      " ORDER BY abs(vnd_po.ts - vnd_pi.ts), vnd_po.ts,\n"
                      "         vnd_po.src_ip, vnd_po.src_port, vnd_po.dst_ip, vnd_po.dst_port,"
                      " vnd_pi.src_ip, vnd_pi.src_port, vnd_pi.dst_ip, vnd_pi.dst_port),\n"
                      "    vnd_wo AS (PARTITION BY vnd_po.k, vnd_po.ts"
                      " ORDER BY abs(vnd_po.ts - vnd_pi.ts), vnd_pi.ts,\n"
                      "         vnd_pi.src_ip, vnd_pi.src_port, vnd_pi.dst_ip, vnd_pi.dst_port,"
                      " vnd_po.src_ip, vnd_po.src_port, vnd_po.dst_ip, vnd_po.dst_port))");
    /* an in-row's nearest out-row, unless that is nearer still to an
     * in-row of another flow, whose copy it is: a packet the hop dropped
     * cannot take the place of another flow's packet that left with the
     * same key (a UDP flow's 16-bit IP ID meets another's often enough).
     * Rows of one flow with one key (pure ACKs whose IP ID is 0) are not
     * told apart, as before. */
    vnd_sb_printf(sb, ",\nvnd_pairs AS (SELECT * FROM vnd_match WHERE vnd_r = 1");
    same_tuple(c, sb, "b", "i");
    vnd_sb_printf(sb, ")");
    if (back) {
        vnd_sb_printf(sb, ",\nvnd_back AS (SELECT i_k, o_ts FROM vnd_match WHERE vnd_rb = 1");
        same_tuple(c, sb, "f", "o");
        vnd_sb_printf(sb, ")");
    }
    return 0;
}
