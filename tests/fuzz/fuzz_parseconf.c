/* fuzz_parseconf.c — the parse configuration parser on arbitrary text.
 * An accepted configuration must be consistent (columns, field → column
 * map, names safe for SQL); a refused one must say where. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "lang/lexer.h"
#include "lang/parseconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "inconsistent configuration: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    char *text = vnd_xstrndup((const char *)data, size);

    struct vnd_parse_conf *c = NULL;
    char *err = NULL;
    if (vnd_parseconf_parse(text, "fuzz", &c, &err)) {
        check(c == NULL, "no configuration on error");
        check(err && strncmp(err, "fuzz:", 5) == 0, "error carries origin:line:col");
        free(err);
        free(text);
        return 0;
    }
    struct vnd_pkt pkt;
    memset(&pkt, 0, sizeof pkt);
    vnd_pkt_set_u(&pkt, VND_F_IP_PROTO, 6);
    vnd_pkt_set_u(&pkt, VND_F_TCP_DST, 80);
    check(c->nrules > 0, "at least one rule");
    for (int i = 0; i < c->nrules; i++) {
        const struct vnd_parse_rule *r = &c->rules[i];
        check(r->nfields > 0 && r->ncolumns > 0 && r->ncolumns <= r->nfields, "field counts");
        check(r->fields_text != NULL, "fields text");
        check(!r->filter == !r->filter_text, "filter and its text");
        check(!r->table || vnd_is_sql_identifier(r->table, strlen(r->table)), "table name");
        for (int k = 0; k < r->ncolumns; k++)
            check(vnd_is_sql_identifier(r->columns[k], strlen(r->columns[k])), "column name");
        for (int k = 0; k < r->nfields; k++)
            check(r->field_col[k] >= 0 && r->field_col[k] < r->ncolumns
                  && (unsigned)r->fields[k] < VND_F_COUNT, "field map");
        for (int k = 0; k < r->ntraces; k++)
            check(vnd_parse_rule_covers(r, r->traces[k]), "covers its traces");
        if (r->filter)
            vnd_filter_match(r->filter, &pkt);
    }
    vnd_parseconf_free(c);
    free(text);
    return 0;
}
