/* filter.h — the filter language of parse configurations (paper Fig. 7).
 *
 *   exp  = not exp | exp and exp | exp or exp | ( exp ) | prim
 *   prim = field op value | field in {v1, v2, ...}
 *   op   = "=" | "!=" | "<" | "<=" | ">" | ">="
 *
 * `not` binds tighter than `and`, `and` tighter than `or`; `&&`, `||` and
 * `!` are accepted too, and keywords are case-insensitive.
 *
 * Values are typed by the field (src/fields/registry.h):
 *   numbers    decimal or 0x hex; ip.proto and outer.ip.proto also take
 *              tcp udp icmp icmpv6 gre sctp esp ah, eth.type takes
 *              ip ipv4 arp ipv6 vlan
 *   timestamp  seconds, with a fraction (1370000000.25)
 *   addresses  10.0.0.6, fe80::1, and prefixes: `ip.src = 10.0.0.0/24` is
 *              membership, `!=` non-membership; a v4 prefix never matches
 *              a v6 address; addresses take only =, != and in
 *   MACs       02:00:00:00:00:01 (=, != and in)
 *   strings    "quoted" or 'quoted' (backslash escapes), or a bare word
 *
 * Shorthands, as in tcpdump: `tcp` means ip.proto = 6, `udp` 17, `icmp` 1,
 * `icmpv6` 58, `ip` ip.version = 4, `ipv6` ip.version = 6, `arp`
 * eth.type = 0x806.
 *
 * A comparison on a field the packet does not have is false — `!=` too:
 * absent is not "not equal".  So `tcp.dst != 80` is false for UDP packets,
 * while `not tcp.dst = 80` is true for them.  The SQL form keeps this
 * meaning for NULL columns.
 *
 * A filter is compiled once into a flat program evaluated per packet with
 * no allocation. */
#ifndef VND_LANG_FILTER_H
#define VND_LANG_FILTER_H

#include <stdbool.h>

#include "decode/packet.h"

struct vnd_filter;

/* Compiles `text`.  `origin` names where the text came from (a file name,
 * "--where"); `line` and `col` are the position of text[0] there, so
 * errors read "origin:line:col: expected a value after '=', found '}'".
 * Returns NULL and a malloc'd message in *err on error. */
struct vnd_filter *vnd_filter_compile(const char *text, const char *origin,
                                      int line, int col, char **err);

/* As vnd_filter_compile, for filters over a trace table's columns (`vnd
 * diag filter --where`): a plain name that is not a registry field
 * (src_ip, dst_port) is a column, and its value's type is read from how it
 * is written (a bare protocol word like tcp is its number, other bare
 * words are strings).  Such a filter is meant for vnd_filter_to_sql: a
 * comparison on a column is false in vnd_filter_match. */
struct vnd_filter *vnd_filter_compile_where(const char *text, const char *origin,
                                            int line, int col, char **err);

/* True when `pkt` matches.  Never allocates, never fails. */
bool vnd_filter_match(const struct vnd_filter *f, const struct vnd_pkt *pkt);

/* The filter as an SQL boolean expression over a trace table's columns.
 * `column_of(field, ctx)` names the column holding a registry field (NULL
 * when the table has none: the error then names the field).  A name in the
 * filter that is not a registry field (vnd_filter_compile_where) is taken
 * as a column name as it is.  Column names are written double-quoted and
 * must be plain identifiers; values become literals (addresses and MACs as
 * quoted text, protocol names as numbers, strings with '' escaping).
 * A column that several fields share (tcp.dst and udp.dst in dst_port)
 * holds whichever was present, so `tcp.dst != 80` there also sees UDP
 * ports: add `tcp` to the filter when that matters.
 * `pg` selects PostgreSQL's dialect (`"col"::inet <<= 'p'::inet` for a
 * prefix) instead of SQLite's (`vnd_in_prefix("col", 'p')`, see
 * lang/sqlfuncs.h).  Returns a malloc'd string, or NULL and *err. */
char *vnd_filter_to_sql(const struct vnd_filter *f,
                        const char *(*column_of)(enum vnd_field field, void *ctx),
                        void *ctx, bool pg, char **err);

/* True when a comparison of the filter reads a field `pred` is true of. */
bool vnd_filter_reads(const struct vnd_filter *f, bool (*pred)(enum vnd_field field));

void vnd_filter_free(struct vnd_filter *f);

#endif
