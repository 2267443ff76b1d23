/* budget.h — the table server's CPU budget (docs/cost.md, "Sampling
 * chosen for a budget"): every period it measures the CPU its capture
 * work took, and raises or lowers the table-server sampling of every live
 * mirror trace to stay under the operator's share of a core.
 *
 * Counted as capture work: every thread of the process but the control
 * API's (libmicrohttpd's connection threads name themselves "vnd-http":
 * tenant queries and diagnostic apps are not capture).  That is the
 * capture threads (libpcap → packet queue), the parser (main thread:
 * sampling, decoding, rows), each tenant's writer thread and SQLite's
 * checkpointer.  Read from /proc/self/task/TID/schedstat (nanoseconds on
 * a CPU; stat's utime + stime in clock ticks where the kernel keeps no
 * schedstat).  A thread that ended within a period loses that period's
 * part (the process's threads live as long as it, but for the API's).
 *
 * ovs-vswitchd's CPU (--ovs-pidfile) is measured and reported here; the
 * control server reads both shares and keeps a host's budget with the
 * switch's flow sampling (controld/host_budget.h).
 *
 * Every function is called with the tabled's lock held (main thread). */
#ifndef VND_TABLED_BUDGET_H
#define VND_TABLED_BUDGET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "tabled/tabled.h"

#define VND_BUDGET_PERIOD 2.0       /* seconds between measurements */
/* when to sample more or less: daemon/budget_rule.h */
#define VND_BUDGET_MAX_SAMPLING 1024

struct vnd_budget;

/* A controller for `cpu_pct` percent of one core (0: measure and report
 * only); `ovs_pidfile` NULL: no switch to measure.  Registers its metrics
 * in `mx` (when it has a registry). */
struct vnd_budget *vnd_budget_new(double cpu_pct, double period, const char *ovs_pidfile,
                                  struct vnd_tabled_metrics *mx);
void vnd_budget_free(struct vnd_budget *b);

/* Called from the parser loop: when a period has passed, measures and
 * adapts the traces' sampling (vnd_ingest_set_sampling: a vnd_sampling
 * row, a log line and the metrics for each change). */
void vnd_budget_tick(struct vnd_budget *b, struct vnd_tabled *td, double now);

/* Names the calling thread "vnd-http": its CPU is not capture work. */
void vnd_budget_api_thread(void);

/* {"cpu_pct", "share_pct", "ovs_share_pct", "period", "state", "changes",
 * "overhead_cpu_s"}: GET /v1/traces's "budget". */
json_t *vnd_budget_json(const struct vnd_budget *b);

/* The current 1-in-N of trace t (what GET /v1/traces shows as
 * "sampling_now"). */
uint32_t vnd_budget_trace_sampling(const struct vnd_tabled_trace *t);

#endif
