/* filter.h — the filter language of parse configurations (paper Fig. 7).
 *
 *   exp  = not exp | exp and exp | exp or exp | ( exp ) | prim
 *   prim = field op value | field in {v1, v2, ...}
 *   op   = "=" | "!=" | "<" | "<=" | ">" | ">="
 *
 * Values are numbers (decimal or 0x hex), IPv4/IPv6 addresses, CIDR
 * prefixes (`ip.src = 10.0.0.0/24` is membership), MACs, protocol names
 * (tcp, udp, icmp, icmpv6, arp, ... for ip.proto; arp/ipv4/ipv6/vlan for
 * eth.type) and quoted strings.  A comparison on a field the packet does
 * not have is false (so `not tcp.dst = 80` is true for UDP packets).
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

/* True when `pkt` matches.  Never allocates, never fails. */
bool vnd_filter_match(const struct vnd_filter *f, const struct vnd_pkt *pkt);

/* The filter as an SQL boolean expression over a trace table's columns.
 * `column_of(field, ctx)` names the column holding a registry field (NULL
 * when the table has none: the error then names the field).  A name in the
 * filter that is not a registry field is taken as a column name as it is.
 * `pg` selects PostgreSQL's dialect (inet containment for CIDR) instead of
 * SQLite's.  Returns a malloc'd string, or NULL and *err. */
char *vnd_filter_to_sql(const struct vnd_filter *f,
                        const char *(*column_of)(enum vnd_field field, void *ctx),
                        void *ctx, bool pg, char **err);

void vnd_filter_free(struct vnd_filter *f);

#endif
