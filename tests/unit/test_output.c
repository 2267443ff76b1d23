/* test_output.c — every column of every row reaches the output: duplicate
 * names in JSON, NUL and bytes that are not UTF-8 in text, BLOBs, in JSON,
 * CSV and table, from cells and from SQLite statements; and records (the
 * bottleneck's verdict) after the rows. */
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"
#include "store/provider.h"
#include "../tap.h"

/* The output of `sql` in `fmt` (malloc'd). */
static char *run_sql(sqlite3 *db, enum vnd_fmt fmt, const char *sql)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fclose(f);
        free(buf);
        return strdup("(prepare failed)");
    }
    struct vnd_out *o = vnd_out_new(f, fmt);
    struct vnd_cursor *c = vnd_cursor_sqlite(st, NULL, NULL);
    char *err = NULL;
    int rc = vnd_out_cursor(o, c, NULL, &err);
    vnd_out_finish(o);
    vnd_cursor_close(c);
    free(err);
    fclose(f);
    if (rc != 0) {
        free(buf);
        return strdup("(step failed)");
    }
    return buf;
}

static void check_sql(sqlite3 *db, enum vnd_fmt fmt, const char *sql, const char *want,
                      const char *what)
{
    char *got = run_sql(db, fmt, sql);
    CHECK_EQ_STR(got, want, "%s", what);
    free(got);
}

static void test_stmt(void)
{
    sqlite3 *db = NULL;
    sqlite3_open(":memory:", &db);
    sqlite3_exec(db, "create table t(s text); insert into t values('x'), ('y');", NULL, NULL,
                 NULL);
    const enum vnd_fmt J = VND_FMT_JSON, C = VND_FMT_CSV, T = VND_FMT_TABLE;

    /* duplicate names */
    check_sql(db, J, "select a.s, b.s from t a, t b where a.s = 'x' and b.s = 'y'",
              "[\n{\"s\":\"x\",\"s_2\":\"y\"}\n]\n", "json: select a.s, b.s keeps both columns");
    check_sql(db, J, "select 1 as a, 2 as a", "[\n{\"a\":1,\"a_2\":2}\n]\n",
              "json: select 1 as a, 2 as a gives a and a_2");
    check_sql(db, J, "select 1 as a, 2 as a, 3 as a, 4 as a_2",
              "[\n{\"a\":1,\"a_3\":2,\"a_4\":3,\"a_2\":4}\n]\n",
              "json: a generated name skips one another column has");
    check_sql(db, C, "select 1 as a, 2 as a", "a,a\n1,2\n", "csv: both columns, names as given");

    /* bytes that are not UTF-8 */
    check_sql(db, J, "select cast(x'41ff42' as text) as t", "[\n{\"t\":\"A\\\\xffB\"}\n]\n",
              "json: an invalid byte is \\xff, the column is there");
    check_sql(db, C, "select cast(x'41ff42' as text) as t", "t\nA\\xffB\n",
              "csv: an invalid byte is \\xff");
    check_sql(db, J, "select cast(x'c3a9e282ac' as text) as t", "[\n{\"t\":\"\\u00E9\\u20AC\"}\n]\n",
              "json: valid UTF-8 is kept");
    check_sql(db, J, "select cast(x'c0afeda080f4908080e282' as text) as t",
              "[\n{\"t\":\"\\\\xc0\\\\xaf\\\\xed\\\\xa0\\\\x80\\\\xf4\\\\x90\\\\x80\\\\x80"
              "\\\\xe2\\\\x82\"}\n]\n",
              "json: overlong, surrogate, above U+10FFFF, cut short: every byte escaped");
    check_sql(db, J, "select '\\x41' as t, 'a\\b' as u", "[\n{\"t\":\"\\\\x5cx41\",\"u\":\"a\\\\b\"}\n]\n",
              "json: a text \\x is escaped so it reads back, other backslashes are kept");
    check_sql(db, C, "select '\\x41' as t", "t\n\\x5cx41\n", "csv: a text \\x becomes \\x5cx");

    /* NUL */
    check_sql(db, J, "select 'a'||char(0)||'b' as n", "[\n{\"n\":\"a\\u0000b\"}\n]\n",
              "json: a NUL does not cut the string");
    check_sql(db, C, "select 'a'||char(0)||'b' as n", "n\na\\x00b\n", "csv: a NUL is \\x00");
    check_sql(db, T, "select 'a'||char(0)||'b'||char(10)||'c' as n",
              "n          \n-----------\na\\x00b\\x0ac\n(1 row)\n",
              "table: NUL and newline are escaped");

    /* BLOBs */
    check_sql(db, J, "select x'0a0b' as b, x'' as e", "[\n{\"b\":\"x'0a0b'\",\"e\":\"x''\"}\n]\n",
              "json: a blob is x'0a0b'");
    check_sql(db, C, "select x'0aff' as b", "b\nx'0aff'\n", "csv: a blob is x'0aff'");

    /* other types unchanged */
    check_sql(db, J, "select null as n, 7 as i, 0.5 as r, 'q\"' as s",
              "[\n{\"n\":null,\"i\":7,\"r\":0.5,\"s\":\"q\\\"\"}\n]\n", "json: other types as before");
    check_sql(db, C, "select 'a,b' as s, 'a\"b' as q", "s,q\n\"a,b\",\"a\"\"b\"\n",
              "csv: quoting as before");
    check_sql(db, J, "select 1 where 0", "[]\n", "json: no rows");
    sqlite3_close(db);
}

static void test_cells(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct vnd_out *o = vnd_out_new(f, VND_FMT_JSON);
    const char *cols[] = {"s", "s", "v"};
    vnd_out_columns(o, 3, cols);
    vnd_out_textn(o, "a\0b", 3);
    vnd_out_textn(o, "\xff", 1);
    vnd_out_blob(o, "\x01\x02", 2);
    vnd_out_end_row(o);
    vnd_out_finish(o);
    fclose(f);
    CHECK_EQ_STR(buf, "[\n{\"s\":\"a\\u0000b\",\"s_2\":\"\\\\xff\",\"v\":\"x'0102'\"}\n]\n",
                 "cells: textn keeps NUL, escapes \\xff, blob as hex");
    free(buf);

    char **k = vnd_out_unique_names(4, (const char *const[]){"s", "s", "s_2", "s"});
    CHECK(!strcmp(k[0], "s") && !strcmp(k[1], "s_3") && !strcmp(k[2], "s_2")
              && !strcmp(k[3], "s_4"),
          "unique names: (s, s, s_2, s) → (s, s_3, s_2, s_4)");
    for (int i = 0; i < 4; i++)
        free(k[i]);
    free(k);

    /* 2000 columns of one name: all there, quickly */
    const char **many = calloc(2000, sizeof *many);
    for (int i = 0; i < 2000; i++)
        many[i] = "c";
    k = vnd_out_unique_names(2000, many);
    CHECK(!strcmp(k[0], "c") && !strcmp(k[1999], "c_2000"), "unique names: 2000 columns");
    for (int i = 0; i < 2000; i++)
        free(k[i]);
    free(k);
    free(many);
}

/* rows then a record, in `fmt` */
static char *with_record(enum vnd_fmt fmt, int nrows)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct vnd_out *o = vnd_out_new(f, fmt);
    vnd_out_object(o);
    vnd_out_columns(o, 1, (const char *const[]){"x"});
    for (int i = 0; i < nrows; i++) {
        vnd_out_int(o, i);
        vnd_out_end_row(o);
    }
    vnd_out_record(o, "verdict", 3, (const char *const[]){"hop", "since_s", "text"});
    vnd_out_int(o, 1);
    vnd_out_real(o, 2.5);
    vnd_out_text(o, "B>C, \xff");
    vnd_out_end_row(o);
    CHECK_EQ_INT(vnd_out_rows(o), nrows, "a record is not a row");
    vnd_out_finish(o);
    fclose(f);
    return buf;
}

static void test_record(void)
{
    char *s = with_record(VND_FMT_JSON, 2);
    CHECK_EQ_STR(s, "{\"rows\":[\n{\"x\":0},\n{\"x\":1}\n],\"verdict\":"
                    "{\"hop\":1,\"since_s\":2.5,\"text\":\"B>C, \\\\xff\"}}\n",
                 "json: rows and the record in one object");
    free(s);
    s = with_record(VND_FMT_JSON, 0);
    CHECK_EQ_STR(s, "{\"rows\":[],\"verdict\":{\"hop\":1,\"since_s\":2.5,\"text\":\"B>C, \\\\xff\"}}\n",
                 "json: no rows, still the record");
    free(s);
    s = with_record(VND_FMT_CSV, 1);
    CHECK_EQ_STR(s, "x\n0\n# verdict: {\"hop\":1,\"since_s\":2.5,\"text\":\"B>C, \\\\xff\"}\n",
                 "csv: the record as a last comment line");
    free(s);
    s = with_record(VND_FMT_TABLE, 1);
    CHECK_EQ_STR(s, "x\n-\n0\n(1 row)\n", "table: the record is left to the caller");
    free(s);
}


/* docs/output.md's way back: every \xNN is byte NN.  Returns the length. */
static size_t unescape(const char *s, size_t n, unsigned char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && sscanf(s + i + 2, "%2x", &v) == 1) {
            out[k++] = (unsigned char)v;
            i += 3;
        } else {
            out[k++] = (unsigned char)s[i];
        }
    }
    return k;
}

/* Random bytes, heavy on what needs care, written as one cell and read
 * back by the documented rule: the same bytes, and jansson (strict about
 * UTF-8) parses every JSON line. */
static void test_roundtrip(void)
{
    static const unsigned char pick[] = {'\\', 'x', 'a', '0', 0, 0xff, 0xc3, 0xa9, 0xed, 0xa0,
                                         0xf4, 0x90, 0x80, 0xe2, 0x82, 0xac, '"', ',', '\n', 0x7f};
    srand(9);
    int bad_json = 0, bad_csv = 0, bad_parse = 0;
    for (int iter = 0; iter < 3000; iter++) {
        unsigned char in[24];
        size_t n = (size_t)(rand() % 24);
        for (size_t i = 0; i < n; i++)
            in[i] = rand() % 3 ? pick[rand() % sizeof pick] : (unsigned char)rand();
        for (int fi = 0; fi < 2; fi++) {
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            struct vnd_out *o = vnd_out_new(f, fi ? VND_FMT_CSV : VND_FMT_JSON);
            vnd_out_columns(o, 1, (const char *const[]){"t"});
            vnd_out_textn(o, (const char *)in, n);
            vnd_out_end_row(o);
            vnd_out_finish(o);
            fclose(f);
            unsigned char back[128];
            size_t m = 0;
            if (!fi) {
                json_error_t je;
                json_t *j = json_loads(buf, JSON_ALLOW_NUL, &je);
                json_t *v = json_object_get(json_array_get(j, 0), "t");
                if (!json_is_string(v))
                    bad_parse++;
                else
                    m = unescape(json_string_value(v), json_string_length(v), back);
                json_decref(j);
            } else {
                /* "t\n" then the field, quoted when it holds , " CR LF */
                const char *fld = buf + 2;
                size_t fl = len - 3;
                char tmp[128];
                size_t tl = 0;
                if (fl && fld[0] == '"') {
                    for (size_t i = 1; i + 1 < fl; i++) {
                        tmp[tl++] = fld[i];
                        if (fld[i] == '"')
                            i++;
                    }
                } else {
                    memcpy(tmp, fld, fl);
                    tl = fl;
                }
                m = memchr(tmp, 0, tl) ? 0 : unescape(tmp, tl, back);
                if (memchr(tmp, 0, tl))
                    bad_parse++;
            }
            if (m != n || memcmp(back, in, n))
                *(fi ? &bad_csv : &bad_json) += 1;
            free(buf);
        }
    }
    CHECK_EQ_INT(bad_parse, 0, "random bytes: JSON parses (jansson), CSV holds no NUL");
    CHECK_EQ_INT(bad_json, 0, "random bytes: JSON reads back to the same bytes");
    CHECK_EQ_INT(bad_csv, 0, "random bytes: CSV reads back to the same bytes");
}

int main(void)
{
    test_stmt();
    test_cells();
    test_record();
    test_roundtrip();
    return tap_done();
}
