/* store_sqlite.c — the SQLite provider of the trace store (provider.h):
 * one file, WAL, vnd_meta, rowid slots, batches. */
#include "store/store.h"
#include "store/packed.h"
#include "store/provider.h"
#include "util/sb.h"

#include <errno.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lang/lexer.h"
#include "util/util.h"

struct sq_store {
    struct vnd_store up;        /* first: a vnd_store * is one of these */
    sqlite3 *db;
    sqlite3_stmt *put_meta;
    /* Checkpoints (copying the WAL into the database file) run on a
     * thread of their own with its own connection, so a batch's commit
     * never waits for them: they cost as much as the commit itself. */
    sqlite3 *ckpt_db;
    pthread_t ckpt_thread;
    pthread_mutex_t ckpt_lock;
    pthread_cond_t ckpt_cond;
    unsigned commits;       /* checkpoints asked for (a WAL past CKPT_FRAMES) since the last */
    bool ckpt_running, ckpt_quit;
    /* A committer that finds the WAL past WAL_BOUND_FRAMES waits for a
     * checkpoint begun after its commit: `asked` numbers those waits,
     * `served` is the number of the last one a checkpoint began after. */
    pthread_cond_t ckpt_done;
    uint64_t asked, served;
    /* writers of packed tables: their open blocks go in before a commit */
    struct sq_writer **packed;
    int npacked;
};

static void *checkpointer(void *arg)
{
    prctl(PR_SET_NAME, "vnd-ckpt", 0, 0, 0);   /* not its creator's (tabled/budget.h) */
    struct sq_store *st = arg;
    pthread_mutex_lock(&st->ckpt_lock);
    for (;;) {
        while (!st->commits && !st->ckpt_quit)
            pthread_cond_wait(&st->ckpt_cond, &st->ckpt_lock);
        if (st->ckpt_quit)
            break;
        st->commits = 0;
        uint64_t serving = st->asked;
        pthread_mutex_unlock(&st->ckpt_lock);
        /* PASSIVE: copies what no reader still needs, never blocks the
         * writer; the WAL restarts from its beginning once all is copied. */
        sqlite3_wal_checkpoint_v2(st->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&st->ckpt_lock);
        st->served = serving;
        pthread_cond_broadcast(&st->ckpt_done);
    }
    pthread_mutex_unlock(&st->ckpt_lock);
    return NULL;
}

/* SQLite's own default: a checkpoint once the WAL holds 1000 frames (16 MB
 * of our pages).  After every commit, `vnd parse` took 0.83 s where it had
 * taken 0.48 s: each checkpoint syncs both files and copies the hot pages
 * again. */
#define CKPT_FRAMES 1000

/* The WAL restarts from its beginning only when a writer's transaction
 * begins after a checkpoint has copied all of it.  A writer that always
 * has rows (a collector flat out) begins its next transaction before the
 * checkpointer is done, so the WAL grew by all it wrote: 210 MB in a
 * 2-s burst of IPFIX, and without end under a steady load as high.  Past
 * this many frames (64 MB of 16-KiB pages) the committer waits for a
 * checkpoint begun after its commit (its locks are released by then);
 * the next transaction starts the WAL over, and journal_size_limit cuts
 * the file back to this size. */
#define WAL_BOUND_FRAMES (4 * CKPT_FRAMES)
#define WAL_BOUND_WAIT_S 2     /* a reader holding old pages: give up waiting */

/* Every commit, autocommit statements' too, hands a checkpoint to the
 * thread.  (Signalled from the explicit commits alone, a store written
 * only by single statements, the table server's registry, never had its
 * WAL copied back: it grew by 200 KB a second, 17 GB a day.) */
static int wal_committed(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db, (void)name;
    struct sq_store *st = arg;
    if (frames < CKPT_FRAMES)
        return SQLITE_OK;
    pthread_mutex_lock(&st->ckpt_lock);
    st->commits++;
    pthread_cond_signal(&st->ckpt_cond);
    if (frames >= WAL_BOUND_FRAMES) {
        uint64_t ticket = ++st->asked;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += WAL_BOUND_WAIT_S;
        while (st->served < ticket && !st->ckpt_quit
               && pthread_cond_timedwait(&st->ckpt_done, &st->ckpt_lock, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&st->ckpt_lock);
    return SQLITE_OK;
}

/* Starts the checkpointer; without it (no second connection, no thread)
 * SQLite's own automatic checkpoints stay on. */
static void start_checkpointer(struct sq_store *st, const char *path)
{
    if (sqlite3_open_v2(path, &st->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        sqlite3_close(st->ckpt_db);
        st->ckpt_db = NULL;
        return;
    }
    sqlite3_busy_timeout(st->ckpt_db, 100);
    /* A read first: until a connection has read the file it does not know
     * the WAL, and its checkpoints do nothing (SQLITE_OK, -1 frames).
     * Without this the thread never copied a page: every store's data
     * stayed in its WAL until the close, 1.7 GB of it on a bed's table
     * server after 30 minutes. */
    sqlite3_exec(st->ckpt_db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    pthread_mutex_init(&st->ckpt_lock, NULL);
    pthread_cond_init(&st->ckpt_cond, NULL);
    pthread_cond_init(&st->ckpt_done, NULL);
    if (pthread_create(&st->ckpt_thread, NULL, checkpointer, st) != 0) {
        sqlite3_close(st->ckpt_db);
        st->ckpt_db = NULL;
        return;
    }
    st->ckpt_running = true;
    /* replaces SQLite's automatic checkpoints, which run in the committer */
    sqlite3_wal_hook(st->db, wal_committed, st);
}

static void stop_checkpointer(struct sq_store *st)
{
    if (!st->ckpt_running)
        return;
    sqlite3_wal_hook(st->db, NULL, NULL);      /* no commit signals it from here */
    pthread_mutex_lock(&st->ckpt_lock);
    st->ckpt_quit = true;
    pthread_cond_signal(&st->ckpt_cond);
    pthread_cond_broadcast(&st->ckpt_done);
    pthread_mutex_unlock(&st->ckpt_lock);
    pthread_join(st->ckpt_thread, NULL);
    sqlite3_close(st->ckpt_db);
    pthread_mutex_destroy(&st->ckpt_lock);
    pthread_cond_destroy(&st->ckpt_cond);
    pthread_cond_destroy(&st->ckpt_done);
    st->ckpt_running = false;
}

static const char meta_schema[] =
    "CREATE TABLE IF NOT EXISTS vnd_meta ("
    " trace TEXT NOT NULL, tbl TEXT NOT NULL, tenant TEXT,"
    " cap_point TEXT, direction TEXT, pattern TEXT, source TEXT,"
    " linktype INTEGER, parse_filter TEXT, parse_fields TEXT,"
    " packets_seen INTEGER, packets_matched INTEGER, packets_stored INTEGER,"
    " sampled_out INTEGER, dropped_kernel INTEGER, dropped_queue INTEGER,"
    " decode_anomalies INTEGER, sampling INTEGER, snaplen INTEGER,"
    " first_ts REAL, last_ts REAL, status TEXT, message TEXT, updated REAL,"
    " flow_sampling REAL, rollup TEXT, rollup_status TEXT, rollup_packets INTEGER,"
    " malformed INTEGER,"
    " PRIMARY KEY (trace, tbl))";
/* Columns that came later: a file made before gets them when opened (the
 * error of a column already there is no error; readers name the columns
 * they read). */
static const char *const meta_added[] = {"flow_sampling REAL", "rollup TEXT",
                                         "rollup_status TEXT", "rollup_packets INTEGER",
                                         "malformed INTEGER"};

/* The sampling history of each (trace, table): store.h, docs/cost.md. */
static const char sampling_schema[] =
    "CREATE TABLE IF NOT EXISTS vnd_sampling ("
    " trace TEXT NOT NULL, tbl TEXT NOT NULL, from_ts REAL NOT NULL,"
    " sampling INTEGER NOT NULL, method TEXT NOT NULL, flow_sampling REAL NOT NULL,"
    " reason TEXT, snaplen INTEGER, PRIMARY KEY (trace, tbl, from_ts))";

/* Which rows of a table are whose: see "rowid slots" in store.h. */
static const char slots_schema[] =
    "CREATE TABLE IF NOT EXISTS vnd_slots ("
    " trace TEXT NOT NULL, tbl TEXT NOT NULL COLLATE NOCASE, slot INTEGER NOT NULL,"
    " PRIMARY KEY (trace, tbl), UNIQUE (tbl, slot));"
    /* whose rows a table holds: asked at every commit (ingest's check_auto) */
    "CREATE INDEX IF NOT EXISTS vnd_meta_tbl ON vnd_meta (tbl COLLATE NOCASE)";

static bool has_trace_db(sqlite3 *db, const char *trace, const char *table);
static int sq_trace_tables(struct vnd_store *vs, const char *trace, char ***tables, int *n,
                           char **err);

static void bind_text_or_null0(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

static int fail(sqlite3 *db, char **err, const char *what)
{
    *err = vnd_strdup_printf("%s: %s", what, sqlite3_errmsg(db));
    return EIO;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *kinds, ...);
static int run(sqlite3 *db, sqlite3_stmt *s, int64_t *first, const char *what, char **err);

static int exec(sqlite3 *db, const char *sql, char **err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        *err = vnd_strdup_printf("%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return EIO;
    }
    return 0;
}

static int sq_open(const char *path, struct vnd_store **out, char **err)
{
    struct sq_store *st = vnd_xcalloc(1, sizeof *st);
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        *err = vnd_strdup_printf("%s: cannot open: %s", path,
                                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto out_close;
    }
    /* No connection mutex: one thread at a time uses a store (see the
     * threading note in ingest/ingest.h). */
    sqlite3_busy_timeout(st->db, 5000);
    if (vnd_packed_register(st->db, NULL, NULL) != SQLITE_OK) {
        fail(st->db, err, path);
        goto out_close;
    }
    /* WAL: readers (tenant queries, --follow) never block the writer, and
     * a killed writer loses only the uncommitted batch.  synchronous=NORMAL
     * is durable against process death; only power loss may drop the last
     * batches, never corrupt.  16 KiB pages (for a new file; an existing
     * one keeps its own): a quarter of the pages, WAL frames and write
     * calls of SQLite's 4 KiB for the same rows cut `vnd parse`'s CPU time
     * by a sixth; larger pages gained little more here, and every commit
     * of a table server rewrites each active trace's last page. */
    if (exec(st->db, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA journal_size_limit=67108864;"    /* WAL_BOUND_FRAMES' */
                     "PRAGMA cache_size=-8192; PRAGMA temp_store=MEMORY;", err)
        || exec(st->db, meta_schema, err) || exec(st->db, slots_schema, err)
        || exec(st->db, sampling_schema, err))
        goto out_close_prefixed;
    for (size_t i = 0; i < sizeof meta_added / sizeof *meta_added; i++) {
        char *sql = vnd_strdup_printf("ALTER TABLE vnd_meta ADD COLUMN %s", meta_added[i]);
        sqlite3_exec(st->db, sql, NULL, NULL, NULL);
        free(sql);
    }
    sqlite3_exec(st->db, "ALTER TABLE vnd_sampling ADD COLUMN snaplen INTEGER", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(st->db,
            "INSERT OR REPLACE INTO vnd_meta (trace, tbl, tenant, cap_point, direction,"
            " pattern, source, linktype, parse_filter, parse_fields, packets_seen,"
            " packets_matched, packets_stored, sampled_out, dropped_kernel, dropped_queue,"
            " decode_anomalies, sampling, snaplen, first_ts, last_ts, status, message, updated,"
            " flow_sampling, rollup, rollup_status, rollup_packets, malformed)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st->put_meta,
            NULL) != SQLITE_OK) {
        fail(st->db, err, path);
        goto out_close;
    }
    start_checkpointer(st, path);
    st->up.cls = &vnd_store_sqlite;
    *out = &st->up;
    return 0;

out_close_prefixed: {
        char *e = *err;
        *err = vnd_strdup_printf("%s: %s (is it a VND trace database?)", path, e);
        free(e);
    }
out_close:
    sqlite3_close(st->db);
    free(st);
    return EIO;
}

static void sq_close(struct vnd_store *vs)
{
    struct sq_store *st = (struct sq_store *)vs;
    if (!st)
        return;
    stop_checkpointer(st);
    sqlite3_finalize(st->put_meta);
    sqlite3_close(st->db);   /* the last connection checkpoints the rest */
    free(st->packed);
    free(st);
}

/* The columns `table` has now, as "name TYPE, name TYPE"; NULL if none. */
static char *existing_columns(sqlite3 *db, const char *table)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT name, type FROM pragma_table_info(?)", -1, &s, NULL)
        != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    char *acc = NULL;
    while (sqlite3_step(s) == SQLITE_ROW) {
        char *next = vnd_strdup_printf("%s%s%s %s", acc ? acc : "", acc ? ", " : "",
                                       sqlite3_column_text(s, 0), sqlite3_column_text(s, 1));
        free(acc);
        acc = next;
    }
    sqlite3_finalize(s);
    return acc;
}

static int sq_ensure_table(struct vnd_store *vs, const char *table,
                           const struct vnd_parse_rule *rule, bool packed, char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    const char *why = vnd_store_identifier_problem(table);
    if (why) {
        *err = vnd_strdup_printf("'%s' is not a usable table name: %s", table, why);
        return EINVAL;
    }
    /* Whatever else this SQLite knows as a module (an extension loaded
     * since the list in vnd_sql_reserved_table was made) is refused too. */
    sqlite3_stmt *ms;
    if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM pragma_module_list WHERE name = ? COLLATE NOCASE",
                           -1, &ms, NULL) == SQLITE_OK) {
        sqlite3_bind_text(ms, 1, table, -1, SQLITE_STATIC);
        bool module = sqlite3_step(ms) == SQLITE_ROW;
        sqlite3_finalize(ms);
        if (module) {
            *err = vnd_strdup_printf("'%s' is not a usable table name: SQLite has a module "
                                     "of that name", table);
            return EINVAL;
        }
    }
    /* `want` compares with what pragma_table_info says; `cols` is the
     * same with the names quoted, for CREATE (a column may be a keyword). */
    char *want = NULL, *cols = NULL;
    for (int i = 0; i < rule->ncolumns; i++) {
        const char *type = vnd_sql_type_name(rule->coltypes[i]);
        char *next = vnd_strdup_printf("%s%s%s %s", want ? want : "", want ? ", " : "",
                                       rule->columns[i], type);
        free(want);
        want = next;
        next = vnd_strdup_printf("%s%s\"%s\" %s", cols ? cols : "", cols ? ", " : "",
                                 rule->columns[i], type);
        free(cols);
        cols = next;
    }
    char *have = existing_columns(st->db, table);
    int rc = 0;
    if (have) {
        if (strcmp(have, want) != 0) {
            *err = vnd_strdup_printf("table %s exists with other columns (%s); this "
                                     "configuration makes (%s)", table, have, want);
            rc = EEXIST;
        }
    } else {
        /* packed: the blocks (a leftover's go), then T over them */
        char *sql = packed ? vnd_strdup_printf("DROP TABLE IF EXISTS \"%s" VND_PACKED_SUFFIX "\";"
                                               " CREATE TABLE \"%s" VND_PACKED_SUFFIX "\" (last"
                                               " INTEGER PRIMARY KEY, first INTEGER NOT NULL,"
                                               " n INTEGER NOT NULL, ncols INTEGER NOT NULL,"
                                               " rows BLOB NOT NULL); CREATE VIRTUAL TABLE"
                                               " \"%s\" USING vnd_packed(%s)", table, table,
                                               table, cols)
                           : vnd_strdup_printf("CREATE TABLE \"%s\" (%s)", table, cols);
        rc = exec(st->db, sql, err);
        free(sql);
        /* slots of a table of the same name that someone else dropped */
        if (!rc)
            rc = run(st->db, prep(st->db, "DELETE FROM vnd_slots WHERE tbl = ?", "s", table),
                     NULL, "vnd_slots", err);
    }
    free(have);
    free(want);
    free(cols);
    return rc;
}

/* ---- which rows are whose: rowid slots (see store.h) ---- */

#define SLOT_ROWS ((int64_t)1 << VND_STORE_SLOT_BITS)
#define SLOT_MAX ((INT64_MAX >> VND_STORE_SLOT_BITS) - 1)

/* A statement with text parameters (NULL: NULL) and 64-bit integers, as
 * `kinds` says: "ssi" = text, text, integer. */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *kinds, ...)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return NULL;
    va_list ap;
    va_start(ap, kinds);
    for (int i = 0; kinds[i]; i++) {
        if (kinds[i] == 's')
            bind_text_or_null0(s, i + 1, va_arg(ap, const char *));
        else
            sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
    }
    va_end(ap);
    return s;
}

/* Steps a statement made by prep() to its end (or its first row, whose
 * first column lands in *first when not NULL) and finalizes it.  Returns
 * 0, or EIO with *err naming `what`. */
static int run(sqlite3 *db, sqlite3_stmt *s, int64_t *first, const char *what, char **err)
{
    if (!s)
        return fail(db, err, what);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && first && sqlite3_column_type(s, 0) != SQLITE_NULL)
        *first = sqlite3_column_int64(s, 0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fail(db, err, what);
        sqlite3_finalize(s);
        return EIO;
    }
    sqlite3_finalize(s);
    return 0;
}

static bool table_exists(sqlite3 *db, const char *table)
{
    int64_t n = 0;
    char *e = NULL;
    run(db, prep(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND"
                     " name = ? COLLATE NOCASE", "s", table), &n, "", &e);
    free(e);
    return n > 0;
}

/* The table that holds `table`'s rows by rowid, malloc'd: its blocks when
 * it is packed (a block's rowid is its last row's, and a block holds one
 * slot's rows), else itself. */
static char *rows_table(sqlite3 *db, const char *table)
{
    char *blocks = vnd_strdup_printf("%s" VND_PACKED_SUFFIX, table);
    if (table_exists(db, blocks))
        return blocks;
    free(blocks);
    return vnd_xstrdup(table);
}

static bool is_packed(sqlite3 *db, const char *table)
{
    char *rows = rows_table(db, table);
    bool packed = strcmp(rows, table) != 0;
    free(rows);
    return packed;
}

/* True when no trace but `trace` has a vnd_meta row or a slot in `table`. */
static int only_trace(sqlite3 *db, const char *trace, const char *table, bool *only, char **err)
{
    int64_t n = 0;
    int rc = run(db, prep(db, "SELECT (SELECT count(*) FROM vnd_meta WHERE tbl = ?1 COLLATE NOCASE"
                              " AND trace <> ?2) + (SELECT count(*) FROM vnd_slots WHERE"
                              " tbl = ?1 AND trace <> ?2)", "ss", table, trace),
                 &n, "vnd_meta", err);
    *only = n == 0;
    return rc;
}

/* The slot of (trace, table): from vnd_slots, or for a trace whose rows
 * were written before there were slots, slot 0 — when it is the one such
 * trace of the table; *slot = -1 when the trace has no rows there.
 * Returns EEXIST when rows from before slots cannot be told apart. */
static int find_slot(sqlite3 *db, const char *trace, const char *table, int64_t *slot,
                     char **err)
{
    *slot = -1;
    int rc = run(db, prep(db, "SELECT slot FROM vnd_slots WHERE trace = ? AND tbl = ?", "ss",
                          trace, table), slot, "vnd_slots", err);
    if (rc || *slot >= 0 || !has_trace_db(db, trace, table))
        return rc;
    /* Rows from before vnd_slots: slot 0 is this trace's unless another
     * trace of the table has such rows or slot 0 is taken. */
    sqlite3_stmt *s = prep(db, "SELECT group_concat(trace, ', ') FROM (SELECT trace FROM"
                               " vnd_meta m WHERE tbl = ?1 COLLATE NOCASE AND trace <> ?2 AND"
                               " NOT EXISTS (SELECT 1 FROM vnd_slots v WHERE v.trace = m.trace"
                               " AND v.tbl = ?1) UNION SELECT trace FROM vnd_slots WHERE"
                               " tbl = ?1 AND slot = 0 AND trace <> ?2)", "ss", table, trace);
    if (!s)
        return fail(db, err, "vnd_meta");
    char *others = NULL;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        others = vnd_xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (others) {
        *err = vnd_strdup_printf("table %s holds rows of traces %s and %s that an older VND "
                                 "wrote without recording which rows are whose, so they "
                                 "cannot be told apart: parse these traces again into a new "
                                 "database", table, trace, others);
        free(others);
        return EEXIST;
    }
    *slot = 0;
    return 0;
}

static void slot_range(int64_t slot, struct vnd_store_rows *r)
{
    r->lo = slot * SLOT_ROWS;
    r->hi = r->lo + (SLOT_ROWS - 1);
    r->next = r->lo ? r->lo : 1;
}

static int sq_trace_rows(struct vnd_store *vs, const char *trace, const char *table,
                         struct vnd_store_rows *out, char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    sqlite3 *db = st->db;
    int64_t slot, owned = -1;
    int rc = find_slot(db, trace, table, &slot, err);
    if (!rc)
        rc = run(db, prep(db, "SELECT slot FROM vnd_slots WHERE trace = ? AND tbl = ?", "ss",
                          trace, table), &owned, "vnd_slots", err);
    if (rc)
        return rc;
    if (slot < 0) {
        /* A new trace of the table: slot 0 when nobody has rows there
         * (the usual table of one trace keeps rowids 1, 2, 3...). */
        int64_t zero_used = 0, top = -1;
        char *rows = rows_table(db, table);
        char *sql = vnd_strdup_printf("SELECT EXISTS (SELECT 1 FROM vnd_slots WHERE tbl = ?1 AND"
                                      " slot = 0) OR EXISTS (SELECT 1 FROM vnd_meta WHERE"
                                      " tbl = ?1 COLLATE NOCASE) OR EXISTS (SELECT 1 FROM \"%s\""
                                      " WHERE rowid BETWEEN ?2 AND ?3)", rows);
        rc = run(db, prep(db, sql, "sii", table, (int64_t)INT64_MIN, SLOT_ROWS - 1),
                 &zero_used, table, err);
        free(sql);
        free(rows);
        if (!rc && zero_used)
            rc = run(db, prep(db, "SELECT max(slot) FROM vnd_slots WHERE tbl = ?", "s", table),
                     &top, "vnd_slots", err);
        if (rc)
            return rc;
        slot = zero_used ? (top < 1 ? 1 : top + 1) : 0;
        if (slot > SLOT_MAX) {
            *err = vnd_strdup_printf("table %s: no more traces fit in it (at most %lld)", table,
                                     (long long)SLOT_MAX);
            return ENOSPC;
        }
    }
    if (owned < 0 && (rc = run(db, prep(db, "INSERT INTO vnd_slots VALUES (?, ?, ?)", "ssi",
                                        trace, table, slot), NULL, "vnd_slots", err)))
        return rc;
    slot_range(slot, out);
    int64_t last = -1;
    char *rows = rows_table(db, table);
    char *sql = vnd_strdup_printf("SELECT max(rowid) FROM \"%s\" WHERE rowid BETWEEN ? AND ?",
                                  rows);
    rc = run(db, prep(db, sql, "ii", out->lo, out->hi), &last, table, err);
    free(sql);
    free(rows);
    if (!rc && last >= out->next)
        out->next = last + 1;
    return rc;
}

/* Deletes the rows of `trace` from `table` (all of them when only it has
 * rows there: SQLite empties a table without reading it). */
static int delete_rows(sqlite3 *db, const char *trace, const char *table, char **err)
{
    if (!table_exists(db, table))
        return 0;
    bool only;
    int64_t slot = -1;
    int rc = only_trace(db, trace, table, &only, err);
    if (!rc && !only)
        rc = find_slot(db, trace, table, &slot, err);
    if (rc || (!only && slot < 0))
        return rc;
    struct vnd_store_rows r;
    slot_range(slot, &r);
    if (slot == 0)
        r.lo = INT64_MIN;   /* and whatever an older VND wrote below 1 */
    char *rows = rows_table(db, table);
    char *sql = vnd_strdup_printf(only ? "DELETE FROM \"%s\"" : "DELETE FROM \"%s\" WHERE rowid"
                                  " BETWEEN ? AND ?", rows);
    rc = run(db, only ? prep(db, sql, "") : prep(db, sql, "ii", r.lo, r.hi), NULL, table, err);
    free(sql);
    free(rows);
    return rc;
}

/* ---- vnd_sampling ---- */

static int delete_sampling(sqlite3 *db, const char *trace, const char *table, char **err)
{
    return run(db, prep(db, "DELETE FROM vnd_sampling WHERE trace = ? AND tbl = ? COLLATE NOCASE",
                        "ss", trace, table), NULL, "vnd_sampling", err);
}

static int sq_put_sampling(struct vnd_store *vs, const struct vnd_sampling_row *r, char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    if (r->from_ts == 0) {
        int rc = delete_sampling(st->db, r->trace, r->table, err);
        if (rc)
            return rc;
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO vnd_sampling (trace, tbl, from_ts,"
                                   " sampling, method, flow_sampling, reason, snaplen)"
                                   " VALUES (?,?,?,?,?,?,?,?)", -1, &s, NULL) != SQLITE_OK)
        return fail(st->db, err, "vnd_sampling");
    sqlite3_bind_text(s, 1, r->trace, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->table, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 3, r->from_ts);
    sqlite3_bind_int64(s, 4, r->sampling > 1 ? r->sampling : 1);
    sqlite3_bind_text(s, 5, r->method ? r->method : "count", -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 6, r->flow_sampling > 1 ? r->flow_sampling : 1);
    bind_text_or_null0(s, 7, r->reason);
    sqlite3_bind_int64(s, 8, r->snaplen);         /* NULL: a row from before the column */
    return run(st->db, s, NULL, "vnd_sampling", err);
}

static int sq_clear_trace(struct vnd_store *vs, const char *trace, const char *table,
                          char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    int rc = delete_rows(st->db, trace, table, err);
    if (!rc)
        rc = run(st->db, prep(st->db, "DELETE FROM vnd_meta WHERE trace = ? AND"
                                      " tbl = ? COLLATE NOCASE", "ss", trace, table),
                 NULL, "vnd_meta", err);
    if (!rc)
        rc = delete_sampling(st->db, trace, table, err);
    return rc;
}

static int sq_drop_trace(struct vnd_store *vs, const char *trace,
                         const char *table, char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    sqlite3 *db = st->db;
    int rc;
    if (!table) {
        char **tables;
        int n;
        if ((rc = sq_trace_tables(vs, trace, &tables, &n, err)))
            return rc;
        for (int i = 0; i < n; i++) {
            if (!rc)
                rc = sq_drop_trace(vs, trace, tables[i], err);
            free(tables[i]);
        }
        free(tables);
        return rc;
    }
    bool only;
    if ((rc = only_trace(db, trace, table, &only, err)))
        return rc;
    if (only) {
        /* nobody else's rows: the table goes, and with it every slot */
        char *sql = vnd_strdup_printf("DROP TABLE IF EXISTS \"%s\"", table);
        rc = exec(db, sql, err);
        free(sql);
        if (!rc)
            rc = run(db, prep(db, "DELETE FROM vnd_slots WHERE tbl = ?", "s", table), NULL,
                     "vnd_slots", err);
    } else {
        rc = delete_rows(db, trace, table, err);
        if (!rc)
            rc = run(db, prep(db, "DELETE FROM vnd_slots WHERE trace = ? AND tbl = ?", "ss",
                              trace, table), NULL, "vnd_slots", err);
    }
    if (!rc)
        rc = run(db, prep(db, "DELETE FROM vnd_meta WHERE trace = ? AND tbl = ? COLLATE NOCASE",
                          "ss", trace, table), NULL, "vnd_meta", err);
    if (!rc)
        rc = delete_sampling(db, trace, table, err);
    return rc;
}

static bool sq_only_trace(struct vnd_store *vs, const char *trace, const char *table)
{
    struct sq_store *st = (struct sq_store *)vs;
    bool only = false;
    char *e = NULL;
    only_trace(st->db, trace, table, &only, &e);
    free(e);
    return only;
}

static int sq_trace_tables(struct vnd_store *vs, const char *trace, char ***tables, int *n,
                           char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    *tables = NULL;
    *n = 0;
    sqlite3_stmt *s = prep(st->db, "SELECT tbl FROM vnd_meta WHERE trace = ?1 UNION"
                                   " SELECT tbl FROM vnd_slots WHERE trace = ?1", "s", trace);
    if (!s)
        return fail(st->db, err, "vnd_meta");
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *tables = vnd_xrealloc(*tables, (size_t)(*n + 1) * sizeof **tables);
        (*tables)[(*n)++] = vnd_xstrdup((const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        for (int i = 0; i < *n; i++)
            free((*tables)[i]);
        free(*tables);
        *tables = NULL;
        *n = 0;
        return fail(st->db, err, "vnd_meta");
    }
    return 0;
}

static bool has_trace_db(sqlite3 *db, const char *trace, const char *table)
{
    int64_t n = 0;
    char *e = NULL;
    run(db, prep(db, "SELECT count(*) FROM vnd_meta WHERE trace = ? AND tbl = ? COLLATE NOCASE",
                 "ss", trace, table), &n, "vnd_meta", &e);
    free(e);
    return n > 0;
}

static bool sq_has_trace(struct vnd_store *vs, const char *trace, const char *table)
{
    struct sq_store *st = (struct sq_store *)vs;
    return has_trace_db(st->db, trace, table);
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static int sq_put_meta(struct vnd_store *vs, const struct vnd_meta *m, char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    sqlite3_stmt *s = st->put_meta;
    int i = 1;
    bind_text_or_null(s, i++, m->trace);
    bind_text_or_null(s, i++, m->table);
    bind_text_or_null(s, i++, m->tenant);
    bind_text_or_null(s, i++, m->cap_point);
    bind_text_or_null(s, i++, m->direction);
    bind_text_or_null(s, i++, m->pattern);
    bind_text_or_null(s, i++, m->source);
    sqlite3_bind_int(s, i++, m->linktype);
    bind_text_or_null(s, i++, m->parse_filter);
    bind_text_or_null(s, i++, m->parse_fields);
    const uint64_t counters[] = {m->seen, m->matched, m->stored, m->sampled_out,
                                 m->dropped_kernel, m->dropped_queue, m->anomalies};
    for (size_t k = 0; k < sizeof counters / sizeof *counters; k++)
        sqlite3_bind_int64(s, i++, (sqlite3_int64)counters[k]);
    sqlite3_bind_int64(s, i++, m->sampling ? m->sampling : 1);
    if (m->snaplen)
        sqlite3_bind_int64(s, i++, m->snaplen);
    else
        sqlite3_bind_null(s, i++);
    if (m->first_ns || m->last_ns) {
        sqlite3_bind_double(s, i++, (double)m->first_ns / 1e9);
        sqlite3_bind_double(s, i++, (double)m->last_ns / 1e9);
    } else {
        sqlite3_bind_null(s, i++);
        sqlite3_bind_null(s, i++);
    }
    bind_text_or_null(s, i++, m->status);
    bind_text_or_null(s, i++, m->message);
    sqlite3_bind_double(s, i++, m->complete_through > 0 ? m->complete_through : vnd_wall_now());
    sqlite3_bind_double(s, i++, m->flow_sampling > 1 ? m->flow_sampling : 1);
    bind_text_or_null(s, i++, m->rollup);
    bind_text_or_null(s, i++, m->rollup_status);
    if (m->rollup)
        sqlite3_bind_int64(s, i++, (sqlite3_int64)m->rollup_packets);
    else
        sqlite3_bind_null(s, i++);
    sqlite3_bind_int64(s, i++, (sqlite3_int64)m->malformed);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail(st->db, err, "vnd_meta");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

static int sq_begin(struct vnd_store *vs, char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    return exec(st->db, "BEGIN IMMEDIATE", err);
}

static int put_blocks(struct sq_store *st, char **err);
static void clear_blocks(struct sq_store *st);

static int sq_commit(struct vnd_store *vs, char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    if (put_blocks(st, err))
        return EIO;
    return exec(st->db, "COMMIT", err);
}

static int sq_rollback(struct vnd_store *vs)
{
    struct sq_store *st = (struct sq_store *)vs;
    /* the open blocks' rows belong to the batch that goes */
    clear_blocks(st);
    char *err = NULL;
    int rc = exec(st->db, "ROLLBACK", &err);
    free(err);
    return rc;
}

/* ---- rows in: INSERT statements for one row and for MANY rows ---- */

/* Several rows per statement halve SQLite's per-row cost. */
#define MANY 16

struct sq_writer {
    struct vnd_store_writer up;
    struct sq_store *st;
    sqlite3_stmt *one, *many;
    int ncols;
    /* a packed table's: the block being filled, and its INSERT (NULL for
     * a plain table) */
    struct vnd_packed_block blk;
    sqlite3_stmt *put_block;
    char *table;
};

/* "INSERT INTO "t" (rowid,"a","b") VALUES (?,?,?),..." with `rows` rows of
 * placeholders, without the rowid when `rowid` is false (ncols counts
 * what is written); names are quoted, so SQL keywords are column names
 * too. */
static int prepare_insert_rows(sqlite3 *db, const char *table, char *const *columns,
                               bool rowid, int ncols, int rows, sqlite3_stmt **out)
{
    char *names = vnd_xstrdup(rowid ? "rowid" : "");
    for (int c = 0; c < ncols - rowid; c++) {
        char *next = vnd_strdup_printf("%s%s\"%s\"", names, *names ? "," : "", columns[c]);
        free(names);
        names = next;
    }
    size_t one = 2 * (size_t)ncols + 2;         /* "(?,?,?)," */
    char *values = vnd_xmalloc(one * (size_t)rows + 1);
    size_t o = 0;
    for (int r = 0; r < rows; r++) {
        values[o++] = '(';
        for (int c = 0; c < ncols; c++) {
            values[o++] = '?';
            values[o++] = c + 1 < ncols ? ',' : ')';
        }
        values[o++] = r + 1 < rows ? ',' : '\0';
    }
    char *sql = vnd_strdup_printf("INSERT INTO \"%s\" (%s) VALUES %s", table, names, values);
    int rc = sqlite3_prepare_v2(db, sql, -1, out, NULL);
    free(sql);
    free(names);
    free(values);
    return rc;
}

/* Writes a packed writer's block as a row of its blocks table. */
static int put_block(struct sq_writer *w, char **err)
{
    if (!w->blk.n)
        return 0;
    sqlite3_stmt *s = w->put_block;
    sqlite3_bind_int64(s, 1, w->blk.last);
    sqlite3_bind_int64(s, 2, w->blk.first);
    sqlite3_bind_int(s, 3, w->blk.n);
    sqlite3_bind_int(s, 4, w->ncols - 1);
    sqlite3_bind_blob64(s, 5, w->blk.p, w->blk.len, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    vnd_packed_clear(&w->blk);
    if (rc != SQLITE_DONE) {
        *err = vnd_strdup_printf("table %s: %s", w->table, sqlite3_errmsg(w->st->db));
        return EIO;
    }
    return 0;
}

/* Before a commit: every packed writer's open block goes in. */
static int put_blocks(struct sq_store *st, char **err)
{
    for (int i = 0; i < st->npacked; i++)
        if (put_block(st->packed[i], err))
            return EIO;
    return 0;
}

static void clear_blocks(struct sq_store *st)
{
    for (int i = 0; i < st->npacked; i++)
        vnd_packed_clear(&st->packed[i]->blk);
}

static void sq_writer_free(struct vnd_store_writer *vw)
{
    struct sq_writer *w = (struct sq_writer *)vw;
    if (!w)
        return;
    if (w->put_block) {
        /* rows of the open batch: its commit would have written them */
        char *e = NULL;
        put_block(w, &e);
        free(e);
        struct sq_store *st = w->st;
        for (int i = 0; i < st->npacked; i++)
            if (st->packed[i] == w)
                st->packed[i] = st->packed[--st->npacked];
    }
    sqlite3_finalize(w->one);
    sqlite3_finalize(w->many);
    sqlite3_finalize(w->put_block);
    vnd_packed_free(&w->blk);
    free(w->table);
    free(w);
}

static struct vnd_store_writer *sq_writer_new(struct vnd_store *vs, const char *table,
                                              char *const *columns, int ncols, bool rowid,
                                              char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    struct sq_writer *w = vnd_xcalloc(1, sizeof *w);
    w->up.cls = &vnd_store_sqlite;
    w->st = st;
    w->ncols = ncols + rowid;
    w->table = vnd_xstrdup(table);
    if (is_packed(st->db, table)) {
        char *sql = vnd_strdup_printf("INSERT INTO \"%s" VND_PACKED_SUFFIX "\" (last, first, n,"
                                      " ncols, rows) VALUES (?, ?, ?, ?, ?)", table);
        int rc = rowid ? sqlite3_prepare_v2(st->db, sql, -1, &w->put_block, NULL) : SQLITE_MISUSE;
        free(sql);
        if (rc != SQLITE_OK) {
            *err = vnd_strdup_printf("table %s: %s", table, rowid ? sqlite3_errmsg(st->db)
                                     : "a packed table takes rows with their rowids");
            sq_writer_free(&w->up);
            return NULL;
        }
        st->packed = vnd_xrealloc(st->packed, (size_t)(st->npacked + 1) * sizeof *st->packed);
        st->packed[st->npacked++] = w;
        return &w->up;
    }
    if (prepare_insert_rows(st->db, table, columns, rowid, w->ncols, 1, &w->one) != SQLITE_OK
        || prepare_insert_rows(st->db, table, columns, rowid, w->ncols, MANY, &w->many)
               != SQLITE_OK) {
        *err = vnd_strdup_printf("table %s: %s", table, sqlite3_errmsg(st->db));
        sq_writer_free(&w->up);
        return NULL;
    }
    return &w->up;
}

static void bind_values(sqlite3_stmt *s, int base, const struct vnd_value *v, int n)
{
    for (int c = 0; c < n; c++) {
        int i = base + c + 1;
        switch (v[c].type) {
        case VND_SQL_INTEGER: sqlite3_bind_int64(s, i, v[c].i); break;
        case VND_SQL_REAL: sqlite3_bind_double(s, i, v[c].d); break;
        case VND_SQL_TEXT: sqlite3_bind_text(s, i, v[c].s, (int)v[c].slen, SQLITE_STATIC); break;
        case VND_SQL_BLOB: sqlite3_bind_blob(s, i, v[c].s, (int)v[c].slen, SQLITE_STATIC); break;
        case VND_SQL_ADDR: {
            char text[46];
            size_t len = vnd_format_addr(&v[c], text);
            sqlite3_bind_text(s, i, text, (int)len, SQLITE_TRANSIENT);
            break;
        }
        default: sqlite3_bind_null(s, i); break;
        }
    }
}

static int sq_write_rows(struct vnd_store_writer *vw, const struct vnd_value *values, int nrows,
                         char **err)
{
    struct sq_writer *w = (struct sq_writer *)vw;
    if (w->put_block) {
        for (int r = 0; r < nrows; r++) {
            const struct vnd_value *v = values + (size_t)r * (size_t)w->ncols;
            int64_t id = v[0].i;
            /* a block holds one slot's rows, in rowid order */
            if (w->blk.n && (id <= w->blk.last || (id >> VND_STORE_SLOT_BITS)
                                                      != (w->blk.last >> VND_STORE_SLOT_BITS))
                && put_block(w, err))
                return EIO;
            vnd_packed_add(&w->blk, id, v + 1, w->ncols - 1);
            if ((w->blk.n >= VND_PACKED_ROWS || w->blk.len >= VND_PACKED_BYTES)
                && put_block(w, err))
                return EIO;
        }
        return 0;
    }
    int r = 0;
    while (r < nrows) {
        int n = nrows - r >= MANY ? MANY : 1;
        sqlite3_stmt *s = n == MANY ? w->many : w->one;
        for (int k = 0; k < n; k++)
            bind_values(s, k * w->ncols, values + (size_t)(r + k) * (size_t)w->ncols, w->ncols);
        int rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE) {
            *err = vnd_xstrdup(sqlite3_errmsg(w->st->db));
            return EIO;
        }
        r += n;
    }
    return 0;
}

/* ---- what ingest asks of an existing store ---- */

static int sq_get_meta(struct vnd_store *vs, const char *trace, const char *table,
                       struct vnd_meta *m)
{
    struct sq_store *st = (struct sq_store *)vs;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
            "SELECT packets_seen, packets_matched, packets_stored, sampled_out,"
            " dropped_kernel, dropped_queue, decode_anomalies,"
            " CAST(round(first_ts * 1e9) AS INTEGER), CAST(round(last_ts * 1e9) AS INTEGER),"
            " coalesce(malformed, 0) FROM vnd_meta WHERE trace = ? AND tbl = ? COLLATE NOCASE", -1, &s, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(s, 1, trace, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, table, -1, SQLITE_STATIC);
    int found = sqlite3_step(s) == SQLITE_ROW;
    if (found) {
        memset(m, 0, sizeof *m);
        m->seen = (uint64_t)sqlite3_column_int64(s, 0);
        m->matched = (uint64_t)sqlite3_column_int64(s, 1);
        m->stored = (uint64_t)sqlite3_column_int64(s, 2);
        m->sampled_out = (uint64_t)sqlite3_column_int64(s, 3);
        m->dropped_kernel = (uint64_t)sqlite3_column_int64(s, 4);
        m->dropped_queue = (uint64_t)sqlite3_column_int64(s, 5);
        m->anomalies = (uint64_t)sqlite3_column_int64(s, 6);
        if (sqlite3_column_type(s, 7) != SQLITE_NULL) {
            m->first_ns = sqlite3_column_int64(s, 7);
            m->last_ns = sqlite3_column_int64(s, 8);
        }
        m->malformed = (uint64_t)sqlite3_column_int64(s, 9);
    }
    sqlite3_finalize(s);
    return found;
}

/* Table names are case-insensitive in SQLite. */
static char *sq_canonical_table(struct vnd_store *vs, const char *table)
{
    struct sq_store *st = (struct sq_store *)vs;
    sqlite3_stmt *s;
    char *name = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND"
                                   " name = ? COLLATE NOCASE", -1, &s, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        name = vnd_xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return name;
}

static int64_t sq_max_rowid(struct vnd_store *vs, const char *table)
{
    struct sq_store *st = (struct sq_store *)vs;
    int64_t top = 0;
    char *e = NULL;
    if (is_packed(st->db, table))
        return -1;  /* its rows come with their rowids */
    char *sql = vnd_strdup_printf("SELECT max(rowid) FROM \"%s\"", table);
    run(st->db, prep(st->db, sql, ""), &top, table, &e);
    free(sql);
    free(e);
    return top;
}

/* ---- tables kept beside the traces' ---- */

static const char *sq_type(enum vnd_sql_type t)
{
    return t == VND_SQL_INTEGER ? "INTEGER" : t == VND_SQL_REAL ? "REAL"
         : t == VND_SQL_BLOB ? "BLOB" : "TEXT";
}

/* exec(), its failure said as table's. */
static int exec_table(sqlite3 *db, const char *sql, const char *table, char **err)
{
    char *e = NULL;
    int rc = exec(db, sql, &e);
    if (rc) {
        *err = vnd_strdup_printf("table %s: %s", table, e);
        free(e);
    }
    return rc;
}

static int sq_make_table(struct vnd_store *vs, const char *table,
                         const struct vnd_store_col *cols, int ncols,
                         const struct vnd_store_index *idx, int nidx, char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "DROP TABLE IF EXISTS ");
    vnd_sb_ident(&sb, table);
    vnd_sb_printf(&sb, "; CREATE TABLE ");
    vnd_sb_ident(&sb, table);
    for (int i = 0; i < ncols; i++) {
        vnd_sb_printf(&sb, i ? ", " : " (");
        vnd_sb_ident(&sb, cols[i].name);
        vnd_sb_printf(&sb, " %s%s", sq_type(cols[i].type), cols[i].not_null ? " NOT NULL" : "");
    }
    vnd_sb_printf(&sb, ");");
    for (int i = 0; i < nidx; i++) {
        char *name = vnd_strdup_printf("%s_%s", table, idx[i].suffix);
        vnd_sb_printf(&sb, " CREATE INDEX ");
        vnd_sb_ident(&sb, name);
        vnd_sb_printf(&sb, " ON ");
        vnd_sb_ident(&sb, table);
        vnd_sb_printf(&sb, " (%s)%s%s;", idx[i].cols, idx[i].where ? " WHERE " : "",
                      idx[i].where ? idx[i].where : "");
        free(name);
    }
    int rc = exec_table(st->db, sb.s, table, err);
    vnd_sb_free(&sb);
    return rc;
}

static int sq_delete_rowids(struct vnd_store *vs, const char *table, const int64_t (*ranges)[2],
                            size_t n, char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "DELETE FROM ");
    vnd_sb_ident(&sb, table);
    vnd_sb_printf(&sb, " WHERE rowid >= ?1 AND rowid < ?2");
    sqlite3_stmt *del = NULL;
    int rc = sqlite3_prepare_v2(st->db, sb.s, -1, &del, NULL) == SQLITE_OK ? SQLITE_DONE
                                                                            : SQLITE_ERROR;
    vnd_sb_free(&sb);
    for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
        sqlite3_bind_int64(del, 1, ranges[i][0]);
        sqlite3_bind_int64(del, 2, ranges[i][1]);
        rc = sqlite3_step(del);
        sqlite3_reset(del);
    }
    sqlite3_finalize(del);
    return rc == SQLITE_DONE ? 0 : fail(st->db, err, table);
}

static int sq_drop_table(struct vnd_store *vs, const char *table, char **err)
{
    struct sq_store *st = (struct sq_store *)vs;
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "DROP TABLE IF EXISTS ");
    vnd_sb_ident(&sb, table);
    int rc = exec_table(st->db, sb.s, table, err);
    vnd_sb_free(&sb);
    return rc;
}

static bool sq_trace_table(struct vnd_store *vs, const char *table)
{
    struct sq_store *st = (struct sq_store *)vs;
    int64_t n = 0;
    char *e = NULL;
    run(st->db, prep(st->db, "SELECT count(*) FROM vnd_meta WHERE tbl = ? COLLATE NOCASE", "s",
                     table), &n, "vnd_meta", &e);
    free(e);
    return n > 0;
}

static sqlite3 *sq_sqlite(struct vnd_store *vs)
{
    return ((struct sq_store *)vs)->db;
}

const struct vnd_store_provider vnd_store_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .ensure_table = sq_ensure_table,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .writer_new = sq_writer_new,
    .write_rows = sq_write_rows,
    .writer_free = sq_writer_free,
    .put_meta = sq_put_meta,
    .put_sampling = sq_put_sampling,
    .get_meta = sq_get_meta,
    .trace_rows = sq_trace_rows,
    .clear_trace = sq_clear_trace,
    .drop_trace = sq_drop_trace,
    .only_trace = sq_only_trace,
    .has_trace = sq_has_trace,
    .trace_tables = sq_trace_tables,
    .canonical_table = sq_canonical_table,
    .max_rowid = sq_max_rowid,
    .make_table = sq_make_table,
    .delete_rowids = sq_delete_rowids,
    .drop_table = sq_drop_table,
    .trace_table = sq_trace_table,
    .sqlite = sq_sqlite,
};
