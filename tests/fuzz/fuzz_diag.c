/* fuzz_diag.c — a diagnostic application run as a table server runs a
 * tenant's POST /v1/diag: arbitrary options (the JSON body) through
 * vnd_diag_opts_from_json and vnd_diag_report on a guarded connection with
 * a time limit, over a database holding a packet table (A, and B its copy
 * 1 ms later with a packet lost), a table sampled 1 in 4 by hash (S) and
 * flow records the switch sampled 1 in 10 (F; R with a rollup).  Every
 * app's SQL, its C step and its output meet whatever options get past the
 * checks.  Input:
 * one byte choosing the app, the output format, a plot and "complete",
 * then the JSON.
 * Every refusal carries a message; nothing may crash. */
#include <jansson.h>
#include <stdbool.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag/diag.h"
#include "diag/opts_json.h"
#include "diag/runner.h"
#include "store/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];
static struct vnd_guard *guard;
static FILE *sink;
static bool show;

static void remove_db(void)
{
    vnd_guard_close(guard);
    unlink(path);
}

static const char schema[] =
    "CREATE TABLE vnd_meta (trace TEXT, tbl TEXT, source TEXT, sampling INTEGER,"
    " flow_sampling REAL);"
    "CREATE TABLE vnd_sampling (trace TEXT, tbl TEXT, from_ts REAL, sampling INTEGER,"
    " method TEXT, flow_sampling REAL, reason TEXT);"
    "CREATE TABLE A (ts REAL, id INTEGER, src_ip TEXT, dst_ip TEXT, proto INTEGER,"
    " src_port INTEGER, dst_port INTEGER, seq INTEGER, ack INTEGER, flags INTEGER,"
    " payload_len INTEGER);"
    "CREATE TABLE F (ts REAL, src_ip TEXT, dst_ip TEXT, proto INTEGER, src_port INTEGER,"
    " dst_port INTEGER, flags INTEGER, start_ts REAL, end_ts REAL, packets INTEGER,"
    " bytes INTEGER);"
    "INSERT INTO vnd_meta VALUES ('a', 'A', 'a.pcap', 1, 1), ('b', 'B', 'b.pcap', 1, 1),"
    " ('s', 'S', 'vnd-tabled', 4, 1), ('f', 'F', 'vnd-tabled ipfix', 10, 1);"
    "INSERT INTO vnd_sampling VALUES ('s', 'S', 0, 4, 'hash', 1, 'configured'),"
    " ('f', 'F', 0, 10, 'count', 1, 'configured'), ('f', 'F', 103, 20, 'count', 1, 'budget');"
    /* two directions of a connection: data a→b, ACKs b→a, 200 segments */
    "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 199)"
    " INSERT INTO A SELECT 100 + i * 0.013, i, CASE WHEN i % 2 THEN '10.0.0.2' ELSE"
    " '10.0.0.1' END, CASE WHEN i % 2 THEN '10.0.0.1' ELSE '10.0.0.2' END, 6,"
    " CASE WHEN i % 2 THEN 80 ELSE 1000 END, CASE WHEN i % 2 THEN 1000 ELSE 80 END,"
    " 1 + (i / 2) * 100, 1 + (i / 2) * 100, CASE WHEN i % 2 THEN 16 ELSE 24 END,"
    " CASE WHEN i % 2 THEN 0 ELSE 100 END FROM k;"
    "CREATE TABLE B AS SELECT ts + 0.001 AS ts, id, src_ip, dst_ip, proto, src_port,"
    " dst_port, seq, ack, flags, payload_len FROM A WHERE id != 17;"
    "CREATE TABLE S AS SELECT * FROM A WHERE id % 4 = 0;"
    "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 59)"
    " INSERT INTO F SELECT 100 + i * 0.1, '10.0.' || (i % 3) || '.1', '10.0.9.9',"
    " CASE WHEN i % 5 THEN 6 ELSE 17 END, 1000 + i % 7, 80, 24,"
    " 100 + i * 0.1 - (i % 4) * 0.7, 100 + i * 0.1, 10 * (1 + i % 9), 15000 * (1 + i % 9)"
    " FROM k;"
    /* an exporter's wrong times */
    "INSERT INTO F VALUES (107, 'x', 'y', 6, 1, 2, 24, 0, 107, 10, 1000),"
    " (108, 'x', 'y', 6, 1, 2, 24, 109, 108, 10, 1000), (109, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL);"
    /* F with sums of squared lengths, some of no use: missing, text,
     * negative, past 2^63 */
    "CREATE TABLE Q AS SELECT *, CASE rowid % 6 WHEN 0 THEN NULL WHEN 1 THEN 2 * bytes * bytes"
    " WHEN 2 THEN -5 WHEN 3 THEN 'x' WHEN 4 THEN 9.3e18 ELSE 1 END AS bytes_sq FROM F;"
    "INSERT INTO vnd_meta VALUES ('q', 'Q', 'vnd-tabled ipfix', 10, 1);"
    "INSERT INTO vnd_sampling VALUES ('q', 'Q', 0, 10, 'count', 1, 'configured');"
    /* packets, then from 101 1-in-2 of 1-in-2 flows (a host budget) */
    "CREATE TABLE M AS SELECT * FROM A WHERE id < 80 OR (id % 2 = 0 AND src_port = 80);"
    "INSERT INTO vnd_meta VALUES ('m', 'M', 'vnd-tabled', 2, 2);"
    "INSERT INTO vnd_sampling VALUES ('m', 'M', 0, 1, 'count', 1, 'configured'),"
    " ('m', 'M', 101, 2, 'count', 2, 'budget');"
    /* Q's records with their rollup (ingest/rollup_records.h), which
     * throughput answers from: seconds as ingest writes them, and rows
     * no ingest writes (NULLs, text, negatives, seconds past int64's
     * doubles, a sum past a double's range) */
    "ALTER TABLE vnd_meta ADD COLUMN status TEXT;"
    "ALTER TABLE vnd_meta ADD COLUMN packets_stored INTEGER;"
    "ALTER TABLE vnd_meta ADD COLUMN rollup TEXT;"
    "ALTER TABLE vnd_meta ADD COLUMN rollup_status TEXT;"
    "ALTER TABLE vnd_meta ADD COLUMN rollup_packets INTEGER;"
    "CREATE TABLE R AS SELECT * FROM Q;"
    "INSERT INTO vnd_meta (trace, tbl, source, sampling, flow_sampling, status, packets_stored,"
    " rollup, rollup_status, rollup_packets) SELECT 'r', 'R', 'vnd-tabled ipfix', 10, 1,"
    " 'complete', count(*), 'R__rollup', 'rollup-records', count(*) FROM R;"
    "INSERT INTO vnd_sampling VALUES ('r', 'R', 0, 10, 'count', 1, 'configured');"
    "CREATE TABLE R__rollup (slot INTEGER NOT NULL, packets REAL NOT NULL, bytes REAL NOT NULL,"
    " sq REAL, records INTEGER NOT NULL, firsts INTEGER NOT NULL);"
    "WITH RECURSIVE k(i) AS (SELECT 95 UNION ALL SELECT i + 1 FROM k WHERE i < 106)"
    " INSERT INTO R__rollup SELECT i, 40.5 * (i % 3), 60000.25 * (i % 5), 9e8 * i, 1 + i % 4,"
    " i % 2 FROM k;"
    "INSERT INTO R__rollup VALUES (100, 'x', -1, NULL, -3, 7), (9.2e18, 1, 1, 1, 1, 1),"
    " (-9.2e18, 1e308, 1e308, -1, 0, 0), (101, 1, 1, 'sq', 1, 2);";

/* The database goes in $TMPDIR (run-libfuzzer.sh's own directory, which
 * it removes whatever happens: libFuzzer leaves without atexit), else
 * /tmp, removed at exit. */
static int setup(void)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/vnd-fuzz-diag.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    sqlite3 *db = NULL;
    char *err = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK
        || sqlite3_exec(db, schema, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "fuzz_diag: %s\n", err ? err : sqlite3_errmsg(db));
        abort();
    }
    sqlite3_close(db);
    if (vnd_guard_open(path, NULL, &guard, &err)) {
        fprintf(stderr, "fuzz_diag: %s\n", err);
        abort();
    }
    /* a tenant's limits, shorter: an input is one of thousands */
    vnd_guard_set_timeout(guard, 0.05);
    vnd_guard_set_memory_limit(guard, 64u << 20);
    /* VND_FUZZ_DIAG_SHOW=1: the results and refusals on stderr (to read
     * what an input did) */
    show = getenv("VND_FUZZ_DIAG_SHOW") != NULL;
    sink = show ? stderr : fopen("/dev/null", "w");
    atexit(remove_db);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!guard && setup())
        return 0;
    if (size < 1)
        return 0;
    int napps = 0;
    while (vnd_diag_apps[napps])
        napps++;
    const struct vnd_diag_app *app = vnd_diag_apps[data[0] % napps];
    json_error_t je;
    json_t *j = json_loadb((const char *)data + 1, size - 1, 0, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return 0;
    }
    struct vnd_diag_opts o;
    char *err = NULL;
    if (vnd_diag_opts_from_json(j, &o, &err)) {
        if (!err)
            abort();
        if (show)
            fprintf(stderr, "options refused: %s\n", err);
    } else {
        /* the byte: app + napps * (format + 3 * (plot + 2 * complete)) */
        struct vnd_diag_view v = {.out = sink, .fmt = (enum vnd_fmt)(data[0] / napps % 3),
                                  .min_t = -INFINITY, .plot = data[0] / (3 * napps) % 2,
                                  .verdict = true,
                                  .complete = data[0] / (6 * napps) % 2};
        if (vnd_diag_report(guard, app, &o, &v, &err)) {
            if (!err)
                abort();
            if (show)
                fprintf(stderr, "%s refused: %s\n", app->name, err);
        }
    }
    free(err);
    json_decref(j);
    return 0;
}
