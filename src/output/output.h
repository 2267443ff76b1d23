/* output.h — result rows as an aligned table, CSV or JSON.
 *
 * Every command that prints rows (query, diag, simulate, the tabled's
 * /v1/query) goes through here, so the three formats look the same
 * everywhere.  Cells are written one at a time, row by row; CSV and JSON
 * stream, the table format holds rows until vnd_out_finish() to size its
 * columns.
 *
 * Nothing is dropped (docs/output.md):
 * - Text is written with its length.  Bytes that are not valid UTF-8 become
 *   the four characters \xNN (lower-case hex), and a backslash followed by
 *   'x' in the text becomes \x5c, so every \xNN in the output is an escape.
 *   NUL is "\u0000" in JSON and \x00 in CSV and table; the table also
 *   escapes the other control characters.
 * - A BLOB is the text x'0a0b' (lower-case hex) in every format.
 * - JSON objects take the column names made unique with
 *   vnd_out_unique_names(): a repeated name N becomes N_2, N_3, ... */
#ifndef VND_OUTPUT_OUTPUT_H
#define VND_OUTPUT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
/* NUL-terminated text; NULL s writes NULL. */
void vnd_out_text(struct vnd_out *o, const char *s);
/* n bytes of text, any bytes (escaped as above). */
void vnd_out_textn(struct vnd_out *o, const char *s, size_t n);
/* n bytes of a BLOB, written x'...'. */
void vnd_out_blob(struct vnd_out *o, const void *p, size_t n);
void vnd_out_end_row(struct vnd_out *o);

/* JSON keys for columns `names`, the rule of every JSON object made from
 * SQL rows: left to right, a column keeps its name unless an earlier
 * column has it; then it is name_K for the smallest K >= 2 that no column
 * has as its name and no earlier column was given.  So (s, s) → (s, s_2)
 * and (a, a, a_2) → (a, a_3, a_2).  Returns n malloc'd strings in a
 * malloc'd array. */
char **vnd_out_unique_names(int n, const char *const *names);

/* JSON: the rows become the member "rows" of an object,
 * {"rows":[...]}, that records (vnd_out_record) add members to.  Call
 * before vnd_out_columns; no effect on CSV and table. */
void vnd_out_object(struct vnd_out *o);

/* After the last row: a record `name` that is not a row (a verdict, say)
 * with n fields, filled with the cell functions and ended with
 * vnd_out_end_row.  JSON (after vnd_out_object): the member "name":{...}
 * after "rows"; CSV: one line "# name: {...}" holding the same JSON
 * object; table: nothing, print it as prose.  Not counted as a row. */
void vnd_out_record(struct vnd_out *o, const char *name, int n, const char *const *fields);

/* After the last row: a record `name` holding JSON value `v` (taken:
 * the caller's reference goes), written as vnd_out_record's are: JSON
 * (after vnd_out_object) the member "name":v, CSV a line "# name: v",
 * table nothing. */
struct json_t;
void vnd_out_record_json(struct vnd_out *o, const char *name, struct json_t *v);


/* One cell from a store's value (provider.h): NULL, integer, real, text
 * with its length, BLOB. */
struct vnd_value;
void vnd_out_cell(struct vnd_out *o, const struct vnd_value *v);
/* Columns from cursor `c`, then every row it yields, from any store
 * (provider.h).  Returns 0 when all rows were written, -1 when the
 * cursor failed part way (*err, and *code when not NULL, as
 * vnd_cursor_next sets them). */
struct vnd_cursor;
int vnd_out_cursor(struct vnd_out *o, struct vnd_cursor *c, int *code, char **err);
/* The format `o` writes. */
enum vnd_fmt vnd_out_format(const struct vnd_out *o);
/* Rows written so far. */
int64_t vnd_out_rows(const struct vnd_out *o);

/* Flushes what is held, closes the JSON array, frees `o` (NULL is fine). */
void vnd_out_finish(struct vnd_out *o);

/* As vnd_out_finish for a result that failed part way: the table says
 * "(cut short after N rows)" instead of "(N rows)"; JSON is left without
 * its closing bracket, so no parser takes it for a whole answer. */
void vnd_out_abandon(struct vnd_out *o);

#endif
