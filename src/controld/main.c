/* main.c — vnd-controld: flags and config file, signals, the upkeep loop.
 *
 *   vnd-controld --nib FILE --state FILE --admin-secret-file FILE [--listen ADDR]
 *
 * The main thread loads the NIB, reconciles the bridges and table servers
 * with the state, starts the API, and then runs the upkeep once a second:
 * durations, quotas, retention, a reconcile every --reconcile-interval,
 * and the NIB reloaded on SIGHUP. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/nib.h"
#include "controld/api.h"
#include "controld/controld.h"
#include "controld/diagnoses.h"
#include "controld/host_budget.h"
#include "controld/distributed.h"
#include "controld/state.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/options.h"
#include "daemon/service.h"
#include "daemon/static.h"
#include "store/sqlmem.h"
#include "util/util.h"

static const char usage_text[] =
    "usage: vnd-controld --nib FILE --state FILE --admin-secret-file FILE [options]\n"
    "       vnd-controld --config FILE [options]\n"
    "\n"
    "The VND control server: tenants submit trace collection and parse\n"
    "configurations through its API; it compiles them into capture rules on the\n"
    "Open vSwitch bridges of the NIB and traces on their table servers, and runs\n"
    "the tenants' SQL and diagnostic apps where the tables are.\n"
    "\n"
    "options (each may also be a `name = value` line of the config file;\n"
    "the command line wins):\n"
    "  -n, --nib FILE          the network information base (JSON, docs/nib.md)\n"
    "  -s, --state FILE        the control server's own database (SQLite, created)\n"
    "  -a, --admin-secret-file F  the operator's secret for /v1/admin/\n"
    "  -l, --listen ADDR       API address (default 127.0.0.1:7420)\n"
    "  -c, --config FILE       read options from FILE first\n"
    "      --reconcile-interval S  bring bridges and table servers back to the state\n"
    "                          this often (default 30; it also runs at start)\n"
    "      --budget-period S   how often the hosts with a CPU budget (the NIB's\n"
    "                          \"budget\") are measured and their switches' flow\n"
    "                          sampling adapted (default 5; docs/cost.md)\n"
    "      --retain-mb N       raw packets kept per trace for pcap download\n"
    "                          (default 64; 0: none)\n"
    "      --fill-from-ovs yes take ports' ofport and MAC from OVS's external_ids\n"
    "                          (iface-id) for ports the NIB gives only iface_id\n"
    "      --http-timeout S    close an API connection idle this long before it\n"
    "                          sends a request (default 10)\n"
    "      --http-max-connections N  API connections at once (default 1024)\n"
    "      --http-per-address N  API connections from one address (default 64)\n"
    "      --metrics-secret-file F  the operator's secret for GET /metrics\n"
    "                          (Prometheus; without it /metrics answers 404)\n"
    "      --www-dir DIR       the web console's files, served at / and /console/\n"
    "                          without a token (default: ../www beside the binary\n"
    "                          in the source tree, else /usr/share/vnd/www;\n"
    "                          \"none\": no console; docs/console.md)\n"
    "      --coordinator CONNINFO  the distributed mode: tenant SQL and apps run on\n"
    "                          this PostgreSQL (libpq conninfo, no password), which\n"
    "                          reads each trace table where it was captured\n"
    "                          (postgres_fdw; the NIB's table_server.postgres;\n"
    "                          docs/distributed.md).  Default: none, each query\n"
    "                          goes to the one table server holding its tables\n"
    "      --coordinator-password-file F  the coordinator role's password\n"
    "      --query-timeout S   time limit of a tenant's statement on the\n"
    "                          coordinator (default 60)\n"
    "      --query-memory MB   memory of a tenant's statement on the coordinator:\n"
    "                          each sort or hash up to MB/4, then temporary files\n"
    "                          up to 4 x MB (default 256; 0: PostgreSQL's own)\n"
    "      --log-file FILE     log there instead of stderr (SIGHUP reopens it)\n"
    "      --log-level L       error, warn, info (default) or debug\n"
    "  -h, --help              this text\n"
    "\n"
    "SIGHUP: reload the NIB (running diagnoses keep going; a NIB with an error is\n"
    "refused and the old one kept) and reopen the log.  SIGTERM/SIGINT: exit;\n"
    "diagnoses, rules and traces stay and are reconciled at the next start.\n"
    "Docs: docs/controld.md, docs/nib.md, docs/api/controld.yaml.\n";

struct settings {
    char *nib, *state, *admin_secret_file, *listen, *log_file, *log_level, *fill;
    char *metrics_secret_file, *www_dir, *coordinator, *coordinator_password_file;
    double reconcile_interval, query_timeout, budget_period;
    long retain_mb, http_timeout, http_max_connections, http_per_address, query_memory;
};

static const struct vnd_opt_def opt_defs[] = {
    {"nib", 'n', VND_OPT_STR, offsetof(struct settings, nib), 0, 0},
    {"state", 's', VND_OPT_STR, offsetof(struct settings, state), 0, 0},
    {"admin-secret-file", 'a', VND_OPT_STR, offsetof(struct settings, admin_secret_file), 0, 0},
    {"listen", 'l', VND_OPT_STR, offsetof(struct settings, listen), 0, 0},
    {"reconcile-interval", 1001, VND_OPT_DOUBLE, offsetof(struct settings, reconcile_interval),
     1, 86400},
    {"query-memory", 1015, VND_OPT_LONG, offsetof(struct settings, query_memory), 0, 1048576},
    {"budget-period", 1014, VND_OPT_DOUBLE, offsetof(struct settings, budget_period), 1, 3600},
    {"retain-mb", 1002, VND_OPT_LONG, offsetof(struct settings, retain_mb), 0, 1048576},
    {"fill-from-ovs", 1003, VND_OPT_STR, offsetof(struct settings, fill), 0, 0},
    {"http-timeout", 1004, VND_OPT_LONG, offsetof(struct settings, http_timeout), 1, 3600},
    {"http-max-connections", 1005, VND_OPT_LONG, offsetof(struct settings, http_max_connections),
     1, 65536},
    {"http-per-address", 1006, VND_OPT_LONG, offsetof(struct settings, http_per_address), 0, 65536},
    {"log-file", 1007, VND_OPT_STR, offsetof(struct settings, log_file), 0, 0},
    {"log-level", 1008, VND_OPT_STR, offsetof(struct settings, log_level), 0, 0},
    {"metrics-secret-file", 1009, VND_OPT_STR, offsetof(struct settings, metrics_secret_file),
     0, 0},
    {"www-dir", 1010, VND_OPT_STR, offsetof(struct settings, www_dir), 0, 0},
    {"coordinator", 1011, VND_OPT_STR, offsetof(struct settings, coordinator), 0, 0},
    {"coordinator-password-file", 1012, VND_OPT_STR,
     offsetof(struct settings, coordinator_password_file), 0, 0},
    {"query-timeout", 1013, VND_OPT_DOUBLE, offsetof(struct settings, query_timeout), 0.1,
     86400},
};
static const struct vnd_opts opts = {"vnd-controld", usage_text, opt_defs,
                                     sizeof opt_defs / sizeof *opt_defs};

/* ---- metrics (docs/metrics.md) ---- */

static void metrics_init(struct vnd_controld *cd)
{
    struct vnd_metrics *r = cd->metrics = vnd_metrics_new();
    cd->m_live = vnd_metrics_gauge(r, "vnd_controld_live_diagnoses",
                                   "Diagnoses capturing now (state running), by tenant as an "
                                   "opaque id (SHA-256 prefix of its name)", "tenant");
    cd->m_diagnoses = vnd_metrics_gauge(r, "vnd_controld_diagnoses",
                                        "Diagnoses in the state, by state (starting, running, "
                                        "done)", "state");
    cd->m_rules = vnd_metrics_gauge(r, "vnd_controld_ovs_rules_installed",
                                    "Capture rules the control server keeps in table 0 of the "
                                    "host's bridge (one per trace of a running diagnosis)",
                                    "host");
    cd->m_reconcile_runs = vnd_metrics_counter(r, "vnd_controld_reconcile_runs_total",
                                               "Reconcile runs (start, interval, SIGHUP, "
                                               "POST /v1/admin/reconcile)", NULL);
    cd->m_reconcile_fixes = vnd_metrics_counter(r, "vnd_controld_reconcile_fixes_total",
                                                "Differences reconcile fixed: rules or traces "
                                                "missing or orphaned, table 0's last rule", NULL);
    cd->m_reconcile_seconds = vnd_metrics_histogram(r, "vnd_controld_reconcile_seconds",
                                                    "Time of one reconcile run", NULL, NULL, 0);
    cd->m_query_seconds = vnd_metrics_histogram(r, "vnd_query_seconds",
                                                "Time of a tenant query (app=\"sql\") or "
                                                "diagnostic app through the control server, to "
                                                "the end of its answer", "app", NULL, 0);
}

/* At each scrape, from the state.  Without cd->lock (a reconcile holds it
 * for seconds): the state's connection is serialized by SQLite and these
 * are single statements, stepped to the end at once. */
static void collect_metrics(void *ctx)
{
    struct vnd_controld *cd = ctx;
    char id[9];
    vnd_metric_clear(cd->m_live);
    vnd_metric_clear(cd->m_rules);
    pthread_rwlock_rdlock(&cd->nib_lock);
    for (int i = 0; i < cd->nib->ntenants; i++) {
        vnd_metrics_opaque_id(cd->nib->tenants[i].id, id);
        vnd_metric_set(cd->m_live, 0, id);
    }
    for (int i = 0; i < cd->nib->nhosts; i++)
        vnd_metric_set(cd->m_rules, 0, cd->nib->hosts[i].name);
    pthread_rwlock_unlock(&cd->nib_lock);
    sqlite3_stmt *st = vnd_state_query(cd->db, "SELECT tenant, count(*) FROM diagnosis WHERE"
                                       " state = 'running' GROUP BY tenant", "");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        vnd_metrics_opaque_id((const char *)sqlite3_column_text(st, 0), id);
        vnd_metric_set(cd->m_live, (double)sqlite3_column_int64(st, 1), id);
    }
    sqlite3_finalize(st);
    static const char *const states[] = {"starting", "running", "done"};
    for (size_t i = 0; i < sizeof states / sizeof *states; i++)
        vnd_metric_set(cd->m_diagnoses, 0, states[i]);
    st = vnd_state_query(cd->db, "SELECT state, count(*) FROM diagnosis GROUP BY state", "");
    while (st && sqlite3_step(st) == SQLITE_ROW)
        vnd_metric_set(cd->m_diagnoses, (double)sqlite3_column_int64(st, 1),
                       (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    st = vnd_state_query(cd->db, "SELECT t.host, count(*) FROM trace t JOIN diagnosis d"
                         " ON d.num = t.diag WHERE d.state = 'running' GROUP BY t.host", "");
    while (st && sqlite3_step(st) == SQLITE_ROW)
        vnd_metric_set(cd->m_rules, (double)sqlite3_column_int64(st, 1),
                       (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static int load_nib(const char *path, bool fill, struct vnd_nib **out)
{
    char *err = NULL;
    if (vnd_nib_load(path, out, &err) || (fill && vnd_nib_fill_from_ovs(*out, &err))) {
        vnd_err("%s", err);
        free(err);
        vnd_nib_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static void reload(struct vnd_controld *cd, bool fill)
{
    int rc = vnd_log_reopen();
    if (rc)
        vnd_warn("SIGHUP: reopening the log: %s", strerror(rc));
    struct vnd_nib *nib = NULL;
    if (load_nib(cd->nib_path, fill, &nib)) {
        vnd_err("SIGHUP: the NIB %s has an error (above); the old one stays", cd->nib_path);
        return;
    }
    pthread_rwlock_wrlock(&cd->nib_lock);
    struct vnd_nib *old = cd->nib;
    cd->nib = nib;
    pthread_rwlock_unlock(&cd->nib_lock);
    vnd_nib_free(old);
    vnd_info("SIGHUP: NIB reloaded: %d hosts, %d tenants", nib->nhosts, nib->ntenants);
    vnd_distributed_servers(cd);
    int fixes = vnd_diagnosis_reconcile(cd);
    vnd_info("reconcile after reload: %d fix%s", fixes, fixes == 1 ? "" : "es");
}

int main(int argc, char **argv)
{
    struct settings s = {.reconcile_interval = 30, .budget_period = 5, .query_timeout = 60, .query_memory = 256, .retain_mb = 64,
                         .http_timeout = 10,
                         .http_max_connections = 1024, .http_per_address = 64};
    /* before SQLite is used: the apps' copies on the coordinator are held
     * to a statement's memory bound (coord_diag.c) */
    vnd_sqlmem_install();
    int status = vnd_opts_parse(&opts, argc, argv, &s);
    if (status) {
        vnd_opts_free(&opts, &s);
        return status == 1 ? 0 : 2;
    }
    const char *missing = !s.nib ? "--nib" : !s.state ? "--state"
                          : !s.admin_secret_file ? "--admin-secret-file" : NULL;
    if (missing) {
        fprintf(stderr, "vnd-controld: %s is required\n%s", missing, usage_text);
        vnd_opts_free(&opts, &s);
        return 2;
    }
    bool fill = s.fill && strcmp(s.fill, "no") != 0 && strcmp(s.fill, "0") != 0;
    int logrc = vnd_daemon_open_log("vnd-controld", s.log_file, s.log_level);
    if (logrc) {
        vnd_opts_free(&opts, &s);
        return logrc;
    }
    struct vnd_controld cd = {.reconcile_interval = s.reconcile_interval,
                              .retain_mb = (int)s.retain_mb, .query_timeout = s.query_timeout};
    pthread_rwlock_init(&cd.nib_lock, NULL);
    pthread_mutex_init(&cd.lock, NULL);
    cd.nib_path = vnd_xstrdup(s.nib);
    if (!s.www_dir)
        cd.www_dir = vnd_static_default_root("/usr/share/vnd/www");
    else if (strcmp(s.www_dir, "none") != 0)
        cd.www_dir = vnd_xstrdup(s.www_dir);
    struct vnd_http *http = NULL;
    char *err = NULL;
    int rc;
    status = 1;
    const char *listen = s.listen ? s.listen : "127.0.0.1:7420";

    if (vnd_daemon_read_secret(s.admin_secret_file, &cd.admin_secret))
        goto out;
    if (load_nib(cd.nib_path, fill, &cd.nib))
        goto out;
    if (s.metrics_secret_file) {
        if (vnd_daemon_read_secret(s.metrics_secret_file, &cd.metrics_secret))
            goto out;
        if (!strcmp(cd.metrics_secret, cd.admin_secret)
            || vnd_nib_tenant_by_token(cd.nib, cd.metrics_secret)) {
            vnd_err("--metrics-secret-file: the metrics secret must differ from the admin "
                    "secret and from every tenant's token");
            goto out;
        }
        metrics_init(&cd);
        vnd_metrics_on_collect(cd.metrics, collect_metrics, &cd);
    }
    if (s.coordinator) {
        char *pw = NULL;
        if (s.coordinator_password_file
            && vnd_daemon_read_secret(s.coordinator_password_file, &pw))
            goto out;
        rc = vnd_coord_open(s.coordinator, pw, cd.query_timeout, &cd.coord, &err);
        if (pw) {
            memset(pw, 0, strlen(pw));
            free(pw);
        }
        if (rc) {
            vnd_err("--coordinator: %s", err);
            goto out;
        }
        vnd_coord_set_memory(cd.coord, s.query_memory);
        int failed = vnd_distributed_servers(&cd);
        vnd_info("distributed mode: coordinator %s, %d of %d table servers' PostgreSQL "
                 "mapped", s.coordinator, cd.nib->nhosts - failed, cd.nib->nhosts);
    }
    cd.budgets = vnd_host_budgets_new(cd.metrics);
    cd.budget_period = s.budget_period;
    if (vnd_state_open(s.state, &cd.db, &err)) {
        vnd_err("%s", err);
        goto out;
    }
    int abandoned = vnd_diagnosis_recover(&cd);
    if (abandoned)
        vnd_warn("%d diagnos%s left half made by the last run removed", abandoned,
                 abandoned == 1 ? "is" : "es");
    if (vnd_diagnosis_coord_restore(&cd))
        vnd_warn("some diagnoses cannot be queried until the coordinator takes their tables "
                 "(above); they are made again at the next start");
    int fixes = vnd_diagnosis_reconcile(&cd);
    vnd_info("reconcile at start: %d fix%s", fixes, fixes == 1 ? "" : "es");

    sigset_t old;
    vnd_daemon_block_signals(&old);
    struct vnd_http_limits lim = {.timeout = (unsigned)s.http_timeout, .authed_timeout = 3600,
                                  .max_connections = (unsigned)s.http_max_connections,
                                  .per_address = (unsigned)s.http_per_address,
                                  .body_max = 1024 * 1024};
    rc = vnd_controld_api_start(&cd, listen, &lim, &http, &err);
    vnd_daemon_catch_signals(&old);
    if (rc) {
        vnd_err("%s", err);
        goto out;
    }
    vnd_info("vnd-controld up: %d hosts, %d tenants, API on %s, console from %s",
             cd.nib->nhosts, cd.nib->ntenants, listen, cd.www_dir ? cd.www_dir : "(none)");
    vnd_daemon_notify_ready();

    double last_reconcile = vnd_now(), last_budget = vnd_now();
    while (!vnd_daemon_stop) {
        sleep(1);     /* a signal cuts it short */
        if (vnd_daemon_stop)
            break;
        if (vnd_daemon_hup) {
            vnd_daemon_hup = 0;
            reload(&cd, fill);
        }
        vnd_diagnosis_maintain(&cd);
        if (vnd_now() - last_budget >= cd.budget_period) {
            last_budget = vnd_now();
            vnd_host_budgets_poll(&cd, cd.budgets);
        }
        if (vnd_now() - last_reconcile >= cd.reconcile_interval) {
            last_reconcile = vnd_now();
            fixes = vnd_diagnosis_reconcile(&cd);
            if (fixes)
                vnd_info("reconcile: %d fix%s", fixes, fixes == 1 ? "" : "es");
        }
    }
    vnd_info("signal %d: stopping (diagnoses stay; rules and traces are reconciled at the "
             "next start)", (int)vnd_daemon_stop);
    status = 0;
out:
    free(err);
    vnd_http_stop(http);
    sqlite3_close(cd.db);
    vnd_nib_free(cd.nib);
    vnd_coord_close(cd.coord);
    pthread_mutex_destroy(&cd.lock);
    pthread_rwlock_destroy(&cd.nib_lock);
    free(cd.nib_path);
    free(cd.www_dir);
    free(cd.admin_secret);
    free(cd.metrics_secret);
    vnd_host_budgets_free(cd.budgets);
    vnd_metrics_free(cd.metrics);
    vnd_opts_free(&opts, &s);
    vnd_log_close();
    return status;
}
