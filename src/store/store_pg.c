/* store_pg.c — the PostgreSQL provider of the trace store (provider.h).
 *
 * A table server in distributed mode keeps its trace tables in a
 * PostgreSQL on its own host; the control server's coordinator reaches
 * them through postgres_fdw (docs/distributed.md).  Layout, which the
 * coordinator relies on:
 *   - one schema per tenant of the table server (the location's
 *     "#SCHEMA", default "vnd"), holding
 *   - the trace tables: `vnd_rowid bigint` (the row's slot rowid, store.h)
 *     then the rule's columns, INTEGER → bigint, REAL → double precision,
 *     TEXT → text;
 *   - vnd_meta, with SQLite's columns, vnd_sampling and vnd_slots.
 *
 * Rows go in with COPY in binary form: each table's rows of a batch are
 * held as COPY data and sent when the batch commits (or when a table's
 * buffer passes COPY_FLUSH_BYTES), one COPY per table, in the batch's
 * transaction — so a batch is whole or absent, as on SQLite.
 *
 * A PostgreSQL that restarts (or a connection that breaks) loses the
 * batch's transaction, not the batch: until it commits, the batch's
 * statements (a journal) and its COPY data stay here.  The store goes
 * "down"; writes of the open batch are held; commit reconnects (with
 * backoff), sends the batch again whole and commits it, or answers
 * ENOTCONN (down, batch held: call commit again) or ECONNABORTED (the
 * batch could not be held whole: gone, the caller counts it).  A COMMIT
 * whose answer was lost is looked up by its transaction id
 * (txid_status) before anything is sent twice. */
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/provider.h"
#include "util/sb.h"
#include "util/util.h"

#define COPY_FLUSH_BYTES (8u << 20)
/* COPY data of one batch kept for sending again: past this a batch is
 * no longer held whole (a connection lost then loses it, counted).
 * VND_STORE_HOLD_BYTES sets another, for tests. */
#define HOLD_BYTES ((size_t)256 << 20)
#define SLOT_ROWS ((int64_t)1 << VND_STORE_SLOT_BITS)
#define BACKOFF_MIN 0.25
#define BACKOFF_MAX 4.0

struct pg_writer;

/* A statement of the open batch, kept to send again. */
struct pg_stmt {
    char *sql;
    int n;
    char **params;
    struct pg_stmt *next;
};

struct pg_store {
    struct vnd_store up;
    PGconn *conn;
    char *conninfo;               /* to connect again */
    char *schema;                 /* quoted, ready for SQL */
    struct pg_writer *writers;    /* open writers: their COPY data goes at commit */
    /* the open batch, held until it commits */
    bool in_batch;
    bool whole;                   /* every statement and row of it is still held */
    struct pg_stmt *journal, **tail;
    size_t held;                  /* its COPY data, bytes */
    size_t hold_max;              /* HOLD_BYTES */
    /* down: the connection broke; held writes wait for the next try */
    bool down;
    double next_try, backoff;
    double broke_at;            /* when it last went down (Unix seconds) */
    char *why_down;             /* the last try's failure, to say it between tries */
    uint64_t reconnects;        /* connections made again */
    /* a COMMIT whose answer was lost: its transaction, and what of the
     * batch it carried (the statements up to `unsure_last`, each
     * writer's first `unsure_len` bytes) */
    int64_t unsure_xid;
    struct pg_stmt *unsure_last;
};

struct pg_writer {
    struct vnd_store_writer up;
    struct pg_store *st;
    char *copy_sql;               /* COPY "s"."t" (...) FROM STDIN (FORMAT binary) */
    int ncols;
    unsigned char *buf;           /* the batch's COPY data, held until it commits */
    size_t len, cap;
    size_t sent;                  /* of it, sent in the current transaction */
    size_t unsure_len;
    struct pg_writer *next;
};

/* ---- small helpers ---- */

static char *quote_ident(const char *name)
{
    size_t n = strlen(name);
    char *q = vnd_xmalloc(2 * n + 3), *o = q;
    *o++ = '"';
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            *o++ = '"';
        *o++ = *p;
    }
    *o++ = '"';
    *o = '\0';
    return q;
}

/* The server's notices (a WARNING as it shuts down, "there is no
 * transaction in progress" for a ROLLBACK after a reconnect) are not
 * printed: what the store has to say, it says in its own errors. */
static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGconn *connect_quietly(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    return c;
}

static int pg_fail(struct pg_store *st, PGresult *r, const char *what, char **err)
{
    const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(st->conn);
    if (!m || !*m)
        m = PQerrorMessage(st->conn);
    char *msg = vnd_strdup_printf("%s: %s", what, m);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    *err = msg;
    PQclear(r);
    return EIO;
}

/* The connection is gone (or going): the server shut down, crashed, or
 * the link broke — as opposed to an error of the statement.  A failure
 * without SQLSTATE is libpq's own (the server always sends one): it could
 * not talk to the server.  The connection need not be marked bad yet: a
 * write that failed (a server stopped by `pg_ctl -m immediate`) leaves
 * it for reading the server's last words. */
static bool conn_lost(const struct pg_store *st, const PGresult *r)
{
    if (PQstatus(st->conn) == CONNECTION_BAD)
        return true;
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return !s || !strncmp(s, "08", 2) || !strcmp(s, "57P01") || !strcmp(s, "57P02")
           || !strcmp(s, "57P03");
}

static void go_down(struct pg_store *st)
{
    if (!st->down) {
        st->down = true;
        st->broke_at = vnd_wall_now();
        st->backoff = BACKOFF_MIN;
        st->next_try = vnd_now();     /* the first try may be at once */
    }
    /* the transaction is gone: all held data goes again */
    for (struct pg_writer *w = st->writers; w; w = w->next)
        w->sent = 0;
}

static int restore(struct pg_store *st, char **err);

/* Runs `sql` with text parameters (NULL: SQL NULL); the result, or NULL
 * and *err.  The caller PQclears. */
static PGresult *pg_run(struct pg_store *st, const char *sql, int n, const char *const *params,
                        const char *what, char **err)
{
    if (st->down && restore(st, err))
        return NULL;
    PGresult *r = PQexecParams(st->conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        if (conn_lost(st, r))
            go_down(st);
        pg_fail(st, r, what, err);
        return NULL;
    }
    return r;
}

static void journal_add(struct pg_store *st, const char *sql, int n, const char *const *params)
{
    struct pg_stmt *j = vnd_xcalloc(1, sizeof *j);
    j->sql = vnd_xstrdup(sql);
    j->n = n;
    j->params = vnd_xcalloc((size_t)n + 1, sizeof *j->params);
    for (int i = 0; i < n; i++)
        j->params[i] = params[i] ? vnd_xstrdup(params[i]) : NULL;
    *st->tail = j;
    st->tail = &j->next;
}

static void stmt_free(struct pg_stmt *j)
{
    for (int i = 0; i < j->n; i++)
        free(j->params[i]);
    free(j->params);
    free(j->sql);
    free(j);
}

/* Frees the journal up to and including `last` (NULL: all of it). */
static void journal_drop(struct pg_store *st, struct pg_stmt *last)
{
    struct pg_stmt *j = st->journal;
    bool more = j != NULL;
    while (more) {
        struct pg_stmt *next = j->next;
        more = next && j != last;
        stmt_free(j);
        j = next;
    }
    st->journal = last ? j : NULL;
    if (!st->journal)
        st->tail = &st->journal;
}

/* A statement that changes something.  In a batch it is kept for sending
 * again; while the store is down (or when the connection breaks under
 * it) it waits, held, for commit. */
static int pg_exec(struct pg_store *st, const char *sql, int n, const char *const *params,
                   const char *what, char **err)
{
    if (st->in_batch) {
        journal_add(st, sql, n, params);
        if (st->down)
            return 0;
    }
    PGresult *r = pg_run(st, sql, n, params, what, err);
    if (!r) {
        if (st->in_batch && st->down) {
            free(*err);
            *err = NULL;
            return 0;
        }
        if (st->in_batch) {      /* not kept: the batch fails with it */
            struct pg_stmt **p = &st->journal;
            while ((*p)->next)
                p = &(*p)->next;
            stmt_free(*p);
            *p = NULL;
            st->tail = p;
        }
        return EIO;
    }
    PQclear(r);
    return 0;
}

/* The first column of the first row as an integer; `dflt` when NULL or
 * no row (or on error, with *err). */
static int64_t pg_int(struct pg_store *st, const char *sql, int n, const char *const *params,
                      int64_t dflt, char **err)
{
    PGresult *r = pg_run(st, sql, n, params, "PostgreSQL", err);
    int64_t v = dflt;
    if (r && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static char *sql_f(struct pg_store *st, const char *fmt, const char *table)
{
    char *qt = quote_ident(table);
    char *sql = vnd_strdup_printf(fmt, st->schema, qt);
    free(qt);
    return sql;
}

/* ---- open, close ---- */

static const char meta_schema[] =
    "CREATE TABLE IF NOT EXISTS %1$s.vnd_meta ("
    " trace text NOT NULL, tbl text NOT NULL, tenant text,"
    " cap_point text, direction text, pattern text, source text,"
    " linktype bigint, parse_filter text, parse_fields text,"
    " packets_seen bigint, packets_matched bigint, packets_stored bigint,"
    " sampled_out bigint, dropped_kernel bigint, dropped_queue bigint,"
    " decode_anomalies bigint, sampling bigint, snaplen bigint,"
    " first_ts double precision, last_ts double precision, status text, message text,"
    " updated double precision, flow_sampling double precision, malformed bigint,"
    " PRIMARY KEY (trace, tbl));"
    /* columns added since: an older schema gets them */
    "ALTER TABLE %1$s.vnd_meta ADD COLUMN IF NOT EXISTS flow_sampling double precision;"
    "ALTER TABLE %1$s.vnd_meta ADD COLUMN IF NOT EXISTS malformed bigint;"
    /* rows not stored because the store was down too long (ingest.h) */
    "ALTER TABLE %1$s.vnd_meta ADD COLUMN IF NOT EXISTS store_lost bigint;"
    /* the table's rollup (ingest/rollup.h) */
    "ALTER TABLE %1$s.vnd_meta ADD COLUMN IF NOT EXISTS rollup text;"
    "ALTER TABLE %1$s.vnd_meta ADD COLUMN IF NOT EXISTS rollup_status text;"
    "ALTER TABLE %1$s.vnd_meta ADD COLUMN IF NOT EXISTS rollup_packets bigint;"
    "CREATE TABLE IF NOT EXISTS %1$s.vnd_slots ("
    " trace text NOT NULL, tbl text NOT NULL, slot bigint NOT NULL,"
    " PRIMARY KEY (trace, tbl), UNIQUE (tbl, slot))";

static void pg_close(struct vnd_store *vs)
{
    struct pg_store *st = (struct pg_store *)vs;
    if (!st)
        return;
    PQfinish(st->conn);
    journal_drop(st, NULL);
    free(st->why_down);
    free(st->conninfo);
    free(st->schema);
    free(st);
}

static int sampling_setup(struct pg_store *st, char **err);

/* The session's settings, the schema and its tables. */
static int session_setup(struct pg_store *st, char **err)
{
    /* A batch counted as stored must survive a crash: the commit waits
     * for the WAL (an asynchronous one lost the last batch of a parse
     * that had said it was stored; it cost nothing measurable here, as a
     * commit closes a batch of thousands of rows on the writer thread). */
    char *sql = vnd_strdup_printf("SET client_min_messages = warning;"
                                  " SET synchronous_commit = on;"
                                  " CREATE SCHEMA IF NOT EXISTS %1$s; SET search_path = %1$s",
                                  st->schema);
    PGresult *r = PQexec(st->conn, sql);
    free(sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return pg_fail(st, r, "PostgreSQL", err);
    PQclear(r);
    sql = vnd_strdup_printf(meta_schema, st->schema);
    r = PQexec(st->conn, sql);
    free(sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return pg_fail(st, r, "PostgreSQL: vnd_meta", err);
    PQclear(r);
    return sampling_setup(st, err);
}

/* "CONNINFO#SCHEMA": the schema after the last '#', when there is one. */
static int pg_open(const char *where, struct vnd_store **out, char **err)
{
    const char *hash = strrchr(where, '#');
    char *conninfo = hash ? vnd_xstrndup(where, (size_t)(hash - where)) : vnd_xstrdup(where);
    const char *schema = hash && hash[1] ? hash + 1 : "vnd";
    struct pg_store *st = vnd_xcalloc(1, sizeof *st);
    st->up.cls = &vnd_store_postgresql;
    st->tail = &st->journal;
    const char *hold = getenv("VND_STORE_HOLD_BYTES");
    long long h = hold ? strtoll(hold, NULL, 10) : 0;
    st->hold_max = h > 0 ? (size_t)h : HOLD_BYTES;
    st->conninfo = conninfo;
    /* A refused connection is classified by a ping taken after it, and
     * the server may change state in between: refused while starting up
     * ("the database system is starting up") and ready by the ping, so
     * connect again while the ping says it answers; one whose refusal
     * lasts (a password, a database) is refused again.  Classifying by a
     * ping that answers while the refusal was "starting up" made a parse
     * give up on a server seconds from ready. */
    PGPing ping = PQPING_OK;
    for (int tries = 0; tries < 3; tries++) {
        PQfinish(st->conn);
        st->conn = connect_quietly(conninfo);
        if (PQstatus(st->conn) == CONNECTION_OK || (ping = PQping(conninfo)) != PQPING_OK)
            break;
    }
    if (PQstatus(st->conn) != CONNECTION_OK) {
        *err = vnd_strdup_printf("PostgreSQL: cannot connect: %s", PQerrorMessage(st->conn));
        size_t n = strlen(*err);
        while (n && (*err)[n - 1] == '\n')
            (*err)[--n] = '\0';
        /* a server that does not answer, or is starting or stopping, may
         * answer later (ENOTCONN: the caller may wait); one that answers
         * and refuses (a password, a database) will not */
        pg_close(&st->up);
        return ping == PQPING_NO_RESPONSE || ping == PQPING_REJECT ? ENOTCONN : EIO;
    }
    st->schema = quote_ident(schema);
    if (session_setup(st, err)) {
        pg_close(&st->up);
        return EIO;
    }
    *out = &st->up;
    return 0;
}

/* ---- tables ---- */

static const char *pg_type(enum vnd_sql_type t)
{
    return t == VND_SQL_INTEGER ? "bigint" : t == VND_SQL_REAL ? "double precision"
         : t == VND_SQL_BLOB ? "bytea" : "text";
}

static int pg_ensure_table(struct vnd_store *vs, const char *table,
                           const struct vnd_parse_rule *rule, bool packed, char **err)
{
    (void)packed;   /* COPY's rows cost PostgreSQL little: no blocks here */
    struct pg_store *st = (struct pg_store *)vs;
    const char *why = vnd_store_identifier_problem(table);
    if (why) {
        *err = vnd_strdup_printf("'%s' is not a usable table name: %s", table, why);
        return EINVAL;
    }
    char *want = vnd_xstrdup("vnd_rowid bigint"), *cols = vnd_xstrdup("vnd_rowid bigint");
    for (int i = 0; i < rule->ncolumns; i++) {
        const char *type = pg_type(rule->coltypes[i]);
        char *next = vnd_strdup_printf("%s, %s %s", want, rule->columns[i], type);
        free(want);
        want = next;
        char *q = quote_ident(rule->columns[i]);
        next = vnd_strdup_printf("%s, %s %s", cols, q, type);
        free(q);
        free(cols);
        cols = next;
    }
    /* The schema's name unquoted, for the catalog. */
    const char *params[2] = {NULL, table};
    char *schema = vnd_xstrndup(st->schema + 1, strlen(st->schema) - 2);
    params[0] = schema;
    PGresult *r = pg_run(st, "SELECT string_agg(column_name || ' ' || data_type, ', '"
                             " ORDER BY ordinal_position) FROM information_schema.columns"
                             " WHERE table_schema = $1 AND table_name = $2", 2, params,
                         "PostgreSQL", err);
    free(schema);
    int rc = 0;
    if (!r) {
        rc = EIO;
    } else if (!PQgetisnull(r, 0, 0)) {
        if (strcmp(PQgetvalue(r, 0, 0), want)) {
            *err = vnd_strdup_printf("table %s exists with other columns (%s); this "
                                     "configuration makes (%s)", table, PQgetvalue(r, 0, 0),
                                     want);
            rc = EEXIST;
        }
    } else {
        char *qt = quote_ident(table);
        char *sql = vnd_strdup_printf("CREATE TABLE %s.%s (%s)", st->schema, qt, cols);
        free(qt);
        rc = pg_exec(st, sql, 0, NULL, table, err);
        free(sql);
        const char *p1[] = {table};
        if (!rc) {
            char *del = vnd_strdup_printf("DELETE FROM %s.vnd_slots WHERE tbl = $1", st->schema);
            rc = pg_exec(st, del, 1, p1, "vnd_slots", err);
            free(del);
        }
    }
    PQclear(r);
    free(want);
    free(cols);
    return rc;
}

/* ---- batches ---- */

/* Sends the writer's COPY data not yet sent in this transaction.  Sent
 * data stays held (for sending again) while the batch's data fits
 * HOLD_BYTES; past that it is let go and the batch is no longer whole. */
static int flush_writer(struct pg_writer *w, char **err)
{
    struct pg_store *st = w->st;
    if (w->len == w->sent || st->down)
        return 0;
    PGresult *r = PQexec(st->conn, w->copy_sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        if (conn_lost(st, r)) {
            PQclear(r);
            go_down(st);
            return 0;
        }
        return pg_fail(st, r, "COPY", err);
    }
    PQclear(r);
    static const unsigned char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
    static const unsigned char trailer[2] = {0xff, 0xff};
    int ok = PQputCopyData(st->conn, (const char *)header, sizeof header) == 1
             && PQputCopyData(st->conn, (const char *)w->buf + w->sent,
                              (int)(w->len - w->sent)) == 1
             && PQputCopyData(st->conn, (const char *)trailer, sizeof trailer) == 1;
    if (PQputCopyEnd(st->conn, ok ? NULL : "VND could not send the rows") != 1)
        ok = 0;
    int rc = 0;
    bool lost = false;
    while ((r = PQgetResult(st->conn))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !rc && !lost) {
            if (conn_lost(st, r)) {
                lost = true;
                PQclear(r);
            } else {
                rc = pg_fail(st, r, "COPY", err);
            }
        } else {
            PQclear(r);
        }
    }
    if (lost || (!ok && !rc && conn_lost(st, NULL))) {
        go_down(st);
        return 0;
    }
    if (!ok && !rc)
        rc = pg_fail(st, NULL, "COPY", err);
    if (rc)
        return rc;
    w->sent = w->len;
    if (st->held > st->hold_max) {
        /* too much to keep: sent rows are let go */
        st->whole = false;
        st->held -= w->len;
        w->len = w->sent = 0;
    }
    return 0;
}

static int flush_all(struct pg_store *st, char **err)
{
    for (struct pg_writer *w = st->writers; w; w = w->next) {
        int rc = flush_writer(w, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* The batch is over (committed or given up): nothing of it is held. */
static void batch_end(struct pg_store *st)
{
    for (struct pg_writer *w = st->writers; w; w = w->next)
        w->len = w->sent = w->unsure_len = 0;
    journal_drop(st, NULL);
    st->held = 0;
    st->in_batch = false;
    st->unsure_xid = 0;
    st->unsure_last = NULL;
}

/* A COMMIT whose answer was lost did commit: what it carried is stored;
 * only what the batch got since is still to send. */
static void drop_committed(struct pg_store *st)
{
    if (st->unsure_last)
        journal_drop(st, st->unsure_last);
    for (struct pg_writer *w = st->writers; w; w = w->next) {
        memmove(w->buf, w->buf + w->unsure_len, w->len - w->unsure_len);
        w->len -= w->unsure_len;
        st->held -= w->unsure_len;
        w->unsure_len = 0;
    }
}

static void pg_message(struct pg_store *st, const char *what, char **err)
{
    free(*err);
    *err = vnd_strdup_printf("%s: %s", what, PQerrorMessage(st->conn));
    size_t n = strlen(*err);
    while (n && ((*err)[n - 1] == '\n' || (*err)[n - 1] == ' '))
        (*err)[--n] = '\0';
    /* libpq's hint on a line of its own ("\n\tIs the server running"):
     * one line, for a log */
    char *o = *err;
    for (const char *p = *err; *p; p++)
        if (*p != '\n' && *p != '\t')
            *o++ = *p;
        else if (o[-1] != ' ')
            *o++ = ' ';
    *o = '\0';
}

static int session_setup(struct pg_store *st, char **err);

/* Connects again after the store went down: the session, then the open
 * batch sent again (its transaction, statements; COPY data at commit).
 * Tries at most once per backoff interval.  0; ENOTCONN while the server
 * does not answer (the batch stays held); ECONNABORTED when the batch
 * could not be held whole (it is gone: the caller gives it up). */
static int restore(struct pg_store *st, char **err)
{
    double now = vnd_now();
    if (now < st->next_try) {
        *err = vnd_strdup_printf("%s (trying again in %.1f s)",
                                 st->why_down ? st->why_down : "PostgreSQL does not answer",
                                 st->next_try - now);
        return ENOTCONN;
    }
    PQfinish(st->conn);
    st->conn = connect_quietly(st->conninfo);
    int rc = PQstatus(st->conn) == CONNECTION_OK ? session_setup(st, err) : EIO;
    if (rc) {
        if (!*err)
            pg_message(st, "PostgreSQL: cannot connect", err);
        free(st->why_down);
        st->why_down = vnd_xstrdup(*err);
        st->next_try = now + st->backoff;
        st->backoff = st->backoff * 2 < BACKOFF_MAX ? st->backoff * 2 : BACKOFF_MAX;
        return ENOTCONN;
    }
    st->down = false;
    st->reconnects++;
    if (st->unsure_xid) {
        char x[24];
        snprintf(x, sizeof x, "%lld", (long long)st->unsure_xid);
        const char *p[] = {x};
        PGresult *r = PQexecParams(st->conn, "SELECT txid_status($1::bigint)", 1, NULL, p,
                                   NULL, NULL, 0);
        bool known = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        bool committed = known && !strcmp(PQgetvalue(r, 0, 0), "committed");
        PQclear(r);
        if (!known) {
            go_down(st);
            pg_message(st, "PostgreSQL: the last COMMIT's outcome", err);
            return ENOTCONN;
        }
        if (committed)
            drop_committed(st);
        st->unsure_xid = 0;
        st->unsure_last = NULL;
    }
    if (!st->in_batch)
        return 0;
    if (!st->whole) {
        *err = vnd_xstrdup("PostgreSQL's connection broke during a batch too large to hold; "
                           "the batch is not stored");
        return ECONNABORTED;
    }
    PGresult *r = PQexec(st->conn, "BEGIN");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    for (struct pg_stmt *j = st->journal; ok && j; j = j->next) {
        r = PQexecParams(st->conn, j->sql, j->n, NULL, (const char *const *)j->params, NULL,
                         NULL, 0);
        ExecStatusType s = PQresultStatus(r);
        ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
        if (!ok && !conn_lost(st, r)) {
            rc = pg_fail(st, r, "PostgreSQL: sending the batch again", err);
            return rc;
        }
        PQclear(r);
    }
    if (!ok) {
        go_down(st);
        pg_message(st, "PostgreSQL", err);
        return ENOTCONN;
    }
    return 0;
}

static uint64_t pg_reconnects(struct vnd_store *vs, double *last_broke)
{
    struct pg_store *st = (struct pg_store *)vs;
    if (last_broke)
        *last_broke = st->broke_at;
    return st->reconnects;
}

static int pg_begin(struct vnd_store *vs, char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    batch_end(st);
    st->in_batch = true;
    st->whole = true;
    if (st->down)
        return 0;           /* held: sent by commit, once the server answers */
    PGresult *r = PQexec(st->conn, "BEGIN");
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        return 0;
    }
    if (conn_lost(st, r)) {
        PQclear(r);
        go_down(st);
        return 0;
    }
    st->in_batch = false;
    return pg_fail(st, r, "BEGIN", err);
}

/* 0: the batch is stored.  ENOTCONN: the server does not answer, the
 * batch stays held (commit again later, or roll back to give it up);
 * ECONNABORTED: the batch is gone; another errno: the batch failed. */
static int pg_commit(struct vnd_store *vs, char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    int rc = st->down ? restore(st, err) : 0;
    if (rc)
        return rc;
    if ((rc = flush_all(st, err)))
        return rc;
    if (st->down) {
        *err = vnd_xstrdup("PostgreSQL's connection broke; the batch is held");
        return ENOTCONN;
    }
    /* its transaction id first, to learn whether a COMMIT whose answer
     * is lost did commit */
    PGresult *r = PQexec(st->conn, "SELECT txid_current()");
    int64_t xid = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        xid = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else if (conn_lost(st, r)) {
        PQclear(r);
        go_down(st);
        *err = vnd_xstrdup("PostgreSQL's connection broke; the batch is held");
        return ENOTCONN;
    } else
        return pg_fail(st, r, "COMMIT", err);
    PQclear(r);
    r = PQexec(st->conn, "COMMIT");
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        batch_end(st);
        return 0;
    }
    if (!conn_lost(st, r))
        return pg_fail(st, r, "COMMIT", err);
    PQclear(r);
    /* maybe committed: what it carried is marked, looked up on reconnecting */
    go_down(st);
    st->unsure_xid = xid;
    struct pg_stmt *last = st->journal;
    while (last && last->next)
        last = last->next;
    st->unsure_last = last;
    for (struct pg_writer *w = st->writers; w; w = w->next)
        w->unsure_len = w->len;
    *err = vnd_xstrdup("PostgreSQL's connection broke during COMMIT; the batch is held");
    return ENOTCONN;
}

static int pg_rollback(struct vnd_store *vs)
{
    struct pg_store *st = (struct pg_store *)vs;
    bool was_sent = st->in_batch && !st->down;
    batch_end(st);
    if (!was_sent)
        return 0;
    PGresult *r = PQexec(st->conn, "ROLLBACK");
    if (PQresultStatus(r) != PGRES_COMMAND_OK && conn_lost(st, r))
        go_down(st);
    PQclear(r);
    return 0;
}

/* ---- rows in: binary COPY data ---- */

static void put_bytes(struct pg_writer *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        w->cap = (w->len + n) * 2 + 4096;
        w->buf = vnd_xrealloc(w->buf, w->cap);
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    w->st->held += n;
}

static void put_u32(struct pg_writer *w, uint32_t v)
{
    v = htonl(v);
    put_bytes(w, &v, 4);
}

static void put_u64(struct pg_writer *w, uint64_t v)
{
    put_u32(w, (uint32_t)(v >> 32));
    put_u32(w, (uint32_t)v);
}

static struct vnd_store_writer *pg_writer_new(struct vnd_store *vs, const char *table,
                                              char *const *columns, int ncols, bool rowid,
                                              char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    if (!rowid) {
        *err = vnd_xstrdup("PostgreSQL tables take every row with its rowid");
        return NULL;
    }
    struct pg_writer *w = vnd_xcalloc(1, sizeof *w);
    w->up.cls = &vnd_store_postgresql;
    w->st = st;
    w->ncols = ncols + 1;
    char *qt = quote_ident(table);
    char *names = vnd_xstrdup("vnd_rowid");
    for (int c = 0; c < ncols; c++) {
        char *q = quote_ident(columns[c]);
        char *next = vnd_strdup_printf("%s, %s", names, q);
        free(q);
        free(names);
        names = next;
    }
    w->copy_sql = vnd_strdup_printf("COPY %s.%s (%s) FROM STDIN (FORMAT binary)", st->schema,
                                    qt, names);
    free(qt);
    free(names);
    w->next = st->writers;
    st->writers = w;
    return &w->up;
}

static int pg_write_rows(struct vnd_store_writer *vw, const struct vnd_value *values, int nrows,
                         char **err)
{
    struct pg_writer *w = (struct pg_writer *)vw;
    for (int r = 0; r < nrows; r++) {
        const struct vnd_value *v = values + (size_t)r * (size_t)w->ncols;
        uint16_t n = htons((uint16_t)w->ncols);
        put_bytes(w, &n, 2);
        for (int c = 0; c < w->ncols; c++) {
            switch (v[c].type) {
            case VND_SQL_INTEGER:
                put_u32(w, 8);
                put_u64(w, (uint64_t)v[c].i);
                break;
            case VND_SQL_REAL: {
                uint64_t bits;
                memcpy(&bits, &v[c].d, 8);
                put_u32(w, 8);
                put_u64(w, bits);
                break;
            }
            case VND_SQL_TEXT:
            case VND_SQL_BLOB:
                put_u32(w, (uint32_t)v[c].slen);
                put_bytes(w, v[c].s, v[c].slen);
                break;
            case VND_SQL_ADDR: {
                char text[46];
                size_t len = vnd_format_addr(&v[c], text);
                put_u32(w, (uint32_t)len);
                put_bytes(w, text, len);
                break;
            }
            default:
                put_u32(w, 0xffffffffu);         /* NULL */
                break;
            }
        }
    }
    /* A long batch of one table need not be held whole. */
    return w->len - w->sent >= COPY_FLUSH_BYTES ? flush_writer(w, err) : 0;
}

static void pg_writer_free(struct vnd_store_writer *vw)
{
    struct pg_writer *w = (struct pg_writer *)vw;
    if (!w)
        return;
    for (struct pg_writer **p = &w->st->writers; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    w->st->held -= w->len;
    free(w->copy_sql);
    free(w->buf);
    free(w);
}

/* ---- vnd_meta ---- */

static int pg_put_meta(struct vnd_store *vs, const struct vnd_meta *m, char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    char num[13][32];
    const uint64_t counters[] = {m->seen, m->matched, m->stored, m->sampled_out,
                                 m->dropped_kernel, m->dropped_queue, m->anomalies};
    snprintf(num[0], 32, "%d", m->linktype);
    for (int k = 0; k < 7; k++)
        snprintf(num[1 + k], 32, "%llu", (unsigned long long)counters[k]);
    snprintf(num[8], 32, "%u", m->sampling ? m->sampling : 1);
    snprintf(num[9], 32, "%u", m->snaplen);
    snprintf(num[10], 32, "%.9f", (double)m->first_ns / 1e9);
    snprintf(num[11], 32, "%.9f", (double)m->last_ns / 1e9);
    snprintf(num[12], 32, "%llu", (unsigned long long)m->malformed);
    bool times = m->first_ns || m->last_ns;
    char updated[32], flow[32], lost[24], rolled[24];
    snprintf(lost, sizeof lost, "%llu", (unsigned long long)m->store_lost);
    snprintf(rolled, sizeof rolled, "%llu", (unsigned long long)m->rollup_packets);
    snprintf(updated, sizeof updated, "%.6f",
             m->complete_through > 0 ? m->complete_through : vnd_wall_now());
    snprintf(flow, sizeof flow, "%.6f", m->flow_sampling > 1 ? m->flow_sampling : 1);
    const char *p[] = {m->trace, m->table, m->tenant, m->cap_point, m->direction, m->pattern,
                       m->source, num[0], m->parse_filter, m->parse_fields,
                       num[1], num[2], num[3], num[4], num[5], num[6], num[7], num[8],
                       m->snaplen ? num[9] : NULL, times ? num[10] : NULL,
                       times ? num[11] : NULL, m->status, m->message, updated, flow, num[12],
                       lost, m->rollup, m->rollup_status, m->rollup ? rolled : NULL};
    char *sql = vnd_strdup_printf(
        /* named: columns added by ALTER come in the order a schema got them */
        "INSERT INTO %s.vnd_meta (trace, tbl, tenant, cap_point, direction, pattern, source,"
        " linktype, parse_filter, parse_fields, packets_seen, packets_matched, packets_stored,"
        " sampled_out, dropped_kernel, dropped_queue, decode_anomalies, sampling, snaplen,"
        " first_ts, last_ts, status, message, updated, flow_sampling, malformed, store_lost,"
        " rollup, rollup_status, rollup_packets)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,"
        "$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30) ON CONFLICT (trace, tbl) DO UPDATE SET"
        " tenant = EXCLUDED.tenant, cap_point = EXCLUDED.cap_point,"
        " direction = EXCLUDED.direction, pattern = EXCLUDED.pattern,"
        " source = EXCLUDED.source, linktype = EXCLUDED.linktype,"
        " parse_filter = EXCLUDED.parse_filter, parse_fields = EXCLUDED.parse_fields,"
        " packets_seen = EXCLUDED.packets_seen, packets_matched = EXCLUDED.packets_matched,"
        " packets_stored = EXCLUDED.packets_stored, sampled_out = EXCLUDED.sampled_out,"
        " dropped_kernel = EXCLUDED.dropped_kernel, dropped_queue = EXCLUDED.dropped_queue,"
        " decode_anomalies = EXCLUDED.decode_anomalies, sampling = EXCLUDED.sampling,"
        " snaplen = EXCLUDED.snaplen, first_ts = EXCLUDED.first_ts,"
        " last_ts = EXCLUDED.last_ts, status = EXCLUDED.status, message = EXCLUDED.message,"
        " updated = EXCLUDED.updated, flow_sampling = EXCLUDED.flow_sampling,"
        " malformed = EXCLUDED.malformed, store_lost = EXCLUDED.store_lost,"
        " rollup = EXCLUDED.rollup, rollup_status = EXCLUDED.rollup_status,"
        " rollup_packets = EXCLUDED.rollup_packets", st->schema);
    int rc = pg_exec(st, sql, 30, p, "vnd_meta", err);
    free(sql);
    return rc;
}

static int pg_get_meta(struct vnd_store *vs, const char *trace, const char *table,
                       struct vnd_meta *m)
{
    struct pg_store *st = (struct pg_store *)vs;
    const char *p[] = {trace, table};
    char *e = NULL;
    char *sql = vnd_strdup_printf(
        "SELECT packets_seen, packets_matched, packets_stored, sampled_out, dropped_kernel,"
        " dropped_queue, decode_anomalies, round(first_ts * 1e9)::bigint,"
        " round(last_ts * 1e9)::bigint, coalesce(malformed, 0), coalesce(store_lost, 0)"
        " FROM %s.vnd_meta WHERE trace = $1 AND tbl = $2",
        st->schema);
    PGresult *r = pg_run(st, sql, 2, p, "vnd_meta", &e);
    free(sql);
    free(e);
    int found = r && PQntuples(r) > 0;
    if (found) {
        memset(m, 0, sizeof *m);
        uint64_t *f[] = {&m->seen, &m->matched, &m->stored, &m->sampled_out,
                         &m->dropped_kernel, &m->dropped_queue, &m->anomalies};
        for (int k = 0; k < 7; k++)
            *f[k] = strtoull(PQgetvalue(r, 0, k), NULL, 10);
        if (!PQgetisnull(r, 0, 7)) {
            m->first_ns = strtoll(PQgetvalue(r, 0, 7), NULL, 10);
            m->last_ns = strtoll(PQgetvalue(r, 0, 8), NULL, 10);
        }
        m->malformed = strtoull(PQgetvalue(r, 0, 9), NULL, 10);
        m->store_lost = strtoull(PQgetvalue(r, 0, 10), NULL, 10);
    }
    PQclear(r);
    return found;
}

/* ---- vnd_sampling: the sampling history (store.h), as on SQLite ---- */

static int sampling_setup(struct pg_store *st, char **err)
{
    char *sql = vnd_strdup_printf(
        "CREATE TABLE IF NOT EXISTS %s.vnd_sampling ("
        " trace text NOT NULL, tbl text NOT NULL, from_ts double precision NOT NULL,"
        " sampling bigint NOT NULL, method text NOT NULL,"
        " flow_sampling double precision NOT NULL, reason text,"
        " PRIMARY KEY (trace, tbl, from_ts))", st->schema);
    int rc = pg_exec(st, sql, 0, NULL, "PostgreSQL: vnd_sampling", err);
    free(sql);
    if (rc)
        return rc;
    /* a column that came later */
    sql = vnd_strdup_printf("ALTER TABLE %s.vnd_sampling ADD COLUMN IF NOT EXISTS snaplen bigint",
                            st->schema);
    rc = pg_exec(st, sql, 0, NULL, "PostgreSQL: vnd_sampling", err);
    free(sql);
    return rc;
}

static int delete_sampling(struct pg_store *st, const char *trace, const char *table,
                           char **err)
{
    const char *p[] = {trace, table};
    char *sql = vnd_strdup_printf("DELETE FROM %s.vnd_sampling WHERE trace = $1 AND tbl = $2",
                                  st->schema);
    int rc = pg_exec(st, sql, 2, p, "vnd_sampling", err);
    free(sql);
    return rc;
}

static int pg_put_sampling(struct vnd_store *vs, const struct vnd_sampling_row *r, char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    if (r->from_ts == 0) {
        int rc = delete_sampling(st, r->trace, r->table, err);
        if (rc)
            return rc;
    }
    /* %.17g: the very double the rows' ts hold, so [from_ts, next) is exact */
    char from[40], n[24], flow[40], snap[24];
    snprintf(from, sizeof from, "%.17g", r->from_ts);
    snprintf(n, sizeof n, "%u", r->sampling > 1 ? r->sampling : 1);
    snprintf(flow, sizeof flow, "%.17g", r->flow_sampling > 1 ? r->flow_sampling : 1);
    snprintf(snap, sizeof snap, "%u", r->snaplen);
    const char *p[] = {r->trace, r->table, from, n, r->method ? r->method : "count", flow,
                       r->reason, snap};
    char *sql = vnd_strdup_printf(
        "INSERT INTO %s.vnd_sampling (trace, tbl, from_ts, sampling, method, flow_sampling,"
        " reason, snaplen) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
        " ON CONFLICT (trace, tbl, from_ts) DO UPDATE SET sampling = EXCLUDED.sampling,"
        " method = EXCLUDED.method, flow_sampling = EXCLUDED.flow_sampling,"
        " reason = EXCLUDED.reason, snaplen = EXCLUDED.snaplen", st->schema);
    int rc = pg_exec(st, sql, 8, p, "vnd_sampling", err);
    free(sql);
    return rc;
}

/* ---- traces: rowid slots, as on SQLite (store.h) ---- */

static bool table_exists(struct pg_store *st, const char *table)
{
    char *schema = vnd_xstrndup(st->schema + 1, strlen(st->schema) - 2);
    const char *p[] = {schema, table};
    char *e = NULL;
    int64_t n = pg_int(st, "SELECT count(*) FROM information_schema.tables WHERE"
                           " table_schema = $1 AND table_name = $2", 2, p, 0, &e);
    free(e);
    free(schema);
    return n > 0;
}

static int only_trace(struct pg_store *st, const char *trace, const char *table, bool *only,
                      char **err)
{
    const char *p[] = {table, trace};
    char *sql = vnd_strdup_printf("SELECT (SELECT count(*) FROM %1$s.vnd_meta WHERE tbl = $1"
                                  " AND trace <> $2) + (SELECT count(*) FROM %1$s.vnd_slots"
                                  " WHERE tbl = $1 AND trace <> $2)", st->schema);
    char *e = NULL;
    int64_t n = pg_int(st, sql, 2, p, -1, &e);
    free(sql);
    *only = n == 0;
    if (e) {
        *err = e;
        return EIO;
    }
    return 0;
}

static bool pg_only_trace(struct vnd_store *vs, const char *trace, const char *table)
{
    bool only = false;
    char *e = NULL;
    only_trace((struct pg_store *)vs, trace, table, &only, &e);
    free(e);
    return only;
}

static int64_t find_slot(struct pg_store *st, const char *trace, const char *table, char **err)
{
    const char *p[] = {trace, table};
    char *sql = vnd_strdup_printf("SELECT slot FROM %s.vnd_slots WHERE trace = $1 AND tbl = $2",
                                  st->schema);
    int64_t slot = pg_int(st, sql, 2, p, -1, err);
    free(sql);
    return slot;
}

static int pg_trace_rows(struct vnd_store *vs, const char *trace, const char *table,
                         struct vnd_store_rows *out, char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    char *e = NULL;
    int64_t slot = find_slot(st, trace, table, &e);
    if (e) {
        *err = e;
        return EIO;
    }
    if (slot < 0) {
        /* A new trace of the table: slot 0 when nobody has rows there. */
        const char *p[] = {table};
        char *sql = vnd_strdup_printf("SELECT CASE WHEN EXISTS (SELECT 1 FROM %1$s.vnd_slots"
                                      " WHERE tbl = $1) OR EXISTS (SELECT 1 FROM %1$s.vnd_meta"
                                      " WHERE tbl = $1) THEN greatest(1, (SELECT coalesce("
                                      "max(slot), 0) + 1 FROM %1$s.vnd_slots WHERE tbl = $1))"
                                      " ELSE 0 END", st->schema);
        slot = pg_int(st, sql, 1, p, -1, &e);
        free(sql);
        if (e) {
            *err = e;
            return EIO;
        }
        char sbuf[24];
        snprintf(sbuf, sizeof sbuf, "%lld", (long long)slot);
        const char *q[] = {trace, table, sbuf};
        sql = vnd_strdup_printf("INSERT INTO %s.vnd_slots VALUES ($1, $2, $3)", st->schema);
        int rc = pg_exec(st, sql, 3, q, "vnd_slots", err);
        free(sql);
        if (rc)
            return rc;
    }
    out->lo = slot * SLOT_ROWS;
    out->hi = out->lo + (SLOT_ROWS - 1);
    out->next = out->lo ? out->lo : 1;
    char lo[24], hi[24];
    snprintf(lo, sizeof lo, "%lld", (long long)out->lo);
    snprintf(hi, sizeof hi, "%lld", (long long)out->hi);
    const char *p[] = {lo, hi};
    char *sql = sql_f(st, "SELECT max(vnd_rowid) FROM %s.%s WHERE vnd_rowid BETWEEN $1 AND $2",
                      table);
    int64_t last = pg_int(st, sql, 2, p, -1, &e);
    free(sql);
    if (e) {
        *err = e;
        return EIO;
    }
    if (last >= out->next)
        out->next = last + 1;
    return 0;
}

static int delete_rows(struct pg_store *st, const char *trace, const char *table, char **err)
{
    if (!table_exists(st, table))
        return 0;
    bool only;
    int rc = only_trace(st, trace, table, &only, err);
    if (rc)
        return rc;
    if (only) {
        char *sql = sql_f(st, "DELETE FROM %s.%s", table);
        rc = pg_exec(st, sql, 0, NULL, table, err);
        free(sql);
        return rc;
    }
    char *e = NULL;
    int64_t slot = find_slot(st, trace, table, &e);
    if (e) {
        *err = e;
        return EIO;
    }
    if (slot < 0)
        return 0;
    char lo[24], hi[24];
    snprintf(lo, sizeof lo, "%lld", (long long)(slot * SLOT_ROWS));
    snprintf(hi, sizeof hi, "%lld", (long long)(slot * SLOT_ROWS + SLOT_ROWS - 1));
    const char *p[] = {lo, hi};
    char *sql = sql_f(st, "DELETE FROM %s.%s WHERE vnd_rowid BETWEEN $1 AND $2", table);
    rc = pg_exec(st, sql, 2, p, table, err);
    free(sql);
    return rc;
}

static int delete_meta(struct pg_store *st, const char *what, const char *trace,
                       const char *table, char **err)
{
    const char *p[] = {trace, table};
    char *sql = vnd_strdup_printf("DELETE FROM %s.%s WHERE trace = $1 AND tbl = $2", st->schema,
                                  what);
    int rc = pg_exec(st, sql, 2, p, what, err);
    free(sql);
    return rc;
}

static int pg_clear_trace(struct vnd_store *vs, const char *trace, const char *table, char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    int rc = delete_rows(st, trace, table, err);
    if (!rc)
        rc = delete_sampling(st, trace, table, err);
    return rc ? rc : delete_meta(st, "vnd_meta", trace, table, err);
}

static int pg_trace_tables(struct vnd_store *vs, const char *trace, char ***tables, int *n,
                           char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    *tables = NULL;
    *n = 0;
    const char *p[] = {trace};
    char *sql = vnd_strdup_printf("SELECT tbl FROM %1$s.vnd_meta WHERE trace = $1 UNION"
                                  " SELECT tbl FROM %1$s.vnd_slots WHERE trace = $1", st->schema);
    PGresult *r = pg_run(st, sql, 1, p, "vnd_meta", err);
    free(sql);
    if (!r)
        return EIO;
    *n = PQntuples(r);
    *tables = vnd_xcalloc((size_t)*n + 1, sizeof **tables);
    for (int i = 0; i < *n; i++)
        (*tables)[i] = vnd_xstrdup(PQgetvalue(r, i, 0));
    PQclear(r);
    return 0;
}

static int pg_drop_trace(struct vnd_store *vs, const char *trace, const char *table, char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    int rc;
    if (!table) {
        char **tables;
        int n;
        if ((rc = pg_trace_tables(vs, trace, &tables, &n, err)))
            return rc;
        for (int i = 0; i < n; i++) {
            if (!rc)
                rc = pg_drop_trace(vs, trace, tables[i], err);
            free(tables[i]);
        }
        free(tables);
        return rc;
    }
    bool only;
    if ((rc = only_trace(st, trace, table, &only, err)))
        return rc;
    if (only) {
        char *sql = sql_f(st, "DROP TABLE IF EXISTS %s.%s", table);
        rc = pg_exec(st, sql, 0, NULL, table, err);
        free(sql);
        const char *p[] = {table};
        if (!rc) {
            sql = vnd_strdup_printf("DELETE FROM %s.vnd_slots WHERE tbl = $1", st->schema);
            rc = pg_exec(st, sql, 1, p, "vnd_slots", err);
            free(sql);
        }
    } else {
        rc = delete_rows(st, trace, table, err);
        if (!rc)
            rc = delete_meta(st, "vnd_slots", trace, table, err);
    }
    if (!rc)
        rc = delete_sampling(st, trace, table, err);
    return rc ? rc : delete_meta(st, "vnd_meta", trace, table, err);
}

/* True when vnd_meta has a row where `cond` (of parameters p) holds. */
static bool meta_has(struct pg_store *st, const char *cond, int n, const char *const *p)
{
    char *sql = vnd_strdup_printf("SELECT count(*) FROM %s.vnd_meta WHERE %s", st->schema, cond);
    char *e = NULL;
    int64_t rows = pg_int(st, sql, n, p, 0, &e);
    free(sql);
    free(e);
    return rows > 0;
}

static bool pg_has_trace(struct vnd_store *vs, const char *trace, const char *table)
{
    const char *p[] = {trace, table};
    return meta_has((struct pg_store *)vs, "trace = $1 AND tbl = $2", 2, p);
}

/* PostgreSQL keeps a quoted name as written. */
static char *pg_canonical_table(struct vnd_store *vs, const char *table)
{
    (void)vs;
    (void)table;
    return NULL;
}

static int64_t pg_max_rowid(struct vnd_store *vs, const char *table)
{
    (void)vs;
    (void)table;
    return -1;
}

/* ---- tables kept beside the traces' (provider.h) ---- */

/* PostgreSQL's identifiers stop at 63 bytes (NAMEDATALEN - 1): a longer
 * name would be cut short here and not found by the name others know it
 * by. */
#define PG_NAME_MAX 63

static int pg_make_table(struct vnd_store *vs, const char *table,
                         const struct vnd_store_col *cols, int ncols,
                         const struct vnd_store_index *idx, int nidx, char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    if (strlen(table) > PG_NAME_MAX) {
        *err = vnd_strdup_printf("table %s: a name longer than PostgreSQL's %d bytes", table,
                                 PG_NAME_MAX);
        return ENAMETOOLONG;
    }
    char *qt = quote_ident(table);
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "CREATE TABLE %s.%s (vnd_rowid bigint", st->schema, qt);
    for (int i = 0; i < ncols; i++) {
        vnd_sb_printf(&sb, ", ");
        vnd_sb_ident(&sb, cols[i].name);
        vnd_sb_printf(&sb, " %s%s", pg_type(cols[i].type), cols[i].not_null ? " NOT NULL" : "");
    }
    vnd_sb_printf(&sb, ")");
    char *drop = vnd_strdup_printf("DROP TABLE IF EXISTS %s.%s", st->schema, qt);
    /* rows are deleted by rowid range (delete_rowids) */
    char *by_rowid = vnd_strdup_printf("CREATE INDEX ON %s.%s (vnd_rowid)", st->schema, qt);
    int rc = pg_exec(st, drop, 0, NULL, table, err);
    if (!rc)
        rc = pg_exec(st, sb.s, 0, NULL, table, err);
    if (!rc)
        rc = pg_exec(st, by_rowid, 0, NULL, table, err);
    for (int i = 0; i < nidx && !rc; i++) {
        char *name = vnd_strdup_printf("%s_%s", table, idx[i].suffix);
        char *qn = quote_ident(name);
        char *sql = vnd_strdup_printf("CREATE INDEX %s ON %s.%s (%s)%s%s",
                                      strlen(name) > PG_NAME_MAX ? "" : qn, st->schema, qt,
                                      idx[i].cols, idx[i].where ? " WHERE " : "",
                                      idx[i].where ? idx[i].where : "");
        rc = pg_exec(st, sql, 0, NULL, table, err);
        free(sql);
        free(qn);
        free(name);
    }
    free(by_rowid);
    free(drop);
    vnd_sb_free(&sb);
    free(qt);
    return rc;
}

/* One statement, the ranges as two arrays: a batch may replace the rows
 * of thousands of cells. */
static int pg_delete_rowids(struct vnd_store *vs, const char *table, const int64_t (*ranges)[2],
                            size_t n, char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    struct vnd_sb lo = {0}, hi = {0};
    for (size_t i = 0; i < n; i++) {
        vnd_sb_printf(&lo, "%s%lld", i ? "," : "{", (long long)ranges[i][0]);
        vnd_sb_printf(&hi, "%s%lld", i ? "," : "{", (long long)ranges[i][1]);
    }
    vnd_sb_printf(&lo, "}");
    vnd_sb_printf(&hi, "}");
    char *sql = sql_f(st, "DELETE FROM %s.%s t USING unnest($1::bigint[], $2::bigint[]) AS"
                          " d(lo, hi) WHERE t.vnd_rowid >= d.lo AND t.vnd_rowid < d.hi", table);
    const char *p[] = {lo.s, hi.s};
    int rc = pg_exec(st, sql, 2, p, table, err);
    free(sql);
    vnd_sb_free(&lo);
    vnd_sb_free(&hi);
    return rc;
}

static int pg_drop_table(struct vnd_store *vs, const char *table, char **err)
{
    struct pg_store *st = (struct pg_store *)vs;
    if (strlen(table) > PG_NAME_MAX)
        return 0;                   /* never made (pg_make_table) */
    char *sql = sql_f(st, "DROP TABLE IF EXISTS %s.%s", table);
    int rc = pg_exec(st, sql, 0, NULL, table, err);
    free(sql);
    return rc;
}

static bool pg_trace_table(struct vnd_store *vs, const char *table)
{
    const char *p[] = {table};
    return meta_has((struct pg_store *)vs, "lower(tbl) = lower($1)", 1, p);
}

/* ---- rows out: a cursor in single-row mode ---- */

struct pg_cursor {
    struct vnd_cursor up;
    PGconn *conn;
    PGresult *row;               /* the current row's result */
    PGresult *first;             /* the first row, read with the columns */
    void *blob;                  /* the last bytea cell, unescaped */
    bool done;
};

static int pg_cursor_next(struct vnd_cursor *c, int *code, char **err)
{
    struct pg_cursor *q = (struct pg_cursor *)c;
    PQclear(q->row);
    q->row = NULL;
    if (q->first) {
        q->row = q->first;
        q->first = NULL;
        return 1;
    }
    if (q->done)
        return 0;
    PGresult *r = PQgetResult(q->conn);
    if (!r) {
        q->done = true;
        return 0;
    }
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_SINGLE_TUPLE) {
        q->row = r;
        return 1;
    }
    if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
        PQclear(r);
        while ((r = PQgetResult(q->conn)))
            PQclear(r);
        q->done = true;
        return 0;
    }
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (code)
        *code = state && !strcmp(state, "57014") ? ETIMEDOUT : EIO;   /* query_canceled */
    *err = vnd_xstrdup(PQresultErrorMessage(r));
    size_t n = strlen(*err);
    while (n && (*err)[n - 1] == '\n')
        (*err)[--n] = '\0';
    PQclear(r);
    while ((r = PQgetResult(q->conn)))
        PQclear(r);
    q->done = true;
    return -1;
}

/* PostgreSQL's type OIDs (catalog/pg_type_d.h, stable across versions). */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23,
       OID_OID = 26, OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_NUMERIC = 1700 };

/* A numeric's text as an integer when it is one that fits: sum() and
 * count() of bigints are numeric in PostgreSQL, integers in SQLite. */
static bool numeric_integer(const char *s, int64_t *out)
{
    if (!*s || strpbrk(s, ".eEN"))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

void vnd_pg_value(const struct pg_result *r, int row, int i, struct vnd_value *v, void **freeme)
{
    memset(v, 0, sizeof *v);
    *freeme = NULL;
    if (PQgetisnull(r, row, i)) {
        v->type = VND_SQL_NULL;
        return;
    }
    const char *s = PQgetvalue(r, row, i);
    switch (PQftype(r, i)) {
    case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID:
        v->type = VND_SQL_INTEGER;
        v->i = strtoll(s, NULL, 10);
        return;
    case OID_BOOL:
        v->type = VND_SQL_INTEGER;
        v->i = s[0] == 't';
        return;
    case OID_NUMERIC:
        if (numeric_integer(s, &v->i)) {
            v->type = VND_SQL_INTEGER;
            return;
        }
        /* fall through */
    case OID_FLOAT4: case OID_FLOAT8:
        v->type = VND_SQL_REAL;
        v->d = strtod(s, NULL);
        return;
    case OID_BYTEA: {
        size_t n = 0;
        unsigned char *b = PQunescapeBytea((const unsigned char *)s, &n);
        v->type = b ? VND_SQL_BLOB : VND_SQL_NULL;
        v->s = (const char *)b;
        v->slen = n;
        *freeme = b;
        return;
    }
    default:
        v->type = VND_SQL_TEXT;
        v->s = s;
        v->slen = (size_t)PQgetlength(r, row, i);
        return;
    }
}

static void pg_cursor_cell(struct vnd_cursor *c, int i, struct vnd_value *v)
{
    struct pg_cursor *q = (struct pg_cursor *)c;
    if (!q->row) {
        memset(v, 0, sizeof *v);
        v->type = VND_SQL_NULL;
        return;
    }
    PQfreemem(q->blob);
    vnd_pg_value(q->row, 0, i, v, &q->blob);
}

static void pg_cursor_close(struct vnd_cursor *c)
{
    struct pg_cursor *q = (struct pg_cursor *)c;
    PQclear(q->row);
    PQclear(q->first);
    PQfreemem(q->blob);
    if (!q->done) {
        /* Stop the rest: cancel, then read what is left. */
        PGcancel *cancel = PQgetCancel(q->conn);
        char buf[256];
        if (cancel) {
            PQcancel(cancel, buf, sizeof buf);
            PQfreeCancel(cancel);
        }
        PGresult *r;
        while ((r = PQgetResult(q->conn)))
            PQclear(r);
    }
}

static const struct vnd_cursor_class pg_cursor_class = {
    pg_cursor_next, pg_cursor_cell, pg_cursor_close,
};

struct vnd_cursor *vnd_cursor_pg(PGconn *conn, const char *sql, char **err)
{
    if (!PQsendQuery(conn, sql) || !PQsetSingleRowMode(conn)) {
        *err = vnd_xstrdup(PQerrorMessage(conn));
        return NULL;
    }
    struct pg_cursor *q = vnd_xcalloc(1, sizeof *q);
    q->up.cls = &pg_cursor_class;
    q->conn = conn;
    /* The columns come with the first result. */
    PGresult *r = PQgetResult(conn);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_SINGLE_TUPLE && s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
        *err = vnd_xstrdup(PQresultErrorMessage(r));
        size_t n = strlen(*err);
        while (n && (*err)[n - 1] == '\n')
            (*err)[--n] = '\0';
        PQclear(r);
        while ((r = PQgetResult(conn)))
            PQclear(r);
        free(q);
        return NULL;
    }
    int n = PQnfields(r);
    const char **names = vnd_xcalloc((size_t)n + 1, sizeof *names);
    for (int i = 0; i < n; i++)
        names[i] = PQfname(r, i);
    vnd_cursor_set_columns(&q->up, n, names);
    free(names);
    if (s == PGRES_SINGLE_TUPLE) {
        q->first = r;           /* next() returns it first */
    } else {
        PQclear(r);
        while ((r = PQgetResult(conn)))
            PQclear(r);
        q->done = true;
    }
    return &q->up;
}

const struct vnd_store_provider vnd_store_postgresql = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .ensure_table = pg_ensure_table,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .writer_new = pg_writer_new,
    .write_rows = pg_write_rows,
    .writer_free = pg_writer_free,
    .put_meta = pg_put_meta,
    .put_sampling = pg_put_sampling,
    .get_meta = pg_get_meta,
    .trace_rows = pg_trace_rows,
    .clear_trace = pg_clear_trace,
    .drop_trace = pg_drop_trace,
    .only_trace = pg_only_trace,
    .has_trace = pg_has_trace,
    .trace_tables = pg_trace_tables,
    .canonical_table = pg_canonical_table,
    .max_rowid = pg_max_rowid,
    .make_table = pg_make_table,
    .delete_rowids = pg_delete_rowids,
    .drop_table = pg_drop_table,
    .trace_table = pg_trace_table,
    .sqlite = NULL,
    .reconnects = pg_reconnects,
};
