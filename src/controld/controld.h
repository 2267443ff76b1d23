/* controld.h — the control server's state shared by its threads.
 *
 * Threads: libmicrohttpd's, one per API connection; the maintenance
 * thread (durations, quotas, retention, reconcile, SIGHUP); main, which
 * waits for signals.  `lock` serializes every change of diagnoses, the
 * state database, rules and table-server traces, so two requests never
 * pick the same tag; reading rows and streaming results happen outside
 * it.  The NIB is swapped whole on SIGHUP under `nib_lock`. */
#ifndef VND_CONTROLD_CONTROLD_H
#define VND_CONTROLD_CONTROLD_H

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "control/nib.h"

struct vnd_metrics;
struct vnd_metric;
struct vnd_coord;
struct vnd_host_budgets;

struct vnd_controld {
    /* settings */
    char *nib_path;
    char *admin_secret;
    double reconcile_interval;      /* s */
    int retain_mb;                  /* raw packets kept per trace */
    double query_timeout;           /* s, of a tenant's statement on the coordinator */
    /* The distributed mode (--coordinator; docs/distributed.md): tenant
     * SQL and apps run there.  NULL: embedded, proxied to the one table
     * server that holds every table a query names. */
    struct vnd_coord *coord;
    char *www_dir;                  /* the web console's files (NULL: none) */

    pthread_rwlock_t nib_lock;
    struct vnd_nib *nib;

    pthread_mutex_t lock;
    sqlite3 *db;                    /* the state: diagnoses, traces, audit */

    /* Prometheus metrics (docs/metrics.md); all NULL without
     * --metrics-secret-file, and then every update is a no-op. */
    char *metrics_secret;
    struct vnd_metrics *metrics;
    struct vnd_metric *m_reconcile_runs, *m_reconcile_fixes, *m_reconcile_seconds;
    struct vnd_metric *m_query_seconds, *m_live, *m_diagnoses, *m_rules;

    /* each host's CPU budget and the switch's flow sampling it keeps to
     * (host_budget.h); polled every budget_period s */
    struct vnd_host_budgets *budgets;
    double budget_period;

    volatile sig_atomic_t reload;   /* SIGHUP seen */
    volatile sig_atomic_t stopping;
};

#endif
