/* budget.c — the CPU budget controller: measure, then double or halve the
 * table-server sampling of the live mirror traces. */
#include "tabled/budget.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "daemon/budget_rule.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "tabled/traces.h"
#include "util/util.h"

struct vnd_budget {
    double limit;            /* share of one core; 0: off */
    double period;
    char *ovs_pidfile;
    double tick;             /* seconds per clock tick (/proc's unit) */
    double last_wall, last_cpu, last_ovs;
    long ovs_pid;            /* whose last_ovs it is; 0: none yet */
    bool primed, measured;
    double share, ovs_share; /* the last period's; ovs -1: unknown */
    struct vnd_budget_rule rule;
    uint64_t changes;
    double overhead;         /* CPU seconds the controller itself took */
    const char *state;       /* "off", "under", "over", "at limit" */
    struct vnd_metric *m_share, *m_ovs, *m_limit, *m_sampling, *m_changes, *m_overhead;
};

static double thread_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds a task (thread or process) has run, from its /proc
 * directory `dir`: schedstat's nanoseconds on a CPU when the kernel keeps
 * them, else stat's utime + stime in clock ticks; its comm into `comm`.
 * -1 when it cannot be read (a thread that just ended). */
static double task_cpu(const struct vnd_budget *b, const char *dir, char *comm, size_t commsz)
{
    char path[96], buf[1024];
    double cpu = -1;
    snprintf(path, sizeof path, "%s/schedstat", dir);
    FILE *f = fopen(path, "r");
    unsigned long long ns;
    if (f) {
        if (fscanf(f, "%llu", &ns) == 1)
            cpu = (double)ns / 1e9;
        fclose(f);
    }
    if (cpu >= 0 && !comm)
        return cpu;
    snprintf(path, sizeof path, "%s/stat", dir);
    if (!(f = fopen(path, "r")))
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* "pid (comm) state ppid ...": comm may hold blanks and parentheses */
    char *open = strchr(buf, '('), *close = strrchr(buf, ')');
    if (!open || !close || close < open)
        return -1;
    if (comm) {
        size_t c = (size_t)(close - open - 1);
        if (c >= commsz)
            c = commsz - 1;
        memcpy(comm, open + 1, c);
        comm[c] = 0;
    }
    unsigned long long ut, st;
    /* after ")": state, then fields 4..13, then utime (14) and stime (15) */
    if (cpu < 0
        && sscanf(close + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                  &st) == 2)
        cpu = (double)(ut + st) * b->tick;
    return cpu;
}

/* CPU seconds of this process's capture work so far (see budget.h). */
static double capture_cpu(const struct vnd_budget *b)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    double sum = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char dir[64], comm[32];
        snprintf(dir, sizeof dir, "/proc/self/task/%.20s", e->d_name);
        double t = task_cpu(b, dir, comm, sizeof comm);
        if (t > 0 && strcmp(comm, "vnd-http") != 0)
            sum += t;
    }
    closedir(d);
    return sum;
}

/* ovs-vswitchd's CPU seconds so far, its pid in *pid; -1: not known. */
static double ovs_cpu(const struct vnd_budget *b, long *pid)
{
    FILE *f = fopen(b->ovs_pidfile, "r");
    if (!f)
        return -1;
    long p = 0;
    int ok = fscanf(f, "%ld", &p) == 1 && p > 0;
    fclose(f);
    if (!ok)
        return -1;
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld", p);
    *pid = p;
    return task_cpu(b, dir, NULL, 0);
}

void vnd_budget_api_thread(void)
{
    prctl(PR_SET_NAME, "vnd-http", 0, 0, 0);
}

struct vnd_budget *vnd_budget_new(double cpu_pct, double period, const char *ovs_pidfile,
                                  struct vnd_tabled_metrics *mx)
{
    struct vnd_budget *b = vnd_xcalloc(1, sizeof *b);
    b->limit = cpu_pct / 100;
    b->period = period > 0 ? period : VND_BUDGET_PERIOD;
    b->ovs_pidfile = ovs_pidfile ? vnd_xstrdup(ovs_pidfile) : NULL;
    long hz = sysconf(_SC_CLK_TCK);
    b->tick = 1.0 / (double)(hz > 0 ? hz : 100);
    b->ovs_share = -1;
    b->state = b->limit > 0 ? "under" : "off";
    if (mx && mx->reg) {
        b->m_share = vnd_metrics_gauge(mx->reg, "vnd_budget_cpu_share",
                                       "Share of one core the table server's capture work "
                                       "took over the last budget period", NULL);
        b->m_ovs = vnd_metrics_gauge(mx->reg, "vnd_budget_ovs_cpu_share",
                                     "Share of one core ovs-vswitchd took over the last "
                                     "budget period (--ovs-pidfile; reported, not controlled)",
                                     NULL);
        b->m_limit = vnd_metrics_gauge(mx->reg, "vnd_budget_limit",
                                       "The budget: share of one core capture may take "
                                       "(--cpu-budget; 0: off)", NULL);
        b->m_sampling = vnd_metrics_gauge(mx->reg, "vnd_trace_sampling",
                                          "The trace's table-server sampling now (1 in N)",
                                          "trace");
        b->m_changes = vnd_metrics_counter(mx->reg, "vnd_budget_changes_total",
                                           "Sampling changes the budget made", NULL);
        b->m_overhead = vnd_metrics_counter(mx->reg, "vnd_budget_overhead_seconds_total",
                                            "CPU seconds the budget controller itself took",
                                            NULL);
        vnd_metric_set(b->m_limit, b->limit);
    }
    return b;
}

void vnd_budget_free(struct vnd_budget *b)
{
    if (!b)
        return;
    free(b->ovs_pidfile);
    free(b);
}

uint32_t vnd_budget_trace_sampling(const struct vnd_tabled_trace *t)
{
    return vnd_ingest_sampling(t->tenant->ing, t->index, NULL);
}

/* The traces whose rate the table server picks: mirror traces (sflow and
 * ipfix come sampled by the switch). */
static bool adaptable(const struct vnd_tabled_trace *t)
{
    return !t->mode || !strcmp(t->mode, "mirror");
}

static void set_rate(struct vnd_budget *b, struct vnd_tabled_trace *t, uint32_t from,
                     uint32_t to, const char *reason)
{
    enum vnd_sample_method m;
    vnd_ingest_sampling(t->tenant->ing, t->index, &m);
    if (vnd_ingest_set_sampling(t->tenant->ing, t->index, to, m, reason))
        return;
    b->changes++;
    vnd_metric_add(b->m_changes, 1);
    vnd_info("budget: trace %s sampling 1/%u -> 1/%u (%s)", t->id, from, to, reason);
}

/* Over: every adaptable trace samples 2^k times fewer packets
 * (daemon/budget_rule.h). */
static void raise_rates(struct vnd_budget *b, struct vnd_tabled *td, int k)
{
    char reason[160];
    snprintf(reason, sizeof reason, "budget: %.0f%% of a core > %.0f%% of %.0f%%",
             100 * b->share, 100 * VND_BUDGET_HIGH, 100 * b->limit);
    bool capped = true;
    for (int i = 0; i < td->ntraces; i++) {
        struct vnd_tabled_trace *t = td->traces[i];
        if (!adaptable(t))
            continue;
        uint32_t n = vnd_budget_trace_sampling(t);
        uint64_t to = (uint64_t)n << k;
        if (to > VND_BUDGET_MAX_SAMPLING)
            to = n > VND_BUDGET_MAX_SAMPLING ? n : VND_BUDGET_MAX_SAMPLING;
        if (to != n) {
            set_rate(b, t, n, (uint32_t)to, reason);
            capped = false;
        }
    }
    b->state = capped ? "at limit" : "over";
}

/* Under for long: halve, never below the rate the trace asked for. */
static void lower_rates(struct vnd_budget *b, struct vnd_tabled *td)
{
    char reason[160];
    snprintf(reason, sizeof reason, "budget: %.0f%% of a core < %.0f%% of %.0f%% for %d periods",
             100 * b->share, 100 * VND_BUDGET_LOW, 100 * b->limit, VND_BUDGET_LOW_PERIODS);
    for (int i = 0; i < td->ntraces; i++) {
        struct vnd_tabled_trace *t = td->traces[i];
        if (!adaptable(t))
            continue;
        uint32_t n = vnd_budget_trace_sampling(t), to = n / 2;
        if (to < t->sampling)
            to = t->sampling;
        if (to != n)
            set_rate(b, t, n, to, reason);
    }
}

void vnd_budget_tick(struct vnd_budget *b, struct vnd_tabled *td, double now)
{
    if (b->primed && now - b->last_wall < b->period)
        return;
    double c0 = thread_cpu_now();
    double cpu = capture_cpu(b), ovs = -1;
    long pid = 0;
    if (b->ovs_pidfile)
        ovs = ovs_cpu(b, &pid);
    if (b->primed && cpu >= 0 && now > b->last_wall) {
        double wall = now - b->last_wall;
        b->share = (cpu - b->last_cpu) / wall;
        b->measured = true;
        b->ovs_share = ovs >= 0 && b->last_ovs >= 0 && pid == b->ovs_pid
                           ? (ovs - b->last_ovs) / wall : -1;
        vnd_metric_set(b->m_share, b->share);
        if (b->ovs_share >= 0)
            vnd_metric_set(b->m_ovs, b->ovs_share);
        if (b->limit > 0) {
            int k, over;
            switch (vnd_budget_rule_step(&b->rule, b->share, b->limit, &k, &over)) {
            case VND_BUDGET_RAISE:
                raise_rates(b, td, k);
                break;
            case VND_BUDGET_LOWER:
                b->state = "under";
                lower_rates(b, td);
                break;
            case VND_BUDGET_HOLD:
                b->state = over ? "over" : "under";
                break;
            }
        }
        if (b->ovs_share >= 0)
            vnd_debug("budget: capture %.1f%% of a core, ovs-vswitchd %.1f%%, budget %.0f%%",
                      100 * b->share, 100 * b->ovs_share, 100 * b->limit);
        else
            vnd_debug("budget: capture %.1f%% of a core, budget %.0f%%", 100 * b->share,
                      100 * b->limit);
    }
    b->last_wall = now;
    b->last_cpu = cpu;
    b->last_ovs = ovs;
    b->ovs_pid = pid;
    b->primed = true;
    vnd_metric_clear(b->m_sampling);
    for (int i = 0; i < td->ntraces; i++)
        vnd_metric_set(b->m_sampling, vnd_budget_trace_sampling(td->traces[i]),
                       td->traces[i]->id);
    double spent = thread_cpu_now() - c0;
    b->overhead += spent;
    vnd_metric_add(b->m_overhead, spent);
}

json_t *vnd_budget_json(const struct vnd_budget *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "cpu_pct", json_real(100 * b->limit));
    json_object_set_new(o, "share_pct", b->measured ? json_real(100 * b->share)
                                                                  : json_null());
    json_object_set_new(o, "ovs_share_pct", b->ovs_share >= 0 ? json_real(100 * b->ovs_share)
                                                              : json_null());
    json_object_set_new(o, "period", json_real(b->period));
    json_object_set_new(o, "state", json_string(b->state));
    json_object_set_new(o, "changes", json_integer((json_int_t)b->changes));
    json_object_set_new(o, "overhead_cpu_s", json_real(b->overhead));
    return o;
}
