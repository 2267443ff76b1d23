/* packed.h — many rows kept in one: tables of flow records at collector
 * rates.
 *
 * SQLite spends about 0.4 µs on each row it inserts (the VDBE program,
 * the binds, the B-tree), two thirds of an IPFIX record's whole budget at
 * nfcapd's 2.4 M records/s.  A packed table T keeps up to VND_PACKED_ROWS
 * rows in one row of a blocks table, "T:packed" (a name no tenant table
 * can have), and shows them as T again through a read-only virtual table
 * (module vnd_packed): tenants query T like any other table, with the
 * same columns, types and rows, in rowid order.
 *
 * The blocks table: `last` INTEGER PRIMARY KEY (the rowid of the block's
 * last row: store.h's rowid slots select blocks as they select rows, as a
 * block never holds two slots' rows), `first`, `n`, `ncols`, `rows` BLOB.
 * A block's bytes, version 3: the byte 3, then per row the varint
 * (rowid − previous rowid; the first row: rowid − first, 0), then per
 * column a tag: 0 NULL; 1 INTEGER, a zigzag varint; 2 REAL, 8 bytes
 * little-endian; 3 TEXT and 4 BLOB, a varint length and the bytes; 5 the
 * same value as the row before (a flow's addresses, protocol and ports
 * repeat: a third fewer bytes to write, twice, through the WAL); 6 and 7
 * an IPv4 or IPv6 address, its 4 or 16 bytes (VND_SQL_ADDR), read as
 * its text; 8 a REAL whose row before was a REAL too, as a varint (under
 * 2^49) of its bits XOR that REAL's (times close to the row before's
 * differ in their low bits: 3 bytes, not 9).  Versions 1 (tags 0 to 5)
 * and 2 (tags 0 to 7) are read as well.
 *
 * Every connection that reads a packed table needs the module
 * (vnd_packed_register: the store's and the guard's connections do it);
 * other SQLite clients, its shell too, load it as the extension
 * vnd_packed.so (src/ext/). */
#ifndef VND_STORE_PACKED_H
#define VND_STORE_PACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields/registry.h"

#define VND_PACKED_ROWS 1024          /* rows in a block at most */
#define VND_PACKED_BYTES (256 * 1024) /* a block closes past this many bytes */
#define VND_PACKED_SUFFIX ":packed"   /* T's blocks are in "T:packed" */

/* A block being filled (zeroed to start). */
struct vnd_packed_block {
    uint8_t *p;
    size_t len, cap;
    int64_t first, last;    /* rowids of its first and last row */
    int n;                  /* rows in it */
    /* where each column's last value written out in full starts, and
     * its length */
    size_t *prev_off, *prev_len;
    /* each column's number in the row before (when it was one), in bits,
     * and whether it was an INTEGER or a REAL */
    uint64_t *prev_num;
    uint8_t *prev_kind;
    int prev_cols;
};

/* Appends a row (rowid greater than the block's last) of `ncols` values. */
void vnd_packed_add(struct vnd_packed_block *b, int64_t rowid, const struct vnd_value *v,
                    int ncols);
/* Empties the block, keeping its memory. */
void vnd_packed_clear(struct vnd_packed_block *b);
void vnd_packed_free(struct vnd_packed_block *b);

/* Reading a block's rows: vnd_packed_open on its bytes, then
 * vnd_packed_next for each row, which points col[0..ncols) at the row's
 * values; vnd_packed_value decodes one. */
struct vnd_packed_reader {
    const uint8_t *p, *end;
    int64_t rowid;
    int started;
    uint8_t *reals;
};

/* The room a reader of ncols columns needs to rebuild REALs written as
 * the row before's XOR something (9 bytes a column). */
#define VND_PACKED_REALS(ncols) ((size_t)(ncols) * 9)

/* 0, or -1 when the bytes are not a block of a version this reads.
 * `reals`: VND_PACKED_REALS(ncols) bytes of the caller's, kept while the
 * reader's values are read (a REAL written as an XOR points there). */
int vnd_packed_open(struct vnd_packed_reader *r, const uint8_t *p, size_t n, int64_t first,
                    uint8_t *reals);
/* 1: a row; 0: no more; -1: the block is damaged (a length past its end,
 * an unknown tag, a rowid that does not grow). */
int vnd_packed_next(struct vnd_packed_reader *r, const uint8_t **col, int ncols);
/* The value at `at` (a col[] pointer of the current row; `end` the
 * block's end); text, blobs and addresses (VND_SQL_ADDR, their bytes)
 * point into the block. */
void vnd_packed_value(const uint8_t *at, const uint8_t *end, struct vnd_value *out);

/* Registers the vnd_packed module on a connection: SQLITE_OK or
 * SQLite's error.  `declaring` (may be NULL) is called with true before
 * and false after the module declares a table's columns, which an
 * authorizer sees as a CREATE TABLE (the guard lets that one through). */
struct sqlite3;
int vnd_packed_register(struct sqlite3 *db, void (*declaring)(void *arg, bool on), void *arg);

#endif
