/* diag_filter.c — `filter`: the rows matching a filter written in the
 * parse-configuration language (paper §3.3.1, Filter). */
#include "diag/diag.h"

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const char *need[] = {NULL};
    if (vnd_diag_require(c, c->o->table, need, err))
        return -1;
    vnd_sb_printf(sb, "SELECT * FROM ");
    if (vnd_diag_source(c, sb, c->o->table, true, err))
        return -1;
    vnd_sb_printf(sb, " s");
    if (vnd_diag_has_column(c, c->o->table, "ts"))
        vnd_sb_printf(sb, " ORDER BY ts");
    return 0;
}

const struct vnd_diag_app vnd_diag_filter = {
    .name = "filter",
    .summary = "rows matching a filter of the parse-config language",
    .usage = "-t TABLE --where 'EXPR'   (e.g. 'ip.proto = tcp and tcp.dst = 80')",
    .need = VND_NEED_TABLE | VND_NEED_WHERE,
    .build = build,
};
