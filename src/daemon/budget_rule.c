/* budget_rule.c — the budget controllers' rule (budget_rule.h). */
#include "daemon/budget_rule.h"

#include <stdbool.h>

/* What a measure of the cost would be with the copies scaled by `by`. */
struct measure {
    double share, fixed;    /* fixed < 0: the share scales whole */
};

static double scaled(const struct measure *m, double by)
{
    if (m->fixed < 0)
        return m->share * by;
    double f = m->fixed > 0 ? m->fixed : 0, c = (m->share - f) * by;
    return c > 0 ? c / (f + c) : 0;
}

/* The rule on measure m against `limit`; `calm`: a step down would stay
 * under (the count of calm periods lowers). */
static enum vnd_budget_step step(struct vnd_budget_rule *r, const struct measure *m,
                                 double limit, bool calm, int *k, int *over)
{
    *k = 0;
    double now = scaled(m, 1);
    *over = now > VND_BUDGET_HIGH * limit;
    if (*over) {
        r->low = 0;
        if (++r->high < 2 && now <= VND_BUDGET_BURST * limit)
            return VND_BUDGET_HOLD;
        r->high = 0;
        int j = 1;
        while (j < 10 && scaled(m, 1.0 / (double)(1 << j)) > VND_BUDGET_AIM * limit)
            j++;
        *k = j;
        return VND_BUDGET_RAISE;
    }
    r->high = 0;
    if (!calm) {
        r->low = 0;
        return VND_BUDGET_HOLD;
    }
    if (++r->low < VND_BUDGET_LOW_PERIODS)
        return VND_BUDGET_HOLD;
    r->low = 0;
    return VND_BUDGET_LOWER;
}

enum vnd_budget_step vnd_budget_rule_step(struct vnd_budget_rule *r, double share, double limit,
                                          int *k, int *over)
{
    const struct measure m = {share, -1};
    return step(r, &m, limit, share < VND_BUDGET_LOW * limit, k, over);
}

double vnd_budget_fixed_share(double s1, double q1, double s2, double q2)
{
    double v = (s1 - s2) / (q1 - q2);
    if (!(v > 0))
        return s2;
    double f = s2 - v * q2;
    return f > 0 ? f : 0;
}

double vnd_budget_drop(double share, double fixed)
{
    const struct measure m = {share, fixed > 0 ? fixed : 0};
    return scaled(&m, 1);
}

double vnd_budget_drop_fixed(double ovs, double tabled, double copy_work)
{
    double share = ovs + tabled;
    if (!(copy_work >= 0) || !(ovs > 0) || !(share > 0))
        return ovs;
    double by_tabled = tabled / share, by_switch = copy_work / ovs;
    double e = by_switch > by_tabled ? by_switch : by_tabled;
    if (e > 1)
        e = 1;
    return share * (1 - e);
}

enum vnd_budget_step vnd_budget_drop_step(struct vnd_budget_rule *r, double share, double fixed,
                                          double kept, double limit, int *k, int *over)
{
    const struct measure m = {share, fixed > 0 ? fixed : 0};
    /* one step down doubles what is kept (never past all of it) */
    double up = kept > 0 && kept < 0.5 ? 2 : kept > 0 && kept < 1 ? 1 / kept : 1;
    return step(r, &m, limit, up > 1 && scaled(&m, up) <= VND_BUDGET_AIM * limit, k, over);
}
