/* packed.c — a packed table's block format (see packed.h). */
#include "store/packed.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

enum { TAG_NULL, TAG_INT, TAG_REAL, TAG_TEXT, TAG_BLOB, TAG_SAME, TAG_IP4, TAG_IP6, TAG_XREAL,
       TAG_COUNT };
/* the version written; versions 1 (no address tags), 2 (no TAG_XREAL)
 * and 3 (a tag before each value, no row header) are read too */
enum { VERSION = 4 };

/* A REAL is written as TAG_XREAL when its bits XOR the row before's take
 * fewer varint bytes than its own 8: up to 49 bits, 7 bytes. */
#define XREAL_MAX (UINT64_C(1) << 49)

/* What a column held in the row before, when a number (prev_num's bits) */
enum { PREV_OTHER, PREV_INT, PREV_REAL };

/* room for n more bytes */
static uint8_t *reserve(struct vnd_packed_block *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = vnd_xrealloc(b->p, cap);
        b->cap = cap;
    }
    return b->p + b->len;
}

/* Writes v as a varint at o: past it. */
static inline uint8_t *varint_at(uint8_t *o, uint64_t v)
{
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    return o;
}

/* The first and the last w bytes of a and b alike (w <= n, w <= 8): two
 * loads each side, which overlap when n < 2w. */
static inline bool ends_same(const uint8_t *a, const uint8_t *b, size_t n, size_t w)
{
    uint64_t x = 0, y = 0, p = 0, q = 0;
    memcpy(&x, a, w);
    memcpy(&y, b, w);
    memcpy(&p, a + n - w, w);
    memcpy(&q, b + n - w, w);
    return !((x ^ y) | (p ^ q));
}

/* memcmp() == 0 for the short values of a row, without a call per column
 * (libc's memcmp was an eighth of the writer's time, a byte loop a
 * twentieth of the collector's): eight bytes at a time, and the tail as
 * one load that overlaps what was compared (a byte loop over it was a
 * sixth of vnd_packed_add on IPFIX rows, their addresses 8 to 15 bytes) */
static inline __attribute__((always_inline)) bool same(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n >= 8) {
        uint64_t x, y, d = 0;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            d |= x ^ y;
        }
        return !d && ends_same(a, b, n, 8);     /* the last 8: the tail */
    }
    if (n >= 4)
        return ends_same(a, b, n, 4);
    if (n >= 2)
        return ends_same(a, b, n, 2);
    return n == 0 || a[0] == b[0];
}

/* The row header's bits (version 4). */
enum {
    HEAD_SAME_TAGS = 1,     /* the row's tags are the row before's: none written */
    HEAD_NEXT = 2,          /* its rowid is the row before's + 1: no delta written */
    HEAD_BITS = 3
};

/* Grows the per-column memory of the row before to ncols columns, the
 * new columns' zeroed (the tags' fix-up reads every column's offset). */
static void grow_columns(struct vnd_packed_block *b, int ncols)
{
    size_t n = (size_t)ncols, was = (size_t)b->prev_cols;
#define GROW(a)                                                   \
    do {                                                          \
        b->a = vnd_xrealloc(b->a, n * sizeof *b->a);              \
        memset(b->a + was, 0, (n - was) * sizeof *b->a);          \
    } while (0)
    GROW(prev_off);
    GROW(prev_len);
    GROW(prev_num);
    GROW(prev_kind);
    GROW(prev_tag);
    GROW(full_tag);
    GROW(row_tag);
#undef GROW
    b->prev_cols = ncols;
}

void vnd_packed_add(struct vnd_packed_block *b, int64_t rowid, const struct vnd_value *v,
                    int ncols)
{
    if (!b->n) {
        b->len = 0;
        *reserve(b, 1) = VERSION;
        b->len = 1;
        b->first = rowid;
        b->last = rowid;
    }
    if (ncols > b->prev_cols)
        grow_columns(b, ncols);
    /* room for the row's fixed-size parts at once (its header, a delta of
     * at most 10 bytes, its tags, at most 16 bytes a value), then written
     * through one pointer: a capacity check per value was a quarter of
     * the writer's time, and a pass over the row to size it a tenth;
     * text and blobs check for their bytes */
    size_t ntag = ((size_t)ncols + 1) / 2;
    size_t row = b->len;
    uint8_t *o = reserve(b, 1 + 10 + ntag + (size_t)ncols * 16) + 1;
    uint8_t head = 0;
    uint64_t delta = (uint64_t)rowid - (uint64_t)b->last;
    if (b->n && delta == 1)
        head |= HEAD_NEXT;
    else
        o = varint_at(o, delta);
    /* the values, where they go when the tags repeat the row before's
     * (moved up for the tags when not) */
    size_t vals = (size_t)(o - b->p);
    b->last = rowid;
    b->n++;
    bool later = b->n > 1;
    uint8_t *tag = b->row_tag;
    for (int c = 0; c < ncols; c++) {
        uint8_t *start = o;
        switch (v[c].type) {
        case VND_SQL_INTEGER: {
            /* the same as the row before's: compared as a number, not
             * encoded and compared as bytes (the same tags either way) */
            uint64_t u = (uint64_t)v[c].i;
            bool same_int = later && b->prev_kind[c] == PREV_INT && b->prev_num[c] == u;
            b->prev_num[c] = u;
            b->prev_kind[c] = PREV_INT;
            b->prev_len[c] = 0;         /* not a value same() may compare with */
            if (same_int) {
                tag[c] = TAG_SAME;
            } else {
                tag[c] = TAG_INT;
                o = varint_at(o, (u << 1) ^ (uint64_t)(v[c].i >> 63));   /* zigzag */
            }
            continue;
        }
        case VND_SQL_REAL: {
            /* times: a flow's start, end and arrival differ from the row
             * before's in their low bits only, so their XOR is a short
             * varint (IPFIX rows: 27 bytes of 52 were times, now 10) */
            uint64_t u, x;
            memcpy(&u, &v[c].d, 8);
            bool after_real = later && b->prev_kind[c] == PREV_REAL;
            x = u ^ b->prev_num[c];
            b->prev_num[c] = u;
            b->prev_kind[c] = PREV_REAL;
            b->prev_len[c] = 0;
            if (after_real && !x) {
                tag[c] = TAG_SAME;
            } else if (after_real && x < XREAL_MAX) {
                tag[c] = TAG_XREAL;
                o = varint_at(o, x);
            } else {
                tag[c] = TAG_REAL;
                u = htole64(u);         /* one store, not eight */
                memcpy(o, &u, 8);
                o += 8;
            }
            continue;
        }
        case VND_SQL_TEXT:
        case VND_SQL_BLOB:
            /* its length and bytes, and the rest of the row's fixed room */
            if (v[c].slen > 15) {     /* more than the 16 bytes each column has */
                size_t at = (size_t)(o - b->p);
                b->len = at;
                o = reserve(b, 10 + v[c].slen + (size_t)(ncols - c) * 16 + ntag);
                start = o;
            }
            tag[c] = v[c].type == VND_SQL_TEXT ? TAG_TEXT : TAG_BLOB;
            o = varint_at(o, v[c].slen);
            if (v[c].slen)
                memcpy(o, v[c].s, v[c].slen);
            o += v[c].slen;
            break;
        case VND_SQL_ADDR:
            /* its 4 or 16 bytes, as they came (not its text: 5 bytes for
             * an IPv4 address, not 9 to 16) */
            if (v[c].slen == 4) {
                tag[c] = TAG_IP4;
                memcpy(o, v[c].s, 4);
                o += 4;
            } else if (v[c].slen == 16) {
                tag[c] = TAG_IP6;
                memcpy(o, v[c].s, 16);
                o += 16;
            } else {
                tag[c] = TAG_NULL;
            }
            break;
        default:
            tag[c] = TAG_NULL;
            break;
        }
        b->prev_kind[c] = PREV_OTHER;
        size_t len = (size_t)(o - start), off = (size_t)(start - b->p);
        if (later && len && b->prev_len[c] == len && b->full_tag[c] == tag[c]
            && same(b->p + b->prev_off[c], start, len)) {
            tag[c] = TAG_SAME;
            o = start;
        } else if (tag[c] != TAG_NULL) {
            b->full_tag[c] = tag[c];
            b->prev_off[c] = off;
            b->prev_len[c] = len;
        } else {
            b->prev_len[c] = 0;         /* nothing same() may compare with */
        }
    }
    /* the tags: none when they are the row before's (rows of flow records
     * repeat theirs: 13 of a row's 42 bytes were tags), else two a byte */
    if (later && same(tag, b->prev_tag, (size_t)ncols)) {
        head |= HEAD_SAME_TAGS;
    } else {
        uint8_t *tags = b->p + vals;
        memmove(tags + ntag, tags, (size_t)(o - tags));
        o += ntag;
        for (size_t i = 0; i < ntag; i++) {
            int c = 2 * (int)i;
            tags[i] = (uint8_t)(tag[c] | (c + 1 < ncols ? tag[c + 1] << 4 : 0));
        }
        memcpy(b->prev_tag, tag, (size_t)ncols);
        /* this row's values moved up with the rest (every earlier row's
         * lie before `vals`) */
        for (int c = 0; c < ncols; c++)
            if (b->prev_off[c] >= vals)
                b->prev_off[c] += ntag;
    }
    b->p[row] = head;
    b->len = (size_t)(o - b->p);
}

void vnd_packed_clear(struct vnd_packed_block *b)
{
    b->len = 0;
    b->n = 0;
}

void vnd_packed_free(struct vnd_packed_block *b)
{
    free(b->p);
    free(b->prev_off);
    free(b->prev_len);
    free(b->prev_num);
    free(b->prev_kind);
    free(b->prev_tag);
    free(b->full_tag);
    free(b->row_tag);
    memset(b, 0, sizeof *b);
}

/* ---- reading ---- */

/* A varint at *p (before end): 0 and *p past it, or -1. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t c = *(*p)++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

int vnd_packed_open(struct vnd_packed_reader *r, const uint8_t *p, size_t n, int64_t first,
                    uint8_t *room)
{
    if (!p || n < 1 || p[0] < 1 || p[0] > VERSION || !room)
        return -1;
    r->version = p[0];
    r->room = room;
    r->p = p + 1;
    r->end = p + n;
    r->rowid = first;
    r->started = 0;
    r->ncols = 0;
    return 0;
}

/* Skips a value of `tag` at *p: 0, or -1 when it does not fit or the tag
 * is not a value's. */
static int skip_value(uint8_t tag, const uint8_t **p, const uint8_t *end)
{
    uint64_t n;
    switch (tag) {
    case TAG_NULL: return 0;
    case TAG_INT:
    case TAG_XREAL: return get_varint(p, end, &n);
    case TAG_REAL:
        if (end - *p < 8)
            return -1;
        *p += 8;
        return 0;
    case TAG_TEXT:
    case TAG_BLOB:
        if (get_varint(p, end, &n) || n > (uint64_t)(end - *p))
            return -1;
        *p += n;
        return 0;
    case TAG_IP4:
    case TAG_IP6:
        n = tag == TAG_IP4 ? 4 : 16;
        if ((uint64_t)(end - *p) < n)
            return -1;
        *p += n;
        return 0;
    default: return -1;
    }
}

/* The reader's room (packed.h): each column's rebuilt REAL, the tag of
 * its value, and the tag its row gave it. */
static uint8_t *real_room(const struct vnd_packed_reader *r, int c)
{
    return r->room + (size_t)c * 8;
}

static uint8_t *value_tags(const struct vnd_packed_reader *r)
{
    return r->room + (size_t)r->ncols * 8;
}

static uint8_t *row_tags(const struct vnd_packed_reader *r)
{
    return r->room + (size_t)r->ncols * 9;
}

/* Column c's value at *p, of the row's tag t: col[c] and its value's tag
 * set, *p past it.  TAG_SAME keeps the row before's; TAG_XREAL rebuilds
 * the REAL from the row before's.  0, or -1 for damage. */
static inline int column(struct vnd_packed_reader *r, const uint8_t **col, int c, uint8_t t,
                         bool first)
{
    uint8_t *vt = value_tags(r);
    if (t == TAG_SAME)
        return first ? -1 : 0;          /* col[c] still points at the row before's */
    if (t == TAG_XREAL) {
        uint64_t x, u;
        if (first || vt[c] != TAG_REAL || get_varint(&r->p, r->end, &x) || x >= XREAL_MAX)
            return -1;
        memcpy(&u, col[c], 8);                  /* little-endian, as written */
        u = htole64(le64toh(u) ^ x);
        uint8_t *at = real_room(r, c);          /* col[c] may be here: read first */
        memcpy(at, &u, 8);
        col[c] = at;
        return 0;
    }
    vt[c] = t;
    col[c] = r->p;
    return skip_value(t, &r->p, r->end);
}

int vnd_packed_next(struct vnd_packed_reader *r, const uint8_t **col, int ncols)
{
    if (r->p >= r->end)
        return 0;
    if (r->started && ncols != r->ncols)
        return -1;
    r->ncols = ncols;
    bool first = !r->started;
    uint8_t head = 0;
    uint64_t delta = 1;
    if (r->version >= 4) {
        head = *r->p++;
        if (head & ~HEAD_BITS || (first && head))
            return -1;
    }
    if (!(head & HEAD_NEXT) && get_varint(&r->p, r->end, &delta))
        return -1;
    /* rowids grow within a block: only the first row's delta is 0 */
    if ((delta == 0) != first || delta > (uint64_t)INT64_MAX - (uint64_t)r->rowid)
        return -1;
    r->started = 1;
    r->rowid += (int64_t)delta;
    if (r->version < 4) {
        /* a tag before each value */
        for (int c = 0; c < ncols; c++) {
            if (r->p >= r->end || column(r, col, c, *r->p++, first))
                return -1;
        }
        return 1;
    }
    uint8_t *rt = row_tags(r);
    if (!(head & HEAD_SAME_TAGS)) {
        size_t ntag = ((size_t)ncols + 1) / 2;
        if ((size_t)(r->end - r->p) < ntag)
            return -1;
        for (size_t i = 0; i < ntag; i++) {
            uint8_t lo = r->p[i] & 0xf, hi = r->p[i] >> 4;
            if (lo >= TAG_COUNT || hi >= TAG_COUNT)
                return -1;
            rt[2 * i] = lo;
            if (2 * i + 1 < (size_t)ncols)
                rt[2 * i + 1] = hi;
            else if (hi)
                return -1;              /* the unused half of the last byte */
        }
        r->p += ntag;
    }
    for (int c = 0; c < ncols; c++)
        if (column(r, col, c, rt[c], first))
            return -1;
    return 1;
}

void vnd_packed_value(const struct vnd_packed_reader *r, const uint8_t *const *col, int c,
                      struct vnd_value *out)
{
    /* the row was checked by vnd_packed_next */
    const uint8_t *p = col[c];
    uint8_t tag = value_tags(r)[c];
    uint64_t u = 0;
    memset(out, 0, sizeof *out);
    out->type = VND_SQL_NULL;
    switch (tag) {
    case TAG_INT:
        get_varint(&p, r->end, &u);
        out->type = VND_SQL_INTEGER;
        out->i = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
        break;
    case TAG_REAL:
        memcpy(&u, p, 8);
        u = le64toh(u);
        out->type = VND_SQL_REAL;
        memcpy(&out->d, &u, 8);
        break;
    case TAG_TEXT:
    case TAG_BLOB:
        get_varint(&p, r->end, &u);
        out->type = tag == TAG_TEXT ? VND_SQL_TEXT : VND_SQL_BLOB;
        out->s = (const char *)p;
        out->slen = (size_t)u;
        break;
    case TAG_IP4:
    case TAG_IP6:
        out->type = VND_SQL_ADDR;
        out->s = (const char *)p;
        out->slen = tag == TAG_IP4 ? 4 : 16;
        break;
    default: break;
    }
}
