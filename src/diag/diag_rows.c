/* diag_rows.c — a result table held in memory: the C steps fill one, and
 * `vnd diag` writes it (and plots from it) as it would a statement's rows. */
#include "diag/diag.h"

#include <stdlib.h>
#include <string.h>

static struct vnd_cell *cell(struct vnd_diag_rows *r)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->c = realloc(r->c, r->cap * sizeof *r->c);
        if (!r->c)
            abort();
    }
    struct vnd_cell *c = &r->c[r->n++];
    memset(c, 0, sizeof *c);
    return c;
}

void vnd_rows_columns(struct vnd_diag_rows *r, int n, const char *const *names)
{
    r->ncols = n;
    r->cols = calloc((size_t)n, sizeof *r->cols);
    if (!r->cols)
        abort();
    for (int i = 0; i < n; i++)
        if (!(r->cols[i] = strdup(names[i])))
            abort();
}

void vnd_rows_int(struct vnd_diag_rows *r, int64_t v)
{
    struct vnd_cell *c = cell(r);
    c->type = VND_CELL_INT;
    c->i = v;
}

void vnd_rows_real(struct vnd_diag_rows *r, double v)
{
    struct vnd_cell *c = cell(r);
    c->type = VND_CELL_REAL;
    c->r = v;
}

void vnd_rows_text(struct vnd_diag_rows *r, const char *s)
{
    struct vnd_cell *c = cell(r);
    if (!s)
        return;
    c->type = VND_CELL_TEXT;
    if (!(c->s = strdup(s)))
        abort();
}

size_t vnd_rows_count(const struct vnd_diag_rows *r)
{
    return r->ncols ? r->n / (size_t)r->ncols : 0;
}

int vnd_rows_col(const struct vnd_diag_rows *r, const char *name)
{
    for (int i = 0; i < r->ncols; i++)
        if (!strcmp(r->cols[i], name))
            return i;
    return -1;
}

void vnd_rows_write(const struct vnd_diag_rows *r, struct vnd_out *out, double min_t,
                    double max_t)
{
    vnd_out_columns(out, r->ncols, (const char *const *)r->cols);
    int tcol = vnd_rows_col(r, "t");
    for (size_t k = 0; k < vnd_rows_count(r); k++) {
        const struct vnd_cell *row = &r->c[k * (size_t)r->ncols];
        if (tcol >= 0) {
            const struct vnd_cell *t = &row[tcol];
            double tv = t->type == VND_CELL_REAL ? t->r : (double)t->i;
            if (t->type == VND_CELL_NULL)
                tv = 0;     /* as sqlite3_column_double reads NULL */
            if (tv < min_t || tv >= max_t)
                continue;
        }
        for (int i = 0; i < r->ncols; i++)
            switch (row[i].type) {
            case VND_CELL_NULL: vnd_out_null(out); break;
            case VND_CELL_INT: vnd_out_int(out, row[i].i); break;
            case VND_CELL_REAL: vnd_out_real(out, row[i].r); break;
            case VND_CELL_TEXT: vnd_out_text(out, row[i].s); break;
            }
        vnd_out_end_row(out);
    }
}

void vnd_rows_free(struct vnd_diag_rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->c[i].s);
    free(r->c);
    for (int i = 0; i < r->ncols; i++)
        free(r->cols[i]);
    free(r->cols);
    memset(r, 0, sizeof *r);
}
