/* test_parseconf.c — parse configurations: the paper's Fig. 7 example,
 * several rules, shared columns, continuation lines, comments, keyword
 * case, the default configuration, and every error with its position. */
#include "../tap.h"

#include "lang/parseconf.h"
#include "store/store.h"

static struct vnd_parse_conf *parse(const char *text)
{
    struct vnd_parse_conf *c = NULL;
    char *err = NULL;
    if (vnd_parseconf_parse(text, "c.conf", &c, &err)) {
        printf("# %s\n", err);
        free(err);
        return NULL;
    }
    return c;
}

static void error_is(const char *text, const char *want)
{
    struct vnd_parse_conf *c = (struct vnd_parse_conf *)1;
    char *err = NULL;
    int rc = vnd_parseconf_parse(text, "c.conf", &c, &err);
    char name[48];
    snprintf(name, sizeof name, "%s", text);
    for (char *p = name; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = '|';
    CHECK(rc == -1 && c == NULL, "refused: %s", name);
    CHECK_EQ_STR(err, want, "error for: %s", name);
    free(err);
}

static void columns_are(const struct vnd_parse_rule *r, const char *const *want, int n,
                        const char *what)
{
    CHECK_EQ_INT(r->ncolumns, n, "%s: %d columns", what, n);
    for (int i = 0; i < n && i < r->ncolumns; i++)
        CHECK_EQ_STR(r->columns[i], want[i], "%s: column %d", what, i);
}

static void figure7(void)
{
    /* Fig. 7(b), as printed (one item per line) */
    const char *text =
        "Trace ID all\n"
        "Filter: ip.proto = tcp\n"
        "or ip.proto = udp\n"
        "Fields: timestamp as ts,\n"
        "ip.src as src_ip,\n"
        "ip.dst as dst_ip,\n"
        "ip.proto as proto,\n"
        "tcp.src as src_port,\n"
        "tcp.dst as dst_port,\n"
        "udp.src as src_port,\n"
        "udp.dst as dst_port\n";
    struct vnd_parse_conf *c = parse(text);
    CHECK(c != NULL, "Fig. 7 parses");
    if (!c)
        return;
    CHECK_EQ_INT(c->nrules, 1, "one rule");
    const struct vnd_parse_rule *r = &c->rules[0];
    CHECK_EQ_INT(r->ntraces, 0, "Trace ID all");
    CHECK(vnd_parse_rule_covers(r, "anything"), "all covers any trace");
    CHECK(r->table == NULL, "no Table ID: a table per trace");
    CHECK(r->filter != NULL, "a filter");
    CHECK_EQ_STR(r->filter_text, "ip.proto = tcp or ip.proto = udp", "filter text, one line");
    CHECK_EQ_STR(r->fields_text, "timestamp as ts, ip.src as src_ip, ip.dst as dst_ip, "
                 "ip.proto as proto, tcp.src as src_port, tcp.dst as dst_port, "
                 "udp.src as src_port, udp.dst as dst_port", "fields text, one line");
    static const char *const cols[] = {"ts", "src_ip", "dst_ip", "proto", "src_port",
                                       "dst_port"};
    columns_are(r, cols, 6, "Fig. 7");
    CHECK_EQ_INT(r->nfields, 8, "8 fields");
    static const enum vnd_field fields[] = {VND_F_TIMESTAMP, VND_F_IP_SRC, VND_F_IP_DST,
                                            VND_F_IP_PROTO, VND_F_TCP_SRC, VND_F_TCP_DST,
                                            VND_F_UDP_SRC, VND_F_UDP_DST};
    static const int fcol[] = {0, 1, 2, 3, 4, 5, 4, 5};
    for (int i = 0; i < 8 && i < r->nfields; i++) {
        CHECK_EQ_INT(r->fields[i], fields[i], "field %d", i);
        CHECK_EQ_INT(r->field_col[i], fcol[i], "field %d's column", i);
    }
    static const enum vnd_sql_type types[] = {VND_SQL_REAL, VND_SQL_TEXT, VND_SQL_TEXT,
                                              VND_SQL_INTEGER, VND_SQL_INTEGER,
                                              VND_SQL_INTEGER};
    for (int i = 0; i < 6 && i < r->ncolumns; i++)
        CHECK_EQ_INT(r->coltypes[i], types[i], "column %d's type", i);
    CHECK_EQ_INT(r->line, 1, "rule line");

    struct vnd_pkt p;
    memset(&p, 0, sizeof p);
    vnd_pkt_set_u(&p, VND_F_IP_PROTO, 17);
    CHECK(vnd_filter_match(r->filter, &p), "the filter takes UDP");
    vnd_pkt_set_u(&p, VND_F_IP_PROTO, 1);
    CHECK(!vnd_filter_match(r->filter, &p), "the filter drops ICMP");
    vnd_parseconf_free(c);
}

static void design_example(void)
{
    /* DESIGN.md's example, comments and all */
    struct vnd_parse_conf *c = parse(
        "Trace ID all                     # or one or more trace ids\n"
        "Table ID flows                   # optional; default: one table per trace\n"
        "Filter: ip.proto = tcp or ip.proto = udp\n"
        "Fields: timestamp as ts, ip.src as src_ip, ip.dst as dst_ip, ip.proto as proto,\n"
        "        tcp.src as src_port, tcp.dst as dst_port, udp.src as src_port, "
        "udp.dst as dst_port\n");
    CHECK(c && c->nrules == 1 && c->rules[0].ncolumns == 6 && c->rules[0].nfields == 8
          && !strcmp(c->rules[0].table, "flows"), "DESIGN.md example");
    vnd_parseconf_free(c);
}

static void rules(void)
{
    const char *text =
        "# two tables from two traces\n"
        "trace id tr_1, tr_2   # a comment\n"
        "TABLE ID flows\n"
        "filter: tcp and tcp.dst = 80  # web only\n"
        "FIELDS: ip.src, ip.dst as dst, tcp.dstport\n"
        "\n"
        "  Trace   Id:  tr_3 tr-4.x\n"
        "  Fields: eth.src as Src,\n"
        "          # a comment between items\n"
        "          eth.dst\n";
    struct vnd_parse_conf *c = parse(text);
    CHECK(c != NULL, "two rules parse");
    if (!c)
        return;
    CHECK_EQ_INT(c->nrules, 2, "two rules");
    const struct vnd_parse_rule *a = &c->rules[0], *b = &c->rules[1];
    CHECK_EQ_INT(a->ntraces, 2, "rule 1: two traces");
    CHECK(a->ntraces == 2 && !strcmp(a->traces[0], "tr_1") && !strcmp(a->traces[1], "tr_2"),
          "rule 1: tr_1, tr_2");
    CHECK(vnd_parse_rule_covers(a, "tr_2") && !vnd_parse_rule_covers(a, "tr_3")
          && !vnd_parse_rule_covers(a, "TR_1"), "rule 1 covers tr_1 and tr_2 only");
    CHECK_EQ_STR(a->table, "flows", "rule 1: table");
    CHECK_EQ_STR(a->filter_text, "tcp and tcp.dst = 80", "rule 1: filter text");
    static const char *const ca[] = {"ip_src", "dst", "tcp_dstport"};
    columns_are(a, ca, 3, "rule 1");
    CHECK_EQ_INT(a->line, 2, "rule 1 line");

    CHECK_EQ_INT(b->ntraces, 2, "rule 2: two traces");
    CHECK(b->ntraces == 2 && !strcmp(b->traces[0], "tr_3") && !strcmp(b->traces[1], "tr-4.x"),
          "rule 2: tr_3 tr-4.x (blank-separated)");
    CHECK(b->table == NULL && b->filter == NULL && b->filter_text == NULL,
          "rule 2: no table, no filter");
    static const char *const cb[] = {"Src", "eth_dst"};
    columns_are(b, cb, 2, "rule 2");
    CHECK_EQ_INT(b->coltypes[0], VND_SQL_TEXT, "MAC columns are TEXT");
    CHECK_EQ_STR(b->fields_text, "eth.src as Src, eth.dst", "comments leave the fields text");
    CHECK_EQ_INT(b->line, 7, "rule 2 line");
    vnd_parseconf_free(c);

    /* the same table from two rules, with the same columns */
    c = parse("Trace ID a\nTable ID t\nFields: ip.src\n"
              "Trace ID b\nTable ID t\nFilter: udp\nFields: ip.src\n");
    CHECK(c && c->nrules == 2, "two rules may fill one table alike");
    vnd_parseconf_free(c);
    /* per-trace tables of disjoint traces may differ */
    c = parse("Trace ID a\nFields: ip.src\nTrace ID b\nFields: ip.dst\n");
    CHECK(c && c->nrules == 2, "disjoint per-trace rules may differ");
    vnd_parseconf_free(c);

    /* CRLF, keyword colons, case */
    c = parse("TRACE ID ALL\r\nFIELDS: IP.SRC AS Src, tcp.flags.syn\r\n");
    CHECK(c && c->nrules == 1 && c->rules[0].ncolumns == 2
          && !strcmp(c->rules[0].columns[0], "Src")
          && !strcmp(c->rules[0].columns[1], "tcp_flags_syn")
          && c->rules[0].fields[1] == VND_F_TCP_SYN, "CRLF and upper case");
    vnd_parseconf_free(c);

    /* quoted strings survive the text normalization */
    c = parse("Trace ID all\nFilter: dns.qname = \"a  # b\"   # comment\nFields: dns.qname\n");
    CHECK(c && !strcmp(c->rules[0].filter_text, "dns.qname = \"a  # b\""),
          "filter text keeps strings: %s", c ? c->rules[0].filter_text : "");
    vnd_parseconf_free(c);
    vnd_parseconf_free(NULL);
}

static void default_conf(void)
{
    struct vnd_parse_conf *c = vnd_parseconf_default();
    CHECK(c != NULL, "the default configuration parses");
    if (!c)
        return;
    const struct vnd_parse_rule *r = &c->rules[0];
    CHECK(c->nrules == 1 && r->ntraces == 0 && !r->filter && !r->table,
          "default: one rule, every trace, every packet");
    static const char *const cols[] = {"ts", "id", "src_ip", "dst_ip", "proto", "src_port",
                                       "dst_port", "seq", "ack", "flags", "payload_len"};
    columns_are(r, cols, 11, "default");
    CHECK_EQ_INT(r->nfields, 13, "default: 13 fields");
    CHECK_EQ_INT(r->coltypes[0], VND_SQL_REAL, "ts is REAL");
    CHECK_EQ_INT(r->coltypes[2], VND_SQL_TEXT, "src_ip is TEXT");
    CHECK_EQ_INT(r->coltypes[6], VND_SQL_INTEGER, "dst_port is INTEGER");
    CHECK(r->nfields == 13 && r->fields[1] == VND_F_PKT_ID && r->field_col[6] == 5
          && r->fields[6] == VND_F_UDP_SRC, "udp.src shares src_port");
    vnd_parseconf_free(c);
}

static void errors(void)
{
    error_is("", "c.conf:1:1: empty parse configuration: expected a 'Trace ID' line, "
             "found end of input");
    error_is("# nothing\n\n", "c.conf:3:1: empty parse configuration: expected a 'Trace ID' "
             "line, found end of input");
    error_is("Table ID t\n", "c.conf:1:1: 'Table ID' before any 'Trace ID': a rule starts "
             "with a 'Trace ID' line");
    error_is("# c\nFilter: tcp\n", "c.conf:2:1: 'Filter:' before any 'Trace ID': a rule "
             "starts with a 'Trace ID' line");
    error_is("  Fields: ip.src\n", "c.conf:1:3: 'Fields:' before any 'Trace ID': a rule "
             "starts with a 'Trace ID' line");
    error_is("hello world\n", "c.conf:1:1: expected 'Trace ID' to start a rule, found 'hello'");
    error_is("Trace ID all\n  hello\n", "c.conf:2:3: expected Trace ID, Table ID, Filter: or "
             "Fields:, found 'hello'");
    error_is("Trace ID all\nFilter: tcp\n", "c.conf:1:1: the rule has no 'Fields:' line: each "
             "'Trace ID' rule lists the fields to store, e.g. Fields: ip.src as src_ip");
    error_is("Trace ID a\nFields: ip.src\n\n  Trace ID b\n", "c.conf:4:3: the rule has no "
             "'Fields:' line: each 'Trace ID' rule lists the fields to store, e.g. Fields: "
             "ip.src as src_ip");
    error_is("Trace ID\nFields: ip.src\n",
             "c.conf:1:9: expected a trace id or 'all' after 'Trace ID', found end of line");
    error_is("Trace ID all, tr_1\n", "c.conf:1:10: 'all' cannot be combined with other "
             "trace ids");
    error_is("Trace ID tr_1,,tr_2\n", "c.conf:1:15: expected a trace id, found ','");
    error_is("Trace ID tr_1, # x\n", "c.conf:1:16: expected a trace id after ',', found end "
             "of line");
    error_is("Trace ID tr/1\n", "c.conf:1:12: unexpected character '/' in a trace id "
             "(letters, digits, '_', '.', '-')");
    error_is("Trace ID a b a\n", "c.conf:1:14: trace a is listed twice");
    error_is("Trace ID a\nTable ID 1abc\n", "c.conf:2:10: invalid table name '1abc': use "
             "letters, digits and _, not starting with a digit, at most 63 characters");
    error_is("Trace ID a\nTable ID \"x\"; drop table y\n", "c.conf:2:10: invalid table name "
             "'\"x\";': use letters, digits and _, not starting with a digit, at most 63 "
             "characters");
    error_is("Trace ID a\nTable ID vnd_meta\n", "c.conf:2:10: table name 'vnd_meta' is "
             "reserved (names starting with vnd_ or sqlite_ belong to VND and SQLite)");
    error_is("Trace ID a\nTable ID a b\n", "c.conf:2:12: expected the end of the line after "
             "the table name, found 'b'");
    error_is("Trace ID a\nTable ID\n", "c.conf:2:9: expected a table name after 'Table ID', "
             "found end of line");
    error_is("Trace ID a\nTable ID t\ntable id u\n", "c.conf:3:1: second 'Table ID' in the "
             "rule of line 1 (the first is at line 2)");
    error_is("Trace ID a\nFields: ip.src\nFilter: tcp\nFilter: udp\n", "c.conf:4:1: second "
             "'Filter:' in the rule of line 1 (the first is at line 3)");
    error_is("Trace ID a\nFields: ip.src\nFields: ip.dst\n", "c.conf:3:1: second 'Fields:' in "
             "the rule of line 1 (the first is at line 2)");
    error_is("Trace ID a\nFields:\n", "c.conf:2:8: expected a field list after 'Fields:', "
             "found end of line");
    error_is("Trace ID a\nFilter:   # nothing\nFields: ip.src\n", "c.conf:2:8: expected a "
             "filter expression after 'Filter:', found end of line");

    /* errors inside sections, on their first and continuation lines */
    error_is("Trace ID all\nFilter: ip.src = 80\nFields: ip.src\n",
             "c.conf:2:18: ip.src takes an address or prefix, found 80");
    error_is("Trace ID all\nFilter: ip.proto = tcp\n   # a comment line\n   or ip.src = 80\n"
             "Fields: ip.src\n", "c.conf:4:16: ip.src takes an address or prefix, found 80");
    error_is("Trace ID all\nFilter: ip.proto = tcp or\nFields: ip.src\n",
             "c.conf:2:26: expected a field name, 'not' or '(', found end of input");
    error_is("Trace ID all\nFields: ip.src as src,\n        ip.sorce as x\n",
             "c.conf:3:9: unknown field 'ip.sorce' (did you mean ip.src?)");
    error_is("Trace ID all\nFields: colour\n",
             "c.conf:2:9: unknown field 'colour' (`vnd fields` lists the known ones)");
    error_is("Trace ID all\nFields: ip.src as 1x\n", "c.conf:2:19: invalid column name '1x' "
             "after 'as': use letters, digits and _, not starting with a digit, at most 63 "
             "characters");
    error_is("Trace ID all\nFields: ip.src as a.b\n", "c.conf:2:19: invalid column name 'a.b' "
             "after 'as': use letters, digits and _, not starting with a digit, at most 63 "
             "characters");
    error_is("Trace ID all\nFields: ip.src as\n", "c.conf:2:18: expected a column name after "
             "'as', found end of input");
    error_is("Trace ID all\nFields: ip.src as , ip.dst\n", "c.conf:2:19: expected a column "
             "name after 'as', found ','");
    error_is("Trace ID all\nFields: ip.src as x\"; drop\n", "c.conf:2:19: invalid column name "
             "'x\";' after 'as': use letters, digits and _, not starting with a digit, at most "
             "63 characters");
    error_is("Trace ID all\nFields: tcp.src as p,\n  udp.src as p, tcp.src as p\n",
             "c.conf:3:17: tcp.src is already in column p");
    error_is("Trace ID all\nFields: ip.src as a, tcp.src as A\n", "c.conf:2:33: column a "
             "holds TEXT values (ip.src) but tcp.src is INTEGER: give it a column of its own");
    error_is("Trace ID all\nFields: ip.src ip.dst\n", "c.conf:2:16: expected ',' or the end "
             "of the field list, found 'ip.dst'");
    error_is("Trace ID all\nFields: ip.src,\n", "c.conf:2:16: expected a field name, found "
             "end of input");
    error_is("Trace ID all\nFields: 80\n", "c.conf:2:9: expected a field name, found 80");
    error_is("Trace ID a\nTable ID t\nFields: ip.src\nTrace ID b\nTable ID t\nFields: ip.dst\n",
             "c.conf:4:1: table t is also filled by the rule at line 1 with other columns: use "
             "the same Fields: or another Table ID");
    error_is("Trace ID all\nFields: ip.src\nTrace ID b\nFields: ip.dst\n", "c.conf:3:1: this "
             "rule and the rule at line 1 fill the same per-trace tables with different "
             "columns: give one a 'Table ID'");

    /* names SQLite keeps for itself */
    error_is("Trace ID a\nTable ID dbstat\nFields: ip.src\n", "c.conf:2:10: table name "
             "'dbstat' is reserved (SQLite's own tables and modules (pragma_*, json_each, "
             "json_tree, dbstat, fts*, rtree, ...) have that name)");
    error_is("Trace ID a\nTable ID  JSON_each\n", "c.conf:2:11: table name 'JSON_each' is "
             "reserved (SQLite's own tables and modules (pragma_*, json_each, json_tree, "
             "dbstat, fts*, rtree, ...) have that name)");
    error_is("Trace ID a\nTable ID pragma_table_info\n", "c.conf:2:10: table name "
             "'pragma_table_info' is reserved (SQLite's own tables and modules (pragma_*, "
             "json_each, json_tree, dbstat, fts*, rtree, ...) have that name)");
    error_is("Trace ID a\nTable ID json_tree\n", "c.conf:2:10: table name 'json_tree' is "
             "reserved (SQLite's own tables and modules (pragma_*, json_each, json_tree, "
             "dbstat, fts*, rtree, ...) have that name)");
    error_is("Trace ID a\nTable ID fts5\n", "c.conf:2:10: table name 'fts5' is reserved "
             "(SQLite's own tables and modules (pragma_*, json_each, json_tree, dbstat, fts*, "
             "rtree, ...) have that name)");
    error_is("Trace ID a\nFields: ip.src,\n  ip.dst as RowId\n", "c.conf:3:13: column name "
             "'RowId' is reserved (it is SQLite's name for the row id, which VND sets): give "
             "the column another name");
    error_is("Trace ID a\nFields: ip.src as oid\n", "c.conf:2:19: column name 'oid' is "
             "reserved (it is SQLite's name for the row id, which VND sets): give the column "
             "another name");

    char *err = NULL;
    struct vnd_parse_conf *c = NULL;
    int rc = vnd_parseconf_parse("x", NULL, &c, &err);
    CHECK(rc == -1 && err && !strncmp(err, "<input>:1:1: ", 13), "NULL origin reads <input>");
    free(err);
}

/* SQL keywords are column names like any other: the store quotes them. */
static void keyword_columns(void)
{
    struct vnd_parse_conf *c = parse("Trace ID a\nTable ID t\n"
                                     "Fields: ip.src as select, ip.dst as primary, "
                                     "tcp.flags as check\n");
    CHECK(c != NULL, "columns named select, primary, check parse");
    if (c) {
        static const char *const cols[] = {"select", "primary", "check"};
        columns_are(&c->rules[0], cols, 3, "keywords");
    }
    vnd_parseconf_free(c);
}

/* VND_PARSE_MAX_COLUMNS columns are fine; the field that would make one
 * more is refused where it is written. */
static void column_limit(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f, "Trace ID all\nFields: ip.src as c0");
    for (int i = 1; i < VND_PARSE_MAX_COLUMNS; i++)
        fprintf(f, ",\n  tcp.src as c%d", i);
    fclose(f);
    struct vnd_parse_conf *c = parse(text);
    CHECK(c && c->rules[0].ncolumns == VND_PARSE_MAX_COLUMNS, "%d columns parse",
          VND_PARSE_MAX_COLUMNS);
    vnd_parseconf_free(c);

    char *more = NULL;
    f = open_memstream(&more, &len);
    fprintf(f, "%s,\n  tcp.src as c%d, tcp.dst as d\n", text, VND_PARSE_MAX_COLUMNS);
    fclose(f);
    char want[200];
    snprintf(want, sizeof want, "c.conf:%d:14: too many columns: c1999 would be column 2000, "
             "and a table holds at most 1999 (SQLite's limit of 2000, less the row id)",
             VND_PARSE_MAX_COLUMNS + 2);
    error_is(more, want);
    /* a field that shares a column is no new column */
    free(more);
    f = open_memstream(&more, &len);
    fprintf(f, "%s,\n  udp.src as c1\n", text);
    fclose(f);
    c = parse(more);
    CHECK(c && c->rules[0].ncolumns == VND_PARSE_MAX_COLUMNS
          && c->rules[0].nfields == VND_PARSE_MAX_COLUMNS + 1,
          "a field in a column of its own kind at the limit is fine");
    vnd_parseconf_free(c);
    free(more);
    free(text);
}

/* The table server checks table names with the store's test: the same
 * names are refused there as here. */
static void store_names(void)
{
    static const char *const bad[] = {"dbstat", "json_each", "JSON_TREE", "pragma_table_info",
                                      "pragma_x", "fts5", "rtree", "sqlite_stmt", "vnd_meta",
                                      "1x", "a-b", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!vnd_store_valid_identifier(bad[i]) && vnd_store_identifier_problem(bad[i]),
              "the store refuses table name '%s'", bad[i]);
    static const char *const good[] = {"select", "A", "flows_1", "pragmatic", "json", "dbstats"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK(vnd_store_valid_identifier(good[i]), "the store takes table name '%s'", good[i]);

    char name[80], again[80];
    CHECK(!vnd_store_table_name("2024-01.cap", name, sizeof name) && !strcmp(name, "t_2024_01_cap"),
          "a short id: its table name as before (%s)", name);
    const char *id = "0123456789012345678901234567890123456789012345678901234567890";
    CHECK(!vnd_store_table_name(id, name, sizeof name) && strlen(name) == 63,
          "61 characters and t_: 63, kept whole");
    const char *longer = "01234567890123456789012345678901234567890123456789012345678901";
    bool cut = vnd_store_table_name(longer, name, sizeof name);
    vnd_store_table_name(longer, again, sizeof again);
    CHECK(cut && strlen(name) == 63 && !strncmp(name, "t_0123456789", 12) && name[54] == '_'
          && vnd_store_valid_identifier(name) && !strcmp(name, again),
          "64 with t_: cut to 63, 54 + _ + 8 hex, the same every time (%s)", name);
    vnd_store_table_name("01234567890123456789012345678901234567890123456789012345678902",
                         again, sizeof again);
    CHECK(strcmp(name, again) != 0, "ids that differ past the cut get different names");
}

int main(void)
{
    figure7();
    design_example();
    rules();
    default_conf();
    errors();
    keyword_columns();
    column_limit();
    store_names();
    return tap_done();
}
