/* diag_throughput.c — `throughput`: packets, payload bytes and bits/s per
 * time slot (paper §3.3.1, Throughput), over the table or per flow; of a
 * table of flow records, their IP bytes spread over their durations. */
#include <string.h>

#include "diag/diag.h"
#include "diag/diag_sampling.h"

/* The 95% interval's columns bps_low and bps_high of the estimate `est`
 * of a slot's bytes, half-width `hw`, the low end never below the bytes
 * seen (SQL expressions over the slot's rows). */
static void interval_cols(const struct vnd_diag_ctx *c, struct vnd_sb *sb, const char *est,
                          const char *hw, const char *seen)
{
    struct vnd_sb unit = {0};
    vnd_sb_printf(&unit, " * 8.0 / ");
    vnd_sb_real(&unit, c->o->slot);
    vnd_samp_interval_sql(sb, "bps", est, hw, seen, unit.s);
    vnd_sb_free(&unit);
}

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
    vnd_sb_printf(sb, "coalesce(s.payload_len, 0) AS x,\n       ");
    vnd_samp_row_factors_sql(sb, sp, flows);
    vnd_sb_printf(sb, "\n  FROM ");
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
    vnd_sb_printf(sb, " AS bps");
    interval_cols(c, sb, "sum(m * y)", hw, "sum(seen)");
    /* the units of flow sampling the slot's estimate rests on: with a
     * handful the normal interval is too narrow (capture.md) */
    if (flows)
        vnd_sb_printf(sb, ", count(*) AS flows_sampled");
    vnd_sb_printf(sb, "\nFROM vnd_f\nGROUP BY %s\nORDER BY %s", o->by_flow ? "1, 2" : "1",
                  o->by_flow ? "2, 1" : "1");
    return 0;
}

/* A table of flow records (Mode ipfix): each record's packets and bytes
 * (IP bytes, headers included, as the switch counts them) spread evenly
 * over its start to end, so a slot gets the part of each record that
 * overlaps it; a record with start = end goes whole to its slot, as does
 * one whose start is missing or wrong (vnd_diag_record_start).  The
 * switch scaled the counts of 1-in-N packet sampling already; the 95%
 * interval is Horvitz-Thompson's, (N - 1) q for a record whose sampled
 * packets' squared lengths, scaled as its counts, sum to q, times the
 * share a slot gets.  q is the record's bytes_sq (octetDeltaSumOfSquares,
 * which OVS sends) when the table has it, and never below y^2 / p, its
 * value were the record's p packets of y bytes equal in size: a record
 * without it, or with a smaller one, gets that lower bound.  vnd_k
 * walks each record's slots (WITH RECURSIVE: both dialects; k + 1 > k
 * ends the walk where a double no longer counts by ones), vnd_s puts
 * its share w on each (a REAL always: the step's sums are REALs too).  On
 * SQLite the C step vnd_diag_throughput_step gives the same rows. */
static int build_records(const struct vnd_diag_ctx *c, const struct vnd_samp *sp,
                         struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    bool sampled = vnd_samp_packets(sp);
    const char *need_flow[] = {"ts", "start_ts", "end_ts", "packets", "bytes", "src_ip",
                               "dst_ip", "src_port", "dst_port", NULL};
    const char *need[] = {"ts", "start_ts", "end_ts", "packets", "bytes", NULL};
    if (vnd_diag_require(c, o->table, o->by_flow ? need_flow : need, err))
        return -1;
    const char *tables[] = {o->table, NULL};
    const char *flow = o->by_flow ? ", flow" : "";
    vnd_sb_printf(sb, "WITH RECURSIVE vnd_origin AS (");
    vnd_diag_origin(c, sb, tables);
    vnd_sb_printf(sb, "),\nvnd_r AS (SELECT ");
    vnd_diag_record_start(sb, "s.");
    vnd_sb_printf(sb, " AS b0, ");
    vnd_diag_record_end(sb, "s.");
    vnd_sb_printf(sb, " AS b1, coalesce(s.packets, 0) AS p, coalesce(s.bytes, 0) AS y, ");
    vnd_samp_switch_n_sql(sb, sp, "s.ts");
    vnd_sb_printf(sb, " AS n");
    if (sampled) {
        vnd_sb_printf(sb, ", ");
        vnd_samp_record_q_sql(sb, vnd_diag_has_column(c, o->table, "bytes_sq"));
        vnd_sb_printf(sb, " AS q");
    }
    if (o->by_flow) {
        vnd_sb_printf(sb, ", ");
        vnd_diag_flow_label(sb, "s.");
        vnd_sb_printf(sb, " AS flow");
    }
    vnd_sb_printf(sb, "\n  FROM ");
    if (vnd_diag_source(c, sb, o->table, true, err))
        return -1;
    vnd_sb_printf(sb, " s\n  WHERE ");
    vnd_diag_record_end(sb, "s.");
    vnd_sb_printf(sb, " IS NOT NULL),\n"
                      "vnd_k AS (SELECT floor((b0 - t0) / ");
    vnd_sb_real(sb, o->slot);
    vnd_sb_printf(sb, ") AS k, floor((b1 - t0) / ");
    vnd_sb_real(sb, o->slot);
    const char *q = sampled ? ", q" : "";
    vnd_sb_printf(sb, ") AS kn, t0, b0, b1, p, y, n%s%s FROM vnd_r CROSS JOIN vnd_origin\n"
                      "  UNION ALL SELECT k + 1, kn, t0, b0, b1, p, y, n%s%s FROM vnd_k"
                      " WHERE k < kn AND k + 1 > k),\n", q, flow, q, flow);
    /* the overlap of [b0, b1] with the slot [lo, hi), over b1 - b0 */
    struct vnd_sb lo = {0}, hi = {0};
    vnd_sb_printf(&lo, "t0 + k * ");
    vnd_sb_real(&lo, o->slot);
    vnd_sb_printf(&hi, "t0 + (k + 1) * ");
    vnd_sb_real(&hi, o->slot);
    vnd_sb_printf(sb, "vnd_s AS (SELECT k%s, p, y, n%s, CASE WHEN b1 > b0 THEN"
                      " (CASE WHEN b1 < %s THEN b1 ELSE %s END"
                      " - CASE WHEN b0 > %s THEN b0 ELSE %s END) / (b1 - b0)"
                      " ELSE 1.0 END AS w FROM vnd_k)\n", flow, q, hi.s, hi.s, lo.s, lo.s);
    vnd_sb_free(&lo);
    vnd_sb_free(&hi);
    vnd_sb_printf(sb, "SELECT k * ");
    vnd_sb_real(sb, o->slot);
    vnd_sb_printf(sb, " AS t%s, sum(w * p) AS packets, sum(w * y) AS bytes, sum(w * y) * 8.0 / ",
                  flow);
    vnd_sb_real(sb, o->slot);
    vnd_sb_printf(sb, " AS bps");
    if (sampled)        /* seen: the bytes of the sampled packets */
        interval_cols(c, sb, "sum(w * y)",
                      "1.96 * sqrt(sum((n - 1) * q * w))",
                      "sum(w * y / n)");
    /* the records a slot's figures rest on (a share of 0: a record that
     * ends where the slot starts) */
    vnd_sb_printf(sb, ", count(*) AS records\nFROM vnd_s\nWHERE w > 0\nGROUP BY %s\nORDER BY %s",
                  o->by_flow ? "k, flow" : "k", o->by_flow ? "flow, k" : "k");
    return 0;
}

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    struct vnd_samp sp;
    vnd_samp_read(c->db, o->table, &sp);
    if (vnd_diag_flow_records(c->db, o->table)) {
        int rc = build_records(c, &sp, sb, err);
        vnd_samp_free(&sp);
        return rc;
    }
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
    .run = vnd_diag_throughput_step,
};
