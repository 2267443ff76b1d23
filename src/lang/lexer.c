/* lexer.c — tokens shared by the filter language and parse configurations. */
#include "lang/lexer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *vnd_lang_error(const char *origin, int line, int col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *o = origin ? origin : "<input>";
    int n = snprintf(NULL, 0, "%s:%d:%d: %s", o, line, col, msg);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s)
        snprintf(s, (size_t)n + 1, "%s:%d:%d: %s", o, line, col, msg);
    return s;
}

void vnd_lex_init(struct vnd_lexer *lx, const char *text, const char *origin,
                  int line, int col)
{
    lx->origin = origin;
    lx->p = text;
    lx->line = line;
    lx->col = col;
}

static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_word(int c) { return is_alpha(c) || is_digit(c) || c == '.' || c == ':'; }

static int hexval(int c)
{
    return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

bool vnd_is_sql_identifier(const char *s, size_t n)
{
    if (n == 0 || n > 63 || !is_alpha((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_alpha((unsigned char)s[i]) && !is_digit((unsigned char)s[i]))
            return false;
    return true;
}

static bool word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

const char *vnd_sql_reserved_table(const char *s, size_t n)
{
    /* `pragma module_list` of SQLite 3.40 with its usual extensions (the
     * shell's too: a tenant may read a file with it); pragma_* are the
     * eponymous tables of every PRAGMA that returns rows. */
    static const char *const builtin[] = {
        "json_each", "json_tree", "dbstat", "fts3", "fts4", "fts4aux", "fts3tokenize",
        "fts5", "fts5vocab", "rtree", "rtree_i32", "geopoly", "generate_series",
        "carray", "completion", "fsdir", "zipfile",
    };
    if ((n >= 4 && strncasecmp(s, "vnd_", 4) == 0) || (n >= 7 && strncasecmp(s, "sqlite_", 7) == 0))
        return "names starting with vnd_ or sqlite_ belong to VND and SQLite";
    bool taken = n >= 7 && strncasecmp(s, "pragma_", 7) == 0;
    for (size_t i = 0; !taken && i < sizeof builtin / sizeof *builtin; i++)
        taken = word_is(s, n, builtin[i]);
    if (taken)
        return "SQLite's own tables and modules (pragma_*, json_each, json_tree, dbstat, "
               "fts*, rtree, ...) have that name";
    return NULL;
}

const char *vnd_sql_reserved_column(const char *s, size_t n)
{
    if (word_is(s, n, "rowid") || word_is(s, n, "oid") || word_is(s, n, "_rowid_"))
        return "it is SQLite's name for the row id, which VND sets";
    return NULL;
}

void vnd_mask_prefix(uint8_t *addr, int alen, int plen)
{
    for (int i = 0; i < alen; i++) {
        int bits = plen - 8 * i;
        if (bits >= 8)
            continue;
        addr[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
    }
}

bool vnd_prefix_match(const uint8_t *a, const uint8_t *b, int plen)
{
    int whole = plen / 8, rest = plen % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & m) == (b[whole] & m);
}

int vnd_parse_prefix(const char *s, size_t n, uint8_t addr[16], int *plen)
{
    char buf[64];
    const char *slash = memchr(s, '/', n);
    size_t alen_txt = slash ? (size_t)(slash - s) : n;
    if (alen_txt == 0 || alen_txt >= sizeof buf)
        return 0;
    memcpy(buf, s, alen_txt);
    buf[alen_txt] = '\0';
    int fam = memchr(buf, ':', alen_txt) ? AF_INET6 : AF_INET;
    if (inet_pton(fam, buf, addr) != 1)
        return 0;
    int alen = fam == AF_INET ? 4 : 16;
    *plen = -1;
    if (slash) {
        const char *d = slash + 1, *end = s + n;
        if (d == end || end - d > 3)
            return 0;
        int v = 0;
        for (; d < end; d++) {
            if (!is_digit((unsigned char)*d))
                return 0;
            v = v * 10 + (*d - '0');
        }
        if (v > alen * 8)
            return 0;
        *plen = v;
    }
    return alen;
}

/* Six pairs of hex digits separated by ':' — the only shape read as a MAC. */
static bool mac_shape(const char *s, size_t n, uint8_t out[6])
{
    if (n != 17)
        return false;
    for (int i = 0; i < 6; i++) {
        const char *g = s + 3 * i;
        if (!is_hex((unsigned char)g[0]) || !is_hex((unsigned char)g[1])
            || (i < 5 && g[2] != ':'))
            return false;
        out[i] = (uint8_t)(hexval((unsigned char)g[0]) << 4 | hexval((unsigned char)g[1]));
    }
    return true;
}

static void advance(struct vnd_lexer *lx, size_t n)
{
    for (size_t i = 0; i < n && *lx->p; i++, lx->p++) {
        if (*lx->p == '\n') {
            lx->line++;
            lx->col = 1;
        } else {
            lx->col++;
        }
    }
}

void vnd_lex_skip_space(struct vnd_lexer *lx)
{
    for (;;) {
        char c = *lx->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(lx, 1);
        } else if (c == '#') {
            while (*lx->p && *lx->p != '\n')
                advance(lx, 1);
        } else {
            return;
        }
    }
}

/* A word: number, decimal, address, MAC or identifier, told apart by shape. */
static int lex_word(struct vnd_lexer *lx, struct vnd_tok *t, char **err)
{
    const char *s = lx->p;
    size_t n = 0;
    while (is_word((unsigned char)s[n]))
        n++;
    bool colon = memchr(s, ':', n) != NULL;
    /* a prefix length belongs to an address */
    size_t full = n;
    if (s[n] == '/' && (colon || is_digit((unsigned char)s[0]))) {
        full = n + 1;
        while (is_digit((unsigned char)s[full]))
            full++;
    }
    t->s = s;
    t->len = full;

    if (colon) {
        if (full == n && mac_shape(s, n, t->addr)) {
            t->kind = VND_TOK_MAC;
            t->alen = 6;
        } else if (vnd_parse_prefix(s, full, t->addr, &t->plen) == 16) {
            t->kind = VND_TOK_ADDR;
            t->alen = 16;
        } else {
            *err = vnd_lang_error(lx->origin, t->line, t->col,
                                  "malformed address '%.*s' (IPv6 like fe80::1 or fe80::/64, "
                                  "MAC like 02:00:00:00:00:01)", (int)(full > 60 ? 60 : full), s);
            return -1;
        }
        advance(lx, full);
        return 0;
    }
    if (is_digit((unsigned char)s[0])) {
        int dots = 0;
        for (size_t i = 0; i < n; i++)
            dots += s[i] == '.';
        if (dots == 3 || full != n) {
            if (vnd_parse_prefix(s, full, t->addr, &t->plen) != 4) {
                *err = vnd_lang_error(lx->origin, t->line, t->col,
                                      "malformed IPv4 address or prefix '%.*s' "
                                      "(like 10.0.0.6 or 10.0.0.0/24)",
                                      (int)(full > 60 ? 60 : full), s);
                return -1;
            }
            t->kind = VND_TOK_ADDR;
            t->alen = 4;
        } else if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            uint64_t v = 0;
            size_t i = 2;
            for (; i < n && is_hex((unsigned char)s[i]); i++) {
                if (v >> 60)
                    goto too_large;
                v = v << 4 | (uint64_t)hexval((unsigned char)s[i]);
            }
            if (i != n)
                goto malformed;
            t->kind = VND_TOK_NUM;
            t->u = v;
        } else if (dots == 0) {
            uint64_t v = 0;
            for (size_t i = 0; i < n; i++) {
                if (!is_digit((unsigned char)s[i]))
                    goto malformed;
                unsigned dgt = (unsigned)(s[i] - '0');
                if (v > (UINT64_MAX - dgt) / 10)
                    goto too_large;
                v = v * 10 + dgt;
            }
            t->kind = VND_TOK_NUM;
            t->u = v;
        } else if (dots == 1) {
            char buf[64];
            const char *dot = memchr(s, '.', n);
            if (n >= sizeof buf || dot == s + n - 1)
                goto malformed;
            for (size_t i = 0; i < n; i++)
                if (!is_digit((unsigned char)s[i]) && s[i] != '.')
                    goto malformed;
            memcpy(buf, s, n);
            buf[n] = '\0';
            t->kind = VND_TOK_REAL;
            t->d = strtod(buf, NULL);
            if (t->d > 1e300)
                goto too_large;
        } else {
            goto malformed;
        }
        advance(lx, full);
        return 0;
    }
    /* identifier or keyword */
    if (!is_alpha((unsigned char)s[0])) {
        *err = vnd_lang_error(lx->origin, t->line, t->col, "unexpected character '%c'", s[0]);
        return -1;
    }
    t->kind = VND_TOK_IDENT;
    if (vnd_tok_is_word(t, "and"))
        t->kind = VND_TOK_AND;
    else if (vnd_tok_is_word(t, "or"))
        t->kind = VND_TOK_OR;
    else if (vnd_tok_is_word(t, "not"))
        t->kind = VND_TOK_NOT;
    else if (vnd_tok_is_word(t, "in"))
        t->kind = VND_TOK_IN;
    advance(lx, full);
    return 0;

too_large:
    *err = vnd_lang_error(lx->origin, t->line, t->col,
                          "number '%.*s' is too large (at most 64 bits)",
                          (int)(n > 60 ? 60 : n), s);
    return -1;
malformed:
    *err = vnd_lang_error(lx->origin, t->line, t->col,
                          "malformed number '%.*s' (decimal, 0x hex, or a decimal "
                          "fraction like 1.5)", (int)(n > 60 ? 60 : n), s);
    return -1;
}

static int lex_string(struct vnd_lexer *lx, struct vnd_tok *t, char **err)
{
    const char *s = lx->p;
    char q = s[0];
    size_t i = 1;
    for (;;) {
        char c = s[i];
        if (c == '\0' || c == '\n') {
            *err = vnd_lang_error(lx->origin, t->line, t->col,
                                  "unterminated string: expected %c before the end of the line",
                                  q);
            return -1;
        }
        if (c == '\\' && s[i + 1] && s[i + 1] != '\n') {
            i += 2;
            continue;
        }
        i++;
        if (c == q)
            break;
    }
    t->kind = VND_TOK_STR;
    t->s = s;
    t->len = i;
    advance(lx, i);
    return 0;
}

int vnd_lex_next(struct vnd_lexer *lx, struct vnd_tok *t, char **err)
{
    vnd_lex_skip_space(lx);
    memset(t, 0, sizeof *t);
    t->line = lx->line;
    t->col = lx->col;
    t->s = lx->p;
    t->plen = -1;
    const char *p = lx->p;
    unsigned char c = (unsigned char)p[0];
    size_t n = 1;

    if (c == '\0') {
        t->kind = VND_TOK_EOF;
        return 0;
    }
    if (is_word(c))
        return lex_word(lx, t, err);
    if (c == '"' || c == '\'')
        return lex_string(lx, t, err);
    switch (c) {
    case '=': t->kind = VND_TOK_EQ; n = p[1] == '=' ? 2 : 1; break;
    case '!': if (p[1] == '=') { t->kind = VND_TOK_NE; n = 2; } else t->kind = VND_TOK_NOT; break;
    case '<': if (p[1] == '=') { t->kind = VND_TOK_LE; n = 2; } else t->kind = VND_TOK_LT; break;
    case '>': if (p[1] == '=') { t->kind = VND_TOK_GE; n = 2; } else t->kind = VND_TOK_GT; break;
    case ',': t->kind = VND_TOK_COMMA; break;
    case '{': t->kind = VND_TOK_LBRACE; break;
    case '}': t->kind = VND_TOK_RBRACE; break;
    case '(': t->kind = VND_TOK_LPAREN; break;
    case ')': t->kind = VND_TOK_RPAREN; break;
    case '&':
    case '|':
        if (p[1] == (char)c) {
            t->kind = c == '&' ? VND_TOK_AND : VND_TOK_OR;
            n = 2;
            break;
        }
        /* fall through */
    default:
        if (c >= 0x20 && c < 0x7f)
            *err = vnd_lang_error(lx->origin, t->line, t->col, "unexpected character '%c'", c);
        else
            *err = vnd_lang_error(lx->origin, t->line, t->col,
                                  "unexpected byte 0x%02x", c);
        return -1;
    }
    t->len = n;
    advance(lx, n);
    return 0;
}

bool vnd_tok_is_word(const struct vnd_tok *t, const char *word)
{
    size_t n = strlen(word);
    return (t->kind == VND_TOK_IDENT || t->kind == VND_TOK_AND || t->kind == VND_TOK_OR
            || t->kind == VND_TOK_NOT || t->kind == VND_TOK_IN)
           && t->len == n && strncasecmp(t->s, word, n) == 0;
}

void vnd_tok_describe(const struct vnd_tok *t, char *buf, size_t size)
{
    int n = t->len > 40 ? 40 : (int)t->len;
    const char *more = t->len > 40 ? "..." : "";
    switch (t->kind) {
    case VND_TOK_EOF:
        snprintf(buf, size, "end of input");
        break;
    case VND_TOK_NUM: case VND_TOK_REAL: case VND_TOK_ADDR: case VND_TOK_MAC:
    case VND_TOK_STR:
        snprintf(buf, size, "%.*s%s", n, t->s, more);
        break;
    default:
        snprintf(buf, size, "'%.*s%s'", n, t->s, more);
        break;
    }
}

size_t vnd_tok_text(const struct vnd_tok *t, char *out)
{
    size_t o = 0;
    if (t->kind != VND_TOK_STR) {
        memcpy(out, t->s, t->len);
        out[t->len] = '\0';
        return t->len;
    }
    for (size_t i = 1; i + 1 < t->len; i++) {
        if (t->s[i] == '\\' && i + 2 < t->len)
            i++;
        out[o++] = t->s[i];
    }
    out[o] = '\0';
    return o;
}
