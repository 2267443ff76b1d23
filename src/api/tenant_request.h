/* tenant_request.h — the bodies of the control server's tenant API
 * (docs/api/controld.yaml), checked before anything acts on them:
 *
 *   POST /v1/diagnoses             {"collect", "parse", "collect_name",
 *                                   "parse_name", "duration"}
 *   POST /v1/diagnoses/{id}/query  {"sql", "format"}
 *   POST /v1/diagnoses/{id}/diag   {"app", "options", "format", "min_t", "complete",
 *                                    "plot"}
 *
 * Strict, like the table server's (api/request.h): unknown keys, wrong
 * types and duplicate keys are refused with a message naming the key, so a
 * typo never falls back to a default.  Kept apart from the HTTP server so
 * that it can be fuzzed on its own. */
#ifndef VND_API_TENANT_REQUEST_H
#define VND_API_TENANT_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "diag/diag.h"

#define VND_TREQ_DURATION_MAX (7 * 86400.0)
#define VND_TREQ_TABLES_MAX (3 + VND_DIAG_PATH_MAX)

enum vnd_treq_kind { VND_TREQ_CREATE, VND_TREQ_QUERY, VND_TREQ_DIAG };

struct vnd_treq {
    json_t *json;               /* the body; the strings below are its */
    /* CREATE */
    const char *collect, *parse;        /* parse NULL: the standard columns */
    const char *collect_name, *parse_name;   /* for error messages */
    double duration;                    /* 0: until stopped */
    /* QUERY */
    const char *sql;
    /* DIAG: the tables its options name (they decide where it runs) */
    const char *app;
    const char *tables[VND_TREQ_TABLES_MAX];
    int ntables;
};

/* Checks `body` (len bytes; NULL: none) as a request of `kind`.  Returns
 * 0, or 400 (413 when `too_large`) with a malloc'd message in *err.
 * vnd_treq_clear either way. */
int vnd_treq_parse(enum vnd_treq_kind kind, const char *body, size_t len, bool too_large,
                   struct vnd_treq *out, char **err);
void vnd_treq_clear(struct vnd_treq *r);

#endif
