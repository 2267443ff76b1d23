/* distributed.h — the control server's side of the distributed mode
 * (--coordinator; docs/distributed.md): the coordinator's foreign
 * servers follow the NIB, and each diagnosis's foreign tables and views
 * are made with its traces and dropped with them (control/coordinator.h). */
#ifndef VND_CONTROLD_DISTRIBUTED_H
#define VND_CONTROLD_DISTRIBUTED_H

#include "control/coordinator.h"
#include "controld/controld.h"

/* One trace of a diagnosis as the state has it. */
struct vnd_dtrace {
    const char *host;
    const char *name;           /* its virtual name */
    const char *parse_text;     /* the table server's parse configuration */
    bool records;               /* its tables hold flow records (Mode ipfix) */
};

/* A foreign server and user mapping for every NIB host with
 * table_server.postgres (the NIB as it is now).  Errors are logged; returns
 * how many hosts failed. */
int vnd_distributed_servers(struct vnd_controld *cd);

/* The coordinator objects of diagnosis `num` of `tenant` (idempotent).
 * Returns 0 or -1 and *why (for the operator's log). */
int vnd_distributed_create(struct vnd_controld *cd, const char *tenant, long long num,
                           const struct vnd_dtrace *t, int n, char **why);

/* Drops them; a failure is logged (reconcile does not bring them back:
 * the next drop does). */
void vnd_distributed_drop(struct vnd_controld *cd, long long num);

#endif
