/* diag_loss.c — `loss`: packets that entered a hop and never left it
 * (paper §3.3.1, Packet loss: an anti-join of input and output).
 *
 * With both directions captured, a packet enters from the side it travels
 * from.  Each direction of each flow is oriented by its matched packets
 * (most were seen first in --in, or first in --out); a direction with no
 * matched packet takes the opposite of its reverse direction, and one with
 * neither is taken to travel --in to --out.  A packet counts as lost when
 * it entered on its side and is no end of a pair (vnd_diag_pairs: the
 * nearest packet with its key on the other side within --window seconds,
 * unless that one is nearer still to a packet of another flow), and
 * counts as late, not lost, when it left all the same after more than
 * --window (vnd_diag_late: a hop that stalls delays packets, it does not
 * lose them).  Matching
 * by payload cannot follow packets without payload (pure ACKs): they are
 * left out.  So is a packet that entered less than --window before the
 * other side's table was last stored (vnd_diag_stored): where it
 * went is not known yet, as at a live trace's edge, or where one table
 * server's last batch is not in (the last slot of testbed_pg.sh once
 * counted 24 such packets lost, 10 of them really). */
#include "diag/diag.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

/* orientation of a direction by its own pairs, else its reverse's; the
 * joins are null-safe (ICMP rows have no ports) */
static void orient_join(const struct vnd_diag_ctx *c, struct vnd_sb *sb, const char *side)
{
    static const char *const col[4] = {"src_ip", "src_port", "dst_ip", "dst_port"};
    static const char *const rev[4] = {"dst_ip", "dst_port", "src_ip", "src_port"};
    char a[32], b[32];
    for (int r = 0; r < 2; r++) {
        const char *alias = r ? "vnd_r" : "f";
        vnd_sb_printf(sb, "%sLEFT JOIN vnd_orient_%s %s ON ", r ? "\n   " : " ", side, alias);
        for (int i = 0; i < 4; i++) {
            snprintf(a, sizeof a, "%s.%s", alias, col[i]);
            snprintf(b, sizeof b, "x.%s", r ? rev[i] : col[i]);
            vnd_sb_printf(sb, "%s", i ? " AND " : "");
            vnd_diag_same(c, sb, a, b);
        }
    }
    vnd_sb_printf(sb, "\n");
}

/* "EXISTS (...)": e's key and time are an end of a pair: of vnd_pairs
 * for what entered from --in, of vnd_back (the same rule the other way)
 * for what entered from --out.  In a WHERE clause, EXISTS and NOT EXISTS
 * are semi- and anti-joins that PostgreSQL hashes on the key; in a select
 * list they would be a subquery run per row. */
static void found(struct vnd_sb *sb, bool out)
{
    vnd_sb_printf(sb, "EXISTS (SELECT 1 FROM %s y WHERE y.i_k = e.k AND y.%s_ts = e.ts)",
                  out ? "vnd_back" : "vnd_pairs", out ? "o" : "i");
}

/* " AND x.ts + window <= until": x entered at least --window before the
 * other side's rows were last stored (nothing when that is unknown) */
static void judged(const struct vnd_diag_ctx *c, struct vnd_sb *sb, double until)
{
    if (isnan(until))
        return;
    vnd_sb_printf(sb, " AND x.ts + ");
    vnd_sb_real(sb, c->o->window);
    vnd_sb_printf(sb, " <= ");
    vnd_sb_real(sb, until);
}

static int build(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err)
{
    const struct vnd_diag_opts *o = c->o;
    if (o->by == VND_BY_ORDER) {
        *err = vnd_diag_errf("loss matches packets by id or payload, not --by order");
        return -1;
    }
    if (o->list) {
        const char *need[] = {"seq", "payload_len", NULL};
        if (vnd_diag_require(c, o->in, need, err) || vnd_diag_require(c, o->out, need, err))
            return -1;
    }
    if (vnd_diag_hop_prologue(c, sb, true, err))
        return -1;
    /* +1: the direction travels in→out */
    vnd_sb_printf(sb, ",\nvnd_orient_i AS (SELECT i_src_ip AS src_ip, i_src_port AS src_port,"
                      " i_dst_ip AS dst_ip, i_dst_port AS dst_port,\n"
                      "       CASE WHEN sum(CASE WHEN d >= 0 THEN 1 ELSE -1 END) >= 0"
                      " THEN 1 ELSE -1 END AS s\n"
                      "  FROM vnd_pairs GROUP BY i_src_ip, i_src_port, i_dst_ip, i_dst_port),\n"
                      "vnd_orient_o AS (SELECT o_src_ip AS src_ip, o_src_port AS src_port,"
                      " o_dst_ip AS dst_ip, o_dst_port AS dst_port,\n"
                      "       CASE WHEN sum(CASE WHEN d >= 0 THEN 1 ELSE -1 END) >= 0"
                      " THEN 1 ELSE -1 END AS s\n"
                      "  FROM vnd_pairs GROUP BY o_src_ip, o_src_port, o_dst_ip, o_dst_port),\n"
                      "vnd_ei AS (SELECT 1 AS dirn, x.ts, x.k, x.src_ip, x.src_port, x.dst_ip,"
                      " x.dst_port\n  FROM vnd_pi x");
    orient_join(c, sb, "i");
    vnd_sb_printf(sb, "  WHERE coalesce(f.s, -vnd_r.s, 1) = 1");
    judged(c, sb, vnd_diag_stored(c, 1));
    vnd_sb_printf(sb, "),\n"
                      "vnd_eo AS (SELECT -1 AS dirn, x.ts, x.k, x.src_ip, x.src_port, x.dst_ip,"
                      " x.dst_port\n  FROM vnd_po x");
    orient_join(c, sb, "o");
    vnd_sb_printf(sb, "  WHERE coalesce(f.s, -vnd_r.s, 1) = -1");
    judged(c, sb, vnd_diag_stored(c, 0));
    vnd_sb_printf(sb, "),\n");
    /* every entered packet once: left (lost 0) or not (lost 1) */
    vnd_sb_printf(sb, "vnd_entered AS (");
    for (int k = 0; k < 4; k++) {
        bool out = k >= 2, lost = k & 1;
        vnd_sb_printf(sb, "%sSELECT e.dirn, e.ts, e.k, e.src_ip, e.src_port, e.dst_ip, e.dst_port,"
                          " %d AS lost FROM %s e\n    WHERE %s", k ? "\n  UNION ALL " : "",
                      lost, out ? "vnd_eo" : "vnd_ei", lost ? "NOT " : "");
        found(sb, out);
    }
    vnd_sb_printf(sb, ")");
    vnd_diag_late_free(sb);
    vnd_sb_printf(sb, ",\nvnd_lost AS (SELECT dirn, ts, k FROM vnd_entered WHERE lost = 1),\n");
    vnd_diag_late(c, sb, "vnd_lost");
    vnd_sb_printf(sb, "\n");
    const char *left = "vnd_entered e CROSS JOIN vnd_origin\n"
                       "  LEFT JOIN vnd_late l ON l.dirn = e.dirn AND l.ts = e.ts AND l.k = e.k";
    if (o->list) {
        vnd_sb_printf(sb, "SELECT ");
        vnd_diag_slot_expr(c, sb, "e.ts", "vnd_origin.t0");
        vnd_sb_printf(sb, " AS t, e.ts, ");
        vnd_diag_dir_expr(c, sb, "e.dirn");
        vnd_sb_printf(sb, " AS dir, e.k AS %s, e.src_ip, e.src_port, e.dst_ip, e.dst_port,"
                          " l.after AS left_after\n"
                          "FROM %s WHERE e.lost = 1\n"
                          "ORDER BY e.ts, e.dirn DESC, e.k, e.src_ip, e.src_port, e.dst_ip,"
                          " e.dst_port",
                      o->by == VND_BY_PAYLOAD ? "payload_hash" : "id", left);
        return 0;
    }
    vnd_sb_printf(sb, "SELECT ");
    vnd_diag_slot_expr(c, sb, "e.ts", "vnd_origin.t0");
    vnd_sb_printf(sb, " AS t, ");
    vnd_diag_dir_expr(c, sb, "e.dirn");
    vnd_sb_printf(sb, " AS dir,\n       count(*) AS packets,"
                      " sum(CASE WHEN l.after IS NULL THEN e.lost ELSE 0 END) AS lost,"
                      " count(l.after) AS late,\n"
                      "       sum(CASE WHEN l.after IS NULL THEN e.lost ELSE 0 END) * 1.0"
                      " / count(*) AS loss_rate\n"
                      "FROM %s GROUP BY 1, 2 ORDER BY 2, 1", left);
    return 0;
}

/* ---- what is not judged yet ---- */

int vnd_diag_loss_sides(const struct vnd_diag_ctx *c, struct vnd_loss_side w[2], char **err)
{
    const struct vnd_diag_opts *o = c->o;
    bool payload = o->by == VND_BY_PAYLOAD;
    const char *side[2] = {o->in, o->out};
    for (int k = 0; k < 2; k++) {
        w[k] = (struct vnd_loss_side){side[k], side[1 - k], NAN, NULL, 0};
        if (!side[0] || !side[1])
            continue;
        w[k].stored = vnd_diag_stored(c, 1 - k);
        if (isnan(w[k].stored))
            continue;
        /* the rows loss reads (vnd_pairs' vnd_pi / vnd_po) that its
         * x.ts + window <= stored leaves out; the first bound, a
         * millisecond looser, lets the ts index find them */
        struct vnd_sb sb = {0};
        vnd_sb_printf(&sb, "SELECT count(*) FROM ");
        if (vnd_diag_source(c, &sb, side[k], true, err)) {
            vnd_sb_free(&sb);
            vnd_diag_loss_sides_free(w);
            return -1;
        }
        vnd_sb_printf(&sb, " s WHERE %s AND s.ts >= ",
                      payload ? "payload_len > 0" : "id IS NOT NULL");
        vnd_sb_real(&sb, w[k].stored - o->window - 1e-3);
        vnd_sb_printf(&sb, " AND s.ts + ");
        vnd_sb_real(&sb, o->window);
        vnd_sb_printf(&sb, " > ");
        vnd_sb_real(&sb, w[k].stored);
        w[k].count_sql = vnd_sb_take(&sb);
    }
    return 0;
}

void vnd_diag_loss_count_waits(sqlite3 *db, struct vnd_loss_side w[2])
{
    for (int k = 0; k < 2; k++) {
        sqlite3_stmt *st = NULL;
        if (w[k].count_sql && sqlite3_prepare_v2(db, w[k].count_sql, -1, &st, NULL) == SQLITE_OK
            && sqlite3_step(st) == SQLITE_ROW)
            w[k].rows = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
}

void vnd_diag_loss_sides_out(struct vnd_out *out, const struct vnd_loss_side w[2])
{
    json_t *arr = json_array();
    for (int k = 0; k < 2; k++)
        if (w[k].rows > 0)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:f, s:I}", "table", w[k].table,
                                                 "other", w[k].other, "other_stored",
                                                 w[k].stored, "rows", (json_int_t)w[k].rows));
    if (json_array_size(arr))
        vnd_out_record_json(out, "waiting", arr);
    else
        json_decref(arr);
}

void vnd_diag_loss_sides_note(FILE *f, const struct vnd_loss_side w[2])
{
    for (int k = 0; k < 2; k++)
        if (w[k].rows > 0)
            fprintf(f, "not judged yet: %lld rows of %s, less than the window before %s's "
                       "last store (%.6f): a packet among them that entered there may still "
                       "leave through %s\n",
                    w[k].rows, w[k].table, w[k].other, w[k].stored, w[k].other);
}

void vnd_diag_loss_sides_free(struct vnd_loss_side w[2])
{
    for (int k = 0; k < 2; k++) {
        free(w[k].count_sql);
        w[k].count_sql = NULL;
    }
}

const struct vnd_diag_app vnd_diag_loss = {
    .name = "loss",
    .summary = "packets that entered a hop and never left (or left late): per slot and direction",
    .usage = "--in TABLE --out TABLE [--by id|payload] [--slot S] [--list] [--window S]",
    .need = VND_NEED_INOUT,
    .timed = true,
    .build = build,
    .run = vnd_diag_loss_step,
};
