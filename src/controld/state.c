/* state.c — the control server's SQLite database. */
#include "controld/state.h"

#include <stdarg.h>
#include <stdlib.h>

#include "daemon/log.h"
#include "util/util.h"

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS diagnosis ("
    " num INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, state TEXT NOT NULL,"
    " created REAL NOT NULL, ends REAL, stopped REAL, reason TEXT,"
    " collect TEXT NOT NULL, parse TEXT NOT NULL, collect_name TEXT, parse_name TEXT);"
    "CREATE TABLE IF NOT EXISTS trace ("
    " diag INTEGER NOT NULL REFERENCES diagnosis(num), idx INTEGER NOT NULL,"
    " name TEXT NOT NULL, node TEXT NOT NULL, point TEXT NOT NULL, direction TEXT NOT NULL,"
    " pattern TEXT NOT NULL, tables TEXT NOT NULL, host TEXT NOT NULL, port TEXT NOT NULL,"
    " ofport INTEGER NOT NULL, tag INTEGER NOT NULL, bit INTEGER NOT NULL,"
    " match TEXT NOT NULL, sampling INTEGER NOT NULL, snaplen INTEGER NOT NULL,"
    " parse_text TEXT NOT NULL, stored INTEGER NOT NULL DEFAULT 0,"
    " bytes INTEGER NOT NULL DEFAULT 0, match_blob BLOB NOT NULL,"
    " PRIMARY KEY (diag, idx), UNIQUE (host, tag));"
    /* where each host's table server collects sFlow and IPFIX, as its
     * answers said (sflow_target: the sFlow ones of an older state) */
    "CREATE TABLE IF NOT EXISTS collector_target ("
    " host TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,"
    " PRIMARY KEY (host, kind));"
    "CREATE TABLE IF NOT EXISTS audit ("
    " ts TEXT NOT NULL, tenant TEXT, action TEXT NOT NULL, diagnosis TEXT,"
    " status INTEGER NOT NULL, detail TEXT);";

int vnd_state_open(const char *path, sqlite3 **db, char **err)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                        | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        *err = vnd_strdup_printf("%s: %s", path, *db ? sqlite3_errmsg(*db) : "cannot open");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(*db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        *err = vnd_strdup_printf("%s: %s", path, msg);
        sqlite3_free(msg);
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    /* Columns added since the first schema: a database written before
     * them gets them with their defaults (the error of a column already
     * there is the expected one). */
    static const char *const added[] = {
        "ALTER TABLE trace ADD COLUMN mode TEXT NOT NULL DEFAULT 'mirror'",
        "ALTER TABLE trace ADD COLUMN ipfix_timeout INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE trace ADD COLUMN ipfix_flows INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE trace ADD COLUMN flow_sampling INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE trace ADD COLUMN sampling_method TEXT NOT NULL DEFAULT 'count'",
        /* what the tenant asked for: the floors when a host budget has
         * raised flow_sampling or an sflow trace's sampling (host_budget.c) */
        "ALTER TABLE trace ADD COLUMN flow_sampling_asked INTEGER NOT NULL DEFAULT 0",
        "UPDATE trace SET flow_sampling_asked = flow_sampling WHERE flow_sampling_asked = 0",
        "ALTER TABLE trace ADD COLUMN sampling_asked INTEGER NOT NULL DEFAULT 0",
        "UPDATE trace SET sampling_asked = sampling WHERE sampling_asked = 0",
        /* the tenant's Snaplen, and the bytes a host budget may cut a
         * mirror trace's copies to (0: its fields need the payload) */
        "ALTER TABLE trace ADD COLUMN snaplen_asked INTEGER NOT NULL DEFAULT -1",
        "UPDATE trace SET snaplen_asked = snaplen WHERE snaplen_asked = -1",
        "ALTER TABLE trace ADD COLUMN header_bytes INTEGER NOT NULL DEFAULT 0",
        /* an sflow trace's Polling (0: a state from before it, the default) */
        "ALTER TABLE trace ADD COLUMN sflow_polling INTEGER NOT NULL DEFAULT 0",
    };
    for (size_t i = 0; i < sizeof added / sizeof *added; i++)
        sqlite3_exec(*db, added[i], NULL, NULL, NULL);
    /* a state written before collector_target kept the sFlow targets apart */
    sqlite3_stmt *old = NULL;
    if (sqlite3_prepare_v2(*db, "SELECT 1 FROM sqlite_master WHERE name = 'sflow_target'", -1,
                           &old, NULL) == SQLITE_OK && sqlite3_step(old) == SQLITE_ROW)
        sqlite3_exec(*db, "INSERT OR IGNORE INTO collector_target (host, kind, target)"
                     " SELECT host, 'sflow', target FROM sflow_target; DROP TABLE sflow_target",
                     NULL, NULL, NULL);
    sqlite3_finalize(old);
    return 0;
}

static sqlite3_stmt *prepare_v(sqlite3 *db, const char *sql, const char *types, va_list ap)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        vnd_err("state: %s: %s", sqlite3_errmsg(db), sql);
        return NULL;
    }
    for (int i = 0; types[i]; i++) {
        int k = i + 1;
        switch (types[i]) {
        case 's': sqlite3_bind_text(st, k, va_arg(ap, const char *), -1, SQLITE_TRANSIENT); break;
        case 'i': sqlite3_bind_int(st, k, va_arg(ap, int)); break;
        case 'I': sqlite3_bind_int64(st, k, va_arg(ap, long long)); break;
        case 'd': sqlite3_bind_double(st, k, va_arg(ap, double)); break;
        default: sqlite3_bind_null(st, k); break;
        }
    }
    return st;
}

sqlite3_stmt *vnd_state_query(sqlite3 *db, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = prepare_v(db, sql, types, ap);
    va_end(ap);
    return st;
}

int vnd_state_exec(sqlite3 *db, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = prepare_v(db, sql, types, ap);
    va_end(ap);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        vnd_err("state: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

void vnd_state_audit(sqlite3 *db, const char *tenant, const char *action, const char *diag,
                     int status, const char *detail)
{
    vnd_state_exec(db, "INSERT INTO audit VALUES (strftime('%Y-%m-%dT%H:%M:%fZ','now'),?,?,?,?,?)",
                   "sssis", tenant, action, diag, status, detail);
    vnd_info("audit: tenant=%s action=%s diagnosis=%s status=%d%s%s", tenant ? tenant : "-",
             action, diag ? diag : "-", status, detail ? " " : "", detail ? detail : "");
}
