/* budget_rule.c — the budget controllers' rule (budget_rule.h). */
#include "daemon/budget_rule.h"

enum vnd_budget_step vnd_budget_rule_step(struct vnd_budget_rule *r, double share, double limit,
                                          int *k, int *over)
{
    *k = 0;
    *over = share > VND_BUDGET_HIGH * limit;
    if (*over) {
        r->low = 0;
        if (++r->high < 2 && share <= VND_BUDGET_BURST * limit)
            return VND_BUDGET_HOLD;
        r->high = 0;
        int j = 1;
        while (j < 10 && share / (double)(1 << j) > VND_BUDGET_AIM * limit)
            j++;
        *k = j;
        return VND_BUDGET_RAISE;
    }
    r->high = 0;
    if (share >= VND_BUDGET_LOW * limit) {
        r->low = 0;
        return VND_BUDGET_HOLD;
    }
    if (++r->low < VND_BUDGET_LOW_PERIODS)
        return VND_BUDGET_HOLD;
    r->low = 0;
    return VND_BUDGET_LOWER;
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
    if (!(share > 0) || fixed >= share)
        return 0;
    return (share - (fixed > 0 ? fixed : 0)) / share;
}

/* The estimate with the copies' part scaled by `by`. */
static double drop_scaled(double share, double fixed, double by)
{
    double f = fixed > 0 ? fixed : 0, c = (share - f) * by;
    return c > 0 ? c / (f + c) : 0;
}

enum vnd_budget_step vnd_budget_drop_step(struct vnd_budget_rule *r, double share, double fixed,
                                          double kept, double limit, int *k, int *over)
{
    *k = 0;
    double d = vnd_budget_drop(share, fixed);
    *over = d > VND_BUDGET_HIGH * limit;
    if (*over) {
        r->low = 0;
        if (++r->high < 2 && d <= VND_BUDGET_BURST * limit)
            return VND_BUDGET_HOLD;
        r->high = 0;
        int j = 1;
        while (j < 10 && drop_scaled(share, fixed, 1.0 / (double)(1 << j)) > VND_BUDGET_AIM * limit)
            j++;
        *k = j;
        return VND_BUDGET_RAISE;
    }
    r->high = 0;
    /* one step down doubles what is kept (never past all of it) */
    double up = kept > 0 && kept < 0.5 ? 2 : kept > 0 && kept < 1 ? 1 / kept : 1;
    if (up <= 1 || drop_scaled(share, fixed, up) > VND_BUDGET_AIM * limit) {
        r->low = 0;
        return VND_BUDGET_HOLD;
    }
    if (++r->low < VND_BUDGET_LOW_PERIODS)
        return VND_BUDGET_HOLD;
    r->low = 0;
    return VND_BUDGET_LOWER;
}
