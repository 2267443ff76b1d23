/* runner.h — one run of a diagnostic application behind one call, shared
 * by `vnd diag` and the control server: the app's C step when it has one
 * (its SQL otherwise), the rows with t >= min_t in a format, the terminal
 * plot of its time series, and for the bottleneck locator its verdict
 * (JSON {"rows":[...],"verdict":{...}}, CSV a last "# verdict:" line, the
 * table a sentence).  Every result says how each table it read was
 * sampled (diag_sampling.h): JSON a member "sampling":[...] after the
 * rows, CSV a line "# sampling: [...]", the table a line "sampling: ..."
 * per table.  --follow is a loop of runs with a rising min_t over
 * [vnd_diag_oldest, vnd_diag_newest]. */
#ifndef VND_DIAG_RUNNER_H
#define VND_DIAG_RUNNER_H

#include <stdbool.h>
#include <stdio.h>

#include "diag/diag.h"
#include "output/output.h"
#include "store/guard.h"

struct vnd_diag_view {
    FILE *out;          /* where the result goes */
    enum vnd_fmt fmt;
    double min_t;       /* rows with t < min_t are left out (-INFINITY: none) */
    bool plot;          /* draw the time series under the rows */
    bool verdict;       /* bottleneck: the verdict with the rows */
    bool upto;          /* rows with t >= max_t are left out too */
    double max_t;
    /* only the slots that are complete (vnd_diag_complete_t): what a
     * periodic caller prints once, as --follow does */
    bool complete;
};

/* Runs `app` with `o` on the guarded connection `g` (its time limit
 * applies).  Returns 0, or -1 and *err (malloc'd). */
int vnd_diag_report(struct vnd_guard *g, const struct vnd_diag_app *app,
                    const struct vnd_diag_opts *o, const struct vnd_diag_view *v,
                    char **err);

/* The series `app` draws under its rows: the column of y, the chart's
 * title and unit.  False for apps without a chart. */
bool vnd_diag_plot_spec(const char *app, const char **col, const char **title,
                        const char **unit);

/* The rows of cursor c with t >= min_t to out, its columns first; with
 * plot, column ycol's values, a series per the rows' dir and flow (a
 * sampled throughput's bps_low and bps_high drawn as its 95% band).
 * What the runner does with an app's statement, and the control server
 * with the coordinator's rows.  Returns 0, or -1 with the cursor's *why
 * (malloc'd) and *code. */
struct vnd_cursor;
struct vnd_plot;
int vnd_diag_cursor_out(struct vnd_cursor *c, struct vnd_out *out, double min_t, double max_t,
                        const char *ycol, struct vnd_plot *plot, int *code, char **why);

/* The largest ts of the app's tables (of two, the smaller: what both hold)
 * and the origin of its time axis; NaN when empty. */
double vnd_diag_newest(sqlite3 *db, const struct vnd_diag_opts *o);
double vnd_diag_oldest(sqlite3 *db, const struct vnd_diag_opts *o);
/* A table of flow records is complete up to a slot of its time axis
 * later than its newest ts: a record still to come may reach back over
 * its span, and come after records that ended after it.  How far back:
 * the largest span plus lateness of the records so far (the rollup's
 * settle, else from the records, rollup_records.h); 0 when empty. */
double vnd_diag_records_settle(sqlite3 *db, const struct vnd_diag_opts *o);
/* The end of the complete slots of `app` with `o` (t of the first slot
 * that may still change): rows of the newest ts so far end no slot but
 * the one before theirs; a two-table app's window, a records table's
 * settle (vnd_diag_records_settle) further back.  Sets o->origin when
 * NaN (the run then counts from the same time 0).  *whole: the run must
 * read the table whole and leave out the rows past it (flow records,
 * which spread back over their spans), else it may stop reading there
 * (--until).  NaN when the tables are empty. */
double vnd_diag_complete_t(sqlite3 *db, const struct vnd_diag_app *app,
                           struct vnd_diag_opts *o, bool *whole);
/* Reads only the slots from `from_t` (NaN: the first) to before `to_t`
 * (from o->origin, multiples of o->slot, as vnd_diag_complete_t gives):
 * since/until at their edges (what a rollup's whole seconds answer), and
 * bounds on each row's slot index, computed as its slot is, so that a row
 * at a slot's edge is cut with its slot (the rows' time bounds are then a
 * slot wider: diag_common.c). */
void vnd_diag_bound_slots(struct vnd_diag_opts *o, double from_t, double to_t);

#endif
