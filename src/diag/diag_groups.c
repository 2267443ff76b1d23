/* diag_groups.c — `groups`: the distinct tuples of some fields (paper
 * §3.3.1, Groups), with the packets and payload bytes of each; of a
 * sampled table, their estimates with 95% intervals; of a table of flow
 * records, the sums of their packets and IP bytes, and how many records
 * (diag_scaled_groups.c). */
#include "diag/diag.h"
#include "diag/diag_sampling.h"

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    if (vnd_diag_flow_records(c->db, o->table))
        return vnd_diag_record_groups_sql(c, o->fields, o->nfields, false, sb, err);
    int rc = vnd_diag_scaled_groups_sql(c, o->fields, o->nfields, false, sb, err);
    if (rc <= 0)
        return rc;
    const char *need[VND_DIAG_FIELDS_MAX + 2];
    int n = 0;
    for (int i = 0; i < o->nfields; i++)
        need[n++] = o->fields[i];
    need[n++] = "payload_len";
    need[n] = NULL;
    if (vnd_diag_require(c, o->table, need, err))
        return -1;
    vnd_sb_printf(sb, "SELECT ");
    for (int i = 0; i < o->nfields; i++) {
        vnd_sb_ident(sb, o->fields[i]);
        vnd_sb_printf(sb, ", ");
    }
    vnd_sb_printf(sb, "count(*) AS packets, coalesce(sum(payload_len), 0) AS bytes\nFROM ");
    if (vnd_diag_source(c, sb, o->table, true, err))
        return -1;
    vnd_sb_printf(sb, " s\nGROUP BY ");
    for (int i = 0; i < o->nfields; i++) {
        if (i)
            vnd_sb_printf(sb, ", ");
        vnd_sb_ident(sb, o->fields[i]);
    }
    vnd_sb_printf(sb, "\nORDER BY packets DESC");
    for (int i = 0; i < o->nfields; i++) {
        vnd_sb_printf(sb, ", ");
        vnd_sb_ident(sb, o->fields[i]);
    }
    return 0;
}

const struct vnd_diag_app vnd_diag_groups = {
    .name = "groups",
    .summary = "distinct tuples of fields, with packets and bytes",
    .usage = "-t TABLE --fields C1,C2,... [--where EXPR]",
    .need = VND_NEED_TABLE | VND_NEED_FIELDS,
    .build = build,
};
