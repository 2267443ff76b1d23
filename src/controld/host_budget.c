/* host_budget.c — each host's budget, a share of a core or a tolerated
 * drop in tenant throughput, kept with the switch's levers
 * (host_budget.h). */
#include "controld/host_budget.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/tsclient.h"
#include "controld/diagnoses.h"
#include "daemon/budget_rule.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "util/util.h"

struct hb {
    char *host;
    int cpu_pct, drop_pct;          /* the NIB's; 0: that form not set */
    struct vnd_budget_rule rule, drop_rule;
    double drop;                    /* the estimated drop (budget_rule.h); -1: unknown */
    double share, tabled, ovs;      /* the last poll's, shares of a core; -1: unknown */
    const char *state;              /* "unmeasured", "under", "over", "at limit", "at floor" */
    long long changes;
    /* What copying less does not lower (budget_rule.h), learnt from the
     * shares before and after each change of the levers: -1 unknown. */
    double fixed;
    double fixed_at;                /* the share it was learnt at */
    bool floor_said;                /* the log said this fixed part is over the budget */
    bool floored;                   /* the last poll found this budget at its floor */
    double kept;                    /* of what the tenants asked, kept now */
    double changed_share, changed_kept;  /* before the last change, to judge it; -1: none */
    double copies, copies_at;       /* copies the table server had received, when; -1: none */
    double copy_work;               /* share of a core the switch spent on them; -1: unknown */
};

/* A fixed part is learnt again once the share grows FIXED_DRIFT over
 * where it was learnt (more traffic, more to copy; the share swings by a
 * fifth between polls with the same traffic here).  It is never more
 * than the share itself, so one a noisy pair set too high comes down as
 * the share does. */
#define FIXED_DRIFT 0.5

struct vnd_host_budgets {
    pthread_mutex_t lock;           /* hosts: the API reads them */
    struct hb *hosts;
    int n;
    struct vnd_metric *m_share, *m_limit, *m_fixed, *m_changes, *m_drop, *m_drop_limit,
        *m_copies;
};

struct vnd_host_budgets *vnd_host_budgets_new(struct vnd_metrics *reg)
{
    struct vnd_host_budgets *b = vnd_xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
    if (reg) {
        b->m_share = vnd_metrics_gauge(reg, "vnd_controld_host_cpu_share",
                                       "Share of one core ovs-vswitchd and the table server "
                                       "took together over the table server's last period, by "
                                       "host (hosts with a budget)", "host");
        b->m_limit = vnd_metrics_gauge(reg, "vnd_controld_host_cpu_budget",
                                       "The host's budget (NIB), share of one core", "host");
        b->m_fixed = vnd_metrics_gauge(reg, "vnd_controld_host_cpu_fixed_share",
                                       "Share of one core that copying less did not lower "
                                       "(the switch's forwarding), learnt from the shares "
                                       "before and after the last change, by host", "host");
        b->m_drop = vnd_metrics_gauge(reg, "vnd_controld_host_drop_estimate",
                                      "The drop in tenant throughput copying is estimated to "
                                      "cost: the larger of the table server's part of its and "
                                      "ovs-vswitchd's share and, given the NIB's copy_ns, the "
                                      "switch's part, by host (docs/cost.md)", "host");
        b->m_copies = vnd_metrics_gauge(reg, "vnd_controld_host_copies_ovs_share",
                                        "Share of one core ovs-vswitchd spends on the copies: "
                                        "the NIB's copy_ns times the copies per second the "
                                        "table server's capture counted, by host (hosts with "
                                        "copy_ns)", "host");
        b->m_drop_limit = vnd_metrics_gauge(reg, "vnd_controld_host_drop_budget",
                                            "The tolerated drop in tenant throughput (NIB), "
                                            "a fraction", "host");
        b->m_changes = vnd_metrics_counter(reg, "vnd_controld_host_budget_changes_total",
                                           "Changes of the in-switch flow sampling the host's "
                                           "budget made, by host", "host");
    }
    return b;
}

void vnd_host_budgets_free(struct vnd_host_budgets *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->n; i++)
        free(b->hosts[i].host);
    free(b->hosts);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* The host's entry, made on first sight; its budget as the NIB says now. */
static struct hb *entry(struct vnd_host_budgets *b, const char *host, int cpu_pct,
                        int drop_pct)
{
    for (int i = 0; i < b->n; i++)
        if (!strcmp(b->hosts[i].host, host)) {
            struct hb *e = &b->hosts[i];
            if (e->cpu_pct != cpu_pct) {
                e->floor_said = false;      /* a new budget: said again */
                e->floored = false;
            }
            if (!cpu_pct)
                e->rule = (struct vnd_budget_rule){0};
            if (!drop_pct)
                e->drop_rule = (struct vnd_budget_rule){0};
            e->cpu_pct = cpu_pct;
            e->drop_pct = drop_pct;
            return e;
        }
    b->hosts = vnd_xrealloc(b->hosts, (size_t)(b->n + 1) * sizeof *b->hosts);
    struct hb *e = &b->hosts[b->n++];
    *e = (struct hb){.host = vnd_xstrdup(host), .cpu_pct = cpu_pct, .drop_pct = drop_pct,
                     .share = -1, .tabled = -1, .ovs = -1, .drop = -1, .state = "unmeasured",
                     .fixed = -1, .kept = 1, .changed_share = -1, .copies = -1,
                     .copy_work = -1};
    return e;
}

/* The share (of a core) a budget object's member gives in percent; -1
 * when absent or null (not measured yet, or no --ovs-pidfile). */
static double pct_of(json_t *budget, const char *key)
{
    json_t *v = json_object_get(budget, key);
    return json_is_number(v) ? json_number_value(v) / 100 : -1;
}

/* The copies a table server's mirror captures have had so far (read or
 * lost in its ring), from GET /v1/traces' "capture"; -1: none listed. */
static double copies_of(json_t *reply)
{
    json_t *cap = json_object_get(reply, "capture"), *src;
    size_t i;
    double n = -1;
    json_array_foreach(cap, i, src) {
        const char *kind = json_string_value(json_object_get(src, "kind"));
        if (!kind || strcmp(kind, "pcap") != 0)
            continue;
        json_t *got = json_object_get(src, "received");
        json_t *lost = json_object_get(src, "kernel_dropped");
        if (!json_is_integer(got))
            continue;
        n = (n < 0 ? 0 : n) + (double)json_integer_value(got)
            + (json_is_integer(lost) ? (double)json_integer_value(lost) : 0);
    }
    return n;
}

/* The poll after a change of the levers learns the fixed part from the
 * shares before and after it; a known one follows the share down and
 * goes when the share grows FIXED_DRIFT over it.  True when it was learnt
 * now. */
static bool learn_fixed(struct hb *e, double share)
{
    if (e->changed_share >= 0 && e->changed_kept != e->kept) {
        e->fixed = vnd_budget_fixed_share(e->changed_share, e->changed_kept, share, e->kept);
        e->fixed_at = share;
        e->changed_share = -1;
        e->floor_said = false;
        return true;
    }
    e->changed_share = -1;
    if (e->fixed < 0)
        return false;
    if (share < e->fixed)
        e->fixed = share;
    /* (not at a floor: more traffic, more forwarding, and the floor
     * stands; forgetting it there raised, a change for nothing) */
    if (share > (1 + FIXED_DRIFT) * e->fixed_at && !e->floored)
        e->fixed = -1;
    return false;
}

struct polled {
    char *host, *url, *secret;
    int cpu_pct, drop_pct, copy_ns;
};

/* The two forms' steps as one: a raise when either raises (by the larger
 * k), a lowering when one lowers and the other (when set) is calm, its
 * share counted under for a period or more. */
static enum vnd_budget_step combine(const struct hb *e, enum vnd_budget_step cpu, int kc,
                                    enum vnd_budget_step drop, int kd, int *k)
{
    *k = 0;
    if (cpu == VND_BUDGET_RAISE || drop == VND_BUDGET_RAISE) {
        kc = cpu == VND_BUDGET_RAISE ? kc : 0;
        kd = drop == VND_BUDGET_RAISE ? kd : 0;
        *k = kc > kd ? kc : kd;
        return VND_BUDGET_RAISE;
    }
    bool cpu_calm = !e->cpu_pct || cpu == VND_BUDGET_LOWER || e->rule.low > 0;
    bool drop_calm = !e->drop_pct || drop == VND_BUDGET_LOWER || e->drop_rule.low > 0;
    if ((cpu == VND_BUDGET_LOWER || drop == VND_BUDGET_LOWER) && cpu_calm && drop_calm)
        return VND_BUDGET_LOWER;
    return VND_BUDGET_HOLD;
}

void vnd_host_budgets_poll(struct vnd_controld *cd, struct vnd_host_budgets *b)
{
    /* the hosts with a budget, copied: no NIB lock across the calls */
    pthread_rwlock_rdlock(&cd->nib_lock);
    int n = 0;
    struct polled *p = vnd_xcalloc((size_t)cd->nib->nhosts + 1, sizeof *p);
    for (int i = 0; i < cd->nib->nhosts; i++) {
        const struct vnd_nib_host *h = &cd->nib->hosts[i];
        if (h->budget_cpu_pct > 0 || h->budget_drop_pct > 0)
            p[n++] = (struct polled){vnd_xstrdup(h->name), vnd_xstrdup(h->tabled_url),
                                     vnd_xstrdup(h->tabled_secret ? h->tabled_secret : ""),
                                     h->budget_cpu_pct, h->budget_drop_pct,
                                     h->budget_copy_ns};
    }
    pthread_rwlock_unlock(&cd->nib_lock);
    for (int i = 0; i < n; i++) {
        json_t *reply = NULL;
        long status = 0;
        char *why = NULL;
        double tabled = -1, ovs = -1, copies = -1, now = vnd_now();
        if (vnd_ts_call(p[i].url, p[i].secret, "GET", "/v1/traces", NULL, &status, &reply,
                        &why) == 0 && status == 200) {
            json_t *budget = json_object_get(reply, "budget");
            tabled = pct_of(budget, "share_pct");
            ovs = pct_of(budget, "ovs_share_pct");
            copies = copies_of(reply);
        }
        json_decref(reply);
        free(why);
        double limit = p[i].cpu_pct / 100.0, drop_limit = p[i].drop_pct / 100.0;
        pthread_mutex_lock(&b->lock);
        struct hb *e = entry(b, p[i].host, p[i].cpu_pct, p[i].drop_pct);
        e->tabled = tabled;
        e->ovs = ovs;
        e->share = tabled >= 0 && ovs >= 0 ? tabled + ovs : -1;
        /* the switch's work for the copies since the last poll, when the
         * NIB gives its cost per copy (a counter that went back: a
         * restarted table server, measured from the next poll) */
        e->copy_work = p[i].copy_ns > 0 && copies >= e->copies && e->copies >= 0
                               && now > e->copies_at
                           ? p[i].copy_ns * 1e-9 * (copies - e->copies) / (now - e->copies_at)
                           : -1;
        e->copies = copies;
        e->copies_at = now;
        double copy_work = e->copy_work;
        double share = e->share;
        int k = 0, kc = 0, kd = 0, over = 0, drop_over = 0;
        enum vnd_budget_step step = VND_BUDGET_HOLD, cpu_step = VND_BUDGET_HOLD,
                             drop_step = VND_BUDGET_HOLD;
        bool learnt = false;
        e->drop = -1;
        if (share >= 0) {
            learnt = learn_fixed(e, share);
            if (p[i].cpu_pct)
                cpu_step = vnd_budget_rule_step(&e->rule, share, limit, &kc, &over);
            /* The table server's share is the copies', and of the
             * switch's the part its cost per copy (NIB "copy_ns") says;
             * without it the switch's share is taken as forwarding and
             * the estimate is the table server's part, low where the
             * switch pays per copied packet (the userspace datapath:
             * docs/cost.md).  (Not the fixed part the floor learns: from
             * two polls that swing by points it put 6 of the switch's 17
             * points on the copies in one run, an estimate of 42% for 9%,
             * and as it follows the share down it says 0% at each new
             * low.) */
            double f = vnd_budget_drop_fixed(ovs, tabled, copy_work);
            e->drop = vnd_budget_drop(share, f);
            if (p[i].drop_pct)
                drop_step = vnd_budget_drop_step(&e->drop_rule, share, f, e->kept, drop_limit,
                                                 &kd, &drop_over);
        }
        double fixed = e->fixed, kept_now = e->kept, drop = e->drop;
        /* With hysteresis: the fixed part follows the share down, and one
         * poll a few tenths of a point low must not end a floor found
         * (a raise, then another floor, a change each time); it ends
         * when the fixed part falls under 40% of the budget, as with
         * less traffic to forward. */
        double floor_at = (e->floored ? VND_BUDGET_LOW : VND_BUDGET_HIGH) * limit;
        e->floored = p[i].cpu_pct && fixed >= 0 && fixed > floor_at;
        pthread_mutex_unlock(&b->lock);
        if (p[i].cpu_pct)
            vnd_metric_set(b->m_limit, limit, p[i].host);
        if (p[i].drop_pct)
            vnd_metric_set(b->m_drop_limit, drop_limit, p[i].host);
        if (share >= 0) {
            vnd_metric_set(b->m_share, share, p[i].host);
            vnd_metric_set(b->m_drop, drop, p[i].host);
        }
        if (copy_work >= 0)
            vnd_metric_set(b->m_copies, copy_work, p[i].host);
        if (learnt) {
            vnd_metric_set(b->m_fixed, fixed, p[i].host);
            vnd_info("budget %s: %.0f%% of a core with %.3g of the asked copies kept: about "
                     "%.0f%% does not depend on them (the switch's forwarding)", p[i].host,
                     100 * share, kept_now, 100 * fixed);
        }
        const char *state = share < 0 ? "unmeasured" : over || drop_over ? "over" : "under";
        /* A fixed part over the CPU budget: no raise can meet it.  (It
         * only stops raises: from one pair of noisy shares it is too
         * rough to size them, which the rule's proportional k does.)  A
         * tolerated drop has no floor: copying less always lowers it. */
        bool at_floor = false;
        if (cpu_step == VND_BUDGET_RAISE && fixed > floor_at) {
            cpu_step = VND_BUDGET_HOLD;
            at_floor = true;
            if (drop_step != VND_BUDGET_RAISE)
                state = "at floor";
        }
        pthread_mutex_lock(&b->lock);
        step = combine(e, cpu_step, kc, drop_step, kd, &k);
        pthread_mutex_unlock(&b->lock);
        int changed = 0;
        double kept[2] = {1, 1};
        if (step != VND_BUDGET_HOLD) {
            char reason[240];
            bool by_drop = step == VND_BUDGET_RAISE ? drop_step == VND_BUDGET_RAISE
                                                    : drop_step == VND_BUDGET_LOWER;
            char switch_part[48] = "";
            if (copy_work >= 0)
                snprintf(switch_part, sizeof switch_part, " (its copies %.1f%%)", 100 * copy_work);
            if (by_drop)
                snprintf(reason, sizeof reason, "host budget: copies estimated to cost %.1f%% "
                         "of tenant throughput (ovs-vswitchd %.0f%%%s + table server %.0f%% of a "
                         "core), %s of the %d%% tolerated", 100 * drop, 100 * ovs, switch_part,
                         100 * tabled, step == VND_BUDGET_RAISE ? "over 90%"
                                                                : "under 70% with twice the copies",
                         p[i].drop_pct);
            else
                snprintf(reason, sizeof reason, "host budget: ovs-vswitchd %.0f%% + table "
                         "server %.0f%% of a core %s %.0f%% of %d%%", 100 * ovs, 100 * tabled,
                         step == VND_BUDGET_RAISE ? ">" : "<",
                         100 * (step == VND_BUDGET_RAISE ? VND_BUDGET_HIGH : VND_BUDGET_LOW),
                         p[i].cpu_pct);
            bool at_limit = false;
            changed = vnd_diagnosis_scale_switch_sampling(cd, p[i].host,
                                                          step == VND_BUDGET_RAISE ? k : -1,
                                                          reason, &at_limit, kept);
            if (step == VND_BUDGET_RAISE && at_limit)
                state = "at limit";
            if (changed)
                vnd_metric_add(b->m_changes, changed, p[i].host);
        }
        pthread_mutex_lock(&b->lock);
        if (at_floor && !e->floor_said) {
            vnd_warn("budget %s: about %.0f%% of a core does not depend on what the switch "
                     "copies, over %.0f%% of the budget of %d%%: copying less cannot meet it, "
                     "the switch's sampling stays as it is", p[i].host, 100 * fixed,
                     100 * VND_BUDGET_HIGH, p[i].cpu_pct);
            e->floor_said = true;
        }
        if (changed) {
            /* judged at the next poll, against the share then */
            e->changed_share = share;
            e->changed_kept = kept[0];
            e->kept = kept[1];
        }
        e->changes += changed;          /* e stays: only this thread adds hosts */
        e->state = state;
        pthread_mutex_unlock(&b->lock);
        free(p[i].host);
        free(p[i].url);
        free(p[i].secret);
    }
    free(p);
}

static json_t *share_json(double v)
{
    return v >= 0 ? json_real(100 * v) : json_null();
}

json_t *vnd_host_budgets_json(struct vnd_host_budgets *b)
{
    json_t *hosts = json_array();
    pthread_mutex_lock(&b->lock);
    for (int i = 0; i < b->n; i++) {
        const struct hb *e = &b->hosts[i];
        json_array_append_new(hosts, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
                                               "s:s, s:I}",
                                               "host", e->host,
                                               "cpu_pct", e->cpu_pct ? json_integer(e->cpu_pct)
                                                                     : json_null(),
                                               "drop_pct", e->drop_pct ? json_integer(e->drop_pct)
                                                                       : json_null(),
                                               "drop_est_pct", share_json(e->drop),
                                               "share_pct", share_json(e->share),
                                               "tabled_share_pct", share_json(e->tabled),
                                               "ovs_share_pct", share_json(e->ovs),
                                               "ovs_copies_pct", share_json(e->copy_work),
                                               "fixed_pct", share_json(e->fixed),
                                               "state", e->state,
                                               "changes", (json_int_t)e->changes));
    }
    pthread_mutex_unlock(&b->lock);
    return json_pack("{s:o}", "hosts", hosts);
}
