/* host_budget.h — a host's CPU budget (the NIB's "budget": {"cpu_pct"}):
 * the share of one core ovs-vswitchd and the table server may take
 * together there.  The control server reads both shares from the host's
 * table server (GET /v1/traces's "budget": it measures itself and, with
 * --ovs-pidfile, ovs-vswitchd) every poll, and applies daemon/
 * budget_rule.h to their sum with the switch's levers: the in-switch flow
 * sampling of the host's running mirror traces (diagnoses.c rewrites
 * their select groups) and the 1-in-N of its sflow traces (the bridge's
 * sFlow agent), which cut the switch's work and the table server's
 * alike.  The table server's own sampling stays its own controller's
 * (vnd-tabled --cpu-budget). */
#ifndef VND_CONTROLD_HOST_BUDGET_H
#define VND_CONTROLD_HOST_BUDGET_H

#include <jansson.h>

#include "controld/controld.h"

struct vnd_host_budgets;

struct vnd_host_budgets *vnd_host_budgets_new(struct vnd_metrics *reg);
void vnd_host_budgets_free(struct vnd_host_budgets *b);

/* One poll of every host with a budget (the maintenance thread's). */
void vnd_host_budgets_poll(struct vnd_controld *cd, struct vnd_host_budgets *b);

/* {"hosts": [{"host", "cpu_pct", "share_pct", "tabled_share_pct",
 * "ovs_share_pct", "state", "changes"}]}: GET /v1/admin/budget. */
json_t *vnd_host_budgets_json(struct vnd_host_budgets *b);

#endif
