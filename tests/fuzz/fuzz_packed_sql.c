/* fuzz_packed_sql.c — a packed table read through SQLite (the vnd_packed
 * module, store/packed_vtab.c), its block arbitrary bytes: the cursor that
 * counts rows without decoding them (count(*)), skips them (OFFSET) and
 * decodes them (values, rowids).  Input: a byte of columns (1 to 4), the
 * block's row count (two bytes, little-endian, up to 4,096), a byte of
 * first rowid, then the block.  Whatever the bytes, a query either fails
 * or answers, and an answer is the block's word: count(*) is its count,
 * and a read of every row's values ends after exactly that many rows. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/packed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *db;

/* t1..t4, with 1 to 4 columns of every type */
static void setup(void)
{
    static const char *const cols[] = {"\"a\" INTEGER", "\"b\" TEXT", "\"c\" REAL", "\"d\" BLOB"};
    if (sqlite3_open(":memory:", &db) != SQLITE_OK || vnd_packed_register(db, NULL, NULL))
        abort();
    for (int k = 1; k <= 4; k++) {
        char sql[400];
        int o = snprintf(sql, sizeof sql,
                         "CREATE TABLE \"t%d:packed\" (last INTEGER PRIMARY KEY, first INTEGER"
                         " NOT NULL, n INTEGER NOT NULL, ncols INTEGER NOT NULL, rows BLOB NOT"
                         " NULL); CREATE VIRTUAL TABLE t%d USING vnd_packed(", k, k);
        for (int c = 0; c < k; c++)
            o += snprintf(sql + o, sizeof sql - (size_t)o, "%s%s", c ? ", " : "", cols[c]);
        snprintf(sql + o, sizeof sql - (size_t)o, ")");
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            abort();
    }
}

/* Steps `sql` to its end: the rows it answered, or -1 when it failed.
 * Every column of every row is read (text and blobs too). */
static int64_t run(const char *sql)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        abort();
    int64_t rows = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(s); c++) {
            sqlite3_column_text(s, c);
            sqlite3_column_bytes(s, c);
        }
        rows++;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? rows : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    if (!db)
        setup();
    int k = 1 + data[0] % 4;
    int64_t n = (data[1] | data[2] << 8) % 4097, first = data[3];
    char sql[200];
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        abort();
    snprintf(sql, sizeof sql, "DELETE FROM \"t%d:packed\"", k);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    snprintf(sql, sizeof sql, "INSERT INTO \"t%d:packed\" VALUES (1000000, %lld, %lld, %d, ?)",
             k, (long long)first, (long long)n, k);
    sqlite3_stmt *ins;
    if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK)
        abort();
    sqlite3_bind_blob(ins, 1, data + 4, (int)(size - 4), SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE)
        abort();
    sqlite3_finalize(ins);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

    snprintf(sql, sizeof sql, "SELECT count(*) FROM t%d", k);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        abort();
    if (sqlite3_step(s) == SQLITE_ROW && n >= 1 && sqlite3_column_int64(s, 0) != n)
        abort();                        /* count(*) answered another count */
    sqlite3_finalize(s);
    snprintf(sql, sizeof sql, "SELECT rowid, * FROM t%d", k);
    int64_t rows = run(sql);
    if (rows >= 0 && rows != n)
        abort();                        /* every row read, and not the block's count */
    snprintf(sql, sizeof sql, "SELECT * FROM t%d LIMIT 3 OFFSET %lld", k, (long long)(n / 2));
    run(sql);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM t%d WHERE rowid %% 2 = 0", k);
    run(sql);
    return 0;
}
