/* budget_rule.h — when a CPU budget's controller samples more or less
 * (docs/cost.md, "Sampling chosen for a budget"): the rule the table
 * server applies to its own sampling (tabled/budget.c) and the control
 * server to the switch's flow sampling (controld/host_budget.c), given
 * one measured share per period.
 *
 * Above VND_BUDGET_HIGH of the budget for two periods running, or above
 * VND_BUDGET_BURST for one: sample 2^k times fewer, k the smallest (at
 * least 1, at most 10) that would bring the share under VND_BUDGET_AIM of
 * the budget if the cost were proportional to what is kept.  One period
 * over is let pass: the first frames of a capture touch the packet
 * queue's pages and a checkpoint lands now and then.  Below VND_BUDGET_LOW
 * for VND_BUDGET_LOW_PERIODS running: halve (the caller keeps the rate
 * the tenant asked for as its floor). */
#ifndef VND_DAEMON_BUDGET_RULE_H
#define VND_DAEMON_BUDGET_RULE_H

#define VND_BUDGET_HIGH 0.9
#define VND_BUDGET_BURST 1.5
#define VND_BUDGET_AIM 0.7
#define VND_BUDGET_LOW 0.4
#define VND_BUDGET_LOW_PERIODS 5

enum vnd_budget_step {
    VND_BUDGET_HOLD,        /* within the budget, or over for one period */
    VND_BUDGET_RAISE,       /* sample 2^k times fewer */
    VND_BUDGET_LOWER,       /* sample half as many fewer (halve 1-in-N) */
};

/* The periods running over and under; zero it to start. */
struct vnd_budget_rule {
    int high, low;
};

/* One period's `share` against `limit` (the same unit, limit > 0): the
 * step to take, and with VND_BUDGET_RAISE its k in *k.  *over says
 * whether the share was above VND_BUDGET_HIGH of the limit. */
enum vnd_budget_step vnd_budget_rule_step(struct vnd_budget_rule *r, double share, double limit,
                                          int *k, int *over);

/* A share that holds a part the levers do not touch (the switch's
 * forwarding of every packet, copied or not): the cost modelled as
 * F + V * q, q the fraction of what the tenants asked for that is kept.
 * From two periods, share s1 with q1 kept and s2 with q2 (q1 != q2), the
 * fixed part F (never below 0); when keeping less saved nothing (V <= 0),
 * F is s2 itself. */
double vnd_budget_fixed_share(double s1, double q1, double s2, double q2);

/* A budget as the tolerated drop in tenant throughput.  The drop copying
 * costs is estimated as the part of the capture work (ovs-vswitchd and
 * the table server, share `share` of a core) that the copies add over
 * the part that does not depend on them (`fixed`; the control server
 * gives the switch's share): (share - fixed) / share, 0 for no share.
 * It is what the tenants' flows lose when that work is what limits them
 * (a switch flat out, or a host whose cores the tenants' own processes
 * need); with room to spare they lose less.  With the switch's share as
 * the fixed part it is the table server's part only: on the userspace
 * datapath the switch also pays per copied packet, which that misses
 * (vnd_budget_drop_fixed counts it).  On the test bed it erred high on one day
 * (15.5%, 8.6%, 6.2% and 13.1% for every packet mirrored, cut to 128
 * bytes, 1 flow in 10 and sFlow 1:1, against 5.6%, 4.7%, 0.1% and 10.5%
 * measured flat out) and low for cut copies on another (7.2% against
 * 12.2%; docs/cost.md, "A tolerated drop"): it is not a bound. */
double vnd_budget_drop(double share, double fixed);

/* The fixed part to give vnd_budget_drop and vnd_budget_drop_step when
 * the switch's own work for the copies is known: `copy_work`, the share
 * of a core ovs-vswitchd spends on them (the host's CPU per copy, measured
 * by bench/cost.sh, times the copies per second; < 0: not known).  The
 * estimate is then the larger of the table server's part, tabled / (ovs +
 * tabled), and the switch's, copy_work / ovs: the tenants' flows are held
 * back by whichever core runs out first, so the larger part and not the
 * sum.  Unknown: the switch's share is the fixed part (the table
 * server's part alone). */
double vnd_budget_drop_fixed(double ovs, double tabled, double copy_work);

/* One period's step for a tolerated drop `limit` (a fraction), with
 * `kept` the mean fraction of what the tenants asked for that the switch
 * keeps: the estimate over VND_BUDGET_HIGH of the limit for two periods
 * running (or over VND_BUDGET_BURST for one) raises, by the smallest k
 * (1 to 10) that brings it under VND_BUDGET_AIM of the limit with the
 * copies' part halved per step; when one step down (what is kept
 * doubled, never past all of it) would keep it under VND_BUDGET_AIM,
 * for VND_BUDGET_LOW_PERIODS running, lowers.  *over as the CPU rule's. */
enum vnd_budget_step vnd_budget_drop_step(struct vnd_budget_rule *r, double share, double fixed,
                                          double kept, double limit, int *k, int *over);

#endif
