/* parseconf.h — parse configurations (paper Fig. 7): which packets of
 * which traces become rows of which table, with which columns.
 *
 *   Trace ID all | Trace ID tr_1 [, tr_2 ...]
 *   Table ID flows                 (optional; default: a table per trace)
 *   Filter: ip.proto = tcp or ip.proto = udp     (optional; may continue
 *           on following lines)
 *   Fields: timestamp as ts, ip.src as src_ip, tcp.src as src_port,
 *           udp.src as src_port    (may continue on following lines)
 *
 * Each `Trace ID` line starts a rule.  Keywords are case-insensitive, the
 * colon after them is optional, `#` starts a comment.  Trace ids are
 * letters, digits, '_', '.' and '-', separated by commas and/or blanks.
 * A line that does not start with a keyword continues the Filter: or
 * Fields: above it; errors inside point at the line and column where the
 * tenant wrote the text.
 *
 * Without `as`, a field's column is its name as written with '.' turned
 * into '_' (ip.src -> ip_src).  Column and table names are SQL
 * identifiers ([A-Za-z_][A-Za-z0-9_]*, at most 63 characters), quoted
 * wherever VND writes them into SQL, so keywords (select, check) work too;
 * table names starting with vnd_ or sqlite_ and the names of SQLite's
 * built-in tables (pragma_*, json_each, dbstat, ...) are reserved, and so
 * are the column names rowid, oid and _rowid_.  A rule makes at most
 * VND_PARSE_MAX_COLUMNS columns.  Several fields may share a
 * column (the first one present in a packet fills it) when their SQL types
 * agree; the same field twice in one column is an error.  Rules that write
 * the same table (one Table ID, or per-trace tables of overlapping traces)
 * must have the same columns. */
#ifndef VND_LANG_PARSECONF_H
#define VND_LANG_PARSECONF_H

#include "fields/registry.h"
#include "lang/filter.h"

/* SQLite's limit on the columns of a table and of a row written
 * (SQLITE_MAX_COLUMN, 2000), less the rowid VND writes with each row. */
#define VND_PARSE_MAX_COLUMNS 1999

struct vnd_parse_rule {
    char **traces;          /* trace ids this rule applies to */
    int ntraces;            /* 0: every trace ("Trace ID all") */
    char *table;            /* NULL: one table per trace, named after it */
    struct vnd_filter *filter;  /* NULL: every packet */
    char *filter_text;      /* as written (NULL without a filter) */
    char *fields_text;      /* the field list as written, for vnd_meta */
    int nfields;
    enum vnd_field *fields; /* in the order written */
    int *field_col;         /* fields[i] fills column field_col[i] */
    int ncolumns;           /* distinct column names, first-appearance order */
    char **columns;
    enum vnd_sql_type *coltypes;   /* the first field's type per column */
    int line;               /* line of the rule's `Trace ID` */
};

struct vnd_parse_conf {
    int nrules;
    struct vnd_parse_rule *rules;
};

/* Parses `text` (named `origin` in errors).  Returns 0 and *out, or -1 and
 * a malloc'd "origin:line:col: ..." message in *err. */
int vnd_parseconf_parse(const char *text, const char *origin,
                        struct vnd_parse_conf **out, char **err);

/* The configuration used without -c: every trace, every packet, one table
 * per trace with the standard columns
 *   ts, id, src_ip, dst_ip, proto, src_port, dst_port, seq, ack, flags,
 *   payload_len
 * that the diagnostic applications rely on. */
struct vnd_parse_conf *vnd_parseconf_default(void);

/* The default configuration's text (what vnd_parseconf_default parses). */
extern const char vnd_parseconf_default_text[];

/* The default of a flow-record trace (Mode ipfix): ts (the flow's end),
 * src_ip, dst_ip, proto, src_port, dst_port, flags (the OR of the flow's
 * TCP flags), start_ts, end_ts, packets, bytes (IP), l2_bytes (Ethernet),
 * bytes_sq (the sum of the IP packets' squared lengths). */
extern const char vnd_parseconf_flow_default_text[];

/* True when the rule applies to trace `id`. */
bool vnd_parse_rule_covers(const struct vnd_parse_rule *r, const char *id);

void vnd_parseconf_free(struct vnd_parse_conf *c);

#endif
