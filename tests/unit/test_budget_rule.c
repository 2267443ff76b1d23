/* test_budget_rule.c — the budget controllers' rule (daemon/budget_rule.h):
 * one period over is let pass, two raise; a burst raises at once; k is
 * the smallest power of two that brings a proportional cost under 70%;
 * five periods under 40% lower; anything between resets both counts;
 * the fixed part of a share, from two periods; a tolerated drop: its
 * estimate, raises sized to it, lowering when one step down stays under. */
#include "../tap.h"

#include "daemon/budget_rule.h"

int main(void)
{
    struct vnd_budget_rule r = {0};
    int k, over;
    CHECK_EQ_INT(vnd_budget_rule_step(&r, 0.10, 0.10, &k, &over), VND_BUDGET_HOLD,
                 "one period at 100%% of the budget holds");
    CHECK(over, "... and says it was over");
    CHECK_EQ_INT(vnd_budget_rule_step(&r, 0.10, 0.10, &k, &over), VND_BUDGET_RAISE,
                 "a second period over raises");
    CHECK_EQ_INT(k, 1, "100%% needs one doubling to get under 70%%");
    CHECK_EQ_INT(r.high, 0, "the count starts again after a raise");

    r = (struct vnd_budget_rule){0};
    CHECK_EQ_INT(vnd_budget_rule_step(&r, 0.50, 0.10, &k, &over), VND_BUDGET_RAISE,
                 "a burst (5x the budget) raises in its first period");
    CHECK_EQ_INT(k, 3, "5x needs 2^3 (0.5/8 = 0.0625 < 0.07; 0.5/4 = 0.125 is not)");
    CHECK_EQ_INT(vnd_budget_rule_step(&r, 1e9, 0.10, &k, &over), VND_BUDGET_RAISE,
                 "far over: raises");
    CHECK_EQ_INT(k, 10, "k stops at 10 (1024x)");

    r = (struct vnd_budget_rule){0};
    vnd_budget_rule_step(&r, 0.10, 0.10, &k, &over);
    CHECK_EQ_INT(vnd_budget_rule_step(&r, 0.05, 0.10, &k, &over), VND_BUDGET_HOLD,
                 "a period between 40%% and 90%% holds");
    CHECK(!over && r.high == 0, "... and forgets the period over");
    CHECK_EQ_INT(vnd_budget_rule_step(&r, 0.10, 0.10, &k, &over), VND_BUDGET_HOLD,
                 "so the next period over is again the first");

    r = (struct vnd_budget_rule){0};
    int lowered_at = 0;
    for (int i = 1; i <= 6 && !lowered_at; i++)
        if (vnd_budget_rule_step(&r, 0.01, 0.10, &k, &over) == VND_BUDGET_LOWER)
            lowered_at = i;
    CHECK_EQ_INT(lowered_at, VND_BUDGET_LOW_PERIODS, "under 40%% lowers after %d periods",
                 VND_BUDGET_LOW_PERIODS);
    r = (struct vnd_budget_rule){0};
    for (int i = 0; i < 4; i++)
        vnd_budget_rule_step(&r, 0.01, 0.10, &k, &over);
    vnd_budget_rule_step(&r, 0.05, 0.10, &k, &over);
    CHECK_EQ_INT(vnd_budget_rule_step(&r, 0.01, 0.10, &k, &over), VND_BUDGET_HOLD,
                 "a period in between starts the count under again");
    vnd_budget_rule_step(&r, 0.01, 0.10, &k, &over);
    CHECK_EQ_INT(r.low, 2, "... from one");

    /* 0.30 forwarding + 0.20 copying everything: 0.50 at q 1, 0.325 at 1/8 */
    CHECK_NEAR(vnd_budget_fixed_share(0.50, 1, 0.325, 0.125), 0.30, 1e-12,
               "the fixed part from two periods (0.30 of 0.50)");
    CHECK_NEAR(vnd_budget_fixed_share(0.40, 0.5, 0.44, 0.25), 0.44, 1e-12,
               "keeping less and paying more: all of it is fixed (the last share)");
    CHECK_NEAR(vnd_budget_fixed_share(0.40, 1, 0.02, 0.5), 0, 1e-12,
               "a fall steeper than proportional: no fixed part, never below 0");

    /* a tolerated drop: 0.30 forwarding, 0.10 of copies -> 25% */
    CHECK_NEAR(vnd_budget_drop(0.40, 0.30), 0.25, 1e-12, "the copies add 0.10 of 0.40: 25%%");
    CHECK_NEAR(vnd_budget_drop(0.40, 0.45), 0, 1e-12, "a fixed part over the share: 0");
    CHECK_NEAR(vnd_budget_drop(0, 0), 0, 1e-12, "no share: 0");
    /* the switch's part: 0.36 ovs-vswitchd (0.054 of it the copies') + 0.04 table server */
    CHECK_NEAR(vnd_budget_drop_fixed(0.36, 0.04, -1), 0.36, 1e-12,
               "the switch's work per copy unknown: its share is the fixed part");
    CHECK_NEAR(vnd_budget_drop(0.40, vnd_budget_drop_fixed(0.36, 0.04, -1)), 0.10, 1e-12,
               "... the estimate the table server's part, 10%%");
    CHECK_NEAR(vnd_budget_drop(0.40, vnd_budget_drop_fixed(0.36, 0.04, 0.054)), 0.15, 1e-12,
               "0.054 of the switch's 0.36 on the copies: 15%%, the larger part");
    CHECK_NEAR(vnd_budget_drop(0.40, vnd_budget_drop_fixed(0.36, 0.04, 0.018)), 0.10, 1e-12,
               "0.018 of 0.36 (5%%): the table server's 10%% is larger");
    CHECK_NEAR(vnd_budget_drop(0.40, vnd_budget_drop_fixed(0.36, 0.04, 0.50)), 1, 1e-12,
               "more copy work than the switch's share: 100%%, never more");
    CHECK_NEAR(vnd_budget_drop_fixed(0, 0.04, 0.01), 0, 1e-12,
               "no switch share measured: the fixed part as before (0)");
    r = (struct vnd_budget_rule){0};
    CHECK_EQ_INT(vnd_budget_drop_step(&r, 0.40, vnd_budget_drop_fixed(0.36, 0.04, 0.054), 1, 0.12,
                                      &k, &over), VND_BUDGET_HOLD,
                 "15%% against 12%%: one period over holds (10%% alone was under 90%% of 12%%)");
    CHECK(over, "... over");
    r = (struct vnd_budget_rule){0};
    CHECK_EQ_INT(vnd_budget_drop_step(&r, 0.40, 0.30, 1, 0.20, &k, &over), VND_BUDGET_HOLD,
                 "25%% against 20%% tolerated: one period over holds");
    CHECK(over, "... saying it was over");
    CHECK_EQ_INT(vnd_budget_drop_step(&r, 0.40, 0.30, 1, 0.20, &k, &over), VND_BUDGET_RAISE,
                 "the second raises");
    /* 0.10/2^k of copies over 0.30 + that under 14%: 2^k >= 2.05 */
    CHECK_EQ_INT(k, 2, "by 2^2 (0.025/0.325 = 7.7%%; at 2^1, 14.3%% is not under 14%%)");
    CHECK_EQ_INT(vnd_budget_drop_step(&r, 0.40, 0.30, 1, 0.10, &k, &over), VND_BUDGET_RAISE,
                 "25%% against 10%%: over 1.5 times, raises at once");
    CHECK_EQ_INT(k, 3, "by 2^3 (0.0125/0.3125 = 4%% under 7%%; 2^2's 7.7%% is not)");
    r = (struct vnd_budget_rule){0};
    CHECK_EQ_INT(vnd_budget_drop_step(&r, 0.40, 0.30, 1, 0.05, &k, &over), VND_BUDGET_RAISE,
                 "over 1.5 times the tolerated drop raises at once");
    /* lowering: 0.30 + 0.01 with 1/8 kept: 3.2%; doubled 6.25% */
    r = (struct vnd_budget_rule){0};
    lowered_at = 0;
    for (int i = 1; i <= 6 && !lowered_at; i++)
        if (vnd_budget_drop_step(&r, 0.31, 0.30, 0.125, 0.10, &k, &over) == VND_BUDGET_LOWER)
            lowered_at = i;
    CHECK_EQ_INT(lowered_at, VND_BUDGET_LOW_PERIODS,
                 "3.2%% with 1/8 kept, 6.25%% with 1/4 (under 7%%): lowers after %d periods",
                 VND_BUDGET_LOW_PERIODS);
    r = (struct vnd_budget_rule){0};
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(vnd_budget_drop_step(&r, 0.32, 0.30, 0.125, 0.10, &k, &over),
                     VND_BUDGET_HOLD, "6.25%% now, 11.8%% doubled: holds (period %d)", i + 1);
    r = (struct vnd_budget_rule){0};
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(vnd_budget_drop_step(&r, 0.30001, 0.30, 1, 0.10, &k, &over),
                     VND_BUDGET_HOLD, "all kept already: nothing to lower (period %d)", i + 1);
    return tap_done();
}
