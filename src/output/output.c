/* output.c — table, CSV and JSON writers.
 *
 * Text is escaped once, by format (escape_text), before the format's own
 * quoting; docs/output.md is the reader's side of the same rules. */
#include "output/output.h"

#include "store/provider.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct vnd_out {
    FILE *f;
    enum vnd_fmt fmt;
    int ncols;
    char **names;          /* as escaped for the format (CSV, table) */
    char **keys;           /* JSON: the names made unique */
    int col;               /* next cell's column in the current row */
    int64_t rows;
    json_t *row;           /* JSON, and a record in CSV: the object being filled */
    bool object;           /* JSON: {"rows":[...], records...} */
    bool opened;           /* JSON: the rows' '[' is written */
    bool closed;           /* JSON: ... and its ']' */
    bool cut;              /* the result failed part way (vnd_out_abandon) */
    /* a record (vnd_out_record) being filled instead of a row */
    char *rec;
    int rec_n;
    char **rec_keys;
    char *esc;             /* escape_buf's buffer for cells */
    size_t esccap;
    /* table: every cell as text, row-major, NULL for SQL NULL */
    char **cells;
    size_t ncells, cap;
};

int vnd_fmt_parse(const char *s, enum vnd_fmt *out)
{
    if (!strcmp(s, "table")) *out = VND_FMT_TABLE;
    else if (!strcmp(s, "csv")) *out = VND_FMT_CSV;
    else if (!strcmp(s, "json")) *out = VND_FMT_JSON;
    else return -1;
    return 0;
}

struct vnd_out *vnd_out_new(FILE *f, enum vnd_fmt fmt)
{
    struct vnd_out *o = vnd_xcalloc(1, sizeof *o);
    o->f = f;
    o->fmt = fmt;
    return o;
}

/* Length of the valid UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) at s, or 0.  jansson checks the
 * same, so what passes here it never refuses. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;         /* range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* Bytes → text every format can carry, nothing lost: valid UTF-8 stays,
 * each other byte becomes the four characters \xNN (lower-case hex), and
 * a backslash followed by 'x' becomes \x5c so that the only \xNN in the
 * result are escapes.  CSV and table also escape NUL that way (JSON has
 * \u0000), the table every control character (it goes to a terminal).
 * Into *buf (grown as needed, NUL-terminated); returns the length. */
static size_t escape_buf(char **buf, size_t *cap, const char *s, size_t n, enum vnd_fmt fmt)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    if (*cap < 4 * n + 1) {
        *cap = 4 * n + 1 > 2 * *cap ? 4 * n + 1 : 2 * *cap;
        free(*buf);
        *buf = vnd_xmalloc(*cap);
    }
    char *d = *buf;
    size_t k = 0;
    unsigned ctl = fmt == VND_FMT_TABLE ? 0x20 : fmt == VND_FMT_CSV ? 1 : 0;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c < 0x80 && c >= ctl && c != '\\' && c != 0x7f) {    /* most bytes */
            d[k++] = (char)c;
            i++;
            continue;
        }
        size_t m = utf8_seq(u + i, n - i);
        bool esc = m == 0
                   || (c == '\\' && i + 1 < n && u[i + 1] == 'x')
                   || c < ctl
                   || (c == 0x7f && fmt == VND_FMT_TABLE);
        if (esc) {
            d[k++] = '\\';
            d[k++] = 'x';
            d[k++] = hex[c >> 4];
            d[k++] = hex[c & 15];
            i++;
        } else {
            memcpy(d + k, u + i, m);
            k += m;
            i += m;
        }
    }
    d[k] = 0;
    return k;
}

/* The same, malloc'd. */
static char *escape_text(const char *s, size_t n, enum vnd_fmt fmt, size_t *len)
{
    char *buf = NULL;
    size_t cap = 0;
    *len = escape_buf(&buf, &cap, s, n, fmt);
    return buf;
}

static char *escape_name(const char *s, enum vnd_fmt fmt)
{
    size_t len;
    return escape_text(s ? s : "", s ? strlen(s) : 0, fmt, &len);
}

/* ---- unique JSON keys ---- */

struct name_set {
    struct name_ent { const char *s; bool used; } *e;
    size_t mask;
};

static size_t name_hash(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The entry of `s`, or the empty slot where it goes. */
static struct name_ent *name_find(struct name_set *t, const char *s)
{
    for (size_t i = name_hash(s) & t->mask;; i = (i + 1) & t->mask)
        if (!t->e[i].s || !strcmp(t->e[i].s, s))
            return &t->e[i];
}

char **vnd_out_unique_names(int n, const char *const *names)
{
    char **keys = vnd_xcalloc((size_t)n + 1, sizeof *keys);
    struct name_set t;
    size_t size = 16;
    while (size < 4 * (size_t)n)
        size *= 2;
    t.e = vnd_xcalloc(size, sizeof *t.e);
    t.mask = size - 1;
    /* every name a column has is taken, even by a later column */
    for (int i = 0; i < n; i++) {
        struct name_ent *e = name_find(&t, names[i]);
        if (!e->s)
            e->s = names[i];
    }
    for (int i = 0; i < n; i++) {
        struct name_ent *e = name_find(&t, names[i]);
        if (!e->used) {                     /* its first column keeps it */
            e->used = true;
            keys[i] = vnd_xstrdup(names[i]);
            continue;
        }
        for (long k = 2;; k++) {
            char *cand = vnd_strdup_printf("%s_%ld", names[i], k);
            struct name_ent *c = name_find(&t, cand);
            if (!c->s) {
                c->s = keys[i] = cand;
                c->used = true;
                break;
            }
            free(cand);
        }
    }
    free(t.e);
    return keys;
}

static void free_names(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- cells ---- */

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void vnd_out_object(struct vnd_out *o)
{
    o->object = true;
}

void vnd_out_columns(struct vnd_out *o, int n, const char *const *names)
{
    o->ncols = n;
    o->names = vnd_xcalloc((size_t)n + 1, sizeof *o->names);
    for (int i = 0; i < n; i++)
        o->names[i] = escape_name(names[i], o->fmt);
    if (o->fmt == VND_FMT_CSV) {
        for (int i = 0; i < n; i++) {
            if (i)
                fputc(',', o->f);
            csv_field(o->f, o->names[i]);
        }
        fputc('\n', o->f);
    } else if (o->fmt == VND_FMT_JSON) {
        o->keys = vnd_out_unique_names(n, (const char *const *)o->names);
        fputs(o->object ? "{\"rows\":[" : "[", o->f);
        o->opened = true;
    }
}

void vnd_out_record(struct vnd_out *o, const char *name, int n, const char *const *fields)
{
    o->rec = vnd_xstrdup(name);
    o->rec_n = n;
    char **esc = vnd_xcalloc((size_t)n + 1, sizeof *esc);
    for (int i = 0; i < n; i++)
        esc[i] = escape_name(fields[i], VND_FMT_JSON);
    o->rec_keys = vnd_out_unique_names(n, (const char *const *)esc);
    free_names(esc, n);
    o->col = 0;
}

/* Text of a REAL for people (the table format): integral values keep one
 * decimal, timestamps keep microseconds, small values ten significant
 * digits. */
static void real_text(double v, char buf[64])
{
    if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, 64, "%.1f", v);
    else if (fabs(v) >= 1e6)
        snprintf(buf, 64, "%.6f", v);
    else
        snprintf(buf, 64, "%.10g", v);
}

/* Text of a REAL for programs (CSV): the shortest form that reads back as
 * the same double, so an export loses nothing. */
static void real_exact(double v, char buf[64])
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 64, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    size_t n = strlen(buf);
    if (isfinite(v) && !strpbrk(buf, ".en"))    /* keep it visibly REAL */
        snprintf(buf + n, 64 - n, ".0");
}

/* One cell: `text` (escaped for the format already) for CSV and table,
 * `jv` (owned) for JSON and for records. */
static void put_cell(struct vnd_out *o, const char *text, json_t *jv)
{
    int c = o->col++;
    if (o->rec) {
        if (o->fmt != VND_FMT_TABLE && c < o->rec_n) {
            if (!o->row)
                o->row = json_object();
            json_object_set_new_nocheck(o->row, o->rec_keys[c], jv);
            return;
        }
        json_decref(jv);
        return;
    }
    switch (o->fmt) {
    case VND_FMT_CSV:
        if (c)
            fputc(',', o->f);
        if (text)
            csv_field(o->f, text);
        break;
    case VND_FMT_JSON:
        if (!o->row)
            o->row = json_object();
        if (c < o->ncols) {
            json_object_set_new_nocheck(o->row, o->keys[c], jv);
            return;
        }
        break;
    case VND_FMT_TABLE:
        if (o->ncells == o->cap) {
            o->cap = o->cap ? 2 * o->cap : 256;
            o->cells = vnd_xrealloc(o->cells, o->cap * sizeof *o->cells);
        }
        o->cells[o->ncells++] = text ? vnd_xstrdup(text) : NULL;
        break;
    }
    json_decref(jv);
}

/* JSON values are made for JSON rows and for records in any format. */
static bool wants_json(const struct vnd_out *o)
{
    return o->fmt == VND_FMT_JSON || o->rec;
}

void vnd_out_null(struct vnd_out *o)
{
    put_cell(o, NULL, wants_json(o) ? json_null() : NULL);
}

void vnd_out_int(struct vnd_out *o, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    put_cell(o, buf, wants_json(o) ? json_integer(v) : NULL);
}

void vnd_out_real(struct vnd_out *o, double v)
{
    char buf[64];
    if (o->fmt == VND_FMT_TABLE)
        real_text(v, buf);
    else
        real_exact(v, buf);
    put_cell(o, buf, wants_json(o) ? (isfinite(v) ? json_real(v) : json_null()) : NULL);
}

void vnd_out_textn(struct vnd_out *o, const char *s, size_t n)
{
    /* a record is JSON in every format */
    size_t len = escape_buf(&o->esc, &o->esccap, s, n, o->rec ? VND_FMT_JSON : o->fmt);
    put_cell(o, o->esc, wants_json(o) ? json_stringn_nocheck(o->esc, len) : NULL);
}

void vnd_out_text(struct vnd_out *o, const char *s)
{
    if (s)
        vnd_out_textn(o, s, strlen(s));
    else
        vnd_out_null(o);
}

void vnd_out_blob(struct vnd_out *o, const void *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = p;
    char *s = vnd_xmalloc(2 * n + 4);
    size_t k = 0;
    s[k++] = 'x';
    s[k++] = '\'';
    for (size_t i = 0; i < n; i++) {
        s[k++] = hex[b[i] >> 4];
        s[k++] = hex[b[i] & 15];
    }
    s[k++] = '\'';
    s[k] = 0;
    put_cell(o, s, wants_json(o) ? json_stringn_nocheck(s, k) : NULL);
    free(s);
}

/* JSON: ends the rows' array (once). */
static void json_close_rows(struct vnd_out *o)
{
    if (o->fmt != VND_FMT_JSON || !o->opened || o->closed)
        return;
    fputs(o->rows ? "\n]" : "]", o->f);
    o->closed = true;
}

static void end_record(struct vnd_out *o)
{
    if (o->fmt == VND_FMT_CSV || (o->fmt == VND_FMT_JSON && o->object)) {
        if (!o->row)
            o->row = json_object();
        if (o->fmt == VND_FMT_JSON) {
            if (!o->opened) {               /* a record before any column */
                fputs("{\"rows\":[", o->f);
                o->opened = true;
            }
            json_close_rows(o);
            size_t len;
            char *e = escape_text(o->rec, strlen(o->rec), VND_FMT_JSON, &len);
            json_t *k = json_stringn_nocheck(e, len);
            fputc(',', o->f);
            json_dumpf(k, o->f, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
            fputc(':', o->f);
            json_decref(k);
            free(e);
        } else {
            char *e = escape_name(o->rec, VND_FMT_TABLE);    /* one line */
            fprintf(o->f, "# %s: ", e);
            free(e);
        }
        json_dumpf(o->row, o->f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        if (o->fmt == VND_FMT_CSV)
            fputc('\n', o->f);
    }
    json_decref(o->row);
    o->row = NULL;
    free(o->rec);
    o->rec = NULL;
    free_names(o->rec_keys, o->rec_n);
    o->rec_keys = NULL;
    o->rec_n = 0;
    o->col = 0;
}

enum vnd_fmt vnd_out_format(const struct vnd_out *o)
{
    return o->fmt;
}

void vnd_out_record_json(struct vnd_out *o, const char *name, json_t *v)
{
    if (o->rec)
        end_record(o);
    o->rec = vnd_xstrdup(name);
    json_decref(o->row);
    o->row = v;
    end_record(o);
}

void vnd_out_end_row(struct vnd_out *o)
{
    if (o->rec) {
        end_record(o);
        return;
    }
    if (o->fmt == VND_FMT_CSV) {
        fputc('\n', o->f);
    } else if (o->fmt == VND_FMT_JSON) {
        if (!o->row)
            o->row = json_object();
        if (o->rows)
            fputc(',', o->f);
        fputc('\n', o->f);
        json_dumpf(o->row, o->f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        json_decref(o->row);
        o->row = NULL;
    } else {
        while (o->col < o->ncols)   /* short rows are padded with NULL */
            put_cell(o, NULL, NULL);
    }
    o->col = 0;
    o->rows++;
}

void vnd_out_cell(struct vnd_out *o, const struct vnd_value *v)
{
    switch (v->type) {
    case VND_SQL_INTEGER: vnd_out_int(o, v->i); break;
    case VND_SQL_REAL: vnd_out_real(o, v->d); break;
    case VND_SQL_TEXT: vnd_out_textn(o, v->s ? v->s : "", v->slen); break;
    case VND_SQL_BLOB: vnd_out_blob(o, v->s ? v->s : "", v->slen); break;
    default: vnd_out_null(o); break;
    }
}

int vnd_out_cursor(struct vnd_out *o, struct vnd_cursor *c, int *code, char **err)
{
    vnd_out_columns(o, c->ncols, (const char *const *)c->cols);
    int rc;
    while ((rc = vnd_cursor_next(c, code, err)) == 1) {
        for (int i = 0; i < c->ncols; i++) {
            struct vnd_value v;
            vnd_cursor_cell(c, i, &v);
            vnd_out_cell(o, &v);
        }
        vnd_out_end_row(o);
    }
    return rc;
}

int64_t vnd_out_rows(const struct vnd_out *o)
{
    return o->rows;
}

static int utf8_width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

static void table_flush(struct vnd_out *o)
{
    int n = o->ncols;
    if (n == 0)
        return;
    int *w = vnd_xcalloc((size_t)n, sizeof *w);
    for (int c = 0; c < n; c++)
        w[c] = utf8_width(o->names[c]);
    for (size_t i = 0; i < o->ncells; i++) {
        int cw = o->cells[i] ? utf8_width(o->cells[i]) : 4;
        if (cw > w[i % n])
            w[i % n] = cw;
    }
    for (int c = 0; c < n; c++)
        fprintf(o->f, "%s%-*s", c ? "  " : "", w[c], o->names[c]);
    fputc('\n', o->f);
    for (int c = 0; c < n; c++) {
        fputs(c ? "  " : "", o->f);
        for (int k = 0; k < w[c]; k++)
            fputc('-', o->f);
    }
    fputc('\n', o->f);
    for (size_t i = 0; i < o->ncells; i++) {
        const char *s = o->cells[i] ? o->cells[i] : "NULL";
        int pad = w[i % n] - utf8_width(s);
        fputs(i % n ? "  " : "", o->f);
        fputs(s, o->f);
        if (i % n != (size_t)n - 1)
            for (int k = 0; k < pad; k++)
                fputc(' ', o->f);
        else
            fputc('\n', o->f);
    }
    if (o->cut)
        fprintf(o->f, "(cut short after %lld row%s)\n", (long long)o->rows,
                o->rows == 1 ? "" : "s");
    else
        fprintf(o->f, "(%lld row%s)\n", (long long)o->rows, o->rows == 1 ? "" : "s");
    free(w);
}

void vnd_out_abandon(struct vnd_out *o)
{
    if (!o)
        return;
    o->cut = true;
    vnd_out_finish(o);
}

void vnd_out_finish(struct vnd_out *o)
{
    if (!o)
        return;
    if (o->rec)                     /* a record left open is written */
        end_record(o);
    if (o->fmt == VND_FMT_TABLE) {
        table_flush(o);
    } else if (o->fmt == VND_FMT_JSON && o->opened && !o->cut) {
        json_close_rows(o);
        fputs(o->object ? "}\n" : "\n", o->f);
    }
    json_decref(o->row);
    for (size_t i = 0; i < o->ncells; i++)
        free(o->cells[i]);
    free(o->cells);
    free_names(o->names, o->ncols);
    free_names(o->keys, o->ncols);
    free(o->esc);
    fflush(o->f);
    free(o);
}
