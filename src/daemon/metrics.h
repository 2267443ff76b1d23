/* metrics.h — a small Prometheus metrics registry: counters, gauges and
 * histograms with labels, thread-safe, rendered in the text exposition
 * format (version 0.0.4) for GET /metrics (docs/metrics.md).
 *
 * Debian has no maintained C client for Prometheus, so this is our own,
 * kept to what the daemons need.  A family is registered once with its
 * label names ("route,method,code"); a series is picked by its label
 * values, given in the same order, and made on first use.  Every update
 * takes the registry's mutex (a few hundred nanoseconds: call it per
 * request or per batch, never per packet).  Functions accept a NULL
 * metric and do nothing, so code paths run the same without a registry.
 *
 * Values that already live elsewhere (a trace's counters, rows of the
 * control server's state) are not copied on every change: a collect
 * callback, run at each scrape before rendering, sets them. */
#ifndef VND_DAEMON_METRICS_H
#define VND_DAEMON_METRICS_H

#include <stddef.h>

struct vnd_metrics;
struct vnd_metric;

struct vnd_metrics *vnd_metrics_new(void);
void vnd_metrics_free(struct vnd_metrics *reg);

/* Registers a family.  `name` and `labels` (comma-separated label names,
 * or NULL) must be valid Prometheus names; `help` is one line.  A
 * histogram's `buckets` are upper bounds in increasing order (+Inf is
 * added); NULL takes the default latency buckets, 1 ms .. 60 s. */
struct vnd_metric *vnd_metrics_counter(struct vnd_metrics *reg, const char *name,
                                       const char *help, const char *labels);
struct vnd_metric *vnd_metrics_gauge(struct vnd_metrics *reg, const char *name,
                                     const char *help, const char *labels);
struct vnd_metric *vnd_metrics_histogram(struct vnd_metrics *reg, const char *name,
                                         const char *help, const char *labels,
                                         const double *buckets, int nbuckets);

/* The label values follow `v`, one const char * per label name. */
void vnd_metric_add(struct vnd_metric *m, double v, ...);      /* counter, gauge */
void vnd_metric_set(struct vnd_metric *m, double v, ...);      /* gauge; a counter in collect */
void vnd_metric_observe(struct vnd_metric *m, double v, ...);  /* histogram */
/* Removes every series of the family (a collect callback rebuilding it). */
void vnd_metric_clear(struct vnd_metric *m);

/* Called at every scrape, before rendering, one scrape at a time. */
typedef void (*vnd_metrics_collect_fn)(void *ctx);
void vnd_metrics_on_collect(struct vnd_metrics *reg, vnd_metrics_collect_fn fn, void *ctx);

/* The exposition text (malloc'd): collect callbacks run first. */
char *vnd_metrics_render(struct vnd_metrics *reg);

/* An opaque, stable label for a tenant: the first 8 hex digits of the
 * SHA-256 of its id (docs/metrics.md), so metrics never carry its name. */
void vnd_metrics_opaque_id(const char *id, char out[9]);

/* The exposition format's content type. */
#define VND_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
