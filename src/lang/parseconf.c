/* parseconf.c — parse configurations (paper Fig. 7).
 *
 * The text is read line by line.  A line that starts with a keyword
 * (Trace ID, Table ID, Filter, Fields; the colon is optional) opens a
 * section; any other non-blank line continues the open Filter or Fields
 * section.  A section's text is handed to the filter compiler or the field
 * list parser straight from the original buffer's span with the span's
 * line and column, so every position in an error is the tenant's own.
 */
#include "lang/parseconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lang/lexer.h"
#include "lang/suggest.h"

const char vnd_parseconf_default_text[] =
    "# The standard columns the diagnostic applications rely on.\n"
    "Trace ID all\n"
    "Fields: timestamp as ts, pkt.id as id, ip.src as src_ip, ip.dst as dst_ip,\n"
    "        ip.proto as proto, tcp.src as src_port, udp.src as src_port,\n"
    "        tcp.dst as dst_port, udp.dst as dst_port, tcp.seq as seq, tcp.ack as ack,\n"
    "        tcp.flags as flags, payload.len as payload_len\n";

const char vnd_parseconf_flow_default_text[] =
    "# The standard columns of flow records (Mode ipfix): ts is the flow's end.\n"
    "Trace ID all\n"
    "Fields: timestamp as ts, ip.src as src_ip, ip.dst as dst_ip, ip.proto as proto,\n"
    "        tcp.src as src_port, udp.src as src_port, tcp.dst as dst_port,\n"
    "        udp.dst as dst_port, tcp.flags as flags, flow.start as start_ts,\n"
    "        flow.end as end_ts, flow.packets as packets, flow.bytes as bytes,\n"
    "        flow.l2_bytes as l2_bytes, flow.bytes_sq as bytes_sq\n";

enum kw { KW_NONE, KW_TRACE, KW_TABLE, KW_FILTER, KW_FIELDS };
static const char *const kw_name[] = {"", "Trace ID", "Table ID", "Filter:", "Fields:"};

struct pc {
    const char *origin;
    char *err;
    struct vnd_parse_conf *conf;
    int cap_rules;
    struct vnd_parse_rule *rule;   /* the open rule */
    int rule_col;
    int table_line, filter_line, fields_line;  /* 0: not seen in this rule */
    /* the open Filter/Fields section */
    enum kw section;
    const char *span;
    const char *span_end;
    int span_line, span_col;
};

static int fail(struct pc *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct pc *p, int line, int col, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!p->err)
        p->err = vnd_lang_error(p->origin, line, col, "%s", msg);
    return -1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* The section text for vnd_meta: comments dropped, whitespace runs made
 * one space, quoted strings kept as they are. */
static char *normalize(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '#') {
            while (i + 1 < n && s[i + 1] != '\n')
                i++;
            continue;
        }
        if (is_blank(c) || c == '\n') {
            space = o > 0;
            continue;
        }
        if (space)
            out[o++] = ' ';
        space = false;
        if (c == '"' || c == '\'') {
            out[o++] = c;
            for (i++; i < n && s[i] != c && s[i] != '\n'; i++) {
                if (s[i] == '\\' && i + 1 < n && s[i + 1] != '\n')
                    out[o++] = s[i++];
                out[o++] = s[i];
            }
            if (i < n && s[i] == c)
                out[o++] = c;
            else if (i < n)
                i--;    /* the newline, as whitespace */
            continue;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

/* Matches a keyword at the start of `s` (case-insensitive); sets *after to
 * the text past it and its optional colon. */
static enum kw match_keyword(const char *s, const char *end, const char **after)
{
    static const struct { const char *a, *b; enum kw kw; } kws[] = {
        {"trace", "id", KW_TRACE}, {"table", "id", KW_TABLE},
        {"filter", NULL, KW_FILTER}, {"fields", NULL, KW_FIELDS},
    };
    for (size_t k = 0; k < sizeof kws / sizeof kws[0]; k++) {
        const char *p = s;
        size_t na = strlen(kws[k].a);
        if ((size_t)(end - p) < na || strncasecmp(p, kws[k].a, na) != 0)
            continue;
        p += na;
        if (kws[k].b) {
            if (p == end || !is_blank(*p))
                continue;
            while (p < end && is_blank(*p))
                p++;
            size_t nb = strlen(kws[k].b);
            if ((size_t)(end - p) < nb || strncasecmp(p, kws[k].b, nb) != 0)
                continue;
            p += nb;
        }
        if (p < end && !is_blank(*p) && *p != ':' && *p != '#')
            continue;
        while (p < end && is_blank(*p))
            p++;
        if (p < end && *p == ':')
            p++;
        *after = p;
        return kws[k].kw;
    }
    return KW_NONE;
}

static bool trace_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '_' || c == '.' || c == '-';
}

/* "all" or ids separated by commas and/or blanks, up to a comment. */
static int parse_traces(struct pc *p, const char *s, const char *end, int line, int col0,
                        const char *linestart)
{
    struct vnd_parse_rule *r = p->rule;
    bool all = false, want_item = true;
    const char *all_at = NULL;
    int cap = 0;
#define COL(q) (col0 + (int)((q) - linestart))
    for (const char *q = s; q < end && *q != '#';) {
        if (is_blank(*q)) {
            q++;
            continue;
        }
        if (*q == ',') {
            if (want_item)
                return fail(p, line, COL(q), "expected a trace id, found ','");
            want_item = true;
            q++;
            continue;
        }
        if (!trace_char(*q))
            return fail(p, line, COL(q), "unexpected character '%c' in a trace id "
                        "(letters, digits, '_', '.', '-')", *q);
        const char *b = q;
        while (q < end && trace_char(*q))
            q++;
        size_t n = (size_t)(q - b);
        want_item = false;
        if (n == 3 && strncasecmp(b, "all", 3) == 0) {
            all = true;
            all_at = b;
            continue;
        }
        for (int i = 0; i < r->ntraces; i++)
            if (strlen(r->traces[i]) == n && strncmp(r->traces[i], b, n) == 0)
                return fail(p, line, COL(b), "trace %.*s is listed twice", (int)n, b);
        if (r->ntraces == cap) {
            cap = cap ? cap * 2 : 4;
            char **nt = realloc(r->traces, (size_t)cap * sizeof *nt);
            if (!nt)
                return fail(p, line, COL(b), "out of memory");
            r->traces = nt;
        }
        if (!(r->traces[r->ntraces] = dup_n(b, n)))
            return fail(p, line, COL(b), "out of memory");
        r->ntraces++;
    }
    const char *stop = s;
    while (stop < end && *stop != '#')
        stop++;
    if (!all && r->ntraces == 0)
        return fail(p, line, COL(stop), "expected a trace id or 'all' after 'Trace ID', "
                    "found end of line");
    if (want_item)
        return fail(p, line, COL(stop), "expected a trace id after ',', found end of line");
    if (all && r->ntraces > 0)
        return fail(p, line, COL(all_at), "'all' cannot be combined with other trace ids");
#undef COL
    return 0;
}

static int parse_table(struct pc *p, const char *s, const char *end, int line, int col)
{
    const char *q = s;
    while (q < end && is_blank(*q))
        q++;
    col += (int)(q - s);
    const char *b = q;
    while (q < end && !is_blank(*q) && *q != '#')
        q++;
    size_t n = (size_t)(q - b);
    if (n == 0)
        return fail(p, line, col, "expected a table name after 'Table ID', found end of line");
    if (!vnd_is_sql_identifier(b, n))
        return fail(p, line, col, "invalid table name '%.*s': use letters, digits and _, "
                    "not starting with a digit, at most 63 characters", (int)(n > 60 ? 60 : n), b);
    const char *why = vnd_sql_reserved_table(b, n);
    if (why)
        return fail(p, line, col, "table name '%.*s' is reserved (%s)", (int)n, b, why);
    int ccol = col + (int)(q - b);
    while (q < end && is_blank(*q))
        q++, ccol++;
    if (q < end && *q != '#')
        return fail(p, line, ccol, "expected the end of the line after the table name, "
                    "found '%c'", *q);
    if (!(p->rule->table = dup_n(b, n)))
        return fail(p, line, col, "out of memory");
    return 0;
}

static int find_column(const struct vnd_parse_rule *r, const char *name, size_t n)
{
    for (int i = 0; i < r->ncolumns; i++)
        if (strlen(r->columns[i]) == n && strncasecmp(r->columns[i], name, n) == 0)
            return i;
    return -1;
}

/* field [as name] (, field [as name])* — the text is a NUL-terminated copy
 * of the section positioned at line:col. */
static int parse_fields(struct pc *p, const char *text, int line, int col)
{
    struct vnd_parse_rule *r = p->rule;
    struct vnd_lexer lx;
    struct vnd_tok t;
    char found[64], colname[80];
    int capf = 0, capc = 0;
    vnd_lex_init(&lx, text, p->origin, line, col);

#define NEXT() do { char *e_ = NULL; if (vnd_lex_next(&lx, &t, &e_)) { \
        if (!p->err) p->err = e_; else free(e_); return -1; } } while (0)
    NEXT();
    for (;;) {
        if (t.kind != VND_TOK_IDENT) {
            vnd_tok_describe(&t, found, sizeof found);
            return fail(p, t.line, t.col, "expected a field name, found %s", found);
        }
        struct vnd_tok ft = t;
        const struct vnd_field_info *fi = vnd_field_lookup(t.s, t.len);
        if (!fi) {
            char hint[100];
            vnd_suggest_field(t.s, t.len, NULL, hint, sizeof hint);
            return fail(p, t.line, t.col, "unknown field '%.*s'%s",
                        (int)(t.len > 60 ? 60 : t.len), t.s,
                        *hint ? hint : " (`vnd fields` lists the known ones)");
        }
        NEXT();
        struct vnd_tok ct = ft;
        if (vnd_tok_is_word(&t, "as")) {
            /* the name is read here, not lexed: `as 1x` is a bad name,
             * not a bad number */
            vnd_lex_skip_space(&lx);
            const char *w = lx.p;
            size_t n = 0;
            while (w[n] && !strchr(" \t\r\n\f\v,#", w[n]))
                n++;
            ct.line = lx.line;
            ct.col = lx.col;
            if (!vnd_is_sql_identifier(w, n)) {
                if (n)
                    return fail(p, ct.line, ct.col, "invalid column name '%.*s' after 'as': "
                                "use letters, digits and _, not starting with a digit, at "
                                "most 63 characters", (int)(n > 60 ? 60 : n), w);
                return fail(p, ct.line, ct.col, "expected a column name after 'as', found %s",
                            *w == ',' ? "','" : "end of input");
            }
            const char *why = vnd_sql_reserved_column(w, n);
            if (why)
                return fail(p, ct.line, ct.col, "column name '%.*s' is reserved (%s): give "
                            "the column another name", (int)n, w, why);
            snprintf(colname, sizeof colname, "%.*s", (int)n, w);
            lx.p += n;
            lx.col += (int)n;
            NEXT();
        } else {
            /* ip.src -> ip_src */
            snprintf(colname, sizeof colname, "%.*s", (int)(ft.len > 63 ? 63 : ft.len), ft.s);
            for (char *c = colname; *c; c++)
                if (*c == '.')
                    *c = '_';
        }

        size_t cn = strlen(colname);
        enum vnd_sql_type type = vnd_field_sql_type(fi->id);
        int ci = find_column(r, colname, cn);
        if (ci >= 0) {
            for (int i = 0; i < r->nfields; i++)
                if (r->field_col[i] == ci && r->fields[i] == fi->id)
                    return fail(p, ft.line, ft.col, "%s is already in column %s",
                                fi->name, r->columns[ci]);
            if (r->coltypes[ci] != type) {
                const char *first = "";
                for (int i = 0; i < r->nfields; i++)
                    if (r->field_col[i] == ci) {
                        first = vnd_field_info(r->fields[i])->name;
                        break;
                    }
                return fail(p, ct.line, ct.col, "column %s holds %s values (%s) but %s is %s: "
                            "give it a column of its own", r->columns[ci],
                            vnd_sql_type_name(r->coltypes[ci]), first, fi->name,
                            vnd_sql_type_name(type));
            }
        } else {
            if (r->ncolumns == VND_PARSE_MAX_COLUMNS)
                return fail(p, ct.line, ct.col, "too many columns: %s would be column %d, and "
                            "a table holds at most %d (SQLite's limit of 2000, less the row "
                            "id)", colname, r->ncolumns + 1, VND_PARSE_MAX_COLUMNS);
            if (r->ncolumns == capc) {
                capc = capc ? capc * 2 : 16;
                char **nc = realloc(r->columns, (size_t)capc * sizeof *nc);
                if (nc)
                    r->columns = nc;
                enum vnd_sql_type *nt = realloc(r->coltypes, (size_t)capc * sizeof *nt);
                if (nt)
                    r->coltypes = nt;
                if (!nc || !nt)
                    return fail(p, ft.line, ft.col, "out of memory");
            }
            if (!(r->columns[r->ncolumns] = dup_n(colname, cn)))
                return fail(p, ft.line, ft.col, "out of memory");
            r->coltypes[r->ncolumns] = type;
            ci = r->ncolumns++;
        }
        if (r->nfields == capf) {
            capf = capf ? capf * 2 : 16;
            enum vnd_field *nf = realloc(r->fields, (size_t)capf * sizeof *nf);
            if (nf)
                r->fields = nf;
            int *ncol = realloc(r->field_col, (size_t)capf * sizeof *ncol);
            if (ncol)
                r->field_col = ncol;
            if (!nf || !ncol)
                return fail(p, ft.line, ft.col, "out of memory");
        }
        r->fields[r->nfields] = fi->id;
        r->field_col[r->nfields] = ci;
        r->nfields++;

        if (t.kind == VND_TOK_EOF)
            return 0;
        if (t.kind != VND_TOK_COMMA) {
            vnd_tok_describe(&t, found, sizeof found);
            return fail(p, t.line, t.col, "expected ',' or the end of the field list, found %s",
                        found);
        }
        NEXT();
    }
#undef NEXT
}

/* Ends the open Filter/Fields section: its text runs from p->span to
 * p->span_end (trailing blanks dropped). */
static int close_section(struct pc *p)
{
    enum kw kw = p->section;
    p->section = KW_NONE;
    if (kw != KW_FILTER && kw != KW_FIELDS)
        return 0;
    const char *end = p->span_end;
    while (end > p->span && (is_blank(end[-1]) || end[-1] == '\n'))
        end--;
    char *text = dup_n(p->span, (size_t)(end - p->span));
    char *norm = normalize(p->span, (size_t)(end - p->span));
    int rc = -1;
    if (!text || !norm) {
        fail(p, p->span_line, p->span_col, "out of memory");
        goto out_free;
    }
    if (!*norm) {
        fail(p, p->span_line, p->span_col, "expected %s after '%s', found end of line",
             kw == KW_FILTER ? "a filter expression" : "a field list",
             kw == KW_FILTER ? "Filter:" : "Fields:");
        goto out_free;
    }
    if (kw == KW_FILTER) {
        char *e = NULL;
        p->rule->filter = vnd_filter_compile(text, p->origin, p->span_line, p->span_col, &e);
        if (!p->rule->filter) {
            if (!p->err)
                p->err = e;
            else
                free(e);
            goto out_free;
        }
        p->rule->filter_text = norm;
    } else {
        if (parse_fields(p, text, p->span_line, p->span_col))
            goto out_free;
        p->rule->fields_text = norm;
    }
    norm = NULL;
    rc = 0;
out_free:
    free(text);
    free(norm);
    return rc;
}

static int close_rule(struct pc *p)
{
    if (!p->rule)
        return 0;
    if (!p->fields_line)
        return fail(p, p->rule->line, p->rule_col, "the rule has no 'Fields:' line: each "
                    "'Trace ID' rule lists the fields to store, e.g. Fields: ip.src as src_ip");
    p->rule = NULL;
    return 0;
}

static bool same_columns(const struct vnd_parse_rule *a, const struct vnd_parse_rule *b)
{
    if (a->ncolumns != b->ncolumns)
        return false;
    for (int i = 0; i < a->ncolumns; i++)
        if (strcasecmp(a->columns[i], b->columns[i]) != 0 || a->coltypes[i] != b->coltypes[i])
            return false;
    return true;
}

static bool traces_overlap(const struct vnd_parse_rule *a, const struct vnd_parse_rule *b)
{
    if (!a->ntraces || !b->ntraces)
        return true;
    for (int i = 0; i < a->ntraces; i++)
        if (vnd_parse_rule_covers(b, a->traces[i]))
            return true;
    return false;
}

/* Rules that write the same table must agree on its columns. */
static int check_tables(struct pc *p)
{
    const struct vnd_parse_conf *c = p->conf;
    for (int j = 1; j < c->nrules; j++) {
        const struct vnd_parse_rule *b = &c->rules[j];
        for (int i = 0; i < j; i++) {
            const struct vnd_parse_rule *a = &c->rules[i];
            if (a->table && b->table && strcasecmp(a->table, b->table) == 0
                && !same_columns(a, b))
                return fail(p, b->line, 1, "table %s is also filled by the rule at line %d "
                            "with other columns: use the same Fields: or another Table ID",
                            b->table, a->line);
            if (!a->table && !b->table && traces_overlap(a, b) && !same_columns(a, b))
                return fail(p, b->line, 1, "this rule and the rule at line %d fill the same "
                            "per-trace tables with different columns: give one a 'Table ID'",
                            a->line);
        }
    }
    return 0;
}

static int handle_line(struct pc *p, const char *ls, const char *le, int line)
{
    const char *s = ls;
    while (s < le && is_blank(*s))
        s++;
    if (s == le || *s == '#')
        return 0;
    int col = 1 + (int)(s - ls);
    const char *after;
    enum kw kw = match_keyword(s, le, &after);
    if (kw == KW_NONE) {
        if (p->section == KW_FILTER || p->section == KW_FIELDS) {
            p->span_end = le;
            return 0;
        }
        const char *w = s;
        while (w < le && !is_blank(*w) && w - s < 40)
            w++;
        if (!p->rule)
            return fail(p, line, col, "expected 'Trace ID' to start a rule, found '%.*s'",
                        (int)(w - s), s);
        return fail(p, line, col, "expected Trace ID, Table ID, Filter: or Fields:, found "
                    "'%.*s'", (int)(w - s), s);
    }
    if (close_section(p))
        return -1;
    if (kw != KW_TRACE && !p->rule)
        return fail(p, line, col, "'%s' before any 'Trace ID': a rule starts with a "
                    "'Trace ID' line", kw_name[kw]);
    int acol = 1 + (int)(after - ls);
    int *seen = kw == KW_TABLE ? &p->table_line : kw == KW_FILTER ? &p->filter_line
              : kw == KW_FIELDS ? &p->fields_line : NULL;
    if (seen && *seen)
        return fail(p, line, col, "second '%s' in the rule of line %d (the first is at line %d)",
                    kw_name[kw], p->rule->line, *seen);
    if (seen)
        *seen = line;

    switch (kw) {
    case KW_TRACE: {
        if (close_rule(p))
            return -1;
        struct vnd_parse_conf *c = p->conf;
        if (c->nrules == p->cap_rules) {
            int ncap = p->cap_rules ? p->cap_rules * 2 : 4;
            struct vnd_parse_rule *nr = realloc(c->rules, (size_t)ncap * sizeof *nr);
            if (!nr)
                return fail(p, line, col, "out of memory");
            c->rules = nr;
            p->cap_rules = ncap;
        }
        p->rule = &c->rules[c->nrules++];
        memset(p->rule, 0, sizeof *p->rule);
        p->rule->line = line;
        p->rule_col = col;
        p->table_line = p->filter_line = p->fields_line = 0;
        return parse_traces(p, after, le, line, 1, ls);
    }
    case KW_TABLE:
        return parse_table(p, after, le, line, acol);
    case KW_FILTER:
    case KW_FIELDS:
        p->section = kw;
        p->span = after;
        p->span_end = le;
        p->span_line = line;
        p->span_col = acol;
        return 0;
    default:
        return 0;
    }
}

int vnd_parseconf_parse(const char *text, const char *origin, struct vnd_parse_conf **out,
                        char **err)
{
    struct pc p;
    memset(&p, 0, sizeof p);
    p.origin = origin ? origin : "<input>";
    *out = NULL;
    p.conf = calloc(1, sizeof *p.conf);
    if (!p.conf) {
        p.err = vnd_lang_error(p.origin, 1, 1, "out of memory");
        goto out_fail;
    }
    if (!text)
        text = "";

    int line = 1;
    const char *ls = text;
    for (;;) {
        const char *le = strchr(ls, '\n');
        if (!le)
            le = ls + strlen(ls);
        if (handle_line(&p, ls, le, line))
            goto out_fail;
        if (!*le)
            break;
        ls = le + 1;
        line++;
    }
    if (close_section(&p) || close_rule(&p))
        goto out_fail;
    if (p.conf->nrules == 0) {
        fail(&p, line, (int)(strlen(ls)) + 1, "empty parse configuration: expected a "
             "'Trace ID' line, found end of input");
        goto out_fail;
    }
    if (check_tables(&p))
        goto out_fail;
    *out = p.conf;
    return 0;

out_fail:
    vnd_parseconf_free(p.conf);
    if (err)
        *err = p.err;
    else
        free(p.err);
    return -1;
}

struct vnd_parse_conf *vnd_parseconf_default(void)
{
    struct vnd_parse_conf *c = NULL;
    char *err = NULL;
    if (vnd_parseconf_parse(vnd_parseconf_default_text, "default configuration", &c, &err)) {
        /* only out of memory can get here: the text is fixed and tested */
        free(err);
        return NULL;
    }
    return c;
}

bool vnd_parse_rule_covers(const struct vnd_parse_rule *r, const char *id)
{
    if (r->ntraces == 0)
        return true;
    for (int i = 0; i < r->ntraces; i++)
        if (strcmp(r->traces[i], id) == 0)
            return true;
    return false;
}

void vnd_parseconf_free(struct vnd_parse_conf *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nrules; i++) {
        struct vnd_parse_rule *r = &c->rules[i];
        for (int t = 0; t < r->ntraces; t++)
            free(r->traces[t]);
        free(r->traces);
        free(r->table);
        vnd_filter_free(r->filter);
        free(r->filter_text);
        free(r->fields_text);
        free(r->fields);
        free(r->field_col);
        for (int k = 0; k < r->ncolumns; k++)
            free(r->columns[k]);
        free(r->columns);
        free(r->coltypes);
    }
    free(c->rules);
    free(c);
}
