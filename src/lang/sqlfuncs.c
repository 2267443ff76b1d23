/* sqlfuncs.c — vnd_in_prefix(), printf() and format() for SQLite. */
#include "lang/sqlfuncs.h"
#include "util/ddsketch.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
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

/* printf(FORMAT, ...) and format(FORMAT, ...) in place of SQLite's own.
 * SQLite's ignores the error of its string builder: a result longer than
 * SQLITE_LIMIT_LENGTH, or a failed allocation, comes back as a NULL that
 * looks like an answer, after up to a second of work the query's time limit
 * cannot interrupt.  Here the format is walked by us, with SQLite's grammar
 * and argument rules (printf.c, SQLITE_PRINTF_SQLFUNC), and each conversion
 * is formatted by SQLite itself into a sqlite3_str that obeys the
 * connection's length limit; its error becomes the function's error. */

struct args {
    sqlite3_value **v;
    int n, used;
};

/* Missing arguments read as NULL, as in SQLite. */
static sqlite3_int64 int_arg(struct args *a)
{
    return a->used < a->n ? sqlite3_value_int64(a->v[a->used++]) : 0;
}

/* Returns 1 when SQLite ran out of memory converting the value to text. */
static int text_arg(struct args *a, const char **t)
{
    *t = NULL;
    if (a->used >= a->n)
        return 0;
    sqlite3_value *v = a->v[a->used++];
    *t = (const char *)sqlite3_value_text(v);
    return !*t && sqlite3_value_type(v) != SQLITE_NULL;
}

/* `n` copies of `ch`: one allocation, which obeys the length limit, filled
 * in place as sqlite3_str_value() allows.  (Appending the copies one by one
 * would reallocate for each near the limit, where the buffer stops doubling.) */
static void repeat(sqlite3_str *s, const char *ch, int len, int n)
{
    sqlite3_int64 total = (sqlite3_int64)n * len;
    int at = sqlite3_str_length(s);
    if (n <= 0)
        return;
    sqlite3_str_appendchar(s, total > INT_MAX ? INT_MAX : (int)total, ' ');
    if (sqlite3_str_errcode(s))
        return;
    char *z = sqlite3_str_value(s) + at;
    memcpy(z, ch, (size_t)len);
    for (sqlite3_int64 done = len; done < total; done *= 2)
        memcpy(z + done, z, (size_t)(done < total - done ? done : total - done));
}

/* %c: the raw bytes of the argument's first character, `prec` times, padded
 * as SQLite pads them.  Done here because appendf's %c takes a code point,
 * which would change a first character that is not UTF-8. */
static void fmt_char(sqlite3_str *s, const char *t, int width, int prec, int left)
{
    char ch[4] = {0};
    int len = 1;
    if (t) {
        ch[0] = t[0];
        if ((ch[0] & 0xc0) == 0xc0)
            while (len < 4 && (t[len] & 0xc0) == 0x80) {
                ch[len] = t[len];
                len++;
            }
    }
    if (prec > 1) {
        width -= prec - 1;
        if (width > 1 && !left) {
            sqlite3_str_appendchar(s, width - 1, ' ');
            width = 0;
        }
        repeat(s, ch, len, prec - 1);
    }
    /* the last copy: continuation bytes take no width */
    if (width > 0)
        for (int i = 0; i < len; i++)
            width += (ch[i] & 0xc0) == 0x80;
    width -= len;
    if (width > 0 && !left)
        sqlite3_str_appendchar(s, width, ' ');
    sqlite3_str_append(s, ch, len);
    if (width > 0 && left)
        sqlite3_str_appendchar(s, width, ' ');
}

static void printf_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *f = argc > 0 ? (const char *)sqlite3_value_text(argv[0]) : NULL;
    if (!f) {
        if (argc > 0 && sqlite3_value_type(argv[0]) != SQLITE_NULL)
            sqlite3_result_error_nomem(ctx);
        return;     /* NULL, as SQLite's */
    }
    sqlite3 *db = sqlite3_context_db_handle(ctx);
    int limit = sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1), toobig = 0, nomem = 0;
    struct args a = { argv + 1, argc - 1, 0 };
    sqlite3_str *s = sqlite3_str_new(db);

    while (*f && !sqlite3_str_errcode(s)) {
        if (*f != '%') {
            size_t n = strcspn(f, "%");
            sqlite3_str_append(s, f, (int)n);
            f += n;
            continue;
        }
        char c = *++f;
        if (!c) {
            sqlite3_str_append(s, "%", 1);
            break;
        }
        /* The flags, width and precision: SQLite's loop, statement for statement. */
        int left = 0, alt = 0, alt2 = 0, zero = 0, comma = 0, width = 0, prec = -1, done = 0;
        char sign = 0;
        do {
            switch (c) {
            case '-': left = 1; break;
            case '+': sign = '+'; break;
            case ' ': sign = ' '; break;
            case '#': alt = 1; break;
            case '!': alt2 = 1; break;
            case '0': zero = 1; break;
            case ',': comma = 1; break;
            default: done = 1; break;
            case 'l':
                c = *++f;
                if (c == 'l')
                    c = *++f;
                done = 1;
                break;
            case '1': case '2': case '3': case '4': case '5':
            case '6': case '7': case '8': case '9': {
                unsigned wx = (unsigned)(c - '0');
                while ((c = *++f) >= '0' && c <= '9')
                    wx = wx * 10 + (unsigned)(c - '0');
                width = (int)(wx & 0x7fffffff);
                if (c != '.' && c != 'l')
                    done = 1;
                else
                    f--;
                break;
            }
            case '*':
                width = (int)int_arg(&a);
                if (width < 0) {
                    left = 1;
                    width = width >= -INT_MAX ? -width : 0;
                }
                if ((c = f[1]) != '.' && c != 'l') {
                    c = *++f;
                    done = 1;
                }
                break;
            case '.':
                c = *++f;
                if (c == '*') {
                    prec = (int)int_arg(&a);
                    if (prec < 0)
                        prec = prec >= -INT_MAX ? -prec : -1;
                    c = *++f;
                } else {
                    unsigned px = 0;
                    for (; c >= '0' && c <= '9'; c = *++f)
                        px = px * 10 + (unsigned)(c - '0');
                    prec = (int)(px & 0x7fffffff);
                }
                if (c == 'l')
                    --f;
                else
                    done = 1;
                break;
            }
        } while (!done && (c = *++f) != 0);

        /* An unknown conversion ends the output, as in SQLite. */
        if (!c || !strchr("diurxXopfeEgGszqQwc%n", c))
            break;
        f++;
        /* Refuse a huge width or precision before anything is allocated
         * (a string's precision only bounds what is read of it). */
        if ((c != 'n' && width > limit) || (prec > limit && !strchr("szqQw%", c))) {
            toobig = 1;
            break;
        }
        /* One conversion for appendf, its '*'s resolved, integers as 64 bits. */
        char spec[64] = "%", *p = spec + 1;
        if (left) *p++ = '-';
        if (sign) *p++ = sign;
        if (alt) *p++ = '#';
        if (alt2) *p++ = '!';
        if (zero) *p++ = '0';
        if (comma) *p++ = ',';
        if (width)
            p += snprintf(p, (size_t)(spec + sizeof spec - p), "%d", width);
        if (prec >= 0)
            p += snprintf(p, (size_t)(spec + sizeof spec - p), ".%d", prec);
        snprintf(p, (size_t)(spec + sizeof spec - p), "%s%c",
                 strchr("diurxXop", c) ? "ll" : "", c == 'z' ? 's' : c);
        const char *t;
        switch (c) {
        case 'd': case 'i': case 'r':
            sqlite3_str_appendf(s, spec, int_arg(&a));
            break;
        case 'u': case 'x': case 'X': case 'o': case 'p': {
            /* appendf reads %p as a pointer-sized integer */
            _Static_assert(sizeof(void *) == sizeof(sqlite3_uint64), "%p is 64 bits");
            sqlite3_str_appendf(s, spec, (sqlite3_uint64)int_arg(&a));
            break;
        }
        case 'f': case 'e': case 'E': case 'g': case 'G':
            sqlite3_str_appendf(s, spec,
                                a.used < a.n ? sqlite3_value_double(a.v[a.used++]) : 0.0);
            break;
        case 's': case 'z': case 'q': case 'Q': case 'w': case 'c':
            if ((nomem = text_arg(&a, &t)) != 0)
                break;
            if (c == 'c')
                fmt_char(s, t, width, prec, left);
            else
                sqlite3_str_appendf(s, spec, t);
            break;
        case '%':
            sqlite3_str_appendf(s, spec);
            break;
        case 'n':
            sqlite3_str_append(s, "", 0);   /* SQLite's makes the result '' and not NULL */
            break;
        }
        if (nomem)
            break;
    }

    int err = sqlite3_str_errcode(s), n = sqlite3_str_length(s);
    char *z = sqlite3_str_finish(s);
    if (toobig || err == SQLITE_TOOBIG) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s(): the result would be longer than the limit of %d bytes",
                 (const char *)sqlite3_user_data(ctx), limit);
        sqlite3_result_error(ctx, msg, -1);
        sqlite3_result_error_code(ctx, SQLITE_TOOBIG);
    } else if (nomem || err) {
        sqlite3_result_error_nomem(ctx);
    } else {
        sqlite3_result_text(ctx, z, n, sqlite3_free);
        z = NULL;
    }
    sqlite3_free(z);
}

/* ---- DDSketch (util/ddsketch.h): the rollups' RTT quantiles ---- */

/* vnd_dds_merge(sketch): aggregate; NULLs skipped, NULL when none. */
static void dds_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return;
    struct vnd_dds **acc = sqlite3_aggregate_context(ctx, sizeof *acc);
    if (!acc) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (!*acc) {
        *acc = malloc(sizeof **acc);
        if (!*acc)
            abort();
        vnd_dds_init(*acc, VND_DDS_ALPHA_PERMILLE);
    }
    const uint8_t *p = sqlite3_value_blob(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    if (vnd_dds_merge_encoded(*acc, p, (size_t)n))
        sqlite3_result_error(ctx, "vnd_dds_merge: not a sketch of this alpha (docs/rollups.md)",
                             -1);
}

static void dds_final(sqlite3_context *ctx)
{
    struct vnd_dds **acc = sqlite3_aggregate_context(ctx, 0);
    if (!acc || !*acc) {
        sqlite3_result_null(ctx);
        return;
    }
    size_t n;
    uint8_t *p = vnd_dds_encode(*acc, &n);
    sqlite3_result_blob(ctx, p, (int)n, free);
    vnd_dds_free(*acc);
    free(*acc);
}

/* vnd_dds_quantile(sketch, q): the sketch's nearest-rank q-quantile. */
static void dds_quantile(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL)
        return;
    struct vnd_dds s;
    if (vnd_dds_decode(&s, sqlite3_value_blob(argv[0]), (size_t)sqlite3_value_bytes(argv[0]))) {
        sqlite3_result_error(ctx, "vnd_dds_quantile: not a sketch (docs/rollups.md)", -1);
        return;
    }
    double v = vnd_dds_quantile(&s, sqlite3_value_double(argv[1]));
    vnd_dds_free(&s);
    if (isnan(v))
        sqlite3_result_null(ctx);
    else
        sqlite3_result_double(ctx, v);
}

int vnd_sql_register_functions(sqlite3 *db)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function(db, "vnd_in_prefix", 2, flags, NULL, in_prefix, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "printf", -1, flags, "printf", printf_func, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "format", -1, flags, "format", printf_func, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "vnd_dds_merge", 1, flags, NULL, NULL, dds_step,
                                     dds_final);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "vnd_dds_quantile", 2, flags, NULL, dds_quantile,
                                     NULL, NULL);
    return rc;
}
