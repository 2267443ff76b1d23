/* filter.c — compiles the filter language into a jump program and runs it.
 *
 * The parser builds a small tree (n-ary and/or, not, comparisons, sets);
 * code generation lays the comparisons out in source order, each with a
 * target for "true" and one for "false" (the next comparison, or accept /
 * reject).  `not` swaps the targets, `and`/`or` chain them, so evaluation
 * is short-circuit and needs no stack.  Every target lies after its
 * instruction, so a run takes at most one step per comparison.  The tree
 * is kept beside the program for vnd_filter_to_sql.
 */
#include "lang/filter.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fields/registry.h"
#include "lang/lexer.h"
#include "lang/suggest.h"

/* Nested '(' and 'not'.  Far more than a person writes, and low enough
 * that the SQL form stays within SQLite's parser stack. */
#define MAX_DEPTH 24
#define ACCEPT (-1)
#define REJECT (-2)

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
static const char *const op_text[] = {"=", "!=", "<", "<=", ">", ">="};
static const char *const op_sql[] = {"=", "<>", "<", "<=", ">", ">="};

enum vkind { V_UINT, V_REAL, V_ADDR, V_MAC, V_STR };

struct fval {
    uint8_t kind;        /* enum vkind */
    uint8_t alen;        /* V_ADDR: 4 or 16; V_MAC: 6 */
    int16_t plen;        /* V_ADDR: prefix length, -1 for an exact address */
    uint32_t slen;       /* V_STR: length at pool + v.soff */
    union {
        uint64_t u;
        double d;
        uint8_t a[16];
        uint32_t soff;
    } v;
};

enum ikind { I_FALSE, I_UINT, I_REAL, I_HASH, I_BYTES, I_PREFIX, I_STR, I_SACK };

struct insn {
    uint8_t kind, op, field;
    int32_t t, f;        /* next pc, or ACCEPT / REJECT */
    struct fval val;
};

enum ntype { N_PRIM, N_IN, N_AND, N_OR, N_NOT };

struct node {
    uint8_t type, op;
    int16_t field;       /* -1: a column name (pool + col_off) */
    uint32_t col_off, col_len;
    int32_t val0, nval;  /* values in vals[] */
    int32_t first, last, next;  /* children, siblings; -1 ends */
    int32_t size;        /* instructions of the subtree */
    int line, col;
};

struct vnd_filter {
    int ninsn, nnodes, nvals, root;
    const struct insn *insn;
    const struct node *nodes;
    const struct fval *vals;
    const char *pool;
    const char *origin;
};

/* ---- protocol names ---- */

struct name_num { const char *name; uint64_t num; };

static const struct name_num ip_protos[] = {
    {"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmpv6", 58}, {"gre", 47},
    {"sctp", 132}, {"esp", 50}, {"ah", 51}, {NULL, 0},
};
static const struct name_num eth_types[] = {
    {"ip", 0x800}, {"ipv4", 0x800}, {"arp", 0x806}, {"ipv6", 0x86dd},
    {"vlan", 0x8100}, {NULL, 0},
};

static const struct name_num *names_for(int field)
{
    if (field == VND_F_IP_PROTO || field == VND_F_OUTER_IP_PROTO)
        return ip_protos;
    if (field == VND_F_ETH_TYPE)
        return eth_types;
    return NULL;
}

static bool lookup_name(const struct name_num *t, const struct vnd_tok *tok, uint64_t *num)
{
    for (; t && t->name; t++)
        if (vnd_tok_is_word(tok, t->name)) {
            *num = t->num;
            return true;
        }
    return false;
}

/* Shorthand prims, as in tcpdump: `tcp` is `ip.proto = tcp`. */
static const struct { const char *word; int field; uint64_t num; } shorthands[] = {
    {"tcp", VND_F_IP_PROTO, 6}, {"udp", VND_F_IP_PROTO, 17},
    {"icmp", VND_F_IP_PROTO, 1}, {"icmpv6", VND_F_IP_PROTO, 58},
    {"ip", VND_F_IP_VERSION, 4}, {"ipv6", VND_F_IP_VERSION, 6},
    {"arp", VND_F_ETH_TYPE, 0x806},
};
#define NSHORTHANDS (sizeof shorthands / sizeof shorthands[0])

/* ---- the compiler ---- */

struct cc {
    struct vnd_lexer lx;
    struct vnd_tok tok;
    char *err;
    bool columns;        /* unknown plain names are columns (--where) */
    int depth;
    struct node *nodes;
    int nnodes, capnodes;
    struct fval *vals;
    int nvals, capvals;
    char *pool;
    size_t npool, cappool;
};

static int fail(struct cc *c, const struct vnd_tok *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct cc *c, const struct vnd_tok *at, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->err)
        c->err = vnd_lang_error(c->lx.origin, at->line, at->col, "%s", msg);
    return -1;
}

static int oom(struct cc *c)
{
    return fail(c, &c->tok, "out of memory");
}

static int next(struct cc *c)
{
    char *e = NULL;
    if (vnd_lex_next(&c->lx, &c->tok, &e) == 0)
        return 0;
    if (!c->err)
        c->err = e;
    else
        free(e);
    return -1;
}

static int grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 0;
    int ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(*p, (size_t)ncap * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

static int new_node(struct cc *c, enum ntype type, const struct vnd_tok *at)
{
    if (grow((void **)&c->nodes, &c->capnodes, c->nnodes + 1, sizeof *c->nodes))
        return oom(c);
    struct node *n = &c->nodes[c->nnodes];
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type;
    n->field = -1;
    n->first = n->last = n->next = -1;
    n->line = at->line;
    n->col = at->col;
    return c->nnodes++;
}

static void add_child(struct cc *c, int parent, int child)
{
    struct node *p = &c->nodes[parent];
    const struct node *ch = &c->nodes[child];
    if (ch->type == p->type && (p->type == N_AND || p->type == N_OR)) {
        /* (a and b) and c: one chain, so the SQL does not nest */
        if (p->last < 0)
            p->first = ch->first;
        else
            c->nodes[p->last].next = ch->first;
        p->last = ch->last;
        p->size += ch->size;
        return;
    }
    if (p->last < 0)
        p->first = child;
    else
        c->nodes[p->last].next = child;
    p->last = child;
    p->size += c->nodes[child].size;
}

static struct fval *new_val(struct cc *c)
{
    if (grow((void **)&c->vals, &c->capvals, c->nvals + 1, sizeof *c->vals)) {
        oom(c);
        return NULL;
    }
    struct fval *v = &c->vals[c->nvals++];
    memset(v, 0, sizeof *v);
    v->plen = -1;
    return v;
}

/* Appends n bytes (and a NUL) to the pool; returns the offset or -1. */
static long pool_add(struct cc *c, const char *s, size_t n)
{
    if (c->npool + n + 1 > c->cappool) {
        size_t ncap = c->cappool ? c->cappool * 2 : 64;
        while (ncap < c->npool + n + 1)
            ncap *= 2;
        char *np = realloc(c->pool, ncap);
        if (!np)
            return oom(c);
        c->pool = np;
        c->cappool = ncap;
    }
    size_t off = c->npool;
    memcpy(c->pool + off, s, n);
    c->pool[off + n] = '\0';
    c->npool += n + 1;
    return (long)off;
}

static const char *proto_list(int field)
{
    return field == VND_F_ETH_TYPE ? "ip, ipv4, arp, ipv6, vlan"
                                   : "tcp, udp, icmp, icmpv6, gre, sctp, esp, ah";
}

/* Reads one value for `field` (-1: a column) compared with `op`; the value
 * token is c->tok, consumed on success. */
static int parse_value(struct cc *c, int field, const char *fname, enum op op)
{
    const struct vnd_tok *t = &c->tok;
    char found[64];
    vnd_tok_describe(t, found, sizeof found);
    struct fval *v = new_val(c);
    if (!v)
        return -1;
    enum vnd_field_type ft = field < 0 ? VND_FT_STR
                                       : vnd_field_info((enum vnd_field)field)->type;

    if (t->kind == VND_TOK_EOF || t->kind == VND_TOK_RBRACE || t->kind == VND_TOK_RPAREN
        || t->kind == VND_TOK_COMMA || t->kind == VND_TOK_LBRACE
        || (t->kind >= VND_TOK_EQ && t->kind <= VND_TOK_GE)
        || (t->kind >= VND_TOK_AND && t->kind <= VND_TOK_IN))
        return fail(c, t, "expected a value for %s, found %s", fname, found);

    if (field < 0) {
        /* a column: the value's shape decides its type */
        switch (t->kind) {
        case VND_TOK_NUM: v->kind = V_UINT; v->v.u = t->u; break;
        case VND_TOK_REAL: v->kind = V_REAL; v->v.d = t->d; break;
        case VND_TOK_ADDR: case VND_TOK_MAC:
            if (op != OP_EQ && op != OP_NE)
                return fail(c, t, "'%s' cannot compare addresses: use =, != or in",
                            op_text[op]);
            v->kind = t->kind == VND_TOK_MAC ? V_MAC : V_ADDR;
            break;
        case VND_TOK_IDENT:
            if (lookup_name(ip_protos, t, &v->v.u)) {
                v->kind = V_UINT;
                break;
            }
            /* a bare word is a string */
            /* fall through */
        default:
            v->kind = V_STR;
            break;
        }
    } else {
        switch (ft) {
        case VND_FT_UINT:
            if (t->kind == VND_TOK_NUM) {
                v->kind = V_UINT;
                v->v.u = t->u;
            } else if (names_for(field) && t->kind == VND_TOK_IDENT) {
                if (!lookup_name(names_for(field), t, &v->v.u))
                    return fail(c, t, "unknown protocol %s for %s (known: %s)", found, fname,
                                proto_list(field));
                v->kind = V_UINT;
            } else if (names_for(field)) {
                return fail(c, t, "%s takes a number or a protocol name (%s), found %s", fname,
                            proto_list(field), found);
            } else {
                return fail(c, t, "%s takes a number, found %s", fname, found);
            }
            break;
        case VND_FT_REAL:
            if (t->kind != VND_TOK_NUM && t->kind != VND_TOK_REAL)
                return fail(c, t, "%s takes seconds (a number like 1370000000.25), found %s",
                            fname, found);
            v->kind = V_REAL;
            v->v.d = t->kind == VND_TOK_NUM ? (double)t->u : t->d;
            break;
        case VND_FT_IP:
            if (t->kind != VND_TOK_ADDR)
                return fail(c, t, "%s takes an address or prefix, found %s", fname, found);
            v->kind = V_ADDR;
            break;
        case VND_FT_MAC:
            if (t->kind != VND_TOK_MAC)
                return fail(c, t, "%s takes a MAC address (like 02:00:00:00:00:01), found %s",
                            fname, found);
            v->kind = V_MAC;
            break;
        case VND_FT_STR:
        case VND_FT_SACK:
            if (t->kind != VND_TOK_STR && t->kind != VND_TOK_IDENT)
                return fail(c, t, "%s takes a string (quoted, or a bare word), found %s",
                            fname, found);
            v->kind = V_STR;
            break;
        }
    }

    if (v->kind == V_ADDR || v->kind == V_MAC) {
        v->alen = t->alen;
        memcpy(v->v.a, t->addr, t->alen);
        v->plen = (int16_t)(t->plen == t->alen * 8 ? -1 : t->plen);
        if (v->plen >= 0)
            vnd_mask_prefix(v->v.a, v->alen, v->plen);
    } else if (v->kind == V_STR) {
        /* the value is the text without quotes; unquoting only shrinks it */
        char *tmp = malloc(t->len + 1);
        if (!tmp)
            return oom(c);
        size_t n = vnd_tok_text(t, tmp);
        long off = pool_add(c, tmp, n);
        free(tmp);
        if (off < 0)
            return -1;
        v = &c->vals[c->nvals - 1];
        v->v.soff = (uint32_t)off;
        v->slen = (uint32_t)n;
    }
    return next(c);
}

static int parse_or(struct cc *c);

/* field op value | field in {v, ...} | shorthand */
static int parse_prim(struct cc *c)
{
    struct vnd_tok ft = c->tok;
    char fname[80];
    snprintf(fname, sizeof fname, "%.*s", (int)(ft.len > 70 ? 70 : ft.len), ft.s);

    for (size_t i = 0; i < NSHORTHANDS; i++) {
        if (!vnd_tok_is_word(&ft, shorthands[i].word))
            continue;
        int n = new_node(c, N_PRIM, &ft);
        struct fval *v = n < 0 ? NULL : new_val(c);
        if (!v)
            return -1;
        v->kind = V_UINT;
        v->v.u = shorthands[i].num;
        c->nodes[n].field = (int16_t)shorthands[i].field;
        c->nodes[n].op = OP_EQ;
        c->nodes[n].val0 = c->nvals - 1;
        c->nodes[n].nval = 1;
        c->nodes[n].size = 1;
        return next(c) ? -1 : n;
    }

    const struct vnd_field_info *fi = vnd_field_lookup(ft.s, ft.len);
    int field = fi ? (int)fi->id : -1;
    if (!fi) {
        if (c->columns && vnd_is_sql_identifier(ft.s, ft.len)) {
            /* a table column, for SQL only */
        } else {
            static const char *const words[] = {"tcp", "udp", "icmp", "icmpv6", "ip",
                                                "ipv6", "arp", NULL};
            char hint[100];
            vnd_suggest_field(ft.s, ft.len, words, hint, sizeof hint);
            return fail(c, &ft, "unknown field '%s'%s", fname, hint);
        }
    } else {
        snprintf(fname, sizeof fname, "%s", fi->name);
    }
    if (next(c))
        return -1;

    struct vnd_tok opt = c->tok;
    enum op op;
    switch (opt.kind) {
    case VND_TOK_EQ: op = OP_EQ; break;
    case VND_TOK_NE: op = OP_NE; break;
    case VND_TOK_LT: op = OP_LT; break;
    case VND_TOK_LE: op = OP_LE; break;
    case VND_TOK_GT: op = OP_GT; break;
    case VND_TOK_GE: op = OP_GE; break;
    case VND_TOK_IN: op = OP_EQ; break;
    default: {
        char found[64];
        vnd_tok_describe(&opt, found, sizeof found);
        return fail(c, &opt, "expected an operator (=, !=, <, <=, >, >= or in) after %s, "
                    "found %s", fname, found);
    }
    }
    if (fi && op != OP_EQ && op != OP_NE
        && (fi->type == VND_FT_IP || fi->type == VND_FT_MAC))
        return fail(c, &opt, "%s takes =, != or in (addresses have no order), found '%s'",
                    fname, op_text[op]);

    int n = new_node(c, opt.kind == VND_TOK_IN ? N_IN : N_PRIM, &ft);
    if (n < 0)
        return -1;
    c->nodes[n].field = (int16_t)field;
    c->nodes[n].op = (uint8_t)op;
    c->nodes[n].val0 = c->nvals;
    if (field < 0) {
        long off = pool_add(c, ft.s, ft.len);
        if (off < 0)
            return -1;
        c->nodes[n].col_off = (uint32_t)off;
        c->nodes[n].col_len = (uint32_t)ft.len;
    }
    if (next(c))
        return -1;

    if (opt.kind != VND_TOK_IN) {
        if (parse_value(c, field, fname, op))
            return -1;
    } else {
        if (c->tok.kind != VND_TOK_LBRACE) {
            char found[64];
            vnd_tok_describe(&c->tok, found, sizeof found);
            return fail(c, &c->tok, "expected '{' after 'in', found %s", found);
        }
        struct vnd_tok open = c->tok;
        if (next(c))
            return -1;
        for (;;) {
            if (parse_value(c, field, fname, OP_EQ))
                return -1;
            if (c->tok.kind == VND_TOK_RBRACE)
                break;
            if (c->tok.kind != VND_TOK_COMMA) {
                char found[64];
                vnd_tok_describe(&c->tok, found, sizeof found);
                return fail(c, &c->tok, "expected ',' or '}' to close the set opened at %d:%d, "
                            "found %s", open.line, open.col, found);
            }
            if (next(c))
                return -1;
        }
        if (next(c))
            return -1;
    }
    c->nodes[n].nval = c->nvals - c->nodes[n].val0;
    c->nodes[n].size = c->nodes[n].nval;
    return n;
}

static int parse_not(struct cc *c)
{
    struct vnd_tok t = c->tok;
    char found[64];
    if (t.kind == VND_TOK_NOT || t.kind == VND_TOK_LPAREN) {
        if (++c->depth > MAX_DEPTH)
            return fail(c, &t, "filter nested too deeply (more than %d levels of '(' and 'not')",
                        MAX_DEPTH);
        if (next(c))
            return -1;
        int n;
        if (t.kind == VND_TOK_NOT) {
            int child = parse_not(c);
            if (child < 0 || (n = new_node(c, N_NOT, &t)) < 0)
                return -1;
            add_child(c, n, child);
        } else {
            n = parse_or(c);
            if (n < 0)
                return -1;
            if (c->tok.kind != VND_TOK_RPAREN) {
                vnd_tok_describe(&c->tok, found, sizeof found);
                return fail(c, &c->tok, "expected ')' to close the '(' at %d:%d, found %s",
                            t.line, t.col, found);
            }
            if (next(c))
                return -1;
        }
        c->depth--;
        return n;
    }
    if (t.kind == VND_TOK_IDENT)
        return parse_prim(c);
    vnd_tok_describe(&t, found, sizeof found);
    return fail(c, &t, "expected a field name, 'not' or '(', found %s", found);
}

/* and/or chains become one n-ary node, so long chains do not nest. */
static int parse_chain(struct cc *c, enum vnd_tok_kind kind)
{
    int (*sub)(struct cc *) = kind == VND_TOK_OR ? NULL : parse_not;
    int first = sub ? sub(c) : parse_chain(c, VND_TOK_AND);
    if (first < 0 || c->tok.kind != kind)
        return first;
    int n = new_node(c, kind == VND_TOK_OR ? N_OR : N_AND, &c->tok);
    if (n < 0)
        return -1;
    c->nodes[n].line = c->nodes[first].line;
    c->nodes[n].col = c->nodes[first].col;
    add_child(c, n, first);
    while (c->tok.kind == kind) {
        if (next(c))
            return -1;
        int m = sub ? sub(c) : parse_chain(c, VND_TOK_AND);
        if (m < 0)
            return -1;
        add_child(c, n, m);
    }
    return n;
}

static int parse_or(struct cc *c)
{
    return parse_chain(c, VND_TOK_OR);
}

/* ---- code generation ---- */

static enum ikind insn_kind(const struct node *n, const struct fval *v)
{
    if (n->field < 0)
        return I_FALSE;
    if (n->field == VND_F_TIMESTAMP)
        return I_REAL;
    if (n->field == VND_F_PAYLOAD_HASH)
        return I_HASH;
    switch (vnd_field_info((enum vnd_field)n->field)->type) {
    case VND_FT_UINT: return I_UINT;
    case VND_FT_REAL: return I_REAL;
    case VND_FT_IP:
    case VND_FT_MAC: return v->plen >= 0 ? I_PREFIX : I_BYTES;
    case VND_FT_STR: return I_STR;
    case VND_FT_SACK: return I_SACK;
    }
    return I_FALSE;
}

static void gen(const struct cc *c, struct insn *prog, int ni, int start, int t, int f)
{
    const struct node *n = &c->nodes[ni];
    switch (n->type) {
    case N_PRIM:
    case N_IN:
        for (int k = 0; k < n->nval; k++) {
            struct insn *in = &prog[start + k];
            in->val = c->vals[n->val0 + k];
            in->kind = (uint8_t)insn_kind(n, &in->val);
            in->op = n->op;
            in->field = (uint8_t)(n->field < 0 ? 0 : n->field);
            in->t = t;
            in->f = k + 1 < n->nval ? start + k + 1 : f;
        }
        break;
    case N_NOT:
        gen(c, prog, n->first, start, f, t);
        break;
    case N_AND:
    case N_OR:
        for (int ch = n->first, pos = start; ch >= 0; ch = c->nodes[ch].next) {
            int after = pos + c->nodes[ch].size;
            bool last = c->nodes[ch].next < 0;
            if (n->type == N_AND)
                gen(c, prog, ch, pos, last ? t : after, f);
            else
                gen(c, prog, ch, pos, t, last ? f : after);
            pos = after;
        }
        break;
    }
}

static struct vnd_filter *compile(const char *text, const char *origin, int line, int col,
                                  bool columns, char **err)
{
    struct cc c;
    memset(&c, 0, sizeof c);
    c.columns = columns;
    vnd_lex_init(&c.lx, text ? text : "", origin, line, col);
    struct vnd_filter *f = NULL;
    int root = -1;

    if (next(&c))
        goto out_free;
    if (c.tok.kind == VND_TOK_EOF) {
        fail(&c, &c.tok, "expected a filter expression, found end of input");
        goto out_free;
    }
    root = parse_or(&c);
    if (root < 0)
        goto out_free;
    if (c.tok.kind != VND_TOK_EOF) {
        char found[64];
        vnd_tok_describe(&c.tok, found, sizeof found);
        fail(&c, &c.tok, c.tok.kind == VND_TOK_RPAREN
                 ? "unbalanced ')': no '(' is open, found %s"
                 : "expected 'and', 'or' or the end of the filter, found %s", found);
        goto out_free;
    }
    const char *o = origin ? origin : "<input>";
    if (pool_add(&c, o, strlen(o)) < 0)
        goto out_free;
    size_t origin_off = c.npool - strlen(o) - 1;

    /* one allocation: header, program, values, tree, strings */
    int ninsn = c.nodes[root].size;
    size_t sz = sizeof *f + (size_t)ninsn * sizeof(struct insn)
                + (size_t)c.nvals * sizeof(struct fval)
                + (size_t)c.nnodes * sizeof(struct node) + c.npool;
    char *block = calloc(1, sz);
    if (!block) {
        oom(&c);
        goto out_free;
    }
    f = (struct vnd_filter *)block;
    struct insn *prog = (struct insn *)(block + sizeof *f);
    struct fval *vals = (struct fval *)(prog + ninsn);
    struct node *nodes = (struct node *)(vals + c.nvals);
    char *pool = (char *)(nodes + c.nnodes);
    gen(&c, prog, root, 0, ACCEPT, REJECT);
    memcpy(vals, c.vals, (size_t)c.nvals * sizeof *vals);
    memcpy(nodes, c.nodes, (size_t)c.nnodes * sizeof *nodes);
    memcpy(pool, c.pool, c.npool);
    f->ninsn = ninsn;
    f->nvals = c.nvals;
    f->nnodes = c.nnodes;
    f->root = root;
    f->insn = prog;
    f->vals = vals;
    f->nodes = nodes;
    f->pool = pool;
    f->origin = pool + origin_off;

out_free:
    free(c.nodes);
    free(c.vals);
    free(c.pool);
    if (err)
        *err = c.err;
    else
        free(c.err);
    return f;
}

struct vnd_filter *vnd_filter_compile(const char *text, const char *origin, int line, int col,
                                      char **err)
{
    return compile(text, origin, line, col, false, err);
}

struct vnd_filter *vnd_filter_compile_where(const char *text, const char *origin, int line,
                                            int col, char **err)
{
    return compile(text, origin, line, col, true, err);
}

bool vnd_filter_reads(const struct vnd_filter *f, bool (*pred)(enum vnd_field field))
{
    for (int i = 0; f && i < f->nnodes; i++)
        if (f->nodes[i].field >= 0 && pred((enum vnd_field)f->nodes[i].field))
            return true;
    return false;
}

void vnd_filter_free(struct vnd_filter *f)
{
    free(f);
}

/* ---- evaluation ---- */

static inline bool cmp_ok(int r, unsigned op)
{
    switch (op) {
    case OP_EQ: return r == 0;
    case OP_NE: return r != 0;
    case OP_LT: return r < 0;
    case OP_LE: return r <= 0;
    case OP_GT: return r > 0;
    default: return r >= 0;
    }
}

static int cmp_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    int r = memcmp(a, b, na < nb ? na : nb);
    if (r)
        return r;
    return (na > nb) - (na < nb);
}

/* Forced inline into the loop below: 20 -> 8 ns per packet for a
 * three-clause filter (bench/filter_bench). */
static inline __attribute__((always_inline))
bool test(const struct insn *in, const struct vnd_pkt *pkt, const char *pool)
{
    const struct fval *v = &in->val;
    switch (in->kind) {
    case I_UINT: {
        if (!vnd_pkt_has(pkt, in->field))
            return false;
        uint64_t x = pkt->v[in->field].u;
        return cmp_ok((x > v->v.u) - (x < v->v.u), in->op);
    }
    case I_REAL: {
        /* as the table stores it (vnd_field_value) */
        if (!vnd_pkt_has(pkt, VND_F_TIMESTAMP_NS))
            return false;
        double x = (double)(int64_t)pkt->v[VND_F_TIMESTAMP_NS].u / 1e9;
        return cmp_ok((x > v->v.d) - (x < v->v.d), in->op);
    }
    case I_HASH: {
        if (!pkt->payload || !vnd_pkt_has(pkt, VND_F_PAYLOAD_LEN))
            return false;
        uint64_t x = vnd_payload_hash(pkt->payload, pkt->payload_caplen);
        return cmp_ok((x > v->v.u) - (x < v->v.u), in->op);
    }
    case I_BYTES:
    case I_PREFIX: {
        if (!vnd_pkt_has(pkt, in->field))
            return false;
        const union vnd_pkt_val *pv = &pkt->v[in->field];
        bool eq = pv->b.n == v->alen
                  && (in->kind == I_BYTES ? memcmp(pv->b.p, v->v.a, v->alen) == 0
                                          : vnd_prefix_match(pv->b.p, v->v.a, v->plen));
        return in->op == OP_EQ ? eq : !eq;
    }
    case I_STR: {
        if (!vnd_pkt_has(pkt, in->field))
            return false;
        const union vnd_pkt_val *pv = &pkt->v[in->field];
        return cmp_ok(cmp_bytes(pv->b.p, pv->b.n, (const uint8_t *)pool + v->v.soff, v->slen),
                      in->op);
    }
    case I_SACK: {
        char buf[VND_VALUE_TEXT_MAX];
        struct vnd_value val;
        if (!vnd_field_value(pkt, (enum vnd_field)in->field, buf, &val))
            return false;
        return cmp_ok(cmp_bytes((const uint8_t *)val.s, val.slen,
                                (const uint8_t *)pool + v->v.soff, v->slen), in->op);
    }
    default:
        return false;    /* a column reference: no packet value */
    }
}

bool vnd_filter_match(const struct vnd_filter *f, const struct vnd_pkt *pkt)
{
    int pc = 0;
    while (pc >= 0) {
        const struct insn *in = &f->insn[pc];
        pc = test(in, pkt, f->pool) ? in->t : in->f;
    }
    return pc == ACCEPT;
}

/* ---- SQL ---- */

struct sb {
    char *s;
    size_t n, cap;
    bool oom;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 256;
        while (ncap < b->n + n + 1)
            ncap *= 2;
        char *ns = realloc(b->s, ncap);
        if (!ns) {
            b->oom = true;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* A text literal: quotes doubled, nothing else can end it. */
static void sb_quoted(struct sb *b, const char *s, size_t n)
{
    sb_add(b, "'", 1);
    for (size_t i = 0; i < n; i++) {
        sb_add(b, s + i, 1);
        if (s[i] == '\'')
            sb_add(b, "'", 1);
    }
    sb_add(b, "'", 1);
}

struct sqlx {
    const struct vnd_filter *f;
    const char *(*column_of)(enum vnd_field, void *);
    void *ctx;
    bool pg;
    struct sb b;
    char *err;
};

static void sql_literal(struct sqlx *x, const struct fval *v, int field)
{
    char buf[80];
    switch (v->kind) {
    case V_UINT:
        /* Tables store integers signed (vnd_field_value).  payload.hash
         * uses all 64 bits, so its literal is cast alike; for any other
         * field a literal past INT64_MAX is above every stored value, and
         * a REAL keeps it so. */
        if (v->v.u <= INT64_MAX || field == VND_F_PAYLOAD_HASH)
            snprintf(buf, sizeof buf, "%lld", (long long)(int64_t)v->v.u);
        else
            snprintf(buf, sizeof buf, "%.17g", (double)v->v.u);
        sb_str(&x->b, buf);
        break;
    case V_REAL:
        snprintf(buf, sizeof buf, "%.17g", v->v.d);
        sb_str(&x->b, buf);
        break;
    case V_ADDR: {
        size_t n = vnd_format_ip(v->v.a, v->alen, buf);
        if (v->plen >= 0)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "/%d", v->plen);
        sb_quoted(&x->b, buf, n);
        break;
    }
    case V_MAC:
        sb_quoted(&x->b, buf, vnd_format_mac(v->v.a, buf));
        break;
    case V_STR:
        sb_quoted(&x->b, x->f->pool + v->v.soff, v->slen);
        break;
    }
}

static void sql_prefix(struct sqlx *x, const char *q, const struct fval *v, bool negate)
{
    if (negate)
        sb_str(&x->b, "NOT ");
    if (x->pg) {
        sb_str(&x->b, "(");
        sb_str(&x->b, q);
        sb_str(&x->b, "::inet <<= ");
        sql_literal(x, v, -1);
        sb_str(&x->b, "::inet)");
    } else {
        sb_str(&x->b, "vnd_in_prefix(");
        sb_str(&x->b, q);
        sb_str(&x->b, ", ");
        sql_literal(x, v, -1);
        sb_str(&x->b, ")");
    }
}

static bool is_prefix(const struct fval *v)
{
    return v->kind == V_ADDR && v->plen >= 0;
}

static int sql_node(struct sqlx *x, int ni, bool negated)
{
    const struct vnd_filter *f = x->f;
    const struct node *n = &f->nodes[ni];
    switch (n->type) {
    case N_AND:
    case N_OR:
        sb_str(&x->b, "(");
        for (int ch = n->first; ch >= 0; ch = f->nodes[ch].next) {
            if (ch != n->first)
                sb_str(&x->b, n->type == N_AND ? " AND " : " OR ");
            if (sql_node(x, ch, negated))
                return -1;
        }
        sb_str(&x->b, ")");
        return 0;
    case N_NOT: {
        const struct node *ch = &f->nodes[n->first];
        if (ch->type == N_NOT)    /* not not e = e, also for NULL */
            return sql_node(x, ch->first, negated);
        /* and/or bring their own parentheses */
        bool paren = ch->type != N_AND && ch->type != N_OR;
        sb_str(&x->b, paren ? "NOT (" : "NOT ");
        if (sql_node(x, n->first, !negated))
            return -1;
        if (paren)
            sb_str(&x->b, ")");
        return 0;
    }
    default:
        break;
    }

    char q[80];
    const char *col;
    if (n->field >= 0) {
        col = x->column_of ? x->column_of((enum vnd_field)n->field, x->ctx) : NULL;
        const char *fname = vnd_field_info((enum vnd_field)n->field)->name;
        if (!col) {
            x->err = vnd_lang_error(f->origin, n->line, n->col,
                                    "this table has no column for %s", fname);
            return -1;
        }
        if (!vnd_is_sql_identifier(col, strlen(col))) {
            x->err = vnd_lang_error(f->origin, n->line, n->col,
                                    "column '%.60s' for %s is not a plain SQL name", col, fname);
            return -1;
        }
    } else {
        col = f->pool + n->col_off;    /* checked by the compiler */
    }
    snprintf(q, sizeof q, "\"%s\"", col);

    /* Under an odd number of NOTs, NULL must count as "comparison false"
     * before negation, as vnd_filter_match does for absent fields. */
    if (negated)
        sb_str(&x->b, "("), sb_str(&x->b, q), sb_str(&x->b, " IS NOT NULL AND ");

    const struct fval *vals = f->vals + n->val0;
    if (n->type == N_PRIM) {
        if (is_prefix(&vals[0])) {
            sql_prefix(x, q, &vals[0], n->op == OP_NE);
        } else {
            sb_str(&x->b, q);
            sb_str(&x->b, " ");
            sb_str(&x->b, op_sql[n->op]);
            sb_str(&x->b, " ");
            sql_literal(x, &vals[0], n->field);
        }
    } else {
        int nexact = 0, nprefix = 0;
        for (int k = 0; k < n->nval; k++)
            is_prefix(&vals[k]) ? nprefix++ : nexact++;
        bool paren = nprefix + (nexact > 0) > 1;
        if (paren)
            sb_str(&x->b, "(");
        bool first = true;
        if (nexact) {
            sb_str(&x->b, q);
            sb_str(&x->b, " IN (");
            bool first_item = true;
            for (int k = 0; k < n->nval; k++) {
                if (is_prefix(&vals[k]))
                    continue;
                if (!first_item)
                    sb_str(&x->b, ", ");
                first_item = false;
                sql_literal(x, &vals[k], n->field);
            }
            sb_str(&x->b, ")");
            first = false;
        }
        for (int k = 0; k < n->nval; k++) {
            if (!is_prefix(&vals[k]))
                continue;
            if (!first)
                sb_str(&x->b, " OR ");
            first = false;
            sql_prefix(x, q, &vals[k], false);
        }
        if (paren)
            sb_str(&x->b, ")");
    }
    if (negated)
        sb_str(&x->b, ")");
    return 0;
}

char *vnd_filter_to_sql(const struct vnd_filter *f,
                        const char *(*column_of)(enum vnd_field field, void *ctx), void *ctx,
                        bool pg, char **err)
{
    struct sqlx x = {.f = f, .column_of = column_of, .ctx = ctx, .pg = pg};
    if (sql_node(&x, f->root, false) == 0 && x.b.oom)
        x.err = vnd_lang_error(f->origin, 1, 1, "out of memory");
    if (x.err) {
        free(x.b.s);
        if (err)
            *err = x.err;
        else
            free(x.err);
        return NULL;
    }
    return x.b.s;
}
