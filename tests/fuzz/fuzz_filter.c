/* fuzz_filter.c — the filter compiler on arbitrary text.  A filter that
 * compiles is run on a few fixed packets and turned into SQL for both
 * dialects; the SQLite form must prepare and select exactly the rows
 * vnd_filter_match takes (each field has a column of its own here, so the
 * two must agree).  A refused filter must say where. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sqlite3.h>

#include "fields/registry.h"
#include "util/util.h"
#include "lang/filter.h"
#include "lang/sqlfuncs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPKTS 4
static struct vnd_pkt pkts[NPKTS];
static char colnames[VND_F_COUNT][48];
static sqlite3 *db;
static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
static uint8_t a4[4], b4[4], a6[16], b6[16];
static const uint8_t payload[] = "hello";

static void pkt_setup(void)
{
    inet_pton(AF_INET, "10.0.0.6", a4);
    inet_pton(AF_INET, "192.168.1.1", b4);
    inet_pton(AF_INET6, "fe80::1", a6);
    inet_pton(AF_INET6, "2001:db8::1", b6);
    struct vnd_pkt *p = &pkts[0];
    vnd_pkt_set_u(p, VND_F_TIMESTAMP_NS, UINT64_C(1370000000250000000));
    vnd_pkt_set_b(p, VND_F_TRACE, (const uint8_t *)"tr_1", 4);
    vnd_pkt_set_b(p, VND_F_ETH_SRC, mac, 6);
    vnd_pkt_set_u(p, VND_F_ETH_TYPE, 0x800);
    vnd_pkt_set_u(p, VND_F_IP_VERSION, 4);
    vnd_pkt_set_b(p, VND_F_IP_SRC, a4, 4);
    vnd_pkt_set_b(p, VND_F_IP_DST, b4, 4);
    vnd_pkt_set_u(p, VND_F_IP_PROTO, 6);
    vnd_pkt_set_u(p, VND_F_TCP_SRC, 1234);
    vnd_pkt_set_u(p, VND_F_TCP_DST, 80);
    vnd_pkt_set_u(p, VND_F_TCP_SEQ, 4000000000u);
    vnd_pkt_set_u(p, VND_F_PAYLOAD_LEN, 5);
    p->payload = payload;
    p->payload_caplen = 5;
    p = &pkts[1];
    vnd_pkt_set_u(p, VND_F_TIMESTAMP_NS, UINT64_C(1370000001000000000));
    vnd_pkt_set_u(p, VND_F_IP_VERSION, 6);
    vnd_pkt_set_b(p, VND_F_IP_SRC, a6, 16);
    vnd_pkt_set_b(p, VND_F_IP_DST, b6, 16);
    vnd_pkt_set_u(p, VND_F_IP_PROTO, 17);
    vnd_pkt_set_u(p, VND_F_UDP_SRC, 53);
    vnd_pkt_set_u(p, VND_F_UDP_DST, 5353);
    vnd_pkt_set_b(p, VND_F_DNS_QNAME, (const uint8_t *)"a.example", 9);
    p = &pkts[2];
    vnd_pkt_set_u(p, VND_F_ETH_TYPE, 0x806);
    vnd_pkt_set_u(p, VND_F_ARP_OP, 2);
    vnd_pkt_set_b(p, VND_F_ARP_SPA, b4, 4);
    /* pkts[3] is empty */
}

static const char *column_of(enum vnd_field f, void *ctx)
{
    (void)ctx;
    return f == VND_F_PAYLOAD_HASH ? NULL : colnames[f];
}

static void db_setup(void)
{
    if (sqlite3_open(":memory:", &db) != SQLITE_OK || vnd_sql_register_functions(db))
        abort();
    char sql[8192];
    size_t o = (size_t)snprintf(sql, sizeof sql, "CREATE TABLE t (");
    for (int f = 0; f < VND_F_COUNT; f++) {
        snprintf(colnames[f], sizeof colnames[f], "%s", vnd_field_info((enum vnd_field)f)->name);
        for (char *c = colnames[f]; *c; c++)
            if (*c == '.')
                *c = '_';
        o += (size_t)snprintf(sql + o, sizeof sql - o, "%s\"%s\" %s", f ? ", " : "", colnames[f],
                              vnd_sql_type_name(vnd_field_sql_type((enum vnd_field)f)));
    }
    snprintf(sql + o, sizeof sql - o, ")");
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        abort();
    o = (size_t)snprintf(sql, sizeof sql, "INSERT INTO t VALUES (");
    for (int f = 0; f < VND_F_COUNT; f++)
        o += (size_t)snprintf(sql + o, sizeof sql - o, "%s?", f ? "," : "");
    snprintf(sql + o, sizeof sql - o, ")");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        abort();
    for (int p = 0; p < NPKTS; p++) {
        for (int f = 0; f < VND_F_COUNT; f++) {
            char buf[VND_VALUE_TEXT_MAX];
            struct vnd_value v;
            if (!vnd_field_value(&pkts[p], (enum vnd_field)f, buf, &v))
                sqlite3_bind_null(s, f + 1);
            else if (v.type == VND_SQL_INTEGER)
                sqlite3_bind_int64(s, f + 1, v.i);
            else if (v.type == VND_SQL_REAL)
                sqlite3_bind_double(s, f + 1, v.d);
            else
                sqlite3_bind_text(s, f + 1, v.s, (int)v.slen, SQLITE_TRANSIENT);
        }
        if (sqlite3_step(s) != SQLITE_DONE)
            abort();
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
}

static void check_error(const char *err)
{
    if (!err || strncmp(err, "fuzz:", 5) != 0) {
        fprintf(stderr, "error without a position: %s\n", err ? err : "(null)");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) {
        pkt_setup();
        db_setup();
    }
    if (size > 8192)
        return 0;
    char *text = vnd_xstrndup((const char *)data, size);

    char *err = NULL;
    struct vnd_filter *f = vnd_filter_compile(text, "fuzz", 1, 1, &err);
    if (!f) {
        check_error(err);
        free(err);
    } else {
        int want = 0;
        for (int p = 0; p < NPKTS; p++)
            want += vnd_filter_match(f, &pkts[p]);
        char *sql = vnd_filter_to_sql(f, column_of, NULL, false, &err);
        if (sql) {
            size_t n = strlen(sql) + 64;
            char *q = malloc(n);
            snprintf(q, n, "SELECT count(*) FROM t WHERE %s", sql);
            sqlite3_stmt *s;
            if (sqlite3_prepare_v2(db, q, -1, &s, NULL) != SQLITE_OK) {
                const char *m = sqlite3_errmsg(db);
                if (!strstr(m, "too large") && !strstr(m, "too many")) {
                    fprintf(stderr, "bad SQL: %s\n%s\n", m, q);
                    abort();
                }
            } else {
                int got = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
                sqlite3_finalize(s);
                if (got != want) {
                    fprintf(stderr, "SQL takes %d rows, match takes %d\nfilter: %s\nsql: %s\n",
                            got, want, text, sql);
                    abort();
                }
            }
            free(q);
            free(sql);
        } else {
            check_error(err);   /* payload.hash has no column here */
            free(err);
        }
        char *pg = vnd_filter_to_sql(f, column_of, NULL, true, &err);
        if (!pg) {
            check_error(err);
            free(err);
        }
        free(pg);
        vnd_filter_free(f);
    }

    /* the --where flavour: plain names are columns */
    err = NULL;
    f = vnd_filter_compile_where(text, "fuzz", 1, 1, &err);
    if (!f) {
        check_error(err);
        free(err);
    } else {
        for (int p = 0; p < NPKTS; p++)
            vnd_filter_match(f, &pkts[p]);
        char *sql = vnd_filter_to_sql(f, column_of, NULL, false, &err);
        if (!sql) {
            check_error(err);
            free(err);
        }
        free(sql);
        vnd_filter_free(f);
    }
    free(text);
    return 0;
}
