/* diag_throughput.c — `throughput`: packets, payload bytes and bits/s per
 * time slot (paper §3.3.1, Throughput), over the table or per flow. */
#include "diag/diag.h"
#include "diag/diag_sampling.h"

/* A sampled table (diag_sampling.h): each row counts N x M times, N and M
 * the rates of the interval its ts falls in, and each slot gets the 95%
 * interval of the Horvitz-Thompson estimate, with the flows (5-tuples) as
 * the units of flow sampling.  vnd_w: the rows with their factors; vnd_f:
 * per slot (and sampled flow when flows were sampled) the sums. */
static int build_scaled(const struct vnd_diag_ctx *c, const struct vnd_samp *sp,
                        struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    bool flows = vnd_samp_flows(sp);
    const char *need_flow[] = {"ts", "payload_len", "src_ip", "dst_ip", "src_port",
                               "dst_port", NULL};
    const char *need[] = {"ts", "payload_len", NULL};
    if (vnd_diag_require(c, o->table, o->by_flow || flows ? need_flow : need, err))
        return -1;
    const char *tables[] = {o->table, NULL};
    vnd_sb_printf(sb, "WITH vnd_origin AS (");
    vnd_diag_origin(c, sb, tables);
    vnd_sb_printf(sb, "),\nvnd_w AS (SELECT ");
    vnd_diag_slot_expr(c, sb, "s.ts", "vnd_origin.t0");
    vnd_sb_printf(sb, " AS t, ");
    if (o->by_flow) {
        vnd_diag_flow_label(sb, "s.");
        vnd_sb_printf(sb, " AS flow, ");
    }
    if (flows)
        vnd_sb_printf(sb, "s.src_ip AS f1, s.src_port AS f2, s.dst_ip AS f3, s.dst_port AS f4, ");
    vnd_sb_printf(sb, "coalesce(s.payload_len, 0) AS x,\n       ");
    vnd_samp_n_sql(sb, sp, "s.ts");
    vnd_sb_printf(sb, " AS n, ");
    vnd_samp_m_sql(sb, sp, "s.ts");
    vnd_sb_printf(sb, " AS m\n  FROM ");
    if (vnd_diag_source(c, sb, o->table, true, err))
        return -1;
    vnd_sb_printf(sb, " s CROSS JOIN vnd_origin),\n"
                      "vnd_f AS (SELECT t, %sm, sum(n) AS pn, sum(x) AS seen, sum(n * x) AS y,"
                      " sum((n * n - n) * x * x) AS v\n  FROM vnd_w GROUP BY t, %s%sm)\n",
                  o->by_flow ? "flow, " : "", o->by_flow ? "flow, " : "",
                  flows ? "f1, f2, f3, f4, " : "");
    /* the half-width: 1.96 sqrt(sum over flows (M^2 - M) Y^2 + M V) */
    const char *hw = "1.96 * sqrt(sum((m * m - m) * y * y + m * v))";
    vnd_sb_printf(sb, "SELECT t, %ssum(m * pn) AS packets, sum(m * y) AS bytes,"
                      " sum(m * y) * 8.0 / ", o->by_flow ? "flow, " : "");
    vnd_sb_real(sb, o->slot);
    /* the low end: never below the bytes seen */
    vnd_sb_printf(sb, " AS bps,\n       CASE WHEN sum(m * y) - %s > sum(seen) THEN"
                      " sum(m * y) - %s ELSE sum(seen) END * 8.0 / ", hw, hw);
    vnd_sb_real(sb, o->slot);
    vnd_sb_printf(sb, " AS bps_low,\n       (sum(m * y) + %s) * 8.0 / ", hw);
    vnd_sb_real(sb, o->slot);
    vnd_sb_printf(sb, " AS bps_high");
    /* the units of flow sampling the slot's estimate rests on: with a
     * handful the normal interval is too narrow (capture.md) */
    if (flows)
        vnd_sb_printf(sb, ", count(*) AS flows_sampled");
    vnd_sb_printf(sb, "\nFROM vnd_f\nGROUP BY %s\nORDER BY %s", o->by_flow ? "1, 2" : "1",
                  o->by_flow ? "2, 1" : "1");
    return 0;
}

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    struct vnd_samp sp;
    vnd_samp_read(c->db, o->table, &sp);
    if (vnd_samp_scaled(&sp)) {
        int rc = build_scaled(c, &sp, sb, err);
        vnd_samp_free(&sp);
        return rc;
    }
    vnd_samp_free(&sp);
    const char *need_flow[] = {"ts", "payload_len", "src_ip", "dst_ip", "src_port",
                               "dst_port", NULL};
    const char *need[] = {"ts", "payload_len", NULL};
    if (vnd_diag_require(c, o->table, o->by_flow ? need_flow : need, err))
        return -1;
    const char *tables[] = {o->table, NULL};
    vnd_sb_printf(sb, "WITH vnd_origin AS (");
    vnd_diag_origin(c, sb, tables);
    vnd_sb_printf(sb, ")\nSELECT ");
    vnd_diag_slot_expr(c, sb, "s.ts", "vnd_origin.t0");
    vnd_sb_printf(sb, " AS t,\n       ");
    if (o->by_flow) {
        vnd_diag_flow_label(sb, "s.");
        vnd_sb_printf(sb, " AS flow,\n       ");
    }
    vnd_sb_printf(sb, "count(*) AS packets, coalesce(sum(s.payload_len), 0) AS bytes,\n"
                      "       coalesce(sum(s.payload_len), 0) * 8.0 / ");
    vnd_sb_real(sb, o->slot);
    vnd_sb_printf(sb, " AS bps\nFROM ");
    if (vnd_diag_source(c, sb, o->table, true, err))
        return -1;
    vnd_sb_printf(sb, " s CROSS JOIN vnd_origin\nGROUP BY %s\nORDER BY %s",
                  o->by_flow ? "1, 2" : "1", o->by_flow ? "2, 1" : "1");
    return 0;
}

const struct vnd_diag_app vnd_diag_throughput = {
    .name = "throughput",
    .summary = "packets, bytes and bits/s per time slot (per flow with --by-flow)",
    .usage = "-t TABLE [--slot SECONDS] [--where EXPR] [--by-flow]",
    .need = VND_NEED_TABLE,
    .timed = true,
    .build = build,
};
