/* output.c — table, CSV and JSON writers. */
#include "output/output.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct vnd_out {
    FILE *f;
    enum vnd_fmt fmt;
    int ncols;
    char **names;
    int col;               /* next cell's column in the current row */
    int64_t rows;
    json_t *row;           /* JSON: the object being filled */
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
    struct vnd_out *o = calloc(1, sizeof *o);
    if (!o)
        abort();
    o->f = f;
    o->fmt = fmt;
    return o;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

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

void vnd_out_columns(struct vnd_out *o, int n, const char *const *names)
{
    o->ncols = n;
    o->names = calloc((size_t)n + 1, sizeof *o->names);
    if (!o->names)
        abort();
    for (int i = 0; i < n; i++)
        o->names[i] = xstrdup(names[i] ? names[i] : "");
    if (o->fmt == VND_FMT_CSV) {
        for (int i = 0; i < n; i++) {
            if (i)
                fputc(',', o->f);
            csv_field(o->f, o->names[i]);
        }
        fputc('\n', o->f);
    } else if (o->fmt == VND_FMT_JSON) {
        fputc('[', o->f);
    }
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

static void put_cell(struct vnd_out *o, const char *text, json_t *jv)
{
    int c = o->col++;
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
        json_object_set_new(o->row, c < o->ncols ? o->names[c] : "?", jv);
        return;
    case VND_FMT_TABLE:
        if (o->ncells == o->cap) {
            o->cap = o->cap ? 2 * o->cap : 256;
            o->cells = realloc(o->cells, o->cap * sizeof *o->cells);
            if (!o->cells)
                abort();
        }
        o->cells[o->ncells++] = text ? xstrdup(text) : NULL;
        break;
    }
    json_decref(jv);
}

void vnd_out_null(struct vnd_out *o)
{
    put_cell(o, NULL, o->fmt == VND_FMT_JSON ? json_null() : NULL);
}

void vnd_out_int(struct vnd_out *o, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    put_cell(o, buf, o->fmt == VND_FMT_JSON ? json_integer(v) : NULL);
}

void vnd_out_real(struct vnd_out *o, double v)
{
    char buf[64];
    if (o->fmt == VND_FMT_TABLE)
        real_text(v, buf);
    else
        real_exact(v, buf);
    put_cell(o, buf, o->fmt == VND_FMT_JSON ? (isfinite(v) ? json_real(v) : json_null()) : NULL);
}

void vnd_out_text(struct vnd_out *o, const char *s)
{
    put_cell(o, s, o->fmt == VND_FMT_JSON ? json_string(s) : NULL);
}

void vnd_out_end_row(struct vnd_out *o)
{
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

int vnd_out_stmt(struct vnd_out *o, sqlite3_stmt *stmt)
{
    int n = sqlite3_column_count(stmt);
    const char **names = calloc((size_t)n + 1, sizeof *names);
    if (!names)
        abort();
    for (int i = 0; i < n; i++)
        names[i] = sqlite3_column_name(stmt, i);
    vnd_out_columns(o, n, names);
    free(names);

    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++) {
            switch (sqlite3_column_type(stmt, i)) {
            case SQLITE_NULL: vnd_out_null(o); break;
            case SQLITE_INTEGER: vnd_out_int(o, sqlite3_column_int64(stmt, i)); break;
            case SQLITE_FLOAT: vnd_out_real(o, sqlite3_column_double(stmt, i)); break;
            case SQLITE_BLOB: vnd_out_text(o, "<blob>"); break;
            default: vnd_out_text(o, (const char *)sqlite3_column_text(stmt, i)); break;
            }
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
    int *w = calloc((size_t)n, sizeof *w);
    if (!w)
        abort();
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
    fprintf(o->f, "(%lld row%s)\n", (long long)o->rows, o->rows == 1 ? "" : "s");
    free(w);
}

void vnd_out_finish(struct vnd_out *o)
{
    if (!o)
        return;
    if (o->fmt == VND_FMT_TABLE)
        table_flush(o);
    else if (o->fmt == VND_FMT_JSON)
        fputs(o->rows ? "\n]\n" : "]\n", o->f);
    json_decref(o->row);
    for (size_t i = 0; i < o->ncells; i++)
        free(o->cells[i]);
    free(o->cells);
    for (int i = 0; i < o->ncols; i++)
        free(o->names[i]);
    free(o->names);
    fflush(o->f);
    free(o);
}
