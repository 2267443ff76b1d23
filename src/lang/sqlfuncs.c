/* sqlfuncs.c — vnd_in_prefix() for SQLite. */
#include "lang/sqlfuncs.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lang/lexer.h"

struct prefix {
    uint8_t addr[16];
    int alen, plen;
};

static void in_prefix(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    /* The prefix is usually a constant: parse it once per statement. */
    struct prefix pf;
    const struct prefix *cached = sqlite3_get_auxdata(ctx, 1);
    if (cached) {
        pf = *cached;
    } else {
        const char *p = (const char *)sqlite3_value_text(argv[1]);
        int n = sqlite3_value_bytes(argv[1]);
        pf.alen = p ? vnd_parse_prefix(p, (size_t)n, pf.addr, &pf.plen) : 0;
        if (!pf.alen) {
            char msg[128];
            snprintf(msg, sizeof msg, "vnd_in_prefix: '%.60s' is not an address prefix "
                     "(like 10.0.0.0/24 or fe80::/64)", p ? p : "");
            sqlite3_result_error(ctx, msg, -1);
            return;
        }
        if (pf.plen < 0)
            pf.plen = pf.alen * 8;
    }

    uint8_t a[16];
    int plen;
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    int alen = s ? vnd_parse_prefix(s, (size_t)n, a, &plen) : 0;
    if (!alen || plen >= 0)
        sqlite3_result_null(ctx);
    else
        sqlite3_result_int(ctx, alen == pf.alen && vnd_prefix_match(a, pf.addr, pf.plen));

    if (!cached) {
        /* set last: SQLite may free the copy before returning */
        struct prefix *keep = sqlite3_malloc(sizeof *keep);
        if (keep) {
            *keep = pf;
            sqlite3_set_auxdata(ctx, 1, keep, sqlite3_free);
        }
    }
}

int vnd_sql_register_functions(sqlite3 *db)
{
    return sqlite3_create_function(db, "vnd_in_prefix", 2,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                   NULL, in_prefix, NULL, NULL);
}
