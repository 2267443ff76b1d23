/* diag_groups.c — `groups`: the distinct tuples of some fields (paper
 * §3.3.1, Groups), with the packets and payload bytes of each; of a
 * sampled table, their estimates with 95% intervals; of a table of flow
 * records, the sums of their packets and IP bytes, and how many
 * records. */
#include "diag/diag.h"
#include "diag/diag_sampling.h"

/* `est` and its 95% interval `low`..`high` with half-width `hw`, the low
 * end never below what was seen (SQL over a group's vnd_f rows). */
static void interval(struct vnd_sb *sb, const char *name, const char *est, const char *hw,
                     const char *seen)
{
    vnd_sb_printf(sb, ",\n       CASE WHEN %s - %s > %s THEN %s - %s ELSE %s END AS %s_low,"
                      " %s + %s AS %s_high", est, hw, seen, est, hw, seen, name, est, hw, name);
}

/* A sampled table (diag_sampling.h), as throughput scales it: each row
 * counts N x M times, N and M the rates of the interval its ts falls in,
 * and each group gets the Horvitz-Thompson estimates of its packets and
 * payload bytes with their 95% intervals, the flows (5-tuples) the units
 * of flow sampling: over the flows f of the group, (M^2 - M) Y_f^2 +
 * M V_f, Y_f = sum N x, V_f = sum (N^2 - N) x^2 (x = 1 for packets).
 * vnd_w: the rows with their factors; vnd_f: the sums per group (and
 * sampled flow when flows were sampled). */
static int build_scaled(const struct vnd_diag_ctx *c, const struct vnd_samp *sp,
                        struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    bool flows = vnd_samp_flows(sp);
    const char *need[VND_DIAG_FIELDS_MAX + 7];
    int n = 0;
    for (int i = 0; i < o->nfields; i++)
        need[n++] = o->fields[i];
    need[n++] = "ts";
    need[n++] = "payload_len";
    if (flows) {
        need[n++] = "src_ip";
        need[n++] = "dst_ip";
        need[n++] = "src_port";
        need[n++] = "dst_port";
    }
    need[n] = NULL;
    if (vnd_diag_require(c, o->table, need, err))
        return -1;
    struct vnd_sb g = {0};          /* g1, g2, ...: the group's columns */
    for (int i = 0; i < o->nfields; i++)
        vnd_sb_printf(&g, "%sg%d", i ? ", " : "", i + 1);
    vnd_sb_printf(sb, "WITH vnd_w AS (SELECT ");
    for (int i = 0; i < o->nfields; i++) {
        vnd_sb_printf(sb, "s.");
        vnd_sb_ident(sb, o->fields[i]);
        vnd_sb_printf(sb, " AS g%d, ", i + 1);
    }
    if (flows)
        vnd_sb_printf(sb, "s.src_ip AS f1, s.src_port AS f2, s.dst_ip AS f3, s.dst_port AS f4, ");
    vnd_sb_printf(sb, "coalesce(s.payload_len, 0) AS x,\n       ");
    vnd_samp_n_sql(sb, sp, "s.ts");
    vnd_sb_printf(sb, " AS n, ");
    vnd_samp_m_sql(sb, sp, "s.ts");
    vnd_sb_printf(sb, " AS m\n  FROM ");
    if (vnd_diag_source(c, sb, o->table, true, err)) {
        vnd_sb_free(&g);
        return -1;
    }
    vnd_sb_printf(sb, " s),\n"
                      "vnd_f AS (SELECT %s, m, count(*) AS rows_seen, sum(n) AS pn,"
                      " sum(n * n - n) AS pv, sum(x) AS seen, sum(n * x) AS y,"
                      " sum((n * n - n) * x * x) AS v\n  FROM vnd_w GROUP BY %s, %sm)\n"
                      "SELECT ", g.s, g.s, flows ? "f1, f2, f3, f4, " : "");
    for (int i = 0; i < o->nfields; i++) {
        vnd_sb_printf(sb, "g%d AS ", i + 1);
        vnd_sb_ident(sb, o->fields[i]);
        vnd_sb_printf(sb, ", ");
    }
    vnd_sb_printf(sb, "sum(m * pn) AS packets, sum(m * y) AS bytes");
    interval(sb, "packets", "sum(m * pn)", "1.96 * sqrt(sum((m * m - m) * pn * pn + m * pv))",
             "sum(rows_seen)");
    interval(sb, "bytes", "sum(m * y)", "1.96 * sqrt(sum((m * m - m) * y * y + m * v))",
             "sum(seen)");
    /* the units of flow sampling a group rests on: with a handful the
     * normal interval is too narrow (capture.md) */
    if (flows)
        vnd_sb_printf(sb, ", count(*) AS flows_sampled");
    vnd_sb_printf(sb, "\nFROM vnd_f\nGROUP BY %s\nORDER BY packets DESC, %s", g.s, g.s);
    vnd_sb_free(&g);
    return 0;
}

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    bool records = vnd_diag_flow_records(c->db, o->table);
    if (!records) {
        struct vnd_samp sp;
        vnd_samp_read(c->db, o->table, &sp);
        int rc = vnd_samp_scaled(&sp) ? build_scaled(c, &sp, sb, err) : 1;
        vnd_samp_free(&sp);
        if (rc <= 0)
            return rc;
    }
    const char *need[VND_DIAG_FIELDS_MAX + 3];
    int n = 0;
    for (int i = 0; i < o->nfields; i++)
        need[n++] = o->fields[i];
    if (records) {
        need[n++] = "packets";
        need[n++] = "bytes";
    } else {
        need[n++] = "payload_len";
    }
    need[n] = NULL;
    if (vnd_diag_require(c, o->table, need, err))
        return -1;
    vnd_sb_printf(sb, "SELECT ");
    for (int i = 0; i < o->nfields; i++) {
        vnd_sb_ident(sb, o->fields[i]);
        vnd_sb_printf(sb, ", ");
    }
    if (records)
        vnd_sb_printf(sb, "coalesce(sum(packets), 0) AS packets, coalesce(sum(bytes), 0) AS bytes,"
                          " count(*) AS records\nFROM ");
    else
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
