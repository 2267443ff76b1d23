/* rowpipe.h — rows handed from the parsing thread to a writer thread.
 *
 * Decoding and extracting a packet's columns costs about as much as
 * the store's write of the row (SQLite's INSERT), so `vnd parse` and
 * vnd-tabled run the two on two cores: the caller fills blocks of rows
 * (values already in their stored form), a writer thread hands runs of
 * them to the store's writer (provider.h).  Blocks are recycled;
 * memory is bounded by ROWPIPE_BLOCKS blocks whatever the capture size. */
#ifndef VND_INGEST_ROWPIPE_H
#define VND_INGEST_ROWPIPE_H

#include <stdbool.h>
#include <stdint.h>

#include "fields/registry.h"

struct vnd_rowpipe;

#include "store/provider.h"

/* Where a row goes: a writer of the store's provider for one table, with
 * `ncols` values per row. */
struct vnd_rowpipe_target {
    struct vnd_store_writer *writer;
    int ncols;
};

struct vnd_rowpipe *vnd_rowpipe_new(void);
void vnd_rowpipe_free(struct vnd_rowpipe *p);

/* Starts a row for `target` (which must stay valid until the next drain);
 * then one vnd_rowpipe_put per column, in order, text formatted into the
 * buffer vnd_rowpipe_text_buf returns (VND_VALUE_TEXT_MAX bytes); then
 * vnd_rowpipe_end_row. */
void vnd_rowpipe_begin_row(struct vnd_rowpipe *p, const struct vnd_rowpipe_target *target);
char *vnd_rowpipe_text_buf(struct vnd_rowpipe *p);
/* `v` NULL: SQL NULL.  Text and BLOB bytes must lie in the buffer
 * text_buf returned. */
void vnd_rowpipe_put(struct vnd_rowpipe *p, const struct vnd_value *v);
void vnd_rowpipe_end_row(struct vnd_rowpipe *p);

/* A row filled in place, for the rows of every packet or record: after
 * vnd_rowpipe_begin_row, vnd_rowpipe_cells gives the target's ncols
 * values to fill (type VND_SQL_NULL for none); text goes to text_buf as
 * above and vnd_rowpipe_text_taken counts it, before the next column's
 * text_buf; then vnd_rowpipe_end_cells.  The cells stay valid until the
 * next begin_row.  (A call and a copy per value were a tenth of an IPFIX
 * collector's instructions.) */
struct vnd_value *vnd_rowpipe_cells(struct vnd_rowpipe *p);
void vnd_rowpipe_text_taken(struct vnd_rowpipe *p, size_t n);
void vnd_rowpipe_end_cells(struct vnd_rowpipe *p, uint32_t ncols);

/* Hands `op` to the writer thread, to run after every row handed in so
 * far (and before any handed in later).  It returns 0 or an errno
 * (with a malloc'd *msg), reported like a failed row by the next drain; it
 * runs even after an earlier failure, so it can free `arg`. */
void vnd_rowpipe_run(struct vnd_rowpipe *p, int (*op)(void *arg, char **msg), void *arg);

/* True when a write failed since the last drain: for an op (run on the
 * writer thread) that must not go on after one, such as a commit. */
bool vnd_rowpipe_failed(struct vnd_rowpipe *p);

/* Waits until every row handed in is written.  Returns 0, or the error
 * code of the first failed write since the last call (*msg gets the
 * store's text, malloc'd). */
int vnd_rowpipe_drain(struct vnd_rowpipe *p, char **msg);

#endif
