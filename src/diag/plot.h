/* plot.h — time series drawn with characters, so a person sees the shape
 * of throughput, RTT, delay or loss over time (paper Fig. 11) without
 * leaving the terminal.  Several series share one chart, each with its own
 * mark; points of a series are joined in x order. */
#ifndef VND_DIAG_PLOT_H
#define VND_DIAG_PLOT_H

#include <stdio.h>

struct vnd_plot;

/* A chart titled `title` whose values are in `unit`. */
struct vnd_plot *vnd_plot_new(const char *title, const char *unit);

/* Adds point (x, y) to series `name` (created on first use; at most 8
 * series, later ones are folded into the 8th).  NaN y is skipped. */
void vnd_plot_add(struct vnd_plot *p, const char *name, double x, double y);

/* Draws the chart `width` x `height` characters of plotting area (plus
 * axes and legend) to `f`. */
void vnd_plot_draw(const struct vnd_plot *p, FILE *f, int width, int height);

void vnd_plot_free(struct vnd_plot *p);

#endif
