/* output.h — result rows as an aligned table, CSV or JSON.
 *
 * Every command that prints rows (query, diag, simulate, the tabled's
 * /v1/query) goes through here, so the three formats look the same
 * everywhere.  Cells are written one at a time, row by row; CSV and JSON
 * stream, the table format holds rows until vnd_out_finish() to size its
 * columns. */
#ifndef VND_OUTPUT_OUTPUT_H
#define VND_OUTPUT_OUTPUT_H

#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>

enum vnd_fmt { VND_FMT_TABLE, VND_FMT_CSV, VND_FMT_JSON };

/* "table", "csv" or "json" → 0 and *out; anything else → -1. */
int vnd_fmt_parse(const char *s, enum vnd_fmt *out);

struct vnd_out;

/* A writer of `fmt` to `f` (not closed by vnd_out_finish). */
struct vnd_out *vnd_out_new(FILE *f, enum vnd_fmt fmt);

/* Column names, once, before the first cell; copied. */
void vnd_out_columns(struct vnd_out *o, int n, const char *const *names);

void vnd_out_null(struct vnd_out *o);
void vnd_out_int(struct vnd_out *o, int64_t v);
void vnd_out_real(struct vnd_out *o, double v);
void vnd_out_text(struct vnd_out *o, const char *s);
void vnd_out_end_row(struct vnd_out *o);

/* Columns from `stmt`, then every row it yields.  Stops early, returning
 * the SQLite error code, when a step fails (an interrupted query says
 * SQLITE_INTERRUPT); SQLITE_DONE when all rows were written. */
int vnd_out_stmt(struct vnd_out *o, sqlite3_stmt *stmt);

/* Rows written so far. */
int64_t vnd_out_rows(const struct vnd_out *o);

/* Flushes what is held, closes the JSON array, frees `o` (NULL is fine). */
void vnd_out_finish(struct vnd_out *o);

#endif
