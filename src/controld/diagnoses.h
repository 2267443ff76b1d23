/* diagnoses.h — the control server's diagnoses: created from a tenant's
 * configurations, shown with their traces' completeness, stopped, and
 * kept consistent with the bridges and table servers (reconcile).
 *
 * Every function that takes a tenant answers "not yours" exactly as
 * "does not exist" (404 "no diagnosis ID").  They return an HTTP status;
 * with 2xx *reply is set, else *err (malloc'd) is the message for the
 * tenant, which never names a host, bridge, port or table server. */
#ifndef VND_CONTROLD_DIAGNOSES_H
#define VND_CONTROLD_DIAGNOSES_H

#include <jansson.h>

#include "api/tenant_request.h"
#include "control/coordinator.h"
#include "controld/controld.h"

/* POST /v1/diagnoses, its body checked (api/tenant_request.h). */
int vnd_diagnosis_create(struct vnd_controld *cd, const char *tenant,
                         const struct vnd_treq *req, json_t **reply, char **err);
/* The tenant's diagnoses (tenant NULL: everyone's, for the operator). */
int vnd_diagnosis_list(struct vnd_controld *cd, const char *tenant, json_t **reply);
int vnd_diagnosis_show(struct vnd_controld *cd, const char *tenant, const char *id,
                       json_t **reply, char **err);
/* Rules, traces, tables and raw files go. */
int vnd_diagnosis_delete(struct vnd_controld *cd, const char *tenant, const char *id,
                         json_t **reply, char **err);
/* The collection policy as text (operator only). */
int vnd_diagnosis_policy(struct vnd_controld *cd, const char *id, char **text, char **err);

/* Where a tenant's SQL or app runs: the one table server that holds every
 * table it names (all of them from one host), with the table server's
 * tenant and trace ids. */
struct vnd_route {
    char *url, *secret;
    char *ts_tenant;
    json_t *traces;         /* array of the table server's trace ids */
};
int vnd_diagnosis_route(struct vnd_controld *cd, const char *tenant, const char *id,
                        const char *sql, const char *const *tables, int ntables,
                        struct vnd_route *r, char **err);
/* The distributed mode: the diagnosis's number and its capture points
 * (host, virtual name, tables) for a coordinator session.  Returns 0, or
 * 404 and *err.  Free the points with vnd_diagnosis_scope_free. */
int vnd_diagnosis_scope(struct vnd_controld *cd, const char *tenant, const char *id,
                        long long *num, struct vnd_coord_point **points, int *npoints,
                        char **err);
void vnd_diagnosis_scope_free(struct vnd_coord_point *points, int n);

/* The table server's id of the tenant's trace `name` of diagnosis `id`. */
int vnd_diagnosis_route_trace(struct vnd_controld *cd, const char *tenant, const char *id,
                              const char *name, struct vnd_route *r, char **ts_id, char **err);
void vnd_route_clear(struct vnd_route *r);

/* Durations that ended, quotas passed, retention: capture stops or the
 * diagnosis goes.  Called about once a second. */
void vnd_diagnosis_maintain(struct vnd_controld *cd);

/* The switch's sampling on `host` times 2^shift (shift -1: halved): the
 * flow sampling of every running mirror trace (its rule and select group
 * rewritten; at most 1 flow in VND_FLOW_HASH_VALUES; or its header ladder,
 * header_ladder.h), the 1-in-N of every running sflow trace (the bridge's
 * agent set again; at most VND_SFLOW_SAMPLING_MAX) and of every running
 * ipfix trace (its rule's sample action rewritten; at most
 * VND_IPFIX_SAMPLING_MAX), never below what its tenant asked for.  Each
 * trace's table server is told since when (PATCH /v1/traces/{id}) and
 * why (`reason`).  Returns how many traces changed; *at_limit when none
 * could go further that way (or there are none); kept[0] and kept[1] the
 * fraction of what the tenants asked for that the switch keeps, before
 * and after (the mean over the traces of asked/rate; 1 with none). */
#define VND_SFLOW_SAMPLING_MAX 65536
int vnd_diagnosis_scale_switch_sampling(struct vnd_controld *cd, const char *host, int shift,
                                        const char *reason, bool *at_limit, double kept[2]);

/* Diagnoses the control server stopped in the middle of creating (state
 * "starting") are removed with whatever they had made.  At start, before
 * the API.  Returns how many. */
int vnd_diagnosis_recover(struct vnd_controld *cd);

/* The distributed mode, at start: every diagnosis's foreign tables and
 * views made on the coordinator where missing (a new or restored
 * coordinator), and those of diagnoses the state no longer has dropped.
 * Returns how many diagnoses failed (logged). */
int vnd_diagnosis_coord_restore(struct vnd_controld *cd);

/* Bridges and table servers brought back to the state: missing rules
 * installed, orphan rules and traces removed, traces a table server lost
 * created again.  Returns the number of fixes. */
int vnd_diagnosis_reconcile(struct vnd_controld *cd);

#endif
