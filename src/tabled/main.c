/* main.c — vnd-tabled: flags and config file, signals, the parser loop.
 *
 *   vnd-tabled --interface IF --db PATH --listen HOST:PORT --secret-file FILE
 *
 * The main thread is the paper's trace parser: it drains the collectors'
 * packet queue into the trace tables and, every half second, commits the
 * batch together with every trace's counters. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/options.h"
#include "daemon/service.h"
#include "store/sqlmem.h"
#include "tabled/api.h"
#include "tabled/budget.h"
#include "capture/pcap_live.h"
#include "store/retain.h"
#include "tabled/tabled.h"
#include "tabled/traces.h"
#include "util/util.h"

static const char usage_text[] =
    "usage: vnd-tabled --interface IF --db PATH --listen HOST:PORT --secret-file FILE\n"
    "                  [options]\n"
    "       vnd-tabled --config FILE [options]\n"
    "\n"
    "The VND table server: captures the mirror port(s) of this hypervisor, files\n"
    "each packet under the trace its VLAN tag names, and keeps the traces' tables\n"
    "in a local store that the control server queries over HTTP.\n"
    "\n"
    "options (each may also be a `name = value` line of the config file;\n"
    "the command line wins):\n"
    "  -i, --interface IF     mirror interface to capture (repeatable; none when\n"
    "                         a collector below feeds the table server alone)\n"
    "      --sflow-listen ADDR  also collect sFlow v5 from OVS on UDP ADDR\n"
    "                         (HOST:PORT, e.g. 127.0.0.1:6343) for sflow traces\n"
    "      --ipfix-listen ADDR  also collect IPFIX (and NetFlow v9) from OVS on UDP\n"
    "                         ADDR (e.g. 127.0.0.1:4739) for ipfix traces\n"
    "  -d, --db PATH          the store (SQLite, created if absent): the trace\n"
    "                         registry, and the tenants' traces beside it\n"
    "      --trace-store pg:CONNINFO  keep the tenants' trace tables in this\n"
    "                         PostgreSQL instead, a schema per tenant (the\n"
    "                         distributed mode: docs/distributed.md)\n"
    "  -l, --listen ADDR      control API address (default 127.0.0.1:7410)\n"
    "  -s, --secret-file F    file holding the secret shared with the control server\n"
    "  -c, --config FILE      read options from FILE first\n"
    "      --raw-dir DIR      retained pcap files (default PATH.raw)\n"
    "      --buffer-mb N      kernel capture ring per interface (default 64; a Mode tap\n"
    "                         trace's own ring: a quarter of it, at least 4)\n"
    "      --queue-mb N       tabled's own packet queue (default 64)\n"
    "      --capture-snaplen N  bytes libpcap keeps per frame (default 65535)\n"
    "      --query-timeout S  time limit of one query (default 30)\n"
    "      --query-memory-mb N  what one query may allocate in SQLite (default 256)\n"
    "      --http-timeout S   close an API connection idle this long before it\n"
    "                         sends an authenticated request (default 10)\n"
    "      --http-max-connections N  API connections at once (default 1024)\n"
    "      --http-per-address N  API connections from one address (default 64,\n"
    "                         0: no cap)\n"
    "      --cpu-budget PCT   the share of one core (percent) the table server's\n"
    "                         capture work may take: every period it measures\n"
    "                         its CPU (API threads left out) and doubles (or\n"
    "                         more, by a power of two) the sampling of every\n"
    "                         mirror trace above 90% of it for two periods\n"
    "                         (or 150% for one),\n"
    "                         halves it below 40% for 5 periods (never below\n"
    "                         the trace's own Sampling); each change is a\n"
    "                         vnd_sampling row (default: off)\n"
    "      --budget-period S  seconds between measurements (default 2)\n"
    "      --ovs-pidfile F    also measure ovs-vswitchd's CPU (its pid in F):\n"
    "                         reported in GET /v1/traces and metrics, not\n"
    "                         controlled\n"
    "      --metrics-secret-file F  the operator's secret for GET /metrics\n"
    "                         (Prometheus; without it /metrics answers 404)\n"
    "      --log-file FILE    log there instead of stderr (SIGHUP reopens it)\n"
    "      --log-level L      error, warn, info (default) or debug\n"
    "  -h, --help             this text\n"
    "\n"
    "SIGTERM/SIGINT: commit what is queued and exit.  SIGHUP: reopen the log.\n"
    "Docs: docs/tabled.md.\n";

struct settings {
    struct vnd_opt_list interfaces;
    char *db, *listen, *secret_file, *raw_dir, *log_file, *log_level, *metrics_secret_file;
    char *sflow_listen, *ipfix_listen;
    char *trace_store;
    double cpu_budget, budget_period;
    char *ovs_pidfile;
    long buffer_mb, queue_mb, capture_snaplen;
    double query_timeout;
    long query_memory_mb;
    long http_timeout, http_max_connections, http_per_address;
};

/* The options, once: the command line and the config file share it. */
static const struct vnd_opt_def opt_defs[] = {
    {"interface", 'i', VND_OPT_LIST, offsetof(struct settings, interfaces), 0, 0},
    {"db", 'd', VND_OPT_STR, offsetof(struct settings, db), 0, 0},
    {"listen", 'l', VND_OPT_STR, offsetof(struct settings, listen), 0, 0},
    {"secret-file", 's', VND_OPT_STR, offsetof(struct settings, secret_file), 0, 0},
    {"raw-dir", 1001, VND_OPT_STR, offsetof(struct settings, raw_dir), 0, 0},
    {"buffer-mb", 1002, VND_OPT_LONG, offsetof(struct settings, buffer_mb), 1, 4096},
    {"queue-mb", 1003, VND_OPT_LONG, offsetof(struct settings, queue_mb), 2, 4096},
    {"capture-snaplen", 1004, VND_OPT_LONG, offsetof(struct settings, capture_snaplen), 64, 262144},
    {"query-timeout", 1005, VND_OPT_DOUBLE, offsetof(struct settings, query_timeout), 0, 86400},
    {"query-memory-mb", 1011, VND_OPT_LONG, offsetof(struct settings, query_memory_mb), 16, 65536},
    {"log-file", 1006, VND_OPT_STR, offsetof(struct settings, log_file), 0, 0},
    {"log-level", 1007, VND_OPT_STR, offsetof(struct settings, log_level), 0, 0},
    {"http-timeout", 1008, VND_OPT_LONG, offsetof(struct settings, http_timeout), 1, 3600},
    {"http-max-connections", 1009, VND_OPT_LONG, offsetof(struct settings, http_max_connections),
     1, 65536},
    {"http-per-address", 1010, VND_OPT_LONG, offsetof(struct settings, http_per_address), 0, 65536},
    {"metrics-secret-file", 1012, VND_OPT_STR, offsetof(struct settings, metrics_secret_file), 0, 0},
    {"sflow-listen", 1013, VND_OPT_STR, offsetof(struct settings, sflow_listen), 0, 0},
    {"ipfix-listen", 1014, VND_OPT_STR, offsetof(struct settings, ipfix_listen), 0, 0},
    {"trace-store", 1020, VND_OPT_STR, offsetof(struct settings, trace_store), 0, 0},
    {"cpu-budget", 1021, VND_OPT_DOUBLE, offsetof(struct settings, cpu_budget), 0, 6400},
    {"budget-period", 1022, VND_OPT_DOUBLE, offsetof(struct settings, budget_period), 0.2, 3600},
    {"ovs-pidfile", 1023, VND_OPT_STR, offsetof(struct settings, ovs_pidfile), 0, 0},
};
static const struct vnd_opts opts = {"vnd-tabled", usage_text, opt_defs,
                                     sizeof opt_defs / sizeof *opt_defs};

/* Returns 0 to run, 1 to exit 0 (help), 2 on usage errors. */
static int parse_args(int argc, char **argv, struct settings *s)
{
    int status = vnd_opts_parse(&opts, argc, argv, s);
    if (status)
        return status;
    /* a table server fed by a collector alone needs no mirror port */
    bool collects = s->sflow_listen || s->ipfix_listen;
    const char *missing = !s->interfaces.n && !collects ? "--interface (or a collector: "
                                                          "--sflow-listen, --ipfix-listen)"
                          : !s->db ? "--db"
                          : !s->secret_file ? "--secret-file" : NULL;
    if (missing) {
        fprintf(stderr, "vnd-tabled: %s is required\n%s", missing, usage_text);
        return 2;
    }
    return 0;
}

/* The metrics (docs/metrics.md), registered when /metrics is served. */
static void metrics_init(struct vnd_tabled_metrics *m)
{
    static const double fast[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                  0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
    struct vnd_metrics *r = m->reg = vnd_metrics_new();
    const char *t = "trace";
    m->seen = vnd_metrics_counter(r, "vnd_tabled_packets_seen_total",
                                  "Frames with the trace's tag handed to its parser", t);
    m->sampled_out = vnd_metrics_counter(r, "vnd_tabled_packets_sampled_out_total",
                                         "Frames skipped by the trace's 1-in-N sampling", t);
    m->matched = vnd_metrics_counter(r, "vnd_tabled_packets_matched_total",
                                     "Kept frames that matched a rule's filter", t);
    m->stored = vnd_metrics_counter(r, "vnd_tabled_packets_stored_total",
                                    "Rows written (a frame matching two rules makes two)", t);
    m->dropped = vnd_metrics_counter(r, "vnd_tabled_packets_dropped_total",
                                     "Frames lost: reason=queue the trace's own (full packet "
                                     "queue), reason=kernel the mirror interfaces' drops while "
                                     "the trace existed (an upper bound)", "trace,reason");
    m->anomalies = vnd_metrics_counter(r, "vnd_tabled_decode_anomalies_total",
                                       "Frames the decoder flagged (truncated, malformed)", t);
    m->retained = vnd_metrics_gauge(r, "vnd_tabled_retained_bytes",
                                    "Bytes of raw packets kept in the trace's pcap ring", t);
    m->traces = vnd_metrics_gauge(r, "vnd_tabled_traces", "Traces registered", NULL);
    const char *i = "interface";
    m->cap_received = vnd_metrics_counter(r, "vnd_tabled_capture_received_total",
                                          "Frames libpcap handed to the collector", i);
    m->cap_untagged = vnd_metrics_counter(r, "vnd_tabled_capture_untagged_total",
                                          "Frames without an 802.1Q tag (not VND's)", i);
    m->cap_unknown = vnd_metrics_counter(r, "vnd_tabled_capture_unknown_tag_total",
                                         "Frames whose tag no trace has", i);
    m->cap_kernel_dropped = vnd_metrics_counter(r, "vnd_tabled_capture_kernel_dropped_total",
                                                "Frames the kernel could not put in the "
                                                "capture ring (pcap_stats ps_drop)", i);
    m->cap_if_dropped = vnd_metrics_counter(r, "vnd_tabled_capture_if_dropped_total",
                                            "Frames the interface dropped (pcap_stats "
                                            "ps_ifdrop)", i);
    m->cap_up = vnd_metrics_gauge(r, "vnd_tabled_capture_up",
                                  "1 while the interface is captured, 0 after it failed", i);
    m->queue_batches = vnd_metrics_gauge(r, "vnd_tabled_queue_batches",
                                         "Full packet-queue batches waiting for the parser", NULL);
    m->queue_capacity = vnd_metrics_gauge(r, "vnd_tabled_queue_capacity_batches",
                                          "Batches of the packet queue in all (--queue-mb)", NULL);
    m->batch_seconds = vnd_metrics_histogram(r, "vnd_tabled_ingest_batch_seconds",
                                             "Time to parse one packet-queue batch (sampling, "
                                             "decode, filter, rows to the writers); _count is "
                                             "the number of batches", NULL, fast,
                                             (int)(sizeof fast / sizeof *fast));
    m->commit_seconds = vnd_metrics_histogram(r, "vnd_tabled_commit_seconds",
                                              "Time to commit every tenant's open batch of rows "
                                              "with its counters (each 0.5 s)", NULL, fast,
                                              (int)(sizeof fast / sizeof *fast));
    m->store_failed = vnd_metrics_gauge(r, "vnd_tabled_store_failed",
                                        "1 once a commit failed: rows are no longer stored", NULL);
    m->store_down_since = vnd_metrics_gauge(r, "vnd_tabled_store_down_since",
                                            "Unix time since which a tenant's store (its "
                                            "PostgreSQL) does not answer, its rows held (the "
                                            "earliest of several); 0 while all answer", NULL);
    m->store_lost = vnd_metrics_counter(r, "vnd_tabled_packets_store_lost_total",
                                        "Frames whose rows were not stored: the store was down "
                                        "longer than their batch could be held", t);
    m->query_seconds = vnd_metrics_histogram(r, "vnd_query_seconds",
                                             "Time of a tenant query (app=\"sql\") or diagnostic "
                                             "app, to the end of its answer", "app", NULL, 0);
}

struct scrape_ctx {
    struct vnd_tabled *td;
    struct vnd_pktq *q;
};

static void collect_metrics(void *ctx)
{
    struct scrape_ctx *c = ctx;
    pthread_mutex_lock(&c->td->lock);
    vnd_traces_metrics(c->td);
    pthread_mutex_unlock(&c->td->lock);
    int cap = 0, depth = vnd_pktq_depth(c->q, &cap);
    vnd_metric_set(c->td->mx.queue_batches, depth);
    vnd_metric_set(c->td->mx.queue_capacity, cap);
}

/* Files every packet of a batch under its trace. */
static void parse_batch(struct vnd_tabled *td, const struct vnd_batch *b)
{
    double t0 = vnd_now();
    size_t off = 0;
    const uint8_t *data;
    const struct vnd_pktrec *r;
    while ((r = vnd_batch_next(b, &off, &data))) {
        if (r->index < 0 || r->index >= td->nslots || !td->by_slot[r->index])
            continue;        /* deleted while queued */
        struct vnd_tabled_trace *t = td->by_slot[r->index];
        struct vnd_ingest *ing = t->tenant->ing;
        if (r->type == VND_REC_COUNTERS) {
            struct vnd_ifcounters k;
            memcpy(&k, data, sizeof k);
            vnd_traces_add_counters(t, r->ts_ns, &k);
            continue;
        }
        if (r->type == VND_REC_FLOW) {
            /* read where it lies: a batch's records start 8-aligned
             * (pktq.h), as the record's own alignment asks */
            _Static_assert(_Alignof(struct vnd_ipfix_flow) <= 8, "a record needs more than 8");
            if (r->caplen != sizeof(struct vnd_ipfix_flow))
                continue;
            vnd_ipfix_flow_fields((const struct vnd_ipfix_flow *)(const void *)data,
                                  &td->flow_pkt);
            vnd_ingest_record(ing, t->index, r->ts_ns, &td->flow_pkt);
            continue;
        }
        if (r->type != VND_REC_PACKET)
            continue;
        const struct vnd_trace_stats *s = vnd_ingest_stats(ing, t->index);
        uint64_t sampled = s->sampled_out;
        vnd_ingest_packet(ing, t->index, r->ts_ns, data, r->caplen, r->len);
        if (t->retain && s->sampled_out == sampled
            && vnd_retain_write(t->retain, r->ts_ns, data, r->caplen, r->len)) {
            vnd_err("trace %s: writing raw packets failed; no more are kept", t->id);
            vnd_retain_close(t->retain, 0);
            t->retain = NULL;
            t->retain_failed = true;
        }
    }
    vnd_metric_observe(td->mx.batch_seconds, vnd_now() - t0);
}

/* Commits the batch and the counters; logs store errors once. */
static void commit(struct vnd_tabled *td, bool *failed)
{
    double t0 = vnd_now();
    vnd_traces_update_drops(td);
    char *err = NULL;
    if (vnd_traces_flush(td, &err)) {
        /* a store that does not answer is no failure: vnd_traces_flush
         * logs it, its rows are held */
        if (!*failed)
            vnd_err("store: %s; rows are no longer stored (restart after fixing it)", err);
        *failed = true;
        free(err);
    }
    for (int i = 0; i < td->ntraces; i++)
        vnd_retain_flush(td->traces[i]->retain);
    if (!*failed)
        vnd_traces_write_counters(td);
    vnd_traces_save_capture(td);
    vnd_metric_observe(td->mx.commit_seconds, vnd_now() - t0);
    vnd_metric_set(td->mx.store_failed, *failed ? 1 : 0);
}

int main(int argc, char **argv)
{
    /* before SQLite starts: each query's memory is budgeted */
    vnd_sqlmem_install();
    struct settings s = {.budget_period = VND_BUDGET_PERIOD, .buffer_mb = 64, .queue_mb = 64, .capture_snaplen = 65535,
                         .query_timeout = 30, .query_memory_mb = 256, .http_timeout = VND_API_TIMEOUT,
                         .http_max_connections = VND_API_MAX_CONNECTIONS,
                         .http_per_address = VND_API_PER_ADDRESS};
    int status = parse_args(argc, argv, &s);
    if (status) {
        vnd_opts_free(&opts, &s);
        return status == 1 ? 0 : 2;
    }
    int logrc = vnd_daemon_open_log("vnd-tabled", s.log_file, s.log_level);
    if (logrc) {
        vnd_opts_free(&opts, &s);
        return logrc;
    }

    struct vnd_tabled td = {.query_timeout = s.query_timeout,
                            .query_memory = (uint64_t)s.query_memory_mb << 20};
    pthread_mutex_init(&td.lock, NULL);
    td.db_path = vnd_xstrdup(s.db);
    td.trace_store = s.trace_store ? vnd_xstrdup(s.trace_store) : NULL;
    td.raw_dir = s.raw_dir ? vnd_xstrdup(s.raw_dir) : vnd_strdup_printf("%s.raw", s.db);
    struct vnd_pktq *q = NULL;
    struct vnd_api *api = NULL;
    char *err = NULL;
    status = 1;

    if (vnd_daemon_read_secret(s.secret_file, &td.secret))
        goto out;
    if (s.metrics_secret_file) {
        if (vnd_daemon_read_secret(s.metrics_secret_file, &td.metrics_secret))
            goto out;
        if (!strcmp(td.metrics_secret, td.secret)) {
            vnd_err("--metrics-secret-file: the metrics secret must differ from the API's "
                    "(--secret-file), or the control server's secret would read /metrics");
            goto out;
        }
        metrics_init(&td.mx);
    }
    if (mkdir(td.raw_dir, 0750) && errno != EEXIST) {
        vnd_err("%s: cannot create: %s", td.raw_dir, strerror(errno));
        goto out;
    }
    if (vnd_store_open(td.db_path, &td.st, &err)) {
        vnd_err("%s", err);
        goto out;
    }
    q = vnd_pktq_new((int)s.queue_mb, 1024 * 1024);
    td.queue = q;
    td.tap_buffer_mb = s.buffer_mb / 4 > 4 ? (int)s.buffer_mb / 4 : 4;
    struct scrape_ctx scrape = {&td, q};
    vnd_metrics_on_collect(td.mx.reg, collect_metrics, &scrape);
    struct vnd_pcap_live_opts co = {.buffer_mb = (int)s.buffer_mb,
                                    .snaplen = (int)s.capture_snaplen};
    td.coll = vnd_xcalloc((size_t)s.interfaces.n + 2, sizeof *td.coll);
    for (int i = 0; i < s.interfaces.n; i++) {
        if (vnd_pcap_live_open(s.interfaces.v[i], &co, &td.tagmap, q, &td.coll[i], &err)) {
            vnd_err("%s", err);
            goto out;
        }
        td.ncoll++;
    }
    if (s.sflow_listen) {
        td.portmap = vnd_portmap_new();
        if (vnd_sflow_source_open(s.sflow_listen, td.portmap, q, &td.coll[td.ncoll], &err)) {
            vnd_err("%s", err);
            goto out;
        }
        td.ncoll++;
    }
    if (s.ipfix_listen) {
        td.obsmap = vnd_obsmap_new();
        if (vnd_ipfix_source_open(s.ipfix_listen, td.obsmap, q, &td.coll[td.ncoll], &err)) {
            vnd_err("%s", err);
            goto out;
        }
        td.ncoll++;
    }
    if (s.cpu_budget > 0 || s.ovs_pidfile)
        td.budget = vnd_budget_new(s.cpu_budget, s.budget_period, s.ovs_pidfile, &td.mx);
    if (vnd_traces_restore(&td, &err)) {
        vnd_err("%s: %s", td.db_path, err);
        goto out;
    }

    /* Signals go to this thread only: the others start with them blocked. */
    sigset_t old;
    vnd_daemon_block_signals(&old);
    struct vnd_api_limits lim = {(unsigned)s.http_timeout, (unsigned)s.http_max_connections,
                                 (unsigned)s.http_per_address};
    if (vnd_api_start(&td, s.listen ? s.listen : "127.0.0.1:7410", &lim, &api, &err)) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        vnd_err("%s", err);
        goto out;
    }
    for (int i = 0; i < td.ncoll; i++)
        if (vnd_source_start(td.coll[i])) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            vnd_err("cannot start the capture thread of %s", vnd_source_name(td.coll[i]));
            goto out;
        }
    vnd_daemon_catch_signals(&old);

    /* the API is up: a request may be adding a trace already (the
     * thread sanitizer caught this read racing enlist's write) */
    pthread_mutex_lock(&td.lock);
    int ntraces = td.ntraces;
    pthread_mutex_unlock(&td.lock);
    vnd_info("vnd-tabled up: %d interface%s, %d trace%s, store %s, API on %s",
             td.ncoll, td.ncoll == 1 ? "" : "s", ntraces, ntraces == 1 ? "" : "s",
             td.db_path, s.listen ? s.listen : "127.0.0.1:7410");
    vnd_daemon_notify_ready();

    bool store_failed = false;
    double last_commit = vnd_now();
    while (!vnd_daemon_stop) {
        struct vnd_batch *b = vnd_pktq_take(q, 0.1);
        pthread_mutex_lock(&td.lock);
        if (b)
            parse_batch(&td, b);
        double now = vnd_now();
        if (now - last_commit >= 0.5 || vnd_traces_batch_due(&td)) {
            commit(&td, &store_failed);
            last_commit = now;
        }
        if (td.budget)
            vnd_budget_tick(td.budget, &td, now);
        pthread_mutex_unlock(&td.lock);
        if (b)
            vnd_pktq_release(q, b);
        if (vnd_daemon_hup) {
            vnd_daemon_hup = 0;
            int rc = vnd_log_reopen();
            vnd_info("SIGHUP: log reopened%s%s", rc ? ": " : "", rc ? strerror(rc) : "");
        }
    }
    vnd_info("signal %d: stopping", (int)vnd_daemon_stop);

    /* Stop taking requests and packets, then store what is queued. */
    vnd_api_stop(api);
    api = NULL;
    for (int i = 0; i < td.ncoll; i++)
        vnd_source_stop(td.coll[i]);
    for (int i = 0; i < td.ntraces; i++)
        if (td.traces[i]->tap)
            vnd_source_stop(td.traces[i]->tap);
    struct vnd_batch *b;
    pthread_mutex_lock(&td.lock);
    while ((b = vnd_pktq_take(q, 0))) {
        parse_batch(&td, b);
        vnd_pktq_release(q, b);
    }
    commit(&td, &store_failed);
    /* a store still down: what it holds goes with this process, said */
    for (int i = 0; i < td.ntenants; i++) {
        const char *why = NULL;
        if (vnd_ingest_store_down(td.tenants[i]->ing, &why)) {
            vnd_err("tenant %s: the store does not answer (%s): %u packets held for it are "
                    "not stored", td.tenants[i]->name, why,
                    vnd_ingest_pending(td.tenants[i]->ing));
            store_failed = true;
        }
    }
    pthread_mutex_unlock(&td.lock);
    status = store_failed ? 1 : 0;
    vnd_info("stopped%s", store_failed ? " (the store had failed)" : "");

out:
    free(err);
    vnd_api_stop(api);
    for (int i = 0; i < td.ncoll; i++)
        vnd_source_free(td.coll[i]);
    free(td.coll);
    free(td.coll_saved);
    vnd_traces_free_all(&td);
    vnd_budget_free(td.budget);
    vnd_pktq_free(q);
    vnd_portmap_free(td.portmap);
    vnd_obsmap_free(td.obsmap);
    vnd_store_close(td.st);
    pthread_mutex_destroy(&td.lock);
    free(td.db_path);
    free(td.trace_store);
    free(td.raw_dir);
    free(td.secret);
    free(td.metrics_secret);
    vnd_metrics_free(td.mx.reg);
    vnd_opts_free(&opts, &s);
    vnd_log_close();
    return status;
}
