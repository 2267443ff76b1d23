/* test_store_idle.c — what a SQLite store costs when little or nothing
 * happens: its WAL is copied back however it is written (single
 * autocommit statements too, as the table server's registry is), it
 * stays bounded when batches come back to back, and a parser whose
 * traces are all gone writes nothing at its flushes. */
#include "../tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "decode/packet.h"
#include "ingest/ingest.h"
#include "lang/parseconf.h"
#include "store/store.h"

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : (long long)st.st_size;
}

/* A second connection's view: PRAGMA data_version changes when another
 * connection commits. */
static long long data_version(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &s, NULL) == SQLITE_OK
        && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

int main(void)
{
    char dir[] = "/tmp/vnd-test-store-idle.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[128], wal[140];
    snprintf(path, sizeof path, "%s/s.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct vnd_store *st = NULL;
    char *err = NULL;
    CHECK(vnd_store_open(path, &st, &err) == 0, "a store opens");
    sqlite3 *db = vnd_store_db(st);

    /* 60 commits of 1 MB, 50 ms apart (a table server commits every half
     * second; a checkpoint needs a moment between commits to finish, and
     * SQLite starts the WAL over only at a write after a finished one).
     * The store checkpoints at 1000 frames (16 MB); never copied back, the
     * WAL would pass 100 MB */
    CHECK(sqlite3_exec(db, "CREATE TABLE reg (k INTEGER PRIMARY KEY, v BLOB)", NULL, NULL, NULL)
              == SQLITE_OK, "a table");
    sqlite3_stmt *ins = NULL;
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO reg VALUES (?, zeroblob(1000000))", -1, &ins, NULL);
    long long most = 0;
    int failed = 0;
    for (int i = 0; i < 60; i++) {
        sqlite3_bind_int(ins, 1, i % 3);
        failed += sqlite3_step(ins) != SQLITE_DONE;
        sqlite3_reset(ins);
        usleep(50000);
        long long w = file_size(wal);
        most = w > most ? w : most;
    }
    sqlite3_finalize(ins);
    CHECK(failed == 0 && most > 0 && most < 48 << 20,
          "60 autocommit writes of 1 MB: the WAL stays under 48 MB (at most %lld bytes)", most);

    /* the same through batches (the parser's commits) */
    most = 0;
    for (int i = 0; i < 60 && !failed; i++) {
        failed += vnd_store_begin(st, &err) != 0;
        failed += sqlite3_exec(db, "INSERT OR REPLACE INTO reg VALUES (1, zeroblob(1000000))",
                               NULL, NULL, NULL) != SQLITE_OK;
        failed += vnd_store_commit(st, &err) != 0;
        usleep(50000);
        long long w = file_size(wal);
        most = w > most ? w : most;
    }
    CHECK(failed == 0 && most < 48 << 20, "60 batches of 1 MB: the WAL stays under 48 MB (at most %lld bytes)",
          most);

    /* batches back to back, as a collector flat out commits: each next
     * one begins before the checkpointer is done, so the WAL never
     * started over and grew by all that was written (110 MB here); past
     * 4,000 frames (64 MB) the committer waits for a checkpoint */
    most = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 110 && !failed; i++) {
        failed += vnd_store_begin(st, &err) != 0;
        failed += sqlite3_exec(db, "INSERT OR REPLACE INTO reg VALUES (2, zeroblob(1000000))",
                               NULL, NULL, NULL) != SQLITE_OK;
        failed += vnd_store_commit(st, &err) != 0;
        long long w = file_size(wal);
        most = w > most ? w : most;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double spent = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(failed == 0 && most < 72 << 20,
          "110 batches of 1 MB back to back: the WAL stays under 72 MB (at most %lld bytes)", most);
    CHECK(spent < 30, "and the waits for the checkpointer are short (%.1f s in all)", spent);

    /* a parser whose only trace is gone: flushes write nothing */
    struct vnd_parse_conf *conf = vnd_parseconf_default();
    struct vnd_ingest *ing = vnd_ingest_new(st, conf, 100000, 60);
    struct vnd_trace_opts o = {.id = "t", .linktype = VND_DLT_EN10MB, .sampling = 1};
    int t = vnd_ingest_add_trace(ing, &o, &err);
    sqlite3 *other = NULL;
    CHECK(t >= 0 && sqlite3_open_v2(path, &other, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK,
          "a trace, and a second connection to watch the file");
    long long v0 = data_version(other);
    CHECK(vnd_ingest_flush(ing, &err) == 0 && data_version(other) != v0,
          "with a trace, a flush commits (its vnd_meta row)");
    CHECK(vnd_ingest_drop_trace(ing, t, &err) == 0 && vnd_ingest_flush(ing, &err) == 0, "the trace goes");
    /* another connection holds the write lock: a flush that began a
     * transaction would wait for it (5 s) and fail */
    sqlite3 *writer = NULL;
    sqlite3_open_v2(path, &writer, SQLITE_OPEN_READWRITE, NULL);
    CHECK(sqlite3_exec(writer, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK,
          "another connection takes the write lock");
    int flushes_ok = 1;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 20; i++)
        flushes_ok &= vnd_ingest_flush(ing, &err) == 0;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double took = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    CHECK(flushes_ok && took < 1, "then 20 flushes do not touch the store (%.3f s, the lock held)", took);
    sqlite3_exec(writer, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(writer);

    sqlite3_close(other);
    vnd_ingest_free(ing);
    vnd_parseconf_free(conf);
    vnd_store_close(st);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(err);
    return tap_done();
}
