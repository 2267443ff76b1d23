/* test_packed.c — packed tables (store/packed.h): the block format round
 * trip and its damaged forms; then a packed table and a plain one fed the
 * same rows through the SQLite provider answer the same queries, a
 * rolled-back batch leaves nothing, rowid slots select blocks, dropping
 * the table drops its blocks; and a tenant reads a packed table only when
 * it is its own. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang/parseconf.h"
#include "store/guard.h"
#include "store/packed.h"
#include "store/provider.h"
#include "store/store.h"
#include "util/util.h"
#include "../sqlone.h"
#include "../tap.h"

#define NCOLS 5

static struct vnd_value ival(int64_t i) { return (struct vnd_value){.type = VND_SQL_INTEGER, .i = i}; }
static struct vnd_value dval(double d) { return (struct vnd_value){.type = VND_SQL_REAL, .d = d}; }
static struct vnd_value tval(const char *s) { return (struct vnd_value){.type = VND_SQL_TEXT, .s = s, .slen = strlen(s)}; }
static struct vnd_value nval(void) { return (struct vnd_value){.type = VND_SQL_NULL}; }

/* row r of the test's rows: repeats (the "same" tag), extremes, NULLs */
static void make_row(int r, struct vnd_value *v, char *text)
{
    static const int64_t ints[] = {0, -1, 1, INT64_MIN, INT64_MAX, 127, 128, -129};
    v[0] = ival(ints[r % 8] + (r % 8 == 0 ? r : 0));
    v[1] = r % 5 == 0 ? nval() : dval(r % 4 == 0 ? -0.0 : 1796408156.25 + r * 1e-6);
    /* an address: as a collector's bytes (IPv4, every 13th IPv6; runs of
     * 7 the same) or, every 5th, as text */
    if (r % 5 == 1) {
        snprintf(text, 32, "10.0.%d.%d", r / 7 % 256, r % 3);
        v[2] = tval(text);
    } else {
        uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = (uint8_t)(r / 7), [15] = 1};
        if (r % 13 != 0) {
            a[0] = 10;
            a[1] = 0;
            a[2] = (uint8_t)(r / 7);
            a[3] = 1;
        }
        memcpy(text, a, 16);
        v[2] = (struct vnd_value){.type = VND_SQL_ADDR, .s = text, .slen = r % 13 ? 4 : 16};
    }
    v[3] = r % 11 == 0 ? tval("") : ival(5201);
    v[4] = (struct vnd_value){.type = VND_SQL_BLOB, .s = "\0\1\2", .slen = r % 4};
}

static void test_codec(void)
{
    struct vnd_packed_block b = {0};
    struct vnd_value v[NCOLS];
    char text[32];
    for (int r = 0; r < 300; r++) {
        make_row(r, v, text);
        vnd_packed_add(&b, 1000 + 3 * r, v, NCOLS);
    }
    CHECK_EQ_INT(b.n, 300, "300 rows in the block");
    CHECK_EQ_INT(b.first, 1000, "its first rowid");
    CHECK_EQ_INT(b.last, 1000 + 3 * 299, "its last rowid");
    struct vnd_packed_reader rd;
    const uint8_t *col[NCOLS];
    uint8_t reals[VND_PACKED_ROOM(NCOLS)];
    CHECK(vnd_packed_open(&rd, b.p, b.len, b.first, reals) == 0, "the block opens");
    int rows = 0, bad = 0;
    while (vnd_packed_next(&rd, col, NCOLS) == 1) {
        make_row(rows, v, text);
        if (rd.rowid != 1000 + 3 * rows)
            bad++;
        for (int c = 0; c < NCOLS; c++) {
            struct vnd_value got;
            vnd_packed_value(&rd, col, c, &got);
            if (!vnd_value_eq(&got, &v[c]))
                bad++;
        }
        rows++;
    }
    CHECK_EQ_INT(rows, 300, "every row comes back");
    CHECK_EQ_INT(bad, 0, "with its rowid and values, bit for bit");
    CHECK(b.len < 300 * 30, "repeated values are written once (%zu bytes for 300 rows)", b.len);

    /* every cut of the block: rows up to the cut, then the end or "damaged",
     * never a read past it (the sanitizer build would say) */
    int cuts_ok = 0;
    for (size_t n = 1; n < b.len; n++) {
        uint8_t *copy = malloc(n);
        memcpy(copy, b.p, n);
        vnd_packed_open(&rd, copy, n, b.first, reals);
        int r, k = 0;
        while ((r = vnd_packed_next(&rd, col, NCOLS)) == 1)
            for (int c = 0; c < NCOLS; c++, k++) {
                struct vnd_value got;
                vnd_packed_value(&rd, col, c, &got);
            }
        cuts_ok += r <= 0;
        free(copy);
    }
    CHECK_EQ_INT(cuts_ok, (long long)b.len - 1, "each of the %zu cuts ends cleanly", b.len - 1);

    uint8_t v1[] = {1, 0, 1, 2};
    struct vnd_value got;
    CHECK(vnd_packed_open(&rd, v1, sizeof v1, 1, reals) == 0 && vnd_packed_next(&rd, col, 1) == 1
              && (vnd_packed_value(&rd, col, 0, &got), got.type == VND_SQL_INTEGER && got.i == 1),
          "a block of version 1 (before addresses as bytes) is read");
    uint8_t v2[] = {2, 0, 6, 10, 0, 0, 1};
    CHECK(vnd_packed_open(&rd, v2, sizeof v2, 1, reals) == 0 && vnd_packed_next(&rd, col, 1) == 1
              && (vnd_packed_value(&rd, col, 0, &got), got.type == VND_SQL_ADDR && got.slen == 4),
          "a block of version 2 (before REALs as XORs) is read");
    uint8_t v3[] = {3, 0, 1, 2, 1, 5};
    CHECK(vnd_packed_open(&rd, v3, sizeof v3, 1, reals) == 0 && vnd_packed_next(&rd, col, 1) == 1
              && vnd_packed_next(&rd, col, 1) == 1 && rd.rowid == 2
              && (vnd_packed_value(&rd, col, 0, &got), got.type == VND_SQL_INTEGER && got.i == 1),
          "a block of version 3 (a tag before each value) is read");
    /* version 4: a header byte, the delta unless it is 1, the tags two a
     * byte unless they are the row before's */
    uint8_t v4[] = {4, 0, 0, 0x01, 2, 3, 4, 0, 3, 0x05, 2, 0x01, 6};
    int64_t want4[][2] = {{1, 1}, {2, 2}, {5, 2}, {6, 3}};
    int ok4 = vnd_packed_open(&rd, v4, sizeof v4, 1, reals) == 0;
    for (int r = 0; r < 4; r++)
        ok4 = ok4 && vnd_packed_next(&rd, col, 1) == 1 && rd.rowid == want4[r][0]
              && (vnd_packed_value(&rd, col, 0, &got), got.type == VND_SQL_INTEGER)
              && got.i == want4[r][1];
    CHECK(ok4 && vnd_packed_next(&rd, col, 1) == 0,
          "a block of version 4: rows one after the other, tags repeated, a delta, a repeat");
    static const struct {
        uint8_t p[6];
        size_t n;
        int ncols;
        const char *what;
    } bad4[] = {
        {{4, 0x04, 0, 0x01, 2}, 5, 1, "a header bit no version has"},
        {{4, 0x02, 0x01, 2}, 4, 1, "a first row one after the row before"},
        {{4, 0x01, 0, 2}, 4, 1, "a first row with the row before's tags"},
        {{4, 0, 0, 0x09}, 4, 1, "a tag past the last"},
        {{4, 0, 0, 0x11, 2}, 5, 1, "an odd column count's unused half-byte set"},
        {{4, 0, 0, 0x11}, 4, 3, "tags cut short"},
        {{4, 0, 0, 0x08, 1}, 5, 1, "an XOR in the first row"},
    };
    for (size_t i = 0; i < sizeof bad4 / sizeof bad4[0]; i++) {
        vnd_packed_open(&rd, bad4[i].p, bad4[i].n, 1, reals);
        CHECK(vnd_packed_next(&rd, col, bad4[i].ncols) == -1, "version 4: %s is damage", bad4[i].what);
    }
    uint8_t short_addr[] = {2, 0, 7, 0x20, 0x01, 0x0d, 0xb8};
    vnd_packed_open(&rd, short_addr, sizeof short_addr, 1, reals);
    CHECK(vnd_packed_next(&rd, col, 1) == -1, "an IPv6 address cut short is damage");
    uint8_t wrong_version[] = {5, 0, 0};
    CHECK(vnd_packed_open(&rd, wrong_version, sizeof wrong_version, 1, reals) == -1,
          "another version is refused");
    uint8_t same_first[] = {1, 0, 5, 0, 0, 0, 0};
    vnd_packed_open(&rd, same_first, sizeof same_first, 1, reals);
    CHECK(vnd_packed_next(&rd, col, NCOLS) == -1, "a first row that repeats a row before it is damage");
    uint8_t bad_tag[] = {1, 0, 9, 0, 0, 0, 0};
    vnd_packed_open(&rd, bad_tag, sizeof bad_tag, 1, reals);
    CHECK(vnd_packed_next(&rd, col, NCOLS) == -1, "an unknown tag is damage");
    uint8_t long_text[] = {1, 0, 3, 0x7f, 'a'};
    vnd_packed_open(&rd, long_text, sizeof long_text, 1, reals);
    CHECK(vnd_packed_next(&rd, col, 1) == -1, "a length past the end is damage");
    uint8_t no_growth[] = {1, 0, 0, 0, 0};
    vnd_packed_open(&rd, no_growth, sizeof no_growth, 1, reals);
    CHECK(vnd_packed_next(&rd, col, 1) == 1 && vnd_packed_next(&rd, col, 1) == -1,
          "a rowid that does not grow is damage");
    vnd_packed_free(&b);
}

/* A value that differs from the row before in one byte only, at each
 * place, for each length: never written as "the same" (the comparison
 * reads words that overlap, not bytes) */
static void test_same_edges(void)
{
    int wrong = 0, tried = 0, repeats = 0;
    for (int len = 1; len <= 24; len++)
        for (int at = 0; at < len; at++) {
            struct vnd_packed_block b = {0};
            char x[24], y[24];
            memset(x, 'a', sizeof x);
            memcpy(y, x, sizeof y);
            y[at] = 'b';
            struct vnd_value v[3] = {{.type = VND_SQL_TEXT, .s = x, .slen = (size_t)len},
                                     {.type = VND_SQL_TEXT, .s = y, .slen = (size_t)len},
                                     {.type = VND_SQL_TEXT, .s = y, .slen = (size_t)len}};
            for (int r = 0; r < 3; r++)
                vnd_packed_add(&b, r + 1, &v[r], 1);
            struct vnd_packed_reader rd;
            const uint8_t *col[1];
            uint8_t reals[VND_PACKED_ROOM(1)];
            vnd_packed_open(&rd, b.p, b.len, b.first, reals);
            for (int r = 0; r < 3; r++) {
                struct vnd_value got;
                if (vnd_packed_next(&rd, col, 1) != 1) {
                    wrong++;
                    break;
                }
                vnd_packed_value(&rd, col, 0, &got);
                wrong += got.slen != (size_t)len || memcmp(got.s, v[r].s, (size_t)len) != 0;
            }
            /* the version; three row headers; the first row's delta and
             * tags; two values in full (a length and the bytes); the
             * third row's tags (a repeat, not text) */
            repeats += b.len == 1 + 3 + 2 + 2 * (1 + (size_t)len) + 1;
            tried++;
            vnd_packed_free(&b);
        }
    CHECK_EQ_INT(wrong, 0, "%d values of 1 to 24 bytes, each one byte from the one before, read back as written", tried);
    CHECK_EQ_INT(repeats, tried, "and a value equal to the one before is written as a repeat");
}

/* Values longer than a row's room set aside for them (17 bytes a column):
 * text and blobs of up to 300,000 bytes between short values, a block's
 * buffer growing in the middle of a row, every value read back */
static void test_long_values(void)
{
    struct vnd_packed_block b = {0};
    static const size_t lens[] = {15, 16, 17, 4095, 4096, 70000, 300000};
    size_t nlens = sizeof lens / sizeof lens[0];
    char *big = malloc(300000 + 16);      /* values start at big + row */
    for (size_t i = 0; i < 300000 + 16; i++)     /* all of it: values start past big */
        big[i] = (char)('a' + i % 26);
    uint8_t addr[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9};
    struct vnd_value v[4];
    for (size_t r = 0; r < nlens; r++) {
        v[0] = ival((int64_t)r);
        v[1] = (struct vnd_value){.type = r % 2 ? VND_SQL_BLOB : VND_SQL_TEXT, .s = big + r,
                                  .slen = lens[r]};
        v[2] = (struct vnd_value){.type = VND_SQL_ADDR, .s = (const char *)addr, .slen = 16};
        v[3] = (struct vnd_value){.type = VND_SQL_TEXT, .s = big, .slen = lens[nlens - 1 - r]};
        vnd_packed_add(&b, (int64_t)r + 1, v, 4);
    }
    struct vnd_packed_reader rd;
    const uint8_t *col[4];
    uint8_t reals[VND_PACKED_ROOM(4)];
    int bad = 0, rows = 0;
    vnd_packed_open(&rd, b.p, b.len, b.first, reals);
    while (vnd_packed_next(&rd, col, 4) == 1) {
        size_t r = (size_t)rows++;
        struct vnd_value got[4];
        for (int c = 0; c < 4; c++)
            vnd_packed_value(&rd, col, c, &got[c]);
        bad += got[0].i != (int64_t)r || got[1].slen != lens[r] || memcmp(got[1].s, big + r, lens[r])
               || got[2].type != VND_SQL_ADDR || got[2].slen != 16 || memcmp(got[2].s, addr, 16)
               || got[3].slen != lens[nlens - 1 - r] || memcmp(got[3].s, big, got[3].slen);
    }
    CHECK_EQ_INT(rows, (long long)nlens, "rows with values of 15 to 300,000 bytes");
    CHECK_EQ_INT(bad, 0, "read back whole, beside the short values of their rows");
    vnd_packed_free(&b);
    free(big);
}

static char dir[] = "/tmp/vnd-test-packed.XXXXXX";

static int64_t one_int(sqlite3 *db, const char *sql)
{
    return sql_one(db, sql, -999);
}

static char *one_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    char *v = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = strdup(sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "NULL");
    else
        v = strdup(sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return v;
}

/* rows [from, to) of slot `slot` into the table's writer */
static int feed(struct vnd_store_writer *w, int64_t slot, int from, int to)
{
    struct vnd_value v[NCOLS + 1];
    char text[32];
    char *err = NULL;
    for (int r = from; r < to; r++) {
        v[0] = ival((slot << VND_STORE_SLOT_BITS) + r + 1);
        make_row(r, v + 1, text);
        if (vnd_store_write_rows(w, v, 1, &err)) {
            printf("# %s\n", err);
            free(err);
            return -1;
        }
    }
    return 0;
}

static void test_store(void)
{
    char path[300], *err = NULL;
    snprintf(path, sizeof path, "%s/t.db", dir);
    struct vnd_store *st;
    CHECK(vnd_store_open(path, &st, &err) == 0, "the store opens");
    struct vnd_parse_conf *conf;
    CHECK(vnd_parseconf_parse("Trace ID all\nFields: flow.packets as a, flow.end as b, ip.src as c,"
                              " tcp.dst as d, eth.src as e\n", "test", &conf, &err) == 0,
          "the rule parses %s", err ? err : "");
    if (!conf)
        return;
    struct vnd_parse_rule *rule = &conf->rules[0];
    CHECK(vnd_store_ensure_table(st, "plain", rule, false, &err) == 0, "a plain table");
    CHECK(vnd_store_ensure_table(st, "flows", rule, true, &err) == 0, "a packed table");
    CHECK(vnd_store_ensure_table(st, "flows", rule, true, &err) == 0,
          "ensured again: the same columns");
    sqlite3 *db = vnd_store_db(st);
    char *cols = one_text(db, "SELECT group_concat(name || ' ' || type, ', ') FROM"
                              " pragma_table_info('flows')");
    char *plain_cols = one_text(db, "SELECT group_concat(name || ' ' || type, ', ') FROM"
                                    " pragma_table_info('plain')");
    CHECK_EQ_STR(cols, plain_cols, "the packed table has the plain table's columns and types");
    free(cols);
    free(plain_cols);
    CHECK_EQ_INT(vnd_store_max_rowid(st, "flows"), -1, "it numbers no rows itself");

    char *names[] = {"a", "b", "c", "d", "e"};
    struct vnd_store_writer *wp = vnd_store_writer_new(st, "plain", names, NCOLS, true, &err);
    struct vnd_store_writer *wf = vnd_store_writer_new(st, "flows", names, NCOLS, true, &err);
    CHECK(wp && wf, "writers for both");
    /* 2,500 rows of slot 0 and 700 of slot 1: blocks of 1,024 rows, none
     * across the slots */
    CHECK(vnd_store_begin(st, &err) == 0 && feed(wp, 0, 0, 2500) == 0 && feed(wf, 0, 0, 2500) == 0
          && feed(wp, 1, 0, 700) == 0 && feed(wf, 1, 0, 700) == 0
          && vnd_store_commit(st, &err) == 0, "a batch of 3,200 rows in each, committed");
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM flows"), 3200, "every row is there");
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM \"flows:packed\""), 4,
                 "in 4 blocks (1024 + 1024 + 452 of slot 0, 700 of slot 1)");
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM (SELECT rowid, * FROM plain EXCEPT"
                             " SELECT rowid, * FROM flows)"), 0, "no plain row is missing");
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM (SELECT rowid, * FROM flows EXCEPT"
                             " SELECT rowid, * FROM plain)"), 0, "and none added");
    CHECK_EQ_INT(one_int(db, "SELECT sum(typeof(b) = 'null') FROM flows"),
                 one_int(db, "SELECT sum(typeof(b) = 'null') FROM plain"), "NULLs stay NULL");
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM flows f JOIN plain p ON f.rowid = p.rowid"
                             " WHERE f.e IS p.e AND typeof(f.e) = typeof(p.e)"), 3200,
                 "blobs and empty text as they were");
    char *addrs = one_text(db, "SELECT group_concat(c, ' ') FROM (SELECT c FROM flows"
                               " WHERE rowid IN (1, 2, 14, 15, 53) ORDER BY rowid)");
    CHECK_EQ_STR(addrs, "2001:db8::1 10.0.0.1 2001:db8::101 10.0.2.1 2001:db8::701",
                 "addresses kept as bytes read as their text (IPv4, IPv6, and given as text)");
    free(addrs);
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM flows WHERE typeof(c) = 'text'"), 3200,
                 "every address column's value is TEXT");

    /* a block written before version 4 (a table server upgraded with its
     * tables) is read among the new ones: a, b, c, d, e = 7, 1.5,
     * 10.0.0.9, 80, NULL, tagged value by value */
    char *put = vnd_strdup_printf("INSERT INTO \"flows:packed\" (last, first, n, ncols, rows)"
                                  " VALUES (%lld, %lld, 1, 5, X'0300010e02000000"
                                  "000000f83f060a00000901a00100')",
                                  (3LL << VND_STORE_SLOT_BITS) + 1, (3LL << VND_STORE_SLOT_BITS) + 1);
    CHECK(sqlite3_exec(db, put, NULL, NULL, NULL) == SQLITE_OK, "a block of version 3 put in");
    free(put);
    char *old = one_text(db, "SELECT printf('%d %.1f %s %d %s', a, b, c, d, typeof(e)) FROM flows"
                             " WHERE rowid > 3 << 44");
    CHECK_EQ_STR(old, "7 1.5 10.0.0.9 80 null", "read back among version 4's blocks");
    free(old);
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM flows"), 3201, "every row of both versions");
    sqlite3_exec(db, "DELETE FROM \"flows:packed\" WHERE last > 3 << 44", NULL, NULL, NULL);

    /* a batch rolled back leaves no block behind */
    CHECK(vnd_store_begin(st, &err) == 0 && feed(wf, 1, 700, 750) == 0, "50 rows, not committed");
    vnd_store_rollback(st);
    CHECK(vnd_store_begin(st, &err) == 0 && vnd_store_commit(st, &err) == 0, "an empty commit");
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM flows"), 3200, "the rolled-back rows are gone");

    /* the slots' rowid ranges select blocks */
    struct vnd_store_rows rows;
    /* rows of slots 0 and 1 without a vnd_slots row: a new trace gets slot
     * 1 (0 is used), and its next rowid follows the rows already there */
    CHECK(vnd_store_trace_rows(st, "t0", "flows", &rows, &err) == 0, "a slot for a trace");
    CHECK_EQ_INT(rows.next, ((int64_t)1 << VND_STORE_SLOT_BITS) + 701,
                 "its next rowid follows the blocks' last of the slot");

    vnd_store_writer_free(wp);
    vnd_store_writer_free(wf);

    /* a table server restarting: the store opened again finds the table
     * packed, and rows written after go on in blocks */
    vnd_store_close(st);
    CHECK(vnd_store_open(path, &st, &err) == 0, "the store opens again");
    db = vnd_store_db(st);
    CHECK(vnd_store_ensure_table(st, "flows", rule, false, &err) == 0,
          "the packed table is ensured (asked plain: it stays as it is)");
    wf = vnd_store_writer_new(st, "flows", names, NCOLS, true, &err);
    CHECK(wf && vnd_store_begin(st, &err) == 0 && feed(wf, 1, 700, 800) == 0
          && vnd_store_commit(st, &err) == 0, "100 more rows of slot 1");
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM flows"), 3300, "3,300 rows");
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM \"flows:packed\""), 5, "in one more block");
    CHECK_EQ_INT(one_int(db, "SELECT max(rowid) FROM flows"),
                 ((int64_t)1 << VND_STORE_SLOT_BITS) + 800, "rowids as written");

    /* rows are decoded only when a value or rowid is read: count(*) goes
     * by the blocks' row counts, and a block whose rows disagree with its
     * count is damaged once they are read, in either direction */
    int64_t sum_d = one_int(db, "SELECT sum(d) FROM flows");
    const char *first_block = "UPDATE \"flows:packed\" SET n = n %s WHERE last ="
                              " (SELECT min(last) FROM \"flows:packed\")";
    const char *const shifts[] = {"+ 1", "- 2", "+ 1"};
    for (int i = 0; i < 3; i++) {
        char sql[200], *e = NULL;
        snprintf(sql, sizeof sql, first_block, shifts[i]);
        CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "block count %s", shifts[i]);
        int rc = sqlite3_exec(db, "SELECT sum(d) FROM flows", NULL, NULL, &e);
        if (i == 0) {
            CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM flows"), 3301,
                         "count(*) takes the blocks' word for it");
            CHECK(rc != SQLITE_OK && e && strstr(e, "damaged"),
                  "a block with fewer rows than it says: damaged (%s)", e ? e : "no error");
        } else if (i == 1) {
            CHECK(rc != SQLITE_OK && e && strstr(e, "damaged"),
                  "a block with more rows than it says: damaged (%s)", e ? e : "no error");
        } else {
            CHECK(rc == SQLITE_OK, "the count put right: read again %s", e ? e : "");
        }
        sqlite3_free(e);
    }
    CHECK_EQ_INT(one_int(db, "SELECT sum(d) FROM flows"), sum_d, "the same values as before");
    CHECK_EQ_INT(one_int(db, "SELECT rowid FROM flows ORDER BY rowid LIMIT 1 OFFSET 2600"),
                 one_int(db, "SELECT rowid FROM plain ORDER BY rowid LIMIT 1 OFFSET 2600"),
                 "a row past skipped ones has its own rowid");
    vnd_store_writer_free(wf);
    CHECK(vnd_store_writer_new(st, "flows", names, NCOLS, false, &err) == NULL && err,
          "a packed table takes no rows without their rowids (%s)", err ? err : "");
    free(err);
    err = NULL;
    /* a tenant with the table reads it, one without does not */
    const char *mine[] = {"flows", NULL}, *theirs[] = {"plain", NULL};
    struct vnd_guard *g;
    CHECK(vnd_guard_open(path, mine, &g, &err) == 0, "a guard for the table's tenant");
    sqlite3_stmt *s = NULL;
    int rc = vnd_guard_prepare(g, "SELECT count(*), sum(d) FROM flows", &s, &err);
    CHECK(rc == 0 && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == 3300,
          "its tenant reads the packed table through the guard %s", err ? err : "");
    sqlite3_finalize(s);
    vnd_guard_close(g);
    CHECK(vnd_guard_open(path, theirs, &g, &err) == 0, "a guard for another tenant");
    free(err);
    err = NULL;
    rc = vnd_guard_prepare(g, "SELECT count(*) FROM flows", &s, &err);
    CHECK(rc != 0 && err && strstr(err, "no such table"), "another tenant: no such table (%s)",
          err ? err : "");
    free(err);
    err = NULL;
    sqlite3_finalize(s);
    s = NULL;
    rc = vnd_guard_prepare(g, "SELECT count(*) FROM \"flows:packed\"", &s, &err);
    CHECK(rc != 0 && err && strstr(err, "no such table"), "nor its blocks (%s)", err ? err : "");
    free(err);
    err = NULL;
    sqlite3_finalize(s);
    vnd_guard_close(g);

    char *e2 = NULL;
    CHECK(sqlite3_exec(db, "DROP TABLE flows", NULL, NULL, &e2) == SQLITE_OK,
          "the packed table dropped %s", e2 ? e2 : "");
    sqlite3_free(e2);
    CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'flows:packed'"),
                 0, "its blocks went with it");
    vnd_parseconf_free(conf);
    vnd_store_close(st);
}

/* REALs written as their XOR with the row before's (tag 8): times a few
 * ms apart in a few bytes; each value read back bit for bit across every
 * change of kind (the same, far apart, the sign, NaN, after a NULL or a
 * text whose bytes must not be taken for the row before's); and the
 * damaged forms */
static void test_xreal(void)
{
    struct vnd_packed_block b = {0};
    struct vnd_value v[2];
    uint64_t seed = 7;
    double t = 1796595109.99944;
    for (int r = 0; r < 1000; r++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        t += (double)(seed >> 44) * 1e-9;       /* up to 1 ms later */
        v[0] = dval(t);
        v[1] = dval(t - 1.5);
        vnd_packed_add(&b, r + 1, v, 2);
    }
    struct vnd_packed_reader rd;
    const uint8_t *col[2];
    uint8_t reals[VND_PACKED_ROOM(2)];
    vnd_packed_open(&rd, b.p, b.len, b.first, reals);
    int rows = 0, bad = 0;
    t = 1796595109.99944;
    seed = 7;
    while (vnd_packed_next(&rd, col, 2) == 1) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        t += (double)(seed >> 44) * 1e-9;
        struct vnd_value got[2];
        vnd_packed_value(&rd, col, 0, &got[0]);
        vnd_packed_value(&rd, col, 1, &got[1]);
        struct vnd_value want[2] = {dval(t), dval(t - 1.5)};
        bad += !vnd_value_eq(&got[0], &want[0]) || !vnd_value_eq(&got[1], &want[1]);
        rows++;
    }
    CHECK(rows == 1000 && bad == 0, "1000 rows of two times up to 1 ms apart read back bit for bit (%d wrong)", bad);
    double per = (double)(b.len - 1 - 1000) / 2000;   /* less the version and rowid steps */
    CHECK(per <= 5.0, "a time takes %.2f bytes, not 9", per);
    vnd_packed_free(&b);

    /* one column through every change of kind */
    struct vnd_value seq[] = {
        dval(1.0), dval(1.0), dval(1.0 + 0x1p-40), dval(-1.0), dval(0.0), dval(-0.0),
        dval(NAN), dval(INFINITY), dval(1e300), dval(1e-300), nval(), dval(2.0),
        tval("\x02\x00\x00\x00\x00\x00\x00\x00@"), dval(2.0), tval("\x02\x00\x00\x00\x00\x00\x00\x00@"),
        ival(3), dval(3.0), dval(3.0 + 0x1p-20)};
    int n = (int)(sizeof seq / sizeof seq[0]);
    for (int r = 0; r < n; r++)
        vnd_packed_add(&b, r + 1, &seq[r], 1);
    vnd_packed_open(&rd, b.p, b.len, b.first, reals);
    rows = bad = 0;
    while (vnd_packed_next(&rd, col, 1) == 1) {
        struct vnd_value got;
        vnd_packed_value(&rd, col, 0, &got);
        bad += !vnd_value_eq(&got, &seq[rows++]);
    }
    CHECK(rows == n && bad == 0, "%d values: the same, close, far, signed zeros, NaN, after NULL, text and integers (%d wrong)", n, bad);
    vnd_packed_free(&b);

    /* damaged: no REAL before it, in the first row, too wide, no room */
    uint8_t first[] = {3, 0, 8, 1};
    vnd_packed_open(&rd, first, sizeof first, 1, reals);
    CHECK(vnd_packed_next(&rd, col, 1) == -1, "an XOR in a block's first row is damage");
    uint8_t after_int[] = {3, 0, 1, 2, 1, 8, 1};
    vnd_packed_open(&rd, after_int, sizeof after_int, 1, reals);
    CHECK(vnd_packed_next(&rd, col, 1) == 1 && vnd_packed_next(&rd, col, 1) == -1,
          "an XOR after an integer is damage");
    uint8_t ok[] = {3, 0, 2, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 1, 8, 1};
    struct vnd_value got;
    vnd_packed_open(&rd, ok, sizeof ok, 1, reals);
    CHECK(vnd_packed_next(&rd, col, 1) == 1 && vnd_packed_next(&rd, col, 1) == 1
              && (vnd_packed_value(&rd, col, 0, &got), got.type == VND_SQL_REAL)
              && got.d == nextafter(1.0, 2.0),
          "an XOR of 1 after 1.0 is the next double");
    CHECK(vnd_packed_open(&rd, ok, sizeof ok, 1, NULL) == -1, "a reader without room is refused");
    uint8_t wide[] = {3, 0, 2, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 1, 8,
                      0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    vnd_packed_open(&rd, wide, sizeof wide, 1, reals);
    CHECK(vnd_packed_next(&rd, col, 1) == 1 && vnd_packed_next(&rd, col, 1) == -1,
          "an XOR of 2^49 or more (the writer's limit) is damage");
    uint8_t cut[] = {3, 0, 2, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 1, 8, 0x80};
    vnd_packed_open(&rd, cut, sizeof cut, 1, reals);
    CHECK(vnd_packed_next(&rd, col, 1) == 1 && vnd_packed_next(&rd, col, 1) == -1,
          "an XOR cut short is damage");
}

/* Rows whose tags repeat (flow records': each column keeps its type,
 * and whether it repeats) take a header byte and their values: no tag
 * byte a column, no delta for a rowid one after the row before. */
static void test_row_header(void)
{
    for (int gap = 1; gap <= 3; gap += 2) {
        struct vnd_packed_block b = {0};
        struct vnd_value v[4];
        for (int r = 0; r < 200; r++) {
            v[0] = ival(r % 50);                  /* one byte, not the same */
            v[1] = tval("same");
            v[2] = dval(2.5);
            v[3] = nval();
            vnd_packed_add(&b, 1 + (int64_t)r * gap, v, 4);
        }
        /* the first row: header, delta, two tag bytes, its values
         * (1 + 5 + 8 + 0); the second's tags differ (repeats), then alike */
        size_t first = 1 + 1 + 2 + 1 + 5 + 8, second = 1 + (gap > 1) + 2 + 1;
        size_t want = 1 + first + second + 198 * (1 + (gap > 1) + 1);
        CHECK(b.len == want, "200 rows of repeated tags, rowids %d apart: %zu bytes (%zu expected)",
              gap, b.len, want);
        struct vnd_packed_reader rd;
        const uint8_t *col[4];
        uint8_t room[VND_PACKED_ROOM(4)];
        vnd_packed_open(&rd, b.p, b.len, b.first, room);
        int rows = 0, bad = 0;
        while (vnd_packed_next(&rd, col, 4) == 1) {
            struct vnd_value got;
            v[0] = ival(rows % 50);
            v[1] = tval("same");
            v[2] = dval(2.5);
            v[3] = nval();
            bad += rd.rowid != 1 + (int64_t)rows * gap;
            for (int c = 0; c < 4; c++) {
                vnd_packed_value(&rd, col, c, &got);
                bad += !vnd_value_eq(&got, &v[c]);
            }
            rows++;
        }
        CHECK(rows == 200 && bad == 0, "and read back as written (%d wrong)", bad);
        vnd_packed_free(&b);
    }
}

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    test_codec();
    test_same_edges();
    test_row_header();
    test_long_values();
    test_xreal();
    test_store();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return tap_done();
}
