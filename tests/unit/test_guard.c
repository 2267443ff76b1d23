/* test_guard.c — the guard alone (store/guard.c), on one file holding a
 * tenant's tables t1, t2 and another's n0, the tenant limited to t1: each
 * form of issue 9 that read n0 or t2, what must keep working, the answers
 * (missing and "not yours" alike), the value limit and the memory budget;
 * then the tenant layout (store/tenant.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/guard.h"
#include "store/sqlmem.h"
#include "store/tenant.h"
#include "../tap.h"

static char dir[] = "/tmp/vnd-test-guard.XXXXXX";
static char path[256];

static void make_db(const char *file, const char *sql)
{
    sqlite3 *db;
    if (sqlite3_open(file, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL)) {
        fprintf(stderr, "setup: %s\n", sqlite3_errmsg(db));
        exit(2);
    }
    sqlite3_close(db);
}

/* Runs `sql` as the tenant; returns the prepare status (0, EPERM,
 * EINVAL) with the message in msg and the first column of the first row
 * (or the step error) in first. */
static int run(struct vnd_guard *g, const char *sql, char *msg, size_t msgsz, char *first,
               size_t firstsz)
{
    sqlite3_stmt *s = NULL;
    char *err = NULL;
    msg[0] = first[0] = '\0';
    int rc = vnd_guard_prepare(g, sql, &s, &err);
    if (rc) {
        snprintf(msg, msgsz, "%s", err);
        free(err);
        return rc;
    }
    vnd_guard_start(g);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        snprintf(first, firstsz, "%s",
                 sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "NULL");
    while (step == SQLITE_ROW)
        step = sqlite3_step(s);
    if (step != SQLITE_DONE) {
        char *why = vnd_guard_step_error(g, step);
        snprintf(first, firstsz, "error: %s", why);
        free(why);
    }
    sqlite3_finalize(s);
    return 0;
}

static void escapes(struct vnd_guard *g)
{
    static const char *const forms[] = {
        "select count(*) from t1 join n0 using(dst_port)",
        "select count(*) from t1 natural join n0",
        "select count(*) from t1 join t2 using(src_ip)",
        "with recursive c(dst_port) as (select 0 union all select dst_port + 1 from c "
        "where dst_port < 100) select count(*) from c join n0 using(dst_port)",
        "select src_ip from t1 union select src_ip from n0",
        "select count(*) from t1 a join t1 b on a.src_ip in (select src_ip from n0)",
        "select count(*) from t1 join t1 b on (select count(*) from n0) > 0",
        "select sum(dst_port) over (order by src_ip) from n0",
        "select count(*) from t1, json_each((select json_group_array(src_ip) from n0))",
        "select count(*) from t1, json_tree((select json_group_array(src_ip) from n0))",
        "select * from n0",
        "select * from v_n0",
        "select * from vnd_traces",
        "select name from sqlite_schema",
        "select * from sqlite_temp_master",
        "select * from main.n0",
        "select * from dbstat",
        "explain query plan select * from n0",
        "select 1 where exists (select 1 from n0)",
    };
    char msg[256], first[256];
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        int rc = run(g, forms[i], msg, sizeof msg, first, sizeof first);
        CHECK(rc == EINVAL && !strncmp(msg, "no such table", 13),
              "refused as a missing table: %s", forms[i]);
        if (rc != EINVAL)
            printf("#   rc %d, %s, first row %s\n", rc, msg, first);
    }
    /* a name that exists and one that does not: the same answer */
    char m1[256], m2[256];
    run(g, "select * from n0", m1, sizeof m1, first, sizeof first);
    run(g, "select * from zz", m2, sizeof m2, first, sizeof first);
    CHECK_EQ_STR(m1 + strlen("no such table: "), "n0", "not yours: 'no such table: n0'");
    CHECK_EQ_STR(m2 + strlen("no such table: "), "zz", "missing: 'no such table: zz'");
}

static void allowed(struct vnd_guard *g)
{
    static const struct { const char *sql, *want; } cases[] = {
        {"select count(*) from t1", "3"},
        {"select count(*) from t1 a join t1 b using(dst_port)", "5"},
        {"with recursive c(x) as (select 1 union all select x + 1 from c where x < 4) "
         "select sum(x) from c", "10"},
        {"select count(*) from t1, json_each(json_array(t1.src_ip, 1))", "6"},
        {"select count(*) from json_tree('{\"a\":[1,2]}')", "4"},
        {"select max(r) from (select row_number() over (order by dst_port) r from t1)", "3"},
        {"select count(*) from (select 80 as dst_port) join t1 using(dst_port)", "2"},
        {"explain query plan select * from t1", "2"},
        {"select length(printf('%.*c', 1000, 'x'))", "1000"},
    };
    char msg[256], first[256];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = run(g, cases[i].sql, msg, sizeof msg, first, sizeof first);
        CHECK(rc == 0 && !strcmp(first, cases[i].want), "allowed: %s = %s", cases[i].sql,
              cases[i].want);
        if (rc || strcmp(first, cases[i].want))
            printf("#   rc %d %s, got %s\n", rc, msg, first);
    }
    static const struct { const char *sql, *why; } refused[] = {
        {"select * from pragma_table_info('t1')", "PRAGMA function"},
        {"pragma table_info(t1)", "PRAGMA"},
        {"attach database '/tmp/x' as x", "ATTACH"},
        {"delete from t1", "writing"},
        {"create table z(a)", "changing the schema"},
        {"select load_extension('x')", "the function"},
        {"select 1; select 2", "one statement"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        int rc = run(g, refused[i].sql, msg, sizeof msg, first, sizeof first);
        CHECK(rc == EPERM && strstr(msg, refused[i].why), "refused, saying '%s': %s",
              refused[i].why, refused[i].sql);
        if (rc != EPERM || !strstr(msg, refused[i].why))
            printf("#   rc %d %s\n", rc, msg);
    }
}

/* Prepares `sql` straight on `db` with sqlite3_prepare_v2, as the diag
 * apps do on the guard's connection and its twins, and steps it once:
 * SQLITE_OK and the first value in `first`, or the prepare's code and
 * SQLite's message. */
static int raw(sqlite3 *db, const char *sql, char *first, size_t firstsz)
{
    sqlite3_stmt *s = NULL;
    first[0] = '\0';
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK) {
        snprintf(first, firstsz, "%s", sqlite3_errmsg(db));
        sqlite3_finalize(s);
        return rc;
    }
    if (sqlite3_step(s) == SQLITE_ROW)
        snprintf(first, firstsz, "%s",
                 sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "NULL");
    sqlite3_finalize(s);
    return SQLITE_OK;
}

/* The table list holds for every statement on the guard's connections,
 * not only those of vnd_guard_prepare: a statement prepared directly on
 * the guard's connection or on a twin (a diag app's) may not read t2 or
 * n0 either, from the first statement after the open on. */
static void direct(void)
{
    static const char *const reads[] = {
        "select * from \"t2\" limit 0",        /* how the apps look at a table */
        "select min(dst_port) from t2",
        "select count(*) from t2",
        "select * from n0",
        "select count(*) from n0",
        "select * from t1 where src_ip in (select src_ip from t2)",
        "select src_ip from t1 union select src_ip from n0",
        "select count(*) from t1 a join t1 b on a.src_ip in (select src_ip from n0)",
        "select sum(dst_port) over (order by src_ip) from n0",
        "select count(*) from t1, json_each((select json_group_array(src_ip) from n0))",
        "select * from v_n0",
        "select * from main.n0",
        "select name from sqlite_schema",
        "select src_ip from t3",                 /* created after the guard opened */
    };
    static const struct { const char *sql, *want; } ok[] = {
        {"select count(*) from t1", "3"},
        {"select \"src_ip\" from \"t1\" order by 1 limit 1", "10.0.0.1"},
        {"with recursive c(x) as (select 1 union all select x + 1 from c where x < 4) "
         "select sum(x) from c", "10"},
        {"with c(x) as (select 1) select count(*) from c", "1"},
        {"select count(*) from t1, json_each(json_array(t1.src_ip, 1))", "6"},
        {"select max(r) from (select row_number() over (order by dst_port) r from t1)", "3"},
    };
    struct vnd_guard *g = NULL;
    char *err = NULL;
    const char *const tables[] = {"t1", NULL};
    if (vnd_guard_open(path, tables, &g, &err)) {
        CHECK(0, "open for direct prepares: %s", err);
        free(err);
        return;
    }
    make_db(path, "create table t3(src_ip text); insert into t3 values ('10.9.9.9');");
    struct vnd_guard *twin = vnd_guard_twin(vnd_guard_db(g));
    CHECK(twin != NULL, "a twin of the restricted guard opens");
    struct vnd_guard *gs[2] = {g, twin};
    const char *which[2] = {"guard", "twin"};
    char first[256];
    for (int c = 0; c < 2 && gs[c]; c++) {
        sqlite3 *db = vnd_guard_db(gs[c]);
        for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
            int rc = raw(db, reads[i], first, sizeof first);
            CHECK(rc == SQLITE_AUTH, "%s, sqlite3_prepare_v2: refused: %s", which[c], reads[i]);
            if (rc != SQLITE_AUTH)
                printf("#   rc %d, %s\n", rc, first);
        }
        for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
            int rc = raw(db, ok[i].sql, first, sizeof first);
            CHECK(rc == SQLITE_OK && !strcmp(first, ok[i].want),
                  "%s, sqlite3_prepare_v2: allowed: %s = %s", which[c], ok[i].sql, ok[i].want);
            if (rc != SQLITE_OK || strcmp(first, ok[i].want))
                printf("#   rc %d, %s\n", rc, first);
        }
    }
    /* the guard's own answer for such a table is still "no such table" */
    sqlite3_stmt *s = NULL;
    int rc = vnd_guard_prepare(g, "select src_ip from t3", &s, &err);
    CHECK(rc == EINVAL && err && !strcmp(err, "no such table: t3"),
          "... and through vnd_guard_prepare: no such table: t3");
    free(err);
    sqlite3_finalize(s);
    vnd_guard_close(twin);
    vnd_guard_close(g);
    make_db(path, "drop table t3;");
    /* without a table list, a twin reads what its guard reads */
    if (vnd_guard_open(path, NULL, &g, &err) == 0) {
        twin = vnd_guard_twin(vnd_guard_db(g));
        int r1 = raw(vnd_guard_db(g), "select count(*) from t2", first, sizeof first);
        int r2 = twin ? raw(vnd_guard_db(twin), "select count(*) from n0", first, sizeof first)
                      : -1;
        CHECK(r1 == SQLITE_OK && r2 == SQLITE_OK && !strcmp(first, "2"),
              "unrestricted: the guard and its twin read every table");
        vnd_guard_close(twin);
        vnd_guard_close(g);
    } else {
        CHECK(0, "open unrestricted: %s", err);
        free(err);
    }
}

static void limits(struct vnd_guard *g)
{
    char msg[256], first[256];
    run(g, "select length(printf('%.*c', 900000000, 'x'))", msg, sizeof msg, first, sizeof first);
    CHECK(strstr(first, "longer than 64 MiB") != NULL, "a 900 MB value: an error, not NULL");
    printf("#   %s\n", first);
    vnd_guard_set_memory_limit(g, 100u << 20);
    run(g, "select printf('%.*c', 40000000, 'a'), printf('%.*c', 40000000, 'b'), "
           "printf('%.*c', 40000000, 'c')", msg, sizeof msg, first, sizeof first);
    CHECK(strstr(first, "more memory than one query may use (100 MiB)") != NULL,
          "three 40 MB values under a 100 MiB budget: out of the query's memory");
    printf("#   %s\n", first);
    run(g, "select length(printf('%.*c', 40000000, 'a'))", msg, sizeof msg, first, sizeof first);
    CHECK_EQ_STR(first, "40000000", "... and one fits");
    vnd_guard_set_timeout(g, 0.3);
    run(g, "with recursive c(x) as (select 1 union all select x + 1 from c) "
           "select count(*) from c", msg, sizeof msg, first, sizeof first);
    CHECK(strstr(first, "time limit of 0.3 s") != NULL, "an endless query stops at the limit");
}

static void tenants(void)
{
    char store[300], tdir[320], a[400], b[400];
    snprintf(store, sizeof store, "%s/store.db", dir);
    snprintf(tdir, sizeof tdir, "%s/store.db.tenants", dir);
    mkdir(tdir, 0700);
    char *pa = vnd_tenant_db_path(store, "a"), *pb = vnd_tenant_db_path(store, "b");
    snprintf(a, sizeof a, "%s", pa);
    snprintf(b, sizeof b, "%s", pb);
    free(pa);
    free(pb);
    make_db(store, "create table vnd_traces(id); insert into vnd_traces values ('n0');");
    make_db(a, "create table vnd_meta(trace, tbl); insert into vnd_meta values ('t1', 't1');"
               "create table t1(x); insert into t1 values (1);");
    make_db(b, "create table vnd_meta(trace, tbl); insert into vnd_meta values ('n0', 'n0');"
               "create table n0(x); insert into n0 values (2);");
    struct vnd_guard *g = NULL;
    char *err = NULL;
    const char *const n0[] = {"n0"}, *const nope[] = {"nope"}, *const t1[] = {"t1"};
    int rc1 = vnd_tenant_guard_open(store, "a", n0, 1, &g, &err);
    char m1[200] = "";
    snprintf(m1, sizeof m1, "%s", err ? err : "");
    free(err);
    err = NULL;
    int rc2 = vnd_tenant_guard_open(store, "a", nope, 1, &g, &err);
    CHECK(rc1 == ENOENT && rc2 == ENOENT && !strcmp(m1, "no trace n0")
          && !strcmp(err, "no trace nope"), "another tenant's trace is as missing as none");
    free(err);
    err = NULL;
    CHECK(vnd_tenant_guard_open(store, "../b", NULL, 0, &g, &err) == EINVAL,
          "a tenant that is not a name is refused");
    free(err);
    err = NULL;
    CHECK(vnd_tenant_guard_open(store, "a", t1, 1, &g, &err) == 0, "tenant a, trace t1 opens");
    char msg[256], first[256];
    run(g, "select count(*) from n0", msg, sizeof msg, first, sizeof first);
    CHECK(!strcmp(msg, "no such table: n0"), "tenant a's file has no n0");
    run(g, "select count(*) from vnd_traces", msg, sizeof msg, first, sizeof first);
    CHECK(!strcmp(msg, "no such table: vnd_traces"), "... nor the registry");
    run(g, "select group_concat(trace) from vnd_meta", msg, sizeof msg, first, sizeof first);
    CHECK_EQ_STR(first, "t1", "... and its vnd_meta is its own");
    vnd_guard_close(g);
    unlink(a);
    unlink(b);
    unlink(store);
    rmdir(tdir);
}

int main(void)
{
    vnd_sqlmem_install();
    if (!mkdtemp(dir))
        return 2;
    snprintf(path, sizeof path, "%s/two.db", dir);
    make_db(path,
            "create table t1(src_ip text, dst_port int);"
            "insert into t1 values ('10.0.0.1', 80), ('10.0.0.2', 80), ('10.0.0.3', 443);"
            "create table t2(src_ip text, dst_port int);"
            "insert into t2 values ('10.0.0.9', 80);"
            "create table n0(src_ip text, dst_port int);"
            "insert into n0 values ('192.168.9.9', 80), ('192.168.9.8', 22);"
            "create index n0_port on n0(dst_port);"
            "create table vnd_traces(id, name);"
            "create view v_n0 as select * from n0;");
    struct vnd_guard *g = NULL;
    char *err = NULL;
    const char *const tables[] = {"t1", NULL};
    if (vnd_guard_open(path, tables, &g, &err)) {
        printf("not ok 1 - open: %s\n", err);
        return 1;
    }
    escapes(g);
    allowed(g);
    limits(g);
    vnd_guard_close(g);
    direct();
    tenants();
    unlink(path);
    rmdir(dir);
    return tap_done();
}
