/* rollup_records.h — the rollup of a table of flow records (Mode ipfix),
 * kept at ingest beside it as T__rollup: what `vnd diag throughput`
 * reads of the records, per second of the clock, so that its answer does
 * not grow with the records (docs/rollups.md, "Flow records").
 *
 * Throughput spreads each record's packets and bytes evenly over its
 * start to end (diag_throughput.c).  A second of the clock, [k, k + 1),
 * gets the share w of each record that overlaps it, so its row holds
 *   packets  sum w p,   bytes  sum w y,   sq  sum w q
 * (q the record's sum of squares as the interval takes it,
 * vnd_samp_record_q_sql), `records` the records with w > 0 there and
 * `firsts` those of them whose first such second it is; and of those
 * firsts the largest ts, `newest`, and `settle`, the largest span plus
 * how far behind the newest ts seen the record came: once the table's
 * newest ts is that far past a second's end, no record still to come
 * reaches it, as far as the records so far tell (--follow prints a slot
 * then, vnd_diag_records_done).  These add up:
 * a slot of m seconds from a whole-second time 0 is the sum of its
 * seconds' rows, and the records it rests on are its `firsts` and the
 * records of its first second that began before it (a record's seconds
 * are consecutive).  The slots are the clock's seconds, not counted from
 * the first record, because records come in the order they end, and a
 * later one may start earlier: the apps' time 0 of a record table is the
 * whole second of its first start (vnd_diag_origin).
 *
 * A row of a second is rewritten while the second is among the last
 * VND_REC_ROLLUP_KEEP seen; a record that touches one let go adds another
 * row of that second, which readers sum. */
#ifndef VND_INGEST_ROLLUP_RECORDS_H
#define VND_INGEST_ROLLUP_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "fields/registry.h"
#include "ingest/rowpipe.h"
#include "lang/parseconf.h"

/* A record whose start lies more than this before its end is taken as a
 * point at its end (a time the exporter got wrong: spread over years, one
 * record would be a billion slots); the apps' SQL does the same
 * (vnd_diag_record_start). */
#define VND_RECORD_SPAN_MAX 86400.0

/* The longest span the rollup spreads: a record of a longer one (an
 * exporter's time gone wrong, or a hostile one: the rollup adds to a cell
 * a second) stops it, and throughput reads the records.  OVS's records
 * span about their ActiveTimeout at most (the export comes at the next
 * poll after it), which VND sets to an hour at most (lang/collectconf.h):
 * a minute more. */
#define VND_REC_ROLLUP_SPAN_MAX 3660.0

/* rollup_status of a records rollup: it answers throughput of the whole
 * table, per slot of whole seconds */
#define VND_ROLLUP_STATUS_RECORDS "rollup-records"

struct vnd_rec_rollup;
struct vnd_store;

/* True when a table of these columns gets one: it has ts, start_ts,
 * end_ts, packets and bytes (bytes_sq is read when there). */
bool vnd_rec_rollup_kept_for(const char *const *columns, int ncolumns);
/* The rollup table `name` of store st for rows of `rule`, made in the
 * open transaction; NULL and *err on failure, NULL alone when the rule
 * lacks a column. */
struct vnd_rec_rollup *vnd_rec_rollup_new(struct vnd_store *st, const char *name,
                                          const struct vnd_parse_rule *rule, char **err);
void vnd_rec_rollup_free(struct vnd_rec_rollup *r);
/* The rollup table's columns after its rowid: names, types, *n. */
void vnd_rec_rollup_columns(const char *const **names, const enum vnd_sql_type **types, int *n);
/* One stored record: its values by the rule's column. */
void vnd_rec_rollup_row(struct vnd_rec_rollup *r, const struct vnd_value *vals);
/* The rows of the seconds touched since the last call, into the pipe. */
void vnd_rec_rollup_emit(struct vnd_rec_rollup *r, struct vnd_rowpipe *pipe);
const char *vnd_rec_rollup_status(const struct vnd_rec_rollup *r);
/* The records it has seen (vnd_meta's rollup_packets). */
uint64_t vnd_rec_rollup_rows(const struct vnd_rec_rollup *r);

#endif
