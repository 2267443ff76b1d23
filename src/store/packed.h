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
 * A block's bytes, version 4: the byte 4, then per row
 *   a header byte: bit 0, the row's tags are the row before's (none
 *     follow); bit 1, its rowid is the row before's + 1 (no delta
 *     follows); the first row's is 0;
 *   the varint (rowid − previous rowid; the first row: rowid − first, 0);
 *   the tags, two a byte (column 2k in the low four bits, 2k+1 in the
 *     high; an odd last one leaves the high bits 0);
 *   each column's value, as its tag says: 0 NULL, nothing; 1 INTEGER, a
 *     zigzag varint; 2 REAL, 8 bytes little-endian; 3 TEXT and 4 BLOB, a
 *     varint length and the bytes; 5 the same value as the row before,
 *     nothing (a flow's addresses, protocol and ports repeat); 6 and 7 an
 *     IPv4 or IPv6 address, its 4 or 16 bytes (VND_SQL_ADDR, read as its
 *     text); 8 a REAL whose row before was a REAL too, as a varint (under
 *     2^49) of its bits XOR that REAL's (times close to the row before's
 *     differ in their low bits: 3 bytes, not 9).
 * The rows of flow records repeat their tags (a column's type, and
 * whether it repeats, rarely changes), so a row of OVS's IPFIX record
 * takes 29 bytes where version 3, a tag byte before each value and the
 * delta always, took 42: less to write, twice, through the WAL.
 * Versions 1 (tags 0 to 5), 2 (0 to 7) and 3 (0 to 8), with no header
 * and a tag byte before each value, are read as well.
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
    /* the row before's tags; the tag of each column's last value written
     * out in full; this row's tags */
    uint8_t *prev_tag, *full_tag, *row_tag;
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
    int version;
    int ncols;
    uint8_t *room;
};

/* The room a reader of ncols columns needs: per column, a REAL rebuilt
 * from the row before's XOR something, its value's tag and the tag its
 * row gave it (10 bytes a column). */
#define VND_PACKED_ROOM(ncols) ((size_t)(ncols) * 10)

/* 0, or -1 when the bytes are not a block of a version this reads.
 * `room`: VND_PACKED_ROOM(ncols) bytes of the caller's, kept while the
 * reader's values are read. */
int vnd_packed_open(struct vnd_packed_reader *r, const uint8_t *p, size_t n, int64_t first,
                    uint8_t *room);
/* 1: a row; 0: no more; -1: the block is damaged (a length past its end,
 * an unknown tag, a rowid that does not grow).  ncols is the same for
 * every row of a block. */
int vnd_packed_next(struct vnd_packed_reader *r, const uint8_t **col, int ncols);
/* Column c's value in the current row (col as vnd_packed_next set it);
 * text, blobs and addresses (VND_SQL_ADDR, their bytes) point into the
 * block. */
void vnd_packed_value(const struct vnd_packed_reader *r, const uint8_t *const *col, int c,
                      struct vnd_value *out);

/* Registers the vnd_packed module on a connection: SQLITE_OK or
 * SQLite's error.  `declaring` (may be NULL) is called with true before
 * and false after the module declares a table's columns, which an
 * authorizer sees as a CREATE TABLE (the guard lets that one through). */
struct sqlite3;
int vnd_packed_register(struct sqlite3 *db, void (*declaring)(void *arg, bool on), void *arg);

#endif
