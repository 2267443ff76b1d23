/* fuzz_nib.c — the NIB loader on arbitrary bytes (no secret files read).
 * An accepted NIB must hold what the header promises (indexes in range,
 * MACs normalized, every name valid and findable); a refused one must
 * say where, starting with the origin. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/nib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "inconsistent NIB: %s\n", what);
        abort();
    }
}

static int valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > VND_NIB_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", s[i]))
            return 0;
    return 1;
}

static void check_port(const struct vnd_nib *nib, const struct vnd_nib_port *p)
{
    check(valid_name(p->name), "port name");
    check(p->host >= 0 && p->host < nib->nhosts, "port host");
    check(p->ofport >= 0 && p->ofport <= 65279, "ofport range");
    check(p->ofport > 0 || p->iface_id, "ofport or iface_id");
    check(p->mac || p->iface_id, "mac or iface_id");
    check(p->ofport != nib->hosts[p->host].mirror_port, "not the mirror port");
    if (p->mac) {
        check(strlen(p->mac) == 17, "mac length");
        for (int i = 0; i < 17; i++)
            check(i % 3 == 2 ? p->mac[i] == ':' : !!strchr("0123456789abcdef", p->mac[i]),
                  "mac normalized");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    struct vnd_nib *nib = (struct vnd_nib *)1;
    char *err = NULL;
    if (vnd_nib_parse((const char *)data, size, "fuzz", NULL, &nib, &err)) {
        check(nib == NULL, "no NIB on error");
        check(err && strncmp(err, "fuzz", 4) == 0 && (err[4] == ':'), "error names the origin");
        free(err);
        return 0;
    }
    check(err == NULL, "no error on success");
    for (int h = 0; h < nib->nhosts; h++) {
        const struct vnd_nib_host *ho = &nib->hosts[h];
        check(valid_name(ho->name) && valid_name(ho->bridge) && ho->ofctl, "host names");
        check(ho->mirror_port >= 1 && ho->mirror_port <= 65279, "mirror port");
        check(ho->tabled_url && (!strncmp(ho->tabled_url, "http://", 7)
                                 || !strncmp(ho->tabled_url, "https://", 8)), "url scheme");
        check(ho->tabled_url[strlen(ho->tabled_url) - 1] != '/', "url without trailing /");
        check(ho->tabled_secret == NULL, "no secret read without base_dir");
    }
    for (int t = 0; t < nib->ntenants; t++) {
        const struct vnd_nib_tenant *te = &nib->tenants[t];
        check(te->id && strlen(te->id) >= 1 && strlen(te->id) <= VND_NIB_TENANT_ID_MAX, "id");
        check(vnd_nib_tenant_by_id(nib, te->id) == te, "tenant found by id");
        check(te->quota.live_diagnoses >= 0 && te->quota.rows >= 0 && te->quota.bytes >= 0
              && te->quota.retention_s >= 0, "quota >= 0");
        for (int n = 0; n < te->nnodes; n++) {
            const struct vnd_nib_node *no = &te->nodes[n];
            check(valid_name(no->name) && vnd_nib_node(te, no->name) == no, "node found");
            check(no->nports >= 1, "a node has ports");
            if (no->kind == VND_NIB_APPLIANCE)
                check(no->input >= 0 && no->input < no->nports && no->output >= 0
                      && no->output < no->nports, "appliance input/output");
            else
                check(no->input == no->output && no->input == (no->nports == 1 ? 0 : -1),
                      "vm input/output");
            for (int p = 0; p < no->nports; p++)
                check_port(nib, &no->ports[p]);
        }
        for (int l = 0; l < te->nlinks; l++) {
            const struct vnd_nib_link *li = &te->links[l];
            check(valid_name(li->name) && vnd_nib_link(te, li->name) == li, "link found");
            for (int e = 0; e < 2; e++)
                check(li->node[e] >= 0 && li->node[e] < te->nnodes && li->port[e] >= 0
                      && li->port[e] < te->nodes[li->node[e]].nports, "link end");
            check(li->node[0] != li->node[1] || li->port[0] != li->port[1], "two ends");
        }
    }
    check(vnd_nib_tenant_by_token(nib, "not a token of anyone, surely") == NULL
          || nib->ntenants > 0, "token lookup");
    vnd_nib_free(nib);
    return 0;
}
