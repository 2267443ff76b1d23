/* registry.h — the field registry: names, aliases, SQL types, values.
 *
 * Every name a tenant may write in a parse configuration or a filter is
 * here: the paper's names (ip.src, tcp.seq, ...) and Wireshark's as
 * aliases (ip.src, tcp.srcport, ...).  The registry also turns a decoded
 * packet's field into the value stored in a trace table: addresses as text
 * in their usual notation, numbers as integers, timestamps as REAL seconds.
 */
#ifndef VND_FIELDS_REGISTRY_H
#define VND_FIELDS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/packet.h"

enum vnd_field_type {
    VND_FT_UINT,    /* unsigned integer (fits in 63 bits unless noted) */
    VND_FT_REAL,    /* seconds as a double (timestamp) */
    VND_FT_MAC,     /* 6 bytes, shown 02:00:00:00:00:01 */
    VND_FT_IP,      /* 4 or 16 bytes, shown 10.0.0.6 or fe80::1 */
    VND_FT_STR,     /* text (dns.qname, trace) */
    VND_FT_SACK,    /* SACK blocks, shown "left-right,left-right" */
};

/* The stored types of columns; BLOB and NULL occur only in values read
 * back (a cursor's cells), never as a field's type. */
/* VND_SQL_ADDR: an IPv4 or IPv6 address as its 4 or 16 bytes (s, slen),
 * stored as TEXT: a collector's rows carry it so, and a store makes the
 * text (SQLite's row tables, PostgreSQL) or keeps the bytes (a packed
 * table, whose reader makes the text: packed.h). */
enum vnd_sql_type { VND_SQL_INTEGER, VND_SQL_REAL, VND_SQL_TEXT, VND_SQL_BLOB, VND_SQL_NULL,
                    VND_SQL_ADDR };

struct vnd_field_info {
    enum vnd_field id;
    const char *name;        /* canonical (paper) name */
    const char *aliases;     /* space-separated Wireshark names, or NULL */
    enum vnd_field_type type;
    const char *doc;         /* one line for `vnd fields` */
};

/* Info of a field by id. */
const struct vnd_field_info *vnd_field_info(enum vnd_field f);

/* Looks a field up by canonical name or alias (case-insensitive); `len`
 * bytes of `name` are used.  Returns NULL when unknown. */
const struct vnd_field_info *vnd_field_lookup(const char *name, size_t len);

enum vnd_sql_type vnd_field_sql_type(enum vnd_field f);

/* True when the field's value is read from a packet's L4 payload (the
 * payload's hash, DNS), so a copy cut to its headers would lose it.
 * payload.len is not: it comes from the headers' lengths. */
bool vnd_field_needs_payload(enum vnd_field f);
const char *vnd_sql_type_name(enum vnd_sql_type t);

/* A field's value as a trace table stores it: one of i, d, s as `type`
 * says.  A union: 24 bytes, not 40 (the collectors move every value of
 * every row through a block between two threads, and the cache misses of
 * a 40-byte value were an eighth of the IPFIX collector's time). */
struct vnd_value {
    union {
        int64_t i;
        double d;
        const char *s;       /* TEXT, BLOB: points into the caller's buffer */
    };
    size_t slen;
    enum vnd_sql_type type;
};

#define VND_VALUE_TEXT_MAX 320 /* enough for any text field */

/* The same type and value (text and blobs by their bytes). */
bool vnd_value_eq(const struct vnd_value *a, const struct vnd_value *b);

/* Fills `out` with field `f` of `pkt`; text is formatted into `buf` (at
 * least VND_VALUE_TEXT_MAX bytes).  Returns 0 when the field is absent (the
 * value is NULL), 1 when present. Derived fields are computed here. */
int vnd_field_value(const struct vnd_pkt *pkt, enum vnd_field f,
                    char *buf, struct vnd_value *out);

/* Text forms; each returns the length written (buffers as noted). */
size_t vnd_format_mac(const uint8_t mac[6], char buf[18]);
size_t vnd_format_ip(const uint8_t *addr, uint32_t n, char buf[46]);
/* A VND_SQL_ADDR value's text, as its TEXT column shows it. */
size_t vnd_format_addr(const struct vnd_value *v, char buf[46]);

/* The hash payload.hash stores: 64 bits of a fast non-cryptographic hash
 * over the captured payload bytes. */
uint64_t vnd_payload_hash(const uint8_t *p, size_t n);

#endif
