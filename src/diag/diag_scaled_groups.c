/* diag_scaled_groups.c — groups and distribution of a sampled packet table
 * (diag_sampling.h): each group's packets (and payload bytes) as
 * Horvitz-Thompson estimates with their 95% intervals, as throughput
 * scales a slot's; and of a table of flow records, whose counts the switch
 * scaled already: their sums, with the intervals when it sampled. */
#include "diag/diag_sampling.h"

/* The group's columns: "s.F AS g1, ..." (as_groups), "g1 AS F, ..."
 * (named_back), and "g1, g2, ..." in g (group_list). */
static void as_groups(struct vnd_sb *sb, const char *const *fields, int n)
{
    for (int i = 0; i < n; i++) {
        vnd_sb_printf(sb, "s.");
        vnd_sb_ident(sb, fields[i]);
        vnd_sb_printf(sb, " AS g%d, ", i + 1);
    }
}

static void named_back(struct vnd_sb *sb, const char *const *fields, int n)
{
    for (int i = 0; i < n; i++) {
        vnd_sb_printf(sb, "g%d AS ", i + 1);
        vnd_sb_ident(sb, fields[i]);
        vnd_sb_printf(sb, ", ");
    }
}

static void group_list(struct vnd_sb *g, int n)
{
    for (int i = 0; i < n; i++)
        vnd_sb_printf(g, "%sg%d", i ? ", " : "", i + 1);
}

/* Each row counts N x M times, N and M the rates of the interval its ts
 * falls in; the flows (5-tuples) are the units of flow sampling, so a
 * group's variance is, over its flows f, (M^2 - M) Y_f^2 + M V_f with
 * Y_f = sum N x and V_f = sum (N^2 - N) x^2 (x = 1 for packets).  vnd_w:
 * the rows with their factors; vnd_f: the sums per group (and sampled
 * flow when flows were sampled, with its M). */
static int build(const struct vnd_diag_ctx *c, const struct vnd_samp *sp,
                 const char *const *fields, int nfields, bool distribution, struct vnd_sb *sb,
                 char **err)
{
    const struct vnd_diag_opts *o = c->o;
    bool flows = vnd_samp_flows(sp);
    const char *need[VND_DIAG_FIELDS_MAX + 7];
    int n = 0;
    for (int i = 0; i < nfields && i < VND_DIAG_FIELDS_MAX; i++)
        need[n++] = fields[i];
    if (vnd_samp_varies(sp))
        need[n++] = "ts";       /* each row's rates */
    if (!distribution)
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
    struct vnd_sb g = {0};
    group_list(&g, nfields);
    vnd_sb_printf(sb, "WITH vnd_w AS (SELECT ");
    as_groups(sb, fields, nfields);
    if (!distribution)
        vnd_sb_printf(sb, "coalesce(s.payload_len, 0) AS x, ");
    vnd_sb_printf(sb, "\n       ");
    vnd_samp_row_factors_sql(sb, sp, flows);
    vnd_sb_printf(sb, "\n  FROM ");
    if (vnd_diag_source(c, sb, o->table, true, err)) {
        vnd_sb_free(&g);
        return -1;
    }
    vnd_sb_printf(sb, " s),\n"
                      "vnd_f AS (SELECT %s, m, count(*) AS rows_seen, sum(n) AS pn,"
                      " sum(n * n - n) AS pv%s\n  FROM vnd_w GROUP BY %s, %sm)\n"
                      "SELECT ", g.s, distribution ? "" : ", sum(x) AS seen, sum(n * x) AS y,"
                      " sum((n * n - n) * x * x) AS v", g.s, flows ? "f1, f2, f3, f4, " : "");
    named_back(sb, fields, nfields);
    const char *count = distribution ? "count" : "packets";
    vnd_sb_printf(sb, "sum(m * pn) AS %s", count);
    if (distribution)       /* of the estimated whole, each row weighing N x M */
        vnd_sb_printf(sb, ",\n       sum(m * pn) * 1.0 / (SELECT nullif(sum(m * pn), 0)"
                          " FROM vnd_f) AS fraction");
    else
        vnd_sb_printf(sb, ", sum(m * y) AS bytes");
    vnd_samp_interval_sql(sb, count, "sum(m * pn)",
                          "1.96 * sqrt(sum((m * m - m) * pn * pn + m * pv))", "sum(rows_seen)", "");
    if (!distribution)
        vnd_samp_interval_sql(sb, "bytes", "sum(m * y)",
                              "1.96 * sqrt(sum((m * m - m) * y * y + m * v))", "sum(seen)", "");
    /* the units of flow sampling a group rests on: with a handful the
     * normal interval is too narrow (capture.md) */
    if (flows)
        vnd_sb_printf(sb, ", count(*) AS flows_sampled");
    vnd_sb_printf(sb, "\nFROM vnd_f\nGROUP BY %s\nORDER BY %s DESC, %s", g.s, count, g.s);
    vnd_sb_free(&g);
    return 0;
}

int vnd_diag_scaled_groups_sql(const struct vnd_diag_ctx *c, const char *const *fields,
                               int nfields, bool distribution, struct vnd_sb *sb, char **err)
{
    struct vnd_samp sp;
    vnd_samp_read(c->db, c->o->table, &sp);
    int rc = vnd_samp_scaled(&sp) ? build(c, &sp, fields, nfields, distribution, sb, err) : 1;
    vnd_samp_free(&sp);
    return rc;
}

/* Flow records: each weighs its packets and IP bytes.  When the switch
 * sampled 1 in N (its counts scaled), a record of p packets adds
 * (N - 1) p to its group's packet variance and (N - 1) q to its byte
 * variance, q its sum of squared lengths (vnd_samp_record_q_sql), as
 * throughput's interval of records takes it. */
int vnd_diag_record_groups_sql(const struct vnd_diag_ctx *c, const char *const *fields,
                               int nfields, bool distribution, struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    struct vnd_samp sp;
    vnd_samp_read(c->db, o->table, &sp);
    bool sampled = vnd_samp_packets(&sp);
    const char *need[VND_DIAG_FIELDS_MAX + 4];
    int n = 0;
    for (int i = 0; i < nfields && i < VND_DIAG_FIELDS_MAX; i++)
        need[n++] = fields[i];
    need[n++] = "packets";
    need[n++] = "bytes";
    if (sampled && vnd_samp_varies(&sp))
        need[n++] = "ts";       /* the switch's N when the record ended */
    need[n] = NULL;
    struct vnd_sb g = {0};
    group_list(&g, nfields);
    int rc = vnd_diag_require(c, o->table, need, err);
    if (!rc) {
        vnd_sb_printf(sb, "WITH vnd_src AS (SELECT ");
        as_groups(sb, fields, nfields);
        vnd_sb_printf(sb, "coalesce(s.packets, 0) AS p, coalesce(s.bytes, 0) AS y");
        if (sampled) {
            vnd_sb_printf(sb, ",\n       ");
            vnd_samp_switch_n_sql(sb, &sp, "s.ts");
            vnd_sb_printf(sb, " AS n, ");
            vnd_samp_record_q_sql(sb, vnd_diag_has_column(c, o->table, "bytes_sq"));
            vnd_sb_printf(sb, " AS q");
        }
        vnd_sb_printf(sb, "\n  FROM ");
        rc = vnd_diag_source(c, sb, o->table, true, err);
    }
    if (!rc) {
        vnd_sb_printf(sb, " s)\nSELECT ");
        named_back(sb, fields, nfields);
        vnd_sb_printf(sb, "sum(p) AS packets, ");
        if (distribution)
            vnd_sb_printf(sb, "sum(p) * 1.0 / (SELECT nullif(sum(p), 0) FROM vnd_src) AS"
                              " fraction, ");
        vnd_sb_printf(sb, "sum(y) AS bytes, count(*) AS records");
        if (sampled) {      /* seen: the packets and bytes of the sampled packets */
            vnd_samp_interval_sql(sb, "packets", "sum(p)", "1.96 * sqrt(sum((n - 1) * p))",
                                  "sum(p / n)", "");
            vnd_samp_interval_sql(sb, "bytes", "sum(y)", "1.96 * sqrt(sum((n - 1) * q))",
                                  "sum(y / n)", "");
        }
        vnd_sb_printf(sb, "\nFROM vnd_src\nGROUP BY %s\nORDER BY packets DESC, %s", g.s, g.s);
    }
    vnd_sb_free(&g);
    vnd_samp_free(&sp);
    return rc;
}
