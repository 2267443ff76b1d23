/* fuzz_tenant_sql.c — tenant SQL against a two-tenant store: no answer
 * may depend on the other tenant's rows.
 *
 * The hard case: tenants A and B share ONE SQLite file, so only the guard
 * (src/store/guard.c, opened for A with the tables a1, a2) stands between
 * them.  A owns a1, a2; B owns n0 (7331 rows), b1, a table "bsecret" and a
 * view nv; vnd_meta and vnd_traces hold rows of both (the table server's
 * layout), and every table has the columns src_ip, dst_port, trace, name,
 * s, so USING and NATURAL JOIN match across tenants.
 *
 * What is asserted — non-interference, checked on twins: the same store is
 * built twice, X and Y, with identical A data and schema names but
 * different B data (X: 7331 rows in n0, text 'SECRETB…', ports
 * 987654321+k, a table "bsecret"; Y: 6173 rows, 'SECRETY…', 876543210+k,
 * "bother" instead, other overlaps with A's values, another column
 * default).  Each statement is prepared through vnd_guard_prepare on both
 * and stepped to its end (or the time limit); abort() unless both are refused, or
 * both are accepted and give the same rows (every column's type and value)
 * and the same end code.  Any answer that differs read B: a row of B, a
 * count or sum over B's rows, whether a value of A matches one of B's, B's
 * schema or B's vnd_meta/vnd_traces rows.  The report before the abort
 * names the B markers seen in the answer.  Not compared: runs that hit the
 * time limit, statements using random(), the clock or sqlite_offset()
 * (nondeterministic), refusal messages, and by default a statement refused
 * on one twin and accepted on the other: that tells only which *names*
 * exist (B's extra table differs), which a file shared by tenants cannot
 * hide (docs/isolation.md; crashers/tenant_sql/name-check-* and
 * exists-drops-* are such probes).  FUZZ_TENANT_SQL_NAMES=1 asserts that
 * too, for a guard that claims to hide names.
 *
 * Input: a first byte 0xFF means the rest is SQL text (the seed corpus
 * holds the known escapes of issue 9 this way); 0xFE and 0xFD put EXPLAIN
 * or EXPLAIN QUERY PLAN before what the rest generates; otherwise the bytes
 * choose the productions of a small SELECT grammar: joins with USING, NATURAL, ON
 * and subqueries, compound selects, CTEs (recursive candidate lists too),
 * window functions, aggregates, json_each/json_tree, IN/EXISTS/scalar
 * subqueries, over table names drawn from A's, B's, vnd_meta, vnd_traces,
 * sqlite_schema, dbstat, pragma_table_info('n0'), main.n0, temp.x.
 *
 * The twin files live in /dev/shm (or /tmp) and are removed at exit; a
 * crashed run's files are removed by the next run.  Environment:
 * FUZZ_TENANT_SQL_PRINT=1 prints each statement and both twins' outcome,
 * FUZZ_TENANT_SQL_NAMES=1 (above), FUZZ_TENANT_SQL_KEEP=1 keeps the files. */
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/guard.h"
#include "store/store.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROWS 2000
#define MAX_OUT (4u << 20)
#define MAX_SQL 65536
#define TIMEOUT_S 0.1

/* ---- growing strings ---- */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        b->p = vnd_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static void sb_int(struct sbuf *b, long long v)
{
    char t[32];
    snprintf(t, sizeof t, "%lld", v);
    sb_add(b, t);
}

/* ---- the twin stores ---- */

struct variant {
    const char *mark;       /* in every text value of B */
    long long base;         /* B's own ports are base+k */
    int rows_n0, rows_b1;   /* distinctive counts */
    int gen_n0;             /* n0's generated rows; the rest copy rows of a1 */
    int copy_mod, copy_times;   /* a1 rows with rowid%copy_mod=0, copy_times each */
    int m_ip, m_port, m_trace, m_name;   /* which rows of B share A's values */
    int port1, port2;       /* the ports of A that B's shared rows have */
    const char *extra;      /* a table only this twin has */
    const char *meta_rows;  /* B's rows in vnd_meta and vnd_traces, by trace */
    const char *trace_ids;
};

static const struct variant variants[2] = {
    {"SECRETB", 987654321, 7331, 17, 7331 - 16, 3, 2, 97, 101, 211, 127, 80, 443, "bsecret",
     "('tb','n0'),('tb1','b1')", "('tb',20),('tb1',21)"},
    {"SECRETY", 876543210, 6173, 23, 6173 - 12, 2, 1, 89, 83, 173, 131, 80, 53, "bother",
     "('tb','n0'),('tb','b1'),('tb','bother')", "('tb',20),('tb2',22)"},
};

static char paths[2][96];
static struct vnd_guard *guards[2];

static void remove_file(int v)
{
    if (!paths[v][0])
        return;
    char j[256];
    unlink(paths[v]);
    snprintf(j, sizeof j, "%s-journal", paths[v]);
    unlink(j);
}

static void cleanup(void)
{
    for (int v = 0; v < 2; v++) {
        vnd_guard_close(guards[v]);
        guards[v] = NULL;
        remove_file(v);
    }
}

/* Files left by a run that crashed (its pid is gone). */
static void remove_stale(const char *dir)
{
    char pat[128];
    snprintf(pat, sizeof pat, "%s/vnd-tsql-*", dir);
    glob_t gl;
    if (glob(pat, 0, NULL, &gl))
        return;
    for (size_t i = 0; i < gl.gl_pathc; i++) {
        const char *p = strrchr(gl.gl_pathv[i], '/') + 1 + strlen("vnd-tsql-");
        long pid = strtol(p, NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH)
            unlink(gl.gl_pathv[i]);
    }
    globfree(&gl);
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_tenant_sql: %s: %s\n", what, msg ? msg : "?");
    abort();
}

static void exec_or_die(sqlite3 *db, char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die("building the store", msg);
    free(sql);
}

/* vnd_meta's columns as this harness fills them; named so that columns the
 * store adds later (left NULL here) do not break the build */
#define META_COLS \
    " (trace, tbl, tenant, cap_point, direction, pattern, source, linktype," \
    " parse_filter, parse_fields, packets_seen, packets_matched, packets_stored," \
    " sampled_out, dropped_kernel, dropped_queue, decode_anomalies, sampling," \
    " snaplen, first_ts, last_ts, status, message, updated, flow_sampling," \
    " rollup, rollup_status, rollup_packets)"

static void build(sqlite3 *db, const struct variant *v)
{
    const char *mk = v->mark;
    /* A's tables and rows first, so A's pages and offsets are the same in
     * both twins */
    exec_or_die(db, vnd_strdup_printf(
        "PRAGMA journal_mode=DELETE;"
        "BEGIN;"
        "CREATE TABLE a1(src_ip TEXT, dst_port INTEGER, trace TEXT, name TEXT, s TEXT);"
        "CREATE TABLE a2(src_ip TEXT, dst_port INTEGER, trace TEXT, name TEXT, s TEXT);"
        "CREATE INDEX a1_port ON a1(dst_port);"
        "WITH RECURSIVE k(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM k WHERE k<23)"
        " INSERT INTO a1 SELECT '10.0.0.'||(k%%8),"
        "  CASE k%%4 WHEN 0 THEN 80 WHEN 1 THEN 443 WHEN 2 THEN 53 ELSE 1000+k END, 'ta',"
        "  CASE k WHEN 0 THEN 'n0' WHEN 1 THEN 'b1' WHEN 2 THEN 'bsecret' WHEN 3 THEN 'nv'"
        "   WHEN 4 THEN 'a1' WHEN 5 THEN 'tb' ELSE 'a-'||k END,"
        "  json_object('k',k,'v',json_array(k,k*2),'ip','10.0.0.'||(k%%8)) FROM k;"
        "WITH RECURSIVE k(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM k WHERE k<9)"
        " INSERT INTO a2 SELECT '10.0.1.'||k, CASE k%%2 WHEN 0 THEN 22 ELSE 80 END, 'ta2',"
        "  'a2-'||k, json_array(k,'x') FROM k;"));
    /* B's: mostly values of its own, some rows sharing one of A's values,
     * and a few exact copies of A's rows (NATURAL JOIN matches those) */
    exec_or_die(db, vnd_strdup_printf(
        "CREATE TABLE n0(src_ip TEXT, dst_port INTEGER, trace TEXT, name TEXT,"
        " s TEXT DEFAULT '%s-default');"
        "CREATE INDEX n0_port ON n0(dst_port);"
        "CREATE TABLE b1(src_ip TEXT, dst_port INTEGER, trace TEXT, name TEXT, s TEXT);"
        "CREATE INDEX b1_name ON b1(name);"
        "CREATE TABLE %s(src_ip TEXT, dst_port INTEGER, trace TEXT, name TEXT, s TEXT);"
        "CREATE VIEW nv AS SELECT * FROM n0 WHERE dst_port < 1000;",
        mk, v->extra));
    exec_or_die(db, vnd_strdup_printf(
        "WITH RECURSIVE k(k) AS (SELECT 1 UNION ALL SELECT k+1 FROM k WHERE k<%d)"
        " INSERT INTO n0 SELECT"
        "  CASE WHEN k%%%d=0 THEN '10.0.0.'||(k%%8) ELSE '%s.ip.'||k END,"
        "  CASE WHEN k%%%d=0 THEN CASE k%%2 WHEN 0 THEN %d ELSE %d END ELSE %lld+k END,"
        "  CASE WHEN k%%%d=0 THEN 'ta' ELSE '%s-tr' END,"
        "  CASE WHEN k%%%d=0 THEN 'a-'||(k%%24) ELSE '%s-n'||k END,"
        "  json_object('secret','%s','k',k,'ip','10.0.0.'||(k%%8)) FROM k;",
        v->gen_n0, v->m_ip, mk, v->m_port, v->port1, v->port2, v->base, v->m_trace, mk,
        v->m_name, mk, mk));
    exec_or_die(db, vnd_strdup_printf(
        "WITH r(i) AS (VALUES(1),(2),(3))"
        " INSERT INTO n0 SELECT a1.src_ip, a1.dst_port, a1.trace, a1.name, a1.s FROM a1, r"
        " WHERE a1.rowid %% %d = 0 AND r.i <= %d;"
        "WITH RECURSIVE k(k) AS (SELECT 1 UNION ALL SELECT k+1 FROM k WHERE k<%d)"
        " INSERT INTO b1 SELECT '10.0.0.'||(k%%5), %lld+k, 'tb1',"
        "  CASE WHEN k%%2=0 THEN 'a-'||k ELSE '%s-b'||k END, '%s' FROM k;"
        "INSERT INTO b1 SELECT src_ip, dst_port, trace, name, s FROM a1 WHERE rowid %% %d = 1;"
        "INSERT INTO %s VALUES('10.0.0.1', 80, 'ta', 'a-6', '%s'), ('%s', %lld, 'tb', 'n0', '%s');",
        v->copy_mod, v->copy_times, v->rows_b1, v->base + 50000, mk, mk, v->copy_mod + 2,
        v->extra, mk, mk, v->base, mk));
    /* the table server's registry, both tenants' rows */
    exec_or_die(db, vnd_strdup_printf(
        /* columns named: the store adds columns as it grows */
        "INSERT INTO vnd_meta" META_COLS " VALUES"
        " ('ta','a1','tenantA','cap1','in','*','a.pcap',1,'','',24,24,24,0,0,0,0,1,65535,"
        "  1.5,2.5,'done','',3.5,1,NULL,NULL,NULL),"
        " ('ta2','a2','tenantA','cap2','out','*','a2.pcap',1,'','',10,10,10,0,0,0,0,1,65535,"
        "  1.5,2.5,'done','',3.5,1,NULL,NULL,NULL);"
        "WITH m(trace, tbl) AS (VALUES %s)"
        " INSERT INTO vnd_meta" META_COLS " SELECT trace, tbl, '%s', '%s-cap', 'in', '%s', '%s.pcap', 1,"
        "  '%s', '%s', %d, %d, %d, 1, 2, 3, 4, 1, %d, %lld.5, %lld.5, '%s', '%s', %lld.25, 1,"
        "  NULL, NULL, NULL FROM m;"
        "CREATE TABLE vnd_traces ("
        " id TEXT PRIMARY KEY, tag INTEGER NOT NULL UNIQUE, parse TEXT NOT NULL,"
        " snaplen INTEGER NOT NULL, sampling INTEGER NOT NULL, retain_mb INTEGER NOT NULL,"
        " tenant TEXT, cap_point TEXT, direction TEXT, pattern TEXT, created REAL);"
        "INSERT INTO vnd_traces VALUES"
        " ('ta',10,'a1',65535,1,100,'tenantA','cap1','in','*',1.5),"
        " ('ta2',11,'a2',65535,1,100,'tenantA','cap2','out','*',1.5);"
        "WITH t(id, tag) AS (VALUES %s)"
        " INSERT INTO vnd_traces SELECT id, tag, '%s', %d, 1, %d, '%s', '%s-cap', 'in', '%s',"
        "  %lld.5 FROM t;"
        "COMMIT;",
        v->meta_rows, mk, mk, mk, mk, mk, mk, v->rows_n0, v->rows_n0, v->rows_n0,
        v->rows_n0 % 1000, v->base, v->base + 1, mk, mk, v->base,
        v->trace_ids, mk, v->rows_n0 % 997, v->rows_b1, mk, mk, mk, v->base));
}

static void setup(void)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    remove_stale(dir);
    sqlite3_hard_heap_limit64(512LL << 20);
    for (int v = 0; v < 2; v++) {
        snprintf(paths[v], sizeof paths[v], "%s/vnd-tsql-%ld-%c.db", dir, (long)getpid(),
                 "xy"[v]);
        remove_file(v);
        /* vnd_meta and the store's own tables as the store makes them */
        struct vnd_store *st = NULL;
        char *serr = NULL;
        if (vnd_store_open(paths[v], &st, &serr))
            die(paths[v], serr);
        vnd_store_close(st);
        sqlite3 *db = NULL;
        if (sqlite3_open(paths[v], &db) != SQLITE_OK)
            die(paths[v], db ? sqlite3_errmsg(db) : "cannot open");
        build(db, &variants[v]);
        sqlite3_close(db);
    }
    if (!getenv("FUZZ_TENANT_SQL_KEEP"))
        atexit(cleanup);
    for (int v = 0; v < 2; v++) {
        char *err = NULL;
        if (vnd_guard_open(paths[v], (const char *const[]){"a1", "a2", NULL}, &guards[v],
                           &err))
            die("vnd_guard_open", err);
        sqlite3 *db = vnd_guard_db(guards[v]);
        vnd_guard_set_timeout(guards[v], TIMEOUT_S);
        sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1000000);
        sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 200);
    }
}

/* ---- the grammar ---- */

enum kind { K_TRACE, K_META, K_TRACES, K_SCHEMA, K_JSON, K_PINFO, K_DBSTAT, K_CTE };

static const char *const kind_cols[][9] = {
    [K_TRACE] = {"src_ip", "dst_port", "trace", "name", "s", "rowid", NULL},
    [K_META] = {"trace", "tbl", "tenant", "packets_seen", "status", "source", "first_ts", NULL},
    [K_TRACES] = {"id", "tag", "parse", "tenant", "pattern", "created", NULL},
    [K_SCHEMA] = {"type", "name", "tbl_name", "rootpage", "sql", NULL},
    [K_JSON] = {"key", "value", "type", "atom", "id", "parent", "fullkey", "path", NULL},
    [K_PINFO] = {"cid", "name", "type", "notnull", "dflt_value", "pk", NULL},
    [K_DBSTAT] = {"name", "path", "pageno", "ncell", "payload", "pgoffset", NULL},
    [K_CTE] = {NULL},
};

/* The column names a join can match on across tables. */
static const char *const shared_cols[] = {"dst_port", "src_ip", "trace", "name", "s",
                                          "tenant", "id", "type", "tbl", "key", "value"};

#define MAX_SCOPE 6
struct scope {
    int n;
    struct {
        enum kind k;
        char ref[24];          /* how columns are qualified: alias or name */
        const char *cte_col;   /* K_CTE: its one column */
    } t[MAX_SCOPE];
    const struct scope *outer;
};

struct gen {
    const uint8_t *d;
    size_t n, i;
    int depth, ncte, nalias;
    bool last_values;      /* the last select core was VALUES: no ORDER BY */
    struct sbuf *out;
    struct {
        char name[8];
        enum kind k;
        const char *col;
    } cte[3];
};

static unsigned pick(struct gen *g, unsigned n)
{
    if (n <= 1 || g->i >= g->n)
        return 0;
    return g->d[g->i++] % n;
}

static void emit(struct gen *g, const char *s)
{
    sb_add(g->out, s);
}

static const char *const str_lits[] = {"'ta'", "'tb'", "'n0'", "'10.0.0.1'", "'a-6'",
                                       "'$.k'", "'tb1'", "'b1'", "'%'", "'$'", "''",
                                       "'a1'", "'tenantA'", "'10.0.0.0/24'", "'[1,2,3]'"};
static const long long int_lits[] = {0, 1, 2, 80, 443, 53, 22, 1000, 65535, 10, 100, -1};

static void literal(struct gen *g)
{
    unsigned c = pick(g, 4);
    if (c == 0) {
        sb_int(g->out, int_lits[pick(g, sizeof int_lits / sizeof *int_lits)]);
    } else if (c == 1) {
        emit(g, str_lits[pick(g, sizeof str_lits / sizeof *str_lits)]);
    } else if (c == 2) {
        sb_int(g->out, (long long)pick(g, 256) * 256 + pick(g, 256));
    } else {
        emit(g, "NULL");
    }
}

static void select_stmt(struct gen *g, const struct scope *outer, int ncols);
static void expr(struct gen *g, const struct scope *sc, bool agg_ok);

/* A column of some table in scope (or an outer one), qualified or not. */
static void column(struct gen *g, const struct scope *sc)
{
    int depth = 0;
    const struct scope *s = sc;
    /* sometimes a column of the enclosing query: correlated subqueries */
    while (s && s->outer && pick(g, 4) == 0 && depth < 3) {
        s = s->outer;
        depth++;
    }
    if (!s || s->n == 0) {
        emit(g, shared_cols[pick(g, 5)]);
        return;
    }
    unsigned ti = pick(g, (unsigned)s->n);
    const char *col;
    if (s->t[ti].k == K_CTE) {
        col = s->t[ti].cte_col;
    } else {
        const char *const *cols = kind_cols[s->t[ti].k];
        unsigned nc = 0;
        while (cols[nc])
            nc++;
        col = cols[pick(g, nc)];
    }
    if (pick(g, 2)) {
        emit(g, s->t[ti].ref);
        emit(g, ".");
    }
    emit(g, col);
}

static void window_spec(struct gen *g, const struct scope *sc)
{
    emit(g, " OVER (");
    if (pick(g, 2)) {
        emit(g, "PARTITION BY ");
        expr(g, sc, false);
        emit(g, " ");
    }
    if (pick(g, 2)) {
        emit(g, "ORDER BY ");
        expr(g, sc, false);
    }
    if (pick(g, 3) == 0)
        emit(g, " ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW");
    emit(g, ")");
}

static void expr(struct gen *g, const struct scope *sc, bool agg_ok)
{
    static const char *const ops[] = {" = ", " < ", " > ", " <> ", " + ", " - ", " * ",
                                      " || ", " AND ", " OR ", " LIKE ", " IS ", " % "};
    static const char *const fn1[] = {"length", "typeof", "upper", "abs", "hex", "quote",
                                      "unicode", "lower", "trim", "json_type", "json_valid",
                                      "likely", "json_array_length", "zeroblob"};
    static const char *const agg1[] = {"count", "sum", "min", "max", "group_concat", "avg",
                                       "total", "json_group_array", "count(DISTINCT"};
    g->depth++;
    unsigned c = g->depth > 5 ? pick(g, 2) : pick(g, 18);
    switch (c) {
    case 0:
        column(g, sc);
        break;
    case 1:
        literal(g);
        break;
    case 2:
        emit(g, "(");
        expr(g, sc, agg_ok);
        emit(g, ops[pick(g, sizeof ops / sizeof *ops)]);
        expr(g, sc, agg_ok);
        emit(g, ")");
        break;
    case 3:
        emit(g, fn1[pick(g, sizeof fn1 / sizeof *fn1)]);
        emit(g, "(");
        expr(g, sc, agg_ok);
        emit(g, ")");
        break;
    case 4:
        if (!agg_ok) {
            column(g, sc);
            break;
        }
        if (pick(g, 3) == 0) {
            emit(g, "count(*)");
            break;
        }
        {
            unsigned a = pick(g, sizeof agg1 / sizeof *agg1);
            emit(g, agg1[a]);
            emit(g, a == 8 ? " " : "(");
            expr(g, sc, false);
            emit(g, ")");
        }
        break;
    case 5:
        emit(g, "(");
        select_stmt(g, sc, 1);
        emit(g, ")");
        break;
    case 6:
        expr(g, sc, agg_ok);
        emit(g, pick(g, 3) ? " IN (" : " NOT IN (");
        select_stmt(g, sc, 1);
        emit(g, ")");
        break;
    case 7:
        emit(g, pick(g, 3) ? "EXISTS (" : "NOT EXISTS (");
        select_stmt(g, sc, 0);
        emit(g, ")");
        break;
    case 8:
        emit(g, "CASE WHEN ");
        expr(g, sc, agg_ok);
        emit(g, " THEN ");
        expr(g, sc, agg_ok);
        emit(g, " ELSE ");
        expr(g, sc, agg_ok);
        emit(g, " END");
        break;
    case 9:
        if (!agg_ok) {
            literal(g);
            break;
        }
        switch (pick(g, 7)) {
        case 0: emit(g, "row_number()"); break;
        case 1: emit(g, "count(*)"); break;
        case 2: emit(g, "rank()"); break;
        case 3: emit(g, "sum("); expr(g, sc, false); emit(g, ")"); break;
        case 4: emit(g, "lag("); expr(g, sc, false); emit(g, ")"); break;
        case 5: emit(g, "first_value("); expr(g, sc, false); emit(g, ")"); break;
        default: emit(g, "group_concat("); expr(g, sc, false); emit(g, ")"); break;
        }
        window_spec(g, sc);
        break;
    case 10:
        emit(g, "CAST(");
        expr(g, sc, agg_ok);
        emit(g, pick(g, 2) ? " AS TEXT)" : " AS INTEGER)");
        break;
    case 11:
        expr(g, sc, agg_ok);
        emit(g, " BETWEEN ");
        expr(g, sc, agg_ok);
        emit(g, " AND ");
        expr(g, sc, agg_ok);
        break;
    case 12:
        emit(g, "json_extract(");
        expr(g, sc, agg_ok);
        emit(g, pick(g, 2) ? ", '$.k')" : ", '$.secret')");
        break;
    case 13:
        emit(g, pick(g, 2) ? "coalesce(" : "max(");
        expr(g, sc, agg_ok);
        emit(g, ", ");
        expr(g, sc, agg_ok);
        emit(g, ")");
        break;
    case 14:
        emit(g, "vnd_in_prefix(");
        expr(g, sc, agg_ok);
        emit(g, ", '10.0.0.0/24')");
        break;
    case 15:
        emit(g, "substr(");
        expr(g, sc, agg_ok);
        emit(g, ", 1, 4)");
        break;
    case 16:
        expr(g, sc, agg_ok);
        emit(g, pick(g, 2) ? " IS NULL" : " IS NOT NULL");
        break;
    default:
        emit(g, "printf('%s', ");
        expr(g, sc, agg_ok);
        emit(g, ")");
        break;
    }
    g->depth--;
}

/* Escapes written out, for the grammar to splice in as a table. */
static const char *const canned_from[] = {
    "(WITH RECURSIVE c(dst_port) AS (SELECT 1 UNION ALL SELECT dst_port+1 FROM c"
    " WHERE dst_port < 1000) SELECT dst_port, count(*) AS n FROM c JOIN n0 USING(dst_port)"
    " GROUP BY dst_port)",
    "(SELECT * FROM a1 JOIN n0 USING(dst_port))",
    "(SELECT * FROM a1 NATURAL JOIN b1)",
    "(SELECT * FROM (SELECT 'tb' AS trace UNION SELECT 'tb1' UNION SELECT 'ta')"
    " JOIN vnd_meta USING(trace))",
    "(SELECT name FROM a1 JOIN sqlite_schema USING(name))",
};

/* One table of a FROM clause, added to `sc`. */
static void table_ref(struct gen *g, struct scope *sc)
{
    static const char *const trace_tables[] = {"a1", "a2", "n0", "b1", "bsecret", "nv",
                                               "main.n0", "main.a1", "temp.x", "bother",
                                               "main.vnd_meta"};
    if (sc->n >= MAX_SCOPE)
        return;
    int me = sc->n;
    enum kind k = K_TRACE;
    const char *bare = NULL;
    unsigned c = g->depth > 4 ? pick(g, 3) : pick(g, 14);
    switch (c) {
    case 0: case 1: case 2: {
        /* mostly the tenant's own, often B's */
        unsigned t = pick(g, 16);
        static const char *const common[] = {"a1", "a2", "n0", "b1", "a1", "n0"};
        bare = t < 6 ? common[t] : trace_tables[t - 6 < 11 ? t - 6 : 0];
        if (!strcmp(bare, "main.vnd_meta"))
            k = K_META;
        emit(g, bare);
        if (!strncmp(bare, "main.", 5) || !strncmp(bare, "temp.", 5))
            bare += 5;
        break;
    }
    case 3:
        k = K_META;
        emit(g, bare = "vnd_meta");
        break;
    case 4:
        k = K_TRACES;
        emit(g, bare = "vnd_traces");
        break;
    case 5: {
        static const char *const s[] = {"sqlite_schema", "sqlite_master", "sqlite_temp_master",
                                        "temp.sqlite_master", "main.sqlite_schema"};
        k = K_SCHEMA;
        bare = s[pick(g, 5)];
        emit(g, bare);
        if (strchr(bare, '.'))
            bare = strchr(bare, '.') + 1;
        break;
    }
    case 6:
    case 7:
        k = K_JSON;
        emit(g, pick(g, 2) ? "json_each(" : "json_tree(");
        if (me > 0 && pick(g, 4))
            column(g, sc);
        else
            literal(g);
        emit(g, ")");
        bare = NULL;
        break;
    case 8:
        k = K_PINFO;
        emit(g, pick(g, 2) ? "pragma_table_info('n0')" : "pragma_table_info('a1')");
        break;
    case 9:
        k = K_DBSTAT;
        emit(g, pick(g, 2) ? "dbstat" : "dbstat('main')");
        break;
    case 10:
        if (g->ncte > 0) {
            unsigned i = pick(g, (unsigned)g->ncte);
            k = g->cte[i].k;
            emit(g, bare = g->cte[i].name);
            sc->t[me].cte_col = g->cte[i].col;
            break;
        }
        /* fall through */
    case 11: {
        emit(g, "(");
        select_stmt(g, NULL, 0);
        emit(g, ")");
        k = K_TRACE;  /* a guess: its columns may not match */
        break;
    }
    case 12:
        emit(g, canned_from[pick(g, sizeof canned_from / sizeof *canned_from)]);
        k = K_TRACE;
        bare = NULL;
        break;
    default: {
        /* a candidate list: the recursive CTE, inline */
        static const char *const cand[] = {
            "(WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM c WHERE x < 600)"
            " SELECT x AS dst_port FROM c)",
            "(SELECT '10.0.0.1' AS src_ip UNION SELECT '10.0.0.2' UNION SELECT '10.9.9.9')",
            "(SELECT 'tb' AS trace UNION SELECT 'tb1' UNION SELECT 'ta')",
            "(SELECT 'n0' AS name UNION SELECT 'b1' UNION SELECT 'bsecret' UNION SELECT 'nv')",
        };
        unsigned i = pick(g, 4);
        emit(g, cand[i]);
        k = K_CTE;
        static const char *const cc[] = {"dst_port", "src_ip", "trace", "name"};
        sc->t[me].cte_col = cc[i];
        break;
    }
    }
    sc->t[me].k = k;
    if (!bare || pick(g, 3) == 0) {
        snprintf(sc->t[me].ref, sizeof sc->t[me].ref, "t%d", g->nalias++);
        emit(g, " AS ");
        emit(g, sc->t[me].ref);
    } else {
        snprintf(sc->t[me].ref, sizeof sc->t[me].ref, "%s", bare);
    }
    sc->n++;
}

static void from_clause(struct gen *g, struct scope *sc)
{
    static const char *const joins[] = {" JOIN ", ", ", " LEFT JOIN ", " NATURAL JOIN ",
                                        " CROSS JOIN ", " INNER JOIN ", " NATURAL LEFT JOIN ",
                                        " RIGHT JOIN ", " FULL JOIN ", " JOIN "};
    table_ref(g, sc);
    unsigned more = pick(g, 3);
    for (unsigned j = 0; j < more && sc->n < MAX_SCOPE; j++) {
        unsigned jo = pick(g, sizeof joins / sizeof *joins);
        emit(g, joins[jo]);
        table_ref(g, sc);
        if (jo == 1 || jo == 3 || jo == 4 || jo == 6)
            continue;
        unsigned how = pick(g, 3);
        if (how == 0) {
            emit(g, " USING(");
            emit(g, shared_cols[pick(g, sizeof shared_cols / sizeof *shared_cols)]);
            if (pick(g, 4) == 0) {
                emit(g, ", ");
                emit(g, shared_cols[pick(g, 5)]);
            }
            emit(g, ")");
        } else if (how == 1) {
            emit(g, " ON ");
            expr(g, sc, false);
        }
    }
}

static void select_core(struct gen *g, const struct scope *outer, int ncols)
{
    struct sbuf from = {0}, *saved = g->out;
    struct scope sc = {.outer = outer};
    g->last_values = false;
    if (pick(g, 8) == 0) {
        g->last_values = true;
        /* VALUES */
        emit(g, "VALUES(");
        int n = ncols ? ncols : 1 + (int)pick(g, 3);
        for (int i = 0; i < n; i++) {
            if (i)
                emit(g, ", ");
            literal(g);
        }
        emit(g, ")");
        return;
    }
    /* FROM first, so the other clauses know the tables */
    g->out = &from;
    from_clause(g, &sc);
    g->out = saved;
    emit(g, pick(g, 6) == 0 ? "SELECT DISTINCT " : "SELECT ");
    int n = ncols ? ncols : 1 + (int)pick(g, 3);
    for (int i = 0; i < n; i++) {
        if (i)
            emit(g, ", ");
        if (!ncols && pick(g, 6) == 0) {
            emit(g, "*");
            n = 1;
            break;
        }
        expr(g, &sc, true);
        if (pick(g, 3) == 0) {
            emit(g, " AS ");
            emit(g, shared_cols[pick(g, 5)]);
        }
    }
    emit(g, " FROM ");
    emit(g, from.p ? from.p : "a1");
    free(from.p);
    if (pick(g, 2)) {
        emit(g, " WHERE ");
        expr(g, &sc, false);
    }
    if (pick(g, 4) == 0) {
        emit(g, " GROUP BY ");
        expr(g, &sc, false);
        if (pick(g, 2)) {
            emit(g, " HAVING ");
            expr(g, &sc, true);
        }
    }
}

static void with_clause(struct gen *g)
{
    if (g->ncte >= 3 || pick(g, 4))
        return;
    emit(g, "WITH RECURSIVE ");
    unsigned n = 1 + pick(g, 2);
    for (unsigned i = 0; i < n && g->ncte < 3; i++) {
        if (i)
            emit(g, ", ");
        int me = g->ncte;
        snprintf(g->cte[me].name, sizeof g->cte[me].name, "c%d", me);
        emit(g, g->cte[me].name);
        switch (pick(g, 3)) {
        case 0: {
            /* candidate values, counted up */
            static const char *const col[] = {"dst_port", "k"};
            const char *c = col[pick(g, 2)];
            emit(g, "(");
            emit(g, c);
            emit(g, ") AS (SELECT ");
            sb_int(g->out, pick(g, 100));
            emit(g, " UNION ALL SELECT ");
            emit(g, c);
            emit(g, "+1 FROM ");
            emit(g, g->cte[me].name);
            emit(g, " WHERE ");
            emit(g, c);
            emit(g, " < ");
            sb_int(g->out, 1 + pick(g, 4) * 300);
            emit(g, ")");
            g->cte[me].k = K_CTE;
            g->cte[me].col = c;
            break;
        }
        case 1: {
            static const char *const col[] = {"name", "trace", "src_ip"};
            static const char *const vals[] = {
                "('n0'),('b1'),('bsecret'),('a-6')", "('tb'),('tb1'),('ta')",
                "('10.0.0.1'),('10.0.0.3'),('10.9.9.9')"};
            unsigned w = pick(g, 3);
            emit(g, "(");
            emit(g, col[w]);
            emit(g, ") AS (VALUES");
            emit(g, vals[w]);
            emit(g, ")");
            g->cte[me].k = K_CTE;
            g->cte[me].col = col[w];
            break;
        }
        default:
            emit(g, " AS (");
            g->ncte++;   /* visible in its own body: recursion the hard way */
            g->cte[me].k = K_TRACE;
            g->cte[me].col = NULL;
            select_stmt(g, NULL, 0);
            g->ncte--;
            emit(g, ")");
            break;
        }
        g->ncte++;
    }
    emit(g, " ");
}

static void select_stmt(struct gen *g, const struct scope *outer, int ncols)
{
    static const char *const compound[] = {" UNION ", " UNION ALL ", " INTERSECT ", " EXCEPT "};
    if (g->depth > 6) {
        emit(g, "SELECT ");
        for (int i = 0; i < (ncols ? ncols : 1); i++) {
            if (i)
                emit(g, ", ");
            literal(g);
        }
        return;
    }
    g->depth++;
    int saved_ncte = g->ncte;
    with_clause(g);
    if (!ncols && pick(g, 3) == 0)
        ncols = 1 + (int)pick(g, 2);
    select_core(g, outer, ncols);
    if (ncols) {
        unsigned more = pick(g, 3) == 0 ? 1 + pick(g, 2) : 0;
        for (unsigned i = 0; i < more; i++) {
            emit(g, compound[pick(g, 4)]);
            select_core(g, outer, ncols);
        }
    }
    /* (the bytes are taken either way, so inputs keep their meaning) */
    bool values = g->last_values;
    if (pick(g, 4) == 0 && !values)
        emit(g, " ORDER BY 1");
    if (pick(g, 4) == 0) {
        unsigned n = pick(g, 50);
        if (!values) {
            emit(g, " LIMIT ");
            sb_int(g->out, n);
        }
    }
    g->ncte = saved_ncte;
    g->depth--;
}

/* ---- running and comparing ---- */

struct run {
    bool accepted, timed_out;
    int rc;                 /* the last sqlite3_step code */
    long rows;
    uint64_t hash;          /* of every row (FNV-1a) */
    struct sbuf out;        /* the first rows: per row the column count, then
                             * per value its type and bytes */
};

static void put(struct sbuf *b, const void *p, size_t n)
{
    sb_addn(b, p, n);
}

static void run_one(int v, const char *sql, struct run *r)
{
    struct vnd_guard *gd = guards[v];
    sqlite3_stmt *st = NULL;
    char *err = NULL;
    memset(r, 0, sizeof *r);
    r->hash = 14695981039346656037ULL;
    if (vnd_guard_prepare(gd, sql, &st, &err)) {
        if (getenv("FUZZ_TENANT_SQL_PRINT"))
            fprintf(stderr, "  twin %c refused: %s\n", "XY"[v], err);
        free(err);
        r->timed_out = vnd_guard_timed_out(gd);
        return;
    }
    r->accepted = true;
    vnd_guard_start(gd);
    int ncol = sqlite3_column_count(st);
    bool explain = sqlite3_stmt_isexplain(st) == 1;
    struct sbuf row = {0};
    /* every row goes into the hash (the time limit bounds the run); the
     * first ones are kept for the report */
    while ((r->rc = sqlite3_step(st)) == SQLITE_ROW) {
        r->rows++;
        row.len = 0;
        uint16_t n = (uint16_t)ncol;
        put(&row, &n, sizeof n);
        for (int i = 0; i < ncol; i++) {
            uint8_t t = (uint8_t)sqlite3_column_type(st, i);
            put(&row, &t, 1);
            if (t == SQLITE_INTEGER) {
                int64_t x = sqlite3_column_int64(st, i);
                put(&row, &x, sizeof x);
            } else if (t == SQLITE_FLOAT) {
                double x = sqlite3_column_double(st, i);
                put(&row, &x, sizeof x);
            } else if (t != SQLITE_NULL) {
                const void *p = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, i)
                                                 : sqlite3_column_blob(st, i);
                uint32_t len = p ? (uint32_t)sqlite3_column_bytes(st, i) : 0;
                /* EXPLAIN shows a virtual table as its address */
                if (explain && i == 5 && len > 5 && !memcmp(p, "vtab:", 5))
                    len = 5;
                put(&row, &len, sizeof len);
                if (len)
                    put(&row, p, len);
            }
        }
        for (size_t i = 0; i < row.len; i++)
            r->hash = (r->hash ^ (uint8_t)row.p[i]) * 1099511628211ULL;
        if (r->rows <= MAX_ROWS && r->out.len + row.len <= MAX_OUT)
            put(&r->out, row.p, row.len);
    }
    free(row.p);
    r->timed_out = vnd_guard_timed_out(gd);
    if (getenv("FUZZ_TENANT_SQL_PRINT"))
        fprintf(stderr, "  twin %c accepted: %ld rows, end %d%s\n", "XY"[v], r->rows, r->rc,
                r->timed_out ? ", timed out" : "");
    sqlite3_finalize(st);
}

/* Statements whose answer changes between two runs on the same data. */
static bool nondeterministic(const char *sql)
{
    static const char *const words[] = {"random", "now", "current_", "julianday", "unixepoch",
                                        "strftime", "date", "time", "changes", "sqlite_offset"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcasestr(sql, words[i]))
            return true;
    return false;
}

/* The first rows of twin v, as text, for the report. */
static void dump(const struct run *r, int v, FILE *f)
{
    if (!r->out.p)
        return;
    const char *p = r->out.p, *end = p + r->out.len;
    for (int rows = 0; p + 2 <= end && rows < 3; rows++) {
        uint16_t n;
        memcpy(&n, p, sizeof n);
        p += sizeof n;
        fprintf(f, "  twin %c row %d:", "XY"[v], rows + 1);
        for (int i = 0; i < n && p < end; i++) {
            uint8_t t = (uint8_t)*p++;
            if (t == SQLITE_INTEGER && p + 8 <= end) {
                int64_t x;
                memcpy(&x, p, sizeof x);
                p += sizeof x;
                fprintf(f, " %lld", (long long)x);
            } else if (t == SQLITE_FLOAT && p + 8 <= end) {
                double x;
                memcpy(&x, p, sizeof x);
                p += sizeof x;
                fprintf(f, " %g", x);
            } else if ((t == SQLITE_TEXT || t == SQLITE_BLOB) && p + 4 <= end) {
                uint32_t len;
                memcpy(&len, p, sizeof len);
                p += sizeof len;
                fprintf(f, " '%.*s%s'", (int)(len < 60 ? len : 60), p, len > 60 ? "..." : "");
                p += len;
            } else {
                fprintf(f, " NULL");
            }
        }
        fprintf(f, "\n");
    }
}

/* What of B the answer of twin v shows, for the report. */
static void markers(const struct run *r, int v, FILE *f)
{
    const struct variant *va = &variants[v];
    int hits = 0;
    if (r->out.p && memmem(r->out.p, r->out.len, va->mark, strlen(va->mark)))
        fprintf(f, "  twin %c: text %s... (B's values)\n", "XY"[v], va->mark), hits++;
    if (!r->out.p)
        return;
    const char *p = r->out.p, *end = p + r->out.len;
    while (p + 2 <= end && hits < 6) {
        uint16_t n;
        memcpy(&n, p, sizeof n);
        p += sizeof n;
        for (int i = 0; i < n && p < end; i++) {
            uint8_t t = (uint8_t)*p++;
            if (t == SQLITE_INTEGER && p + 8 <= end) {
                int64_t x;
                memcpy(&x, p, sizeof x);
                p += sizeof x;
                if ((x >= va->base && x < va->base + 100000) || x == va->rows_n0) {
                    fprintf(f, "  twin %c: integer %lld (B's)\n", "XY"[v], (long long)x);
                    hits++;
                }
            } else if (t == SQLITE_FLOAT) {
                p += sizeof(double);
            } else if ((t == SQLITE_TEXT || t == SQLITE_BLOB) && p + 4 <= end) {
                uint32_t len;
                memcpy(&len, p, sizeof len);
                p += sizeof len + len;
            }
        }
    }
}

static void report(const char *sql, const struct run *r, const char *why)
{
    fprintf(stderr,
            "\nfuzz_tenant_sql: the answer depends on tenant B's data (%s)\n"
            "  SQL: %s\n"
            "  twin X: %s, %ld rows, end code %d\n"
            "  twin Y: %s, %ld rows, end code %d\n",
            why, sql,
            r[0].accepted ? "accepted" : "refused", r[0].rows, r[0].rc,
            r[1].accepted ? "accepted" : "refused", r[1].rows, r[1].rc);
    dump(&r[0], 0, stderr);
    dump(&r[1], 1, stderr);
    markers(&r[0], 0, stderr);
    markers(&r[1], 1, stderr);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool names_asserted;
    if (!guards[0]) {
        setup();
        names_asserted = getenv("FUZZ_TENANT_SQL_NAMES") != NULL;
    }
    struct sbuf sql = {0};
    if (size > 0 && data[0] == 0xFF) {
        size_t n = size - 1;
        const uint8_t *nul = memchr(data + 1, '\0', n);
        if (nul)
            n = (size_t)(nul - data - 1);
        sb_addn(&sql, (const char *)data + 1, n);
    } else {
        struct gen g = {.d = data, .n = size, .out = &sql};
        if (size > 0 && (data[0] == 0xFE || data[0] == 0xFD)) {
            sb_add(&sql, data[0] == 0xFE ? "EXPLAIN " : "EXPLAIN QUERY PLAN ");
            g.i = 1;
        }
        select_stmt(&g, NULL, 0);
    }
    if (sql.len == 0 || sql.len > MAX_SQL || nondeterministic(sql.p)) {
        free(sql.p);
        return 0;
    }
    if (getenv("FUZZ_TENANT_SQL_PRINT"))
        fprintf(stderr, "%s\n", sql.p);
    struct run r[2];
    run_one(0, sql.p, &r[0]);
    run_one(1, sql.p, &r[1]);
    if (!r[0].timed_out && !r[1].timed_out) {
        /* which names exist: asserted only on request (see the top) */
        if (r[0].accepted != r[1].accepted && names_asserted)
            report(sql.p, r, "accepted on one twin, refused on the other");
        if (r[0].accepted && r[1].accepted) {
            if (r[0].rows != r[1].rows || r[0].hash != r[1].hash)
                report(sql.p, r, "different rows");
            if (r[0].rc != r[1].rc)
                report(sql.p, r, "different end codes");
        }
    }
    free(r[0].out.p);
    free(r[1].out.p);
    free(sql.p);
    return 0;
}
