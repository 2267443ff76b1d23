/* diag_distribution.c — `distribution`: how a field's values are spread
 * (paper §3.3.1, Statistics): value, count, fraction of all rows.  A flow
 * column's comes from the table's rollup (diag_rollup.c), any other's
 * from this SQL.  Of a sampled table, the estimated count of each value
 * with its 95% interval and its fraction of the estimated whole; of a
 * table of flow records, each record weighs its packets: value, packets,
 * fraction of all packets, IP bytes, records (diag_scaled_groups.c). */
#include "diag/diag.h"
#include "diag/diag_sampling.h"

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const char *fields[] = {c->o->field};
    if (vnd_diag_flow_records(c->db, c->o->table))
        return vnd_diag_record_groups_sql(c, fields, 1, true, sb, err);
    int rc = vnd_diag_scaled_groups_sql(c, fields, 1, true, sb, err);
    if (rc <= 0)
        return rc;
    const char *need[] = {c->o->field, NULL};
    if (vnd_diag_require(c, c->o->table, need, err))
        return -1;
    vnd_sb_printf(sb, "WITH vnd_src AS (SELECT ");
    vnd_sb_ident(sb, c->o->field);
    vnd_sb_printf(sb, " AS v FROM ");
    if (vnd_diag_source(c, sb, c->o->table, true, err))
        return -1;
    vnd_sb_printf(sb, " s)\nSELECT v AS ");
    vnd_sb_ident(sb, c->o->field);
    vnd_sb_printf(sb, ", count(*) AS count,\n"
                      "       count(*) * 1.0 / (SELECT count(*) FROM vnd_src) AS fraction\n"
                      "FROM vnd_src GROUP BY v ORDER BY count DESC, v");
    return 0;
}

const struct vnd_diag_app vnd_diag_distribution = {
    .name = "distribution",
    .summary = "values of a field: count and fraction of all packets",
    .usage = "-t TABLE --field COLUMN [--where EXPR]",
    .need = VND_NEED_TABLE | VND_NEED_FIELD,
    .build = build,
};
