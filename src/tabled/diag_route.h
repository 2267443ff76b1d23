/* diag_route.h — POST /v1/diag: a diagnostic application run where its
 * tables are, on the tenant's database as a query is (api.c). */
#ifndef VND_TABLED_DIAG_ROUTE_H
#define VND_TABLED_DIAG_ROUTE_H

#include <microhttpd.h>

#include "api/request.h"
#include "tabled/tabled.h"

/* Runs req->app with req->diag on req->tenant's database (only the tables
 * of req->traces when listed), under the query time and memory limits, and
 * answers: 200 with the result (application/json, text/csv or text/plain),
 * 400 {"error"} for what the app refuses (a missing table or column, a
 * --where that does not compile, the memory limit), 404 a listed trace
 * that is not the tenant's, 503 the time limit. */
enum MHD_Result vnd_tabled_diag(struct vnd_tabled *td, struct MHD_Connection *mc,
                                const struct vnd_api_request *req);

#endif
