/* fuzz_tenant_request.c — the control server's tenant API bodies on
 * arbitrary input.  Input: one byte choosing the request (create, query,
 * diag), then the body.  Every refusal has a message; an accepted body
 * gives what the control server relies on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/tenant_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum vnd_treq_kind kind = (enum vnd_treq_kind)(data[0] % 3);
    struct vnd_treq r;
    char *err = NULL;
    int status = vnd_treq_parse(kind, (const char *)data + 1, size - 1, false, &r, &err);
    if (status) {
        if (!err || (status != 400 && status != 413))
            abort();
    } else {
        if (err)
            abort();
        if (kind == VND_TREQ_CREATE && (!r.collect || !r.collect_name || !r.parse_name))
            abort();
        if (kind == VND_TREQ_QUERY && !r.sql)
            abort();
        if (kind == VND_TREQ_DIAG && (!r.app || r.ntables > VND_TREQ_TABLES_MAX))
            abort();
        for (int i = 0; i < r.ntables; i++)
            if (strlen(r.tables[i]) == 0)
                abort();
    }
    free(err);
    vnd_treq_clear(&r);
    return 0;
}
