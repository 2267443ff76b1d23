/* plot.c — terminal time series (plot.h). */
#include "diag/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SERIES_MAX 8

static const char marks[SERIES_MAX] = {'*', 'o', '+', 'x', '#', '@', '%', '&'};

struct series {
    char *name;
    double *x, *y;
    int n, cap;
};

struct vnd_plot {
    char *title, *unit;
    struct series s[SERIES_MAX];
    int ns, points;
};

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

struct vnd_plot *vnd_plot_new(const char *title, const char *unit)
{
    struct vnd_plot *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->title = xstrdup(title);
    p->unit = xstrdup(unit);
    return p;
}

void vnd_plot_add(struct vnd_plot *p, const char *name, double x, double y)
{
    if (isnan(y) || isnan(x))
        return;
    int i = 0;
    while (i < p->ns && strcmp(p->s[i].name, name ? name : ""))
        i++;
    if (i == p->ns) {
        if (p->ns == SERIES_MAX)
            i = SERIES_MAX - 1;
        else
            p->s[p->ns++].name = xstrdup(name);
    }
    struct series *s = &p->s[i];
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->x = realloc(s->x, (size_t)s->cap * sizeof *s->x);
        s->y = realloc(s->y, (size_t)s->cap * sizeof *s->y);
        if (!s->x || !s->y)
            abort();
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
    p->points++;
}

/* 1234567 → "1.23M": axis labels that fit in 8 columns */
static void short_num(double v, char buf[16])
{
    double a = fabs(v);
    if (a >= 1e9)
        snprintf(buf, 16, "%.3gG", v / 1e9);
    else if (a >= 1e6)
        snprintf(buf, 16, "%.3gM", v / 1e6);
    else if (a >= 1e4)
        snprintf(buf, 16, "%.3gk", v / 1e3);
    else
        snprintf(buf, 16, "%.4g", v);
}

void vnd_plot_draw(const struct vnd_plot *p, FILE *f, int width, int height)
{
    fprintf(f, "\n  %s (%s)\n", p->title, p->unit);
    if (!p->points) {
        fprintf(f, "  (no data)\n");
        return;
    }
    double x0 = INFINITY, x1 = -INFINITY, y0 = 0, y1 = -INFINITY;
    for (int i = 0; i < p->ns; i++)
        for (int k = 0; k < p->s[i].n; k++) {
            x0 = fmin(x0, p->s[i].x[k]);
            x1 = fmax(x1, p->s[i].x[k]);
            y0 = fmin(y0, p->s[i].y[k]);
            y1 = fmax(y1, p->s[i].y[k]);
        }
    if (y1 <= y0)
        y1 = y0 + 1;
    if (x1 <= x0)
        x1 = x0 + 1;
    char *grid = malloc((size_t)width * (size_t)height);
    if (!grid)
        abort();
    memset(grid, ' ', (size_t)width * (size_t)height);
    for (int i = 0; i < p->ns; i++) {
        const struct series *s = &p->s[i];
        int pc = -1, pr = -1;
        for (int k = 0; k < s->n; k++) {
            int c = (int)lround((s->x[k] - x0) / (x1 - x0) * (width - 1));
            int r = (int)lround((s->y[k] - y0) / (y1 - y0) * (height - 1));
            /* join to the previous point with the same mark, column by column */
            if (pc >= 0 && c > pc + 1)
                for (int cc = pc + 1; cc < c; cc++) {
                    int rr = pr + (int)lround((double)(r - pr) * (cc - pc) / (c - pc));
                    grid[(height - 1 - rr) * width + cc] = '.';
                }
            grid[(height - 1 - r) * width + c] = marks[i];
            pc = c;
            pr = r;
        }
    }
    for (int r = 0; r < height; r++) {
        char lab[16] = "";
        if (r == 0)
            short_num(y1, lab);
        else if (r == height - 1)
            short_num(y0, lab);
        else if (r == (height - 1) / 2)
            short_num(y0 + (y1 - y0) * (height - 1 - r) / (height - 1), lab);
        fprintf(f, "%9s |%.*s\n", lab, width, grid + r * width);
    }
    fprintf(f, "%9s +", "");
    for (int c = 0; c < width; c++)
        fputc(c % 10 == 0 ? '+' : '-', f);
    fputc('\n', f);
    /* x labels under every tenth column */
    char line[512];
    memset(line, ' ', sizeof line);
    int len = 0;
    for (int c = 0; c < width; c += 10) {
        char lab[16];
        short_num(x0 + (x1 - x0) * c / (width - 1), lab);
        int at = 11 + c;
        int n = (int)strlen(lab);
        if (at + n >= (int)sizeof line - 1 || at < len)
            continue;
        memcpy(line + at, lab, (size_t)n);
        len = at + n + 1;
    }
    line[len < (int)sizeof line ? len : (int)sizeof line - 1] = 0;
    fprintf(f, "%s  t (s)\n  ", line);
    for (int i = 0; i < p->ns; i++)
        fprintf(f, "%c %s   ", marks[i], p->s[i].name);
    fputc('\n', f);
    free(grid);
}

void vnd_plot_free(struct vnd_plot *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->ns; i++) {
        free(p->s[i].name);
        free(p->s[i].x);
        free(p->s[i].y);
    }
    free(p->title);
    free(p->unit);
    free(p);
}
