/* diag_correlate.c — `correlate`: which input flow became which output
 * flow of a middlebox (paper §3.5).
 *
 *   --by id       packets keep ip.id and tcp.seq (firewall, IDS): case 1
 *   --by payload  headers rewritten, payload kept (NAT, L4 balancer): case 2
 *   --by order    an L4 balancer splits each TCP connection in two and the
 *                 payloads look alike: case 3.  The balancer opens its
 *                 server-side connection after the client's handshake
 *                 completes, so the n-th client connection (ordered by the
 *                 client's first ACK without SYN) is the n-th server-side
 *                 connection (ordered by the balancer's first SYN).  That
 *                 holds while the balancer opens them in the order it
 *                 accepted the clients (docs/diagnosis.md); `certain`
 *                 says which pairs cannot depend on that order.  Connections
 *                 are told apart by 4-tuple and ISN, since long captures
 *                 see ports used again. */
#include "diag/diag.h"

static int build_order(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    const char *need[] = {"ts", "src_ip", "dst_ip", "src_port", "dst_port", "proto",
                          "seq", "flags", NULL};
    if (vnd_diag_require(c, o->in, need, err) || vnd_diag_require(c, o->out, need, err))
        return -1;
    const char *tables[] = {o->in, o->out, NULL};
    vnd_sb_printf(sb, "WITH vnd_origin AS (");
    vnd_diag_origin(c, sb, tables);
    vnd_sb_printf(sb, "),\nvnd_ti AS (SELECT ts, src_ip, src_port, dst_ip, dst_port, seq, flags"
                      " FROM ");
    if (vnd_diag_source(c, sb, o->in, true, err))
        return -1;
    /* A connection is a 4-tuple and the ISN of its SYN: resent SYNs are
     * one connection, a 4-tuple used again with a new ISN another.  Its
     * ACK is the first ACK without SYN after its SYN and before the
     * 4-tuple's next one: the connection each packet belongs to is the
     * latest start up to it (a running max, one sort; a join of packets
     * to connections would be a nested loop on SQLite). */
    vnd_sb_printf(sb, " s WHERE proto = 6 AND ts IS NOT NULL),\n"
                      "vnd_si AS (SELECT src_ip, src_port, dst_ip, dst_port, min(ts) AS syn_t"
                      " FROM vnd_ti\n"
                      "  WHERE (flags & 18) = 2 GROUP BY src_ip, src_port, dst_ip, dst_port, seq),\n"
                      "vnd_st AS (SELECT src_ip, src_port, dst_ip, dst_port, syn_t AS ts, 0 AS kind,"
                      " syn_t FROM vnd_si\n"
                      "  UNION ALL SELECT src_ip, src_port, dst_ip, dst_port, ts, 1, NULL FROM vnd_ti"
                      " WHERE (flags & 18) = 16),\n"
                      "vnd_sa AS (SELECT src_ip, src_port, dst_ip, dst_port, ts, kind,"
                      " max(syn_t) OVER (PARTITION BY src_ip, src_port, dst_ip, dst_port\n"
                      "    ORDER BY ts, kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
                      " AS start FROM vnd_st),\n"
                      "vnd_ci AS (SELECT src_ip, src_port, dst_ip, dst_port, start AS syn_t,"
                      " min(ts) AS t FROM vnd_sa\n"
                      "  WHERE kind = 1 AND start IS NOT NULL"
                      " GROUP BY src_ip, src_port, dst_ip, dst_port, start),\n"
                      "vnd_co AS (SELECT src_ip, src_port, dst_ip, dst_port, min(ts) AS t\n"
                      "  FROM ");
    if (vnd_diag_source(c, sb, o->out, true, err))
        return -1;
    vnd_sb_printf(sb, " s WHERE proto = 6 AND (flags & 18) = 2 AND ts IS NOT NULL"
                      " GROUP BY src_ip, src_port, dst_ip, dst_port, seq),\n"
                      "vnd_ri AS (SELECT vnd_ci.*, row_number() OVER (ORDER BY t, src_ip, src_port,"
                      " dst_ip, dst_port, syn_t) AS n FROM vnd_ci),\n"
                      "vnd_ro AS (SELECT vnd_co.*, row_number() OVER (ORDER BY t, src_ip, src_port,"
                      " dst_ip, dst_port) AS n FROM vnd_co),\n"
                      /* certain: the balancer had this connection alone
                       * to open: the previous backend SYN was out before
                       * this client's ACK, and this SYN before the next
                       * client's ACK.  Two pending at once are opened in
                       * an order only the balancer (and the switch's
                       * batches) decide. */
                      "vnd_pc AS (SELECT vnd_ri.n AS n, CASE WHEN vnd_ro.t IS NOT NULL"
                      " AND vnd_ro.t >= vnd_ri.t\n"
                      "    AND (lag(vnd_ro.t) OVER w IS NULL OR lag(vnd_ro.t) OVER w < vnd_ri.t)\n"
                      "    AND (lead(vnd_ri.t) OVER w IS NULL OR vnd_ro.t < lead(vnd_ri.t) OVER w)"
                      " THEN 1 ELSE 0 END"
                      " AS certain\n"
                      "  FROM vnd_ri LEFT JOIN vnd_ro ON vnd_ro.n = vnd_ri.n"
                      " WINDOW w AS (ORDER BY vnd_ri.n))\n"
                      "SELECT coalesce(vnd_ri.n, vnd_ro.n) AS n, ");
    vnd_diag_flow_label(sb, "vnd_ri.");
    vnd_sb_printf(sb, " AS in_flow,\n       vnd_ri.t - vnd_origin.t0 AS in_ack_t, ");
    vnd_diag_flow_label(sb, "vnd_ro.");
    vnd_sb_printf(sb, " AS out_flow,\n       vnd_ro.t - vnd_origin.t0 AS out_syn_t,"
                      " (vnd_ro.t - vnd_ri.t) * 1000 AS gap_ms, vnd_pc.certain\n"
                      "FROM vnd_ri LEFT JOIN vnd_ro ON vnd_ro.n = vnd_ri.n"
                      " JOIN vnd_pc ON vnd_pc.n = vnd_ri.n CROSS JOIN vnd_origin\n"
                      "UNION ALL\n"
                      "SELECT vnd_ro.n, NULL, NULL, ");
    vnd_diag_flow_label(sb, "vnd_ro.");
    vnd_sb_printf(sb, ", vnd_ro.t - vnd_origin.t0, NULL, 0\n"
                      "FROM vnd_ro CROSS JOIN vnd_origin WHERE vnd_ro.n > (SELECT count(*) FROM vnd_ri)\n"
                      "ORDER BY 1");
    return 0;
}

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    if (o->by == VND_BY_ORDER)
        return build_order(c, sb, err);
    if (vnd_diag_hop_prologue(c, sb, false, err))
        return -1;
    vnd_sb_printf(sb, "\nSELECT ");
    vnd_diag_flow_label(sb, "i_");
    vnd_sb_printf(sb, " AS in_flow, ");
    vnd_diag_flow_label(sb, "o_");
    vnd_sb_printf(sb, " AS out_flow,\n       count(*) AS packets,"
                      " min(i_ts) - min(vnd_origin.t0) AS first_t, max(i_ts) - min(vnd_origin.t0) AS last_t,\n"
                      "       avg(abs(d)) * 1000 AS mean_delay_ms\n"
                      "FROM vnd_pairs CROSS JOIN vnd_origin\n"
                      "GROUP BY i_src_ip, i_src_port, i_dst_ip, i_dst_port,"
                      " o_src_ip, o_src_port, o_dst_ip, o_dst_port\n"
                      "ORDER BY first_t, in_flow, out_flow");
    return 0;
}

const struct vnd_diag_app vnd_diag_correlate = {
    .name = "correlate",
    .summary = "which input flow became which output flow of a middlebox",
    .usage = "--in TABLE --out TABLE --by id|payload|order [--window S]",
    .need = VND_NEED_INOUT,
    .build = build,
    .run = vnd_diag_correlate_step,
};
