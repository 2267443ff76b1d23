/* rollup.h — per-trace rollups kept at ingest: answers that do not grow
 * with the packet count (docs/rollups.md).
 *
 * For a trace table T with the standard columns, ingest keeps T__rollup:
 * per 1-second slot (from the table's first row) and flow (src_ip,
 * src_port, dst_ip, dst_port, proto): packets, payload bytes, the TCP
 * flags seen (OR), the first and last ts; and per slot, flow (the data
 * direction) and kind, the RTT samples of `vnd diag rtt` (the same
 * machine, diag_rtt_step.c) as count, sum, min, max and a DDSketch
 * (util/ddsketch.h).  Rows are deltas: each batch adds one row per cell
 * it touched, readers sum (and merge the sketches of) equal keys.
 *
 * The rollup is listed in T's vnd_meta row: `rollup` names it,
 * `rollup_status` says what it can answer (VND_ROLLUP_STATUS_*, then
 * after ": " why not more), `rollup_packets` the rows of T it holds.  The
 * apps (diag_rollup.c) answer from it only when that agrees with T's
 * packets_stored and T has no other trace. */
#ifndef VND_INGEST_ROLLUP_H
#define VND_INGEST_ROLLUP_H

#include <stdbool.h>
#include <stdint.h>
#include "fields/registry.h"
#include "ingest/rowpipe.h"
#include "lang/parseconf.h"

#define VND_ROLLUP_SUFFIX "__rollup"
#define VND_ROLLUP_SLOT 1.0                 /* seconds */
/* what the rollup answers: everything; totals and slots but no RTT;
 * totals only (no slots: rows before the first); nothing */
#define VND_ROLLUP_STATUS_ALL "rollup"
#define VND_ROLLUP_STATUS_NO_RTT "rollup-no-rtt"
#define VND_ROLLUP_STATUS_TOTALS "rollup-totals"
#define VND_ROLLUP_STATUS_NONE "rollup-none"

struct vnd_rollup;
struct vnd_store;

/* The rollup of table `table` of store `st` written by `rule`, made (and
 * an old one of that name dropped) in the open transaction, through the
 * store's provider (SQLite or PostgreSQL); NULL when the rule lacks a
 * column the rollup needs (no rollup: not an error; docs/rollups.md), or
 * NULL and *err.  `records`: the table holds flow records, and its rollup
 * is rollup_records.h's (the calls below go there). */
struct vnd_rollup *vnd_rollup_new(struct vnd_store *st, const char *table,
                                  const struct vnd_parse_rule *rule, bool records, char **err);
void vnd_rollup_free(struct vnd_rollup *r);
/* True when a table of these columns gets a rollup (it has the standard
 * ts, src_ip, src_port, dst_ip, dst_port, proto and payload_len). */
bool vnd_rollup_kept_for(const char *const *columns, int ncolumns);
/* The rollup table's columns after its rowid: names and types, *n. */
void vnd_rollup_columns(const char *const **names, const enum vnd_sql_type **types, int *n);
/* Drops table's rollup if there is one (a trace parsed again or added to
 * keeps none: its rows would no longer be the rollup's).  0 or an errno. */
int vnd_rollup_drop(struct vnd_store *st, const char *table, char **err);

/* One stored row of the table: its values by the rule's column, as the
 * row pipe got them (type VND_SQL_NULL: NULL). */
void vnd_rollup_row(struct vnd_rollup *r, const struct vnd_value *vals);

/* The table's packets are sampled 1 in n from now on: n > 1 ends its RTT
 * samples (status rollup-no-rtt).  Sampling separates a segment from its
 * ACK, so pairs would be made of a segment and a later one's ACK, long
 * RTTs that no connection had; the rtt app refuses such a table, and a
 * tenant reading the rollup must not find them there either. */
void vnd_rollup_sampled(struct vnd_rollup *r, uint32_t n);

/* The trace ended: the RTT samples still pending are counted. */
void vnd_rollup_finish(struct vnd_rollup *r);

/* The rows of the cells touched since the last call, into the pipe (their
 * accumulators start again from zero). */
void vnd_rollup_emit(struct vnd_rollup *r, struct vnd_rowpipe *pipe);

/* Queues the deletion of the table's rows of rowids [ranges[i][0],
 * ranges[i][1]) (copied) on the writer thread, in the open batch. */
void vnd_rollup_queue_delete(struct vnd_rowpipe *pipe, struct vnd_store *st, const char *table,
                             const int64_t (*ranges)[2], size_t n);
/* For the table's vnd_meta row: the rollup's table, its status text
 ("rollup", or "rollup-no-rtt: why" ...) and the rows it holds. */
const char *vnd_rollup_table(const struct vnd_rollup *r);
const char *vnd_rollup_status(const struct vnd_rollup *r);
uint64_t vnd_rollup_packets(const struct vnd_rollup *r);

#endif
