/* diag_rtt.c — `rtt`: round-trip time seen at one capture point (paper
 * §3.3.1, RTT): a data segment and the ACK of the reverse direction of the
 * same connection that first covers it.
 *
 * How the SQL below pairs them, per direction of each TCP connection:
 *  - Sequence numbers are unwrapped: each segment's seq minus the previous
 *    one's, taken modulo 2^32 as a signed number, summed from the first
 *    segment; ACK numbers the same way from the first ACK, anchored to the
 *    data direction's first seq.  So wrap-around (and flows longer than
 *    4 GiB) compare correctly.
 *  - A segment occupies [s, e) with e = s + payload + SYN + FIN.  It is a
 *    retransmission when s is below the highest e sent before it.
 *  - Its covering ACK is the first ACK (in time) whose running maximum
 *    reaches e; "running maximum" ignores reordered older ACKs.
 *  - An ACK that covers several segments (delayed or cumulative ACKs)
 *    gives one sample: from the last segment it newly covers to the ACK.
 *  - Karn: an ACK that covers any retransmitted segment gives no sample
 *    (the original and the copy are ambiguous), nor do segments first
 *    covered before they were sent (spurious copies).
 *  - SACK: the standard table has no SACK column, so segments held by the
 *    receiver behind a hole are covered only by the cumulative ACK after
 *    the repair, which also covers the retransmission: they give no sample
 *    rather than a wrong, inflated one.  When the table has a `sack`
 *    column (tcp.sack), a segment is covered by the first ACK whose
 *    running max reaches e or, if it does not come before the segment, one
 *    of whose SACK blocks contains [s, e); block edges are unwrapped from
 *    the ACK's own ack number.  Malformed SACK text is no SACK
 *    (vnd_rtt_sack_parse's rule).
 *  - Rows of one ts (their capture order is unknown): unwrapping and the
 *    retransmission test take them in (seq, ack) order; segments count as
 *    sent before the ACKs of their ts (an ACK covering new data followed
 *    it: a sample of 0 is below the clock's resolution, not an artefact);
 *    the ACKs of one direction at one ts are one ACK, named by that ts,
 *    their running max the highest of them.
 * Samples are filed under the slot of the data segment.
 *
 * Kind: a sample is `handshake` when a segment it covers carries SYN (the
 * SYN answered by the SYN/ACK, the SYN/ACK by the client's ACK), else
 * `fin` when one carries FIN, else `data` (the highest of its segments'
 * codes 2, 1, 0).  --kind keeps one kind; the default, all, mixes them as
 * tshark's tcp.analysis.ack_rtt does.
 *
 * No join pairs ACKs with their data direction: one UNION ALL keyed by the
 * data direction and window passes do it, which PostgreSQL plans in
 * n log n on tables without indexes (it misestimated the join it replaces
 * at one row, then rescanned the table's time 0 per sample: quadratic).
 * On SQLite the same computation runs as a C step in one pass over the
 * rows in time order (diag_rtt_step.c): the window passes below take
 * about 20 µs per row there.  --show-sql prints this SQL, which PostgreSQL
 * runs, and the tests check that both give the same rows. */
#include "diag/diag.h"
#include "flow/tcp_rtt.h"

#include <math.h>
#include <stdlib.h>

#define FLOW "src_ip, src_port, dst_ip, dst_port"
#define FLOWG "src_ip, g.src_port, g.dst_ip, g.dst_port"
/* A segment's kind (vnd_rtt_kind_code): SYN 2, else FIN 1, else data 0 */
#define KIND_CODE "CASE WHEN (flags & 2) <> 0 THEN 2 WHEN (flags & 1) <> 0 THEN 1 ELSE 0 END AS kd"

static void seqdiff(struct vnd_sb *sb, const char *x)
{
    vnd_diag_seqdiff(sb, x);
}

/* The condition that `sack` holds 1 to 4 blocks "N-N" joined by ",", N of
 * 1 to 10 digits (vnd_rtt_sack_parse's rule; the values' range is checked
 * per block in vnd_k3). */
static void sack_wellformed(const struct vnd_diag_ctx *c, struct vnd_sb *sb)
{
    if (c->o->pg) {
        vnd_sb_printf(sb, "sack ~ '^[0-9]{1,10}-[0-9]{1,10}(,[0-9]{1,10}-[0-9]{1,10}){0,3}$'");
        return;
    }
    /* without the digits: the separators' pattern; every number non-empty
     * and at most 10 digits */
    vnd_sb_printf(sb, "sack GLOB '[0-9]*[0-9]' AND sack NOT GLOB '*[-,][-,]*'"
                      " AND sack NOT GLOB '*");
    for (int i = 0; i < 11; i++)
        vnd_sb_printf(sb, "[0-9]");
    vnd_sb_printf(sb, "*'\n         AND ");
    for (int i = 0; i < 10; i++)
        vnd_sb_printf(sb, "replace(");
    vnd_sb_printf(sb, "sack");
    for (int i = 0; i < 10; i++)
        vnd_sb_printf(sb, ", '%d', '')", i);
    vnd_sb_printf(sb, " IN ('-', '-,-', '-,-,-', '-,-,-,-')");
}

/* The SACK blocks of the ACKs in vnd_ak, as rows of vnd_kb: (data
 * direction, ACK ts and number, unwrapped [bl, br)), one per 2^20
 * bucket of sequence space the block spans, so that segments find theirs
 * by equality. */
static void sack_blocks(const struct vnd_diag_ctx *c, struct vnd_sb *sb)
{
    const char *pos = c->o->pg ? "strpos" : "instr";
    vnd_sb_printf(sb, "vnd_k0 AS (SELECT ts AS ta, " FLOW ", ra, ua, ack, sack FROM vnd_ak\n"
                      "       WHERE ");
    sack_wellformed(c, sb);
    vnd_sb_printf(sb, "),\n"
                      /* peel off one block per step */
                      "vnd_k1 (ta, src_ip, src_port, dst_ip, dst_port, ra, ua, ack, sack, blk, rest)"
                      " AS (\n"
                      "       SELECT ta, " FLOW ", ra, ua, ack, sack, CAST('' AS TEXT),"
                      " sack || ',' FROM vnd_k0\n"
                      "       UNION ALL SELECT ta, " FLOW ", ra, ua, ack, sack,"
                      " substr(rest, 1, %s(rest, ',') - 1),\n"
                      "         substr(rest, %s(rest, ',') + 1) FROM vnd_k1 WHERE rest <> ''),\n"
                      "vnd_k2 AS (SELECT ta, " FLOW ", ra, ua, ack, sack,\n"
                      "         CAST(substr(blk, 1, %s(blk, '-') - 1) AS BIGINT) AS l,\n"
                      "         CAST(substr(blk, %s(blk, '-') + 1) AS BIGINT) AS r"
                      " FROM vnd_k1 WHERE blk <> ''),\n"
                      /* edges from the ACK's own ack number; an edge of 2^32
                       * or more spoils the whole option */
                      "vnd_k3 AS (SELECT ta, " FLOW ", ra, ua + ",
                  pos, pos, pos, pos);
    seqdiff(sb, "l - ack");
    vnd_sb_printf(sb, " AS bl,\n         ua + ");
    seqdiff(sb, "r - ack");
    vnd_sb_printf(sb, " AS br,\n"
                      "         min(CASE WHEN l <= 4294967295 AND r <= 4294967295 THEN 1 ELSE 0 END)"
                      " OVER (PARTITION BY " FLOW ", ta, ua, ack, sack) AS ok FROM vnd_k2),\n"
                      /* blocks at or below the cumulative ACK (D-SACK) cover
                       * nothing it has not */
                      "vnd_kb (src_ip, src_port, dst_ip, dst_port, ta, ra, bl, br, b) AS (\n"
                      "       SELECT " FLOW ", ta, ra, bl, br, floor(bl / 1048576.0) FROM vnd_k3\n"
                      "         WHERE ok = 1 AND br > ra AND br > bl\n"
                      "       UNION ALL SELECT " FLOW ", ta, ra, bl, br, b + 1 FROM vnd_kb\n"
                      "         WHERE b < floor((br - 1) / 1048576.0)),\n"
                      /* each segment's first ACK that SACKs it, among those
                       * not before it */
                      "vnd_sc AS (SELECT g." FLOWG ", g.sid, min(k.ta) AS ta\n"
                      "       FROM vnd_seg g JOIN vnd_kb k ON k.src_ip = g.src_ip"
                      " AND k.src_port = g.src_port\n"
                      "         AND k.dst_ip = g.dst_ip AND k.dst_port = g.dst_port AND k.b = g.bk\n"
                      "         AND k.bl <= g.s AND g.e <= k.br AND k.ta >= g.ts\n"
                      "       GROUP BY g." FLOWG ", g.sid),\n"
                      /* onto the segments (a join SQLite would not index) */
                      "vnd_sg AS (SELECT max(ts) AS ts, " FLOW ", max(s) AS s, max(e) AS e,"
                      " max(sent) AS sent,\n"
                      "         max(kd) AS kd, max(sack_ts) AS sack_ts FROM (\n"
                      "         SELECT ts, " FLOW ", sid, s, e, sent, kd, NULL AS sack_ts FROM vnd_seg\n"
                      "         UNION ALL SELECT NULL, " FLOW ", sid, NULL, NULL, NULL, NULL, ta"
                      " FROM vnd_sc) u\n"
                      "       GROUP BY " FLOW ", sid),\n");
}

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    const char *need[] = {"ts", "src_ip", "dst_ip", "src_port", "dst_port", "proto",
                          "seq", "ack", "flags", "payload_len", NULL};
    if (vnd_diag_require(c, o->table, need, err))
        return -1;
    /* the SACK column: extra columns carried along, the blocks' CTEs */
    bool sk = vnd_diag_has_column(c, o->table, VND_RTT_SACK_COL);
    const char *sack = sk ? ", sack" : "";
    /* a NULL ack first, as SQLite and the C step order them */
    const char *nf = o->pg ? " NULLS FIRST" : "";
    const char *tables[] = {o->table, NULL};
    /* materialized: PostgreSQL would otherwise rescan the table's min(ts)
     * once per sample in the final cross join */
    vnd_sb_printf(sb, "WITH %svnd_origin AS MATERIALIZED (", sk ? "RECURSIVE " : "");
    vnd_diag_origin(c, sb, tables);
    /* copies of one frame (several interfaces): the same direction, id,
     * seq, ack, flags and length less than VND_RTT_DUP_WINDOW after the
     * previous one are left out */
    bool ids = vnd_diag_has_column(c, o->table, VND_RTT_ID_COL);
    if (ids)
        vnd_sb_printf(sb, "),\n"
                          "vnd_p0 AS (SELECT ts, " FLOW ", seq, ack, flags%s, payload_len, id,\n"
                          "        lag(ts) OVER (PARTITION BY " FLOW ", id, seq, ack, flags,"
                          " payload_len ORDER BY ts) AS pts\n"
                          "      FROM ", sack);
    else
        vnd_sb_printf(sb, "),\n"
                          "vnd_p AS (SELECT ts, " FLOW ", seq, ack, flags%s,\n"
                          "        payload_len + (flags & 1) + ((flags / 2) & 1) AS len, " KIND_CODE "\n"
                          "      FROM ", sack);
    /* the whole table: unwrapping needs every segment from the first */
    struct vnd_diag_opts all = *o;
    vnd_diag_unbound(&all);
    struct vnd_diag_ctx call = {c->db, &all};
    if (vnd_diag_source(&call, sb, o->table, true, err))
        return -1;
    /* every row as data of its direction (k = 0) and every ACK as
     * acknowledging the reverse one (k = 1), keyed by that data direction:
     * window passes then do what joining the two would (a join whose size
     * PostgreSQL cannot estimate) */
    vnd_sb_printf(sb, " s WHERE proto = 6 AND seq IS NOT NULL),\n");
    if (ids) {
        vnd_sb_printf(sb, "vnd_p AS (SELECT ts, " FLOW ", seq, ack, flags%s,\n"
                          "        payload_len + (flags & 1) + ((flags / 2) & 1) AS len, " KIND_CODE "\n"
                          "      FROM vnd_p0 WHERE id IS NULL OR id = 0 OR pts IS NULL OR ts - pts >= ",
                      sack);
        vnd_sb_real(sb, VND_RTT_DUP_WINDOW);
        vnd_sb_printf(sb, "),\n");
    }
    vnd_sb_printf(sb, "vnd_u AS (SELECT ts, " FLOW ", 0 AS k, seq, ack, seq AS v, len, kd%s FROM vnd_p\n"
                      "       UNION ALL SELECT ts, dst_ip, dst_port, src_ip, src_port, 1, seq, ack,"
                      " ack, NULL, NULL%s FROM vnd_p\n"
                      "       WHERE (flags & 16) <> 0 AND src_ip IS NOT NULL AND src_port IS NOT NULL\n"
                      "         AND dst_ip IS NOT NULL AND dst_port IS NOT NULL),\n"
                      /* unwrapped, in (ts, seq, ack) order: seq from the
                       * direction's first; ACKs, after its data, from it too
                       * (the first ACK's difference is taken from it) */
                      "vnd_u1 AS (SELECT ts, " FLOW ", k, len, kd%s, first_value(k) OVER w AS k0,\n"
                      "         row_number() OVER w AS rn,\n"
                      "         CASE WHEN lag(k) OVER w = k THEN v - lag(v) OVER w\n"
                      "           WHEN k = 1 THEN v - first_value(v) OVER w END AS dx\n"
                      "       FROM vnd_u WINDOW w AS (PARTITION BY " FLOW " ORDER BY k, ts, seq, ack%s)),\n"
                      "vnd_u2 AS (SELECT ts, " FLOW ", k, rn, len, kd%s, sum(coalesce(",
                  sk ? ", CAST(NULL AS TEXT) AS sack" : "", sack, sk ? ", ack, sack" : "", nf,
                  sk ? ", ack, sack" : "");
    seqdiff(sb, "dx");
    /* none for ACKs of a direction that sent nothing */
    vnd_sb_printf(sb, ", 0))\n"
                      "         OVER (PARTITION BY " FLOW ", k ORDER BY rn"
                      " ROWS UNBOUNDED PRECEDING) AS u\n"
                      "       FROM vnd_u1 WHERE k0 = 0),\n"
                      /* segments [s, e): the highest end sent before */
                      "vnd_seg AS (SELECT ts, " FLOW ", u AS s, u + len AS e, kd,\n"
                      "         max(u + len) OVER w AS sent%s\n"
                      "       FROM vnd_u2 WHERE k = 0 AND len > 0 WINDOW w AS (PARTITION BY " FLOW "\n"
                      "           ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING AND 1"
                      " PRECEDING)),\n",
                  sk ? ",\n         row_number() OVER w AS sid, floor(u / 1048576.0) AS bk" : "");
    if (sk) {
        /* ra: what the blocks must pass to cover anything new; the ACK's
         * own number will do (a block at or below the running maximum of
         * its ts covers only what the cumulative ACK has covered by then) */
        vnd_sb_printf(sb, "vnd_ak AS (SELECT ts, " FLOW ", u AS ua, ack, sack, u AS ra"
                          " FROM vnd_u2 WHERE k = 1),\n");
        sack_blocks(c, sb);
        vnd_sb_printf(sb, "vnd_ev AS (SELECT ts, " FLOW ", e AS key, 0 AS is_ack,\n"
                          "         CASE WHEN s < sent THEN 1 ELSE 0 END AS retx, kd, sack_ts"
                          " FROM vnd_sg\n"
                          "       UNION ALL SELECT ts, " FLOW ", ua, 1, 0, NULL, NULL FROM vnd_ak),\n");
    } else {
        vnd_sb_printf(sb, "vnd_ev AS (SELECT ts, " FLOW ", e AS key, 0 AS is_ack,\n"
                          "         CASE WHEN s < sent THEN 1 ELSE 0 END AS retx, kd FROM vnd_seg\n"
                          "       UNION ALL SELECT ts, " FLOW ", u, 1, 0, NULL FROM vnd_u2 WHERE k = 1),\n");
    }
    /* first ACK (in time) whose running max reaches e: the earliest of the
     * ACKs at or after e in key order */
    vnd_sb_printf(sb, "vnd_cov AS (SELECT ts, " FLOW ", is_ack, retx, kd%s,\n"
                      "         min(CASE WHEN is_ack = 1 THEN ts END) OVER w AS ack_ts\n"
                      "       FROM vnd_ev WINDOW w AS (PARTITION BY " FLOW "\n"
                      "           ORDER BY key DESC, is_ack DESC, ts DESC ROWS UNBOUNDED"
                      " PRECEDING)),\n",
                  sk ? ", sack_ts" : "");
    if (sk)
        /* the earlier of the cumulative and the SACK cover; none for
         * segments acknowledged before they were sent */
        vnd_sb_printf(sb, "vnd_c1 AS (SELECT ts, " FLOW ", retx, kd,\n"
                          "         CASE WHEN sack_ts IS NOT NULL AND (ack_ts IS NULL OR sack_ts <"
                          " ack_ts)\n"
                          "           THEN sack_ts ELSE ack_ts END AS ack_ts\n"
                          "       FROM vnd_cov WHERE is_ack = 0 AND (ack_ts IS NULL OR ack_ts >="
                          " ts)),\n");
    /* one sample per ACK (its ts names it: the ACKs of one direction at
     * one ts are one); none when it covers a retransmission */
    vnd_sb_printf(sb, "vnd_smp AS (SELECT " FLOW ", ack_ts, max(ts) AS ts, max(retx) AS retx, max(kd) AS kd\n"
                      "       FROM %s\n"
                      "       GROUP BY " FLOW ", ack_ts),\n"
                      "vnd_r AS (SELECT ",
                  sk ? "vnd_c1 WHERE ack_ts IS NOT NULL" : "vnd_cov WHERE is_ack = 0 AND ack_ts >= ts");
    vnd_diag_slot_expr(c, sb, "vnd_smp.ts", "vnd_origin.t0");
    vnd_sb_printf(sb, " AS t, ");
    if (o->by_flow) {
        vnd_diag_flow_label(sb, "vnd_smp.");
        vnd_sb_printf(sb, " AS flow, ");
    }
    vnd_sb_printf(sb, "CASE kd WHEN 2 THEN 'handshake' WHEN 1 THEN 'fin' ELSE 'data' END"
                      " AS kind,\n       ack_ts - vnd_smp.ts AS v\n"
                      "       FROM vnd_smp CROSS JOIN vnd_origin WHERE retx = 0");
    if (o->rtt_kind != VND_RTT_ALL)
        vnd_sb_printf(sb, " AND kd = %d", vnd_rtt_kind_code(o->rtt_kind));
    /* a sample's slot bounds, as its slot is computed (runner.h) */
    for (int i = 0; i < 2; i++) {
        double b = i ? o->until_slot : o->since_slot, t = i ? o->until : o->since;
        const char *op = i ? "<" : ">=";
        if (!isnan(b)) {
            vnd_sb_printf(sb, " AND ");
            vnd_diag_slot_index(c, sb, "vnd_smp.ts", "vnd_origin.t0");
            vnd_sb_printf(sb, " %s ", op);
            vnd_sb_real(sb, b);
        } else if (!isnan(t)) {
            vnd_sb_printf(sb, " AND vnd_smp.ts %s ", op);
            vnd_sb_real(sb, t);
        }
    }
    vnd_sb_printf(sb, ")\n");
    vnd_diag_stats(sb, "vnd_r", o->by_flow ? "flow, t" : "t", NULL, false);
    return 0;
}

const struct vnd_diag_app vnd_diag_rtt = {
    .name = "rtt",
    .summary = "RTT at a capture point: data segment to the ACK that first covers it",
    .usage = "-t TABLE [--slot S] [--by-flow] [--where EXPR] [--kind K]",
    .need = VND_NEED_TABLE,
    .timed = true,
    .build = build,
    .run = vnd_diag_rtt_step,
};
