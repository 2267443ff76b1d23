/* lexer.h — tokens of the filter language and the field lists of parse
 * configurations (src/lang/filter.c, src/lang/parseconf.c).
 *
 * A token is one of: an identifier (letters, digits, '_' and '.', not
 * starting with a digit: ip.src, tcp, src_port), a number (decimal or 0x
 * hex, unsigned 64 bits), a decimal with a fraction (1370000000.25), an
 * IPv4 or IPv6 address with an optional /len, a MAC (six ':'-separated
 * pairs of hex digits: a word of that exact shape is a MAC, anything else
 * with a ':' is read as IPv6), a quoted string ('...' or "...", backslash
 * escapes the next character, no line breaks), an operator
 * (= == != < <= > >= , { } ( )), or a keyword: and or not in, also written
 * && || !.  '#' starts a comment to the end of the line.
 *
 * Every token carries the line and column where it starts, counted from the
 * position the caller gives for text[0].  Errors are malloc'd strings
 * "origin:line:col: message".
 */
#ifndef VND_LANG_LEXER_H
#define VND_LANG_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vnd_tok_kind {
    VND_TOK_EOF,
    VND_TOK_IDENT,
    VND_TOK_NUM,     /* u */
    VND_TOK_REAL,    /* d */
    VND_TOK_ADDR,    /* addr, alen 4 or 16, plen (-1 without /len) */
    VND_TOK_MAC,     /* addr, alen 6 */
    VND_TOK_STR,     /* raw text with its quotes; see vnd_tok_unquote */
    VND_TOK_EQ, VND_TOK_NE, VND_TOK_LT, VND_TOK_LE, VND_TOK_GT, VND_TOK_GE,
    VND_TOK_COMMA, VND_TOK_LBRACE, VND_TOK_RBRACE, VND_TOK_LPAREN,
    VND_TOK_RPAREN,
    VND_TOK_AND, VND_TOK_OR, VND_TOK_NOT, VND_TOK_IN,
};

struct vnd_tok {
    enum vnd_tok_kind kind;
    const char *s;           /* raw text in the lexer's input */
    size_t len;
    int line, col;
    uint64_t u;
    double d;
    uint8_t addr[16];
    uint8_t alen;
    int plen;
};

struct vnd_lexer {
    const char *origin;
    const char *p;           /* next character */
    int line, col;           /* of *p */
};

/* `origin` is used in error messages (NULL reads "<input>"); text[0] is at
 * line:col. */
void vnd_lex_init(struct vnd_lexer *lx, const char *text, const char *origin,
                  int line, int col);

/* Reads the next token into *t.  Returns 0, or -1 and a malloc'd message in
 * *err.  At the end of the text it keeps returning VND_TOK_EOF. */
int vnd_lex_next(struct vnd_lexer *lx, struct vnd_tok *t, char **err);

/* Skips blanks, line breaks and comments, so that lx->p is where the next
 * token starts (for callers that read a word their own way). */
void vnd_lex_skip_space(struct vnd_lexer *lx);

/* How a token reads in "found X": end of input, 80, 10.0.0.1, "str", or
 * quoted: 'ip.src', '}'.  Long tokens are shortened. */
void vnd_tok_describe(const struct vnd_tok *t, char *buf, size_t size);

/* The text of a VND_TOK_STR without quotes and escapes (or any other
 * token's raw text) into `out`, which has room for t->len + 1 bytes.
 * Returns the length (out is NUL-terminated). */
size_t vnd_tok_text(const struct vnd_tok *t, char *out);

/* True when the token is an identifier equal to `word` (ASCII case
 * folded). */
bool vnd_tok_is_word(const struct vnd_tok *t, const char *word);

/* "origin:line:col: message", malloc'd (NULL only when out of memory). */
char *vnd_lang_error(const char *origin, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* [A-Za-z_][A-Za-z0-9_]*, at most 63 characters: the names that may be
 * written into SQL as table or column names. */
bool vnd_is_sql_identifier(const char *s, size_t n);

/* Why the identifier s (n bytes) may not name a table VND creates, or NULL
 * when it may: names starting with vnd_ or sqlite_ belong to VND and
 * SQLite; pragma_*, json_each, json_tree, dbstat and SQLite's other
 * built-in virtual tables and modules (fts*, rtree, ...) are names SQLite
 * resolves to its own tables, so a query would not read ours. */
const char *vnd_sql_reserved_table(const char *s, size_t n);

/* Why the identifier may not name a column (rowid, oid, _rowid_: SQLite's
 * names of the row id, which VND sets), or NULL. */
const char *vnd_sql_reserved_column(const char *s, size_t n);

/* Parses "10.0.0.0/24", "fe80::1", "::/0" (n bytes of s).  Returns 4 or 16
 * with the address in addr and *plen the prefix length (-1 when there is
 * no /len), or 0 when it is not an address or the length is out of range. */
int vnd_parse_prefix(const char *s, size_t n, uint8_t addr[16], int *plen);

/* Sets the bits past `plen` of an alen-byte address to zero. */
void vnd_mask_prefix(uint8_t *addr, int alen, int plen);

/* True when the first plen bits of a and b (alen bytes each) are equal. */
bool vnd_prefix_match(const uint8_t *a, const uint8_t *b, int plen);

#endif
