/* coordinator.c — the distributed mode's coordinator PostgreSQL: foreign
 * servers, per-diagnosis foreign tables and views, tenant sessions
 * (coordinator.h). */
#include "control/coordinator.h"

#include "store/provider.h"

#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "diag/diag.h"
#include "ingest/rollup.h"
#include "ingest/rollup_records.h"
#include "util/util.h"


struct vnd_coord {
    char *conninfo, *password;
    double timeout;
    long memory_kb;                 /* a tenant statement's bound (0: PostgreSQL's own) */
    bool temp_limit;                /* the control server's role may set temp_file_limit */
    pthread_mutex_t lock;           /* the admin connection */
    PGconn *admin;
};

static int failf(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(char **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *err = vnd_strdup_vprintf(fmt, ap);
    va_end(ap);
    return -1;
}

/* libpq's messages end in a newline. */
static char *pq_message(const char *m)
{
    char *s = vnd_xstrdup(m ? m : "");
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = 0;
    return s;
}

/* NOTICEs ("already exists, skipping", "drop cascades to ...") are not
 * for anyone: libpq would print them on stderr. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGconn *connect_as_admin(const struct vnd_coord *c, const char *app, char **err)
{
    const char *keys[] = {"dbname", "password", "application_name", NULL};
    const char *vals[] = {c->conninfo, c->password, app, NULL};
    if (!c->password) {
        keys[1] = "application_name";
        vals[1] = app;
        keys[2] = vals[2] = NULL;
    }
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
    if (PQstatus(conn) != CONNECTION_OK) {
        char *m = pq_message(PQerrorMessage(conn));
        failf(err, "the coordinator PostgreSQL (%s): %s", c->conninfo, m);
        free(m);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Runs `sql` (no parameters; several statements allowed) on the admin
 * connection.  Returns 0 or -1 and *err. */
static int admin_exec(struct vnd_coord *c, const char *sql, char **err)
{
    PGresult *r = PQexec(c->admin, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        char *m = pq_message(primary ? primary : PQresultErrorMessage(r));
        rc = failf(err, "the coordinator PostgreSQL: %s", m);
        free(m);
    }
    PQclear(r);
    return rc;
}

/* The admin connection, reconnected when it was lost (c->lock held). */
static int admin_ready(struct vnd_coord *c, char **err)
{
    if (c->admin && PQstatus(c->admin) == CONNECTION_OK)
        return 0;
    PQfinish(c->admin);
    c->admin = connect_as_admin(c, "vnd-controld", err);
    return c->admin ? 0 : -1;
}

/* What PUBLIC may still do that lets a tenant out: each a query
 * answering true when the hole is open. */
static const struct {
    const char *sql, *what;
} holes[] = {
    {"SELECT has_function_privilege('public', 'pg_catalog.set_config(text,text,boolean)',"
     " 'execute')", "call set_config (it sets the role back to the control server's)"},
    {"SELECT coalesce(bool_or(has_language_privilege('public', oid, 'usage')), false)"
     " FROM pg_language WHERE laninline <> 0", "run DO blocks (RESET ROLE inside one)"},
    {"SELECT has_table_privilege('public', 'pg_catalog.pg_foreign_server', 'select')",
     "read pg_foreign_server (the table servers' hosts and ports)"},
    {"SELECT has_table_privilege('public', 'pg_catalog.pg_foreign_table', 'select')",
     "read pg_foreign_table (other tenants' schemas)"},
    {"SELECT has_database_privilege('public', current_database(), 'temporary')",
     "create temporary tables"},
};

static int check_prepared(struct vnd_coord *c, char **err)
{
    for (size_t i = 0; i < sizeof holes / sizeof *holes; i++) {
        PGresult *r = PQexec(c->admin, holes[i].sql);
        int open = PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1
                   || strcmp(PQgetvalue(r, 0, 0), "f") != 0;
        PQclear(r);
        if (open)
            return failf(err, "the coordinator database is not prepared for tenants: PUBLIC may "
                         "still %s; run `scripts/vnd-pg-setup coordinator` on it as its "
                         "superuser (docs/distributed.md)", holes[i].what);
    }
    return 0;
}

int vnd_coord_open(const char *conninfo, const char *password, double timeout,
                   struct vnd_coord **out, char **err)
{
    struct vnd_coord *c = vnd_xcalloc(1, sizeof *c);
    c->conninfo = vnd_xstrdup(conninfo);
    c->password = password ? vnd_xstrdup(password) : NULL;
    c->timeout = timeout > 0 ? timeout : 60;
    pthread_mutex_init(&c->lock, NULL);
    if (admin_ready(c, err) || check_prepared(c, err)) {
        vnd_coord_close(c);
        return -1;
    }
    if (admin_exec(c, "CREATE EXTENSION IF NOT EXISTS postgres_fdw", err)) {
        char *e = *err;
        *err = vnd_strdup_printf("%s (postgres_fdw: run `scripts/vnd-pg-setup coordinator` on "
                                 "it as its superuser; docs/distributed.md)", e);
        free(e);
        vnd_coord_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

void vnd_coord_close(struct vnd_coord *c)
{
    if (!c)
        return;
    PQfinish(c->admin);
    pthread_mutex_destroy(&c->lock);
    free(c->conninfo);
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
    }
    free(c);
}

void vnd_coord_set_memory(struct vnd_coord *c, long mb)
{
    c->memory_kb = mb > 0 ? mb * 1024 : 0;
    if (!c->memory_kb)
        return;
    pthread_mutex_lock(&c->lock);
    PGresult *r = c->admin ? PQexec(c->admin, "SELECT has_parameter_privilege("
                                              "'temp_file_limit', 'SET')") : NULL;
    c->temp_limit = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                    && !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    pthread_mutex_unlock(&c->lock);
    if (!c->temp_limit)
        vnd_warn("the coordinator: a tenant's statement can fill the disk with temporary "
                 "files: this role may not set temp_file_limit (PostgreSQL 15 or later, "
                 "prepared by `vnd-pg-setup coordinator`, grants it)");
}

double vnd_coord_timeout(const struct vnd_coord *c)
{
    return c->timeout;
}

uint64_t vnd_coord_memory(const struct vnd_coord *c)
{
    return (uint64_t)c->memory_kb * 1024;
}


/* ---- SQL text ---- */

static void sb_ident(struct vnd_sb *sb, const char *s)
{
    vnd_sb_ident(sb, s);
}

static void sb_lit(struct vnd_sb *sb, const char *s)
{
    vnd_sb_str(sb, s);          /* standard_conforming_strings is on since 9.1 */
}

static char *server_name(const char *host)
{
    return vnd_strdup_printf("vnd_ts_%s", host);
}

/* ---- foreign servers ---- */

struct kv {
    const char *k;
    char *v;
};

/* `ALTER <what> OPTIONS (SET|ADD k 'v', ..., DROP k)`: the options become
 * exactly kv[0..n) given the keys the object has now (`have`, a text[]
 * query result).  Only keys in `manage` are dropped. */
static int set_options(struct vnd_coord *c, const char *what, const char *have_sql,
                       const char *have_arg, const struct kv *kv, int n,
                       const char *const *manage, char **err)
{
    const char *params[1] = {have_arg};
    PGresult *r = PQexecParams(c->admin, have_sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        char *m = pq_message(PQresultErrorMessage(r));
        PQclear(r);
        int rc = failf(err, "the coordinator PostgreSQL: %s", m);
        free(m);
        return rc;
    }
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "ALTER %s OPTIONS (", what);
    int items = 0;
    for (int i = 0; i < n; i++) {
        bool has = false;
        for (int k = 0; k < PQntuples(r); k++)
            has |= !strcmp(PQgetvalue(r, k, 0), kv[i].k);
        vnd_sb_printf(&sb, "%s%s %s ", items++ ? ", " : "", has ? "SET" : "ADD", kv[i].k);
        sb_lit(&sb, kv[i].v);
    }
    for (int k = 0; k < PQntuples(r); k++) {
        const char *key = PQgetvalue(r, k, 0);
        bool wanted = false, managed = false;
        for (int i = 0; i < n; i++)
            wanted |= !strcmp(kv[i].k, key);
        for (const char *const *m = manage; *m; m++)
            managed |= !strcmp(*m, key);
        if (!wanted && managed)
            vnd_sb_printf(&sb, "%sDROP %s", items++ ? ", " : "", key);
    }
    PQclear(r);
    vnd_sb_printf(&sb, ")");
    int rc = items ? admin_exec(c, sb.s, err) : 0;
    if (sb.s)
        memset(sb.s, 0, sb.n);          /* it may hold a password */
    vnd_sb_free(&sb);
    return rc;
}

/* libpq options that belong to the user mapping, not the server. */
static bool mapping_key(const char *k)
{
    return !strcmp(k, "user") || !strcmp(k, "password") || !strcmp(k, "sslcert")
           || !strcmp(k, "sslkey") || !strcmp(k, "sslpassword");
}

int vnd_coord_server(struct vnd_coord *c, const char *host, const char *conninfo,
                     const char *password, char **err)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        char *m = pq_message(perr);
        failf(err, "host %s: table_server.postgres.conninfo: %s", host, m);
        free(m);
        PQfreemem(perr);
        return -1;
    }
    struct kv srv[40], map[8];
    int ns = 0, nm = 0;
    bool timeout_given = false;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val)
            continue;
        if (!strcmp(o->keyword, "password"))
            continue;       /* refused by the NIB; never from here */
        if (mapping_key(o->keyword)) {
            if (nm < 6)
                map[nm++] = (struct kv){o->keyword, vnd_xstrdup(o->val)};
        } else if (ns < 36) {
            timeout_given |= !strcmp(o->keyword, "connect_timeout");
            srv[ns++] = (struct kv){o->keyword, vnd_xstrdup(o->val)};
        }
    }
    PQconninfoFree(opts);
    /* A host that does not answer must not hold a tenant's query past
     * its time limit: PostgreSQL 15's postgres_fdw connects blocking. */
    if (!timeout_given)
        srv[ns++] = (struct kv){"connect_timeout", vnd_xstrdup("10")};
    /* Plans across hosts need the remote row counts; rows come in
     * batches of 10000 (the default 100 costs a round trip each). */
    srv[ns++] = (struct kv){"use_remote_estimate", vnd_xstrdup("true")};
    srv[ns++] = (struct kv){"fetch_size", vnd_xstrdup("10000")};
    if (password)
        map[nm++] = (struct kv){"password", vnd_xstrdup(password)};

    char *name = server_name(host);
    int rc = -1;
    pthread_mutex_lock(&c->lock);
    if (admin_ready(c, err))
        goto out;
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "CREATE SERVER IF NOT EXISTS ");
    sb_ident(&sb, name);
    vnd_sb_printf(&sb, " FOREIGN DATA WRAPPER postgres_fdw;\nCREATE USER MAPPING IF NOT EXISTS"
                       " FOR CURRENT_USER SERVER ");
    sb_ident(&sb, name);
    rc = admin_exec(c, sb.s, err);
    vnd_sb_free(&sb);
    if (rc)
        goto out;
    static const char *const srv_managed[] = {"host", "hostaddr", "port", "dbname", "sslmode",
                                              "sslrootcert", "sslcrl", "connect_timeout",
                                              "target_session_attrs", "application_name", NULL};
    static const char *const map_managed[] = {"user", "password", "sslcert", "sslkey", NULL};
    vnd_sb_printf(&sb, "SERVER ");
    sb_ident(&sb, name);
    char *what_srv = vnd_sb_take(&sb);
    vnd_sb_printf(&sb, "USER MAPPING FOR CURRENT_USER SERVER ");
    sb_ident(&sb, name);
    char *what_map = vnd_sb_take(&sb);
    rc = set_options(c, what_srv, "SELECT option_name FROM pg_options_to_table((SELECT srvoptions"
                     " FROM pg_foreign_server WHERE srvname = $1))", name, srv, ns, srv_managed,
                     err);
    if (!rc)
        rc = set_options(c, what_map, "SELECT option_name FROM pg_options_to_table((SELECT"
                         " umoptions FROM pg_user_mappings WHERE srvname = $1 AND usename ="
                         " current_user))", name, map, nm, map_managed, err);
    free(what_srv);
    free(what_map);
    if (rc) {
        char *e = *err;
        *err = vnd_strdup_printf("host %s: %s", host, e);
        free(e);
    }
out:
    pthread_mutex_unlock(&c->lock);
    free(name);
    for (int i = 0; i < ns; i++)
        free(srv[i].v);
    for (int i = 0; i < nm; i++) {
        memset(map[i].v, 0, strlen(map[i].v));
        free(map[i].v);
    }
    return rc;
}

/* ---- a diagnosis's objects ---- */

/* vnd_meta's columns on a table server (src/store/store.c, meta_schema). */
static const char *const meta_cols[] = {
    "trace text", "tbl text", "tenant text", "cap_point text", "direction text",
    "pattern text", "source text", "linktype bigint", "parse_filter text",
    "parse_fields text", "packets_seen bigint", "packets_matched bigint",
    "packets_stored bigint", "sampled_out bigint", "dropped_kernel bigint",
    "dropped_queue bigint", "decode_anomalies bigint", "sampling bigint", "snaplen bigint",
    "first_ts double precision", "last_ts double precision", "status text", "message text",
    "updated double precision", "flow_sampling double precision", "malformed bigint",
    "store_lost bigint", "rollup text", "rollup_status text", "rollup_packets bigint",
};

/* vnd_sampling's (store/store.h): read like vnd_meta, the rate each
 * trace's rows were kept at. */
static const char *const sampling_cols[] = {
    "trace text", "tbl text", "from_ts double precision", "sampling bigint", "method text",
    "flow_sampling double precision", "reason text", "snaplen bigint",
};

/* A host's foreign table `name` over the table server's `remote` (one of
 * the store's own tables, with `cols`). */
static void own_table(struct vnd_sb *sb, const char *priv, const char *name, const char *srv,
                      const char *remote_schema, const char *remote,
                      const char *const *cols, size_t ncols)
{
    vnd_sb_printf(sb, "CREATE FOREIGN TABLE IF NOT EXISTS ");
    sb_ident(sb, priv);
    vnd_sb_printf(sb, ".");
    sb_ident(sb, name);
    vnd_sb_printf(sb, " (");
    for (size_t k = 0; k < ncols; k++)
        vnd_sb_printf(sb, "%s%s", k ? ", " : "", cols[k]);
    vnd_sb_printf(sb, ") SERVER ");
    sb_ident(sb, srv);
    vnd_sb_printf(sb, " OPTIONS (schema_name ");
    sb_lit(sb, remote_schema);
    vnd_sb_printf(sb, ", table_name ");
    sb_lit(sb, remote);
    vnd_sb_printf(sb, ");\n");
}

static const char *pg_type(enum vnd_sql_type t)
{
    return t == VND_SQL_INTEGER ? "bigint" : t == VND_SQL_REAL ? "double precision"
         : t == VND_SQL_BLOB ? "bytea" : "text";
}

static char *role_name(const char *tenant)
{
    return vnd_strdup_printf("vnd_t_%s", tenant);
}

/* The foreign table of t[i]: "f<k>_<table>", k its (host, table) rank. */
static char *foreign_name(int k, const char *table)
{
    char *s = vnd_strdup_printf("f%d_%s", k, table);
    if (strlen(s) > 63)         /* PostgreSQL's NAMEDATALEN - 1; the prefix keeps it unique */
        s[63] = 0;
    return s;
}

/* CREATE FOREIGN TABLE priv.name, t's columns, over t's table in
 * remote_schema on server srv; `options` more OPTIONS (", key 'v'"). */
static void foreign_table(struct vnd_sb *sb, const char *priv, const char *name,
                          const char *srv, const char *remote_schema,
                          const struct vnd_coord_table *t, const char *options)
{
    vnd_sb_printf(sb, "CREATE FOREIGN TABLE IF NOT EXISTS ");
    sb_ident(sb, priv);
    vnd_sb_printf(sb, ".");
    sb_ident(sb, name);
    vnd_sb_printf(sb, " (");
    for (int k = 0; k < t->ncols; k++) {
        vnd_sb_printf(sb, "%s", k ? ", " : "");
        sb_ident(sb, t->cols[k]);
        vnd_sb_printf(sb, " %s", pg_type(t->types[k]));
    }
    vnd_sb_printf(sb, ") SERVER ");
    sb_ident(sb, srv);
    vnd_sb_printf(sb, " OPTIONS (schema_name ");
    sb_lit(sb, remote_schema);
    vnd_sb_printf(sb, ", table_name ");
    sb_lit(sb, t->table);
    vnd_sb_printf(sb, "%s);\n", options);
}

/* CREATE OR REPLACE VIEW schema.view of t's columns over priv.fn. */
static void view_over(struct vnd_sb *sb, const char *schema, const char *view,
                      const struct vnd_coord_table *t, const char *priv, const char *fn)
{
    vnd_sb_printf(sb, "CREATE OR REPLACE VIEW ");
    sb_ident(sb, schema);
    vnd_sb_printf(sb, ".");
    sb_ident(sb, view);
    vnd_sb_printf(sb, " AS SELECT ");
    for (int k = 0; k < t->ncols; k++) {
        vnd_sb_printf(sb, "%s", k ? ", " : "");
        sb_ident(sb, t->cols[k]);
    }
    vnd_sb_printf(sb, " FROM ");
    sb_ident(sb, priv);
    vnd_sb_printf(sb, ".");
    sb_ident(sb, fn);
    vnd_sb_printf(sb, ";\n");
}

/* A table's parts, for the apps' aggregates (coord_diag.c): view
 * "<table>@<n>" over the table's rows on its n-th host, through a foreign
 * table "a<k>_<table>" that plans without the table server's estimates
 * (use_remote_estimate false).  Asked for estimates, the table server
 * expects a GROUP BY on an expression of ts (the apps' time slots) to make
 * as many groups as rows, and PostgreSQL then aggregates here, moving
 * every row; without them it sends the GROUP BY.  And PostgreSQL 15 sends
 * no aggregate below the UNION ALL of a table on several hosts: the apps
 * aggregate each part there and combine the results here.  The tenant may
 * read them (its own rows); no name says a host.  Skipped for a table whose
 * part names would pass PostgreSQL's 63 bytes. */
static void build_parts(const char *schema, const char *priv, const char *remote_schema,
                        const struct vnd_coord_table *t, int n, struct vnd_sb *sb)
{
    for (int i = 0; i < n; i++) {
        int part = 1;
        for (int j = 0; j < i; j++)
            part += !strcmp(t[j].table, t[i].table);
        char *view = vnd_strdup_printf("%s@%d", t[i].table, part);
        char *fn = vnd_strdup_printf("a%d_%s", i, t[i].table);
        if (strlen(view) > 63 || strlen(fn) > 63) {
            free(view);
            free(fn);
            continue;
        }
        char *srv = server_name(t[i].host);
        foreign_table(sb, priv, fn, srv, remote_schema, &t[i], ", use_remote_estimate 'false'");
        view_over(sb, schema, view, &t[i], priv, fn);
        free(srv);
        free(view);
        free(fn);
    }
}

/* A table's rollup (ingest/rollup.h), kept by its table server beside a
 * table of the standard columns, or of flow records with the columns of
 * their rollup (ingest/rollup_records.h): foreign table "r<k>_<table>" over
 * "<table>__rollup" and view "<table>__rollup", the name it has in
 * embedded mode, for the apps (coord_diag.c) and the tenant's SQL.  Only
 * for a table on one host (a rollup holds one trace's rows, its slots
 * counted from that trace's first packet), and not when a trace's table
 * already has that name or a name would pass PostgreSQL's 63 bytes. */
static void build_rollups(const char *schema, const char *priv, const char *remote_schema,
                          const struct vnd_coord_table *t, int n, struct vnd_sb *sb)
{
    const char *const *names;
    const enum vnd_sql_type *types;
    int ncols;
    for (int i = 0; i < n; i++) {
        if (t[i].records ? !vnd_rec_rollup_kept_for(t[i].cols, t[i].ncols)
                         : !vnd_rollup_kept_for(t[i].cols, t[i].ncols))
            continue;
        if (t[i].records)
            vnd_rec_rollup_columns(&names, &types, &ncols);
        else
            vnd_rollup_columns(&names, &types, &ncols);
        char *view = vnd_strdup_printf("%s" VND_ROLLUP_SUFFIX, t[i].table);
        char *fn = vnd_strdup_printf("r%d_%s", i, t[i].table);
        bool skip = strlen(view) > 63 || strlen(fn) > 63;
        for (int j = 0; j < n && !skip; j++)
            skip = (j != i && !strcmp(t[j].table, t[i].table)) || !strcmp(t[j].table, view);
        if (skip) {
            free(view);
            free(fn);
            continue;
        }
        struct vnd_coord_table r = {t[i].host, view, ncols, names, types, false};
        char *srv = server_name(t[i].host);
        foreign_table(sb, priv, fn, srv, remote_schema, &r, "");
        view_over(sb, schema, view, &r, priv, fn);
        free(srv);
        free(view);
        free(fn);
    }
}

static int build_create(const char *tenant, long long num, const char *remote_schema,
                        const struct vnd_coord_table *t, int n, struct vnd_sb *sb, char **err)
{
    char *role = role_name(tenant);
    char schema[32], priv[48];
    snprintf(schema, sizeof schema, "d%lld", num);
    snprintf(priv, sizeof priv, "vnd_remote_d%lld", num);
    vnd_sb_printf(sb, "BEGIN;\nCREATE SCHEMA IF NOT EXISTS ");
    sb_ident(sb, priv);
    vnd_sb_printf(sb, ";\nREVOKE ALL ON SCHEMA ");
    sb_ident(sb, priv);
    vnd_sb_printf(sb, " FROM PUBLIC;\nCREATE SCHEMA IF NOT EXISTS ");
    sb_ident(sb, schema);
    vnd_sb_printf(sb, ";\nREVOKE ALL ON SCHEMA ");
    sb_ident(sb, schema);
    vnd_sb_printf(sb, " FROM PUBLIC;\n");
    /* foreign tables: one per (host, table); vnd_meta and vnd_sampling
     * once per host */
    const char **hosts = vnd_xcalloc((size_t)n + 1, sizeof *hosts);
    int nhosts = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++)
            if (!strcmp(t[j].host, t[i].host) && !strcmp(t[j].table, t[i].table)) {
                free(hosts);
                free(role);
                return failf(err, "table %s twice on host %s", t[i].table, t[i].host);
            }
        char *srv = server_name(t[i].host), *fn = foreign_name(i, t[i].table);
        foreign_table(sb, priv, fn, srv, remote_schema, &t[i], "");
        free(fn);
        bool seen = false;
        for (int h = 0; h < nhosts; h++)
            seen |= !strcmp(hosts[h], t[i].host);
        if (!seen) {
            char *mn = vnd_strdup_printf("m%d_vnd_meta", nhosts);
            char *sn = vnd_strdup_printf("s%d_vnd_sampling", nhosts);
            hosts[nhosts++] = t[i].host;
            own_table(sb, priv, mn, srv, remote_schema, "vnd_meta", meta_cols,
                      sizeof meta_cols / sizeof *meta_cols);
            own_table(sb, priv, sn, srv, remote_schema, "vnd_sampling", sampling_cols,
                      sizeof sampling_cols / sizeof *sampling_cols);
            free(mn);
            free(sn);
        }
        free(srv);
    }
    /* views: one per table name, over every host that has it */
    for (int i = 0; i < n; i++) {
        bool first = true;
        for (int j = 0; j < i; j++)
            first &= strcmp(t[j].table, t[i].table) != 0;
        if (!first)
            continue;
        vnd_sb_printf(sb, "CREATE OR REPLACE VIEW ");
        sb_ident(sb, schema);
        vnd_sb_printf(sb, ".");
        sb_ident(sb, t[i].table);
        vnd_sb_printf(sb, " AS ");
        int parts = 0;
        for (int j = i; j < n; j++) {
            if (strcmp(t[j].table, t[i].table) != 0)
                continue;
            vnd_sb_printf(sb, "%sSELECT ", parts++ ? " UNION ALL " : "");
            for (int k = 0; k < t[i].ncols; k++) {
                vnd_sb_printf(sb, "%s", k ? ", " : "");
                sb_ident(sb, t[i].cols[k]);
            }
            char *fn = foreign_name(j, t[j].table);
            vnd_sb_printf(sb, " FROM ");
            sb_ident(sb, priv);
            vnd_sb_printf(sb, ".");
            sb_ident(sb, fn);
            free(fn);
        }
        vnd_sb_printf(sb, ";\n");
    }
    build_parts(schema, priv, remote_schema, t, n, sb);
    build_rollups(schema, priv, remote_schema, t, n, sb);
    vnd_sb_printf(sb, "CREATE OR REPLACE VIEW ");
    sb_ident(sb, schema);
    vnd_sb_printf(sb, ".vnd_meta AS ");
    for (int h = 0; h < nhosts; h++) {
        vnd_sb_printf(sb, "%sSELECT * FROM ", h ? " UNION ALL " : "");
        sb_ident(sb, priv);
        vnd_sb_printf(sb, ".\"m%d_vnd_meta\"", h);
    }
    vnd_sb_printf(sb, ";\nCREATE OR REPLACE VIEW ");
    sb_ident(sb, schema);
    vnd_sb_printf(sb, ".vnd_sampling AS ");
    for (int h = 0; h < nhosts; h++) {
        vnd_sb_printf(sb, "%sSELECT * FROM ", h ? " UNION ALL " : "");
        sb_ident(sb, priv);
        vnd_sb_printf(sb, ".\"s%d_vnd_sampling\"", h);
    }
    vnd_sb_printf(sb, ";\n");
    free(hosts);
    /* the tenant's role: made once, given this schema's views only */
    vnd_sb_printf(sb, "GRANT USAGE ON SCHEMA ");
    sb_ident(sb, schema);
    vnd_sb_printf(sb, " TO ");
    sb_ident(sb, role);
    vnd_sb_printf(sb, ";\nGRANT SELECT ON ALL TABLES IN SCHEMA ");
    sb_ident(sb, schema);
    vnd_sb_printf(sb, " TO ");
    sb_ident(sb, role);
    vnd_sb_printf(sb, ";\nCOMMIT;\n");
    free(role);
    return 0;
}

/* CREATE ROLE has no IF NOT EXISTS; two control servers never share a
 * coordinator, and cd->lock orders our own calls. */
static int ensure_role(struct vnd_coord *c, const char *tenant, char **err)
{
    char *role = role_name(tenant);
    const char *params[1] = {role};
    PGresult *r = PQexecParams(c->admin, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, NULL,
                               params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        char *m = pq_message(PQresultErrorMessage(r));
        rc = failf(err, "the coordinator PostgreSQL: %s", m);
        free(m);
    } else if (PQntuples(r) == 0) {
        struct vnd_sb sb = {0};
        vnd_sb_printf(&sb, "CREATE ROLE ");
        sb_ident(&sb, role);
        vnd_sb_printf(&sb, " NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
                           " NOREPLICATION NOBYPASSRLS;\n");
        /* SET ROLE needs the session's role to be a member (a superuser
         * need not, but the control server should not be one) */
        vnd_sb_printf(&sb, "GRANT ");
        sb_ident(&sb, role);
        vnd_sb_printf(&sb, " TO CURRENT_USER");
        rc = admin_exec(c, sb.s, err);
        vnd_sb_free(&sb);
    }
    PQclear(r);
    free(role);
    return rc;
}

int vnd_coord_diagnosis_create(struct vnd_coord *c, const char *tenant, long long num,
                               const char *remote_schema, const struct vnd_coord_table *t,
                               int n, char **err)
{
    struct vnd_sb sb = {0};
    if (build_create(tenant, num, remote_schema, t, n, &sb, err)) {
        vnd_sb_free(&sb);
        return -1;
    }
    pthread_mutex_lock(&c->lock);
    int rc = admin_ready(c, err);
    if (!rc)
        rc = ensure_role(c, tenant, err);
    if (!rc && (rc = admin_exec(c, sb.s, err)))
        admin_exec(c, "ROLLBACK", &(char *){NULL});
    pthread_mutex_unlock(&c->lock);
    vnd_sb_free(&sb);
    return rc;
}

int vnd_coord_diagnosis_drop(struct vnd_coord *c, long long num, char **err)
{
    char *sql = vnd_strdup_printf("BEGIN; DROP SCHEMA IF EXISTS \"d%lld\" CASCADE;"
                                  " DROP SCHEMA IF EXISTS \"vnd_remote_d%lld\" CASCADE; COMMIT",
                                  num, num);
    pthread_mutex_lock(&c->lock);
    int rc = admin_ready(c, err);
    if (!rc && (rc = admin_exec(c, sql, err)))
        admin_exec(c, "ROLLBACK", &(char *){NULL});
    pthread_mutex_unlock(&c->lock);
    free(sql);
    return rc;
}

int vnd_coord_diagnoses(struct vnd_coord *c, long long **nums, int *n, char **err)
{
    *nums = NULL;
    *n = 0;
    pthread_mutex_lock(&c->lock);
    int rc = admin_ready(c, err);
    PGresult *r = rc ? NULL
                     : PQexec(c->admin, "SELECT DISTINCT substring(nspname from '[0-9]+$')::bigint"
                                        " FROM pg_namespace WHERE nspname ~ '^(vnd_remote_)?d[0-9]{1,15}$'"
                                        " ORDER BY 1");
    if (!rc && PQresultStatus(r) != PGRES_TUPLES_OK) {
        char *m = pq_message(PQresultErrorMessage(r));
        rc = failf(err, "the coordinator PostgreSQL: %s", m);
        free(m);
    } else if (!rc) {
        *nums = vnd_xcalloc((size_t)PQntuples(r) + 1, sizeof **nums);
        for (int i = 0; i < PQntuples(r); i++)
            (*nums)[(*n)++] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    }
    PQclear(r);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* ---- tenant sessions ---- */

struct vnd_coord_session {
    struct vnd_coord *c;
    PGconn *conn;
    struct vnd_coord_point *points;
    int npoints;
    PGresult *cols;         /* the result that gave the columns */
    PGresult *row;          /* the current row (single-row mode) */
    bool pending;           /* `row` fetched by exec, not yet handed out */
    bool done;
};

struct vnd_coord *vnd_coord_of(const struct vnd_coord_session *s)
{
    return s->c;
}

static void drain(struct vnd_coord_session *s)
{
    PGresult *r;
    while ((r = PQgetResult(s->conn)))
        PQclear(r);
}

int vnd_coord_session_open(struct vnd_coord *c, const char *tenant, long long num,
                           const struct vnd_coord_point *points, int npoints,
                           struct vnd_coord_session **out, char **err)
{
    char *why = NULL;
    PGconn *conn = connect_as_admin(c, "vnd-controld tenant query", &why);
    if (!conn) {
        vnd_err("tenant %s, d%lld: %s", tenant, num, why);     /* the operator's, not the tenant's */
        free(why);
        *err = vnd_xstrdup("the query service of this cloud is not available now; try again "
                           "later");
        return 503;
    }
    char *role = role_name(tenant);
    struct vnd_sb sb = {0};
    vnd_sb_printf(&sb, "BEGIN READ ONLY; SET LOCAL statement_timeout = %lld;"
                       " SET LOCAL idle_in_transaction_session_timeout = %lld;",
                  (long long)ceil(c->timeout * 1000), (long long)ceil(c->timeout * 2000));
    if (c->memory_kb) {
        /* each sort or hash of the plan may take a quarter; what does not
         * fit spills to temporary files, themselves bounded; the tenant's
         * role cannot raise either (SET is not a reading statement, and
         * set_config is revoked from it by vnd-pg-setup) */
        vnd_sb_printf(&sb, " SET LOCAL work_mem = '%ldkB'; SET LOCAL hash_mem_multiplier = 1;",
                      c->memory_kb / 4 > 64 ? c->memory_kb / 4 : 64);
        if (c->temp_limit)
            vnd_sb_printf(&sb, " SET LOCAL temp_file_limit = '%ldkB';", 4 * c->memory_kb);
    }
    vnd_sb_printf(&sb, " SET LOCAL search_path = \"d%lld\", pg_catalog; SET LOCAL ROLE ", num);
    sb_ident(&sb, role);
    free(role);
    PGresult *r = PQexec(conn, sb.s);
    vnd_sb_free(&sb);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK) {
        vnd_err("tenant %s, d%lld: starting its session: %s", tenant, num,
                PQerrorMessage(conn));
        PQfinish(conn);
        *err = vnd_xstrdup("the query service of this cloud is not available now; try again "
                           "later");
        return 503;
    }
    struct vnd_coord_session *s = vnd_xcalloc(1, sizeof *s);
    s->c = c;
    s->conn = conn;
    s->points = vnd_xcalloc((size_t)npoints + 1, sizeof *s->points);
    for (int i = 0; i < npoints; i++) {
        s->points[i].host = vnd_xstrdup(points[i].host);
        s->points[i].point = vnd_xstrdup(points[i].point);
        char **tabs = vnd_xcalloc((size_t)points[i].ntables + 1, sizeof *tabs);
        for (int k = 0; k < points[i].ntables; k++)
            tabs[k] = vnd_xstrdup(points[i].tables[k]);
        s->points[i].tables = (const char *const *)tabs;
        s->points[i].ntables = points[i].ntables;
    }
    s->npoints = npoints;
    s->done = true;
    *out = s;
    return 0;
}

void vnd_coord_session_close(struct vnd_coord_session *s)
{
    if (!s)
        return;
    PQclear(s->row);
    PQclear(s->cols);
    PQfinish(s->conn);      /* the transaction ends with it, its role too */
    for (int i = 0; i < s->npoints; i++) {
        free((char *)s->points[i].host);
        free((char *)s->points[i].point);
        for (int k = 0; k < s->points[i].ntables; k++)
            free((char *)s->points[i].tables[k]);
        free((char **)s->points[i].tables);
    }
    free(s->points);
    free(s);
}

/* The capture points on the host whose foreign server is `srv`, or that
 * hold a table the remote SQL `ctx` reads, as "A, B". */
static char *points_named(const struct vnd_coord_session *s, const char *srv, const char *ctx)
{
    struct vnd_sb sb = {0};
    for (int i = 0; i < s->npoints; i++) {
        const struct vnd_coord_point *p = &s->points[i];
        bool hit = false;
        if (srv) {
            char *name = server_name(p->host);
            hit = !strcmp(name, srv);
            free(name);
        }
        for (int k = 0; !hit && ctx && k < p->ntables; k++) {
            char *q = vnd_strdup_printf(".%s", p->tables[k]);
            char *qq = vnd_strdup_printf(".\"%s\"", p->tables[k]);
            hit = strstr(ctx, q) || strstr(ctx, qq);
            free(q);
            free(qq);
        }
        if (hit)
            vnd_sb_printf(&sb, "%s%s", sb.n ? ", " : "", p->point);
    }
    return sb.n ? vnd_sb_take(&sb) : NULL;
}

/* The tenant's words for a failed statement: its status and message. */
static int tenant_error(struct vnd_coord_session *s, const PGresult *r, char **err)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *ctx = PQresultErrorField(r, PG_DIAG_CONTEXT);
    if (!state)
        state = "";
    if (!primary)
        primary = PQerrorMessage(s->conn);
    char *msg = pq_message(primary);
    int status;
    /* postgres_fdw: 'could not connect to server "vnd_ts_hv2"' (08001),
     * or a connection lost mid-query with the remote SQL as context */
    bool remote = ctx && strstr(ctx, "remote SQL command");
    if (!strncmp(state, "08", 2) || (remote && PQstatus(s->conn) == CONNECTION_OK
                                     && strstr(msg, "connection"))) {
        const char *q = strchr(msg, '"');
        char *srv = NULL;
        if (!strncmp(msg, "could not connect to server \"", 29) && q) {
            srv = vnd_xstrdup(q + 1);
            char *end = strchr(srv, '"');
            if (end)
                *end = 0;
        }
        char *pts = points_named(s, srv, ctx);
        free(srv);
        if (pts) {
            *err = vnd_strdup_printf("capture point%s %s of this diagnosis cannot be read now: "
                                     "the host that stores %s does not answer (nothing stored "
                                     "is lost; try again later, the other capture points still "
                                     "answer)", strchr(pts, ',') ? "s" : "", pts,
                                     strchr(pts, ',') ? "them" : "it");
        } else {
            *err = vnd_xstrdup("a capture point of this diagnosis cannot be read now: the host "
                               "that stores it does not answer; try again later");
        }
        free(pts);
        status = 503;
    } else if (!strcmp(state, "57014")) {
        *err = vnd_strdup_printf("stopped at the time limit (%g s): narrow the query (a WHERE "
                                 "on ts, fewer rows, an aggregate)", s->c->timeout);
        status = 503;
    } else if (!strcmp(state, "42501") || !strcmp(state, "25006")) {
        *err = vnd_strdup_printf("not allowed: %s (queries are read-only, on the diagnosis's "
                                 "own tables)", msg);
        status = 403;
    } else if (remote) {
        char *pts = points_named(s, NULL, ctx);
        *err = vnd_strdup_printf("the host that stores %s failed this query: %s",
                                 pts ? pts : "a capture point", msg);
        free(pts);
        status = 502;
    } else {
        *err = vnd_xstrdup(msg);
        status = 400;
    }
    free(msg);
    return status;
}

/* The statement's first word, past blanks and comments (lower case, at
 * most 15 letters). */
static void first_word(const char *p, char out[16])
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '(')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            int depth = 1;          /* PostgreSQL's comments nest */
            for (p += 2; *p && depth; p++) {
                if (p[0] == '/' && p[1] == '*')
                    depth++, p++;
                else if (p[0] == '*' && p[1] == '/')
                    depth--, p++;
            }
        } else {
            break;
        }
    }
    int n = 0;
    while (n < 15 && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        out[n++] = (char)(*p++ | 0x20);
    out[n] = 0;
}

bool vnd_coord_reading_statement(const char *sql)
{
    static const char *const ok[] = {"select", "with", "values", "table", "explain", NULL};
    char w[16];
    first_word(sql, w);
    for (const char *const *k = ok; *k; k++)
        if (!strcmp(w, *k))
            return true;
    return false;
}

int vnd_coord_exec(struct vnd_coord_session *s, const char *sql, char **err)
{
    if (!s->done)
        drain(s);
    PQclear(s->row);
    PQclear(s->cols);
    s->row = s->cols = NULL;
    s->pending = false;
    s->done = true;
    if (!vnd_coord_reading_statement(sql)) {
        *err = vnd_xstrdup("not allowed: only SELECT, WITH, VALUES, TABLE and EXPLAIN "
                           "statements run on the trace tables");
        return 403;
    }
    /* the extended protocol: exactly one statement */
    if (!PQsendQueryParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 0)) {
        char *m = pq_message(PQerrorMessage(s->conn));
        *err = vnd_strdup_printf("the query service failed: %s", m);
        free(m);
        return 503;
    }
    PQsetSingleRowMode(s->conn);
    s->done = false;
    PGresult *r = PQgetResult(s->conn);
    switch (PQresultStatus(r)) {
    case PGRES_SINGLE_TUPLE:
        s->cols = r;
        s->row = NULL;
        s->pending = true;
        return 0;
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
        s->cols = r;
        drain(s);
        s->done = true;
        return 0;
    default: {
        int st = tenant_error(s, r, err);
        PQclear(r);
        drain(s);
        s->done = true;
        return st;
    }
    }
}

int vnd_coord_ncols(const struct vnd_coord_session *s)
{
    return s->cols ? PQnfields(s->cols) : 0;
}

const char *vnd_coord_colname(const struct vnd_coord_session *s, int i)
{
    return PQfname(s->cols, i);
}

int vnd_coord_fetch(struct vnd_coord_session *s, char **err)
{
    if (s->pending) {           /* the first row came with the columns */
        s->pending = false;
        return 1;
    }
    PQclear(s->row);
    s->row = NULL;
    if (s->done)
        return 0;
    PGresult *r = PQgetResult(s->conn);
    switch (PQresultStatus(r)) {
    case PGRES_SINGLE_TUPLE:
        s->row = r;
        return 1;
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
        PQclear(r);
        drain(s);
        s->done = true;
        return 0;
    default: {
        int st = tenant_error(s, r, err);
        PQclear(r);
        drain(s);
        s->done = true;
        return st;
    }
    }
}

/* The current row's result: the first one is held as `cols`. */
static const PGresult *cur(const struct vnd_coord_session *s)
{
    return s->row ? s->row : s->cols;
}

void vnd_coord_out_row(const struct vnd_coord_session *s, struct vnd_out *out)
{
    const PGresult *r = cur(s);
    for (int i = 0; i < PQnfields(r); i++) {
        struct vnd_value v;
        void *blob;
        vnd_pg_value(r, 0, i, &v, &blob);
        vnd_out_cell(out, &v);
        PQfreemem(blob);
    }
    vnd_out_end_row(out);
}

void vnd_coord_cell(const struct vnd_coord_session *s, int i, struct vnd_cell *cell)
{
    struct vnd_value v;
    void *blob;
    vnd_pg_value(cur(s), 0, i, &v, &blob);
    memset(cell, 0, sizeof *cell);
    switch (v.type) {
    case VND_SQL_INTEGER: cell->type = VND_CELL_INT; cell->i = v.i; break;
    case VND_SQL_REAL: cell->type = VND_CELL_REAL; cell->r = v.d; break;
    case VND_SQL_NULL: break;
    default:
        cell->type = VND_CELL_TEXT;
        cell->s = vnd_xstrndup(v.s, v.slen);
        break;
    }
    PQfreemem(blob);
}

/* ---- the session's rows as a read cursor ---- */

struct coord_cursor {
    struct vnd_cursor up;
    struct vnd_coord_session *s;
    void *blob;                     /* the last bytea cell, unescaped */
};

static int coord_cursor_next(struct vnd_cursor *c, int *code, char **err)
{
    int rc = vnd_coord_fetch(((struct coord_cursor *)c)->s, err);
    if (rc == 0 || rc == 1)
        return rc;
    if (code)
        *code = rc;
    return -1;
}

static void coord_cursor_cell(struct vnd_cursor *c, int i, struct vnd_value *v)
{
    struct coord_cursor *q = (struct coord_cursor *)c;
    PQfreemem(q->blob);
    q->blob = NULL;
    vnd_pg_value(cur(q->s), 0, i, v, &q->blob);
}

static void coord_cursor_close(struct vnd_cursor *c)
{
    PQfreemem(((struct coord_cursor *)c)->blob);
}

static const struct vnd_cursor_class coord_cursor_class = {
    coord_cursor_next, coord_cursor_cell, coord_cursor_close,
};

struct vnd_cursor *vnd_coord_cursor(struct vnd_coord_session *s)
{
    struct coord_cursor *q = vnd_xcalloc(1, sizeof *q);
    q->up.cls = &coord_cursor_class;
    q->s = s;
    int n = vnd_coord_ncols(s);
    const char **names = vnd_xcalloc((size_t)n + 1, sizeof *names);
    for (int i = 0; i < n; i++)
        names[i] = vnd_coord_colname(s, i);
    vnd_cursor_set_columns(&q->up, n, names);
    free(names);
    return &q->up;
}

int vnd_coord_schema(struct vnd_coord_session *s, sqlite3 **out, char **err)
{
    /* as the tenant: information_schema lists what its role may read */
    int st = vnd_coord_exec(s, "SELECT table_name, column_name, data_type FROM"
                            " information_schema.columns WHERE table_schema ="
                            " current_schema() ORDER BY table_name, ordinal_position", err);
    if (st)
        return st;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)) {
        sqlite3_close(db);
        *err = vnd_xstrdup("out of memory");
        return 500;
    }
    struct vnd_sb sb = {0};
    char *table = NULL;
    int rc;
    while ((rc = vnd_coord_fetch(s, err)) == 1) {
        const PGresult *r = cur(s);
        const char *t = PQgetvalue(r, 0, 0), *col = PQgetvalue(r, 0, 1);
        const char *type = PQgetvalue(r, 0, 2);
        if (!table || strcmp(table, t) != 0) {
            vnd_sb_printf(&sb, "%s", table ? ");\n" : "");
            free(table);
            table = vnd_xstrdup(t);
            vnd_sb_printf(&sb, "CREATE TABLE ");
            vnd_sb_ident(&sb, t);
            vnd_sb_printf(&sb, " (");
        } else {
            vnd_sb_printf(&sb, ", ");
        }
        vnd_sb_ident(&sb, col);
        vnd_sb_printf(&sb, " %s", !strcmp(type, "bigint") || !strcmp(type, "integer")
                                      ? "INTEGER" : !strcmp(type, "double precision")
                                      ? "REAL" : !strcmp(type, "bytea") ? "BLOB" : "TEXT");
    }
    if (table)
        vnd_sb_printf(&sb, ");\n");
    free(table);
    if (rc == 0 && sb.s && sqlite3_exec(db, sb.s, NULL, NULL, NULL) != SQLITE_OK) {
        *err = vnd_strdup_printf("the diagnosis's tables: %s", sqlite3_errmsg(db));
        rc = 500;
    }
    vnd_sb_free(&sb);
    if (rc != 0) {
        sqlite3_close(db);
        return rc;
    }
    *out = db;
    return 0;
}
