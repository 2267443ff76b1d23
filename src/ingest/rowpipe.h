/* rowpipe.h — rows handed from the parsing thread to a writer thread.
 *
 * Decoding and extracting a packet's columns costs about as much as
 * SQLite's INSERT of the row, so `vnd parse` and vnd-tabled run the two
 * on two cores: the caller fills blocks of rows (values already in their
 * stored form), a writer thread binds and steps them.  Blocks are recycled;
 * memory is bounded by ROWPIPE_BLOCKS blocks whatever the capture size. */
#ifndef VND_INGEST_ROWPIPE_H
#define VND_INGEST_ROWPIPE_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "fields/registry.h"

struct vnd_rowpipe;

/* Rows are written with `insert` statements the caller prepared on the
 * store's connection. */
struct vnd_rowpipe *vnd_rowpipe_new(void);
void vnd_rowpipe_free(struct vnd_rowpipe *p);

/* Starts a row for `insert` with `ncols` columns, returns a buffer the
 * caller may format text into (VND_VALUE_TEXT_MAX bytes); then one
 * vnd_rowpipe_put per column, in order; then vnd_rowpipe_end_row. */
void vnd_rowpipe_begin_row(struct vnd_rowpipe *p, sqlite3_stmt *insert, int ncols);
char *vnd_rowpipe_text_buf(struct vnd_rowpipe *p);
/* `v` NULL: SQL NULL.  Text must lie in the buffer text_buf returned. */
void vnd_rowpipe_put(struct vnd_rowpipe *p, const struct vnd_value *v);
void vnd_rowpipe_end_row(struct vnd_rowpipe *p);

/* Waits until every row handed in is written.  Returns 0, or the SQLite
 * error code of the first failed step since the last call (*msg gets
 * SQLite's text, malloc'd). */
int vnd_rowpipe_drain(struct vnd_rowpipe *p, char **msg);

#endif
