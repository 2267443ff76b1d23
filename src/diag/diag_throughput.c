/* diag_throughput.c — `throughput`: packets, payload bytes and bits/s per
 * time slot (paper §3.3.1, Throughput), over the table or per flow. */
#include "diag/diag.h"

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
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
