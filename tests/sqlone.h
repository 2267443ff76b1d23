/* sqlone.h — the first column of the first row of a query, for tests
 * that check a store's contents (`fail` when there is none, the reason
 * printed as a TAP comment). */
#ifndef VND_TESTS_SQLONE_H
#define VND_TESTS_SQLONE_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

static inline int64_t sql_one(sqlite3 *db, const char *sql, int64_t fail)
{
    sqlite3_stmt *s;
    int64_t v = fail;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    else
        printf("# %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return v;
}

#endif
