/* diag_delay.c — `delay`: one-hop delay from the input and output traces
 * of a hop, joined by packet ID (paper §3.5 case 1: the hop keeps ip.id and
 * tcp.seq) or by payload hash (case 2: a NAT or L4 balancer rewrites the
 * headers but not the payload).
 *
 * Both tables usually see both directions of a flow, so each matched
 * packet is filed under the direction it travelled: whichever table saw it
 * first is where it entered the hop.  Its delay is the time between. */
#include "diag/diag.h"

#include <stdlib.h>

void vnd_diag_dir_expr(const struct vnd_diag_ctx *c, struct vnd_sb *sb, const char *d)
{
    struct vnd_sb a = {0}, b = {0};
    vnd_sb_printf(&a, "%s>%s", c->o->in, c->o->out);
    vnd_sb_printf(&b, "%s>%s", c->o->out, c->o->in);
    vnd_sb_printf(sb, "CASE WHEN %s >= 0 THEN ", d);
    vnd_sb_str(sb, a.s);
    vnd_sb_printf(sb, " ELSE ");
    vnd_sb_str(sb, b.s);
    vnd_sb_printf(sb, " END");
    vnd_sb_free(&a);
    vnd_sb_free(&b);
}

/* A row of vnd_dl up to its v: "t, dir, [flow,] " of a packet entered at
 * time `ts`, in direction `d` (>= 0: --in to --out); its flow's label is
 * of the columns prefixed `pa` (`pb` where d < 0, when given). */
static void dl_row(const struct vnd_diag_ctx *c, struct vnd_sb *sb, const char *ts,
                   const char *d, const char *pa, const char *pb)
{
    vnd_diag_slot_expr(c, sb, ts, "vnd_origin.t0");
    vnd_sb_printf(sb, " AS t,\n       ");
    vnd_diag_dir_expr(c, sb, d);
    vnd_sb_printf(sb, " AS dir,\n       ");
    if (!c->o->by_flow)
        return;
    if (pb)
        vnd_sb_printf(sb, "CASE WHEN %s >= 0 THEN ", d);
    vnd_diag_flow_label(sb, pa);
    if (pb) {
        vnd_sb_printf(sb, " ELSE ");
        vnd_diag_flow_label(sb, pb);
        vnd_sb_printf(sb, " END");
    }
    vnd_sb_printf(sb, " AS flow, ");
}

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    if (o->by == VND_BY_ORDER) {
        *err = vnd_diag_errf("delay joins packets by id or payload; --by order only"
                             " pairs connections (use correlate)");
        return -1;
    }
    if (vnd_diag_hop_prologue(c, sb, false, err))
        return -1;
    /* rows no pair starts or ends at: packets that may have left late */
    vnd_diag_late_free(sb);
    vnd_sb_printf(sb, ",\nvnd_cand AS (");
    for (int k = 0; k < 2; k++)
        vnd_sb_printf(sb, "%sSELECT %d AS dirn, x.ts, x.k, x.src_ip, x.src_port, x.dst_ip,"
                          " x.dst_port FROM vnd_free_%c x", k ? "\n  UNION ALL " : "",
                      k ? -1 : 1, k ? 'o' : 'i');
    vnd_sb_printf(sb, "),\n");
    vnd_diag_late(c, sb, "vnd_cand");
    vnd_sb_printf(sb, ",\nvnd_dl AS (SELECT ");
    dl_row(c, sb, "(CASE WHEN d >= 0 THEN i_ts ELSE o_ts END)", "d", "i_", "o_");
    vnd_sb_printf(sb, "abs(d) AS v FROM vnd_pairs CROSS JOIN vnd_origin\n"
                      "  UNION ALL SELECT ");
    /* a late packet: no delay (NULL), counted in its slot as late */
    dl_row(c, sb, "e.ts", "e.dirn", "e.", NULL);
    vnd_sb_printf(sb, "NULL\n    FROM vnd_cand e JOIN vnd_late l ON l.dirn = e.dirn AND l.ts = e.ts"
                      " AND l.k = e.k CROSS JOIN vnd_origin)\n");
    vnd_diag_stats(sb, "vnd_dl", o->by_flow ? "dir, flow, t" : "dir, t", NULL, true);
    return 0;
}

const struct vnd_diag_app vnd_diag_delay = {
    .name = "delay",
    .summary = "one-hop delay per slot and direction, input joined to output",
    .usage = "--in TABLE --out TABLE [--by id|payload] [--slot S] [--by-flow]"
             " [--window S]",
    .need = VND_NEED_INOUT,
    .timed = true,
    .build = build,
    .run = vnd_diag_delay_step,
};
