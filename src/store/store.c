/* store.c — SQLite trace store: schema, vnd_meta, batches. */
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lang/lexer.h"
#include "util/util.h"

struct vnd_store {
    sqlite3 *db;
    sqlite3_stmt *put_meta;
    /* Checkpoints (copying the WAL into the database file) run on a
     * thread of their own with its own connection, so a batch's commit
     * never waits for them: they cost as much as the commit itself. */
    sqlite3 *ckpt_db;
    pthread_t ckpt_thread;
    pthread_mutex_t ckpt_lock;
    pthread_cond_t ckpt_cond;
    unsigned commits;       /* commits not yet checkpointed */
    bool ckpt_running, ckpt_quit;
};

static void *checkpointer(void *arg)
{
    struct vnd_store *st = arg;
    pthread_mutex_lock(&st->ckpt_lock);
    for (;;) {
        while (!st->commits && !st->ckpt_quit)
            pthread_cond_wait(&st->ckpt_cond, &st->ckpt_lock);
        if (st->ckpt_quit)
            break;
        st->commits = 0;
        pthread_mutex_unlock(&st->ckpt_lock);
        /* PASSIVE: copies what no reader still needs, never blocks the
         * writer; the WAL restarts from its beginning once all is copied. */
        sqlite3_wal_checkpoint_v2(st->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&st->ckpt_lock);
    }
    pthread_mutex_unlock(&st->ckpt_lock);
    return NULL;
}

/* Starts the checkpointer; without it (no second connection, no thread)
 * SQLite's own automatic checkpoints stay on. */
static void start_checkpointer(struct vnd_store *st, const char *path)
{
    if (sqlite3_open_v2(path, &st->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        sqlite3_close(st->ckpt_db);
        st->ckpt_db = NULL;
        return;
    }
    sqlite3_busy_timeout(st->ckpt_db, 100);
    pthread_mutex_init(&st->ckpt_lock, NULL);
    pthread_cond_init(&st->ckpt_cond, NULL);
    if (pthread_create(&st->ckpt_thread, NULL, checkpointer, st) != 0) {
        sqlite3_close(st->ckpt_db);
        st->ckpt_db = NULL;
        return;
    }
    st->ckpt_running = true;
    sqlite3_wal_autocheckpoint(st->db, 0);
}

static void stop_checkpointer(struct vnd_store *st)
{
    if (!st->ckpt_running)
        return;
    pthread_mutex_lock(&st->ckpt_lock);
    st->ckpt_quit = true;
    pthread_cond_signal(&st->ckpt_cond);
    pthread_mutex_unlock(&st->ckpt_lock);
    pthread_join(st->ckpt_thread, NULL);
    sqlite3_close(st->ckpt_db);
    pthread_mutex_destroy(&st->ckpt_lock);
    pthread_cond_destroy(&st->ckpt_cond);
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
    " PRIMARY KEY (trace, tbl))";

static int fail(sqlite3 *db, char **err, const char *what)
{
    *err = vnd_strdup_printf("%s: %s", what, sqlite3_errmsg(db));
    return EIO;
}

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

int vnd_store_open(const char *path, struct vnd_store **out, char **err)
{
    struct vnd_store *st = vnd_xcalloc(1, sizeof *st);
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        *err = vnd_strdup_printf("%s: cannot open: %s", path,
                                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto out_close;
    }
    /* No connection mutex: one thread at a time uses a store (see the
     * threading note in ingest/ingest.h). */
    sqlite3_busy_timeout(st->db, 5000);
    /* WAL: readers (tenant queries, --follow) never block the writer, and
     * a killed writer loses only the uncommitted batch.  synchronous=NORMAL
     * is durable against process death; only power loss may drop the last
     * batches, never corrupt.  16 KiB pages (for a new file; an existing
     * one keeps its own): a quarter of the pages, WAL frames and write
     * calls of SQLite's 4 KiB for the same rows cut `vnd parse`'s CPU time
     * by a sixth; larger pages gained little more here, and every commit
     * of a table server rewrites each active trace's last page. */
    if (exec(st->db, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA cache_size=-8192; PRAGMA temp_store=MEMORY;", err)
        || exec(st->db, meta_schema, err))
        goto out_close_prefixed;
    if (sqlite3_prepare_v2(st->db,
            "INSERT OR REPLACE INTO vnd_meta VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
            "?,?,?,?,?,?,?,?,?)", -1, &st->put_meta, NULL) != SQLITE_OK) {
        fail(st->db, err, path);
        goto out_close;
    }
    start_checkpointer(st, path);
    *out = st;
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

void vnd_store_close(struct vnd_store *st)
{
    if (!st)
        return;
    stop_checkpointer(st);
    sqlite3_finalize(st->put_meta);
    sqlite3_close(st->db);   /* the last connection checkpoints the rest */
    free(st);
}

sqlite3 *vnd_store_db(struct vnd_store *st)
{
    return st->db;
}

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

int vnd_store_ensure_table(struct vnd_store *st, const char *table,
                           const struct vnd_parse_rule *rule, char **err)
{
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
        char *sql = vnd_strdup_printf("CREATE TABLE \"%s\" (%s)", table, cols);
        rc = exec(st->db, sql, err);
        free(sql);
    }
    free(have);
    free(want);
    free(cols);
    return rc;
}

int vnd_store_drop_trace(struct vnd_store *st, const char *trace,
                         const char *table, char **err)
{
    int rc;
    if (table) {
        char *sql = vnd_strdup_printf("DROP TABLE IF EXISTS \"%s\"", table);
        rc = exec(st->db, sql, err);
        free(sql);
        if (rc)
            return rc;
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "DELETE FROM vnd_meta WHERE trace = ?", -1, &s, NULL)
        != SQLITE_OK)
        return fail(st->db, err, "vnd_meta");
    sqlite3_bind_text(s, 1, trace, -1, SQLITE_STATIC);
    rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail(st->db, err, "vnd_meta");
    sqlite3_finalize(s);
    return rc;
}

bool vnd_store_has_trace(struct vnd_store *st, const char *trace, const char *table)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM vnd_meta WHERE trace = ? AND tbl = ?",
                           -1, &s, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(s, 1, trace, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, table, -1, SQLITE_STATIC);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

int vnd_store_put_meta(struct vnd_store *st, const struct vnd_meta *m, char **err)
{
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
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    sqlite3_bind_double(s, i++, (double)now.tv_sec + now.tv_nsec / 1e9);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail(st->db, err, "vnd_meta");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

int vnd_store_begin(struct vnd_store *st, char **err)
{
    return exec(st->db, "BEGIN IMMEDIATE", err);
}

int vnd_store_commit(struct vnd_store *st, char **err)
{
    int rc = exec(st->db, "COMMIT", err);
    if (rc == 0 && st->ckpt_running) {
        pthread_mutex_lock(&st->ckpt_lock);
        st->commits++;
        pthread_cond_signal(&st->ckpt_cond);
        pthread_mutex_unlock(&st->ckpt_lock);
    }
    return rc;
}

int vnd_store_rollback(struct vnd_store *st)
{
    char *err = NULL;
    int rc = exec(st->db, "ROLLBACK", &err);
    free(err);
    return rc;
}
