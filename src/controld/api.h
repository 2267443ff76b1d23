/* api.h — the control server's HTTP API: the tenant API (a bearer token
 * per tenant, docs/api/controld.yaml) and the operator's /v1/admin
 * routes (the admin secret). */
#ifndef VND_CONTROLD_API_H
#define VND_CONTROLD_API_H

#include "controld/controld.h"
#include "daemon/http.h"

int vnd_controld_api_start(struct vnd_controld *cd, const char *listen,
                           const struct vnd_http_limits *lim, struct vnd_http **out, char **err);

#endif
