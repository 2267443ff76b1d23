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
