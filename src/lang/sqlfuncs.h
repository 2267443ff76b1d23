/* sqlfuncs.h — SQL functions the filter's SQLite form relies on.
 *
 *   vnd_in_prefix(addr, prefix)
 *       1 when the address text `addr` (10.0.0.6, fe80::1) lies in
 *       `prefix` (10.0.0.0/24, fe80::/64, or a plain address), else 0;
 *       addresses of the other family are never inside.  NULL when either
 *       argument is NULL or `addr` is not an address; an error when
 *       `prefix` is not a prefix.  Deterministic.
 *
 *   vnd_dds_merge(sketch)                      (aggregate)
 *   vnd_dds_quantile(sketch, q)
 *       DDSketch (util/ddsketch.h), the rollups' RTT sketches: the merge
 *       of a column of serialized sketches (NULLs skipped), and the
 *       nearest-rank q-quantile one answers.  An error for a BLOB that is
 *       not a sketch.
 *
 *   printf(format, ...), format(format, ...)
 *       SQLite's own, result for result, except that a result longer than
 *       the connection's SQLITE_LIMIT_LENGTH (or a width or precision over
 *       it) is an SQLITE_TOOBIG error and running out of memory an
 *       SQLITE_NOMEM error, where SQLite's returns NULL.
 */
#ifndef VND_LANG_SQLFUNCS_H
#define VND_LANG_SQLFUNCS_H

#include <sqlite3.h>

/* Registers the functions on `db`.  Returns an SQLite result code. */
int vnd_sql_register_functions(sqlite3 *db);

#endif
