/* coord_routes.h — POST /v1/diagnoses/{id}/query and /diag in the
 * distributed mode: the tenant's SQL or app runs on the coordinator under
 * the tenant's role (control/coordinator.h), answered in the same formats
 * and with the same statuses as a table server's. */
#ifndef VND_CONTROLD_COORD_ROUTES_H
#define VND_CONTROLD_COORD_ROUTES_H

#include "api/tenant_request.h"
#include "controld/controld.h"
#include "daemon/http.h"

/* `q` is the checked body (VND_TREQ_QUERY or VND_TREQ_DIAG). */
enum MHD_Result vnd_coord_route_query(struct vnd_controld *cd, struct MHD_Connection *mc,
                                      const char *tenant, const char *id,
                                      const struct vnd_treq *q);
enum MHD_Result vnd_coord_route_diag(struct vnd_controld *cd, struct MHD_Connection *mc,
                                     const char *tenant, const char *id,
                                     const struct vnd_treq *q);

#endif
