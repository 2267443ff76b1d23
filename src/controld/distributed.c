/* distributed.c — foreign servers from the NIB and a diagnosis's tables
 * on the coordinator (distributed.h). */
#include "controld/distributed.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "lang/parseconf.h"
#include "util/util.h"

int vnd_distributed_servers(struct vnd_controld *cd)
{
    if (!cd->coord)
        return 0;
    /* copies: the NIB may be swapped while the coordinator answers */
    pthread_rwlock_rdlock(&cd->nib_lock);
    int n = cd->nib->nhosts;
    char **v = vnd_xcalloc(3 * (size_t)n + 1, sizeof *v);
    for (int i = 0; i < n; i++) {
        const struct vnd_nib_host *h = &cd->nib->hosts[i];
        v[3 * i] = vnd_xstrdup(h->name);
        v[3 * i + 1] = h->pg_conninfo ? vnd_xstrdup(h->pg_conninfo) : NULL;
        v[3 * i + 2] = h->pg_password ? vnd_xstrdup(h->pg_password) : NULL;
    }
    pthread_rwlock_unlock(&cd->nib_lock);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        char *why = NULL;
        if (!v[3 * i + 1]) {
            vnd_warn("host %s has no table_server.postgres in the NIB: diagnoses that capture "
                     "there cannot be created in the distributed mode", v[3 * i]);
            failed++;
        } else if (vnd_coord_server(cd->coord, v[3 * i], v[3 * i + 1], v[3 * i + 2], &why)) {
            vnd_err("coordinator: %s", why);
            free(why);
            failed++;
        }
        free(v[3 * i]);
        free(v[3 * i + 1]);
        if (v[3 * i + 2]) {
            memset(v[3 * i + 2], 0, strlen(v[3 * i + 2]));
            free(v[3 * i + 2]);
        }
    }
    free(v);
    return failed;
}

int vnd_distributed_create(struct vnd_controld *cd, const char *tenant, long long num,
                           const struct vnd_dtrace *t, int n, char **why)
{
    if (!cd->coord)
        return 0;
    /* (host, table) pairs: the tables of each trace's parse rules */
    struct vnd_parse_conf **pcs = vnd_xcalloc((size_t)n + 1, sizeof *pcs);
    struct vnd_coord_table *tabs = NULL;
    int nt = 0, rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        char *perr = NULL;
        if (vnd_parseconf_parse(t[i].parse_text, t[i].name, &pcs[i], &perr)) {
            *why = vnd_strdup_printf("d%lld: trace %s: its parse configuration: %s", num,
                                     t[i].name, perr);
            free(perr);
            rc = -1;
            break;
        }
        for (int r = 0; r < pcs[i]->nrules; r++) {
            const struct vnd_parse_rule *rule = &pcs[i]->rules[r];
            const char *table = rule->table ? rule->table : t[i].name;
            bool seen = false;
            for (int k = 0; k < nt; k++)
                seen |= !strcmp(tabs[k].host, t[i].host) && !strcmp(tabs[k].table, table);
            if (seen)
                continue;
            tabs = vnd_xrealloc(tabs, (size_t)(nt + 1) * sizeof *tabs);
            tabs[nt++] = (struct vnd_coord_table){t[i].host, table, rule->ncolumns,
                                                  (const char *const *)rule->columns,
                                                  rule->coltypes, t[i].records};
        }
    }
    if (!rc) {
        char *remote = vnd_strdup_printf("%s-d%lld", tenant, num);
        rc = vnd_coord_diagnosis_create(cd->coord, tenant, num, remote, tabs, nt, why);
        free(remote);
    }
    free(tabs);
    for (int i = 0; i < n; i++)
        vnd_parseconf_free(pcs[i]);
    free(pcs);
    return rc;
}

void vnd_distributed_drop(struct vnd_controld *cd, long long num)
{
    char *why = NULL;
    if (cd->coord && vnd_coord_diagnosis_drop(cd->coord, num, &why)) {
        vnd_err("d%lld: dropping its coordinator views: %s", num, why);
        free(why);
    }
}
